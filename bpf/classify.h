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
 * Classify the frame [data, data_end). l3_only is set for devices without
 * an L2 header (tun, wireguard): the frame starts at the IP header and the
 * version nibble says which. Fills p and returns p->reason.
 */
static __always_inline int dg_classify(void *data, void *data_end, int l3_only,
				       struct dg_pkt *p)
{
	struct dg_cursor c = { .pos = data, .end = data_end };
	int proto, l4, dport;
	__u8 *first;

	if (l3_only) {
		first = data;
		if ((void *)(first + 1) > data_end)
			return p->reason = DG_R_RUNT;
		proto = (*first >> 4) == 6 ? DG_ETH_P_IPV6 : DG_ETH_P_IP;
	} else {
		proto = dg_parse_eth(&c);
		if (proto < 0)
			return p->reason = -proto;
	}

	if (proto == DG_ETH_P_IP) {
		p->family = 4;
		l4 = dg_parse_ipv4(&c, p);
	} else if (proto == DG_ETH_P_IPV6) {
		p->family = 6;
		l4 = dg_parse_ipv6(&c, p);
	} else {
		return p->reason = DG_R_NON_IP;
	}
	if (l4 < 0)
		return p->reason = -l4;
	p->l4proto = l4;

	/* A later fragment carries no transport header: guard.h decides it
	 * from what its first fragment got. */
	if (p->frag == DG_FRAG_LATER)
		return p->reason = DG_R_FRAGMENT_OTHER;

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

	if (l4 == DG_IPPROTO_UDP)
		p->reason = p->family == 4 ? DG_R_DNS_UDP4 : DG_R_DNS_UDP6;
	else
		p->reason = p->family == 4 ? DG_R_DNS_TCP4 : DG_R_DNS_TCP6;
	return p->reason;
}

#endif /* DOTGUARD_CLASSIFY_H */
