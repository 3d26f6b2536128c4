// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Message IDs for pipelined queries on one connection. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <errno.h>
#include <cmocka.h>

#include "idmap.h"

static struct dg_idmap m;
static int q[DG_IDMAP_SLOTS + 1];

/* Test that every query in flight gets its own ID, the table fills at
 * exactly DG_IDMAP_SLOTS, and each ID finds its query again. */
static void test_unique_until_full(void **state)
{
	static uint16_t ids[DG_IDMAP_SLOTS];
	static uint8_t seen[65536];
	uint16_t id;
	int i;

	(void)state;
	dg_idmap_init(&m, 0xfff0); /* the range wraps past 65535 */
	for (i = 0; i < DG_IDMAP_SLOTS; i++) {
		assert_int_equal(dg_idmap_add(&m, &q[i], &ids[i]), 0);
		assert_int_equal(seen[ids[i]], 0);
		seen[ids[i]] = 1;
	}
	assert_int_equal(dg_idmap_add(&m, &q[i], &id), -EBUSY);
	for (i = 0; i < DG_IDMAP_SLOTS; i++)
		assert_ptr_equal(dg_idmap_get(&m, ids[i]), &q[i]);
}

/* Test that answers may come in any order, and an ID outside the range
 * or already answered finds nothing (a late or forged answer). */
static void test_out_of_order_and_unknown(void **state)
{
	uint16_t a, b, c;

	(void)state;
	dg_idmap_init(&m, 1000);
	dg_idmap_add(&m, &q[0], &a);
	dg_idmap_add(&m, &q[1], &b);
	dg_idmap_add(&m, &q[2], &c);
	assert_ptr_equal(dg_idmap_del(&m, c), &q[2]);
	assert_ptr_equal(dg_idmap_del(&m, a), &q[0]);
	assert_null(dg_idmap_del(&m, a));
	assert_null(dg_idmap_get(&m, c));
	assert_null(dg_idmap_get(&m, 999));
	assert_null(dg_idmap_get(&m, (uint16_t)(1000 + DG_IDMAP_SLOTS)));
	assert_ptr_equal(dg_idmap_get(&m, b), &q[1]);
	assert_int_equal(m.n, 1);
}

/* Test that a freed ID is not handed out again at once, so a late answer
 * to a query that moved on cannot be taken for the next query's. */
static void test_no_immediate_reuse(void **state)
{
	uint16_t a, b;

	(void)state;
	dg_idmap_init(&m, 7);
	dg_idmap_add(&m, &q[0], &a);
	dg_idmap_del(&m, a);
	dg_idmap_add(&m, &q[1], &b);
	assert_int_not_equal(a, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unique_until_full),
		cmocka_unit_test(test_out_of_order_and_unknown),
		cmocka_unit_test(test_no_immediate_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
