#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that one client cannot hold every upstream slot with slow names:
# dnsperf from 127.0.0.2 keeps 3000 queries for names the upstream answers
# only after a second; the daemon keeps at most 1024 of them in flight
# (DG_CLIENT_INFLIGHT_MAX) and answers the rest SERVFAIL at once, so
# another client (127.0.0.1) gets every one of its 2 x 50 names from the
# upstream meanwhile - where before the pool's 2048 slots were the first
# client's and the others got SERVFAIL whenever none was free.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

CAP=1024	# DG_CLIENT_INFLIGHT_MAX
FAST_A=203.0.113.10

pre()
{
	local i pid
	dot_world host dig dnsperf
	# A DoT upstream answering "slow*" names after 1 s (under the
	# daemon's 1.2 s attempt timeout), others at once.
	ip netns exec "$NS_OUT" "$PY" "$NET_DIR/hostile.py" slowdot "$OUT4" 853 \
		"$T/ca/dns.test.pem" "$T/ca/dns.test.key" 1.0 100 >"$T/slowdot.out" 2>&1 &
	pid=$!
	defer kill_pid "$pid"
	wait_port "$NS_OUT" "$OUT4" 853 "$pid"
	conf_dot_strict "$OUT4#dns.test"
	for ((i = 0; i < 20000; i++)); do
		echo "slow$i.test A"
	done >"$T/queries"
	for ((i = 0; i < 50; i++)); do
		echo "other$i.test A"
	done >"$T/other"
	cap_start out "$NS_OUT" veth-o
	dg_run_ready "$NS_HOST"
}

test()
{
	local pid i inflight max=0

	check_eq "warm-up: fast.test" "$FAST_A" \
		"$(timeout 10 ip netns exec "$NS_HOST" dig +short +tries=1 +time=3 @127.0.0.53 fast.test)"

	log "127.0.0.2 keeps 3000 slow queries outstanding for 10 s"
	timeout 30 ip netns exec "$NS_HOST" dnsperf -s 127.0.0.53 -a 127.0.0.2 \
		-d "$T/queries" -q 3000 -l 10 -t 5 >"$T/dnsperf.out" 2>&1 &
	pid=$!
	defer kill_pid "$pid"
	# Until the upstream holds many of them (bounded ~10 s).
	for ((i = 0; i < 100; i++)); do
		inflight=$(dstat inflight)
		[[ "$inflight" =~ ^[0-9]+$ ]] && ((inflight >= CAP / 2)) && break
		sleep 0.1
	done
	check_ge "queries in flight upstream while it floods" $((CAP / 2)) "$inflight"

	log "127.0.0.1 asks 50 other names meanwhile, twice"
	for ((i = 0; i < 2; i++)); do
		timeout 20 ip netns exec "$NS_HOST" dnsperf -s 127.0.0.53 -a 127.0.0.1 \
			-d "$T/other" -q 50 -n 1 -t 5 >"$T/other$i.out" 2>&1
		check_grep "127.0.0.1: all 50 answered by the upstream (round $i)" \
			"Response codes: +NOERROR 50 " "$T/other$i.out"
		inflight=$(dstat inflight)
		[[ "$inflight" =~ ^[0-9]+$ ]] && ((inflight > max)) && max=$inflight
	done
	check_eq "queries in flight upstream stayed within one client's cap + 50 ($max)" 1 \
		"$((max <= CAP + 50))"
	check_eq "dnsperf still running (the flood lasted)" 0 "$(kill -0 "$pid"; echo $?)"

	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	check_grep "127.0.0.2 got SERVFAIL past its cap" "SERVFAIL [0-9]+" "$T/dnsperf.out"
	check_grep "127.0.0.2's slow names were answered too" "NOERROR [0-9]+" "$T/dnsperf.out"
	check_ge "daemon: SERVFAIL answers" 1 "$(dstat servfail)"
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

post()
{
	check_wire_clean
}

dg_main
