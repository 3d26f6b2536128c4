// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Each query's UDP socket is connected to the upstream before its first
 * byte. connect() binds it to a port the kernel draws at random: Linux's
 * udp_lib_get_port() starts at get_random_u32() within
 * net.ipv4.ip_local_port_range (32768-60999 by default, about 14.8 bits)
 * and skips ports in use, so two queries open at once never share one.
 * A connected UDP socket receives only from the address and port it is
 * connected to: an answer from anywhere else never reaches us.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>

#include "idmap.h"
#include "log.h"
#include "plain.h"
#include "rand.h"
#include "stats.h"

#define PLAIN_QUERY_MAX 512	/* one question and an OPT */
#define PLAIN_READS 16		/* datagrams read per wakeup of a socket */

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

/* One query: a UDP socket of its own, then perhaps a TCP retry. Freed at
 * the end of the loop iteration it ends in, as epoll may still hold an
 * event for its socket. */
struct plain_pending {
	struct dg_plain *p;
	void *tok;
	uint16_t id;
	int fd;			/* its UDP socket, -1 when it has none */
	struct dg_io io;
	bool holds;		/* counts in plain_g.open (UDP, then TCP) */
	bool waiting;		/* on plain_g's list, for a socket */
	struct plain_pending *wprev, *wnext;
	struct plain_tcp *tcp;
	struct dg_defer release;
	struct dg_dns_question sent;	/* in the case we sent (0x20) */
	size_t len;
	uint8_t frame[2 + PLAIN_QUERY_MAX];	/* length-prefixed for TCP */
};

struct dg_plain {
	struct dg_loop *loop;
	struct sockaddr_storage sa;
	socklen_t salen;
	char label[INET6_ADDRSTRLEN + 8];	/* for logs */
	struct dg_plain_ops ops;
	struct dg_idmap ids;	/* queries by message ID, for forget */
	struct dg_timer wake;	/* starts waiting queries, outside callbacks */
};

/* One budget for every dg_plain, as there is one cookie allow-list, and
 * one queue of queries waiting for a socket, oldest first. */
static struct {
	int open;
	struct plain_pending *head, *tail;
	struct dg_daemon_stats *st;
	struct dg_daemon_stats none;	/* counts when no one reads them */
} plain_g;

static struct dg_daemon_stats *plain_stats(void)
{
	return plain_g.st ? plain_g.st : &plain_g.none;
}

void dg_plain_set_stats(struct dg_daemon_stats *s)
{
	plain_g.st = s;
}

static void wait_push(struct plain_pending *pend)
{
	pend->wprev = plain_g.tail;
	pend->wnext = NULL;
	if (plain_g.tail)
		plain_g.tail->wnext = pend;
	else
		plain_g.head = pend;
	plain_g.tail = pend;
	pend->waiting = true;
}

static void wait_unlink(struct plain_pending *pend)
{
	if (pend->wprev)
		pend->wprev->wnext = pend->wnext;
	else
		plain_g.head = pend->wnext;
	if (pend->wnext)
		pend->wnext->wprev = pend->wprev;
	else
		plain_g.tail = pend->wprev;
	pend->wprev = pend->wnext = NULL;
	pend->waiting = false;
}

/* A socket may be free for the oldest waiting query: start it from a
 * timer of its own dg_plain (alive while it waits), so no answer or
 * failure is delivered from inside a caller's stack. */
static void plain_kick(void)
{
	struct dg_plain *p;

	if (!plain_g.head || plain_g.open >= DG_PLAIN_SOCKETS_MAX)
		return;
	p = plain_g.head->p;
	if (!dg_timer_armed(&p->wake))
		dg_timer_set(p->loop, &p->wake, p->loop->now);
}

static void tcp_release(struct dg_loop *l, struct dg_defer *d)
{
	struct plain_tcp *t = (struct plain_tcp *)((char *)d - offsetof(struct plain_tcp, release));

	(void)l;
	free(t->in);
	free(t);
}

static void pending_release(struct dg_loop *l, struct dg_defer *d)
{
	(void)l;
	free((char *)d - offsetof(struct plain_pending, release));
}

/* Close, then take the cookie off the list (cookies are never reused).
 * A TCP socket closes with linger 0, so it ends with one RST sent while
 * it is still allowed (a FIN after the close would come later and be
 * dropped). */
static void sock_close(struct dg_plain *p, int fd, bool tcp)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	socklen_t len = sizeof(uint64_t);
	uint64_t cookie = 0;

	getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len);
	if (tcp)
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	if (cookie)
		p->ops.forget(p->ops.allow_arg, cookie);
}

static void udp_close(struct plain_pending *pend)
{
	if (pend->fd < 0)
		return;
	/* close() takes the fd (never duplicated) out of epoll: only stop
	 * the loop calling us for an event it already holds. A syscall per
	 * query saved; syscalls are most of this path's cost. */
	pend->io.fn = NULL;
	sock_close(pend->p, pend->fd, false);
	pend->fd = -1;
}

static void tcp_close(struct plain_tcp *t)
{
	struct dg_plain *p = t->p;

	dg_io_del(p->loop, &t->io);
	sock_close(p, t->fd, true);
	if (t->pend)
		t->pend->tcp = NULL;
	dg_defer(p->loop, &t->release);
}

/* pend is done: no socket, no ID, no place in the queue. */
static void pending_drop(struct dg_plain *p, struct plain_pending *pend)
{
	dg_idmap_del(&p->ids, pend->id);
	if (pend->waiting)
		wait_unlink(pend);
	udp_close(pend);
	if (pend->tcp) {
		pend->tcp->pend = NULL;
		tcp_close(pend->tcp);
	}
	if (pend->holds) {
		pend->holds = false;
		plain_g.open--;
		dg_stat_sub(&plain_stats()->cleartext_sockets, 1);
		plain_kick();
	}
	dg_defer(p->loop, &pend->release);
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

/* Is msg pend's answer? Only with its ID and its question spelled
 * exactly as sent; otherwise count it and say why, for the log. */
static const char *plain_reject(const struct plain_pending *pend,
				const uint8_t *msg, size_t len)
{
	struct dg_daemon_stats *st = plain_stats();
	struct dg_dns_resp_info ri;

	if (len < DG_DNS_HDR_LEN || (uint16_t)(msg[0] << 8 | msg[1]) != pend->id) {
		dg_stat_add(&st->cleartext_bad_id, 1);
		return "another message ID";
	}
	if (dg_dns_parse_response(msg, len, &ri) ||
	    !dg_dns_question_equal(&ri.q, &pend->sent)) {
		dg_stat_add(&st->cleartext_bad_answer, 1);
		return "not a response to our question";
	}
	if (!dg_dns_question_exact(&ri.q, &pend->sent)) {
		dg_stat_add(&st->cleartext_bad_case, 1);
		return "question in another letter case (0x20)";
	}
	return NULL;
}

static void tcp_io(struct dg_loop *l, uint32_t events, void *arg)
{
	struct plain_tcp *t = arg;
	struct plain_pending *pend = t->pend;
	socklen_t sl = sizeof(int);
	const char *why;
	size_t want;
	ssize_t n;
	int err = 0;

	(void)l;
	if (!pend)
		return;
	if (!t->connected) {
		getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &sl);
		if (err || (events & EPOLLERR)) {
			err = err ? err : ECONNREFUSED;
			goto fail;
		}
		t->connected = true;
	}
	while (t->sent < pend->len + 2) {
		n = send(t->fd, pend->frame + t->sent, pend->len + 2 - t->sent,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN)
				return;
			err = errno;
			goto fail;
		}
		t->sent += n;
		if (t->sent == pend->len + 2)
			dg_io_mod(t->p->loop, &t->io, EPOLLIN);
	}
	for (;;) {
		want = dg_dns_tcp_frame(t->in, t->ilen);
		if (!want)
			want = DG_DNS_TCP_PREFIX;
		else if (t->ilen == want)
			break;
		n = recv(t->fd, t->in + t->ilen, want - t->ilen, MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			err = n ? errno : ECONNRESET;
			goto fail;
		}
		t->ilen += n;
	}
	/* One query, one answer: anything else on the stream is a failure. */
	why = plain_reject(pend, t->in + 2, want - 2);
	if (!why) {
		pending_answer(t->p, pend, t->in + 2, want - 2);
		return;
	}
	log_debug("cleartext TCP answer from %s dropped: %s", t->p->label, why);
	pending_fail(t->p, pend);
	return;
fail:
	log_debug("cleartext TCP retry to %s failed: %s", t->p->label,
		  strerror(err));
	pending_fail(t->p, pend);
}

/* The UDP answer was truncated: ask again over TCP (RFC 7766), in the
 * same spelling, on a socket that takes the UDP one's place. */
static void tcp_start(struct dg_plain *p, struct plain_pending *pend)
{
	struct plain_tcp *t = calloc(1, sizeof(*t));

	udp_close(pend);
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
		sock_close(p, t->fd, true);
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
	struct plain_pending *pend = arg;
	struct dg_plain *p = pend->p;
	uint8_t buf[DG_DNS_MSG_MAX];
	const char *why;
	ssize_t n;
	int i;

	(void)l;
	(void)events;
	/* Bounded per wakeup; epoll calls again while more wait. */
	for (i = 0; i < PLAIN_READS; i++) {
		n = recv(pend->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0) {
			/* ICMP unreachable, say: no answer will come. */
			log_debug("cleartext query to %s: %s", p->label, strerror(errno));
			pending_fail(p, pend);
			return;
		}
		why = plain_reject(pend, buf, (size_t)n);
		if (why) {
			log_debug("cleartext answer from %s dropped: %s", p->label, why);
			continue;
		}
		if (buf[2] & (DG_DNS_TC >> 8))
			tcp_start(p, pend);
		else
			pending_answer(p, pend, buf, (size_t)n);
		return;
	}
}

/* A socket of pend's own, allowed past the guard before its first byte;
 * connect() gives it a random port and the upstream as its only peer. */
static int udp_start(struct plain_pending *pend)
{
	struct dg_plain *p = pend->p;
	int fd, err;

	fd = socket(p->sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = p->ops.allow(p->ops.allow_arg, fd);
	if (!err && connect(fd, (struct sockaddr *)&p->sa, p->salen))
		err = -errno;
	if (!err && send(fd, pend->frame + 2, pend->len, MSG_DONTWAIT) < 0)
		err = -errno;
	if (!err)
		err = dg_io_add(p->loop, &pend->io, fd, EPOLLIN, udp_read, pend);
	if (err) {
		sock_close(p, fd, false);
		return err;
	}
	pend->fd = fd;
	pend->holds = true;
	plain_g.open++;
	dg_stat_add(&plain_stats()->cleartext_sockets, 1);
	return 0;
}

static void plain_wake(struct dg_loop *l, struct dg_timer *t)
{
	struct plain_pending *pend;
	int i, err;

	(void)l;
	(void)t;
	for (i = 0; i < DG_PLAIN_SOCKETS_MAX && plain_g.head &&
		    plain_g.open < DG_PLAIN_SOCKETS_MAX; i++) {
		pend = plain_g.head;
		wait_unlink(pend);
		err = udp_start(pend);
		if (err) {
			log_debug("cleartext query to %s: %s", pend->p->label,
				  strerror(-err));
			pending_fail(pend->p, pend);
		}
	}
	plain_kick();
}

struct dg_plain *dg_plain_new(struct dg_loop *l, const struct sockaddr *sa,
			      socklen_t salen, const struct dg_plain_ops *ops)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	struct dg_plain *p;
	char ip[INET6_ADDRSTRLEN] = "?";

	if (salen > sizeof(p->sa))
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->loop = l;
	memcpy(&p->sa, sa, salen);
	p->salen = salen;
	p->ops = *ops;
	dg_idmap_init(&p->ids, 0);
	dg_timer_init(&p->wake, plain_wake);
	if (sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		snprintf(p->label, sizeof(p->label), "[%s]:%u", ip, ntohs(sin6->sin6_port));
	} else {
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		snprintf(p->label, sizeof(p->label), "%s:%u", ip, ntohs(sin->sin_port));
	}
	return p;
}

int dg_plain_send(struct dg_plain *p, void *tok, const struct dg_dns_query *q,
		  uint16_t *id)
{
	uint8_t bits[DG_DNS_0X20_BYTES];
	struct plain_pending *pend;
	struct dg_dns_query sq = *q;
	int n, err;

	pend = calloc(1, sizeof(*pend));
	if (!pend)
		return -ENOMEM;
	if (dg_idmap_add(&p->ids, pend, &pend->id)) {
		free(pend);
		return -EBUSY;
	}
	pend->p = p;
	pend->tok = tok;
	pend->fd = -1;
	dg_defer_init(&pend->release, pending_release);
	dg_rand_bytes(bits, sizeof(bits));
	n = dg_dns_name_0x20(sq.q.name, sq.q.name_len, bits);
	/* No padding or keepalive: they are for encrypted transports. */
	if (n >= 0)
		n = dg_dns_build_query(pend->frame + 2, PLAIN_QUERY_MAX, pend->id,
				       &sq, 0, 0);
	if (n < 0) {
		err = n;
		goto fail;
	}
	pend->sent = sq.q;
	pend->len = n;
	dg_dns_tcp_prefix(pend->frame, (size_t)n);
	if (plain_g.head || plain_g.open >= DG_PLAIN_SOCKETS_MAX) {
		/* At the bound: wait in line. The caller's attempt timer
		 * bounds the wait (it forgets the query). */
		wait_push(pend);
		dg_stat_add(&plain_stats()->cleartext_waits, 1);
		plain_kick();
	} else if ((err = udp_start(pend))) {
		goto fail;
	}
	*id = pend->id;
	return 0;
fail:
	dg_idmap_del(&p->ids, pend->id);
	free(pend);
	return err;
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
	dg_timer_cancel(p->loop, &p->wake);
	free(p);
	/* Sockets closed here may let another dg_plain's queries go. */
	plain_kick();
}
