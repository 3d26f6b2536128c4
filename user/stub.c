// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "log.h"
#include "stub.h"

#define MS (1000000ull)
#define UDP_BATCH 32
#define STUB_MAX_SOCKS (2 * (1 + DG_CFG_MAX_SERVERS) + 2)	/* + steered TCP */
#define LOCAL_MAX 64
#define UDP_RX_SIZE 4096	/* a UDP query never needs more */
#define UDP_RCVBUF (4 << 20)

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
};

struct stub_udp_req {
	struct dg_req r;
	struct stub_sock *sock;
	size_t len;
	uint8_t msg[DG_DNS_EDNS_SIZE];
};

struct stub_tcp {
	struct dg_stub *stub;
	int fd;
	struct dg_io io;
	uint8_t *rbuf;
	size_t rlen, rcap;
	uint8_t *wbuf;
	size_t wlen, wcap;
	int outstanding;	/* queries not yet answered */
	bool dead;
	bool steered;		/* caught by the guard (tc-steer), not a stub client */
	struct sockaddr_storage peer;
	socklen_t peer_len;
	struct dg_timer idle;
	struct dg_defer release;
};

struct dg_stub {
	struct dg_loop *loop;
	struct dg_resolver *res;
	struct stub_sock socks[STUB_MAX_SOCKS];
	int n_socks;
	int n_tcp;
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
	 * between two servers reflecting at each other. */
	if (rc < 0 || (r->q.flags & DG_DNS_QR)) {
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
}

static void udp_reply(struct dg_req *r, const uint8_t *msg, size_t len)
{
	struct stub_udp_req *u = (struct stub_udp_req *)r;
	struct stub_sock *ss = u->sock;

	if (!msg || len > sizeof(u->msg)) {
		free(u);
		return;
	}
	memcpy(u->msg, msg, len);
	u->len = len;
	if (ss->n_out == UDP_BATCH)
		udp_flush(ss->stub->loop, &ss->flush);
	ss->outq[ss->n_out++] = u;
	dg_defer(ss->stub->loop, &ss->flush);
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

static void tcp_release(struct dg_loop *l, struct dg_defer *d)
{
	struct stub_tcp *t = (struct stub_tcp *)((char *)d - offsetof(struct stub_tcp, release));

	(void)l;
	free(t->rbuf);
	free(t->wbuf);
	free(t);
}

/* Close now; free once no answer is owed (the resolver still holds the
 * requests) and epoll can no longer name it. */
static void tcp_close(struct stub_tcp *t)
{
	struct dg_stub *s = t->stub;

	if (!t->dead) {
		t->dead = true;
		s->n_tcp--;
		dg_timer_cancel(s->loop, &t->idle);
		dg_io_del(s->loop, &t->io);
		close(t->fd);
	}
	if (!t->outstanding)
		dg_defer(s->loop, &t->release);
}

static void tcp_write(struct stub_tcp *t)
{
	ssize_t n;

	while (t->wlen) {
		n = send(t->fd, t->wbuf, t->wlen, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN) {
				tcp_close(t);
				return;
			}
			break;
		}
		memmove(t->wbuf, t->wbuf + n, t->wlen - n);
		t->wlen -= n;
	}
	dg_io_mod(t->stub->loop, &t->io, t->wlen ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

static void tcp_reply(struct dg_req *r, const uint8_t *msg, size_t len)
{
	struct stub_tcp *t = r->owner;
	size_t need;
	uint8_t *nb;

	free(r);
	t->outstanding--;
	if (t->dead || !msg) {
		if (t->dead && !t->outstanding)
			dg_defer(t->stub->loop, &t->release);
		if (!t->dead && !msg)
			tcp_close(t);
		return;
	}
	need = t->wlen + 2 + len;
	if (need > t->wcap) {
		nb = realloc(t->wbuf, need);
		if (!nb) {
			tcp_close(t);
			return;
		}
		t->wbuf = nb;
		t->wcap = need;
	}
	t->wbuf[t->wlen] = (uint8_t)(len >> 8);
	t->wbuf[t->wlen + 1] = (uint8_t)len;
	memcpy(t->wbuf + t->wlen + 2, msg, len);
	t->wlen += 2 + len;
	tcp_write(t);
	if (!t->dead && !t->outstanding)
		dg_timer_set(t->stub->loop, &t->idle,
			     t->stub->loop->now + DG_STUB_TCP_IDLE_MS * MS);
}

static void tcp_frames(struct stub_tcp *t)
{
	struct dg_stub *s = t->stub;
	size_t off = 0, flen;
	struct dg_req *r;

	/* Non-local peers were turned away at accept (but steered ones). */
	while (!t->dead && t->rlen - off >= 2) {
		flen = (size_t)t->rbuf[off] << 8 | t->rbuf[off + 1];
		if (t->rlen - off - 2 < flen)
			break;
		r = calloc(1, sizeof(*r));
		if (!r) {
			tcp_close(t);
			return;
		}
		r->reply = tcp_reply;
		r->owner = t;
		r->via = t->steered ? "redirected tcp" : "tcp";
		memcpy(&r->peer, &t->peer, t->peer_len);
		r->peer_len = t->peer_len;
		r->limit = DG_DNS_MSG_MAX;
		r->start = s->loop->now;
		t->outstanding++;
		dg_timer_cancel(s->loop, &t->idle);
		dg_stat_add(&s->res->stats->s->queries_tcp, 1);
		stub_dispatch(s, r, dg_dns_parse_query(t->rbuf + off + 2, flen, &r->q),
			      true);
		off += 2 + flen;
	}
	memmove(t->rbuf, t->rbuf + off, t->rlen - off);
	t->rlen -= off;
}

static void tcp_io(struct dg_loop *l, uint32_t events, void *arg)
{
	struct stub_tcp *t = arg;
	size_t want;
	uint8_t *nb;
	ssize_t n;

	(void)l;
	if (events & EPOLLOUT)
		tcp_write(t);
	if (t->dead || !(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	for (;;) {
		/* Grow to the frame being read, at most one whole message. */
		want = t->rlen >= 2 ? 2 + ((size_t)t->rbuf[0] << 8 | t->rbuf[1]) : 514;
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
		if (n <= 0) {
			tcp_close(t);
			return;
		}
		t->rlen += n;
		tcp_frames(t);
		if (t->dead)
			return;
	}
}

static void tcp_idle(struct dg_loop *l, struct dg_timer *tm)
{
	struct stub_tcp *t = (struct stub_tcp *)((char *)tm - offsetof(struct stub_tcp, idle));

	(void)l;
	if (!t->outstanding)
		tcp_close(t);
}

static void tcp_accept(struct dg_loop *l, uint32_t events, void *arg)
{
	struct stub_sock *ss = arg;
	struct dg_stub *s = ss->stub;
	struct sockaddr_storage peer;
	socklen_t plen;
	struct stub_tcp *t;
	bool local;
	int fd, i;

	(void)events;
	for (i = 0; i < 16; i++) {
		plen = sizeof(peer);
		fd = accept4(ss->fd, (struct sockaddr *)&peer, &plen,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		/* Non-local or one too many: closed at once, never served.
		 * Steered connections were caught by the guard on this host
		 * or its LAN ports: serving them is the point. */
		local = ss->steered || peer_is_local(s, (struct sockaddr *)&peer);
		if (!local || s->n_tcp >= DG_STUB_TCP_MAX || !(t = calloc(1, sizeof(*t)))) {
			if (!local)
				dg_stat_add(&s->res->stats->s->refused, 1);
			close(fd);
			continue;
		}
		t->stub = s;
		t->fd = fd;
		t->steered = ss->steered;
		memcpy(&t->peer, &peer, plen);
		t->peer_len = plen;
		dg_timer_init(&t->idle, tcp_idle);
		dg_defer_init(&t->release, tcp_release);
		if (dg_io_add(l, &t->io, fd, EPOLLIN, tcp_io, t)) {
			close(fd);
			free(t);
			continue;
		}
		s->n_tcp++;
		dg_timer_set(l, &t->idle, l->now + DG_STUB_TCP_IDLE_MS * MS);
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
	if (bind(ss->fd, (struct sockaddr *)&sa, len) ||
	    (tcp && listen(ss->fd, 128)))
		goto fail;
	ss->stub = s;
	ss->tcp = tcp;
	ss->steered = transparent;
	dg_defer_init(&ss->flush, udp_flush);
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
	for (i = 0; i < s->n_socks; i++) {
		if (!s->socks[i].tcp)
			udp_flush(s->loop, &s->socks[i].flush);
		dg_io_del(s->loop, &s->socks[i].io);
		close(s->socks[i].fd);
	}
	free(s);
}
