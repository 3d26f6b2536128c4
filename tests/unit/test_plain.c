// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Cleartext queries through a real event loop to an "upstream" that is a
 * loopback UDP (and TCP) socket of this test, registered in the same
 * loop: what it receives is what would cross the wire, and what it sends
 * back is what a spoofer or the real server could. The guard's cookie
 * allow-list is a set kept here. Every wait polls with a deadline.
 */
#define _GNU_SOURCE	/* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "dotguard/abi.h"
#include "dns_wire.h"
#include "loop.h"
#include "plain.h"

#define NQ_MAX (DG_PLAIN_SOCKETS_MAX + 8)
#define REAL_A 10	/* 203.0.113.10: the upstream's answer */
#define SPOOF_A 66	/* 203.0.113.66: a spoofer's */

/* What the upstream does with each query it receives. */
enum up_mode { UP_SILENT, UP_ECHO, UP_SPOOFS_THEN_REAL, UP_LOWER_ONLY, UP_TC };

/* A query as the upstream saw it. */
struct seen {
	struct sockaddr_storage from;
	socklen_t fromlen;
	uint16_t id;
	uint16_t port;
	struct dg_dns_question q;
};

static struct {
	struct dg_loop loop;
	int family;
	int ufd, tfd, cfd;	/* the upstream: UDP, TCP listener, its
				 * one connection (or -1) */
	struct dg_io uio, tio, cio;
	uint8_t cbuf[2 + 2048];
	size_t clen;
	struct sockaddr_storage sa;
	socklen_t salen;
	enum up_mode mode;
	struct seen seen[NQ_MAX];
	int n_seen;
	int n_tcp;		/* queries the TCP listener answered */
	struct seen tcp_seen;
	/* The guard's allow-list. */
	uint64_t allowed[2 * NQ_MAX];
	int n_allowed, allows, forgets;
	bool allowed_early;	/* every allow came before connect() */
	/* What the transport delivered, by token. */
	int answers[NQ_MAX], fails[NQ_MAX];
	uint8_t answer_a[NQ_MAX];	/* last byte of its A record */
	struct dg_dns_question answer_q[NQ_MAX];
	struct dg_daemon_stats st;
	struct dg_timer tick;
	uint64_t deadline;
	bool (*until)(void);
	/* Freed by teardown if a failed test left them: the socket budget
	 * is the process's, and the next test must start from zero. */
	struct dg_plain *plains[2];
} t;

static int tok[NQ_MAX];

/* ---- the allow-list and the callbacks ------------------------------ */

static int on_allow(void *arg, int fd)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(uint64_t), plen = sizeof(peer);
	uint64_t cookie = 0;

	(void)arg;
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len), 0);
	/* Not connected yet: no byte can have left before this. */
	if (!getpeername(fd, (struct sockaddr *)&peer, &plen))
		t.allowed_early = false;
	assert_true(t.n_allowed < (int)(sizeof(t.allowed) / sizeof(t.allowed[0])));
	t.allowed[t.n_allowed++] = cookie;
	t.allows++;
	return 0;
}

static void on_forget(void *arg, uint64_t cookie)
{
	int i;

	(void)arg;
	for (i = 0; i < t.n_allowed && t.allowed[i] != cookie; i++)
		;
	assert_true(i < t.n_allowed);	/* only what was allowed */
	t.allowed[i] = t.allowed[--t.n_allowed];
	t.forgets++;
}

static int tok_index(void *q)
{
	int i = (int *)q - tok;

	assert_true(i >= 0 && i < NQ_MAX);
	return i;
}

static void on_answer(void *q, const uint8_t *msg, size_t len)
{
	struct dg_dns_resp_info ri;
	int i = tok_index(q);

	t.answers[i]++;
	assert_int_equal(dg_dns_parse_response(msg, len, &ri), 0);
	t.answer_q[i] = ri.q;
	t.answer_a[i] = len >= 4 ? msg[len - 1] : 0;
}

static void on_fail(void *q)
{
	t.fails[tok_index(q)]++;
}

static const struct dg_plain_ops ops = {
	.allow = on_allow, .forget = on_forget, .allow_arg = NULL,
	.answer = on_answer, .fail = on_fail,
};

/* ---- the upstream -------------------------------------------------- */

static void put16(uint8_t *p, unsigned int v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* An answer to s: its question (name as given), one A record whose last
 * byte is a (none when a is 0), TC when tc. */
static size_t build_answer(uint8_t *out, uint16_t id, const uint8_t *name,
			   uint8_t name_len, uint16_t qtype, uint8_t a, bool tc)
{
	size_t n = 12;

	put16(out, id);
	put16(out + 2, DG_DNS_QR | DG_DNS_RD | DG_DNS_RA | (tc ? DG_DNS_TC : 0));
	put16(out + 4, 1);
	put16(out + 6, a ? 1 : 0);
	put16(out + 8, 0);
	put16(out + 10, 0);
	memcpy(out + n, name, name_len);
	n += name_len;
	put16(out + n, qtype);
	put16(out + n + 2, DG_CLASS_IN);
	n += 4;
	if (!a)
		return n;
	put16(out + n, 0xC00C);
	put16(out + n + 2, DG_TYPE_A);
	put16(out + n + 4, DG_CLASS_IN);
	put16(out + n + 6, 0);
	put16(out + n + 8, 300);
	put16(out + n + 10, 4);
	out[n + 12] = 203;
	out[n + 13] = 0;
	out[n + 14] = 113;
	out[n + 15] = a;
	return n + 16;
}

static void lower_name(uint8_t *name, uint8_t len)
{
	uint8_t i;

	for (i = 0; i < len; i++)
		if (name[i] >= 'A' && name[i] <= 'Z')
			name[i] |= 0x20;
}

static void up_send(const struct seen *s, const uint8_t *msg, size_t len)
{
	assert_int_equal(sendto(t.ufd, msg, len, 0, (const struct sockaddr *)&s->from,
				s->fromlen), (ssize_t)len);
}

/* Answer s as the real upstream: its own spelling, REAL_A. */
static void up_echo(const struct seen *s)
{
	uint8_t out[512];

	up_send(s, out, build_answer(out, s->id, s->q.name, s->q.name_len,
				     s->q.qtype, REAL_A, false));
}

static void up_spoofs(const struct seen *s)
{
	uint8_t out[512], name[DG_DNS_NAME_MAX];
	size_t n;

	/* Another ID; then none at all; then the question lowercased; then
	 * another question; each carrying SPOOF_A. */
	up_send(s, out, build_answer(out, s->id ^ 0x0100, s->q.name, s->q.name_len,
				     s->q.qtype, SPOOF_A, false));
	up_send(s, out, 5);
	memcpy(name, s->q.name, s->q.name_len);
	lower_name(name, s->q.name_len);
	up_send(s, out, build_answer(out, s->id, name, s->q.name_len,
				     s->q.qtype, SPOOF_A, false));
	n = build_answer(out, s->id, s->q.name, s->q.name_len, DG_TYPE_AAAA,
			 SPOOF_A, false);
	up_send(s, out, n);
}

static void up_read(struct dg_loop *l, uint32_t events, void *arg)
{
	uint8_t buf[2048], name[DG_DNS_NAME_MAX], out[512];
	struct dg_dns_query q;
	struct seen *s;
	ssize_t n;

	(void)l;
	(void)events;
	(void)arg;
	for (;;) {
		assert_true(t.n_seen < NQ_MAX);
		s = &t.seen[t.n_seen];
		s->fromlen = sizeof(s->from);
		n = recvfrom(t.ufd, buf, sizeof(buf), MSG_DONTWAIT,
			     (struct sockaddr *)&s->from, &s->fromlen);
		if (n < 0)
			return;
		assert_int_equal(dg_dns_parse_query(buf, (size_t)n, &q), 0);
		s->id = q.id;
		s->q = q.q;
		s->port = ntohs(((struct sockaddr_in *)&s->from)->sin_port);
		if (t.family == AF_INET6)
			s->port = ntohs(((struct sockaddr_in6 *)&s->from)->sin6_port);
		t.n_seen++;
		switch (t.mode) {
		case UP_ECHO:
			up_echo(s);
			break;
		case UP_SPOOFS_THEN_REAL:
			up_spoofs(s);
			up_echo(s);
			break;
		case UP_LOWER_ONLY:
			memcpy(name, s->q.name, s->q.name_len);
			lower_name(name, s->q.name_len);
			up_send(s, out, build_answer(out, s->id, name, s->q.name_len,
						     s->q.qtype, SPOOF_A, false));
			break;
		case UP_TC:
			up_send(s, out, build_answer(out, s->id, s->q.name, s->q.name_len,
						     s->q.qtype, 0, true));
			break;
		case UP_SILENT:
			break;
		}
	}
}

/* The TCP retry: one framed query, read as it comes (the loop also
 * runs the side that writes it), answered in its own spelling. */
static void up_conn_read(struct dg_loop *l, uint32_t events, void *arg)
{
	uint8_t out[2 + 512];
	struct dg_dns_query q;
	size_t want, n;
	ssize_t got;

	(void)l;
	(void)events;
	(void)arg;
	want = t.clen >= 2 ? 2 + ((size_t)t.cbuf[0] << 8 | t.cbuf[1]) : 2;
	assert_true(want <= sizeof(t.cbuf));
	got = recv(t.cfd, t.cbuf + t.clen, want - t.clen, MSG_DONTWAIT);
	if (got < 0 && errno == EAGAIN)
		return;
	assert_true(got > 0);
	t.clen += (size_t)got;
	if (t.clen < 2 || t.clen < 2 + ((size_t)t.cbuf[0] << 8 | t.cbuf[1]))
		return;
	assert_int_equal(dg_dns_parse_query(t.cbuf + 2, t.clen - 2, &q), 0);
	t.tcp_seen.id = q.id;
	t.tcp_seen.q = q.q;
	n = build_answer(out + 2, q.id, q.q.name, q.q.name_len, q.q.qtype, REAL_A, false);
	put16(out, (unsigned int)n);
	assert_int_equal(send(t.cfd, out, n + 2, MSG_NOSIGNAL), (ssize_t)(n + 2));
	t.n_tcp++;
	dg_io_del(&t.loop, &t.cio);
	close(t.cfd);
	t.cfd = -1;
}

static void up_accept(struct dg_loop *l, uint32_t events, void *arg)
{
	(void)l;
	(void)events;
	(void)arg;
	assert_int_equal(t.cfd, -1);	/* one retry, one connection */
	t.cfd = accept4(t.tfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	assert_true(t.cfd >= 0);
	t.clen = 0;
	assert_int_equal(dg_io_add(&t.loop, &t.cio, t.cfd, EPOLLIN, up_conn_read, NULL), 0);
}

/* The upstream on loopback: UDP on a free port, and TCP on the same port
 * when tcp (tries other ports while TCP's is taken). */
static void up_open(int family, bool tcp)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&t.sa;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&t.sa;
	int one = 1, i;

	for (i = 0; i < 50; i++) {
		memset(&t.sa, 0, sizeof(t.sa));
		if (family == AF_INET) {
			sin->sin_family = AF_INET;
			sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			t.salen = sizeof(*sin);
		} else {
			sin6->sin6_family = AF_INET6;
			sin6->sin6_addr = in6addr_loopback;
			t.salen = sizeof(*sin6);
		}
		t.ufd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		assert_true(t.ufd >= 0);
		assert_int_equal(bind(t.ufd, (struct sockaddr *)&t.sa, t.salen), 0);
		assert_int_equal(getsockname(t.ufd, (struct sockaddr *)&t.sa, &t.salen), 0);
		if (!tcp)
			break;
		t.tfd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(t.tfd >= 0);
		setsockopt(t.tfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (!bind(t.tfd, (struct sockaddr *)&t.sa, t.salen) && !listen(t.tfd, 8))
			break;
		close(t.tfd);
		close(t.ufd);
		t.tfd = -1;
	}
	assert_true(i < 50);
	assert_int_equal(dg_io_add(&t.loop, &t.uio, t.ufd, EPOLLIN, up_read, NULL), 0);
	if (tcp)
		assert_int_equal(dg_io_add(&t.loop, &t.tio, t.tfd, EPOLLIN, up_accept, NULL), 0);
}

/* ---- running the loop ---------------------------------------------- */

static void tick(struct dg_loop *l, struct dg_timer *tm)
{
	if (t.until() || l->now >= t.deadline) {
		dg_loop_stop(l);
		return;
	}
	dg_timer_set(l, tm, l->now + 2000000);
}

/* Run the loop until pred() holds or ms pass; returns pred(). */
static bool run_until(bool (*pred)(void), int ms)
{
	t.until = pred;
	t.deadline = dg_now_ns() + (uint64_t)ms * 1000000;
	t.loop.stop = false;
	dg_timer_set(&t.loop, &t.tick, dg_now_ns());
	assert_int_equal(dg_loop_run(&t.loop), 0);
	dg_timer_cancel(&t.loop, &t.tick);
	return pred();
}

static int want;

static bool seen_enough(void)
{
	return t.n_seen >= want;
}

static int total(const int *v)
{
	int i, n = 0;

	for (i = 0; i < NQ_MAX; i++)
		n += v[i];
	return n;
}

static bool answered_enough(void)
{
	return total(t.answers) >= want;
}

static bool failed_enough(void)
{
	return total(t.fails) >= want;
}

static bool tcp_done(void)
{
	return total(t.answers) + total(t.fails) >= want;
}

static uint64_t bad_case_want;

static bool bad_case_seen(void)
{
	return t.st.cleartext_bad_case >= bad_case_want;
}

static int setup(void **state)
{
	(void)state;
	memset(&t, 0, sizeof(t));
	t.ufd = t.tfd = t.cfd = -1;
	t.allowed_early = true;
	if (dg_loop_init(&t.loop))
		return -1;
	dg_timer_init(&t.tick, tick);
	dg_plain_set_stats(&t.st);
	return 0;
}

static int teardown(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 2; i++)
		dg_plain_free(t.plains[i]);
	dg_plain_set_stats(NULL);
	if (t.ufd >= 0) {
		dg_io_del(&t.loop, &t.uio);
		close(t.ufd);
	}
	if (t.tfd >= 0) {
		dg_io_del(&t.loop, &t.tio);
		close(t.tfd);
	}
	if (t.cfd >= 0) {
		dg_io_del(&t.loop, &t.cio);
		close(t.cfd);
	}
	dg_loop_fini(&t.loop);
	return 0;
}

static struct dg_plain *plain_new(void)
{
	struct dg_plain *p = dg_plain_new(&t.loop, (struct sockaddr *)&t.sa, t.salen, &ops);
	int i;

	assert_non_null(p);
	for (i = 0; t.plains[i]; i++)
		assert_true(i + 1 < 2);
	t.plains[i] = p;
	return p;
}

static void plain_free(struct dg_plain *p)
{
	int i;

	for (i = 0; i < 2; i++)
		if (t.plains[i] == p)
			t.plains[i] = NULL;
	dg_plain_free(p);
}

/* A query for text, of type A. */
static void query_for(struct dg_dns_query *q, const char *text)
{
	memset(q, 0, sizeof(*q));
	q->flags = DG_DNS_RD;
	q->q.qtype = DG_TYPE_A;
	q->q.qclass = DG_CLASS_IN;
	assert_true(dg_dns_name_from_text(text, q->q.name, sizeof(q->q.name)) > 0);
	q->q.name_len = (uint8_t)dg_dns_name_from_text(text, q->q.name, sizeof(q->q.name));
}

/* 44 letters: a spelling all one case has odds 2^-43. */
#define LONG_NAME "abcdefghijklmnopqrst.uvwxyzabcdefghijklmn.test"

static bool mixed_case(const struct dg_dns_question *q)
{
	bool up = false, low = false;
	uint8_t i;

	for (i = 0; i < q->name_len; i++) {
		up |= q->name[i] >= 'A' && q->name[i] <= 'Z';
		low |= q->name[i] >= 'a' && q->name[i] <= 'z';
	}
	return up && low;
}

/* ---- tests --------------------------------------------------------- */

/* Test that N queries at once leave from N sockets, each allowed before
 * its first byte: N distinct source ports (the kernel never gives two
 * open sockets one port) that do not count up (random: fewer than 5 of
 * 19 steps within +-2), IDs that do not count up, names in mixed case
 * that still match what was asked; then that each answer reaches its own
 * token and every socket is closed and forgotten. */
static void fresh_socket_per_query(int family)
{
	enum { N = 20 };
	struct dg_dns_query q;
	struct dg_plain *p;
	uint16_t id[N];
	int i, j, close_ports = 0, id_steps = 0;

	t.family = family;
	up_open(family, false);
	p = plain_new();
	query_for(&q, LONG_NAME);
	for (i = 0; i < N; i++)
		assert_int_equal(dg_plain_send(p, &tok[i], &q, &id[i]), 0);
	assert_int_equal(t.allows, N);
	assert_true(t.allowed_early);
	assert_int_equal(t.st.cleartext_sockets, N);
	want = N;
	assert_true(run_until(seen_enough, 5000));
	for (i = 0; i < N; i++) {
		for (j = 0; j < i; j++)
			assert_int_not_equal(t.seen[i].port, t.seen[j].port);
		if (i && abs((int)t.seen[i].port - (int)t.seen[i - 1].port) <= 2)
			close_ports++;
		if (i && t.seen[i].id == (uint16_t)(t.seen[i - 1].id + 1))
			id_steps++;
		assert_true(dg_dns_question_equal(&t.seen[i].q, &q.q));
		assert_true(mixed_case(&t.seen[i].q));
	}
	assert_true(close_ports < 5);
	assert_true(id_steps < 5);
	for (i = 0; i < N; i++)
		up_echo(&t.seen[i]);
	assert_true(run_until(answered_enough, 5000));
	for (i = 0; i < N; i++) {
		assert_int_equal(t.answers[i], 1);
		assert_int_equal(t.answer_a[i], REAL_A);
	}
	assert_int_equal(total(t.fails), 0);
	assert_int_equal(t.n_allowed, 0);
	assert_int_equal(t.forgets, N);
	assert_int_equal(t.st.cleartext_sockets, 0);
	plain_free(p);
}

static void test_fresh_socket_per_query_v4(void **state)
{
	(void)state;
	fresh_socket_per_query(AF_INET);
}

static void test_fresh_socket_per_query_v6(void **state)
{
	(void)state;
	fresh_socket_per_query(AF_INET6);
}

/* Test that what arrives before the real answer is dropped and counted
 * (another ID, a datagram too short for a header, our question in
 * lowercase, another question) and the real answer is still taken. */
static void test_spoofs_dropped_real_taken(void **state)
{
	struct dg_dns_query q;
	struct dg_plain *p;
	uint16_t id;

	(void)state;
	t.family = AF_INET;
	up_open(AF_INET, false);
	t.mode = UP_SPOOFS_THEN_REAL;
	p = plain_new();
	query_for(&q, LONG_NAME);
	assert_int_equal(dg_plain_send(p, &tok[0], &q, &id), 0);
	want = 1;
	assert_true(run_until(answered_enough, 5000));
	assert_int_equal(t.answers[0], 1);
	assert_int_equal(t.answer_a[0], REAL_A);
	assert_true(dg_dns_question_exact(&t.answer_q[0], &t.seen[0].q));
	assert_int_equal(t.st.cleartext_bad_id, 2);
	assert_int_equal(t.st.cleartext_bad_case, 1);
	assert_int_equal(t.st.cleartext_bad_answer, 1);
	assert_int_equal(t.n_allowed, 0);
	plain_free(p);
	assert_int_equal(total(t.fails), 0);
}

/* Test that an answer in the wrong case alone is never taken: the query
 * keeps waiting (no answer, no failure) until the caller forgets it,
 * which closes and forgets its socket. */
static void test_wrong_case_keeps_waiting(void **state)
{
	struct dg_dns_query q;
	struct dg_plain *p;
	uint16_t id;

	(void)state;
	t.family = AF_INET;
	up_open(AF_INET, false);
	t.mode = UP_LOWER_ONLY;
	p = plain_new();
	query_for(&q, LONG_NAME);
	assert_int_equal(dg_plain_send(p, &tok[0], &q, &id), 0);
	bad_case_want = 1;
	assert_true(run_until(bad_case_seen, 5000));
	assert_int_equal(total(t.answers) + total(t.fails), 0);
	assert_int_equal(t.n_allowed, 1);
	dg_plain_forget(p, id);
	assert_int_equal(t.n_allowed, 0);
	assert_int_equal(t.st.cleartext_sockets, 0);
	plain_free(p);
	assert_int_equal(total(t.answers) + total(t.fails), 0);
}

/* Test that the exact answer sent from another address or another port
 * never reaches the query (its socket is connected): both spoofs go out
 * before the real answer, so were either let in it would be read first. */
static void test_wrong_source_dropped(void **state)
{
	struct sockaddr_in other = { .sin_family = AF_INET };
	uint8_t out[512];
	struct dg_dns_query q;
	struct dg_plain *p;
	struct seen *s;
	uint16_t id;
	size_t n;
	int fd, i;

	(void)state;
	t.family = AF_INET;
	up_open(AF_INET, false);
	p = plain_new();
	query_for(&q, LONG_NAME);
	assert_int_equal(dg_plain_send(p, &tok[0], &q, &id), 0);
	want = 1;
	assert_true(run_until(seen_enough, 5000));
	s = &t.seen[0];
	n = build_answer(out, s->id, s->q.name, s->q.name_len, s->q.qtype, SPOOF_A, false);
	/* 127.0.0.1 from another port, then 127.0.0.2 from the upstream's. */
	for (i = 0; i < 2; i++) {
		other.sin_addr.s_addr = htonl(i ? 0x7f000002 : INADDR_LOOPBACK);
		other.sin_port = i ? ((struct sockaddr_in *)&t.sa)->sin_port : 0;
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		assert_true(fd >= 0);
		assert_int_equal(bind(fd, (struct sockaddr *)&other, sizeof(other)), 0);
		assert_int_equal(sendto(fd, out, n, 0, (struct sockaddr *)&s->from,
					s->fromlen), (ssize_t)n);
		close(fd);
	}
	up_echo(s);
	assert_true(run_until(answered_enough, 5000));
	assert_int_equal(t.answer_a[0], REAL_A);
	assert_int_equal(t.st.cleartext_bad_id + t.st.cleartext_bad_case +
			 t.st.cleartext_bad_answer, 0);
	plain_free(p);
}

/* Test that a truncated answer is asked again over TCP with the same ID
 * and the same 0x20 spelling, from a socket also allowed first and
 * forgotten after, and that the TCP answer is delivered. */
static void test_truncated_retries_tcp(void **state)
{
	struct dg_dns_query q;
	struct dg_plain *p;
	uint16_t id;

	(void)state;
	t.family = AF_INET;
	up_open(AF_INET, true);
	t.mode = UP_TC;
	p = plain_new();
	query_for(&q, LONG_NAME);
	assert_int_equal(dg_plain_send(p, &tok[0], &q, &id), 0);
	want = 1;
	assert_true(run_until(tcp_done, 5000));
	assert_int_equal(t.answers[0], 1);
	assert_int_equal(t.answer_a[0], REAL_A);
	assert_int_equal(t.n_tcp, 1);
	assert_int_equal(t.tcp_seen.id, t.seen[0].id);
	assert_true(dg_dns_question_exact(&t.tcp_seen.q, &t.seen[0].q));
	assert_true(t.allowed_early);
	assert_int_equal(t.allows, 2);
	assert_int_equal(t.n_allowed, 0);
	assert_int_equal(t.st.cleartext_sockets, 0);
	plain_free(p);
}

/* Test the bound: DG_PLAIN_SOCKETS_MAX sockets at most, over two
 * upstreams; a query past it waits (counted) and starts, oldest first,
 * when an answer or a forget closes a socket; a forgotten waiter never
 * goes out; freeing fails what is left and closes everything. */
static void test_bound_waits_oldest_first(void **state)
{
	struct dg_plain *a, *b;
	struct dg_dns_query q;
	uint16_t id[NQ_MAX];
	char name[32];
	int i, m = DG_PLAIN_SOCKETS_MAX;

	(void)state;
	t.family = AF_INET;
	up_open(AF_INET, false);
	a = plain_new();
	b = plain_new();
	for (i = 0; i < m; i++) {
		snprintf(name, sizeof(name), "q%d.test", i);
		query_for(&q, name);
		assert_int_equal(dg_plain_send(a, &tok[i], &q, &id[i]), 0);
	}
	assert_int_equal(t.n_allowed, m);
	assert_int_equal(t.st.cleartext_waits, 0);
	/* Three more: B's two, then A's. */
	for (i = m; i < m + 3; i++) {
		snprintf(name, sizeof(name), "q%d.test", i);
		query_for(&q, name);
		assert_int_equal(dg_plain_send(i < m + 2 ? b : a, &tok[i], &q, &id[i]), 0);
	}
	assert_int_equal(t.n_allowed, m);
	assert_int_equal(t.st.cleartext_waits, 3);
	assert_int_equal(t.st.cleartext_sockets, (uint64_t)m);
	want = m;
	assert_true(run_until(seen_enough, 5000));
	dg_plain_forget(b, id[m + 1]);		/* B's second gives up */
	up_echo(&t.seen[0]);			/* one answer frees a socket */
	want = m + 1;
	assert_true(run_until(seen_enough, 5000));
	assert_int_equal(t.answers[0], 1);
	snprintf(name, sizeof(name), "q%d.test", m);	/* B's first, the oldest */
	query_for(&q, name);
	assert_true(dg_dns_question_equal(&t.seen[m].q, &q.q));
	dg_plain_forget(a, id[1]);		/* a forget frees one too */
	want = m + 2;
	assert_true(run_until(seen_enough, 5000));
	snprintf(name, sizeof(name), "q%d.test", m + 2);	/* A's extra; */
	query_for(&q, name);				/* B's second never */
	assert_true(dg_dns_question_equal(&t.seen[m + 1].q, &q.q));
	assert_int_equal(t.n_allowed, m);
	plain_free(a);
	assert_int_equal(total(t.fails), m - 1);	/* A's in flight but 0, 1 */
	assert_int_equal(t.n_allowed, 1);
	plain_free(b);
	assert_int_equal(total(t.fails), m);
	assert_int_equal(t.n_allowed, 0);
	assert_int_equal(t.st.cleartext_sockets, 0);
	assert_int_equal(t.n_seen, m + 2);
	assert_int_equal(total(t.answers), 1);
}

/* Test that a closed port (ICMP port unreachable) fails the query at
 * once rather than at the attempt's timeout, its socket forgotten. */
static void test_refused_fails_fast(void **state)
{
	struct dg_dns_query q;
	struct dg_plain *p;
	uint16_t id;

	(void)state;
	t.family = AF_INET;
	up_open(AF_INET, false);
	dg_io_del(&t.loop, &t.uio);
	close(t.ufd);
	t.ufd = -1;
	p = plain_new();
	query_for(&q, "a.test");
	assert_int_equal(dg_plain_send(p, &tok[0], &q, &id), 0);
	want = 1;
	assert_true(run_until(failed_enough, 5000));
	assert_int_equal(t.fails[0], 1);
	assert_int_equal(t.n_allowed, 0);
	plain_free(p);
	assert_int_equal(t.fails[0], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fresh_socket_per_query_v4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fresh_socket_per_query_v6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spoofs_dropped_real_taken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_case_keeps_waiting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_source_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_retries_tcp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_waits_oldest_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_fails_fast, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
