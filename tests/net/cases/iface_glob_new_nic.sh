#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test Interface=eth*: a second NIC named to match, created after the
# daemon started, is guarded within a second of its creation (measured,
# polled with a deadline), counted as a link change, and plaintext DNS
# sent through it once it is up leaves no port-53 packet on its wire
# while other traffic does; a link whose name does not match, created
# just before it, is left alone.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

FAR=203.0.113.254	# the new NIC's neighbour

pre()
{
	require_base
	require_tools dig
	world_init
	bpffs_mount
	NS_HOST=$(ns host)
	NS_OUT=$(ns out)
	NS_OUT2=$(ns out2)
	ns_add host
	ns_add out
	ns_add out2
	veth_add "$NS_HOST" eth0 "$NS_OUT" veth-o
	addr_add "$NS_HOST" eth0 198.51.100.1/24
	addr_add "$NS_OUT" veth-o "$OUT4/24"
	wait_link_up "$NS_HOST" eth0
	conf_guard drop "Interface=eth*"
	dg_run_ready "$NS_HOST"
}

test()
{
	local t0 sent=5

	check_eq "programs on eth0 (there at start)" 1 "$(guard_progs "$NS_HOST" eth0)"

	log "xeth0 (no match), then eth1, created while the daemon runs"
	ip -n "$NS_HOST" link add xeth0 type veth peer name xeth0p ||
		die "ip link add xeth0"
	defer ip -n "$NS_HOST" link del xeth0
	t0=$(date +%s%N)
	ip -n "$NS_HOST" link add eth1 type veth peer name veth-o2 netns "$NS_OUT2" ||
		die "ip link add eth1"
	defer ip -n "$NS_HOST" link del eth1
	wait_guarded "$NS_HOST" eth1 "$t0"
	check_eq "eth1 guarded within a second of its creation (took $GUARD_MS ms)" 1 \
		"$((GUARD_MS >= 0 && GUARD_MS < 1000))"
	# xeth0 existed when eth1's event made the daemon select again.
	check_eq "programs on xeth0 (does not match eth*)" 0 "$(guard_progs "$NS_HOST" xeth0)"
	check_ge "link changes counted" 1 "$(dstat link_events)"

	log "eth1 up and addressed; DNS through it"
	addr_add "$NS_HOST" eth1 203.0.113.1/24
	addr_add "$NS_OUT2" veth-o2 "$FAR/24"
	ip -n "$NS_HOST" link set eth1 up
	ip -n "$NS_OUT2" link set veth-o2 up
	wait_link_up "$NS_HOST" eth1
	cap_start out2 "$NS_OUT2" veth-o2
	dig_q "$NS_HOST" "$FAR"
	pkt "$NS_HOST" udp "$FAR" 53 "$sent"
	pkt "$NS_HOST" tcp "$FAR" 53 0.5
	check_eq "dns-udp4 drop (dig + $sent datagrams)" "$((1 + sent))" "$(dg_count dns-udp4 drop)"
	check_eq "dns-tcp4 drop (one SYN)" 1 "$(dg_count dns-tcp4 drop)"
	check_rc "ping $FAR through eth1" 0 pkt "$NS_HOST" ping "$FAR"
	pkt "$NS_HOST" udp "$FAR" 5353
}

post()
{
	local n
	cap_stop out2
	check_eq "UDP to 5353 on eth1's wire" 1 "$(cap_count out2 udp dst port 5353)"
	n=$(cap_count out2 port 53)
	check_eq "port-53 packets on eth1's wire" 0 "$n"
	[ "$n" = 0 ] || cap_show out2 port 53
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

dg_main
