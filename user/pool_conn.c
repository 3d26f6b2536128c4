// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A DNS-over-TLS connection's life (RFC 7858): non-blocking connect, TLS
 * handshake, queries written as length-prefixed frames in as few records
 * as possible, answers read and cut into frames, the connect, stall and
 * idle timers, close. What happens to the queries is pool.c's: it hears
 * of each step through the pool_conn_* events (pool_int.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "log.h"
#include "pool_int.h"
#include "tls.h"

#define FRAME_MAX (2 + DG_DNS_MSG_MAX)
#define QUERY_MAX 600		/* our queries: one question, OPT, padding */

struct tconn {
	struct pool_conn base;
	int fd;
	struct dg_io io;
	struct dg_tls_conn *tls;
	uint8_t *wbuf;		/* framed queries to write */
	size_t wlen, wcap;
	size_t wbusy;		/* bytes handed to a write that wants retry */
	uint8_t *rbuf;		/* FRAME_MAX bytes */
	size_t rlen;
	uint64_t idle_ns;	/* server keepalive may shorten it */
	struct dg_timer timer;	/* connect timeout, stall, idle */
	struct dg_defer flush;
	bool got_answer;	/* take the resumption ticket once */
};

static struct tconn *tconn_of(struct pool_conn *c)
{
	return (struct tconn *)((char *)c - offsetof(struct tconn, base));
}

static struct dg_loop *tconn_loop(const struct tconn *c)
{
	return c->base.up->pool->loop;
}

static void tconn_arm(struct tconn *c)
{
	uint32_t ev = EPOLLIN;

	if (c->base.state == POOL_C_CONNECTING)
		ev = EPOLLOUT;
	else if (c->base.state == POOL_C_HANDSHAKE)
		ev = dg_tls_want(c->tls) == DG_TLS_WANT_WRITE ? EPOLLOUT : EPOLLIN;
	else if (c->wlen && dg_tls_want(c->tls) == DG_TLS_WANT_WRITE)
		ev |= EPOLLOUT;
	dg_io_mod(tconn_loop(c), &c->io, ev);
}

static void tconn_free_deferred(struct dg_loop *l, struct dg_defer *d)
{
	struct tconn *c = (struct tconn *)((char *)d - offsetof(struct tconn, flush));

	(void)l;
	free(c->wbuf);
	free(c->rbuf);
	free(c);
}

/* Close c; the scheduler moves its queries. Freed at the end of the loop
 * iteration, as epoll may still hold an event for it. */
static void tconn_close(struct tconn *c)
{
	struct dg_loop *l = tconn_loop(c);

	if (c->base.state == POOL_C_DEAD)
		return;
	c->base.state = POOL_C_DEAD;
	dg_timer_cancel(l, &c->timer);
	dg_io_del(l, &c->io);
	if (c->tls)
		dg_tls_conn_free(c->tls);
	c->tls = NULL;
	close(c->fd);
	/* The flush defer is done with (the conn is dead): reuse it to free.
	 * If a flush is still queued, it now frees instead of flushing;
	 * un-queueing it here would corrupt the loop's deferred list. */
	c->flush.fn = tconn_free_deferred;
	dg_defer(l, &c->flush);
	pool_conn_closed(&c->base);
}

static void tconn_fail(struct tconn *c, enum dg_upfail why, const char *text)
{
	pool_conn_failed(&c->base, why, text);
	tconn_close(c);
}

static enum dg_upfail tconn_tls_why(enum dg_tls_fail f)
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

static void tconn_fail_tls(struct tconn *c)
{
	char text[160];

	snprintf(text, sizeof(text), "TLS %s: %s",
		 dg_tls_fail_name(dg_tls_failure(c->tls)),
		 dg_tls_failure_text(c->tls));
	tconn_fail(c, tconn_tls_why(dg_tls_failure(c->tls)), text);
}

/* Write what is queued, in as few TLS records as wolfSSL makes of it. */
static void tconn_flush(struct tconn *c)
{
	ssize_t n;
	size_t len;

	if (c->base.state != POOL_C_OPEN || !c->wlen)
		return;
	/* A write that wanted a retry must be repeated with the same bytes. */
	len = c->wbusy ? c->wbusy : c->wlen;
	n = dg_tls_write(c->tls, c->wbuf, len);
	if (n == -EAGAIN) {
		c->wbusy = len;
		tconn_arm(c);
		return;
	}
	if (n < 0) {
		tconn_fail_tls(c);
		return;
	}
	c->wbusy = 0;
	memmove(c->wbuf, c->wbuf + n, c->wlen - n);
	c->wlen -= n;
	tconn_arm(c);
}

static void tconn_flush_deferred(struct dg_loop *l, struct dg_defer *d)
{
	(void)l;
	tconn_flush((struct tconn *)((char *)d - offsetof(struct tconn, flush)));
}

static void tconn_timer_idle(struct tconn *c)
{
	struct dg_loop *l = tconn_loop(c);

	dg_timer_set(l, &c->timer, l->now + c->idle_ns);
}

static void tconn_opened(struct tconn *c)
{
	struct pool_up *up = c->base.up;

	c->base.state = POOL_C_OPEN;
	dg_stat_add(dg_tls_resumed(c->tls) ? &up->st->handshakes_resumed :
					     &up->st->handshakes_full, 1);
	log_debug("upstream %s: %s connection open (%s)", up->label,
		  dg_tls_version(c->tls),
		  dg_tls_resumed(c->tls) ? "resumed" : "full handshake");
	c->base.last_read = tconn_loop(c)->now;
	tconn_timer_idle(c);
	pool_conn_opened(&c->base);
	if (c->base.state != POOL_C_OPEN)
		return;
	/* The handshake may have left EPOLLOUT armed alone: with nothing to
	 * write, that wakes the loop at once, forever. */
	tconn_arm(c);
	tconn_flush(c);
}

static void tconn_handshake(struct tconn *c)
{
	int err = dg_tls_handshake(c->tls);

	if (!err) {
		tconn_opened(c);
		return;
	}
	if (err == -EAGAIN) {
		tconn_arm(c);
		return;
	}
	tconn_fail_tls(c);
}

/* One whole framed answer. */
static void tconn_answer(struct tconn *c, const uint8_t *msg, size_t len)
{
	struct pool_up *up = c->base.up;
	struct dg_tls_session *sess;
	struct dg_dns_resp_info ri;
	uint64_t idle = 0;

	/* RFC 7828: close before the server would. Only from an answer that
	 * parses and matches a query; the scheduler judges the rest. */
	if (!dg_dns_parse_response(msg, len, &ri) && ri.edns.keepalive &&
	    ri.edns.keepalive_timeout) {
		uint64_t t = (uint64_t)ri.edns.keepalive_timeout * 100 * POOL_MS;

		idle = t > 200 * POOL_MS ? t - 100 * POOL_MS : t / 2;
	}
	if (!pool_conn_answer(&c->base, msg, len) || c->base.state == POOL_C_DEAD)
		return;
	if (idle)
		c->idle_ns = idle;
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
}

static void tconn_read(struct tconn *c)
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
			tconn_fail(c, DG_UF_RESET, n == 0 ? "closed by the server" :
							    "connection reset");
			return;
		}
		c->rlen += n;
		c->base.last_read = tconn_loop(c)->now;
		/* Each frame: a 2-byte length, then the message (RFC 7858). */
		off = 0;
		while ((flen = dg_dns_tcp_frame(c->rbuf + off, c->rlen - off)) &&
		       flen <= c->rlen - off) {
			tconn_answer(c, c->rbuf + off + DG_DNS_TCP_PREFIX,
				     flen - DG_DNS_TCP_PREFIX);
			if (c->base.state == POOL_C_DEAD)
				return;
			off += flen;
		}
		memmove(c->rbuf, c->rbuf + off, c->rlen - off);
		c->rlen -= off;
	}
	if (!c->base.ids.n)
		tconn_timer_idle(c);
}

static void tconn_io(struct dg_loop *l, uint32_t events, void *arg)
{
	struct tconn *c = arg;
	socklen_t sl = sizeof(int);
	int err = 0;

	(void)l;
	if (c->base.state == POOL_C_CONNECTING) {
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl);
		if (err || (events & (EPOLLERR | EPOLLHUP))) {
			tconn_fail(c, err == ECONNREFUSED ? DG_UF_REFUSED : DG_UF_RESET,
				   strerror(err ? err : ECONNRESET));
			return;
		}
		c->base.state = POOL_C_HANDSHAKE;
	}
	if (c->base.state == POOL_C_HANDSHAKE) {
		tconn_handshake(c);
		return;
	}
	if (c->base.state != POOL_C_OPEN)
		return;
	if (events & EPOLLOUT)
		tconn_flush(c);
	if (c->base.state == POOL_C_OPEN && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		tconn_read(c);
}

static void tconn_timer(struct dg_loop *l, struct dg_timer *t)
{
	struct tconn *c = (struct tconn *)((char *)t - offsetof(struct tconn, timer));

	if (c->base.state != POOL_C_OPEN) {
		tconn_fail(c, DG_UF_TIMEOUT, "connect or TLS handshake timed out");
		return;
	}
	if (c->base.ids.n) {
		/* Queries outstanding: each has its own attempt timer, which
		 * closes a silent connection; this is the backstop. */
		if (l->now - c->base.last_read > DG_ATTEMPT_TIMEOUT_MS * POOL_MS) {
			tconn_fail(c, DG_UF_TIMEOUT, "stalled");
			return;
		}
		dg_timer_set(l, t, l->now + DG_ATTEMPT_TIMEOUT_MS * POOL_MS);
		return;
	}
	log_debug("upstream %s: closing an idle connection", c->base.up->label);
	tconn_close(c);
}

static struct pool_conn *tconn_open(struct pool_up *up)
{
	struct dg_loop *l = up->pool->loop;
	struct tconn *c;
	int one = 1;

	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->base.up = up;
	c->rbuf = malloc(FRAME_MAX);
	c->fd = socket(up->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (!c->rbuf || c->fd < 0)
		goto fail;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	dg_timer_init(&c->timer, tconn_timer);
	dg_defer_init(&c->flush, tconn_flush_deferred);
	c->idle_ns = DG_IDLE_TIMEOUT_MS * POOL_MS;
	c->tls = dg_tls_conn_new(up->pool->tctx, c->fd, up->srv.name, up->ip,
				 (const uint8_t (*)[32])up->pins, up->n_pins,
				 up->session);
	if (!c->tls)
		goto fail;
	if (connect(c->fd, (struct sockaddr *)&up->sa, up->salen) && errno != EINPROGRESS) {
		pool_up_failed(up, errno == ECONNREFUSED ? DG_UF_REFUSED : DG_UF_RESET,
			       strerror(errno));
		goto fail;
	}
	c->base.state = POOL_C_CONNECTING;
	if (dg_io_add(l, &c->io, c->fd, EPOLLOUT, tconn_io, c))
		goto fail;
	dg_timer_set(l, &c->timer, l->now + DG_CONNECT_TIMEOUT_MS * POOL_MS);
	return &c->base;
fail:
	if (c->tls)
		dg_tls_conn_free(c->tls);
	if (c->fd >= 0)
		close(c->fd);
	free(c->rbuf);
	free(c);
	return NULL;
}

static int tconn_send(struct pool_conn *base, uint16_t id,
		      const struct dg_dns_query *q)
{
	struct tconn *c = tconn_of(base);
	size_t need = c->wlen + 2 + QUERY_MAX;
	uint8_t *nb;
	int n;

	if (need > c->wcap) {
		nb = realloc(c->wbuf, need * 2);
		if (!nb)
			return -ENOMEM;
		c->wbuf = nb;
		c->wcap = need * 2;
	}
	n = dg_dns_build_query(c->wbuf + c->wlen + 2, QUERY_MAX, id, q,
			       DG_QUERY_KEEPALIVE,
			       DG_DNS_PAD_BLOCK);
	if (n <= 0)
		return -EINVAL;
	dg_dns_tcp_prefix(c->wbuf + c->wlen, (size_t)n);
	c->wlen += 2 + n;
	/* Written once per loop iteration: queries queued in the same
	 * iteration share TLS records. */
	dg_defer(tconn_loop(c), &c->flush);
	return 0;
}

static void tconn_close_op(struct pool_conn *c)
{
	tconn_close(tconn_of(c));
}

static int tconn_init(struct dg_pool *p, const struct dg_config *cfg)
{
	/* Opportunistic privacy (RFC 8310): encrypt, but do not insist on
	 * authenticating the server. Pins are checked all the same. */
	p->tctx = dg_tls_ctx_new(cfg->ca_file, cfg->dot != DG_DOT_OPPORTUNISTIC);
	return p->tctx ? 0 : -EIO;
}

static void tconn_fini(struct dg_pool *p)
{
	int i;

	for (i = 0; i < p->n_up; i++) {
		dg_tls_session_free(p->up[i].session);
		p->up[i].session = NULL;
	}
	if (p->tctx)
		dg_tls_ctx_free(p->tctx);
	p->tctx = NULL;
}

const struct pool_transport pool_tls_transport = {
	.init = tconn_init,
	.fini = tconn_fini,
	.open = tconn_open,
	.send = tconn_send,
	.close = tconn_close_op,
};
