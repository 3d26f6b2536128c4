// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "capture.h"
#include "log.h"
#include "netlink.h"

static int sysctl_write(const char *path_fmt, const char *ifname, const char *value)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), path_fmt, ifname);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		log_error("capture: %s: %s", path, strerror(errno));
		return -errno;
	}
	n = write(fd, value, strlen(value));
	close(fd);
	if (n != (ssize_t)strlen(value)) {
		log_error("capture: writing %s: %s", path, strerror(errno));
		return -EIO;
	}
	return 0;
}

/* Is link a veth whose peer is the other capture end? */
static int capture_lookup(struct dg_link *near, struct dg_link *far)
{
	int err = dg_nl_link_get(DG_CAPTURE_NEAR, near);

	if (err)
		return err;
	if (strcmp(near->kind, "veth") || dg_nl_link_get(DG_CAPTURE_FAR, far) ||
	    far->ifindex != near->peer_ifindex) {
		log_error("capture: interface %s exists but is not dotguard's capture pair (%s <-> %s): rename or remove it",
			  DG_CAPTURE_NEAR, DG_CAPTURE_NEAR, DG_CAPTURE_FAR);
		return -EEXIST;
	}
	return 0;
}

static int capture_configure(void)
{
	int err;

	/* Replies come from the server the application asked, an address
	 * routed via the uplink: strict rp_filter would drop them. The
	 * effective value is max(all, this one), so 2 (loose) holds. */
	err = sysctl_write("/proc/sys/net/ipv4/conf/%s/rp_filter", DG_CAPTURE_NEAR, "2");
	/* Only steered TCP/53 reaches the far end's stack (XDP and tc drop
	 * the rest), and nothing there may be routed out. */
	if (!err)
		err = sysctl_write("/proc/sys/net/ipv4/conf/%s/forwarding", DG_CAPTURE_FAR, "0");
	/* Steered segments come from the host's own addresses. */
	if (!err)
		err = sysctl_write("/proc/sys/net/ipv4/conf/%s/accept_local", DG_CAPTURE_FAR, "1");
	if (!err)
		err = sysctl_write("/proc/sys/net/ipv4/conf/%s/rp_filter", DG_CAPTURE_FAR, "2");
	/* IPv6 stays on at the far end for steered IPv6 TCP/53. Neither end
	 * ever needs router advertisements. */
	if (!err)
		err = sysctl_write("/proc/sys/net/ipv6/conf/%s/disable_ipv6", DG_CAPTURE_FAR, "0");
	if (!err)
		err = sysctl_write("/proc/sys/net/ipv6/conf/%s/accept_ra", DG_CAPTURE_FAR, "0");
	if (!err)
		err = sysctl_write("/proc/sys/net/ipv6/conf/%s/accept_ra", DG_CAPTURE_NEAR, "0");
	return err;
}

static int addr4_add(int ifindex, const char *text)
{
	struct in_addr a;

	inet_pton(AF_INET, text, &a);
	return dg_nl_addr4_add(ifindex, &a, 32);
}

int dg_capture_ensure(struct dg_capture *c)
{
	struct dg_link near, far;
	int err;

	err = capture_lookup(&near, &far);
	if (err == -ENODEV) {
		err = dg_nl_veth_create(DG_CAPTURE_NEAR, DG_CAPTURE_FAR);
		if (err) {
			log_error("capture: creating the veth pair %s <-> %s: %s",
				  DG_CAPTURE_NEAR, DG_CAPTURE_FAR, strerror(-err));
			return err;
		}
		err = capture_lookup(&near, &far);
	}
	if (err)
		return err;
	err = capture_configure();
	/* Any rp_filter (systemd sets all.rp_filter=2) drops what arrives
	 * on an interface with no IPv4 address at all: give each end a
	 * link-local one of its own. */
	if (!err)
		err = addr4_add(near.ifindex, DG_CAPTURE_ADDR4);
	if (!err)
		err = addr4_add(far.ifindex, DG_CAPTURE_FAR_ADDR4);
	if (!err && (err = dg_nl_link_set_up(far.ifindex)) == 0)
		err = dg_nl_link_set_up(near.ifindex);
	if (err) {
		log_error("capture: setting up %s: %s", DG_CAPTURE_NEAR, strerror(-err));
		return err;
	}
	if (!near.has_mac) {
		log_error("capture: %s has no MAC address", DG_CAPTURE_NEAR);
		return -EINVAL;
	}
	c->near_ifindex = near.ifindex;
	c->far_ifindex = far.ifindex;
	memcpy(c->near_mac, near.mac, 6);
	c->mtu = near.mtu ? near.mtu : 1500;
	return 0;
}

int dg_capture_remove(void)
{
	struct dg_link near, far;
	int err = dg_nl_link_get(DG_CAPTURE_NEAR, &near);

	if (err == -ENODEV)
		return 0;
	if (err)
		return err;
	/* Only our pair: a veth of that name whose peer is not the far end
	 * is someone else's, as the plan says when it refuses it. */
	if (strcmp(near.kind, "veth") || dg_nl_link_get(DG_CAPTURE_FAR, &far) ||
	    far.ifindex != near.peer_ifindex)
		return -EEXIST;
	return dg_nl_link_del(near.ifindex);
}
