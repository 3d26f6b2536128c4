/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * rtnetlink through libmnl: one small function per question we ask the
 * kernel. Every reply's attributes are validated before use.
 */
#ifndef DG_NETLINK_H
#define DG_NETLINK_H

#include <net/if.h>
#include <stdbool.h>

struct dg_link {
	int ifindex;
	char ifname[IF_NAMESIZE];
	unsigned int type;	/* ARPHRD_* */
	unsigned int flags;	/* IFF_* */
	unsigned int mtu;
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

#endif /* DG_NETLINK_H */
