// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>

#include "idmap.h"

void dg_idmap_init(struct dg_idmap *m, uint16_t base)
{
	memset(m, 0, sizeof(*m));
	m->base = base;
}

int dg_idmap_add(struct dg_idmap *m, void *p, uint16_t *id)
{
	int i, s;

	if (m->n == DG_IDMAP_SLOTS)
		return -EBUSY;
	for (i = 0; i < DG_IDMAP_SLOTS; i++) {
		s = (m->next + i) % DG_IDMAP_SLOTS;
		if (!m->slot[s])
			break;
	}
	m->slot[s] = p;
	m->next = (s + 1) % DG_IDMAP_SLOTS;
	m->n++;
	*id = (uint16_t)(m->base + s);
	return 0;
}

static int idmap_slot(const struct dg_idmap *m, uint16_t id)
{
	uint16_t s = (uint16_t)(id - m->base);

	return s < DG_IDMAP_SLOTS ? s : -1;
}

void *dg_idmap_get(const struct dg_idmap *m, uint16_t id)
{
	int s = idmap_slot(m, id);

	return s < 0 ? NULL : m->slot[s];
}

void *dg_idmap_del(struct dg_idmap *m, uint16_t id)
{
	int s = idmap_slot(m, id);
	void *p;

	if (s < 0 || !m->slot[s])
		return NULL;
	p = m->slot[s];
	m->slot[s] = NULL;
	m->n--;
	return p;
}
