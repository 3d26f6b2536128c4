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

/* The interface of the default route (IPv4 first, then IPv6; lowest
 * metric wins). Returns 0, -ENETUNREACH when there is none, or -errno. */
int dg_nl_default_route(struct dg_link *out);

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

/* A socket subscribed to link events (RTMGRP_LINK), non-blocking, for
 * epoll. Returns the fd or -errno. */
int dg_nl_monitor_open(void);

/* Called per link event (new, changed or deleted); returns true if it
 * matters to the caller. */
typedef bool (*dg_nl_link_event_fn)(const struct dg_link *link, void *arg);

/* Read the pending events (bounded); returns how many mattered, counting
 * a lost burst (socket overrun) as one. */
int dg_nl_monitor_drain(int fd, dg_nl_link_event_fn fn, void *arg);

/* Set a link up. */
int dg_nl_link_set_up(int ifindex);

/* Delete a link (for a veth: both ends). */
int dg_nl_link_del(int ifindex);

#endif /* DG_NETLINK_H */
