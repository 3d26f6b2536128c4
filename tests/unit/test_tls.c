// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dg_tls against real TLS servers on loopback: unbound serving DoT from
 * local data, and openssl s_server for SNI. Certificates come from a
 * throwaway CA made by tests/net/dot.sh in a temp dir. As root the test
 * runs in a private network namespace (port 853); otherwise on a high
 * port in this one. Every wait is a poll() of at most 5 s.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "log.h"
#include "tls.h"

#define STEP_MS 5000

/* One server per certificate, each on its own loopback address. */
#define ADDR_GOOD "127.0.0.1"		/* dns.test, IP SAN 127.0.0.1 */
#define ADDR_EXPIRED "127.0.0.2"	/* dns.test, expired in 2020 */
#define ADDR_ROGUE "127.0.0.3"		/* dns.test from another CA */
#define ADDR_RSA "127.0.0.4"		/* r.test, RSA-2048 */
#define ADDR_SNI "127.0.0.5"		/* s_server: default.test, or
					 * dns.test when SNI says so */
#define ADDR_NONE "127.0.0.6"		/* nothing listens */
#define ADDR_GOOD6 "::1"		/* the good server too, if IPv6 */

enum bed_state { BED_BROKEN, BED_MISSING, BED_READY };

static struct {
	enum bed_state state;
	char why[256];
	char dir[64];
	char src[PATH_MAX];
	int port;
	bool v6;			/* ::1 exists: the good server has it */
	pid_t pids[8];
	int n_pids;
	uint8_t pin[32], pin_rsa[32];
	char pin_b64[64];
	struct dg_tls_ctx *strict, *opportunistic;
} bed;

/* ---- the bed ------------------------------------------------------------ */

static int read_file(const char *path, void *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, len, f);
	fclose(f);
	return (int)n;
}

/* The repository: DG_SRCDIR, else four levels above this binary
 * (REPO/.output/tests/unit/test_tls). */
static int find_src(void)
{
	char exe[PATH_MAX], path[PATH_MAX + 32];
	const char *env = getenv("DG_SRCDIR");
	int i;

	if (env) {
		snprintf(bed.src, sizeof(bed.src), "%s", env);
	} else {
		if (!realpath("/proc/self/exe", exe))
			return -errno;
		/* dirname() may return its argument: copy, never overlap. */
		for (i = 0; i < 4; i++) {
			snprintf(bed.src, sizeof(bed.src), "%s", dirname(exe));
			memcpy(exe, bed.src, sizeof(exe));
		}
	}
	snprintf(path, sizeof(path), "%s/tests/net/dot.sh", bed.src);
	return access(path, R_OK) ? -ENOENT : 0;
}

/* Is something listening on TCP addr:port? From /proc/net/tcp, so that
 * waiting costs the servers no connection. */
static bool listening(const char *addr, int port)
{
	char line[256], want[32];
	struct in_addr a;
	bool found = false;
	FILE *f;

	inet_pton(AF_INET, addr, &a);
	/* /proc prints the address as a host-order hex word. */
	snprintf(want, sizeof(want), "%08X:%04X", a.s_addr, port);
	f = fopen("/proc/net/tcp", "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char local[32], st[8];

		if (sscanf(line, "%*s %31s %*s %7s", local, st) == 2 &&
		    !strcmp(local, want) && !strcmp(st, "0A")) {
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

/* fork+exec argv with output to dir/log; tracked for teardown. */
static pid_t spawn(char *const argv[], const char *log)
{
	char path[128];
	pid_t pid;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", bed.dir, log);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, 0);
		execvp(argv[0], argv);
		_exit(127);
	}
	bed.pids[bed.n_pids++] = pid;
	return pid;
}

static int wait_listen(pid_t pid, const char *addr)
{
	int i;

	for (i = 0; i < STEP_MS / 20; i++) {
		if (listening(addr, bed.port))
			return 0;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -ECHILD;
		usleep(20000);
	}
	return -ETIMEDOUT;
}

static int start_unbound(const char *name, const char *addr)
{
	char conf[128];
	char *argv[] = { "unbound", "-d", "-c", conf, NULL };
	pid_t pid;

	snprintf(conf, sizeof(conf), "%s/%s.conf", bed.dir, name);
	pid = spawn(argv, "unbound.out");
	if (pid < 0)
		return -errno;
	return wait_listen(pid, addr);
}

/* s_server picks cert2 when the client's SNI says dns.test. */
static int start_s_server(void)
{
	char accept[32], c1[96], k1[96], c2[96], k2[96];
	char *argv[] = { "openssl", "s_server", "-www", "-accept", accept,
			 "-cert", c1, "-key", k1, "-servername", "dns.test",
			 "-cert2", c2, "-key2", k2, NULL };
	pid_t pid;

	snprintf(accept, sizeof(accept), "%s:%d", ADDR_SNI, bed.port);
	snprintf(c1, sizeof(c1), "%s/ca/default.test.pem", bed.dir);
	snprintf(k1, sizeof(k1), "%s/ca/default.test.key", bed.dir);
	snprintf(c2, sizeof(c2), "%s/ca/dns.test.pem", bed.dir);
	snprintf(k2, sizeof(k2), "%s/ca/dns.test.key", bed.dir);
	pid = spawn(argv, "s_server.out");
	if (pid < 0)
		return -errno;
	return wait_listen(pid, ADDR_SNI);
}

/* bash -c cmd (dot.sh is bash, system()'s sh may not be); 0 on exit 0. */
static int run_bash(const char *cmd)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execlp("bash", "bash", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -EIO;
}

/* Certificates, pins and unbound configs, all by tests/net/dot.sh. */
static int make_certs(void)
{
	char cmd[PATH_MAX + 2048], v6_line[64] = "";

	if (bed.v6)
		snprintf(v6_line, sizeof(v6_line), "'interface: " ADDR_GOOD6 "@%d'",
			 bed.port);

	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && . '%s/tests/net/dot.sh' && "
		 "export DOT_PORT=%d DNS_PORT= && "
		 "ca_make ca && ca_make other && "
		 "cert_make ca dns.test --ip " ADDR_GOOD " --ip " ADDR_GOOD6 " && "
		 "cert_make ca dns.test --expired && "
		 "cert_make other dns.test --out rogue && "
		 "cert_make ca r.test --rsa && "
		 "cert_make ca default.test --ip " ADDR_SNI " && "
		 "spki_pin ca/dns.test.pem >pin.b64 && "
		 "base64 -d pin.b64 >pin.bin && "
		 "spki_pin ca/r.test.pem | base64 -d >pin_rsa.bin && "
		 "unbound_dot_conf good.conf " ADDR_GOOD " ca/dns.test %s && "
		 "unbound_dot_conf expired.conf " ADDR_EXPIRED " ca/dns.test-expired && "
		 "unbound_dot_conf rogue.conf " ADDR_ROGUE " other/rogue && "
		 "unbound_dot_conf rsa.conf " ADDR_RSA " ca/r.test "
		 ">bed.log 2>&1",
		 bed.dir, bed.src, bed.port, v6_line);
	return run_bash(cmd);
}

static int bed_up(void)
{
	char path[128];
	int ret;

	if (system("command -v unbound openssl base64 >/dev/null 2>&1")) {
		bed.state = BED_MISSING;
		snprintf(bed.why, sizeof(bed.why), "needs unbound and openssl");
		return 0;
	}
	if (find_src()) {
		bed.state = BED_MISSING;
		snprintf(bed.why, sizeof(bed.why),
			 "tests/net/dot.sh not found (set DG_SRCDIR)");
		return 0;
	}
	/* A private netns: fixed ports, nothing else sees the servers. */
	if (geteuid() == 0 && unshare(CLONE_NEWNET) == 0 &&
	    system("ip link set lo up") == 0)
		bed.port = 853;
	else
		bed.port = 20000 + getpid() % 20000;
	/* ::1 on lo, listed in if_inet6 as 32 hex digits ending in 1. */
	bed.v6 = !run_bash("grep -q '^0\\{31\\}1 ' /proc/net/if_inet6");
	snprintf(bed.dir, sizeof(bed.dir), "/tmp/dgtls.XXXXXX");
	if (!mkdtemp(bed.dir)) {
		bed.dir[0] = '\0';
		snprintf(bed.why, sizeof(bed.why), "mkdtemp: %s", strerror(errno));
		return -1;
	}
	if (make_certs()) {
		snprintf(bed.why, sizeof(bed.why), "cert/config setup failed, see %s/bed.log",
			 bed.dir);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/pin.bin", bed.dir);
	if (read_file(path, bed.pin, 32) != 32)
		return -1;
	snprintf(path, sizeof(path), "%s/pin_rsa.bin", bed.dir);
	if (read_file(path, bed.pin_rsa, 32) != 32)
		return -1;
	snprintf(path, sizeof(path), "%s/pin.b64", bed.dir);
	if (read_file(path, bed.pin_b64, sizeof(bed.pin_b64) - 1) < 44)
		return -1;
	bed.pin_b64[strcspn(bed.pin_b64, "\n")] = '\0';
	if ((ret = start_unbound("good", ADDR_GOOD)) ||
	    (ret = start_unbound("expired", ADDR_EXPIRED)) ||
	    (ret = start_unbound("rogue", ADDR_ROGUE)) ||
	    (ret = start_unbound("rsa", ADDR_RSA)) ||
	    (ret = start_s_server())) {
		snprintf(bed.why, sizeof(bed.why), "a server did not start (%s), see %s/*.out",
			 strerror(-ret), bed.dir);
		return -1;
	}
	if (dg_tls_init())
		return -1;
	snprintf(path, sizeof(path), "%s/ca/ca.pem", bed.dir);
	bed.strict = dg_tls_ctx_new(path, true);
	bed.opportunistic = dg_tls_ctx_new(NULL, false);
	if (!bed.strict || !bed.opportunistic)
		return -1;
	bed.state = BED_READY;
	return 0;
}

static int setup(void **state)
{
	(void)state;
	if (bed_up() && !bed.why[0])
		snprintf(bed.why, sizeof(bed.why), "test bed setup failed in %s",
			 bed.dir);
	return 0;
}

/* Stop each server by its PID, bounded, then remove the temp dir. */
static int teardown(void **state)
{
	char cmd[128];
	int i, j;

	(void)state;
	dg_tls_ctx_free(bed.strict);
	dg_tls_ctx_free(bed.opportunistic);
	for (i = 0; i < bed.n_pids; i++) {
		kill(bed.pids[i], SIGTERM);
		for (j = 0; j < 100; j++) {
			if (waitpid(bed.pids[i], NULL, WNOHANG) == bed.pids[i])
				break;
			usleep(50000);
		}
		if (j == 100) {
			kill(bed.pids[i], SIGKILL);
			waitpid(bed.pids[i], NULL, 0);
		}
	}
	if (bed.dir[0] && !getenv("DG_KEEP_TMP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", bed.dir);
		if (system(cmd))
			return -1;
	}
	return 0;
}

#define NEED_BED()                                                     \
	do {                                                           \
		if (bed.state == BED_MISSING) {                        \
			print_message("%s\n", bed.why);                \
			skip();                                        \
		}                                                      \
		if (bed.state != BED_READY)                            \
			fail_msg("%s", bed.why);                       \
	} while (0)

/* ---- driving a connection ------------------------------------------------ */

struct link {
	int fd;
	struct dg_tls_conn *c;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Wait for what TLS asked for; 1 when ready, 0 on timeout. */
static int wait_want(const struct link *l)
{
	struct pollfd p = {
		.fd = l->fd,
		.events = dg_tls_want(l->c) == DG_TLS_WANT_WRITE ? POLLOUT : POLLIN,
	};

	return poll(&p, 1, STEP_MS);
}

/* A non-blocking TCP connect (still in progress: the handshake copes). */
static int tcp_connect(const char *addr, int port)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr *sa = (struct sockaddr *)&sin;
	socklen_t len = sizeof(sin);
	int fd;

	if (inet_pton(AF_INET6, addr, &sin6.sin6_addr) == 1) {
		sa = (struct sockaddr *)&sin6;
		len = sizeof(sin6);
	} else {
		assert_int_equal(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
	}
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (connect(fd, sa, len) && errno != EINPROGRESS)
		fail_msg("connect %s:%d: %s", addr, port, strerror(errno));
	return fd;
}

/* Connect and handshake; returns dg_tls_handshake's final answer. */
static int link_open(struct link *l, struct dg_tls_ctx *ctx, const char *addr,
		     const char *name, const uint8_t (*pins)[32], int n_pins,
		     const struct dg_tls_session *s)
{
	int ret;

	l->fd = tcp_connect(addr, bed.port);
	l->c = dg_tls_conn_new(ctx, l->fd, name, addr, pins, n_pins, s);
	assert_non_null(l->c);
	for (;;) {
		ret = dg_tls_handshake(l->c);
		if (ret != -EAGAIN)
			return ret;
		assert_int_not_equal(dg_tls_want(l->c), DG_TLS_WANT_NONE);
		if (wait_want(l) != 1)
			fail_msg("handshake with %s stalled for 5 s", addr);
	}
}

static void link_close(struct link *l)
{
	dg_tls_conn_free(l->c);
	close(l->fd);
}

static void tls_write_all(struct link *l, const uint8_t *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = dg_tls_write(l->c, buf + off, len - off);
		if (n == -EAGAIN) {
			assert_int_equal(wait_want(l), 1);
			continue;
		}
		assert_true(n > 0);
		off += n;
	}
}

static void tls_read_all(struct link *l, uint8_t *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = dg_tls_read(l->c, buf + off, len - off);
		if (n == -EAGAIN) {
			assert_int_equal(wait_want(l), 1);
			continue;
		}
		if (n <= 0)
			fail_msg("read: %zd (%s: %s)", n,
				 dg_tls_fail_name(dg_tls_failure(l->c)),
				 dg_tls_failure_text(l->c));
		off += n;
	}
}

/* One query (RFC 7858: 2-byte length, then the message); the answer's
 * length. The name is in wire form. */
static size_t dns_query(struct link *l, const char *qname, size_t qlen,
			uint16_t qtype, uint8_t *ans, size_t cap)
{
	uint8_t q[300];
	size_t n = 0;
	uint16_t alen;

	q[n++] = 0;
	q[n++] = 0;		/* length, below */
	q[n++] = 0x12;
	q[n++] = 0x34;		/* ID */
	q[n++] = 0x01;
	q[n++] = 0x00;		/* RD */
	memcpy(q + n, "\0\1\0\0\0\0\0\0", 8);	/* QD=1 */
	n += 8;
	memcpy(q + n, qname, qlen);
	n += qlen;
	q[n++] = qtype >> 8;
	q[n++] = qtype & 0xff;
	q[n++] = 0;
	q[n++] = 1;		/* IN */
	q[0] = (n - 2) >> 8;
	q[1] = (n - 2) & 0xff;
	tls_write_all(l, q, n);
	tls_read_all(l, q, 2);
	alen = (uint16_t)(q[0] << 8 | q[1]);
	assert_true(alen >= 12 && alen <= cap);
	tls_read_all(l, ans, alen);
	assert_int_equal(ans[0], 0x12);
	assert_int_equal(ans[1], 0x34);
	assert_int_equal(ans[3] & 0x0f, 0);	/* NOERROR */
	return alen;
}

#define QNAME_A "\1a\4test"
#define QNAME_BIG "\3big\4test"

/* a.test A over the link must be 203.0.113.10. */
static void query_a(struct link *l)
{
	static const uint8_t want[4] = { 203, 0, 113, 10 };
	uint8_t ans[512];
	size_t n;

	n = dns_query(l, QNAME_A, sizeof(QNAME_A), 1, ans, sizeof(ans));
	assert_int_equal(ans[7], 1);		/* ANCOUNT */
	assert_memory_equal(ans + n - 4, want, 4);
}

/* ---- tests --------------------------------------------------------------- */

/* Test that the right #name opens TLS 1.3 and carries a DNS answer. */
static void test_handshake_ok(void **state)
{
	struct link l;

	(void)state;
	NEED_BED();
	assert_int_equal(link_open(&l, bed.strict, ADDR_GOOD, "dns.test", NULL, 0, NULL), 0);
	assert_string_equal(dg_tls_version(l.c), "TLSv1.3");
	assert_false(dg_tls_resumed(l.c));
	assert_int_equal(dg_tls_failure(l.c), DG_TLS_OK);
	assert_string_equal(dg_tls_failure_text(l.c), "");
	/* Handshake done, called again: still open, nothing to wait for. */
	assert_int_equal(dg_tls_handshake(l.c), 0);
	query_a(&l);
	assert_int_equal(dg_tls_pending(l.c), 0);
	link_close(&l);
}

/* Test that an answer larger than a UDP reply (big.test TXT, > 1232
 * bytes) arrives whole, over several TLS reads. */
static void test_big_answer(void **state)
{
	uint8_t ans[4096];
	struct link l;
	size_t n;

	(void)state;
	NEED_BED();
	assert_int_equal(link_open(&l, bed.strict, ADDR_GOOD, "dns.test", NULL, 0, NULL), 0);
	n = dns_query(&l, QNAME_BIG, sizeof(QNAME_BIG), 16, ans, sizeof(ans));
	assert_true(n > 1232);
	assert_int_equal(ans[7], 8);		/* ANCOUNT */
	link_close(&l);
}

/* Test that SNI is sent for a #name: s_server only shows the dns.test
 * certificate to a client whose SNI asks for it (its default,
 * default.test, would fail the name check), and none for a bare IP. */
static void test_sni(void **state)
{
	struct link l;

	(void)state;
	NEED_BED();
	assert_int_equal(link_open(&l, bed.strict, ADDR_SNI, "dns.test", NULL, 0, NULL), 0);
	link_close(&l);
	/* No SNI for an IP: the default certificate, checked by IP SAN. */
	assert_int_equal(link_open(&l, bed.strict, ADDR_SNI, "", NULL, 0, NULL), 0);
	link_close(&l);
	/* Any other SNI gets the default: the first success was the switch. */
	assert_int_equal(link_open(&l, bed.strict, ADDR_SNI, "default.test", NULL, 0, NULL), 0);
	link_close(&l);
}

/* Test that a certificate for another name fails as "name". */
static void test_wrong_name(void **state)
{
	struct link l;

	(void)state;
	NEED_BED();
	assert_int_equal(link_open(&l, bed.strict, ADDR_GOOD, "wrong.test", NULL, 0, NULL),
			 -ECONNABORTED);
	assert_int_equal(dg_tls_failure(l.c), DG_TLS_F_NAME);
	assert_string_equal(dg_tls_fail_name(dg_tls_failure(l.c)), "name");
	assert_non_null(strstr(dg_tls_failure_text(l.c), "wrong.test"));
	/* Failed stays failed. */
	assert_int_equal(dg_tls_handshake(l.c), -ECONNABORTED);
	assert_int_equal(dg_tls_write(l.c, "x", 1), -ECONNRESET);
	link_close(&l);
}

/* Test that with no #name the IP is checked against the IP SANs: the
 * right one passes, another fails as "name". */
static void test_ip_check(void **state)
{
	struct link l;

	(void)state;
	NEED_BED();
	assert_int_equal(link_open(&l, bed.strict, ADDR_GOOD, "", NULL, 0, NULL), 0);
	query_a(&l);
	link_close(&l);

	l.fd = tcp_connect(ADDR_GOOD, bed.port);
	l.c = dg_tls_conn_new(bed.strict, l.fd, "", "192.0.2.1", NULL, 0, NULL);
	assert_non_null(l.c);
	while (dg_tls_handshake(l.c) == -EAGAIN)
		assert_int_equal(wait_want(&l), 1);
	assert_int_equal(dg_tls_failure(l.c), DG_TLS_F_NAME);
	link_close(&l);
}

/* The last message logged, for tests that check the one line. */
static char last_log[512];

static void log_capture(enum dg_log_level level, const char *msg, void *arg)
{
	(void)level;
	(void)arg;
	snprintf(last_log, sizeof(last_log), "%s", msg);
}

/* Test that an IPv6 address is checked against the IP SANs whichever
 * way it is written (wolfSSL compares its own unabbreviated text). */
static void test_ip6_check(void **state)
{
	struct link l;

	(void)state;
	NEED_BED();
	if (!bed.v6) {
		print_message("no ::1 here\n");
		skip();
	}
	assert_int_equal(link_open(&l, bed.strict, ADDR_GOOD6, "", NULL, 0, NULL), 0);
	query_a(&l);
	link_close(&l);
	l.fd = tcp_connect(ADDR_GOOD6, bed.port);
	l.c = dg_tls_conn_new(bed.strict, l.fd, "", "0:0:0:0:0:0:0:1", NULL, 0, NULL);
	assert_non_null(l.c);
	while (dg_tls_handshake(l.c) == -EAGAIN)
		assert_int_equal(wait_want(&l), 1);
	assert_int_equal(dg_tls_failure(l.c), DG_TLS_OK);
	link_close(&l);
	l.fd = tcp_connect(ADDR_GOOD6, bed.port);
	l.c = dg_tls_conn_new(bed.strict, l.fd, "", "::2", NULL, 0, NULL);
	assert_non_null(l.c);
	while (dg_tls_handshake(l.c) == -EAGAIN)
		assert_int_equal(wait_want(&l), 1);
	assert_int_equal(dg_tls_failure(l.c), DG_TLS_F_NAME);
	link_close(&l);
}

/* Test that verifying with neither a name nor an IP is refused up front,
 * with a line that says what to give. */
static void test_no_name_refused(void **state)
{
	int fd;

	(void)state;
	NEED_BED();
	fd = tcp_connect(ADDR_GOOD, bed.port);
	log_set_sink(log_capture, NULL);
	assert_null(dg_tls_conn_new(bed.strict, fd, "", "", NULL, 0, NULL));
	assert_null(dg_tls_conn_new(bed.strict, fd, NULL, NULL, NULL, 0, NULL));
	log_set_sink(NULL, NULL);
	assert_non_null(strstr(last_log, "IP#name"));
	close(fd);
}

/* Test that a chain from a CA we do not trust fails as "verify". */
static void test_untrusted(void **state)
{
	struct link l;

	(void)state;
	NEED_BED();
	assert_int_equal(link_open(&l, bed.strict, ADDR_ROGUE, "dns.test", NULL, 0, NULL),
			 -ECONNABORTED);
	assert_int_equal(dg_tls_failure(l.c), DG_TLS_F_VERIFY);
	print_message("untrusted: %s\n", dg_tls_failure_text(l.c));
	assert_true(dg_tls_failure_text(l.c)[0]);
	link_close(&l);
}

/* Test that an expired certificate fails as "verify", saying so. */
static void test_expired(void **state)
{
	struct link l;

	(void)state;
	NEED_BED();
	assert_int_equal(link_open(&l, bed.strict, ADDR_EXPIRED, "dns.test", NULL, 0, NULL),
			 -ECONNABORTED);
	assert_int_equal(dg_tls_failure(l.c), DG_TLS_F_VERIFY);
	print_message("expired: %s\n", dg_tls_failure_text(l.c));
	assert_non_null(strcasestr(dg_tls_failure_text(l.c), "expired"));
	link_close(&l);
}

/* Test that a matching SPKI pin (among others) opens, for an EC and an
 * RSA key: our hash is the one `openssl pkey | dgst` gives. */
static void test_pin_ok(void **state)
{
	uint8_t pins[2][32];
	struct link l;

	(void)state;
	NEED_BED();
	memset(pins[0], 0xa5, 32);
	memcpy(pins[1], bed.pin, 32);
	assert_int_equal(link_open(&l, bed.strict, ADDR_GOOD, "dns.test",
				   (const uint8_t (*)[32])pins, 2, NULL), 0);
	query_a(&l);
	link_close(&l);

	memcpy(pins[1], bed.pin_rsa, 32);
	if (link_open(&l, bed.strict, ADDR_RSA, "r.test",
		      (const uint8_t (*)[32])pins, 2, NULL))
		fail_msg("RSA: %s: %s", dg_tls_fail_name(dg_tls_failure(l.c)),
			 dg_tls_failure_text(l.c));
	link_close(&l);
}

/* Test that no matching pin fails as "pin", naming the server's pin. */
static void test_pin_mismatch(void **state)
{
	uint8_t pins[1][32];
	struct link l;

	(void)state;
	NEED_BED();
	memcpy(pins[0], bed.pin_rsa, 32);
	assert_int_equal(link_open(&l, bed.strict, ADDR_GOOD, "dns.test",
				   (const uint8_t (*)[32])pins, 1, NULL), -ECONNABORTED);
	assert_int_equal(dg_tls_failure(l.c), DG_TLS_F_PIN);
	assert_string_equal(dg_tls_fail_name(DG_TLS_F_PIN), "pin");
	assert_non_null(strstr(dg_tls_failure_text(l.c), bed.pin_b64));
	/* Nothing may be written after a failed pin. */
	assert_true(dg_tls_write(l.c, "x", 1) < 0);
	link_close(&l);
}

/* Test that the session from a first connection (taken after its first
 * answer) resumes a second one, pins still checked; and time both. */
static void test_resume(void **state)
{
	const uint8_t (*pins)[32] = (const uint8_t (*)[32])bed.pin;
	struct dg_tls_session *s;
	double t, full = 0, resumed = 0;
	struct link l;
	int i, rounds = 10;

	(void)state;
	NEED_BED();
	assert_int_equal(link_open(&l, bed.strict, ADDR_GOOD, "dns.test", NULL, 0, NULL), 0);
	/* TLS 1.3: no ticket yet before anything was read. */
	assert_null(dg_tls_session_get(l.c));
	query_a(&l);
	s = dg_tls_session_get(l.c);
	assert_non_null(s);
	link_close(&l);

	assert_int_equal(link_open(&l, bed.strict, ADDR_GOOD, "dns.test", pins, 1, s), 0);
	assert_true(dg_tls_resumed(l.c));
	query_a(&l);
	link_close(&l);

	/* A session is not used up by resuming (not consumed). */
	for (i = 0; i < rounds; i++) {
		t = now_ms();
		assert_int_equal(link_open(&l, bed.strict, ADDR_GOOD, "dns.test",
					   NULL, 0, NULL), 0);
		full += now_ms() - t;
		assert_false(dg_tls_resumed(l.c));
		link_close(&l);
		t = now_ms();
		assert_int_equal(link_open(&l, bed.strict, ADDR_GOOD, "dns.test",
					   NULL, 0, s), 0);
		resumed += now_ms() - t;
		assert_true(dg_tls_resumed(l.c));
		link_close(&l);
	}
	print_message("loopback handshake: full %.2f ms, resumed %.2f ms (mean of %d)\n",
		      full / rounds, resumed / rounds, rounds);
	dg_tls_session_free(s);
}

/* Test that an opportunistic context accepts what strict refuses: an
 * untrusted CA, an expired certificate, a wrong name. */
static void test_opportunistic(void **state)
{
	struct link l;

	(void)state;
	NEED_BED();
	assert_int_equal(link_open(&l, bed.opportunistic, ADDR_ROGUE, "dns.test", NULL, 0, NULL), 0);
	query_a(&l);
	link_close(&l);
	assert_int_equal(link_open(&l, bed.opportunistic, ADDR_EXPIRED, "wrong.test", NULL, 0, NULL), 0);
	link_close(&l);
	assert_int_equal(link_open(&l, bed.opportunistic, ADDR_GOOD, "", NULL, 0, NULL), 0);
	link_close(&l);
}

/* Test that a refused TCP connection fails as "reset", not "handshake". */
static void test_refused(void **state)
{
	struct link l;

	(void)state;
	NEED_BED();
	assert_int_equal(link_open(&l, bed.strict, ADDR_NONE, "dns.test", NULL, 0, NULL),
			 -ECONNABORTED);
	assert_int_equal(dg_tls_failure(l.c), DG_TLS_F_RESET);
	link_close(&l);
}

/* Test that a missing CAFile is a NULL context (not one that trusts
 * nothing, or everything) and a line naming the file. */
static void test_bad_ca_file(void **state)
{
	(void)state;
	assert_int_equal(dg_tls_init(), 0);
	log_set_sink(log_capture, NULL);
	assert_null(dg_tls_ctx_new("/nonexistent/ca.pem", true));
	log_set_sink(NULL, NULL);
	assert_non_null(strstr(last_log, "CAFile=/nonexistent/ca.pem"));
}

/* Test that the peer's close_notify reads as 0 and "closed": s_server
 * -www answers one HTTP request and shuts TLS down. */
static void test_closed(void **state)
{
	static const char get[] = "GET / HTTP/1.0\r\n\r\n";
	uint8_t buf[4096];
	struct link l;
	ssize_t n;
	int i;

	(void)state;
	NEED_BED();
	assert_int_equal(link_open(&l, bed.strict, ADDR_SNI, "dns.test", NULL, 0, NULL), 0);
	tls_write_all(&l, (const uint8_t *)get, sizeof(get) - 1);
	for (i = 0; i < 1000; i++) {
		n = dg_tls_read(l.c, buf, sizeof(buf));
		if (n == -EAGAIN) {
			assert_int_equal(wait_want(&l), 1);
			continue;
		}
		if (n <= 0)
			break;
	}
	assert_int_equal(n, 0);
	assert_int_equal(dg_tls_failure(l.c), DG_TLS_F_CLOSED);
	/* Reading on stays 0; writing is a broken pipe. */
	assert_int_equal(dg_tls_read(l.c, buf, sizeof(buf)), 0);
	assert_int_equal(dg_tls_write(l.c, "x", 1), -EPIPE);
	link_close(&l);
}

/* Test that every failure has its short name. */
static void test_fail_names(void **state)
{
	static const char *const want[] = {
		"ok", "verify", "name", "pin", "handshake", "reset", "closed",
	};
	int i;

	(void)state;
	for (i = 0; i < DG_TLS_F_MAX; i++)
		assert_string_equal(dg_tls_fail_name(i), want[i]);
	assert_string_equal(dg_tls_fail_name(DG_TLS_F_MAX), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_ok),
		cmocka_unit_test(test_big_answer),
		cmocka_unit_test(test_sni),
		cmocka_unit_test(test_wrong_name),
		cmocka_unit_test(test_ip_check),
		cmocka_unit_test(test_ip6_check),
		cmocka_unit_test(test_no_name_refused),
		cmocka_unit_test(test_untrusted),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_pin_ok),
		cmocka_unit_test(test_pin_mismatch),
		cmocka_unit_test(test_resume),
		cmocka_unit_test(test_opportunistic),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_closed),
		cmocka_unit_test(test_bad_ca_file),
		cmocka_unit_test(test_fail_names),
	};

	/* A peer that closes must not kill the test with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
