/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * rtnetlink through libmnl: one small function per question we ask the
 * kernel. Every reply's attributes are validated before use.
 */
#ifndef DG_NETLINK_H
#define DG_NETLINK_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <linux/netlink.h>

/* Links one dump may list; more: -E2BIG (no host has this many). */
#define DG_NL_LINKS_MAX 65536
/* Devices of one default route looked at per event; a wider multipath
 * route counts as a lost event (the caller re-reads everything). */
#define DG_NL_EVENT_DEVS 16

struct dg_link {
	int ifindex;
	char ifname[IF_NAMESIZE];
	unsigned int type;	/* ARPHRD_* */
	unsigned int flags;	/* IFF_* */
	unsigned int mtu;
	int peer_ifindex;	/* IFLA_LINK: a veth's other end */
	char kind[16];		/* IFLA_INFO_KIND ("veth"), "" if none */
	unsigned char mac[6];
	bool has_mac;
};

/* Look a link up by name. Returns 0, -ENODEV when there is no such
 * interface in this network namespace, or another -errno. */
int dg_nl_link_get(const char *ifname, struct dg_link *out);

/* Look a link up by index (same returns). */
int dg_nl_link_get_index(int ifindex, struct dg_link *out);

/* Every link in this network namespace, in a new array (*out, for the
 * caller to free). Returns how many, or -errno (-E2BIG past
 * DG_NL_LINKS_MAX). */
int dg_nl_link_dump(struct dg_link **out);

/* Does a route of this prefix length and type (RTN_*) take traffic for
 * the whole Internet: a default route (/0), or one of the two /1 halves
 * a VPN puts in its place (OpenVPN's def1)? Unicast only: a blackhole or
 * unreachable default sends nothing out. */
bool dg_route_is_default(unsigned char dst_len, unsigned char type);

/*
 * The devices a route message (RTM_NEWROUTE or RTM_DELROUTE, IPv4 or
 * IPv6) sends by, if it is a default route (dg_route_is_default): its
 * RTA_OIF and every next hop's of RTA_MULTIPATH, without repeats, into
 * oif[max]. Reads only inside nlh->nlmsg_len, which the caller has checked
 * (mnl_cb_run does); a next hop whose length lies ends the list. Returns
 * how many it stored (0: not a default route), max + 1 when more did not
 * fit, or -EPROTO for a malformed attribute.
 */
int dg_nl_route_devs(const struct nlmsghdr *nlh, int *oif, int max);

/* The devices of every default route in every table, IPv4 and IPv6,
 * into oif[max] without repeats. Returns how many it stored, max + 1 when
 * more did not fit, or -errno. */
int dg_nl_default_devs(int *oif, int max);

/* True when frames on this link carry no L2 header at tc (tun, wireguard,
 * PPP, raw IP): the guard must parse from the IP header. */
bool dg_link_is_l3(const struct dg_link *link);

/* Create a veth pair NAME <-> PEER (both down). -EEXIST if NAME is
 * taken; other -errno. */
int dg_nl_veth_create(const char *name, const char *peer);

/* Add an IPv4 address (scope link); one already there is fine. */
int dg_nl_addr4_add(int ifindex, const struct in_addr *addr, unsigned char prefix);

/* Add or delete the policy rule "fwmark MARK lookup TABLE" at priority
 * PRIO (AF_INET or AF_INET6). Adding one already there, or deleting one
 * already gone, is fine. */
int dg_nl_rule_fwmark(bool add, int family, unsigned int mark,
		      unsigned int table, unsigned int prio);

/* Add or delete "local default dev lo" in TABLE: whatever is routed by
 * it is delivered here. Same idempotence. */
int dg_nl_route_local_all(bool add, int family, unsigned int table);

/* A socket subscribed to link and route events (RTMGRP_LINK,
 * RTMGRP_IPV4_ROUTE, RTMGRP_IPV6_ROUTE), non-blocking, for epoll.
 * Returns the fd or -errno. */
int dg_nl_monitor_open(void);

enum dg_nl_event_type {
	DG_NL_LINK = 0,		/* a link appeared or changed */
	DG_NL_LINK_GONE,	/* a link was deleted */
	DG_NL_ROUTE,		/* a default route was added or replaced */
	DG_NL_ROUTE_GONE,	/* a default route was deleted */
};

struct dg_nl_event {
	enum dg_nl_event_type type;
	/* The link; for a route, only ifindex: one device it sends by (an
	 * event per device of a multipath route). */
	struct dg_link link;
};

/* Called per event; returns true if it matters to the caller. Routes
 * other than default routes (dg_route_is_default) are not passed on. */
typedef bool (*dg_nl_event_fn)(const struct dg_nl_event *ev, void *arg);

/* Read the pending events (bounded); returns how many mattered, counting
 * a lost burst (socket overrun, a message cut short) as one each. */
int dg_nl_monitor_drain(int fd, dg_nl_event_fn fn, void *arg);

/* Set a link up. */
int dg_nl_link_set_up(int ifindex);

/* Delete a link (for a veth: both ends). */
int dg_nl_link_del(int ifindex);

#endif /* DG_NETLINK_H */
