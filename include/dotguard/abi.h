/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one ABI between the BPF programs and userspace: map keys and values,
 * per-load program configuration, policy, limits. Compiles under clang
 * -target bpf (types from vmlinux.h) and gcc -std=gnu11 (linux/types.h).
 * Only __u8..__u64 and explicit padding; every layout is checked below.
 */
#ifndef DOTGUARD_ABI_H
#define DOTGUARD_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include "limits.h"
#include "reasons.h"

/* Where a guard program runs. */
enum dg_hook {
	DG_HOOK_TC_EGRESS = 0,	/* host mode: clsact egress on an uplink */
	DG_HOOK_XDP_GATEWAY = 1, /* gateway mode: XDP ingress on a LAN port */
	DG_HOOK_XDP_CAPTURE = 2, /* host redirect: far end of the capture veth */
	DG_HOOK_TC_STEER = 3,	/* tc ingress there: TCP/53 to our listener */
	DG_HOOK_MAX
};

/* Guard= mode, as written in [Guard] Mode=. Zero is the safe default:
 * redirect with nowhere to redirect to is a fail-closed drop. */
enum dg_mode {
	DG_MODE_REDIRECT = 0,
	DG_MODE_DROP = 1,
	DG_MODE_MONITOR = 2,
	DG_MODE_MAX
};

#define DG_DNS_PORT 53
#define DG_IFNAMSIZ 16

#define DG_COUNTER_ENTRIES (DG_MAX_SLOTS * DG_REASON_MAX * DG_ACTION_MAX)
#define DG_XSK_ENTRIES (DG_MAX_SLOTS * DG_MAX_QUEUES)

/* Index into dg_counters: one slot per attach point x reason x action. */
static inline __u32 dg_counter_key(__u32 slot, __u32 reason, __u32 action)
{
	return (slot * DG_REASON_MAX + reason) * DG_ACTION_MAX + action;
}

/* Value of dg_counters (per CPU; userspace sums the CPUs). */
struct dg_counter {
	__u64 packets;
	__u64 bytes;
};

/* Value of dg_policy[0]; the daemon writes it, reload changes it live. */
struct dg_policy {
	__u32 mode;		/* enum dg_mode */
	__u32 capture_ifindex;	/* host mode redirect target, 0 = none yet */
	__u32 flags;		/* DG_POLICY_* */
	__u32 _pad;
};

/* The daemon has sockets in dg_own_socks: look cookies up. */
#define DG_POLICY_OWN_SOCKETS (1u << 0)
/* TCP/53 steering is in place on the capture end: its XDP program lets
 * TCP through to tc ingress (else drops it). */
#define DG_POLICY_TCP_STEER (1u << 1)

/* Steered TCP/53 segments carry this mark; a policy rule sends marked
 * packets to DG_STEER_TABLE, whose only route is "local default dev lo",
 * so the stack delivers them to the socket they were assigned to. */
#define DG_STEER_MARK 0xd053
#define DG_STEER_TABLE 53053
#define DG_STEER_RULE_PRIO 53
/* dg_listen keys: the daemon's transparent TCP listeners. */
#define DG_LISTEN_V4 0
#define DG_LISTEN_V6 1

/* Per-load program configuration, set through skel->rodata before load. */
struct dg_prog_cfg {
	__u32 slot;		/* attach point index, < DG_MAX_SLOTS */
	__u32 hook;		/* enum dg_hook */
	__u32 l3_only;		/* 1: device has no L2 header (tun, wireguard) */
	__u32 lan_port;		/* steer hook: 1 on a gateway's LAN port, where
				 * all traffic passes tc; 0 on the capture end */
};

/* Key of dg_frags: identifies one fragmented datagram (RFC 791 / 8200).
 * Addresses and id are in network byte order, as on the wire; IPv4
 * addresses use the first 4 bytes and leave the rest zero. */
struct dg_frag_key {
	__u8 saddr[16];
	__u8 daddr[16];
	__u32 id;
	__u8 family;		/* 4 or 6 */
	__u8 proto;		/* IPv4 protocol; 0 for IPv6 (see parse.h) */
	__u8 _pad[2];
};

/* Value of dg_frags: what a fragmented datagram's first fragment got. */
struct dg_frag_val {
	__u64 seen_ns;		/* bpf_ktime_get_ns() when it was judged */
	__u8 action;		/* enum dg_action */
	__u8 _pad[7];
};

/* dg_attach[slot]: what a `run` attached, so `detach` and `status` know
 * exactly which program on which interface is ours. */
#define DG_ATTACH_USED (1u << 0)
#define DG_ATTACH_HOOK_CREATED (1u << 1) /* we created the clsact qdisc */

struct dg_attach {
	__u32 flags;		/* DG_ATTACH_* */
	__u32 hook;		/* enum dg_hook */
	__u32 ifindex;
	__u32 prog_id;		/* kernel program ID we attached */
	__u32 tc_handle;
	__u32 tc_priority;
	__u32 xdp_mode;		/* enum xdp_attach_mode (libxdp) */
	__u32 netns_ino;	/* the network namespace it was attached in
				 * (its nsfs inode); 0: not recorded */
	char ifname[DG_IFNAMSIZ]; /* name at attach time, for messages */
};

/*
 * The daemon's own counters: one value in the pinned, mmap-able array
 * dg_daemon, updated by the daemon with relaxed atomic adds and read by
 * `status` even when the daemon is hung or gone. Append fields only.
 */
#define DG_UPSTREAM_NAME 80	/* "IP:port#name", cut to fit */
#define DG_RTT_BUCKETS 16	/* upstream RTT, log2 buckets from <64 us */

/* Upstream failure reasons (append only). */
#define DG_UPFAILS(X)                                                       \
	X(TIMEOUT, "timeout")                                               \
	X(VERIFY, "verify")                                                 \
	X(NAME, "name-mismatch")                                            \
	X(PIN, "pin-mismatch")                                              \
	X(REFUSED, "refused")                                               \
	X(RESET, "reset")                                                   \
	X(HANDSHAKE, "handshake")                                           \
	X(MALFORMED, "malformed-answer")

#define DG_ENUM_UPFAIL(sym, name) DG_UF_##sym,
enum dg_upfail { DG_UPFAILS(DG_ENUM_UPFAIL) DG_UPFAIL_MAX };
#undef DG_ENUM_UPFAIL

enum dg_up_state { DG_UP_UNKNOWN = 0, DG_UP_UP, DG_UP_DOWN };

struct dg_upstream_stats {
	char name[DG_UPSTREAM_NAME];
	__u32 state;		/* enum dg_up_state */
	__u32 fallback;		/* 1: from FallbackDNS= */
	__u64 queries;		/* sent to it */
	__u64 answers;		/* answers accepted from it */
	__u64 fails[DG_UPFAIL_MAX];
	__u64 handshakes_full;
	__u64 handshakes_resumed;
	__u64 rtt_us_sum;	/* over answers: mean = sum / answers */
	__u64 conns_open;	/* gauge */
	__u64 cleartext;	/* opportunistic/plain queries on port 53 */
	__u64 saturated;	/* queries it had no free slot for: passed on */
};

struct dg_daemon_stats {
	__u64 started;		/* CLOCK_REALTIME s of the daemon's start */
	__u64 heartbeat;	/* CLOCK_REALTIME s, every second while alive */
	__u64 pid;
	__u64 queries_udp;
	__u64 queries_tcp;
	__u64 answers;		/* every answer sent, whatever its RCODE */
	__u64 servfail;		/* of which SERVFAIL we made */
	__u64 formerr;		/* malformed client queries answered */
	__u64 refused;		/* non-local clients, AXFR, ... */
	__u64 truncated;	/* UDP answers sent with TC */
	__u64 cache_hits;
	__u64 cache_misses;
	__u64 hosts_answers;
	__u64 inflight;		/* gauge: queries waiting on upstreams */
	__u64 retries;		/* queries moved to another connection */
	__u64 rtt_hist[DG_RTT_BUCKETS];
	struct dg_upstream_stats up[DG_MAX_UPSTREAMS];
	__u32 n_up;
	__u32 _pad;
	/* Redirected queries: frames the guard redirected to AF_XDP. */
	__u64 redirected_queries;	/* DNS queries taken from a frame */
	__u64 redirected_answers;	/* reply frames queued on the socket */
	__u64 redirected_bad_frames; /* not a UDP/53 query we can answer: dropped */
	__u64 redirected_tx_drops;	/* reply lost: no TX buffer or too big */
	__u64 redirected_rx_drops;	/* frames the kernel dropped before we saw
				 * them (AF_XDP RX ring full, bad frame) */
	__u64 link_events;	/* a guarded interface appeared, vanished or
				 * changed: the guard was re-applied */
	/* The config running now, so an audit can compare it with the file:
	 * a reload the daemon refused leaves the old one running. */
	__u64 reloads;		/* SIGHUPs whose config now runs */
	__u64 reloads_refused;	/* SIGHUPs refused: the running config stayed */
	__u64 config_loaded;	/* CLOCK_REALTIME s the running config was read */
	__u8 config_sha256[32];	/* of its file's bytes; all zero: no file */
	/* Fragmented queries the guard redirected (user/reasm.c). */
	__u64 redirected_fragments;	/* fragments taken */
	__u64 redirected_reassembled;	/* datagrams put back together */
	__u64 redirected_frag_drops;	/* datagrams given up: timeout, overlap,
					 * too big, too many fragments, evicted */
	__u64 redirected_bad_source;	/* queries an answer would reflect
					 * (group MAC, broadcast source): dropped */
	/* SERVFAILs made because every usable upstream had all its
	 * in-flight slots taken (not counted: no upstream answered). */
	__u64 upstreams_saturated;
	/* Cleartext upstream answers dropped as spoofs (user/plain.c): each
	 * query has its own socket, so anything else arriving on it is not
	 * the answer. The real one is still awaited until the attempt ends. */
	__u64 cleartext_bad_id;		/* another message ID (or no header) */
	__u64 cleartext_bad_case;	/* our question in another case (0x20) */
	__u64 cleartext_bad_answer;	/* not a response to our question */
	__u64 cleartext_waits;		/* queries that waited for a socket
					 * (DG_PLAIN_SOCKETS_MAX open) */
	__u64 cleartext_sockets;	/* gauge: cleartext sockets open */
	/* Hostile clients: what was done at each bound of limits.h's
	 * "clients" section. */
	__u64 client_limited;	/* SERVFAIL: the client had
				 * DG_CLIENT_INFLIGHT_MAX in flight */
	__u64 clients_full;	/* SERVFAIL: client table full of busy clients */
	__u64 clients_evicted;	/* idle client entries reused for new ones */
	__u64 queries_unanswerable; /* no DNS header, or a response (QR):
				     * UDP dropped, TCP connection closed */
	__u64 tcp_conns;	/* gauge: client TCP connections open */
	__u64 tcp_waiting_bytes; /* gauge: answer bytes TCP clients have
				  * not read yet */
	__u64 tcp_evicted;	/* idle connections closed for a newcomer */
	__u64 tcp_refused;	/* newcomers closed at once: budget or the
				 * client's share full of busy connections */
	__u64 tcp_paused;	/* times reading a connection stopped at
				 * its pipeline or backlog cap */
	__u64 tcp_closed_backlog; /* closed: its client stopped reading */
	__u64 tcp_closed_idle;	/* closed: idle or stalled past its timeout */
	__u64 redirected_rate_limited;	/* LAN queries past their client's
					 * answer rate: dropped unanswered */
	/* Interfaces Interface= matched that found no attach slot left
	 * (DG_MAX_SLOTS): not guarded, each counted once while it stays so. */
	__u64 links_unguarded;
};

_Static_assert(sizeof(struct dg_counter) == 16, "dg_counter layout");
_Static_assert(sizeof(struct dg_upstream_stats) % 8 == 0, "dg_upstream_stats layout");
_Static_assert(__builtin_offsetof(struct dg_daemon_stats, up) % 8 == 0,
	       "dg_daemon_stats layout");
_Static_assert(sizeof(struct dg_policy) == 16, "dg_policy layout");
_Static_assert(__builtin_offsetof(struct dg_policy, capture_ifindex) == 4,
	       "dg_policy layout");
_Static_assert(sizeof(struct dg_prog_cfg) == 16, "dg_prog_cfg layout");
_Static_assert(sizeof(struct dg_frag_key) == 40, "dg_frag_key layout");
_Static_assert(__builtin_offsetof(struct dg_frag_key, id) == 32,
	       "dg_frag_key layout");
_Static_assert(sizeof(struct dg_frag_val) == 16, "dg_frag_val layout");
_Static_assert(sizeof(struct dg_attach) == 48, "dg_attach layout");
_Static_assert(__builtin_offsetof(struct dg_attach, ifname) == 32,
	       "dg_attach layout");
_Static_assert(DG_R_RUNT > 0 && DG_R_TRUNCATED > 0,
	       "parsers return -reason, so parse-failure reasons must be > 0");

#endif /* DOTGUARD_ABI_H */
