/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The policy, shared by every hook: turn a classified packet into an
 * action (enum dg_action). Only what differs per hook (own-socket check,
 * how to redirect) stays in the entry files.
 */
#ifndef DOTGUARD_GUARD_H
#define DOTGUARD_GUARD_H

#include "classify.h"
#include "maps.h"

#define DG_NSEC_PER_SEC 1000000000ull

static __always_inline __u32 dg_policy_mode(void)
{
	__u32 zero = 0;
	struct dg_policy *pol = bpf_map_lookup_elem(&dg_policy, &zero);

	/* A missing entry (cannot happen for an ARRAY) reads as drop: fail
	 * closed. */
	return pol ? pol->mode : DG_MODE_DROP;
}

/* The action the live policy gives DNS and maybe-DNS packets. */
static __always_inline __u32 dg_policy_action(__u32 reason)
{
	__u32 mode = dg_policy_mode();

	if (mode == DG_MODE_MONITOR)
		return DG_A_MONITOR;
	/* What we could not parse we cannot hand to the daemon either. */
	if (mode == DG_MODE_DROP || dg_reason_is_suspect(reason))
		return DG_A_DROP;
	return DG_A_REDIRECT;
}

/* p's datagram as its first fragment left it, if that was judged within
 * DG_FRAG_TIMEOUT_S; NULL otherwise. */
static __always_inline struct dg_frag_val *dg_frag_lookup(struct dg_pkt *p,
							  __u64 now)
{
	struct dg_frag_val *v = bpf_map_lookup_elem(&dg_frags, &p->fkey);

	if (v && now - v->seen_ns > DG_FRAG_TIMEOUT_S * DG_NSEC_PER_SEC)
		return NULL;
	return v;
}

/*
 * Remember the action a first fragment got, for its later fragments, and
 * return the action it gets. Two first fragments of one datagram that
 * disagree are the overlapping-fragment trick (RFC 1858, RFC 5722): the
 * datagram is dropped whole, whatever order they came in (monitor mode
 * never blocks).
 */
static __always_inline __u32 dg_frag_record(struct dg_pkt *p, __u32 action)
{
	__u64 now = bpf_ktime_get_coarse_ns();
	struct dg_frag_val *old = dg_frag_lookup(p, now), val = {};

	if (old && old->action != action && action != DG_A_MONITOR &&
	    old->action != DG_A_MONITOR)
		action = DG_A_DROP;
	val.seen_ns = now;
	val.action = action;
	bpf_map_update_elem(&dg_frags, &p->fkey, &val, BPF_ANY);
	return action;
}

/*
 * A later fragment with no record: its first fragment came later (out of
 * order), was forgotten (the LRU flooded), or never came. It may carry
 * part of a port-53 datagram, so it never passes unseen: the daemon gets
 * it (and reassembles, or drops it when its first never comes), drop mode
 * drops it, monitor mode passes it.
 */
static __always_inline __u32 dg_unknown_fragment_action(void)
{
	__u32 mode = dg_policy_mode();

	if (mode == DG_MODE_MONITOR)
		return DG_A_PASS;
	return mode == DG_MODE_REDIRECT ? DG_A_REDIRECT : DG_A_DROP;
}

/*
 * Decide the action for p (already classified, own sockets already
 * excluded). A first fragment's action is recorded, DNS or not; later
 * fragments take it and become DG_R_FRAGMENT; see above for those without
 * a record.
 */
static __always_inline __u32 dg_decide(struct dg_pkt *p)
{
	struct dg_frag_val *rec;
	__u32 action;

	if (p->reason == DG_R_FRAGMENT_OTHER) {
		rec = dg_frag_lookup(p, bpf_ktime_get_coarse_ns());
		if (!rec)
			return dg_unknown_fragment_action();
		p->reason = DG_R_FRAGMENT;
		return rec->action;
	}
	if (dg_reason_is_dns(p->reason) || dg_reason_is_suspect(p->reason))
		action = dg_policy_action(p->reason);
	else
		action = DG_A_PASS;
	if (p->frag == DG_FRAG_FIRST)
		action = dg_frag_record(p, action);
	return action;
}

/*
 * Would answering p reflect? A query from a group MAC, or from a
 * broadcast, multicast or unspecified address, would have its answer sent
 * to many hosts or to none: the trick that turns a resolver into an
 * amplifier inside a LAN.
 */
static __always_inline bool dg_source_reflects(void *data, void *end, int l3_only,
					       const struct dg_pkt *p)
{
	struct ethhdr *eth = data;
	__u32 l3 = p->l3_off;
	__u8 *ip, first, any;
	int i;

	if (l3 > DG_MAX_HDR_OFF)
		return true;
	ip = data + l3;

	if (!l3_only) {
		if ((void *)(eth + 1) > end)
			return true;
		if (eth->h_source[0] & 1)
			return true;
	}
	if (p->family == 4) {
		if ((void *)(ip + 20) > end)
			return true;
		first = ip[12];
		/* 0/8 "this network", 224/4 multicast, 240/4 with the
		 * limited broadcast 255.255.255.255. */
		return first == 0 || first >= 224;
	}
	if ((void *)(ip + 40) > end)
		return true;
	if (ip[8] == 0xff)
		return true;	/* multicast */
	/* ::, unspecified: all sixteen bytes zero. */
	any = 0;
#pragma unroll
	for (i = 0; i < 16; i++)
		any |= ip[8 + i];
	return !any;
}

#endif /* DOTGUARD_GUARD_H */
