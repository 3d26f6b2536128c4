// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* netlink lookups, in a private network namespace the test makes. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <errno.h>
#include <sched.h>
#include <unistd.h>
#include <cmocka.h>

#include "netlink.h"

static int in_private_netns;

/* A fresh namespace holds only lo: no default route, nothing to leak. */
static int setup(void **state)
{
	(void)state;
	if (geteuid() == 0 && unshare(CLONE_NEWNET) == 0)
		in_private_netns = 1;
	return 0;
}

#define NEED_NETNS()                                                   \
	do {                                                           \
		if (!in_private_netns) {                               \
			print_message("needs root to make a netns\n"); \
			skip();                                        \
		}                                                      \
	} while (0)

/* Test that a link is found by name and by index, with its type. */
static void test_link_lookup(void **state)
{
	struct dg_link a, b;

	(void)state;
	NEED_NETNS();
	assert_int_equal(dg_nl_link_get("lo", &a), 0);
	assert_string_equal(a.ifname, "lo");
	assert_true(a.ifindex > 0);
	assert_false(dg_link_is_l3(&a));
	assert_int_equal(dg_nl_link_get_index(a.ifindex, &b), 0);
	assert_string_equal(b.ifname, "lo");
}

/* Test that a missing, empty or overlong name is -ENODEV, not a crash. */
static void test_link_missing(void **state)
{
	struct dg_link l;

	(void)state;
	NEED_NETNS();
	assert_int_equal(dg_nl_link_get("nope0", &l), -ENODEV);
	assert_int_equal(dg_nl_link_get("", &l), -ENODEV);
	assert_int_equal(dg_nl_link_get("a-name-far-too-long-for-linux", &l), -ENODEV);
	assert_int_equal(dg_nl_link_get_index(99999, &l), -ENODEV);
}

/* Test that no default route is reported as such, and a default route
 * (TEST-NET gateway, never contacted) names its interface. */
static void test_default_route(void **state)
{
	struct dg_link l;

	(void)state;
	NEED_NETNS();
	assert_int_equal(dg_nl_default_route(&l), -ENETUNREACH);
	assert_int_equal(system("ip link add dgup0 type veth peer dgup1 && ip link set dgup0 up && ip link set dgup1 up && "
				"ip addr add 192.0.2.1/24 dev dgup0 && "
				"ip route add default via 192.0.2.254 dev dgup0"), 0);
	assert_int_equal(dg_nl_default_route(&l), 0);
	assert_string_equal(l.ifname, "dgup0");
}

/* Test that a tun device is seen as L3-only (no Ethernet header). */
static void test_l3_device(void **state)
{
	struct dg_link l;

	(void)state;
	NEED_NETNS();
	if (system("ip tuntap add dgtun0 mode tun 2>/dev/null")) {
		print_message("no tun support here\n");
		skip();
	}
	assert_int_equal(dg_nl_link_get("dgtun0", &l), 0);
	assert_true(dg_link_is_l3(&l));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_lookup),
		cmocka_unit_test(test_link_missing),
		cmocka_unit_test(test_default_route),
		cmocka_unit_test(test_l3_device),
	};

	/* The namespace dies with the process: nothing to clean up. */
	return cmocka_run_group_tests(tests, setup, NULL);
}
