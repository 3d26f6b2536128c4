// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* `dotguard status` output is a contract: assert its exact text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "status.h"
#include "status_fields.h"

static struct dg_snapshot snap;

static void fill(void)
{
	memset(&snap, 0, sizeof(snap));
	snap.taken.tv_sec = 1795428000; /* 2026-11-23T10:00:00Z */
	snap.policy.mode = DG_MODE_DROP;
	snap.att[0] = (struct dg_attach){ .flags = DG_ATTACH_USED,
					  .hook = DG_HOOK_TC_EGRESS,
					  .ifindex = 2, .prog_id = 41,
					  .ifname = "eth0" };
	snap.att[3] = (struct dg_attach){ .flags = DG_ATTACH_USED,
					  .hook = DG_HOOK_XDP_GATEWAY,
					  .ifindex = 7, .prog_id = 42,
					  .ifname = "lan0" };
	snap.state[3] = DG_STATE_MISSING;
	snap.sum[0][DG_R_NON_DNS][DG_A_PASS] = (struct dg_counter){ 100, 9000 };
	snap.sum[0][DG_R_DNS_UDP4][DG_A_DROP] = (struct dg_counter){ 3, 210 };
	snap.sum[3][DG_R_DNS_TCP6][DG_A_DROP] = (struct dg_counter){ 2, 180 };
	/* An unused slot's counters are never shown. */
	snap.sum[5][DG_R_DNS_UDP4][DG_A_DROP] = (struct dg_counter){ 99, 99 };
}

static char *render(enum dg_status_format fmt)
{
	static char buf[16384];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	assert_non_null(f);
	dg_status_render(f, &snap, "/sys/fs/bpf/dotguard", fmt);
	fclose(f);
	return buf;
}

/* Test that the human table shows the headline, totals, attach points
 * with their state, and only non-zero counter rows of used slots. */
static void test_text(void **state)
{
	(void)state;
	fill();
	assert_string_equal(render(DG_STATUS_TEXT),
		"dotguard: mode drop, 2 attach points (SOME NOT ATTACHED), pins at /sys/fs/bpf/dotguard, read 2026-11-23T10:00:00Z\n"
		"seen 105 packets: 100 pass, 0 monitor, 5 drop, 0 redirect, 0 fail-closed\n"
		"\n"
		"INTERFACE        HOOK         STATE     PROGRAM\n"
		"eth0             tc-egress    attached  41\n"
		"lan0             xdp-gateway  missing   42\n"
		"\n"
		"INTERFACE        HOOK         REASON          ACTION            PACKETS          BYTES\n"
		"eth0             tc-egress    non-dns         pass                  100           9000\n"
		"eth0             tc-egress    dns-udp4        drop                    3            210\n"
		"lan0             xdp-gateway  dns-tcp6        drop                    2            180\n"
		"\n"
		"daemon: none has run with these pins\n");
}

/* Test that --json carries the same facts in the documented shape. */
static void test_json(void **state)
{
	(void)state;
	fill();
	assert_string_equal(render(DG_STATUS_JSON),
		"{\"version\":1,\"pin_path\":\"/sys/fs/bpf/dotguard\",\"time\":\"2026-11-23T10:00:00Z\",\"mode\":\"drop\","
		"\"attached\":[{\"slot\":0,\"interface\":\"eth0\",\"ifindex\":2,\"hook\":\"tc-egress\",\"prog_id\":41,\"state\":\"attached\"},"
		"{\"slot\":3,\"interface\":\"lan0\",\"ifindex\":7,\"hook\":\"xdp-gateway\",\"prog_id\":42,\"state\":\"missing\"}],"
		"\"totals\":{\"seen\":105,\"pass\":100,\"monitor\":0,\"drop\":5,\"redirect\":0,\"fail-closed\":0},"
		"\"counters\":[{\"interface\":\"eth0\",\"hook\":\"tc-egress\",\"reason\":\"non-dns\",\"action\":\"pass\",\"packets\":100,\"bytes\":9000},"
		"{\"interface\":\"eth0\",\"hook\":\"tc-egress\",\"reason\":\"dns-udp4\",\"action\":\"drop\",\"packets\":3,\"bytes\":210},"
		"{\"interface\":\"lan0\",\"hook\":\"xdp-gateway\",\"reason\":\"dns-tcp6\",\"action\":\"drop\",\"packets\":2,\"bytes\":180}],"
		"\"daemon\":{\"running\":false}}\n");
}

/* Test that --prometheus is valid exposition text: HELP/TYPE per family,
 * labels quoted, every action present even at zero, attach state and
 * mode as gauges. */
static void test_prometheus(void **state)
{
	char *out;

	(void)state;
	fill();
	out = render(DG_STATUS_PROMETHEUS);
	assert_non_null(strstr(out,
		"# HELP dotguard_packets_total Packets the guard saw, by attach point, reason and action.\n"
		"# TYPE dotguard_packets_total counter\n"
		"dotguard_packets_total{interface=\"eth0\",hook=\"tc-egress\",reason=\"non-dns\",action=\"pass\"} 100\n"
		"dotguard_packets_total{interface=\"eth0\",hook=\"tc-egress\",reason=\"dns-udp4\",action=\"drop\"} 3\n"
		"dotguard_packets_total{interface=\"lan0\",hook=\"xdp-gateway\",reason=\"dns-tcp6\",action=\"drop\"} 2\n"));
	assert_non_null(strstr(out,
		"dotguard_bytes_total{interface=\"eth0\",hook=\"tc-egress\",reason=\"dns-udp4\",action=\"drop\"} 210\n"));
	assert_non_null(strstr(out, "dotguard_action_packets_total{action=\"fail-closed\"} 0\n"));
	assert_non_null(strstr(out, "dotguard_action_packets_total{action=\"drop\"} 5\n"));
	assert_non_null(strstr(out, "dotguard_attach_up{interface=\"eth0\",hook=\"tc-egress\"} 1\n"
				    "dotguard_attach_up{interface=\"lan0\",hook=\"xdp-gateway\"} 0\n"));
	assert_non_null(strstr(out, "dotguard_mode{mode=\"redirect\"} 0\n"
				    "dotguard_mode{mode=\"drop\"} 1\n"
				    "dotguard_mode{mode=\"monitor\"} 0\n"));
	assert_null(strstr(out, "99"));
}

static void fill_daemon(__u64 heartbeat)
{
	struct dg_daemon_stats *d = &snap.daemon;
	struct dg_upstream_stats *u;

	memset(d, 0, sizeof(*d));
	snap.have_daemon = true;
	d->pid = 4242;
	d->started = snap.taken.tv_sec - 120;
	d->heartbeat = heartbeat;
	d->queries_udp = 90;
	d->queries_tcp = 10;
	d->answers = 100;
	d->cache_hits = 40;
	d->cache_misses = 60;
	d->hosts_answers = 4;
	d->servfail = 2;
	d->truncated = 1;
	d->inflight = 5;
	d->retries = 8;
	d->redirected_queries = 7;
	d->redirected_answers = 6;
	d->redirected_bad_frames = 2;
	d->redirected_tx_drops = 1;
	d->redirected_rx_drops = 3;
	d->link_events = 9;
	d->links_unguarded = 2;
	d->redirected_fragments = 11;
	d->redirected_reassembled = 4;
	d->redirected_frag_drops = 1;
	d->redirected_bad_source = 5;
	d->upstreams_saturated = 6;
	d->cleartext_bad_id = 13;
	d->cleartext_bad_case = 14;
	d->cleartext_bad_answer = 15;
	d->cleartext_waits = 16;
	d->cleartext_sockets = 17;
	d->client_limited = 18;
	d->clients_full = 19;
	d->clients_evicted = 20;
	d->queries_unanswerable = 21;
	d->tcp_conns = 22;
	d->tcp_waiting_bytes = 23;
	d->tcp_evicted = 24;
	d->tcp_refused = 25;
	d->tcp_paused = 26;
	d->tcp_closed_backlog = 27;
	d->tcp_closed_idle = 28;
	d->redirected_rate_limited = 29;
	d->reloads = 3;
	d->reloads_refused = 1;
	d->config_loaded = snap.taken.tv_sec - 30;
	memset(d->config_sha256, 0xab, sizeof(d->config_sha256));
	d->config_sha256[31] = 0x01;
	d->rtt_hist[3] = 57;	/* [256, 512) us */
	d->rtt_hist[5] = 1;
	d->n_up = 2;
	u = &d->up[0];
	snprintf(u->name, sizeof(u->name), "203.0.113.53:853#dns.test");
	u->state = DG_UP_UP;
	u->queries = 58;
	u->answers = 58;
	u->rtt_us_sum = 58 * 450;
	u->handshakes_full = 1;
	u->handshakes_resumed = 3;
	u->conns_open = 2;
	u->saturated = 12;
	u = &d->up[1];
	snprintf(u->name, sizeof(u->name), "203.0.113.54:853#dns.test");
	u->state = DG_UP_DOWN;
	u->fallback = 1;
	u->queries = 2;
	u->cleartext = 2;
	u->fails[DG_UF_VERIFY] = 2;
	u->fails[DG_UF_TIMEOUT] = 1;
}

/* The part of an output from its daemon section on. */
static const char *daemon_part(const char *out, const char *start)
{
	const char *p = strstr(out, start);

	assert_non_null(p);
	return p;
}

/* Test that the daemon section shows liveness, every counter on its line,
 * the RTT histogram and one row per upstream with its failures. */
static void test_text_daemon(void **state)
{
	char *out;

	(void)state;
	fill();
	fill_daemon(snap.taken.tv_sec - 1);
	out = render(DG_STATUS_TEXT);
	assert_string_equal(daemon_part(out, "\ndaemon:"),
		"\n"
		"daemon: pid 4242, running (heartbeat 1 s ago), started 120 s ago\n"
		"queries: 90 udp, 10 tcp, 21 unanswerable (no header, or a response)\n"
		"answers: 100 sent, 4 from hosts\n"
		"errors: 2 servfail, 0 formerr, 0 refused, 1 truncated\n"
		"cache: 40 hits, 60 misses\n"
		"upstream queries: 5 in flight, 8 retried, 6 servfail with every upstream full\n"
		"redirected by the guard: 7 queries, 6 answered, 2 frames dropped as not a query, 1 answers lost (no TX room), 3 frames lost before the daemon (RX ring full), 5 dropped: the answer would reflect, 29 dropped: the client's answer rate\n"
		"redirected fragments: 11 taken, 4 datagrams reassembled, 1 datagrams given up (timeout, overlap, too big)\n"
		"cleartext answers dropped: 13 wrong id, 14 wrong letter case (0x20), 15 not an answer to the question\n"
		"cleartext sockets: 16 queries waited for one, 17 open\n"
		"clients held back: 18 servfail: too many in flight, 19 servfail: client table full, 20 idle entries reused\n"
		"tcp clients: 22 open, 23 answer bytes unread, 24 idle closed for a newcomer, 25 newcomers refused, 27 closed: not reading, 28 closed: idle, 26 reads paused at a cap\n"
		"guarded links: 9 changes (guard re-applied), 2 NOT guarded (no attach slot left)\n"
		"config: sha256 ababababababababababababababababababababababababababababababab01, read 30 s ago, 3 reloads applied, 1 reloads refused\n"
		"upstream rtt: <512 us 57, <2048 us 1\n"
		"\n"
		"UPSTREAM                                 STATE   QUERIES   ANSWERS      FULL   RESUMED      OPEN CLEARTEXT   SPILLED   RTT_MS  FAILURES\n"
		"203.0.113.53:853#dns.test                up           58        58         1         3         2         0        12     0.45  -\n"
		"203.0.113.54:853#dns.test                down          2         0         0         0         0         2         0        -  timeout 1, verify 2\n");
	/* A heartbeat older than 3 s: hung or gone, and it says so. */
	fill_daemon(snap.taken.tv_sec - 10);
	out = render(DG_STATUS_TEXT);
	assert_non_null(strstr(out, "daemon: pid 4242, NOT RUNNING (heartbeat 10 s ago)"));
	/* No file (built-in defaults): no digest. */
	memset(snap.daemon.config_sha256, 0, sizeof(snap.daemon.config_sha256));
	out = render(DG_STATUS_TEXT);
	assert_non_null(strstr(out, "\nconfig: sha256 none, read 30 s ago,"));
}

/* Test that --json's daemon object carries every counter under the keys
 * scripts read (tests/net/dot.sh's dstat), the config as an object. */
static void test_json_daemon(void **state)
{
	char *out;

	(void)state;
	fill();
	fill_daemon(snap.taken.tv_sec - 1);
	out = render(DG_STATUS_JSON);
	assert_string_equal(daemon_part(out, "\"daemon\":"),
		"\"daemon\":{\"running\":true,\"pid\":4242,\"started\":1795427880,\"heartbeat\":1795427999,\"queries_udp\":90,"
		"\"queries_tcp\":10,\"answers\":100,\"servfail\":2,\"formerr\":0,\"refused\":0,\"truncated\":1,\"cache_hits\":40,"
		"\"cache_misses\":60,\"hosts_answers\":4,\"inflight\":5,\"retries\":8,\"redirected_queries\":7,\"redirected_answers\":6,"
		"\"redirected_bad_frames\":2,\"redirected_tx_drops\":1,\"redirected_rx_drops\":3,\"redirected_fragments\":11,"
		"\"redirected_reassembled\":4,\"redirected_frag_drops\":1,\"redirected_bad_source\":5,\"redirected_rate_limited\":29,"
		"\"upstreams_saturated\":6,\"cleartext_bad_id\":13,\"cleartext_bad_case\":14,\"cleartext_bad_answer\":15,"
		"\"cleartext_waits\":16,\"cleartext_sockets\":17,\"client_limited\":18,\"clients_full\":19,\"clients_evicted\":20,"
		"\"queries_unanswerable\":21,\"tcp_conns\":22,\"tcp_waiting_bytes\":23,\"tcp_evicted\":24,\"tcp_refused\":25,"
		"\"tcp_closed_backlog\":27,\"tcp_closed_idle\":28,\"tcp_paused\":26,\"link_events\":9,\"links_unguarded\":2,"
		"\"config\":{\"sha256\":\"ababababababababababababababababababababababababababababababab01\",\"loaded\":1795427970,"
		"\"reloads\":3,\"reloads_refused\":1},\"rtt_us_hist\":[{\"le\":64,\"count\":0},{\"le\":128,\"count\":0},{\"le\":256,\"count\":0},"
		"{\"le\":512,\"count\":57},{\"le\":1024,\"count\":0},{\"le\":2048,\"count\":1},{\"le\":4096,\"count\":0},{\"le\":8192,\"count\":0},"
		"{\"le\":16384,\"count\":0},{\"le\":32768,\"count\":0},{\"le\":65536,\"count\":0},{\"le\":131072,\"count\":0},{\"le\":262144,"
		"\"count\":0},{\"le\":524288,\"count\":0},{\"le\":1048576,\"count\":0},{\"le\":2097152,\"count\":0}],"
		"\"upstreams\":[{\"name\":\"203.0.113.53:853#dns.test\",\"fallback\":false,\"state\":\"up\",\"queries\":58,\"answers\":58,"
		"\"handshakes_full\":1,\"handshakes_resumed\":3,\"conns_open\":2,\"cleartext\":0,\"saturated\":12,\"rtt_us_mean\":450,"
		"\"failures\":{\"timeout\":0,\"verify\":0,\"name-mismatch\":0,\"pin-mismatch\":0,\"refused\":0,\"reset\":0,\"handshake\":0,"
		"\"malformed-answer\":0}},{\"name\":\"203.0.113.54:853#dns.test\",\"fallback\":true,\"state\":\"down\",\"queries\":2,"
		"\"answers\":0,\"handshakes_full\":0,\"handshakes_resumed\":0,\"conns_open\":0,\"cleartext\":2,\"saturated\":0,"
		"\"rtt_us_mean\":0,\"failures\":{\"timeout\":1,\"verify\":2,\"name-mismatch\":0,\"pin-mismatch\":0,\"refused\":0,\"reset\":0,"
		"\"handshake\":0,\"malformed-answer\":0}}]}}\n");
	fill_daemon(snap.taken.tv_sec - 10);
	out = render(DG_STATUS_JSON);
	assert_non_null(strstr(out, "\"daemon\":{\"running\":false,\"pid\":4242,"));
	/* No file (built-in defaults): no digest. */
	memset(snap.daemon.config_sha256, 0, sizeof(snap.daemon.config_sha256));
	out = render(DG_STATUS_JSON);
	assert_non_null(strstr(out, "\"config\":{\"sha256\":\"\",\"loaded\""));
}

/* Test that --prometheus exposes every daemon counter and gauge, one
 * # HELP/# TYPE per metric, counters named _total, upstreams labelled. */
static void test_prometheus_daemon(void **state)
{
	char *out;

	(void)state;
	fill();
	fill_daemon(snap.taken.tv_sec - 1);
	out = render(DG_STATUS_PROMETHEUS);
	assert_string_equal(daemon_part(out, "# HELP dotguard_daemon_up "),
		"# HELP dotguard_daemon_up 1 while the daemon's heartbeat is fresh.\n"
		"# TYPE dotguard_daemon_up gauge\n"
		"dotguard_daemon_up 1\n"
		"# HELP dotguard_daemon_start_time_seconds When the daemon started, in Unix seconds.\n"
		"# TYPE dotguard_daemon_start_time_seconds gauge\n"
		"dotguard_daemon_start_time_seconds 1795427880\n"
		"# HELP dotguard_daemon_heartbeat_timestamp_seconds The daemon's last heartbeat (every second while alive), in Unix seconds.\n"
		"# TYPE dotguard_daemon_heartbeat_timestamp_seconds gauge\n"
		"dotguard_daemon_heartbeat_timestamp_seconds 1795427999\n"
		"# HELP dotguard_queries_total Client queries by transport.\n"
		"# TYPE dotguard_queries_total counter\n"
		"dotguard_queries_total{transport=\"udp\"} 90\n"
		"dotguard_queries_total{transport=\"tcp\"} 10\n"
		"# HELP dotguard_answers_total Answers sent to clients.\n"
		"# TYPE dotguard_answers_total counter\n"
		"dotguard_answers_total 100\n"
		"# HELP dotguard_errors_total Error answers by RCODE, and truncations.\n"
		"# TYPE dotguard_errors_total counter\n"
		"dotguard_errors_total{kind=\"servfail\"} 2\n"
		"dotguard_errors_total{kind=\"formerr\"} 0\n"
		"dotguard_errors_total{kind=\"refused\"} 0\n"
		"dotguard_errors_total{kind=\"truncated\"} 1\n"
		"# HELP dotguard_cache_total Cache lookups by result.\n"
		"# TYPE dotguard_cache_total counter\n"
		"dotguard_cache_total{result=\"hit\"} 40\n"
		"dotguard_cache_total{result=\"miss\"} 60\n"
		"# HELP dotguard_hosts_answers_total Answers taken from the hosts file.\n"
		"# TYPE dotguard_hosts_answers_total counter\n"
		"dotguard_hosts_answers_total 4\n"
		"# HELP dotguard_inflight Queries waiting on upstreams.\n"
		"# TYPE dotguard_inflight gauge\n"
		"dotguard_inflight 5\n"
		"# HELP dotguard_retries_total Queries moved to another upstream connection.\n"
		"# TYPE dotguard_retries_total counter\n"
		"dotguard_retries_total 8\n"
		"# HELP dotguard_redirected_total Queries the guard redirected to the daemon, by outcome.\n"
		"# TYPE dotguard_redirected_total counter\n"
		"dotguard_redirected_total{outcome=\"query\"} 7\n"
		"dotguard_redirected_total{outcome=\"answered\"} 6\n"
		"dotguard_redirected_total{outcome=\"bad_frame\"} 2\n"
		"dotguard_redirected_total{outcome=\"answer_lost\"} 1\n"
		"dotguard_redirected_total{outcome=\"rx_lost\"} 3\n"
		"dotguard_redirected_total{outcome=\"bad_source\"} 5\n"
		"dotguard_redirected_total{outcome=\"rate_limited\"} 29\n"
		"# HELP dotguard_redirected_fragments_total Fragments of redirected queries, by outcome.\n"
		"# TYPE dotguard_redirected_fragments_total counter\n"
		"dotguard_redirected_fragments_total{outcome=\"taken\"} 11\n"
		"dotguard_redirected_fragments_total{outcome=\"reassembled\"} 4\n"
		"dotguard_redirected_fragments_total{outcome=\"datagram_dropped\"} 1\n"
		"# HELP dotguard_upstreams_saturated_total SERVFAILs made because every usable upstream had all its in-flight slots taken.\n"
		"# TYPE dotguard_upstreams_saturated_total counter\n"
		"dotguard_upstreams_saturated_total 6\n"
		"# HELP dotguard_cleartext_spoofs_total Cleartext upstream answers dropped as spoofs, by what was wrong.\n"
		"# TYPE dotguard_cleartext_spoofs_total counter\n"
		"dotguard_cleartext_spoofs_total{kind=\"bad_id\"} 13\n"
		"dotguard_cleartext_spoofs_total{kind=\"bad_case\"} 14\n"
		"dotguard_cleartext_spoofs_total{kind=\"bad_answer\"} 15\n"
		"# HELP dotguard_cleartext_waits_total Cleartext queries that waited for a socket (the bound was reached).\n"
		"# TYPE dotguard_cleartext_waits_total counter\n"
		"dotguard_cleartext_waits_total 16\n"
		"# HELP dotguard_cleartext_sockets Cleartext upstream sockets open now.\n"
		"# TYPE dotguard_cleartext_sockets gauge\n"
		"dotguard_cleartext_sockets 17\n"
		"# HELP dotguard_client_limits_total Queries refused at a per-client bound, by which.\n"
		"# TYPE dotguard_client_limits_total counter\n"
		"dotguard_client_limits_total{kind=\"inflight\"} 18\n"
		"dotguard_client_limits_total{kind=\"table_full\"} 19\n"
		"# HELP dotguard_clients_evicted_total Idle client entries reused for new clients.\n"
		"# TYPE dotguard_clients_evicted_total counter\n"
		"dotguard_clients_evicted_total 20\n"
		"# HELP dotguard_queries_unanswerable_total Client messages that were no query: UDP dropped, TCP connection closed.\n"
		"# TYPE dotguard_queries_unanswerable_total counter\n"
		"dotguard_queries_unanswerable_total 21\n"
		"# HELP dotguard_tcp_connections Client TCP connections open now.\n"
		"# TYPE dotguard_tcp_connections gauge\n"
		"dotguard_tcp_connections 22\n"
		"# HELP dotguard_tcp_waiting_bytes Answer bytes TCP clients have not read yet.\n"
		"# TYPE dotguard_tcp_waiting_bytes gauge\n"
		"dotguard_tcp_waiting_bytes 23\n"
		"# HELP dotguard_tcp_closed_total Client TCP connections closed by the daemon, by why.\n"
		"# TYPE dotguard_tcp_closed_total counter\n"
		"dotguard_tcp_closed_total{reason=\"evicted\"} 24\n"
		"dotguard_tcp_closed_total{reason=\"refused\"} 25\n"
		"dotguard_tcp_closed_total{reason=\"not_reading\"} 27\n"
		"dotguard_tcp_closed_total{reason=\"idle\"} 28\n"
		"# HELP dotguard_tcp_paused_total Times reading a TCP client stopped at its pipeline or backlog cap.\n"
		"# TYPE dotguard_tcp_paused_total counter\n"
		"dotguard_tcp_paused_total 26\n"
		"# HELP dotguard_link_events_total Guarded interfaces that appeared, vanished or changed.\n"
		"# TYPE dotguard_link_events_total counter\n"
		"dotguard_link_events_total 9\n"
		"# HELP dotguard_links_unguarded_total Interfaces Interface= matched that found no attach slot left.\n"
		"# TYPE dotguard_links_unguarded_total counter\n"
		"dotguard_links_unguarded_total 2\n"
		"# HELP dotguard_config_info The running config's SHA-256 (empty: built-in defaults).\n"
		"# TYPE dotguard_config_info gauge\n"
		"dotguard_config_info{sha256=\"ababababababababababababababababababababababababababababababab01\"} 1\n"
		"# HELP dotguard_config_loaded_timestamp_seconds When the running config was read, in Unix seconds.\n"
		"# TYPE dotguard_config_loaded_timestamp_seconds gauge\n"
		"dotguard_config_loaded_timestamp_seconds 1795427970\n"
		"# HELP dotguard_reloads_total SIGHUPs, by whether the new config was applied.\n"
		"# TYPE dotguard_reloads_total counter\n"
		"dotguard_reloads_total{result=\"applied\"} 3\n"
		"dotguard_reloads_total{result=\"refused\"} 1\n"
		"# HELP dotguard_upstream_rtt_seconds Upstream round trips.\n"
		"# TYPE dotguard_upstream_rtt_seconds histogram\n"
		"dotguard_upstream_rtt_seconds_bucket{le=\"0.000064\"} 0\n"
		"dotguard_upstream_rtt_seconds_bucket{le=\"0.000128\"} 0\n"
		"dotguard_upstream_rtt_seconds_bucket{le=\"0.000256\"} 0\n"
		"dotguard_upstream_rtt_seconds_bucket{le=\"0.000512\"} 57\n"
		"dotguard_upstream_rtt_seconds_bucket{le=\"0.001024\"} 57\n"
		"dotguard_upstream_rtt_seconds_bucket{le=\"0.002048\"} 58\n"
		"dotguard_upstream_rtt_seconds_bucket{le=\"0.004096\"} 58\n"
		"dotguard_upstream_rtt_seconds_bucket{le=\"0.008192\"} 58\n"
		"dotguard_upstream_rtt_seconds_bucket{le=\"0.016384\"} 58\n"
		"dotguard_upstream_rtt_seconds_bucket{le=\"0.032768\"} 58\n"
		"dotguard_upstream_rtt_seconds_bucket{le=\"0.065536\"} 58\n"
		"dotguard_upstream_rtt_seconds_bucket{le=\"0.131072\"} 58\n"
		"dotguard_upstream_rtt_seconds_bucket{le=\"0.262144\"} 58\n"
		"dotguard_upstream_rtt_seconds_bucket{le=\"0.524288\"} 58\n"
		"dotguard_upstream_rtt_seconds_bucket{le=\"1.048576\"} 58\n"
		"dotguard_upstream_rtt_seconds_bucket{le=\"+Inf\"} 58\n"
		"dotguard_upstream_rtt_seconds_count 58\n"
		"# HELP dotguard_upstream_up 1 when the upstream is usable.\n"
		"# TYPE dotguard_upstream_up gauge\n"
		"dotguard_upstream_up{upstream=\"203.0.113.53:853#dns.test\"} 1\n"
		"dotguard_upstream_up{upstream=\"203.0.113.54:853#dns.test\"} 0\n"
		"# HELP dotguard_upstream_queries_total Queries sent to the upstream.\n"
		"# TYPE dotguard_upstream_queries_total counter\n"
		"dotguard_upstream_queries_total{upstream=\"203.0.113.53:853#dns.test\"} 58\n"
		"dotguard_upstream_queries_total{upstream=\"203.0.113.54:853#dns.test\"} 2\n"
		"# HELP dotguard_upstream_answers_total Answers accepted per upstream.\n"
		"# TYPE dotguard_upstream_answers_total counter\n"
		"dotguard_upstream_answers_total{upstream=\"203.0.113.53:853#dns.test\"} 58\n"
		"dotguard_upstream_answers_total{upstream=\"203.0.113.54:853#dns.test\"} 0\n"
		"# HELP dotguard_upstream_handshakes_total TLS handshakes, full or resumed.\n"
		"# TYPE dotguard_upstream_handshakes_total counter\n"
		"dotguard_upstream_handshakes_total{upstream=\"203.0.113.53:853#dns.test\",kind=\"full\"} 1\n"
		"dotguard_upstream_handshakes_total{upstream=\"203.0.113.53:853#dns.test\",kind=\"resumed\"} 3\n"
		"dotguard_upstream_handshakes_total{upstream=\"203.0.113.54:853#dns.test\",kind=\"full\"} 0\n"
		"dotguard_upstream_handshakes_total{upstream=\"203.0.113.54:853#dns.test\",kind=\"resumed\"} 0\n"
		"# HELP dotguard_upstream_open_connections Connections open to the upstream.\n"
		"# TYPE dotguard_upstream_open_connections gauge\n"
		"dotguard_upstream_open_connections{upstream=\"203.0.113.53:853#dns.test\"} 2\n"
		"dotguard_upstream_open_connections{upstream=\"203.0.113.54:853#dns.test\"} 0\n"
		"# HELP dotguard_upstream_cleartext_queries_total Queries sent in cleartext on port 53 (opportunistic or DNSOverTLS=no).\n"
		"# TYPE dotguard_upstream_cleartext_queries_total counter\n"
		"dotguard_upstream_cleartext_queries_total{upstream=\"203.0.113.53:853#dns.test\"} 0\n"
		"dotguard_upstream_cleartext_queries_total{upstream=\"203.0.113.54:853#dns.test\"} 2\n"
		"# HELP dotguard_upstream_saturated_total Queries passed to the next upstream: every in-flight slot here was taken.\n"
		"# TYPE dotguard_upstream_saturated_total counter\n"
		"dotguard_upstream_saturated_total{upstream=\"203.0.113.53:853#dns.test\"} 12\n"
		"dotguard_upstream_saturated_total{upstream=\"203.0.113.54:853#dns.test\"} 0\n"
		"# HELP dotguard_upstream_round_trip_seconds_total Round trips of accepted answers, summed: over dotguard_upstream_answers_total, the mean.\n"
		"# TYPE dotguard_upstream_round_trip_seconds_total counter\n"
		"dotguard_upstream_round_trip_seconds_total{upstream=\"203.0.113.53:853#dns.test\"} 0.026100\n"
		"dotguard_upstream_round_trip_seconds_total{upstream=\"203.0.113.54:853#dns.test\"} 0.000000\n"
		"# HELP dotguard_upstream_failures_total Upstream failures by reason.\n"
		"# TYPE dotguard_upstream_failures_total counter\n"
		"dotguard_upstream_failures_total{upstream=\"203.0.113.53:853#dns.test\",reason=\"timeout\"} 0\n"
		"dotguard_upstream_failures_total{upstream=\"203.0.113.53:853#dns.test\",reason=\"verify\"} 0\n"
		"dotguard_upstream_failures_total{upstream=\"203.0.113.53:853#dns.test\",reason=\"name-mismatch\"} 0\n"
		"dotguard_upstream_failures_total{upstream=\"203.0.113.53:853#dns.test\",reason=\"pin-mismatch\"} 0\n"
		"dotguard_upstream_failures_total{upstream=\"203.0.113.53:853#dns.test\",reason=\"refused\"} 0\n"
		"dotguard_upstream_failures_total{upstream=\"203.0.113.53:853#dns.test\",reason=\"reset\"} 0\n"
		"dotguard_upstream_failures_total{upstream=\"203.0.113.53:853#dns.test\",reason=\"handshake\"} 0\n"
		"dotguard_upstream_failures_total{upstream=\"203.0.113.53:853#dns.test\",reason=\"malformed-answer\"} 0\n"
		"dotguard_upstream_failures_total{upstream=\"203.0.113.54:853#dns.test\",reason=\"timeout\"} 1\n"
		"dotguard_upstream_failures_total{upstream=\"203.0.113.54:853#dns.test\",reason=\"verify\"} 2\n"
		"dotguard_upstream_failures_total{upstream=\"203.0.113.54:853#dns.test\",reason=\"name-mismatch\"} 0\n"
		"dotguard_upstream_failures_total{upstream=\"203.0.113.54:853#dns.test\",reason=\"pin-mismatch\"} 0\n"
		"dotguard_upstream_failures_total{upstream=\"203.0.113.54:853#dns.test\",reason=\"refused\"} 0\n"
		"dotguard_upstream_failures_total{upstream=\"203.0.113.54:853#dns.test\",reason=\"reset\"} 0\n"
		"dotguard_upstream_failures_total{upstream=\"203.0.113.54:853#dns.test\",reason=\"handshake\"} 0\n"
		"dotguard_upstream_failures_total{upstream=\"203.0.113.54:853#dns.test\",reason=\"malformed-answer\"} 0\n"
		"# HELP dotguard_mode The live guard mode (1 for the mode in force).\n"
		"# TYPE dotguard_mode gauge\n"
		"dotguard_mode{mode=\"redirect\"} 0\n"
		"dotguard_mode{mode=\"drop\"} 1\n"
		"dotguard_mode{mode=\"monitor\"} 0\n");
	fill_daemon(snap.taken.tv_sec - 10);
	out = render(DG_STATUS_PROMETHEUS);
	assert_non_null(strstr(out, "\ndotguard_daemon_up 0\n"));
	memset(snap.daemon.config_sha256, 0, sizeof(snap.daemon.config_sha256));
	out = render(DG_STATUS_PROMETHEUS);
	assert_non_null(strstr(out, "\ndotguard_config_info{sha256=\"\"} 1\n"));
}

/* The tables again, expanded here so the test does not trust status.c's
 * copy of them. */
struct row {
	size_t off;
	const char *kind, *json, *prom, *labels, *line, *text, *help;
};

#define DAEMON_ROW(f, k, j, p, l, ln, t, h) \
	{ offsetof(struct dg_daemon_stats, f), #k, j, p, l, ln, t, h },
#define UPSTREAM_ROW(f, k, j, p, l, col, h) \
	{ offsetof(struct dg_upstream_stats, f), #k, j, p, l, NULL, col, h },
static const struct row daemon_rows[] = { DG_DAEMON_FIELDS(DAEMON_ROW) };
static const struct row upstream_rows[] = { DG_UPSTREAM_FIELDS(UPSTREAM_ROW) };
#define N_DAEMON ((int)(sizeof(daemon_rows) / sizeof(daemon_rows[0])))
#define N_UPSTREAM ((int)(sizeof(upstream_rows) / sizeof(upstream_rows[0])))

static bool kind_is(const struct row *r, const char *k)
{
	return !strcmp(r->kind, k);
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && !strcmp(s + n - t, tail);
}

/* The line of out that starts with prefix, without its newline. */
static const char *line_of(const char *out, const char *prefix, char *buf,
			   size_t size)
{
	size_t n = strlen(prefix);
	const char *p = out, *end;

	while (p && *p) {
		end = strchr(p, '\n');
		if (!end)
			end = p + strlen(p);
		if (!strncmp(p, prefix, n)) {
			snprintf(buf, size, "%.*s", (int)(end - p), p);
			return buf;
		}
		p = *end ? end + 1 : NULL;
	}
	return NULL;
}

/* The JSON object text that follows "key":{ in out, up to its '}'. */
static const char *json_obj_of(const char *out, const char *key, char *buf,
			       size_t size)
{
	char want[64];
	const char *p, *end;

	snprintf(want, sizeof(want), "\"%s\":{", key);
	p = strstr(out, want);
	if (!p)
		return NULL;
	p += strlen(want);
	end = strchr(p, '}');
	snprintf(buf, size, "%.*s", (int)(end - p), p);
	return buf;
}

/* Test that every field in the tables shows in all three formats, with
 * its own value: a row added to status_fields.h cannot miss a format. */
static void test_every_field(void **state)
{
	char line[1024], obj[4096], want[512], key[64], *out;
	__u64 v;
	int i, k;

	(void)state;
	fill();
	fill_daemon(snap.taken.tv_sec - 1);
	for (i = 0; i < N_DAEMON; i++) {
		const struct row *r = &daemon_rows[i];
		char *at = (char *)&snap.daemon + r->off;

		if (kind_is(r, "SHA256")) {
			for (k = 0; k < 32; k++)
				at[k] = (char)(0xc0 + i);
			continue;
		}
		v = kind_is(r, "TIME") ? (__u64)snap.taken.tv_sec - (200 + i) : 1000u + i;
		memcpy(at, &v, sizeof(v));
	}
	for (i = 0; i < N_UPSTREAM; i++) {
		v = 2000 + i;
		memcpy((char *)&snap.daemon.up[0] + upstream_rows[i].off, &v, sizeof(v));
	}

	for (i = 0; i < N_DAEMON; i++) {
		const struct row *r = &daemon_rows[i];
		const char *dot = strchr(r->json, '.');
		char hex[65] = "", val[32];

		for (k = 0; k < 32; k++)
			snprintf(hex + 2 * k, 3, "%02x", 0xc0 + i);
		if (kind_is(r, "SHA256"))
			snprintf(val, sizeof(val), "%s", "");
		else if (kind_is(r, "TIME"))
			snprintf(val, sizeof(val), "%llu",
				 (__u64)snap.taken.tv_sec - (200 + i));
		else
			snprintf(val, sizeof(val), "%d", 1000 + i);

		/* text: "line: ..., VALUE text, ..." */
		out = render(DG_STATUS_TEXT);
		snprintf(want, sizeof(want), "%s: ", r->line);
		assert_non_null(line_of(out, want, line, sizeof(line)));
		if (kind_is(r, "SHA256"))
			snprintf(want, sizeof(want), " %s %s", r->text, hex);
		else if (kind_is(r, "TIME"))
			snprintf(want, sizeof(want), " %s %d s ago", r->text, 200 + i);
		else
			snprintf(want, sizeof(want), " %s %s", val, r->text);
		if (!strstr(line, want))
			fail_msg("text: %s: no '%s' in '%s'", r->json, want, line);

		/* JSON: "key":VALUE in the daemon object or its nested one */
		out = render(DG_STATUS_JSON);
		if (dot) {
			snprintf(key, sizeof(key), "%.*s", (int)(dot - r->json), r->json);
			assert_non_null(json_obj_of(out, key, obj, sizeof(obj)));
			snprintf(key, sizeof(key), "%s", dot + 1);
		} else {
			assert_non_null(json_obj_of(out, "daemon", obj, sizeof(obj)));
			snprintf(key, sizeof(key), "%s", r->json);
		}
		if (kind_is(r, "SHA256"))
			snprintf(want, sizeof(want), "\"%s\":\"%s\"", key, hex);
		else
			snprintf(want, sizeof(want), "\"%s\":%s", key, val);
		if (!strstr(obj, want))
			fail_msg("json: no '%s' in '%s'", want, obj);

		/* Prometheus: HELP and TYPE, then the sample */
		out = render(DG_STATUS_PROMETHEUS);
		snprintf(want, sizeof(want), "\n# HELP %s %s\n# TYPE %s %s\n", r->prom,
			 r->help, r->prom, kind_is(r, "COUNTER") ? "counter" : "gauge");
		if (!strstr(out, want))
			fail_msg("prometheus: no '%s'", want);
		if (kind_is(r, "SHA256"))
			snprintf(want, sizeof(want), "\n%s{%s%ssha256=\"%s\"} 1\n", r->prom,
				 r->labels, r->labels[0] ? "," : "", hex);
		else if (r->labels[0])
			snprintf(want, sizeof(want), "\n%s{%s} %s\n", r->prom, r->labels, val);
		else
			snprintf(want, sizeof(want), "\n%s %s\n", r->prom, val);
		if (!strstr(out, want))
			fail_msg("prometheus: no '%s'", want);
	}

	for (i = 0; i < N_UPSTREAM; i++) {
		const struct row *r = &upstream_rows[i];
		char head[1024];
		const char *h, *c;
		int col;

		/* text: the value right-aligned under its column heading */
		out = render(DG_STATUS_TEXT);
		assert_non_null(line_of(out, "UPSTREAM ", head, sizeof(head)));
		assert_non_null(line_of(out, "203.0.113.53:853#dns.test ", line, sizeof(line)));
		snprintf(want, sizeof(want), " %s ", r->text);
		h = strstr(head, want);
		assert_non_null(h);
		col = (int)(h - head) + (int)strlen(want) - 1;
		snprintf(want, sizeof(want), " %d", 2000 + i);
		c = strstr(line, want);
		if (!c || (int)(c - line) + (int)strlen(want) != col)
			fail_msg("text: %s not under %s in\n%s\n%s", want, r->text, head, line);

		out = render(DG_STATUS_JSON);
		snprintf(want, sizeof(want), "\"%s\":%d,", r->json, 2000 + i);
		c = strstr(out, "\"upstreams\":[{\"name\":\"203.0.113.53:853#dns.test\"");
		assert_non_null(c);
		snprintf(obj, sizeof(obj), "%.*s", (int)(strchr(c, '}') - c), c);
		if (!strstr(obj, want))
			fail_msg("json: no '%s' in '%s'", want, obj);

		out = render(DG_STATUS_PROMETHEUS);
		snprintf(want, sizeof(want), "\n# HELP %s %s\n# TYPE %s %s\n", r->prom,
			 r->help, r->prom, kind_is(r, "COUNTER") ? "counter" : "gauge");
		if (!strstr(out, want))
			fail_msg("prometheus: no '%s'", want);
		snprintf(want, sizeof(want), "\n%s{upstream=\"203.0.113.53:853#dns.test\"%s%s} %d\n",
			 r->prom, r->labels[0] ? "," : "", r->labels, 2000 + i);
		if (!strstr(out, want))
			fail_msg("prometheus: no '%s'", want);
	}
}

static bool prom_name_ok(const char *n)
{
	const char *p;

	if (strncmp(n, "dotguard_", 9))
		return false;
	for (p = n; *p; p++)
		if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
			return false;
	return true;
}

/* Fails on the first row of t that breaks a convention. */
static void check_rows(const struct row *t, int n, bool upstream)
{
	int i, k;

	for (i = 0; i < n; i++) {
		const struct row *r = &t[i];

		if (!prom_name_ok(r->prom))
			fail_msg("%s: bad metric name %s", r->json, r->prom);
		if (upstream && strncmp(r->prom, "dotguard_upstream_", 18))
			fail_msg("%s: upstream metric %s lacks dotguard_upstream_", r->json, r->prom);
		if (kind_is(r, "COUNTER") != ends_with(r->prom, "_total"))
			fail_msg("%s: %s: _total is for counters and only counters", r->json, r->prom);
		if (kind_is(r, "TIME") != ends_with(r->prom, "_timestamp_seconds"))
			fail_msg("%s: %s: a TIME is _timestamp_seconds", r->json, r->prom);
		if (kind_is(r, "SHA256") != ends_with(r->prom, "_info"))
			fail_msg("%s: %s: a SHA256 is an _info metric", r->json, r->prom);
		if (!r->help[0] || strpbrk(r->help, "\\\n"))
			fail_msg("%s: help must be one line without backslashes", r->json);
		if (!r->text[0] || (!upstream && !r->line[0]))
			fail_msg("%s: no text", r->json);
		for (k = 0; k < i; k++) {
			const struct row *o = &t[k];

			if (!strcmp(r->json, o->json))
				fail_msg("JSON key %s twice", r->json);
			if (!strcmp(r->prom, o->prom) &&
			    (strcmp(r->kind, o->kind) || strcmp(r->help, o->help)))
				fail_msg("%s: rows of one metric differ in kind or help", r->prom);
			if (!strcmp(r->prom, o->prom) && !strcmp(r->labels, o->labels))
				fail_msg("%s{%s} twice", r->prom, r->labels);
			if (!upstream && !strcmp(r->line, o->line) && !strcmp(r->text, o->text))
				fail_msg("text '%s: %s' twice", r->line, r->text);
			if (upstream && !strcmp(r->text, o->text))
				fail_msg("column %s twice", r->text);
		}
	}
}

/* Test that the tables follow the conventions their outputs promise:
 * Prometheus names by kind (counters _total, timestamps
 * _timestamp_seconds, info gauges _info), one kind and help per metric,
 * no JSON key, metric sample or text item given twice. */
static void test_table_conventions(void **state)
{
	int i, k;

	(void)state;
	check_rows(daemon_rows, N_DAEMON, false);
	check_rows(upstream_rows, N_UPSTREAM, true);
	/* Upstream metrics never share a name with a daemon metric. */
	for (i = 0; i < N_UPSTREAM; i++)
		for (k = 0; k < N_DAEMON; k++)
			assert_string_not_equal(upstream_rows[i].prom, daemon_rows[k].prom);
}

/* Test that every reason and action has its status name, and out-of-range
 * codes from a newer build's pins do not crash an older reader. */
static void test_names(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < DG_REASON_MAX; i++)
		assert_string_not_equal(dg_reason_name(i), "unknown");
	assert_string_equal(dg_reason_name(DG_R_DNS_UDP6), "dns-udp6");
	assert_string_equal(dg_reason_name(DG_REASON_MAX), "unknown");
	assert_string_equal(dg_reason_name(-1), "unknown");
	assert_string_equal(dg_action_name(DG_A_FAIL_CLOSED), "fail-closed");
	assert_string_equal(dg_action_name(DG_ACTION_MAX), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_prometheus),
		cmocka_unit_test(test_text_daemon),
		cmocka_unit_test(test_json_daemon),
		cmocka_unit_test(test_prometheus_daemon),
		cmocka_unit_test(test_every_field),
		cmocka_unit_test(test_table_conventions),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
