// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/dns_wire.c: what a client or an upstream can put on
 * the wire, and what dotguard answers. Every parse reads an exact-size
 * heap copy, so ASan catches a read one byte past the message.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dns_wire.h"

/* A message under construction. */
struct msg {
	uint8_t b[16384];
	size_t n;
};

static void put_u8(struct msg *m, unsigned int v)
{
	assert_true(m->n < sizeof(m->b));
	m->b[m->n++] = (uint8_t)v;
}

static void put_u16(struct msg *m, unsigned int v)
{
	put_u8(m, v >> 8);
	put_u8(m, v & 0xff);
}

static void put_u32(struct msg *m, uint32_t v)
{
	put_u16(m, v >> 16);
	put_u16(m, v & 0xffff);
}

static void put_raw(struct msg *m, const void *p, size_t n)
{
	assert_true(m->n + n <= sizeof(m->b));
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void set_u16(struct msg *m, size_t off, unsigned int v)
{
	m->b[off] = (uint8_t)(v >> 8);
	m->b[off + 1] = v & 0xff;
}

/* "www.example.com" (no escapes) as labels; "" is the root. With end
 * false the root is left off, for a pointer to follow. */
static void put_labels(struct msg *m, const char *dotted, bool end)
{
	const char *s = dotted, *dot;

	while (*s) {
		dot = strchr(s, '.');
		if (!dot)
			dot = s + strlen(s);
		put_u8(m, (unsigned int)(dot - s));
		put_raw(m, s, (size_t)(dot - s));
		s = *dot ? dot + 1 : dot;
	}
	if (end)
		put_u8(m, 0);
}

static void put_name(struct msg *m, const char *dotted)
{
	put_labels(m, dotted, true);
}

static void put_ptr(struct msg *m, size_t off)
{
	put_u16(m, 0xC000 | (unsigned int)off);
}

static void put_hdr(struct msg *m, unsigned int id, unsigned int flags,
		    unsigned int qd, unsigned int an, unsigned int ns,
		    unsigned int ar)
{
	m->n = 0;
	put_u16(m, id);
	put_u16(m, flags);
	put_u16(m, qd);
	put_u16(m, an);
	put_u16(m, ns);
	put_u16(m, ar);
}

static void put_q(struct msg *m, const char *name, unsigned int type)
{
	put_name(m, name);
	put_u16(m, type);
	put_u16(m, DG_CLASS_IN);
}

/* An RR whose owner name the caller wrote already; returns where RDLENGTH
 * is, for end_rr. */
static size_t begin_rr(struct msg *m, unsigned int type, uint32_t ttl)
{
	size_t at;

	put_u16(m, type);
	put_u16(m, DG_CLASS_IN);
	put_u32(m, ttl);
	at = m->n;
	put_u16(m, 0);
	return at;
}

static void end_rr(struct msg *m, size_t rdlen_at)
{
	set_u16(m, rdlen_at, (unsigned int)(m->n - rdlen_at - 2));
}

static void put_a_rdata(struct msg *m, unsigned int last)
{
	const uint8_t a[4] = { 192, 0, 2, (uint8_t)last };

	put_raw(m, a, 4);
}

/* An A RR for the name at off. */
static void put_a_at(struct msg *m, size_t off, uint32_t ttl,
		     unsigned int last)
{
	size_t at;

	put_ptr(m, off);
	at = begin_rr(m, DG_TYPE_A, ttl);
	put_a_rdata(m, last);
	end_rr(m, at);
}

static void put_opt(struct msg *m, unsigned int udp, uint32_t ttl,
		    const uint8_t *opts, size_t olen)
{
	put_u8(m, 0);
	put_u16(m, DG_TYPE_OPT);
	put_u16(m, udp);
	put_u32(m, ttl);
	put_u16(m, (unsigned int)olen);
	if (olen)
		put_raw(m, opts, olen);
}

/* An SOA for the name at off: TTL ttl, MINIMUM min. */
static void put_soa_at(struct msg *m, size_t off, uint32_t ttl, uint32_t min)
{
	size_t at;

	put_ptr(m, off);
	at = begin_rr(m, DG_TYPE_SOA, ttl);
	put_labels(m, "ns1", false);
	put_ptr(m, off);
	put_labels(m, "hostmaster", false);
	put_ptr(m, off);
	put_u32(m, 2024010101);
	put_u32(m, 7200);
	put_u32(m, 3600);
	put_u32(m, 1209600);
	put_u32(m, min);
	end_rr(m, at);
}

static uint8_t *dup_exact(const struct msg *m, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	assert_non_null(p);
	memcpy(p, m->b, n);
	return p;
}

static int pq_len(const struct msg *m, size_t n, struct dg_dns_query *q)
{
	uint8_t *p = dup_exact(m, n);
	int rc = dg_dns_parse_query(p, n, q);

	free(p);
	return rc;
}

static int pq(const struct msg *m, struct dg_dns_query *q)
{
	return pq_len(m, m->n, q);
}

static int pr_len(const uint8_t *b, size_t n, struct dg_dns_resp_info *ri)
{
	uint8_t *p = malloc(n ? n : 1);
	int rc;

	assert_non_null(p);
	memcpy(p, b, n);
	rc = dg_dns_parse_response(p, n, ri);
	free(p);
	return rc;
}

static int pr(const struct msg *m, struct dg_dns_resp_info *ri)
{
	return pr_len(m->b, m->n, ri);
}

/* 17 bytes with the string's NUL as the root. */
static const uint8_t www_example_com[] = "\3www\7example\3com";

/* --- queries -------------------------------------------------------- */

/* Test that a plain A query parses, keeping the client's id, flags and
 * spelling, with no EDNS. */
static void test_query_a(void **state)
{
	struct dg_dns_query q;
	struct msg m;

	(void)state;
	put_hdr(&m, 0x1234, DG_DNS_RD, 1, 0, 0, 0);
	put_q(&m, "WWW.Example.com", DG_TYPE_A);
	assert_int_equal(pq(&m, &q), 0);
	assert_int_equal(q.id, 0x1234);
	assert_int_equal(q.flags, DG_DNS_RD);
	assert_int_equal(q.q.name_len, 17);
	assert_memory_equal(q.q.name, "\3WWW\7Example\3com", 17);
	assert_int_equal(q.q.qtype, DG_TYPE_A);
	assert_int_equal(q.q.qclass, DG_CLASS_IN);
	assert_false(q.edns.present);
	assert_int_equal(dg_dns_udp_limit(&q), 512);
}

/* Test that an AAAA query with EDNS and DO reports size, version, DO. */
static void test_query_aaaa_edns_do(void **state)
{
	struct dg_dns_query q;
	struct msg m;

	(void)state;
	put_hdr(&m, 7, DG_DNS_RD | DG_DNS_AD, 1, 0, 0, 1);
	put_q(&m, "example.com", DG_TYPE_AAAA);
	put_opt(&m, 4096, 0x8000, NULL, 0);
	assert_int_equal(pq(&m, &q), 0);
	assert_int_equal(q.q.qtype, DG_TYPE_AAAA);
	assert_true(q.edns.present);
	assert_int_equal(q.edns.udp_size, 4096);
	assert_int_equal(q.edns.version, 0);
	assert_true(q.edns.do_bit);
	assert_false(q.edns.keepalive);
	assert_false(q.edns.dg_info);
	assert_int_equal(dg_dns_udp_limit(&q), DG_DNS_EDNS_SIZE);
}

/* Test that padding, keepalive, our info option and unknown options are
 * all accepted, unknown ones skipped. */
static void test_query_options(void **state)
{
	static const uint8_t opts[] = {
		0, 12, 0, 5, 0, 0, 0, 0, 0,		/* padding */
		0xfd, 0xe8, 0, 3, 1, 2, 3,		/* unknown 65000 */
		0, 11, 0, 0,				/* keepalive */
		0xff, 0x15, 0, 0,			/* DG_INFO */
		0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8,	/* cookie */
	};
	struct dg_dns_query q;
	struct msg m;

	(void)state;
	put_hdr(&m, 1, 0, 1, 0, 0, 1);
	put_q(&m, "example.com", DG_TYPE_A);
	put_opt(&m, 1232, 0, opts, sizeof(opts));
	assert_int_equal(pq(&m, &q), 0);
	assert_true(q.edns.present);
	assert_false(q.edns.do_bit);
	assert_true(q.edns.keepalive);
	assert_int_equal(q.edns.keepalive_timeout, 0);
	assert_true(q.edns.dg_info);
}

/* Test that a client may not send a keepalive timeout (RFC 7828 3.2.1). */
static void test_query_keepalive_timeout(void **state)
{
	static const uint8_t opts[] = { 0, 11, 0, 2, 0, 100 };
	struct dg_dns_query q;
	struct msg m;

	(void)state;
	put_hdr(&m, 1, 0, 1, 0, 0, 1);
	put_q(&m, "example.com", DG_TYPE_A);
	put_opt(&m, 1232, 0, opts, sizeof(opts));
	assert_int_equal(pq(&m, &q), DG_RCODE_FORMERR);
}

/* Test each header field a client controls: QR, opcode, counts; the id
 * and flags are known whenever there is a header. */
static void test_query_header(void **state)
{
	static const unsigned int opcodes[] = { 1, 2, 4, 5, 15 };
	struct dg_dns_query q;
	struct msg m;
	size_t i;

	(void)state;
	put_hdr(&m, 0xabcd, DG_DNS_QR, 1, 0, 0, 0);
	put_q(&m, "example.com", DG_TYPE_A);
	assert_int_equal(pq(&m, &q), DG_RCODE_FORMERR);
	assert_int_equal(q.id, 0xabcd);
	assert_int_equal(q.flags, DG_DNS_QR);

	for (i = 0; i < sizeof(opcodes) / sizeof(opcodes[0]); i++) {
		set_u16(&m, 2, opcodes[i] << 11);
		assert_int_equal(pq(&m, &q), DG_RCODE_NOTIMP);
		assert_int_equal(q.q.name_len, 13);	/* echoed */
	}

	/* Bits a query may carry, and a stray RCODE, are ignored. */
	set_u16(&m, 2, DG_DNS_TC | DG_DNS_AD | DG_DNS_CD | 0x0040 | 0x0003);
	assert_int_equal(pq(&m, &q), 0);

	set_u16(&m, 2, 0);
	set_u16(&m, 6, 1);	/* ancount */
	assert_int_equal(pq(&m, &q), DG_RCODE_FORMERR);
	set_u16(&m, 6, 0);
	set_u16(&m, 8, 1);	/* nscount */
	assert_int_equal(pq(&m, &q), DG_RCODE_FORMERR);
	set_u16(&m, 8, 0);
	assert_int_equal(pq(&m, &q), 0);
}

/* Test that qdcount must be exactly 1, whatever the bytes hold. */
static void test_query_qdcount(void **state)
{
	static const unsigned int bad[] = { 0, 2, 3, 65535 };
	struct dg_dns_query q;
	struct msg m;
	size_t i;

	(void)state;
	put_hdr(&m, 1, 0, 1, 0, 0, 0);
	put_q(&m, "a.example", DG_TYPE_A);
	put_q(&m, "b.example", DG_TYPE_A);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set_u16(&m, 4, bad[i]);
		assert_int_equal(pq(&m, &q), DG_RCODE_FORMERR);
	}
}

/* Test that fewer than 12 bytes is not even worth an answer. */
static void test_query_short(void **state)
{
	struct dg_dns_query q;
	struct msg m;
	size_t n;

	(void)state;
	put_hdr(&m, 1, 0, 1, 0, 0, 0);
	for (n = 0; n < DG_DNS_HDR_LEN; n++)
		assert_int_equal(pq_len(&m, n, &q), -1);
	assert_int_equal(dg_dns_parse_query(NULL, 0, &q), -1);
	assert_int_equal(pq_len(&m, 12, &q), DG_RCODE_FORMERR);
}

/* Test that zone transfers are refused and an OPT question is FORMERR. */
static void test_query_refused(void **state)
{
	struct dg_dns_query q;
	struct msg m;

	(void)state;
	put_hdr(&m, 1, 0, 1, 0, 0, 0);
	put_q(&m, "example.com", DG_TYPE_AXFR);
	assert_int_equal(pq(&m, &q), DG_RCODE_REFUSED);
	assert_int_equal(q.q.qtype, DG_TYPE_AXFR);
	put_hdr(&m, 1, 0, 1, 0, 0, 0);
	put_q(&m, "example.com", 251);
	assert_int_equal(pq(&m, &q), DG_RCODE_REFUSED);
	put_hdr(&m, 1, 0, 1, 0, 0, 0);
	put_q(&m, "example.com", DG_TYPE_OPT);
	assert_int_equal(pq(&m, &q), DG_RCODE_FORMERR);
	put_hdr(&m, 1, 0, 1, 0, 0, 0);
	put_q(&m, "example.com", DG_TYPE_ANY);
	assert_int_equal(pq(&m, &q), 0);
}

/* Test that EDNS version 1 gets BADVERS with the OPT known (RFC 6891
 * 6.1.3), even with options we cannot read. */
static void test_query_badvers(void **state)
{
	static const uint8_t opts[] = { 0, 11, 0, 2, 0, 1 };
	struct dg_dns_query q;
	struct msg m;

	(void)state;
	put_hdr(&m, 1, 0, 1, 0, 0, 1);
	put_q(&m, "example.com", DG_TYPE_A);
	put_opt(&m, 1400, 0x00018000, opts, sizeof(opts));
	assert_int_equal(pq(&m, &q), DG_RCODE_BADVERS);
	assert_true(q.edns.present);
	assert_int_equal(q.edns.version, 1);
	assert_true(q.edns.do_bit);
	assert_int_equal(q.q.name_len, 13);
}

/* Test the ways an OPT can be malformed in a query. */
static void test_query_opt_errors(void **state)
{
	static const uint8_t long_opt[] = { 0, 12, 0, 9, 0, 0 };
	static const uint8_t short_hdr[] = { 0, 12, 0 };
	struct dg_dns_query q;
	struct msg m;
	size_t at;

	(void)state;
	/* Two OPTs (RFC 6891 6.1.1). */
	put_hdr(&m, 1, 0, 1, 0, 0, 2);
	put_q(&m, "example.com", DG_TYPE_A);
	put_opt(&m, 1232, 0, NULL, 0);
	put_opt(&m, 1232, 0, NULL, 0);
	assert_int_equal(pq(&m, &q), DG_RCODE_FORMERR);

	/* An OPT not owned by the root, spelled or compressed. */
	put_hdr(&m, 1, 0, 1, 0, 0, 1);
	put_q(&m, "example.com", DG_TYPE_A);
	put_name(&m, "example.com");
	at = begin_rr(&m, DG_TYPE_OPT, 0);
	end_rr(&m, at);
	assert_int_equal(pq(&m, &q), DG_RCODE_FORMERR);
	put_hdr(&m, 1, 0, 1, 0, 0, 1);
	put_q(&m, "example.com", DG_TYPE_A);
	put_ptr(&m, 24);	/* the question's root byte */
	at = begin_rr(&m, DG_TYPE_OPT, 0);
	end_rr(&m, at);
	assert_int_equal(pq(&m, &q), DG_RCODE_FORMERR);

	/* An option longer than the RDATA holding it. */
	put_hdr(&m, 1, 0, 1, 0, 0, 1);
	put_q(&m, "example.com", DG_TYPE_A);
	put_opt(&m, 1232, 0, long_opt, sizeof(long_opt));
	assert_int_equal(pq(&m, &q), DG_RCODE_FORMERR);

	/* Half an option header. */
	put_hdr(&m, 1, 0, 1, 0, 0, 1);
	put_q(&m, "example.com", DG_TYPE_A);
	put_opt(&m, 1232, 0, short_hdr, sizeof(short_hdr));
	assert_int_equal(pq(&m, &q), DG_RCODE_FORMERR);
	assert_false(q.edns.present);

	/* RDLENGTH past the end of the message. */
	put_hdr(&m, 1, 0, 1, 0, 0, 1);
	put_q(&m, "example.com", DG_TYPE_A);
	put_opt(&m, 1232, 0, NULL, 0);
	set_u16(&m, m.n - 2, 4);
	assert_int_equal(pq(&m, &q), DG_RCODE_FORMERR);
}

/* Test that a query must end where its last RR ends, and that arcount
 * cannot claim RRs that are not there. */
static void test_query_counts_lie(void **state)
{
	static const unsigned int ar[] = { 0, 2, 3, 65535 };
	struct dg_dns_query q;
	struct msg m;
	size_t i;

	(void)state;
	put_hdr(&m, 1, 0, 1, 0, 0, 1);
	put_q(&m, "example.com", DG_TYPE_A);
	put_opt(&m, 1232, 0, NULL, 0);
	assert_int_equal(pq(&m, &q), 0);
	for (i = 0; i < sizeof(ar) / sizeof(ar[0]); i++) {
		set_u16(&m, 10, ar[i]);
		assert_int_equal(pq(&m, &q), DG_RCODE_FORMERR);
	}
	set_u16(&m, 10, 1);
	put_u8(&m, 0);		/* one trailing byte */
	assert_int_equal(pq(&m, &q), DG_RCODE_FORMERR);
}

/* Test that other additional RRs (a TSIG we cannot check) are skipped,
 * before or after the OPT. */
static void test_query_tsig_skipped(void **state)
{
	struct dg_dns_query q;
	struct msg m;
	size_t at;

	(void)state;
	put_hdr(&m, 1, 0, 1, 0, 0, 2);
	put_q(&m, "example.com", DG_TYPE_A);
	put_opt(&m, 1232, 0x8000, NULL, 0);
	put_name(&m, "key.example");
	at = begin_rr(&m, 250, 0);
	put_raw(&m, "\0\0\0\0\0\0", 6);
	end_rr(&m, at);
	assert_int_equal(pq(&m, &q), 0);
	assert_true(q.edns.present);
	assert_true(q.edns.do_bit);
}

/* A query with EDNS and options, as a stub resolver sends it. */
static void build_edns_query(struct msg *m)
{
	static const uint8_t opts[] = {
		0, 11, 0, 0, 0xff, 0x15, 0, 0, 0, 12, 0, 3, 0, 0, 0,
	};

	put_hdr(m, 0x4242, DG_DNS_RD, 1, 0, 0, 1);
	put_q(m, "www.example.com", DG_TYPE_AAAA);
	put_opt(m, 1232, 0x8000, opts, sizeof(opts));
}

/* Test that every prefix of a valid query is refused cleanly: -1 without
 * a header, FORMERR after, never a read past the end. */
static void test_query_truncated_everywhere(void **state)
{
	struct dg_dns_query q;
	struct msg m;
	size_t n;

	(void)state;
	build_edns_query(&m);
	assert_int_equal(pq(&m, &q), 0);
	for (n = 0; n < m.n; n++)
		assert_int_equal(pq_len(&m, n, &q),
				 n < DG_DNS_HDR_LEN ? -1 : DG_RCODE_FORMERR);
}

/* A query for a name of labels of the given sizes. */
static void build_labels_query(struct msg *m, const int *sizes, int n)
{
	int i;

	put_hdr(m, 1, 0, 1, 0, 0, 0);
	for (i = 0; i < n; i++) {
		put_u8(m, (unsigned int)sizes[i]);
		memset(m->b + m->n, 'a' + i % 26, (size_t)sizes[i]);
		m->n += (size_t)sizes[i];
	}
	put_u8(m, 0);
	put_u16(m, DG_TYPE_A);
	put_u16(m, DG_CLASS_IN);
}

/* Test the name limits in a question: labels up to 63, names up to 255
 * bytes with the root. */
static void test_query_name_limits(void **state)
{
	const int l63[] = { 63 }, l64[] = { 64 };
	const int n255[] = { 63, 63, 63, 61 };	/* 64*3 + 62 + 1 = 255 */
	const int n256[] = { 63, 63, 63, 62 };
	struct dg_dns_query q;
	struct msg m;

	(void)state;
	build_labels_query(&m, l63, 1);
	assert_int_equal(pq(&m, &q), 0);
	build_labels_query(&m, l64, 1);
	assert_int_equal(pq(&m, &q), DG_RCODE_FORMERR);
	build_labels_query(&m, n255, 4);
	assert_int_equal(pq(&m, &q), 0);
	assert_int_equal(q.q.name_len, 255);
	build_labels_query(&m, n256, 4);
	assert_int_equal(pq(&m, &q), DG_RCODE_FORMERR);
	assert_int_equal(q.q.name_len, 0);	/* no question parsed */
}

/* Test that the question refuses compression pointers and the reserved
 * label types 01 and 10. */
static void test_query_name_forms(void **state)
{
	struct dg_dns_query q;
	struct msg m;

	(void)state;
	put_hdr(&m, 1, 0, 1, 0, 0, 0);
	put_labels(&m, "www", false);
	put_ptr(&m, 12);
	put_u16(&m, DG_TYPE_A);
	put_u16(&m, DG_CLASS_IN);
	assert_int_equal(pq(&m, &q), DG_RCODE_FORMERR);

	put_hdr(&m, 1, 0, 1, 0, 0, 0);
	put_u8(&m, 0x41);	/* 01: extended label type */
	put_raw(&m, "\0\1\0\1", 4);
	assert_int_equal(pq(&m, &q), DG_RCODE_FORMERR);
	m.b[12] = 0x81;		/* 10: reserved */
	assert_int_equal(pq(&m, &q), DG_RCODE_FORMERR);
	m.b[12] = 0;		/* the root: fine */
	assert_int_equal(pq(&m, &q), 0);
}

/* --- responses ------------------------------------------------------ */

/*
 * www.example.com A as an upstream answers it, compressed: a CNAME to
 * web.example.com (TTL 300), two A records (60, 120), an NS (3600) and
 * its glue (3600), and an OPT last (with a keepalive timeout).
 */
static void build_positive(struct msg *m, bool opt)
{
	static const uint8_t ka[] = { 0, 11, 0, 2, 0x01, 0x2c };
	size_t at, web, ns;

	put_hdr(m, 0x1111, DG_DNS_QR | DG_DNS_RD | DG_DNS_RA, 1, 3, 1,
		opt ? 2 : 1);
	put_q(m, "www.example.com", DG_TYPE_A);
	put_ptr(m, 12);
	at = begin_rr(m, DG_TYPE_CNAME, 300);
	web = m->n;
	put_labels(m, "web", false);
	put_ptr(m, 16);		/* example.com */
	end_rr(m, at);
	put_a_at(m, web, 60, 1);
	put_a_at(m, web, 120, 2);
	put_ptr(m, 16);
	at = begin_rr(m, DG_TYPE_NS, 3600);
	ns = m->n;
	put_labels(m, "ns1", false);
	put_ptr(m, 16);
	end_rr(m, at);
	put_a_at(m, ns, 3600, 53);
	if (opt)
		put_opt(m, 1232, 0x8000, ka, sizeof(ka));
}

/* www.example.com A: CNAME to nx.example.com, which does not exist. */
static void build_cname_nxdomain(struct msg *m, uint32_t soa_ttl,
				 uint32_t soa_min)
{
	size_t at;

	put_hdr(m, 0x2222, DG_DNS_QR | DG_DNS_RD | DG_DNS_RA |
		DG_RCODE_NXDOMAIN, 1, 1, 1, 1);
	put_q(m, "www.example.com", DG_TYPE_A);
	put_ptr(m, 12);
	at = begin_rr(m, DG_TYPE_CNAME, 500);
	put_labels(m, "nx", false);
	put_ptr(m, 16);
	end_rr(m, at);
	put_soa_at(m, 16, soa_ttl, soa_min);
	put_opt(m, 1232, 0, NULL, 0);
}

/* Test what the daemon learns from a realistic positive answer. */
static void test_resp_positive(void **state)
{
	struct dg_dns_resp_info ri;
	struct msg m;

	(void)state;
	build_positive(&m, true);
	assert_int_equal(pr(&m, &ri), 0);
	assert_int_equal(ri.id, 0x1111);
	assert_int_equal(ri.rcode, DG_RCODE_NOERROR);
	assert_int_equal(ri.ancount, 3);
	assert_int_equal(ri.nscount, 1);
	assert_int_equal(ri.arcount, 2);
	assert_int_equal(ri.q.name_len, 17);
	assert_memory_equal(ri.q.name, www_example_com, 17);
	assert_int_equal(ri.ttl, 60);
	assert_false(ri.negative);
	assert_int_equal(ri.n_ttls, 5);	/* every RR but the OPT */
	assert_true(ri.ttls_complete);
	assert_true(ri.edns.present);
	assert_true(ri.edns.do_bit);
	assert_true(ri.edns.keepalive);
	assert_int_equal(ri.edns.keepalive_timeout, 300);
	assert_int_equal(ri.opt_len, 11 + 6);
	assert_int_equal(ri.opt_off + ri.opt_len, m.n);
	assert_int_equal(m.b[ri.opt_off + 2], DG_TYPE_OPT);
	/* The first tracked TTL is the CNAME's, right after its owner. */
	assert_int_equal(ri.ttl_offs[0], 33 + 2 + 4);
}

/* Test that any prefix of a realistic response is rejected, never read
 * past: positive with OPT, and CNAME to NXDOMAIN with SOA and OPT. */
static void test_resp_truncated_everywhere(void **state)
{
	struct dg_dns_resp_info ri;
	struct msg m;
	size_t n;
	int k;

	(void)state;
	for (k = 0; k < 2; k++) {
		if (k)
			build_cname_nxdomain(&m, 3600, 300);
		else
			build_positive(&m, true);
		assert_int_equal(pr(&m, &ri), 0);
		for (n = 0; n < m.n; n++)
			assert_int_equal(pr_len(m.b, n, &ri), -EBADMSG);
	}
}

/* Test the header rules for responses: QR, opcode, one question, counts
 * that match the RRs, nothing after the last RR. */
static void test_resp_header(void **state)
{
	struct dg_dns_resp_info ri;
	struct msg m;

	(void)state;
	build_positive(&m, true);
	set_u16(&m, 2, DG_DNS_RD);
	assert_int_equal(pr(&m, &ri), -EBADMSG);
	set_u16(&m, 2, DG_DNS_QR | (2 << 11));
	assert_int_equal(pr(&m, &ri), -EBADMSG);
	set_u16(&m, 2, DG_DNS_QR);
	assert_int_equal(pr(&m, &ri), 0);
	set_u16(&m, 4, 0);
	assert_int_equal(pr(&m, &ri), -EBADMSG);
	set_u16(&m, 4, 2);
	assert_int_equal(pr(&m, &ri), -EBADMSG);
	set_u16(&m, 4, 1);
	set_u16(&m, 6, 4);	/* one answer more than there is */
	assert_int_equal(pr(&m, &ri), -EBADMSG);
	set_u16(&m, 6, 2);	/* one fewer: bytes left over */
	assert_int_equal(pr(&m, &ri), -EBADMSG);
	set_u16(&m, 6, 3);
	set_u16(&m, 10, 0xffff);
	assert_int_equal(pr(&m, &ri), -EBADMSG);
	set_u16(&m, 10, 2);
	put_u8(&m, 0);
	assert_int_equal(pr(&m, &ri), -EBADMSG);
}

/* Test that an RDATA running past the end is caught. */
static void test_resp_rdlen_past_end(void **state)
{
	struct dg_dns_resp_info ri;
	struct msg m;

	(void)state;
	build_positive(&m, false);
	set_u16(&m, m.n - 6, 5);	/* the glue's RDLENGTH */
	assert_int_equal(pr(&m, &ri), -EBADMSG);
	set_u16(&m, m.n - 6, 0xffff);
	assert_int_equal(pr(&m, &ri), -EBADMSG);
	set_u16(&m, m.n - 6, 4);
	assert_int_equal(pr(&m, &ri), 0);
}

/* Test that there is at most one OPT, only in the additional section and
 * only owned by the root. */
static void test_resp_opt_rules(void **state)
{
	struct dg_dns_resp_info ri;
	struct msg m;
	size_t at;

	(void)state;
	build_positive(&m, true);
	set_u16(&m, 10, 3);
	put_opt(&m, 1232, 0, NULL, 0);
	assert_int_equal(pr(&m, &ri), -EBADMSG);

	put_hdr(&m, 1, DG_DNS_QR, 1, 1, 0, 0);
	put_q(&m, "example.com", DG_TYPE_A);
	put_opt(&m, 1232, 0, NULL, 0);
	assert_int_equal(pr(&m, &ri), -EBADMSG);
	set_u16(&m, 6, 0);
	set_u16(&m, 8, 1);
	assert_int_equal(pr(&m, &ri), -EBADMSG);
	set_u16(&m, 8, 0);
	set_u16(&m, 10, 1);
	assert_int_equal(pr(&m, &ri), 0);

	put_hdr(&m, 1, DG_DNS_QR, 1, 0, 0, 1);
	put_q(&m, "example.com", DG_TYPE_A);
	put_ptr(&m, 12);
	at = begin_rr(&m, DG_TYPE_OPT, 0);
	end_rr(&m, at);
	assert_int_equal(pr(&m, &ri), -EBADMSG);
}

/* Test that RDATA we hand on with names or addresses in it is
 * well-formed. */
static void test_resp_rdata_checks(void **state)
{
	struct dg_dns_resp_info ri;
	struct msg m;
	size_t at;

	(void)state;
	put_hdr(&m, 1, DG_DNS_QR, 1, 1, 0, 0);
	put_q(&m, "example.com", DG_TYPE_A);
	put_ptr(&m, 12);
	at = begin_rr(&m, DG_TYPE_A, 60);
	put_raw(&m, "\1\2\3\4\5", 5);
	end_rr(&m, at);
	assert_int_equal(pr(&m, &ri), -EBADMSG);

	put_hdr(&m, 1, DG_DNS_QR, 1, 1, 0, 0);
	put_q(&m, "example.com", DG_TYPE_CNAME);
	put_ptr(&m, 12);
	at = begin_rr(&m, DG_TYPE_CNAME, 60);
	put_name(&m, "x.example");
	put_u8(&m, 0);		/* a byte after the name */
	end_rr(&m, at);
	assert_int_equal(pr(&m, &ri), -EBADMSG);

	put_hdr(&m, 1, DG_DNS_QR | DG_RCODE_NXDOMAIN, 1, 0, 1, 0);
	put_q(&m, "example.com", DG_TYPE_A);
	put_ptr(&m, 12);
	at = begin_rr(&m, DG_TYPE_SOA, 60);
	put_ptr(&m, 12);
	put_ptr(&m, 12);
	put_u32(&m, 1);		/* 4 of 20 bytes */
	end_rr(&m, at);
	assert_int_equal(pr(&m, &ri), -EBADMSG);
}

/* A response for example.com A with one RR of private type 65280 whose
 * rdata is given, then an A owned by the name at owner. */
static void build_with_blob(struct msg *m, const uint8_t *blob, size_t n,
			    size_t *blob_at)
{
	size_t at;

	put_hdr(m, 1, DG_DNS_QR, 1, 2, 0, 0);
	put_q(m, "example.com", DG_TYPE_A);
	put_ptr(m, 12);
	at = begin_rr(m, 65280, 60);
	*blob_at = m->n;
	put_raw(m, blob, n);
	end_rr(m, at);
}

/* Test pointer abuse in response names: self, A->B->A, a suffix running
 * past its pointer, forward, out of range, into the header. */
static void test_resp_pointer_loops(void **state)
{
	struct dg_dns_resp_info ri;
	uint8_t blob[4];
	struct msg m;
	size_t b, at;

	(void)state;
	/* A pointer to itself. */
	put_hdr(&m, 1, DG_DNS_QR, 1, 1, 0, 0);
	put_q(&m, "example.com", DG_TYPE_A);
	put_ptr(&m, m.n);
	at = begin_rr(&m, DG_TYPE_A, 60);
	put_a_rdata(&m, 1);
	end_rr(&m, at);
	assert_int_equal(pr(&m, &ri), -EBADMSG);

	/* A -> B -> A: B is reached backwards, A forwards. */
	memset(blob, 0, sizeof(blob));
	build_with_blob(&m, blob, sizeof(blob), &b);
	m.b[b] = 0xC0;
	m.b[b + 1] = (uint8_t)(b + 2);
	m.b[b + 2] = 0xC0;
	m.b[b + 3] = (uint8_t)b;
	put_ptr(&m, b + 2);
	at = begin_rr(&m, DG_TYPE_A, 60);
	put_a_rdata(&m, 1);
	end_rr(&m, at);
	assert_int_equal(pr(&m, &ri), -EBADMSG);

	/* Backwards, but the labels there run on past the pointer into the
	 * pointer's own RR (its RDLENGTH's high byte ends the name). */
	memset(blob, 0, sizeof(blob));
	build_with_blob(&m, blob, sizeof(blob), &b);
	m.b[b] = 13;
	put_ptr(&m, b);
	at = begin_rr(&m, DG_TYPE_A, 60);
	put_a_rdata(&m, 1);
	end_rr(&m, at);
	assert_int_equal(m.b[b + 14], 0);
	assert_int_equal(pr(&m, &ri), -EBADMSG);

	/* Forward: the owner points at a name further on. */
	put_hdr(&m, 1, DG_DNS_QR, 1, 1, 0, 0);
	put_q(&m, "example.com", DG_TYPE_A);
	put_ptr(&m, m.n + 2 + 10);
	at = begin_rr(&m, DG_TYPE_CNAME, 60);
	put_name(&m, "x.example");
	end_rr(&m, at);
	assert_int_equal(pr(&m, &ri), -EBADMSG);

	/* Past the end, and into the header. */
	m.b[29] = 0xff;
	m.b[30] = 0xff;
	assert_int_equal(pr(&m, &ri), -EBADMSG);
	m.b[29] = 0xC0;
	m.b[30] = 4;
	assert_int_equal(pr(&m, &ri), -EBADMSG);
	m.b[30] = 12;
	assert_int_equal(pr(&m, &ri), 0);
}

/* A chain of n pointers: a name, n - 1 pointers each to the one before,
 * then an owner pointing at the last. */
static int chain_of(size_t n)
{
	struct dg_dns_resp_info ri;
	uint8_t blob[3 + 2 * 32];
	struct msg m;
	size_t b, i, at;

	assert_true(n >= 1 && n <= 32);
	memset(blob, 0, sizeof(blob));
	build_with_blob(&m, blob, 3 + 2 * (n - 1), &b);
	memcpy(m.b + b, "\1a\0", 3);
	for (i = 1; i < n; i++) {
		size_t p = b + 3 + 2 * (i - 1);
		size_t prev = i == 1 ? b : p - 2;

		m.b[p] = 0xC0 | (uint8_t)(prev >> 8);
		m.b[p + 1] = prev & 0xff;
	}
	put_ptr(&m, n == 1 ? b : b + 3 + 2 * (n - 2));
	at = begin_rr(&m, DG_TYPE_A, 60);
	put_a_rdata(&m, 1);
	end_rr(&m, at);
	return pr(&m, &ri);
}

/* Test that DG_DNS_MAX_PTRS pointers are followed, one more is not. */
static void test_resp_pointer_chain(void **state)
{
	(void)state;
	assert_int_equal(chain_of(1), 0);
	assert_int_equal(chain_of(DG_DNS_MAX_PTRS), 0);
	assert_int_equal(chain_of(DG_DNS_MAX_PTRS + 1), -EBADMSG);
}

/* A response whose question name is 249 bytes and whose answer owner is
 * one label of label bytes plus a pointer to it: 249 + label + 1 bytes. */
static int expanded_owner(int label)
{
	const int sizes[] = { 63, 63, 63, 55 };
	struct dg_dns_resp_info ri;
	struct msg m;
	size_t at;

	build_labels_query(&m, sizes, 4);
	set_u16(&m, 2, DG_DNS_QR);
	set_u16(&m, 6, 1);
	put_u8(&m, (unsigned int)label);
	memset(m.b + m.n, 'x', (size_t)label);
	m.n += (size_t)label;
	put_ptr(&m, 12);
	at = begin_rr(&m, DG_TYPE_A, 60);
	put_a_rdata(&m, 1);
	end_rr(&m, at);
	return pr(&m, &ri);
}

/* Test the name limits where pointers expand a name: 255 bytes in all,
 * labels of 63, no reserved label types. */
static void test_resp_name_limits(void **state)
{
	struct dg_dns_resp_info ri;
	struct msg m;
	size_t at, owner;

	(void)state;
	assert_int_equal(expanded_owner(4), 0);
	assert_int_equal(expanded_owner(5), 0);		/* 255 */
	assert_int_equal(expanded_owner(6), -EBADMSG);	/* 256 */

	put_hdr(&m, 1, DG_DNS_QR, 1, 1, 0, 0);
	put_q(&m, "example.com", DG_TYPE_A);
	owner = m.n;
	put_u8(&m, 63);
	memset(m.b + m.n, 'y', 63);
	m.n += 63;
	put_u8(&m, 0);
	at = begin_rr(&m, DG_TYPE_A, 60);
	put_a_rdata(&m, 1);
	end_rr(&m, at);
	assert_int_equal(pr(&m, &ri), 0);
	m.b[owner] = 64;
	assert_int_equal(pr(&m, &ri), -EBADMSG);
	m.b[owner] = 0x40 | 63;
	assert_int_equal(pr(&m, &ri), -EBADMSG);
	m.b[owner] = 0x80 | 63;
	assert_int_equal(pr(&m, &ri), -EBADMSG);
}

/* A negative or error answer for example.com A, SOA optional. */
static void build_negative(struct msg *m, int rcode, bool soa, uint32_t ttl,
			   uint32_t min)
{
	put_hdr(m, 1, DG_DNS_QR | DG_DNS_RD | DG_DNS_RA | (unsigned int)rcode,
		1, 0, soa ? 1 : 0, 0);
	put_q(m, "example.com", DG_TYPE_A);
	if (soa)
		put_soa_at(m, 12, ttl, min);
}

/* Test the RFC 2308 lifetimes: negative answers live min(SOA TTL,
 * MINIMUM), nothing without a SOA, errors never. */
static void test_resp_negative_ttl(void **state)
{
	struct dg_dns_resp_info ri;
	struct msg m;

	(void)state;
	build_negative(&m, DG_RCODE_NXDOMAIN, true, 3600, 300);
	assert_int_equal(pr(&m, &ri), 0);
	assert_int_equal(ri.rcode, DG_RCODE_NXDOMAIN);
	assert_true(ri.negative);
	assert_int_equal(ri.ttl, 300);
	build_negative(&m, DG_RCODE_NXDOMAIN, true, 100, 300);
	assert_int_equal(pr(&m, &ri), 0);
	assert_int_equal(ri.ttl, 100);

	build_negative(&m, DG_RCODE_NOERROR, true, 900, 60);	/* NODATA */
	assert_int_equal(pr(&m, &ri), 0);
	assert_true(ri.negative);
	assert_int_equal(ri.ttl, 60);

	build_negative(&m, DG_RCODE_NXDOMAIN, false, 0, 0);
	assert_int_equal(pr(&m, &ri), 0);
	assert_true(ri.negative);
	assert_int_equal(ri.ttl, 0);
	build_negative(&m, DG_RCODE_NOERROR, false, 0, 0);
	assert_int_equal(pr(&m, &ri), 0);
	assert_true(ri.negative);
	assert_int_equal(ri.ttl, 0);

	build_negative(&m, DG_RCODE_SERVFAIL, true, 3600, 300);
	assert_int_equal(pr(&m, &ri), 0);
	assert_false(ri.negative);
	assert_int_equal(ri.ttl, 0);
	build_negative(&m, DG_RCODE_REFUSED, false, 0, 0);
	assert_int_equal(pr(&m, &ri), 0);
	assert_int_equal(ri.ttl, 0);

	/* A CNAME chain ending in NXDOMAIN: the CNAME bounds it too. */
	build_cname_nxdomain(&m, 3600, 900);
	assert_int_equal(pr(&m, &ri), 0);
	assert_true(ri.negative);
	assert_int_equal(ri.ttl, 500);
	build_cname_nxdomain(&m, 3600, 30);
	assert_int_equal(pr(&m, &ri), 0);
	assert_int_equal(ri.ttl, 30);
}

/* An answer for example.com A with A records of the given TTLs. */
static void build_ttls(struct msg *m, const uint32_t *ttls, int n)
{
	int i;

	put_hdr(m, 1, DG_DNS_QR, 1, (unsigned int)n, 0, 0);
	put_q(m, "example.com", DG_TYPE_A);
	for (i = 0; i < n; i++)
		put_a_at(m, 12, ttls[i], (unsigned int)i);
}

/* Test positive lifetimes: the shortest answer TTL, a TTL with the top
 * bit set counting as 0 (RFC 2181 8), a day at most, none when TC. */
static void test_resp_positive_ttl(void **state)
{
	const uint32_t t1[] = { 300, 30, 600 };
	const uint32_t t2[] = { 300, 0x80000001u };
	const uint32_t t3[] = { 7 * 86400, 3 * 86400 };
	struct dg_dns_resp_info ri;
	struct msg m;

	(void)state;
	build_ttls(&m, t1, 3);
	assert_int_equal(pr(&m, &ri), 0);
	assert_int_equal(ri.ttl, 30);
	assert_false(ri.negative);
	build_ttls(&m, t2, 2);
	assert_int_equal(pr(&m, &ri), 0);
	assert_int_equal(ri.ttl, 0);
	build_ttls(&m, t3, 2);
	assert_int_equal(pr(&m, &ri), 0);
	assert_int_equal(ri.ttl, 86400);
	build_ttls(&m, t1, 3);
	set_u16(&m, 2, DG_DNS_QR | DG_DNS_TC);
	assert_int_equal(pr(&m, &ri), 0);
	assert_int_equal(ri.ttl, 0);
}

/* Test that TTL offsets stop at DG_DNS_MAX_TTLS and say so. */
static void test_resp_many_rrs(void **state)
{
	uint32_t ttls[DG_DNS_MAX_TTLS + 6];
	struct dg_dns_resp_info ri;
	struct msg m;
	int i;

	(void)state;
	for (i = 0; i < DG_DNS_MAX_TTLS + 6; i++)
		ttls[i] = 100 + (uint32_t)i;
	build_ttls(&m, ttls, DG_DNS_MAX_TTLS);
	assert_int_equal(pr(&m, &ri), 0);
	assert_int_equal(ri.n_ttls, DG_DNS_MAX_TTLS);
	assert_true(ri.ttls_complete);
	build_ttls(&m, ttls, DG_DNS_MAX_TTLS + 6);
	assert_int_equal(pr(&m, &ri), 0);
	assert_int_equal(ri.n_ttls, DG_DNS_MAX_TTLS);
	assert_false(ri.ttls_complete);
	assert_int_equal(ri.ttl, 100);
}

/* Test that the OPT's extended RCODE joins the header's (BADVERS = 16). */
static void test_resp_ext_rcode(void **state)
{
	struct dg_dns_resp_info ri;
	struct msg m;

	(void)state;
	put_hdr(&m, 1, DG_DNS_QR, 1, 0, 0, 1);
	put_q(&m, "example.com", DG_TYPE_A);
	put_opt(&m, 1232, 0x01000000, NULL, 0);
	assert_int_equal(pr(&m, &ri), 0);
	assert_int_equal(ri.rcode, DG_RCODE_BADVERS);
	assert_int_equal(ri.ttl, 0);
}

/* --- writers -------------------------------------------------------- */

/* A query as dg_dns_parse_query gives it. */
static void client_query(struct dg_dns_query *q, const char *name,
			 uint16_t type, bool edns, bool do_bit)
{
	struct msg m;

	put_hdr(&m, 0xbeef, DG_DNS_RD, 1, 0, 0, edns ? 1 : 0);
	put_q(&m, name, type);
	if (edns)
		put_opt(&m, 4096, do_bit ? 0x8000 : 0, NULL, 0);
	assert_int_equal(pq(&m, q), 0);
}

/* Where option code sits in the OPT RR at off, or 0. */
static size_t find_option(const uint8_t *b, size_t off, size_t len,
			  uint16_t code, uint16_t *olen)
{
	size_t p = off + 11, end = off + len;

	while (p + 4 <= end) {
		uint16_t c = (uint16_t)(b[p] << 8 | b[p + 1]);
		uint16_t l = (uint16_t)(b[p + 2] << 8 | b[p + 3]);

		if (c == code) {
			*olen = l;
			return p + 4;
		}
		p += 4 + l;
	}
	return 0;
}

/* Test RFC 8467 block padding: every query a multiple of 128 bytes with
 * the padding option there, and still a query we parse ourselves. */
static void test_build_query_padding(void **state)
{
	static const char *const names[] = {
		"a", "example.com", "www.example.com",
		"a-rather-long-label-to-push-past-one-block.example.org",
		"x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x"
		".x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x",
	};
	struct dg_dns_query q, back;
	struct dg_dns_resp_info ri;
	uint8_t out[1024];
	uint16_t olen;
	size_t i;
	int len, ka;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		for (ka = 0; ka < 2; ka++) {
			client_query(&q, names[i], DG_TYPE_A, true, true);
			len = dg_dns_build_query(out, sizeof(out), 0x7777, &q,
						 ka, DG_DNS_PAD_BLOCK);
			assert_true(len > 0);
			assert_int_equal(len % DG_DNS_PAD_BLOCK, 0);
			assert_int_equal(dg_dns_parse_query(out, (size_t)len,
							    &back), 0);
			assert_int_equal(back.id, 0x7777);
			assert_true(dg_dns_question_equal(&back.q, &q.q));
			assert_true(back.edns.do_bit);
			assert_int_equal(back.edns.keepalive, ka);
			/* Answered as is, the OPT is at the end: find it. */
			out[2] |= 0x80;
			assert_int_equal(dg_dns_parse_response(out, (size_t)len,
							       &ri), 0);
			assert_true(find_option(out, ri.opt_off, ri.opt_len,
						DG_EDNS_PADDING, &olen) > 0);
			assert_int_equal(ri.opt_off + ri.opt_len, len);
		}
	}
}

/* Test the exact unpadded layout: id, RD and CD only, question as the
 * client spelled it, OPT with our size, DO and an empty keepalive. */
static void test_build_query_layout(void **state)
{
	static const uint8_t want[] = {
		0x12, 0x34, 0x01, 0x10, 0, 1, 0, 0, 0, 0, 0, 1,
		1, 'A', 2, 'b', 'C', 0, 0, 28, 0, 1,
		0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 4, 0, 11, 0, 0,
	};
	struct dg_dns_query q;
	uint8_t out[64];
	struct msg m;

	(void)state;
	put_hdr(&m, 9, DG_DNS_RD | DG_DNS_CD | DG_DNS_AD | DG_DNS_TC, 1, 0,
		0, 1);
	put_q(&m, "A.bC", DG_TYPE_AAAA);
	put_opt(&m, 512, 0x8000, NULL, 0);
	assert_int_equal(pq(&m, &q), 0);
	assert_int_equal(dg_dns_build_query(out, sizeof(out), 0x1234, &q,
					    true, 0), sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(dg_dns_build_query(out, sizeof(want) - 1, 0x1234,
					    &q, true, 0), -ENOSPC);
	assert_int_equal(dg_dns_build_query(out, sizeof(out), 1, &q, false,
					    DG_DNS_PAD_BLOCK), -ENOSPC);
}

/* Answer a client: parse upstream bytes, then build; the result must
 * parse as a response again. */
static int answer(const struct msg *up, const struct dg_dns_query *q,
		  uint32_t age, size_t limit, const char *info, uint8_t *out,
		  size_t cap, struct dg_dns_resp_info *back)
{
	struct dg_dns_resp_info ri;
	int len;

	assert_int_equal(pr(up, &ri), 0);
	len = dg_dns_answer_for_client(out, cap, up->b, up->n, &ri, q, age,
				       limit, info);
	if (len > 0)
		assert_int_equal(pr_len(out, (size_t)len, back), 0);
	return len;
}

static uint32_t ttl_at(const uint8_t *b, size_t off)
{
	return (uint32_t)b[off] << 24 | (uint32_t)b[off + 1] << 16 |
	       (uint32_t)b[off + 2] << 8 | b[off + 3];
}

/* Test the answer to an EDNS client: its id and spelling (0x20), our OPT
 * instead of the upstream's, TTLs aged, RRs untouched. */
static void test_answer_edns_client(void **state)
{
	struct dg_dns_resp_info ri, up;
	struct dg_dns_query q;
	uint8_t out[2048];
	struct msg m;
	uint16_t olen;
	int len;

	(void)state;
	build_positive(&m, true);
	assert_int_equal(pr(&m, &up), 0);
	client_query(&q, "wWw.ExaMPle.cOm", DG_TYPE_A, true, true);
	len = answer(&m, &q, 10, 1232, NULL, out, sizeof(out), &ri);
	assert_int_equal(len, m.n - 6);		/* no keepalive option */
	assert_int_equal(ri.id, 0xbeef);
	assert_memory_equal(out + 12, "\3wWw\7ExaMPle\3cOm", 17);
	assert_int_equal(ri.ancount, 3);
	assert_int_equal(ri.arcount, 2);
	assert_true(ri.edns.present);
	assert_int_equal(ri.edns.udp_size, DG_DNS_EDNS_SIZE);
	assert_true(ri.edns.do_bit);
	assert_false(ri.edns.keepalive);
	assert_int_equal(find_option(out, ri.opt_off, ri.opt_len,
				     DG_EDNS_DG_INFO, &olen), 0);
	assert_int_equal(ttl_at(out, up.ttl_offs[0]), 290);
	assert_int_equal(ttl_at(out, up.ttl_offs[1]), 50);
	assert_int_equal(ttl_at(out, up.ttl_offs[4]), 3590);
	assert_int_equal(ri.ttl, 50);
	/* The RRs themselves are the upstream's, byte for byte. */
	assert_memory_equal(out + 29, m.b + 29, up.ttl_offs[0] - 29);
}

/* Test that a client without EDNS gets no OPT, and that an age beyond a
 * TTL gives 0, never a wrapped huge TTL. */
static void test_answer_plain_client(void **state)
{
	struct dg_dns_resp_info ri, up;
	struct dg_dns_query q;
	uint8_t out[2048];
	struct msg m;
	int len;

	(void)state;
	build_positive(&m, true);
	assert_int_equal(pr(&m, &up), 0);
	client_query(&q, "www.example.com", DG_TYPE_A, false, false);
	len = answer(&m, &q, 100, 512, NULL, out, sizeof(out), &ri);
	assert_int_equal(len, up.opt_off);
	assert_false(ri.edns.present);
	assert_int_equal(ri.arcount, 1);
	assert_int_equal(ttl_at(out, up.ttl_offs[0]), 200);
	assert_int_equal(ttl_at(out, up.ttl_offs[1]), 0);
	assert_int_equal(ttl_at(out, up.ttl_offs[2]), 20);
}

/* Test an upstream OPT that is not last: it goes, with what follows it
 * (whose pointers may point into it), and RRs before it stay, aged. */
static void test_answer_opt_not_last(void **state)
{
	struct dg_dns_resp_info ri, up;
	struct dg_dns_query q;
	uint8_t out[2048];
	struct msg m;
	size_t glue;
	int len;

	(void)state;
	put_hdr(&m, 5, DG_DNS_QR | DG_DNS_RA, 1, 1, 0, 3);
	put_q(&m, "example.com", DG_TYPE_A);
	put_a_at(&m, 12, 100, 1);
	glue = m.n;
	put_a_at(&m, 12, 200, 2);
	put_opt(&m, 1232, 0, NULL, 0);
	put_a_at(&m, 12, 300, 3);
	assert_int_equal(pr(&m, &up), 0);
	assert_int_equal(up.opt_off, glue + 16);
	assert_int_equal(up.n_ttls, 3);

	client_query(&q, "EXAMPLE.com", DG_TYPE_A, true, false);
	len = answer(&m, &q, 50, 1232, NULL, out, sizeof(out), &ri);
	assert_int_equal(len, glue + 16 + 11);
	assert_int_equal(ri.arcount, 2);	/* glue + our OPT */
	assert_int_equal(ri.opt_off, glue + 16);
	assert_false(ri.edns.do_bit);
	assert_int_equal(ttl_at(out, up.ttl_offs[0]), 50);
	assert_int_equal(ttl_at(out, up.ttl_offs[1]), 150);

	client_query(&q, "example.com", DG_TYPE_A, false, false);
	len = answer(&m, &q, 0, 512, NULL, out, sizeof(out), &ri);
	assert_int_equal(len, glue + 16);
	assert_int_equal(ri.arcount, 1);
}

/* Test that an answer over the client's limit becomes header, question
 * and OPT with TC set, so the client retries over TCP. */
static void test_answer_truncated(void **state)
{
	uint32_t ttls[40];
	struct dg_dns_resp_info ri;
	struct dg_dns_query q;
	uint8_t out[2048];
	struct msg m;
	int i, len;

	(void)state;
	for (i = 0; i < 40; i++)
		ttls[i] = 60;
	build_ttls(&m, ttls, 40);	/* 29 + 40 * 16 = 669 bytes */
	client_query(&q, "example.COM", DG_TYPE_A, false, false);
	len = answer(&m, &q, 0, dg_dns_udp_limit(&q), NULL, out, sizeof(out),
		     &ri);
	assert_int_equal(len, 12 + 13 + 4);
	assert_true(ri.flags & DG_DNS_TC);
	assert_int_equal(ri.ancount, 0);
	assert_int_equal(ri.nscount, 0);
	assert_int_equal(ri.arcount, 0);
	assert_memory_equal(out + 12, "\7example\3COM", 13);

	client_query(&q, "example.com", DG_TYPE_A, true, false);
	len = answer(&m, &q, 0, 600, NULL, out, sizeof(out), &ri);
	assert_int_equal(len, 12 + 13 + 4 + 11);
	assert_true(ri.flags & DG_DNS_TC);
	assert_int_equal(ri.arcount, 1);
	assert_true(ri.edns.present);
	/* Under the limit: the whole answer, TC clear. */
	len = answer(&m, &q, 0, 1232, NULL, out, sizeof(out), &ri);
	assert_int_equal(len, m.n + 11);
	assert_false(ri.flags & DG_DNS_TC);
	assert_int_equal(ri.ancount, 40);
	/* A buffer too small is -ENOSPC, not a short answer. */
	assert_int_equal(answer(&m, &q, 0, 1232, NULL, out, 100, &ri),
			 -ENOSPC);
}

/* Test that `dotguard query` gets its info text back, and only when it
 * asked for it. */
static void test_answer_info(void **state)
{
	static const uint8_t ask[] = { 0xff, 0x15, 0, 0 };
	static const char info[] =
		"upstream=192.0.2.53#dns.example rtt_us=1234 cache=miss";
	struct dg_dns_resp_info ri;
	struct dg_dns_query q;
	uint8_t out[2048];
	struct msg m, qm;
	uint16_t olen;
	size_t at;
	int len;

	(void)state;
	put_hdr(&qm, 3, DG_DNS_RD, 1, 0, 0, 1);
	put_q(&qm, "www.example.com", DG_TYPE_A);
	put_opt(&qm, 1232, 0, ask, sizeof(ask));
	assert_int_equal(pq(&qm, &q), 0);
	assert_true(q.edns.dg_info);

	build_positive(&m, true);
	len = answer(&m, &q, 0, 65535, info, out, sizeof(out), &ri);
	assert_true(len > 0);
	at = find_option(out, ri.opt_off, ri.opt_len, DG_EDNS_DG_INFO, &olen);
	assert_true(at > 0);
	assert_int_equal(olen, strlen(info));
	assert_memory_equal(out + at, info, olen);

	/* The truncated form carries it too. */
	len = answer(&m, &q, 0, 100, info, out, sizeof(out), &ri);
	assert_true(ri.flags & DG_DNS_TC);
	assert_true(find_option(out, ri.opt_off, ri.opt_len, DG_EDNS_DG_INFO,
				&olen) > 0);

	client_query(&q, "www.example.com", DG_TYPE_A, true, false);
	len = answer(&m, &q, 0, 65535, info, out, sizeof(out), &ri);
	assert_int_equal(find_option(out, ri.opt_off, ri.opt_len,
				     DG_EDNS_DG_INFO, &olen), 0);
}

/* Test that RD and CD follow the client, the extended RCODE survives for
 * EDNS clients and becomes SERVFAIL for others, and a different question
 * is refused. */
static void test_answer_flags_rcode(void **state)
{
	struct dg_dns_resp_info ri;
	struct dg_dns_query q;
	uint8_t out[512];
	struct msg m;
	int len;

	(void)state;
	put_hdr(&m, 1, DG_DNS_QR | DG_DNS_RD | DG_DNS_RA, 1, 0, 0, 1);
	put_q(&m, "example.com", DG_TYPE_A);
	put_opt(&m, 1232, 0x01000000, NULL, 0);	/* BADVERS */
	client_query(&q, "example.com", DG_TYPE_A, true, false);
	q.flags = DG_DNS_CD;
	len = answer(&m, &q, 0, 1232, NULL, out, sizeof(out), &ri);
	assert_true(len > 0);
	assert_int_equal(ri.rcode, DG_RCODE_BADVERS);
	assert_false(ri.flags & DG_DNS_RD);
	assert_true(ri.flags & DG_DNS_CD);

	client_query(&q, "example.com", DG_TYPE_A, false, false);
	len = answer(&m, &q, 0, 512, NULL, out, sizeof(out), &ri);
	assert_int_equal(ri.rcode, DG_RCODE_SERVFAIL);

	client_query(&q, "example.org", DG_TYPE_A, false, false);
	assert_int_equal(answer(&m, &q, 0, 512, NULL, out, sizeof(out), &ri),
			 -EINVAL);
	client_query(&q, "example.com", DG_TYPE_AAAA, false, false);
	assert_int_equal(answer(&m, &q, 0, 512, NULL, out, sizeof(out), &ri),
			 -EINVAL);
}

/* Test error answers for every RCODE we send: QR and RA set, RD copied,
 * the question when it parsed, an OPT when the client sent one. */
static void test_build_error(void **state)
{
	static const int rcodes[] = {
		DG_RCODE_SERVFAIL, DG_RCODE_FORMERR, DG_RCODE_NOTIMP,
		DG_RCODE_REFUSED,
	};
	struct dg_dns_resp_info ri;
	struct dg_dns_query q;
	uint8_t out[512];
	size_t i;
	int len;

	(void)state;
	for (i = 0; i < sizeof(rcodes) / sizeof(rcodes[0]); i++) {
		client_query(&q, "example.com", DG_TYPE_A, false, false);
		len = dg_dns_build_error(out, sizeof(out), &q, true, rcodes[i],
					 NULL);
		assert_int_equal(len, 12 + 13 + 4);
		assert_int_equal(pr_len(out, (size_t)len, &ri), 0);
		assert_int_equal(ri.id, 0xbeef);
		assert_int_equal(ri.rcode, rcodes[i]);
		assert_int_equal(ri.flags & (DG_DNS_QR | DG_DNS_RA | DG_DNS_RD),
				 DG_DNS_QR | DG_DNS_RA | DG_DNS_RD);
		assert_false(ri.flags & DG_DNS_AA);
		assert_int_equal(ri.ttl, 0);
		assert_false(ri.edns.present);
	}

	/* Without a question: only the header. */
	len = dg_dns_build_error(out, sizeof(out), &q, false, DG_RCODE_FORMERR,
				 NULL);
	assert_int_equal(len, 12);
	assert_int_equal(out[5], 0);
	assert_int_equal(out[3] & 0xf, DG_RCODE_FORMERR);

	/* BADVERS lives in the OPT: header RCODE 0, extended 1. */
	client_query(&q, "example.com", DG_TYPE_A, true, true);
	len = dg_dns_build_error(out, sizeof(out), &q, true, DG_RCODE_BADVERS,
				 "x");
	assert_int_equal(len, 12 + 13 + 4 + 11);
	assert_int_equal(out[3] & 0xf, 0);
	assert_int_equal(pr_len(out, (size_t)len, &ri), 0);
	assert_int_equal(ri.rcode, DG_RCODE_BADVERS);
	assert_true(ri.edns.present);
	assert_true(ri.edns.do_bit);
	assert_int_equal(ri.edns.version, 0);

	q.edns.dg_info = true;
	len = dg_dns_build_error(out, sizeof(out), &q, true, DG_RCODE_SERVFAIL,
				 "cache=miss");
	assert_int_equal(len, 12 + 13 + 4 + 11 + 4 + 10);
	assert_int_equal(dg_dns_build_error(out, 20, &q, true,
					    DG_RCODE_SERVFAIL, NULL), -ENOSPC);
}

/* Test local answers from /etc/hosts: records of the asked type pointing
 * at the question, AA set, NODATA when there are none. */
static void test_build_local(void **state)
{
	static const uint8_t v4[] = { 192, 0, 2, 1, 192, 0, 2, 2 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	struct dg_dns_resp_info ri;
	struct dg_dns_query q;
	uint8_t out[512];
	int len;

	(void)state;
	client_query(&q, "Host.Example", DG_TYPE_A, true, false);
	len = dg_dns_build_local(out, sizeof(out), &q, v4, 2, 60, NULL, 512);
	assert_int_equal(len, 12 + 14 + 4 + 2 * 16 + 11);
	assert_int_equal(pr_len(out, (size_t)len, &ri), 0);
	assert_true(ri.flags & DG_DNS_AA);
	assert_int_equal(ri.ancount, 2);
	assert_int_equal(ri.ttl, 60);
	assert_true(ri.edns.present);
	assert_memory_equal(out + 12 + 14 + 4 + 12, v4, 4);
	assert_memory_equal(out + 12 + 14 + 4 + 16 + 12, v4 + 4, 4);

	client_query(&q, "host.example", DG_TYPE_AAAA, false, false);
	len = dg_dns_build_local(out, sizeof(out), &q, v6, 1, 0, NULL, 512);
	assert_int_equal(len, 12 + 14 + 4 + 28);
	assert_int_equal(pr_len(out, (size_t)len, &ri), 0);
	assert_memory_equal(out + len - 16, v6, 16);

	len = dg_dns_build_local(out, sizeof(out), &q, NULL, 0, 0, NULL, 512);
	assert_int_equal(pr_len(out, (size_t)len, &ri), 0);
	assert_int_equal(ri.rcode, DG_RCODE_NOERROR);
	assert_int_equal(ri.ancount, 0);
	assert_true(ri.negative);

	client_query(&q, "host.example", DG_TYPE_MX, false, false);
	assert_int_equal(dg_dns_build_local(out, sizeof(out), &q, v4, 1, 0,
					    NULL, 512), -EINVAL);
	assert_int_equal(dg_dns_build_local(out, sizeof(out), &q, NULL, 0, 0,
					    NULL, 512), 12 + 14 + 4);
	client_query(&q, "host.example", DG_TYPE_A, false, false);
	assert_int_equal(dg_dns_build_local(out, 40, &q, v4, 2, 0, NULL, 512),
			 -ENOSPC);
}

/* Test that a local answer over the transport's limit (512 bytes over
 * UDP without EDNS) is sent truncated, TC set and no records, as any
 * other answer is, so the client asks again over TCP and gets them all;
 * at the limit exactly it is whole. */
static void test_build_local_limit(void **state)
{
	static uint8_t v6[16 * 16];
	struct dg_dns_resp_info ri;
	struct dg_dns_query q;
	static uint8_t out[2048];
	char name[256];
	size_t whole;
	int len, i;

	(void)state;
	/* 4 labels of 60: a 245-byte name. */
	for (i = 0; i < 4; i++)
		snprintf(name + i * 61, sizeof(name) - (size_t)i * 61,
			 "%.60s%s", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			 i < 3 ? "." : "");
	client_query(&q, name, DG_TYPE_AAAA, false, false);
	whole = 12 + q.q.name_len + 4 + 16 * 28;
	assert_true(whole > 512);
	len = dg_dns_build_local(out, sizeof(out), &q, v6, 16, 0, NULL, 512);
	assert_int_equal(pr_len(out, (size_t)len, &ri), 0);
	assert_true(ri.flags & DG_DNS_TC);
	assert_int_equal(ri.ancount, 0);
	assert_true(len <= 512);
	assert_int_equal(len, 12 + q.q.name_len + 4);

	len = dg_dns_build_local(out, sizeof(out), &q, v6, 16, 0, NULL, whole);
	assert_int_equal(len, (int)whole);
	assert_int_equal(pr_len(out, (size_t)len, &ri), 0);
	assert_false(ri.flags & DG_DNS_TC);
	assert_int_equal(ri.ancount, 16);

	/* With EDNS the client's size is the limit: 1232 holds them all. */
	client_query(&q, name, DG_TYPE_AAAA, true, false);
	len = dg_dns_build_local(out, sizeof(out), &q, v6, 16, 0, NULL,
				 dg_dns_udp_limit(&q));
	assert_int_equal(pr_len(out, (size_t)len, &ri), 0);
	assert_false(ri.flags & DG_DNS_TC);
	assert_int_equal(ri.ancount, 16);
}

/* Test the UDP answer limit: 512 without EDNS, else within
 * [512, DG_DNS_EDNS_SIZE]. */
static void test_udp_limit(void **state)
{
	struct dg_dns_query q;

	(void)state;
	memset(&q, 0, sizeof(q));
	q.edns.udp_size = 4096;
	assert_int_equal(dg_dns_udp_limit(&q), 512);
	q.edns.present = true;
	assert_int_equal(dg_dns_udp_limit(&q), DG_DNS_EDNS_SIZE);
	q.edns.udp_size = 100;
	assert_int_equal(dg_dns_udp_limit(&q), 512);
	q.edns.udp_size = 800;
	assert_int_equal(dg_dns_udp_limit(&q), 800);
}

/* Test text to wire: plain, trailing dot, root, escapes, and the
 * limits. */
static void test_name_from_text(void **state)
{
	char label64[80], long_name[300];
	uint8_t w[DG_DNS_NAME_MAX];
	int i;

	(void)state;
	assert_int_equal(dg_dns_name_from_text("www.example.com", w, sizeof(w)),
			 17);
	assert_memory_equal(w, www_example_com, 17);
	assert_int_equal(dg_dns_name_from_text("www.example.com.", w,
					       sizeof(w)), 17);
	assert_int_equal(dg_dns_name_from_text(".", w, sizeof(w)), 1);
	assert_int_equal(w[0], 0);
	assert_int_equal(dg_dns_name_from_text("a\\.b.c", w, sizeof(w)), 7);
	assert_memory_equal(w, "\3a.b\1c", 7);
	assert_int_equal(dg_dns_name_from_text("\\065\\\\", w, sizeof(w)), 4);
	assert_memory_equal(w, "\2A\\", 4);
	assert_int_equal(dg_dns_name_from_text("\\000", w, sizeof(w)), 3);
	assert_memory_equal(w, "\1\0", 3);

	assert_int_equal(dg_dns_name_from_text("", w, sizeof(w)), -EINVAL);
	assert_int_equal(dg_dns_name_from_text("a..b", w, sizeof(w)), -EINVAL);
	assert_int_equal(dg_dns_name_from_text(".a", w, sizeof(w)), -EINVAL);
	assert_int_equal(dg_dns_name_from_text("a\\256", w, sizeof(w)),
			 -EINVAL);
	assert_int_equal(dg_dns_name_from_text("a\\25", w, sizeof(w)),
			 -EINVAL);
	assert_int_equal(dg_dns_name_from_text("a\\", w, sizeof(w)), -EINVAL);
	assert_int_equal(dg_dns_name_from_text("example.com", w, 12),
			 -EINVAL);
	assert_int_equal(dg_dns_name_from_text("example.com", w, 13), 13);

	memset(label64, 'a', 64);
	label64[64] = '\0';
	assert_int_equal(dg_dns_name_from_text(label64, w, sizeof(w)),
			 -EINVAL);
	label64[63] = '\0';
	assert_int_equal(dg_dns_name_from_text(label64, w, sizeof(w)), 65);

	/* 127 one-letter labels: 254 bytes + root = 255; one more is not. */
	for (i = 0; i < 127; i++) {
		long_name[2 * i] = 'x';
		long_name[2 * i + 1] = '.';
	}
	long_name[253] = '\0';
	assert_int_equal(dg_dns_name_from_text(long_name, w, sizeof(w)), 255);
	long_name[253] = '.';
	long_name[254] = 'x';
	long_name[255] = '\0';
	assert_int_equal(dg_dns_name_from_text(long_name, w, sizeof(w)),
			 -EINVAL);
}

/* Test wire to text: the root, escapes a reader can feed back, and
 * malformed input. */
static void test_name_to_text(void **state)
{
	static const uint8_t odd[] = { 5, 'a', '.', '\\', ' ', 0xff, 1, 0, 0 };
	uint8_t w[DG_DNS_NAME_MAX];
	char t[1100];
	int len;

	(void)state;
	assert_int_equal(dg_dns_name_to_text(www_example_com, 17, t, sizeof(t)),
			 16);
	assert_string_equal(t, "www.example.com.");
	assert_int_equal(dg_dns_name_to_text((const uint8_t *)"", 1, t,
					     sizeof(t)), 1);
	assert_string_equal(t, ".");
	len = dg_dns_name_to_text(odd, sizeof(odd), t, sizeof(t));
	assert_string_equal(t, "a\\.\\\\\\032\\255.\\000.");
	assert_int_equal(len, (int)strlen(t));
	/* ...and back to the same bytes. */
	assert_int_equal(dg_dns_name_from_text(t, w, sizeof(w)), sizeof(odd));
	assert_memory_equal(w, odd, sizeof(odd));

	assert_int_equal(dg_dns_name_to_text((const uint8_t *)"\xc0\x0c", 2, t,
					     sizeof(t)), -EINVAL);
	assert_int_equal(dg_dns_name_to_text(www_example_com, 16, t,
					     sizeof(t)), -EINVAL);
	assert_int_equal(dg_dns_name_to_text(www_example_com, 17, t, 16),
			 -EINVAL);
	assert_int_equal(dg_dns_name_to_text(www_example_com, 17, t, 17), 16);
}

/* Test type names both ways, RFC 3597 TYPEnnn included, and RCODE
 * names. */
static void test_type_names(void **state)
{
	char buf[16];

	(void)state;
	assert_int_equal(dg_dns_type_from_text("A"), DG_TYPE_A);
	assert_int_equal(dg_dns_type_from_text("aaaa"), DG_TYPE_AAAA);
	assert_int_equal(dg_dns_type_from_text("Mx"), DG_TYPE_MX);
	assert_int_equal(dg_dns_type_from_text("HTTPS"), 65);
	assert_int_equal(dg_dns_type_from_text("TYPE65"), 65);
	assert_int_equal(dg_dns_type_from_text("type65535"), 65535);
	assert_int_equal(dg_dns_type_from_text("28"), DG_TYPE_AAAA);
	assert_int_equal(dg_dns_type_from_text("TYPE65536"), -EINVAL);
	assert_int_equal(dg_dns_type_from_text("TYPE"), -EINVAL);
	assert_int_equal(dg_dns_type_from_text("TYPE-1"), -EINVAL);
	assert_int_equal(dg_dns_type_from_text("FOO"), -EINVAL);
	assert_int_equal(dg_dns_type_from_text(""), -EINVAL);

	assert_string_equal(dg_dns_type_name(DG_TYPE_A, buf, sizeof(buf)),
			    "A");
	assert_string_equal(dg_dns_type_name(DG_TYPE_AAAA, buf, sizeof(buf)),
			    "AAAA");
	assert_string_equal(dg_dns_type_name(65280, buf, sizeof(buf)),
			    "TYPE65280");

	assert_string_equal(dg_dns_rcode_name(0), "NOERROR");
	assert_string_equal(dg_dns_rcode_name(DG_RCODE_NXDOMAIN), "NXDOMAIN");
	assert_string_equal(dg_dns_rcode_name(DG_RCODE_SERVFAIL), "SERVFAIL");
	assert_string_equal(dg_dns_rcode_name(DG_RCODE_BADVERS), "BADVERS");
	assert_string_equal(dg_dns_rcode_name(4000), "UNKNOWN");
}

/* Test that questions match whatever the case, but never across types,
 * classes or names. */
static void test_question_equal(void **state)
{
	struct dg_dns_query a, b;

	(void)state;
	client_query(&a, "WWW.example.COM", DG_TYPE_A, false, false);
	client_query(&b, "www.EXAMPLE.com", DG_TYPE_A, true, true);
	assert_true(dg_dns_question_equal(&a.q, &b.q));
	client_query(&b, "www.example.com", DG_TYPE_AAAA, false, false);
	assert_false(dg_dns_question_equal(&a.q, &b.q));
	client_query(&b, "www.example.co", DG_TYPE_A, false, false);
	assert_false(dg_dns_question_equal(&a.q, &b.q));
	client_query(&b, "www.example.cop", DG_TYPE_A, false, false);
	assert_false(dg_dns_question_equal(&a.q, &b.q));
	client_query(&b, "www.example.com", DG_TYPE_A, false, false);
	b.q.qclass = 3;
	assert_false(dg_dns_question_equal(&a.q, &b.q));
}

/* --- 0x20 (draft-vixie-dnsext-dns0x20) ------------------------------ */

/* bits on the heap at their exact size, so ASan sees a read past them. */
static int do_0x20(uint8_t *name, size_t len, uint8_t fill)
{
	uint8_t *bits = malloc(DG_DNS_0X20_BYTES);
	int rc;

	assert_non_null(bits);
	memset(bits, fill, DG_DNS_0X20_BYTES);
	rc = dg_dns_name_0x20(name, len, bits);
	free(bits);
	return rc;
}

/* Test that 0x20 sets each letter's case from its bit and leaves every
 * other byte alone: label lengths, digits, '-', '_', the neighbours of
 * the letters in ASCII ('@' '[' '`' '{'), and bytes above 0x7f. */
static void test_name_0x20_letters_only(void **state)
{
	static const uint8_t name[] = "\6a-Z_9z\4@[`{\3\xc1\xe1q\3COM";
	uint8_t n[sizeof(name)];
	size_t i;

	(void)state;
	memcpy(n, name, sizeof(n));
	assert_int_equal(do_0x20(n, sizeof(n), 0xff), 7);
	assert_memory_equal(n, "\6A-Z_9Z\4@[`{\3\xc1\xe1Q\3COM", sizeof(n));
	assert_int_equal(do_0x20(n, sizeof(n), 0x00), 7);
	assert_memory_equal(n, "\6a-z_9z\4@[`{\3\xc1\xe1q\3com", sizeof(n));
	/* Bit i for byte i: 0x55 sets the even-numbered bytes upper. */
	assert_int_equal(do_0x20(n, sizeof(n), 0x55), 7);
	for (i = 0; i < sizeof(n); i++) {
		uint8_t c = name[i] | 0x20;

		if (c < 'a' || c > 'z' || i == 0 || i == 7 || i == 12 ||
		    i == 16)
			assert_int_equal(n[i], name[i]);
		else
			assert_int_equal(n[i], i % 2 ? c : c & ~0x20);
	}
}

/* Test a name of the full 255 bytes (every bit read lies inside
 * DG_DNS_0X20_BYTES), and that a name that is not well formed is refused
 * and left as it was: compressed, a label past the end, no root, bytes
 * after the root, a label over 63, empty. */
static void test_name_0x20_bounds(void **state)
{
	uint8_t n[DG_DNS_NAME_MAX], orig[DG_DNS_NAME_MAX];
	size_t i;

	(void)state;
	/* 4 labels of 63 'a' and one of 'b': 4 * 64 = 256 is too long,
	 * so 3 of 63, one of 61: 3 * 64 + 62 + root = 255. */
	for (i = 0; i < sizeof(n); i++)
		n[i] = 'a';
	n[0] = n[64] = n[128] = 63;
	n[192] = 61;
	n[254] = 0;
	assert_int_equal(do_0x20(n, sizeof(n), 0xff), 250);
	assert_int_equal(n[253], 'A');
	assert_int_equal(n[192], 61);

	memcpy(orig, "\3www\300\14", 6);
	memcpy(n, orig, 6);
	assert_int_equal(do_0x20(n, 6, 0xff), -EINVAL);
	assert_memory_equal(n, orig, 6);
	memcpy(orig, "\3www\7exa", 9);
	memcpy(n, orig, 9);
	assert_int_equal(do_0x20(n, 9, 0xff), -EINVAL);
	assert_memory_equal(n, orig, 9);
	assert_int_equal(do_0x20(n, 4, 0xff), -EINVAL);	/* "\3www", no root */
	memcpy(n, "\3www\0xy", 7);
	assert_int_equal(do_0x20(n, 7, 0xff), -EINVAL);
	assert_memory_equal(n, "\3www\0xy", 7);
	n[0] = 64;
	assert_int_equal(do_0x20(n, 66, 0xff), -EINVAL);
	assert_int_equal(do_0x20(n, 0, 0xff), -EINVAL);
	assert_int_equal(dg_dns_name_0x20(NULL, 1, n), -EINVAL);
	n[0] = 0;
	assert_int_equal(do_0x20(n, 1, 0xff), 0);	/* the root: no letters */
}

/* Test that the 0x20 check is exact: the same question in another case
 * is equal but not exact; type, class and length still count. */
static void test_question_exact(void **state)
{
	struct dg_dns_query a, b;

	(void)state;
	client_query(&a, "wWw.ExAmPlE.cOm", DG_TYPE_A, false, false);
	client_query(&b, "wWw.ExAmPlE.cOm", DG_TYPE_A, true, true);
	assert_true(dg_dns_question_exact(&a.q, &b.q));
	client_query(&b, "www.example.com", DG_TYPE_A, false, false);
	assert_true(dg_dns_question_equal(&a.q, &b.q));
	assert_false(dg_dns_question_exact(&a.q, &b.q));
	client_query(&b, "wWw.ExAmPlE.cOM", DG_TYPE_A, false, false);
	assert_false(dg_dns_question_exact(&a.q, &b.q));
	client_query(&b, "wWw.ExAmPlE.cOm", DG_TYPE_AAAA, false, false);
	assert_false(dg_dns_question_exact(&a.q, &b.q));
	client_query(&b, "wWw.ExAmPlE.cOm", DG_TYPE_A, false, false);
	b.q.qclass = 3;
	assert_false(dg_dns_question_exact(&a.q, &b.q));
	client_query(&b, "wWw.ExAmPlE.cO", DG_TYPE_A, false, false);
	assert_false(dg_dns_question_exact(&a.q, &b.q));
	a.q.name_len = b.q.name_len = 0;
	assert_false(dg_dns_question_exact(&a.q, &b.q));
}

/* Test that a client gets its own spelling back from an answer to the
 * 0x20 spelling we sent upstream: in the question, and in every owner
 * name that points at it; a second client (the cache) gets its own. */
static void test_answer_client_case_after_0x20(void **state)
{
	static const char *const asked[] = { "Www.Example.Com", "WWW.EXAMPLE.COM" };
	struct dg_dns_resp_info ri;
	struct dg_dns_query q;
	uint8_t out[2048], owner[DG_DNS_NAME_MAX], olen, wire[DG_DNS_NAME_MAX];
	struct msg m;
	size_t i;
	int len;

	(void)state;
	put_hdr(&m, 0x2222, DG_DNS_QR | DG_DNS_RD | DG_DNS_RA, 1, 1, 0, 0);
	put_q(&m, "wWw.eXAmPle.CoM", DG_TYPE_A);	/* as we sent it */
	put_a_at(&m, 12, 300, 7);
	for (i = 0; i < 2; i++) {
		client_query(&q, asked[i], DG_TYPE_A, false, false);
		len = answer(&m, &q, 0, 512, NULL, out, sizeof(out), &ri);
		assert_int_equal(len, m.n);
		assert_int_equal(dg_dns_name_from_text(asked[i], wire, sizeof(wire)), 17);
		assert_memory_equal(out + 12, wire, 17);
		assert_memory_equal(ri.q.name, wire, 17);
		/* The A record's owner: a pointer to the question. */
		assert_int_equal(dg_dns_name_at(out, (size_t)len, 12 + 17 + 4,
						owner, &olen), 0);
		assert_int_equal(olen, 17);
		assert_memory_equal(owner, wire, 17);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_a),
		cmocka_unit_test(test_query_aaaa_edns_do),
		cmocka_unit_test(test_query_options),
		cmocka_unit_test(test_query_keepalive_timeout),
		cmocka_unit_test(test_query_header),
		cmocka_unit_test(test_query_qdcount),
		cmocka_unit_test(test_query_short),
		cmocka_unit_test(test_query_refused),
		cmocka_unit_test(test_query_badvers),
		cmocka_unit_test(test_query_opt_errors),
		cmocka_unit_test(test_query_counts_lie),
		cmocka_unit_test(test_query_tsig_skipped),
		cmocka_unit_test(test_query_truncated_everywhere),
		cmocka_unit_test(test_query_name_limits),
		cmocka_unit_test(test_query_name_forms),
		cmocka_unit_test(test_resp_positive),
		cmocka_unit_test(test_resp_truncated_everywhere),
		cmocka_unit_test(test_resp_header),
		cmocka_unit_test(test_resp_rdlen_past_end),
		cmocka_unit_test(test_resp_opt_rules),
		cmocka_unit_test(test_resp_rdata_checks),
		cmocka_unit_test(test_resp_pointer_loops),
		cmocka_unit_test(test_resp_pointer_chain),
		cmocka_unit_test(test_resp_name_limits),
		cmocka_unit_test(test_resp_negative_ttl),
		cmocka_unit_test(test_resp_positive_ttl),
		cmocka_unit_test(test_resp_many_rrs),
		cmocka_unit_test(test_resp_ext_rcode),
		cmocka_unit_test(test_build_query_padding),
		cmocka_unit_test(test_build_query_layout),
		cmocka_unit_test(test_answer_edns_client),
		cmocka_unit_test(test_answer_plain_client),
		cmocka_unit_test(test_answer_opt_not_last),
		cmocka_unit_test(test_answer_truncated),
		cmocka_unit_test(test_answer_info),
		cmocka_unit_test(test_answer_flags_rcode),
		cmocka_unit_test(test_build_error),
		cmocka_unit_test(test_build_local),
		cmocka_unit_test(test_build_local_limit),
		cmocka_unit_test(test_udp_limit),
		cmocka_unit_test(test_name_from_text),
		cmocka_unit_test(test_name_to_text),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_question_equal),
		cmocka_unit_test(test_name_0x20_letters_only),
		cmocka_unit_test(test_name_0x20_bounds),
		cmocka_unit_test(test_question_exact),
		cmocka_unit_test(test_answer_client_case_after_0x20),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
