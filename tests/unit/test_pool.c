// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The pool's scheduler, driven through a fake transport (no sockets, no
 * TLS) on a real dg_loop whose clock the test moves: the loop's timers and
 * end-of-iteration work run as dg_loop_run runs them, at the times the
 * test names, so every timeout below is asserted to the nanosecond and no
 * test depends on how fast the machine is. POOL_DEBUG=1 shows the pool's
 * log lines as they come.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "log.h"
#include "pool_int.h"
#include "stats.h"

#define MS POOL_MS
#define FAKE_CONNS_MAX 256
#define FAKE_SENT_MAX (3 * 2 * DG_IDMAP_SLOTS + 64)
#define QUERIES_MAX FAKE_SENT_MAX

static struct dg_loop loop;
static struct dg_stats stats;
static struct dg_pool *pool;
static uint64_t t0;		/* loop time when the pool started */

/* ---- virtual time -------------------------------------------------- */

struct fconn;
static void fake_trickle(void);

/* One loop iteration at loop.now: bytes in, due timers, deferred work. */
static void vt_iterate(void)
{
	struct dg_timer *t;
	struct dg_defer *d;
	int n = 0;

	fake_trickle();
	while (loop.n_timers && loop.heap[0]->when <= loop.now) {
		assert_true(++n < 100000);
		t = loop.heap[0];
		dg_timer_cancel(&loop, t);
		t->fn(&loop, t);
	}
	while ((d = loop.deferred)) {
		assert_true(++n < 100000);
		loop.deferred = d->next;
		d->queued = false;
		d->fn(&loop, d);
	}
}

/* Move the clock to t0 + ms, stopping at every timer on the way. */
static void vt_at(uint64_t ms)
{
	uint64_t until = t0 + ms * MS;
	int n = 0;

	assert_true(until >= loop.now);
	vt_iterate();
	while (loop.n_timers && loop.heap[0]->when <= until) {
		assert_true(++n < 100000);
		if (loop.heap[0]->when > loop.now)
			loop.now = loop.heap[0]->when;
		vt_iterate();
	}
	loop.now = until;
	vt_iterate();
}

/* ---- the fake transport -------------------------------------------- */

/* What one upstream does, by its index (DNS= first, then FallbackDNS=). */
struct fake_up {
	bool refuse;		/* connect() fails at once */
	bool fail;		/* the handshake fails with ... */
	enum dg_upfail fail_why;
	bool auto_open;		/* the handshake succeeds at once */
	bool answer;		/* every query is answered at once */
	bool trickle;		/* bytes keep coming: slow, not stalled */
	int open_calls;
};

struct fconn {
	struct pool_conn base;
	struct dg_defer step;	/* the server's move, end of iteration */
	struct dg_defer release;
	int slot;		/* in fake.conns */
	int pending[DG_IDMAP_SLOTS];	/* sent[] indexes not yet answered */
	int n_pending;
};

struct fake_sent {
	int up;
	int conn;		/* fake.conns slot */
	uint16_t id;
	struct dg_dns_question q;
};

static struct {
	struct fake_up up[DG_MAX_UPSTREAMS];
	struct fconn *conns[FAKE_CONNS_MAX];
	int n_conns, live;
	int open_order[64];	/* upstream of each open() call */
	int n_open;
	struct fake_sent sent[FAKE_SENT_MAX];
	int n_sent;
	int allow_calls;	/* cleartext sockets asked for */
	char log[8192];
} fake;

static struct fconn *fconn_of(struct pool_conn *c)
{
	return (struct fconn *)((char *)c - offsetof(struct fconn, base));
}

static struct fconn *fake_conn(int slot)
{
	assert_in_range(slot, 0, fake.n_conns - 1);
	assert_non_null(fake.conns[slot]);
	return fake.conns[slot];
}

/* A NOERROR answer to q with one A record, 203.0.113.octet. */
static size_t fake_reply(uint8_t *out, uint16_t id, const struct dg_dns_question *q,
			 uint8_t octet)
{
	static const uint8_t hdr[] = { 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0 };
	static const uint8_t rr[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 1, 0x2c,
				      0, 4, 203, 0, 113 };
	size_t n = 0;

	out[n++] = (uint8_t)(id >> 8);
	out[n++] = (uint8_t)id;
	memcpy(out + n, hdr, sizeof(hdr));
	n += sizeof(hdr);
	memcpy(out + n, q->name, q->name_len);
	n += q->name_len;
	out[n++] = (uint8_t)(q->qtype >> 8);
	out[n++] = (uint8_t)q->qtype;
	out[n++] = (uint8_t)(q->qclass >> 8);
	out[n++] = (uint8_t)q->qclass;
	memcpy(out + n, rr, sizeof(rr));
	n += sizeof(rr);
	out[n++] = octet;
	return n;
}

static void fake_opened(struct fconn *c)
{
	c->base.state = POOL_C_OPEN;
	c->base.last_read = loop.now;
	pool_conn_opened(&c->base);
}

static void fake_close(struct pool_conn *base)
{
	struct fconn *c = fconn_of(base);

	if (c->base.state == POOL_C_DEAD)
		return;
	c->base.state = POOL_C_DEAD;
	dg_defer(&loop, &c->release);
	pool_conn_closed(&c->base);
}

static void fake_failed(struct fconn *c, enum dg_upfail why, const char *text)
{
	pool_conn_failed(&c->base, why, text);
	fake_close(&c->base);
}

/* The server answers sent[i] with 203.0.113.octet. Returns what the
 * scheduler said: true when it matched a query in flight. */
static bool fake_answer_one(int i, uint8_t octet)
{
	struct fake_sent *s = &fake.sent[i];
	struct fconn *c = fake_conn(s->conn);
	uint8_t msg[512];
	size_t len = fake_reply(msg, s->id, &s->q, octet);
	int k;

	for (k = 0; k < c->n_pending; k++)
		if (c->pending[k] == i) {
			c->pending[k] = c->pending[--c->n_pending];
			break;
		}
	c->base.last_read = loop.now;
	return pool_conn_answer(&c->base, msg, len);
}

static void fake_step(struct dg_loop *l, struct dg_defer *d)
{
	struct fconn *c = (struct fconn *)((char *)d - offsetof(struct fconn, step));
	struct fake_up *f = &fake.up[c->base.up->idx];

	(void)l;
	if (c->base.state == POOL_C_DEAD)
		return;
	if (c->base.state != POOL_C_OPEN) {
		if (f->fail) {
			fake_failed(c, f->fail_why, "fake handshake failure");
			return;
		}
		if (!f->auto_open)
			return;
		fake_opened(c);
		if (c->base.state != POOL_C_OPEN)
			return;
	}
	while (f->answer && c->n_pending && c->base.state == POOL_C_OPEN)
		fake_answer_one(c->pending[c->n_pending - 1], 10 + c->base.up->idx);
}

static void fake_release(struct dg_loop *l, struct dg_defer *d)
{
	struct fconn *c = (struct fconn *)((char *)d - offsetof(struct fconn, release));

	(void)l;
	fake.conns[c->slot] = NULL;
	fake.live--;
	free(c);
}

static struct pool_conn *fake_open(struct pool_up *up)
{
	struct fake_up *f = &fake.up[up->idx];
	struct fconn *c;

	f->open_calls++;
	assert_true(fake.n_open < (int)(sizeof(fake.open_order) / sizeof(int)));
	fake.open_order[fake.n_open++] = up->idx;
	if (f->refuse) {
		pool_up_failed(up, DG_UF_REFUSED, "fake: connection refused");
		return NULL;
	}
	assert_true(fake.n_conns < FAKE_CONNS_MAX);
	c = calloc(1, sizeof(*c));
	assert_non_null(c);
	c->base.up = up;
	c->base.state = POOL_C_HANDSHAKE;
	dg_defer_init(&c->step, fake_step);
	dg_defer_init(&c->release, fake_release);
	c->slot = fake.n_conns;
	fake.conns[fake.n_conns++] = c;
	fake.live++;
	dg_defer(&loop, &c->step);
	return &c->base;
}

static int fake_send(struct pool_conn *base, uint16_t id,
		     const struct dg_dns_query *q)
{
	struct fconn *c = fconn_of(base);
	struct fake_sent *s;

	assert_int_not_equal(c->base.state, POOL_C_DEAD);
	assert_true(fake.n_sent < FAKE_SENT_MAX);
	assert_true(c->n_pending < DG_IDMAP_SLOTS);
	s = &fake.sent[fake.n_sent];
	s->up = c->base.up->idx;
	s->conn = c->slot;
	s->id = id;
	s->q = q->q;
	c->pending[c->n_pending++] = fake.n_sent++;
	if (fake.up[s->up].answer)
		dg_defer(&loop, &c->step);
	return 0;
}

static int fake_init(struct dg_pool *p, const struct dg_config *cfg)
{
	(void)cfg;
	p->tctx = &fake;
	return 0;
}

static void fake_fini(struct dg_pool *p)
{
	p->tctx = NULL;
}

static const struct pool_transport fake_transport = {
	.init = fake_init,
	.fini = fake_fini,
	.open = fake_open,
	.send = fake_send,
	.close = fake_close,
};

/* Bytes arriving on a slow upstream's connections. */
static void fake_trickle(void)
{
	int i;

	for (i = 0; i < fake.n_conns; i++)
		if (fake.conns[i] && fake.conns[i]->base.state == POOL_C_OPEN &&
		    fake.up[fake.conns[i]->base.up->idx].trickle)
			fake.conns[i]->base.last_read = loop.now;
}

/* The guard's allow-list hook: counts the cleartext sockets the pool asks
 * to send from, and lets none of them send. */
static int fake_allow(void *arg, int fd)
{
	(void)arg;
	(void)fd;
	fake.allow_calls++;
	return -EPERM;
}

static void fake_forget(void *arg, uint64_t cookie)
{
	(void)arg;
	(void)cookie;
}

static void log_capture(enum dg_log_level level, const char *msg, void *arg)
{
	size_t n = strlen(fake.log);

	(void)level;
	(void)arg;
	snprintf(fake.log + n, sizeof(fake.log) - n, "%s\n", msg);
	if (getenv("POOL_DEBUG"))
		fprintf(stderr, "log: %s\n", msg);
}

/* Open connections in state OPEN to upstream idx. */
static int conns_open(int idx)
{
	int i, n = 0;

	for (i = 0; i < fake.n_conns; i++)
		n += fake.conns[i] && fake.conns[i]->base.up->idx == idx &&
		     fake.conns[i]->base.state == POOL_C_OPEN;
	return n;
}

/* The newest live connection to upstream idx. */
static int conn_to(int idx)
{
	int i;

	for (i = fake.n_conns - 1; i >= 0; i--)
		if (fake.conns[i] && fake.conns[i]->base.up->idx == idx &&
		    fake.conns[i]->base.state != POOL_C_DEAD)
			return i;
	fail_msg("no live connection to upstream %d", idx);
	return -1;
}

/* ---- queries and what came back ------------------------------------ */

struct result {
	int calls;
	bool answered;
	uint8_t octet;		/* last byte of the A record */
	char label[DG_UPSTREAM_NAME];
	uint64_t at;		/* loop time of done() */
};

static struct result res[QUERIES_MAX];
static int n_q;

static void on_done(void *arg, const uint8_t *msg, size_t len,
		    const struct dg_dns_resp_info *ri, const char *label,
		    uint64_t rtt_us)
{
	struct result *r = arg;

	(void)rtt_us;
	r->calls++;
	r->at = loop.now;
	r->answered = msg != NULL;
	if (msg) {
		assert_non_null(ri);
		assert_true(len > 4);
		r->octet = msg[len - 1];
		snprintf(r->label, sizeof(r->label), "%s", label);
	}
}

/* Ask for qN.test A; returns N (its slot in res[]). */
static int ask(void)
{
	struct dg_dns_query q;
	char name[32];
	int n;

	assert_true(n_q < QUERIES_MAX);
	memset(&q, 0, sizeof(q));
	snprintf(name, sizeof(name), "q%d.test", n_q);
	n = dg_dns_name_from_text(name, q.q.name, sizeof(q.q.name));
	assert_true(n > 0);
	q.q.name_len = (uint8_t)n;
	q.q.qtype = DG_TYPE_A;
	q.q.qclass = DG_CLASS_IN;
	q.flags = DG_DNS_RD;
	dg_pool_query(pool, &q, on_done, &res[n_q]);
	return n_q++;
}

/* The sent[] index of query n's latest send. */
static int sent_of(int n)
{
	char name[32];
	uint8_t wire[DG_DNS_NAME_MAX];
	int i, len;

	snprintf(name, sizeof(name), "q%d.test", n);
	len = dg_dns_name_from_text(name, wire, sizeof(wire));
	for (i = fake.n_sent - 1; i >= 0; i--)
		if (fake.sent[i].q.name_len == len &&
		    !memcmp(fake.sent[i].q.name, wire, len))
			return i;
	fail_msg("q%d was never sent", n);
	return -1;
}

static struct dg_upstream_stats *ust(int idx)
{
	return &stats.s->up[idx];
}

/* ---- set-up ---------------------------------------------------------- */

/* A pool over the fake transport for this dotguard.conf text (no
 * FallbackDNS= unless it names one: the built-in default is not ours). */
static void pool_up_with(const char *conf)
{
	static const char no_fallback[] = "[Resolve]\nFallbackDNS=\n";
	static struct dg_config cfg;

	dg_config_defaults(&cfg);
	assert_int_equal(dg_config_parse(&cfg, "base.conf", no_fallback,
					 strlen(no_fallback)), 0);
	assert_int_equal(dg_config_parse(&cfg, "test.conf", conf, strlen(conf)), 0);
	pool = dg_pool_new_transport(&loop, &cfg, &stats, &fake_transport);
	assert_non_null(pool);
	dg_pool_set_allow(pool, fake_allow, fake_forget, NULL);
	t0 = loop.now;
	dg_pool_start(pool);
	vt_iterate();
}

static int setup(void **state)
{
	(void)state;
	memset(&fake, 0, sizeof(fake));
	memset(res, 0, sizeof(res));
	n_q = 0;
	pool = NULL;
	assert_int_equal(dg_loop_init(&loop), 0);
	assert_int_equal(dg_stats_open(&stats, NULL), 0);
	log_set_sink(log_capture, NULL);
	log_set_level(DG_LOG_VERBOSE);
	return 0;
}

/* Free the pool: every query still in flight is answered (SERVFAIL), and
 * every query ever asked has had exactly one done(). */
static void pool_down(void)
{
	int i;

	dg_pool_free(pool);
	pool = NULL;
	vt_iterate();
	for (i = 0; i < n_q; i++)
		if (res[i].calls != 1)
			fail_msg("q%d: done() called %d times", i, res[i].calls);
	assert_int_equal(fake.live, 0);
	assert_int_equal(stats.s->inflight, 0);
	for (i = 0; i < DG_MAX_UPSTREAMS; i++)
		assert_int_equal(ust(i)->conns_open, 0);
}

static int teardown(void **state)
{
	(void)state;
	if (pool)
		pool_down();
	dg_loop_fini(&loop);
	dg_stats_close(&stats);
	log_set_sink(NULL, NULL);
	log_set_level(DG_LOG_INFO);
	return 0;
}

#define A "192.0.2.1#dns.test"
#define B "192.0.2.2#dns.test"
#define F "198.51.100.1#fb.test"

/* ---- tests ------------------------------------------------------------- */

/* Test that the primaries are opened to PoolSize= at start and the
 * fallback is not, queries go to the first primary, and a fallback is
 * only opened when a query needs it. */
static void test_warm_pool(void **state)
{
	(void)state;
	fake.up[0].auto_open = fake.up[1].auto_open = fake.up[2].auto_open = true;
	fake.up[0].answer = true;
	pool_up_with("[Resolve]\nDNS=" A " " B "\nFallbackDNS=" F "\n"
		     "[TLS]\nPoolSize=2\n");
	assert_int_equal(conns_open(0), 2);
	assert_int_equal(conns_open(1), 2);
	assert_int_equal(fake.up[2].open_calls, 0);
	assert_int_equal(ust(0)->conns_open, 2);
	assert_int_equal(ust(0)->state, DG_UP_UP);

	ask();
	ask();
	vt_at(1);
	assert_int_equal(res[0].calls, 1);
	assert_true(res[0].answered);
	assert_string_equal(res[0].label, A);
	assert_int_equal(res[1].octet, 10);
	assert_int_equal(ust(0)->answers, 2);
	assert_int_equal(ust(1)->queries, 0);
	assert_int_equal(fake.up[2].open_calls, 0);
	assert_int_equal(fake.allow_calls, 0);
	pool_down();
}

/* Test that pipelined queries answered in any order each get their own
 * answer, once, and a late answer to an ID no query holds is dropped. */
static void test_out_of_order(void **state)
{
	int q[3], s[3], i;

	(void)state;
	fake.up[0].auto_open = true;
	pool_up_with("[Resolve]\nDNS=" A "\n[TLS]\nPoolSize=1\n");
	for (i = 0; i < 3; i++)
		q[i] = ask();
	vt_at(1);
	for (i = 0; i < 3; i++) {
		s[i] = sent_of(q[i]);
		assert_int_equal(fake.sent[s[i]].conn, fake.sent[s[0]].conn);
	}
	assert_true(fake_answer_one(s[2], 102));
	vt_at(2);
	assert_int_equal(res[q[2]].calls, 1);
	assert_int_equal(res[q[0]].calls, 0);
	assert_true(fake_answer_one(s[0], 100));
	assert_true(fake_answer_one(s[1], 101));
	vt_at(3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(res[q[i]].calls, 1);
		assert_true(res[q[i]].answered);
		assert_int_equal(res[q[i]].octet, 100 + i);
	}
	/* The same answer again: nobody waits for that ID any more. */
	assert_false(fake_answer_one(s[1], 101));
	assert_int_equal(res[q[1]].calls, 1);
	assert_int_equal(ust(0)->answers, 3);
	assert_int_equal(stats.s->retries, 0);
	pool_down();
}

/* Test that a connection failing before it opens marks its upstream down
 * (counted by reason), queries go to the next upstream meanwhile, the
 * upstream is probed with one connection after a backoff that doubles up
 * to 4 s, and is used again once a probe opens. */
static void test_down_backoff_probe(void **state)
{
	static const int backoff[] = { 500, 1000, 2000, 4000, 4000 };
	uint64_t at = 0;
	int q, k, calls;

	(void)state;
	fake.up[1].auto_open = fake.up[1].answer = true;
	pool_up_with("[Resolve]\nDNS=" A " " B "\n[TLS]\nPoolSize=1\n");
	assert_int_equal(fake.up[0].open_calls, 1);
	fake_failed(fake_conn(conn_to(0)), DG_UF_VERIFY, "fake: bad chain");
	vt_iterate();
	assert_int_equal(ust(0)->state, DG_UP_DOWN);
	assert_int_equal(ust(0)->fails[DG_UF_VERIFY], 1);
	assert_non_null(strstr(fake.log, "upstream " A ": fake: bad chain; marked down, retrying in 500 ms"));

	q = ask();
	vt_at(1);
	assert_int_equal(res[q].calls, 1);
	assert_string_equal(res[q].label, B);

	for (k = 0; k < 5; k++) {
		calls = fake.up[0].open_calls;
		at += backoff[k];
		vt_at(at - 1);
		assert_int_equal(fake.up[0].open_calls, calls);
		vt_at(at);
		assert_int_equal(fake.up[0].open_calls, calls + 1);
		fake_failed(fake_conn(conn_to(0)), DG_UF_HANDSHAKE, "fake: no");
		vt_iterate();
		assert_int_equal(ust(0)->state, DG_UP_DOWN);
	}
	at += 4000;
	vt_at(at);
	fake_opened(fake_conn(conn_to(0)));
	vt_iterate();
	assert_int_equal(ust(0)->state, DG_UP_UP);
	assert_non_null(strstr(fake.log, "upstream " A ": reachable again"));
	fake.up[0].auto_open = fake.up[0].answer = true;
	q = ask();
	vt_at(at + 1);
	assert_string_equal(res[q].label, A);
	assert_int_equal(ust(0)->fails[DG_UF_HANDSHAKE], 5);
	assert_int_equal(fake.allow_calls, 0);
	pool_down();
}

/* Test that failover walks DNS= in order, then FallbackDNS=: the first
 * refuses at once, the second fails its handshake, the fallback (opened
 * only now) answers. */
static void test_failover_order(void **state)
{
	int q;

	(void)state;
	fake.up[0].refuse = true;
	fake.up[1].fail = true;
	fake.up[1].fail_why = DG_UF_NAME;
	fake.up[2].auto_open = fake.up[2].answer = true;
	pool_up_with("[Resolve]\nDNS=" A " " B "\nFallbackDNS=" F "\n"
		     "[TLS]\nPoolSize=1\n");
	assert_int_equal(fake.up[2].open_calls, 0);
	assert_int_equal(ust(0)->fails[DG_UF_REFUSED], 1);
	assert_int_equal(ust(1)->fails[DG_UF_NAME], 1);
	q = ask();
	vt_at(1);
	assert_int_equal(res[q].calls, 1);
	assert_true(res[q].answered);
	assert_string_equal(res[q].label, F);
	assert_int_equal(res[q].octet, 12);
	assert_int_equal(fake.n_open, 3);
	assert_int_equal(fake.open_order[0], 0);
	assert_int_equal(fake.open_order[1], 1);
	assert_int_equal(fake.open_order[2], 2);
	pool_down();
}

/* Test that a fallback marked down is still shown as a fallback (the
 * state counter is 32 bits wide; a 64-bit store cleared its neighbour). */
static void test_down_fallback_keeps_flag(void **state)
{
	(void)state;
	fake.up[1].fail = true;
	fake.up[1].fail_why = DG_UF_VERIFY;
	fake.up[0].auto_open = fake.up[0].trickle = true;
	pool_up_with("[Resolve]\nDNS=" A "\nFallbackDNS=" F "\n[TLS]\nPoolSize=1\n");
	/* A does not answer in time: the query tries F, which fails. */
	ask();
	vt_at(DG_ATTEMPT_TIMEOUT_MS);
	assert_int_equal(ust(1)->fails[DG_UF_VERIFY], 1);
	assert_int_equal(ust(1)->state, DG_UP_DOWN);
	assert_int_equal(ust(1)->fallback, 1);
	assert_int_equal(ust(0)->fallback, 0);
	pool_down();
}

/* Test that a query unanswered for an attempt's time (the connection
 * still sending bytes) is sent to the next upstream at exactly 1.2 s,
 * counted as a timeout and a retry, and the slow connection stays. */
static void test_retry_after_attempt_timeout(void **state)
{
	int q;

	(void)state;
	fake.up[0].auto_open = fake.up[0].trickle = true;
	fake.up[1].auto_open = fake.up[1].answer = true;
	pool_up_with("[Resolve]\nDNS=" A "\nFallbackDNS=" F "\n[TLS]\nPoolSize=1\n");
	q = ask();
	vt_at(DG_ATTEMPT_TIMEOUT_MS - 1);
	assert_int_equal(res[q].calls, 0);
	assert_int_equal(fake.up[1].open_calls, 0);
	vt_at(DG_ATTEMPT_TIMEOUT_MS);
	assert_int_equal(res[q].calls, 1);
	assert_true(res[q].answered);
	assert_string_equal(res[q].label, F);
	assert_int_equal(res[q].at, t0 + DG_ATTEMPT_TIMEOUT_MS * MS);
	assert_int_equal(ust(0)->fails[DG_UF_TIMEOUT], 1);
	assert_int_equal(stats.s->retries, 1);
	assert_int_equal(conns_open(0), 1);
	assert_int_equal(ust(0)->state, DG_UP_UP);
	pool_down();
}

/* Test that a connection with not one byte in for an attempt's time is
 * closed as stalled, its query moves on, the upstream is not marked down
 * (it had opened), and the primary is reopened to keep the pool warm. */
static void test_stall_closes_connection(void **state)
{
	int q;

	(void)state;
	fake.up[0].auto_open = true;
	fake.up[1].auto_open = fake.up[1].answer = true;
	pool_up_with("[Resolve]\nDNS=" A "\nFallbackDNS=" F "\n[TLS]\nPoolSize=1\n");
	q = ask();
	vt_at(DG_ATTEMPT_TIMEOUT_MS);
	assert_string_equal(res[q].label, F);
	assert_int_equal(ust(0)->fails[DG_UF_TIMEOUT], 1);
	assert_int_equal(ust(0)->state, DG_UP_UP);
	assert_int_equal(conns_open(0), 0);
	assert_int_equal(fake.up[0].open_calls, 1);
	vt_at(DG_ATTEMPT_TIMEOUT_MS + 100);
	assert_int_equal(fake.up[0].open_calls, 2);
	assert_int_equal(conns_open(0), 1);
	pool_down();
}

/* Test that a query nobody answers gets SERVFAIL at exactly the 3 s
 * deadline, after 3 sends, not a moment before. */
static void test_servfail_at_deadline(void **state)
{
	int q;

	(void)state;
	fake.up[0].auto_open = fake.up[0].trickle = true;
	pool_up_with("[Resolve]\nDNS=" A "\n[TLS]\nPoolSize=1\n");
	q = ask();
	vt_at(DG_QUERY_DEADLINE_MS - 1);
	assert_int_equal(res[q].calls, 0);
	vt_at(DG_QUERY_DEADLINE_MS);
	assert_int_equal(res[q].calls, 1);
	assert_false(res[q].answered);
	assert_int_equal(res[q].at, t0 + DG_QUERY_DEADLINE_MS * MS);
	assert_int_equal(ust(0)->queries, 3);
	assert_int_equal(stats.s->retries, 2);
	assert_int_equal(stats.s->upstreams_saturated, 0);
	assert_int_equal(stats.s->inflight, 0);
	pool_down();
}

/* Test that an answer for another question is refused (counted) and the
 * query tried again, and a runt frame is counted and ignored. */
static void test_malformed_answer(void **state)
{
	uint8_t msg[512] = { 0 };
	struct fake_sent *s;
	struct fconn *c;
	size_t len;
	int q;

	(void)state;
	fake.up[0].auto_open = true;
	fake.up[1].auto_open = fake.up[1].answer = true;
	pool_up_with("[Resolve]\nDNS=" A " " B "\n[TLS]\nPoolSize=1\n");
	q = ask();
	vt_at(1);
	s = &fake.sent[sent_of(q)];
	c = fake_conn(s->conn);
	assert_false(pool_conn_answer(&c->base, msg, 1));
	assert_int_equal(ust(0)->fails[DG_UF_MALFORMED], 1);
	len = fake_reply(msg, s->id, &s->q, 1);
	msg[13] ^= 0x01;	/* another name */
	assert_true(pool_conn_answer(&c->base, msg, len));
	vt_at(2);
	assert_int_equal(ust(0)->fails[DG_UF_MALFORMED], 2);
	assert_int_equal(res[q].calls, 1);
	assert_string_equal(res[q].label, B);
	pool_down();
}

/* Test that a server closing an idle connection is not a failure. */
static void test_idle_close_not_a_failure(void **state)
{
	(void)state;
	fake.up[0].auto_open = true;
	pool_up_with("[Resolve]\nDNS=" A "\n[TLS]\nPoolSize=1\n");
	fake_failed(fake_conn(conn_to(0)), DG_UF_RESET, "fake: closed");
	vt_iterate();
	assert_int_equal(ust(0)->fails[DG_UF_RESET], 0);
	assert_int_equal(ust(0)->state, DG_UP_UP);
	pool_down();
}

/* Test that freeing the pool answers every query in flight once
 * (SERVFAIL), wherever it waits: on an open connection, on one still
 * handshaking. */
static void test_free_answers_all(void **state)
{
	int i;

	(void)state;
	fake.up[0].auto_open = true;
	pool_up_with("[Resolve]\nDNS=" A " " B "\n[TLS]\nPoolSize=2\n");
	for (i = 0; i < 10; i++)
		ask();
	vt_at(1);
	fake_failed(fake_conn(conn_to(0)), DG_UF_RESET, "fake: reset");
	vt_iterate();
	for (i = 0; i < 10; i++)
		ask();
	vt_at(2);
	for (i = 0; i < n_q; i++)
		assert_int_equal(res[i].calls, 0);
	assert_int_equal(stats.s->inflight, 20);
	pool_down();
	for (i = 0; i < n_q; i++)
		assert_false(res[i].answered);
}

/* Test that a full upstream passes queries on (DNS= order, then
 * FallbackDNS=) instead of failing them; that SERVFAIL comes only when
 * every upstream is full, at once and counted apart; and that a freed
 * slot takes the next query back to the first upstream. */
static void test_spill_when_saturated(void **state)
{
	const int per_up = 2 * DG_IDMAP_SLOTS;	/* PoolSize=2 */
	int i, q, s;

	(void)state;
	fake.up[0].auto_open = fake.up[1].auto_open = fake.up[2].auto_open = true;
	fake.up[0].trickle = fake.up[1].trickle = fake.up[2].trickle = true;
	pool_up_with("[Resolve]\nDNS=" A " " B "\nFallbackDNS=" F "\n"
		     "[TLS]\nPoolSize=2\n");
	for (i = 0; i < per_up; i++)
		ask();
	vt_at(1);
	assert_int_equal(ust(0)->queries, per_up);
	assert_int_equal(ust(0)->saturated, 0);
	assert_int_equal(fake.up[2].open_calls, 0);

	q = ask();
	vt_at(2);
	assert_int_equal(fake.sent[sent_of(q)].up, 1);
	assert_int_equal(ust(0)->saturated, 1);
	for (i = 1; i < per_up; i++)
		ask();
	vt_at(3);
	assert_int_equal(ust(1)->queries, per_up);
	assert_int_equal(fake.up[2].open_calls, 0);

	q = ask();
	vt_at(4);
	assert_int_equal(fake.sent[sent_of(q)].up, 2);
	for (i = 1; i < per_up; i++)
		ask();
	vt_at(5);
	assert_int_equal(ust(2)->queries, per_up);
	assert_int_equal(stats.s->upstreams_saturated, 0);
	for (i = 0; i < n_q; i++)
		assert_int_equal(res[i].calls, 0);

	/* Every slot taken: SERVFAIL now, not at the deadline. */
	q = ask();
	vt_at(6);
	assert_int_equal(res[q].calls, 1);
	assert_false(res[q].answered);
	assert_int_equal(stats.s->upstreams_saturated, 1);
	assert_int_equal(stats.s->retries, 0);

	/* One answer from A frees a slot there: the next query is A's. */
	s = sent_of(0);
	assert_true(fake_answer_one(s, 7));
	q = ask();
	vt_at(7);
	assert_int_equal(res[0].calls, 1);
	assert_int_equal(fake.sent[sent_of(q)].up, 0);
	assert_int_equal(stats.s->upstreams_saturated, 1);
	assert_int_equal(fake.allow_calls, 0);
	pool_down();
}

/* Test the control for the pin rule: in opportunistic mode a TLS
 * failure other than a pin falls back to cleartext (the pool asks the
 * guard to let a cleartext socket out). */
static void test_opportunistic_falls_back(void **state)
{
	int q;

	(void)state;
	fake.up[0].fail = true;
	fake.up[0].fail_why = DG_UF_HANDSHAKE;
	pool_up_with("[Resolve]\nDNS=" A "\nDNSOverTLS=opportunistic\n[TLS]\nPoolSize=1\n");
	assert_non_null(strstr(fake.log, "opportunistic mode: using cleartext"));
	assert_int_not_equal(ust(0)->state, DG_UP_DOWN);
	q = ask();
	vt_at(1);
	assert_int_equal(fake.allow_calls, 1);
	assert_int_equal(res[q].calls, 1);
	pool_down();
}

/* Test that in opportunistic mode an SPKI pin mismatch never falls back
 * to cleartext: the upstream is marked down as in strict mode, queries go
 * to the next upstream over TLS, a later refused TLS connection does not
 * bring cleartext back either; only a connection whose pin matched does. */
static void test_opportunistic_pin_never_cleartext(void **state)
{
	int q;

	(void)state;
	fake.up[0].fail = true;
	fake.up[0].fail_why = DG_UF_PIN;
	fake.up[1].auto_open = fake.up[1].answer = true;
	pool_up_with("[Resolve]\nDNS=" A " " B "\nDNSOverTLS=opportunistic\n"
		     "[TLS]\nPoolSize=1\n");
	assert_int_equal(ust(0)->fails[DG_UF_PIN], 1);
	assert_int_equal(ust(0)->state, DG_UP_DOWN);
	assert_non_null(strstr(fake.log, "SPKI pin mismatch; no cleartext fallback"));
	assert_null(strstr(fake.log, "using cleartext"));
	q = ask();
	vt_at(1);
	assert_string_equal(res[q].label, B);
	assert_int_equal(fake.allow_calls, 0);

	/* The probe finds port 853 refused now: still no cleartext. */
	fake.up[0].fail_why = DG_UF_REFUSED;
	vt_at(DG_BACKOFF_MIN_MS);
	assert_int_equal(fake.up[0].open_calls, 2);
	assert_int_equal(ust(0)->fails[DG_UF_REFUSED], 1);
	assert_int_equal(ust(0)->state, DG_UP_DOWN);
	q = ask();
	vt_at(DG_BACKOFF_MIN_MS + 1);
	assert_string_equal(res[q].label, B);
	assert_int_equal(fake.allow_calls, 0);
	assert_int_equal(ust(0)->cleartext, 0);

	/* A connection whose pin matched: the path is clean again, and a
	 * later plain TLS failure may fall back as RFC 8310 allows. */
	fake.up[0].fail = false;
	vt_at(DG_BACKOFF_MIN_MS + 1000);
	fake_opened(fake_conn(conn_to(0)));
	vt_iterate();
	assert_int_equal(ust(0)->state, DG_UP_UP);
	fake_failed(fake_conn(conn_to(0)), DG_UF_RESET, "fake: reset");
	vt_at(DG_BACKOFF_MIN_MS + 1100);
	fake_failed(fake_conn(conn_to(0)), DG_UF_HANDSHAKE, "fake: no");
	q = ask();
	vt_at(DG_BACKOFF_MIN_MS + 1101);
	assert_int_equal(fake.allow_calls, 1);
	pool_down();
}

/* Test that a pin mismatch met while already in cleartext (TLS was
 * refused, the probe reaches someone with the wrong key) ends cleartext
 * to that upstream at once. */
static void test_pin_mismatch_leaves_cleartext(void **state)
{
	int q, calls;

	(void)state;
	fake.up[0].fail = true;
	fake.up[0].fail_why = DG_UF_REFUSED;
	pool_up_with("[Resolve]\nDNS=" A "\nDNSOverTLS=opportunistic\n[TLS]\nPoolSize=1\n");
	q = ask();
	vt_at(1);
	assert_int_equal(fake.allow_calls, 1);
	calls = fake.up[0].open_calls;
	fake.up[0].fail_why = DG_UF_PIN;
	vt_at(DG_BACKOFF_MIN_MS);
	assert_int_equal(fake.up[0].open_calls, calls + 1);
	assert_int_equal(ust(0)->fails[DG_UF_PIN], 1);
	assert_int_equal(ust(0)->state, DG_UP_DOWN);
	assert_non_null(strstr(fake.log, "no cleartext fallback to it, leaving cleartext"));
	q = ask();
	vt_at(DG_BACKOFF_MIN_MS + 1);
	assert_int_equal(res[q].calls, 1);
	assert_false(res[q].answered);
	assert_int_equal(fake.allow_calls, 1);
	pool_down();
}

/* Test that strict mode never asks for a cleartext socket, whatever
 * fails. */
static void test_strict_never_cleartext(void **state)
{
	int q;

	(void)state;
	fake.up[0].fail = true;
	fake.up[0].fail_why = DG_UF_HANDSHAKE;
	pool_up_with("[Resolve]\nDNS=" A "\nDNSOverTLS=yes\n[TLS]\nPoolSize=1\n");
	q = ask();
	vt_at(DG_QUERY_DEADLINE_MS);
	assert_int_equal(res[q].calls, 1);
	assert_false(res[q].answered);
	assert_int_equal(fake.allow_calls, 0);
	assert_int_equal(ust(0)->state, DG_UP_DOWN);
	pool_down();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_warm_pool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_down_backoff_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failover_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_down_fallback_keeps_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_after_attempt_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stall_closes_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_servfail_at_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_close_not_a_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_answers_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spill_when_saturated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_opportunistic_falls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_opportunistic_pin_never_cleartext, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_mismatch_leaves_cleartext, setup, teardown),
		cmocka_unit_test_setup_teardown(test_strict_never_cleartext, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
