// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for the guard's target selection (dg_guard_select): which
 * interfaces host mode guards, given the config, a host's links and the
 * devices of its default routes. Pure: no netlink, no BPF.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <net/if.h> /* before linux/if*.h: libc-compat needs it first */
#include <linux/if_arp.h>

#include "config.h"
#include "guard.h"
#include "log.h"

#define MAX_LOGS 256
#define HOST_LINKS 128

static struct {
	enum dg_log_level level;
	char text[512];
} logs[MAX_LOGS];
static int n_logs;

static struct dg_config cfg;
static struct dg_link links[HOST_LINKS];
static int n_links;
static int defaults[HOST_LINKS];
static int n_defaults;
static struct dg_target t[DG_TARGETS_MAX];
static struct dg_target prev[DG_TARGETS_MAX];

static void capture(enum dg_log_level level, const char *msg, void *arg)
{
	(void)arg;
	if (n_logs >= MAX_LOGS)
		return;
	logs[n_logs].level = level;
	snprintf(logs[n_logs].text, sizeof(logs[n_logs].text), "%s", msg);
	n_logs++;
}

static int count(enum dg_log_level level)
{
	int i, n = 0;

	for (i = 0; i < n_logs; i++)
		n += logs[i].level == level;
	return n;
}

static const char *nth(enum dg_log_level level, int idx)
{
	int i;

	for (i = 0; i < n_logs; i++)
		if (logs[i].level == level && !idx--)
			return logs[i].text;
	for (i = 0; i < n_logs; i++)
		print_message("  logged[%d] level %d: %s\n", i, logs[i].level,
			      logs[i].text);
	fail_msg("no message #%d at level %d", idx, level);
	return NULL;
}

static int setup(void **state)
{
	(void)state;
	n_logs = 0;
	log_set_sink(capture, NULL);
	log_set_level(DG_LOG_DEBUG);
	dg_config_defaults(&cfg);
	n_links = 0;
	n_defaults = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	log_set_sink(NULL, NULL);
	log_set_level(DG_LOG_INFO);
	return 0;
}

static void conf(const char *text)
{
	dg_config_defaults(&cfg);
	assert_int_equal(dg_config_parse(&cfg, "x.conf", text, strlen(text)), 0);
}

/* A link on the host; ifindex in the order added, as a dump lists them. */
static void link_add(const char *name, unsigned int type, bool has_default)
{
	struct dg_link *l = &links[n_links];

	assert_true(n_links < HOST_LINKS);
	memset(l, 0, sizeof(*l));
	snprintf(l->ifname, sizeof(l->ifname), "%s", name);
	l->ifindex = ++n_links;
	l->type = type;
	if (has_default)
		defaults[n_defaults++] = l->ifindex;
}

static int select_(const struct dg_target *kept, int n_kept,
		   struct dg_unguarded *ug)
{
	struct dg_host host = { .links = links, .n_links = n_links,
				.defaults = defaults, .n_defaults = n_defaults };

	n_logs = 0;
	memset(t, 0, sizeof(t));
	return dg_guard_select(&cfg, &host, kept, n_kept, t, DG_TARGETS_MAX, ug);
}

/* "name/hook name/hook ...", to compare a whole selection at once. */
static const char *targets_str(int n)
{
	static char buf[2048];
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < n && len < sizeof(buf); i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s/%s",
					i ? " " : "", t[i].ifname,
					dg_hook_name(t[i].hook));
	return buf;
}

/* The host every test starts from: lo, two uplinks with default routes
 * (eth0 IPv4, eth1 IPv6 as dg_nl_default_devs finds them), a LAN-side
 * eth2 without one, a WireGuard link, and dotguard's own capture pair,
 * which also holds a default route here to prove it is never taken. */
static void host_usual(void)
{
	link_add("lo", ARPHRD_LOOPBACK, false);
	link_add("eth0", ARPHRD_ETHER, true);
	link_add("eth1", ARPHRD_ETHER, true);
	link_add("eth2", ARPHRD_ETHER, false);
	link_add("wg0", ARPHRD_NONE, false);
	link_add("dg-cap", ARPHRD_ETHER, true);
	link_add("dg-cap-xsk", ARPHRD_ETHER, false);
}

/* Test that with no Interface= (auto) every link holding a default route
 * is guarded, IPv4 or IPv6, and nothing else: not lo, not the capture
 * pair, not a link without one. */
static void test_auto_default(void **state)
{
	(void)state;
	host_usual();
	assert_int_equal(select_(NULL, 0, NULL), 2);
	assert_string_equal(targets_str(2), "eth0/tc-egress eth1/tc-egress");
	assert_int_equal(t[0].ifindex, 2);
	assert_false(t[0].l3_only);
	assert_int_equal(count(DG_LOG_ERROR), 0);
}

/* Test names, globs and auto together, with a LAN port: names first (in
 * the config's order), then LAN ports, then what globs and auto match;
 * a glob never takes the LAN port, a name matched by a glob too is
 * guarded once, and an L3 link is marked so. */
static void test_mix(void **state)
{
	int n;

	(void)state;
	host_usual();
	link_add("wg1", ARPHRD_NONE, false);
	link_add("ppp0", ARPHRD_PPP, false);
	link_add("lan0", ARPHRD_ETHER, false);
	conf("[Guard]\nInterface=eth2 auto wg* e*\nGatewayInterface=lan0\n");
	n = select_(NULL, 0, NULL);
	assert_int_equal(n, 6);
	assert_string_equal(targets_str(n),
			    "eth2/tc-egress lan0/xdp-gateway eth0/tc-egress "
			    "eth1/tc-egress wg0/tc-egress wg1/tc-egress");
	assert_true(t[4].l3_only);

	/* Globs without auto: a default route alone is not enough. */
	conf("[Guard]\nInterface=wg* ppp*\n");
	n = select_(NULL, 0, NULL);
	assert_string_equal(targets_str(n),
			    "wg0/tc-egress wg1/tc-egress ppp0/tc-egress");
	assert_true(t[2].l3_only);

	/* Names only: exactly those. */
	conf("[Guard]\nInterface=eth2\n");
	n = select_(NULL, 0, NULL);
	assert_string_equal(targets_str(n), "eth2/tc-egress");
}

/* Test that at start a name that does not exist is an error naming file
 * and line, while a glob or auto that matches nothing is one info line;
 * after a link change the missing name is a warning, the rest stays. */
static void test_missing(void **state)
{
	struct dg_target kept[1] = { { .ifname = "eth0", .hook = DG_HOOK_TC_EGRESS } };
	int n;

	(void)state;
	host_usual();
	conf("[Guard]\nInterface=wg*\n\nInterface=eth9\n");
	assert_int_equal(select_(NULL, 0, NULL), -ENODEV);
	assert_int_equal(count(DG_LOG_ERROR), 1);
	assert_string_equal(nth(DG_LOG_ERROR, 0),
			    "x.conf:4: Interface=eth9: no such interface in this network namespace (see 'ip link'; a pattern such as 'eth9*' would wait for it)");

	conf("[Guard]\nGatewayInterface=lan9\n");
	assert_int_equal(select_(NULL, 0, NULL), -ENODEV);
	assert_string_equal(nth(DG_LOG_ERROR, 0),
			    "x.conf:2: GatewayInterface=lan9: no such interface in this network namespace (see 'ip link'; a pattern such as 'lan9*' would wait for it)");

	conf("[Guard]\nInterface=ppp* tun*\n");
	assert_int_equal(select_(NULL, 0, NULL), 0);
	assert_int_equal(count(DG_LOG_ERROR), 0);
	assert_string_equal(nth(DG_LOG_INFO, 0),
			    "Interface=ppp* tun* matches no interface yet: each is guarded as soon as it appears or gains a default route");

	n_links = n_defaults = 0;
	link_add("lo", ARPHRD_LOOPBACK, false);
	conf("[Guard]\nMode=drop\n");
	assert_int_equal(select_(NULL, 0, NULL), 0);
	assert_string_equal(nth(DG_LOG_INFO, 0),
			    "Interface=auto matches no interface yet: each is guarded as soon as it appears or gains a default route");

	/* Refresh: eth9 still missing, wg0 still there. */
	host_usual();
	conf("[Guard]\nInterface=eth9 wg*\n");
	n = select_(kept, 0, NULL);
	assert_int_equal(n, 1);
	assert_string_equal(targets_str(n), "wg0/tc-egress");
	assert_int_equal(count(DG_LOG_ERROR), 0);
	assert_string_equal(nth(DG_LOG_WARN, 0),
			    "interface eth9 is gone: guarded again as soon as it is back");
}

/* Test following changes: an uplink guarded before stays guarded while
 * it exists though it no longer matches (its default route went away),
 * found by name under a new index if it was re-created; one that is gone
 * is forgotten; a new default route's link joins. */
static void test_kept(void **state)
{
	struct dg_target kept[4] = {
		{ .ifname = "eth0", .ifindex = 2, .hook = DG_HOOK_TC_EGRESS },
		{ .ifname = "ppp0", .ifindex = 40, .hook = DG_HOOK_TC_EGRESS },
		{ .ifname = "dg-cap-xsk", .ifindex = 7, .hook = DG_HOOK_XDP_CAPTURE },
		{ .ifname = "eth1", .ifindex = 3, .hook = DG_HOOK_TC_EGRESS },
	};
	int n;

	(void)state;
	link_add("lo", ARPHRD_LOOPBACK, false);
	link_add("eth0", ARPHRD_ETHER, false);	/* lost its default route */
	link_add("eth2", ARPHRD_ETHER, true);	/* gained one */
	link_add("dg-cap", ARPHRD_ETHER, false);
	link_add("dg-cap-xsk", ARPHRD_ETHER, false);
	link_add("eth1", ARPHRD_ETHER, true);	/* re-created: index 6 */
	n = select_(kept, 4, NULL);
	assert_int_equal(n, 3);
	assert_string_equal(targets_str(n),
			    "eth0/tc-egress eth1/tc-egress eth2/tc-egress");
	assert_int_equal(t[1].ifindex, 6);
	assert_int_equal(count(DG_LOG_ERROR) + count(DG_LOG_WARN), 0);
	assert_string_equal(nth(DG_LOG_INFO, 0),
			    "interface eth2: guarded: it holds a default route (Interface=auto)");

	/* A reload (kept: none) computes the set afresh: eth0 goes. */
	n = select_(NULL, 0, NULL);
	assert_string_equal(targets_str(n), "eth2/tc-egress eth1/tc-egress");
}

/* Test the attach-slot bound: past it, each match gets one error line
 * naming it, once while it stays unguarded, and is counted (pending);
 * what fits is guarded; LAN ports and redirect mode's own points keep
 * their slots. */
static void test_bound(void **state)
{
	struct dg_unguarded ug = { .n = 0 };
	char name[IF_NAMESIZE];
	int i, n, room;

	(void)state;
	link_add("lo", ARPHRD_LOOPBACK, false);
	link_add("lan0", ARPHRD_ETHER, false);
	for (i = 0; i < DG_MAX_SLOTS + 10; i++) {
		snprintf(name, sizeof(name), "ppp%d", i);
		link_add(name, ARPHRD_PPP, false);
	}
	/* Redirect: a LAN port takes two slots, the capture pair two. */
	conf("[Guard]\nInterface=ppp*\nGatewayInterface=lan0\n");
	room = DG_MAX_SLOTS - 2 - 2;
	n = select_(NULL, 0, &ug);
	assert_int_equal(n, room + 1);
	assert_string_equal(t[0].ifname, "lan0");
	assert_string_equal(t[n - 1].ifname, "ppp59");
	assert_int_equal(count(DG_LOG_ERROR), DG_MAX_SLOTS + 10 - room);
	assert_string_equal(nth(DG_LOG_ERROR, 0),
			    "interface ppp60: matches Interface= but is NOT guarded: no attach slot left (at most 64); narrow Interface=");
	assert_int_equal(ug.pending, DG_MAX_SLOTS + 10 - room);
	assert_int_equal(ug.n, DG_MAX_SLOTS + 10 - room);

	/* The next change: the same ones, not reported again. */
	memcpy(prev, t, sizeof(t));
	n = select_(prev, n, &ug);
	assert_int_equal(n, room + 1);
	assert_int_equal(count(DG_LOG_ERROR), 0);
	assert_int_equal(ug.pending, DG_MAX_SLOTS + 10 - room);

	/* One goes away, one comes: only the newcomer is reported. */
	memmove(&links[DG_MAX_SLOTS + 10], &links[DG_MAX_SLOTS + 11], sizeof(links[0]));
	links[DG_MAX_SLOTS + 11].ifindex = 500;
	snprintf(links[DG_MAX_SLOTS + 11].ifname, IF_NAMESIZE, "ppp99");
	memcpy(prev, t, sizeof(t));
	n = select_(prev, n, &ug);
	assert_int_equal(count(DG_LOG_ERROR), 1);
	assert_string_equal(nth(DG_LOG_ERROR, 0),
			    "interface ppp99: matches Interface= but is NOT guarded: no attach slot left (at most 64); narrow Interface=");
	assert_int_equal(ug.pending, DG_MAX_SLOTS + 10 - room + 1);

	/* Mode=drop needs no slots of its own: one per port. */
	ug = (struct dg_unguarded){ .n = 0 };
	conf("[Guard]\nMode=drop\nInterface=ppp*\nGatewayInterface=lan0\n");
	n = select_(NULL, 0, &ug);
	assert_int_equal(n, DG_MAX_SLOTS);
	assert_int_equal(ug.pending, DG_MAX_SLOTS + 10 - (DG_MAX_SLOTS - 1));
}

/* Test that a LAN port without an Ethernet header is refused. */
static void test_l3_gateway(void **state)
{
	(void)state;
	host_usual();
	conf("[Guard]\nGatewayInterface=wg0\n");
	assert_int_equal(select_(NULL, 0, NULL), -EINVAL);
	assert_string_equal(nth(DG_LOG_ERROR, 0),
			    "interface wg0: has no Ethernet header; GatewayInterface= needs an Ethernet LAN port");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_auto_default),
		T(test_mix),
		T(test_missing),
		T(test_kept),
		T(test_bound),
		T(test_l3_gateway),
	};

	return cmocka_run_group_tests_name("guard", tests, NULL, NULL);
}
