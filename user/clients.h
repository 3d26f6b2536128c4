/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Who is asking: a bounded table of clients keyed by address (IPv4 /32,
 * IPv6 /DG_CLIENT_V6_PREFIX), holding what one client may not take from
 * the others: its queries in flight upstream, its TCP connections, and an
 * answer-rate token bucket. A flood of spoofed sources cannot grow it:
 * at DG_CLIENTS_MAX entries the one idle longest is reused, and an entry
 * holding a query or a connection is never reused (its counts would be
 * lost). Lookups hash under a random SipHash key, so chosen addresses
 * cannot pile into one chain. One table per worker: no locks.
 */
#ifndef DG_CLIENTS_H
#define DG_CLIENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dotguard/limits.h"

#define DG_CLIENT_KEY_LEN 9	/* family (4 or 6), then the address bits */
#define DG_CLIENTS_BUCKETS (2 * DG_CLIENTS_MAX)	/* a power of two */

struct dg_client {
	uint8_t key[DG_CLIENT_KEY_LEN];
	uint32_t chain;		/* next in the hash bucket; 0 ends it */
	uint32_t prev, next;	/* idle list (oldest first); 0 ends it */
	uint32_t inflight;	/* queries waiting on upstreams */
	uint32_t conns;		/* TCP connections open */
	uint64_t tokens;	/* rate bucket, in 1e-9 answers */
	uint64_t refilled;	/* when, in the caller's ns clock */
};

/*
 * All zero is an empty table with the limits.h rates: it can live inside
 * a calloc'ed owner with nothing to set up or free. Entry handles are
 * 1..DG_CLIENTS_MAX; 0 is none.
 */
struct dg_clients {
	struct dg_client ent[DG_CLIENTS_MAX + 1];	/* [0] unused */
	uint32_t bucket[DG_CLIENTS_BUCKETS];
	uint32_t n_used;	/* entries ever handed out */
	uint32_t idle_head, idle_tail;
	uint8_t sipkey[16];
	bool seeded;
	uint32_t rate, burst;	/* 0: DG_CLIENT_RATE, DG_CLIENT_BURST */
	uint64_t evicted;	/* idle entries reused for a new client */
};

/* The key of sa's client: IPv4 /32 (also when IPv4-mapped in IPv6),
 * IPv6 /DG_CLIENT_V6_PREFIX. Returns 0 or -EAFNOSUPPORT. */
int dg_client_key(uint8_t key[DG_CLIENT_KEY_LEN], const struct sockaddr *sa);

/*
 * sa's entry, made if new (reusing the entry idle longest when full) and
 * made the most recently used. Returns its handle, -ENOSPC when every
 * entry holds a query or a connection, -EAFNOSUPPORT for an address that
 * is not IPv4 or IPv6.
 */
int dg_clients_get(struct dg_clients *c, const struct sockaddr *sa);

/*
 * A query from sa goes upstream: count it against sa's client. Returns
 * the handle to give to dg_clients_query_done(), -EBUSY when the client
 * already has DG_CLIENT_INFLIGHT_MAX in flight, or dg_clients_get()'s
 * errors. Nothing is counted on error.
 */
int dg_clients_query_begin(struct dg_clients *c, const struct sockaddr *sa);
/* Its answer (or failure) is back. h 0 is ignored. */
void dg_clients_query_done(struct dg_clients *c, int h);

/* A TCP connection from handle h opens / closes. While h holds one,
 * its entry is kept. */
void dg_clients_conn_open(struct dg_clients *c, int h);
void dg_clients_conn_close(struct dg_clients *c, int h);

uint32_t dg_clients_inflight(const struct dg_clients *c, int h);
uint32_t dg_clients_conns(const struct dg_clients *c, int h);

/*
 * May sa's client be sent one more answer at now_ns (any monotonic ns
 * clock)? A token bucket: c->rate answers per second, up to c->burst at
 * once; a new client starts full. Takes the token when it says yes. Says
 * no when the table has no room for sa (every entry busy): under a flood
 * of sources, not answering is the safe side of a reflection guard.
 */
bool dg_clients_rate_ok(struct dg_clients *c, const struct sockaddr *sa,
			uint64_t now_ns);

#endif /* DG_CLIENTS_H */
