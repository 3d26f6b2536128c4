#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that SIGHUP moves the daemon to new upstreams under load without
# losing a query: dnsperf sends never-repeated names at a steady rate
# while DNS= changes from upstream A to upstream B; every query is
# answered NOERROR, B answers after the reload, the counters show B alone
# with nothing left in flight, and no cleartext crossed the wire.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

UP_B=198.51.100.54
N=6000		# 3 s at 2000 QPS

pre()
{
	local i
	dot_world host dig dnsperf
	addr_add "$NS_OUT" veth-o "$UP_B/24"
	for up in "$OUT4" "$UP_B"; do
		unbound_dot_start "$NS_OUT" "$up" "$T/ca/dns.test" \
			'local-zone: "bench." redirect' \
			'local-data: "bench. 60 IN A 203.0.113.99"'
	done
	for ((i = 0; i < N; i++)); do
		echo "q$i.bench A"
	done >"$T/queries"
	conf_dot_strict "$OUT4#dns.test"
	cap_start out "$NS_OUT" veth-o
	dg_run_ready "$NS_HOST"
}

test()
{
	local perf
	timeout 30 ip netns exec "$NS_HOST" dnsperf -s 127.0.0.53 -d "$T/queries" \
		-n 1 -Q 2000 -q 200 -t 5 >"$T/dnsperf.out" 2>&1 &
	perf=$!
	sleep 1.2
	log "SIGHUP: DNS=$OUT4 -> DNS=$UP_B, mid-load"
	sed -i "s/^DNS=.*/DNS=$UP_B#dns.test/" "$CONF"
	kill -HUP "$DG_PID"
	wait "$perf"
	check_grep "Queries completed: $N" "Queries completed: +$N " "$T/dnsperf.out"
	check_grep "Queries lost: 0" "Queries lost: +0 " "$T/dnsperf.out"
	check_grep "all NOERROR" "Response codes: +NOERROR $N " "$T/dnsperf.out"
	check_grep "the daemon logged the switch" "upstreams replaced" "$T/dg.log"
	check_eq "upstreams listed after the reload" "$UP_B#dns.test" \
		"$(status_json "$NS_HOST" && json_get "$T/status.json" \
			'",".join(u["name"] for u in d["daemon"]["upstreams"])')"
	check_ge "B answered after the reload" 1000 \
		"$(json_get "$T/status.json" 'd["daemon"]["upstreams"][0]["answers"]')"
	check_eq "servfail" 0 "$(json_get "$T/status.json" 'd["daemon"]["servfail"]')"
	sleep 4		# the old pool is freed after the query deadline
	check_eq "nothing left in flight" 0 "$(dstat inflight)"
	check_eq "B's open connections (the pool size)" 2 "$(dstat conns_open 0)"
}

post()
{
	check_wire_clean
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

dg_main
