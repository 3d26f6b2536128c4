// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/frame.c: the frames an AF_XDP socket hands us and
 * the answers we send back. Queries come from the BPF tests' packet
 * builder (tests/bpf/pkt.h), not from frame.c, and every parse reads an
 * exact-size heap copy, so ASan catches a read one byte past the frame.
 * Checksums are verified with a sum written here, not frame.c's.
 *
 * Usage: test_frame [--write-seeds DIR] (the fuzz_frame corpus)
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

#include "pkt.h"
#include "frame.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define QUERY_SPORT 40000
#define QUERY_PAYLEN 29		/* odd: the checksum pads the last byte */
#define QUERY_TOS 0xb9		/* DSCP EF (46) + ECT(1) */
#define REPLY_TOS 0xb8		/* the same DSCP, ECN cleared */
#define TCI_OUTER 0xa0c8	/* PCP 5, VID 200 */
#define TCI_INNER 0x2064	/* PCP 1, VID 100 */

static const uint8_t our_mac[6] = { 0x02, 0xd0, 0x7, 0x00, 0x00, 0x53 };

enum shape {
	S_V4,
	S_V4_OPTS,
	S_V4_8021Q,
	S_V4_QINQ,
	S_V6,
	S_V6_EXT,
	S_V6_8021Q,
	S_MAX,
};

static const struct {
	const char *name;
	int family;
	int n_vlans;
	uint16_t tpid[2], tci[2];
	unsigned int l4_off;	/* where UDP starts in the query */
} shapes[S_MAX] = {
	[S_V4] = { "ipv4", 4, 0, { 0 }, { 0 }, 14 + 20 },
	[S_V4_OPTS] = { "ipv4-options", 4, 0, { 0 }, { 0 }, 14 + 32 },
	[S_V4_8021Q] = { "ipv4-8021q", 4, 1, { 0x8100 }, { TCI_INNER }, 18 + 20 },
	[S_V4_QINQ] = { "ipv4-qinq", 4, 2, { 0x88a8, 0x8100 },
			{ TCI_OUTER, TCI_INNER }, 22 + 20 },
	[S_V6] = { "ipv6", 6, 0, { 0 }, { 0 }, 14 + 40 },
	[S_V6_EXT] = { "ipv6-hop-dstopts", 6, 0, { 0 }, { 0 }, 14 + 40 + 8 + 16 },
	[S_V6_8021Q] = { "ipv6-8021q", 6, 1, { 0x8100 }, { TCI_INNER }, 18 + 40 },
};

/* The payload pattern: position-dependent, so a shifted copy differs. */
static uint8_t pattern(size_t i, uint8_t seed)
{
	return (uint8_t)(i * 7 + seed);
}

static void set_tci(struct pkt *p, unsigned int tag, uint16_t tci)
{
	pkt_put16(p->buf + 14 + 4 * tag, tci);
}

/* Set the IP TOS / traffic class of the last IP header. */
static void set_tos(struct pkt *p, uint8_t tos)
{
	uint8_t *h = p->buf + p->l3_off;

	if (p->family == 4) {
		h[1] = tos;
	} else {
		h[0] = 0x60 | tos >> 4;
		h[1] = (uint8_t)((tos & 0x0f) << 4 | (h[1] & 0x0f));
	}
}

/* A valid UDP query of the given shape, ports 40000 -> 53. */
static void build(struct pkt *p, enum shape s)
{
	unsigned int i;

	pkt_init(p);
	pkt_eth(p);
	if (s == S_V4_QINQ) {
		pkt_vlan(p, PKT_ETH_8021AD, 0);
		set_tci(p, 0, TCI_OUTER);
	}
	if (s == S_V4_8021Q || s == S_V4_QINQ || s == S_V6_8021Q) {
		pkt_vlan(p, PKT_ETH_8021Q, 0);
		set_tci(p, s == S_V4_QINQ, TCI_INNER);
	}
	if (shapes[s].family == 6) {
		pkt_ipv6(p);
		if (s == S_V6_EXT) {
			pkt_ext6(p, PKT_IP6_HOP, 8);
			pkt_ext6(p, PKT_IP6_DSTOPTS, 16);
		}
	} else {
		pkt_ipv4(p, s == S_V4_OPTS ? 12 : 0);
	}
	set_tos(p, QUERY_TOS);
	pkt_udp(p, QUERY_SPORT, 53, QUERY_PAYLEN);
	for (i = 0; i < QUERY_PAYLEN; i++)
		p->buf[p->len - QUERY_PAYLEN + i] = pattern(i, 1);
	pkt_finish(p);
}

/* Parse an exact-size heap copy of the len bytes at f. */
static enum dg_frame_err parse_copy(const uint8_t *f, size_t len,
				    struct dg_frame *fr)
{
	enum dg_frame_err e;
	uint8_t *copy = malloc(len ? len : 1);

	assert_non_null(copy);
	memcpy(copy, f, len);
	e = dg_frame_parse(copy, len, fr);
	free(copy);
	return e;
}

static void expect_err(const uint8_t *f, size_t len, enum dg_frame_err want,
		       const char *what)
{
	struct dg_frame fr;
	enum dg_frame_err got = parse_copy(f, len, &fr);

	if (got != want)
		fail_msg("%s: got %s, want %s", what, dg_frame_err_name(got),
			 dg_frame_err_name(want));
}

static void expect_pkt(const struct pkt *p, enum dg_frame_err want,
		       const char *what)
{
	expect_err(p->buf, p->len, want, what);
}

/* The IP addresses pkt.h puts in a query of this family. */
static const uint8_t *query_saddr(int family)
{
	return family == 4 ? pkt_ip4_src : pkt_ip6_src;
}

static const uint8_t *query_daddr(int family)
{
	return family == 4 ? pkt_ip4_dst : pkt_ip6_dst;
}

static void check_query(enum shape s, const struct pkt *p,
			const struct dg_frame *fr)
{
	static const uint8_t zero[16];
	size_t alen = shapes[s].family == 4 ? 4 : 16;
	int i;

	assert_memory_equal(fr->dst_mac, pkt_mac_dst, 6);
	assert_memory_equal(fr->src_mac, pkt_mac_src, 6);
	assert_int_equal(fr->n_vlans, shapes[s].n_vlans);
	for (i = 0; i < shapes[s].n_vlans; i++) {
		assert_int_equal(fr->vlan_tpid[i], shapes[s].tpid[i]);
		assert_int_equal(fr->vlan_tci[i], shapes[s].tci[i]);
	}
	assert_int_equal(fr->family, shapes[s].family);
	assert_int_equal(fr->tos, QUERY_TOS);
	assert_memory_equal(fr->saddr, query_saddr(fr->family), alen);
	assert_memory_equal(fr->daddr, query_daddr(fr->family), alen);
	assert_memory_equal(fr->saddr + alen, zero, 16 - alen);
	assert_memory_equal(fr->daddr + alen, zero, 16 - alen);
	assert_int_equal(fr->sport, QUERY_SPORT);
	assert_int_equal(fr->dport, 53);
	assert_int_equal(fr->dns_off, shapes[s].l4_off + 8);
	assert_int_equal(fr->dns_len, QUERY_PAYLEN);
	for (i = 0; i < QUERY_PAYLEN; i++)
		assert_int_equal(p->buf[fr->dns_off + i], pattern(i, 1));
}

/* Test that each valid shape parses, every field where pkt.h put it:
 * IPv4, IPv4 with options, 802.1Q, QinQ, IPv6, IPv6 with hop-by-hop and
 * destination options before UDP, IPv6 in 802.1Q. */
static void test_valid(void **state)
{
	struct dg_frame fr;
	struct pkt p;
	int s;

	(void)state;
	for (s = 0; s < S_MAX; s++) {
		build(&p, s);
		if (parse_copy(p.buf, p.len, &fr) != DG_FRAME_OK)
			fail_msg("%s does not parse", shapes[s].name);
		check_query(s, &p, &fr);
		assert_int_equal(fr.dns_off + fr.dns_len, p.len);
	}
}

/* Test that every prefix of every valid frame, from 0 bytes to one short,
 * is TRUNCATED: each cut lands in some header or in the payload the IP
 * length announces, and none reads past the cut. */
static void test_every_prefix_truncated(void **state)
{
	char what[64];
	struct pkt p;
	size_t n;
	int s;

	(void)state;
	for (s = 0; s < S_MAX; s++) {
		build(&p, s);
		for (n = 0; n < p.len; n++) {
			snprintf(what, sizeof(what), "%s cut to %zu of %u",
				 shapes[s].name, n, p.len);
			expect_err(p.buf, n, DG_FRAME_TRUNCATED, what);
		}
	}
}

/* Test that IPv4 length fields are not believed: total length past the
 * frame, below IHL*4 + 8 or below IHL*4; IHL below 5; options past the
 * frame. */
static void test_ipv4_length_lies(void **state)
{
	char what[64];
	struct pkt p;
	uint8_t ihl;

	(void)state;
	build(&p, S_V4);
	pkt_put16(p.buf + 16, 20 + 8 + QUERY_PAYLEN + 1);
	expect_pkt(&p, DG_FRAME_TRUNCATED, "total length past the frame");
	pkt_put16(p.buf + 16, 0xffff);
	expect_pkt(&p, DG_FRAME_TRUNCATED, "total length 65535");
	pkt_put16(p.buf + 16, 20 + 7);
	expect_pkt(&p, DG_FRAME_BAD_LENGTH, "total length < IHL*4 + 8");
	pkt_put16(p.buf + 16, 19);
	expect_pkt(&p, DG_FRAME_BAD_LENGTH, "total length < IHL*4");
	pkt_put16(p.buf + 16, 0);
	expect_pkt(&p, DG_FRAME_BAD_LENGTH, "total length 0");

	/* With ID and source port 16, a parser taking IHL 0 or 4 at its
	 * word would find a plausible UDP length there. */
	for (ihl = 0; ihl < 5; ihl++) {
		build(&p, S_V4);
		pkt_put16(p.buf + 14 + 4, 16);
		pkt_put16(p.buf + 34, 16);
		pkt_ipv4_ihl(&p, ihl);
		snprintf(what, sizeof(what), "IHL %u", ihl);
		expect_pkt(&p, DG_FRAME_BAD_LENGTH, what);
	}

	/* 60 header bytes claimed, 57 in the frame. */
	build(&p, S_V4);
	pkt_ipv4_ihl(&p, 15);
	expect_pkt(&p, DG_FRAME_TRUNCATED, "IHL 15 past the frame");

	/* 32 header bytes claimed, total length 28. */
	build(&p, S_V4_OPTS);
	pkt_put16(p.buf + 16, 28);
	expect_pkt(&p, DG_FRAME_BAD_LENGTH, "total length inside the options");
}

/* Test that a UDP length past the IP payload or below 8 is refused in
 * both families, and one short of the IP payload is believed (the rest
 * is not DNS). */
static void test_udp_length_lies(void **state)
{
	static const enum shape fam[] = { S_V4_OPTS, S_V6_EXT };
	struct dg_frame fr;
	char what[64];
	struct pkt p;
	unsigned int i, ulen;
	uint8_t *u;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(fam); i++) {
		build(&p, fam[i]);
		u = p.buf + shapes[fam[i]].l4_off;
		pkt_put16(u + 4, 8 + QUERY_PAYLEN + 1);
		expect_pkt(&p, DG_FRAME_BAD_LENGTH, "UDP length past the IP payload");
		pkt_put16(u + 4, 0xffff);
		expect_pkt(&p, DG_FRAME_BAD_LENGTH, "UDP length 65535");
		for (ulen = 0; ulen < 8; ulen++) {
			pkt_put16(u + 4, ulen);
			snprintf(what, sizeof(what), "%s UDP length %u",
				 shapes[fam[i]].name, ulen);
			expect_pkt(&p, DG_FRAME_BAD_LENGTH, what);
		}
		pkt_put16(u + 4, 8 + QUERY_PAYLEN - 1);
		assert_int_equal(parse_copy(p.buf, p.len, &fr), DG_FRAME_OK);
		assert_int_equal(fr.dns_len, QUERY_PAYLEN - 1);
		pkt_put16(u + 4, 8);
		assert_int_equal(parse_copy(p.buf, p.len, &fr), DG_FRAME_OK);
		assert_int_equal(fr.dns_len, 0);
	}

	/* An IP payload too short for a UDP header, with the frame going on
	 * after it and with the frame ending there. */
	build(&p, S_V4);
	pkt_put16(p.buf + 16, 20 + 4);
	expect_pkt(&p, DG_FRAME_BAD_LENGTH, "IPv4 payload shorter than UDP");
	pkt_trunc(&p, 14 + 20 + 4);
	expect_pkt(&p, DG_FRAME_BAD_LENGTH, "IPv4 payload shorter than UDP, at the end");
	build(&p, S_V6);
	pkt_put16(p.buf + 14 + 4, 4);
	expect_pkt(&p, DG_FRAME_BAD_LENGTH, "IPv6 payload shorter than UDP");
	pkt_trunc(&p, 14 + 40 + 4);
	expect_pkt(&p, DG_FRAME_BAD_LENGTH, "IPv6 payload shorter than UDP, at the end");
}

/* Test that IPv6 lengths are not believed: payload length past the frame,
 * an extension header running past the frame or past the payload length
 * (with bytes still there after it), a payload too short for one. */
static void test_ipv6_length_lies(void **state)
{
	const unsigned int l3 = 14, hop = 14 + 40, dst = hop + 8;
	struct pkt p;

	(void)state;
	build(&p, S_V6_EXT);
	pkt_put16(p.buf + l3 + 4, p.len - l3 - 40 + 1);
	expect_pkt(&p, DG_FRAME_TRUNCATED, "payload length past the frame");

	build(&p, S_V6_EXT);
	p.buf[hop + 1] = 10;
	expect_pkt(&p, DG_FRAME_BAD_LENGTH, "hop-by-hop length past the end");

	/* 2048 bytes claimed: more than the parser walks (DG_MAX_EXTCHAIN),
	 * as the guard itself says (limit-exthdr). */
	build(&p, S_V6_EXT);
	p.buf[hop + 1] = 0xff;
	expect_pkt(&p, DG_FRAME_TOO_MANY_HDRS, "hop-by-hop length past the walk");

	/* Destination options claim 8 bytes more than the payload holds;
	 * the frame has 16 padding bytes after it. */
	build(&p, S_V6_EXT);
	p.buf[dst + 1] = (8 + 16 + 8 + QUERY_PAYLEN) / 8;
	pkt_append(&p, 16);
	expect_pkt(&p, DG_FRAME_BAD_LENGTH, "dstopts length past the payload");

	build(&p, S_V6_EXT);
	pkt_put16(p.buf + l3 + 4, 4);
	expect_pkt(&p, DG_FRAME_BAD_LENGTH, "payload too short for hop-by-hop");

	build(&p, S_V6);
	pkt_put16(p.buf + l3 + 4, 0);
	expect_pkt(&p, DG_FRAME_BAD_LENGTH, "payload length 0 (jumbogram)");

	/* Hop-by-hop announced, the frame ending with the payload: 0 and 1
	 * bytes, too few to hold its length byte. */
	build(&p, S_V6_EXT);
	pkt_put16(p.buf + l3 + 4, 0);
	pkt_trunc(&p, hop);
	expect_pkt(&p, DG_FRAME_BAD_LENGTH, "hop-by-hop in an empty payload");
	pkt_put16(p.buf + l3 + 4, 1);
	p.len = hop + 1;
	expect_pkt(&p, DG_FRAME_BAD_LENGTH, "hop-by-hop in a 1-byte payload");
}

/* An IPv6 UDP query after n extension headers of the walked kinds. */
static void build_ext_chain(struct pkt *p, int n)
{
	static const uint8_t kinds[] = { PKT_IP6_HOP, PKT_IP6_DSTOPTS,
					 PKT_IP6_ROUTING };
	int i;

	pkt_init(p);
	pkt_eth(p);
	pkt_ipv6(p);
	for (i = 0; i < n; i++)
		pkt_ext6(p, kinds[i % 3], 8 * (1 + i % 2));
	pkt_udp(p, QUERY_SPORT, 53, QUERY_PAYLEN);
	pkt_finish(p);
}

/* Test the header limits, the guard's own (include/dotguard/limits.h):
 * 3 VLAN tags and 6 options headers parse, a fourth tag and a seventh
 * options header are TOO_MANY_HDRS. */
static void test_header_limits(void **state)
{
	struct dg_frame fr;
	struct pkt p;

	(void)state;
	build_ext_chain(&p, DG_IPV6_OPTS_BEFORE + DG_IPV6_OPTS_AFTER);
	assert_int_equal(parse_copy(p.buf, p.len, &fr), DG_FRAME_OK);
	assert_int_equal(fr.dns_off, p.len - QUERY_PAYLEN);
	assert_int_equal(fr.dport, 53);
	build_ext_chain(&p, DG_IPV6_OPTS_BEFORE + DG_IPV6_OPTS_AFTER + 1);
	expect_pkt(&p, DG_FRAME_TOO_MANY_HDRS, "7 options headers");

	pkt_init(&p);
	pkt_eth(&p);
	pkt_vlan(&p, PKT_ETH_8021AD, 1);
	pkt_vlan(&p, PKT_ETH_8021Q, 2);
	pkt_vlan(&p, PKT_ETH_QINQ1, 3);
	pkt_ipv4(&p, 0);
	pkt_udp(&p, QUERY_SPORT, 53, QUERY_PAYLEN);
	pkt_finish(&p);
	assert_int_equal(parse_copy(p.buf, p.len, &fr), DG_FRAME_OK);
	assert_int_equal(fr.n_vlans, 3);
	assert_int_equal(fr.vlan_tpid[2], PKT_ETH_QINQ1);
	assert_int_equal(fr.vlan_tci[2], 3);

	pkt_init(&p);
	pkt_eth(&p);
	pkt_vlan(&p, PKT_ETH_8021AD, 1);
	pkt_vlan(&p, PKT_ETH_8021Q, 2);
	pkt_vlan(&p, PKT_ETH_8021Q, 3);
	pkt_vlan(&p, PKT_ETH_8021Q, 4);
	pkt_ipv4(&p, 0);
	pkt_udp(&p, QUERY_SPORT, 53, QUERY_PAYLEN);
	pkt_finish(&p);
	expect_pkt(&p, DG_FRAME_TOO_MANY_HDRS, "4 VLAN tags");
}

/* Test that fragments are found wherever the fragment is said (IPv4 MF,
 * IPv4 offset, an IPv6 fragment header first or after hop-by-hop) and
 * handed on as such; that DF alone is no fragment, nor is an IPv6 atomic
 * fragment (offset 0, no M: RFC 6946 says to process it whole). */
static void test_fragments(void **state)
{
	struct dg_frame fr;
	struct pkt p;

	(void)state;
	build(&p, S_V4);
	pkt_ipv4_frag(&p, 7, 1, 0);
	expect_pkt(&p, DG_FRAME_FRAGMENT, "IPv4 MF");
	pkt_ipv4_frag(&p, 7, 0, 185);
	expect_pkt(&p, DG_FRAME_FRAGMENT, "IPv4 offset");
	pkt_ipv4_frag(&p, 7, 0, 0);
	pkt_put16(p.buf + 14 + 6, 0x4000);
	assert_int_equal(parse_copy(p.buf, p.len, &fr), DG_FRAME_OK);

	pkt_init(&p);
	pkt_eth(&p);
	pkt_ipv6(&p);
	pkt_frag6(&p, 7, 1, 0);
	pkt_udp(&p, QUERY_SPORT, 53, QUERY_PAYLEN);
	pkt_finish(&p);
	expect_pkt(&p, DG_FRAME_FRAGMENT, "IPv6 fragment header");

	pkt_init(&p);
	pkt_eth(&p);
	pkt_ipv6(&p);
	pkt_ext6(&p, PKT_IP6_HOP, 8);
	pkt_frag6(&p, 7, 1, 0);
	pkt_udp(&p, QUERY_SPORT, 53, QUERY_PAYLEN);
	pkt_finish(&p);
	expect_pkt(&p, DG_FRAME_FRAGMENT, "IPv6 hop-by-hop then fragment");

	pkt_init(&p);
	pkt_eth(&p);
	pkt_ipv6(&p);
	pkt_frag6(&p, 7, 0, 0);
	pkt_udp(&p, QUERY_SPORT, 53, QUERY_PAYLEN);
	pkt_finish(&p);
	assert_int_equal(parse_copy(p.buf, p.len, &fr), DG_FRAME_OK);
	assert_int_equal(fr.dns_len, QUERY_PAYLEN);
}

/* Test that what is not IP, or IP but not UDP, is said so: ARP, LLDP, an
 * IP version that contradicts the EtherType, TCP, ICMP, ICMPv6 and ESP;
 * and that UDP under AH is found, as the guard finds it. */
static void test_not_ip_not_udp(void **state)
{
	struct dg_frame fr;
	struct pkt p;

	(void)state;
	pkt_init(&p);
	pkt_eth(&p);
	pkt_arp(&p);
	expect_pkt(&p, DG_FRAME_NOT_IP, "ARP");
	pkt_init(&p);
	pkt_eth(&p);
	pkt_vlan(&p, PKT_ETH_8021Q, 5);
	pkt_ethertype(&p, 0x88cc, 46);
	expect_pkt(&p, DG_FRAME_NOT_IP, "LLDP in 802.1Q");
	build(&p, S_V4);
	pkt_ip_version(&p, 6);
	expect_pkt(&p, DG_FRAME_NOT_IP, "IPv4 EtherType, version 6");
	build(&p, S_V6);
	pkt_ip_version(&p, 4);
	expect_pkt(&p, DG_FRAME_NOT_IP, "IPv6 EtherType, version 4");

	pkt_init(&p);
	pkt_eth(&p);
	pkt_ipv4(&p, 0);
	pkt_tcp(&p, QUERY_SPORT, 53, 10);
	pkt_finish(&p);
	expect_pkt(&p, DG_FRAME_NOT_UDP, "TCP over IPv4");
	pkt_init(&p);
	pkt_eth(&p);
	pkt_ipv6(&p);
	pkt_ext6(&p, PKT_IP6_DSTOPTS, 8);
	pkt_tcp(&p, QUERY_SPORT, 53, 10);
	pkt_finish(&p);
	expect_pkt(&p, DG_FRAME_NOT_UDP, "TCP over IPv6 after dstopts");
	pkt_init(&p);
	pkt_eth(&p);
	pkt_ipv4(&p, 0);
	pkt_icmp_echo(&p);
	pkt_finish(&p);
	expect_pkt(&p, DG_FRAME_NOT_UDP, "ICMP");
	pkt_init(&p);
	pkt_eth(&p);
	pkt_ipv6(&p);
	pkt_icmp_echo(&p);
	pkt_finish(&p);
	expect_pkt(&p, DG_FRAME_NOT_UDP, "ICMPv6");
	pkt_init(&p);
	pkt_eth(&p);
	pkt_ipv6(&p);
	pkt_ext6(&p, PKT_IP6_AH, 16);
	pkt_udp(&p, QUERY_SPORT, 53, QUERY_PAYLEN);
	pkt_finish(&p);
	/* AH is walked, as the guard walks it: the query is there. */
	assert_int_equal(parse_copy(p.buf, p.len, &fr), DG_FRAME_OK);
	assert_int_equal(fr.dport, 53);
	pkt_init(&p);
	pkt_eth(&p);
	pkt_ipv4(&p, 0);
	pkt_payload(&p, 50, 40);
	pkt_finish(&p);
	expect_pkt(&p, DG_FRAME_NOT_UDP, "ESP");
}

/* Test that a fragment's place in its datagram is read for the
 * reassembler: IPv4 id, offset in bytes, More Fragments, protocol and the
 * bytes it carries; the same for IPv6 from its fragment header, after a
 * hop-by-hop header. */
static void test_fragment_fields(void **state)
{
	struct dg_frame fr;
	struct pkt p;

	(void)state;
	build(&p, S_V4);
	pkt_ipv4_frag(&p, 0xbeef, 1, 3);
	assert_int_equal(parse_copy(p.buf, p.len, &fr), DG_FRAME_FRAGMENT);
	assert_int_equal(fr.frag_id, 0xbeef);
	assert_int_equal(fr.frag_off, 24);
	assert_int_equal(fr.frag_more, 1);
	assert_int_equal(fr.frag_proto, PKT_IP_UDP);
	assert_int_equal(fr.l3_off, 14);
	assert_int_equal(fr.frag_hdr_off, 0);
	assert_int_equal(fr.data_off, 14 + 20);
	assert_int_equal(fr.data_len, p.len - 14 - 20);
	assert_int_equal(fr.family, 4);

	pkt_init(&p);
	pkt_eth(&p);
	pkt_ipv6(&p);
	pkt_ext6(&p, PKT_IP6_HOP, 8);
	pkt_frag6(&p, 0x12345678, 0, 32);
	pkt_payload(&p, PKT_IP_UDP, 40);
	pkt_finish(&p);
	assert_int_equal(parse_copy(p.buf, p.len, &fr), DG_FRAME_FRAGMENT);
	assert_int_equal(fr.frag_id, 0x12345678);
	assert_int_equal(fr.frag_off, 256);
	assert_int_equal(fr.frag_more, 0);
	assert_int_equal(fr.frag_proto, PKT_IP_UDP);
	assert_int_equal(fr.frag_hdr_off, 14 + 40 + 8);
	assert_int_equal(fr.data_off, 14 + 40 + 8 + 8);
	assert_int_equal(fr.data_len, 40);
}

/* Test that IP inside PPPoE or MPLS is not answered (the guard drops
 * DNS there): "encapsulated", and that a 0x9100 tag is a VLAN tag. */
static void test_encapsulated(void **state)
{
	struct pkt p;

	(void)state;
	pkt_init(&p);
	pkt_eth(&p);
	pkt_pppoe(&p, PKT_PPP_IP, 0);
	pkt_ipv4(&p, 0);
	pkt_udp(&p, QUERY_SPORT, 53, QUERY_PAYLEN);
	pkt_finish(&p);
	expect_pkt(&p, DG_FRAME_ENCAP, "UDP/53 in PPPoE");

	pkt_init(&p);
	pkt_eth(&p);
	pkt_mpls(&p, 16, 1);
	pkt_ipv6(&p);
	pkt_udp(&p, QUERY_SPORT, 53, QUERY_PAYLEN);
	pkt_finish(&p);
	expect_pkt(&p, DG_FRAME_ENCAP, "UDP/53 under MPLS");

	pkt_init(&p);
	pkt_eth(&p);
	pkt_mpls(&p, 16, 0);
	pkt_mpls(&p, 17, 0);
	pkt_mpls(&p, 18, 0);
	pkt_mpls(&p, 19, 0);
	pkt_mpls(&p, 20, 1);
	pkt_ipv4(&p, 0);
	pkt_udp(&p, QUERY_SPORT, 53, QUERY_PAYLEN);
	pkt_finish(&p);
	expect_pkt(&p, DG_FRAME_TOO_MANY_HDRS, "5 MPLS labels");
}

/* Test that a source an answer would reflect from is recognised: group
 * and broadcast MACs, 0.0.0.0, 224/4, 255.255.255.255, ::, ff00::/8; and
 * that ordinary unicast sources are not. */
static void test_source_reflects(void **state)
{
	struct dg_frame fr = { .family = 4, .src_mac = { 0x02, 1, 2, 3, 4, 5 },
			       .saddr = { 192, 0, 2, 10 } };
	struct dg_frame f;

	(void)state;
	assert_false(dg_frame_source_reflects(&fr));
	f = fr;
	f.src_mac[0] = 0x01;
	assert_true(dg_frame_source_reflects(&f));
	f = fr;
	memset(f.src_mac, 0xff, 6);
	assert_true(dg_frame_source_reflects(&f));
	f = fr;
	memset(f.saddr, 0, 4);
	assert_true(dg_frame_source_reflects(&f));
	f.saddr[0] = 224;
	assert_true(dg_frame_source_reflects(&f));
	memset(f.saddr, 255, 4);
	assert_true(dg_frame_source_reflects(&f));
	f.saddr[0] = 223;
	assert_false(dg_frame_source_reflects(&f));

	f = fr;
	f.family = 6;
	memset(f.saddr, 0, 16);
	assert_true(dg_frame_source_reflects(&f));
	f.saddr[0] = 0xff;
	f.saddr[1] = 0x02;
	assert_true(dg_frame_source_reflects(&f));
	f.saddr[0] = 0x20;
	f.saddr[1] = 0x01;
	assert_false(dg_frame_source_reflects(&f));
	f.saddr[15] = 1;
	assert_false(dg_frame_source_reflects(&f));
}

/* Test that bytes after the IP packet (Ethernet padding to 60 bytes, an
 * FCS) are ignored: the frame parses and the payload ends where UDP says. */
static void test_ethernet_padding(void **state)
{
	static const enum shape padded[] = { S_V4, S_V4_QINQ, S_V6 };
	struct dg_frame fr;
	struct pkt p;
	unsigned int i;

	(void)state;
	/* A 4-byte payload: 46 bytes of frame, padded to the minimum 60. */
	pkt_init(&p);
	pkt_eth(&p);
	pkt_ipv4(&p, 0);
	pkt_udp(&p, QUERY_SPORT, 53, 4);
	pkt_finish(&p);
	memset(pkt_append(&p, 60 - p.len), 0xee, 60 - 46);
	assert_int_equal(parse_copy(p.buf, p.len, &fr), DG_FRAME_OK);
	assert_int_equal(fr.dns_off, 42);
	assert_int_equal(fr.dns_len, 4);

	for (i = 0; i < ARRAY_SIZE(padded); i++) {
		build(&p, padded[i]);
		memset(pkt_append(&p, 4), 0xee, 4);
		assert_int_equal(parse_copy(p.buf, p.len, &fr), DG_FRAME_OK);
		check_query(padded[i], &p, &fr);
		assert_int_equal(fr.dns_off + fr.dns_len, p.len - 4);
	}
}

/* Test that every error has its own name and a bogus one is "unknown". */
static void test_err_names(void **state)
{
	int i, j;

	(void)state;
	for (i = 0; i < DG_FRAME_ERR_MAX; i++) {
		assert_non_null(dg_frame_err_name(i));
		assert_string_not_equal(dg_frame_err_name(i), "unknown");
		for (j = 0; j < i; j++)
			assert_string_not_equal(dg_frame_err_name(i),
						dg_frame_err_name(j));
	}
	assert_string_equal(dg_frame_err_name(DG_FRAME_TRUNCATED), "truncated");
	assert_string_equal(dg_frame_err_name(DG_FRAME_ERR_MAX), "unknown");
	assert_string_equal(dg_frame_err_name(-1), "unknown");
}

/* ---- replies ---- */

static uint8_t out[DG_FRAME_REPLY_HDR_MAX + 65536];
static uint8_t answer[65536];

/* RFC 1071 sum, adding each word with its end-around carry at once. */
static uint16_t ones_sum(uint16_t sum, const uint8_t *b, size_t n)
{
	uint32_t s = sum;
	size_t i;

	for (i = 0; i < n; i += 2) {
		s += (uint32_t)b[i] << 8 | (i + 1 < n ? b[i + 1] : 0);
		s = (s & 0xffff) + (s >> 16);
	}
	return (uint16_t)s;
}

/* Sum over the UDP pseudo-header and the whole UDP datagram at u, laid
 * out byte by byte as RFC 768 and RFC 8200 8.1 draw it. A correct
 * checksum makes it 0xffff. */
static uint16_t udp_sum(int family, const uint8_t *ip, const uint8_t *u)
{
	uint8_t ph[40] = { 0 };
	size_t ulen = (size_t)u[4] << 8 | u[5];

	if (family == 4) {
		memcpy(ph, ip + 12, 8);
		ph[9] = 17;
		ph[10] = u[4];
		ph[11] = u[5];
		return ones_sum(ones_sum(0, ph, 12), u, ulen);
	}
	memcpy(ph, ip + 8, 32);
	ph[34] = u[4];
	ph[35] = u[5];
	ph[39] = 17;
	return ones_sum(ones_sum(0, ph, 40), u, ulen);
}

/* Build the reply to a query of shape s carrying an alen-byte answer,
 * check every field from the wire, and parse it back. */
static void check_reply(enum shape s, size_t alen)
{
	struct dg_frame q, r;
	struct pkt p;
	size_t n, l3, ip_hlen, i;
	const uint8_t *h, *u;
	int fam = shapes[s].family;

	build(&p, s);
	assert_int_equal(parse_copy(p.buf, p.len, &q), DG_FRAME_OK);
	for (i = 0; i < alen; i++)
		answer[i] = pattern(i, 0x5a);
	memset(out, 0xcc, sizeof(out));
	n = dg_frame_reply(&q, q.src_mac, our_mac, answer, alen, out,
			   sizeof(out));
	l3 = 14 + 4 * (size_t)shapes[s].n_vlans;
	ip_hlen = fam == 4 ? 20 : 40;
	assert_int_equal(n, l3 + ip_hlen + 8 + alen);

	/* On the wire. */
	assert_memory_equal(out, pkt_mac_src, 6);
	assert_memory_equal(out + 6, our_mac, 6);
	for (i = 0; i < (size_t)shapes[s].n_vlans; i++) {
		assert_int_equal(out[12 + 4 * i] << 8 | out[13 + 4 * i],
				 shapes[s].tpid[i]);
		assert_int_equal(out[14 + 4 * i] << 8 | out[15 + 4 * i],
				 shapes[s].tci[i]);
	}
	assert_int_equal(out[l3 - 2] << 8 | out[l3 - 1],
			 fam == 4 ? 0x0800 : 0x86dd);
	h = out + l3;
	u = h + ip_hlen;
	if (fam == 4) {
		assert_int_equal(h[0], 0x45);
		assert_int_equal(h[1], REPLY_TOS);
		assert_int_equal(h[2] << 8 | h[3], n - l3);
		assert_int_equal(h[4] << 8 | h[5], 0);		/* ID */
		assert_int_equal(h[6] << 8 | h[7], 0x4000);	/* DF */
		assert_int_equal(h[8], 64);
		assert_int_equal(h[9], 17);
		assert_int_equal(ones_sum(0, h, 20), 0xffff);
	} else {
		assert_int_equal(h[0], 0x60 | REPLY_TOS >> 4);
		assert_int_equal(h[1], (REPLY_TOS & 0x0f) << 4); /* flow label 0 */
		assert_int_equal(h[2] | h[3], 0);
		assert_int_equal(h[4] << 8 | h[5], 8 + alen);
		assert_int_equal(h[6], 17);
		assert_int_equal(h[7], 64);
	}
	assert_memory_equal(h + (fam == 4 ? 12 : 8), query_daddr(fam),
			    fam == 4 ? 4 : 16);
	assert_memory_equal(h + (fam == 4 ? 16 : 24), query_saddr(fam),
			    fam == 4 ? 4 : 16);
	assert_int_equal(u[0] << 8 | u[1], 53);
	assert_int_equal(u[2] << 8 | u[3], QUERY_SPORT);
	assert_int_equal(u[4] << 8 | u[5], 8 + alen);
	assert_int_not_equal(u[6] << 8 | u[7], 0);
	assert_int_equal(udp_sum(fam, h, u), 0xffff);
	assert_memory_equal(u + 8, answer, alen);
	assert_int_equal(out[n], 0xcc);	/* nothing written past the end */

	/* And through the parser. */
	assert_int_equal(parse_copy(out, n, &r), DG_FRAME_OK);
	assert_memory_equal(r.dst_mac, q.src_mac, 6);
	assert_memory_equal(r.src_mac, our_mac, 6);
	assert_int_equal(r.n_vlans, q.n_vlans);
	for (i = 0; i < q.n_vlans; i++) {
		assert_int_equal(r.vlan_tpid[i], q.vlan_tpid[i]);
		assert_int_equal(r.vlan_tci[i], q.vlan_tci[i]);
	}
	assert_int_equal(r.family, q.family);
	assert_int_equal(r.tos, REPLY_TOS);
	assert_memory_equal(r.saddr, q.daddr, 16);
	assert_memory_equal(r.daddr, q.saddr, 16);
	assert_int_equal(r.sport, q.dport);
	assert_int_equal(r.dport, q.sport);
	assert_int_equal(r.dns_len, alen);
	assert_int_equal(r.dns_off + r.dns_len, n);
	assert_memory_equal(out + r.dns_off, answer, alen);
}

static const size_t answer_lens[] = { 0, 1, 29, 512, 1232 };

/* Test the IPv4 reply, to a plain query and to one with options (the
 * reply has none): addresses and ports swapped, DSCP kept, ID 0, DF,
 * TTL 64, both checksums right, for empty, odd and even answers. */
static void test_reply_ipv4(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(answer_lens); i++) {
		check_reply(S_V4, answer_lens[i]);
		check_reply(S_V4_OPTS, answer_lens[i]);
	}
}

/* Test the IPv6 reply, to a plain query and to one with extension
 * headers (the reply has none): traffic class kept, flow label 0, hop
 * limit 64, UDP checksum right. */
static void test_reply_ipv6(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(answer_lens); i++) {
		check_reply(S_V6, answer_lens[i]);
		check_reply(S_V6_EXT, answer_lens[i]);
	}
}

/* Test that replies keep the query's tags, TPIDs and TCIs (priority
 * included) in the same order: 802.1Q, QinQ, IPv6 in 802.1Q. */
static void test_reply_vlan(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(answer_lens); i++) {
		check_reply(S_V4_8021Q, answer_lens[i]);
		check_reply(S_V4_QINQ, answer_lens[i]);
		check_reply(S_V6_8021Q, answer_lens[i]);
	}
}

/* Test that a UDP checksum computing to 0 goes out as 0xffff (0 would
 * mean "none", which IPv6 forbids). The answer's last word is chosen to
 * make the sum come out 0xffff. */
static void test_reply_checksum_zero(void **state)
{
	static const enum shape fam[] = { S_V4, S_V6 };
	struct dg_frame q;
	struct pkt p;
	size_t n, l4;
	unsigned int i;
	uint16_t s, w;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(fam); i++) {
		build(&p, fam[i]);
		assert_int_equal(parse_copy(p.buf, p.len, &q), DG_FRAME_OK);
		l4 = 14 + (shapes[fam[i]].family == 4 ? 20 : 40);
		memset(answer, 0, 4);
		answer[0] = 0x12;
		n = dg_frame_reply(&q, q.src_mac, our_mac, answer, 4, out,
				   sizeof(out));
		assert_int_equal(n, l4 + 8 + 4);
		out[l4 + 6] = out[l4 + 7] = 0;
		s = udp_sum(shapes[fam[i]].family, out + 14, out + l4);
		w = 0xffff - s;
		answer[2] = w >> 8;
		answer[3] = w & 0xff;
		n = dg_frame_reply(&q, q.src_mac, our_mac, answer, 4, out,
				   sizeof(out));
		assert_int_equal(n, l4 + 8 + 4);
		assert_int_equal(out[l4 + 6] << 8 | out[l4 + 7], 0xffff);
		assert_int_equal(udp_sum(shapes[fam[i]].family, out + 14,
					 out + l4), 0xffff);
	}
}

/* Test the limits: a cap one byte short returns 0 and writes nothing, an
 * exact cap fits; the largest answer the IP length fields can carry fits
 * and one byte more does not, whatever the cap; a struct that did not
 * come from the parser gets nothing. */
static void test_reply_limits(void **state)
{
	struct dg_frame q, r, bad;
	struct pkt p;
	size_t n;

	(void)state;
	build(&p, S_V4_QINQ);
	assert_int_equal(parse_copy(p.buf, p.len, &q), DG_FRAME_OK);
	memset(answer, 0x42, 100);
	n = dg_frame_reply(&q, q.src_mac, our_mac, answer, 100, out, sizeof(out));
	assert_int_equal(n, 22 + 20 + 8 + 100);
	memset(out, 0xcc, n);
	assert_int_equal(dg_frame_reply(&q, q.src_mac, our_mac, answer, 100,
					out, n - 1), 0);
	assert_int_equal(out[0], 0xcc);
	assert_int_equal(dg_frame_reply(&q, q.src_mac, our_mac, answer, 100,
					out, 0), 0);
	assert_int_equal(dg_frame_reply(&q, q.src_mac, our_mac, answer, 100,
					out, n), n);

	/* IPv4 total length 65535: 65535 - 20 - 8 bytes of answer. */
	memset(answer, 0x42, sizeof(answer));
	n = dg_frame_reply(&q, q.src_mac, our_mac, answer, 65507, out,
			   sizeof(out));
	assert_int_equal(n, 22 + 65535);
	assert_int_equal(parse_copy(out, n, &r), DG_FRAME_OK);
	assert_int_equal(r.dns_len, 65507);
	assert_int_equal(dg_frame_reply(&q, q.src_mac, our_mac, answer, 65508,
					out, sizeof(out)), 0);

	/* IPv6 payload length 65535: 65535 - 8 bytes of answer. */
	build(&p, S_V6);
	assert_int_equal(parse_copy(p.buf, p.len, &q), DG_FRAME_OK);
	n = dg_frame_reply(&q, q.src_mac, our_mac, answer, 65527, out,
			   sizeof(out));
	assert_int_equal(n, 14 + 40 + 65535);
	assert_int_equal(parse_copy(out, n, &r), DG_FRAME_OK);
	assert_int_equal(r.dns_len, 65527);
	assert_int_equal(dg_frame_reply(&q, q.src_mac, our_mac, answer, 65528,
					out, sizeof(out)), 0);

	bad = q;
	bad.family = 0;
	assert_int_equal(dg_frame_reply(&bad, q.src_mac, our_mac, answer, 1,
					out, sizeof(out)), 0);
	bad = q;
	bad.n_vlans = DG_MAX_VLAN_DEPTH + 1;
	assert_int_equal(dg_frame_reply(&bad, q.src_mac, our_mac, answer, 1,
					out, sizeof(out)), 0);
}

/* Test that an answer built in the query's own frame (payload, MACs and
 * all read from the buffer being written) equals one built elsewhere,
 * whether the payload moves (options, extension headers) or not. */
static void test_reply_in_place(void **state)
{
	static const enum shape moved[] = { S_V4_OPTS, S_V6_EXT, S_V4_QINQ };
	static uint8_t frame[PKT_MAX + DG_FRAME_REPLY_HDR_MAX];
	struct dg_frame q;
	struct pkt p;
	size_t n, m;
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(moved); i++) {
		build(&p, moved[i]);
		assert_int_equal(parse_copy(p.buf, p.len, &q), DG_FRAME_OK);
		n = dg_frame_reply(&q, p.buf + 6, p.buf, p.buf + q.dns_off,
				   q.dns_len, out, sizeof(out));
		assert_int_not_equal(n, 0);
		memcpy(frame, p.buf, p.len);
		m = dg_frame_reply(&q, frame + 6, frame, frame + q.dns_off,
				   q.dns_len, frame, sizeof(frame));
		assert_int_equal(m, n);
		assert_memory_equal(frame, out, n);
		assert_memory_equal(frame, pkt_mac_src, 6);
		assert_memory_equal(frame + 6, pkt_mac_dst, 6);
	}
}

/* ---- fuzz seeds ---- */

static int write_seed(const char *dir, const char *name, const struct pkt *p)
{
	char path[4096];
	FILE *f;
	size_t ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	ok = fwrite(p->buf, 1, p->len, f);
	if (fclose(f) || ok != p->len) {
		fprintf(stderr, "%s: write failed\n", path);
		return -1;
	}
	return 0;
}

/* Every valid shape, a padded frame and a long extension chain. */
static int write_seeds(const char *dir)
{
	char name[64];
	struct pkt p;
	int s, err = 0;

	for (s = 0; s < S_MAX; s++) {
		build(&p, s);
		snprintf(name, sizeof(name), "udp-%s", shapes[s].name);
		err |= write_seed(dir, name, &p);
	}
	build(&p, S_V4);
	memset(pkt_append(&p, 4), 0xee, 4);
	err |= write_seed(dir, "udp-ipv4-padded", &p);
	build_ext_chain(&p, 8);
	err |= write_seed(dir, "udp-ipv6-8-exthdrs", &p);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_every_prefix_truncated),
		cmocka_unit_test(test_ipv4_length_lies),
		cmocka_unit_test(test_udp_length_lies),
		cmocka_unit_test(test_ipv6_length_lies),
		cmocka_unit_test(test_header_limits),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_not_ip_not_udp),
		cmocka_unit_test(test_ethernet_padding),
		cmocka_unit_test(test_err_names),
		cmocka_unit_test(test_reply_ipv4),
		cmocka_unit_test(test_reply_ipv6),
		cmocka_unit_test(test_reply_vlan),
		cmocka_unit_test(test_reply_checksum_zero),
		cmocka_unit_test(test_reply_limits),
		cmocka_unit_test(test_reply_in_place),
		cmocka_unit_test(test_fragment_fields),
		cmocka_unit_test(test_encapsulated),
		cmocka_unit_test(test_source_reflects),
	};

	if (argc == 3 && !strcmp(argv[1], "--write-seeds"))
		return write_seeds(argv[2]);
	if (argc != 1) {
		fprintf(stderr, "usage: %s [--write-seeds DIR]\n", argv[0]);
		return 2;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
