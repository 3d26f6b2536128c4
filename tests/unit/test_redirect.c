// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/redirect.c's plan and detach: which attach points
 * redirect mode adds for host mode (the capture pair's far end: XDP and
 * tc-steer) and gateway mode (tc-steer per LAN port), none outside
 * redirect mode, its bound; and what it leaves in the kernel (the capture
 * veth pair, the TCP/53 steering rule and its table), checked with ip(8)
 * as a user would, then removed by dg_redirect_detach.
 *
 * Each test runs in a network namespace of its own, made by the test
 * process (unshare), so nothing reaches the host and nothing outlives the
 * test. Needs root; skipped with the reason printed otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "skip.h"

#include "capture.h"
#include "log.h"
#include "netlink.h"
#include "redirect.h"

#define MAX_T 16
#define OUT_MAX 4096

static struct dg_redirect r;
static struct dg_config cfg;
static struct dg_target t[MAX_T + 1];	/* [MAX_T]: a sentinel */
static int n;
static char last_error[256];

static void log_sink(enum dg_log_level level, const char *msg, void *arg)
{
	(void)arg;
	if (level == DG_LOG_ERROR)
		snprintf(last_error, sizeof(last_error), "%s", msg);
}

static const char *skip_why;

#define NEED_NETNS() SKIP_IF(skip_why)

/* A fresh namespace per test: lo only, no rule of ours, no pair. */
static int setup(void **state)
{
	(void)state;
	memset(t, 0, sizeof(t));
	t[MAX_T].ifindex = -77;
	n = 0;
	skip_why = NULL;
	if (geteuid() != 0)
		skip_why = "needs root (a network namespace)";
	else if (unshare(CLONE_NEWNET))
		skip_why = "cannot make a network namespace";
	if (skip_why)
		return 0;
	/* Up, as on any host: the steering table routes to it. */
	if (system("ip link set lo up"))
		return -1;
	log_set_sink(log_sink, NULL);
	last_error[0] = '\0';
	dg_redirect_init(&r, NULL, NULL);
	dg_config_defaults(&cfg);
	cfg.mode = DG_MODE_REDIRECT;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	/* Never written past what the plan was given. */
	assert_int_equal(t[MAX_T].ifindex, -77);
	log_set_sink(NULL, NULL);
	return 0;
}

/* ---- the world as ip(8) shows it ---- */

/* How many lines of cmd's output contain want. */
static int ip_count(const char *cmd, const char *want)
{
	char line[512];
	int count = 0;
	FILE *f;

	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		count += strstr(line, want) != NULL;
	assert_int_equal(pclose(f), 0);
	return count;
}

/* The steering rule and its table, in both families: 1 each, or 0. */
static void check_steering(int want)
{
	char rule[64];

	snprintf(rule, sizeof(rule), "fwmark %#x lookup %d", DG_STEER_MARK, DG_STEER_TABLE);
	assert_int_equal(ip_count("ip -4 rule show", rule), want);
	assert_int_equal(ip_count("ip -6 rule show", rule), want);
	assert_int_equal(ip_count("ip -4 rule show", "53:"), want);
	assert_int_equal(ip_count("ip -4 route show table all", "table 53053"), want);
	assert_int_equal(ip_count("ip -6 route show table all", "table 53053"), want);
	if (want) {
		assert_int_equal(ip_count("ip -4 route show table 53053",
					  "local default dev lo"), 1);
		assert_int_equal(ip_count("ip -6 route show table 53053",
					  "local default dev lo"), 1);
	}
}

static void ip(const char *cmd)
{
	assert_int_equal(system(cmd), 0);
}

/* A configured target, in the config as Interface= (an uplink: host
 * mode) or GatewayInterface= (a LAN port), and as the guard resolves it
 * for the plan: an interface that exists. */
static void target(const char *ifname, enum dg_hook hook)
{
	struct dg_link l;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "ip link add %s type veth peer name %sp", ifname, ifname);
	ip(cmd);
	assert_int_equal(dg_nl_link_get(ifname, &l), 0);
	assert_true(n < MAX_T);
	snprintf(t[n].ifname, sizeof(t[n].ifname), "%s", ifname);
	t[n].ifindex = l.ifindex;
	t[n].hook = hook;
	n++;
	if (hook == DG_HOOK_TC_EGRESS) {
		assert_true(cfg.n_ifaces < DG_CFG_MAX_IFACES);
		snprintf(cfg.ifaces[cfg.n_ifaces], sizeof(cfg.ifaces[0]), "%s", ifname);
		cfg.n_ifaces++;
	} else {
		assert_true(cfg.n_gw_ifaces < DG_CFG_MAX_IFACES);
		snprintf(cfg.gw_ifaces[cfg.n_gw_ifaces], sizeof(cfg.gw_ifaces[0]), "%s",
			 ifname);
		cfg.n_gw_ifaces++;
	}
}

/* A new config: no interfaces, no targets (those made stay). */
static void targets_reset(void)
{
	memset(t, 0, MAX_T * sizeof(t[0]));
	n = 0;
	cfg.n_ifaces = 0;
	cfg.n_gw_ifaces = 0;
}

static void check_target(int i, const char *ifname, int ifindex, enum dg_hook hook,
			 bool lan_port)
{
	assert_string_equal(t[i].ifname, ifname);
	assert_int_equal(t[i].ifindex, ifindex);
	assert_int_equal(t[i].hook, hook);
	assert_int_equal(t[i].lan_port, lan_port);
}

/* The capture pair as the stack sees it: a veth pair, both up, each end
 * with its link-local /32, loose rp_filter on the near end. */
static void check_pair(void)
{
	struct dg_link near, far;
	char rp[8] = "";
	FILE *f;

	assert_int_equal(dg_nl_link_get(DG_CAPTURE_NEAR, &near), 0);
	assert_int_equal(dg_nl_link_get(DG_CAPTURE_FAR, &far), 0);
	assert_string_equal(near.kind, "veth");
	assert_int_equal(near.peer_ifindex, far.ifindex);
	assert_true(near.flags & IFF_UP);
	assert_true(far.flags & IFF_UP);
	assert_int_equal(r.cap.near_ifindex, near.ifindex);
	assert_int_equal(r.cap.far_ifindex, far.ifindex);
	assert_memory_equal(r.cap.near_mac, near.mac, 6);
	assert_int_equal(ip_count("ip -4 -o addr show dev " DG_CAPTURE_NEAR,
				  DG_CAPTURE_ADDR4 "/32"), 1);
	assert_int_equal(ip_count("ip -4 -o addr show dev " DG_CAPTURE_FAR,
				  DG_CAPTURE_FAR_ADDR4 "/32"), 1);
	f = fopen("/proc/sys/net/ipv4/conf/" DG_CAPTURE_NEAR "/rp_filter", "r");
	assert_non_null(f);
	assert_non_null(fgets(rp, sizeof(rp), f));
	fclose(f);
	assert_string_equal(rp, "2\n");
}

static bool link_exists(const char *ifname)
{
	struct dg_link l;
	int err = dg_nl_link_get(ifname, &l);

	assert_true(err == 0 || err == -ENODEV);
	return err == 0;
}

/* ---- the tests ---- */

/* Test host mode: an uplink's plan gains the capture pair's far end
 * twice (XDP for UDP, tc-steer for TCP/53, not a LAN port), the pair and
 * the steering rule exist afterwards, and dg_redirect_detach(true)
 * removes both, leaving the uplink alone. */
static void test_plan_host(void **state)
{
	(void)state;
	NEED_NETNS();
	target("dgup0", DG_HOOK_TC_EGRESS);
	assert_int_equal(dg_redirect_plan(&r, &cfg, t, &n, MAX_T), 0);
	assert_int_equal(n, 3);
	check_target(0, "dgup0", t[0].ifindex, DG_HOOK_TC_EGRESS, false);
	check_pair();
	check_target(1, DG_CAPTURE_FAR, r.cap.far_ifindex, DG_HOOK_XDP_CAPTURE, false);
	check_target(2, DG_CAPTURE_FAR, r.cap.far_ifindex, DG_HOOK_TC_STEER, false);
	assert_true(r.steer);
	check_steering(1);

	assert_int_equal(dg_redirect_detach(true), 0);
	assert_false(link_exists(DG_CAPTURE_NEAR));
	assert_false(link_exists(DG_CAPTURE_FAR));
	assert_true(link_exists("dgup0"));
	check_steering(0);
}

/* Test gateway mode: each LAN port gains tc-steer on itself (a LAN
 * port), no capture pair is made, the steering rule is; detach without
 * the capture pair removes the rule. */
static void test_plan_gateway(void **state)
{
	(void)state;
	NEED_NETNS();
	target("lan0", DG_HOOK_XDP_GATEWAY);
	target("lan1", DG_HOOK_XDP_GATEWAY);
	assert_int_equal(dg_redirect_plan(&r, &cfg, t, &n, MAX_T), 0);
	assert_int_equal(n, 4);
	check_target(2, "lan0", t[0].ifindex, DG_HOOK_TC_STEER, true);
	check_target(3, "lan1", t[1].ifindex, DG_HOOK_TC_STEER, true);
	assert_false(link_exists(DG_CAPTURE_NEAR));
	assert_int_equal(r.cap.near_ifindex, 0);
	assert_true(r.steer);
	check_steering(1);

	assert_int_equal(dg_redirect_detach(false), 0);
	check_steering(0);
	assert_true(link_exists("lan0"));
}

/* Test a gateway that also guards its own uplink: both plans, the pair
 * once, the rule once. */
static void test_plan_both(void **state)
{
	(void)state;
	NEED_NETNS();
	target("dgup0", DG_HOOK_TC_EGRESS);
	target("lan0", DG_HOOK_XDP_GATEWAY);
	assert_int_equal(dg_redirect_plan(&r, &cfg, t, &n, MAX_T), 0);
	assert_int_equal(n, 5);
	check_target(2, "lan0", t[1].ifindex, DG_HOOK_TC_STEER, true);
	check_target(3, DG_CAPTURE_FAR, r.cap.far_ifindex, DG_HOOK_XDP_CAPTURE, false);
	check_target(4, DG_CAPTURE_FAR, r.cap.far_ifindex, DG_HOOK_TC_STEER, false);
	check_pair();
	check_steering(1);
	assert_int_equal(dg_redirect_detach(true), 0);
	check_steering(0);
	assert_false(link_exists(DG_CAPTURE_NEAR));
}

/* Test that outside redirect mode (drop, monitor) the plan adds nothing
 * and makes nothing: no pair, no rule, the targets as configured, and
 * what an earlier redirect plan said is forgotten. */
static void test_plan_not_redirect(void **state)
{
	static const enum dg_mode modes[] = { DG_MODE_DROP, DG_MODE_MONITOR };
	int i;

	(void)state;
	NEED_NETNS();
	target("dgup0", DG_HOOK_TC_EGRESS);
	target("lan0", DG_HOOK_XDP_GATEWAY);
	for (i = 0; i < 2; i++) {
		cfg.mode = modes[i];
		/* What a plan in redirect mode left, before a reload. */
		r.steer = true;
		r.cap.far_ifindex = 99;
		assert_int_equal(dg_redirect_plan(&r, &cfg, t, &n, MAX_T), 0);
		assert_int_equal(n, 2);
		assert_false(r.steer);
		assert_int_equal(r.cap.far_ifindex, 0);
		assert_false(link_exists(DG_CAPTURE_NEAR));
		check_steering(0);
	}
}

/* Test that a restart takes over the pair an earlier run left (same far
 * end, no second pair) and the rule is not added twice. */
static void test_plan_again(void **state)
{
	struct dg_target first[MAX_T];
	int n_first;

	(void)state;
	NEED_NETNS();
	target("dgup0", DG_HOOK_TC_EGRESS);
	assert_int_equal(dg_redirect_plan(&r, &cfg, t, &n, MAX_T), 0);
	memcpy(first, t, sizeof(first));
	n_first = n;
	n = 1;
	dg_redirect_init(&r, NULL, NULL);
	assert_int_equal(dg_redirect_plan(&r, &cfg, t, &n, MAX_T), 0);
	assert_int_equal(n, n_first);
	assert_memory_equal(t, first, sizeof(first));
	check_pair();
	check_steering(1);
	assert_int_equal(ip_count("ip -o link show", DG_CAPTURE_NEAR "@"), 1);
	assert_int_equal(dg_redirect_detach(true), 0);
	check_steering(0);
}

/* Test the bound: a plan that would pass max targets fails with -E2BIG
 * and a logged line, writes nothing past max, and adds no steering rule;
 * host and gateway mode alike. Exactly max is fine. */
static void test_plan_bound(void **state)
{
	(void)state;
	NEED_NETNS();
	target("lan0", DG_HOOK_XDP_GATEWAY);
	target("lan1", DG_HOOK_XDP_GATEWAY);
	assert_int_equal(dg_redirect_plan(&r, &cfg, t, &n, 3), -E2BIG);
	assert_true(n <= 3);
	assert_string_equal(last_error, "redirect mode: more attach points than 3");
	check_steering(0);
	n = 2;
	assert_int_equal(dg_redirect_plan(&r, &cfg, t, &n, 4), 0);
	assert_int_equal(n, 4);
	assert_int_equal(dg_redirect_detach(false), 0);

	targets_reset();
	target("dgup0", DG_HOOK_TC_EGRESS);
	assert_int_equal(dg_redirect_plan(&r, &cfg, t, &n, 2), -E2BIG);
	assert_true(n <= 2);
	check_steering(0);
	/* The pair it made stays for the next try; detach removes it. */
	assert_int_equal(dg_redirect_detach(true), 0);
	assert_false(link_exists(DG_CAPTURE_NEAR));

	/* Every config target, and room for nothing more. */
	targets_reset();
	while (n < MAX_T) {
		char name[16];

		snprintf(name, sizeof(name), "gw%d", n);
		target(name, DG_HOOK_XDP_GATEWAY);
	}
	assert_int_equal(dg_redirect_plan(&r, &cfg, t, &n, MAX_T), -E2BIG);
	assert_int_equal(n, MAX_T);
}

/* Test that an interface named like the capture end that is not our veth
 * pair is refused (-EEXIST, one line saying what to do), not taken over,
 * and that detach leaves it where it is. */
static void test_foreign_capture_name(void **state)
{
	(void)state;
	NEED_NETNS();
	ip("ip link add " DG_CAPTURE_NEAR " type bridge");
	target("dgup0", DG_HOOK_TC_EGRESS);
	assert_int_equal(dg_redirect_plan(&r, &cfg, t, &n, MAX_T), -EEXIST);
	assert_string_equal(last_error,
			    "capture: interface dg-cap exists but is not dotguard's capture pair (dg-cap <-> dg-cap-xsk): rename or remove it");
	assert_int_equal(n, 1);
	check_steering(0);
	assert_int_equal(dg_redirect_detach(true), -EEXIST);
	assert_true(link_exists(DG_CAPTURE_NEAR));
	assert_int_equal(ip_count("ip -d -o link show dev " DG_CAPTURE_NEAR, "bridge"), 1);
}

/* Test that a veth named dg-cap whose peer is not dg-cap-xsk is someone
 * else's: the plan refuses it and detach leaves it (and its peer) alone. */
static void test_foreign_capture_veth(void **state)
{
	(void)state;
	NEED_NETNS();
	ip("ip link add " DG_CAPTURE_NEAR " type veth peer name other0");
	target("dgup0", DG_HOOK_TC_EGRESS);
	assert_int_equal(dg_redirect_plan(&r, &cfg, t, &n, MAX_T), -EEXIST);
	assert_int_equal(dg_redirect_detach(true), -EEXIST);
	assert_true(link_exists(DG_CAPTURE_NEAR));
	assert_true(link_exists("other0"));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_plan_host),
		T(test_plan_gateway),
		T(test_plan_both),
		T(test_plan_not_redirect),
		T(test_plan_again),
		T(test_plan_bound),
		T(test_foreign_capture_name),
		T(test_foreign_capture_veth),
	};
#undef T

	/* Each namespace dies when the next test replaces it, the last
	 * with the process. */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
