// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The command line contract: exit codes and the one line that says why. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli.h"
#include "log.h"

static char logged[4096];
static char dir[] = "/tmp/dg-cli-XXXXXX";
static char conf[256];

static void sink(enum dg_log_level level, const char *msg, void *arg)
{
	size_t n = strlen(logged);

	(void)level;
	(void)arg;
	snprintf(logged + n, sizeof(logged) - n, "%s\n", msg);
}

static int run(int argc, ...)
{
	char *argv[16];
	va_list ap;
	int i;

	va_start(ap, argc);
	for (i = 0; i < argc && i < 15; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	argv[i] = NULL;
	logged[0] = '\0';
	log_set_sink(sink, NULL);
	i = dg_cli_main(argc, argv);
	log_set_sink(NULL, NULL);
	return i;
}

static void write_conf(const char *text)
{
	FILE *f = fopen(conf, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(conf, sizeof(conf), "%s/dotguard.conf", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(conf);
	rmdir(dir);
	return 0;
}

/* Test that misuse is exit 2 with a line naming the mistake. */
static void test_usage_errors(void **state)
{
	(void)state;
	assert_int_equal(run(2, "dotguard", "frobnicate"), DG_EXIT_USAGE);
	assert_string_equal(logged, "unknown command 'frobnicate' (see 'dotguard help')\n");
	assert_int_equal(run(3, "dotguard", "status", "--bogus"), DG_EXIT_USAGE);
	assert_string_equal(logged, "status: unknown or incomplete option '--bogus' (see 'dotguard status --help')\n");
	assert_int_equal(run(3, "dotguard", "detach", "--json"), DG_EXIT_USAGE);
	assert_int_equal(run(3, "dotguard", "run", "extra"), DG_EXIT_USAGE);
	assert_string_equal(logged, "run: unexpected argument 'extra' (see 'dotguard run --help')\n");
	assert_int_equal(run(3, "dotguard", "status", "-c"), DG_EXIT_USAGE);
}

/* Test that status with nothing pinned fails with the fix, and detach
 * with nothing pinned is a no-op success. */
static void test_nothing_pinned(void **state)
{
	char want[512];

	(void)state;
	snprintf(want, sizeof(want), "[Guard]\nPinPath=%s/none\n", dir);
	write_conf(want);
	assert_int_equal(run(4, "dotguard", "status", "-c", conf), DG_EXIT_FAIL);
	snprintf(want, sizeof(want),
		 "no guard pinned at %s/none: start it with 'dotguard run'\n", dir);
	assert_string_equal(logged, want);
	assert_int_equal(run(4, "dotguard", "detach", "-c", conf), DG_EXIT_OK);
	snprintf(want, sizeof(want), "nothing to detach: no pins at %s/none\n", dir);
	assert_string_equal(logged, want);
	assert_int_equal(run(5, "dotguard", "status", "-c", conf, "--json"), DG_EXIT_FAIL);
	assert_int_equal(run(6, "dotguard", "status", "-c", conf, "--json", "--prometheus"),
			 DG_EXIT_USAGE);
}

/* Test that a bad config stops every command, naming FILE:LINE. */
static void test_bad_config(void **state)
{
	char want[512];

	(void)state;
	write_conf("[Guard]\nMode=blok\n");
	assert_int_equal(run(4, "dotguard", "check-config", "-c", conf), DG_EXIT_FAIL);
	snprintf(want, sizeof(want), "%s:2: ", conf);
	assert_non_null(strstr(logged, want));
	assert_non_null(strstr(logged, "blok"));
	assert_int_equal(run(4, "dotguard", "run", "-c", conf), DG_EXIT_FAIL);
	assert_non_null(strstr(logged, "nothing was changed"));
	assert_int_equal(run(4, "dotguard", "status", "-c", conf), DG_EXIT_FAIL);
	assert_int_equal(run(4, "dotguard", "detach", "-c", conf), DG_EXIT_FAIL);
}

/* Test that a missing named config file is an error naming the path. */
static void test_missing_config(void **state)
{
	char path[300];

	(void)state;
	snprintf(path, sizeof(path), "%s/absent.conf", dir);
	assert_int_equal(run(4, "dotguard", "check-config", "-c", path), DG_EXIT_FAIL);
	assert_non_null(strstr(logged, path));
}

/* Test that check-config refuses a User= written in the file that does
 * not exist on this host (run would refuse to start), naming FILE:LINE,
 * and accepts one that does. */
static void test_check_config_user(void **state)
{
	char want[512];

	(void)state;
	write_conf("[Resolve]\nFallbackDNS=\n[Guard]\nUser=dg-no-such-user\n");
	assert_int_equal(run(4, "dotguard", "check-config", "-c", conf), DG_EXIT_FAIL);
	snprintf(want, sizeof(want),
		 "%s:4: User=dg-no-such-user: no such user on this host; 'run' would refuse to start\n",
		 conf);
	assert_string_equal(logged, want);
	write_conf("[Guard]\nUser=root\n");
	assert_int_equal(run(4, "dotguard", "check-config", "-c", conf), DG_EXIT_OK);
	assert_string_equal(logged, "");
}

/* Test that check-config refuses a CAFile= this host cannot load (the
 * pool would not start), naming FILE:LINE, except in opportunistic mode,
 * which does not verify. */
static void test_check_config_ca_file(void **state)
{
	char want[1024];

	(void)state;
	/* The config itself: a file, but no PEM certificate in it. */
	snprintf(want, sizeof(want), "[Resolve]\nFallbackDNS=\n\n[TLS]\nCAFile=%s\n", conf);
	write_conf(want);
	assert_int_equal(run(4, "dotguard", "check-config", "-c", conf), DG_EXIT_FAIL);
	snprintf(want, sizeof(want),
		 "%s:5: CAFile=%s: cannot be loaded here (above); 'run' would refuse it\n",
		 conf, conf);
	assert_non_null(strstr(logged, want));
	snprintf(want, sizeof(want),
		 "[Resolve]\nFallbackDNS=\nDNSOverTLS=opportunistic\n[TLS]\nCAFile=%s\n", conf);
	write_conf(want);
	assert_int_equal(run(4, "dotguard", "check-config", "-c", conf), DG_EXIT_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_nothing_pinned),
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test(test_missing_config),
		cmocka_unit_test(test_check_config_user),
		cmocka_unit_test(test_check_config_ca_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
