/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one counting exit. Every program returns through dg_verdict_tc() or
 * dg_verdict_xdp(); nothing else touches dg_counters.
 */
#ifndef DOTGUARD_VERDICT_H
#define DOTGUARD_VERDICT_H

#include "maps.h"

/* uapi/linux/pkt_cls.h values (macros, so not in vmlinux.h). */
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define TC_ACT_REDIRECT 7

static __always_inline void dg_count(__u32 reason, __u32 action, __u64 bytes)
{
	__u32 key = dg_counter_key(dg_cfg.slot, reason, action);
	struct dg_counter *ctr;

	ctr = bpf_map_lookup_elem(&dg_counters, &key);
	if (ctr) {
		/* Per-CPU slot: no other writer, no atomics needed. */
		ctr->packets++;
		ctr->bytes += bytes;
	}
}

static __always_inline int dg_verdict_tc(struct __sk_buff *skb, __u32 reason,
					 __u32 action)
{
	dg_count(reason, action, skb->len);
	switch (action) {
	case DG_A_PASS:
	case DG_A_MONITOR:
		return TC_ACT_OK;
	case DG_A_REDIRECT:
		return TC_ACT_REDIRECT;
	default:
		return TC_ACT_SHOT;
	}
}

static __always_inline int dg_verdict_xdp(struct xdp_md *ctx, __u32 reason,
					  __u32 action, int redirect_ret)
{
	dg_count(reason, action, ctx->data_end - ctx->data);
	switch (action) {
	case DG_A_PASS:
	case DG_A_MONITOR:
		return XDP_PASS;
	case DG_A_REDIRECT:
		return redirect_ret;
	default:
		return XDP_DROP;
	}
}

#endif /* DOTGUARD_VERDICT_H */
