// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Host mode: clsact egress on each uplink. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "guard.h"
#include "verdict.h"

/* Headers we may need to see: Ethernet, 3 tags, IPv6 + a long ext chain. */
#define DG_PULL_LEN 256

static __always_inline int dg_classify_skb(struct __sk_buff *skb,
					   struct dg_pkt *p)
{
	dg_pkt_init(p);
	return dg_classify((void *)(long)skb->data, (void *)(long)skb->data_end,
			   dg_cfg.l3_only, p);
}

/* The rare second look, after headers were pulled out of paged data:
 * out of line so the common path stays inline and the program small. */
static __noinline int dg_reclassify_skb(struct __sk_buff *skb, struct dg_pkt *p)
{
	return dg_classify_skb(skb, p);
}

/* Only when the daemon registered sockets (it has none in strict DoT)
 * is the cookie worth a helper call and a hash lookup. */
static __always_inline int dg_own_socket(struct __sk_buff *skb)
{
	__u32 zero = 0;
	struct dg_policy *pol = bpf_map_lookup_elem(&dg_policy, &zero);
	__u64 cookie;

	if (!pol || !(pol->flags & DG_POLICY_OWN_SOCKETS))
		return 0;
	cookie = bpf_get_socket_cookie(skb);
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
		dg_reclassify_skb(skb, &p);

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
