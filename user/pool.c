// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "idmap.h"
#include "log.h"
#include "plain.h"
#include "pool.h"
#include "tls.h"

#define MS (1000000ull)
#define FRAME_MAX (2 + DG_DNS_MSG_MAX)
#define QUERY_MAX 600		/* our queries: one question, OPT, padding */

enum conn_state { C_CONNECTING, C_HANDSHAKE, C_OPEN, C_DEAD };

struct pool_up;
struct pool_q;

struct pool_conn {
	struct pool_up *up;
	int fd;
	struct dg_io io;
	struct dg_tls_conn *tls;
	enum conn_state state;
	uint8_t *wbuf;		/* framed queries to write */
	size_t wlen, wcap;
	size_t wbusy;		/* bytes handed to a write that wants retry */
	uint8_t *rbuf;		/* FRAME_MAX bytes */
	size_t rlen;
	struct dg_idmap ids;	/* queries in flight, by message ID */
	uint64_t last_read;	/* for stall detection */
	uint64_t idle_ns;	/* server keepalive may shorten it */
	struct dg_timer timer;	/* connect timeout, stall, idle */
	struct dg_defer flush;
	bool got_answer;	/* take the resumption ticket once */
};

struct pool_up {
	struct dg_pool *pool;
	int idx;
	struct dg_server srv;
	char label[DG_UPSTREAM_NAME];
	char ip[INET6_ADDRSTRLEN];
	struct sockaddr_storage sa;
	socklen_t salen;
	bool fallback;
	uint8_t pins[DG_CFG_MAX_PINS][32];
	int n_pins;
	struct pool_conn *conns[DG_CFG_POOL_MAX];
	struct dg_tls_session *session;
	bool down;
	uint64_t down_until;
	uint64_t backoff;
	struct dg_timer probe;	/* reopen after backoff, keep warm */
	struct dg_upstream_stats *st;
	bool use_clear;		/* DNSOverTLS=no, or opportunistic without TLS */
	struct dg_plain *plain;	/* cleartext transport, made when first used */
};

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

struct dg_pool {
	struct dg_loop *loop;
	struct dg_stats *stats;
	struct dg_daemon_stats dummy;	/* when no stats were given */
	struct dg_tls_ctx *ctx;
	int pool_size;
	bool verify;
	enum dg_dot_mode dot;
	dg_plain_allow_fn allow;
	dg_plain_forget_fn forget;
	void *allow_arg;
	struct pool_up up[DG_MAX_UPSTREAMS];
	int n_up;
	int inflight;
	bool closing;
	bool retired;		/* replaced on reload: finish, open nothing new */
};

static struct dg_daemon_stats *pool_stats(struct dg_pool *p)
{
	return p->stats ? p->stats->s : &p->dummy;
}

static void conn_fail(struct pool_conn *c, enum dg_upfail why, const char *text);
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
	if (p->closing || p->loop->now >= q->deadline || q->attempts >= 4) {
		q_finish(q, NULL, 0, NULL, NULL, 0);
		return;
	}
	dg_stat_add(&pool_stats(p)->retries, 1);
	q_send(q);
}

static void q_timer(struct dg_loop *l, struct dg_timer *t)
{
	struct pool_q *q = (struct pool_q *)((char *)t - offsetof(struct pool_q, timer));

	if (q->conn && l->now - q->conn->last_read >= DG_ATTEMPT_TIMEOUT_MS * MS) {
		/* Not a byte for a whole attempt: the connection is stalled.
		 * Closing it retries q and everything else it held. */
		conn_fail(q->conn, DG_UF_TIMEOUT, "stalled: no data for an attempt's time");
		return;
	}
	if (q->conn || q->plain_up) {
		/* No answer in time: that upstream is slow. */
		dg_stat_add(&(q->conn ? q->conn->up : q->plain_up)->st->fails[DG_UF_TIMEOUT], 1);
	}
	q_retry(q);
}

/* ---- upstream health ------------------------------------------------ */

static void up_set_state(struct pool_up *up, bool down, const char *why)
{
	struct dg_loop *l = up->pool->loop;

	if (down) {
		up->backoff = up->backoff ? up->backoff * 2 : 500 * MS;
		if (up->backoff > 4000 * MS)
			up->backoff = 4000 * MS;
		up->down_until = l->now + up->backoff;
		if (!up->down)
			log_warn("upstream %s: %s; marked down, retrying in %llu ms",
				 up->label, why,
				 (unsigned long long)(up->backoff / MS));
		up->down = true;
		dg_stat_set((__u64 *)&up->st->state, DG_UP_DOWN);
		/* Probe again after the backoff, so a recovered upstream is
		 * used again within seconds. */
		dg_timer_set(l, &up->probe, up->down_until);
		return;
	}
	if (up->down)
		log_info("upstream %s: reachable again", up->label);
	up->down = false;
	up->backoff = 0;
	up->st->state = DG_UP_UP;
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

/* ---- connections ---------------------------------------------------- */

static void conn_arm(struct pool_conn *c)
{
	struct dg_loop *l = c->up->pool->loop;
	uint32_t ev = EPOLLIN;

	if (c->state == C_CONNECTING)
		ev = EPOLLOUT;
	else if (c->state == C_HANDSHAKE)
		ev = dg_tls_want(c->tls) == DG_TLS_WANT_WRITE ? EPOLLOUT : EPOLLIN;
	else if (c->wlen && dg_tls_want(c->tls) == DG_TLS_WANT_WRITE)
		ev |= EPOLLOUT;
	dg_io_mod(l, &c->io, ev);
}

static void conn_free_deferred(struct dg_loop *l, struct dg_defer *d)
{
	struct pool_conn *c = (struct pool_conn *)((char *)d - offsetof(struct pool_conn, flush));

	(void)l;
	free(c->wbuf);
	free(c->rbuf);
	free(c);
}

/* Close c; its queries move elsewhere. Freed at the end of the loop
 * iteration, as epoll may still hold an event for it. */
static void conn_close(struct pool_conn *c)
{
	struct pool_up *up = c->up;
	struct dg_loop *l = up->pool->loop;
	int i;

	if (c->state == C_DEAD)
		return;
	if (c->state == C_OPEN)
		dg_stat_sub(&up->st->conns_open, 1);
	c->state = C_DEAD;
	dg_timer_cancel(l, &c->timer);
	dg_io_del(l, &c->io);
	if (c->tls)
		dg_tls_conn_free(c->tls);
	c->tls = NULL;
	close(c->fd);
	for (i = 0; i < DG_CFG_POOL_MAX; i++)
		if (up->conns[i] == c)
			up->conns[i] = NULL;
	for (i = 0; i < DG_IDMAP_SLOTS && c->ids.n; i++)
		if (c->ids.slot[i])
			q_retry(c->ids.slot[i]);
	/* The flush defer is done with (the conn is dead): reuse it to free.
	 * If a flush is still queued, it now frees instead of flushing;
	 * un-queueing it here would corrupt the loop's deferred list. */
	c->flush.fn = conn_free_deferred;
	dg_defer(l, &c->flush);
	/* Keep the primary upstreams warm. */
	if (!up->fallback && !up->pool->closing && !up->pool->retired &&
	    !dg_timer_armed(&up->probe))
		dg_timer_set(l, &up->probe,
			     up->down ? up->down_until : l->now + 100 * MS);
}

static void conn_fail(struct pool_conn *c, enum dg_upfail why, const char *text)
{
	struct pool_up *up = c->up;
	bool before_open = c->state != C_OPEN;

	/* A server closing an idle connection (its keepalive ran out) lost
	 * nothing: not a failure. */
	if (!before_open && why == DG_UF_RESET && c->ids.n == 0) {
		log_debug("upstream %s: idle connection closed by the server", up->label);
		conn_close(c);
		return;
	}
	dg_stat_add(&up->st->fails[why], 1);
	if (before_open && up->pool->dot == DG_DOT_OPPORTUNISTIC && up->pool->allow) {
		/* RFC 8310 opportunistic: no TLS to be had, so cleartext,
		 * counted; TLS is tried again after the backoff. */
		if (!up->use_clear)
			log_warn("upstream %s: %s; opportunistic mode: using cleartext DNS on port 53 until TLS works",
				 up->label, text);
		up->use_clear = true;
		up->backoff = up->backoff ? up->backoff * 2 : 500 * MS;
		if (up->backoff > 4000 * MS)
			up->backoff = 4000 * MS;
		dg_timer_set(up->pool->loop, &up->probe, up->pool->loop->now + up->backoff);
	} else if (before_open)
		up_set_state(up, true, text);
	else
		log_debug("upstream %s: connection lost (%s); moving %d queries",
			  up->label, text, c->ids.n);
	conn_close(c);
}

static enum dg_upfail tls_why(enum dg_tls_fail f)
{
	switch (f) {
	case DG_TLS_F_VERIFY:
		return DG_UF_VERIFY;
	case DG_TLS_F_NAME:
		return DG_UF_NAME;
	case DG_TLS_F_PIN:
		return DG_UF_PIN;
	case DG_TLS_F_RESET:
	case DG_TLS_F_CLOSED:
		return DG_UF_RESET;
	default:
		return DG_UF_HANDSHAKE;
	}
}

static void conn_fail_tls(struct pool_conn *c)
{
	char text[160];

	snprintf(text, sizeof(text), "TLS %s: %s",
		 dg_tls_fail_name(dg_tls_failure(c->tls)),
		 dg_tls_failure_text(c->tls));
	conn_fail(c, tls_why(dg_tls_failure(c->tls)), text);
}

/* Write what is queued, in as few TLS records as wolfSSL makes of it. */
static void conn_flush(struct pool_conn *c)
{
	ssize_t n;
	size_t len;

	if (c->state != C_OPEN || !c->wlen)
		return;
	/* A write that wanted a retry must be repeated with the same bytes. */
	len = c->wbusy ? c->wbusy : c->wlen;
	n = dg_tls_write(c->tls, c->wbuf, len);
	if (n == -EAGAIN) {
		c->wbusy = len;
		conn_arm(c);
		return;
	}
	if (n < 0) {
		conn_fail_tls(c);
		return;
	}
	c->wbusy = 0;
	memmove(c->wbuf, c->wbuf + n, c->wlen - n);
	c->wlen -= n;
	conn_arm(c);
}

static void conn_flush_deferred(struct dg_loop *l, struct dg_defer *d)
{
	(void)l;
	conn_flush((struct pool_conn *)((char *)d - offsetof(struct pool_conn, flush)));
}

static void conn_timer_idle(struct pool_conn *c)
{
	struct dg_loop *l = c->up->pool->loop;

	dg_timer_set(l, &c->timer, l->now + c->idle_ns);
}

static void conn_opened(struct pool_conn *c)
{
	struct pool_up *up = c->up;

	c->state = C_OPEN;
	dg_stat_add(&up->st->conns_open, 1);
	dg_stat_add(dg_tls_resumed(c->tls) ? &up->st->handshakes_resumed :
					     &up->st->handshakes_full, 1);
	log_debug("upstream %s: %s connection open (%s)", up->label,
		  dg_tls_version(c->tls),
		  dg_tls_resumed(c->tls) ? "resumed" : "full handshake");
	up_set_state(up, false, NULL);
	if (up->use_clear && up->pool->dot == DG_DOT_OPPORTUNISTIC) {
		log_info("upstream %s: TLS works again; leaving cleartext", up->label);
		up->use_clear = false;
	}
	c->last_read = up->pool->loop->now;
	conn_timer_idle(c);
	/* The handshake may have left EPOLLOUT armed alone: with nothing to
	 * write, that wakes the loop at once, forever. */
	conn_arm(c);
	conn_flush(c);
	/* A probe that got through: bring the pool back to its size. */
	if (!up->fallback && c->state == C_OPEN)
		up_open(up);
}

static void conn_handshake(struct pool_conn *c)
{
	int err = dg_tls_handshake(c->tls);

	if (!err) {
		conn_opened(c);
		return;
	}
	if (err == -EAGAIN) {
		conn_arm(c);
		return;
	}
	conn_fail_tls(c);
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

/* One whole framed answer on a TLS connection. */
static void conn_answer(struct pool_conn *c, const uint8_t *msg, size_t len)
{
	struct pool_up *up = c->up;
	struct dg_tls_session *sess;
	struct dg_dns_resp_info ri;
	struct pool_q *q;

	if (len < 2) {
		dg_stat_add(&up->st->fails[DG_UF_MALFORMED], 1);
		return;
	}
	q = dg_idmap_get(&c->ids, (uint16_t)(msg[0] << 8 | msg[1]));
	if (!q) {
		/* A late answer to a query already moved on: harmless. */
		log_verbose("upstream %s: answer with an unknown id", up->label);
		return;
	}
	if (!c->got_answer) {
		/* TLS 1.3 tickets arrive after the handshake: now is when
		 * the session is worth keeping for a resumed reconnect. */
		sess = dg_tls_session_get(c->tls);
		if (sess) {
			c->got_answer = true;
			dg_tls_session_free(up->session);
			up->session = sess;
		}
	}
	/* RFC 7828: close before the server would. Only from an answer that
	 * parses; q_accept judges the rest. */
	if (!dg_dns_parse_response(msg, len, &ri) && ri.edns.keepalive &&
	    ri.edns.keepalive_timeout) {
		uint64_t t = (uint64_t)ri.edns.keepalive_timeout * 100 * MS;

		c->idle_ns = t > 200 * MS ? t - 100 * MS : t / 2;
	}
	q_accept(up, q, msg, len);
}

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

static void conn_read(struct pool_conn *c)
{
	size_t off, flen;
	ssize_t n;
	int one = 1;

	/* ACK at once: a server that writes each answer as its own record
	 * without TCP_NODELAY holds the next one until our ACK, and a
	 * delayed ACK (up to 40 ms) would land in every pipelined answer's
	 * latency. Quick-ack mode lapses, so it is re-armed on every read. */
	setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));

	for (;;) {
		n = dg_tls_read(c->tls, c->rbuf + c->rlen, FRAME_MAX - c->rlen);
		if (n == -EAGAIN)
			break;
		if (n <= 0) {
			conn_fail(c, DG_UF_RESET, n == 0 ? "closed by the server" :
							  "connection reset");
			return;
		}
		c->rlen += n;
		c->last_read = c->up->pool->loop->now;
		/* Each frame: a 2-byte length, then the message (RFC 7858). */
		off = 0;
		while (c->rlen - off >= 2) {
			flen = (size_t)c->rbuf[off] << 8 | c->rbuf[off + 1];
			if (c->rlen - off - 2 < flen)
				break;
			conn_answer(c, c->rbuf + off + 2, flen);
			if (c->state == C_DEAD)
				return;
			off += 2 + flen;
		}
		memmove(c->rbuf, c->rbuf + off, c->rlen - off);
		c->rlen -= off;
	}
	if (!c->ids.n)
		conn_timer_idle(c);
}

static void conn_io(struct dg_loop *l, uint32_t events, void *arg)
{
	struct pool_conn *c = arg;
	socklen_t sl = sizeof(int);
	int err = 0;

	(void)l;
	if (c->state == C_CONNECTING) {
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl);
		if (err || (events & (EPOLLERR | EPOLLHUP))) {
			conn_fail(c, err == ECONNREFUSED ? DG_UF_REFUSED : DG_UF_RESET,
				  strerror(err ? err : ECONNRESET));
			return;
		}
		c->state = C_HANDSHAKE;
	}
	if (c->state == C_HANDSHAKE) {
		conn_handshake(c);
		return;
	}
	if (c->state != C_OPEN)
		return;
	if (events & EPOLLOUT)
		conn_flush(c);
	if (c->state == C_OPEN && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		conn_read(c);
}

static void conn_timer(struct dg_loop *l, struct dg_timer *t)
{
	struct pool_conn *c = (struct pool_conn *)((char *)t - offsetof(struct pool_conn, timer));

	if (c->state != C_OPEN) {
		conn_fail(c, DG_UF_TIMEOUT, "connect or TLS handshake timed out");
		return;
	}
	if (c->ids.n) {
		/* Queries outstanding: each has its own attempt timer, which
		 * closes a silent connection; this is the backstop. */
		if (l->now - c->last_read > DG_ATTEMPT_TIMEOUT_MS * MS) {
			conn_fail(c, DG_UF_TIMEOUT, "stalled");
			return;
		}
		dg_timer_set(l, t, l->now + DG_ATTEMPT_TIMEOUT_MS * MS);
		return;
	}
	log_debug("upstream %s: closing an idle connection", c->up->label);
	conn_close(c);
}

static struct pool_conn *conn_new(struct pool_up *up)
{
	struct dg_loop *l = up->pool->loop;
	struct pool_conn *c;
	int one = 1, i;

	for (i = 0; i < DG_CFG_POOL_MAX && up->conns[i]; i++)
		;
	if (i == DG_CFG_POOL_MAX)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->up = up;
	c->rbuf = malloc(FRAME_MAX);
	c->fd = socket(up->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (!c->rbuf || c->fd < 0)
		goto fail;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	dg_timer_init(&c->timer, conn_timer);
	dg_defer_init(&c->flush, conn_flush_deferred);
	dg_idmap_init(&c->ids, (uint16_t)random());
	c->idle_ns = DG_IDLE_TIMEOUT_MS * MS;
	c->tls = dg_tls_conn_new(up->pool->ctx, c->fd, up->srv.name, up->ip,
				 (const uint8_t (*)[32])up->pins, up->n_pins,
				 up->session);
	if (!c->tls)
		goto fail;
	if (connect(c->fd, (struct sockaddr *)&up->sa, up->salen) && errno != EINPROGRESS) {
		dg_stat_add(&up->st->fails[errno == ECONNREFUSED ? DG_UF_REFUSED : DG_UF_RESET], 1);
		up_set_state(up, true, strerror(errno));
		goto fail;
	}
	c->state = C_CONNECTING;
	if (dg_io_add(l, &c->io, c->fd, EPOLLOUT, conn_io, c))
		goto fail;
	dg_timer_set(l, &c->timer, l->now + DG_CONNECT_TIMEOUT_MS * MS);
	up->conns[i] = c;
	return c;
fail:
	if (c->tls)
		dg_tls_conn_free(c->tls);
	if (c->fd >= 0)
		close(c->fd);
	free(c->rbuf);
	free(c);
	return NULL;
}

/* ---- choosing where a query goes ----------------------------------- */

static struct pool_up *pick_upstream(struct dg_pool *p, struct pool_q *q)
{
	uint64_t now = p->loop->now;
	int i;

	/* In order, skipping the down and those this query already tried;
	 * when all were tried, any usable one again. */
	for (i = 0; i < p->n_up; i++)
		if (up_usable(&p->up[i], now) && !(q->tried & (1u << i)))
			return &p->up[i];
	for (i = 0; i < p->n_up; i++)
		if (up_usable(&p->up[i], now))
			return &p->up[i];
	return NULL;
}

static struct pool_conn *pick_conn(struct pool_up *up)
{
	struct pool_conn *best = NULL, *c;
	int i;

	for (i = 0; i < DG_CFG_POOL_MAX; i++) {
		c = up->conns[i];
		if (!c || c->state == C_DEAD || c->ids.n >= DG_IDMAP_SLOTS)
			continue;
		/* Least loaded, open ones first. */
		if (!best || (c->state == C_OPEN && best->state != C_OPEN) ||
		    (c->state == best->state && c->ids.n < best->ids.n))
			best = c;
	}
	/* Grow the pool when every open connection is busy. */
	if ((!best || (best->ids.n && best->state == C_OPEN)) &&
	    up_n_conns(up) < up->pool->pool_size) {
		c = conn_new(up);
		if (c)
			return c;
	}
	return best;
}

static int conn_enqueue(struct pool_conn *c, struct pool_q *q)
{
	uint8_t frame[2 + QUERY_MAX];
	uint16_t id;
	size_t need;
	uint8_t *nb;
	int n;

	if (dg_idmap_add(&c->ids, q, &id))
		return -EBUSY;
	n = dg_dns_build_query(frame + 2, QUERY_MAX, id, &q->q, true,
			       DG_DNS_PAD_BLOCK);
	need = c->wlen + 2 + (n > 0 ? n : 0);
	if (n > 0 && need > c->wcap) {
		nb = realloc(c->wbuf, need * 2);
		if (nb) {
			c->wbuf = nb;
			c->wcap = need * 2;
		}
	}
	if (n <= 0 || need > c->wcap) {
		dg_idmap_del(&c->ids, id);
		return n <= 0 ? -EINVAL : -ENOMEM;
	}
	frame[0] = (uint8_t)(n >> 8);
	frame[1] = (uint8_t)n;
	memcpy(c->wbuf + c->wlen, frame, 2 + n);
	c->wlen += 2 + n;
	q->conn = c;
	q->id = id;
	/* Written once per loop iteration: queries queued in the same
	 * iteration share TLS records. */
	dg_defer(c->up->pool->loop, &c->flush);
	return 0;
}

static void q_send(struct pool_q *q)
{
	struct dg_pool *p = q->pool;
	struct dg_loop *l = p->loop;
	struct pool_conn *c;
	struct pool_up *up;
	uint64_t when;

	q->attempts++;
	up = pick_upstream(p, q);
	c = up && !up->use_clear ? pick_conn(up) : NULL;
	if (up && up->use_clear ? plain_send(up, q) : (!c || conn_enqueue(c, q))) {
		/* Nowhere to send it: SERVFAIL promptly, but not from
		 * inside the caller's stack. */
		q->attempts = 99;
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

struct dg_pool *dg_pool_new(struct dg_loop *loop, const struct dg_config *cfg,
			    struct dg_stats *stats)
{
	struct dg_pool *p = calloc(1, sizeof(*p));
	int i;

	if (!p)
		return NULL;
	p->loop = loop;
	p->stats = stats;
	p->pool_size = cfg->pool_size > 0 ? cfg->pool_size : DG_CFG_POOL_DEFAULT;
	if (p->pool_size > DG_CFG_POOL_MAX)
		p->pool_size = DG_CFG_POOL_MAX;
	/* Opportunistic privacy (RFC 8310): encrypt, but do not insist on
	 * authenticating the server. */
	p->verify = cfg->dot != DG_DOT_OPPORTUNISTIC;
	p->dot = cfg->dot;
	p->ctx = dg_tls_ctx_new(cfg->ca_file, p->verify);
	if (!p->ctx)
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
	if (p->ctx)
		dg_tls_ctx_free(p->ctx);
	free(p);
	return NULL;
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
				conn_close(p->up[i].conns[j]);
		dg_tls_session_free(p->up[i].session);
		dg_plain_free(p->up[i].plain);
	}
	dg_tls_ctx_free(p->ctx);
	free(p);
}
