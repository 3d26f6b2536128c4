// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for the BPF packet parsers (bpf/parse.h, classify.h),
 * compiled for the host through user/parse_host.h. Each input is classified as
 * an Ethernet frame and as an L3-only packet, from a heap copy ending
 * exactly at its end so ASan sees any read past it, and checked against a
 * plain reference walk written from the reasons' definitions:
 *  - the reason is in range and is the reference's;
 *  - a DNS reason only where the bytes hold a whole UDP/TCP header with
 *    destination port 53 where the reference finds the transport;
 *  - family agrees with the reason, and a fragment key with the family.
 *
 * Seeds: tests/fuzz/corpus/fuzz_parse (written by test_guard --write-seeds).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_host.h"

#define CHECK(cond, l3, why) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_parse: l3_only=%d: %s (%s)\n",	\
			(l3), (why), #cond);				\
		abort();						\
	}								\
} while (0)

/* What the reference walk found. */
struct ref {
	int reason;
	int family;		/* 4, 6 or 0 */
	size_t l4off;		/* transport header offset, for DNS reasons */
	int l4proto;
	int encap;		/* inside PPPoE or MPLS */
};

static unsigned int be16(const uint8_t *b)
{
	return b[0] << 8 | b[1];
}

static int is_vlan(unsigned int type)
{
	return type == 0x8100 || type == 0x88a8 || type == 0x9100;
}

static int is_opts6(int nh)
{
	return nh == 0 || nh == 43 || nh == 60;
}

/* The spec of abi.h: options headers, one fragment header, one AH,
 * options headers; each header needs 8 bytes present to be read and the
 * chain may span at most DG_MAX_EXTCHAIN bytes. */
static int ref_opts6(const uint8_t *d, size_t n, size_t base, size_t *rel,
		     int nh, int max)
{
	int i;

	for (i = 0; i < max && is_opts6(nh); i++) {
		if (*rel > DG_MAX_EXTCHAIN)
			return -DG_R_LIMIT_EXTHDR;
		if (n < base + *rel + 8)
			return -DG_R_TRUNCATED;
		nh = d[base + *rel];
		*rel += (d[base + *rel + 1] + 1) * 8;
	}
	return nh;
}

/* The transport at off: DNS if a whole header says port 53. */
static int ref_l4(const uint8_t *d, size_t n, size_t off, struct ref *r)
{
	size_t hlen = r->l4proto == 17 ? 8 : r->l4proto == 6 ? 20 : 0;

	if (!hlen)
		return DG_R_NON_DNS;
	if (n < off + hlen)
		return DG_R_TRUNCATED;
	if (be16(d + off + 2) != 53)
		return DG_R_NON_DNS;
	r->l4off = off;
	if (r->encap)
		return DG_R_DNS_ENCAP;
	if (r->l4proto == 17)
		return r->family == 4 ? DG_R_DNS_UDP4 : DG_R_DNS_UDP6;
	return r->family == 4 ? DG_R_DNS_TCP4 : DG_R_DNS_TCP6;
}

static int ref_ipv4(const uint8_t *d, size_t n, size_t off, struct ref *r)
{
	size_t ihl;

	r->family = 4;
	if (n < off + 20)
		return DG_R_TRUNCATED;
	ihl = (d[off] & 0x0f) * 4;
	if (d[off] >> 4 != 4 || ihl < 20)
		return DG_R_MALFORMED;
	if (n < off + ihl)
		return DG_R_TRUNCATED;
	r->l4proto = d[off + 9];
	if (be16(d + off + 6) & 0x1fff)		/* a later fragment */
		return DG_R_FRAGMENT_OTHER;
	return ref_l4(d, n, off + ihl, r);
}

static int ref_ipv6(const uint8_t *d, size_t n, size_t off, struct ref *r)
{
	size_t base, rel = 0;
	int nh;

	r->family = 6;
	if (n < off + 40)
		return DG_R_TRUNCATED;
	if (d[off] >> 4 != 6)
		return DG_R_MALFORMED;
	base = off + 40;
	nh = ref_opts6(d, n, base, &rel, d[off + 6], DG_IPV6_OPTS_BEFORE);
	if (nh < 0)
		return -nh;
	if (nh == 44) {
		if (rel > DG_MAX_EXTCHAIN)
			return DG_R_LIMIT_EXTHDR;
		if (n < base + rel + 8)
			return DG_R_TRUNCATED;
		nh = d[base + rel];
		if (be16(d + base + rel + 2) & 0xfff8)	/* a later fragment */
			return DG_R_FRAGMENT_OTHER;
		rel += 8;
	}
	if (nh == 51) {
		if (rel > DG_MAX_EXTCHAIN)
			return DG_R_LIMIT_EXTHDR;
		if (n < base + rel + 8)
			return DG_R_TRUNCATED;
		nh = d[base + rel];
		/* 4-byte units minus 2 (RFC 4302) */
		rel += (d[base + rel + 1] + 2) * 4;
	}
	nh = ref_opts6(d, n, base, &rel, nh, DG_IPV6_OPTS_AFTER);
	if (nh < 0)
		return -nh;
	if (is_opts6(nh) || nh == 44 || nh == 51 || rel > DG_MAX_EXTCHAIN)
		return DG_R_LIMIT_EXTHDR;
	r->l4proto = nh;
	return ref_l4(d, n, base + rel, r);
}

static int ref_classify(const uint8_t *d, size_t n, int l3, struct ref *r)
{
	unsigned int type;
	size_t off = 0;
	int i;

	memset(r, 0, sizeof(*r));
	if (l3) {
		if (n < 1)
			return DG_R_RUNT;
		type = d[0] >> 4 == 6 ? 0x86dd : 0x0800;
	} else {
		if (n < 14)
			return DG_R_RUNT;
		type = be16(d + 12);
		off = 14;
		for (i = 0; i < DG_MAX_VLAN_DEPTH && is_vlan(type); i++) {
			if (n < off + 4)
				return DG_R_TRUNCATED;
			type = be16(d + off + 2);
			off += 4;
		}
		if (is_vlan(type))
			return DG_R_LIMIT_VLAN;
		if (type == 0x8864) {		/* PPPoE session, RFC 2516 */
			r->encap = 1;
			if (n < off + 7)
				return DG_R_TRUNCATED;
			if (d[off + 6] & 1) {	/* compressed protocol */
				type = d[off + 6];
				off += 7;
			} else {
				if (n < off + 8)
					return DG_R_TRUNCATED;
				type = be16(d + off + 6);
				off += 8;
			}
			type = type == 0x21 ? 0x0800 : type == 0x57 ? 0x86dd : 0;
		} else if (type == 0x8847 || type == 0x8848) {	/* MPLS */
			r->encap = 1;
			for (i = 0;; i++) {
				if (i == DG_MAX_MPLS_LABELS)
					return DG_R_LIMIT_MPLS;
				if (n < off + 4)
					return DG_R_TRUNCATED;
				off += 4;
				if (d[off - 2] & 1)
					break;
			}
			if (n < off + 1)
				return DG_R_TRUNCATED;
			type = d[off] >> 4 == 4 ? 0x0800 : d[off] >> 4 == 6 ? 0x86dd : 0;
		}
	}
	if (type == 0x0800)
		return ref_ipv4(d, n, off, r);
	if (type == 0x86dd)
		return ref_ipv6(d, n, off, r);
	return DG_R_NON_IP;
}

static void check_one(const uint8_t *buf, size_t size, int l3)
{
	struct dg_pkt p;
	struct ref r;
	int reason, want;

	memset(&p, 0xa5, sizeof(p));	/* dg_pkt_init must reset what is read */
	dg_pkt_init(&p);
	reason = dg_classify((void *)buf, (void *)(buf + size), l3, &p);
	want = ref_classify(buf, size, l3, &r);

	CHECK(reason >= 0 && reason < DG_REASON_MAX, l3, "reason out of range");
	CHECK((__u32)reason == p.reason, l3, "return value and p->reason differ");
	if (reason != want)
		fprintf(stderr, "fuzz_parse: l3_only=%d: reason %d, reference %d\n",
			l3, reason, want);
	CHECK(reason == want, l3, "reason differs from the reference walk");

	if (dg_reason_is_dns(reason) || reason == DG_R_DNS_ENCAP) {
		CHECK(r.l4off + (r.l4proto == 6 ? 20 : 8) <= size, l3,
		      "DNS reason without a whole transport header");
		CHECK(be16(buf + r.l4off + 2) == 53, l3,
		      "DNS reason without destination port 53");
		CHECK(p.l4proto == r.l4proto, l3, "transport differs");
		CHECK(reason == DG_R_DNS_ENCAP ||
		      p.family == ((reason == DG_R_DNS_UDP4 ||
				    reason == DG_R_DNS_TCP4) ? 4 : 6),
		      l3, "family differs from the DNS reason");
		CHECK(p.l4_off == r.l4off, l3, "transport offset differs");
		CHECK(reason == DG_R_DNS_ENCAP ||
		      (reason == DG_R_DNS_UDP4 || reason == DG_R_DNS_UDP6) ==
			      (p.l4proto == 17), l3, "UDP reason without UDP");
		CHECK((reason == DG_R_DNS_ENCAP) == (p.encap != DG_ENCAP_NONE),
		      l3, "dns-encap exactly for DNS inside PPPoE or MPLS");
	}
	if (reason == DG_R_NON_IP || reason == DG_R_RUNT ||
	    reason == DG_R_LIMIT_VLAN || reason == DG_R_LIMIT_MPLS)
		CHECK(p.family == 0, l3, "family set without an IP header");
	if (reason == DG_R_MALFORMED || reason == DG_R_LIMIT_EXTHDR ||
	    reason == DG_R_FRAGMENT_OTHER || reason == DG_R_NON_DNS)
		CHECK(p.family == r.family && p.family != 0, l3,
		      "family differs after an IP header");
	if (reason == DG_R_FRAGMENT_OTHER)
		CHECK(p.frag == DG_FRAG_LATER, l3, "fragment-other, not a later fragment");
	if (p.frag != DG_FRAG_NONE)
		CHECK(p.fkey.family == p.family, l3, "fragment key family");
	CHECK(reason != DG_R_FRAGMENT && reason != DG_R_OWN_SOCKET &&
	      reason != DG_R_BAD_SOURCE, l3, "reason only guard.h may give");
	CHECK(p.l3_off <= DG_MAX_HDR_OFF && p.l4_off <= DG_MAX_HDR_OFF, l3,
	      "a header offset past DG_MAX_HDR_OFF");
}

/*
 * Classify a heap copy of exactly size bytes: one byte more is an ASan
 * report. An Ethernet frame starts 2 bytes into its allocation so the IP
 * header behind it is 4-byte aligned, as the kernel's NET_IP_ALIGN
 * arranges and as struct iphdr wants on the host (BPF does not care);
 * the parsers only read forward, so the 2 bytes hide nothing.
 */
static void run(const uint8_t *data, size_t size, int l3)
{
	size_t pad = l3 ? 0 : 2;
	uint8_t *buf = malloc(pad + size + !(pad + size));

	if (!buf)
		return;
	memcpy(buf + pad, data, size);
	check_one(buf + pad, size, l3);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run(data, size, 0);
	run(data, size, 1);
	return 0;
}
