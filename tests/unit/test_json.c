// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The JSON writer: commas, nesting and escaping are right by construction. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"

static char *render(void (*fn)(struct dg_json *j))
{
	static char buf[512];
	struct dg_json j;
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	assert_non_null(f);
	json_init(&j, f);
	fn(&j);
	fclose(f);
	return buf;
}

static void nested(struct dg_json *j)
{
	json_obj_open(j);
	json_kv_u64(j, "a", 1);
	json_key(j, "list");
	json_arr_open(j);
	json_u64(j, 2);
	json_obj_open(j);
	json_kv_str(j, "b", "x");
	json_obj_close(j);
	json_arr_open(j);
	json_arr_close(j);
	json_arr_close(j);
	json_key(j, "t");
	json_bool(j, true);
	json_obj_close(j);
}

/* Test that commas go between elements only, at every depth. */
static void test_nesting(void **state)
{
	(void)state;
	assert_string_equal(render(nested),
			    "{\"a\":1,\"list\":[2,{\"b\":\"x\"},[]],\"t\":true}\n");
}

static void escapes(struct dg_json *j)
{
	json_obj_open(j);
	json_kv_str(j, "k\"ey", "q\"b\\s\nl\x01");
	json_obj_close(j);
}

/* Test that quotes, backslashes and control bytes (say, in an interface
 * name) cannot break the document. */
static void test_escaping(void **state)
{
	(void)state;
	assert_string_equal(render(escapes),
			    "{\"k\\\"ey\":\"q\\\"b\\\\s\\u000al\\u0001\"}\n");
}

static void big(struct dg_json *j)
{
	json_obj_open(j);
	json_kv_u64(j, "max", UINT64_MAX);
	json_obj_close(j);
}

/* Test that 64-bit counters are printed whole. */
static void test_u64(void **state)
{
	(void)state;
	assert_string_equal(render(big), "{\"max\":18446744073709551615}\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_u64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
