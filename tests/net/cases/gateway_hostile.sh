#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test the gateway against what a hostile or unusual LAN client sends
# (redirect mode): tagged TCP/53 (802.1Q, QinQ) is steered to the daemon;
# TCP/53 over IPv6 with a Destination Options header is answered; TCP/53
# in IPv4 fragments, DNS inside PPPoE and MPLS, and queries from a
# broadcast MAC or a broadcast or unspecified address are dropped, not
# forwarded and not answered; a flooding client is answered no faster than
# its rate; fragmented queries are answered in any order. Not one of the client's port-53 packets crosses the uplink and
# the rogue sees no query. (gateway_vlan_tcp: answers behind VLANs.)
#
#   client (veth-c) -- (veth-lan, XDP) gw (veth-wan) -- (veth-o) out

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

CRAFT=(/usr/bin/python3 "$NET_DIR/craft.py")

pre()
{
	/usr/bin/python3 -c 'import scapy' 2>/dev/null ||
		skip "python3-scapy missing (make deps)"
	redirect_world gateway
	dg_run_ready "$NS_GW"
	cap_start out "$NS_OUT" veth-o
	cap_start lan "$NS_CLIENT" veth-c
	GWMAC=$(mac_of "$NS_GW" veth-lan)
}

craft()
{
	timeout 30 ip netns exec "$NS_CLIENT" "${CRAFT[@]}" "$@" 2>&1 | tail -1
}

test()
{
	log "tagged TCP/53 is steered to the daemon, never forwarded"
	craft tcpsyn veth-c "$GWMAC" 192.0.2.2 "$ROGUE4" 100 >/dev/null
	craft tcpsyn veth-c "$GWMAC" 192.0.2.2 "$ROGUE4" 300,100 >/dev/null
	craft tcpsyn veth-c "$GWMAC" 2001:db8:1::2 "$ROGUE6" 300,100 >/dev/null
	check_eq "tagged SYNs the LAN port steered to the daemon's listener" 3 \
		"$(( $(dg_count dns-tcp4 redirect tc-steer) + $(_json_sum "$T/status.json" dns-tcp6 redirect tc-steer) ))"

	log "TCP/53 over IPv6 with a Destination Options header is answered"
	check_eq "TCP/IPv6 + dstopts" "$DOT_A" "$(craft tcp6opts "$ROGUE6")"

	log "fragmented queries are answered"
	check_eq "a 3000-byte query (kernel fragments, IPv4)" "$DOT_A" "$(craft bigq "$ROGUE4")"
	check_eq "a 3000-byte query (kernel fragments, IPv6)" "$DOT_AAAA" "$(craft bigq "$ROGUE6")"
	check_eq "IPv4 fragments, last first" "$DOT_A" \
		"$(craft frags veth-c "$GWMAC" 192.0.2.2 "$ROGUE4" last-first)"
	check_eq "IPv6 fragments, in reverse" "$DOT_AAAA" \
		"$(craft frags veth-c "$GWMAC" 2001:db8:1::2 "$ROGUE6" reverse)"

	log "what cannot be answered is dropped"
	craft tcpfrag veth-c "$GWMAC" 192.0.2.2 "$ROGUE4" >/dev/null
	craft udp53 veth-c "$GWMAC" 192.0.2.2 "$ROGUE4" pppoe >/dev/null
	craft udp53 veth-c "$GWMAC" 2001:db8:1::2 "$ROGUE6" mpls >/dev/null
	check_eq "DNS in PPPoE and MPLS, dropped at the LAN port" 2 \
		"$(dg_count dns-encap drop xdp-gateway)"

	log "one LAN client is answered at most DG_CLIENT_RATE times a second"
	local a0 t0 t1 limit
	a0=$(dstat redirected_answers)
	t0=$(date +%s%N)
	pkt "$NS_CLIENT" udp "$ROGUE4" 53 20000
	t1=$(date +%s%N)
	# The bucket starts full (the burst) and refills at the rate, for as
	# long as the flood took (measured) and a second of slack.
	limit=$((4000 + 2000 * ((t1 - t0) / 1000000000 + 2)))
	check_ge "flood datagrams dropped at the client's rate" 1 \
		"$(dstat redirected_rate_limited)"
	check_eq "answers to the flooding client within the burst and rate (<= $limit)" 1 \
		"$(( $(dstat redirected_answers) - a0 <= limit ))"
	addr_add "$NS_CLIENT" veth-c 192.0.2.3/24
	check_eq "another client is answered meanwhile" "$DOT_A" \
		"$(timeout 10 ip netns exec "$NS_CLIENT" dig +short +tries=1 +time=3 -b 192.0.2.3 "@$ROGUE4" a.test)"

	log "queries an answer would reflect from are dropped"
	craft udp53 veth-c "$GWMAC" 192.0.2.2 "$ROGUE4" plain ff:ff:ff:ff:ff:ff >/dev/null
	craft udp53 veth-c "$GWMAC" 0.0.0.0 "$ROGUE4" plain >/dev/null
	craft udp53 veth-c "$GWMAC" 255.255.255.255 "$ROGUE4" plain >/dev/null
	craft udp53 veth-c "$GWMAC" :: "$ROGUE6" plain >/dev/null
	check_eq "bad-source drops at the LAN port" 4 \
		"$(dg_count bad-source drop xdp-gateway)"
}

post()
{
	local n
	cap_stop out
	cap_stop lan
	n=$(cap_count out "port 53 or (ip[6:2] & 0x3fff != 0) or (ip6 and ip6[6] == 44)")
	check_eq "the client's port-53 packets and fragments on the uplink" 0 "$n"
	[ "$n" = 0 ] || cap_show out "port 53 or (ip[6:2] & 0x3fff != 0) or (ip6 and ip6[6] == 44)"
	check_eq "queries the rogue saw" 0 "$(rogue_queries)"
	check_eq "answers sent to the broadcast MAC" 0 \
		"$(cap_count lan "ether dst ff:ff:ff:ff:ff:ff and udp src port 53")"
	check_eq "answers sent to 0.0.0.0, 255.255.255.255 or ::" 0 \
		"$(cap_count lan "udp src port 53 and (dst host 0.0.0.0 or dst host 255.255.255.255 or dst host ::)")"
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

dg_main
