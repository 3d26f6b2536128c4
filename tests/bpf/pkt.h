/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A tiny packet builder for the BPF tests, the fuzz seeds and the bench:
 * append headers in wire order, then pkt_finish() fills the length fields
 * and the IPv4 header checksum. Each header fills in the "next protocol"
 * field of the one before it (EtherType, IPv4 protocol, IPv6 next header),
 * and records where it ends (pkt_mark) so tests can cut the packet at every
 * header boundary. Addresses are TEST-NET only (RFC 5737, RFC 3849).
 * Transport checksums are left 0: nothing here verifies them.
 */
#ifndef DG_TEST_PKT_H
#define DG_TEST_PKT_H

#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#define PKT_MAX 512
#define PKT_MAX_MARKS 24

#define PKT_ETH_IP 0x0800
#define PKT_ETH_ARP 0x0806
#define PKT_ETH_IPV6 0x86DD
#define PKT_ETH_8021Q 0x8100
#define PKT_ETH_8021AD 0x88A8
#define PKT_ETH_QINQ1 0x9100
#define PKT_ETH_PPPOE 0x8864
#define PKT_ETH_MPLS 0x8847
#define PKT_PPP_IP 0x0021
#define PKT_PPP_IPV6 0x0057
#define PKT_PPP_LCP 0xc021

#define PKT_IP_ICMP 1
#define PKT_IP_TCP 6
#define PKT_IP_UDP 17
#define PKT_IP6_HOP 0
#define PKT_IP6_ROUTING 43
#define PKT_IP6_FRAG 44
#define PKT_IP6_AH 51
#define PKT_IP6_ICMP 58
#define PKT_IP6_DSTOPTS 60

/* One header boundary: the packet's length right after that header. */
struct pkt_mark {
	unsigned int end;
	const char *name;
};

struct pkt {
	__u8 buf[PKT_MAX];
	unsigned int len;
	unsigned int next_off;	/* previous header's next-protocol field */
	unsigned int next_size;	/* 2: EtherType, 1: IP protocol, 0: none */
	int l3_off;		/* last IP header, -1 = none */
	int l4_off;		/* UDP header, -1 = none */
	__u8 family;		/* 4 or 6 once an IP header is added */
	unsigned int nmarks;
	struct pkt_mark marks[PKT_MAX_MARKS];
};

static const __u8 pkt_mac_dst[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const __u8 pkt_mac_src[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const __u8 pkt_ip4_src[4] = { 192, 0, 2, 10 };
static const __u8 pkt_ip4_dst[4] = { 198, 51, 100, 53 };
static const __u8 pkt_ip6_src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x10 };
static const __u8 pkt_ip6_dst[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x53,
				      [15] = 0x53 };

static inline void pkt_put16(__u8 *b, __u16 v)
{
	b[0] = v >> 8;
	b[1] = v & 0xff;
}

static inline void pkt_put32(__u8 *b, __u32 v)
{
	pkt_put16(b, v >> 16);
	pkt_put16(b + 2, v & 0xffff);
}

static inline void pkt_init(struct pkt *p)
{
	memset(p, 0, sizeof(*p));
	p->l3_off = -1;
	p->l4_off = -1;
}

/* Append n zeroed bytes; returns where they start. A test packet never
 * needs PKT_MAX bytes, so overflowing it is a bug in the caller. */
static inline __u8 *pkt_append(struct pkt *p, unsigned int n)
{
	__u8 *at = p->buf + p->len;

	if (n > PKT_MAX - p->len)
		abort();
	memset(at, 0, n);
	p->len += n;
	return at;
}

static inline void pkt_mark(struct pkt *p, const char *name)
{
	if (p->nmarks < PKT_MAX_MARKS)
		p->marks[p->nmarks++] = (struct pkt_mark){ p->len, name };
}

/* Fill the previous header's next-protocol field. */
static inline void pkt_link(struct pkt *p, __u16 proto)
{
	if (p->next_size == 2)
		pkt_put16(p->buf + p->next_off, proto);
	else if (p->next_size == 1)
		p->buf[p->next_off] = proto;
}

/* Ethernet: MACs now, EtherType from whatever comes next. */
static inline void pkt_eth(struct pkt *p)
{
	__u8 *h = pkt_append(p, 14);

	memcpy(h, pkt_mac_dst, 6);
	memcpy(h + 6, pkt_mac_src, 6);
	p->next_off = 12;
	p->next_size = 2;
	pkt_mark(p, "eth");
}

/* One VLAN tag: tpid is 0x8100 (802.1Q), 0x88a8 (802.1ad) or 0x9100. */
static inline void pkt_vlan(struct pkt *p, __u16 tpid, __u16 vid)
{
	__u8 *h;

	pkt_link(p, tpid);
	h = pkt_append(p, 4);
	pkt_put16(h, vid & 0x0fff);
	p->next_off = h + 2 - p->buf;
	p->next_size = 2;
	pkt_mark(p, "vlan");
}

/*
 * A PPPoE session header (RFC 2516) and the PPP protocol field: 2 bytes,
 * or 1 with Protocol-Field-Compression (pfc). The IP header that follows
 * names nothing here: the PPP protocol says what it is.
 */
static inline void pkt_pppoe(struct pkt *p, __u16 ppp_proto, int pfc)
{
	__u8 *h;

	pkt_link(p, PKT_ETH_PPPOE);
	h = pkt_append(p, pfc ? 7 : 8);
	h[0] = 0x11;			/* version 1, type 1 */
	pkt_put16(h + 2, 0x1234);	/* session id */
	if (pfc)
		h[6] = ppp_proto & 0xff;
	else
		pkt_put16(h + 6, ppp_proto);
	p->next_size = 0;
	pkt_mark(p, "pppoe");
}

/* One MPLS label stack entry (RFC 3032); bos: the bottom of the stack.
 * Only the first names itself in the EtherType. */
static inline void pkt_mpls(struct pkt *p, __u32 label, int bos)
{
	__u8 *h;

	pkt_link(p, PKT_ETH_MPLS);
	h = pkt_append(p, 4);
	pkt_put32(h, label << 12 | (bos ? 0x100 : 0) | 64);
	p->next_size = 0;
	pkt_mark(p, "mpls");
}

/* Overwrite the Ethernet source MAC. */
static inline void pkt_src_mac(struct pkt *p, const __u8 mac[6])
{
	memcpy(p->buf + 6, mac, 6);
}

/* Overwrite the source address of the last IP header (call before
 * pkt_finish, which computes the IPv4 checksum). */
static inline void pkt_src_ip(struct pkt *p, const __u8 *addr)
{
	__u8 *h = p->buf + p->l3_off;

	if (p->family == 4)
		memcpy(h + 12, addr, 4);
	else
		memcpy(h + 8, addr, 16);
}

/* A non-IP payload of len bytes under EtherType type (ARP, ...). */
static inline void pkt_ethertype(struct pkt *p, __u16 type, unsigned int len)
{
	pkt_link(p, type);
	pkt_append(p, len);
	p->next_size = 0;
}

/* ARP request for 198.51.100.53 (RFC 826), Ethernet + IPv4. */
static inline void pkt_arp(struct pkt *p)
{
	__u8 *h;

	pkt_link(p, PKT_ETH_ARP);
	h = pkt_append(p, 28);
	pkt_put16(h, 1);
	pkt_put16(h + 2, PKT_ETH_IP);
	h[4] = 6;
	h[5] = 4;
	pkt_put16(h + 6, 1);
	memcpy(h + 8, pkt_mac_src, 6);
	memcpy(h + 14, pkt_ip4_src, 4);
	memcpy(h + 24, pkt_ip4_dst, 4);
	p->next_size = 0;
	pkt_mark(p, "arp");
}

/* IPv4, 192.0.2.10 -> 198.51.100.53, with optlen bytes of options
 * (NOPs; a multiple of 4, at most 40). */
static inline void pkt_ipv4(struct pkt *p, unsigned int optlen)
{
	__u8 *h;

	pkt_link(p, PKT_ETH_IP);
	p->l3_off = p->len;
	p->family = 4;
	h = pkt_append(p, 20 + optlen);
	h[0] = 0x40 | ((20 + optlen) / 4);
	h[8] = 64;
	memcpy(h + 12, pkt_ip4_src, 4);
	memcpy(h + 16, pkt_ip4_dst, 4);
	memset(h + 20, 1, optlen);
	p->next_off = p->l3_off + 9;
	p->next_size = 1;
	pkt_mark(p, optlen ? "ipv4+options" : "ipv4");
}

/* Make the last IPv4 header a fragment: id, More Fragments, offset in
 * 8-byte units. */
static inline void pkt_ipv4_frag(struct pkt *p, __u16 id, int mf, __u16 off)
{
	__u8 *h = p->buf + p->l3_off;

	pkt_put16(h + 4, id);
	pkt_put16(h + 6, (mf ? 0x2000 : 0) | (off & 0x1fff));
}

/* Overwrite the IHL of the last IPv4 header (malformed-header tests). */
static inline void pkt_ipv4_ihl(struct pkt *p, __u8 ihl)
{
	__u8 *h = p->buf + p->l3_off;

	h[0] = (h[0] & 0xf0) | (ihl & 0x0f);
}

/* Overwrite the version nibble of the last IP header. */
static inline void pkt_ip_version(struct pkt *p, __u8 version)
{
	__u8 *h = p->buf + p->l3_off;

	h[0] = (version << 4) | (h[0] & 0x0f);
}

/* IPv6, 2001:db8::10 -> 2001:db8:53::53. */
static inline void pkt_ipv6(struct pkt *p)
{
	__u8 *h;

	pkt_link(p, PKT_ETH_IPV6);
	p->l3_off = p->len;
	p->family = 6;
	h = pkt_append(p, 40);
	h[0] = 0x60;
	h[7] = 64;
	memcpy(h + 8, pkt_ip6_src, 16);
	memcpy(h + 24, pkt_ip6_dst, 16);
	p->next_off = p->l3_off + 6;
	p->next_size = 1;
	pkt_mark(p, "ipv6");
}

/*
 * An IPv6 extension header of len bytes: hop-by-hop or destination
 * options (padded with one PadN option), routing (type 253, RFC 4727,
 * segments left 0) or AH. len is a multiple of 8, at least 8 (AH: 16+).
 * Hdr Ext Len counts 8-byte units minus 1, for AH 4-byte units minus 2.
 */
static inline void pkt_ext6(struct pkt *p, __u8 type, unsigned int len)
{
	unsigned int at = p->len;
	__u8 *h;

	pkt_link(p, type);
	h = pkt_append(p, len);
	h[1] = type == PKT_IP6_AH ? len / 4 - 2 : len / 8 - 1;
	if (type == PKT_IP6_HOP || type == PKT_IP6_DSTOPTS) {
		h[2] = 1;
		h[3] = len - 4;
	} else if (type == PKT_IP6_ROUTING) {
		h[2] = 253;
	} else if (type == PKT_IP6_AH) {
		pkt_put32(h + 4, 0x100);	/* SPI */
		pkt_put32(h + 8, 1);		/* sequence number */
	}
	p->next_off = at;
	p->next_size = 1;
	pkt_mark(p, type == PKT_IP6_HOP	    ? "hop-by-hop" :
		    type == PKT_IP6_ROUTING ? "routing" :
		    type == PKT_IP6_AH	    ? "ah" :
					      "dstopts");
}

/* IPv6 fragment header (RFC 8200 4.5): offset in 8-byte units, M, id. */
static inline void pkt_frag6(struct pkt *p, __u32 id, int more, __u16 off)
{
	unsigned int at = p->len;
	__u8 *h;

	pkt_link(p, PKT_IP6_FRAG);
	h = pkt_append(p, 8);
	pkt_put16(h + 2, (off << 3) | (more ? 1 : 0));
	pkt_put32(h + 4, id);
	p->next_off = at;
	p->next_size = 1;
	pkt_mark(p, "fragment");
}

/* UDP with paylen bytes of payload ('q's: not DNS, not needed). */
static inline void pkt_udp(struct pkt *p, __u16 sport, __u16 dport,
			   unsigned int paylen)
{
	__u8 *h;

	pkt_link(p, PKT_IP_UDP);
	p->l4_off = p->len;
	h = pkt_append(p, 8);
	pkt_put16(h, sport);
	pkt_put16(h + 2, dport);
	p->next_size = 0;
	pkt_mark(p, "udp");
	memset(pkt_append(p, paylen), 'q', paylen);
}

/* TCP, 20-byte header with ACK|PSH (syn: SYN alone), paylen bytes of
 * payload. */
static inline void pkt_tcp_flags(struct pkt *p, __u16 sport, __u16 dport,
				 unsigned int paylen, int syn)
{
	__u8 *h;

	pkt_link(p, PKT_IP_TCP);
	h = pkt_append(p, 20);
	pkt_put16(h, sport);
	pkt_put16(h + 2, dport);
	pkt_put32(h + 4, 1);
	pkt_put32(h + 8, 1);
	h[12] = 5 << 4;
	h[13] = syn ? 0x02 : 0x18;
	pkt_put16(h + 14, 65535);
	p->next_size = 0;
	pkt_mark(p, "tcp");
	memset(pkt_append(p, paylen), 't', paylen);
}

static inline void pkt_tcp(struct pkt *p, __u16 sport, __u16 dport,
			   unsigned int paylen)
{
	pkt_tcp_flags(p, sport, dport, paylen, 0);
}

/* ICMP (IPv4) or ICMPv6 echo request, after whichever IP header. */
static inline void pkt_icmp_echo(struct pkt *p)
{
	__u8 *h;

	pkt_link(p, p->family == 6 ? PKT_IP6_ICMP : PKT_IP_ICMP);
	h = pkt_append(p, 8);
	h[0] = p->family == 6 ? 128 : 8;
	pkt_put16(h + 4, 1);
	pkt_put16(h + 6, 1);
	p->next_size = 0;
	pkt_mark(p, p->family == 6 ? "icmpv6" : "icmp");
}

/* len bytes of opaque data under protocol proto: a later fragment's
 * payload, or a transport nobody parses. */
static inline void pkt_payload(struct pkt *p, __u8 proto, unsigned int len)
{
	pkt_link(p, proto);
	memset(pkt_append(p, len), 'p', len);
	p->next_size = 0;
}

static inline __u16 pkt_csum(const __u8 *b, unsigned int n)
{
	__u32 sum = 0;
	unsigned int i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (b[i] << 8) | b[i + 1];
	if (n & 1)
		sum += b[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/*
 * Fill the length fields (IPv4 total length and header checksum, IPv6
 * payload length, UDP length) from the bytes appended so far. Call once,
 * after the last header and before pkt_trunc().
 */
static inline void pkt_finish(struct pkt *p)
{
	__u8 *h = p->buf + p->l3_off;
	unsigned int ihl;

	if (p->l4_off >= 0)
		pkt_put16(p->buf + p->l4_off + 4, p->len - p->l4_off);
	if (p->family == 4) {
		ihl = (h[0] & 0x0f) * 4;
		pkt_put16(h + 2, p->len - p->l3_off);
		pkt_put16(h + 10, 0);
		if (ihl >= 20 && p->l3_off + ihl <= p->len)
			pkt_put16(h + 10, pkt_csum(h, ihl));
	} else if (p->family == 6) {
		pkt_put16(h + 4, p->len - p->l3_off - 40);
	}
}

/* Cut the packet to n bytes (keeps the length fields of the whole one). */
static inline void pkt_trunc(struct pkt *p, unsigned int n)
{
	if (n < p->len)
		p->len = n;
}

#endif /* DG_TEST_PKT_H */
