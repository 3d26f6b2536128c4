/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The daemon's counters (struct dg_daemon_stats, abi.h), kept in the
 * pinned dg_daemon map and mmapped, so status reads them without asking
 * the daemon. Updates are relaxed atomics: workers never lock for them.
 */
#ifndef DG_STATS_H
#define DG_STATS_H

#include <stddef.h>

#include "dotguard/abi.h"

struct dg_stats {
	struct dg_daemon_stats *s;
	size_t map_len;		/* 0: heap memory (no pins, for tests) */
};

/* Map the pinned dg_daemon under pin_path; pin_path NULL gives zeroed
 * heap memory. Returns 0 or -errno. */
int dg_stats_open(struct dg_stats *st, const char *pin_path);
void dg_stats_close(struct dg_stats *st);

static inline void dg_stat_add(__u64 *ctr, __u64 v)
{
	__atomic_fetch_add(ctr, v, __ATOMIC_RELAXED);
}

static inline void dg_stat_sub(__u64 *ctr, __u64 v)
{
	__atomic_fetch_sub(ctr, v, __ATOMIC_RELAXED);
}

static inline void dg_stat_set(__u64 *g, __u64 v)
{
	__atomic_store_n(g, v, __ATOMIC_RELAXED);
}

/* Count one upstream round trip in the log2 histogram (from < 64 us). */
void dg_stat_rtt(struct dg_daemon_stats *s, __u64 rtt_us);

#endif /* DG_STATS_H */
