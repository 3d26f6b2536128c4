#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that LAN clients behind an 802.1Q VLAN and behind QinQ get their
# TCP/53 answers from the daemon, as their UDP ones, through a gateway
# that routes those VLANs (VLAN devices on its LAN port): the guard
# steers the tagged segments with the one parser, the kernel untags them
# into the VLAN device and delivers them to the daemon's socket, and the
# answer leaves tagged. Nothing reaches the uplink or the rogue.
# Needs 802.1Q VLAN devices in the kernel (CONFIG_VLAN_8021Q).
#
#   client (veth-c.100, veth-c.300.100) -- (veth-lan.*, XDP on veth-lan) gw -- out

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

V100_C=192.0.2.66
V100_G=192.0.2.65
QINQ_C=192.0.2.98
QINQ_G=192.0.2.97
V100_C6=2001:db8:1:100::2
V100_G6=2001:db8:1:100::1

# vlan_add NS PARENT NAME PROTO ID
vlan_add()
{
	ip -n "$1" link add link "$2" name "$3" type vlan proto "$4" id "$5" ||
		die "vlan $3 in $1"
	ip -n "$1" link set "$3" up
}

# client_route TABLE SRC GW DEV: what the client sends from SRC leaves
# through GW on DEV.
client_route()
{
	ip -n "$NS_CLIENT" rule add from "$2" lookup "$1"
	if [[ "$2" == *:* ]]; then
		ip -n "$NS_CLIENT" -6 route add 2001:db8:2::/64 via "$3" dev "$4" table "$1"
	else
		ip -n "$NS_CLIENT" route add 198.51.100.0/24 via "$3" dev "$4" table "$1"
	fi
}

pre()
{
	require_tools ethtool
	# A throwaway pair to ask the kernel whether VLAN devices exist.
	local probe=dgvl$$
	ip link add "$probe" type veth peer name "${probe}p" 2>/dev/null ||
		skip "cannot make a veth pair"
	if ! ip link add link "$probe" name "$probe.5" type vlan id 5 2>/dev/null; then
		ip link del "$probe"
		skip "this kernel has no 802.1Q VLAN devices (CONFIG_VLAN_8021Q)"
	fi
	ip link del "$probe"
	redirect_world gateway
	# Tags in the frame, as a switch port hands them over, not in the
	# skb's metadata: the XDP guard must see them.
	ip netns exec "$NS_CLIENT" ethtool -K veth-c txvlan off tx-vlan-stag-hw-insert off >/dev/null
	ip netns exec "$NS_GW" ethtool -K veth-lan rxvlan off rx-vlan-stag-hw-parse off >/dev/null
	vlan_add "$NS_CLIENT" veth-c veth-c.100 802.1Q 100
	vlan_add "$NS_GW" veth-lan veth-lan.100 802.1Q 100
	vlan_add "$NS_CLIENT" veth-c veth-c.300 802.1ad 300
	vlan_add "$NS_CLIENT" veth-c.300 veth-c.qq 802.1Q 100
	vlan_add "$NS_GW" veth-lan veth-lan.300 802.1ad 300
	vlan_add "$NS_GW" veth-lan.300 veth-lan.qq 802.1Q 100
	addr_add "$NS_CLIENT" veth-c.100 "$V100_C/27"
	addr_add "$NS_GW" veth-lan.100 "$V100_G/27"
	addr_add "$NS_CLIENT" veth-c.100 "$V100_C6/64"
	addr_add "$NS_GW" veth-lan.100 "$V100_G6/64"
	addr_add "$NS_CLIENT" veth-c.qq "$QINQ_C/27"
	addr_add "$NS_GW" veth-lan.qq "$QINQ_G/27"
	client_route 100 "$V100_C" "$V100_G" veth-c.100
	client_route 101 "$V100_C6" "$V100_G6" veth-c.100
	client_route 102 "$QINQ_C" "$QINQ_G" veth-c.qq
	ip -n "$NS_OUT" -6 route add 2001:db8:1::/48 via 2001:db8:2::1
	dg_run_ready "$NS_GW"
	cap_start out "$NS_OUT" veth-o
	cap_start lan "$NS_CLIENT" veth-c
}

# ask SRC SERVER NAME TYPE [DIG-OPTION...]: the client's short answer.
ask()
{
	timeout 10 ip netns exec "$NS_CLIENT" dig +short +tries=1 +time=3 \
		-b "$1" "@$2" "$3" "$4" "${@:5}" 2>&1 | tr '\n' ' '
}

test()
{
	check_eq "802.1Q: dig A (UDP)" "$DOT_A " "$(ask "$V100_C" "$ROGUE4" a.test A)"
	check_eq "802.1Q: dig +tcp A" "$DOT_A " "$(ask "$V100_C" "$ROGUE4" a.test A +tcp)"
	check_eq "802.1Q, IPv6: dig +tcp AAAA" "$DOT_AAAA " \
		"$(ask "$V100_C6" "$ROGUE6" aaaa.test AAAA +tcp)"
	check_eq "QinQ: dig A (UDP)" "$DOT_A " "$(ask "$QINQ_C" "$ROGUE4" a.test A)"
	check_eq "QinQ: dig +tcp A" "$DOT_A " "$(ask "$QINQ_C" "$ROGUE4" a.test A +tcp)"
	check_eq "daemon: TCP queries" 3 "$(dstat queries_tcp)"
}

post()
{
	local n
	cap_stop out
	cap_stop lan
	n=$(cap_count out port 53)
	check_eq "port-53 packets on the uplink" 0 "$n"
	check_eq "queries the rogue saw" 0 "$(rogue_queries)"
	check_ge "tagged TCP answers on the LAN" 3 "$(cap_count lan "vlan and tcp src port 53")"
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

dg_main
