// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>

#include "idmap.h"
#include "rand.h"

#define TAB_MASK (DG_IDMAP_TAB - 1)
#define HELD (DG_IDMAP_SLOTS + 1)	/* tab values from here: held back */
#define ADD_DRAWS 32

_Static_assert((DG_IDMAP_TAB & TAB_MASK) == 0, "DG_IDMAP_TAB: a power of two");
/* Short probe runs need a table never much more than half full. */
_Static_assert(DG_IDMAP_SLOTS + DG_IDMAP_RECENT <= DG_IDMAP_TAB * 5 / 8,
	       "idmap table too full");
_Static_assert(HELD + DG_IDMAP_RECENT <= UINT16_MAX, "idmap tab values fit");
/* PoolSize x upstreams maps: keep each small (the daemon's RSS < 16 MiB). */
_Static_assert(sizeof(struct dg_idmap) <= 16 * 1024, "struct dg_idmap size");

/* IDs are random already; the multiply spreads the rare run of close
 * ones, and answers (whose IDs anyone picks) only ever look up. */
static unsigned int idmap_home(uint16_t id)
{
	return ((uint32_t)id * 40503u & 0xffff) & TAB_MASK;
}

static uint16_t entry_id(const struct dg_idmap *m, uint16_t v)
{
	return v < HELD ? m->id[v - 1] : m->recent[v - HELD];
}

/* Where id sits in tab, or -1. Stops at the first empty entry: the table
 * is never full, so within DG_IDMAP_TAB probes. */
static int tab_find(const struct dg_idmap *m, uint16_t id)
{
	unsigned int h = idmap_home(id), i;

	for (i = 0; i < DG_IDMAP_TAB && m->tab[h]; i++) {
		if (entry_id(m, m->tab[h]) == id)
			return (int)h;
		h = (h + 1) & TAB_MASK;
	}
	return -1;
}

static void tab_insert(struct dg_idmap *m, uint16_t id, uint16_t v)
{
	unsigned int h = idmap_home(id), i;

	for (i = 0; i < DG_IDMAP_TAB && m->tab[h]; i++)
		h = (h + 1) & TAB_MASK;
	m->tab[h] = v;
}

/* Empty tab[pos], pulling later entries of the run back into the hole
 * (backward-shift deletion: no tombstones, probe runs stay short). */
static void tab_remove(struct dg_idmap *m, unsigned int pos)
{
	unsigned int hole = pos, j = pos, home, n;

	for (n = 0; n < DG_IDMAP_TAB; n++) {
		j = (j + 1) & TAB_MASK;
		if (!m->tab[j])
			break;
		home = idmap_home(entry_id(m, m->tab[j]));
		/* An entry may fill the hole unless its home lies
		 * (cyclically) after the hole, up to where it sits. */
		if (j > hole ? home <= hole || home > j :
			       home <= hole && home > j) {
			m->tab[hole] = m->tab[j];
			hole = j;
		}
	}
	m->tab[hole] = 0;
}

/* Hold a freed id back; the oldest held one becomes free to draw. */
static void idmap_hold(struct dg_idmap *m, uint16_t id)
{
	unsigned int r;
	int pos;

	if (m->n_recent == DG_IDMAP_RECENT) {
		r = m->recent_head;
		pos = tab_find(m, m->recent[r]);
		if (pos >= 0)
			tab_remove(m, (unsigned int)pos);
		m->recent_head = (uint16_t)((r + 1) % DG_IDMAP_RECENT);
	} else {
		r = (m->recent_head + m->n_recent++) % DG_IDMAP_RECENT;
	}
	m->recent[r] = id;
	tab_insert(m, id, (uint16_t)(HELD + r));
}

void dg_idmap_init(struct dg_idmap *m, uint16_t base)
{
	int s;

	(void)base;
	memset(m, 0, sizeof(*m));
	for (s = 0; s < DG_IDMAP_SLOTS; s++)
		m->id[s] = (uint16_t)(s + 1);
	m->free_head = 0;
}

int dg_idmap_add(struct dg_idmap *m, void *p, uint16_t *id)
{
	uint16_t cand = 0, s;
	int i;

	if (m->n == DG_IDMAP_SLOTS)
		return -EBUSY;
	/* At most 1/60 of IDs are taken, so one draw nearly always does. */
	for (i = 0; i < ADD_DRAWS; i++) {
		cand = dg_rand_u16();
		if (tab_find(m, cand) < 0)
			break;
	}
	if (i == ADD_DRAWS)
		return -EBUSY;
	s = m->free_head;
	m->free_head = m->id[s];
	m->slot[s] = p;
	m->id[s] = cand;
	m->n++;
	tab_insert(m, cand, (uint16_t)(s + 1));
	*id = cand;
	return 0;
}

void *dg_idmap_get(const struct dg_idmap *m, uint16_t id)
{
	int pos = tab_find(m, id);

	if (pos < 0 || m->tab[pos] >= HELD)
		return NULL;
	return m->slot[m->tab[pos] - 1];
}

void *dg_idmap_del(struct dg_idmap *m, uint16_t id)
{
	int pos = tab_find(m, id);
	uint16_t s;
	void *p;

	if (pos < 0 || m->tab[pos] >= HELD)
		return NULL;
	s = (uint16_t)(m->tab[pos] - 1);
	p = m->slot[s];
	tab_remove(m, (unsigned int)pos);
	m->slot[s] = NULL;
	m->id[s] = m->free_head;
	m->free_head = s;
	m->n--;
	idmap_hold(m, id);
	return p;
}
