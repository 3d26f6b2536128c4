// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/cache.c: what is stored, for how long, under which
 * key, and what goes first when the cache is full.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cache.h"
#include "dns_wire.h"

/* A client's query for name/type, as the parser fills it. */
static void query(struct dg_dns_query *q, const char *name, uint16_t type,
		  bool do_bit)
{
	int len;

	memset(q, 0, sizeof(*q));
	len = dg_dns_name_from_text(name, q->q.name, sizeof(q->q.name));
	assert_true(len > 0);
	q->q.name_len = (uint8_t)len;
	q->q.qtype = type;
	q->q.qclass = DG_CLASS_IN;
	q->flags = DG_DNS_RD;
	q->edns.present = do_bit;
	q->edns.do_bit = do_bit;
}

static void key(struct dg_cache_key *k, const char *name, uint16_t type,
		bool do_bit)
{
	struct dg_dns_query q;

	query(&q, name, type, do_bit);
	dg_cache_key_from_query(k, &q);
}

/* A message of len bytes whose first byte tells them apart. */
static int put(struct dg_cache *c, const struct dg_cache_key *k,
	       uint8_t tag, size_t len, uint32_t ttl, bool negative,
	       uint64_t now)
{
	struct dg_dns_resp_info info;
	uint8_t msg[4096];

	assert_true(len <= sizeof(msg) && len > 0);
	memset(msg, tag, len);
	memset(&info, 0, sizeof(info));
	info.ttl = ttl;
	info.negative = negative;
	info.ttls_complete = true;
	return dg_cache_put(c, k, msg, len, &info, now);
}

/* The first byte of the entry under k at now, -1 on a miss. */
static int tag_at(struct dg_cache *c, const struct dg_cache_key *k,
		  uint64_t now)
{
	const struct dg_cache_entry *e = dg_cache_get(c, k, now, NULL);

	return e ? e->msg[0] : -1;
}

/* Test a hit returns a copy of what was stored, and a miss NULL. */
static void test_hit_miss(void **state)
{
	struct dg_cache *c = dg_cache_new(16, 65536);
	const struct dg_cache_entry *e;
	struct dg_cache_key k, other;
	struct dg_cache_stats st;
	uint8_t msg[100];
	struct dg_dns_resp_info info;
	uint32_t age = 99;

	(void)state;
	assert_non_null(c);
	key(&k, "www.example.com", DG_TYPE_A, false);
	key(&other, "www.example.org", DG_TYPE_A, false);
	memset(msg, 0x5a, sizeof(msg));
	memset(&info, 0, sizeof(info));
	info.ttl = 300;
	info.ttls_complete = true;
	info.ancount = 1;
	assert_int_equal(dg_cache_put(c, &k, msg, sizeof(msg), &info, 1000), 0);
	memset(msg, 0, sizeof(msg));	/* the cache kept its own copy */

	e = dg_cache_get(c, &k, 1000, &age);
	assert_non_null(e);
	assert_int_equal(age, 0);
	assert_int_equal(e->len, 100);
	assert_int_equal(e->msg[0], 0x5a);
	assert_int_equal(e->msg[99], 0x5a);
	assert_int_equal(e->info.ancount, 1);
	assert_int_equal(e->stored, 1000);
	assert_int_equal(e->expires, 1300);
	assert_null(dg_cache_get(c, &other, 1000, &age));
	key(&other, "www.example.com", DG_TYPE_AAAA, false);
	assert_null(dg_cache_get(c, &other, 1000, &age));

	dg_cache_stats(c, &st);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.misses, 2);
	assert_int_equal(st.inserts, 1);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.bytes, dg_cache_entry_cost(100));
	dg_cache_free(c);
}

/* Test that the key ignores case in the name (0x20 clients share
 * entries), and only letters are folded. */
static void test_case_insensitive(void **state)
{
	struct dg_cache *c = dg_cache_new(16, 65536);
	struct dg_cache_key a, b;

	(void)state;
	key(&a, "WwW.ExAmPlE.CoM", DG_TYPE_A, false);
	assert_memory_equal(a.name, "\3www\7example\3com", 17);
	key(&b, "www.example.com", DG_TYPE_A, false);
	assert_int_equal(put(c, &a, 1, 50, 60, false, 0), 0);
	assert_int_equal(tag_at(c, &b, 0), 1);

	key(&a, "A[\\@.Z", DG_TYPE_A, false);
	assert_memory_equal(a.name, "\3a[@\1z", 7);
	dg_cache_free(c);
}

/* Test that an answer to a query without RD (forwarded as asked: a
 * referral, or whatever the resolver held) is never served to a query
 * that asked for recursion, nor the reverse. */
static void test_rd_separate(void **state)
{
	struct dg_cache *c = dg_cache_new(16, 65536);
	struct dg_cache_key rd, nord;
	struct dg_dns_query q;

	(void)state;
	key(&rd, "example.com", DG_TYPE_A, false);
	query(&q, "example.com", DG_TYPE_A, false);
	q.flags &= ~DG_DNS_RD;
	dg_cache_key_from_query(&nord, &q);
	assert_int_equal(put(c, &nord, 1, 50, 60, false, 0), 0);
	assert_int_equal(tag_at(c, &rd, 0), -1);
	assert_int_equal(tag_at(c, &nord, 0), 1);
	assert_int_equal(put(c, &rd, 2, 50, 60, false, 0), 0);
	assert_int_equal(tag_at(c, &rd, 0), 2);
	assert_int_equal(tag_at(c, &nord, 0), 1);
	dg_cache_free(c);
}

/* Test that a DO query never gets a non-DO answer (no RRSIGs) or the
 * reverse, and CD answers stay apart from validated ones. */
static void test_do_cd_separate(void **state)
{
	struct dg_cache *c = dg_cache_new(16, 65536);
	struct dg_cache_key plain, dnssec, cd;
	struct dg_dns_query q;

	(void)state;
	key(&plain, "example.com", DG_TYPE_A, false);
	key(&dnssec, "example.com", DG_TYPE_A, true);
	query(&q, "example.com", DG_TYPE_A, false);
	q.flags |= DG_DNS_CD;
	dg_cache_key_from_query(&cd, &q);
	assert_int_equal(put(c, &plain, 1, 50, 60, false, 0), 0);
	assert_int_equal(tag_at(c, &dnssec, 0), -1);
	assert_int_equal(tag_at(c, &cd, 0), -1);
	assert_int_equal(put(c, &dnssec, 2, 50, 60, false, 0), 0);
	assert_int_equal(put(c, &cd, 3, 50, 60, false, 0), 0);
	assert_int_equal(tag_at(c, &plain, 0), 1);
	assert_int_equal(tag_at(c, &dnssec, 0), 2);
	assert_int_equal(tag_at(c, &cd, 0), 3);

	/* A DO bit without EDNS is no DO bit. */
	query(&q, "example.com", DG_TYPE_A, false);
	q.edns.do_bit = true;
	dg_cache_key_from_query(&dnssec, &q);
	assert_int_equal(tag_at(c, &dnssec, 0), 1);
	dg_cache_free(c);
}

/* Test that an entry lives exactly ttl seconds, ages as the clock moves,
 * and is dropped (and counted) when it expires. */
static void test_expiry_and_age(void **state)
{
	struct dg_cache *c = dg_cache_new(16, 65536);
	struct dg_cache_stats st;
	struct dg_cache_key k;
	uint32_t age;

	(void)state;
	key(&k, "example.com", DG_TYPE_A, false);
	assert_int_equal(put(c, &k, 7, 40, 10, false, 500), 0);
	assert_non_null(dg_cache_get(c, &k, 503, &age));
	assert_int_equal(age, 3);
	assert_non_null(dg_cache_get(c, &k, 509, &age));
	assert_int_equal(age, 9);
	assert_null(dg_cache_get(c, &k, 510, &age));	/* exactly ttl */
	dg_cache_stats(c, &st);
	assert_int_equal(st.expired, 1);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.bytes, 0);
	assert_null(dg_cache_get(c, &k, 505, &age));	/* gone for good */

	/* A clock that steps back gives age 0. */
	assert_int_equal(put(c, &k, 7, 40, 10, false, 500), 0);
	assert_non_null(dg_cache_get(c, &k, 400, &age));
	assert_int_equal(age, 0);
	dg_cache_free(c);
}

/* Test that the least recently used entry goes first when entries run
 * out, and that a get makes an entry recent. */
static void test_lru_by_entries(void **state)
{
	struct dg_cache *c = dg_cache_new(3, 1 << 20);
	struct dg_cache_key k[4];
	struct dg_cache_stats st;
	char name[32];
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "n%d.example", i);
		key(&k[i], name, DG_TYPE_A, false);
	}
	for (i = 0; i < 3; i++)
		assert_int_equal(put(c, &k[i], (uint8_t)i, 50, 60, false, 0),
				 0);
	assert_int_equal(tag_at(c, &k[0], 1), 0);	/* 0 is now recent */
	assert_int_equal(put(c, &k[3], 3, 50, 60, false, 1), 0);
	assert_int_equal(tag_at(c, &k[1], 1), -1);	/* 1 was oldest */
	assert_int_equal(tag_at(c, &k[0], 1), 0);
	assert_int_equal(tag_at(c, &k[2], 1), 2);
	assert_int_equal(tag_at(c, &k[3], 1), 3);
	dg_cache_stats(c, &st);
	assert_int_equal(st.entries, 3);
	assert_int_equal(st.evictions, 1);
	dg_cache_free(c);
}

/* Test that the byte bound (entries' bookkeeping included) evicts as
 * many old entries as it takes, and that a message larger than the whole
 * cache is not stored. */
static void test_lru_by_bytes(void **state)
{
	size_t max = 3 * dg_cache_entry_cost(300);
	struct dg_cache *c = dg_cache_new(100, max);
	struct dg_cache_key k[5];
	struct dg_cache_stats st;
	char name[32];
	int i;

	(void)state;
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "b%d.example", i);
		key(&k[i], name, DG_TYPE_A, false);
	}
	for (i = 0; i < 3; i++)
		assert_int_equal(put(c, &k[i], (uint8_t)i, 300, 60, false, 0),
				 0);
	dg_cache_stats(c, &st);
	assert_int_equal(st.bytes, max);
	assert_int_equal(put(c, &k[3], 3, 500, 60, false, 0), 0);
	assert_int_equal(tag_at(c, &k[0], 0), -1);
	assert_int_equal(tag_at(c, &k[1], 0), -1);
	assert_int_equal(tag_at(c, &k[2], 0), 2);
	assert_int_equal(tag_at(c, &k[3], 0), 3);
	dg_cache_stats(c, &st);
	assert_int_equal(st.bytes, dg_cache_entry_cost(300) + dg_cache_entry_cost(500));
	assert_int_equal(st.evictions, 2);

	assert_int_equal(put(c, &k[4], 4, max, 60, false, 0), 1);
	assert_int_equal(tag_at(c, &k[4], 0), -1);
	dg_cache_stats(c, &st);
	assert_int_equal(st.entries, 2);
	dg_cache_free(c);
}

/* Test that a put under an existing key replaces it, bytes and all. */
static void test_replace(void **state)
{
	struct dg_cache *c = dg_cache_new(2, dg_cache_entry_cost(100) +
					       dg_cache_entry_cost(600));
	struct dg_cache_key k, other;
	struct dg_cache_stats st;
	uint32_t age;

	(void)state;
	key(&k, "example.com", DG_TYPE_A, false);
	key(&other, "example.net", DG_TYPE_A, false);
	assert_int_equal(put(c, &other, 9, 100, 60, false, 0), 0);
	assert_int_equal(put(c, &k, 1, 400, 60, false, 0), 0);
	assert_int_equal(put(c, &k, 2, 600, 30, false, 10), 0);
	assert_non_null(dg_cache_get(c, &k, 15, &age));
	assert_int_equal(tag_at(c, &k, 15), 2);
	assert_int_equal(age, 5);
	assert_int_equal(tag_at(c, &other, 15), 9);	/* no eviction */
	dg_cache_stats(c, &st);
	assert_int_equal(st.entries, 2);
	assert_int_equal(st.bytes, dg_cache_entry_cost(100) + dg_cache_entry_cost(600));
	assert_int_equal(st.evictions, 0);
	assert_int_equal(st.inserts, 3);
	assert_null(dg_cache_get(c, &k, 40, &age));	/* the new TTL */
	dg_cache_free(c);
}

/* Test that TTL 0, and a message whose TTLs could not all be tracked,
 * are not stored. */
static void test_not_stored(void **state)
{
	struct dg_cache *c = dg_cache_new(16, 65536);
	struct dg_dns_resp_info info;
	struct dg_cache_stats st;
	struct dg_cache_key k;
	uint8_t msg[64] = { 0 };

	(void)state;
	key(&k, "example.com", DG_TYPE_A, false);
	assert_int_equal(put(c, &k, 1, 50, 0, false, 0), 1);
	memset(&info, 0, sizeof(info));
	info.ttl = 300;
	info.ttls_complete = false;
	assert_int_equal(dg_cache_put(c, &k, msg, sizeof(msg), &info, 0), 1);
	assert_null(dg_cache_get(c, &k, 0, NULL));
	dg_cache_stats(c, &st);
	assert_int_equal(st.inserts, 0);
	assert_int_equal(st.entries, 0);
	dg_cache_free(c);

	c = dg_cache_new(0, 65536);	/* a cache turned off */
	assert_non_null(c);
	assert_int_equal(put(c, &k, 1, 50, 60, false, 0), 1);
	dg_cache_free(c);
}

/* Test that negative answers (RFC 2308) are cached like any other, with
 * their flag kept. */
static void test_negative(void **state)
{
	struct dg_cache *c = dg_cache_new(16, 65536);
	const struct dg_cache_entry *e;
	struct dg_cache_key k;

	(void)state;
	key(&k, "nx.example.com", DG_TYPE_A, false);
	assert_int_equal(put(c, &k, 3, 60, 300, true, 0), 0);
	e = dg_cache_get(c, &k, 299, NULL);
	assert_non_null(e);
	assert_true(e->info.negative);
	assert_null(dg_cache_get(c, &k, 300, NULL));
	dg_cache_free(c);
}

/* Test many entries through a small table: every one found while it
 * lives, counts consistent at the end. */
static void test_many(void **state)
{
	struct dg_cache *c = dg_cache_new(500, 1 << 20);
	struct dg_cache_stats st;
	struct dg_cache_key k;
	char name[32];
	int i;

	(void)state;
	for (i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "h%d.example", i);
		key(&k, name, DG_TYPE_A, false);
		assert_int_equal(put(c, &k, (uint8_t)i, 20, 60, false, 0), 0);
		assert_int_equal(tag_at(c, &k, 0), (uint8_t)i);
	}
	for (i = 1500; i < 2000; i++) {
		snprintf(name, sizeof(name), "h%d.example", i);
		key(&k, name, DG_TYPE_A, false);
		assert_int_equal(tag_at(c, &k, 0), (uint8_t)i);
	}
	dg_cache_stats(c, &st);
	assert_int_equal(st.entries, 500);
	assert_int_equal(st.bytes, 500 * dg_cache_entry_cost(20));
	assert_int_equal(st.evictions, 1500);
	assert_int_equal(st.hits, 2500);
	dg_cache_free(c);
	dg_cache_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_miss),
		cmocka_unit_test(test_case_insensitive),
		cmocka_unit_test(test_do_cd_separate),
		cmocka_unit_test(test_rd_separate),
		cmocka_unit_test(test_expiry_and_age),
		cmocka_unit_test(test_lru_by_entries),
		cmocka_unit_test(test_lru_by_bytes),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_not_stored),
		cmocka_unit_test(test_negative),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
