// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/redirect_udp.c: redirected query frames in, answer
 * frames out, as a client on the wire would see them, and every frame it
 * must not answer dropped and counted.
 *
 * The AF_XDP socket is replaced at link time: this file defines every
 * dg_xsk_* function of user/xsk.h, so the linker never takes xsk.o from
 * libdotguard.a (if it ever did, the duplicate symbols fail the build
 * rather than the test). The fake socket's fd is an eventfd, readable
 * while test frames wait, so frames reach redirect_udp.c through the real
 * event loop and its own read path; what it puts on the TX ring is kept
 * for the test to parse. user/xsk.c itself is tested in test_xsk.c.
 * The upstream is the resolver's forward hook, answered by the test.
 * Frames are built with the BPF tests' packet builder, each handed over
 * as an exact-size heap copy, so ASan sees a read past its end.
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
#include <sys/eventfd.h>
#include <cmocka.h>

#include "pkt.h"
#include "dns_wire.h"
#include "frame.h"
#include "redirect_udp.h"
#include "xsk.h"

#define MS 1000000ull
#define SEC (1000 * MS)
#define FAKE_MAX (DG_MAX_SLOTS * DG_MAX_QUEUES + 1)
#define FAKE_TX (DG_XSK_FRAMES / 2)	/* TX buffers, as xsk.c has */
#define RXQ_MAX 8192
#define WIRE_MAX 8192
#define N_FWD 8192
#define PORT_CLIENT 40000

#include "fake_upstream.h"

/* ---- the fake AF_XDP socket ---- */

struct rxq_frame {
	uint8_t *buf;
	size_t len;
};

struct dg_xsk {
	char ifname[16];
	unsigned int queue;
	int xskmap_fd;
	uint32_t key;
	int efd;			/* readable while rx frames wait */
	bool closed;
	struct rxq_frame *rxq;		/* RXQ_MAX, on first use */
	unsigned int rx_head, rx_tail;
	uint64_t rx_drops;		/* what the kernel would report */
	uint8_t (*umem)[DG_XSK_FRAME_SIZE];	/* TX buffers, on first use */
	uint64_t tx_free[FAKE_TX];
	unsigned int n_tx_free;
	uint64_t inflight[FAKE_TX];	/* put, not yet completed */
	unsigned int n_inflight;
	bool tx_stuck;			/* completions never come */
	unsigned int kicks;
};

/* An answer frame the port put on a TX ring. */
struct wire_frame {
	struct dg_xsk *x;
	uint8_t buf[DG_XSK_FRAME_SIZE];
	size_t len;
};

static struct dg_xsk *fakes[FAKE_MAX];
static int n_fakes;
static int open_err;		/* the next dg_xsk_open fails with it */
static struct wire_frame *wire;
static int n_wire;

int dg_xsk_open(struct dg_xsk **out, const char *ifname, unsigned int queue,
		int xskmap_fd, uint32_t key)
{
	struct dg_xsk *x;
	unsigned int i;

	if (open_err)
		return open_err;
	assert_true(n_fakes < FAKE_MAX);
	x = calloc(1, sizeof(*x));
	assert_non_null(x);
	snprintf(x->ifname, sizeof(x->ifname), "%s", ifname);
	x->queue = queue;
	x->xskmap_fd = xskmap_fd;
	x->key = key;
	x->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(x->efd >= 0);
	for (i = 0; i < FAKE_TX; i++)
		x->tx_free[x->n_tx_free++] = i;
	fakes[n_fakes++] = x;
	*out = x;
	return 0;
}

/* Closed sockets stay in fakes[] for the test to look at; freed at
 * teardown. */
void dg_xsk_close(struct dg_xsk *x)
{
	if (!x)
		return;
	assert_false(x->closed);
	x->closed = true;
	close(x->efd);
	x->efd = -1;
	while (x->rx_head != x->rx_tail)
		free(x->rxq[x->rx_head++ % RXQ_MAX].buf);
}

int dg_xsk_fd(const struct dg_xsk *x)
{
	assert_false(x->closed);
	return x->efd;
}

uint64_t dg_xsk_rx_drops(const struct dg_xsk *x)
{
	assert_false(x->closed);
	return x->rx_drops;
}

unsigned int dg_xsk_rx(struct dg_xsk *x, dg_xsk_rx_fn fn, void *arg,
		       unsigned int max)
{
	struct rxq_frame f;
	uint64_t v;
	unsigned int n = 0;

	assert_false(x->closed);
	while (n < max && x->rx_head != x->rx_tail) {
		f = x->rxq[x->rx_head++ % RXQ_MAX];
		fn(arg, f.buf, f.len);
		free(f.buf);
		n++;
	}
	if (x->rx_head == x->rx_tail && read(x->efd, &v, sizeof(v)) < 0)
		assert_int_equal(errno, EAGAIN);
	return n;
}

/* Copy mode completes what a kick sent, unless the test says not. */
static void fake_complete(struct dg_xsk *x)
{
	if (x->tx_stuck)
		return;
	while (x->n_inflight)
		x->tx_free[x->n_tx_free++] = x->inflight[--x->n_inflight];
}

uint8_t *dg_xsk_tx_buf(struct dg_xsk *x, uint64_t *addr)
{
	assert_false(x->closed);
	/* As xsk.c: all in flight, kick and take back what completed. */
	if (!x->n_tx_free)
		fake_complete(x);
	if (!x->n_tx_free)
		return NULL;
	if (!x->umem) {
		x->umem = calloc(FAKE_TX, DG_XSK_FRAME_SIZE);
		assert_non_null(x->umem);
	}
	*addr = x->tx_free[--x->n_tx_free];
	return x->umem[*addr];
}

/* Leave x only n TX buffers (none in flight yet). */
static void fake_tx_cap(struct dg_xsk *x, unsigned int n)
{
	assert_int_equal(x->n_inflight, 0);
	assert_true(n <= FAKE_TX);
	x->n_tx_free = n;
}

void dg_xsk_tx_put(struct dg_xsk *x, uint64_t addr, size_t len)
{
	struct wire_frame *w;

	assert_false(x->closed);
	assert_true(addr < FAKE_TX);
	assert_true(len <= DG_XSK_FRAME_SIZE);
	assert_true(n_wire < WIRE_MAX);
	w = &wire[n_wire++];
	w->x = x;
	memcpy(w->buf, x->umem[addr], len);
	w->len = len;
	x->inflight[x->n_inflight++] = addr;
}

void dg_xsk_kick(struct dg_xsk *x)
{
	assert_false(x->closed);
	x->kicks++;
	fake_complete(x);
}

void dg_xsk_tx_unget(struct dg_xsk *x, uint64_t addr)
{
	assert_true(x->n_tx_free < FAKE_TX);
	x->tx_free[x->n_tx_free++] = addr;
}

/* Queue a frame on x's RX ring (an exact-size copy). */
static void rx_push(struct dg_xsk *x, const uint8_t *frame, size_t len)
{
	uint64_t one = 1;
	uint8_t *copy = malloc(len ? len : 1);

	assert_non_null(copy);
	if (!x->rxq) {
		x->rxq = calloc(RXQ_MAX, sizeof(*x->rxq));
		assert_non_null(x->rxq);
	}
	assert_true(x->rx_tail - x->rx_head < RXQ_MAX);
	memcpy(copy, frame, len);
	x->rxq[x->rx_tail++ % RXQ_MAX] = (struct rxq_frame){ copy, len };
	assert_int_equal(write(x->efd, &one, sizeof(one)), sizeof(one));
}

/* ---- the world: loop, resolver with a fake upstream, the port set ---- */

/* A query the fake upstream holds until the test answers it. */
static struct dg_loop loop;
static struct dg_config cfg;
static struct dg_stats stats;
static struct dg_resolver *res;
static struct dg_redirect_udp *udp;
/* The upstream answers forwarded query i: n A records (0: a failure,
 * no answer at all). */
static void upstream_answer(int i, int n)
{
	uint8_t addrs[4 * 64], msg[2048];
	struct dg_dns_resp_info ri;
	int k, len;

	assert_true(i < n_fwd && !fwds[i].answered && n <= 64);
	fwds[i].answered = true;
	if (!n) {
		fwds[i].done(fwds[i].arg, NULL, 0, NULL, NULL, 0);
		return;
	}
	for (k = 0; k < n; k++) {
		addrs[4 * k] = 203;
		addrs[4 * k + 1] = 0;
		addrs[4 * k + 2] = 113;
		addrs[4 * k + 3] = (uint8_t)(10 + k);
	}
	len = dg_dns_build_local(msg, sizeof(msg), &fwds[i].q, addrs, n, 60, NULL,
				 sizeof(msg));
	assert_true(len > 0);
	assert_int_equal(dg_dns_parse_response(msg, (size_t)len, &ri), 0);
	fwds[i].done(fwds[i].arg, msg, (size_t)len, &ri, "fake#test", 100);
}

static struct dg_timer watchdog, pumper;
static bool watchdog_fired;

static void watchdog_fn(struct dg_loop *l, struct dg_timer *t)
{
	(void)t;
	watchdog_fired = true;
	dg_loop_stop(l);
}

static bool rx_waiting(void)
{
	int i;

	for (i = 0; i < n_fakes; i++)
		if (!fakes[i]->closed && fakes[i]->rx_head != fakes[i]->rx_tail)
			return true;
	return false;
}

/* Stop once every RX ring is empty; the turn's defers (kicks) still run. */
static void pumper_fn(struct dg_loop *l, struct dg_timer *t)
{
	if (!rx_waiting())
		dg_loop_stop(l);
	else
		assert_int_equal(dg_timer_set(l, t, l->now + 1), 0);
}

/* Let the loop take every frame waiting and end its turn; within a
 * second, however many there are (the watchdog says otherwise). */
static void pump(void)
{
	uint64_t start = dg_now_ns();

	watchdog_fired = false;
	assert_int_equal(dg_timer_set(&loop, &watchdog, start + SEC), 0);
	assert_int_equal(dg_timer_set(&loop, &pumper, start), 0);
	loop.stop = false;	/* the loop has no restart call */
	assert_int_equal(dg_loop_run(&loop), 0);
	assert_false(watchdog_fired);
	dg_timer_cancel(&loop, &watchdog);
	dg_timer_cancel(&loop, &pumper);
	assert_false(rx_waiting());
}

static int setup(void **state)
{
	int fd;

	(void)state;
	alarm(20);
	if (dg_loop_init(&loop) || dg_stats_open(&stats, NULL))
		return -1;
	dg_timer_init(&watchdog, watchdog_fn);
	dg_timer_init(&pumper, pumper_fn);
	dg_config_defaults(&cfg);
	cfg.cache = DG_CACHE_NO;
	res = calloc(1, sizeof(*res));
	fwds = calloc(N_FWD, sizeof(*fwds));
	wire = calloc(WIRE_MAX, sizeof(*wire));
	if (!res || !fwds || !wire)
		return -1;
	res->loop = &loop;
	res->cfg = &cfg;
	res->stats = &stats;
	res->forward = fake_forward;
	n_fwd = 0;
	n_wire = 0;
	n_fakes = 0;
	open_err = 0;
	/* Stands in for the XSKMAP: the port set owns and closes it. */
	fd = eventfd(0, EFD_CLOEXEC);
	if (fd < 0)
		return -1;
	udp = dg_redirect_udp_new(&loop, res, fd);
	return udp ? 0 : -1;
}

static int teardown(void **state)
{
	int i;

	(void)state;
	/* The upstream goes away: what it held fails, as the pool does,
	 * before the ports go (their requests are the pool's until then). */
	for (i = 0; i < n_fwd; i++)
		if (!fwds[i].answered)
			upstream_answer(i, 0);
	dg_redirect_udp_free(udp);
	dg_loop_fini(&loop);
	for (i = 0; i < n_fakes; i++) {
		assert_true(fakes[i]->closed);
		free(fakes[i]->umem);
		free(fakes[i]->rxq);
		free(fakes[i]);
	}
	free(res);
	free(fwds);
	free(wire);
	dg_stats_close(&stats);
	alarm(0);
	return 0;
}

/* ---- frames ---- */

static const uint8_t mac_near[6] = { 0x02, 0xdd, 0, 0, 0, 0x53 };

/* How a test query frame is made. */
struct qspec {
	int family;		/* 4 or 6 */
	uint16_t tags[2];	/* VLAN TPIDs, outermost first; 0 ends */
	uint16_t sport, dport;
	uint16_t id;
	bool qr;		/* a response, not a query */
	bool two_questions;	/* QDCOUNT 2: FORMERR */
	unsigned int dns_len;	/* nonzero: cut the DNS message to this */
	const uint8_t *src_mac;
	const uint8_t *src_ip;	/* of the family's size */
};

/* The query bytes the frame carries: "name.test" A, RD, EDNS. */
static int query_msg(uint8_t *out, size_t cap, uint16_t id)
{
	struct dg_dns_query q;
	int n;

	memset(&q, 0, sizeof(q));
	q.flags = DG_DNS_RD;
	n = dg_dns_name_from_text("name.test", q.q.name, sizeof(q.q.name));
	assert_true(n > 0);
	q.q.name_len = (uint8_t)n;
	q.q.qtype = DG_TYPE_A;
	q.q.qclass = DG_CLASS_IN;
	n = dg_dns_build_query(out, cap, id, &q, 0, 0);
	assert_true(n > DG_DNS_HDR_LEN);
	return n;
}

static void build(struct pkt *p, const struct qspec *s)
{
	uint8_t msg[256];
	int i, n;

	n = query_msg(msg, sizeof(msg), s->id);
	if (s->qr)
		msg[2] |= 0x80;
	if (s->two_questions)
		msg[5] = 2;
	if (s->dns_len)
		n = (int)s->dns_len;
	pkt_init(p);
	pkt_eth(p);
	for (i = 0; i < 2 && s->tags[i]; i++)
		pkt_vlan(p, s->tags[i], (uint16_t)(100 + i));
	if (s->family == 6)
		pkt_ipv6(p);
	else
		pkt_ipv4(p, 0);
	if (s->src_ip)
		pkt_src_ip(p, s->src_ip);
	if (s->src_mac)
		pkt_src_mac(p, s->src_mac);
	pkt_udp(p, s->sport ? s->sport : PORT_CLIENT, s->dport ? s->dport : 53,
		(unsigned int)n);
	memcpy(p->buf + p->len - n, msg, (size_t)n);
	pkt_finish(p);
}

static void send_query(struct dg_xsk *x, const struct qspec *s)
{
	struct pkt p;

	build(&p, s);
	rx_push(x, p.buf, p.len);
}

/* A gateway LAN port (answers to the client's MAC) or the capture end
 * (host mode: answers to mac_near); queues sockets; the first's fake. */
static struct dg_xsk *port(const char *ifname, int ifindex, uint32_t slot,
			   unsigned int queues, bool host, unsigned int mtu)
{
	int first = n_fakes;

	assert_int_equal(dg_redirect_udp_add(udp, ifname, ifindex, slot, queues,
					     host ? mac_near : NULL, mtu), 0);
	assert_int_equal(n_fakes, first + (int)queues);
	return fakes[first];
}

/* The answer on the wire, i: its frame parsed, its DNS header read, and
 * (a full answer, with its question) the whole message validated. */
struct answer {
	struct dg_frame f;
	uint16_t id, flags;
	struct dg_dns_resp_info ri;	/* full answers only */
};

static void answer_hdr(int i, struct answer *a)
{
	const uint8_t *dns;

	assert_true(i < n_wire);
	assert_int_equal(dg_frame_parse(wire[i].buf, wire[i].len, &a->f), DG_FRAME_OK);
	assert_true(a->f.dns_len >= DG_DNS_HDR_LEN);
	dns = wire[i].buf + a->f.dns_off;
	a->id = (uint16_t)(dns[0] << 8 | dns[1]);
	a->flags = (uint16_t)(dns[2] << 8 | dns[3]);
	assert_true(a->flags & DG_DNS_QR);
}

static void answer_at(int i, struct answer *a)
{
	answer_hdr(i, a);
	assert_int_equal(dg_dns_parse_response(wire[i].buf + a->f.dns_off, a->f.dns_len,
					       &a->ri), 0);
}

/* The answer a (to the query spec s, sent on a gateway port or, with
 * host, on the capture end) is addressed back: MACs, IPs, ports swapped,
 * the same VLAN tags in the same order. */
static void check_addressed_back(const struct answer *a, const struct qspec *s,
				 bool host)
{
	struct dg_frame q;
	struct pkt p;
	int i;

	build(&p, s);
	assert_int_equal(dg_frame_parse(p.buf, p.len, &q), DG_FRAME_OK);
	assert_memory_equal(a->f.dst_mac, host ? mac_near : q.src_mac, 6);
	assert_memory_equal(a->f.src_mac, q.dst_mac, 6);
	assert_int_equal(a->f.family, q.family);
	assert_memory_equal(a->f.saddr, q.daddr, 16);
	assert_memory_equal(a->f.daddr, q.saddr, 16);
	assert_int_equal(a->f.sport, 53);
	assert_int_equal(a->f.dport, q.sport);
	assert_int_equal(a->f.n_vlans, q.n_vlans);
	for (i = 0; i < q.n_vlans; i++) {
		assert_int_equal(a->f.vlan_tpid[i], q.vlan_tpid[i]);
		assert_int_equal(a->f.vlan_tci[i], q.vlan_tci[i]);
	}
	assert_int_equal(a->id, s->id);
}

/* Cut the query frame w after its IP header into fragments of at most
 * size bytes (a multiple of 8), as its sender would; out[i] each. IPv6
 * gets a fragment header after the fixed header. */
static int fragments(const struct pkt *w, size_t size, uint32_t id,
		     struct pkt *out, int max)
{
	size_t l3 = (size_t)w->l3_off, body = l3 + (w->family == 4 ? 20 : 40);
	size_t total = w->len - body, off, len;
	uint8_t *ip;
	int n = 0, more;

	for (off = 0; off < total; off += size, n++) {
		assert_true(n < max);
		len = total - off < size ? total - off : size;
		more = off + len < total;
		pkt_init(&out[n]);
		memcpy(out[n].buf, w->buf, body);
		ip = out[n].buf + l3;
		if (w->family == 4) {
			pkt_put16(ip + 2, (uint16_t)(20 + len));
			pkt_put16(ip + 4, (uint16_t)id);
			pkt_put16(ip + 6, (uint16_t)((more ? 0x2000 : 0) | off / 8));
			pkt_put16(ip + 10, 0);
			pkt_put16(ip + 10, pkt_csum(ip, 20));
			memcpy(out[n].buf + body, w->buf + body + off, len);
			out[n].len = body + len;
		} else {
			out[n].buf[body] = ip[6];
			ip[6] = PKT_IP6_FRAG;
			pkt_put16(out[n].buf + body + 2, (uint16_t)(off | more));
			pkt_put32(out[n].buf + body + 4, id);
			memcpy(out[n].buf + body + 8, w->buf + body + off, len);
			out[n].len = body + 8 + len;
			pkt_put16(ip + 4, (uint16_t)(8 + len));
		}
	}
	return n;
}

/* ---- the tests ---- */

/* Test that a port gets one socket per RX queue, each at its XSKMAP key
 * slot * DG_MAX_QUEUES + queue (where the guard redirects that queue),
 * at most DG_MAX_QUEUES; that serves() knows the port by name and index
 * (a re-created interface's new index is not served); and that remove
 * closes them all. */
static void test_sockets_per_queue(void **state)
{
	int i;

	(void)state;
	port("lan0", 7, 2, 3, false, 1500);
	for (i = 0; i < 3; i++) {
		assert_string_equal(fakes[i]->ifname, "lan0");
		assert_int_equal(fakes[i]->queue, i);
		assert_int_equal(fakes[i]->key, 2 * DG_MAX_QUEUES + i);
		assert_int_equal(fakes[i]->xskmap_fd, fakes[0]->xskmap_fd);
	}
	assert_true(dg_redirect_udp_serves(udp, "lan0", 7));
	assert_false(dg_redirect_udp_serves(udp, "lan0", 8));
	assert_false(dg_redirect_udp_serves(udp, "lan1", 7));

	assert_int_equal(dg_redirect_udp_add(udp, "lan1", 9, 3, DG_MAX_QUEUES + 5,
					     NULL, 1500), 0);
	assert_int_equal(n_fakes, 3 + DG_MAX_QUEUES);
	assert_int_equal(fakes[n_fakes - 1]->key, 3 * DG_MAX_QUEUES + DG_MAX_QUEUES - 1);

	assert_int_equal(dg_redirect_udp_remove(udp, "lan0"), 3);
	for (i = 0; i < 3; i++)
		assert_true(fakes[i]->closed);
	assert_false(fakes[3]->closed);
	assert_false(dg_redirect_udp_serves(udp, "lan0", 7));
	assert_true(dg_redirect_udp_serves(udp, "lan1", 9));
	assert_int_equal(dg_redirect_udp_remove(udp, "lan0"), 0);
}

/* Test the bound on sockets: every slot's every queue
 * (DG_MAX_SLOTS x DG_MAX_QUEUES) fits, one more is -E2BIG with no socket
 * opened; a socket that cannot open fails the add with its error and
 * leaves nothing served. */
static void test_port_bound(void **state)
{
	char name[16];
	int s;

	(void)state;
	open_err = -EPERM;
	assert_int_equal(dg_redirect_udp_add(udp, "lan0", 5, 0, 1, NULL, 1500), -EPERM);
	assert_false(dg_redirect_udp_serves(udp, "lan0", 5));
	open_err = 0;
	for (s = 0; s < DG_MAX_SLOTS; s++) {
		snprintf(name, sizeof(name), "lan%d", s);
		port(name, 10 + s, (uint32_t)s, DG_MAX_QUEUES, false, 1500);
	}
	assert_int_equal(n_fakes, DG_MAX_SLOTS * DG_MAX_QUEUES);
	assert_int_equal(dg_redirect_udp_add(udp, "extra0", 99, 0, 1, NULL, 1500), -E2BIG);
	assert_int_equal(n_fakes, DG_MAX_SLOTS * DG_MAX_QUEUES);
	assert_false(dg_redirect_udp_serves(udp, "extra0", 99));
}

/* Test that an IPv4 query on a gateway port is forwarded once and its
 * answer goes back on the same socket as a frame from the server the
 * client asked: MACs, IPs and ports swapped, its ID, NOERROR with the
 * upstream's record; counted as a query and an answer; sent by the
 * turn's one kick. */
static void test_answer_v4(void **state)
{
	struct qspec s = { .family = 4, .id = 0x1234 };
	struct dg_xsk *x;
	struct answer a;

	(void)state;
	x = port("lan0", 7, 0, 1, false, 1500);
	send_query(x, &s);
	pump();
	assert_int_equal(n_fwd, 1);
	assert_int_equal(stats.s->redirected_queries, 1);
	assert_int_equal(n_wire, 0);

	upstream_answer(0, 1);
	assert_int_equal(n_wire, 1);
	assert_ptr_equal(wire[0].x, x);
	answer_at(0, &a);
	check_addressed_back(&a, &s, false);
	assert_int_equal(a.ri.rcode, DG_RCODE_NOERROR);
	assert_int_equal(a.ri.ancount, 1);
	assert_int_equal(stats.s->redirected_answers, 1);
	/* Put on the ring; the kick comes at the end of the turn. */
	assert_int_equal(x->kicks, 0);
	pump();
	assert_int_equal(x->kicks, 1);
	assert_int_equal(x->n_inflight, 0);
}

/* Test that answers put in one turn leave with one kick: three queries
 * answered together, one wake-up. */
static void test_one_kick_per_turn(void **state)
{
	struct qspec s = { .family = 4 };
	struct dg_xsk *x;
	int i;

	(void)state;
	x = port("lan0", 7, 0, 1, false, 1500);
	for (i = 0; i < 3; i++) {
		s.id = (uint16_t)(100 + i);
		send_query(x, &s);
	}
	pump();
	assert_int_equal(n_fwd, 3);
	for (i = 0; i < 3; i++)
		upstream_answer(i, 1);
	pump();
	assert_int_equal(n_wire, 3);
	assert_int_equal(x->kicks, 1);
}

/* Test that VLAN tags come back as they came: IPv6 under one 802.1Q tag,
 * IPv4 under QinQ (802.1ad outer, 802.1Q inner), same TPIDs, same
 * order, same VIDs. */
static void test_answer_vlan(void **state)
{
	struct qspec s6 = { .family = 6, .tags = { PKT_ETH_8021Q }, .id = 6 };
	struct qspec s4 = { .family = 4, .tags = { PKT_ETH_8021AD, PKT_ETH_8021Q },
			    .id = 4, .sport = 40004 };
	struct dg_xsk *x;
	struct answer a;

	(void)state;
	x = port("lan0", 7, 0, 1, false, 1500);
	send_query(x, &s6);
	send_query(x, &s4);
	pump();
	assert_int_equal(n_fwd, 2);
	upstream_answer(0, 1);
	upstream_answer(1, 1);
	assert_int_equal(n_wire, 2);
	answer_at(0, &a);
	check_addressed_back(&a, &s6, false);
	assert_int_equal(a.f.n_vlans, 1);
	answer_at(1, &a);
	check_addressed_back(&a, &s4, false);
	assert_int_equal(a.f.n_vlans, 2);
	assert_int_equal(a.f.vlan_tpid[0], PKT_ETH_8021AD);
}

/* Test that on the capture end (host mode) the answer is addressed to
 * the near end's MAC, the only one its stack takes, not the query's
 * source MAC; IPs and ports still swapped. */
static void test_answer_host_mode(void **state)
{
	struct qspec s = { .family = 4, .id = 77 };
	struct dg_xsk *x;
	struct answer a;

	(void)state;
	x = port("dg-cap-xsk", 3, 1, 1, true, 1500);
	send_query(x, &s);
	pump();
	upstream_answer(0, 1);
	answer_at(0, &a);
	check_addressed_back(&a, &s, true);
	assert_memory_not_equal(a.f.dst_mac, pkt_mac_src, 6);
}

/* Test that a query that does not parse as DNS but has a header (two
 * questions) is answered FORMERR with its ID, not forwarded, not
 * dropped. */
static void test_formerr_answered(void **state)
{
	struct qspec s = { .family = 4, .id = 0xbeef, .two_questions = true };
	struct dg_xsk *x;
	struct answer a;

	(void)state;
	x = port("lan0", 7, 0, 1, false, 1500);
	send_query(x, &s);
	pump();
	assert_int_equal(n_fwd, 0);
	assert_int_equal(n_wire, 1);
	answer_hdr(0, &a);
	check_addressed_back(&a, &s, false);
	assert_int_equal(a.flags & DG_DNS_RCODE_MASK, DG_RCODE_FORMERR);
	assert_int_equal(stats.s->redirected_queries, 1);
	assert_int_equal(stats.s->redirected_answers, 1);
}

/* A frame the port must not answer, and the counter it lands in. */
struct drop_case {
	const char *what;
	struct qspec s;
	size_t cut;		/* nonzero: keep this many bytes of the frame */
	bool source;		/* redirected_bad_source, else bad_frames */
};

static const uint8_t mac_mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
static const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t ip4_bcast[4] = { 255, 255, 255, 255 };
static const uint8_t ip4_mcast[4] = { 224, 0, 0, 1 };
static const uint8_t ip4_zero[4] = { 0, 0, 0, 0 };
static const uint8_t ip6_mcast[16] = { 0xff, 0x02, [15] = 1 };
static const uint8_t ip6_zero[16] = { 0 };

/* Test that frames it must not answer are dropped and counted, each in
 * its own counter, with nothing forwarded and nothing sent: a frame cut
 * short, a UDP payload shorter than a DNS header, a response (QR: an
 * answer could start a loop), a datagram to another port; and sources an
 * answer would reflect from (group MAC, broadcast MAC, IPv4 broadcast,
 * multicast, 0.0.0.0, IPv6 multicast, ::). */
static void test_drops(void **state)
{
#define BAD(w, ...) { .what = (w), .s = { __VA_ARGS__ } }
#define REFLECTS(w, ...) { .what = (w), .source = true, .s = { __VA_ARGS__ } }
	static const struct drop_case cases[] = {
		{ .what = "truncated in the IP header", .s = { .family = 4 }, .cut = 14 + 10 },
		{ .what = "truncated in UDP", .s = { .family = 6 }, .cut = 14 + 40 + 4 },
		BAD("no DNS header", .family = 4, .dns_len = 5),
		BAD("a response", .family = 4, .qr = true),
		BAD("to port 5353", .family = 4, .dport = 5353),
		BAD("to port 54 over IPv6", .family = 6, .dport = 54),
		REFLECTS("group source MAC", .family = 4, .src_mac = mac_mcast),
		REFLECTS("broadcast source MAC", .family = 6, .src_mac = mac_bcast),
		REFLECTS("IPv4 broadcast source", .family = 4, .src_ip = ip4_bcast),
		REFLECTS("IPv4 multicast source", .family = 4, .src_ip = ip4_mcast),
		REFLECTS("IPv4 unspecified source", .family = 4, .src_ip = ip4_zero),
		REFLECTS("IPv6 multicast source", .family = 6, .src_ip = ip6_mcast),
		REFLECTS("IPv6 unspecified source", .family = 6, .src_ip = ip6_zero),
	};
#undef BAD
#undef REFLECTS
	uint64_t bad = 0, src = 0;
	struct dg_xsk *x;
	struct pkt p;
	size_t i;

	(void)state;
	x = port("lan0", 7, 0, 1, false, 1500);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("  %s\n", cases[i].what);
		build(&p, &cases[i].s);
		rx_push(x, p.buf, cases[i].cut ? cases[i].cut : p.len);
		pump();
		if (cases[i].source)
			src++;
		else
			bad++;
		assert_int_equal(stats.s->redirected_bad_frames, bad);
		assert_int_equal(stats.s->redirected_bad_source, src);
		assert_int_equal(stats.s->redirected_queries, 0);
		assert_int_equal(stats.s->redirected_rate_limited, 0);
		assert_int_equal(n_fwd, 0);
		assert_int_equal(n_wire, 0);
	}
	/* The port still answers a good query after all that. */
	send_query(x, &(struct qspec){ .family = 4, .id = 9 });
	pump();
	assert_int_equal(n_fwd, 1);
}

/* Test that a query sent in fragments, last fragment first, is put back
 * together and answered once, in one unfragmented frame addressed back;
 * IPv4 and IPv6; every fragment counted, each datagram once. */
static void test_fragments(void **state)
{
	static const int families[] = { 4, 6 };
	struct pkt whole, frag[16];
	struct dg_xsk *x;
	struct answer a;
	int f, i, n, total = 0;

	(void)state;
	x = port("lan0", 7, 0, 1, false, 1500);
	for (f = 0; f < 2; f++) {
		struct qspec s = { .family = families[f], .id = (uint16_t)(500 + f) };

		build(&whole, &s);
		n = fragments(&whole, 16, 0x4242 + f, frag, 16);
		assert_true(n >= 3);
		total += n;
		for (i = n - 1; i >= 0; i--)
			rx_push(x, frag[i].buf, frag[i].len);
		pump();
		assert_int_equal(n_fwd, f + 1);
		upstream_answer(f, 1);
		assert_int_equal(n_wire, f + 1);
		answer_at(f, &a);
		check_addressed_back(&a, &s, false);
		assert_int_equal(stats.s->redirected_fragments, total);
		assert_int_equal(stats.s->redirected_reassembled, f + 1);
		assert_int_equal(stats.s->redirected_queries, f + 1);
	}
	assert_int_equal(stats.s->redirected_bad_frames, 0);
}

/* Test that a datagram whose first fragment never comes is never
 * answered, and is given up and counted once its time is past. */
static void test_fragment_given_up(void **state)
{
	struct qspec s = { .family = 4, .id = 5 };
	struct pkt whole, frag[16];
	struct dg_xsk *x;
	int n;

	(void)state;
	x = port("lan0", 7, 0, 1, false, 1500);
	build(&whole, &s);
	n = fragments(&whole, 16, 0x77, frag, 16);
	rx_push(x, frag[n - 1].buf, frag[n - 1].len);
	pump();
	dg_redirect_udp_poll_stats(udp);
	assert_int_equal(stats.s->redirected_fragments, 1);
	assert_int_equal(stats.s->redirected_frag_drops, 0);
	/* The loop's clock, as it reads after the reassembly time. */
	loop.now += (DG_REASM_TIMEOUT_MS + 1) * MS;
	dg_redirect_udp_poll_stats(udp);
	assert_int_equal(stats.s->redirected_frag_drops, 1);
	assert_int_equal(stats.s->redirected_reassembled, 0);
	assert_int_equal(n_fwd, 0);
	assert_int_equal(n_wire, 0);
}

/* Send n queries from src on x, IDs from id0. */
static void flood(struct dg_xsk *x, const uint8_t *src, int n, uint16_t id0)
{
	struct qspec s = { .family = 4, .src_ip = src };
	struct pkt p;
	int i;

	for (i = 0; i < n; i++) {
		s.id = (uint16_t)(id0 + i);
		build(&p, &s);
		rx_push(x, p.buf, p.len);
	}
}

static const uint8_t client_a[4] = { 192, 0, 2, 10 };
static const uint8_t client_b[4] = { 192, 0, 2, 11 };

/* Test the gateway's reflection bound: one LAN client gets
 * DG_CLIENT_BURST answers at once (and DG_CLIENT_RATE a second after),
 * what it sends past that is dropped unanswered and counted
 * redirected_rate_limited; another client in the same burst is
 * answered. */
static void test_rate_limited(void **state)
{
	const int n = DG_CLIENT_BURST + DG_CLIENT_RATE + 100;
	uint64_t t0, took, queries, limited, bound;
	struct dg_xsk *x;

	(void)state;
	x = port("lan0", 7, 0, 1, false, 1500);
	flood(x, client_a, n, 0);
	flood(x, client_b, 1, 0xf000);
	t0 = dg_now_ns();
	pump();
	took = dg_now_ns() - t0;
	queries = stats.s->redirected_queries;
	limited = stats.s->redirected_rate_limited;
	/* The bucket refills while the frames are read: at most
	 * DG_CLIENT_RATE a second of it, and pump() takes under one. */
	bound = DG_CLIENT_BURST + 1 + DG_CLIENT_RATE * (took / MS + 1) / 1000;
	print_message("  %llu of %d taken in %llu ms, %llu rate-limited\n",
		      (unsigned long long)queries, n + 1,
		      (unsigned long long)(took / MS), (unsigned long long)limited);
	assert_true(queries >= DG_CLIENT_BURST + 1);
	assert_true(queries <= bound);
	assert_true(limited >= 1);
	assert_int_equal(queries + limited, n + 1);
	/* What was taken was forwarded or answered; nothing else. */
	assert_int_equal(n_fwd + n_wire, queries);
	/* Client b was taken: its query went upstream (a's are capped at
	 * DG_CLIENT_INFLIGHT_MAX there and SERVFAILed past it). */
	assert_int_equal(n_fwd, DG_CLIENT_INFLIGHT_MAX + 1);
	assert_int_equal(fwds[n_fwd - 1].q.id, 0xf000);
}

/* Test that the host's own applications (the capture end) are not
 * rate-limited: the same flood is taken whole. */
static void test_host_not_rate_limited(void **state)
{
	const int n = DG_CLIENT_BURST + DG_CLIENT_RATE + 100;
	struct dg_xsk *x;

	(void)state;
	x = port("dg-cap-xsk", 3, 1, 1, true, 1500);
	flood(x, client_a, n, 0);
	pump();
	assert_int_equal(stats.s->redirected_rate_limited, 0);
	assert_int_equal(stats.s->redirected_queries, n);
	assert_int_equal(n_fwd + n_wire, n);
}

/* Test that with every TX buffer in flight (completions not coming) an
 * answer is dropped and counted redirected_tx_drops, not queued without
 * bound; the others went out. */
static void test_tx_full(void **state)
{
	struct qspec s = { .family = 4 };
	struct dg_xsk *x;
	int i;

	(void)state;
	x = port("lan0", 7, 0, 1, false, 1500);
	fake_tx_cap(x, 2);
	x->tx_stuck = true;
	for (i = 0; i < 3; i++) {
		s.id = (uint16_t)i;
		send_query(x, &s);
	}
	pump();
	for (i = 0; i < 3; i++)
		upstream_answer(i, 1);
	assert_int_equal(n_wire, 2);
	assert_int_equal(stats.s->redirected_answers, 2);
	assert_int_equal(stats.s->redirected_tx_drops, 1);
}

/* Test that an answer never exceeds the port's MTU: on a 576-byte link
 * an upstream answer that does not fit is sent truncated (TC: the client
 * asks again over TCP) in a frame within the MTU, while a 1500-byte link
 * gets the same answer whole. */
static void test_answer_fits_mtu(void **state)
{
	struct qspec s = { .family = 4, .id = 1 };
	struct dg_xsk *small, *big;
	struct answer a;

	(void)state;
	small = port("lan0", 7, 0, 1, false, 576);
	big = port("lan1", 8, 1, 1, false, 1500);
	send_query(small, &s);
	s.id = 2;
	send_query(big, &s);
	pump();
	assert_int_equal(n_fwd, 2);
	upstream_answer(0, 40);
	upstream_answer(1, 40);
	assert_int_equal(n_wire, 2);
	answer_at(0, &a);
	assert_ptr_equal(wire[0].x, small);
	assert_true(a.ri.flags & DG_DNS_TC);
	assert_int_equal(a.ri.ancount, 0);
	assert_true(wire[0].len - 14 <= 576);
	answer_at(1, &a);
	assert_false(a.ri.flags & DG_DNS_TC);
	assert_int_equal(a.ri.ancount, 40);
	assert_true(wire[1].len - 14 > 576 && wire[1].len - 14 <= 1500);
}

/* Test that removing a port with a query in flight closes its socket at
 * once; the answer that comes later is dropped and counted, never
 * written to a closed socket; and that the kernel's drop count of a
 * closed socket stays in redirected_rx_drops (it never goes back). */
static void test_remove_inflight(void **state)
{
	struct qspec s = { .family = 4, .id = 3 };
	struct dg_xsk *x, *y;

	(void)state;
	x = port("lan0", 7, 0, 1, false, 1500);
	send_query(x, &s);
	pump();
	assert_int_equal(n_fwd, 1);
	x->rx_drops = 5;
	dg_redirect_udp_poll_stats(udp);
	assert_int_equal(stats.s->redirected_rx_drops, 5);

	assert_int_equal(dg_redirect_udp_remove(udp, "lan0"), 1);
	assert_true(x->closed);
	assert_false(dg_redirect_udp_serves(udp, "lan0", 7));
	dg_redirect_udp_poll_stats(udp);
	assert_int_equal(stats.s->redirected_rx_drops, 5);

	upstream_answer(0, 1);
	assert_int_equal(n_wire, 0);
	assert_int_equal(stats.s->redirected_tx_drops, 1);
	assert_int_equal(stats.s->redirected_answers, 0);
	pump();			/* the port's memory goes now (ASan checks) */

	/* Back under a new index: a new socket, its drops added on. */
	y = port("lan0", 12, 0, 1, false, 1500);
	y->rx_drops = 2;
	dg_redirect_udp_poll_stats(udp);
	assert_int_equal(stats.s->redirected_rx_drops, 7);
	assert_true(dg_redirect_udp_serves(udp, "lan0", 12));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_sockets_per_queue),
		T(test_port_bound),
		T(test_answer_v4),
		T(test_one_kick_per_turn),
		T(test_answer_vlan),
		T(test_answer_host_mode),
		T(test_formerr_answered),
		T(test_drops),
		T(test_fragments),
		T(test_fragment_given_up),
		T(test_rate_limited),
		T(test_host_not_rate_limited),
		T(test_tx_full),
		T(test_answer_fits_mtu),
		T(test_remove_inflight),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
