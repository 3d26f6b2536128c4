// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "log.h"
#include "netlink.h"
#include "redirect.h"

void dg_redirect_init(struct dg_redirect *r, struct dg_guard *g,
		      struct dg_loop *l)
{
	memset(r, 0, sizeof(*r));
	r->guard = g;
	r->loop = l;
}

/* ---- the steering rule ---------------------------------------------- */

/* Add (or remove) "fwmark DG_STEER_MARK lookup DG_STEER_TABLE" and that
 * table's "local default dev lo", IPv4 and IPv6, so the stack delivers
 * steered TCP/53 to the socket tc assigned it to, whatever its
 * destination. Idempotent both ways. */
static int redirect_steer_rule(bool add)
{
	static const int families[] = { AF_INET, AF_INET6 };
	int i, err = 0;

	/* The rule never points at an empty table: a marked packet that
	 * fell through to the main table could be forwarded. */
	for (i = 0; i < 2 && !err; i++) {
		if (add)
			err = dg_nl_route_local_all(true, families[i], DG_STEER_TABLE);
		if (!err)
			err = dg_nl_rule_fwmark(add, families[i], DG_STEER_MARK,
						DG_STEER_TABLE, DG_STEER_RULE_PRIO);
		if (!err && !add)
			err = dg_nl_route_local_all(false, families[i], DG_STEER_TABLE);
	}
	if (err)
		log_error("%s the TCP/53 steering rule (fwmark %#x lookup %d): %s",
			  add ? "adding" : "removing", DG_STEER_MARK, DG_STEER_TABLE,
			  strerror(-err));
	return err;
}

/* ---- the plan -------------------------------------------------------- */

static int target_push(struct dg_target *t, int *n, int max, const char *ifname,
		       int ifindex, enum dg_hook hook)
{
	if (*n >= max) {
		log_error("redirect mode: more attach points than %d", max);
		return -E2BIG;
	}
	memset(&t[*n], 0, sizeof(t[*n]));
	snprintf(t[*n].ifname, sizeof(t[*n].ifname), "%s", ifname);
	t[*n].ifindex = ifindex;
	t[*n].hook = hook;
	(*n)++;
	return 0;
}

int dg_redirect_plan(struct dg_redirect *r, const struct dg_config *cfg,
		     struct dg_target *t, int *n, int max)
{
	/* Host mode even before an uplink matches: one that appears later
	 * finds the capture path ready. */
	bool host = dg_config_host_mode(cfg);
	int i, n_conf = *n, err;

	memset(&r->cap, 0, sizeof(r->cap));
	r->steer = false;
	if (cfg->mode != DG_MODE_REDIRECT)
		return 0;
	for (i = 0; i < n_conf; i++) {
		host |= t[i].hook == DG_HOOK_TC_EGRESS;
		if (t[i].hook != DG_HOOK_XDP_GATEWAY)
			continue;
		err = target_push(t, n, max, t[i].ifname, t[i].ifindex, DG_HOOK_TC_STEER);
		if (err)
			return err;
		t[*n - 1].lan_port = true;
		r->steer = true;
	}
	if (host) {
		err = dg_capture_ensure(&r->cap);
		if (!err)
			err = target_push(t, n, max, DG_CAPTURE_FAR, r->cap.far_ifindex,
					  DG_HOOK_XDP_CAPTURE);
		if (!err)
			err = target_push(t, n, max, DG_CAPTURE_FAR, r->cap.far_ifindex,
					  DG_HOOK_TC_STEER);
		if (err)
			return err;
		r->steer = true;
	}
	return r->steer ? redirect_steer_rule(true) : 0;
}

int dg_redirect_aim(struct dg_redirect *r)
{
	return dg_guard_set_capture(r->guard, r->cap.near_ifindex,
				    r->n_listeners > 0);
}

/* ---- AF_XDP sockets --------------------------------------------------- */

/* RX queues of a link: one AF_XDP socket each. */
static unsigned int link_rx_queues(const char *ifname)
{
	char path[64];
	struct dirent *de;
	unsigned int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	dir = opendir(path);
	if (!dir)
		return 1;
	while ((de = readdir(dir)))
		n += !strncmp(de->d_name, "rx-", 3);
	closedir(dir);
	return n ? n : 1;
}

static bool takes_redirects(const struct dg_target *t)
{
	return t->hook == DG_HOOK_XDP_CAPTURE || t->hook == DG_HOOK_XDP_GATEWAY;
}

/* AF_XDP sockets on every RX queue of t (the capture veth's far end, one
 * queue; a gateway port, each of its queues). */
static int redirect_port(struct dg_redirect *r, const struct dg_target *t)
{
	bool capture = t->hook == DG_HOOK_XDP_CAPTURE;
	struct dg_link link;
	__u32 slot;
	int err;

	err = dg_guard_slot_of(r->guard, t->ifindex, t->hook, &slot);
	if (!err)
		err = dg_nl_link_get_index(t->ifindex, &link);
	if (!err)
		err = dg_redirect_udp_add(r->udp, t->ifname, t->ifindex, slot,
					  capture ? 1 : link_rx_queues(t->ifname),
					  capture ? r->cap.near_mac : NULL,
					  link.mtu ? link.mtu : 1500);
	/* Queues opened before a failure keep serving; the rest drop what
	 * is redirected to them (fail closed). */
	if (err)
		log_error("interface %s: not every RX queue can take redirected queries (%s): those queries are dropped",
			  t->ifname, strerror(-err));
	return err;
}

/* The socket set, opened once: until it exists, redirected queries are
 * dropped, never passed. */
static int redirect_udp_open(struct dg_redirect *r)
{
	int fd;

	if (r->udp)
		return 0;
	fd = dg_guard_xsks_fd(r->guard);
	if (fd < 0) {
		log_error("the pinned XSKMAP under %s: %s", r->guard->pin_path,
			  strerror(errno));
		return -errno;
	}
	r->udp = dg_redirect_udp_new(r->loop, r->res, fd);
	if (!r->udp) {
		close(fd);
		return -ENOMEM;
	}
	return 0;
}

/* Is there a target like t (same interface name and hook) among list[n]? */
static bool target_listed(const struct dg_target *t, const struct dg_target *list,
			  int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (list[i].hook == t->hook && !strcmp(list[i].ifname, t->ifname))
			return true;
	return false;
}

int dg_redirect_sync(struct dg_redirect *r, const struct dg_target *old,
		     int n_old, const struct dg_target *t, int n,
		     const char *why)
{
	int i, err, first = 0;

	if (!r->udp)
		return 0;
	for (i = 0; i < n_old; i++)
		if (takes_redirects(&old[i]) && !target_listed(&old[i], t, n) &&
		    dg_redirect_udp_remove(r->udp, old[i].ifname))
			log_info("interface %s: %s; its AF_XDP sockets closed",
				 old[i].ifname, why);
	for (i = 0; i < n; i++) {
		if (!takes_redirects(&t[i]) || t[i].ifindex <= 0 ||
		    dg_redirect_udp_serves(r->udp, t[i].ifname, t[i].ifindex))
			continue;
		/* Re-created under its name: the old index's sockets hear
		 * nothing any more. */
		dg_redirect_udp_remove(r->udp, t[i].ifname);
		err = redirect_port(r, &t[i]);
		if (!err)
			log_info("interface %s: AF_XDP sockets open on index %d",
				 t[i].ifname, t[i].ifindex);
		else if (!first)
			first = err;
	}
	return first;
}

/* ---- TCP/53 listeners -------------------------------------------------- */

/* Transparent listeners for steered TCP/53, in the guard's SOCKMAP; then
 * XDP may pass TCP on to tc ingress. Until then the capture end drops it
 * and a gateway port hands it to AF_XDP, where it is dropped as not UDP. */
static int redirect_listen(struct dg_redirect *r)
{
	static const int families[] = { AF_INET, AF_INET6 };
	int i, fd, err, n = 0;

	if (!r->steer)
		return 0;
	for (i = 0; i < 2; i++) {
		fd = dg_stub_listen_steered(r->stub, families[i]);
		if (fd < 0) {
			/* A host without IPv6 still steers IPv4; IPv6 TCP/53
			 * then finds no listener and is dropped. */
			log_warn("no transparent %s listener for TCP/53 (%s): those connections are dropped",
				 i ? "IPv6" : "IPv4", strerror(-fd));
			continue;
		}
		err = dg_guard_set_listener(r->guard, i ? DG_LISTEN_V6 : DG_LISTEN_V4, fd);
		if (err)
			return err;
		n++;
	}
	r->n_listeners = n;
	return dg_redirect_aim(r);
}

/* ---- life ----------------------------------------------------------------- */

int dg_redirect_start(struct dg_redirect *r, struct dg_resolver *res,
		      struct dg_stub *stub, const struct dg_target *t, int n,
		      bool active)
{
	int err;

	r->res = res;
	r->stub = stub;
	if (!active)
		return 0;
	err = redirect_udp_open(r);
	if (!err)
		err = dg_redirect_sync(r, NULL, 0, t, n, "");
	return err ? err : redirect_listen(r);
}

void dg_redirect_reload(struct dg_redirect *r, const struct dg_target *old,
			int n_old, const struct dg_target *t, int n,
			bool was_redirect)
{
	int err;

	if (!was_redirect)
		r->n_listeners = 0;
	err = dg_redirect_aim(r);
	if (!err)
		err = redirect_udp_open(r);
	if (!err)
		dg_redirect_sync(r, old, n_old, t, n, "no longer in the config");
	if (!err && !was_redirect)
		err = redirect_listen(r);
	if (err)
		log_error("reload: redirect mode is not fully served (%s); what it cannot take is dropped",
			  strerror(-err));
}

void dg_redirect_stop(struct dg_redirect *r, const struct dg_target *old,
		      int n_old)
{
	dg_redirect_sync(r, old, n_old, NULL, 0, "Mode= is no longer redirect");
	dg_stub_close_steered(r->stub);
	r->n_listeners = 0;
	dg_guard_set_capture(r->guard, 0, false);
	redirect_steer_rule(false);
}

void dg_redirect_poll(struct dg_redirect *r)
{
	dg_redirect_udp_poll_stats(r->udp);
}

void dg_redirect_free(struct dg_redirect *r)
{
	dg_redirect_udp_free(r->udp);
	r->udp = NULL;
}

int dg_redirect_detach(bool with_capture)
{
	int err = 0, e;

	if (with_capture) {
		err = dg_capture_remove();
		if (err)
			log_error("removing the capture pair %s: %s", DG_CAPTURE_NEAR,
				  strerror(-err));
		else
			log_info("capture pair %s <-> %s removed", DG_CAPTURE_NEAR,
				 DG_CAPTURE_FAR);
	}
	/* Last: with no program left, nothing is marked for it. */
	e = redirect_steer_rule(false);
	return err ? err : e;
}
