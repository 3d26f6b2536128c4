#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test gateway redirect mode: a LAN client behind the gateway asks a rogue
# plaintext server (dig, kdig; UDP and TCP; IPv4, IPv6; an 802.1Q-tagged
# frame) and gets
# the real upstream's answer over DoT, from the address it asked, in a
# frame on its own VLAN; none of its DNS crosses the gateway's uplink and
# the rogue never sees it. The client's other traffic is forwarded, and
# the gateway's own DNS is untouched.
#
#   client (veth-c) -- (veth-lan, XDP) gw (veth-wan) -- (veth-o) out

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

pre()
{
	redirect_world gateway
	dg_run_ready "$NS_GW"
	cap_start out "$NS_OUT" veth-o
	cap_start lan "$NS_CLIENT" veth-c
}

# ask TOOL SERVER NAME TYPE [OPT...]: the client's short answer, one line.
ask()
{
	case $1 in
	dig) timeout 10 ip netns exec "$NS_CLIENT" dig +short +tries=1 +time=3 \
		"@$2" "$3" "$4" "${@:5}" 2>&1 | tr '\n' ' ' ;;
	kdig) timeout 10 ip netns exec "$NS_CLIENT" kdig +short +retry=0 +timeout=3 \
		"@$2" "$3" "$4" 2>&1 | tr '\n' ' ' ;;
	esac
}

test()
{
	log "the client's DNS is answered by the upstream"
	check_eq "dig A @$ROGUE4" "$DOT_A " "$(ask dig "$ROGUE4" a.test A)"
	check_eq "kdig A @$ROGUE4" "$DOT_A " "$(ask kdig "$ROGUE4" a.test A)"
	check_eq "dig AAAA @$ROGUE6" "$DOT_AAAA " "$(ask dig "$ROGUE6" aaaa.test AAAA)"
	check_eq "kdig A @$ROGUE6" "$DOT_A " "$(ask kdig "$ROGUE6" a.test A)"
	check_grep "the answer comes from the address asked" \
		"SERVER: $ROGUE4#53" \
		<(timeout 10 ip netns exec "$NS_CLIENT" dig +tries=1 +time=3 "@$ROGUE4" a.test)

	log "TCP/53 from the client is answered too (steered to the daemon)"
	check_eq "dig +tcp A @$ROGUE4" "$DOT_A " "$(ask dig "$ROGUE4" a.test A +tcp)"
	check_eq "dig +tcp AAAA @$ROGUE6" "$DOT_AAAA " "$(ask dig "$ROGUE6" aaaa.test AAAA +tcp)"
	check_eq "daemon: TCP queries" 2 "$(dstat queries_tcp)"
	check_ge "steered TCP segments at the LAN port" 2 \
		"$(_json_sum "$T/status.json" dns-tcp4 redirect tc-steer)"

	log "an 802.1Q-tagged query (VLAN 100) is answered on VLAN 100"
	pkt "$NS_CLIENT" frame veth-c "$(mac_of "$NS_GW" veth-lan)" \
		192.0.2.2 "$ROGUE4" 53 100
	sleep 0.5

	log "the client's other traffic is forwarded"
	check_rc "client ping $OUT4" 0 pkt "$NS_CLIENT" ping "$OUT4"
	check_rc "client ping $OUT6" 0 pkt "$NS_CLIENT" ping "$OUT6"

	log "the gateway's own DNS is not the guard's business"
	check_eq "gateway's own dig A @$ROGUE4" "$MARK_A " \
		"$(timeout 10 ip netns exec "$NS_GW" dig +short +tries=1 +time=3 "@$ROGUE4" a.test | tr '\n' ' ')"

	check_eq "redirected at the LAN port (IPv4)" 4 \
		"$(dg_count dns-udp4 redirect xdp-gateway)"
	check_eq "redirected at the LAN port (IPv6)" 2 \
		"$(_json_sum "$T/status.json" dns-udp6 redirect xdp-gateway)"
	check_eq "daemon: redirected queries" 6 "$(dstat redirected_queries)"
	check_eq "daemon: redirected answers" 6 "$(dstat redirected_answers)"
	check_eq "daemon: bad frames" 0 "$(dstat redirected_bad_frames)"
}

post()
{
	local n
	cap_stop out
	cap_stop lan
	n=$(cap_count out "port 53 and (host 192.0.2.2 or host 2001:db8:1::2)")
	check_eq "the client's port-53 packets on the uplink" 0 "$n"
	[ "$n" = 0 ] || cap_show out port 53
	check_eq "port-53 packets on the uplink (the gateway's own query and answer)" 2 \
		"$(cap_count out port 53)"
	check_eq "queries the rogue saw (the gateway's own)" 1 "$(rogue_queries)"
	check_eq "tagged answers on the LAN (VLAN 100, from $ROGUE4:53)" 1 \
		"$(cap_count lan "vlan 100 and src host $ROGUE4 and udp src port 53")"
	check_grep "the tagged answer carries the upstream's address" \
		"A $DOT_A" <(tcpdump -r "$T/lan.pcap" -n -vv "vlan 100 and udp src port 53" 2>/dev/null)
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

dg_main
