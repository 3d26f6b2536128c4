// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/resolver.c through dg_resolve, with a fake upstream
 * behind the forward seam: what a client may hold upstream, what it gets
 * past that, and that every request gets exactly one reply.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "resolver.h"

#define N_REQS (DG_CLIENTS_MAX + 2 * DG_CLIENT_INFLIGHT_MAX)
#define N_FWD N_REQS

#include "fake_upstream.h"

/* A client request as a transport makes it; the reply lands here. */
struct treq {
	struct dg_req r;
	int replies;
	int rcode;		/* of the reply, -1 before */
	uint16_t id;
};

/* A query the fake upstream holds until the test answers it. */
static struct dg_loop loop;
static struct dg_config cfg;
static struct dg_stats stats;
static struct dg_resolver *res;
static struct treq *reqs;
/* The upstream answers forwarded query i: an A record, or (ok false)
 * no answer at all (every attempt failed). */
static void upstream_answer(int i, bool ok)
{
	static const uint8_t addr[4] = { 203, 0, 113, 10 };
	struct dg_dns_resp_info ri;
	uint8_t msg[512];
	int len;

	assert_true(i < n_fwd && !fwds[i].answered);
	fwds[i].answered = true;
	if (!ok) {
		fwds[i].done(fwds[i].arg, NULL, 0, NULL, NULL, 0);
		return;
	}
	len = dg_dns_build_local(msg, sizeof(msg), &fwds[i].q, addr, 1, 60, NULL,
				 sizeof(msg));
	assert_true(len > 0);
	assert_int_equal(dg_dns_parse_response(msg, (size_t)len, &ri), 0);
	fwds[i].done(fwds[i].arg, msg, (size_t)len, &ri, "fake#test", 100);
}

static void treq_reply(struct dg_req *r, const uint8_t *msg, size_t len)
{
	struct treq *t = (struct treq *)r;

	t->replies++;
	t->rcode = msg && len >= DG_DNS_HDR_LEN ? msg[3] & 0xf : -1;
	t->id = msg && len >= 2 ? (uint16_t)(msg[0] << 8 | msg[1]) : 0;
}

/* Request i: a query for name from peer (NULL: no address known). */
static struct treq *ask(int i, const char *peer, const char *name)
{
	struct treq *t = &reqs[i];
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&t->r.peer;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&t->r.peer;
	int n;

	memset(t, 0, sizeof(*t));
	t->rcode = -1;
	t->r.reply = treq_reply;
	t->r.via = "test";
	t->r.limit = DG_DNS_MSG_MAX;
	t->r.start = loop.now;
	t->r.q.id = (uint16_t)(0x1000 + i);
	t->r.q.flags = DG_DNS_RD;
	n = dg_dns_name_from_text(name, t->r.q.q.name, sizeof(t->r.q.q.name));
	assert_true(n > 0);
	t->r.q.q.name_len = (uint8_t)n;
	t->r.q.q.qtype = DG_TYPE_A;
	t->r.q.q.qclass = DG_CLASS_IN;
	if (peer && strchr(peer, ':')) {
		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, peer, &s6->sin6_addr), 1);
		t->r.peer_len = sizeof(*s6);
	} else if (peer) {
		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, peer, &s4->sin_addr), 1);
		t->r.peer_len = sizeof(*s4);
	}
	dg_resolve(res, &t->r);
	return t;
}

static int setup(void **state)
{
	(void)state;
	if (dg_loop_init(&loop) || dg_stats_open(&stats, NULL))
		return -1;
	dg_config_defaults(&cfg);
	cfg.cache = DG_CACHE_NO;
	res = calloc(1, sizeof(*res));
	reqs = calloc(N_REQS, sizeof(*reqs));
	fwds = calloc(N_FWD, sizeof(*fwds));
	if (!res || !reqs || !fwds)
		return -1;
	res->loop = &loop;
	res->cfg = &cfg;
	res->stats = &stats;
	res->forward = fake_forward;
	n_fwd = 0;
	return 0;
}

static int teardown(void **state)
{
	int i;

	(void)state;
	/* The upstream goes away: what it held fails, as the pool does. */
	for (i = 0; i < n_fwd; i++)
		if (!fwds[i].answered)
			upstream_answer(i, false);
	dg_cache_free(res->cache);
	free(res);
	free(reqs);
	free(fwds);
	dg_stats_close(&stats);
	dg_loop_fini(&loop);
	return 0;
}

/* Test that one client may have DG_CLIENT_INFLIGHT_MAX queries waiting
 * upstream and the next is answered SERVFAIL at once with its own ID
 * (counted, not forwarded, not dropped); another client is forwarded as
 * before; once one answer is back the first client may forward again. */
static void test_client_inflight_cap(void **state)
{
	struct treq *t;
	int i;

	(void)state;
	for (i = 0; i < DG_CLIENT_INFLIGHT_MAX; i++) {
		t = ask(i, "192.0.2.7", "slow.test");
		assert_int_equal(t->replies, 0);
	}
	assert_int_equal(n_fwd, DG_CLIENT_INFLIGHT_MAX);

	t = ask(i++, "192.0.2.7", "slow.test");
	assert_int_equal(t->replies, 1);
	assert_int_equal(t->rcode, DG_RCODE_SERVFAIL);
	assert_int_equal(t->id, t->r.q.id);
	assert_int_equal(n_fwd, DG_CLIENT_INFLIGHT_MAX);
	assert_int_equal(stats.s->client_limited, 1);
	assert_int_equal(stats.s->servfail, 1);

	t = ask(i++, "192.0.2.8", "a.test");
	assert_int_equal(t->replies, 0);
	assert_int_equal(n_fwd, DG_CLIENT_INFLIGHT_MAX + 1);
	upstream_answer(DG_CLIENT_INFLIGHT_MAX, true);
	assert_int_equal(t->replies, 1);
	assert_int_equal(t->rcode, DG_RCODE_NOERROR);

	/* One answer back for the first client: one more may go. */
	upstream_answer(0, true);
	assert_int_equal(reqs[0].replies, 1);
	assert_int_equal(reqs[0].rcode, DG_RCODE_NOERROR);
	t = ask(i++, "192.0.2.7", "slow.test");
	assert_int_equal(t->replies, 0);
	t = ask(i++, "192.0.2.7", "slow.test");
	assert_int_equal(t->rcode, DG_RCODE_SERVFAIL);
	assert_int_equal(stats.s->client_limited, 2);
}

/* Test that a failed upstream attempt (no answer: SERVFAIL) gives the
 * client's slot back as an answer does, and an IPv6 /64 is one client
 * whoever in it asks. */
static void test_failure_frees_slot_v6(void **state)
{
	char peer[64];
	struct treq *t;
	int i;

	(void)state;
	for (i = 0; i < DG_CLIENT_INFLIGHT_MAX; i++) {
		snprintf(peer, sizeof(peer), "2001:db8:9:9::%x", i + 1);
		ask(i, peer, "slow.test");
	}
	t = ask(i++, "2001:db8:9:9:abcd::1", "slow.test");
	assert_int_equal(t->rcode, DG_RCODE_SERVFAIL);
	t = ask(i++, "2001:db8:9:a::1", "slow.test");
	assert_int_equal(t->replies, 0);

	upstream_answer(5, false);
	assert_int_equal(reqs[5].replies, 1);
	assert_int_equal(reqs[5].rcode, DG_RCODE_SERVFAIL);
	t = ask(i++, "2001:db8:9:9::ffff", "slow.test");
	assert_int_equal(t->replies, 0);
	assert_int_equal(stats.s->client_limited, 1);
}

/* Test that answers from the cache are not held against the client: at
 * its cap, a cached name is still answered NOERROR. */
static void test_cache_hit_not_limited(void **state)
{
	struct treq *t;
	int i;

	(void)state;
	res->cache = dg_cache_new(64, 1 << 20);
	assert_non_null(res->cache);
	cfg.cache = DG_CACHE_YES;
	ask(0, "192.0.2.9", "a.test");
	upstream_answer(0, true);
	assert_int_equal(reqs[0].rcode, DG_RCODE_NOERROR);
	for (i = 1; i <= DG_CLIENT_INFLIGHT_MAX; i++)
		ask(i, "192.0.2.9", "slow.test");
	t = ask(i++, "192.0.2.9", "slow.test");
	assert_int_equal(t->rcode, DG_RCODE_SERVFAIL);
	t = ask(i++, "192.0.2.9", "a.test");
	assert_int_equal(t->replies, 1);
	assert_int_equal(t->rcode, DG_RCODE_NOERROR);
	assert_int_equal(stats.s->cache_hits, 1);
}

/* Test that when every entry of the client table holds a query in
 * flight, a new client is answered SERVFAIL at once (clients_full), a
 * client already there is still served, and a request without an
 * address is forwarded uncounted. */
static void test_table_full(void **state)
{
	char peer[64];
	struct treq *t;
	int i;

	(void)state;
	for (i = 0; i < DG_CLIENTS_MAX; i++) {
		snprintf(peer, sizeof(peer), "2001:db8:%x:%x::1", i >> 8, i & 0xff);
		t = ask(i, peer, "slow.test");
		assert_int_equal(t->replies, 0);
	}
	t = ask(i++, "192.0.2.200", "slow.test");
	assert_int_equal(t->replies, 1);
	assert_int_equal(t->rcode, DG_RCODE_SERVFAIL);
	assert_int_equal(stats.s->clients_full, 1);
	t = ask(i++, "2001:db8:0:1::99", "slow.test");
	assert_int_equal(t->replies, 0);
	t = ask(i++, NULL, "slow.test");
	assert_int_equal(t->replies, 0);
	assert_int_equal(n_fwd, DG_CLIENTS_MAX + 2);

	/* Every answer comes back: the table empties and takes anyone. */
	for (i = 0; i < n_fwd; i++)
		upstream_answer(i, true);
	t = ask(DG_CLIENTS_MAX + 10, "192.0.2.200", "slow.test");
	assert_int_equal(t->replies, 0);
	assert_int_equal(stats.s->clients_full, 1);
	assert_int_equal(stats.s->clients_evicted, 1);
	for (i = 0; i < DG_CLIENTS_MAX + 3; i++)
		assert_int_equal(reqs[i].replies, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_client_inflight_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_frees_slot_v6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_hit_not_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_full, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
