// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/clients.c: who counts as one client, what one
 * client may hold, what a flood of addresses does to the table, and the
 * answer-rate bucket on an injected clock.
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
#include <sys/un.h>
#include <cmocka.h>

#include "clients.h"

#define SEC 1000000000ull

static struct dg_clients *c;

static int setup(void **state)
{
	(void)state;
	c = calloc(1, sizeof(*c));
	return c ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(c);
	return 0;
}

/* An address as a sockaddr: "192.0.2.1" or "2001:db8::1". */
static const struct sockaddr *sa(const char *text)
{
	static struct sockaddr_storage ss[4];
	static int i;
	struct sockaddr_storage *s = &ss[i++ % 4];
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)s;
	struct sockaddr_in *s4 = (struct sockaddr_in *)s;

	memset(s, 0, sizeof(*s));
	if (strchr(text, ':')) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(53000);
		assert_int_equal(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
	} else {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(53000);
		assert_int_equal(inet_pton(AF_INET, text, &s4->sin_addr), 1);
	}
	return (const struct sockaddr *)s;
}

/* The i-th of many distinct IPv4 clients (198.18.0.0/15 would do, but
 * only TEST-NET addresses appear in tests: three /24s, then IPv6). */
static const struct sockaddr *nth(unsigned int i)
{
	static const char *const nets[] = { "192.0.2", "198.51.100", "203.0.113" };
	char text[64];

	if (i < 3 * 256)
		snprintf(text, sizeof(text), "%s.%u", nets[i / 256], i % 256);
	else
		snprintf(text, sizeof(text), "2001:db8:%x:%x::1", i >> 16, i & 0xffff);
	return sa(text);
}

/* Test that a client is an IPv4 address or an IPv6 /64: the port does
 * not matter, an IPv4-mapped address is its IPv4 client, two hosts of
 * one /64 are one client, and the next /64 is another. */
static void test_key(void **state)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct sockaddr_in v4;
	int h;

	(void)state;
	h = dg_clients_get(c, sa("192.0.2.1"));
	assert_true(h > 0);
	memcpy(&v4, sa("192.0.2.1"), sizeof(v4));
	v4.sin_port = htons(1);
	assert_int_equal(dg_clients_get(c, (struct sockaddr *)&v4), h);
	assert_int_equal(dg_clients_get(c, sa("::ffff:192.0.2.1")), h);
	assert_int_not_equal(dg_clients_get(c, sa("192.0.2.2")), h);

	h = dg_clients_get(c, sa("2001:db8:1:2::1"));
	assert_true(h > 0);
	assert_int_equal(dg_clients_get(c, sa("2001:db8:1:2:ffff:ffff:ffff:ffff")), h);
	assert_int_not_equal(dg_clients_get(c, sa("2001:db8:1:3::1")), h);
	/* An IPv6 /64 and an IPv4 address with the same leading bytes. */
	assert_int_not_equal(dg_clients_get(c, sa("2001:db8::")),
			     dg_clients_get(c, sa("32.1.13.184")));
	assert_int_equal(dg_clients_get(c, (struct sockaddr *)&un), -EAFNOSUPPORT);
	assert_int_equal(dg_clients_query_begin(c, (struct sockaddr *)&un), -EAFNOSUPPORT);
}

/* Test that one client gets DG_CLIENT_INFLIGHT_MAX queries in flight and
 * no more, an answer frees one slot, and another client - another IPv4
 * address, another /64 - is not affected; a /64 shares one count. */
static void test_inflight_cap(void **state)
{
	int i, h, h2;

	(void)state;
	for (i = 0; i < DG_CLIENT_INFLIGHT_MAX; i++) {
		h = dg_clients_query_begin(c, sa(i % 2 ? "2001:db8:5::1" : "2001:db8:5::2"));
		assert_true(h > 0);
	}
	assert_int_equal(dg_clients_inflight(c, h), DG_CLIENT_INFLIGHT_MAX);
	assert_int_equal(dg_clients_query_begin(c, sa("2001:db8:5::3")), -EBUSY);
	assert_int_equal(dg_clients_inflight(c, h), DG_CLIENT_INFLIGHT_MAX);
	h2 = dg_clients_query_begin(c, sa("2001:db8:5:1::1"));
	assert_true(h2 > 0 && h2 != h);
	assert_true(dg_clients_query_begin(c, sa("192.0.2.1")) > 0);

	dg_clients_query_done(c, h);
	assert_int_equal(dg_clients_inflight(c, h), DG_CLIENT_INFLIGHT_MAX - 1);
	assert_int_equal(dg_clients_query_begin(c, sa("2001:db8:5::9")), h);
	assert_int_equal(dg_clients_query_begin(c, sa("2001:db8:5::9")), -EBUSY);
	for (i = 0; i < DG_CLIENT_INFLIGHT_MAX; i++)
		dg_clients_query_done(c, h);
	assert_int_equal(dg_clients_inflight(c, h), 0);
	/* An extra done (a bug elsewhere) cannot wrap the count. */
	dg_clients_query_done(c, h);
	assert_int_equal(dg_clients_inflight(c, h), 0);
	dg_clients_query_done(c, 0);
	dg_clients_query_done(c, DG_CLIENTS_MAX + 1);
}

/* Test that the table never holds more than DG_CLIENTS_MAX clients: the
 * next new address takes the entry idle longest (a lookup counts as use),
 * and the others keep theirs. */
static void test_evicts_idle_longest(void **state)
{
	int h[DG_CLIENTS_MAX];
	unsigned int i;
	int hn;

	(void)state;
	for (i = 0; i < DG_CLIENTS_MAX; i++) {
		h[i] = dg_clients_get(c, nth(i));
		assert_true(h[i] > 0);
	}
	assert_int_equal(c->n_used, DG_CLIENTS_MAX);
	assert_int_equal(c->evicted, 0);
	/* Client 0 asks again: client 1 is now the one idle longest. */
	assert_int_equal(dg_clients_get(c, nth(0)), h[0]);
	hn = dg_clients_get(c, nth(DG_CLIENTS_MAX));
	assert_int_equal(hn, h[1]);
	assert_int_equal(c->evicted, 1);
	assert_int_equal(c->n_used, DG_CLIENTS_MAX);
	assert_int_equal(dg_clients_get(c, nth(0)), h[0]);
	assert_int_equal(dg_clients_get(c, nth(DG_CLIENTS_MAX - 1)), h[DG_CLIENTS_MAX - 1]);
	assert_int_equal(dg_clients_get(c, nth(DG_CLIENTS_MAX)), hn);
	assert_int_equal(c->evicted, 1);
	/* Client 1 comes back as a new entry: client 2's. */
	assert_int_equal(dg_clients_get(c, nth(1)), h[2]);
	assert_int_equal(c->evicted, 2);
}

/* Test that a client with a query in flight or a TCP connection open is
 * never evicted, however many new addresses arrive: its counts survive;
 * when every entry is busy a new client gets -ENOSPC (and no rate
 * token), and gets an entry again once one is free. */
static void test_busy_never_evicted(void **state)
{
	unsigned int i;
	int q, t, h;

	(void)state;
	q = dg_clients_query_begin(c, sa("2001:db8:aa::1"));
	t = dg_clients_get(c, sa("192.0.2.77"));
	dg_clients_conn_open(c, t);
	assert_true(q > 0 && t > 0);
	/* Three times the table's size of passing addresses. */
	for (i = 0; i < 3 * DG_CLIENTS_MAX; i++)
		assert_true(dg_clients_get(c, nth(1000 + i)) > 0);
	assert_true(c->evicted >= 2 * DG_CLIENTS_MAX);
	assert_int_equal(dg_clients_get(c, sa("2001:db8:aa::1")), q);
	assert_int_equal(dg_clients_inflight(c, q), 1);
	assert_int_equal(dg_clients_get(c, sa("192.0.2.77")), t);
	assert_int_equal(dg_clients_conns(c, t), 1);

	/* Make every entry busy. */
	for (i = 0; i < 3 * DG_CLIENTS_MAX && c->idle_head; i++)
		assert_true(dg_clients_query_begin(c, nth(50000 + i)) > 0);
	assert_int_equal(c->idle_head, 0);
	assert_int_equal(dg_clients_get(c, sa("2001:db8:bb::1")), -ENOSPC);
	assert_int_equal(dg_clients_query_begin(c, sa("2001:db8:bb::1")), -ENOSPC);
	assert_false(dg_clients_rate_ok(c, sa("2001:db8:bb::1"), SEC));
	/* A busy client already in the table is still served. */
	assert_int_equal(dg_clients_query_begin(c, sa("2001:db8:aa::1")), q);
	assert_true(dg_clients_rate_ok(c, sa("2001:db8:aa::1"), SEC));

	dg_clients_conn_close(c, t);
	h = dg_clients_get(c, sa("2001:db8:bb::1"));
	assert_int_equal(h, t);
	assert_int_equal(dg_clients_inflight(c, q), 2);
}

/* Test that lookups stay right through heavy churn: after many rounds of
 * evictions every client in the table is found under its own entry. */
static void test_churn_consistent(void **state)
{
	static int h[DG_CLIENTS_MAX];
	static uint8_t seen[DG_CLIENTS_MAX + 1];
	unsigned int i, base = 5 * DG_CLIENTS_MAX;

	(void)state;
	for (i = 0; i < base; i++)
		assert_true(dg_clients_get(c, nth(i)) > 0);
	for (i = 0; i < DG_CLIENTS_MAX; i++) {
		h[i] = dg_clients_get(c, nth(base + i));
		assert_true(h[i] > 0 && h[i] <= DG_CLIENTS_MAX);
		assert_int_equal(seen[h[i]], 0);
		seen[h[i]] = 1;
	}
	for (i = 0; i < DG_CLIENTS_MAX; i++)
		assert_int_equal(dg_clients_get(c, nth(base + i)), h[i]);
	assert_int_equal(c->n_used, DG_CLIENTS_MAX);
}

/* Test the answer-rate bucket on an injected clock: a new client gets
 * the burst at once and no more; one answer more per 1/rate; a long
 * pause refills to the burst only; a clock going back refills nothing;
 * each client has its own bucket. */
static void test_rate_bucket(void **state)
{
	const struct sockaddr *a = sa("192.0.2.10");
	uint64_t t0 = 1000 * SEC;
	int i;

	(void)state;
	c->rate = 10;		/* per second: one per 100 ms */
	c->burst = 5;
	for (i = 0; i < 5; i++)
		assert_true(dg_clients_rate_ok(c, a, t0));
	assert_false(dg_clients_rate_ok(c, a, t0));
	assert_true(dg_clients_rate_ok(c, sa("192.0.2.11"), t0));

	assert_false(dg_clients_rate_ok(c, a, t0 + 99999999));
	assert_true(dg_clients_rate_ok(c, a, t0 + 100000000));
	assert_false(dg_clients_rate_ok(c, a, t0 + 100000000));
	/* Half a token, then the other half. */
	assert_false(dg_clients_rate_ok(c, a, t0 + 150000000));
	assert_true(dg_clients_rate_ok(c, a, t0 + 200000000));

	/* Back in time: nothing comes back; forward again from the last
	 * time seen. */
	assert_false(dg_clients_rate_ok(c, a, t0));
	assert_false(dg_clients_rate_ok(c, a, t0 + 250000000));
	assert_true(dg_clients_rate_ok(c, a, t0 + 300000000));

	/* An hour of silence: the burst, not 36000 answers. */
	for (i = 0; i < 5; i++)
		assert_true(dg_clients_rate_ok(c, a, t0 + 3600 * SEC));
	assert_false(dg_clients_rate_ok(c, a, t0 + 3600 * SEC));
}

/* Test the limits.h rates apply to a table left at zero: DG_CLIENT_BURST
 * answers at once, then DG_CLIENT_RATE per second. */
static void test_rate_defaults(void **state)
{
	const struct sockaddr *a = sa("203.0.113.5");
	int i, n = 0;

	(void)state;
	for (i = 0; i < DG_CLIENT_BURST + 10; i++)
		n += dg_clients_rate_ok(c, a, 5 * SEC);
	assert_int_equal(n, DG_CLIENT_BURST);
	for (i = 0, n = 0; i < 2 * DG_CLIENT_RATE; i++)
		n += dg_clients_rate_ok(c, a, 6 * SEC);
	assert_int_equal(n, DG_CLIENT_RATE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inflight_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evicts_idle_longest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_never_evicted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_churn_consistent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_bucket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_defaults, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
