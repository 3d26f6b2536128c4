/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Read the guard's pinned maps into one timestamped snapshot. Works with
 * the daemon gone: only the pins are read.
 */
#ifndef DG_COUNTERS_H
#define DG_COUNTERS_H

#include <stdbool.h>
#include <time.h>

#include "dotguard/abi.h"
#include "guard.h"

struct dg_snapshot {
	struct timespec taken;		/* CLOCK_REALTIME when read */
	struct dg_policy policy;
	struct dg_attach att[DG_MAX_SLOTS];
	enum dg_attach_state state[DG_MAX_SLOTS]; /* for used slots */
	/* summed over CPUs; only used slots are filled */
	struct dg_counter sum[DG_MAX_SLOTS][DG_REASON_MAX][DG_ACTION_MAX];
	bool have_daemon;		/* dg_daemon pinned (a daemon ran) */
	struct dg_daemon_stats daemon;
};

/* Fill s from the maps pinned under pin_path. Returns 0, -ENOENT when no
 * guard is pinned there, or -errno. Logs nothing: callers explain. */
int dg_counters_read(const char *pin_path, struct dg_snapshot *s);

/* Sum of one action over every used slot and reason. */
__u64 dg_snapshot_action_total(const struct dg_snapshot *s, int action);

#endif /* DG_COUNTERS_H */
