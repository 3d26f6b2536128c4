// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Message IDs for queries in flight on one connection: random (a spoofer
 * cannot predict them), never two alike in flight, never one freed a
 * moment ago, and each finds its query again in any order.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "idmap.h"

static struct dg_idmap m;
static int q[DG_IDMAP_SLOTS + 1];

/* Test that every query in flight gets its own ID, the table fills at
 * exactly DG_IDMAP_SLOTS, and each ID finds its query again; then that
 * the pool's walk over slot[] (closing a connection) finds exactly the
 * queries in flight. Twenty fills, as IDs differ each time. */
static void test_unique_until_full(void **state)
{
	static uint16_t ids[DG_IDMAP_SLOTS];
	static uint8_t seen[65536];
	int i, round, found;
	uint16_t id;

	(void)state;
	for (round = 0; round < 20; round++) {
		memset(seen, 0, sizeof(seen));
		dg_idmap_init(&m, 0);
		for (i = 0; i < DG_IDMAP_SLOTS; i++) {
			assert_int_equal(dg_idmap_add(&m, &q[i], &ids[i]), 0);
			assert_int_equal(seen[ids[i]], 0);
			seen[ids[i]] = 1;
		}
		assert_int_equal(dg_idmap_add(&m, &q[i], &id), -EBUSY);
		assert_int_equal(m.n, DG_IDMAP_SLOTS);
		for (i = 0; i < DG_IDMAP_SLOTS; i++)
			assert_ptr_equal(dg_idmap_get(&m, ids[i]), &q[i]);
		for (i = 0; i < DG_IDMAP_SLOTS; i += 2)
			assert_ptr_equal(dg_idmap_del(&m, ids[i]), &q[i]);
		found = 0;
		for (i = 0; i < DG_IDMAP_SLOTS && found < m.n; i++)
			if (m.slot[i]) {
				assert_int_equal(((int *)m.slot[i] - q) % 2, 1);
				found++;
			}
		assert_int_equal(found, DG_IDMAP_SLOTS / 2);
	}
}

/* An ID no query holds: not among the n given. */
static uint16_t id_unused(const uint16_t *given, int n)
{
	uint16_t c;
	int i;

	for (c = 1;; c++) {
		for (i = 0; i < n && given[i] != c; i++)
			;
		if (i == n)
			return c;
	}
}

/* Test that answers may come in any order, and an ID never given or
 * already answered finds nothing (a late or forged answer). */
static void test_out_of_order_and_unknown(void **state)
{
	uint16_t ids[3], none;

	(void)state;
	dg_idmap_init(&m, 1000);
	assert_int_equal(dg_idmap_add(&m, &q[0], &ids[0]), 0);
	assert_int_equal(dg_idmap_add(&m, &q[1], &ids[1]), 0);
	assert_int_equal(dg_idmap_add(&m, &q[2], &ids[2]), 0);
	none = id_unused(ids, 3);
	assert_ptr_equal(dg_idmap_del(&m, ids[2]), &q[2]);
	assert_ptr_equal(dg_idmap_del(&m, ids[0]), &q[0]);
	assert_null(dg_idmap_del(&m, ids[0]));
	assert_null(dg_idmap_get(&m, ids[2]));
	assert_null(dg_idmap_get(&m, none));
	assert_null(dg_idmap_del(&m, none));
	assert_ptr_equal(dg_idmap_get(&m, ids[1]), &q[1]);
	assert_int_equal(m.n, 1);
}

/* Test that a freed ID is not handed out again within the next
 * DG_IDMAP_RECENT frees, so a late answer to a query that moved on
 * cannot be taken for a new query's. 200,000 rounds: a map that reused
 * at random would hit its last 64 IDs about 195 times. */
static void test_no_quick_reuse(void **state)
{
	uint16_t last[DG_IDMAP_RECENT], id;
	int i, j;

	(void)state;
	dg_idmap_init(&m, 7);
	for (i = 0; i < 200000; i++) {
		assert_int_equal(dg_idmap_add(&m, &q[0], &id), 0);
		for (j = 0; j < DG_IDMAP_RECENT && j < i; j++)
			assert_int_not_equal(id, last[j]);
		last[i % DG_IDMAP_RECENT] = id;
		assert_ptr_equal(dg_idmap_del(&m, id), &q[0]);
		assert_null(dg_idmap_get(&m, id));
	}
	assert_int_equal(m.n, 0);
}

/* Test that IDs are not sequential and spread over all 65536: 10,000
 * drawn (in flight 1,000 at a time) have more than 9,000 distinct values
 * (random ones: about 9,274, spread about 26) and fewer than 10 steps of
 * +1 between consecutive ones (random: 0.15 expected). base+slot IDs
 * would give 1,000 values and 9,990 steps of one. */
static void test_random_not_sequential(void **state)
{
	static uint8_t seen[65536];
	static uint16_t ids[10000];
	int i, k, distinct = 0, steps = 0;

	(void)state;
	dg_idmap_init(&m, 0);
	for (i = 0; i < 10000; i++) {
		assert_int_equal(dg_idmap_add(&m, &q[i % 1000], &ids[i]), 0);
		if (i % 1000 == 999)
			for (k = i - 999; k <= i; k++)
				assert_non_null(dg_idmap_del(&m, ids[k]));
	}
	for (i = 0; i < 10000; i++) {
		distinct += !seen[ids[i]];
		seen[ids[i]] = 1;
		if (i && ids[i] == (uint16_t)(ids[i - 1] + 1))
			steps++;
	}
	assert_true(distinct > 9000);
	assert_true(steps < 10);
}

/* Test the table against a plain model under a long random mix of
 * adds, deletes and lookups, full and near-empty: every live ID finds
 * its query, every freed one finds nothing, n always matches (this is
 * what backward-shift deletion must keep right). */
static void test_model(void **state)
{
	static uint16_t live_id[DG_IDMAP_SLOTS];
	static int live_q[DG_IDMAP_SLOTS];
	static uint16_t gone[4096];
	int n = 0, ngone = 0, i, k, op;
	uint32_t x = 12345;

	(void)state;
	dg_idmap_init(&m, 0);
	for (i = 0; i < 300000; i++) {
		x = x * 1103515245u + 12345u;	/* only picks the operation */
		op = (x >> 16) % 100;
		/* Drift between full and empty every 20,000 steps. */
		if ((i / 20000) % 2 ? op < 30 : op < 70) {
			if (n == DG_IDMAP_SLOTS) {
				assert_int_equal(dg_idmap_add(&m, &q[0], &live_id[0]), -EBUSY);
				continue;
			}
			live_q[n] = (int)(x >> 8) % DG_IDMAP_SLOTS;
			assert_int_equal(dg_idmap_add(&m, &q[live_q[n]], &live_id[n]), 0);
			n++;
		} else if (n) {
			k = (int)((x >> 4) % (uint32_t)n);
			assert_ptr_equal(dg_idmap_del(&m, live_id[k]), &q[live_q[k]]);
			gone[ngone++ % 4096] = live_id[k];
			live_id[k] = live_id[n - 1];
			live_q[k] = live_q[n - 1];
			n--;
		}
		assert_int_equal(m.n, n);
		if (i % 97 == 0) {
			for (k = 0; k < n; k++)
				assert_ptr_equal(dg_idmap_get(&m, live_id[k]), &q[live_q[k]]);
			/* The last DG_IDMAP_RECENT freed are all held back. */
			for (k = 1; k <= DG_IDMAP_RECENT && k <= ngone; k++)
				assert_null(dg_idmap_get(&m, gone[(ngone - k) % 4096]));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unique_until_full),
		cmocka_unit_test(test_out_of_order_and_unknown),
		cmocka_unit_test(test_no_quick_reuse),
		cmocka_unit_test(test_random_not_sequential),
		cmocka_unit_test(test_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
