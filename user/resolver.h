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

struct dg_resolver {
	struct dg_loop *loop;
	const struct dg_config *cfg;
	struct dg_cache *cache;		/* NULL with Cache=no */
	struct dg_hosts *hosts;		/* NULL unless ReadEtcHosts=yes */
	struct dg_pool *pool;
	struct dg_stats *stats;
	uint8_t out[DG_DNS_MSG_MAX];	/* answers are built here */
};

/* Answer r (already parsed) from hosts, cache or upstream. */
void dg_resolve(struct dg_resolver *res, struct dg_req *r);

/* Answer a query that did not parse: rcode from dg_dns_parse_query. */
void dg_resolve_error(struct dg_resolver *res, struct dg_req *r,
		      bool question_ok, int rcode);

#endif /* DG_RESOLVER_H */
