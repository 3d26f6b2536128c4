/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Bounded packet parsers shared by every guard program (and compiled for
 * the host by the fuzz target). Each helper reads one header at the cursor,
 * checks it fits before touching it, advances the cursor past it, and
 * returns the next protocol (>= 0) or -DG_R_<reason> (< 0).
 *
 * Byte order: every returned protocol or port is in HOST order; fields
 * copied into struct dg_frag_key stay in NETWORK order (see abi.h).
 *
 * The includer provides the kernel header types (vmlinux.h in BPF,
 * linux headers on the host), bpf_ntohs() and __always_inline.
 */
#ifndef DOTGUARD_PARSE_H
#define DOTGUARD_PARSE_H

#include "dotguard/abi.h"

#define DG_ETH_P_IP 0x0800
#define DG_ETH_P_IPV6 0x86DD
#define DG_ETH_P_8021Q 0x8100
#define DG_ETH_P_8021AD 0x88A8
#define DG_ETH_P_QINQ1 0x9100	/* pre-802.1ad QinQ TPID, still in use */
#define DG_ETH_P_PPPOE_SES 0x8864
#define DG_ETH_P_MPLS_UC 0x8847
#define DG_ETH_P_MPLS_MC 0x8848
#define DG_PPP_IP 0x0021
#define DG_PPP_IPV6 0x0057

#define DG_IPPROTO_HOPOPTS 0
#define DG_IPPROTO_TCP 6
#define DG_IPPROTO_UDP 17
#define DG_IPPROTO_ROUTING 43
#define DG_IPPROTO_FRAGMENT 44
#define DG_IPPROTO_AH 51
#define DG_IPPROTO_DSTOPTS 60

#define DG_IP_MF 0x2000
#define DG_IP_OFFSET 0x1FFF
#define DG_IP6_OFFSET 0xFFF8
#define DG_IP6_MF 0x0001

enum dg_frag { DG_FRAG_NONE = 0, DG_FRAG_FIRST, DG_FRAG_LATER };
/* What carries the IP packet besides Ethernet and VLAN tags. */
enum dg_encap { DG_ENCAP_NONE = 0, DG_ENCAP_PPPOE, DG_ENCAP_MPLS };

struct dg_cursor {
	void *pos;
	void *end;
	void *start;		/* the frame's first byte: offsets count from here */
};

/*
 * What the parsers learned about one packet. Offsets count bytes from the
 * frame's first byte (the IP header for l3_only devices); each is set once
 * its header has been seen whole, so a reader that re-checks it against
 * the end may use it: steering reads the TCP tuple, the daemon's frame
 * code the addresses and the UDP payload, through the same walk.
 */
struct dg_pkt {
	__u32 reason;		/* enum dg_reason */
	__u8 family;		/* 4, 6, or 0 before the IP header */
	__u8 l4proto;		/* IPPROTO_* of the transport, once known */
	__u8 frag;		/* enum dg_frag */
	__u8 encap;		/* enum dg_encap */
	__u16 l3_off;		/* the IP header */
	__u16 l4_off;		/* the transport header; a later fragment:
				 * the first byte after its fragment header */
	__u16 frag_hdr_off;	/* IPv6 fragment header, 0 when none */
	__u8 n_vlans;		/* VLAN tags walked */
	__u8 _pad;
	struct dg_frag_key fkey; /* filled only when frag != DG_FRAG_NONE */
};

/* Reset what every parse reads; fkey is written before it is read (only
 * when frag is set), so the hot path need not clear its 40 bytes. */
static __always_inline void dg_pkt_init(struct dg_pkt *p)
{
	p->reason = 0;
	p->family = 0;
	p->l4proto = 0;
	p->frag = DG_FRAG_NONE;
	p->encap = DG_ENCAP_NONE;
	p->l3_off = 0;
	p->l4_off = 0;
	p->frag_hdr_off = 0;
	p->n_vlans = 0;
	p->_pad = 0;
}

struct dg_vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

struct dg_ipv6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;	/* offset << 3 | M */
	__be32 id;
};

/*
 * The header types the parsers read through. In BPF, where the kernel put
 * the frame decides and any alignment is fine. The host (the fuzz target,
 * the daemon's frame code) says DG_PARSE_HOST: there a header may sit at
 * any offset (PPPoE with a one-byte protocol field puts IP at an odd one),
 * so the types are declared 1-aligned and the compiler reads them safely.
 */
#ifdef DG_PARSE_HOST
#define DG_UNROLL		/* gcc unrolls as it sees fit */
#define DG_HDR_ALIGN __attribute__((aligned(1)))
typedef struct ethhdr DG_HDR_ALIGN dg_eth_t;
typedef struct dg_vlan_hdr DG_HDR_ALIGN dg_vlan_t;
typedef struct iphdr DG_HDR_ALIGN dg_ip4_t;
typedef struct ipv6hdr DG_HDR_ALIGN dg_ip6_t;
typedef struct dg_ipv6_frag DG_HDR_ALIGN dg_ip6frag_t;
typedef struct udphdr DG_HDR_ALIGN dg_udp_t;
typedef struct tcphdr DG_HDR_ALIGN dg_tcp_t;
#else
#define DG_UNROLL _Pragma("unroll")
/* Macros, not typedefs: CO-RE relocates field offsets by the kernel's
 * own type names. */
#define dg_eth_t struct ethhdr
#define dg_vlan_t struct dg_vlan_hdr
#define dg_ip4_t struct iphdr
#define dg_ip6_t struct ipv6hdr
#define dg_ip6frag_t struct dg_ipv6_frag
#define dg_udp_t struct udphdr
#define dg_tcp_t struct tcphdr
#endif

static __always_inline int dg_is_vlan(int proto)
{
	return proto == DG_ETH_P_8021Q || proto == DG_ETH_P_8021AD ||
	       proto == DG_ETH_P_QINQ1;
}

/*
 * Ethernet plus up to DG_MAX_VLAN_DEPTH VLAN tags (TPID 0x8100, 0x88a8 or
 * 0x9100), counted in p->n_vlans.
 * Returns the inner EtherType (host order), -DG_R_RUNT when there is no
 * whole Ethernet header, -DG_R_TRUNCATED when a tag is cut short, or
 * -DG_R_LIMIT_VLAN when more tags follow than we walk.
 */
static __always_inline int dg_parse_eth(struct dg_cursor *c, struct dg_pkt *p)
{
	dg_eth_t *eth = c->pos;
	dg_vlan_t *vh;
	int proto, i;

	if ((void *)(eth + 1) > c->end)
		return -DG_R_RUNT;
	c->pos = eth + 1;
	proto = bpf_ntohs(eth->h_proto);

DG_UNROLL
	for (i = 0; i < DG_MAX_VLAN_DEPTH; i++) {
		if (!dg_is_vlan(proto))
			return proto;
		vh = c->pos;
		if ((void *)(vh + 1) > c->end)
			return -DG_R_TRUNCATED;
		c->pos = vh + 1;
		p->n_vlans = i + 1;
		proto = bpf_ntohs(vh->encap_proto);
	}
	if (dg_is_vlan(proto))
		return -DG_R_LIMIT_VLAN;
	return proto;
}

/*
 * A PPPoE session header (RFC 2516: 6 bytes) and the PPP protocol field
 * (2 bytes, or 1 when compressed). Returns DG_ETH_P_IP or DG_ETH_P_IPV6
 * for IP inside, 0 for any other PPP protocol (LCP, IPCP, ...: not IP),
 * or -DG_R_TRUNCATED.
 */
static __always_inline int dg_parse_pppoe(struct dg_cursor *c)
{
	__u8 *h = c->pos;
	int proto;

	if ((void *)(h + 7) > c->end)
		return -DG_R_TRUNCATED;
	if (h[6] & 1) {
		/* Protocol-Field-Compression: one odd byte. */
		proto = h[6];
		c->pos = h + 7;
	} else {
		if ((void *)(h + 8) > c->end)
			return -DG_R_TRUNCATED;
		proto = h[6] << 8 | h[7];
		c->pos = h + 8;
	}
	if (proto == DG_PPP_IP)
		return DG_ETH_P_IP;
	if (proto == DG_PPP_IPV6)
		return DG_ETH_P_IPV6;
	return 0;
}

/*
 * An MPLS label stack of up to DG_MAX_MPLS_LABELS labels, to the one with
 * the bottom-of-stack bit. MPLS does not say what it carries, so the first
 * nibble after the stack decides, as the kernel's mpls_forward does:
 * 4 is IPv4, 6 is IPv6, anything else (a pseudowire control word, an
 * Ethernet frame) is not IP. Returns DG_ETH_P_IP, DG_ETH_P_IPV6, 0,
 * -DG_R_TRUNCATED or -DG_R_LIMIT_MPLS (no bottom of stack within reach).
 */
static __always_inline int dg_parse_mpls(struct dg_cursor *c)
{
	__u8 *h;
	int i;

DG_UNROLL
	for (i = 0; i < DG_MAX_MPLS_LABELS; i++) {
		h = c->pos;
		if ((void *)(h + 4) > c->end)
			return -DG_R_TRUNCATED;
		c->pos = h + 4;
		if (h[2] & 1)
			break;
	}
	if (i == DG_MAX_MPLS_LABELS)
		return -DG_R_LIMIT_MPLS;
	h = c->pos;
	if ((void *)(h + 1) > c->end)
		return -DG_R_TRUNCATED;
	if (*h >> 4 == 4)
		return DG_ETH_P_IP;
	if (*h >> 4 == 6)
		return DG_ETH_P_IPV6;
	return 0;
}

/*
 * IPv4 header including options (length from IHL, at most 60 bytes).
 * Returns the transport protocol, -DG_R_TRUNCATED, or -DG_R_MALFORMED
 * (version != 4 or IHL < 5). Records fragment state in p.
 */
static __always_inline int dg_parse_ipv4(struct dg_cursor *c, struct dg_pkt *p)
{
	dg_ip4_t *ip = c->pos;
	__u32 hlen;
	__u16 frag_off;

	if ((void *)(ip + 1) > c->end)
		return -DG_R_TRUNCATED;
	if (ip->version != 4 || ip->ihl < 5)
		return -DG_R_MALFORMED;
	hlen = ip->ihl * 4;
	if (c->pos + hlen > c->end)
		return -DG_R_TRUNCATED;
	c->pos += hlen;

	frag_off = bpf_ntohs(ip->frag_off);
	if (frag_off & (DG_IP_MF | DG_IP_OFFSET)) {
		p->frag = (frag_off & DG_IP_OFFSET) ? DG_FRAG_LATER : DG_FRAG_FIRST;
		p->l4_off = (__u16)(c->pos - c->start);
		/* The whole key is hashed: clear what IPv4 leaves unused. */
		__builtin_memset(&p->fkey, 0, sizeof(p->fkey));
		__builtin_memcpy(p->fkey.saddr, &ip->saddr, 4);
		__builtin_memcpy(p->fkey.daddr, &ip->daddr, 4);
		p->fkey.id = ip->id;
		p->fkey.family = 4;
		p->fkey.proto = ip->protocol;
	}
	return ip->protocol;
}

static __always_inline int dg_ipv6_is_opts(int nexthdr)
{
	return nexthdr == DG_IPPROTO_HOPOPTS || nexthdr == DG_IPPROTO_ROUTING ||
	       nexthdr == DG_IPPROTO_DSTOPTS;
}

/*
 * Walk up to `max` hop-by-hop / routing / destination-options headers from
 * base + *off (all sized (hdrlen + 1) * 8, RFC 8200). Returns the next
 * header, -DG_R_TRUNCATED or -DG_R_LIMIT_EXTHDR. The walk advances an
 * offset clamped to [0, DG_MAX_EXTCHAIN] and writes nothing else, so each
 * iteration ends in the same verifier state whatever it read.
 */
static __always_inline int dg_ipv6_walk_opts(__u8 *base, void *end, __u32 *off,
					     int nexthdr, int max)
{
	__u8 *h;
	int i;

	for (i = 0; i < max && dg_ipv6_is_opts(nexthdr); i++) {
		if (*off > DG_MAX_EXTCHAIN)
			return -DG_R_LIMIT_EXTHDR;
		h = base + *off;
		if ((void *)(h + 8) > end)
			return -DG_R_TRUNCATED;
		nexthdr = h[0];
		*off += ((__u32)h[1] + 1) * 8;
	}
	return nexthdr;
}

/*
 * IPv6 header and its extension chain, in RFC 8200 section 4.1's order:
 * up to DG_IPV6_OPTS_BEFORE options headers (hop-by-hop, destination,
 * routing), one fragment header, one AH, then up to DG_IPV6_OPTS_AFTER
 * options headers; at most DG_MAX_EXTCHAIN bytes in all. A chain outside
 * that shape returns -DG_R_LIMIT_EXTHDR (so it is treated as DNS).
 * Returns the upper-layer protocol, -DG_R_TRUNCATED or -DG_R_MALFORMED
 * (version != 6). A later fragment stops the walk: what follows its
 * fragment header is payload, not headers.
 */
static __always_inline int dg_parse_ipv6(struct dg_cursor *c, struct dg_pkt *p)
{
	dg_ip6_t *ip6 = c->pos;
	dg_ip6frag_t *fh;
	__u8 *base, *h;
	__u32 off = 0;
	__u16 frag_off;
	int nexthdr;

	if ((void *)(ip6 + 1) > c->end)
		return -DG_R_TRUNCATED;
	if (ip6->version != 6)
		return -DG_R_MALFORMED;
	base = (__u8 *)(ip6 + 1);
	nexthdr = dg_ipv6_walk_opts(base, c->end, &off, ip6->nexthdr,
				    DG_IPV6_OPTS_BEFORE);
	if (nexthdr < 0)
		return nexthdr;

	if (nexthdr == DG_IPPROTO_FRAGMENT) {
		if (off > DG_MAX_EXTCHAIN)
			return -DG_R_LIMIT_EXTHDR;
		fh = (dg_ip6frag_t *)(base + off);
		if ((void *)(fh + 1) > c->end)
			return -DG_R_TRUNCATED;
		frag_off = bpf_ntohs(fh->frag_off);
		nexthdr = fh->nexthdr;
		off += sizeof(*fh);
		if (frag_off & (DG_IP6_OFFSET | DG_IP6_MF)) {
			p->frag = (frag_off & DG_IP6_OFFSET) ? DG_FRAG_LATER :
							       DG_FRAG_FIRST;
			p->frag_hdr_off = (__u16)((void *)fh - c->start);
			p->l4_off = (__u16)((void *)(fh + 1) - c->start);
			__builtin_memset(&p->fkey, 0, sizeof(p->fkey));
			__builtin_memcpy(p->fkey.saddr, &ip6->saddr, 16);
			__builtin_memcpy(p->fkey.daddr, &ip6->daddr, 16);
			p->fkey.id = fh->id;
			p->fkey.family = 6;
			/* Not nexthdr: fragments of one packet may name
			 * different ones (RFC 8200 4.5) and reassembly keys
			 * on addresses and id alone. */
			p->fkey.proto = 0;
			if (p->frag == DG_FRAG_LATER)
				return nexthdr;
		}
	}

	if (nexthdr == DG_IPPROTO_AH) {
		if (off > DG_MAX_EXTCHAIN)
			return -DG_R_LIMIT_EXTHDR;
		h = base + off;
		if ((void *)(h + 8) > c->end)
			return -DG_R_TRUNCATED;
		nexthdr = h[0];
		/* 4-byte units minus 2 (RFC 4302). */
		off += ((__u32)h[1] + 2) * 4;
	}

	nexthdr = dg_ipv6_walk_opts(base, c->end, &off, nexthdr,
				    DG_IPV6_OPTS_AFTER);
	if (nexthdr < 0)
		return nexthdr;
	if (dg_ipv6_is_opts(nexthdr) || nexthdr == DG_IPPROTO_FRAGMENT ||
	    nexthdr == DG_IPPROTO_AH || off > DG_MAX_EXTCHAIN)
		return -DG_R_LIMIT_EXTHDR;
	c->pos = base + off;
	return nexthdr;
}

/* UDP header. Returns the destination port (host order) or -DG_R_TRUNCATED. */
static __always_inline int dg_parse_udp(struct dg_cursor *c)
{
	dg_udp_t *udp = c->pos;

	if ((void *)(udp + 1) > c->end)
		return -DG_R_TRUNCATED;
	c->pos = udp + 1;
	return bpf_ntohs(udp->dest);
}

/* TCP fixed header (20 bytes). Returns the destination port (host order)
 * or -DG_R_TRUNCATED. */
static __always_inline int dg_parse_tcp(struct dg_cursor *c)
{
	dg_tcp_t *tcp = c->pos;

	if ((void *)(tcp + 1) > c->end)
		return -DG_R_TRUNCATED;
	c->pos = tcp + 1;
	return bpf_ntohs(tcp->dest);
}

#endif /* DOTGUARD_PARSE_H */
