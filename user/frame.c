// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>

#include "frame.h"

#define ETH_HLEN 14
#define VLAN_HLEN 4
#define IP4_HLEN 20
#define IP6_HLEN 40
#define UDP_HLEN 8

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8

#define PROTO_UDP 17
#define IP6_HOPOPTS 0
#define IP6_ROUTING 43
#define IP6_FRAGMENT 44
#define IP6_DSTOPTS 60

#define IP4_DF 0x4000
#define IP4_MF 0x2000
#define IP4_OFFMASK 0x1fff
#define REPLY_TTL 64

#define DG_FRAME_ERR_NAME(sym, name) [DG_FRAME_##sym] = name,
static const char *const frame_err_names[] = { DG_FRAME_ERRS(DG_FRAME_ERR_NAME) };
#undef DG_FRAME_ERR_NAME

_Static_assert(sizeof(frame_err_names) / sizeof(frame_err_names[0]) ==
	       DG_FRAME_ERR_MAX, "a name for every frame error");

const char *dg_frame_err_name(enum dg_frame_err e)
{
	return (unsigned int)e < DG_FRAME_ERR_MAX ? frame_err_names[e] : "unknown";
}

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = v >> 8;
	b[1] = v & 0xff;
}

/*
 * The UDP header at f + off, inside an IP payload of n bytes (all present,
 * the caller checked). Bytes past the UDP length are ignored.
 */
static enum dg_frame_err frame_udp(const uint8_t *f, size_t off, size_t n,
				   struct dg_frame *fr)
{
	size_t ulen;

	if (n < UDP_HLEN)
		return DG_FRAME_BAD_LENGTH;
	ulen = get16(f + off + 4);
	if (ulen < UDP_HLEN || ulen > n)
		return DG_FRAME_BAD_LENGTH;
	fr->sport = get16(f + off);
	fr->dport = get16(f + off + 2);
	fr->dns_off = off + UDP_HLEN;
	fr->dns_len = ulen - UDP_HLEN;
	return DG_FRAME_OK;
}

/* IPv4 at f + off, with avail bytes left in the frame. */
static enum dg_frame_err frame_ipv4(const uint8_t *f, size_t off, size_t avail,
				    struct dg_frame *fr)
{
	const uint8_t *h = f + off;
	size_t hlen, tot;

	if (avail < IP4_HLEN)
		return DG_FRAME_TRUNCATED;
	if (h[0] >> 4 != 4)
		return DG_FRAME_NOT_IP;
	hlen = (size_t)(h[0] & 0x0f) * 4;
	if (hlen < IP4_HLEN)
		return DG_FRAME_BAD_LENGTH;
	if (hlen > avail)
		return DG_FRAME_TRUNCATED;
	tot = get16(h + 2);
	if (tot < hlen)
		return DG_FRAME_BAD_LENGTH;
	/* A frame shorter than its total length is indistinguishable from
	 * one cut short; longer is Ethernet padding. */
	if (tot > avail)
		return DG_FRAME_TRUNCATED;
	/* Fragments before the protocol: a later fragment has no UDP header. */
	if (get16(h + 6) & (IP4_MF | IP4_OFFMASK))
		return DG_FRAME_FRAGMENT;
	if (h[9] != PROTO_UDP)
		return DG_FRAME_NOT_UDP;
	fr->family = 4;
	fr->tos = h[1];
	memcpy(fr->saddr, h + 12, 4);
	memcpy(fr->daddr, h + 16, 4);
	return frame_udp(f, off + hlen, tot - hlen, fr);
}

/* IPv6 at f + off, with avail bytes left in the frame. */
static enum dg_frame_err frame_ipv6(const uint8_t *f, size_t off, size_t avail,
				    struct dg_frame *fr)
{
	const uint8_t *h = f + off;
	size_t end, hlen;
	uint8_t nh;
	int i;

	if (avail < IP6_HLEN)
		return DG_FRAME_TRUNCATED;
	if (h[0] >> 4 != 6)
		return DG_FRAME_NOT_IP;
	if (get16(h + 4) > avail - IP6_HLEN)
		return DG_FRAME_TRUNCATED;
	fr->family = 6;
	fr->tos = (uint8_t)((h[0] & 0x0f) << 4 | h[1] >> 4);
	memcpy(fr->saddr, h + 8, 16);
	memcpy(fr->daddr, h + 24, 16);
	nh = h[6];
	end = off + IP6_HLEN + get16(h + 4);
	off += IP6_HLEN;
	for (i = 0; i < DG_FRAME_MAX_EXTHDRS; i++) {
		if (nh != IP6_HOPOPTS && nh != IP6_ROUTING && nh != IP6_DSTOPTS)
			break;
		/* Every options and routing header is at least 8 bytes. */
		if (end - off < 8)
			return DG_FRAME_BAD_LENGTH;
		hlen = ((size_t)f[off + 1] + 1) * 8;
		if (hlen > end - off)
			return DG_FRAME_BAD_LENGTH;
		nh = f[off];
		off += hlen;
	}
	if (nh == IP6_HOPOPTS || nh == IP6_ROUTING || nh == IP6_DSTOPTS)
		return DG_FRAME_TOO_MANY_HDRS;
	if (nh == IP6_FRAGMENT)
		return DG_FRAME_FRAGMENT;
	if (nh != PROTO_UDP)
		return DG_FRAME_NOT_UDP;
	return frame_udp(f, off, end - off, fr);
}

enum dg_frame_err dg_frame_parse(const uint8_t *f, size_t len,
				 struct dg_frame *fr)
{
	size_t off = ETH_HLEN - 2;	/* at the EtherType */
	uint16_t type;

	memset(fr, 0, sizeof(*fr));
	if (len < ETH_HLEN)
		return DG_FRAME_TRUNCATED;
	memcpy(fr->dst_mac, f, 6);
	memcpy(fr->src_mac, f + 6, 6);
	type = get16(f + off);
	while (type == ETH_P_8021Q || type == ETH_P_8021AD) {
		if (fr->n_vlans == DG_FRAME_MAX_VLANS)
			return DG_FRAME_TOO_MANY_HDRS;
		/* The tag's TCI, then the next EtherType. */
		if (len - off < 2 + VLAN_HLEN)
			return DG_FRAME_TRUNCATED;
		fr->vlan_tpid[fr->n_vlans] = type;
		fr->vlan_tci[fr->n_vlans] = get16(f + off + 2);
		fr->n_vlans++;
		off += VLAN_HLEN;
		type = get16(f + off);
	}
	off += 2;
	if (type == ETH_P_IP)
		return frame_ipv4(f, off, len - off, fr);
	if (type == ETH_P_IPV6)
		return frame_ipv6(f, off, len - off, fr);
	return DG_FRAME_NOT_IP;
}

/* One's complement sum of n bytes as big-endian 16-bit words, the odd
 * last byte padded with zero (RFC 1071). */
static uint64_t csum_add(uint64_t sum, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += get16(b + i);
	if (n & 1)
		sum += (uint64_t)b[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

size_t dg_frame_reply(const struct dg_frame *q, const uint8_t dst_mac[6],
		      const uint8_t src_mac[6], const uint8_t *dns,
		      size_t dns_len, uint8_t *out, size_t cap)
{
	size_t alen, ip_hlen, l3, l4, hdr, ulen;
	uint8_t dst[6], src[6], tc;
	uint16_t csum;
	uint64_t sum;
	uint8_t *h, *u;
	unsigned int i;

	if (q->n_vlans > DG_FRAME_MAX_VLANS)
		return 0;
	if (q->family == 4) {
		alen = 4;
		ip_hlen = IP4_HLEN;
	} else if (q->family == 6) {
		alen = 16;
		ip_hlen = IP6_HLEN;
	} else {
		return 0;
	}
	/* IPv4 total length counts its header; IPv6 payload length does not. */
	if (dns_len > 0xffff - UDP_HLEN - (q->family == 4 ? IP4_HLEN : 0))
		return 0;
	l3 = ETH_HLEN + (size_t)VLAN_HLEN * q->n_vlans;
	l4 = l3 + ip_hlen;
	hdr = l4 + UDP_HLEN;
	if (hdr > cap || dns_len > cap - hdr)
		return 0;
	ulen = UDP_HLEN + dns_len;

	/* The payload and MACs may live in out (the query's own frame):
	 * take them before any header is written over them. */
	memcpy(dst, dst_mac, 6);
	memcpy(src, src_mac, 6);
	if (dns_len)
		memmove(out + hdr, dns, dns_len);

	memcpy(out, dst, 6);
	memcpy(out + 6, src, 6);
	for (i = 0; i < q->n_vlans; i++) {
		put16(out + 12 + i * VLAN_HLEN, q->vlan_tpid[i]);
		put16(out + 14 + i * VLAN_HLEN, q->vlan_tci[i]);
	}
	put16(out + l3 - 2, q->family == 4 ? ETH_P_IP : ETH_P_IPV6);

	/* DSCP only: echoing ECN would claim an ECN-capable transport, and
	 * echoing CE would report congestion nobody saw. */
	tc = q->tos & 0xfc;
	h = out + l3;
	memset(h, 0, ip_hlen);
	if (q->family == 4) {
		h[0] = 0x45;
		h[1] = tc;
		put16(h + 2, (uint16_t)(IP4_HLEN + ulen));
		put16(h + 6, IP4_DF);
		h[8] = REPLY_TTL;
		h[9] = PROTO_UDP;
		memcpy(h + 12, q->daddr, 4);
		memcpy(h + 16, q->saddr, 4);
		put16(h + 10, csum_fold(csum_add(0, h, IP4_HLEN)));
	} else {
		/* Traffic class straddles the version and flow label. */
		h[0] = 0x60 | tc >> 4;
		h[1] = (uint8_t)((tc & 0x0f) << 4);
		put16(h + 4, (uint16_t)ulen);
		h[6] = PROTO_UDP;
		h[7] = REPLY_TTL;
		memcpy(h + 8, q->daddr, 16);
		memcpy(h + 24, q->saddr, 16);
	}

	u = out + l4;
	put16(u, q->dport);
	put16(u + 2, q->sport);
	put16(u + 4, (uint16_t)ulen);
	put16(u + 6, 0);
	/* Pseudo-header: addresses, protocol, UDP length (RFC 768, 8200). */
	sum = csum_add(0, h + (q->family == 4 ? 12 : 8), 2 * alen);
	sum += PROTO_UDP + ulen;
	sum = csum_add(sum, u, ulen);
	/* 0 means "no checksum" on the wire (and is illegal in IPv6). */
	csum = csum_fold(sum);
	put16(u + 6, csum ? csum : 0xffff);
	return hdr + dns_len;
}
