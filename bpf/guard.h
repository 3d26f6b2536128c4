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

/* The action the live policy gives DNS and maybe-DNS packets. A missing
 * policy entry (cannot happen for an ARRAY) reads as drop: fail closed. */
static __always_inline __u32 dg_policy_action(__u32 reason)
{
	__u32 zero = 0, mode = DG_MODE_DROP;
	struct dg_policy *pol;

	pol = bpf_map_lookup_elem(&dg_policy, &zero);
	if (pol)
		mode = pol->mode;
	if (mode == DG_MODE_MONITOR)
		return DG_A_MONITOR;
	/* What we could not parse we cannot hand to the daemon either. */
	if (mode == DG_MODE_DROP || dg_reason_is_suspect(reason))
		return DG_A_DROP;
	return DG_A_REDIRECT;
}

/*
 * Decide the action for p (already classified, own sockets already
 * excluded). Later fragments take the action recorded for their first
 * fragment and become DG_R_FRAGMENT; unknown ones pass.
 */
static __always_inline __u32 dg_decide(struct dg_pkt *p)
{
	__u8 *recorded, action;

	if (p->reason == DG_R_FRAGMENT_OTHER) {
		recorded = bpf_map_lookup_elem(&dg_frags, &p->fkey);
		if (!recorded)
			return DG_A_PASS;
		p->reason = DG_R_FRAGMENT;
		return *recorded;
	}
	if (!dg_reason_is_dns(p->reason) && !dg_reason_is_suspect(p->reason))
		return DG_A_PASS;

	action = dg_policy_action(p->reason);
	if (p->frag == DG_FRAG_FIRST)
		bpf_map_update_elem(&dg_frags, &p->fkey, &action, BPF_ANY);
	return action;
}

#endif /* DOTGUARD_GUARD_H */
