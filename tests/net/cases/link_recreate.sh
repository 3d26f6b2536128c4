#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test the link monitor: the guarded uplink deleted and re-created (same
# name, new index) is guarded again within a second of the new link, and
# DNS sent on it never reaches the wire; a renamed uplink keeps its
# guard (the program follows the interface, not the name); each change is
# counted. The daemon runs as User=nobody throughout.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"

pre()
{
	require_base
	require_tools dig
	world_init
	bpffs_mount
	topo_host
	id nobody >/dev/null 2>&1 || skip "no user 'nobody' here"
	# Unprivileged, as a service runs it: re-guarding must not need root.
	conf_guard drop Interface=veth-h User=nobody
	dg_run_ready "$NS_HOST"
	cap_start out "$NS_OUT" veth-o
}

# recreate: make the uplink pair again, addressed and up.
recreate()
{
	ip -n "$NS_HOST" link add veth-h type veth peer name veth-o netns "$NS_OUT"
	ip -n "$NS_HOST" addr add 198.51.100.1/24 dev veth-h
	ip -n "$NS_HOST" link set veth-h up
	ip -n "$NS_OUT" addr add "$OUT4/24" dev veth-o
	ip -n "$NS_OUT" link set veth-o up
}

test()
{
	local i ms t0 old new d0 sent=10
	# CAP_DAC_OVERRIDE, NET_ADMIN, NET_RAW, SYS_ADMIN, PERFMON, BPF.
	check_eq "running as nobody with the capabilities it keeps (permitted)" \
		"$(id -u nobody) $(printf '%016x' $(((1 << 1) | (1 << 12) | (1 << 13) | (1 << 21) | (1 << 38) | (1 << 39))))" \
		"$(awk '$1 == "Uid:" { u = $2 } $1 == "CapPrm:" { c = $2 } END { print u, c }' "/proc/$DG_PID/status")"
	old=$(ip netns exec "$NS_HOST" cat /sys/class/net/veth-h/ifindex)
	cap_stop out
	d0=$(dg_count dns-udp4 drop)

	log "delete and re-create veth-h; DNS on it"
	ip -n "$NS_HOST" link del veth-h
	# From the moment the new link exists to its guard, measured with a
	# poll far finer than the second it must take (the daemon reacts to
	# the link event; README: the window it leaves).
	t0=$(date +%s%N)
	recreate
	wait_guarded "$NS_HOST" veth-h "$t0"
	ms=$GUARD_MS
	pkt "$NS_HOST" udp "$OUT4" 53 "$sent" >/dev/null
	new=$(ip netns exec "$NS_HOST" cat /sys/class/net/veth-h/ifindex)
	check_eq "veth-h has a new index" 1 "$((new != old))"
	check_eq "guarded again within a second (took $ms ms from the new link)" 1 \
		"$((ms >= 0 && ms < 1000))"
	check_eq "every datagram sent on the new link was dropped by the guard" \
		"$((d0 + sent))" "$(dg_count dns-udp4 drop)"
	check_rc "non-DNS traffic flows on the new link" 0 pkt "$NS_HOST" ping "$OUT4"
	cap_start out "$NS_OUT" veth-o

	log "rename veth-h -> veth-r: the guard stays with the interface"
	ip -n "$NS_HOST" link set veth-h down
	ip -n "$NS_HOST" link set veth-h name veth-r
	ip -n "$NS_HOST" link set veth-r up
	wait_link_up "$NS_HOST" veth-r
	check_eq "programs on veth-r" 1 "$(guard_progs "$NS_HOST" veth-r)"
	for ((i = 0; i < 3; i++)); do
		dig_q "$NS_HOST" "$OUT4"
	done
	check_eq "queries on the renamed link dropped" "$((d0 + sent + 3))" \
		"$(dg_count dns-udp4 drop)"
	check_ge "link changes counted" 2 \
		"$(json_get "$T/status.json" 'd["daemon"]["link_events"]')"
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

post()
{
	local n
	cap_stop out
	n=$(cap_count out port 53)
	check_eq "port-53 packets on the wire (renamed link)" 0 "$n"
	[ "$n" = 0 ] || cap_show out port 53
}

dg_main
