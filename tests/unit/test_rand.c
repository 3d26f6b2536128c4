// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The CSPRNG helper behind query IDs and 0x20 case bits. Each bound
 * below is many standard deviations from what random bits give, so a
 * working generator never fails them and a broken buffer (repeated,
 * zeroed or sequential bytes) always does.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rand.h"

/* Test that 10,000 IDs have more than 9,000 distinct values (random:
 * about 9,274, spread about 26), fewer than 10 steps of +1 (random:
 * 0.15), and that each of the 16 bits is set in 4,500 to 5,500 of them
 * (random: 5,000, spread 50). */
static void test_u16_spread(void **state)
{
	static uint8_t seen[65536];
	static uint16_t v[10000];
	int i, b, distinct = 0, steps = 0, ones[16] = { 0 };

	(void)state;
	for (i = 0; i < 10000; i++) {
		v[i] = dg_rand_u16();
		distinct += !seen[v[i]];
		seen[v[i]] = 1;
		if (i && v[i] == (uint16_t)(v[i - 1] + 1))
			steps++;
		for (b = 0; b < 16; b++)
			ones[b] += v[i] >> b & 1;
	}
	assert_true(distinct > 9000);
	assert_true(steps < 10);
	for (b = 0; b < 16; b++) {
		assert_in_range(ones[b], 4500, 5500);
	}
}

/* Test that bytes drawn in odd-sized pieces across many refills of the
 * buffer are all fresh: of 1,000,000 bytes, each value appears 3,300 to
 * 4,500 times (random: 3,906, spread 62), zero included, so no wiped or
 * unfilled byte is handed out; two long draws in a row differ. */
static void test_bytes_across_refills(void **state)
{
	static uint8_t buf[1000000];
	static const size_t pieces[] = { 1, 7, 255, 256, 257, 4095, 4096, 4097, 9000 };
	uint8_t a[300], b[300];
	size_t off = 0, n, i = 0;
	int count[256] = { 0 }, c;

	(void)state;
	while (off < sizeof(buf)) {
		n = pieces[i++ % (sizeof(pieces) / sizeof(pieces[0]))];
		if (n > sizeof(buf) - off)
			n = sizeof(buf) - off;
		dg_rand_bytes(buf + off, n);
		off += n;
	}
	for (off = 0; off < sizeof(buf); off++)
		count[buf[off]]++;
	for (c = 0; c < 256; c++)
		assert_in_range(count[c], 3300, 4500);
	dg_rand_bytes(a, sizeof(a));
	dg_rand_bytes(b, sizeof(b));
	assert_memory_not_equal(a, b, sizeof(a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u16_spread),
		cmocka_unit_test(test_bytes_across_refills),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
