#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that Mode=monitor lets plaintext DNS through and counts it: every
# port-53 packet that crossed the wire is counted once under "monitor",
# per family and protocol, and nothing is dropped.

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
	conf_guard monitor Interface=veth-h
	dg_run_ready "$NS_HOST"
	cap_start out "$NS_OUT" veth-o
}

test()
{
	local mac
	mac=$(mac_of "$NS_OUT" veth-o)

	log "the same DNS traffic as drop_mode; out answers nothing, so each"
	log "UDP query is one packet and each TCP connect one SYN (then RST)"
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
	pkt "$NS_HOST" tcp "$OUT4" 53 0.5
	pkt "$NS_HOST" tcp "$OUT6" 53 0.5
	dig_q "$NS_HOST" "$OUT4" +tcp
	kdig_q "$NS_HOST" "$OUT6" +tcp
	check_rc "ping $OUT4" 0 pkt "$NS_HOST" ping "$OUT4"
	cap_stop out
}

post()
{
	local f4='ip and src host 198.51.100.1'
	local f6='ip6 and src host 2001:db8:2::1'

	log "on the wire, exactly what was sent"
	check_eq "UDP4 to 53 on the wire" 5 "$(cap_count out "$f4 and udp dst port 53")"
	check_eq "tagged UDP4 to 53 on the wire" 1 \
		"$(cap_count out vlan and ip and udp dst port 53)"
	check_eq "UDP6 to 53 on the wire" 4 "$(cap_count out "$f6 and udp dst port 53")"
	check_eq "TCP4 SYNs to 53 on the wire" 2 \
		"$(cap_count out "$f4 and tcp dst port 53")"
	check_eq "TCP6 SYNs to 53 on the wire" 2 \
		"$(cap_count out "$f6 and tcp dst port 53")"

	log "counted once each, under monitor"
	check_eq "dns-udp4 monitor" 6 "$(dg_count dns-udp4 monitor)"
	check_eq "dns-udp6 monitor" 4 "$(dg_count dns-udp6 monitor)"
	check_eq "dns-tcp4 monitor" 2 "$(dg_count dns-tcp4 monitor)"
	check_eq "dns-tcp6 monitor" 2 "$(dg_count dns-tcp6 monitor)"
	check_eq "totals.drop" 0 "$(json_get "$T/status.json" 'd["totals"]["drop"]')"
	check_eq "totals.monitor" 14 \
		"$(json_get "$T/status.json" 'd["totals"]["monitor"]')"
	check_eq "mode" monitor "$(json_get "$T/status.json" 'd["mode"]')"
}

dg_main
