// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>

#include "cli.h"
#include "config.h"
#include "daemon.h"
#include "guard.h"
#include "log.h"

struct daemon {
	const char *config_path;
	struct dg_config *cfg;
	struct dg_guard guard;
	struct dg_target targets[DG_CFG_MAX_IFACES * 2];
	int n_targets;
};

static const char *cfg_name(const struct dg_config *cfg)
{
	return cfg->source[0] ? cfg->source : "built-in defaults";
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
	*n = dg_guard_targets(cfg, t, DG_CFG_MAX_IFACES * 2);
	return *n < 0 ? *n : 0;
}

static void log_ready(const struct daemon *d, const char *what)
{
	char list[256] = "";
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
}

/* SIGHUP: a new config takes effect without lifting the guard; a bad one
 * is refused and the running one stays. */
static void daemon_reload(struct daemon *d)
{
	struct dg_target t[DG_CFG_MAX_IFACES * 2];
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
	err = dg_guard_apply(&d->guard, cfg, t, n, false);
	if (err) {
		log_error("reload: applying the new config failed; what could be attached is attached");
		goto out;
	}
	free(d->cfg);
	d->cfg = cfg;
	memcpy(d->targets, t, sizeof(t));
	d->n_targets = n;
	cfg = NULL;
	log_ready(d, "reloaded");
out:
	free(cfg);
}

static int daemon_wait(struct daemon *d)
{
	struct signalfd_siginfo si;
	sigset_t mask;
	int sfd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) ||
	    (sfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
		log_error("signals: %s", strerror(errno));
		return -errno;
	}
	for (;;) {
		if (read(sfd, &si, sizeof(si)) != sizeof(si)) {
			if (errno == EINTR)
				continue;
			log_error("signalfd: %s", strerror(errno));
			break;
		}
		if (si.ssi_signo == SIGHUP) {
			log_info("SIGHUP: reloading %s", cfg_name(d->cfg));
			daemon_reload(d);
			continue;
		}
		log_info("stopping on %s; the guard stays in place (fail closed): 'dotguard detach' lifts it",
			 strsignal(si.ssi_signo));
		break;
	}
	close(sfd);
	return 0;
}

int dg_daemon_run(const char *config_path)
{
	struct daemon *d;
	int ret = DG_EXIT_FAIL;

	d = calloc(1, sizeof(*d));
	if (!d || !(d->cfg = calloc(1, sizeof(*d->cfg)))) {
		log_error("out of memory");
		free(d);
		return DG_EXIT_FAIL;
	}
	d->config_path = config_path;
	dg_guard_init(&d->guard, "");
	if (daemon_prepare(d, d->cfg, d->targets, &d->n_targets))
		goto out;
	dg_guard_init(&d->guard, d->cfg->pin_path);
	if (dg_guard_lock(&d->guard, true))
		goto out;
	if (dg_guard_apply(&d->guard, d->cfg, d->targets, d->n_targets, true)) {
		dg_guard_abandon(&d->guard);
		goto out;
	}
	log_ready(d, "ready");
	if (!daemon_wait(d))
		ret = DG_EXIT_OK;
out:
	dg_guard_close(&d->guard);
	free(d->cfg);
	free(d);
	return ret;
}
