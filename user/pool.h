/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The upstream engine: per upstream a pool of persistent DNS-over-TLS
 * connections (RFC 7858), opened ahead of need and kept warm; many
 * queries in flight per connection, answered out of order (RFC 7766),
 * matched by a per-connection message ID; health with backoff and
 * probing; failover along DNS= then FallbackDNS=, and on to the next
 * upstream when one has every slot taken; a deadline per query. In strict
 * mode (DNSOverTLS=yes) nothing ever leaves in cleartext, and in
 * opportunistic mode nothing to an upstream whose SPKI pin failed.
 * The bounds are in dotguard/limits.h; pool_int.h has the inside.
 */
#ifndef DG_POOL_H
#define DG_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dotguard/limits.h"	/* DG_QUERY_DEADLINE_MS and the other bounds */
#include "config.h"
#include "dns_wire.h"
#include "loop.h"
#include "stats.h"

struct dg_pool;

/*
 * Called exactly once per query: msg/ri describe a validated answer from
 * upstream label, or msg == NULL when every attempt failed (answer
 * SERVFAIL). rtt_us is the last attempt's round trip.
 */
typedef void (*dg_pool_done_fn)(void *arg, const uint8_t *msg, size_t len,
				const struct dg_dns_resp_info *ri,
				const char *label, uint64_t rtt_us);

/* Build the pool for cfg's DNS= and FallbackDNS= (TLS contexts, pins).
 * stats may be NULL. Returns NULL after a logged line. */
struct dg_pool *dg_pool_new(struct dg_loop *loop, const struct dg_config *cfg,
			    struct dg_stats *stats);
#include "plain.h"

/* How cleartext sockets (DNSOverTLS=no, opportunistic fallback) get past
 * the guard, and off the list again. Without it the pool never sends
 * cleartext. */
void dg_pool_set_allow(struct dg_pool *p, dg_plain_allow_fn allow,
		       dg_plain_forget_fn forget, void *arg);

/* Open the warm connections. */
void dg_pool_start(struct dg_pool *p);
/*
 * Reload: the new pool is built with stats NULL, then takes the daemon's
 * counters (dg_pool_adopt_stats) once the old one has let go of them
 * (dg_pool_retire). A retired pool answers what it has in flight (within
 * DG_QUERY_DEADLINE_MS) but opens nothing new; free it after that.
 */
void dg_pool_retire(struct dg_pool *p);
void dg_pool_adopt_stats(struct dg_pool *p, struct dg_stats *stats);
int dg_pool_inflight(const struct dg_pool *p);

/* Fail every query in flight (SERVFAIL) and close everything. */
void dg_pool_free(struct dg_pool *p);

/* Forward q; done(arg, ...) follows exactly once, never from inside this
 * call. */
void dg_pool_query(struct dg_pool *p, const struct dg_dns_query *q,
		   dg_pool_done_fn done, void *arg);

#endif /* DG_POOL_H */
