#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test Interface=auto following the routing table: up-b, which holds no
# default route at start and is not guarded, is guarded within a second
# of the default route moving to it (measured, polled with a deadline),
# counted as a change; plaintext DNS to an outside TEST-NET address,
# which now leaves by up-b, leaves no port-53 packet on its wire. up-a,
# which lost the default route, stays guarded (an application could
# still reach a resolver through its connected route) until a reload
# recomputes the set and lets it go.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

FAR=203.0.113.99	# only reachable through a default route
GW_A=198.51.100.254
GW_B=192.0.2.254

pre()
{
	require_base
	require_tools dig
	world_init
	bpffs_mount
	NS_HOST=$(ns host)
	NS_A=$(ns out-a)
	NS_B=$(ns out-b)
	ns_add host
	ns_add out-a
	ns_add out-b
	veth_add "$NS_HOST" up-a "$NS_A" veth-a
	veth_add "$NS_HOST" up-b "$NS_B" veth-b
	addr_add "$NS_HOST" up-a 198.51.100.1/24
	addr_add "$NS_A" veth-a "$GW_A/24"
	addr_add "$NS_HOST" up-b 192.0.2.1/24
	addr_add "$NS_B" veth-b "$GW_B/24"
	wait_link_up "$NS_HOST" up-a
	wait_link_up "$NS_HOST" up-b
	ip -n "$NS_HOST" route add default via "$GW_A" dev up-a
	conf_guard drop
	dg_run_ready "$NS_HOST"
	cap_start a "$NS_A" veth-a
	cap_start b "$NS_B" veth-b
}

test()
{
	local t0 e0

	check_eq "programs on up-a (default route)" 1 "$(guard_progs "$NS_HOST" up-a)"
	check_eq "programs on up-b (no default route yet)" 0 "$(guard_progs "$NS_HOST" up-b)"
	e0=$(dstat link_events)

	log "the default route moves to up-b"
	t0=$(date +%s%N)
	ip -n "$NS_HOST" route replace default via "$GW_B" dev up-b ||
		die "ip route replace default"
	wait_guarded "$NS_HOST" up-b "$t0"
	check_eq "up-b guarded within a second of the route change (took $GUARD_MS ms)" 1 \
		"$((GUARD_MS >= 0 && GUARD_MS < 1000))"
	check_ge "route change counted" "$((e0 + 1))" "$(dstat link_events)"

	log "DNS to $FAR leaves by up-b now; up-a stays guarded"
	dig_q "$NS_HOST" "$FAR"
	pkt "$NS_HOST" udp "$FAR" 53 3
	pkt "$NS_HOST" tcp "$FAR" 53 0.5
	pkt "$NS_HOST" udp "$GW_A" 53
	check_eq "dns-udp4 drop (dig + 3 by up-b, 1 by up-a)" 5 "$(dg_count dns-udp4 drop)"
	check_eq "dns-tcp4 drop (one SYN)" 1 "$(dg_count dns-tcp4 drop)"
	check_eq "programs on up-a (no default route now, still guarded)" 1 \
		"$(guard_progs "$NS_HOST" up-a)"
	pkt "$NS_HOST" udp "$FAR" 5353
	pkt "$NS_HOST" udp "$GW_A" 5353
	cap_stop a
	cap_stop b

	log "a reload recomputes the set: up-a holds no default route, up-b does"
	kill -HUP "$DG_PID"
	wait_log_line "reloaded: guarding"
	check_eq "programs on up-a after the reload" 0 "$(guard_progs "$NS_HOST" up-a)"
	check_eq "programs on up-b after the reload" 1 "$(guard_progs "$NS_HOST" up-b)"
}

# wait_log_line TEXT: the daemon logged TEXT (bounded ~5 s).
wait_log_line()
{
	local i
	for ((i = 0; i < 50; i++)); do
		grep -q -- "$1" "$T/dg.log" && return 0
		sleep 0.1
	done
	sed 's/^/    /' "$T/dg.log"
	die "dotguard never logged '$1'"
}

post()
{
	local n
	check_eq "UDP to 5353 on up-b's wire" 1 "$(cap_count b udp dst port 5353)"
	check_eq "UDP to 5353 on up-a's wire" 1 "$(cap_count a udp dst port 5353)"
	for n in a b; do
		check_eq "port-53 packets on up-$n's wire" 0 "$(cap_count "$n" port 53)"
		[ "$(cap_count "$n" port 53)" = 0 ] || cap_show "$n" port 53
	done
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

dg_main
