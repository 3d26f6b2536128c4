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

/* ---- host redirect: TCP/53 on the capture veth's far end ---- */

#define DG_ETH_HLEN 14
#define DG_PACKET_HOST 0
#define DG_BPF_F_CURRENT_NETNS (-1L)

/* The TCP/53 tuple of a plain Ethernet + IPv4/IPv6 + TCP frame, else -1.
 * On the capture end only our tc guard sends frames, and its XDP program
 * passes only TCP/53 on, so anything else is dropped (fail closed), never
 * handed to the stack. */
static __always_inline int dg_steer_tuple(struct __sk_buff *skb,
					  struct bpf_sock_tuple *t, __u32 *len,
					  __u32 *reason, bool *syn)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct tcphdr *th;
	struct iphdr *ip;
	struct ipv6hdr *ip6;

	if ((void *)(eth + 1) > end)
		return -1;
	if (eth->h_proto == bpf_htons(DG_ETH_P_IP)) {
		ip = data + DG_ETH_HLEN;
		if ((void *)(ip + 1) > end || ip->ihl < 5 || ip->protocol != IPPROTO_TCP ||
		    (ip->frag_off & bpf_htons(0x3fff)))
			return -1;
		th = (void *)ip + ip->ihl * 4;
		if ((void *)(th + 1) > end)
			return -1;
		t->ipv4.saddr = ip->saddr;
		t->ipv4.daddr = ip->daddr;
		t->ipv4.sport = th->source;
		t->ipv4.dport = th->dest;
		*len = sizeof(t->ipv4);
		*reason = DG_R_DNS_TCP4;
	} else if (eth->h_proto == bpf_htons(DG_ETH_P_IPV6)) {
		ip6 = data + DG_ETH_HLEN;
		if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_TCP)
			return -1;
		th = (void *)(ip6 + 1);
		if ((void *)(th + 1) > end)
			return -1;
		__builtin_memcpy(t->ipv6.saddr, &ip6->saddr, 16);
		__builtin_memcpy(t->ipv6.daddr, &ip6->daddr, 16);
		t->ipv6.sport = th->source;
		t->ipv6.dport = th->dest;
		*len = sizeof(t->ipv6);
		*reason = DG_R_DNS_TCP6;
	} else {
		return -1;
	}
	if (th->dest != bpf_htons(DG_DNS_PORT))
		return -1;
	*syn = th->syn && !th->ack;
	return 0;
}

/*
 * tc ingress on the capture veth's far end and on gateway LAN ports: a
 * segment of a connection the
 * daemon already holds goes to that socket, a new connection's SYN to the
 * daemon's transparent listener (bpf_sk_assign, as transparent proxies
 * do). The mark routes it to "local" so the stack delivers it; the frame
 * still carries the uplink's gateway MAC, hence PACKET_HOST.
 */
SEC("tc")
int dg_tc_steer(struct __sk_buff *skb)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;
	__u32 len = 0, reason = DG_R_NON_DNS, key;
	bool syn = false;
	long err;

	if (dg_steer_tuple(skb, &t, &len, &reason, &syn)) {
		/* A LAN port carries all the clients' traffic: what is not
		 * TCP/53 is not ours (XDP has counted it). */
		if (dg_cfg.lan_port)
			return TC_ACT_OK;
		return dg_verdict_tc(skb, reason, DG_A_DROP);
	}
	sk = bpf_skc_lookup_tcp(skb, &t, len, DG_BPF_F_CURRENT_NETNS, 0);
	if (sk && sk->state == BPF_TCP_LISTEN) {
		bpf_sk_release(sk);
		sk = NULL;
	}
	if (!sk) {
		/* Only a SYN starts a connection; a stray segment has no
		 * one to go to. */
		if (!syn)
			return dg_verdict_tc(skb, reason, DG_A_DROP);
		key = reason == DG_R_DNS_TCP4 ? DG_LISTEN_V4 : DG_LISTEN_V6;
		sk = bpf_map_lookup_elem(&dg_listen, &key);
		if (!sk)
			return dg_verdict_tc(skb, reason, DG_A_FAIL_CLOSED);
	}
	err = bpf_sk_assign(skb, sk, 0);
	bpf_sk_release(sk);
	if (err)
		return dg_verdict_tc(skb, reason, DG_A_FAIL_CLOSED);
	skb->mark = DG_STEER_MARK;
	bpf_skb_change_type(skb, DG_PACKET_HOST);
	dg_count(reason, DG_A_REDIRECT, skb->len);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
