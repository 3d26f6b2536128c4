// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>

#include "frame.h"
#include "parse_host.h"

#define ETH_HLEN 14
#define VLAN_HLEN 4
#define IP4_HLEN 20
#define IP6_HLEN 40
#define UDP_HLEN 8

#define PROTO_UDP 17

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

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)get16(b) << 16 | get16(b + 2);
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = v >> 8;
	b[1] = v & 0xff;
}

/* Why the link layer could not be read, as a frame error. */
static enum dg_frame_err frame_l2_err(const struct dg_pkt *p)
{
	switch (p->reason) {
	case DG_R_NON_IP:
		return DG_FRAME_NOT_IP;
	case DG_R_LIMIT_VLAN:
	case DG_R_LIMIT_MPLS:
		return DG_FRAME_TOO_MANY_HDRS;
	default:
		return DG_FRAME_TRUNCATED;
	}
}

/*
 * The IP header at l3 against the frame's len bytes: its version, and its
 * length fields, which must fit the frame. Sets *iplen to the IP packet's
 * length (what follows it is Ethernet padding).
 */
static enum dg_frame_err frame_ip_len(const uint8_t *f, size_t len, size_t l3,
				      int family, size_t *iplen)
{
	const uint8_t *h = f + l3;
	size_t avail = len - l3, hlen;

	if (avail < (family == 4 ? IP4_HLEN : IP6_HLEN))
		return DG_FRAME_TRUNCATED;
	if (h[0] >> 4 != family)
		return DG_FRAME_NOT_IP;
	if (family == 6) {
		*iplen = IP6_HLEN + get16(h + 4);
		return *iplen > avail ? DG_FRAME_TRUNCATED : DG_FRAME_OK;
	}
	hlen = (size_t)(h[0] & 0x0f) * 4;
	if (hlen < IP4_HLEN)
		return DG_FRAME_BAD_LENGTH;
	if (hlen > avail)
		return DG_FRAME_TRUNCATED;
	*iplen = get16(h + 2);
	if (*iplen < hlen)
		return DG_FRAME_BAD_LENGTH;
	/* A frame shorter than its total length is indistinguishable from
	 * one cut short. */
	return *iplen > avail ? DG_FRAME_TRUNCATED : DG_FRAME_OK;
}

/* A fragment's place in its datagram, for the reassembler. */
static enum dg_frame_err frame_fragment(const uint8_t *f, const struct dg_pkt *p,
					size_t ipend, struct dg_frame *fr)
{
	const uint8_t *h = f + p->l3_off, *fh;
	uint16_t fo;

	fr->l3_off = p->l3_off;
	if (p->family == 4) {
		fo = get16(h + 6);
		fr->frag_id = get16(h + 4);
		fr->frag_off = (uint32_t)(fo & IP4_OFFMASK) * 8;
		fr->frag_more = !!(fo & IP4_MF);
		fr->frag_proto = h[9];
		fr->data_off = p->l3_off + (size_t)(h[0] & 0x0f) * 4;
	} else {
		fh = f + p->frag_hdr_off;
		fo = get16(fh + 2);
		fr->frag_hdr_off = p->frag_hdr_off;
		fr->frag_id = get32(fh + 4);
		fr->frag_off = fo & 0xfff8;
		fr->frag_more = fo & 1;
		fr->frag_proto = fh[0];
		fr->data_off = p->frag_hdr_off + 8;
	}
	if (fr->data_off > ipend)
		return DG_FRAME_BAD_LENGTH;
	fr->data_len = ipend - fr->data_off;
	return DG_FRAME_FRAGMENT;
}

/* The UDP header at off, inside an IP packet ending at ipend. Bytes past
 * the UDP length are ignored. */
static enum dg_frame_err frame_udp(const uint8_t *f, size_t off, size_t ipend,
				   struct dg_frame *fr)
{
	size_t ulen;

	if (ipend - off < UDP_HLEN)
		return DG_FRAME_BAD_LENGTH;
	ulen = get16(f + off + 4);
	if (ulen < UDP_HLEN || ulen > ipend - off)
		return DG_FRAME_BAD_LENGTH;
	fr->sport = get16(f + off);
	fr->dport = get16(f + off + 2);
	fr->dns_off = off + UDP_HLEN;
	fr->dns_len = ulen - UDP_HLEN;
	return DG_FRAME_OK;
}

enum dg_frame_err dg_frame_parse(const uint8_t *f, size_t len,
				 struct dg_frame *fr)
{
	/* The parser reads, never writes; it takes void * as BPF does. */
	void *data = (void *)f;
	enum dg_frame_err e;
	struct dg_pkt p;
	size_t iplen, ipend, i;

	memset(fr, 0, sizeof(*fr));
	if (len < ETH_HLEN)
		return DG_FRAME_TRUNCATED;
	memcpy(fr->dst_mac, f, 6);
	memcpy(fr->src_mac, f + 6, 6);

	dg_pkt_init(&p);
	if (dg_classify_l2(data, data + len, 0, &p))
		return frame_l2_err(&p);
	if (p.encap != DG_ENCAP_NONE)
		return DG_FRAME_ENCAP;
	fr->n_vlans = p.n_vlans;
	for (i = 0; i < p.n_vlans; i++) {
		fr->vlan_tpid[i] = get16(f + 12 + i * VLAN_HLEN);
		fr->vlan_tci[i] = get16(f + 14 + i * VLAN_HLEN);
	}
	fr->family = p.family;
	e = frame_ip_len(f, len, p.l3_off, p.family, &iplen);
	if (e != DG_FRAME_OK)
		return e;
	ipend = p.l3_off + iplen;
	if (p.family == 4) {
		fr->tos = f[p.l3_off + 1];
		memcpy(fr->saddr, f + p.l3_off + 12, 4);
		memcpy(fr->daddr, f + p.l3_off + 16, 4);
	} else {
		fr->tos = (uint8_t)((f[p.l3_off] & 0x0f) << 4 | f[p.l3_off + 1] >> 4);
		memcpy(fr->saddr, f + p.l3_off + 8, 16);
		memcpy(fr->daddr, f + p.l3_off + 24, 16);
	}

	/* The rest within the IP packet's own length: a header that runs
	 * past it is a length lie, not a short frame. */
	dg_classify_l3(data, data + ipend, &p);
	if (p.frag != DG_FRAG_NONE)
		return frame_fragment(f, &p, ipend, fr);
	switch (p.reason) {
	case DG_R_DNS_UDP4:
	case DG_R_DNS_UDP6:
		break;
	case DG_R_NON_DNS:
		if (p.l4proto == PROTO_UDP)
			break;
		return DG_FRAME_NOT_UDP;
	case DG_R_DNS_TCP4:
	case DG_R_DNS_TCP6:
		return DG_FRAME_NOT_UDP;
	case DG_R_LIMIT_EXTHDR:
		return DG_FRAME_TOO_MANY_HDRS;
	default:
		return DG_FRAME_BAD_LENGTH;
	}
	return frame_udp(f, p.l4_off, ipend, fr);
}

bool dg_frame_source_reflects(const struct dg_frame *fr)
{
	static const uint8_t zero[16];

	if (fr->src_mac[0] & 1)
		return true;
	if (fr->family == 4)
		return fr->saddr[0] == 0 || fr->saddr[0] >= 224;
	return fr->saddr[0] == 0xff || !memcmp(fr->saddr, zero, 16);
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

	if (q->n_vlans > DG_MAX_VLAN_DEPTH)
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
	put16(out + l3 - 2, q->family == 4 ? DG_ETH_P_IP : DG_ETH_P_IPV6);

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
