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

/* TCP/53 cannot ride AF_XDP: with steering in place it is redirected by
 * passing it up to tc ingress, which hands it to the daemon's listener.
 * One policy lookup, and only for TCP/53. */
static __always_inline bool dg_tcp_steered(const struct dg_pkt *p)
{
	__u32 zero = 0;
	struct dg_policy *pol;

	if (p->reason != DG_R_DNS_TCP4 && p->reason != DG_R_DNS_TCP6)
		return false;
	pol = bpf_map_lookup_elem(&dg_policy, &zero);
	return pol && (pol->flags & DG_POLICY_TCP_STEER);
}

SEC("xdp")
int dg_xdp_gateway(struct xdp_md *ctx)
{
	struct dg_pkt p;
	__u32 action, key;
	int ret = XDP_DROP;
	bool steered;

	dg_pkt_init(&p);
	dg_classify((void *)(long)ctx->data, (void *)(long)ctx->data_end,
		    dg_cfg.l3_only, &p);
	steered = dg_tcp_steered(&p);
	if (dg_cfg.hook == DG_HOOK_XDP_CAPTURE)
		/* Only our tc guard sends here: UDP queries go to the daemon,
		 * TCP/53 on to tc ingress when steering is in place, anything
		 * else (later fragments, the near end's own chatter) stops: a
		 * frame passed here could be routed out. */
		action = p.reason == DG_R_DNS_UDP4 || p.reason == DG_R_DNS_UDP6 ||
				 steered ? DG_A_REDIRECT : DG_A_DROP;
	else
		action = dg_decide(&p);
	if (action == DG_A_REDIRECT && steered)
		return dg_verdict_xdp(ctx, p.reason, action, XDP_PASS);
	if (action == DG_A_REDIRECT) {
		/* A queue past the XSKMAP's range has no socket of ours. */
		if (ctx->rx_queue_index >= DG_MAX_QUEUES)
			return dg_verdict_xdp(ctx, p.reason, DG_A_FAIL_CLOSED, 0);
		key = dg_cfg.slot * DG_MAX_QUEUES + ctx->rx_queue_index;
		/* XDP_PASS comes back only when no socket is there. */
		ret = bpf_redirect_map(&dg_xsks, key, XDP_PASS);
		if (ret != XDP_REDIRECT)
			return dg_verdict_xdp(ctx, p.reason, DG_A_FAIL_CLOSED, 0);
	}
	return dg_verdict_xdp(ctx, p.reason, action, ret);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
