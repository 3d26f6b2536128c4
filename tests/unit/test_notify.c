// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The sd_notify protocol against a test socket standing in for systemd. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <cmocka.h>

#include "notify.h"

static char dir[] = "/tmp/dgnotify.XXXXXX";
static char path[sizeof(dir) + 16];
static char msg[1024];

/* A datagram socket at addr (a path, or "@name"), as systemd binds one. */
static int listener(const char *addr)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(addr);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memcpy(sa.sun_path, addr, len);
	if (addr[0] == '@')
		sa.sun_path[0] = '\0';
	assert_int_equal(bind(fd, (struct sockaddr *)&sa,
			      offsetof(struct sockaddr_un, sun_path) + len +
				      (addr[0] != '@')), 0);
	return fd;
}

/* The next datagram on fd, or "" when none is waiting. */
static const char *next(int fd)
{
	ssize_t n = recv(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT);

	msg[n > 0 ? n : 0] = '\0';
	return msg;
}

/* Test that a daemon started by systemd reports ready (with a status
 * line), reloading (with the monotonic time systemd wants) and stopping,
 * one datagram each, to a socket given by path. */
static void test_path_socket(void **state)
{
	unsigned long long usec;
	int fd;

	(void)state;
	fd = listener(path);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(dg_notify_ready("guarding eth0"), 0);
	assert_string_equal(next(fd), "READY=1\nSTATUS=guarding eth0");
	assert_int_equal(dg_notify_reloading(), 0);
	assert_int_equal(sscanf(next(fd), "RELOADING=1\nMONOTONIC_USEC=%llu", &usec), 1);
	assert_true(usec > 0);
	assert_int_equal(dg_notify_stopping(), 0);
	assert_string_equal(next(fd), "STOPPING=1");
	assert_string_equal(next(fd), "");
	close(fd);
	unlink(path);
}

/* Test that "@name" reaches a socket in the abstract namespace. */
static void test_abstract_socket(void **state)
{
	char name[64];
	int fd;

	(void)state;
	snprintf(name, sizeof(name), "@dgnotify-test-%d", (int)getpid());
	fd = listener(name);
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(dg_notify("READY=1"), 0);
	assert_string_equal(next(fd), "READY=1");
	close(fd);
}

/* Test that without systemd nothing is sent and nothing fails, and that a
 * bad address is an error, not a crash or a write elsewhere. */
static void test_absent_and_bad(void **state)
{
	char longp[200];

	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(dg_notify_ready("x"), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	assert_int_equal(dg_notify_ready("x"), 0);
	setenv("NOTIFY_SOCKET", "relative/socket", 1);
	assert_int_equal(dg_notify("READY=1"), -EINVAL);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longp, 1);
	assert_int_equal(dg_notify("READY=1"), -ENAMETOOLONG);
	/* Nobody listening: the error comes back, the daemon goes on. */
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(dg_notify("READY=1"), -ENOENT);
	unsetenv("NOTIFY_SOCKET");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_socket),
		cmocka_unit_test(test_abstract_socket),
		cmocka_unit_test(test_absent_and_bad),
	};
	int rc;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/notify", dir);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	rmdir(dir);
	return rc;
}
