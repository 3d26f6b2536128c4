// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Gateway mode: XDP ingress on each LAN-facing interface; host redirect
 * mode: the far end of the capture veth. Both hand queries to AF_XDP. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <xdp/xdp_helpers.h>
#include "guard.h"
#include "verdict.h"

/* Run early among libxdp's programs; chain on to the next one on pass. */
struct {
	__uint(priority, 10);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(dg_xdp_gateway);

/* A whole TCP/53 segment, and steering is in place: TCP cannot ride
 * AF_XDP, so it is redirected by passing it up to tc ingress, which hands
 * it to the daemon's listener. One policy lookup, and only for TCP/53. */
static __always_inline bool dg_tcp_steered(const struct dg_pkt *p)
{
	__u32 zero = 0;
	struct dg_policy *pol;

	if ((p->reason != DG_R_DNS_TCP4 && p->reason != DG_R_DNS_TCP6) ||
	    p->frag != DG_FRAG_NONE)
		return false;
	pol = bpf_map_lookup_elem(&dg_policy, &zero);
	return pol && (pol->flags & DG_POLICY_TCP_STEER);
}

/* Into this queue's AF_XDP socket; with none there, a fail-closed drop. */
static __always_inline int dg_xdp_to_socket(struct xdp_md *ctx, __u32 reason)
{
	__u32 key;
	int ret;

	/* A queue past the XSKMAP's range has no socket of ours. */
	if (ctx->rx_queue_index >= DG_MAX_QUEUES)
		return dg_verdict_xdp(ctx, reason, DG_A_FAIL_CLOSED, 0);
	key = dg_cfg.slot * DG_MAX_QUEUES + ctx->rx_queue_index;
	/* XDP_PASS comes back only when no socket is there. */
	ret = bpf_redirect_map(&dg_xsks, key, XDP_PASS);
	if (ret != XDP_REDIRECT)
		return dg_verdict_xdp(ctx, reason, DG_A_FAIL_CLOSED, 0);
	return dg_verdict_xdp(ctx, reason, DG_A_REDIRECT, ret);
}

/*
 * The capture end: only our tc guard sends here. Whole UDP queries and
 * every fragment (the daemon reassembles them) go to the daemon, whole
 * TCP/53 segments on to tc ingress when steering is in place; anything
 * else (the near end's own chatter) stops: a frame passed here could be
 * routed out.
 */
static __always_inline int dg_xdp_capture(struct xdp_md *ctx, struct dg_pkt *p)
{
	if (p->frag != DG_FRAG_NONE ||
	    ((p->reason == DG_R_DNS_UDP4 || p->reason == DG_R_DNS_UDP6)))
		return dg_xdp_to_socket(ctx, p->reason);
	if (dg_tcp_steered(p))
		return dg_verdict_xdp(ctx, p->reason, DG_A_REDIRECT, XDP_PASS);
	return dg_verdict_xdp(ctx, p->reason, DG_A_DROP, 0);
}

/* The IP header on: a global function, so the verifier walks it once for
 * any link-layer offset instead of once per VLAN, PPPoE or MPLS shape. */
__noinline int dg_xdp_classify_l3(struct xdp_md *ctx, struct dg_pkt *p)
{
	if (!p)
		return 0;
	return dg_classify_l3((void *)(long)ctx->data,
			      (void *)(long)ctx->data_end, p);
}

SEC("xdp")
int dg_xdp_gateway(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct dg_pkt p;
	__u32 action;

	dg_pkt_init(&p);
	if (!dg_classify_l2(data, end, dg_cfg.l3_only, &p))
		dg_xdp_classify_l3(ctx, &p);
	if (dg_cfg.hook == DG_HOOK_XDP_CAPTURE)
		return dg_xdp_capture(ctx, &p);
	if (dg_reason_is_dns(p.reason) && dg_source_reflects(data, end, dg_cfg.l3_only, &p))
		p.reason = DG_R_BAD_SOURCE;
	action = dg_decide(&p);
	if (action != DG_A_REDIRECT)
		return dg_verdict_xdp(ctx, p.reason, action, 0);
	if (dg_tcp_steered(&p))
		return dg_verdict_xdp(ctx, p.reason, DG_A_REDIRECT, XDP_PASS);
	/* UDP queries, fragments of DNS datagrams (reassembled by the
	 * daemon), TCP/53 without steering (dropped there as not UDP). */
	return dg_xdp_to_socket(ctx, p.reason);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
