// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/sockios.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "log.h"
#include "stub.h"

#define MS (1000000ull)
#define UDP_BATCH 32
#define STUB_MAX_SOCKS (2 * (1 + DG_CFG_MAX_SERVERS) + 2)	/* + steered TCP */
#define LOCAL_MAX 64
#define UDP_RX_SIZE 4096	/* a UDP query never needs more */
#define UDP_RCVBUF (4 << 20)
#define STUB_OTHER_FDS 512	/* listeners, upstreams, AF_XDP, maps, logs */

struct stub_udp_req;

struct stub_sock {
	struct dg_stub *stub;
	int fd;
	bool tcp;
	bool steered;		/* redirected TCP/53 from tc: LAN clients too */
	struct dg_io io;
	/* UDP: answers waiting for the end-of-iteration sendmmsg. */
	struct stub_udp_req *outq[UDP_BATCH];
	int n_out;
	struct dg_defer flush;
	struct dg_timer rest;	/* TCP: accept() ran out of descriptors */
};

struct stub_udp_req {
	struct dg_req r;
	struct stub_sock *sock;
	size_t len;
	uint8_t msg[DG_DNS_EDNS_SIZE];
};

/* One answer (or what the socket left of it) waiting for its client. */
struct stub_out {
	struct stub_out *next;
	size_t len;
	uint8_t b[];
};

enum { STUB_LOCAL, STUB_STEERED, STUB_KINDS };

struct stub_tcp {
	struct dg_stub *stub;
	int fd;
	int kind;		/* STUB_LOCAL or STUB_STEERED: its budget */
	int client;		/* its handle in the resolver's client table */
	struct dg_io io;
	uint8_t *rbuf;
	size_t rlen, rcap;
	struct stub_out *out, *out_tail;	/* answers waiting, in order */
	size_t out_off;		/* bytes of out already sent */
	size_t waiting;		/* bytes in the out list not yet sent */
	int outstanding;	/* queries not yet answered */
	uint64_t progress;	/* loop time of its last query or byte taken */
	int outq;		/* unsent in the kernel's buffer, last looked */
	bool dead;
	bool eof;		/* the client sent FIN: answer, then close */
	bool paused;		/* not read: a cap is reached */
	bool on_idle;
	struct stub_tcp *idle_prev, *idle_next;	/* its budget's idle list */
	struct stub_tcp *all_prev, *all_next;	/* every open connection */
	struct sockaddr_storage peer;
	socklen_t peer_len;
	struct dg_timer timer;	/* idle or stalled: close */
	struct dg_defer work;	/* free, or serve frames buffered */
};

/* One kind of TCP client's connections; the idle ones (nothing in
 * flight) listed oldest first: the first to close for a newcomer. */
struct stub_budget {
	int n, max;
	struct stub_tcp *idle_head, *idle_tail;
};

struct dg_stub {
	struct dg_loop *loop;
	struct dg_resolver *res;
	struct stub_sock socks[STUB_MAX_SOCKS];
	int n_socks;
	struct stub_budget budget[STUB_KINDS];
	struct stub_tcp *all;	/* open TCP connections */
	size_t waiting;		/* answer bytes waiting, all connections */
	unsigned long held;	/* requests the resolver has not replied to */
	bool closing;		/* dg_stub_free ran: free at held == 0 */
	/* The host's own addresses at start: clients from them are local. */
	struct sockaddr_storage local[LOCAL_MAX];
	int n_local;
	uint8_t rx[UDP_BATCH][UDP_RX_SIZE];	/* recvmmsg slots */
};

/* ---- who may ask ----------------------------------------------------- */

static bool addr_same(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family)
		return false;
	if (b->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		       &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
}

static bool peer_is_local(const struct dg_stub *s, const struct sockaddr *sa)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
	int i;

	if (sa->sa_family == AF_INET &&
	    (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127)
		return true;
	if (sa->sa_family == AF_INET6 && (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
	    (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && s6->sin6_addr.s6_addr[12] == 127)))
		return true;
	for (i = 0; i < s->n_local; i++)
		if (addr_same(&s->local[i], sa))
			return true;
	return false;
}

static void stub_learn_local(struct dg_stub *s)
{
	struct ifaddrs *ifa, *i;

	if (getifaddrs(&ifa))
		return;
	for (i = ifa; i && s->n_local < LOCAL_MAX; i = i->ifa_next) {
		if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET &&
				     i->ifa_addr->sa_family != AF_INET6))
			continue;
		memcpy(&s->local[s->n_local++], i->ifa_addr,
		       i->ifa_addr->sa_family == AF_INET ?
			       sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	}
	freeifaddrs(ifa);
}

/* A query from any transport, parsed once by the caller (rc from
 * dg_dns_parse_query), into the resolver. */
static void stub_dispatch(struct dg_stub *s, struct dg_req *r, int rc, bool local)
{
	/* No header, or a response (QR set): answering could start a loop
	 * between two servers reflecting at each other. UDP drops it, TCP
	 * closes the connection. */
	if (rc < 0 || (r->q.flags & DG_DNS_QR)) {
		dg_stat_add(&s->res->stats->s->queries_unanswerable, 1);
		r->reply(r, NULL, 0);
		return;
	}
	if (!local) {
		dg_resolve_error(s->res, r, r->q.q.name_len != 0, DG_RCODE_REFUSED);
		return;
	}
	if (rc) {
		dg_resolve_error(s->res, r, r->q.q.name_len != 0, rc);
		return;
	}
	dg_resolve(s->res, r);
}

/* ---- UDP ------------------------------------------------------------- */

/* After dg_stub_free(): the memory goes once no request is owed a reply
 * and no end-of-turn flush of ours is queued in the loop. */
static void stub_maybe_free(struct dg_stub *s)
{
	int i;

	if (!s->closing || s->held)
		return;
	for (i = 0; i < s->n_socks; i++)
		if (s->socks[i].flush.queued)
			return;
	free(s);
}

/* The resolver replied to one more request. */
static void stub_unhold(struct dg_stub *s)
{
	s->held--;
	stub_maybe_free(s);
}

static void udp_flush(struct dg_loop *l, struct dg_defer *d)
{
	struct stub_sock *ss = (struct stub_sock *)((char *)d - offsetof(struct stub_sock, flush));
	struct mmsghdr mm[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	int i, n, sent = 0;

	(void)l;
	for (i = 0; i < ss->n_out; i++) {
		iov[i].iov_base = ss->outq[i]->msg;
		iov[i].iov_len = ss->outq[i]->len;
		memset(&mm[i], 0, sizeof(mm[i]));
		mm[i].msg_hdr.msg_name = &ss->outq[i]->r.peer;
		mm[i].msg_hdr.msg_namelen = ss->outq[i]->r.peer_len;
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	/* A full socket buffer drops answers, as UDP may; the client
	 * retries. Never block the loop for it. */
	while (sent < ss->n_out) {
		n = sendmmsg(ss->fd, mm + sent, ss->n_out - sent, MSG_DONTWAIT);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			log_verbose("stub: sendmmsg: %s", strerror(errno));
			break;
		}
		sent += n;
	}
	for (i = 0; i < ss->n_out; i++)
		free(ss->outq[i]);
	ss->n_out = 0;
	/* Run as a defer after dg_stub_free(): maybe the last one. */
	stub_maybe_free(ss->stub);
}

static void udp_reply(struct dg_req *r, const uint8_t *msg, size_t len)
{
	struct stub_udp_req *u = (struct stub_udp_req *)r;
	struct stub_sock *ss = u->sock;
	struct dg_stub *s = ss->stub;

	if (!msg || len > sizeof(u->msg) || s->closing) {
		free(u);
	} else {
		memcpy(u->msg, msg, len);
		u->len = len;
		if (ss->n_out == UDP_BATCH)
			udp_flush(s->loop, &ss->flush);
		ss->outq[ss->n_out++] = u;
		dg_defer(s->loop, &ss->flush);
	}
	stub_unhold(s);
}

static void udp_read(struct dg_loop *l, uint32_t events, void *arg)
{
	struct stub_sock *ss = arg;
	struct dg_stub *s = ss->stub;
	uint8_t (*bufs)[UDP_RX_SIZE] = s->rx;
	struct sockaddr_storage peers[UDP_BATCH];
	struct mmsghdr mm[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct stub_udp_req *u;
	int i, n, rc, round;

	(void)events;
	/* A few batches per wakeup, then let other sockets have a turn. */
	for (round = 0; round < 4; round++) {
		for (i = 0; i < UDP_BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = UDP_RX_SIZE;
			memset(&mm[i], 0, sizeof(mm[i]));
			mm[i].msg_hdr.msg_name = &peers[i];
			mm[i].msg_hdr.msg_namelen = sizeof(peers[i]);
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(ss->fd, mm, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (i = 0; i < n; i++) {
			u = malloc(sizeof(*u));
			if (!u)
				continue;
			memset(&u->r, 0, sizeof(u->r));
			u->sock = ss;
			u->r.reply = udp_reply;
			u->r.owner = ss;
			u->r.via = "udp";
			u->r.start = l->now;
			memcpy(&u->r.peer, &peers[i], mm[i].msg_hdr.msg_namelen);
			u->r.peer_len = mm[i].msg_hdr.msg_namelen;
			dg_stat_add(&s->res->stats->s->queries_udp, 1);
			s->held++;
			rc = dg_dns_parse_query(bufs[i], mm[i].msg_len, &u->r.q);
			/* A datagram longer than any sane query was cut. */
			if (rc >= 0 && (mm[i].msg_hdr.msg_flags & MSG_TRUNC))
				rc = DG_RCODE_FORMERR;
			u->r.limit = rc ? DG_DNS_UDP_PLAIN : dg_dns_udp_limit(&u->r.q);
			stub_dispatch(s, &u->r, rc,
				      peer_is_local(s, (struct sockaddr *)&peers[i]));
		}
		if (n < UDP_BATCH)
			return;
	}
}

/* ---- TCP ------------------------------------------------------------- */

static struct dg_daemon_stats *stub_stats(const struct dg_stub *s)
{
	return s->res->stats->s;
}

static void tcp_idle_unlink(struct stub_tcp *t)
{
	struct stub_budget *b = &t->stub->budget[t->kind];

	if (!t->on_idle)
		return;
	if (t->idle_prev)
		t->idle_prev->idle_next = t->idle_next;
	else
		b->idle_head = t->idle_next;
	if (t->idle_next)
		t->idle_next->idle_prev = t->idle_prev;
	else
		b->idle_tail = t->idle_prev;
	t->idle_prev = t->idle_next = NULL;
	t->on_idle = false;
}

static void tcp_idle_push(struct stub_tcp *t)
{
	struct stub_budget *b = &t->stub->budget[t->kind];

	if (t->on_idle)
		return;
	t->idle_prev = b->idle_tail;
	t->idle_next = NULL;
	if (b->idle_tail)
		b->idle_tail->idle_next = t;
	else
		b->idle_head = t;
	b->idle_tail = t;
	t->on_idle = true;
}

static void tcp_out_free(struct stub_tcp *t)
{
	struct dg_stub *s = t->stub;
	struct stub_out *o;

	while ((o = t->out)) {
		t->out = o->next;
		free(o);
	}
	t->out_tail = NULL;
	t->out_off = 0;
	s->waiting -= t->waiting;
	dg_stat_sub(&stub_stats(s)->tcp_waiting_bytes, t->waiting);
	t->waiting = 0;
}

/* Close now; free once no answer is owed (the resolver still holds the
 * requests) and epoll can no longer name it. */
static void tcp_close(struct stub_tcp *t)
{
	struct dg_stub *s = t->stub;

	if (!t->dead) {
		t->dead = true;
		s->budget[t->kind].n--;
		if (t->all_prev)
			t->all_prev->all_next = t->all_next;
		else
			s->all = t->all_next;
		if (t->all_next)
			t->all_next->all_prev = t->all_prev;
		tcp_idle_unlink(t);
		tcp_out_free(t);
		dg_clients_conn_close(&s->res->clients, t->client);
		dg_stat_sub(&stub_stats(s)->tcp_conns, 1);
		dg_timer_cancel(s->loop, &t->timer);
		dg_io_del(s->loop, &t->io);
		close(t->fd);
	}
	if (!t->outstanding)
		dg_defer(s->loop, &t->work);
}

static bool tcp_can_read(const struct stub_tcp *t)
{
	return !t->dead && !t->eof && t->outstanding < DG_STUB_TCP_PIPELINE &&
	       t->waiting < DG_STUB_TCP_WAIT_PAUSE;
}

/*
 * After anything changed: close a finished half-closed connection, keep
 * the idle list (nothing in flight) and the timer right, and read the
 * connection only while it is under its caps. Frames already buffered
 * when reading resumes are served at the end of this loop turn.
 */
static void tcp_update(struct stub_tcp *t)
{
	struct dg_stub *s = t->stub;
	uint64_t when;
	bool rd;

	if (t->dead)
		return;
	if (t->eof && !t->outstanding && !t->waiting) {
		tcp_close(t);
		return;
	}
	if (t->outstanding)
		tcp_idle_unlink(t);
	else
		tcp_idle_push(t);
	/* Idle: nothing owed either way. Stalled: answers wait and the
	 * client takes none. Neither while only queries are in flight:
	 * the resolver answers those within its deadline. */
	if (t->waiting)
		when = t->progress + DG_STUB_TCP_STALL_MS * MS;
	else if (!t->outstanding)
		when = t->progress + DG_STUB_TCP_IDLE_MS * MS;
	else
		when = 0;
	if (!when)
		dg_timer_cancel(s->loop, &t->timer);
	else if (!dg_timer_armed(&t->timer) || t->timer.when != when)
		dg_timer_set(s->loop, &t->timer, when);

	rd = tcp_can_read(t);
	if (!rd && !t->paused && !t->eof) {
		t->paused = true;
		dg_stat_add(&stub_stats(s)->tcp_paused, 1);
	} else if (rd && t->paused) {
		t->paused = false;
		if (t->rlen >= 2)
			dg_defer(s->loop, &t->work);
	}
	dg_io_mod(s->loop, &t->io, (rd ? EPOLLIN : 0) | (t->waiting ? EPOLLOUT : 0));
}

/* Whether the client took bytes from the kernel's send buffer since the
 * last look: SIOCOUTQ is what it holds unsent. */
static bool tcp_kernel_drained(struct stub_tcp *t)
{
	int q;

	if (ioctl(t->fd, SIOCOUTQ, &q))
		return false;
	if (q == t->outq)
		return false;
	t->outq = q;
	return true;
}

/* The client took n bytes of what waited. */
static void tcp_consumed(struct stub_tcp *t, size_t n)
{
	struct dg_stub *s = t->stub;
	struct stub_out *o;
	size_t left = n, seg;

	while (left && (o = t->out)) {
		seg = o->len - t->out_off;
		if (left < seg) {
			t->out_off += left;
			break;
		}
		left -= seg;
		t->out = o->next;
		if (!t->out)
			t->out_tail = NULL;
		t->out_off = 0;
		free(o);
	}
	t->waiting -= n;
	s->waiting -= n;
	dg_stat_sub(&stub_stats(s)->tcp_waiting_bytes, n);
}

/* Send what waits, in order, until the socket is full. */
static void tcp_flush(struct stub_tcp *t)
{
	struct iovec iov[16];
	struct msghdr mh = { .msg_iov = iov };
	struct stub_out *o;
	size_t i;
	ssize_t n;

	while (!t->dead && t->out) {
		for (i = 0, o = t->out; o && i < 16; o = o->next, i++) {
			iov[i].iov_base = o->b + (i ? 0 : t->out_off);
			iov[i].iov_len = o->len - (i ? 0 : t->out_off);
		}
		mh.msg_iovlen = i;
		n = sendmsg(t->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				tcp_close(t);
			return;
		}
		t->progress = t->stub->loop->now;
		tcp_consumed(t, (size_t)n);
	}
}

/* One answer, length first, after those already waiting. Sent at once
 * when nothing waits; what the socket does not take waits, within the
 * connection's and the stub's caps. */
static void tcp_queue(struct stub_tcp *t, const uint8_t *msg, size_t len)
{
	struct dg_stub *s = t->stub;
	uint8_t pre[DG_DNS_TCP_PREFIX];
	struct iovec iov[2] = { { pre, sizeof(pre) }, { (void *)msg, len } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	size_t total = DG_DNS_TCP_PREFIX + len, done = 0, rest;
	struct stub_out *o;
	ssize_t n;

	dg_dns_tcp_prefix(pre, len);
	if (!t->out) {
		n = sendmsg(t->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			tcp_close(t);
			return;
		}
		if (n > 0) {
			done = (size_t)n;
			t->progress = s->loop->now;
		}
		if (done == total)
			return;
	}
	rest = total - done;
	/* Our buffer starts to fill: the kernel's is full; remember how
	 * full, to tell a stalled client from a slow one. */
	if (!t->waiting)
		tcp_kernel_drained(t);
	if (t->waiting + rest > DG_STUB_TCP_WAIT_MAX ||
	    s->waiting + rest > DG_STUB_TCP_WAIT_TOTAL) {
		log_verbose("stub: TCP client stopped reading (%zu bytes waiting): closed",
			    t->waiting);
		dg_stat_add(&stub_stats(s)->tcp_closed_backlog, 1);
		tcp_close(t);
		return;
	}
	o = malloc(sizeof(*o) + rest);
	if (!o) {
		tcp_close(t);
		return;
	}
	o->next = NULL;
	o->len = rest;
	if (done < 2) {
		memcpy(o->b, pre + done, 2 - done);
		memcpy(o->b + 2 - done, msg, len);
	} else {
		memcpy(o->b, msg + done - 2, rest);
	}
	if (t->out_tail)
		t->out_tail->next = o;
	else
		t->out = o;
	t->out_tail = o;
	t->waiting += rest;
	s->waiting += rest;
	dg_stat_add(&stub_stats(s)->tcp_waiting_bytes, rest);
}

static void tcp_reply(struct dg_req *r, const uint8_t *msg, size_t len)
{
	struct stub_tcp *t = r->owner;
	struct dg_stub *s = t->stub;

	free(r);
	t->outstanding--;
	if (t->dead) {
		if (!t->outstanding)
			dg_defer(s->loop, &t->work);
	} else if (!msg) {
		/* Nothing to answer it with (stub_dispatch counted it). */
		tcp_close(t);
	} else {
		tcp_queue(t, msg, len);
		tcp_update(t);
	}
	stub_unhold(s);
}

/* Serve the whole frames buffered, while the caps allow. */
static void tcp_frames(struct stub_tcp *t)
{
	struct dg_stub *s = t->stub;
	size_t off = 0, flen;
	struct dg_req *r;

	while (tcp_can_read(t) &&
	       (flen = dg_dns_tcp_frame(t->rbuf + off, t->rlen - off)) &&
	       flen <= t->rlen - off) {
		r = calloc(1, sizeof(*r));
		if (!r) {
			tcp_close(t);
			return;
		}
		r->reply = tcp_reply;
		r->owner = t;
		r->via = t->kind == STUB_STEERED ? "redirected tcp" : "tcp";
		memcpy(&r->peer, &t->peer, t->peer_len);
		r->peer_len = t->peer_len;
		r->limit = DG_DNS_MSG_MAX;
		r->start = s->loop->now;
		t->outstanding++;
		t->progress = s->loop->now;
		s->held++;
		tcp_idle_unlink(t);
		dg_stat_add(&stub_stats(s)->queries_tcp, 1);
		/* Non-local peers were turned away at accept (but steered
		 * ones). The reply may come back before this returns. */
		stub_dispatch(s, r, dg_dns_parse_query(t->rbuf + off + DG_DNS_TCP_PREFIX,
						       flen - DG_DNS_TCP_PREFIX, &r->q),
			      true);
		off += flen;
	}
	if (off) {
		memmove(t->rbuf, t->rbuf + off, t->rlen - off);
		t->rlen -= off;
	}
}

/* Read while the caps allow: a few reads per wakeup, then other
 * sockets get their turn (epoll reports this one again). */
static void tcp_read(struct stub_tcp *t)
{
	size_t want;
	uint8_t *nb;
	ssize_t n;
	int round;

	tcp_frames(t);
	for (round = 0; round < 8 && tcp_can_read(t); round++) {
		/* Grow to the frame being read, at most one whole message. */
		want = dg_dns_tcp_frame(t->rbuf, t->rlen);
		if (!want)
			want = DG_DNS_TCP_PREFIX + 512;
		if (want < t->rlen + 512)
			want = t->rlen + 512;
		if (want > 2 + DG_DNS_MSG_MAX + 512)
			want = 2 + DG_DNS_MSG_MAX + 512;
		if (t->rcap < want) {
			nb = realloc(t->rbuf, want);
			if (!nb) {
				tcp_close(t);
				return;
			}
			t->rbuf = nb;
			t->rcap = want;
		}
		n = recv(t->fd, t->rbuf + t->rlen, t->rcap - t->rlen, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			tcp_close(t);
			return;
		}
		if (!n) {
			/* Half-closed: answer what was asked, then close. */
			t->eof = true;
			return;
		}
		t->rlen += (size_t)n;
		tcp_frames(t);
	}
}

static void tcp_io(struct dg_loop *l, uint32_t events, void *arg)
{
	struct stub_tcp *t = arg;

	(void)l;
	/* Reset, or shut both ways: nothing can reach the client. */
	if (events & (EPOLLERR | EPOLLHUP)) {
		tcp_close(t);
		return;
	}
	if (events & EPOLLOUT)
		tcp_flush(t);
	if (events & EPOLLIN)
		tcp_read(t);
	tcp_update(t);
}

/* End of a loop turn: free a closed connection no answer is owed to, or
 * serve the frames buffered while reading was paused. */
static void tcp_work(struct dg_loop *l, struct dg_defer *d)
{
	struct stub_tcp *t = (struct stub_tcp *)((char *)d - offsetof(struct stub_tcp, work));

	(void)l;
	if (t->dead) {
		if (!t->outstanding) {
			free(t->rbuf);
			free(t);
		}
		return;
	}
	tcp_read(t);
	tcp_update(t);
}

static void tcp_timeout(struct dg_loop *l, struct dg_timer *tm)
{
	struct stub_tcp *t = (struct stub_tcp *)((char *)tm - offsetof(struct stub_tcp, timer));

	/* Stalled, as far as our buffer can tell; but a slow reader may
	 * still be draining the kernel's. */
	if (t->waiting && tcp_kernel_drained(t)) {
		t->progress = l->now;
		tcp_update(t);
		return;
	}
	if (t->waiting || !t->outstanding) {
		dg_stat_add(&stub_stats(t->stub)->tcp_closed_idle, 1);
		tcp_close(t);
	}
}

/* Close the connection idle longest in b (of client h only, unless 0)
 * for a newcomer. Returns whether there was one. */
static bool tcp_evict(struct dg_stub *s, struct stub_budget *b, int h)
{
	struct stub_tcp *t;
	int i;

	/* Walks one budget's idle list at most. */
	for (t = b->idle_head, i = 0; t && i < b->max; t = t->idle_next, i++) {
		if (h && t->client != h)
			continue;
		log_verbose("stub: idle TCP connection closed for a newcomer");
		dg_stat_add(&stub_stats(s)->tcp_evicted, 1);
		tcp_close(t);
		return true;
	}
	return false;
}

/* A connection accepted on ss: admit it within its kind's budget and its
 * client's share, closing idle ones for it, else close it at once. */
static void tcp_admit(struct stub_sock *ss, int fd, const struct sockaddr_storage *peer,
		      socklen_t plen)
{
	struct dg_stub *s = ss->stub;
	struct dg_loop *l = s->loop;
	int kind = ss->steered ? STUB_STEERED : STUB_LOCAL;
	struct stub_budget *b = &s->budget[kind];
	struct stub_tcp *t;
	int h;

	/* Steered connections were caught by the guard on this host or
	 * its LAN ports: serving them is the point. */
	if (!ss->steered && !peer_is_local(s, (const struct sockaddr *)peer)) {
		dg_stat_add(&stub_stats(s)->refused, 1);
		goto refuse;
	}
	h = dg_clients_get(&s->res->clients, (const struct sockaddr *)peer);
	if (h < 0)
		goto full;
	if (dg_clients_conns(&s->res->clients, h) >= DG_STUB_TCP_PER_CLIENT &&
	    !tcp_evict(s, b, h) && !tcp_evict(s, &s->budget[!kind], h))
		goto full;
	if (b->n >= b->max && !tcp_evict(s, b, 0))
		goto full;
	t = calloc(1, sizeof(*t));
	if (!t)
		goto full;
	t->stub = s;
	t->fd = fd;
	t->kind = kind;
	t->client = h;
	memcpy(&t->peer, peer, plen);
	t->peer_len = plen;
	t->progress = l->now;
	dg_timer_init(&t->timer, tcp_timeout);
	dg_defer_init(&t->work, tcp_work);
	if (dg_io_add(l, &t->io, fd, EPOLLIN, tcp_io, t)) {
		free(t);
		goto full;
	}
	b->n++;
	t->all_next = s->all;
	if (s->all)
		s->all->all_prev = t;
	s->all = t;
	dg_clients_conn_open(&s->res->clients, h);
	dg_stat_add(&stub_stats(s)->tcp_conns, 1);
	tcp_update(t);
	return;
full:
	log_verbose("stub: TCP connection refused: %s full of busy connections",
		    kind == STUB_STEERED ? "steered budget" : "local budget");
	dg_stat_add(&stub_stats(s)->tcp_refused, 1);
refuse:
	close(fd);
}

static void tcp_rested(struct dg_loop *l, struct dg_timer *tm)
{
	struct stub_sock *ss = (struct stub_sock *)((char *)tm - offsetof(struct stub_sock, rest));

	dg_io_mod(l, &ss->io, EPOLLIN);
}

static void tcp_accept(struct dg_loop *l, uint32_t events, void *arg)
{
	struct stub_sock *ss = arg;
	struct dg_stub *s = ss->stub;
	struct pollfd pfd = { .events = POLLIN };
	struct sockaddr_storage peer;
	socklen_t plen;
	int fd, i;

	(void)events;
	for (i = 0; i < 16; i++) {
		plen = sizeof(peer);
		fd = accept4(ss->fd, (struct sockaddr *)&peer, &plen,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			tcp_admit(ss, fd, &peer, plen);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno != EMFILE && errno != ENFILE && errno != ENOBUFS &&
		    errno != ENOMEM)
			return;
		/* Out of descriptors (Linux says so before it looks for a
		 * connection): is anyone waiting? */
		pfd.fd = ss->fd;
		if (poll(&pfd, 1, 0) != 1)
			return;
		/* One idle connection of this kind makes room. With none,
		 * the listener rests, or epoll would report it again at
		 * once, forever. */
		if (tcp_evict(s, &s->budget[ss->steered ? STUB_STEERED : STUB_LOCAL], 0))
			continue;
		log_verbose("stub: accept: %s: listener rests %d ms", strerror(errno),
			    DG_STUB_ACCEPT_REST_MS);
		dg_io_mod(l, &ss->io, 0);
		dg_timer_set(l, &ss->rest, l->now + DG_STUB_ACCEPT_REST_MS * MS);
		return;
	}
}

/* ---- set-up ---------------------------------------------------------- */

static int stub_listen(struct dg_stub *s, const struct dg_server *srv, bool tcp,
		       bool transparent)
{
	struct stub_sock *ss = &s->socks[s->n_socks];
	struct sockaddr_storage sa = {};
	struct sockaddr_in *sin = (struct sockaddr_in *)&sa;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&sa;
	uint16_t port = transparent ? 0 : srv->port ? srv->port : 53;
	char label[DG_UPSTREAM_NAME];
	socklen_t len;
	int one = 1, rcvbuf = UDP_RCVBUF, err;
	int sndbuf_tcp = DG_STUB_TCP_SNDBUF, rcvbuf_tcp = DG_STUB_TCP_RCVBUF;

	if (srv->family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr = srv->addr.v4;
		len = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = srv->addr.v6;
		len = sizeof(*sin6);
	}
	dg_server_str(srv, label, sizeof(label));
	ss->fd = socket(srv->family, (tcp ? SOCK_STREAM : SOCK_DGRAM) |
			SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ss->fd < 0)
		goto fail;
	setsockopt(ss->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* 127.0.0.53 needs no interface address on Linux (127/8 is local),
	 * but an extra address may not be up yet. */
	setsockopt(ss->fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	if (srv->family == AF_INET6)
		setsockopt(ss->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* Steered connections are to the server the client asked: the
	 * accepted socket must own that foreign address. */
	if (transparent &&
	    setsockopt(ss->fd, srv->family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
		       srv->family == AF_INET ? IP_TRANSPARENT : IPV6_TRANSPARENT,
		       &one, sizeof(one)))
		goto fail;
	/* Bursts of queries must wait in the socket, not be dropped by it:
	 * the kernel default (208 KiB) overflows at tens of thousands of
	 * queries per second. FORCE needs CAP_NET_ADMIN, which we have. */
	if (!tcp && setsockopt(ss->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(ss->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	/* Accepted connections inherit these: a client that does not read
	 * cannot make the kernel hold megabytes for it either. */
	if (tcp && (setsockopt(ss->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf_tcp, sizeof(sndbuf_tcp)) ||
		    setsockopt(ss->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf_tcp, sizeof(rcvbuf_tcp))))
		goto fail;
	if (bind(ss->fd, (struct sockaddr *)&sa, len) ||
	    (tcp && listen(ss->fd, 128)))
		goto fail;
	ss->stub = s;
	ss->tcp = tcp;
	ss->steered = transparent;
	dg_defer_init(&ss->flush, udp_flush);
	dg_timer_init(&ss->rest, tcp_rested);
	err = dg_io_add(s->loop, &ss->io, ss->fd, EPOLLIN,
			tcp ? tcp_accept : udp_read, ss);
	if (err) {
		errno = -err;
		goto fail;
	}
	s->n_socks++;
	log_debug("stub listening on %s/%s", label, tcp ? "tcp" : "udp");
	return 0;
fail:
	err = errno;
	log_error("stub %s/%s: %s%s", label, tcp ? "tcp" : "udp", strerror(err),
		  err == EADDRINUSE ? " (another resolver, like systemd-resolved, holds it: set DNSStubListener=no there)" : "");
	if (ss->fd >= 0)
		close(ss->fd);
	return -err;
}

/* Both TCP budgets full must not run the daemon out of descriptors
 * (1024 is a common default): take what the hard limit allows. */
static void stub_more_files(void)
{
	rlim_t want = DG_STUB_TCP_LOCAL_MAX + DG_STUB_TCP_STEERED_MAX + STUB_OTHER_FDS;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ?
		      rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur < want)
		log_warn("stub: RLIMIT_NOFILE allows %llu descriptors, the TCP budgets want %llu: raise LimitNOFILE=",
			 (unsigned long long)rl.rlim_cur, (unsigned long long)want);
}

struct dg_stub *dg_stub_new(struct dg_loop *l, struct dg_resolver *res,
			    const struct dg_config *cfg)
{
	struct dg_stub *s = calloc(1, sizeof(*s));
	struct dg_server main_srv = { .family = AF_INET, .port = 53 };
	bool udp = cfg->stub == DG_STUB_YES || cfg->stub == DG_STUB_UDP;
	bool tcp = cfg->stub == DG_STUB_YES || cfg->stub == DG_STUB_TCP;
	int i;

	if (!s)
		return NULL;
	s->loop = l;
	s->res = res;
	s->budget[STUB_LOCAL].max = DG_STUB_TCP_LOCAL_MAX;
	s->budget[STUB_STEERED].max = DG_STUB_TCP_STEERED_MAX;
	stub_more_files();
	stub_learn_local(s);
	inet_pton(AF_INET, DG_STUB_ADDR, &main_srv.addr.v4);
	if ((udp && stub_listen(s, &main_srv, false, false)) ||
	    (tcp && stub_listen(s, &main_srv, true, false)))
		goto fail;
	/* Extras are both UDP and TCP, as in resolved.conf. */
	for (i = 0; i < cfg->n_stub_extra; i++)
		if (stub_listen(s, &cfg->stub_extra[i], false, false) ||
		    stub_listen(s, &cfg->stub_extra[i], true, false))
			goto fail;
	return s;
fail:
	dg_stub_free(s);
	return NULL;
}

int dg_stub_listen_steered(struct dg_stub *s, int family)
{
	/* Any free loopback port: tc assigns connections to this socket
	 * directly, no lookup ever finds it by address. */
	struct dg_server srv = { .family = family, .port = 0 };
	int err;

	if (family == AF_INET)
		srv.addr.v4.s_addr = htonl(INADDR_LOOPBACK);
	else
		srv.addr.v6 = in6addr_loopback;
	if (s->n_socks == STUB_MAX_SOCKS)
		return -E2BIG;
	err = stub_listen(s, &srv, true, true);
	return err ? err : s->socks[s->n_socks - 1].fd;
}

void dg_stub_close_steered(struct dg_stub *s)
{
	struct stub_sock *ss;

	/* They come after the stub's own sockets, so popping them moves
	 * nothing epoll points at. */
	while (s->n_socks && s->socks[s->n_socks - 1].steered) {
		ss = &s->socks[--s->n_socks];
		dg_timer_cancel(s->loop, &ss->rest);
		dg_io_del(s->loop, &ss->io);
		close(ss->fd);
		log_debug("stub: transparent TCP/53 listener closed");
	}
}

void dg_stub_free(struct dg_stub *s)
{
	int i;

	if (!s)
		return;
	/* Connections whose answers are still owed are freed when the
	 * resolver lets go of their requests. */
	while (s->all)
		tcp_close(s->all);
	for (i = 0; i < s->n_socks; i++) {
		if (!s->socks[i].tcp)
			udp_flush(s->loop, &s->socks[i].flush);
		dg_timer_cancel(s->loop, &s->socks[i].rest);
		dg_io_del(s->loop, &s->socks[i].io);
		close(s->socks[i].fd);
	}
	s->closing = true;
	stub_maybe_free(s);
}
