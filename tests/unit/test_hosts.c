// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/hosts.c: a hosts file as a user writes it, and what
 * ReadEtcHosts= then answers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "dns_wire.h"
#include "hosts.h"
#include "log.h"

#define MAX_LOGS 32

static char logs[MAX_LOGS][512];
static enum dg_log_level levels[MAX_LOGS];
static int n_logs;
static char path[64];

static void capture(enum dg_log_level level, const char *msg, void *arg)
{
	(void)arg;
	if (n_logs >= MAX_LOGS)
		return;
	levels[n_logs] = level;
	snprintf(logs[n_logs++], sizeof(logs[0]), "%s", msg);
}

static int setup(void **state)
{
	(void)state;
	n_logs = 0;
	log_set_sink(capture, NULL);
	log_set_level(DG_LOG_DEBUG);
	path[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	log_set_sink(NULL, NULL);
	log_set_level(DG_LOG_INFO);
	if (path[0])
		unlink(path);
	return 0;
}

/* A temporary file holding len bytes of text. */
static void write_file(const char *text, size_t len)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/dg_hosts_XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static struct dg_hosts *load(const char *text)
{
	struct dg_hosts *h;
	int err = 1;

	write_file(text, strlen(text));
	h = dg_hosts_load(path, &err);
	assert_non_null(h);
	assert_int_equal(err, 0);
	return h;
}

static int lookup(const struct dg_hosts *h, const char *name, int qtype,
		  uint8_t *addrs, int max)
{
	uint8_t wire[DG_DNS_NAME_MAX];
	int len = dg_dns_name_from_text(name, wire, sizeof(wire));

	assert_true(len > 0);
	return dg_hosts_lookup(h, wire, (size_t)len, qtype, addrs, max);
}

static bool logged(const char *needle)
{
	int i;

	for (i = 0; i < n_logs; i++)
		if (strstr(logs[i], needle))
			return true;
	return false;
}

static const char sample[] =
	"# /etc/hosts\n"
	"127.0.0.1\tlocalhost\n"
	"::1 localhost ip6-localhost ip6-loopback\n"
	"\n"
	"192.0.2.10  Server.Example.org server  # the file server\n"
	"2001:db8::10 server.example.org\n"
	"192.0.2.11 server.example.org\n"
	"192.0.2.10 server.example.org\n"
	"   # indented comment\n"
	"not-an-address broken.example\n"
	"198.51.100.7\n"
	"203.0.113.5 bad..name good.example\r\n"
	"fe80::1%eth0 zoned.example\n"
	"203.0.113.9 last.example";	/* no final newline */

/* Test a typical hosts file: comments, aliases, both families, one name
 * on several lines, any case. */
static void test_sample(void **state)
{
	static const uint8_t v6_10[16] = {
		0x20, 0x01, 0x0d, 0xb8, [15] = 0x10,
	};
	struct dg_hosts *h;
	uint8_t a[16 * 8];

	(void)state;
	h = load(sample);
	assert_int_equal(lookup(h, "localhost", DG_TYPE_A, a, 8), 1);
	assert_memory_equal(a, "\x7f\0\0\1", 4);
	assert_int_equal(lookup(h, "localhost", DG_TYPE_AAAA, a, 8), 1);
	assert_memory_equal(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16);
	assert_int_equal(lookup(h, "ip6-loopback", DG_TYPE_AAAA, a, 8), 1);

	/* Three lines, file order, the repeated address once. */
	assert_int_equal(lookup(h, "SERVER.example.ORG", DG_TYPE_A, a, 8), 2);
	assert_memory_equal(a, "\xc0\0\2\x0a\xc0\0\2\x0b", 8);
	assert_int_equal(lookup(h, "server.example.org.", DG_TYPE_AAAA, a, 8),
			 1);
	assert_memory_equal(a, v6_10, 16);
	assert_int_equal(lookup(h, "Server", DG_TYPE_A, a, 8), 1);
	assert_int_equal(lookup(h, "server.example.org", DG_TYPE_A, a, 1), 1);

	assert_int_equal(lookup(h, "good.example", DG_TYPE_A, a, 8), 1);
	assert_memory_equal(a, "\xcb\0\x71\5", 4);
	assert_int_equal(lookup(h, "last.example", DG_TYPE_A, a, 8), 1);
	dg_hosts_free(h);
}

/* Test -ENOENT for names not listed, 0 for a listed name without an
 * address of the asked family or for other types. */
static void test_enoent_vs_nodata(void **state)
{
	struct dg_hosts *h;
	uint8_t a[64];

	(void)state;
	h = load(sample);
	assert_int_equal(lookup(h, "example.org", DG_TYPE_A, a, 4), -ENOENT);
	assert_int_equal(lookup(h, "erver.example.org", DG_TYPE_A, a, 4),
			 -ENOENT);
	assert_int_equal(lookup(h, "broken.example", DG_TYPE_A, a, 4),
			 -ENOENT);
	assert_int_equal(lookup(h, "zoned.example", DG_TYPE_AAAA, a, 4),
			 -ENOENT);
	assert_int_equal(lookup(h, "ip6-localhost", DG_TYPE_A, a, 4), 0);
	assert_int_equal(lookup(h, "good.example", DG_TYPE_AAAA, a, 4), 0);
	assert_int_equal(lookup(h, "good.example", DG_TYPE_MX, a, 4), 0);
	assert_int_equal(lookup(h, "other.example", DG_TYPE_MX, a, 4),
			 -ENOENT);
	dg_hosts_free(h);
}

/* Test that lines that do not parse are skipped and logged at debug
 * with FILE:LINE, and the rest of the file still counts. */
static void test_bad_lines_logged(void **state)
{
	char where[160];
	struct dg_hosts *h;
	int i;

	(void)state;
	h = load(sample);
	snprintf(where, sizeof(where), "%s:10: ", path);
	assert_true(logged(where));
	assert_true(logged("'not-an-address' is not an IP address"));
	snprintf(where, sizeof(where), "%s:11: no host name", path);
	assert_true(logged(where));
	snprintf(where, sizeof(where), "%s:12: 'bad..name'", path);
	assert_true(logged(where));
	snprintf(where, sizeof(where), "%s:13: 'fe80::1%%eth0'", path);
	assert_true(logged(where));
	for (i = 0; i < n_logs; i++)
		assert_int_equal(levels[i], DG_LOG_DEBUG);
	dg_hosts_free(h);
}

/* Test that a missing file is an empty table and an unreadable one an
 * error. */
static void test_missing_and_unreadable(void **state)
{
	struct dg_hosts *h;
	uint8_t a[4];
	int err = 1;

	(void)state;
	h = dg_hosts_load("/nonexistent/dotguard/hosts", &err);
	assert_non_null(h);
	assert_int_equal(err, 0);
	assert_int_equal(lookup(h, "localhost", DG_TYPE_A, a, 1), -ENOENT);
	dg_hosts_free(h);

	h = dg_hosts_load("/tmp", &err);	/* a directory */
	assert_null(h);
	assert_int_equal(err, -EISDIR);
}

/* Test the reading bounds: a line over 4096 bytes is skipped, the file
 * is read up to 1 MiB (with a warning), never a cut line. */
static void test_bounds(void **state)
{
	size_t big = (1u << 20) + 4096, n = 0;
	char *text = malloc(big + 64);
	struct dg_hosts *h;
	uint8_t a[4];
	int err = 1, i;

	(void)state;
	assert_non_null(text);
	n += (size_t)sprintf(text, "192.0.2.1 first.example ");
	memset(text + n, 'x', 5000);
	n += 5000;
	n += (size_t)sprintf(text + n, "\n192.0.2.2 second.example\n");
	while (n < (1u << 20) - 10)
		n += (size_t)sprintf(text + n, "# padding line\n");
	/* This line straddles the 1 MiB mark: not read at all. */
	n += (size_t)sprintf(text + n, "192.0.2.3 straddle.example\n");
	write_file(text, n);
	free(text);
	h = dg_hosts_load(path, &err);
	assert_non_null(h);
	assert_int_equal(lookup(h, "first.example", DG_TYPE_A, a, 1), -ENOENT);
	assert_int_equal(lookup(h, "second.example", DG_TYPE_A, a, 1), 1);
	assert_int_equal(lookup(h, "straddle.example", DG_TYPE_A, a, 1),
			 -ENOENT);
	assert_true(logged(":1: line longer than 4096 bytes"));
	for (i = 0; i < n_logs; i++)
		if (levels[i] == DG_LOG_WARN)
			break;
	assert_true(i < n_logs);
	assert_non_null(strstr(logs[i], "only the first"));
	dg_hosts_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sample, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enoent_vs_nodata, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_lines_logged, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_missing_and_unreadable,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
