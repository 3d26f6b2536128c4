// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The answer cache: a chained hash table for O(1) lookup plus a doubly
 * linked list in recency order for O(1) eviction. Buckets are chosen by
 * SipHash-2-4 under a per-cache random key, so a client choosing names
 * cannot pile them into one chain.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

#include "cache.h"

#define MIN_BUCKETS 16
#define MAX_BUCKETS (1u << 20)

struct cache_node {
	struct dg_cache_entry e;	/* first: entries map back to nodes */
	struct cache_node *hnext;	/* bucket chain */
	struct cache_node *prev, *next; /* recency: head is the newest */
	uint64_t hash;
	uint8_t data[];			/* the message e.msg points at */
};

struct dg_cache {
	struct cache_node **buckets;
	size_t mask;
	struct cache_node *head, *tail;
	size_t max_entries, max_bytes;
	uint64_t k0, k1;
	struct dg_cache_stats st;
};

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = ROTL(v[1], 13);
	v[1] ^= v[0];
	v[0] = ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = ROTL(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = ROTL(v[1], 17);
	v[1] ^= v[2];
	v[2] = ROTL(v[2], 32);
}

static void sip_word(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sip_round(v);
	sip_round(v);
	v[0] ^= m;
}

/* SipHash-2-4 of in[0..len). */
static uint64_t siphash(uint64_t k0, uint64_t k1, const uint8_t *in, size_t len)
{
	uint64_t v[4] = {
		k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull,
		k0 ^ 0x6c7967656e657261ull, k1 ^ 0x7465646279746573ull,
	};
	uint64_t m;
	size_t i, j;

	for (i = 0; i + 8 <= len; i += 8) {
		for (m = 0, j = 0; j < 8; j++)
			m |= (uint64_t)in[i + j] << (8 * j);
		sip_word(v, m);
	}
	for (m = (uint64_t)len << 56, j = 0; i + j < len; j++)
		m |= (uint64_t)in[i + j] << (8 * j);
	sip_word(v, m);
	v[2] ^= 0xff;
	for (j = 0; j < 4; j++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static uint64_t key_hash(const struct dg_cache *c, const struct dg_cache_key *k)
{
	uint8_t buf[DG_DNS_NAME_MAX + 7];
	size_t n = k->name_len;

	memcpy(buf, k->name, n);
	buf[n++] = k->qtype >> 8;
	buf[n++] = k->qtype & 0xff;
	buf[n++] = k->qclass >> 8;
	buf[n++] = k->qclass & 0xff;
	buf[n++] = k->do_bit;
	buf[n++] = k->cd_bit;
	buf[n++] = k->rd_bit;
	return siphash(c->k0, c->k1, buf, n);
}

static bool key_equal(const struct dg_cache_key *a,
		      const struct dg_cache_key *b)
{
	return a->name_len == b->name_len && a->qtype == b->qtype &&
	       a->qclass == b->qclass && a->do_bit == b->do_bit &&
	       a->cd_bit == b->cd_bit && a->rd_bit == b->rd_bit &&
	       !memcmp(a->name, b->name, a->name_len);
}

static void seed(struct dg_cache *c)
{
	uint64_t k[2];

	if (getrandom(k, sizeof(k), GRND_NONBLOCK) != sizeof(k)) {
		/* Early boot without entropy: still differs per process. */
		k[0] = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)c;
		k[1] = (uint64_t)clock() ^ ((uint64_t)(uintptr_t)&k << 7);
	}
	c->k0 = k[0];
	c->k1 = k[1];
}

struct dg_cache *dg_cache_new(size_t max_entries, size_t max_bytes)
{
	struct dg_cache *c = calloc(1, sizeof(*c));
	size_t n = MIN_BUCKETS;

	if (!c)
		return NULL;
	while (n < max_entries && n < MAX_BUCKETS)
		n <<= 1;
	c->buckets = calloc(n, sizeof(*c->buckets));
	if (!c->buckets) {
		free(c);
		return NULL;
	}
	c->mask = n - 1;
	c->max_entries = max_entries;
	c->max_bytes = max_bytes;
	seed(c);
	return c;
}

void dg_cache_free(struct dg_cache *c)
{
	struct cache_node *n, *next;

	if (!c)
		return;
	for (n = c->head; n; n = next) {
		next = n->next;
		free(n);
	}
	free(c->buckets);
	free(c);
}

void dg_cache_key_from_query(struct dg_cache_key *k,
			     const struct dg_dns_query *q)
{
	size_t i = 0, j;

	memset(k, 0, sizeof(*k));
	k->name_len = q->q.name_len;
	memcpy(k->name, q->q.name, q->q.name_len);
	/* Fold letters inside labels only, never a length byte. */
	while (i < k->name_len && k->name[i]) {
		size_t n = k->name[i];

		for (j = i + 1; j <= i + n && j < k->name_len; j++)
			if (k->name[j] >= 'A' && k->name[j] <= 'Z')
				k->name[j] += 'a' - 'A';
		i += n + 1;
	}
	k->qtype = q->q.qtype;
	k->qclass = q->q.qclass;
	k->do_bit = q->edns.present && q->edns.do_bit;
	k->cd_bit = !!(q->flags & DG_DNS_CD);
	k->rd_bit = !!(q->flags & DG_DNS_RD);
}

static void lru_unlink(struct dg_cache *c, struct cache_node *n)
{
	if (n->prev)
		n->prev->next = n->next;
	else
		c->head = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		c->tail = n->prev;
	n->prev = n->next = NULL;
}

static void lru_push(struct dg_cache *c, struct cache_node *n)
{
	n->prev = NULL;
	n->next = c->head;
	if (c->head)
		c->head->prev = n;
	c->head = n;
	if (!c->tail)
		c->tail = n;
}

static struct cache_node **bucket_slot(struct dg_cache *c,
				       const struct dg_cache_key *k,
				       uint64_t hash)
{
	struct cache_node **pp = &c->buckets[hash & c->mask];

	while (*pp && ((*pp)->hash != hash || !key_equal(&(*pp)->e.key, k)))
		pp = &(*pp)->hnext;
	return pp;
}

/* What an entry really takes: its bookkeeping as well as the message, so
 * max_bytes bounds the cache's memory, not just its payload. */
static size_t node_cost(size_t len)
{
	return sizeof(struct cache_node) + len;
}

size_t dg_cache_entry_cost(size_t len)
{
	return node_cost(len);
}

static void node_remove(struct dg_cache *c, struct cache_node *n)
{
	struct cache_node **pp = bucket_slot(c, &n->e.key, n->hash);

	*pp = n->hnext;
	lru_unlink(c, n);
	c->st.entries--;
	c->st.bytes -= node_cost(n->e.len);
	free(n);
}

int dg_cache_put(struct dg_cache *c, const struct dg_cache_key *k,
		 const uint8_t *msg, size_t len,
		 const struct dg_dns_resp_info *info, uint64_t now)
{
	uint64_t hash = key_hash(c, k);
	struct cache_node **pp, *n;

	if (!info->ttl || !info->ttls_complete || !c->max_entries ||
	    node_cost(len) > c->max_bytes)
		return 1;
	pp = bucket_slot(c, k, hash);
	if (*pp)
		node_remove(c, *pp);
	while (c->tail && (c->st.entries >= c->max_entries ||
			   c->st.bytes + node_cost(len) > c->max_bytes)) {
		node_remove(c, c->tail);
		c->st.evictions++;
	}
	n = malloc(sizeof(*n) + len);
	if (!n)
		return -ENOMEM;
	memset(n, 0, sizeof(*n));
	n->e.key = *k;
	n->e.info = *info;
	n->e.stored = now;
	n->e.expires = now + info->ttl;
	n->e.len = len;
	n->e.msg = n->data;
	memcpy(n->data, msg, len);
	n->hash = hash;
	pp = &c->buckets[hash & c->mask];
	n->hnext = *pp;
	*pp = n;
	lru_push(c, n);
	c->st.entries++;
	c->st.bytes += node_cost(len);
	c->st.inserts++;
	return 0;
}

const struct dg_cache_entry *dg_cache_get(struct dg_cache *c,
					  const struct dg_cache_key *k,
					  uint64_t now, uint32_t *age)
{
	struct cache_node *n = *bucket_slot(c, k, key_hash(c, k));
	uint64_t a;

	if (n && now >= n->e.expires) {
		node_remove(c, n);
		c->st.expired++;
		n = NULL;
	}
	if (!n) {
		c->st.misses++;
		return NULL;
	}
	lru_unlink(c, n);
	lru_push(c, n);
	c->st.hits++;
	/* A clock that stepped back gives age 0, never a wrap. */
	a = now > n->e.stored ? now - n->e.stored : 0;
	if (age)
		*age = a > UINT32_MAX ? UINT32_MAX : (uint32_t)a;
	return &n->e;
}

void dg_cache_stats(const struct dg_cache *c, struct dg_cache_stats *st)
{
	*st = c->st;
}
