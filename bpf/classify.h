/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * dg_classify(): what is this packet? Pure parsing, no maps and no
 * context, so tc, XDP and the host fuzz target run the very same code.
 * The policy that turns the answer into an action lives in guard.h.
 */
#ifndef DOTGUARD_CLASSIFY_H
#define DOTGUARD_CLASSIFY_H

#include "parse.h"

/*
 * The link layer of the frame [data, data_end): Ethernet, VLAN tags, then
 * PPPoE or MPLS when present; devices without an L2 header (l3_only: tun,
 * wireguard) start at the IP header and its version nibble says which.
 * Sets p->family (4 or 6) and p->l3_off and returns 0 when IP follows;
 * otherwise sets p->reason and returns 1: the frame is classified.
 */
static __always_inline int dg_classify_l2(void *data, void *data_end,
					  int l3_only, struct dg_pkt *p)
{
	struct dg_cursor c = { .pos = data, .end = data_end, .start = data };
	int proto;
	__u8 *first;

	if (l3_only) {
		first = data;
		if ((void *)(first + 1) > data_end) {
			p->reason = DG_R_RUNT;
			return 1;
		}
		proto = (*first >> 4) == 6 ? DG_ETH_P_IPV6 : DG_ETH_P_IP;
	} else {
		proto = dg_parse_eth(&c, p);
		if (proto == DG_ETH_P_PPPOE_SES) {
			p->encap = DG_ENCAP_PPPOE;
			proto = dg_parse_pppoe(&c);
		} else if (proto == DG_ETH_P_MPLS_UC || proto == DG_ETH_P_MPLS_MC) {
			p->encap = DG_ENCAP_MPLS;
			proto = dg_parse_mpls(&c);
		}
		if (proto < 0) {
			p->reason = -proto;
			return 1;
		}
	}
	if (proto != DG_ETH_P_IP && proto != DG_ETH_P_IPV6) {
		p->reason = DG_R_NON_IP;
		return 1;
	}
	p->family = proto == DG_ETH_P_IP ? 4 : 6;
	p->l3_off = (__u16)(c.pos - data);
	return 0;
}

/*
 * From the IP header dg_classify_l2() found to the transport header.
 * Separate so the BPF programs can verify it once for any link-layer
 * offset (a global function), rather than once per way of getting there.
 * Fills p and returns p->reason.
 */
static __always_inline int dg_classify_l3(void *data, void *data_end,
					  struct dg_pkt *p)
{
	struct dg_cursor c = { .end = data_end, .start = data };
	__u32 off = p->l3_off;
	int l4, dport;

	if (off > DG_MAX_HDR_OFF)
		return p->reason = DG_R_TRUNCATED;	/* cannot happen */
	c.pos = data + off;
	if (p->family == 4)
		l4 = dg_parse_ipv4(&c, p);
	else
		l4 = dg_parse_ipv6(&c, p);
	if (l4 < 0)
		return p->reason = -l4;
	p->l4proto = l4;

	/* A later fragment carries no transport header: guard.h decides it
	 * from what its first fragment got. */
	if (p->frag == DG_FRAG_LATER)
		return p->reason = DG_R_FRAGMENT_OTHER;

	p->l4_off = (__u16)(c.pos - data);
	if (l4 == DG_IPPROTO_UDP)
		dport = dg_parse_udp(&c);
	else if (l4 == DG_IPPROTO_TCP)
		dport = dg_parse_tcp(&c);
	else
		return p->reason = DG_R_NON_DNS;
	if (dport < 0)
		return p->reason = -dport;
	if (dport != DG_DNS_PORT)
		return p->reason = DG_R_NON_DNS;

	/* DNS we could not answer in its wrapping: the policy drops it. */
	if (p->encap != DG_ENCAP_NONE)
		return p->reason = DG_R_DNS_ENCAP;
	if (l4 == DG_IPPROTO_UDP)
		p->reason = p->family == 4 ? DG_R_DNS_UDP4 : DG_R_DNS_UDP6;
	else
		p->reason = p->family == 4 ? DG_R_DNS_TCP4 : DG_R_DNS_TCP6;
	return p->reason;
}

/*
 * Classify the frame [data, data_end) (see dg_classify_l2 for l3_only).
 * p must have been reset by dg_pkt_init(). Fills p and returns p->reason.
 */
static __always_inline int dg_classify(void *data, void *data_end, int l3_only,
				       struct dg_pkt *p)
{
	if (dg_classify_l2(data, data_end, l3_only, p))
		return p->reason;
	return dg_classify_l3(data, data_end, p);
}

#endif /* DOTGUARD_CLASSIFY_H */
