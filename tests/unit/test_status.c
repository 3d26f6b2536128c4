// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* `dotguard status` output is a contract: assert its exact text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "status.h"

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

	snap.have_daemon = true;
	d->pid = 4242;
	d->started = snap.taken.tv_sec - 120;
	d->heartbeat = heartbeat;
	d->queries_udp = 90;
	d->queries_tcp = 10;
	d->answers = 100;
	d->cache_hits = 40;
	d->cache_misses = 60;
	d->servfail = 2;
	d->truncated = 1;
	d->redirected_queries = 7;
	d->redirected_answers = 6;
	d->redirected_bad_frames = 2;
	d->redirected_tx_drops = 1;
	d->redirected_rx_drops = 3;
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
	u = &d->up[1];
	snprintf(u->name, sizeof(u->name), "203.0.113.54:853#dns.test");
	u->state = DG_UP_DOWN;
	u->fallback = 1;
	u->queries = 2;
	u->fails[DG_UF_VERIFY] = 2;
	u->fails[DG_UF_TIMEOUT] = 1;
}

/* Test that the daemon section shows liveness, query totals, the RTT
 * histogram and one line per upstream with its failures by reason. */
static void test_text_daemon(void **state)
{
	char want[256];
	char *out;

	(void)state;
	fill();
	fill_daemon(snap.taken.tv_sec - 1);
	out = render(DG_STATUS_TEXT);
	assert_non_null(strstr(out,
		"daemon: pid 4242, running (heartbeat 1 s ago), started 120 s ago\n"
		"queries 107 (90 udp, 10 tcp, 7 redirected); answers 100; cache 40 hits, 60 misses; hosts 0\n"
		"errors: 2 servfail, 0 formerr, 0 refused; 1 truncated; 0 in flight; 0 retries\n"
		"redirected by the guard: 7 queries, 6 answered; 2 frames dropped as not a query, 1 answers lost (no TX room), 3 frames lost before the daemon (RX ring full)\n"
		"config: sha256 ababababababababababababababababababababababababababababababab01, read 30 s ago; reloads: 3 applied, 1 refused\n"
		"upstream rtt: <512 us 57, <2048 us 1\n"
		"\n"
		"UPSTREAM                                 STATE   QUERIES   ANSWERS   RTT_MS   FULL  RESUMED  OPEN  FAILURES\n"
		"203.0.113.53:853#dns.test                up           58        58     0.45      1        3     2  -\n"
		"203.0.113.54:853#dns.test                down          2         0        -      0        0     0  timeout 1, verify 2\n"));
	/* A heartbeat older than 3 s: hung or gone, and it says so. */
	fill_daemon(snap.taken.tv_sec - 10);
	out = render(DG_STATUS_TEXT);
	assert_non_null(strstr(out, "daemon: pid 4242, NOT RUNNING (heartbeat 10 s ago)"));
	out = render(DG_STATUS_PROMETHEUS);
	assert_non_null(strstr(out, "dotguard_daemon_up 0\n"));
	assert_non_null(strstr(out, "dotguard_upstream_up{upstream=\"203.0.113.54:853#dns.test\"} 0\n"));
	assert_non_null(strstr(out, "dotguard_upstream_failures_total{upstream=\"203.0.113.54:853#dns.test\",reason=\"verify\"} 2\n"));
	assert_non_null(strstr(out, "dotguard_upstream_rtt_seconds_bucket{le=\"0.000512\"} 57\n"));
	assert_non_null(strstr(out, "dotguard_upstream_rtt_seconds_count 58\n"));
	assert_non_null(strstr(out, "dotguard_redirected_total{outcome=\"bad_frame\"} 2\n"));
	assert_non_null(strstr(out, "dotguard_config_info{sha256=\"ababababababababababababababababababababababababababababababab01\"} 1\n"));
	assert_non_null(strstr(out, "dotguard_reloads_total{result=\"applied\"} 3\n"
				    "dotguard_reloads_total{result=\"refused\"} 1\n"));
	out = render(DG_STATUS_JSON);
	assert_non_null(strstr(out, "\"daemon\":{\"running\":false,\"pid\":4242,"));
	assert_non_null(strstr(out, "\"failures\":{\"timeout\":1,\"verify\":2,"));
	assert_non_null(strstr(out, "\"redirected_queries\":7,\"redirected_answers\":6,\"redirected_bad_frames\":2,\"redirected_tx_drops\":1,\"redirected_rx_drops\":3"));
	snprintf(want, sizeof(want),
		 "\"config\":{\"sha256\":\"ababababababababababababababababababababababababababababababab01\",\"loaded\":%llu,\"reloads\":3,\"reloads_refused\":1}",
		 (unsigned long long)snap.taken.tv_sec - 30);
	assert_non_null(strstr(out, want));
	/* No file (built-in defaults): no digest. */
	memset(snap.daemon.config_sha256, 0, sizeof(snap.daemon.config_sha256));
	out = render(DG_STATUS_JSON);
	assert_non_null(strstr(out, "\"config\":{\"sha256\":\"\",\"loaded\""));
	out = render(DG_STATUS_TEXT);
	assert_non_null(strstr(out, "config: built-in defaults, read 30 s ago;"));
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
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
