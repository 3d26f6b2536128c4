/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `dotguard status` renderers: a human table, --json, --prometheus.
 * The output is a contract: tests assert its exact text. The daemon's
 * counters are rendered from the one table in status_fields.h.
 */
#ifndef DG_STATUS_H
#define DG_STATUS_H

#include <stdio.h>

#include "counters.h"

enum dg_status_format {
	DG_STATUS_TEXT = 0,
	DG_STATUS_JSON,
	DG_STATUS_PROMETHEUS,
};

/* Names from include/dotguard/reasons.h, as shown in status. */
const char *dg_reason_name(int reason);
const char *dg_action_name(int action);

void dg_status_render(FILE *out, const struct dg_snapshot *s,
		      const char *pin_path, enum dg_status_format fmt);

#endif /* DG_STATUS_H */
