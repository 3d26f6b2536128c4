/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* ReadEtcHosts=: names from /etc/hosts answered locally, as resolved does. */
#ifndef DG_HOSTS_H
#define DG_HOSTS_H

#include <stddef.h>
#include <stdint.h>

struct dg_hosts;

/*
 * Parse a hosts file ("ADDRESS NAME [ALIAS...]", '#' comments). Lines
 * that do not parse are skipped (logged at debug with FILE:LINE); reading
 * is bounded (1 MiB, 4096-byte lines). Returns NULL and *err = -errno when
 * the file cannot be read; a missing file gives an empty table.
 */
struct dg_hosts *dg_hosts_load(const char *path, int *err);
void dg_hosts_free(struct dg_hosts *h);

/*
 * Addresses for a wire-form name (any case) of qtype A (4 bytes each) or
 * AAAA (16 bytes each), written back to back into addrs, at most max.
 * Returns the count (0: the name is listed but has none of that type),
 * or -ENOENT when the name is not listed at all.
 */
int dg_hosts_lookup(const struct dg_hosts *h, const uint8_t *name,
		    size_t name_len, int qtype, uint8_t *addrs, int max);

#endif /* DG_HOSTS_H */
