// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dotguard/pins.h"
#include "counters.h"

static int open_pin(const char *pin_path, const char *name)
{
	char path[PATH_MAX];
	int n;

	n = snprintf(path, sizeof(path), "%s/%s", pin_path, name);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return bpf_obj_get(path);
}

/* One slot's counters, each summed over every possible CPU. */
static int read_slot(int fd, __u32 slot, struct dg_counter *vals, int ncpu,
		     struct dg_counter sum[DG_REASON_MAX][DG_ACTION_MAX])
{
	__u32 r, a, key;
	int cpu;

	for (r = 0; r < DG_REASON_MAX; r++) {
		for (a = 0; a < DG_ACTION_MAX; a++) {
			key = dg_counter_key(slot, r, a);
			if (bpf_map_lookup_elem(fd, &key, vals))
				return -errno;
			sum[r][a].packets = sum[r][a].bytes = 0;
			for (cpu = 0; cpu < ncpu; cpu++) {
				sum[r][a].packets += vals[cpu].packets;
				sum[r][a].bytes += vals[cpu].bytes;
			}
		}
	}
	return 0;
}

/* The daemon's counters; absent when no daemon of this version ran. */
static bool read_daemon(const char *pin_path, struct dg_daemon_stats *d)
{
	__u32 zero = 0;
	int fd = open_pin(pin_path, DG_PIN_DAEMON);
	bool ok;

	if (fd < 0)
		return false;
	ok = !bpf_map_lookup_elem(fd, &zero, d) && d->started;
	close(fd);
	return ok;
}

int dg_counters_read(const char *pin_path, struct dg_snapshot *s)
{
	struct dg_counter *vals = NULL;
	int ncpu, fd_ctr = -1, fd_pol = -1, err;
	__u32 slot, zero = 0;

	memset(s, 0, sizeof(*s));
	ncpu = libbpf_num_possible_cpus();
	if (ncpu < 0)
		return ncpu;
	err = dg_guard_read_attach(pin_path, s->att);
	if (err)
		return err;
	fd_ctr = open_pin(pin_path, DG_PIN_COUNTERS);
	fd_pol = open_pin(pin_path, DG_PIN_POLICY);
	if (fd_ctr < 0 || fd_pol < 0) {
		err = -errno;
		goto out;
	}
	if (bpf_map_lookup_elem(fd_pol, &zero, &s->policy)) {
		err = -errno;
		goto out;
	}
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals) {
		err = -ENOMEM;
		goto out;
	}
	clock_gettime(CLOCK_REALTIME, &s->taken);
	for (slot = 0; slot < DG_MAX_SLOTS; slot++) {
		if (!(s->att[slot].flags & DG_ATTACH_USED))
			continue;
		err = read_slot(fd_ctr, slot, vals, ncpu, s->sum[slot]);
		if (err)
			goto out;
		s->state[slot] = dg_guard_state(&s->att[slot]);
	}
	s->have_daemon = read_daemon(pin_path, &s->daemon);
out:
	free(vals);
	if (fd_ctr >= 0)
		close(fd_ctr);
	if (fd_pol >= 0)
		close(fd_pol);
	return err;
}

__u64 dg_snapshot_action_total(const struct dg_snapshot *s, int action)
{
	__u64 total = 0;
	__u32 slot, r;

	for (slot = 0; slot < DG_MAX_SLOTS; slot++) {
		if (!(s->att[slot].flags & DG_ATTACH_USED))
			continue;
		for (r = 0; r < DG_REASON_MAX; r++)
			total += s->sum[slot][r][action].packets;
	}
	return total;
}
