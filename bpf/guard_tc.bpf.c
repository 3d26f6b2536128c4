// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Host mode: clsact egress on each uplink. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "guard.h"
#include "verdict.h"

/* Headers we may need to see: Ethernet, 3 tags, IPv6 + a long ext chain. */
#define DG_PULL_LEN 256

/* Out of line so the tc entry can run it twice (before and after a pull)
 * without doubling the program. */
static __noinline int dg_classify_skb(struct __sk_buff *skb, struct dg_pkt *p)
{
	__builtin_memset(p, 0, sizeof(*p));
	return dg_classify((void *)(long)skb->data, (void *)(long)skb->data_end,
			   dg_cfg.l3_only, p);
}

static __always_inline int dg_own_socket(struct __sk_buff *skb)
{
	__u64 cookie = bpf_get_socket_cookie(skb);

	return cookie && bpf_map_lookup_elem(&dg_own_socks, &cookie);
}

SEC("tc")
int dg_tc_egress(struct __sk_buff *skb)
{
	struct dg_pkt p;
	__u32 zero = 0, action;
	struct dg_policy *pol;

	dg_classify_skb(skb, &p);
	/* Headers in paged data look truncated: pull them in and look again
	 * rather than guess. */
	if (p.reason == DG_R_TRUNCATED && skb->len > skb->data_end - skb->data &&
	    !bpf_skb_pull_data(skb, skb->len < DG_PULL_LEN ? skb->len : DG_PULL_LEN))
		dg_classify_skb(skb, &p);

	if (dg_reason_is_dns(p.reason) && dg_own_socket(skb))
		return dg_verdict_tc(skb, DG_R_OWN_SOCKET, DG_A_PASS);

	action = dg_decide(&p);
	if (action == DG_A_REDIRECT) {
		pol = bpf_map_lookup_elem(&dg_policy, &zero);
		if (!pol || !pol->capture_ifindex)
			return dg_verdict_tc(skb, p.reason, DG_A_FAIL_CLOSED);
		bpf_redirect(pol->capture_ifindex, 0);
	}
	return dg_verdict_tc(skb, p.reason, action);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
