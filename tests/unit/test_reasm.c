// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/reasm.c: fragmented queries put back together, in
 * any order, and every way a sender can lie about fragments refused with
 * its datagram, counted by why. Queries come from the BPF tests' packet
 * builder and are cut into fragments here, not by the code under test;
 * every frame is an exact-size heap copy, so ASan sees a read past it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pkt.h"
#include "reasm.h"

#define MS 1000000ull
#define IFINDEX 7
#define PAYLEN 200		/* a DNS query's worth, cut into fragments */
#define MAX_FRAGS 40

/* A UDP/53 query frame, IPv4 or IPv6 (hop-by-hop first when hop). */
static void query(struct pkt *p, int family, int hop)
{
	unsigned int i;

	pkt_init(p);
	pkt_eth(p);
	if (family == 4) {
		pkt_ipv4(p, 0);
	} else {
		pkt_ipv6(p);
		if (hop)
			pkt_ext6(p, PKT_IP6_HOP, 8);
	}
	pkt_udp(p, 40000, 53, PAYLEN);
	for (i = 0; i < PAYLEN; i++)
		p->buf[p->len - PAYLEN + i] = (uint8_t)(i * 13 + 5);
	pkt_finish(p);
}

struct frag {
	uint8_t buf[PKT_MAX + 16];
	size_t len;
};

/*
 * Cut the IP payload of the whole frame w (its IP header at l3, the
 * fragmentable part at body) into fragments of at most size bytes
 * (a multiple of 8), as a sender would; id names the datagram.
 */
static int cut(const struct pkt *w, size_t body, size_t size, uint32_t id,
	       struct frag *out)
{
	size_t l3 = (size_t)w->l3_off, total = w->len - body, off;
	int n = 0;

	for (off = 0; off < total; off += size, n++) {
		size_t len = total - off < size ? total - off : size;
		int more = off + len < total;
		struct frag *f = &out[n];
		uint8_t *ip = f->buf + l3;

		assert_true(n < MAX_FRAGS);
		if (w->family == 4) {
			memcpy(f->buf, w->buf, body);
			pkt_put16(ip + 2, (uint16_t)(body - l3 + len));
			pkt_put16(ip + 4, (uint16_t)id);
			pkt_put16(ip + 6, (uint16_t)((more ? 0x2000 : 0) | off / 8));
			memcpy(f->buf + body, w->buf + body + off, len);
			f->len = body + len;
		} else {
			/* The fragment header goes after the unfragmentable
			 * part, and takes over its next header. */
			size_t nh_at = body == l3 + 40 ? l3 + 6 : l3 + 40;

			memcpy(f->buf, w->buf, body);
			f->buf[body] = w->buf[nh_at];
			f->buf[nh_at] = PKT_IP6_FRAG;
			f->buf[body + 1] = 0;
			pkt_put16(f->buf + body + 2, (uint16_t)(off | more));
			pkt_put32(f->buf + body + 4, id);
			memcpy(f->buf + body + 8, w->buf + body + off, len);
			f->len = body + 8 + len;
			pkt_put16(ip + 4, (uint16_t)(f->len - l3 - 40));
		}
	}
	return n;
}

/* Offer fragment f; the result of dg_reasm_add, with out filled. */
static long offer(struct dg_reasm *r, const struct frag *f, int ifindex,
		  uint64_t now, uint8_t *out, size_t cap)
{
	struct dg_frame fr;
	uint8_t *copy = malloc(f->len);
	long n;

	assert_non_null(copy);
	memcpy(copy, f->buf, f->len);
	assert_int_equal(dg_frame_parse(copy, f->len, &fr), DG_FRAME_FRAGMENT);
	n = dg_reasm_add(r, ifindex, copy, f->len, &fr, now, out, cap);
	free(copy);
	return n;
}

static uint8_t out[DG_MAX_HDR_OFF + DG_REASM_BYTES];

/* The reassembled frame parses as the very query w was. */
static void check_whole(const struct pkt *w, size_t n)
{
	struct dg_frame want, got;

	assert_int_equal(dg_frame_parse(w->buf, w->len, &want), DG_FRAME_OK);
	assert_int_equal(dg_frame_parse(out, n, &got), DG_FRAME_OK);
	assert_int_equal(got.family, want.family);
	assert_memory_equal(got.saddr, want.saddr, 16);
	assert_memory_equal(got.daddr, want.daddr, 16);
	assert_int_equal(got.sport, 40000);
	assert_int_equal(got.dport, 53);
	assert_int_equal(got.dns_len, PAYLEN);
	assert_memory_equal(out + got.dns_off, w->buf + want.dns_off, PAYLEN);
}

/* Offer frags in the order given; the datagram completes exactly at the
 * last one offered. */
static void run_order(int family, int hop, const int *order, int n_order,
		      size_t size)
{
	struct dg_reasm *r = dg_reasm_new();
	struct frag frags[MAX_FRAGS];
	struct pkt w;
	size_t body;
	long n = 0;
	int i, nf;

	assert_non_null(r);
	query(&w, family, hop);
	body = family == 4 ? (size_t)w.l3_off + 20 : (size_t)w.l3_off + 40 + (hop ? 8 : 0);
	nf = cut(&w, body, size, 0x4242, frags);
	assert_int_equal(nf, n_order);
	for (i = 0; i < nf; i++) {
		n = offer(r, &frags[order[i]], IFINDEX, i * MS, out, sizeof(out));
		if (i < nf - 1)
			assert_int_equal(n, 0);
	}
	assert_true(n > 0);
	check_whole(&w, (size_t)n);
	assert_int_equal(dg_reasm_pending(r), 0);
	assert_int_equal(dg_reasm_stats(r)->datagrams, 1);
	dg_reasm_free(r);
}

/* Test that an IPv4 query in 4 fragments is put back together in order,
 * reversed, last first and interleaved. */
static void test_ipv4_any_order(void **state)
{
	static const int orders[][4] = {
		{ 0, 1, 2, 3 }, { 3, 2, 1, 0 }, { 3, 0, 1, 2 }, { 1, 3, 0, 2 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(orders) / sizeof(orders[0]); i++)
		run_order(4, 0, orders[i], 4, 64);
}

/* Test that an IPv6 query in 3 fragments is put back together in every
 * order, with and without a hop-by-hop header before the fragment header
 * (whose next header must then be restored). */
static void test_ipv6_every_order(void **state)
{
	static const int orders[][3] = {
		{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
		{ 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < 6; i++) {
		run_order(6, 0, orders[i], 3, 80);
		run_order(6, 1, orders[i], 3, 80);
	}
}

/* A fresh reassembler with the fragments of one IPv4 query (size each). */
static struct dg_reasm *setup(struct pkt *w, struct frag *frags, int *nf,
			      size_t size, uint32_t id)
{
	struct dg_reasm *r = dg_reasm_new();

	assert_non_null(r);
	query(w, 4, 0);
	*nf = cut(w, (size_t)w->l3_off + 20, size, id, frags);
	return r;
}

/* Test that overlapping fragments give the datagram up (RFC 5722), the
 * overlap counted, and that a later, honest datagram with the same id is
 * put together. A duplicate is harmless. */
static void test_overlap_and_duplicate(void **state)
{
	struct frag frags[MAX_FRAGS], lie;
	struct dg_reasm *r;
	struct pkt w;
	int nf, i;
	long n = 0;

	(void)state;
	r = setup(&w, frags, &nf, 64, 9);
	assert_int_equal(offer(r, &frags[0], IFINDEX, 0, out, sizeof(out)), 0);
	/* The second fragment again, but claiming offset 56: overlaps. */
	lie = frags[1];
	pkt_put16(lie.buf + 14 + 6, 0x2000 | 56 / 8);
	assert_int_equal(offer(r, &lie, IFINDEX, 0, out, sizeof(out)), -1);
	assert_int_equal(dg_reasm_stats(r)->drops[DG_REASM_OVERLAP], 1);
	assert_int_equal(dg_reasm_pending(r), 0);

	for (i = 0; i < nf; i++) {
		n = offer(r, &frags[i], IFINDEX, 0, out, sizeof(out));
		if (i == 1)	/* once more: a duplicate */
			assert_int_equal(offer(r, &frags[i], IFINDEX, 0, out, sizeof(out)), 0);
	}
	assert_true(n > 0);
	check_whole(&w, (size_t)n);
	dg_reasm_free(r);
}

/* Test the lies a sender can tell: a middle fragment whose length is no
 * multiple of 8, a second last fragment with another end, a last fragment
 * ending before bytes already received; each gives its datagram up as
 * "bad-datagram". */
static void test_length_lies(void **state)
{
	struct frag frags[MAX_FRAGS], lie;
	struct dg_reasm *r;
	struct pkt w;
	int nf;

	(void)state;
	r = setup(&w, frags, &nf, 64, 10);
	lie = frags[0];
	lie.len -= 3;
	pkt_put16(lie.buf + 14 + 2, (uint16_t)(lie.len - 14));
	assert_int_equal(offer(r, &lie, IFINDEX, 0, out, sizeof(out)), -1);
	assert_int_equal(dg_reasm_stats(r)->drops[DG_REASM_BAD], 1);

	assert_int_equal(offer(r, &frags[nf - 1], IFINDEX, 0, out, sizeof(out)), 0);
	lie = frags[nf - 1];
	lie.len -= 8;
	pkt_put16(lie.buf + 14 + 2, (uint16_t)(lie.len - 14));
	assert_int_equal(offer(r, &lie, IFINDEX, 0, out, sizeof(out)), -1);
	assert_int_equal(dg_reasm_stats(r)->drops[DG_REASM_BAD], 2);

	assert_int_equal(offer(r, &frags[1], IFINDEX, 0, out, sizeof(out)), 0);
	/* The last fragment, said to start at 8: it ends before frags[1]. */
	lie = frags[nf - 1];
	pkt_put16(lie.buf + 14 + 6, 1);
	assert_int_equal(offer(r, &lie, IFINDEX, 0, out, sizeof(out)), -1);
	assert_int_equal(dg_reasm_stats(r)->drops[DG_REASM_BAD], 3);
	assert_int_equal(dg_reasm_pending(r), 0);
	dg_reasm_free(r);
}

/* Test the bounds: bytes past DG_REASM_BYTES, more than DG_REASM_FRAGS
 * fragments, a datagram still incomplete after DG_REASM_TIMEOUT_MS, and
 * one datagram more than DG_REASM_DATAGRAMS evicting the oldest. */
static void test_bounds(void **state)
{
	struct frag frags[MAX_FRAGS], lie;
	struct dg_reasm *r;
	struct pkt w;
	uint32_t id;
	int nf, i;

	(void)state;
	r = setup(&w, frags, &nf, 8, 11);
	assert_true(nf > DG_REASM_FRAGS);
	for (i = 0; i < DG_REASM_FRAGS; i++)
		assert_int_equal(offer(r, &frags[i], IFINDEX, 0, out, sizeof(out)), 0);
	assert_int_equal(offer(r, &frags[i], IFINDEX, 0, out, sizeof(out)), -1);
	assert_int_equal(dg_reasm_stats(r)->drops[DG_REASM_TOO_MANY], 1);

	lie = frags[1];
	pkt_put16(lie.buf + 14 + 6, 0x2000 | DG_REASM_BYTES / 8);
	assert_int_equal(offer(r, &lie, IFINDEX, 0, out, sizeof(out)), -1);
	assert_int_equal(dg_reasm_stats(r)->drops[DG_REASM_TOO_BIG], 1);

	/* A later fragment whose first never comes. */
	assert_int_equal(offer(r, &frags[3], IFINDEX, 0, out, sizeof(out)), 0);
	assert_int_equal(dg_reasm_expire(r, DG_REASM_TIMEOUT_MS * MS - 1), 0);
	assert_int_equal(dg_reasm_pending(r), 1);
	assert_int_equal(dg_reasm_expire(r, DG_REASM_TIMEOUT_MS * MS), 1);
	assert_int_equal(dg_reasm_stats(r)->drops[DG_REASM_TIMEOUT], 1);
	assert_int_equal(dg_reasm_pending(r), 0);

	for (id = 100; id < 100 + DG_REASM_DATAGRAMS + 1; id++) {
		lie = frags[2];
		pkt_put16(lie.buf + 14 + 4, (uint16_t)id);
		assert_int_equal(offer(r, &lie, IFINDEX, id * MS, out, sizeof(out)), 0);
	}
	assert_int_equal(dg_reasm_pending(r), DG_REASM_DATAGRAMS);
	assert_int_equal(dg_reasm_stats(r)->drops[DG_REASM_EVICTED], 1);
	dg_reasm_free(r);
}

/* Test that the same datagram id from another interface, or another
 * source, is another datagram. */
static void test_keys(void **state)
{
	struct frag frags[MAX_FRAGS], other;
	struct dg_reasm *r;
	struct pkt w;
	int nf, i;
	long n = 0;

	(void)state;
	r = setup(&w, frags, &nf, 64, 12);
	assert_int_equal(offer(r, &frags[0], IFINDEX + 1, 0, out, sizeof(out)), 0);
	other = frags[1];
	other.buf[14 + 15] ^= 1;	/* source 192.0.2.11 */
	assert_int_equal(offer(r, &other, IFINDEX, 0, out, sizeof(out)), 0);
	for (i = 1; i < nf; i++)
		assert_int_equal(offer(r, &frags[i], IFINDEX, 0, out, sizeof(out)), 0);
	assert_int_equal(dg_reasm_pending(r), 3);
	n = offer(r, &frags[0], IFINDEX, 0, out, sizeof(out));
	assert_true(n > 0);
	check_whole(&w, (size_t)n);
	assert_int_equal(dg_reasm_pending(r), 2);
	dg_reasm_free(r);
}

static void test_drop_names(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < DG_REASM_DROP_MAX; i++)
		assert_string_not_equal(dg_reasm_drop_name(i), "unknown");
	assert_string_equal(dg_reasm_drop_name(DG_REASM_OVERLAP), "overlap");
	assert_string_equal(dg_reasm_drop_name(DG_REASM_DROP_MAX), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_any_order),
		cmocka_unit_test(test_ipv6_every_order),
		cmocka_unit_test(test_overlap_and_duplicate),
		cmocka_unit_test(test_length_lies),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_drop_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
