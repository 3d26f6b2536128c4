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

/* ---- the kernel guard's maps ---- */

#define DG_MAX_SLOTS 16		/* attach points (interface x hook) */
#define DG_MAX_QUEUES 64	/* RX queues per gateway interface */
#define DG_MAX_OWN_SOCKETS 1024	/* daemon sockets in the cookie allow-list */
#define DG_MAX_FRAGS 4096	/* fragmented datagrams remembered (LRU) */

/* ---- upstreams ---- */

#define DG_MAX_UPSTREAMS 32	/* DNS= plus FallbackDNS= */
#define DG_IDMAP_SLOTS 1024	/* queries in flight per upstream connection */
/* Cleartext sockets open at once, all upstreams together: each UDP query
 * has its own (a fresh random source port), or its TCP retry after a
 * truncated answer. At the bound a query waits, oldest first, for one to
 * close, until its attempt times out; the pool then moves it on as from
 * a slow upstream. Each is on the cookie allow-list while open: half of
 * it at most, as a daemon killed with sockets open leaves their cookies
 * behind for its successor. */
#define DG_PLAIN_SOCKETS_MAX 256
_Static_assert(2 * DG_PLAIN_SOCKETS_MAX <= DG_MAX_OWN_SOCKETS,
	       "cleartext sockets must fit the cookie allow-list");

/* ---- clients ---- */

#define DG_STUB_TCP_MAX 256	/* client TCP connections at once */
#define DG_STUB_TCP_IDLE_MS 10000	/* RFC 7766 6.2.3: close idle clients */

#endif /* DOTGUARD_LIMITS_H */
