/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Every bound dotguard puts on what a packet, a client or an upstream can
 * make it hold or walk, in one place. The BPF programs and the daemon
 * both include it, so a limit the two sides must agree on is one define.
 * What happens at each bound is written next to it and tested.
 */
#ifndef DOTGUARD_LIMITS_H
#define DOTGUARD_LIMITS_H

/* ---- the packet parser (bpf/parse.h: guard, steering, answer frames) ---- */

/* 802.1Q / 802.1ad tags walked (QinQ + 1); more: "limit-vlan", dropped. */
#define DG_MAX_VLAN_DEPTH 3
/* IPv6 extension headers walked, in RFC 8200's order: options headers
 * (hop-by-hop, destination, routing) before and after one fragment
 * header and one AH; a longer or disordered chain: "limit-exthdr". */
#define DG_IPV6_OPTS_BEFORE 4
#define DG_IPV6_OPTS_AFTER 2
#define DG_MAX_EXTHDRS (DG_IPV6_OPTS_BEFORE + 2 + DG_IPV6_OPTS_AFTER)
#define DG_MAX_EXTCHAIN 1024	/* bytes of IPv6 extension chain walked */
/* No header the parser accepts starts past this many bytes into the frame
 * (L2 + 3 tags + PPPoE or MPLS, IPv6 + DG_MAX_EXTCHAIN, a fragment
 * header): readers re-deriving a header from its offset bound it here. */
#define DG_MAX_HDR_OFF 2048
/* MPLS labels walked to the bottom of the stack; deeper: "limit-mpls". */
#define DG_MAX_MPLS_LABELS 4

/* ---- the kernel guard's maps ---- */

/* Attach points (interface x hook): uplinks, gateway ports, and in
 * redirect mode a steering point per port and the capture pair's two.
 * Globs and Interface=auto may match more uplinks than fit: each one past
 * the bound gets one error line naming it and is counted
 * (links_unguarded), the rest stay guarded. The counters map holds
 * slots x reasons x actions x CPUs x 16 bytes (64: ~85 KiB per CPU). */
#define DG_MAX_SLOTS 64
#define DG_MAX_QUEUES 64	/* RX queues per gateway interface */
#define DG_MAX_OWN_SOCKETS 1024	/* daemon sockets in the cookie allow-list */
/* Fragmented datagrams whose first fragment was judged (LRU). A later
 * fragment whose record is gone (evicted by a flood, or never made: out of
 * order) is not passed: redirect mode hands it to the daemon, drop mode
 * drops it. */
#define DG_MAX_FRAGS 4096
/* A record older than this is forgotten: RFC 8200's reassembly time, twice
 * Linux's IPv4 default; a datagram id reused later is another datagram. */
#define DG_FRAG_TIMEOUT_S 60

/* ---- redirected queries (user/reasm.c: fragmented ones put together) ---- */

/* Datagrams being reassembled at once; one more evicts the oldest (its
 * query goes unanswered: the client retries). */
#define DG_REASM_DATAGRAMS 64
/* Bytes of one datagram after its IP header: a DNS query needs far less.
 * More: the datagram is dropped ("too-big"). */
#define DG_REASM_BYTES 4096
/* Fragments of one datagram; more: dropped ("too-many-fragments"). */
#define DG_REASM_FRAGS 16
/* A datagram still incomplete after this is dropped ("timeout"): its first
 * fragment was not DNS and went on, or never came. A stub resolver has
 * given up on it by then. */
#define DG_REASM_TIMEOUT_MS 3000

/* ---- upstreams ---- */

#define DG_MAX_UPSTREAMS 32	/* DNS= plus FallbackDNS= */
/* Queries in flight per upstream connection (its message IDs), so an
 * upstream holds at most DG_IDMAP_SLOTS x PoolSize. A full upstream
 * passes the next query to the next usable one, DNS= then FallbackDNS=
 * ("saturated" per upstream); when every usable one is full the client
 * gets SERVFAIL at once ("upstreams_saturated"). */
#define DG_IDMAP_SLOTS 1024
/* A query's whole time: past it the client gets SERVFAIL. */
#define DG_QUERY_DEADLINE_MS 3000
#define DG_QUERY_ATTEMPTS 4	/* sends per query, retries included; then SERVFAIL */
/* No answer in an attempt's time: try another connection or upstream;
 * not one byte from the connection in that time: it is closed (stalled). */
#define DG_ATTEMPT_TIMEOUT_MS 1200
#define DG_CONNECT_TIMEOUT_MS 2000	/* TCP + TLS handshake, then failed */
#define DG_IDLE_TIMEOUT_MS 30000	/* closed idle; sooner if the server's
					 * EDNS keepalive says so (RFC 7828) */
/* An upstream whose connection failed is down; it is probed again after
 * a backoff that doubles from MIN to MAX. */
#define DG_BACKOFF_MIN_MS 500
#define DG_BACKOFF_MAX_MS 4000

/* ---- clients ---- */

#define DG_STUB_TCP_MAX 256	/* client TCP connections at once */
#define DG_STUB_TCP_IDLE_MS 10000	/* RFC 7766 6.2.3: close idle clients */

#endif /* DOTGUARD_LIMITS_H */
