#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that 1000 queries in flight at once (dnsperf, 1000 outstanding,
# 1000 distinct names) are all answered through a pool of two TLS
# connections: none lost, no SERVFAIL, exactly one upstream answer each.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

N=1000

pre()
{
	local i
	dot_world host dig dnsperf
	unbound_dot_start "$NS_OUT" "$OUT4" "$T/ca/dns.test" \
		'local-zone: "bench." redirect' \
		'local-data: "bench. 60 IN A 203.0.113.99"'
	conf_dot_strict "$OUT4#dns.test" PoolSize=2
	for ((i = 0; i < N; i++)); do
		echo "q$i.bench A"
	done >"$T/queries"
	cap_start out "$NS_OUT" veth-o
	dg_run_ready "$NS_HOST"
}

# udp_rcvbuf_errors: the host namespace's UDP RcvbufErrors (v4 + v6).
udp_rcvbuf_errors()
{
	ip netns exec "$NS_HOST" nstat -az UdpRcvbufErrors Udp6RcvbufErrors |
		awk '/RcvbufErrors/ { n += $2 } END { print n + 0 }'
}

test()
{
	local ans0 sf0 co rcvbuf0

	# One query first, so the pool is open and the counters are set.
	check_eq "warm-up q.bench" 203.0.113.99 \
		"$(ns_exec "$NS_HOST" dig +short +tries=1 +time=4 @127.0.0.53 q.bench)"
	ans0=$(dstat answers 0)
	sf0=$(dstat servfail)

	log "dnsperf: $N distinct names, $N outstanding, one pass"
	rcvbuf0=$(udp_rcvbuf_errors)
	# -b: dnsperf's own socket must hold a burst of 1000 answers (the
	# 208 KiB default does not when it is scheduled late).
	timeout 30 ip netns exec "$NS_HOST" dnsperf -s 127.0.0.53 -d "$T/queries" \
		-q "$N" -n 1 -t 5 -b 2048 >"$T/dnsperf.out" 2>&1
	check_grep "Queries completed: $N" "Queries completed: +$N " "$T/dnsperf.out"
	check_eq "UDP receive-buffer drops in the host namespace (stub or dnsperf)" 0 \
		$(($(udp_rcvbuf_errors) - rcvbuf0))
	check_grep "Queries lost: 0" "Queries lost: +0 " "$T/dnsperf.out"
	check_grep "all NOERROR" "Response codes: +NOERROR $N " "$T/dnsperf.out"
	check_eq "upstream answers" $((ans0 + N)) "$(dstat answers 0)"
	check_eq "servfail" "$sf0" "$(dstat servfail)"
	check_eq "inflight after the run" 0 "$(dstat inflight)"
	co=$(dstat conns_open 0)
	check_eq "conns_open ($co) <= 2" 1 "$((co <= 2))"
	check_eq "full handshakes (two connections, never reopened)" 2 \
		"$(dstat handshakes_full 0)"
}

post()
{
	check_wire_clean
	check_eq "TCP connections opened to :853 (SYNs)" 2 \
		"$(cap_count out 'tcp dst port 853 and tcp[tcpflags] & tcp-syn != 0')"
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

dg_main
