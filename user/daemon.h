/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* `dotguard run`: attach, pin, then serve signals until told to stop. */
#ifndef DG_DAEMON_H
#define DG_DAEMON_H

/*
 * Check the config (NULL: the default path, missing is fine), attach the
 * guard, log "ready", then wait: SIGHUP reloads, SIGTERM/SIGINT return
 * with the guard left in place (fail closed). A bad config or interface
 * returns before anything in the kernel is touched. Returns 0 after a
 * clean stop, else -errno (the cause is already logged).
 */
int dg_daemon_run(const char *config_path);

#endif /* DG_DAEMON_H */
