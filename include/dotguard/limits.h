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

/* ---- the daemon's event loop ---- */

/* Deferred calls run in one pass of the loop; more wait for the next turn
 * (a defer that queues itself again cannot spin the loop). */
#define DG_LOOP_DEFER_PASS 4096

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

/* TCP connections to the stub from this host (127.0.0.0/8, ::1, the
 * host's addresses), and steered TCP/53 (redirected apps, LAN clients):
 * each kind its own budget, so one cannot starve the other. Full: the
 * connection of that kind idle longest (nothing in flight) is closed for
 * the newcomer ("tcp_evicted"); none idle: the newcomer is closed at once
 * ("tcp_refused"). */
#define DG_STUB_TCP_LOCAL_MAX 512
#define DG_STUB_TCP_STEERED_MAX 512
/* Connections one client address may hold in either budget. At it, that
 * client's own connection idle longest is closed for its newcomer; none
 * idle: the newcomer is closed at once. */
#define DG_STUB_TCP_PER_CLIENT 64
/* RFC 7766 6.2.3: a connection with nothing in flight and nothing
 * waiting to be sent is closed after this long. */
#define DG_STUB_TCP_IDLE_MS 10000
/* A connection whose client takes none of its waiting answers for this
 * long is closed (answers still owed are dropped). */
#define DG_STUB_TCP_STALL_MS 30000
/* Queries in flight per connection (RFC 7766 pipelining). At it, the
 * connection is not read ("tcp_paused") until one is answered. */
#define DG_STUB_TCP_PIPELINE 64
/* Answer bytes waiting for one client to read them (what the kernel's
 * socket buffer did not take). At PAUSE its queries are not read until
 * they drain below it ("tcp_paused"); the queries already in flight
 * still add theirs. An answer that would take them past MAX closes the
 * connection ("tcp_closed_backlog"): the client is not reading. MAX
 * holds a full pipeline of 16 KB answers. */
#define DG_STUB_TCP_WAIT_PAUSE (16 << 10)
#define DG_STUB_TCP_WAIT_MAX (1 << 20)
/* The same, summed over every connection: an answer that would take the
 * total past it closes its connection ("tcp_closed_backlog"). */
#define DG_STUB_TCP_WAIT_TOTAL (16 << 20)
/* The kernel's own buffers for one client connection (set on the
 * listeners, so autotuning cannot grow them to megabytes; Linux doubles
 * them): what a client that stops reading its answers, or sends queries
 * faster than they are read, makes the kernel hold for it. */
#define DG_STUB_TCP_SNDBUF (128 << 10)
#define DG_STUB_TCP_RCVBUF (64 << 10)
/* accept() out of descriptors and no idle connection to close: the
 * listener rests this long (the kernel's backlog holds newcomers). */
#define DG_STUB_ACCEPT_REST_MS 100

_Static_assert(DG_STUB_TCP_WAIT_MAX >= 2 + 65535,
	       "a connection's backlog must hold the largest answer whole");
_Static_assert(DG_STUB_TCP_WAIT_PAUSE < DG_STUB_TCP_WAIT_MAX &&
	       DG_STUB_TCP_WAIT_MAX <= DG_STUB_TCP_WAIT_TOTAL,
	       "pause reading before a backlog can reach its cap");
_Static_assert(DG_STUB_TCP_PER_CLIENT <= DG_STUB_TCP_LOCAL_MAX &&
	       DG_STUB_TCP_PER_CLIENT <= DG_STUB_TCP_STEERED_MAX,
	       "one client's share fits in either budget");
_Static_assert(DG_CLIENT_INFLIGHT_MAX <= DG_IDMAP_SLOTS,
	       "one client leaves room on a default pool");
_Static_assert(DG_CLIENTS_MAX > DG_STUB_TCP_LOCAL_MAX + DG_STUB_TCP_STEERED_MAX,
	       "TCP connections alone cannot fill the client table");

#endif /* DOTGUARD_LIMITS_H */
