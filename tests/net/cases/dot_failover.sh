#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test failover between two DoT upstreams (DNS=A B, no cache): A answers
# while both are up; with A gone B answers within the deadline; with both
# gone the client gets SERVFAIL within 4 s; A restarted after 4 s down
# (its backoff at the 4 s cap) is probed back up on its own, with no
# query to prompt it, within 6 s, and answers again.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

UP_A=$OUT4
UP_B=198.51.100.54
A_PID=""
B_PID=""

pre()
{
	dot_world host dig
	addr_add "$NS_OUT" veth-o "$UP_B/24"
	unbound_dot_start "$NS_OUT" "$UP_A" "$T/ca/dns.test"
	A_PID=$UB_PID
	unbound_dot_start "$NS_OUT" "$UP_B" "$T/ca/dns.test"
	B_PID=$UB_PID
	conf_dot_strict "$UP_A#dns.test $UP_B#dns.test" Cache=no
	cap_start out "$NS_OUT" veth-o
	dg_run_ready "$NS_HOST"
}

# timed_q NAME: one dig at the stub; sets Q_MS (wall time) and Q_OUT
# ("STATUS ANSWER", e.g. "NOERROR 203.0.113.10").
Q_MS=0
Q_OUT=""
timed_q()
{
	local t0 out
	t0=$(now_ms)
	out=$(ns_exec "$NS_HOST" dig +tries=1 +time=6 @127.0.0.53 "$1")
	Q_MS=$(($(now_ms) - t0))
	Q_OUT="$(grep -o 'status: [A-Z]*' <<<"$out" | cut -d' ' -f2)"
	Q_OUT+=" $(awk '/ANSWER SECTION/ { getline; print $5 }' <<<"$out")"
	Q_OUT=${Q_OUT% }
}

# wait_state IDX STATE SECS: until upstream IDX reports STATE; prints the
# milliseconds it took, or "timeout".
wait_state()
{
	local t0 i
	t0=$(now_ms)
	for ((i = 0; i < $3 * 10; i++)); do
		if [ "$(dstat state "$1")" = "$2" ]; then
			echo $(($(now_ms) - t0))
			return 0
		fi
		sleep 0.1
	done
	echo timeout
}

test()
{
	local i a0 b0 ms

	log "both up: A answers"
	a0=$(dstat answers 0)
	b0=$(dstat answers 1)
	for i in 1 2 3; do
		timed_q a.test
		check_eq "query $i" "NOERROR $DOT_A" "$Q_OUT"
	done
	check_eq "A's answers" $((a0 + 3)) "$(dstat answers 0)"
	check_eq "B's answers" "$b0" "$(dstat answers 1)"

	log "A stopped: B answers within the deadline"
	kill_pid "$A_PID"
	a0=$(dstat answers 0)
	b0=$(dstat answers 1)
	for i in 1 2 3; do
		timed_q a.test
		check_eq "query $i without A" "NOERROR $DOT_A" "$Q_OUT"
		check_eq "query $i answered within 3 s (took $Q_MS ms)" 1 "$((Q_MS < 3000))"
	done
	check_eq "A's answers" "$a0" "$(dstat answers 0)"
	check_eq "B's answers" $((b0 + 3)) "$(dstat answers 1)"
	check_eq "A's state" down "$(dstat state 0)"
	check_eq "B's state" up "$(dstat state 1)"

	log "B stopped too: SERVFAIL within 4 s"
	kill_pid "$B_PID"
	timed_q a.test
	check_eq "answer with no upstream" "SERVFAIL" "$Q_OUT"
	check_eq "SERVFAIL within 4 s (took $Q_MS ms)" 1 "$((Q_MS < 4000))"
	check_ge "servfail counted" 1 "$(dstat servfail)"

	# Down long enough for A's backoff to reach its 4 s cap.
	sleep 4
	log "A restarted: probed up again by itself, then answers"
	unbound_dot_start "$NS_OUT" "$UP_A" "$T/ca/dns.test"
	A_PID=$UB_PID
	ms=$(wait_state 0 up 7)
	check_eq "A up again within 6 s (took $ms ms)" 1 \
		"$([[ "$ms" =~ ^[0-9]+$ ]] && [ "$ms" -le 6000 ] && echo 1 || echo 0)"
	a0=$(dstat answers 0)
	for i in 1 2; do
		timed_q a.test
		check_eq "query $i after A's return" "NOERROR $DOT_A" "$Q_OUT"
	done
	check_eq "A's answers" $((a0 + 2)) "$(dstat answers 0)"
}

post()
{
	check_wire_clean
	check_idle_cpu
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

dg_main
