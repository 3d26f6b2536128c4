// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <net/if.h> /* before linux/if*.h: libc-compat needs it first */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/veth.h>
#include <linux/rtnetlink.h>
#include <linux/if_addr.h>
#include <linux/fib_rules.h>

#include "netlink.h"

/* Receive buffer: a dump's datagrams and one event can each be larger than
 * a page (the kernel sizes them up to 32 KiB), and a short buffer would
 * cut them. */
#define NL_RECV_BUF 32768

/* One request, its replies run through cb; ACKed and matched by seq and
 * portid so a stray message can never be taken for our answer. */
static int nl_request(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[NL_RECV_BUF];
	struct mnl_socket *nl;
	unsigned int portid, seq;
	int ret;

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	seq = (unsigned int)time(NULL);
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	do {
		ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (ret <= 0) {
			ret = ret < 0 ? -errno : -EIO;
			break;
		}
		ret = mnl_cb_run(buf, ret, seq, portid, cb, data);
		if (ret < 0)
			ret = -errno;
	} while (ret > 0);
out:
	mnl_socket_close(nl);
	return ret;
}

/* IFLA_* attributes we use, validated before they are stored. */
static int link_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, IFLA_MAX) < 0)
		return MNL_CB_OK;
	switch (type) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
			return MNL_CB_ERROR;
		break;
	case IFLA_MTU:
	case IFLA_LINK:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		break;
	case IFLA_ADDRESS:
	case IFLA_LINKINFO:
		break;
	default:
		return MNL_CB_OK;
	}
	tb[type] = attr;
	return MNL_CB_OK;
}

/* IFLA_INFO_KIND inside IFLA_LINKINFO: "veth", "vlan", ... */
static void link_kind(const struct nlattr *linkinfo, char *kind, size_t size)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, linkinfo) {
		if (mnl_attr_get_type(a) == IFLA_INFO_KIND &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0) {
			snprintf(kind, size, "%s", mnl_attr_get_str(a));
			return;
		}
	}
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFLA_MAX + 1] = {};
	struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	struct dg_link *link = data;

	/* A deletion names the link the same way. */
	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifm))
		return MNL_CB_ERROR;
	if (mnl_attr_parse(nlh, sizeof(*ifm), link_attr_cb, tb) < 0)
		return MNL_CB_ERROR;
	link->ifindex = ifm->ifi_index;
	link->type = ifm->ifi_type;
	link->flags = ifm->ifi_flags;
	if (tb[IFLA_IFNAME]) {
		strncpy(link->ifname, mnl_attr_get_str(tb[IFLA_IFNAME]),
			sizeof(link->ifname) - 1);
		link->ifname[sizeof(link->ifname) - 1] = '\0';
	}
	if (tb[IFLA_MTU])
		link->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_LINK])
		link->peer_ifindex = (int)mnl_attr_get_u32(tb[IFLA_LINK]);
	if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6) {
		memcpy(link->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
		link->has_mac = true;
	}
	if (tb[IFLA_LINKINFO])
		link_kind(tb[IFLA_LINKINFO], link->kind, sizeof(link->kind));
	return MNL_CB_OK;
}

static int link_query(const char *ifname, int ifindex, struct dg_link *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	int ret;

	memset(out, 0, sizeof(*out));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	if (ifname)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	ret = nl_request(nlh, link_cb, out);
	if (ret == -ENODEV || (ret >= 0 && !out->ifindex))
		return -ENODEV;
	return ret < 0 ? ret : 0;
}

int dg_nl_link_get(const char *ifname, struct dg_link *out)
{
	if (!ifname[0] || strlen(ifname) >= IF_NAMESIZE)
		return -ENODEV;
	return link_query(ifname, 0, out);
}

int dg_nl_link_get_index(int ifindex, struct dg_link *out)
{
	if (ifindex <= 0)
		return -ENODEV;
	return link_query(NULL, ifindex, out);
}

struct link_list {
	struct dg_link *links;
	int n, cap;
};

static int link_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_list *l = data;
	struct dg_link *grown;
	int cap;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	if (l->n == l->cap) {
		if (l->cap >= DG_NL_LINKS_MAX) {
			errno = E2BIG;
			return MNL_CB_ERROR;
		}
		cap = l->cap ? l->cap * 2 : 64;
		grown = realloc(l->links, sizeof(*grown) * (size_t)cap);
		if (!grown) {
			errno = ENOMEM;
			return MNL_CB_ERROR;
		}
		l->links = grown;
		l->cap = cap;
	}
	memset(&l->links[l->n], 0, sizeof(l->links[0]));
	if (link_cb(nlh, &l->links[l->n]) != MNL_CB_OK) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	if (l->links[l->n].ifindex > 0 && l->links[l->n].ifname[0])
		l->n++;
	return MNL_CB_OK;
}

int dg_nl_link_dump(struct dg_link **out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct link_list l = { .links = NULL };
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	int ret;

	*out = NULL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ret = nl_request(nlh, link_dump_cb, &l);
	if (ret < 0) {
		free(l.links);
		return ret;
	}
	*out = l.links;
	return l.n;
}

static int route_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, RTA_MAX) < 0)
		return MNL_CB_OK;
	switch (type) {
	case RTA_OIF:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		break;
	case RTA_MULTIPATH:
		break;
	default:
		return MNL_CB_OK;
	}
	tb[type] = attr;
	return MNL_CB_OK;
}

bool dg_route_is_default(unsigned char dst_len, unsigned char type)
{
	return dst_len <= 1 && type == RTN_UNICAST;
}

/* ifindex into oif[max] unless it is there; *n becomes max + 1 when one
 * does not fit. */
static void devs_add(int *oif, int max, int *n, int ifindex)
{
	int i;

	if (ifindex <= 0)
		return;
	for (i = 0; i < *n && i < max; i++)
		if (oif[i] == ifindex)
			return;
	if (*n < max)
		oif[(*n)++] = ifindex;
	else
		*n = max + 1;
}

/* The devices of a default route message, added to oif[max] (*n). */
static int route_devs_add(const struct nlmsghdr *nlh, int *oif, int max, int *n)
{
	const struct nlattr *tb[RTA_MAX + 1] = {};
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct rtnexthop *nh;
	int len;

	if ((nlh->nlmsg_type != RTM_NEWROUTE && nlh->nlmsg_type != RTM_DELROUTE) ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return 0;
	if ((rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6) ||
	    !dg_route_is_default(rtm->rtm_dst_len, rtm->rtm_type))
		return 0;
	if (mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, tb) < 0)
		return -EPROTO;
	if (tb[RTA_OIF])
		devs_add(oif, max, n, (int)mnl_attr_get_u32(tb[RTA_OIF]));
	if (tb[RTA_MULTIPATH]) {
		/* Every next hop's device: traffic may leave by any. RTNH_OK
		 * stops at a length that lies (short, or past the end). */
		nh = mnl_attr_get_payload(tb[RTA_MULTIPATH]);
		len = (int)mnl_attr_get_payload_len(tb[RTA_MULTIPATH]);
		while (RTNH_OK(nh, len)) {
			devs_add(oif, max, n, nh->rtnh_ifindex);
			len -= RTNH_ALIGN(nh->rtnh_len);
			nh = RTNH_NEXT(nh);
		}
	}
	return 0;
}

int dg_nl_route_devs(const struct nlmsghdr *nlh, int *oif, int max)
{
	int n = 0, err;

	err = route_devs_add(nlh, oif, max, &n);
	return err ? err : n;
}

struct devs_ctx {
	int *oif;
	int max;
	int n;
};

static int default_devs_cb(const struct nlmsghdr *nlh, void *data)
{
	struct devs_ctx *c = data;
	int err = route_devs_add(nlh, c->oif, c->max, &c->n);

	if (err) {
		errno = -err;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

int dg_nl_default_devs(int *oif, int max)
{
	static const int families[] = { AF_INET, AF_INET6 };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct devs_ctx c = { .oif = oif, .max = max };
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = RTM_GETROUTE;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
		rtm->rtm_family = families[i];
		/* Every table: a VPN (wg-quick) puts its default in its own. */
		ret = nl_request(nlh, default_devs_cb, &c);
		/* A kernel without IPv6 has no IPv6 routes to follow. */
		if (ret < 0 && !(families[i] == AF_INET6 && ret == -EAFNOSUPPORT))
			return ret;
	}
	return c.n;
}

bool dg_link_is_l3(const struct dg_link *link)
{
	return link->type != ARPHRD_ETHER && link->type != ARPHRD_LOOPBACK;
}

/* A change whose only reply is the ACK (or the error). */
static int nl_change(struct nlmsghdr *nlh)
{
	int ret = nl_request(nlh, NULL, NULL);

	return ret < 0 ? ret : 0;
}

int dg_nl_veth_create(const char *name, const char *peer)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlattr *linkinfo, *data, *peer_attr;
	struct ifinfomsg *ifm, *peer_ifm;
	struct nlmsghdr *nlh;

	if (!name[0] || strlen(name) >= IF_NAMESIZE || !peer[0] ||
	    strlen(peer) >= IF_NAMESIZE)
		return -EINVAL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer_attr = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* The peer's attributes follow an ifinfomsg of its own. */
	peer_ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*peer_ifm));
	peer_ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	mnl_attr_nest_end(nlh, peer_attr);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return nl_change(nlh);
}

/* One link change with no attributes: RTM_NEWLINK flags, RTM_DELLINK. */
static int link_change(int type, int ifindex, unsigned int flags,
		       unsigned int change)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	ifm->ifi_flags = flags;
	ifm->ifi_change = change;
	return nl_change(nlh);
}

int dg_nl_link_set_up(int ifindex)
{
	return link_change(RTM_NEWLINK, ifindex, IFF_UP, IFF_UP);
}

int dg_nl_link_del(int ifindex)
{
	return link_change(RTM_DELLINK, ifindex, 0, 0);
}

int dg_nl_addr4_add(int ifindex, const struct in_addr *addr, unsigned char prefix)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	int err;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = prefix;
	ifa->ifa_scope = RT_SCOPE_LINK;
	ifa->ifa_index = ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(*addr), addr);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(*addr), addr);
	err = nl_change(nlh);
	return err == -EEXIST ? 0 : err;
}

int dg_nl_rule_fwmark(bool add, int family, unsigned int mark,
		      unsigned int table, unsigned int prio)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct fib_rule_hdr *frh;
	struct nlmsghdr *nlh;
	int err;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = add ? RTM_NEWRULE : RTM_DELRULE;
	nlh->nlmsg_flags = NLM_F_REQUEST | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = family;
	frh->action = FR_ACT_TO_TBL;
	mnl_attr_put_u32(nlh, FRA_FWMARK, mark);
	mnl_attr_put_u32(nlh, FRA_TABLE, table);
	mnl_attr_put_u32(nlh, FRA_PRIORITY, prio);
	err = nl_change(nlh);
	/* Idempotent both ways: there already, or already gone. */
	return (add && err == -EEXIST) || (!add && err == -ENOENT) ? 0 : err;
}

int dg_nl_route_local_all(bool add, int family, unsigned int table)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int err;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = family;
	rtm->rtm_dst_len = 0;
	rtm->rtm_table = RT_TABLE_UNSPEC;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_HOST;
	rtm->rtm_type = RTN_LOCAL;
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	mnl_attr_put_u32(nlh, RTA_OIF, 1);	/* lo is always ifindex 1 */
	err = nl_change(nlh);
	return (add && err == -EEXIST) || (!add && (err == -ESRCH || err == -ENOENT)) ? 0 : err;
}

int dg_nl_monitor_open(void)
{
	struct mnl_socket *nl;
	int fd;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, RTMGRP_LINK | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE,
			    MNL_SOCKET_AUTOPID) < 0) {
		fd = -errno;
		mnl_socket_close(nl);
		return fd;
	}
	/* Keep the (non-blocking) fd, drop libmnl's wrapper: it holds
	 * nothing else. */
	fd = dup(mnl_socket_get_fd(nl));
	mnl_socket_close(nl);
	return fd < 0 ? -errno : fd;
}

struct monitor_ctx {
	dg_nl_event_fn fn;
	void *arg;
	int n;
};

/* A default route's devices, one event each. */
static void monitor_route(const struct nlmsghdr *nlh, struct monitor_ctx *m)
{
	struct dg_nl_event ev = {
		.type = nlh->nlmsg_type == RTM_NEWROUTE ? DG_NL_ROUTE : DG_NL_ROUTE_GONE,
	};
	int oif[DG_NL_EVENT_DEVS], i, n;

	n = dg_nl_route_devs(nlh, oif, DG_NL_EVENT_DEVS);
	if (n > DG_NL_EVENT_DEVS) {
		/* Wider than we look at: take it as a lost event. */
		m->n += ev.type == DG_NL_ROUTE;
		n = DG_NL_EVENT_DEVS;
	}
	for (i = 0; i < n; i++) {
		ev.link.ifindex = oif[i];
		if (m->fn(&ev, m->arg))
			m->n++;
	}
}

static int monitor_cb(const struct nlmsghdr *nlh, void *data)
{
	struct monitor_ctx *m = data;
	struct dg_nl_event ev = { .type = DG_NL_LINK };

	switch (nlh->nlmsg_type) {
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		monitor_route(nlh, m);
		break;
	case RTM_DELLINK:
		ev.type = DG_NL_LINK_GONE;
		/* fall through */
	case RTM_NEWLINK:
		if (link_cb(nlh, &ev.link) == MNL_CB_OK && ev.link.ifindex &&
		    m->fn(&ev, m->arg))
			m->n++;
		break;
	}
	return MNL_CB_OK;
}

int dg_nl_monitor_drain(int fd, dg_nl_event_fn fn, void *arg)
{
	char buf[NL_RECV_BUF];
	struct monitor_ctx m = { .fn = fn, .arg = arg };
	ssize_t len;
	int i;

	/* Bounded: a storm of events is read a few buffers per wake-up. */
	for (i = 0; i < 64; i++) {
		len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (len < 0) {
			/* Overrun: events were lost, so assume one mattered. */
			if (errno == ENOBUFS)
				return m.n + 1;
			break;
		}
		if (len == 0)
			break;
		if ((size_t)len > sizeof(buf)) {
			m.n++;		/* cut short: as lost */
			continue;
		}
		mnl_cb_run(buf, (size_t)len, 0, 0, monitor_cb, &m);
	}
	return m.n;
}
