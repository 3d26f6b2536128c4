/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * systemd's readiness protocol (sd_notify(3)), spoken directly: one
 * datagram of "KEY=VALUE" lines to the AF_UNIX socket in $NOTIFY_SOCKET
 * (a path, or "@name" for the abstract namespace). No libsystemd.
 */
#ifndef DG_NOTIFY_H
#define DG_NOTIFY_H

#include <stdint.h>

/*
 * Send state (e.g. "READY=1\nSTATUS=...") to $NOTIFY_SOCKET. Returns 0,
 * also when the variable is unset (not started by systemd), -EINVAL for
 * an address that is neither absolute nor abstract, -ENAMETOOLONG, or the
 * socket error.
 */
int dg_notify(const char *state);

/* READY=1 with a STATUS= line. */
int dg_notify_ready(const char *status);

/* RELOADING=1 with the CLOCK_MONOTONIC time systemd asks for. */
int dg_notify_reloading(void);

/* STOPPING=1. */
int dg_notify_stopping(void);

#endif /* DG_NOTIFY_H */
