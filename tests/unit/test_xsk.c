// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/xsk.c on a real AF_XDP socket: a private network
 * namespace made by the test process, a veth pair in it (dgx0 <-> dgx1),
 * the guard's XDP program in test mode (unpinned maps) attached natively
 * to dgx0 as on the capture end, so UDP/53 frames go to its XSKMAP at
 * slot * DG_MAX_QUEUES + queue. Frames are sent into dgx1 with a packet
 * socket and arrive on the socket's RX ring; what the socket transmits
 * comes out of dgx1. The namespace dies with the process.
 *
 * Needs root and AF_XDP with native XDP on veth: without them every test
 * is skipped, with the reason printed, never passed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "skip.h"

#include "pkt.h"
#include "loader.h"
#include "log.h"
#include "loop.h"
#include "xsk.h"

#define MS 1000000ull
#define DEADLINE_NS (2000 * MS)
#define SLOT 3
#define KEY (SLOT * DG_MAX_QUEUES)	/* queue 0 */
#define RX_FRAMES (DG_XSK_FRAMES / 2)	/* xsk.c: half the UMEM feeds RX */
#define TX_FRAMES (DG_XSK_FRAMES - RX_FRAMES)
#define SEEN_MAX 4096

static const char *skip_why;	/* set when the world cannot be made */
static struct dg_xdp *skel;
static int xskmap_fd = -1;
static int ifindex0, ifindex1;
static int pkt_fd = -1;		/* AF_PACKET on dgx1: sends in, sees out */
static struct dg_xsk *xsk;

/* The last error logged: a failed open says what and where in it. */
static char last_error[256];

static void log_sink(enum dg_log_level level, const char *msg, void *arg)
{
	(void)arg;
	if (level == DG_LOG_ERROR)
		snprintf(last_error, sizeof(last_error), "%s", msg);
}

/* The world, once for every test; a failure is a reason to skip. */
static int world_up(void **state)
{
	struct dg_prog_cfg cfg = { .slot = SLOT, .hook = DG_HOOK_XDP_CAPTURE };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	int rcvbuf = 4 << 20, err;

	(void)state;
	log_hook_libraries();
	log_set_sink(log_sink, NULL);
	if (geteuid() != 0) {
		skip_why = "needs root (a network namespace, XDP, AF_XDP)";
		return 0;
	}
	if (unshare(CLONE_NEWNET)) {
		skip_why = "cannot make a network namespace";
		return 0;
	}
	/* No IPv6: no router solicitations or MLD in the way. */
	if (system("ip link add dgx0 type veth peer name dgx1 && "
		   "sysctl -qw net.ipv6.conf.dgx0.disable_ipv6=1 && "
		   "sysctl -qw net.ipv6.conf.dgx1.disable_ipv6=1 && "
		   "ip link set dgx0 up && ip link set dgx1 up")) {
		skip_why = "cannot make a veth pair with ip(8)";
		return 0;
	}
	ifindex0 = (int)if_nametoindex("dgx0");
	ifindex1 = (int)if_nametoindex("dgx1");
	if (ifindex0 <= 0 || ifindex1 <= 0) {
		print_message("the veth pair made is not there\n");
		return -1;
	}
	/* No BPF for us is a reason to skip; a guard that does not load
	 * where BPF works is a failure. */
	err = dg_loader_xdp(&cfg, NULL, true, &skel);
	if (err == -EPERM || err == -ENOSYS) {
		skip_why = "BPF is not available";
		return 0;
	}
	if (err) {
		print_message("the XDP guard does not load: %s\n", strerror(-err));
		return -1;
	}
	xskmap_fd = bpf_map__fd(skel->maps.dg_xsks);
	err = bpf_xdp_attach(ifindex0, bpf_program__fd(skel->progs.dg_xdp_gateway),
			     XDP_FLAGS_DRV_MODE, NULL);
	if (err == -EOPNOTSUPP) {
		skip_why = "no native XDP on veth";
		return 0;
	}
	if (err) {
		print_message("attaching XDP to dgx0: %s\n", strerror(-err));
		return -1;
	}
	pkt_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
			htons(ETH_P_ALL));
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex1;
	if (pkt_fd < 0 || bind(pkt_fd, (struct sockaddr *)&sll, sizeof(sll))) {
		print_message("a packet socket on dgx1: %s\n", strerror(errno));
		return -1;
	}
	/* Room for every frame a full TX ring sends. */
	setsockopt(pkt_fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	return 0;
}

static int world_down(void **state)
{
	(void)state;
	if (pkt_fd >= 0)
		close(pkt_fd);
	if (ifindex0 > 0 && skel)
		bpf_xdp_detach(ifindex0, XDP_FLAGS_DRV_MODE, NULL);
	dg_xdp__destroy(skel);
	return 0;
}

#define NEED_WORLD() SKIP_IF(skip_why)

/* ---- frames ---- */

#define FRAME_MAX 128

struct seen {
	uint8_t buf[FRAME_MAX];
	size_t len;
};

static struct seen seen[SEEN_MAX];
static unsigned int n_seen;

/* A UDP/53 query frame numbered seq (in its source port and payload),
 * into the capture end; or (answer) one from port 53 back out. */
static void frame(struct pkt *p, unsigned int seq, bool answer)
{
	uint8_t *pay;

	pkt_init(p);
	pkt_eth(p);
	pkt_ipv4(p, 0);
	pkt_udp(p, answer ? 53 : (uint16_t)(10000 + seq % 50000),
		answer ? (uint16_t)(10000 + seq % 50000) : 53, 40);
	pay = p->buf + p->len - 40;
	pkt_put32(pay, seq);
	pay[4] = answer;
	pkt_finish(p);
}

static unsigned int frame_seq(const uint8_t *f, size_t len)
{
	const uint8_t *pay = f + len - 40;

	return (unsigned int)pay[0] << 24 | pay[1] << 16 | pay[2] << 8 | pay[3];
}

/* Send frames seq0 .. seq0 + n - 1 into dgx1 (they arrive on dgx0). */
static void peer_send(unsigned int seq0, unsigned int n)
{
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_ifindex = ifindex1,
		.sll_halen = 6,
	};
	struct pollfd pfd = { .fd = pkt_fd, .events = POLLOUT };
	unsigned int i;
	struct pkt p;

	for (i = 0; i < n; i++) {
		frame(&p, seq0 + i, false);
		while (sendto(pkt_fd, p.buf, p.len, 0, (struct sockaddr *)&to,
			      sizeof(to)) != (ssize_t)p.len) {
			assert_true(errno == EAGAIN || errno == ENOBUFS);
			poll(&pfd, 1, 10);
		}
	}
}

/* Frames that came out of dgx0 (not our own sends), up to n, until the
 * deadline. Returns how many. */
static unsigned int peer_recv(unsigned int n)
{
	struct pollfd pfd = { .fd = pkt_fd, .events = POLLIN };
	uint64_t end = dg_now_ns() + DEADLINE_NS;
	struct sockaddr_ll from;
	socklen_t fl;
	ssize_t len;

	n_seen = 0;
	while (n_seen < n && n_seen < SEEN_MAX && dg_now_ns() < end) {
		fl = sizeof(from);
		len = recvfrom(pkt_fd, seen[n_seen].buf, FRAME_MAX, MSG_TRUNC,
			       (struct sockaddr *)&from, &fl);
		if (len < 0) {
			assert_int_equal(errno, EAGAIN);
			poll(&pfd, 1, 10);
			continue;
		}
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		assert_true(len <= FRAME_MAX);
		seen[n_seen++].len = (size_t)len;
	}
	return n_seen;
}

/* Forget whatever the peer has seen so far. */
static void drain_peer(void)
{
	uint8_t buf[FRAME_MAX];

	while (recv(pkt_fd, buf, sizeof(buf), MSG_TRUNC) >= 0)
		;
}

static void rx_fn(void *arg, const uint8_t *f, size_t len)
{
	(void)arg;
	assert_true(len <= FRAME_MAX);
	assert_true(n_seen < SEEN_MAX);
	memcpy(seen[n_seen].buf, f, len);
	seen[n_seen++].len = len;
}

/* Take frames off the RX ring, batch at most per call, until n came or
 * the deadline passed. Returns how many. */
static unsigned int xsk_recv(unsigned int n, unsigned int batch)
{
	struct pollfd pfd = { .fd = dg_xsk_fd(xsk), .events = POLLIN };
	uint64_t end = dg_now_ns() + DEADLINE_NS;

	n_seen = 0;
	while (n_seen < n && dg_now_ns() < end)
		if (!dg_xsk_rx(xsk, rx_fn, NULL, batch))
			poll(&pfd, 1, 10);
	return n_seen;
}

/*
 * dg_xsk_open, again while the queue is busy: the kernel lets go of a
 * closed socket's queue asynchronously (its buffer pool is released from
 * a work queue), so the previous test's socket may still hold it for a
 * moment. A socket leaked for good still fails, at the deadline.
 */
static int xsk_open(struct dg_xsk **x, const char *ifname, unsigned int queue,
		    int map_fd, uint32_t key)
{
	uint64_t start = dg_now_ns();
	int err, tries = 0;

	while ((err = dg_xsk_open(x, ifname, queue, map_fd, key)) == -EBUSY &&
	       dg_now_ns() - start < DEADLINE_NS) {
		tries++;
		usleep(1000);
	}
	if (tries)
		print_message("  queue busy for %llu us after the last close\n",
			      (unsigned long long)(dg_now_ns() - start) / 1000);
	return err;
}

/* Each test opens its own socket, on queue 0 at KEY, or skips when
 * AF_XDP itself is missing. */
static void xsk_up(void)
{
	int err;

	NEED_WORLD();
	err = xsk_open(&xsk, "dgx0", 0, xskmap_fd, KEY);
	if (err == -EAFNOSUPPORT || err == -EPROTONOSUPPORT || err == -EOPNOTSUPP) {
		print_message("skipped: no AF_XDP here (%s)\n", strerror(-err));
		skip();
	}
	assert_int_equal(err, 0);
	assert_true(dg_xsk_fd(xsk) >= 0);
	drain_peer();
}

static int xsk_down(void **state)
{
	(void)state;
	dg_xsk_close(xsk);
	xsk = NULL;
	return 0;
}

/* ---- RX ---- */

/* Test that UDP/53 frames sent into the peer arrive on the RX ring, whole
 * and in order, and a fresh socket has counted no drops. */
static void test_rx_frames(void **state)
{
	struct pkt p;
	unsigned int i;

	(void)state;
	xsk_up();
	assert_int_equal(dg_xsk_rx_drops(xsk), 0);
	peer_send(0, 8);
	assert_int_equal(xsk_recv(8, 64), 8);
	for (i = 0; i < 8; i++) {
		frame(&p, i, false);
		assert_int_equal(seen[i].len, p.len);
		assert_memory_equal(seen[i].buf, p.buf, p.len);
	}
	assert_int_equal(dg_xsk_rx_drops(xsk), 0);
}

/* Test the RX bound: a socket nobody reads holds RX_FRAMES frames (its
 * share of the UMEM) and the kernel drops what comes after, counted in
 * dg_xsk_rx_drops; once read, its buffers go back and frames are taken
 * again. */
static void test_rx_bound_drops(void **state)
{
	uint64_t end, drops = 0;
	unsigned int sent = 0, i, held, last;
	bool fresh[16] = { false };

	(void)state;
	xsk_up();
	end = dg_now_ns() + DEADLINE_NS;
	while (!drops && sent < 16 * DG_XSK_FRAMES && dg_now_ns() < end) {
		peer_send(sent, 64);
		sent += 64;
		drops = dg_xsk_rx_drops(xsk);
	}
	print_message("  %u frames sent, %llu dropped so far\n", sent,
		      (unsigned long long)drops);
	assert_true(drops > 0);

	/* One read takes all the ring holds: exactly the RX buffers. */
	n_seen = 0;
	held = dg_xsk_rx(xsk, rx_fn, NULL, DG_XSK_FRAMES);
	assert_int_equal(held, RX_FRAMES);
	for (i = 1; i < held; i++)
		assert_true(frame_seq(seen[i].buf, seen[i].len) >
			    frame_seq(seen[i - 1].buf, seen[i - 1].len));

	/* Buffers back: 16 new frames all arrive (after what was still on
	 * its way from the flood). */
	last = sent + 15;
	peer_send(sent, 16);
	end = dg_now_ns() + DEADLINE_NS;
	n_seen = 0;
	while (dg_now_ns() < end) {
		struct pollfd pfd = { .fd = dg_xsk_fd(xsk), .events = POLLIN };
		unsigned int k, seq;

		if (!dg_xsk_rx(xsk, rx_fn, NULL, 64))
			poll(&pfd, 1, 10);
		for (k = 0; k < n_seen; k++) {
			seq = frame_seq(seen[k].buf, seen[k].len);
			if (seq >= sent && seq <= last)
				fresh[seq - sent] = true;
		}
		n_seen = 0;
		if (fresh[15])
			break;
	}
	for (i = 0; i < 16; i++)
		assert_true(fresh[i]);
	assert_true(dg_xsk_rx_drops(xsk) >= drops);
}

/* ---- TX ---- */

/* Take TX buffers until none is left; their UMEM addresses in addr[]. */
static unsigned int tx_take_all(uint64_t *addr, uint8_t **buf)
{
	unsigned int n = 0;
	uint8_t *b;

	while ((b = dg_xsk_tx_buf(xsk, &addr[n]))) {
		assert_true(n < TX_FRAMES);
		if (buf)
			buf[n] = b;
		n++;
	}
	return n;
}

/* Test the TX bound: exactly TX_FRAMES buffers are handed out, each a
 * distinct frame of the UMEM's TX half, then NULL; dg_xsk_tx_unget gives
 * one back (handed out again, then NULL again); giving back more than
 * the socket has never grows it. */
static void test_tx_bound_unget(void **state)
{
	static uint64_t addr[TX_FRAMES + 1];
	static uint8_t *buf[TX_FRAMES + 1];
	static bool used[DG_XSK_FRAMES];
	uint64_t a;
	unsigned int i, n;

	(void)state;
	xsk_up();
	memset(used, 0, sizeof(used));
	n = tx_take_all(addr, buf);
	assert_int_equal(n, TX_FRAMES);
	for (i = 0; i < n; i++) {
		assert_int_equal(addr[i] % DG_XSK_FRAME_SIZE, 0);
		assert_true(addr[i] >= (uint64_t)RX_FRAMES * DG_XSK_FRAME_SIZE);
		assert_true(addr[i] < (uint64_t)DG_XSK_FRAMES * DG_XSK_FRAME_SIZE);
		assert_false(used[addr[i] / DG_XSK_FRAME_SIZE]);
		used[addr[i] / DG_XSK_FRAME_SIZE] = true;
		/* The buffer is the UMEM frame at its address. */
		assert_ptr_equal(buf[i] - buf[0], (ptrdiff_t)(addr[i] - addr[0]));
		memset(buf[i], 0xa5, DG_XSK_FRAME_SIZE);
	}
	assert_null(dg_xsk_tx_buf(xsk, &a));

	dg_xsk_tx_unget(xsk, addr[7]);
	assert_ptr_equal(dg_xsk_tx_buf(xsk, &a), buf[7]);
	assert_int_equal(a, addr[7]);
	assert_null(dg_xsk_tx_buf(xsk, &a));

	for (i = 0; i < n; i++)
		dg_xsk_tx_unget(xsk, addr[i]);
	dg_xsk_tx_unget(xsk, addr[0]);		/* one too many */
	assert_int_equal(tx_take_all(addr, NULL), TX_FRAMES);
}

/* Put the answer frames seq0 .. seq0 + n - 1 in n TX buffers. */
static void tx_put_answers(unsigned int seq0, unsigned int n)
{
	unsigned int i;
	uint64_t addr;
	uint8_t *b;
	struct pkt p;

	for (i = 0; i < n; i++) {
		b = dg_xsk_tx_buf(xsk, &addr);
		assert_non_null(b);
		frame(&p, seq0 + i, true);
		memcpy(b, p.buf, p.len);
		dg_xsk_tx_put(xsk, addr, p.len);
	}
}

/* Test that a kick sends what was put, byte for byte, out of the device
 * to its peer, and that the completions free the buffers: all TX_FRAMES
 * are to be had again. */
static void test_tx_kick_sends(void **state)
{
	static uint64_t addr[TX_FRAMES];
	struct pkt p;
	unsigned int i;

	(void)state;
	xsk_up();
	tx_put_answers(0, 8);
	dg_xsk_kick(xsk);
	assert_int_equal(peer_recv(8), 8);
	for (i = 0; i < 8; i++) {
		frame(&p, i, true);
		assert_int_equal(seen[i].len, p.len);
		assert_memory_equal(seen[i].buf, p.buf, p.len);
	}
	assert_int_equal(tx_take_all(addr, NULL), TX_FRAMES);
}

/* Test that one kick of a full TX ring sends it all (copy mode sends 32
 * a call: the kick asks again): every buffer comes back, and the frames
 * reach the peer. */
static void test_tx_kick_full_ring(void **state)
{
	static uint64_t addr[TX_FRAMES];
	unsigned int got;

	(void)state;
	xsk_up();
	tx_put_answers(0, TX_FRAMES);
	dg_xsk_kick(xsk);
	assert_int_equal(tx_take_all(addr, NULL), TX_FRAMES);
	got = peer_recv(TX_FRAMES);
	print_message("  %u of %u frames reached the peer\n", got, TX_FRAMES);
	assert_true(got > 0);
}

/* ---- open ---- */

/* Test that open fails cleanly: an interface that does not exist, a
 * queue it does not have, an XSKMAP key past the map, a bad map fd; each
 * a -errno, and none leaves the queue taken (the next open on it works). */
static void test_open_errors(void **state)
{
	struct dg_xsk *x = NULL;

	(void)state;
	NEED_WORLD();
	assert_int_equal(xsk_open(&x, "nope0", 0, xskmap_fd, KEY), -ENODEV);
	assert_string_equal(last_error, "interface nope0 queue 0: AF_XDP socket: No such device");
	assert_int_equal(xsk_open(&x, "dgx0", 5, xskmap_fd, KEY), -EINVAL);
	assert_int_equal(xsk_open(&x, "dgx0", 0, xskmap_fd,
				  DG_MAX_SLOTS * DG_MAX_QUEUES), -E2BIG);
	assert_int_equal(xsk_open(&x, "dgx0", 0, -1, KEY), -EBADF);
	assert_null(x);
	xsk_up();
	/* And it works: a frame arrives. */
	peer_send(0, 1);
	assert_int_equal(xsk_recv(1, 64), 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_teardown(fn, xsk_down)
	const struct CMUnitTest tests[] = {
		T(test_rx_frames),
		T(test_rx_bound_drops),
		T(test_tx_bound_unget),
		T(test_tx_kick_sends),
		T(test_tx_kick_full_ring),
		T(test_open_errors),
	};
#undef T

	/* The namespace, its veth pair and the program die with the
	 * process; world_down detaches anyway. */
	return cmocka_run_group_tests(tests, world_up, world_down);
}
