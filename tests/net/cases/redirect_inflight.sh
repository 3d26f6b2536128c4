#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that a burst of redirected queries is not lost on the AF_XDP path: dnsperf
# on the guarded host sends 2000 distinct names to the rogue's address with
# 1000 in flight; every one is answered (NOERROR, the upstream's data), no
# frame is dropped on the way in (RX ring) or out (TX buffers), and none
# leaks.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

N=2000

pre()
{
	local i
	require_tools dnsperf
	redirect_world host 'local-zone: "bench." redirect' \
		'local-data: "bench. 60 IN A 203.0.113.99"'
	for ((i = 0; i < N; i++)); do
		echo "q$i.bench A"
	done >"$T/queries"
	cap_start out "$NS_OUT" veth-o
	dg_run_ready "$NS_HOST"
}

test()
{
	timeout 60 ip netns exec "$NS_HOST" dnsperf -s "$ROGUE4" -d "$T/queries" \
		-q 1000 -n 1 -t 5 -b 2048 >"$T/dnsperf.out" 2>&1
	check_grep "Queries completed: $N" "Queries completed: +$N " "$T/dnsperf.out"
	check_grep "Queries lost: 0" "Queries lost: +0 " "$T/dnsperf.out"
	check_grep "all NOERROR" "Response codes: +NOERROR $N " "$T/dnsperf.out"
	sleep 1.2	# the heartbeat refreshes the kernel's drop counts
	check_eq "daemon: redirected queries" "$N" "$(dstat redirected_queries)"
	check_eq "daemon: redirected answers" "$N" "$(dstat redirected_answers)"
	check_eq "daemon: frames lost before the daemon (RX)" 0 "$(dstat redirected_rx_drops)"
	check_eq "daemon: answers lost (TX)" 0 "$(dstat redirected_tx_drops)"
	check_eq "daemon: upstream answers, one per name" "$N" "$(dstat answers 0)"
}

post()
{
	check_no_leak
}

dg_main
