#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that no query is lost when the first upstream (DNS=A B, no cache)
# misbehaves under queries in flight:
#  - stall: A's unbound is stopped (SIGSTOP), its connections stay open
#    and silent; every query is answered by B within the deadline;
#  - reset: A is killed (SIGKILL) with a batch in flight on it; every
#    query moves to B at once, well before the attempt timeout;
#  - crash under load: A is killed (twice) during a dnsperf run.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

UP_A=$OUT4
UP_B=198.51.100.54
A_PID=""

pre()
{
	dot_world host dig dnsperf
	addr_add "$NS_OUT" veth-o "$UP_B/24"
	unbound_dot_start "$NS_OUT" "$UP_A" "$T/ca/dns.test"
	A_PID=$UB_PID
	unbound_dot_start "$NS_OUT" "$UP_B" "$T/ca/dns.test"
	conf_dot_strict "$UP_A#dns.test $UP_B#dns.test" Cache=no
	cap_start out "$NS_OUT" veth-o
	dg_run_ready "$NS_HOST"
	# Both pools open before anything is measured.
	wait_conns 0 2
	wait_conns 1 2
}

# wait_conns IDX N: upstream IDX has N connections open (bounded ~5 s).
wait_conns()
{
	local i
	for ((i = 0; i < 50; i++)); do
		[ "$(dstat conns_open "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	die "upstream $1: $2 connections not open after 5 s ($(dstat conns_open "$1"))"
}

# wait_up IDX: upstream IDX is up again with a connection open (bounded
# ~6 s: the backoff is at most 4 s).
wait_up()
{
	local i
	for ((i = 0; i < 60; i++)); do
		kill -0 "$DG_PID" 2>/dev/null || die "dotguard died; log:
$(tail -n 30 "$T/dg.log")"
		[ "$(dstat state "$1")" = up ] && [ "$(dstat conns_open "$1")" -ge 1 ] &&
			return 0
		sleep 0.1
	done
	die "upstream $1 not up again after 6 s ($(dstat state "$1"))"
}

# perf NAME N [ARGS...]: dnsperf at the stub with N copies of "a.test A",
# N outstanding, output in $T/NAME.out.
perf()
{
	perf_bg "$@"
	wait "$PERF_PID"
}

# perf_bg NAME N [ARGS...]: perf in the background; sets PERF_PID.
PERF_PID=""
perf_bg()
{
	local name=$1 n=$2 i
	shift 2
	for ((i = 0; i < n; i++)); do
		echo "a.test A"
	done >"$T/$name.q"
	timeout 30 ip netns exec "$NS_HOST" dnsperf -s 127.0.0.53 -d "$T/$name.q" \
		-q "$n" -t 5 -b 2048 "$@" >"$T/$name.out" 2>&1 &
	PERF_PID=$!
	defer kill_pid "$PERF_PID"
}

# perf_max_ms NAME: the max latency dnsperf reported, in ms.
perf_max_ms()
{
	sed -n 's/.*Average Latency.*max \([0-9.]*\)).*/\1/p' "$T/$1.out" |
		awk '{ printf "%d\n", $1 * 1000 }'
}

# perf_ok NAME N: dnsperf completed N queries, all NOERROR.
perf_ok()
{
	check_grep "$1: Queries completed: $2" "Queries completed: +$2 " "$T/$1.out"
	check_grep "$1: Queries lost: 0" "Queries lost: +0 " "$T/$1.out"
	check_grep "$1: all NOERROR" "Response codes: +NOERROR $2 " "$T/$1.out"
}

test()
{
	local a0 b0 sf0 r0 to0 rs0 ms i

	log "stall: A stopped, 20 queries at once"
	a0=$(dstat answers 0)
	b0=$(dstat answers 1)
	sf0=$(dstat servfail)
	to0=$(dstat failures.timeout 0)
	kill -STOP "$A_PID"
	perf stall 20 -n 1
	perf_ok stall 20
	ms=$(perf_max_ms stall)
	check_eq "stall: slowest answer within the 3 s deadline (took $ms ms)" 1 \
		"$((ms < 3000))"
	check_eq "stall: B's answers" $((b0 + 20)) "$(dstat answers 1)"
	check_eq "stall: A's answers" "$a0" "$(dstat answers 0)"
	check_ge "stall: A's timeouts" $((to0 + 1)) "$(dstat failures.timeout 0)"
	for i in 1 2 3; do
		perf "stall-seq$i" 1 -n 1
		perf_ok "stall-seq$i" 1
		log "query $i after the batch, A still stopped: $(perf_max_ms "stall-seq$i") ms"
	done
	check_eq "stall: servfail" "$sf0" "$(dstat servfail)"
	kill -CONT "$A_PID"
	check_eq "stall: a.test once A runs again" "$DOT_A" \
		"$(ns_exec "$NS_HOST" dig +short +tries=1 +time=4 @127.0.0.53 a.test)"

	log "reset: A killed (SIGKILL) with 50 queries in flight on it"
	wait_conns 0 2
	b0=$(dstat answers 1)
	r0=$(dstat retries)
	to0=$(dstat failures.timeout 0)
	rs0=$(dstat failures.reset 0)
	kill -STOP "$A_PID"	# so the batch is surely in flight on A
	perf_bg reset 50 -n 1
	sleep 0.3
	kill_pid "$A_PID" KILL
	wait "$PERF_PID"
	perf_ok reset 50
	ms=$(perf_max_ms reset)
	check_eq "reset: slowest answer before the 1.2 s attempt timeout (took $ms ms)" 1 \
		"$((ms < 1200))"
	check_eq "reset: B's answers" $((b0 + 50)) "$(dstat answers 1)"
	check_ge "reset: retries" $((r0 + 50)) "$(dstat retries)"
	check_ge "reset: A's failures.reset" $((rs0 + 1)) "$(dstat failures.reset 0)"
	check_eq "reset: A's timeouts (none: moved by the reset)" "$to0" \
		"$(dstat failures.timeout 0)"
	check_eq "reset: servfail" "$sf0" "$(dstat servfail)"

	log "crash under load: A killed twice during 4 s of dnsperf at 10k qps"
	unbound_dot_start "$NS_OUT" "$UP_A" "$T/ca/dns.test"
	A_PID=$UB_PID
	wait_up 0
	r0=$(dstat retries)
	perf_bg load 100 -l 4 -Q 10000
	sleep 1
	kill_pid "$A_PID" KILL
	unbound_dot_start "$NS_OUT" "$UP_A" "$T/ca/dns.test"
	A_PID=$UB_PID
	wait_up 0
	sleep 0.3
	kill_pid "$A_PID" KILL
	wait "$PERF_PID"
	check_grep "load: Queries lost: 0" "Queries lost: +0 " "$T/load.out"
	check_grep "load: only NOERROR" "Response codes: +NOERROR [0-9]+ \(100.00%\)$" \
		"$T/load.out"
	check_eq "load: servfail" "$sf0" "$(dstat servfail)"
	log "load: $(grep -o 'Queries completed: *[0-9]*' "$T/load.out"), moved by the crash: $(($(dstat retries) - r0))"
}

post()
{
	check_wire_clean
	check_eq "inflight" 0 "$(dstat inflight)"
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

dg_main
