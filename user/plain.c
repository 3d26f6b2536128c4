// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "idmap.h"
#include "log.h"
#include "plain.h"

#define PLAIN_QUERY_MAX 512	/* one question and an OPT */

struct plain_pending;

/* A TCP retry for one truncated answer. */
struct plain_tcp {
	struct dg_plain *p;
	struct plain_pending *pend;
	int fd;
	struct dg_io io;
	bool connected;
	size_t sent;
	uint8_t *in;
	size_t ilen;
	struct dg_defer release;
};

struct plain_pending {
	void *tok;
	uint16_t id;
	size_t len;
	uint8_t frame[2 + PLAIN_QUERY_MAX];	/* length-prefixed for TCP */
	struct plain_tcp *tcp;
};

struct dg_plain {
	struct dg_loop *loop;
	struct sockaddr_storage sa;
	socklen_t salen;
	struct dg_plain_ops ops;
	int fd;			/* UDP, -1 until first needed */
	struct dg_io io;
	struct dg_idmap ids;	/* pending queries by message ID */
};

static void tcp_release(struct dg_loop *l, struct dg_defer *d)
{
	struct plain_tcp *t = (struct plain_tcp *)((char *)d - offsetof(struct plain_tcp, release));

	(void)l;
	free(t->in);
	free(t);
}

/* Close with linger 0, so a TCP socket ends with one RST sent while it is
 * still allowed (a FIN after the close would come later and be dropped),
 * then take its cookie off the list. Cookies are never reused. */
static void sock_close(struct dg_plain *p, int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	socklen_t len = sizeof(uint64_t);
	uint64_t cookie = 0;

	getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len);
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	if (cookie)
		p->ops.forget(p->ops.allow_arg, cookie);
}

static void tcp_close(struct plain_tcp *t)
{
	struct dg_plain *p = t->p;

	dg_io_del(p->loop, &t->io);
	sock_close(p, t->fd);
	if (t->pend)
		t->pend->tcp = NULL;
	dg_defer(p->loop, &t->release);
}

static void pending_drop(struct dg_plain *p, struct plain_pending *pend)
{
	dg_idmap_del(&p->ids, pend->id);
	if (pend->tcp) {
		pend->tcp->pend = NULL;
		tcp_close(pend->tcp);
	}
	free(pend);
}

static void pending_answer(struct dg_plain *p, struct plain_pending *pend,
			   const uint8_t *msg, size_t len)
{
	void *tok = pend->tok;

	pending_drop(p, pend);
	p->ops.answer(tok, msg, len);
}

static void pending_fail(struct dg_plain *p, struct plain_pending *pend)
{
	void *tok = pend->tok;

	pending_drop(p, pend);
	p->ops.fail(tok);
}

static void tcp_io(struct dg_loop *l, uint32_t events, void *arg)
{
	struct plain_tcp *t = arg;
	struct plain_pending *pend = t->pend;
	socklen_t sl = sizeof(int);
	size_t want;
	ssize_t n;
	int err = 0;

	(void)l;
	if (!pend)
		return;
	if (!t->connected) {
		getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &sl);
		if (err || (events & EPOLLERR))
			goto fail;
		t->connected = true;
	}
	while (t->sent < pend->len + 2) {
		n = send(t->fd, pend->frame + t->sent, pend->len + 2 - t->sent,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN)
				return;
			goto fail;
		}
		t->sent += n;
		if (t->sent == pend->len + 2)
			dg_io_mod(t->p->loop, &t->io, EPOLLIN);
	}
	for (;;) {
		want = t->ilen >= 2 ? 2 + ((size_t)t->in[0] << 8 | t->in[1]) : 2;
		if (t->ilen == want && want > 2) {
			pending_answer(t->p, pend, t->in + 2, want - 2);
			return;
		}
		n = recv(t->fd, t->in + t->ilen, want - t->ilen, MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0)
			goto fail;
		t->ilen += n;
	}
fail:
	log_debug("cleartext TCP retry failed: %s", strerror(err ? err : errno));
	pending_fail(t->p, pend);
}

/* The UDP answer was truncated: ask again over TCP (RFC 7766). */
static void tcp_start(struct dg_plain *p, struct plain_pending *pend)
{
	struct plain_tcp *t = calloc(1, sizeof(*t));

	if (!t || !(t->in = malloc(2 + DG_DNS_MSG_MAX)))
		goto fail;
	t->p = p;
	t->pend = pend;
	dg_defer_init(&t->release, tcp_release);
	t->fd = socket(p->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0)
		goto fail;
	if (p->ops.allow(p->ops.allow_arg, t->fd) ||
	    (connect(t->fd, (struct sockaddr *)&p->sa, p->salen) && errno != EINPROGRESS) ||
	    dg_io_add(p->loop, &t->io, t->fd, EPOLLOUT, tcp_io, t)) {
		sock_close(p, t->fd);
		goto fail;
	}
	pend->tcp = t;
	return;
fail:
	if (t)
		free(t->in);
	free(t);
	pending_fail(p, pend);
}

static void udp_read(struct dg_loop *l, uint32_t events, void *arg)
{
	struct dg_plain *p = arg;
	struct plain_pending *pend;
	uint8_t buf[DG_DNS_MSG_MAX];
	ssize_t n;
	int i;

	(void)l;
	(void)events;
	for (i = 0; i < 64; i++) {
		n = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			return;
		if (n < DG_DNS_HDR_LEN)
			continue;
		pend = dg_idmap_get(&p->ids, (uint16_t)(buf[0] << 8 | buf[1]));
		if (!pend || pend->tcp)
			continue;
		if (buf[2] & (DG_DNS_TC >> 8))
			tcp_start(p, pend);
		else
			pending_answer(p, pend, buf, n);
	}
}

static int udp_open(struct dg_plain *p)
{
	int fd, err;

	fd = socket(p->sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = p->ops.allow(p->ops.allow_arg, fd);
	if (!err && connect(fd, (struct sockaddr *)&p->sa, p->salen))
		err = -errno;
	if (!err)
		err = dg_io_add(p->loop, &p->io, fd, EPOLLIN, udp_read, p);
	if (err) {
		sock_close(p, fd);
		return err;
	}
	p->fd = fd;
	return 0;
}

struct dg_plain *dg_plain_new(struct dg_loop *l, const struct sockaddr *sa,
			      socklen_t salen, const struct dg_plain_ops *ops)
{
	struct dg_plain *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->loop = l;
	memcpy(&p->sa, sa, salen);
	p->salen = salen;
	p->ops = *ops;
	p->fd = -1;
	dg_idmap_init(&p->ids, (uint16_t)random());
	return p;
}

int dg_plain_send(struct dg_plain *p, void *tok, const struct dg_dns_query *q,
		  uint16_t *id)
{
	struct plain_pending *pend;
	int n, err;

	if (p->fd < 0 && (err = udp_open(p)))
		return err;
	pend = malloc(sizeof(*pend));
	if (!pend)
		return -ENOMEM;
	if (dg_idmap_add(&p->ids, pend, &pend->id)) {
		free(pend);
		return -EBUSY;
	}
	/* No padding or keepalive: they are for encrypted transports. */
	n = dg_dns_build_query(pend->frame + 2, PLAIN_QUERY_MAX, pend->id, q,
			       false, 0);
	if (n < 0 || send(p->fd, pend->frame + 2, n, MSG_DONTWAIT) < 0) {
		err = n < 0 ? n : -errno;
		dg_idmap_del(&p->ids, pend->id);
		free(pend);
		return err;
	}
	pend->frame[0] = (uint8_t)(n >> 8);
	pend->frame[1] = (uint8_t)n;
	pend->len = n;
	pend->tok = tok;
	pend->tcp = NULL;
	*id = pend->id;
	return 0;
}

void dg_plain_forget(struct dg_plain *p, uint16_t id)
{
	struct plain_pending *pend = dg_idmap_get(&p->ids, id);

	if (pend)
		pending_drop(p, pend);
}

void dg_plain_free(struct dg_plain *p)
{
	int i;

	if (!p)
		return;
	for (i = 0; i < DG_IDMAP_SLOTS && p->ids.n; i++)
		if (p->ids.slot[i])
			pending_fail(p, p->ids.slot[i]);
	if (p->fd >= 0) {
		dg_io_del(p->loop, &p->io);
		sock_close(p, p->fd);
	}
	free(p);
}
