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
