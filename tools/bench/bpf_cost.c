// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Per-packet cost of the guard programs, measured with BPF_PROG_TEST_RUN
 * beside a no-op program of the same type (r0 = verdict; exit), so what
 * the table shows is what the guard adds on top of the hook's own cost.
 * Guard and no-op alternate within each round, in alternating order, and
 * each figure is the median over the rounds, so both see the same machine
 * state. Targets: non-DNS <= 1.2x the no-op, DNS <= 1.5x. Fragments of
 * ordinary (non-DNS) traffic have no target: they show what the
 * fragment bookkeeping costs (a first fragment's record, a later one's
 * lookup), measured against the same no-op. The kernel
 * reports whole ns per run, so small figures carry +-1 ns. A benchmark,
 * not a test: a miss is reported and still exits 0.
 *
 * Usage: bpf_cost [-r REPEAT] [-n ROUNDS]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "log.h"
#include "pkt.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_ROUNDS 31

struct bench_pkt {
	const char *name;
	double target;		/* guard / no-op at most; 0: no target */
	void (*build)(struct pkt *p);
	void (*prime)(struct pkt *p);	/* run once before, when set */
};

static void build_udp4_443(struct pkt *p)
{
	pkt_eth(p);
	pkt_ipv4(p, 0);
	pkt_udp(p, 40000, 443, 64);
}

static void build_udp6_443(struct pkt *p)
{
	pkt_eth(p);
	pkt_ipv6(p);
	pkt_udp(p, 40000, 443, 64);
}

static void build_dns4(struct pkt *p)
{
	pkt_eth(p);
	pkt_ipv4(p, 0);
	pkt_udp(p, 40000, 53, 29);
}

static void build_dns6(struct pkt *p)
{
	pkt_eth(p);
	pkt_ipv6(p);
	pkt_udp(p, 40000, 53, 29);
}

/* Fragments of one UDP/443 datagram: its first, and a later one. */
static void build_frag4_first(struct pkt *p)
{
	pkt_eth(p);
	pkt_ipv4(p, 0);
	pkt_ipv4_frag(p, 0x4242, 1, 0);
	pkt_udp(p, 40000, 443, 64);
}

static void build_frag4_later(struct pkt *p)
{
	pkt_eth(p);
	pkt_ipv4(p, 0);
	pkt_ipv4_frag(p, 0x4242, 0, 9);
	pkt_payload(p, PKT_IP_UDP, 64);
}

static void build_frag6_first(struct pkt *p)
{
	pkt_eth(p);
	pkt_ipv6(p);
	pkt_frag6(p, 0x64646464, 1, 0);
	pkt_udp(p, 40000, 443, 64);
}

static void build_frag6_later(struct pkt *p)
{
	pkt_eth(p);
	pkt_ipv6(p);
	pkt_frag6(p, 0x64646464, 0, 9);
	pkt_payload(p, PKT_IP_UDP, 64);
}

static const struct bench_pkt bench_pkts[] = {
	{ "non-DNS IPv4 (UDP/443)", 1.2, build_udp4_443, NULL },
	{ "non-DNS IPv6 (UDP/443)", 1.2, build_udp6_443, NULL },
	{ "DNS UDP4 (drop)", 1.5, build_dns4, NULL },
	{ "DNS UDP6 (drop)", 1.5, build_dns6, NULL },
	{ "first frag. IPv4 UDP/443", 0, build_frag4_first, NULL },
	{ "later frag. IPv4 UDP/443", 0, build_frag4_later, build_frag4_first },
	{ "first frag. IPv6 UDP/443", 0, build_frag6_first, NULL },
	{ "later frag. IPv6 UDP/443", 0, build_frag6_later, build_frag6_first },
};

/* r0 = ret; exit: the cheapest program the hook can run. */
static int noop_load(enum bpf_prog_type type, const char *name, int ret)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = ret },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(type, name, "GPL", insns, ARRAY_SIZE(insns), NULL);
}

/* Average ns per run over repeat runs of one packet. */
static int run_ns(int prog, const struct pkt *p, unsigned int repeat,
		  double *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p->buf,
		    .data_size_in = p->len, .repeat = repeat);
	int err;

	err = bpf_prog_test_run_opts(prog, &opts);
	if (err)
		return err;
	*ns = opts.duration;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Median guard and no-op ns/pkt for one packet, alternating the two. */
static int measure(int guard, int noop, const struct pkt *p,
		   unsigned int repeat, unsigned int rounds, double *g, double *z)
{
	double gv[MAX_ROUNDS], zv[MAX_ROUNDS];
	unsigned int r;
	int err = 0;

	/* Warm both up: caches, branch predictors, the JIT image. */
	err = run_ns(guard, p, repeat / 10 + 1, &gv[0]);
	if (!err)
		err = run_ns(noop, p, repeat / 10 + 1, &zv[0]);
	for (r = 0; !err && r < rounds; r++) {
		if (r % 2) {
			err = run_ns(noop, p, repeat, &zv[r]);
			if (!err)
				err = run_ns(guard, p, repeat, &gv[r]);
		} else {
			err = run_ns(guard, p, repeat, &gv[r]);
			if (!err)
				err = run_ns(noop, p, repeat, &zv[r]);
		}
	}
	if (err)
		return err;
	*g = median(gv, rounds);
	*z = median(zv, rounds);
	return 0;
}

/* Pin to the CPU we are on: test runs execute on the caller's CPU. */
static void pin_cpu(void)
{
	int cpu = sched_getcpu();
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

int main(int argc, char **argv)
{
	struct dg_prog_cfg tc_cfg = { .slot = 0, .hook = DG_HOOK_TC_EGRESS };
	struct dg_prog_cfg xdp_cfg = { .slot = 1, .hook = DG_HOOK_XDP_GATEWAY };
	struct dg_policy pol = { .mode = DG_MODE_DROP };
	unsigned int repeat = 200000, rounds = 5, i, h;
	struct dg_tc *tc = NULL;
	struct dg_xdp *xdp = NULL;
	int guard[2], noop[2] = { -1, -1 }, policy[2];
	const char *hook_names[2] = { "tc", "xdp" };
	double g, z, ratio;
	__u32 zero = 0;
	struct pkt p;
	int opt, err;

	while ((opt = getopt(argc, argv, "r:n:")) != -1) {
		if (opt == 'r')
			repeat = strtoul(optarg, NULL, 0);
		else if (opt == 'n')
			rounds = strtoul(optarg, NULL, 0);
		else
			goto usage;
	}
	if (!repeat || !rounds || rounds > MAX_ROUNDS)
		goto usage;

	log_hook_libraries();
	pin_cpu();
	err = dg_loader_tc(&tc_cfg, NULL, &tc);
	if (!err)
		err = dg_loader_xdp(&xdp_cfg, NULL, true, &xdp);
	if (err)
		goto out;
	guard[0] = bpf_program__fd(tc->progs.dg_tc_egress);
	guard[1] = bpf_program__fd(xdp->progs.dg_xdp_gateway);
	policy[0] = bpf_map__fd(tc->maps.dg_policy);
	policy[1] = bpf_map__fd(xdp->maps.dg_policy);
	noop[0] = noop_load(BPF_PROG_TYPE_SCHED_CLS, "dg_noop_tc", TC_ACT_OK);
	noop[1] = noop_load(BPF_PROG_TYPE_XDP, "dg_noop_xdp", XDP_PASS);
	if (noop[0] < 0 || noop[1] < 0) {
		err = noop[0] < 0 ? noop[0] : noop[1];
		fprintf(stderr, "bpf_cost: loading the no-op program: %s\n",
			strerror(-err));
		goto out;
	}
	for (h = 0; h < 2; h++) {
		err = bpf_map_update_elem(policy[h], &zero, &pol, BPF_ANY);
		if (err) {
			fprintf(stderr, "bpf_cost: setting Mode=drop: %s\n",
				strerror(-err));
			goto out;
		}
	}

	printf("bpf_cost: BPF_PROG_TEST_RUN, %u runs x %u rounds, median ns/pkt\n",
	       repeat, rounds);
	printf("%-5s %-24s %9s %9s %7s %6s %7s %s\n", "hook", "packet", "guard",
	       "no-op", "added", "ratio", "target", "result");
	for (h = 0; h < 2; h++) {
		for (i = 0; i < ARRAY_SIZE(bench_pkts); i++) {
			if (bench_pkts[i].prime) {
				pkt_init(&p);
				bench_pkts[i].prime(&p);
				pkt_finish(&p);
				err = run_ns(guard[h], &p, 1, &g);
				if (err)
					goto out;
			}
			pkt_init(&p);
			bench_pkts[i].build(&p);
			pkt_finish(&p);
			err = measure(guard[h], noop[h], &p, repeat, rounds, &g, &z);
			if (err) {
				fprintf(stderr, "bpf_cost: %s %s: test run: %s\n",
					hook_names[h], bench_pkts[i].name,
					strerror(-err));
				goto out;
			}
			ratio = z > 0 ? g / z : 0;
			if (!bench_pkts[i].target) {
				printf("%-5s %-24s %9.1f %9.1f %7.1f %5.2fx %6s  %s\n",
				       hook_names[h], bench_pkts[i].name, g, z,
				       g - z, ratio, "-", "-");
				continue;
			}
			printf("%-5s %-24s %9.1f %9.1f %7.1f %5.2fx %5.1fx  %s\n",
			       hook_names[h], bench_pkts[i].name, g, z, g - z, ratio,
			       bench_pkts[i].target,
			       z > 0 && ratio <= bench_pkts[i].target ? "PASS" : "MISS");
		}
	}
out:
	for (h = 0; h < 2; h++)
		if (noop[h] >= 0)
			close(noop[h]);
	dg_tc__destroy(tc);
	dg_xdp__destroy(xdp);
	return err ? 1 : 0;
usage:
	fprintf(stderr, "usage: %s [-r REPEAT] [-n ROUNDS (1..%d)]\n", argv[0],
		MAX_ROUNDS);
	return 2;
}
