/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Message IDs for queries in flight on one upstream connection (RFC 7766:
 * many queries, answered in any order). An ID is base + slot, so finding
 * the query for an answer is one subtraction; an ID no query holds (a
 * late answer to a query that moved on) finds nothing.
 */
#ifndef DG_IDMAP_H
#define DG_IDMAP_H

#include <stdint.h>

#include "dotguard/limits.h"

struct dg_idmap {
	void *slot[DG_IDMAP_SLOTS];
	uint16_t base;		/* random per connection */
	int next;		/* where the search for a free slot starts */
	int n;			/* slots in use */
};

void dg_idmap_init(struct dg_idmap *m, uint16_t base);

/* Give p an ID. Returns 0 and *id, or -EBUSY when every slot is taken.
 * IDs are handed out round-robin, so a just-freed ID is not reused at
 * once (a late answer to it cannot be mistaken for a new query's). */
int dg_idmap_add(struct dg_idmap *m, void *p, uint16_t *id);

/* The query holding id, or NULL. */
void *dg_idmap_get(const struct dg_idmap *m, uint16_t id);

/* Free id; returns what held it, or NULL. */
void *dg_idmap_del(struct dg_idmap *m, uint16_t id);

#endif /* DG_IDMAP_H */
