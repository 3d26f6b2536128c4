/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* For unit tests that need what this machine may not give (root, a
 * network namespace, AF_XDP): cmocka is included before. */
#ifndef DG_TEST_SKIP_H
#define DG_TEST_SKIP_H

/* Skip the current test, saying why, when why is set (no root, no
 * namespace, no AF_XDP here). */
#define SKIP_IF(why)                                               \
	do {                                                       \
		if (why) {                                         \
			print_message("skipped: %s\n", (why));    \
			skip();                                    \
		}                                                  \
	} while (0)

#endif /* DG_TEST_SKIP_H */
