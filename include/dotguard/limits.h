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

/* ---- clients ---- */

/*
 * A client is an address: IPv4 /32 (IPv4-mapped IPv6 too), IPv6 /64 (one
 * end site, or one LAN: every SLAAC host on a /64 shares its budget).
 */
#define DG_CLIENT_V6_PREFIX 64
/* Clients tracked at once (user/clients.c). Full: the entry idle longest
 * (no query in flight, no TCP connection) is reused; none idle: the query
 * gets SERVFAIL at once ("clients_full"), a TCP connection is closed
 * ("tcp_refused"), dg_clients_rate_ok() says no. */
#define DG_CLIENTS_MAX 8192
/* Queries one client may have waiting on upstreams (every transport).
 * Past it: SERVFAIL at once ("client_limited"). Half of one upstream's
 * default pool (PoolSize=2 x DG_IDMAP_SLOTS), so one client leaves the
 * other half to the rest; dnsperf at 1000 in flight stays under it. */
#define DG_CLIENT_INFLIGHT_MAX 1024
/* Answers per second per client, and the burst, for dg_clients_rate_ok()
 * (the gateway's reflection guard): past them it says no. */
#define DG_CLIENT_RATE 2000
#define DG_CLIENT_BURST 4000

_Static_assert(DG_CLIENT_INFLIGHT_MAX <= DG_IDMAP_SLOTS,
	       "one client leaves room on a default pool");

#define DG_STUB_TCP_MAX 256	/* client TCP connections at once */
#define DG_STUB_TCP_IDLE_MS 10000	/* RFC 7766 6.2.3: close idle clients */

#endif /* DOTGUARD_LIMITS_H */
