// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>

#include "dotguard/pins.h"
#include "stats.h"

int dg_stats_open(struct dg_stats *st, const char *pin_path)
{
	char path[PATH_MAX];
	long page = sysconf(_SC_PAGESIZE);
	void *p;
	int fd, n;

	st->s = NULL;
	st->map_len = 0;
	if (!pin_path) {
		st->s = calloc(1, sizeof(*st->s));
		return st->s ? 0 : -ENOMEM;
	}
	n = snprintf(path, sizeof(path), "%s/%s", pin_path, DG_PIN_DAEMON);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	/* An mmap-able array maps its values page-rounded from offset 0. */
	st->map_len = (sizeof(*st->s) + page - 1) / page * page;
	p = mmap(NULL, st->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		st->map_len = 0;
		return -errno;
	}
	st->s = p;
	return 0;
}

void dg_stats_close(struct dg_stats *st)
{
	if (st->map_len)
		munmap(st->s, st->map_len);
	else
		free(st->s);
	st->s = NULL;
	st->map_len = 0;
}

void dg_stat_rtt(struct dg_daemon_stats *s, __u64 rtt_us)
{
	int b = 0;

	/* bucket 0: < 64 us; bucket b: [32 << b, 64 << b) */
	rtt_us >>= 6;
	while (rtt_us && b < DG_RTT_BUCKETS - 1) {
		rtt_us >>= 1;
		b++;
	}
	dg_stat_add(&s->rtt_hist[b], 1);
}
