// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The pool's scheduler: where each query goes (upstream, connection),
 * what happens when an attempt fails (retry, failover, deadline), and
 * each upstream's health (down, backoff, probe, cleartext in
 * opportunistic mode). Connections themselves live in pool_conn.c and
 * report back through the pool_conn_* events (pool_int.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "pool_int.h"

#define MS POOL_MS
#define POOL_WARM_DELAY_MS 100	/* a primary's lost connection is replaced after */

_Static_assert(DG_MAX_UPSTREAMS <= 32, "pool_q.tried has a bit per upstream");

struct pool_q {
	struct dg_pool *pool;
	struct dg_dns_query q;
	dg_pool_done_fn done;
	void *arg;
	struct pool_conn *conn;
	struct pool_up *plain_up; /* waiting on that upstream's cleartext */
	uint16_t id;		/* on conn, or on plain_up's plain */
	int attempts;
	uint32_t tried;		/* bit per upstream index */
	uint64_t deadline;
	uint64_t sent_at;
	struct dg_timer timer;	/* attempt timeout, or deadline */
};

static struct dg_daemon_stats *pool_stats(struct dg_pool *p)
{
	return p->stats ? p->stats->s : &p->dummy;
}

static void q_send(struct pool_q *q);
static void up_open(struct pool_up *up);

/* ---- queries ------------------------------------------------------- */

static void q_finish(struct pool_q *q, const uint8_t *msg, size_t len,
		     const struct dg_dns_resp_info *ri, const char *label,
		     uint64_t rtt_us)
{
	struct dg_pool *p = q->pool;

	dg_timer_cancel(p->loop, &q->timer);
	p->inflight--;
	dg_stat_sub(&pool_stats(p)->inflight, 1);
	q->done(q->arg, msg, len, ri, label, rtt_us);
	free(q);
}

/* Take q off its connection (a late answer then finds no one). */
static void q_unslot(struct pool_q *q)
{
	if (q->plain_up) {
		dg_plain_forget(q->plain_up->plain, q->id);
		q->plain_up = NULL;
	}
	if (!q->conn)
		return;
	dg_idmap_del(&q->conn->ids, q->id);
	q->conn = NULL;
}

/* The attempt failed: another connection or upstream while time remains. */
static void q_retry(struct pool_q *q)
{
	struct dg_pool *p = q->pool;

	q_unslot(q);
	if (p->closing || p->loop->now >= q->deadline ||
	    q->attempts >= DG_QUERY_ATTEMPTS) {
		q_finish(q, NULL, 0, NULL, NULL, 0);
		return;
	}
	dg_stat_add(&pool_stats(p)->retries, 1);
	q_send(q);
}

static void q_timer(struct dg_loop *l, struct dg_timer *t)
{
	struct pool_q *q = (struct pool_q *)((char *)t - offsetof(struct pool_q, timer));
	struct pool_conn *c = q->conn;

	if (c && l->now - c->last_read >= DG_ATTEMPT_TIMEOUT_MS * MS) {
		/* Not a byte for a whole attempt: the connection is stalled.
		 * Closing it retries q and everything else it held. */
		pool_conn_failed(c, DG_UF_TIMEOUT, "stalled: no data for an attempt's time");
		q->pool->t->close(c);
		return;
	}
	if (c || q->plain_up) {
		/* No answer in time: that upstream is slow. */
		dg_stat_add(&(c ? c->up : q->plain_up)->st->fails[DG_UF_TIMEOUT], 1);
	}
	q_retry(q);
}

/* ---- upstream health ------------------------------------------------ */

/* The next wait before trying up's TLS again: doubling, capped. */
static uint64_t up_backoff(struct pool_up *up)
{
	up->backoff = up->backoff ? up->backoff * 2 : DG_BACKOFF_MIN_MS * MS;
	if (up->backoff > DG_BACKOFF_MAX_MS * MS)
		up->backoff = DG_BACKOFF_MAX_MS * MS;
	return up->backoff;
}

/* The counter is 32 bits wide: a 64-bit store would clear "fallback". */
static void up_stat_state(struct pool_up *up, enum dg_up_state s)
{
	__atomic_store_n(&up->st->state, (__u32)s, __ATOMIC_RELAXED);
}

static void up_set_state(struct pool_up *up, bool down, const char *why)
{
	struct dg_loop *l = up->pool->loop;

	if (down) {
		up->down_until = l->now + up_backoff(up);
		if (!up->down)
			log_warn("upstream %s: %s; marked down, retrying in %llu ms",
				 up->label, why,
				 (unsigned long long)(up->backoff / MS));
		up->down = true;
		up_stat_state(up, DG_UP_DOWN);
		/* Probe again after the backoff, so a recovered upstream is
		 * used again within seconds. */
		dg_timer_set(l, &up->probe, up->down_until);
		return;
	}
	if (up->down)
		log_info("upstream %s: reachable again", up->label);
	up->down = false;
	up->backoff = 0;
	up_stat_state(up, DG_UP_UP);
}

static bool up_usable(const struct pool_up *up, uint64_t now)
{
	return !up->down || now >= up->down_until;
}

static int up_n_conns(const struct pool_up *up)
{
	int i, n = 0;

	for (i = 0; i < DG_CFG_POOL_MAX; i++)
		n += up->conns[i] != NULL;
	return n;
}

/* A connection to up failed before it opened. */
static void up_fail_open(struct pool_up *up, enum dg_upfail why, const char *text)
{
	struct dg_pool *p = up->pool;

	if (why == DG_UF_PIN && !up->no_clear) {
		/* A key we were told not to trust: someone is in the path.
		 * Cleartext would hand them every query, so this upstream is
		 * failed as in strict mode until a pinned connection opens. */
		up->no_clear = true;
		if (p->dot == DG_DOT_OPPORTUNISTIC)
			log_warn("upstream %s: SPKI pin mismatch; no cleartext fallback to it%s",
				 up->label, up->use_clear ? ", leaving cleartext" : "");
		up->use_clear = false;
	}
	if (p->dot == DG_DOT_OPPORTUNISTIC && p->allow && !up->no_clear) {
		/* RFC 8310 opportunistic: no TLS to be had, so cleartext,
		 * counted; TLS is tried again after the backoff. */
		if (!up->use_clear)
			log_warn("upstream %s: %s; opportunistic mode: using cleartext DNS on port 53 until TLS works",
				 up->label, text);
		up->use_clear = true;
		dg_timer_set(p->loop, &up->probe, p->loop->now + up_backoff(up));
		return;
	}
	up_set_state(up, true, text);
}

/* ---- events from the connections ----------------------------------- */

void pool_up_failed(struct pool_up *up, enum dg_upfail why, const char *text)
{
	dg_stat_add(&up->st->fails[why], 1);
	up_set_state(up, true, text);
}

void pool_conn_opened(struct pool_conn *c)
{
	struct pool_up *up = c->up;

	c->opened = true;
	dg_stat_add(&up->st->conns_open, 1);
	up->no_clear = false;
	up_set_state(up, false, NULL);
	if (up->use_clear && up->pool->dot == DG_DOT_OPPORTUNISTIC) {
		log_info("upstream %s: TLS works again; leaving cleartext", up->label);
		up->use_clear = false;
	}
	/* A probe that got through: bring the pool back to its size. */
	if (!up->fallback)
		up_open(up);
}

void pool_conn_failed(struct pool_conn *c, enum dg_upfail why, const char *text)
{
	struct pool_up *up = c->up;

	/* A server closing an idle connection (its keepalive ran out) lost
	 * nothing: not a failure. */
	if (c->state == POOL_C_OPEN && why == DG_UF_RESET && c->ids.n == 0) {
		log_debug("upstream %s: idle connection closed by the server", up->label);
		return;
	}
	dg_stat_add(&up->st->fails[why], 1);
	if (c->state != POOL_C_OPEN)
		up_fail_open(up, why, text);
	else
		log_debug("upstream %s: connection lost (%s); moving %d queries",
			  up->label, text, c->ids.n);
}

void pool_conn_closed(struct pool_conn *c)
{
	struct pool_up *up = c->up;
	struct dg_pool *p = up->pool;
	int i;

	if (c->opened)
		dg_stat_sub(&up->st->conns_open, 1);
	c->opened = false;
	for (i = 0; i < DG_CFG_POOL_MAX; i++)
		if (up->conns[i] == c)
			up->conns[i] = NULL;
	for (i = 0; i < DG_IDMAP_SLOTS && c->ids.n; i++)
		if (c->ids.slot[i])
			q_retry(c->ids.slot[i]);
	/* Keep the primary upstreams warm. */
	if (!up->fallback && !p->closing && !p->retired &&
	    !dg_timer_armed(&up->probe))
		dg_timer_set(p->loop, &up->probe,
			     up->down ? up->down_until :
					p->loop->now + POOL_WARM_DELAY_MS * MS);
}

/* An answer for q from up: validate it, then finish q or try again. */
static void q_accept(struct pool_up *up, struct pool_q *q, const uint8_t *msg,
		     size_t len)
{
	struct dg_dns_resp_info ri;
	uint64_t rtt_us;

	q_unslot(q);
	if (dg_dns_parse_response(msg, len, &ri) || !(ri.flags & DG_DNS_QR) ||
	    !dg_dns_question_equal(&ri.q, &q->q.q)) {
		dg_stat_add(&up->st->fails[DG_UF_MALFORMED], 1);
		log_debug("upstream %s: malformed answer rejected", up->label);
		q_retry(q);
		return;
	}
	rtt_us = (up->pool->loop->now - q->sent_at) / 1000;
	if (up->use_clear)
		up_set_state(up, false, NULL);	/* TLS-less, but answering */
	dg_stat_add(&up->st->answers, 1);
	dg_stat_add(&up->st->rtt_us_sum, rtt_us);
	dg_stat_rtt(pool_stats(up->pool), rtt_us);
	q_finish(q, msg, len, &ri, up->label, rtt_us);
}

bool pool_conn_answer(struct pool_conn *c, const uint8_t *msg, size_t len)
{
	struct pool_up *up = c->up;
	struct pool_q *q;

	if (len < 2) {
		dg_stat_add(&up->st->fails[DG_UF_MALFORMED], 1);
		return false;
	}
	q = dg_idmap_get(&c->ids, (uint16_t)(msg[0] << 8 | msg[1]));
	if (!q) {
		/* A late answer to a query already moved on: harmless. */
		log_verbose("upstream %s: answer with an unknown id", up->label);
		return false;
	}
	q_accept(up, q, msg, len);
	return true;
}

/* ---- cleartext (DNSOverTLS=no, opportunistic fallback) --------------- */

static void plain_answer(void *tok, const uint8_t *msg, size_t len)
{
	struct pool_q *q = tok;
	struct pool_up *up = q->plain_up;

	q->plain_up = NULL;	/* plain already let go of it */
	q_accept(up, q, msg, len);
}

static void plain_fail(void *tok)
{
	struct pool_q *q = tok;

	q->plain_up = NULL;
	q_retry(q);
}

static int plain_send(struct pool_up *up, struct pool_q *q)
{
	struct dg_pool *p = up->pool;
	struct dg_plain_ops ops = {
		.allow = p->allow, .forget = p->forget, .allow_arg = p->allow_arg,
		.answer = plain_answer, .fail = plain_fail,
	};
	struct sockaddr_storage sa = up->sa;
	int err;

	if (!p->allow)
		return -EPERM;	/* no guard to let it past: never cleartext */
	if (!up->plain) {
		/* Opportunistic falls back to port 53; DNSOverTLS=no uses
		 * the configured port, 53 by default. */
		uint16_t port = p->dot == DG_DOT_OFF && up->srv.port ? up->srv.port : 53;

		if (sa.ss_family == AF_INET)
			((struct sockaddr_in *)&sa)->sin_port = htons(port);
		else
			((struct sockaddr_in6 *)&sa)->sin6_port = htons(port);
		up->plain = dg_plain_new(p->loop, (struct sockaddr *)&sa, up->salen, &ops);
		if (!up->plain)
			return -ENOMEM;
	}
	err = dg_plain_send(up->plain, q, &q->q, &q->id);
	if (err)
		return err;
	q->plain_up = up;
	dg_stat_add(&up->st->cleartext, 1);
	return 0;
}

/* ---- choosing where a query goes ----------------------------------- */

static struct pool_conn *conn_new(struct pool_up *up)
{
	struct pool_conn *c;
	int i;

	for (i = 0; i < DG_CFG_POOL_MAX && up->conns[i]; i++)
		;
	if (i == DG_CFG_POOL_MAX)
		return NULL;
	c = up->pool->t->open(up);
	if (!c)
		return NULL;
	dg_idmap_init(&c->ids, 0);
	up->conns[i] = c;
	return c;
}

/* The connection of up to give a query, or NULL; *full: there were
 * connections, every one with all its slots taken. */
static struct pool_conn *conn_pick(struct pool_up *up, bool *full)
{
	struct pool_conn *best = NULL, *c;
	int i, n_full = 0;

	for (i = 0; i < DG_CFG_POOL_MAX; i++) {
		c = up->conns[i];
		if (!c || c->state == POOL_C_DEAD)
			continue;
		if (c->ids.n >= DG_IDMAP_SLOTS) {
			n_full++;
			continue;
		}
		/* Least loaded, open ones first. */
		if (!best || (c->state == POOL_C_OPEN && best->state != POOL_C_OPEN) ||
		    (c->state == best->state && c->ids.n < best->ids.n))
			best = c;
	}
	/* Grow the pool when every open connection is busy. */
	if ((!best || (best->ids.n && best->state == POOL_C_OPEN)) &&
	    up_n_conns(up) < up->pool->pool_size) {
		c = conn_new(up);
		if (c)
			return c;
	}
	*full = !best && n_full;
	return best;
}

static int conn_enqueue(struct pool_conn *c, struct pool_q *q)
{
	uint16_t id;
	int err;

	if (dg_idmap_add(&c->ids, q, &id))
		return -EBUSY;
	err = c->up->pool->t->send(c, id, &q->q);
	if (err) {
		dg_idmap_del(&c->ids, id);
		return err;
	}
	q->conn = c;
	q->id = id;
	return 0;
}

/* Put q on up: 0, -EBUSY when every slot up has is taken, or -errno. */
static int up_send(struct pool_up *up, struct pool_q *q)
{
	struct pool_conn *c;
	bool full = false;

	if (up->use_clear)
		return plain_send(up, q);
	c = conn_pick(up, &full);
	if (!c)
		return full ? -EBUSY : -ENOTCONN;
	return conn_enqueue(c, q);
}

/*
 * Where q goes: DNS= in order, then FallbackDNS=, skipping the down and,
 * while there are others, those q already tried. An upstream with every
 * slot taken passes q on to the next (spill). NULL when none took it;
 * *saturated: at least one refused it for being full.
 */
static struct pool_up *q_place(struct pool_q *q, bool *saturated)
{
	struct dg_pool *p = q->pool;
	uint64_t now = p->loop->now;
	struct pool_up *up;
	int pass, i, err;
	bool tried;

	*saturated = false;
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < p->n_up; i++) {
			up = &p->up[i];
			tried = q->tried & (1u << i);
			if (tried != (pass == 1) || !up_usable(up, now))
				continue;
			err = up_send(up, q);
			if (!err)
				return up;
			if (err == -EBUSY) {
				dg_stat_add(&up->st->saturated, 1);
				*saturated = true;
			}
		}
	}
	return NULL;
}

static void q_send(struct pool_q *q)
{
	struct dg_pool *p = q->pool;
	struct dg_loop *l = p->loop;
	struct pool_up *up;
	bool saturated;
	uint64_t when;

	q->attempts++;
	up = q_place(q, &saturated);
	if (!up) {
		/* Nowhere to send it: SERVFAIL promptly, but not from
		 * inside the caller's stack. */
		if (saturated)
			dg_stat_add(&pool_stats(p)->upstreams_saturated, 1);
		q->attempts = DG_QUERY_ATTEMPTS;
		dg_timer_set(l, &q->timer, l->now);
		return;
	}
	q->tried |= 1u << up->idx;
	q->sent_at = l->now;
	dg_stat_add(&up->st->queries, 1);
	when = l->now + DG_ATTEMPT_TIMEOUT_MS * MS;
	dg_timer_set(l, &q->timer, when < q->deadline ? when : q->deadline);
}

void dg_pool_query(struct dg_pool *p, const struct dg_dns_query *q,
		   dg_pool_done_fn done, void *arg)
{
	struct pool_q *pq = calloc(1, sizeof(*pq));

	if (!pq) {
		done(arg, NULL, 0, NULL, NULL, 0);
		return;
	}
	pq->pool = p;
	pq->q = *q;
	pq->done = done;
	pq->arg = arg;
	pq->deadline = p->loop->now + DG_QUERY_DEADLINE_MS * MS;
	dg_timer_init(&pq->timer, q_timer);
	p->inflight++;
	dg_stat_add(&pool_stats(p)->inflight, 1);
	q_send(pq);
}

/* ---- set-up ---------------------------------------------------------- */

static void up_open(struct pool_up *up)
{
	while (up_n_conns(up) < up->pool->pool_size && conn_new(up))
		;
}

static void up_probe(struct dg_loop *l, struct dg_timer *t)
{
	struct pool_up *up = (struct pool_up *)((char *)t - offsetof(struct pool_up, probe));

	(void)l;
	if (up->pool->closing || up->pool->retired || up->pool->dot == DG_DOT_OFF)
		return;
	/* Fallbacks are opened when needed; primaries are kept warm, and a
	 * down one is probed with a single connection. */
	if (up->down)
		conn_new(up);
	else if (!up->fallback)
		up_open(up);
}

static int up_init(struct dg_pool *p, const struct dg_config *cfg,
		   const struct dg_server *srv, bool fallback)
{
	struct pool_up *up = &p->up[p->n_up];
	struct sockaddr_in *sin = (struct sockaddr_in *)&up->sa;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&up->sa;
	uint16_t port = srv->port ? srv->port : 853;
	int i;

	if (p->n_up >= DG_MAX_UPSTREAMS)
		return -E2BIG;
	memset(up, 0, sizeof(*up));
	up->pool = p;
	up->idx = p->n_up;
	up->srv = *srv;
	up->fallback = fallback;
	memset(&up->sa, 0, sizeof(up->sa));
	if (srv->family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr = srv->addr.v4;
		up->salen = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = srv->addr.v6;
		if (srv->ifname[0])
			sin6->sin6_scope_id = if_nametoindex(srv->ifname);
		up->salen = sizeof(*sin6);
	}
	inet_ntop(srv->family, &srv->addr, up->ip, sizeof(up->ip));
	dg_server_str(srv, up->label, sizeof(up->label));
	for (i = 0; i < cfg->n_pins; i++)
		if (srv->name[0] && !strcasecmp(cfg->pins[i].name, srv->name))
			memcpy(up->pins[up->n_pins++], cfg->pins[i].sha256, 32);
	dg_timer_init(&up->probe, up_probe);
	up->st = &pool_stats(p)->up[up->idx];
	memset(up->st, 0, sizeof(*up->st));
	snprintf(up->st->name, sizeof(up->st->name), "%s", up->label);
	up->st->fallback = fallback;
	p->n_up++;
	dg_stat_set((__u64 *)&pool_stats(p)->n_up, 0);
	pool_stats(p)->n_up = p->n_up;
	return 0;
}

struct dg_pool *dg_pool_new_transport(struct dg_loop *loop,
				      const struct dg_config *cfg,
				      struct dg_stats *stats,
				      const struct pool_transport *t)
{
	struct dg_pool *p = calloc(1, sizeof(*p));
	int i;

	if (!p)
		return NULL;
	p->loop = loop;
	p->stats = stats;
	p->t = t;
	p->pool_size = cfg->pool_size > 0 ? cfg->pool_size : DG_CFG_POOL_DEFAULT;
	if (p->pool_size > DG_CFG_POOL_MAX)
		p->pool_size = DG_CFG_POOL_MAX;
	p->dot = cfg->dot;
	if (t->init(p, cfg))
		goto fail;
	for (i = 0; i < cfg->n_dns; i++)
		if (up_init(p, cfg, &cfg->dns[i], false))
			goto fail;
	for (i = 0; i < cfg->n_fallback; i++)
		if (up_init(p, cfg, &cfg->fallback[i], true))
			goto fail;
	return p;
fail:
	log_error("cannot set up the upstream pool");
	t->fini(p);
	free(p);
	return NULL;
}

struct dg_pool *dg_pool_new(struct dg_loop *loop, const struct dg_config *cfg,
			    struct dg_stats *stats)
{
	return dg_pool_new_transport(loop, cfg, stats, &pool_tls_transport);
}

void dg_pool_start(struct dg_pool *p)
{
	int i;

	for (i = 0; i < p->n_up; i++) {
		p->up[i].use_clear = p->dot == DG_DOT_OFF;
		if (!p->up[i].fallback && !p->up[i].use_clear)
			up_open(&p->up[i]);
	}
}

void dg_pool_set_allow(struct dg_pool *p, dg_plain_allow_fn allow,
		       dg_plain_forget_fn forget, void *arg)
{
	p->allow = allow;
	p->forget = forget;
	p->allow_arg = arg;
}

/* Point p's counters at s (NULL: its private copy), carrying them over,
 * so a retiring pool and its successor never write the same slots. */
static void pool_move_stats(struct dg_pool *p, struct dg_stats *s)
{
	struct dg_daemon_stats *from = pool_stats(p), *to;
	int i;

	p->stats = s;
	to = pool_stats(p);
	for (i = 0; i < p->n_up; i++) {
		memcpy(&to->up[i], &from->up[i], sizeof(to->up[i]));
		p->up[i].st = &to->up[i];
	}
	if (s)
		to->n_up = p->n_up;
	dg_stat_sub(&from->inflight, p->inflight);
	dg_stat_add(&to->inflight, p->inflight);
}

void dg_pool_retire(struct dg_pool *p)
{
	int i;

	p->retired = true;
	for (i = 0; i < p->n_up; i++)
		dg_timer_cancel(p->loop, &p->up[i].probe);
	pool_move_stats(p, NULL);
}

void dg_pool_adopt_stats(struct dg_pool *p, struct dg_stats *stats)
{
	pool_move_stats(p, stats);
}

int dg_pool_inflight(const struct dg_pool *p)
{
	return p->inflight;
}

void dg_pool_free(struct dg_pool *p)
{
	int i, j;

	if (!p)
		return;
	p->closing = true;
	for (i = 0; i < p->n_up; i++) {
		dg_timer_cancel(p->loop, &p->up[i].probe);
		for (j = 0; j < DG_CFG_POOL_MAX; j++)
			if (p->up[i].conns[j])
				p->t->close(p->up[i].conns[j]);
		dg_plain_free(p->up[i].plain);
	}
	p->t->fini(p);
	free(p);
}
