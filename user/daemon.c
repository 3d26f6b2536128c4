// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>

#include <time.h>
#include <sys/epoll.h>
#include <dirent.h>

#include "redirect_udp.h"
#include "cache.h"
#include "capture.h"
#include "config.h"
#include "daemon.h"
#include "guard.h"
#include "hosts.h"
#include "log.h"
#include "notify.h"
#include "netlink.h"
#include "loop.h"
#include "pool.h"
#include "privs.h"
#include "resolver.h"
#include "stats.h"
#include "steer.h"
#include "stub.h"
#include "tls.h"

#define DAEMON_CACHE_ENTRIES 10000
#define DAEMON_CACHE_BYTES (4u << 20)	/* keeps RSS well under 16 MiB */
#define DAEMON_HOSTS "/etc/hosts"
#define DAEMON_RETIRED_MAX 4	/* reloads within one query deadline */
#define NS_PER_MS 1000000ull

struct daemon {
	const char *config_path;
	struct dg_config *cfg;
	struct dg_guard guard;
	/* + a steer point per gateway port, + the capture end's two */
	struct dg_target targets[DG_TARGETS_MAX];
	int n_targets;
	struct dg_unguarded unguarded;	/* matches no attach slot was left for */
	struct dg_loop loop;
	struct dg_stats stats;
	struct dg_resolver *res;
	struct dg_stub *stub;
	struct dg_capture cap;	/* host redirect mode; ifindex 0 when none */
	bool steer;		/* TCP/53 steering points attached */
	int n_listeners;	/* transparent TCP/53 listeners open (IPv4, IPv6) */
	/* Pools replaced by a reload, freed once their queries are done. */
	struct dg_pool *retired[DAEMON_RETIRED_MAX];
	uint64_t retired_at[DAEMON_RETIRED_MAX];
	struct dg_timer retire_timer;
	struct dg_redirect_udp *rudp;
	int nl_fd;		/* link events, -1 when not monitoring */
	struct dg_io nl_io;
	struct dg_defer reguard;	/* once per loop turn, however many events */
	int sfd;
	struct dg_io sig_io;
	struct dg_timer heartbeat;
};

static const char *cfg_name(const struct dg_config *cfg)
{
	return cfg->source[0] ? cfg->source : "built-in defaults";
}

/* Interfaces no slot was left for, counted once the counters exist. */
static void daemon_count_unguarded(struct daemon *d)
{
	if (!d->stats.s || !d->unguarded.pending)
		return;
	dg_stat_add(&d->stats.s->links_unguarded, d->unguarded.pending);
	d->unguarded.pending = 0;
}

/* Config and interfaces, all checked before the kernel is touched. */
static int daemon_prepare(struct daemon *d, struct dg_config *cfg,
			  struct dg_target *t, int *n)
{
	int err;

	err = dg_config_load(cfg, d->config_path);
	if (err > 0)
		log_error("%s: %d error%s: nothing was changed", cfg_name(cfg),
			  err, err == 1 ? "" : "s");
	if (err)
		return -EINVAL;
	*n = dg_guard_targets(cfg, t, DG_TARGETS_MAX, &d->unguarded);
	daemon_count_unguarded(d);
	return *n < 0 ? *n : 0;
}

/* What status shows of the config running now (audits compare it with
 * the file on disk). */
static void daemon_note_config(struct daemon *d)
{
	memcpy(d->stats.s->config_sha256, d->cfg->sha256, sizeof(d->cfg->sha256));
	dg_stat_set(&d->stats.s->config_loaded, (__u64)time(NULL));
}

static void log_ready(const struct daemon *d, const char *what)
{
	char list[256] = "", status[320];
	size_t len = 0;
	int i, w;

	for (i = 0; i < d->n_targets && len < sizeof(list); i++) {
		w = snprintf(list + len, sizeof(list) - len, "%s%s (%s)",
			     i ? ", " : "", d->targets[i].ifname,
			     dg_hook_name(d->targets[i].hook));
		if (w < 0)
			break;
		len += w;
	}
	log_info("%s: guarding %s; mode %s; pins at %s", what, list,
		 dg_mode_name(d->cfg->mode), d->cfg->pin_path);
	/* systemd (Type=notify): ready, or done reloading. */
	snprintf(status, sizeof(status), "guarding %s; mode %s", list,
		 dg_mode_name(d->cfg->mode));
	dg_notify_ready(status);
}

static void target_push(struct dg_target *t, int *n, const char *ifname,
			int ifindex, enum dg_hook hook)
{
	memset(&t[*n], 0, sizeof(t[*n]));
	snprintf(t[*n].ifname, sizeof(t[*n].ifname), "%s", ifname);
	t[*n].ifindex = ifindex;
	t[*n].hook = hook;
	(*n)++;
}

/* Redirect mode's own attach points, added once the config is known
 * good: TCP/53 steering (tc ingress) on each gateway port, and in host
 * mode the capture veth, made or taken over here, with XDP for UDP and tc
 * ingress for TCP on its far end. */
static int daemon_add_redirect_points(struct daemon *d, const struct dg_config *cfg,
				      struct dg_target *t, int *n)
{
	/* Host mode even before an uplink matches: one that appears later
	 * finds the capture path ready. */
	bool host = dg_config_host_mode(cfg);
	int i, n_conf = *n, err;

	memset(&d->cap, 0, sizeof(d->cap));
	d->steer = false;
	if (cfg->mode != DG_MODE_REDIRECT)
		return 0;
	for (i = 0; i < n_conf; i++) {
		host |= t[i].hook == DG_HOOK_TC_EGRESS;
		if (t[i].hook == DG_HOOK_XDP_GATEWAY) {
			target_push(t, n, t[i].ifname, t[i].ifindex, DG_HOOK_TC_STEER);
			t[*n - 1].lan_port = true;
			d->steer = true;
		}
	}
	if (host) {
		err = dg_capture_ensure(&d->cap);
		if (err)
			return err;
		target_push(t, n, DG_CAPTURE_FAR, d->cap.far_ifindex, DG_HOOK_XDP_CAPTURE);
		target_push(t, n, DG_CAPTURE_FAR, d->cap.far_ifindex, DG_HOOK_TC_STEER);
		d->steer = true;
	}
	return d->steer ? dg_steer_routing(true) : 0;
}

static int daemon_allow_socket(void *arg, int fd);
static void daemon_forget_socket(void *arg, uint64_t cookie);

/* Do the upstream settings differ? (Configs are zeroed before parsing,
 * so whole-struct compares are exact.) */
static bool upstreams_changed(const struct dg_config *a, const struct dg_config *b)
{
	return a->n_dns != b->n_dns || a->n_fallback != b->n_fallback ||
	       memcmp(a->dns, b->dns, sizeof(a->dns)) ||
	       memcmp(a->fallback, b->fallback, sizeof(a->fallback)) ||
	       a->dot != b->dot || strcmp(a->ca_file, b->ca_file) ||
	       a->n_pins != b->n_pins || memcmp(a->pins, b->pins, sizeof(a->pins)) ||
	       a->pool_size != b->pool_size;
}

/* Free the retired pools whose queries have all had their deadline. */
static void daemon_retire_reap(struct dg_loop *l, struct dg_timer *t)
{
	struct daemon *d = (struct daemon *)((char *)t - offsetof(struct daemon, retire_timer));
	uint64_t grace = (DG_QUERY_DEADLINE_MS + 500) * NS_PER_MS, next = 0;
	int i;

	for (i = 0; i < DAEMON_RETIRED_MAX; i++) {
		if (!d->retired[i])
			continue;
		if (l->now >= d->retired_at[i] + grace || !dg_pool_inflight(d->retired[i])) {
			dg_pool_free(d->retired[i]);
			d->retired[i] = NULL;
		} else if (!next || d->retired_at[i] + grace < next) {
			next = d->retired_at[i] + grace;
		}
	}
	if (next)
		dg_timer_set(l, t, next < l->now + 100 * NS_PER_MS ? next :
				       l->now + 100 * NS_PER_MS);
}

/* The old pool answers what it has in flight; new queries go to the new. */
static void daemon_retire_pool(struct daemon *d, struct dg_pool *old)
{
	int i, oldest = 0;

	for (i = 0; i < DAEMON_RETIRED_MAX && d->retired[i]; i++)
		if (d->retired_at[i] < d->retired_at[oldest])
			oldest = i;
	if (i == DAEMON_RETIRED_MAX) {
		/* Reloads faster than a deadline: the oldest goes now. */
		dg_pool_free(d->retired[oldest]);
		i = oldest;
	}
	dg_pool_retire(old);
	d->retired[i] = old;
	d->retired_at[i] = d->loop.now;
	dg_timer_set(&d->loop, &d->retire_timer, d->loop.now + 100 * NS_PER_MS);
}

/* The resolving half of a reload: upstreams (a new pool), cache, hosts.
 * new_pool was built before anything changed; commit cannot fail. */
static void daemon_reload_resolver(struct daemon *d, const struct dg_config *cfg,
				   struct dg_pool *new_pool)
{
	struct dg_resolver *res = d->res;
	int err;

	if (new_pool) {
		daemon_retire_pool(d, res->pool);
		dg_pool_adopt_stats(new_pool, &d->stats);
		dg_pool_set_allow(new_pool, daemon_allow_socket, daemon_forget_socket, d);
		dg_pool_start(new_pool);
		res->pool = new_pool;
		log_info("reload: upstreams replaced; queries in flight finish on the old ones");
	}
	if (cfg->cache == DG_CACHE_NO && res->cache) {
		dg_cache_free(res->cache);
		res->cache = NULL;
	} else if (cfg->cache != DG_CACHE_NO && !res->cache) {
		res->cache = dg_cache_new(DAEMON_CACHE_ENTRIES, DAEMON_CACHE_BYTES);
	}
	if (cfg->read_etc_hosts != d->cfg->read_etc_hosts) {
		dg_hosts_free(res->hosts);
		res->hosts = cfg->read_etc_hosts ? dg_hosts_load(DAEMON_HOSTS, &err) : NULL;
	}
	if (cfg->stub != d->cfg->stub || cfg->n_stub_extra != d->cfg->n_stub_extra ||
	    memcmp(cfg->stub_extra, d->cfg->stub_extra, sizeof(cfg->stub_extra)))
		log_warn("reload: DNSStubListener= and DNSStubListenerExtra= take effect at the next start");
	if (strcmp(cfg->user, d->cfg->user))
		log_warn("reload: User= takes effect at the next start");
	res->cfg = cfg;
}

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

/* AF_XDP sockets on every RX queue of t (the capture veth's far end, one
 * queue; a gateway port, each of its queues). */
static int daemon_rudp_port(struct daemon *d, const struct dg_target *t)
{
	struct dg_link link;
	__u32 slot;
	int err;

	err = dg_guard_slot_of(&d->guard, t->ifindex, t->hook, &slot);
	if (!err)
		err = dg_nl_link_get_index(t->ifindex, &link);
	if (!err)
		err = dg_redirect_udp_add(d->rudp, t->ifname, t->ifindex, slot,
				    t->hook == DG_HOOK_XDP_CAPTURE ? 1 :
					link_rx_queues(t->ifname),
				    t->hook == DG_HOOK_XDP_CAPTURE ?
					d->cap.near_mac : NULL,
				    link.mtu ? link.mtu : 1500);
	if (err)
		log_error("interface %s: cannot take redirected queries: %s",
			  t->ifname, strerror(-err));
	return err;
}

static bool takes_redirects(const struct dg_target *t)
{
	return t->hook == DG_HOOK_XDP_CAPTURE || t->hook == DG_HOOK_XDP_GATEWAY;
}

/* Redirect mode: an AF_XDP socket on every queue the guard redirects to.
 * Until they exist, redirected queries are dropped, never passed. */
static int daemon_rudp_open(struct daemon *d)
{
	int fd;

	if (d->rudp)
		return 0;
	fd = dg_guard_xsks_fd(&d->guard);
	if (fd < 0) {
		log_error("the pinned XSKMAP under %s: %s", d->cfg->pin_path,
			  strerror(errno));
		return -errno;
	}
	d->rudp = dg_redirect_udp_new(&d->loop, d->res, fd);
	if (!d->rudp) {
		close(fd);
		return -ENOMEM;
	}
	return 0;
}

/* Is there a target like t (same interface name and hook) among t[n]? */
static bool target_listed(const struct dg_target *t, const struct dg_target *list, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (list[i].hook == t->hook && !strcmp(list[i].ifname, t->ifname))
			return true;
	return false;
}

/* Make the AF_XDP sockets match the redirect points t[n]: each one at
 * start, a port new in the config (reload), or re-created under its name
 * with a new index (the sockets bound to the old one hear nothing), gets
 * sockets; one no longer guarded loses them. Until a port has its sockets
 * the guard drops what it redirects there (fail closed). Returns the first
 * port's error, after trying them all. */
static int daemon_rudp_sync(struct daemon *d, const struct dg_target *t, int n,
			      const char *why_missing)
{
	int i, err, first = 0;

	if (!d->rudp)
		return 0;
	for (i = 0; i < d->n_targets; i++)
		if (takes_redirects(&d->targets[i]) &&
		    !target_listed(&d->targets[i], t, n) &&
		    dg_redirect_udp_remove(d->rudp, d->targets[i].ifname))
			log_info("interface %s: %s; its AF_XDP sockets closed",
				 d->targets[i].ifname, why_missing);
	for (i = 0; i < n; i++) {
		if (!takes_redirects(&t[i]) || t[i].ifindex <= 0 ||
		    dg_redirect_udp_serves(d->rudp, t[i].ifname, t[i].ifindex))
			continue;
		dg_redirect_udp_remove(d->rudp, t[i].ifname);
		err = daemon_rudp_port(d, &t[i]);
		if (!err)
			log_info("interface %s: AF_XDP sockets open on index %d",
				 t[i].ifname, t[i].ifindex);
		else if (!first)
			first = err;
	}
	return first;
}

/* At start in Mode=redirect: the sockets of every redirect point. */
static int daemon_rudp_init(struct daemon *d)
{
	int err;

	if (d->cfg->mode != DG_MODE_REDIRECT)
		return 0;
	err = daemon_rudp_open(d);
	return err ? err : daemon_rudp_sync(d, d->targets, d->n_targets, "");
}

/* Redirect mode: transparent listeners for steered TCP/53; then XDP may
 * pass TCP on to tc ingress. Until then the capture end drops it and a
 * gateway port hands it to AF_XDP, where it is dropped as not UDP. */
static int daemon_steer_init(struct daemon *d)
{
	static const int families[] = { AF_INET, AF_INET6 };
	int i, fd, err, n = 0;

	if (!d->steer)
		return 0;
	for (i = 0; i < 2; i++) {
		fd = dg_stub_listen_steered(d->stub, families[i]);
		if (fd < 0) {
			/* A host without IPv6 still steers IPv4; IPv6 TCP/53
			 * then finds no listener and is dropped. */
			log_warn("no transparent %s listener for TCP/53 (%s): those connections are dropped",
				 i ? "IPv6" : "IPv4", strerror(-fd));
			continue;
		}
		err = dg_guard_set_listener(&d->guard, i ? DG_LISTEN_V6 : DG_LISTEN_V4, fd);
		if (err)
			return err;
		n++;
	}
	d->n_listeners = n;
	return dg_guard_set_capture(&d->guard, d->cap.near_ifindex, n > 0);
}

/* After a reload in Mode=redirect: the capture end in the policy, AF_XDP
 * sockets on every redirect point, and (coming from another mode) the
 * TCP/53 listeners, as start-up does. The guard redirects already and
 * drops what finds no socket or listener yet (fail closed). */
static void daemon_redirect_serve(struct daemon *d, const struct dg_target *t,
				  int n, bool was_redirect)
{
	int err;

	err = dg_guard_set_capture(&d->guard, d->cap.near_ifindex,
				   was_redirect && d->n_listeners > 0);
	if (!err)
		err = daemon_rudp_open(d);
	if (!err)
		daemon_rudp_sync(d, t, n, "no longer in the config");
	if (!err && !was_redirect)
		err = daemon_steer_init(d);
	if (err)
		log_error("reload: redirect mode is not fully served (%s); what it cannot take is dropped",
			  strerror(-err));
}

/* After a reload out of Mode=redirect: the guard drops or monitors now
 * and the capture path is detached; close what served it. Answers still
 * owed to caught queries are dropped and counted (redirected_tx_drops). */
static void daemon_redirect_stop(struct daemon *d)
{
	daemon_rudp_sync(d, NULL, 0, "Mode= is no longer redirect");
	dg_stub_close_steered(d->stub);
	d->n_listeners = 0;
	dg_guard_set_capture(&d->guard, 0, false);
	dg_steer_routing(false);
}

/* SIGHUP: a new config takes effect without lifting the guard; a bad one
 * is refused and the running one stays. */
static void daemon_reload(struct daemon *d)
{
	struct dg_target t[DG_TARGETS_MAX];
	struct dg_pool *new_pool = NULL;
	struct dg_config *cfg;
	int n, err;

	cfg = calloc(1, sizeof(*cfg));
	if (!cfg) {
		log_error("reload: out of memory; keeping the running config");
		return;
	}
	if (daemon_prepare(d, cfg, t, &n)) {
		log_error("reload refused: keeping the running config");
		goto out;
	}
	if (strcmp(cfg->pin_path, d->cfg->pin_path)) {
		log_error("reload refused: PinPath= changed (%s -> %s); restart to move the pins",
			  d->cfg->pin_path, cfg->pin_path);
		goto out;
	}
	/* New upstreams are built (not started) before anything changes, so
	 * a config they cannot take is refused whole. */
	if (upstreams_changed(d->cfg, cfg) &&
	    !(new_pool = dg_pool_new(&d->loop, cfg, NULL))) {
		log_error("reload refused: the new upstreams cannot be set up; keeping the running config");
		goto out;
	}
	if (daemon_add_redirect_points(d, cfg, t, &n))
		goto out;
	err = dg_guard_apply(&d->guard, cfg, t, n, false);
	if (err) {
		log_error("reload: applying the new config failed; what could be attached is attached");
		goto out;
	}
	if (cfg->mode == DG_MODE_REDIRECT)
		daemon_redirect_serve(d, t, n, d->cfg->mode == DG_MODE_REDIRECT);
	else if (d->cfg->mode == DG_MODE_REDIRECT)
		daemon_redirect_stop(d);
	daemon_reload_resolver(d, cfg, new_pool);
	new_pool = NULL;
	free(d->cfg);
	d->cfg = cfg;
	memcpy(d->targets, t, sizeof(t));
	d->n_targets = n;
	cfg = NULL;
	daemon_note_config(d);
	dg_stat_add(&d->stats.s->reloads, 1);
	log_ready(d, "reloaded");
	return;
out:
	dg_stat_add(&d->stats.s->reloads_refused, 1);
	/* Still serving with the running config: systemd must hear so. */
	dg_notify_ready("reload refused; running config kept");
	dg_pool_free(new_pool);
	free(cfg);
}

static void daemon_signal(struct dg_loop *l, uint32_t events, void *arg)
{
	struct daemon *d = arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(d->sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			log_info("SIGHUP: reloading %s", cfg_name(d->cfg));
			dg_notify_reloading();
			daemon_reload(d);
			continue;
		}
		dg_notify_stopping();
		log_info("stopping on %s; the guard stays in place (fail closed): 'dotguard detach' lifts it",
			 strsignal(si.ssi_signo));
		dg_loop_stop(l);
	}
}

/* Is ifindex an uplink or LAN port we guard? */
static bool daemon_guards(const struct daemon *d, int ifindex, const char *ifname)
{
	int i;

	for (i = 0; i < d->n_targets; i++) {
		const struct dg_target *t = &d->targets[i];

		if (t->hook != DG_HOOK_TC_EGRESS && t->hook != DG_HOOK_XDP_GATEWAY)
			continue;
		if (t->ifindex == ifindex || (ifname && !strcmp(t->ifname, ifname)))
			return true;
	}
	return false;
}

/* Does this event change what we guard: an interface we guard (by name,
 * or by index for one going away), one the config names or a glob
 * matches, or a new default route (auto) by an interface not guarded
 * yet? A default route going away changes nothing: its interface stays
 * guarded until a reload (an application may still reach a resolver
 * through a more specific route). */
static bool daemon_link_matters(const struct dg_nl_event *ev, void *arg)
{
	struct daemon *d = arg;
	const struct dg_link *link = &ev->link;
	int i;

	switch (ev->type) {
	case DG_NL_ROUTE:
		return dg_config_iface_auto(d->cfg) &&
		       !daemon_guards(d, link->ifindex, NULL);
	case DG_NL_ROUTE_GONE:
		return false;
	case DG_NL_LINK:
	case DG_NL_LINK_GONE:
		break;
	}
	if (daemon_guards(d, link->ifindex, link->ifname))
		return true;
	for (i = 0; i < d->cfg->n_gw_ifaces; i++)
		if (!strcmp(d->cfg->gw_ifaces[i], link->ifname))
			return true;
	/* Named or matched: appeared, came back, or renamed into a glob. */
	return ev->type == DG_NL_LINK &&
	       dg_config_iface_match(d->cfg, link->ifname, false) != DG_IFACE_NO;
}

/* Links or default routes changed: select again (what is guarded stays
 * guarded while it exists; new matches join) and attach wherever our
 * program is missing. Nothing is detached: a vanished interface took its
 * program along, and a renamed one keeps it. */
static void daemon_reguard(struct dg_loop *l, struct dg_defer *df)
{
	struct daemon *d = (struct daemon *)((char *)df - offsetof(struct daemon, reguard));
	struct dg_target t[DG_TARGETS_MAX];
	int n;

	if (l->stop)
		return;
	n = dg_guard_targets_refresh(d->cfg, d->targets, d->n_targets, t,
				     DG_TARGETS_MAX, &d->unguarded);
	daemon_count_unguarded(d);
	if (n < 0 || daemon_add_redirect_points(d, d->cfg, t, &n) ||
	    dg_guard_reguard(&d->guard, d->cfg, t, n)) {
		log_error("link change: re-applying the guard failed; retried on the next link event");
		return;
	}
	daemon_rudp_sync(d, t, n, "gone");
	memcpy(d->targets, t, sizeof(t[0]) * (size_t)n);
	d->n_targets = n;
}

static void daemon_link_event(struct dg_loop *l, uint32_t events, void *arg)
{
	struct daemon *d = arg;
	int n;

	(void)events;
	n = dg_nl_monitor_drain(d->nl_fd, daemon_link_matters, d);
	if (n > 0) {
		dg_stat_add(&d->stats.s->link_events, (__u64)n);
		dg_defer(l, &d->reguard);
	}
}

/* Watch links and default routes: an interface deleted and re-created,
 * one that appears after start matching a glob, or one that gains a
 * default route (auto) is guarded at once. */
static int daemon_link_monitor(struct daemon *d)
{
	/* Counted now that the counters exist: those found at start. */
	daemon_count_unguarded(d);
	d->nl_fd = dg_nl_monitor_open();
	if (d->nl_fd < 0) {
		log_error("link monitor: %s", strerror(-d->nl_fd));
		return d->nl_fd;
	}
	/* What changed while we started, before the monitor listened, is
	 * caught by one selection now. */
	dg_defer(&d->loop, &d->reguard);
	return dg_io_add(&d->loop, &d->nl_io, d->nl_fd, EPOLLIN, daemon_link_event, d);
}

static void daemon_heartbeat(struct dg_loop *l, struct dg_timer *t)
{
	struct daemon *d = (struct daemon *)((char *)t - offsetof(struct daemon, heartbeat));

	/* status tells a live daemon from a hung or dead one by this. */
	dg_stat_set(&d->stats.s->heartbeat, (__u64)time(NULL));
	dg_redirect_udp_poll_stats(d->rudp);
	dg_timer_set(l, t, l->now + 1000000000ull);
}

static int daemon_signals(struct daemon *d)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) ||
	    (d->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		log_error("signals: %s", strerror(errno));
		return -errno;
	}
	return dg_io_add(&d->loop, &d->sig_io, d->sfd, EPOLLIN, daemon_signal, d);
}

/* Cleartext upstream sockets pass the guard by cookie, never by port. */
static int daemon_allow_socket(void *arg, int fd)
{
	struct daemon *d = arg;
	int err = dg_guard_allow_socket(&d->guard, fd);

	if (err)
		log_error("cannot let a cleartext upstream socket past the guard: %s",
			  strerror(-err));
	return err;
}

static void daemon_forget_socket(void *arg, uint64_t cookie)
{
	dg_guard_forget_socket(&((struct daemon *)arg)->guard, cookie);
}

/* The resolving half: counters, cache, hosts, upstream pool, stub. */
static int daemon_serve_init(struct daemon *d)
{
	const struct dg_config *cfg = d->cfg;
	struct dg_resolver *res;
	int err;

	err = dg_stats_open(&d->stats, cfg->pin_path);
	if (err) {
		log_error("daemon counters under %s: %s", cfg->pin_path, strerror(-err));
		return err;
	}
	memset(d->stats.s, 0, sizeof(*d->stats.s));
	d->stats.s->started = (__u64)time(NULL);
	d->stats.s->pid = (__u64)getpid();
	daemon_note_config(d);
	daemon_heartbeat(&d->loop, &d->heartbeat);

	if (dg_tls_init())
		return -EIO;
	res = d->res = calloc(1, sizeof(*res));
	if (!res)
		return -ENOMEM;
	res->loop = &d->loop;
	res->cfg = cfg;
	res->stats = &d->stats;
	if (cfg->cache != DG_CACHE_NO &&
	    !(res->cache = dg_cache_new(DAEMON_CACHE_ENTRIES, DAEMON_CACHE_BYTES)))
		return -ENOMEM;
	if (cfg->read_etc_hosts) {
		res->hosts = dg_hosts_load(DAEMON_HOSTS, &err);
		if (!res->hosts)
			log_warn("%s: %s: names there are not answered locally",
				 DAEMON_HOSTS, strerror(-err));
	}
	res->pool = dg_pool_new(&d->loop, cfg, &d->stats);
	if (!res->pool)
		return -EINVAL;
	dg_pool_set_allow(res->pool, daemon_allow_socket, daemon_forget_socket, d);
	d->stub = dg_stub_new(&d->loop, res, cfg);
	if (!d->stub)
		return -EADDRNOTAVAIL;
	err = daemon_rudp_init(d);
	if (!err)
		err = daemon_steer_init(d);
	if (err)
		return err;
	dg_pool_start(res->pool);
	return 0;
}

static void daemon_serve_fini(struct daemon *d)
{
	struct dg_resolver *res = d->res;
	int i;

	dg_stub_free(d->stub);
	dg_timer_cancel(&d->loop, &d->retire_timer);
	for (i = 0; i < DAEMON_RETIRED_MAX; i++)
		dg_pool_free(d->retired[i]);
	if (res) {
		dg_pool_free(res->pool);
		/* After the pool: the answers it still owed are dropped. */
		dg_redirect_udp_free(d->rudp);
		dg_cache_free(res->cache);
		dg_hosts_free(res->hosts);
		free(res);
	}
	dg_timer_cancel(&d->loop, &d->heartbeat);
	if (d->stats.s)
		dg_stats_close(&d->stats);
}

int dg_daemon_run(const char *config_path)
{
	struct daemon *d;
	int ret = -EIO;

	d = calloc(1, sizeof(*d));
	if (!d || !(d->cfg = calloc(1, sizeof(*d->cfg)))) {
		log_error("out of memory");
		free(d);
		return -ENOMEM;
	}
	d->config_path = config_path;
	d->sfd = -1;
	d->nl_fd = -1;
	dg_defer_init(&d->reguard, daemon_reguard);
	dg_timer_init(&d->retire_timer, daemon_retire_reap);
	/* Teardown cancels it whatever point start-up reached. */
	dg_timer_init(&d->heartbeat, daemon_heartbeat);
	dg_guard_init(&d->guard, "");
	if (dg_loop_init(&d->loop)) {
		log_error("epoll: %s", strerror(errno));
		goto out;
	}
	if (daemon_prepare(d, d->cfg, d->targets, &d->n_targets))
		goto out;
	dg_guard_init(&d->guard, d->cfg->pin_path);
	if (dg_guard_lock(&d->guard, true))
		goto out;
	if (daemon_add_redirect_points(d, d->cfg, d->targets, &d->n_targets) ||
	    dg_guard_apply(&d->guard, d->cfg, d->targets, d->n_targets, true) ||
	    dg_guard_set_capture(&d->guard, d->cap.near_ifindex, false)) {
		dg_guard_abandon(&d->guard);
		goto out;
	}
	/* The guard is in place before anything resolves: nothing leaks
	 * while the rest starts, and a failure below stays fail closed. */
	if (daemon_signals(d) || daemon_serve_init(d) || daemon_link_monitor(d) ||
	    dg_privs_drop(d->cfg->user, d->cfg->user_set))
		goto out;
	log_ready(d, "ready");
	if (!dg_loop_run(&d->loop))
		ret = 0;
out:
	daemon_serve_fini(d);
	if (d->sfd >= 0)
		close(d->sfd);
	if (d->nl_fd >= 0) {
		dg_io_del(&d->loop, &d->nl_io);
		close(d->nl_fd);
	}
	dg_loop_fini(&d->loop);
	dg_guard_close(&d->guard);
	free(d->cfg);
	free(d);
	return ret;
}
