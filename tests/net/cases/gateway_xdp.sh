#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that GatewayInterface= (XDP on the gateway's LAN port) stops a LAN
# client's plaintext DNS from being forwarded, lets its other traffic
# through, and leaves the gateway's own DNS (out of its uplink) alone.
#
#   client (veth-c) -- (veth-lan) gw (veth-wan) -- (veth-o) out

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
	topo_gateway
	conf_guard drop GatewayInterface=veth-lan
	dg_run_ready "$NS_GW"
	cap_start out "$NS_OUT" veth-o
}

test()
{
	log "the client's other traffic is forwarded"
	check_rc "client ping $OUT4" 0 pkt "$NS_CLIENT" ping "$OUT4"
	check_rc "client ping $OUT6" 0 pkt "$NS_CLIENT" ping "$OUT6"
	pkt "$NS_CLIENT" udp "$OUT4" 5353
	pkt "$NS_CLIENT" udp "$OUT6" 5353

	log "the client's DNS is not"
	dig_q "$NS_CLIENT" "$OUT4"
	kdig_q "$NS_CLIENT" "$OUT4"
	pkt "$NS_CLIENT" udp "$OUT4" 53
	dig_q "$NS_CLIENT" "$OUT6"
	pkt "$NS_CLIENT" raw "$OUT6" 53
	pkt "$NS_CLIENT" tcp "$OUT4" 53 0.5
	pkt "$NS_CLIENT" tcp "$OUT6" 53 0.5
	check_eq "dns-udp4 drop (xdp-gateway)" 3 \
		"$(dg_count dns-udp4 drop xdp-gateway)"
	check_eq "dns-udp6 drop (xdp-gateway)" 2 \
		"$(_json_sum "$T/status.json" dns-udp6 drop xdp-gateway)"
	check_eq "dns-tcp4 drop (xdp-gateway)" 1 \
		"$(_json_sum "$T/status.json" dns-tcp4 drop xdp-gateway)"
	check_eq "dns-tcp6 drop (xdp-gateway)" 1 \
		"$(_json_sum "$T/status.json" dns-tcp6 drop xdp-gateway)"
	dig_q "$NS_CLIENT" "$OUT4" +tcp
	check_ge "dns-tcp4 drop after dig +tcp" 2 \
		"$(dg_count dns-tcp4 drop xdp-gateway)"

	log "the gateway's own DNS leaves through its uplink untouched"
	dig_q "$NS_GW" "$OUT4"
	pkt "$NS_GW" udp "$OUT6" 53
	pkt "$NS_GW" tcp "$OUT4" 53 0.5
	cap_stop out
}

post()
{
	local c='(src net 192.0.2.0/24 or src net 2001:db8:1::/64)'
	local g='(src host 198.51.100.1 or src host 2001:db8:2::1)'

	check_eq "client port-53 packets on the wire" 0 \
		"$(cap_count out "$c and port 53")"
	check_eq "client UDP to 5353 on the wire" 2 \
		"$(cap_count out "$c and udp dst port 5353")"
	check_eq "gateway UDP to 53 on the wire" 2 \
		"$(cap_count out "$g and udp dst port 53")"
	check_eq "gateway TCP SYN to 53 on the wire" 1 \
		"$(cap_count out "$g and tcp dst port 53")"

	check_rc "status" 0 status_json "$NS_GW"
	check_eq "hooks" xdp-gateway \
		"$(json_get "$T/status.json" '",".join(a["hook"] for a in d["attached"])')"
	check_eq "attached interface" veth-lan \
		"$(json_get "$T/status.json" '",".join(a["interface"] for a in d["attached"])')"
	check_eq "DNS counted other than drop" 0 \
		"$(json_get "$T/status.json" 'sum(c["packets"] for c in d["counters"]
			if c["reason"].startswith("dns-") and c["action"] != "drop")')"
	check_eq "dns-udp4 drop unchanged by the gateway's own query" 3 \
		"$(_json_sum "$T/status.json" dns-udp4 drop)"
}

dg_main
