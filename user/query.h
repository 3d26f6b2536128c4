/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* `dotguard query NAME [TYPE]`: resolve through the running daemon. */
#ifndef DG_QUERY_H
#define DG_QUERY_H

#include "config.h"
#include "dns_wire.h"
#include "stub.h"

/* Ask cfg's stub; print each answer RR and one summary line (RCODE,
 * count, latency, transport, and the daemon's upstream/cache info).
 * Returns 0 for NOERROR, -ENODATA for another RCODE, or -errno (logged). */
int dg_query_run(const struct dg_config *cfg, const char *name, const char *type);

#endif /* DG_QUERY_H */
