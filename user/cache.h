/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The answer cache: validated upstream responses keyed by name (case
 * folded), type, class, DO bit and CD bit (a CD=1 answer is unvalidated:
 * never serve it to a client that wants validation); positive and
 * negative (RFC 2308); entries expire by their TTL and the least recently
 * used go first when the cache is full. One cache per worker: no locks.
 */
#ifndef DG_CACHE_H
#define DG_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns_wire.h"

struct dg_cache_key {
	uint8_t name[DG_DNS_NAME_MAX];	/* wire form, lower case */
	uint8_t name_len;
	uint16_t qtype;
	uint16_t qclass;
	uint8_t do_bit;
	uint8_t cd_bit;
	/* RD goes upstream as the client set it: an answer to a query
	 * without recursion (a referral, what the resolver happened to
	 * hold) must never be served to one that asked for it. */
	uint8_t rd_bit;
};

struct dg_cache_entry {
	struct dg_cache_key key;
	struct dg_dns_resp_info info;	/* as parsed when stored */
	uint64_t stored;		/* seconds, the caller's clock */
	uint64_t expires;
	size_t len;
	uint8_t *msg;			/* the upstream's response */
};

struct dg_cache_stats {
	uint64_t hits, misses, inserts, evictions, expired;
	size_t entries, bytes;
};

struct dg_cache;

/* A cache holding at most max_entries entries and max_bytes of messages
 * counting each entry's bookkeeping (about 800 bytes) as well as its
 * message (whichever limit is reached first). NULL on allocation failure. */
struct dg_cache *dg_cache_new(size_t max_entries, size_t max_bytes);
void dg_cache_free(struct dg_cache *c);

void dg_cache_key_from_query(struct dg_cache_key *k,
			     const struct dg_dns_query *q);

/*
 * Store a copy of msg (validated, described by info) under k, valid for
 * info->ttl seconds from now. ttl 0, or a message without complete TTL
 * tracking, is not stored. Replaces an existing entry. Returns 0, 1 when
 * not stored, -ENOMEM.
 */
int dg_cache_put(struct dg_cache *c, const struct dg_cache_key *k,
		 const uint8_t *msg, size_t len,
		 const struct dg_dns_resp_info *info, uint64_t now);

/* The live entry for k (marked most recently used) and its age in
 * seconds, or NULL (an expired entry is removed). The pointer is valid
 * until the next put or free. */
const struct dg_cache_entry *dg_cache_get(struct dg_cache *c,
					  const struct dg_cache_key *k,
					  uint64_t now, uint32_t *age);

void dg_cache_stats(const struct dg_cache *c, struct dg_cache_stats *st);

/* What an entry with a len-byte message counts against max_bytes. */
size_t dg_cache_entry_cost(size_t len);

#endif /* DG_CACHE_H */
