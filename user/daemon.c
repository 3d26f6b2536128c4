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

#include "cache.h"
#include "config.h"
#include "daemon.h"
#include "guard.h"
#include "hosts.h"
#include "log.h"
#include "notify.h"
#include "netlink.h"
#include "loop.h"
#include "plain.h"
#include "pool.h"
#include "redirect.h"
#include "privs.h"
#include "resolver.h"
#include "stats.h"
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
	struct dg_redirect redirect;	/* what redirect mode needs besides the guard */
	/* Pools replaced by a reload, freed once their queries are done. */
	struct dg_pool *retired[DAEMON_RETIRED_MAX];
	uint64_t retired_at[DAEMON_RETIRED_MAX];
	struct dg_timer retire_timer;
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
	if (dg_redirect_plan(&d->redirect, cfg, t, &n, DG_TARGETS_MAX))
		goto out;
	err = dg_guard_apply(&d->guard, cfg, t, n, false);
	if (err) {
		log_error("reload: applying the new config failed; what could be attached is attached");
		goto out;
	}
	if (cfg->mode == DG_MODE_REDIRECT)
		dg_redirect_reload(&d->redirect, d->targets, d->n_targets, t, n,
				   d->cfg->mode == DG_MODE_REDIRECT);
	else if (d->cfg->mode == DG_MODE_REDIRECT)
		dg_redirect_stop(&d->redirect, d->targets, d->n_targets);
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
			/* The new config is root's file, read before any
			 * client byte; the kernel work needs the kept
			 * capabilities. */
			dg_privs_raise();
			daemon_reload(d);
			dg_privs_lower();
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
static void daemon_reguard(struct dg_loop *l, struct dg_defer *df);

/* Re-guarding attaches programs, opens AF_XDP sockets, changes routes:
 * the kept capabilities in effect for it, and for nothing else. */
static void daemon_reguard_privileged(struct dg_loop *l, struct dg_defer *df)
{
	dg_privs_raise();
	daemon_reguard(l, df);
	dg_privs_lower();
}

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
	if (n < 0 || dg_redirect_plan(&d->redirect, d->cfg, t, &n, DG_TARGETS_MAX) ||
	    dg_guard_reguard(&d->guard, d->cfg, t, n)) {
		log_error("link change: re-applying the guard failed; retried on the next link event");
		return;
	}
	dg_redirect_sync(&d->redirect, d->targets, d->n_targets, t, n, "gone");
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
	dg_redirect_poll(&d->redirect);
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
	int err;

	dg_privs_raise();	/* bpf(2) on the allow-list: CAP_BPF */
	err = dg_guard_allow_socket(&d->guard, fd);
	dg_privs_lower();

	if (err)
		log_error("cannot let a cleartext upstream socket past the guard: %s",
			  strerror(-err));
	return err;
}

static void daemon_forget_socket(void *arg, uint64_t cookie)
{
	dg_privs_raise();
	dg_guard_forget_socket(&((struct daemon *)arg)->guard, cookie);
	dg_privs_lower();
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
	dg_plain_set_stats(d->stats.s);
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
	err = dg_redirect_start(&d->redirect, res, d->stub, d->targets,
				d->n_targets, cfg->mode == DG_MODE_REDIRECT);
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
		dg_redirect_free(&d->redirect);
		dg_cache_free(res->cache);
		dg_hosts_free(res->hosts);
		free(res);
	}
	dg_timer_cancel(&d->loop, &d->heartbeat);
	dg_plain_set_stats(NULL);
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
	dg_defer_init(&d->reguard, daemon_reguard_privileged);
	dg_timer_init(&d->retire_timer, daemon_retire_reap);
	/* Teardown cancels it whatever point start-up reached. */
	dg_timer_init(&d->heartbeat, daemon_heartbeat);
	dg_guard_init(&d->guard, "");
	dg_redirect_init(&d->redirect, &d->guard, &d->loop);
	if (dg_loop_init(&d->loop)) {
		log_error("epoll: %s", strerror(errno));
		goto out;
	}
	if (daemon_prepare(d, d->cfg, d->targets, &d->n_targets))
		goto out;
	dg_guard_init(&d->guard, d->cfg->pin_path);
	if (dg_guard_lock(&d->guard, true))
		goto out;
	if (dg_redirect_plan(&d->redirect, d->cfg, d->targets, &d->n_targets,
			     DG_TARGETS_MAX) ||
	    dg_guard_apply(&d->guard, d->cfg, d->targets, d->n_targets, true) ||
	    dg_redirect_aim(&d->redirect)) {
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
