/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Where a parsed query goes, whichever transport brought it: /etc/hosts,
 * then the cache, then the upstream pool. The transport gets exactly one
 * reply per request, through the request's reply function.
 */
#ifndef DG_RESOLVER_H
#define DG_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cache.h"
#include "clients.h"
#include "config.h"
#include "dns_wire.h"
#include "hosts.h"
#include "loop.h"
#include "pool.h"
#include "stats.h"

struct dg_req;
/* Send msg to the client; the owner frees r here. Called exactly once. */
typedef void (*dg_req_reply_fn)(struct dg_req *r, const uint8_t *msg, size_t len);

struct dg_req {
	struct dg_dns_query q;
	size_t limit;		/* the largest answer this transport takes */
	uint64_t start;		/* loop time when it arrived */
	dg_req_reply_fn reply;
	void *owner;		/* the transport's (socket, TCP connection) */
	struct sockaddr_storage peer;	/* the client, for the query log */
	socklen_t peer_len;
	const char *via;	/* its path in: "udp", "tcp", "redirected tcp", "redirected udp" */
};

struct dg_resolver;
/* Where a query the cache cannot answer goes: dg_pool_query()'s contract
 * (done exactly once, never from inside the call). */
typedef void (*dg_resolver_forward_fn)(struct dg_resolver *res,
				       const struct dg_dns_query *q,
				       dg_pool_done_fn done, void *arg);

/* Made with calloc: every field below left zero has its default. */
struct dg_resolver {
	struct dg_loop *loop;
	const struct dg_config *cfg;
	struct dg_cache *cache;		/* NULL with Cache=no */
	struct dg_hosts *hosts;		/* NULL unless ReadEtcHosts=yes */
	struct dg_pool *pool;
	struct dg_stats *stats;
	dg_resolver_forward_fn forward;	/* NULL: dg_pool_query(pool) */
	struct dg_clients clients;	/* queries in flight per client */
	uint8_t out[DG_DNS_MSG_MAX];	/* answers are built here */
};

/* Answer r (already parsed) from hosts, cache or upstream. A query for
 * upstream from a client (r->peer) that has DG_CLIENT_INFLIGHT_MAX in
 * flight already, or that the full client table cannot take, is answered
 * SERVFAIL at once and counted (client_limited, clients_full). */
void dg_resolve(struct dg_resolver *res, struct dg_req *r);

/* Answer a query that did not parse: rcode from dg_dns_parse_query. */
void dg_resolve_error(struct dg_resolver *res, struct dg_req *r,
		      bool question_ok, int rcode);

#endif /* DG_RESOLVER_H */
