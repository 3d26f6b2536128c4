// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/stub.c's TCP side, driven through a real dg_loop
 * and real loopback sockets, with a fake upstream behind the resolver's
 * forward seam: what one connection may make the daemon hold, what a
 * crowd of idle connections does to newcomers, and bad frames.
 *
 * The stub listens on a loopback address of this process's own
 * (127.x.y.z from the PID) so parallel runs never meet; clients pick
 * their source address to play several clients.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "stub.h"

#define MS 1000000ull
#define MAX_CONNS (DG_STUB_TCP_LOCAL_MAX + DG_STUB_TCP_STEERED_MAX + 64)

/* ---- a fake upstream ------------------------------------------------- */

struct fwd {
	struct dg_dns_query q;
	dg_pool_done_fn done;
	void *arg;
};

static struct {
	bool hold;		/* keep queries until up_answer() */
	size_t answer_size;	/* bytes of TXT data per answer */
	struct fwd *q;
	int n, cap;
	struct dg_defer answer_all;
} up;

/* The answer to q: TXT records carrying about size bytes. */
static int up_build(const struct dg_dns_query *q, size_t size, uint8_t *out, size_t cap)
{
	size_t off = 0, n = (size + 255) / 256, i;

	assert_true(DG_DNS_HDR_LEN + q->q.name_len + 4 + n * (12 + 256) <= cap);
	out[0] = (uint8_t)(q->id >> 8);
	out[1] = (uint8_t)q->id;
	out[2] = 0x81;		/* QR, RD */
	out[3] = 0x80;		/* RA, NOERROR */
	out[4] = 0;
	out[5] = 1;
	out[6] = (uint8_t)(n >> 8);
	out[7] = (uint8_t)n;
	memset(out + 8, 0, 4);
	off = DG_DNS_HDR_LEN;
	memcpy(out + off, q->q.name, q->q.name_len);
	off += q->q.name_len;
	out[off++] = (uint8_t)(q->q.qtype >> 8);
	out[off++] = (uint8_t)q->q.qtype;
	out[off++] = 0;
	out[off++] = 1;
	for (i = 0; i < n; i++) {
		static const uint8_t rr[] = { 0xc0, 0x0c, 0, 16, 0, 1, 0, 0, 0, 60, 1, 0 };

		memcpy(out + off, rr, sizeof(rr));
		off += sizeof(rr);
		out[off++] = 255;
		memset(out + off, 'x', 255);
		off += 255;
	}
	return (int)off;
}

static void up_answer(int i)
{
	static uint8_t msg[DG_DNS_MSG_MAX];
	struct dg_dns_resp_info ri;
	struct fwd f = up.q[i];
	int len;

	up.q[i] = up.q[--up.n];
	len = up_build(&f.q, up.answer_size, msg, sizeof(msg));
	assert_int_equal(dg_dns_parse_response(msg, (size_t)len, &ri), 0);
	f.done(f.arg, msg, (size_t)len, &ri, "fake#test", 10);
}

static void up_answer_all(struct dg_loop *l, struct dg_defer *d)
{
	(void)l;
	(void)d;
	while (up.n)
		up_answer(up.n - 1);
}

static void up_forward(struct dg_resolver *r, const struct dg_dns_query *q,
		       dg_pool_done_fn done, void *arg)
{
	struct fwd *nq;

	if (up.n == up.cap) {
		up.cap = up.cap ? 2 * up.cap : 1024;
		nq = realloc(up.q, (size_t)up.cap * sizeof(*nq));
		assert_non_null(nq);
		up.q = nq;
	}
	up.q[up.n].q = *q;
	up.q[up.n].done = done;
	up.q[up.n].arg = arg;
	up.n++;
	/* Never from inside the call: at the end of this loop turn. */
	if (!up.hold)
		dg_defer(r->loop, &up.answer_all);
}

/* ---- the daemon side ------------------------------------------------- */

static struct dg_loop loop;
static struct dg_config cfg;
static struct dg_stats stats;
static struct dg_resolver *res;
static struct dg_stub *stub;
static struct sockaddr_in stub_addr;	/* where the stub listens */
static struct sockaddr_in steer_addr;	/* the transparent listener, if any */
static struct dg_daemon_stats *st;

static bool (*until_fn)(void);
static uint64_t until_end;
static bool until_met;
static struct dg_timer tick;

static void on_tick(struct dg_loop *l, struct dg_timer *t)
{
	if (until_fn && until_fn()) {
		until_met = true;
		dg_loop_stop(l);
	} else if (l->now >= until_end) {
		dg_loop_stop(l);
	} else {
		dg_timer_set(l, t, l->now + MS);
	}
}

/* Run the daemon's loop until fn says yes (checked every ms) or ms pass.
 * Returns whether fn said yes. */
static bool run_until(bool (*fn)(void), unsigned int ms)
{
	loop.stop = false;
	until_fn = fn;
	until_met = false;
	until_end = dg_now_ns() + ms * MS;
	dg_timer_set(&loop, &tick, dg_now_ns());
	assert_int_equal(dg_loop_run(&loop), 0);
	dg_timer_cancel(&loop, &tick);
	return until_met;
}

static void run_for(unsigned int ms)
{
	run_until(NULL, ms);
}

/* Let ms of timer time pass at once: every timer armed comes closer. */
static void fast_forward(unsigned int ms)
{
	uint64_t d = ms * MS;
	int i;

	for (i = 0; i < loop.n_timers; i++)
		loop.heap[i]->when = loop.heap[i]->when > d ? loop.heap[i]->when - d : 0;
}

static int setup(void **state)
{
	pid_t pid = getpid();
	socklen_t len = sizeof(stub_addr);
	struct rlimit rl;
	int fd;

	(void)state;
	/* Both budgets full, from both ends, in this one process. */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < 4 * MAX_CONNS) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 4 * MAX_CONNS ?
			      4 * MAX_CONNS : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (dg_loop_init(&loop) || dg_stats_open(&stats, NULL))
		return -1;
	st = stats.s;
	dg_timer_init(&tick, on_tick);
	memset(&up, 0, sizeof(up));
	dg_defer_init(&up.answer_all, up_answer_all);
	up.answer_size = 100;

	dg_config_defaults(&cfg);
	cfg.cache = DG_CACHE_NO;
	cfg.stub = DG_STUB_NO;
	cfg.n_stub_extra = 1;
	cfg.stub_extra[0].family = AF_INET;
	/* 127.64-127.x.y: this PID's own; a free port on it. */
	cfg.stub_extra[0].addr.v4.s_addr =
		htonl(0x7f400000u | ((uint32_t)pid & 0x3fffff));
	memset(&stub_addr, 0, sizeof(stub_addr));
	stub_addr.sin_family = AF_INET;
	stub_addr.sin_addr = cfg.stub_extra[0].addr.v4;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&stub_addr, sizeof(stub_addr)) ||
	    getsockname(fd, (struct sockaddr *)&stub_addr, &len))
		return -1;
	close(fd);
	cfg.stub_extra[0].port = ntohs(stub_addr.sin_port);

	res = calloc(1, sizeof(*res));
	if (!res)
		return -1;
	res->loop = &loop;
	res->cfg = &cfg;
	res->stats = &stats;
	res->forward = up_forward;
	stub = dg_stub_new(&loop, res, &cfg);
	return stub ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	dg_stub_free(stub);
	/* What the fake upstream still holds is answered: every request
	 * gets its one reply, and the stub's memory goes with the last. */
	up_answer_all(&loop, NULL);
	free(up.q);
	free(res);
	dg_stats_close(&stats);
	dg_loop_fini(&loop);
	return 0;
}

/* The transparent listener for steered connections, or skip (it needs
 * CAP_NET_ADMIN for IP_TRANSPARENT). */
static bool steer_listen(void)
{
	socklen_t len = sizeof(steer_addr);
	int fd = dg_stub_listen_steered(stub, AF_INET);

	if (fd == -EPERM)
		return false;
	assert_true(fd >= 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&steer_addr, &len), 0);
	return true;
}

/* ---- clients --------------------------------------------------------- */

#define CLIENT_BUF (2 + DG_DNS_MSG_MAX + 4096)

struct client {
	int fd;
	uint8_t *buf;		/* CLIENT_BUF, made on the first read */
	size_t len;
	int answers;
	uint8_t rcode;		/* of the last answer */
	bool eof;
};

static struct client *cl;
static int n_cl;

static struct client *client_new(void)
{
	struct client *c;

	if (!cl)
		cl = calloc(MAX_CONNS, sizeof(*cl));
	assert_non_null(cl);
	assert_true(n_cl < MAX_CONNS);
	c = &cl[n_cl++];
	memset(c, 0, sizeof(*c));
	return c;
}

static int clients_teardown(void **state)
{
	int i;

	for (i = 0; i < n_cl; i++) {
		if (cl[i].fd > 0)
			close(cl[i].fd);
		free(cl[i].buf);
	}
	free(cl);
	cl = NULL;
	n_cl = 0;
	return teardown(state);
}

/* A socket bound to src (a 127/8 address), not connected yet. */
static struct client *client_socket(const char *src)
{
	struct client *c = client_new();
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int one = 1;

	assert_int_equal(inet_pton(AF_INET, src, &sa.sin_addr), 1);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(c->fd > 0);
	setsockopt(c->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return c;
}

static void client_start(struct client *c, const struct sockaddr_in *to)
{
	assert_true(!connect(c->fd, (const struct sockaddr *)to, sizeof(*to)) ||
		    errno == EINPROGRESS);
}

/* A connection from src to to; not waited for. */
static struct client *client_connect(const char *src, const struct sockaddr_in *to)
{
	struct client *c = client_socket(src);

	client_start(c, to);
	return c;
}

static int want_conns;
static uint64_t want_accepted;

static bool conns_reached(void)
{
	return st->tcp_conns == (uint64_t)want_conns;
}

/* Connections the stub took in: open now, or closed for a newcomer,
 * or closed at once. */
static uint64_t accepted(void)
{
	return st->tcp_conns + st->tcp_evicted + st->tcp_refused;
}

static bool accepted_reached(void)
{
	return accepted() == want_accepted;
}

/* n connections from srcs in turn, each accepted before this returns:
 * batches small enough for the listen backlog. */
static struct client *connect_many(int n, const char *const *srcs, int n_srcs,
				   const struct sockaddr_in *to)
{
	struct client *first = NULL, *c;
	int i;

	for (i = 0; i < n; i++) {
		if (i % 32 == 0)
			want_accepted = accepted();
		c = client_connect(srcs[i % n_srcs], to);
		want_accepted++;
		if (!first)
			first = c;
		if (i % 32 == 31 || i == n - 1)
			assert_true(run_until(accepted_reached, 5000));
	}
	return first;
}

/* One query frame: ID id, name, TXT. */
static size_t query_frame(uint8_t *out, uint16_t id, const char *name)
{
	struct dg_dns_query q;
	uint8_t f[600];
	int n;

	memset(&q, 0, sizeof(q));
	q.id = id;
	q.flags = DG_DNS_RD;
	n = dg_dns_name_from_text(name, q.q.name, sizeof(q.q.name));
	assert_true(n > 0);
	q.q.name_len = (uint8_t)n;
	q.q.qtype = DG_TYPE_TXT;
	q.q.qclass = DG_CLASS_IN;
	n = dg_dns_build_query(f + 2, sizeof(f) - 2, id, &q, false, 0);
	assert_true(n > 0);
	f[0] = (uint8_t)(n >> 8);
	f[1] = (uint8_t)n;
	memcpy(out, f, (size_t)n + 2);
	return (size_t)n + 2;
}

static void client_send(struct client *c, const void *p, size_t len)
{
	assert_int_equal(send(c->fd, p, len, MSG_NOSIGNAL), (ssize_t)len);
}

static void client_query(struct client *c, uint16_t id)
{
	uint8_t f[600];

	client_send(c, f, query_frame(f, id, "q.test"));
}

/* Read what the stub sent; count whole answers. seen (may be NULL) marks
 * each answer's ID. */
static void client_read(struct client *c, uint8_t *seen)
{
	size_t off, n;
	ssize_t r;

	if (!c->buf)
		c->buf = malloc(CLIENT_BUF);
	assert_non_null(c->buf);
	for (;;) {
		r = recv(c->fd, c->buf + c->len, CLIENT_BUF - c->len, MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN)) {
			c->eof = true;
			return;
		}
		if (r < 0)
			return;
		c->len += (size_t)r;
		for (off = 0; c->len - off >= 2; off += 2 + n) {
			n = (size_t)c->buf[off] << 8 | c->buf[off + 1];
			if (c->len - off - 2 < n)
				break;
			assert_true(n >= DG_DNS_HDR_LEN);
			c->answers++;
			c->rcode = c->buf[off + 5] & 0xf;
			if (seen)
				seen[c->buf[off + 2] << 8 | c->buf[off + 3]]++;
		}
		memmove(c->buf, c->buf + off, c->len - off);
		c->len -= off;
	}
}

/* Whether the stub closed c (reads and drops anything waiting). */
static bool client_closed(struct client *c)
{
	if (!c->eof)
		client_read(c, NULL);
	return c->eof;
}

static struct client *probe;

static bool probe_eof(void)
{
	client_read(probe, NULL);
	return probe->eof;
}

static bool probe_answered(void)
{
	client_read(probe, NULL);
	return probe->answers > 0 || probe->eof;
}

/* ---- one connection's bounds ----------------------------------------- */

#define PIPELINED 20000

static struct client *hog;
static uint8_t hog_out[PIPELINED * 64];
static size_t hog_len, hog_sent;
static uint64_t hog_last_read;
static uint64_t hog_quiet_since;
static uint8_t *hog_seen;

/* Write what the socket takes of the pipelined queries. */
static void hog_push(void)
{
	ssize_t n;

	while (hog_sent < hog_len) {
		n = send(hog->fd, hog_out + hog_sent, hog_len - hog_sent,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n <= 0)
			return;
		hog_sent += (size_t)n;
	}
}

/* The stub has read no query of the hog's for 300 ms, with answers
 * backed up: it is held. */
static bool hog_held(void)
{
	hog_push();
	if (st->queries_tcp != hog_last_read) {
		hog_last_read = st->queries_tcp;
		hog_quiet_since = dg_now_ns();
	}
	return dg_now_ns() - hog_quiet_since > 300 * MS &&
	       st->tcp_waiting_bytes >= DG_STUB_TCP_WAIT_PAUSE;
}

static bool hog_all_answered(void)
{
	hog_push();
	client_read(hog, hog_seen);
	return hog->answers == PIPELINED || hog->eof;
}

/* Test that a client pipelining 20,000 queries for 4 KB answers and
 * reading nothing is not read further once its answers back up: the
 * stub holds at most DG_STUB_TCP_WAIT_MAX bytes for it (not the 80 MB
 * it asked for), stops reading (counted), and keeps the connection; when
 * the client reads, every answer arrives, one per ID, and nothing is
 * left waiting. */
static void test_pipeline_held_not_buffered(void **state)
{
	int i;

	(void)state;
	up.answer_size = 4000;
	hog = client_connect("127.0.0.1", &stub_addr);
	for (i = 0; i < PIPELINED; i++)
		hog_len += query_frame(hog_out + hog_len, (uint16_t)i, "big.test");
	hog_last_read = st->queries_tcp;
	hog_quiet_since = dg_now_ns();
	assert_true(run_until(hog_held, 20000));

	assert_true(st->queries_tcp < PIPELINED / 2);
	assert_true(st->tcp_paused >= 1);
	assert_true(st->tcp_waiting_bytes <= DG_STUB_TCP_WAIT_MAX);
	assert_true(st->tcp_waiting_bytes >= DG_STUB_TCP_WAIT_PAUSE);
	assert_int_equal(st->tcp_closed_backlog, 0);
	assert_int_equal(st->tcp_conns, 1);

	hog_seen = calloc(65536, 1);
	assert_non_null(hog_seen);
	assert_true(run_until(hog_all_answered, 60000));
	assert_false(hog->eof);
	assert_int_equal(hog->answers, PIPELINED);
	for (i = 0; i < PIPELINED; i++)
		assert_int_equal(hog_seen[i], 1);
	free(hog_seen);
	assert_int_equal(st->queries_tcp, PIPELINED);
	assert_int_equal(st->tcp_waiting_bytes, 0);
	assert_int_equal(st->tcp_closed_backlog, 0);
}

static bool up_has_pipeline(void)
{
	return up.n == DG_STUB_TCP_PIPELINE;
}

static bool probe_has(int n)
{
	client_read(probe, NULL);
	return probe->answers >= n || probe->eof;
}

static bool probe_has_1(void)
{
	return probe_has(1);
}

static bool probe_has_100(void)
{
	return probe_has(100);
}

/* Test that one connection has at most DG_STUB_TCP_PIPELINE queries in
 * flight: of 100 pipelined, that many reach the upstream and the rest
 * wait in the socket; one answer lets one more in; in the end all 100
 * are answered. */
static void test_pipeline_cap(void **state)
{
	uint8_t f[100 * 64];
	size_t len = 0;
	int i;

	(void)state;
	up.hold = true;
	probe = client_connect("127.0.0.1", &stub_addr);
	for (i = 0; i < 100; i++)
		len += query_frame(f + len, (uint16_t)i, "slow.test");
	client_send(probe, f, len);
	assert_true(run_until(up_has_pipeline, 5000));
	run_for(100);
	assert_int_equal(up.n, DG_STUB_TCP_PIPELINE);
	assert_int_equal(st->queries_tcp, DG_STUB_TCP_PIPELINE);
	assert_int_equal(st->tcp_paused, 1);

	up_answer(0);
	assert_true(run_until(probe_has_1, 5000));
	run_for(100);
	assert_int_equal(st->queries_tcp, DG_STUB_TCP_PIPELINE + 1);
	assert_int_equal(up.n, DG_STUB_TCP_PIPELINE);

	up.hold = false;
	dg_defer(&loop, &up.answer_all);
	assert_true(run_until(probe_has_100, 5000));
	assert_int_equal(probe->answers, 100);
	assert_false(probe->eof);
}

static bool backlog_closed(void)
{
	return st->tcp_closed_backlog > 0;
}

/* Test that a client whose answers are large and who reads none is
 * closed (counted) once they would pass DG_STUB_TCP_WAIT_MAX, and that
 * nothing is left waiting for it afterwards. */
static void test_backlog_cap_closes(void **state)
{
	uint8_t f[DG_STUB_TCP_PIPELINE * 64];
	size_t len = 0;
	int i;

	(void)state;
	up.answer_size = 60000;
	probe = client_connect("127.0.0.1", &stub_addr);
	for (i = 0; i < DG_STUB_TCP_PIPELINE; i++)
		len += query_frame(f + len, (uint16_t)i, "huge.test");
	client_send(probe, f, len);
	assert_true(run_until(backlog_closed, 5000));
	assert_int_equal(st->tcp_closed_backlog, 1);
	assert_int_equal(st->tcp_conns, 0);
	assert_int_equal(st->tcp_waiting_bytes, 0);
	assert_true(run_until(probe_eof, 5000));
}

static uint64_t settle_last, settle_since;

/* The bytes waiting have not changed for 300 ms. */
static bool backlogs_settled(void)
{
	if (st->tcp_waiting_bytes != settle_last) {
		settle_last = st->tcp_waiting_bytes;
		settle_since = dg_now_ns();
	}
	return dg_now_ns() - settle_since > 300 * MS;
}

static void settle(void)
{
	settle_last = st->tcp_waiting_bytes;
	settle_since = dg_now_ns();
	assert_true(run_until(backlogs_settled, 20000));
}

/* Test that many clients not reading cannot make the stub hold more than
 * DG_STUB_TCP_WAIT_TOTAL for all of them, though each stays under its
 * own cap: connections whose answers would pass it are closed (counted),
 * and the others kept. */
static void test_backlog_total_cap(void **state)
{
	static const char *const srcs[] = { "127.0.5.1", "127.0.5.2", "127.0.5.3" };
	uint8_t f[20 * 64];
	struct client *many;
	int small = 4096, i, n = 96;
	size_t len = 0;

	(void)state;
	/* Twenty: 840 KB, under one connection's cap with what the
	 * kernel takes. */
	up.answer_size = 40000;
	for (i = 0; i < 20; i++)
		len += query_frame(f + len, (uint16_t)i, "huge.test");
	many = connect_many(n, srcs, 3, &stub_addr);
	for (i = 0; i < n; i++) {
		setsockopt(many[i].fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
		client_send(&many[i], f, len);
	}
	settle();
	assert_true(st->tcp_waiting_bytes <= DG_STUB_TCP_WAIT_TOTAL);
	assert_true(st->tcp_waiting_bytes > DG_STUB_TCP_WAIT_TOTAL - DG_STUB_TCP_WAIT_MAX);
	assert_true(st->tcp_closed_backlog >= 1);
	assert_int_equal(st->tcp_conns + st->tcp_closed_backlog, (uint64_t)n);
}

/* ---- a crowd of connections ------------------------------------------ */

static const char *const crowd[] = {
	"127.0.1.1", "127.0.1.2", "127.0.1.3", "127.0.1.4",
	"127.0.1.5", "127.0.1.6", "127.0.1.7", "127.0.1.8",
};

_Static_assert(DG_STUB_TCP_LOCAL_MAX <= 8 * DG_STUB_TCP_PER_CLIENT,
	       "the crowd's addresses can fill the local budget");

static int count_closed(struct client *c, int n)
{
	int i, k = 0;

	for (i = 0; i < n; i++)
		k += client_closed(&c[i]);
	return k;
}

/* Test that with the local budget full of idle connections a newcomer
 * is answered at once, and the one connection closed for it is the one
 * idle longest; when every connection has a query in flight, the
 * newcomer is closed at once instead (counted) and no busy one is. */
static void test_budget_full_evicts_idle_longest(void **state)
{
	struct client *c;
	int i;

	(void)state;
	c = connect_many(DG_STUB_TCP_LOCAL_MAX, crowd, 8, &stub_addr);
	assert_int_equal(st->tcp_conns, DG_STUB_TCP_LOCAL_MAX);
	run_for(50);
	assert_int_equal(count_closed(c, DG_STUB_TCP_LOCAL_MAX), 0);

	probe = client_connect("127.0.0.1", &stub_addr);
	client_query(probe, 7);
	assert_true(run_until(probe_answered, 5000));
	assert_int_equal(probe->answers, 1);
	assert_int_equal(probe->rcode, DG_RCODE_NOERROR);
	assert_true(client_closed(&c[0]));
	assert_int_equal(count_closed(c, DG_STUB_TCP_LOCAL_MAX), 1);
	assert_int_equal(st->tcp_evicted, 1);
	assert_int_equal(st->tcp_refused, 0);

	/* Everyone busy: the upstream holds one query of each. */
	up.hold = true;
	for (i = 1; i < DG_STUB_TCP_LOCAL_MAX; i++)
		client_query(&c[i], (uint16_t)i);
	client_query(probe, 8);
	for (i = 0; i < 500 && up.n < DG_STUB_TCP_LOCAL_MAX; i++)
		run_for(10);
	assert_int_equal(up.n, DG_STUB_TCP_LOCAL_MAX);

	c = client_connect("127.0.0.1", &stub_addr);
	client_query(c, 9);
	probe = c;
	assert_true(run_until(probe_answered, 5000));
	assert_true(probe->eof);
	assert_int_equal(probe->answers, 0);
	assert_int_equal(st->tcp_refused, 1);
	assert_int_equal(st->tcp_evicted, 1);
	assert_int_equal(count_closed(cl, DG_STUB_TCP_LOCAL_MAX + 1), 1);
}

/* Test that one client address holds at most DG_STUB_TCP_PER_CLIENT
 * connections: its newcomers close its own oldest idle ones, never
 * another address's, and a second address is not affected. */
static void test_per_client_share(void **state)
{
	static const char *const a[] = { "127.0.2.1" }, *const b[] = { "127.0.2.2" };
	struct client *ca, *cb;
	int extra = 6, i;

	(void)state;
	cb = connect_many(10, b, 1, &stub_addr);
	ca = connect_many(DG_STUB_TCP_PER_CLIENT + extra, a, 1, &stub_addr);
	run_for(50);
	assert_int_equal(st->tcp_conns, DG_STUB_TCP_PER_CLIENT + 10);
	for (i = 0; i < extra; i++)
		assert_true(client_closed(&ca[i]));
	assert_int_equal(count_closed(ca, DG_STUB_TCP_PER_CLIENT + extra), extra);
	assert_int_equal(count_closed(cb, 10), 0);
	assert_int_equal(st->tcp_evicted, (uint64_t)extra);

	/* All of a's busy: its next one is closed at once; b still gets in. */
	up.hold = true;
	for (i = extra; i < DG_STUB_TCP_PER_CLIENT + extra; i++)
		client_query(&ca[i], (uint16_t)i);
	for (i = 0; i < 500 && up.n < DG_STUB_TCP_PER_CLIENT; i++)
		run_for(10);
	assert_int_equal(up.n, DG_STUB_TCP_PER_CLIENT);
	probe = client_connect("127.0.2.1", &stub_addr);
	assert_true(run_until(probe_answered, 5000));
	assert_true(probe->eof);
	assert_int_equal(st->tcp_refused, 1);
	probe = client_connect("127.0.2.2", &stub_addr);
	client_query(probe, 1);
	up.hold = false;
	assert_true(run_until(probe_answered, 5000));
	assert_int_equal(probe->answers, 1);
	assert_int_equal(count_closed(cb, 10), 0);
}

/* Test that local and steered clients have budgets of their own: with
 * the local budget full of idle connections, steered ones fill theirs
 * without closing a local one, and a steered newcomer past its budget
 * closes a steered connection, not a local one. */
static void test_kinds_separate(void **state)
{
	static const char *const steered[] = {
		"127.0.3.1", "127.0.3.2", "127.0.3.3", "127.0.3.4",
		"127.0.3.5", "127.0.3.6", "127.0.3.7", "127.0.3.8",
	};
	struct client *loc, *str;

	(void)state;
	if (!steer_listen())
		skip();
	loc = connect_many(DG_STUB_TCP_LOCAL_MAX, crowd, 8, &stub_addr);
	str = connect_many(DG_STUB_TCP_STEERED_MAX, steered, 8, &steer_addr);
	assert_int_equal(st->tcp_conns, DG_STUB_TCP_LOCAL_MAX + DG_STUB_TCP_STEERED_MAX);
	run_for(50);
	assert_int_equal(count_closed(loc, DG_STUB_TCP_LOCAL_MAX), 0);
	assert_int_equal(count_closed(str, DG_STUB_TCP_STEERED_MAX), 0);

	probe = client_connect("127.0.0.1", &steer_addr);
	client_query(probe, 3);
	assert_true(run_until(probe_answered, 5000));
	assert_int_equal(probe->answers, 1);
	assert_int_equal(count_closed(loc, DG_STUB_TCP_LOCAL_MAX), 0);
	assert_int_equal(count_closed(str, DG_STUB_TCP_STEERED_MAX), 1);
	assert_true(client_closed(&str[0]));

	probe = client_connect("127.0.0.1", &stub_addr);
	client_query(probe, 4);
	assert_true(run_until(probe_answered, 5000));
	assert_int_equal(probe->answers, 1);
	assert_int_equal(count_closed(loc, DG_STUB_TCP_LOCAL_MAX), 1);
	assert_int_equal(count_closed(str, DG_STUB_TCP_STEERED_MAX), 1);
	assert_int_equal(st->tcp_evicted, 2);
}

/* ---- time ------------------------------------------------------------ */

/* Test that a connection with nothing in flight and nothing waiting is
 * closed after DG_STUB_TCP_IDLE_MS, and one whose client takes none of
 * its waiting answers after DG_STUB_TCP_STALL_MS (both counted, each
 * within 3 s of its bound, never before it); a query in flight alone
 * keeps a connection. Timers are moved forward, not waited for. */
static void test_idle_and_stall(void **state)
{
	struct client *idle, *busy, *stall;
	uint8_t f[20 * 64];
	int small = 4096, i;
	size_t len = 0;

	(void)state;
	idle = client_connect("127.0.0.1", &stub_addr);
	busy = client_connect("127.0.0.2", &stub_addr);
	stall = client_connect("127.0.0.3", &stub_addr);
	setsockopt(stall->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	up.answer_size = 30000;
	for (i = 0; i < 20; i++)
		len += query_frame(f + len, (uint16_t)i, "big.test");
	want_conns = 3;
	assert_true(run_until(conns_reached, 5000));
	client_send(stall, f, len);
	settle();
	assert_true(st->tcp_waiting_bytes > 0);
	up.hold = true;
	client_query(busy, 1);
	for (i = 0; i < 500 && !up.n; i++)
		run_for(10);
	assert_int_equal(up.n, 1);

	fast_forward(DG_STUB_TCP_IDLE_MS - 3000);
	run_for(50);
	assert_false(client_closed(idle));
	assert_int_equal(st->tcp_closed_idle, 0);
	fast_forward(6000);
	run_for(50);
	assert_true(client_closed(idle));
	assert_int_equal(st->tcp_closed_idle, 1);

	fast_forward(DG_STUB_TCP_STALL_MS - DG_STUB_TCP_IDLE_MS - 6000);
	run_for(50);
	assert_int_equal(st->tcp_closed_idle, 1);
	fast_forward(6000);
	run_for(50);
	assert_int_equal(st->tcp_closed_idle, 2);
	assert_int_equal(st->tcp_waiting_bytes, 0);
	assert_false(client_closed(busy));
	assert_int_equal(st->tcp_conns, 1);
}

/* ---- bad input ------------------------------------------------------- */

/* Test that a frame too short for a DNS header, and a response (QR set)
 * sent as a query, close the connection (counted) - no answer could
 * carry their ID safely - while a frame of garbage with a header gets
 * FORMERR and the connection stays. */
static void test_bad_frames(void **state)
{
	uint8_t zero[2] = { 0, 0 }, shortf[2 + 5] = { 0, 5, 1, 2, 3, 4, 5 };
	uint8_t garbage[2 + 20] = { 0, 20, 0xab, 0xcd, 0x01, 0x00, 0, 7 };
	uint8_t f[600];
	size_t n;

	(void)state;
	probe = client_connect("127.0.0.1", &stub_addr);
	client_send(probe, garbage, sizeof(garbage));
	assert_true(run_until(probe_answered, 5000));
	assert_int_equal(probe->rcode, DG_RCODE_FORMERR);
	assert_false(probe->eof);
	client_send(probe, zero, sizeof(zero));
	assert_true(run_until(probe_eof, 5000));
	assert_int_equal(st->queries_unanswerable, 1);

	probe = client_connect("127.0.0.1", &stub_addr);
	client_send(probe, shortf, sizeof(shortf));
	assert_true(run_until(probe_eof, 5000));
	assert_int_equal(st->queries_unanswerable, 2);

	probe = client_connect("127.0.0.1", &stub_addr);
	n = query_frame(f, 77, "a.test");
	f[4] |= 0x80;		/* QR */
	client_send(probe, f, n);
	assert_true(run_until(probe_eof, 5000));
	assert_int_equal(probe->answers, 0);
	assert_int_equal(st->queries_unanswerable, 3);
	assert_int_equal(st->tcp_conns, 0);
}

static bool probe_done(void)
{
	client_read(probe, NULL);
	return probe->eof;
}

/* Test that a client that sends its queries and then shuts its side
 * (FIN) still gets every answer before the stub closes, and that a
 * length prefix promising more than ever comes costs nothing but the
 * connection. */
static void test_half_close_and_lying_length(void **state)
{
	uint8_t f[600 * 3], lie[2 + 10] = { 0x01, 0x2c };
	size_t len = 0;

	(void)state;
	up.hold = true;
	probe = client_connect("127.0.0.1", &stub_addr);
	len += query_frame(f + len, 1, "a.test");
	len += query_frame(f + len, 2, "b.test");
	len += query_frame(f + len, 3, "c.test");
	client_send(probe, f, len);
	shutdown(probe->fd, SHUT_WR);
	for (len = 0; len < 500 && up.n < 3; len++)
		run_for(10);
	assert_int_equal(up.n, 3);
	assert_false(run_until(probe_done, 100));
	up.hold = false;
	dg_defer(&loop, &up.answer_all);
	assert_true(run_until(probe_done, 5000));
	assert_int_equal(probe->answers, 3);
	assert_int_equal(st->tcp_conns, 0);

	probe = client_connect("127.0.0.1", &stub_addr);
	client_send(probe, lie, sizeof(lie));
	shutdown(probe->fd, SHUT_WR);
	assert_true(run_until(probe_done, 5000));
	assert_int_equal(probe->answers, 0);
	assert_int_equal(st->tcp_conns, 0);
}

/* ---- out of descriptors ---------------------------------------------- */

static bool conns_one(void)
{
	return st->tcp_conns == 1 && st->tcp_evicted == 1;
}

/* Test that when accept() runs out of descriptors an idle connection is
 * closed to make room, and with none idle the listener rests instead of
 * spinning: the loop stays quiet (under 30 ms of CPU in 300 ms), and the
 * newcomer gets in once a descriptor is free. */
static void test_out_of_descriptors(void **state)
{
	struct client *a, *b, *c;
	struct rusage r0, r1;
	struct rlimit old, rl;
	int spare, i;
	long cpu_us;

	(void)state;
	a = client_connect("127.0.0.1", &stub_addr);
	want_conns = 1;
	assert_true(run_until(conns_reached, 5000));
	/* The clients' sockets first: they share this process's limit. */
	b = client_socket("127.0.0.1");
	c = client_socket("127.0.0.1");
	spare = open("/dev/null", O_RDONLY);	/* the lowest free one */
	assert_true(spare > 0);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	rl = old;
	rl.rlim_cur = (rlim_t)spare + 1;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);

	client_start(b, &stub_addr);
	assert_true(run_until(conns_one, 5000));
	probe = a;
	assert_true(run_until(probe_eof, 5000));

	/* b busy; the next finds no descriptor and no idle connection. */
	up.hold = true;
	client_query(b, 1);
	for (i = 0; i < 500 && !up.n; i++)
		run_for(10);
	assert_int_equal(up.n, 1);
	client_start(c, &stub_addr);
	getrusage(RUSAGE_SELF, &r0);
	run_for(300);
	getrusage(RUSAGE_SELF, &r1);
	cpu_us = (r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) * 1000000L +
		 (r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) +
		 (r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) * 1000000L +
		 (r1.ru_stime.tv_usec - r0.ru_stime.tv_usec);
	assert_true(cpu_us < 30000);
	assert_int_equal(st->tcp_conns, 1);
	assert_int_equal(st->tcp_refused, 0);

	close(spare);
	client_query(c, 2);
	up.hold = false;
	dg_defer(&loop, &up.answer_all);
	probe = c;
	assert_true(run_until(probe_answered, 5000));
	assert_int_equal(probe->answers, 1);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pipeline_held_not_buffered, setup, clients_teardown),
		cmocka_unit_test_setup_teardown(test_pipeline_cap, setup, clients_teardown),
		cmocka_unit_test_setup_teardown(test_backlog_cap_closes, setup, clients_teardown),
		cmocka_unit_test_setup_teardown(test_backlog_total_cap, setup, clients_teardown),
		cmocka_unit_test_setup_teardown(test_budget_full_evicts_idle_longest, setup, clients_teardown),
		cmocka_unit_test_setup_teardown(test_per_client_share, setup, clients_teardown),
		cmocka_unit_test_setup_teardown(test_kinds_separate, setup, clients_teardown),
		cmocka_unit_test_setup_teardown(test_idle_and_stall, setup, clients_teardown),
		cmocka_unit_test_setup_teardown(test_bad_frames, setup, clients_teardown),
		cmocka_unit_test_setup_teardown(test_half_close_and_lying_length, setup, clients_teardown),
		cmocka_unit_test_setup_teardown(test_out_of_descriptors, setup, clients_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
