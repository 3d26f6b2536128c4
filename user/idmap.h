/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Message IDs for queries in flight on one upstream connection (RFC 7766:
 * many queries, answered in any order), and on one upstream's cleartext
 * transport. Each ID is drawn from the CSPRNG (rand.h), so an off-path
 * spoofer cannot predict it (RFC 5452 4.3); one already in flight or
 * freed a moment ago is never handed out. Finding the query for an
 * answer is one hash probe, O(1): an open-addressing table from ID to
 * slot (linear probing, at most half full), not a 65536-entry index, so
 * a map costs about 14 KiB however many connections the pool opens.
 */
#ifndef DG_IDMAP_H
#define DG_IDMAP_H

#include <stdint.h>

#include "dotguard/limits.h"

/* Freed IDs held back before they may be drawn again, so a late answer
 * to a query that moved on does not meet the next query to get its ID. */
#define DG_IDMAP_RECENT 64
/* Hash table entries: a power of two, at least twice what it holds. */
#define DG_IDMAP_TAB (2 * DG_IDMAP_SLOTS)

struct dg_idmap {
	void *slot[DG_IDMAP_SLOTS];	/* the query in each slot; NULL: free */
	int n;				/* slots in use */
	/* Below: the map's own; callers read only slot and n. */
	uint16_t id[DG_IDMAP_SLOTS];	/* a used slot's ID; a free one's
					 * next free slot */
	uint16_t tab[DG_IDMAP_TAB];	/* 0 empty; 1..SLOTS: slot + 1;
					 * above: held-back recent[] + 1 */
	uint16_t recent[DG_IDMAP_RECENT];	/* ring of held-back IDs */
	uint16_t free_head;		/* DG_IDMAP_SLOTS: none free */
	uint16_t recent_head;		/* oldest held-back ID */
	uint16_t n_recent;
};

/* An empty map. base is not used: IDs come from the CSPRNG (the
 * parameter stays so callers need not change). */
void dg_idmap_init(struct dg_idmap *m, uint16_t base);

/* Give p a fresh random ID, none in flight or held back. Returns 0 and
 * *id, or -EBUSY when every slot is taken (or, with odds below 2^-180,
 * when 32 draws all hit IDs in use). */
int dg_idmap_add(struct dg_idmap *m, void *p, uint16_t *id);

/* The query holding id, or NULL (never given, freed, held back). */
void *dg_idmap_get(const struct dg_idmap *m, uint16_t id);

/* Free id (it is held back a while); returns what held it, or NULL. */
void *dg_idmap_del(struct dg_idmap *m, uint16_t id);

#endif /* DG_IDMAP_H */
