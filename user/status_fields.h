/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The daemon's counters as `dotguard status` shows them: one row per
 * field of struct dg_daemon_stats / struct dg_upstream_stats (abi.h).
 * Text, --json and --prometheus are all generated from these rows, so a
 * row added here appears in all three. Userspace only: the BPF side
 * never reads these names.
 *
 * Kinds (DG_FIELD_<kind>):
 *   COUNTER  __u64 that only grows; Prometheus name ends in _total
 *   GAUGE    __u64 that goes up and down
 *   TIME     __u64 CLOCK_REALTIME seconds; text "<text> N s ago",
 *            Prometheus gauge ending in _timestamp_seconds
 *   SHA256   __u8[32]; hex in JSON and text ("none" when all zero),
 *            Prometheus info gauge NAME{sha256="..."} 1
 *
 * Rows of one Prometheus metric share its name, kind and help text and
 * differ in labels; they are printed together under one # HELP/# TYPE.
 * Rows with the same text line go on one line, "line: a, b, c", in
 * table order. A JSON key "obj.key" nests key in object obj.
 */
#ifndef DG_STATUS_FIELDS_H
#define DG_STATUS_FIELDS_H

/* X(field, kind, "json key", "prometheus name", "prometheus labels",
 *   "text line", "text", "help") */
#define DG_DAEMON_FIELDS(X)                                                    \
	X(queries_udp, COUNTER, "queries_udp", "dotguard_queries_total", "transport=\"udp\"", "queries", "udp", "Client queries by transport.") \
	X(queries_tcp, COUNTER, "queries_tcp", "dotguard_queries_total", "transport=\"tcp\"", "queries", "tcp", "Client queries by transport.") \
	X(answers, COUNTER, "answers", "dotguard_answers_total", "", "answers", "sent", "Answers sent to clients.") \
	X(servfail, COUNTER, "servfail", "dotguard_errors_total", "kind=\"servfail\"", "errors", "servfail", "Error answers by RCODE, and truncations.") \
	X(formerr, COUNTER, "formerr", "dotguard_errors_total", "kind=\"formerr\"", "errors", "formerr", "Error answers by RCODE, and truncations.") \
	X(refused, COUNTER, "refused", "dotguard_errors_total", "kind=\"refused\"", "errors", "refused", "Error answers by RCODE, and truncations.") \
	X(truncated, COUNTER, "truncated", "dotguard_errors_total", "kind=\"truncated\"", "errors", "truncated", "Error answers by RCODE, and truncations.") \
	X(cache_hits, COUNTER, "cache_hits", "dotguard_cache_total", "result=\"hit\"", "cache", "hits", "Cache lookups by result.") \
	X(cache_misses, COUNTER, "cache_misses", "dotguard_cache_total", "result=\"miss\"", "cache", "misses", "Cache lookups by result.") \
	X(hosts_answers, COUNTER, "hosts_answers", "dotguard_hosts_answers_total", "", "answers", "from hosts", "Answers taken from the hosts file.") \
	X(inflight, GAUGE, "inflight", "dotguard_inflight", "", "upstream queries", "in flight", "Queries waiting on upstreams.") \
	X(retries, COUNTER, "retries", "dotguard_retries_total", "", "upstream queries", "retried", "Queries moved to another upstream connection.") \
	X(redirected_queries, COUNTER, "redirected_queries", "dotguard_redirected_total", "outcome=\"query\"", "redirected by the guard", "queries", "Queries the guard redirected to the daemon, by outcome.") \
	X(redirected_answers, COUNTER, "redirected_answers", "dotguard_redirected_total", "outcome=\"answered\"", "redirected by the guard", "answered", "Queries the guard redirected to the daemon, by outcome.") \
	X(redirected_bad_frames, COUNTER, "redirected_bad_frames", "dotguard_redirected_total", "outcome=\"bad_frame\"", "redirected by the guard", "frames dropped as not a query", "Queries the guard redirected to the daemon, by outcome.") \
	X(redirected_tx_drops, COUNTER, "redirected_tx_drops", "dotguard_redirected_total", "outcome=\"answer_lost\"", "redirected by the guard", "answers lost (no TX room)", "Queries the guard redirected to the daemon, by outcome.") \
	X(redirected_rx_drops, COUNTER, "redirected_rx_drops", "dotguard_redirected_total", "outcome=\"rx_lost\"", "redirected by the guard", "frames lost before the daemon (RX ring full)", "Queries the guard redirected to the daemon, by outcome.") \
	X(redirected_fragments, COUNTER, "redirected_fragments", "dotguard_redirected_fragments_total", "outcome=\"taken\"", "redirected fragments", "taken", "Fragments of redirected queries, by outcome.") \
	X(redirected_reassembled, COUNTER, "redirected_reassembled", "dotguard_redirected_fragments_total", "outcome=\"reassembled\"", "redirected fragments", "datagrams reassembled", "Fragments of redirected queries, by outcome.") \
	X(redirected_frag_drops, COUNTER, "redirected_frag_drops", "dotguard_redirected_fragments_total", "outcome=\"datagram_dropped\"", "redirected fragments", "datagrams given up (timeout, overlap, too big)", "Fragments of redirected queries, by outcome.") \
	X(redirected_bad_source, COUNTER, "redirected_bad_source", "dotguard_redirected_total", "outcome=\"bad_source\"", "redirected by the guard", "dropped: the answer would reflect", "Queries the guard redirected to the daemon, by outcome.") \
	X(redirected_rate_limited, COUNTER, "redirected_rate_limited", "dotguard_redirected_total", "outcome=\"rate_limited\"", "redirected by the guard", "dropped: the client's answer rate", "Queries the guard redirected to the daemon, by outcome.") \
	X(upstreams_saturated, COUNTER, "upstreams_saturated", "dotguard_upstreams_saturated_total", "", "upstream queries", "servfail with every upstream full", "SERVFAILs made because every usable upstream had all its in-flight slots taken.") \
	X(cleartext_bad_id, COUNTER, "cleartext_bad_id", "dotguard_cleartext_spoofs_total", "kind=\"bad_id\"", "cleartext answers dropped", "wrong id", "Cleartext upstream answers dropped as spoofs, by what was wrong.") \
	X(cleartext_bad_case, COUNTER, "cleartext_bad_case", "dotguard_cleartext_spoofs_total", "kind=\"bad_case\"", "cleartext answers dropped", "wrong letter case (0x20)", "Cleartext upstream answers dropped as spoofs, by what was wrong.") \
	X(cleartext_bad_answer, COUNTER, "cleartext_bad_answer", "dotguard_cleartext_spoofs_total", "kind=\"bad_answer\"", "cleartext answers dropped", "not an answer to the question", "Cleartext upstream answers dropped as spoofs, by what was wrong.") \
	X(cleartext_waits, COUNTER, "cleartext_waits", "dotguard_cleartext_waits_total", "", "cleartext sockets", "queries waited for one", "Cleartext queries that waited for a socket (the bound was reached).") \
	X(cleartext_sockets, GAUGE, "cleartext_sockets", "dotguard_cleartext_sockets", "", "cleartext sockets", "open", "Cleartext upstream sockets open now.") \
	X(client_limited, COUNTER, "client_limited", "dotguard_client_limits_total", "kind=\"inflight\"", "clients held back", "servfail: too many in flight", "Queries refused at a per-client bound, by which.") \
	X(clients_full, COUNTER, "clients_full", "dotguard_client_limits_total", "kind=\"table_full\"", "clients held back", "servfail: client table full", "Queries refused at a per-client bound, by which.") \
	X(clients_evicted, COUNTER, "clients_evicted", "dotguard_clients_evicted_total", "", "clients held back", "idle entries reused", "Idle client entries reused for new clients.") \
	X(queries_unanswerable, COUNTER, "queries_unanswerable", "dotguard_queries_unanswerable_total", "", "queries", "unanswerable (no header, or a response)", "Client messages that were no query: UDP dropped, TCP connection closed.") \
	X(tcp_conns, GAUGE, "tcp_conns", "dotguard_tcp_connections", "", "tcp clients", "open", "Client TCP connections open now.") \
	X(tcp_waiting_bytes, GAUGE, "tcp_waiting_bytes", "dotguard_tcp_waiting_bytes", "", "tcp clients", "answer bytes unread", "Answer bytes TCP clients have not read yet.") \
	X(tcp_evicted, COUNTER, "tcp_evicted", "dotguard_tcp_closed_total", "reason=\"evicted\"", "tcp clients", "idle closed for a newcomer", "Client TCP connections closed by the daemon, by why.") \
	X(tcp_refused, COUNTER, "tcp_refused", "dotguard_tcp_closed_total", "reason=\"refused\"", "tcp clients", "newcomers refused", "Client TCP connections closed by the daemon, by why.") \
	X(tcp_closed_backlog, COUNTER, "tcp_closed_backlog", "dotguard_tcp_closed_total", "reason=\"not_reading\"", "tcp clients", "closed: not reading", "Client TCP connections closed by the daemon, by why.") \
	X(tcp_closed_idle, COUNTER, "tcp_closed_idle", "dotguard_tcp_closed_total", "reason=\"idle\"", "tcp clients", "closed: idle", "Client TCP connections closed by the daemon, by why.") \
	X(tcp_paused, COUNTER, "tcp_paused", "dotguard_tcp_paused_total", "", "tcp clients", "reads paused at a cap", "Times reading a TCP client stopped at its pipeline or backlog cap.") \
	X(link_events, COUNTER, "link_events", "dotguard_link_events_total", "", "guarded links", "changes (guard re-applied)", "Guarded interfaces that appeared, vanished or changed.") \
	X(links_unguarded, COUNTER, "links_unguarded", "dotguard_links_unguarded_total", "", "guarded links", "NOT guarded (no attach slot left)", "Interfaces Interface= matched that found no attach slot left.") \
	X(config_sha256, SHA256, "config.sha256", "dotguard_config_info", "", "config", "sha256", "The running config's SHA-256 (empty: built-in defaults).") \
	X(config_loaded, TIME, "config.loaded", "dotguard_config_loaded_timestamp_seconds", "", "config", "read", "When the running config was read, in Unix seconds.") \
	X(reloads, COUNTER, "config.reloads", "dotguard_reloads_total", "result=\"applied\"", "config", "reloads applied", "SIGHUPs, by whether the new config was applied.") \
	X(reloads_refused, COUNTER, "config.reloads_refused", "dotguard_reloads_total", "result=\"refused\"", "config", "reloads refused", "SIGHUPs, by whether the new config was applied.")

/* Shown by hand, not counters: started, heartbeat, pid (the daemon line
 * and dotguard_daemon_up), rtt_hist (a histogram), up[] and n_up (the
 * upstream rows), _pad. DG_DAEMON_FIELDS_BY_HAND(X) lists them so status.c
 * can check at compile time that every byte of the struct is shown. */
#define DG_DAEMON_FIELDS_BY_HAND(X)                                            \
	X(started) X(heartbeat) X(pid) X(rtt_hist) X(up) X(n_up) X(_pad)

/* One upstream: X(field, kind, "json key", "prometheus name",
 * "prometheus labels", "text column", "help"). Prometheus rows carry the
 * upstream="IP:port#name" label first; kinds COUNTER and GAUGE only. */
#define DG_UPSTREAM_FIELDS(X)                                                  \
	X(queries, COUNTER, "queries", "dotguard_upstream_queries_total", "", "QUERIES", "Queries sent to the upstream.") \
	X(answers, COUNTER, "answers", "dotguard_upstream_answers_total", "", "ANSWERS", "Answers accepted per upstream.") \
	X(handshakes_full, COUNTER, "handshakes_full", "dotguard_upstream_handshakes_total", "kind=\"full\"", "FULL", "TLS handshakes, full or resumed.") \
	X(handshakes_resumed, COUNTER, "handshakes_resumed", "dotguard_upstream_handshakes_total", "kind=\"resumed\"", "RESUMED", "TLS handshakes, full or resumed.") \
	X(conns_open, GAUGE, "conns_open", "dotguard_upstream_open_connections", "", "OPEN", "Connections open to the upstream.") \
	X(cleartext, COUNTER, "cleartext", "dotguard_upstream_cleartext_queries_total", "", "CLEARTEXT", "Queries sent in cleartext on port 53 (opportunistic or DNSOverTLS=no).") \
	X(saturated, COUNTER, "saturated", "dotguard_upstream_saturated_total", "", "SPILLED", "Queries passed to the next upstream: every in-flight slot here was taken.")

/* Shown by hand: name (the row's label), state and fallback, fails[]
 * (by DG_UPFAILS), rtt_us_sum (the mean RTT; Prometheus gets the sum). */
#define DG_UPSTREAM_FIELDS_BY_HAND(X)                                          \
	X(name) X(state) X(fallback) X(fails) X(rtt_us_sum)

#endif /* DG_STATUS_FIELDS_H */
