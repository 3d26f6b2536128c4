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
#include <string.h>
#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

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

/* Each test that changes links or routes starts in a namespace of its
 * own (the last one dies when nothing holds it). */
#define NEED_NETNS()                                                   \
	do {                                                           \
		if (!in_private_netns || unshare(CLONE_NEWNET)) {      \
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

/* Does oif[n] hold ifindex? */
static int has_dev(const int *oif, int n, int ifindex)
{
	int i;

	for (i = 0; i < n; i++)
		if (oif[i] == ifindex)
			return 1;
	return 0;
}

static int ifindex_of(const char *name)
{
	struct dg_link l;

	assert_int_equal(dg_nl_link_get(name, &l), 0);
	return l.ifindex;
}

/* Test that every default route's device is found, IPv4 and IPv6, in any
 * table, every next hop of a multipath route, each once; and that other
 * routes (a /24, a blackhole default) name none. Gateways are TEST-NET
 * addresses, never contacted. */
static void test_default_devs(void **state)
{
	int oif[8], n;

	(void)state;
	NEED_NETNS();
	assert_int_equal(dg_nl_default_devs(oif, 8), 0);
	assert_int_equal(system("for i in 0 1 2 3 4; do ip link add dgr$i type veth peer dgp$i && "
				"ip link set dgr$i up && ip link set dgp$i up || exit 1; done && "
				"ip addr add 192.0.2.1/24 dev dgr0 && "
				"ip addr add 198.51.100.1/24 dev dgr1 && "
				"ip addr add 203.0.113.1/24 dev dgr2 && "
				"ip -6 addr add 2001:db8:3::1/64 dev dgr3 nodad && "
				"ip route add 192.0.2.0/25 via 192.0.2.254 dev dgr0 && "
				"ip route add blackhole default table 7 && "
				"ip route add unreachable 0.0.0.0/1"), 0);
	assert_int_equal(dg_nl_default_devs(oif, 8), 0);

	assert_int_equal(system("ip route add default via 192.0.2.254 dev dgr0"), 0);
	n = dg_nl_default_devs(oif, 8);
	assert_int_equal(n, 1);
	assert_int_equal(oif[0], ifindex_of("dgr0"));

	/* IPv6 on another link; ECMP over two; a VPN's own table. */
	assert_int_equal(system("ip -6 route add default via 2001:db8:3::fe dev dgr3 && "
				"ip route add default table 100 nexthop via 198.51.100.254 dev dgr1 "
				"nexthop via 203.0.113.254 dev dgr2 && "
				"ip route add default via 192.0.2.253 dev dgr0 metric 50"), 0);
	n = dg_nl_default_devs(oif, 8);
	assert_int_equal(n, 4);
	assert_true(has_dev(oif, n, ifindex_of("dgr0")));
	assert_true(has_dev(oif, n, ifindex_of("dgr1")));
	assert_true(has_dev(oif, n, ifindex_of("dgr2")));
	assert_true(has_dev(oif, n, ifindex_of("dgr3")));

	/* OpenVPN's def1 halves count; past max, max + 1 says so. */
	assert_int_equal(system("ip addr add 192.0.2.129/25 dev dgr4 && "
				"ip route add 128.0.0.0/1 via 192.0.2.130 dev dgr4"), 0);
	assert_int_equal(dg_nl_default_devs(oif, 8), 5);
	assert_int_equal(dg_nl_default_devs(oif, 2), 3);
}

/* Test that a link dump lists every link, lo and both ends of a veth,
 * with names and kinds. */
static void test_link_dump(void **state)
{
	struct dg_link *links;
	int i, n, lo = 0, veth = 0;

	(void)state;
	NEED_NETNS();
	assert_int_equal(system("ip link add dgd0 type veth peer dgd1"), 0);
	n = dg_nl_link_dump(&links);
	assert_true(n >= 2);
	for (i = 0; i < n; i++) {
		assert_true(links[i].ifindex > 0);
		lo += !strcmp(links[i].ifname, "lo");
		veth += (!strcmp(links[i].ifname, "dgd0") ||
			 !strcmp(links[i].ifname, "dgd1")) &&
			!strcmp(links[i].kind, "veth");
	}
	assert_int_equal(lo, 1);
	assert_int_equal(veth, 2);
	free(links);
	assert_int_equal(system("ip link del dgd0"), 0);
}

/* A route message as the kernel sends it, built in buf. */
static struct nlmsghdr *route_msg(char *buf, int type, int family,
				  unsigned char dst_len, unsigned char rtype)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = type;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = family;
	rtm->rtm_dst_len = dst_len;
	rtm->rtm_type = rtype;
	rtm->rtm_table = RT_TABLE_MAIN;
	return nlh;
}

/* RTA_MULTIPATH with next hops on these devices. */
static void put_multipath(struct nlmsghdr *nlh, const int *dev, int n)
{
	struct nlattr *mp = mnl_attr_nest_start(nlh, RTA_MULTIPATH);
	struct rtnexthop *nh;
	int i;

	for (i = 0; i < n; i++) {
		nh = mnl_nlmsg_put_extra_header(nlh, sizeof(*nh));
		nh->rtnh_len = sizeof(*nh);
		nh->rtnh_ifindex = dev[i];
	}
	mnl_attr_nest_end(nlh, mp);
}

/* Test the route parser on messages we make: which routes are default
 * routes, every device of one, each once, and bytes that lie (a next hop
 * longer than what is left, or shorter than its header; a bad RTA_OIF;
 * a message too short for its header) never read past the message. */
static void test_route_devs(void **state)
{
	char buf[1024];
	struct nlmsghdr *nlh;
	struct rtnexthop *nh;
	struct nlattr *mp;
	int oif[4], dev[6] = { 7, 8, 7, 9, 10, 11 };

	(void)state;
	nlh = route_msg(buf, RTM_NEWROUTE, AF_INET, 0, RTN_UNICAST);
	mnl_attr_put_u32(nlh, RTA_OIF, 5);
	assert_int_equal(dg_nl_route_devs(nlh, oif, 4), 1);
	assert_int_equal(oif[0], 5);

	/* Deleted, IPv6, /1: still a default route's device. */
	nlh = route_msg(buf, RTM_DELROUTE, AF_INET6, 1, RTN_UNICAST);
	mnl_attr_put_u32(nlh, RTA_OIF, 6);
	assert_int_equal(dg_nl_route_devs(nlh, oif, 4), 1);
	assert_int_equal(oif[0], 6);

	/* Not default routes: /2, a blackhole default, a link message, a
	 * family that is not IP. */
	nlh = route_msg(buf, RTM_NEWROUTE, AF_INET, 2, RTN_UNICAST);
	mnl_attr_put_u32(nlh, RTA_OIF, 5);
	assert_int_equal(dg_nl_route_devs(nlh, oif, 4), 0);
	nlh = route_msg(buf, RTM_NEWROUTE, AF_INET, 0, RTN_BLACKHOLE);
	assert_int_equal(dg_nl_route_devs(nlh, oif, 4), 0);
	nlh = route_msg(buf, RTM_NEWLINK, AF_INET, 0, RTN_UNICAST);
	assert_int_equal(dg_nl_route_devs(nlh, oif, 4), 0);
	nlh = route_msg(buf, RTM_NEWROUTE, AF_BRIDGE, 0, RTN_UNICAST);
	assert_int_equal(dg_nl_route_devs(nlh, oif, 4), 0);

	/* Multipath: each device once; past max, max + 1. */
	nlh = route_msg(buf, RTM_NEWROUTE, AF_INET, 0, RTN_UNICAST);
	put_multipath(nlh, dev, 3);
	assert_int_equal(dg_nl_route_devs(nlh, oif, 4), 2);
	assert_int_equal(oif[0], 7);
	assert_int_equal(oif[1], 8);
	nlh = route_msg(buf, RTM_NEWROUTE, AF_INET, 0, RTN_UNICAST);
	put_multipath(nlh, dev, 5);
	assert_int_equal(dg_nl_route_devs(nlh, oif, 4), 4);
	assert_int_equal(oif[3], 10);
	nlh = route_msg(buf, RTM_NEWROUTE, AF_INET, 0, RTN_UNICAST);
	put_multipath(nlh, dev, 6);
	assert_int_equal(dg_nl_route_devs(nlh, oif, 4), 5);

	/* A next hop that claims more bytes than are left ends the list. */
	nlh = route_msg(buf, RTM_NEWROUTE, AF_INET, 0, RTN_UNICAST);
	mp = mnl_attr_nest_start(nlh, RTA_MULTIPATH);
	nh = mnl_nlmsg_put_extra_header(nlh, sizeof(*nh));
	nh->rtnh_len = sizeof(*nh);
	nh->rtnh_ifindex = 3;
	nh = mnl_nlmsg_put_extra_header(nlh, sizeof(*nh));
	nh->rtnh_len = 200;
	nh->rtnh_ifindex = 4;
	mnl_attr_nest_end(nlh, mp);
	assert_int_equal(dg_nl_route_devs(nlh, oif, 4), 1);
	assert_int_equal(oif[0], 3);

	/* One shorter than its own header ends it too (no endless loop). */
	nlh = route_msg(buf, RTM_NEWROUTE, AF_INET, 0, RTN_UNICAST);
	mp = mnl_attr_nest_start(nlh, RTA_MULTIPATH);
	nh = mnl_nlmsg_put_extra_header(nlh, sizeof(*nh));
	nh->rtnh_len = 0;
	nh->rtnh_ifindex = 3;
	mnl_attr_nest_end(nlh, mp);
	assert_int_equal(dg_nl_route_devs(nlh, oif, 4), 0);

	/* RTA_OIF of two bytes: malformed, not read. */
	nlh = route_msg(buf, RTM_NEWROUTE, AF_INET, 0, RTN_UNICAST);
	mnl_attr_put_u16(nlh, RTA_OIF, 5);
	assert_int_equal(dg_nl_route_devs(nlh, oif, 4), -EPROTO);

	/* A message shorter than struct rtmsg: nothing read past it. */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	assert_int_equal(dg_nl_route_devs(nlh, oif, 4), 0);
}

/* Events a monitor hands on, as the callback sees them. */
struct seen {
	int link_new, link_gone, route_new, route_gone;
	int route_dev;
};

static bool on_event(const struct dg_nl_event *ev, void *arg)
{
	struct seen *s = arg;

	switch (ev->type) {
	case DG_NL_LINK:
		s->link_new += !strcmp(ev->link.ifname, "dgm0");
		break;
	case DG_NL_LINK_GONE:
		s->link_gone += !strcmp(ev->link.ifname, "dgm0");
		break;
	case DG_NL_ROUTE:
		s->route_new++;
		s->route_dev = ev->link.ifindex;
		break;
	case DG_NL_ROUTE_GONE:
		s->route_gone++;
		break;
	}
	return true;
}

/* Drain fd until cond holds, for at most 5 s (a busy machine is slow). */
#define DRAIN_UNTIL(fd, s, cond)                                               \
	do {                                                                   \
		int tries_;                                                    \
		for (tries_ = 0; tries_ < 500 && !(cond); tries_++) {          \
			dg_nl_monitor_drain(fd, on_event, &(s));               \
			if (!(cond))                                           \
				usleep(10000);                                 \
		}                                                              \
	} while (0)

/* Test that the monitor hands on link events and default-route events
 * (IPv4 and IPv6, added and deleted) with the route's device, and passes
 * over other routes. */
static void test_monitor(void **state)
{
	struct seen s = { 0 };
	int fd, dev;

	(void)state;
	NEED_NETNS();
	fd = dg_nl_monitor_open();
	assert_true(fd >= 0);
	assert_int_equal(system("ip link add dgm0 type veth peer dgm1 && ip link set dgm0 up && "
				"ip link set dgm1 up && "
				"ip addr add 192.0.2.1/24 dev dgm0 && "
				"ip -6 addr add 2001:db8:4::1/64 dev dgm0 nodad && "
				"ip route add 198.51.100.0/24 via 192.0.2.254"), 0);
	dev = ifindex_of("dgm0");
	DRAIN_UNTIL(fd, s, s.link_new > 0);
	assert_true(s.link_new > 0);
	assert_int_equal(s.route_new, 0);	/* a /24 is not passed on */

	assert_int_equal(system("ip route add default via 192.0.2.254"), 0);
	DRAIN_UNTIL(fd, s, s.route_new == 1);
	assert_int_equal(s.route_new, 1);
	assert_int_equal(s.route_dev, dev);
	assert_int_equal(system("ip -6 route add default via 2001:db8:4::fe"), 0);
	DRAIN_UNTIL(fd, s, s.route_new == 2);
	assert_int_equal(s.route_new, 2);
	assert_int_equal(s.route_dev, dev);

	assert_int_equal(system("ip route del default"), 0);
	DRAIN_UNTIL(fd, s, s.route_gone == 1);
	assert_int_equal(s.route_gone, 1);
	assert_int_equal(system("ip link del dgm0"), 0);
	DRAIN_UNTIL(fd, s, s.link_gone == 1);
	assert_int_equal(s.link_gone, 1);
	close(fd);
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
		cmocka_unit_test(test_default_devs),
		cmocka_unit_test(test_link_dump),
		cmocka_unit_test(test_route_devs),
		cmocka_unit_test(test_monitor),
		cmocka_unit_test(test_l3_device),
	};

	/* The namespace dies with the process: nothing to clean up. */
	return cmocka_run_group_tests(tests, setup, NULL);
}
