// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/random.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/siphash.h>

#include "clients.h"

#define NS_PER_SEC 1000000000ull

_Static_assert((DG_CLIENTS_BUCKETS & (DG_CLIENTS_BUCKETS - 1)) == 0,
	       "bucket count is a power of two");
_Static_assert(DG_CLIENT_V6_PREFIX % 8 == 0 && DG_CLIENT_V6_PREFIX <= 64,
	       "the IPv6 key holds whole bytes, at most 8");

int dg_client_key(uint8_t key[DG_CLIENT_KEY_LEN], const struct sockaddr *sa)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

	memset(key, 0, DG_CLIENT_KEY_LEN);
	if (sa->sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &s4->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6 &&
		   IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		/* Else every IPv4 client of a dual-stack socket would
		 * share ::ffff:0:0/64. */
		key[0] = 4;
		memcpy(key + 1, s6->sin6_addr.s6_addr + 12, 4);
	} else if (sa->sa_family == AF_INET6) {
		key[0] = 6;
		memcpy(key + 1, s6->sin6_addr.s6_addr, DG_CLIENT_V6_PREFIX / 8);
	} else {
		return -EAFNOSUPPORT;
	}
	return 0;
}

static void clients_seed(struct dg_clients *c)
{
	if (getrandom(c->sipkey, sizeof(c->sipkey), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(c->sipkey)) {
		/* Early boot without entropy: still differs per process. */
		uint64_t k[2] = { (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)c,
				  (uint64_t)clock() ^ ((uint64_t)(uintptr_t)&k << 7) };

		memcpy(c->sipkey, k, sizeof(k));
	}
	c->seeded = true;
}

static uint32_t clients_bucket(struct dg_clients *c, const uint8_t *key)
{
	uint8_t out[8];
	uint64_t h;

	if (!c->seeded)
		clients_seed(c);
	/* Cannot fail for these arguments; a zero hash would still work. */
	if (wc_SipHash(c->sipkey, key, DG_CLIENT_KEY_LEN, out, sizeof(out)))
		memset(out, 0, sizeof(out));
	memcpy(&h, out, sizeof(h));
	return (uint32_t)(h & (DG_CLIENTS_BUCKETS - 1));
}

static bool client_busy(const struct dg_client *e)
{
	return e->inflight || e->conns;
}

/* ---- the idle list: entries holding nothing, oldest first ------------ */

static void idle_unlink(struct dg_clients *c, uint32_t h)
{
	struct dg_client *e = &c->ent[h];

	if (e->prev)
		c->ent[e->prev].next = e->next;
	else if (c->idle_head == h)
		c->idle_head = e->next;
	else
		return;		/* not on the list */
	if (e->next)
		c->ent[e->next].prev = e->prev;
	else
		c->idle_tail = e->prev;
	e->prev = e->next = 0;
}

static void idle_push(struct dg_clients *c, uint32_t h)
{
	struct dg_client *e = &c->ent[h];

	e->prev = c->idle_tail;
	e->next = 0;
	if (c->idle_tail)
		c->ent[c->idle_tail].next = h;
	else
		c->idle_head = h;
	c->idle_tail = h;
}

/* h was used now: an idle entry moves to the young end. */
static void idle_touch(struct dg_clients *c, uint32_t h)
{
	if (client_busy(&c->ent[h]))
		return;
	idle_unlink(c, h);
	idle_push(c, h);
}

/* ---- lookup ---------------------------------------------------------- */

static void chain_remove(struct dg_clients *c, uint32_t h)
{
	uint32_t *p = &c->bucket[clients_bucket(c, c->ent[h].key)];

	while (*p && *p != h)
		p = &c->ent[*p].chain;
	if (*p)
		*p = c->ent[h].chain;
}

/* A free entry: one never used, else the one idle longest. */
static int clients_take(struct dg_clients *c)
{
	uint32_t h;

	if (c->n_used < DG_CLIENTS_MAX)
		return (int)++c->n_used;
	h = c->idle_head;
	if (!h)
		return -ENOSPC;
	idle_unlink(c, h);
	chain_remove(c, h);
	c->evicted++;
	return (int)h;
}

int dg_clients_get(struct dg_clients *c, const struct sockaddr *sa)
{
	uint8_t key[DG_CLIENT_KEY_LEN];
	struct dg_client *e;
	uint32_t b, h;
	int err;

	err = dg_client_key(key, sa);
	if (err)
		return err;
	b = clients_bucket(c, key);
	for (h = c->bucket[b]; h; h = c->ent[h].chain) {
		if (!memcmp(c->ent[h].key, key, sizeof(key))) {
			idle_touch(c, h);
			return (int)h;
		}
	}
	err = clients_take(c);
	if (err < 0)
		return err;
	h = (uint32_t)err;
	e = &c->ent[h];
	memset(e, 0, sizeof(*e));
	memcpy(e->key, key, sizeof(key));
	e->tokens = UINT64_MAX;	/* full: set on the first rate check */
	e->chain = c->bucket[b];
	c->bucket[b] = h;
	idle_push(c, h);
	return (int)h;
}

/* ---- what a client holds --------------------------------------------- */

static void clients_hold(struct dg_clients *c, uint32_t h, uint32_t *ctr)
{
	if (!client_busy(&c->ent[h]))
		idle_unlink(c, h);
	(*ctr)++;
}

static void clients_release(struct dg_clients *c, uint32_t h, uint32_t *ctr)
{
	if (!*ctr)
		return;
	(*ctr)--;
	if (!client_busy(&c->ent[h]))
		idle_push(c, h);
}

static bool handle_ok(const struct dg_clients *c, int h)
{
	return h > 0 && (uint32_t)h <= c->n_used;
}

int dg_clients_query_begin(struct dg_clients *c, const struct sockaddr *sa)
{
	int h = dg_clients_get(c, sa);

	if (h < 0)
		return h;
	if (c->ent[h].inflight >= DG_CLIENT_INFLIGHT_MAX)
		return -EBUSY;
	clients_hold(c, (uint32_t)h, &c->ent[h].inflight);
	return h;
}

void dg_clients_query_done(struct dg_clients *c, int h)
{
	if (handle_ok(c, h))
		clients_release(c, (uint32_t)h, &c->ent[h].inflight);
}

void dg_clients_conn_open(struct dg_clients *c, int h)
{
	if (handle_ok(c, h))
		clients_hold(c, (uint32_t)h, &c->ent[h].conns);
}

void dg_clients_conn_close(struct dg_clients *c, int h)
{
	if (handle_ok(c, h))
		clients_release(c, (uint32_t)h, &c->ent[h].conns);
}

uint32_t dg_clients_inflight(const struct dg_clients *c, int h)
{
	return handle_ok(c, h) ? c->ent[h].inflight : 0;
}

uint32_t dg_clients_conns(const struct dg_clients *c, int h)
{
	return handle_ok(c, h) ? c->ent[h].conns : 0;
}

/* ---- answer rate ----------------------------------------------------- */

bool dg_clients_rate_ok(struct dg_clients *c, const struct sockaddr *sa,
			uint64_t now_ns)
{
	uint64_t rate = c->rate ? c->rate : DG_CLIENT_RATE;
	uint64_t full = (uint64_t)(c->burst ? c->burst : DG_CLIENT_BURST) * NS_PER_SEC;
	struct dg_client *e;
	uint64_t dt;
	int h;

	h = dg_clients_get(c, sa);
	if (h < 0)
		return false;
	e = &c->ent[h];
	if (e->tokens > full) {
		e->tokens = full;	/* new, or the burst was lowered */
		e->refilled = now_ns;
	} else if (now_ns > e->refilled) {
		/* Tokens are kept in 1e-9 answers: rate per ns is exact.
		 * A clock that goes back refills nothing. */
		dt = now_ns - e->refilled;
		if (dt > (full - e->tokens) / rate)
			e->tokens = full;
		else
			e->tokens += dt * rate;
		e->refilled = now_ns;
	}
	if (e->tokens < NS_PER_SEC)
		return false;
	e->tokens -= NS_PER_SEC;
	return true;
}
