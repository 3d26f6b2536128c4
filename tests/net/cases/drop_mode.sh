#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that Mode=drop on the host's uplink stops plaintext DNS sent every
# way we know (dig, kdig, UDP and TCP, IPv4 and IPv6, a raw socket, a
# hand-made and a VLAN-tagged AF_PACKET frame): none crosses the wire,
# each is counted exactly once under its reason, and other traffic flows.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"

pre()
{
	require_base
	require_tools dig kdig
	world_init
	bpffs_mount
	topo_host
	conf_guard drop Interface=veth-h
	dg_run_ready "$NS_HOST"
	cap_start out "$NS_OUT" veth-o
}

test()
{
	local mac
	mac=$(mac_of "$NS_OUT" veth-o)

	log "UDP: 6 over IPv4, 4 over IPv6, one packet each"
	dig_q "$NS_HOST" "$OUT4"
	dig_q "$NS_HOST" "$OUT6"
	kdig_q "$NS_HOST" "$OUT4"
	kdig_q "$NS_HOST" "$OUT6"
	pkt "$NS_HOST" udp "$OUT4" 53
	pkt "$NS_HOST" udp "$OUT6" 53
	pkt "$NS_HOST" raw "$OUT4" 53
	pkt "$NS_HOST" raw "$OUT6" 53
	pkt "$NS_HOST" frame veth-h "$mac" 198.51.100.1 "$OUT4" 53
	pkt "$NS_HOST" frame veth-h "$mac" 198.51.100.1 "$OUT4" 53 7
	check_eq "dns-udp4 drop" 6 "$(dg_count dns-udp4 drop)"
	check_eq "dns-udp6 drop" 4 "$(dg_count dns-udp6 drop)"

	log "TCP: one connect() per family, shorter than the SYN RTO"
	pkt "$NS_HOST" tcp "$OUT4" 53 0.5
	pkt "$NS_HOST" tcp "$OUT6" 53 0.5
	check_eq "dns-tcp4 drop (one SYN)" 1 "$(dg_count dns-tcp4 drop)"
	check_eq "dns-tcp6 drop (one SYN)" 1 "$(dg_count dns-tcp6 drop)"

	log "TCP: dig and kdig, each at least one SYN"
	dig_q "$NS_HOST" "$OUT4" +tcp
	kdig_q "$NS_HOST" "$OUT4" +tcp
	dig_q "$NS_HOST" "$OUT6" +tcp
	kdig_q "$NS_HOST" "$OUT6" +tcp
	check_ge "dns-tcp4 drop" 3 "$(dg_count dns-tcp4 drop)"
	check_ge "dns-tcp6 drop" 3 "$(dg_count dns-tcp6 drop)"

	log "other traffic flows"
	check_rc "ping $OUT4" 0 pkt "$NS_HOST" ping "$OUT4"
	check_rc "ping $OUT6" 0 pkt "$NS_HOST" ping "$OUT6"
	pkt "$NS_HOST" udp "$OUT4" 5353
	pkt "$NS_HOST" udp "$OUT6" 5353
	pkt "$NS_HOST" udp "$OUT4" 54
	cap_stop out
	check_eq "UDP to 5353 on the wire" 2 "$(cap_count out udp dst port 5353)"
	check_eq "UDP to 54 on the wire" 1 "$(cap_count out udp dst port 54)"
}

post()
{
	local n
	n=$(cap_count out port 53 or \( vlan and port 53 \))
	check_eq "port-53 packets on the wire" 0 "$n"
	[ "$n" = 0 ] || cap_show out port 53 or \( vlan and port 53 \)
	status_json "$NS_HOST"
	check_eq "DNS rows with an action other than drop" 0 \
		"$(json_get "$T/status.json" 'sum(c["packets"] for c in d["counters"]
			if c["reason"].startswith("dns-") and c["action"] != "drop")')"
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

dg_main
