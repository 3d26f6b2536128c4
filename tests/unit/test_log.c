// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What an administrator reads on stderr or in the journal: one line per
 * event, each with its level. stderr is pointed at a temp file here. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "log.h"

static char path[] = "/tmp/dglog.XXXXXX";
static char text[4096];
static int saved_stderr = -1;

/* stderr into a fresh, empty temp file. */
static int setup(void **state)
{
	int fd = mkstemp(path);

	(void)state;
	if (fd < 0)
		return -1;
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	unsetenv("JOURNAL_STREAM");
	log_set_level(DG_LOG_INFO);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	unlink(path);
	strcpy(path, "/tmp/dglog.XXXXXX");
	unsetenv("JOURNAL_STREAM");
	log_set_level(DG_LOG_INFO);
	return 0;
}

/* Everything written to stderr so far. */
static const char *written(void)
{
	FILE *f;
	size_t n;

	fflush(stderr);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	return text;
}

/* Test that each level names itself on its line, and that what is below
 * the level shown (debug at the default) is not written at all. */
static void test_levels_on_stderr(void **state)
{
	(void)state;
	log_error("upstream %s: gone", "192.0.2.1");
	log_warn("running as root");
	log_info("ready");
	log_debug("query a.test. A");
	log_verbose("frame dropped");
	assert_string_equal(written(),
			    "dotguard: error: upstream 192.0.2.1: gone\n"
			    "dotguard: warning: running as root\n"
			    "dotguard: info: ready\n");
}

/* Test that -v shows debug (the per-query lines) and -vv verbose too. */
static void test_verbose_levels(void **state)
{
	(void)state;
	log_set_level(DG_LOG_DEBUG);
	log_debug("query a.test. A");
	log_verbose("frame dropped");
	log_set_level(DG_LOG_VERBOSE);
	log_verbose("frame dropped");
	assert_string_equal(written(), "dotguard: debug: query a.test. A\n"
				       "dotguard: verbose: frame dropped\n");
}

/* Test the compiler-style place of a config error or warning. */
static void test_file_line(void **state)
{
	(void)state;
	log_at(DG_LOG_ERROR, "/etc/dotguard/dotguard.conf", 12, "DNS=: '%s': bad", "x");
	log_at(DG_LOG_WARN, "a.conf", 3, "unknown key");
	assert_string_equal(written(),
			    "/etc/dotguard/dotguard.conf:12: error: DNS=: 'x': bad\n"
			    "a.conf:3: warning: unknown key\n");
}

/* Test that one event stays one line whatever it carries: a library's
 * trailing newlines, or a newline or escape inside (a peer's bytes). */
static void test_one_line_per_event(void **state)
{
	(void)state;
	log_warn("libbpf: map 'x' failed\n\n");
	log_error("name a\nb\033[2J\r end");
	assert_string_equal(written(), "dotguard: warning: libbpf: map 'x' failed\n"
				       "dotguard: error: name a b [2J  end\n");
}

/* Test that when stderr is the journal's stream (JOURNAL_STREAM names its
 * device and inode), each line starts with its syslog priority for
 * journald, and not with the program name, which journald adds. */
static void test_journal_priority(void **state)
{
	char stream[64];
	struct stat st;

	(void)state;
	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(stream, sizeof(stream), "%llu:%llu",
		 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", stream, 1);
	log_error("gone");
	log_warn("root");
	log_info("ready");
	log_at(DG_LOG_ERROR, "a.conf", 2, "bad");
	/* Another stream (stderr redirected by hand): plain lines again. */
	snprintf(stream, sizeof(stream), "%llu:%llu",
		 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", stream, 1);
	log_info("not the journal");
	setenv("JOURNAL_STREAM", "garbage", 1);
	log_info("garbage");
	assert_string_equal(written(), "<3>error: gone\n"
				       "<4>warning: root\n"
				       "<6>info: ready\n"
				       "<3>a.conf:2: error: bad\n"
				       "dotguard: info: not the journal\n"
				       "dotguard: info: garbage\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_levels_on_stderr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verbose_levels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_line_per_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_priority, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
