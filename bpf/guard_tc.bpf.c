// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Host mode: clsact egress on each uplink; redirect mode: TCP/53 steering
 * on tc ingress of the capture end and of each gateway LAN port. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "guard.h"
#include "verdict.h"

/* Headers we may need to see: Ethernet, 3 tags, IPv6 + a long ext chain. */
#define DG_PULL_LEN 256

/* The IP header on: a global function, so the verifier walks it once for
 * any link-layer offset instead of once per VLAN, PPPoE or MPLS shape. */
__noinline int dg_tc_classify_l3(struct __sk_buff *skb, struct dg_pkt *p)
{
	if (!p)
		return 0;
	return dg_classify_l3((void *)(long)skb->data,
			      (void *)(long)skb->data_end, p);
}

static __always_inline int dg_classify_skb(struct __sk_buff *skb,
					   struct dg_pkt *p)
{
	dg_pkt_init(p);
	if (dg_classify_l2((void *)(long)skb->data, (void *)(long)skb->data_end,
			   dg_cfg.l3_only, p))
		return p->reason;
	return dg_tc_classify_l3(skb, p);
}

/* The rare second look, after headers were pulled out of paged data:
 * out of line so the common path stays inline and the program small. */
static __noinline int dg_reclassify_skb(struct __sk_buff *skb, struct dg_pkt *p)
{
	return dg_classify_skb(skb, p);
}

/* Classify; headers in paged data look truncated: pull them in and look
 * again rather than guess. */
static __always_inline void dg_classify_pulled(struct __sk_buff *skb,
					       struct dg_pkt *p)
{
	dg_classify_skb(skb, p);
	if (p->reason == DG_R_TRUNCATED && skb->len > skb->data_end - skb->data &&
	    !bpf_skb_pull_data(skb, skb->len < DG_PULL_LEN ? skb->len : DG_PULL_LEN))
		dg_reclassify_skb(skb, p);
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

	dg_classify_pulled(skb, &p);
	if (dg_reason_is_dns(p.reason) && dg_own_socket(skb)) {
		/* Its later fragments, if any, pass too. */
		if (p.frag == DG_FRAG_FIRST)
			dg_frag_record(&p, DG_A_PASS);
		return dg_verdict_tc(skb, DG_R_OWN_SOCKET, DG_A_PASS);
	}

	action = dg_decide(&p);
	if (action == DG_A_REDIRECT) {
		pol = bpf_map_lookup_elem(&dg_policy, &zero);
		if (!pol || !pol->capture_ifindex)
			return dg_verdict_tc(skb, p.reason, DG_A_FAIL_CLOSED);
		bpf_redirect(pol->capture_ifindex, 0);
	}
	return dg_verdict_tc(skb, p.reason, action);
}

/* ---- redirect mode: TCP/53 to the daemon's listener ---- */

#define DG_PACKET_HOST 0
#define DG_BPF_F_CURRENT_NETNS (-1L)

/* The TCP/53 tuple of a whole (unfragmented) segment the classifier
 * called DNS, read at the offsets it found; -1 when there is none. */
static __always_inline int dg_steer_tuple(struct __sk_buff *skb,
					  const struct dg_pkt *p,
					  struct bpf_sock_tuple *t, __u32 *len,
					  bool *syn)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u32 l3 = p->l3_off, l4 = p->l4_off;
	struct tcphdr *th;
	struct ipv6hdr *ip6;
	struct iphdr *ip;

	if ((p->reason != DG_R_DNS_TCP4 && p->reason != DG_R_DNS_TCP6) ||
	    p->frag != DG_FRAG_NONE || l3 > DG_MAX_HDR_OFF || l4 > DG_MAX_HDR_OFF)
		return -1;
	th = data + l4;
	if ((void *)(th + 1) > end)
		return -1;
	if (p->family == 4) {
		ip = data + l3;
		if ((void *)(ip + 1) > end)
			return -1;
		t->ipv4.saddr = ip->saddr;
		t->ipv4.daddr = ip->daddr;
		t->ipv4.sport = th->source;
		t->ipv4.dport = th->dest;
		*len = sizeof(t->ipv4);
	} else {
		ip6 = data + l3;
		if ((void *)(ip6 + 1) > end)
			return -1;
		__builtin_memcpy(t->ipv6.saddr, &ip6->saddr, 16);
		__builtin_memcpy(t->ipv6.daddr, &ip6->daddr, 16);
		t->ipv6.sport = th->source;
		t->ipv6.dport = th->dest;
		*len = sizeof(t->ipv6);
	}
	*syn = th->syn && !th->ack;
	return 0;
}

/*
 * tc ingress on the capture veth's far end and on gateway LAN ports,
 * behind the XDP guard, which passed TCP/53 on to here. The packet is
 * classified by the same parser as everywhere (any VLAN tags, IPv4
 * options, IPv6 extension headers). A segment of a connection the daemon
 * already holds goes to that socket, a new connection's SYN to the
 * daemon's transparent listener (bpf_sk_assign, as transparent proxies
 * do). The mark routes it to "local" so the stack delivers it; the frame
 * still carries the uplink's gateway MAC, hence PACKET_HOST. Whatever is
 * DNS and cannot be steered (a fragment, UDP that got past XDP, DNS in
 * PPPoE) is dropped and counted, never passed.
 */
SEC("tc")
int dg_tc_steer(struct __sk_buff *skb)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;
	struct dg_pkt p;
	__u32 len = 0, key;
	bool syn = false;
	long err;

	dg_classify_pulled(skb, &p);
	/* A LAN port carries all its clients' traffic, counted by XDP: what
	 * XDP let through as not DNS is not ours, nor is anything outside
	 * redirect mode (XDP already dropped or monitored it). */
	if (dg_cfg.lan_port &&
	    ((!dg_reason_is_dns(p.reason) && !dg_reason_is_suspect(p.reason)) ||
	     dg_policy_mode() != DG_MODE_REDIRECT))
		return TC_ACT_OK;
	if (dg_steer_tuple(skb, &p, &t, &len, &syn))
		return dg_verdict_tc(skb, p.reason, DG_A_DROP);
	sk = bpf_skc_lookup_tcp(skb, &t, len, DG_BPF_F_CURRENT_NETNS, 0);
	if (sk && sk->state == BPF_TCP_LISTEN) {
		bpf_sk_release(sk);
		sk = NULL;
	}
	if (!sk) {
		/* Only a SYN starts a connection; a stray segment has no
		 * one to go to. */
		if (!syn)
			return dg_verdict_tc(skb, p.reason, DG_A_DROP);
		key = p.family == 4 ? DG_LISTEN_V4 : DG_LISTEN_V6;
		sk = bpf_map_lookup_elem(&dg_listen, &key);
		if (!sk)
			return dg_verdict_tc(skb, p.reason, DG_A_FAIL_CLOSED);
	}
	err = bpf_sk_assign(skb, sk, 0);
	bpf_sk_release(sk);
	if (err)
		return dg_verdict_tc(skb, p.reason, DG_A_FAIL_CLOSED);
	skb->mark = DG_STEER_MARK;
	bpf_skb_change_type(skb, DG_PACKET_HOST);
	dg_count(p.reason, DG_A_REDIRECT, skb->len);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
