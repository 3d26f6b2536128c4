#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that SIGHUP in gateway redirect mode adds and removes LAN ports
# whole: a port added to GatewayInterface= gets its guard and its AF_XDP
# sockets, so its clients' DNS to a rogue server is answered over DoT
# without a restart; the first port keeps answering throughout; a port
# removed again is no longer the guard's (its sockets are closed); and
# Mode= switched to drop and back to redirect on the gateway.
#
#   client  (veth-c)  -- (veth-lan,  XDP) gw (veth-wan) -- (veth-o) out
#   client2 (veth-c2) -- (veth-lan2, added on reload)

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

pre()
{
	redirect_world gateway
	NS_CLIENT2=$(ns client2)
	ns_add client2
	veth_add "$NS_CLIENT2" veth-c2 "$NS_GW" veth-lan2
	addr_add "$NS_CLIENT2" veth-c2 203.0.113.2/24
	addr_add "$NS_GW" veth-lan2 203.0.113.1/24
	ip -n "$NS_CLIENT2" route add 198.51.100.0/24 via 203.0.113.1
	ip -n "$NS_OUT" route add 203.0.113.0/24 via 198.51.100.1
	wait_link_up "$NS_CLIENT2" veth-c2
	wait_link_up "$NS_GW" veth-lan2
	id nobody >/dev/null 2>&1 || skip "no user 'nobody' here"
	# Unprivileged, as a service runs it: new AF_XDP sockets need the
	# CAP_NET_RAW it keeps in redirect mode.
	echo "User=nobody" >>"$CONF"
	dg_run_ready "$NS_GW"
}

# ask NS: that client's short answer for a.test from the rogue's address.
ask()
{
	timeout 10 ip netns exec "$1" dig +short +tries=1 +time=2 "@$ROGUE4" a.test 2>&1 |
		tr '\n' ' '
}

# reload: SIGHUP, then wait (bounded ~5 s) for the Nth "reloaded" line.
reload()
{
	local i want=$1
	kill -HUP "$DG_PID"
	for ((i = 0; i < 50; i++)); do
		[ "$(grep -c 'info: reloaded' "$T/dg.log")" -ge "$want" ] && return 0
		sleep 0.1
	done
	sed 's/^/    /' "$T/dg.log"
	die "no reload $want"
}

test()
{
	local r0 q0
	check_eq "client 1 (guarded port) is answered over DoT" "$DOT_A " "$(ask "$NS_CLIENT")"
	log "client 2's port is not configured yet: the rogue answers it (by config)"
	check_eq "client 2 gets the rogue's answer" "$MARK_A " "$(ask "$NS_CLIENT2")"
	r0=$(rogue_queries)
	check_eq "  the rogue saw it" 1 "$r0"

	log "reload: GatewayInterface=veth-lan veth-lan2"
	cap_start out "$NS_OUT" veth-o
	sed -i 's/^GatewayInterface=veth-lan$/GatewayInterface=veth-lan veth-lan2/' "$CONF"
	q0=$(dstat redirected_queries)
	reload 1
	check_grep "veth-lan2 got its sockets" "interface veth-lan2: AF_XDP sockets open" "$T/dg.log"
	check_eq "client 2 is answered over DoT now" "$DOT_A " "$(ask "$NS_CLIENT2")"
	check_eq "client 2 over TCP too" "$DOT_A" \
		"$(timeout 10 ip netns exec "$NS_CLIENT2" dig +short +tcp +tries=1 +time=2 "@$ROGUE4" a.test 2>&1)"
	check_eq "client 1 still is" "$DOT_A " "$(ask "$NS_CLIENT")"
	check_eq "the daemon took both UDP queries from AF_XDP" "$((q0 + 2))" "$(dstat redirected_queries)"
	check_eq "redirected at veth-lan2" 1 \
		"$(json_get "$T/status.json" 'sum(c["packets"] for c in d["counters"] if c["interface"] == "veth-lan2" and c["hook"] == "xdp-gateway" and c["reason"] == "dns-udp4" and c["action"] == "redirect")')"
	cap_stop out
	check_eq "no client DNS on the uplink while both were guarded" 0 \
		"$(cap_count out "port 53")"
	check_eq "the rogue saw nothing more" "$r0" "$(rogue_queries)"

	log "reload: veth-lan2 removed again"
	sed -i 's/^GatewayInterface=veth-lan veth-lan2$/GatewayInterface=veth-lan/' "$CONF"
	reload 2
	check_grep "its sockets were closed" "interface veth-lan2: no longer in the config; its AF_XDP sockets closed" "$T/dg.log"
	check_eq "no program of ours on veth-lan2" "" \
		"$(ip netns exec "$NS_GW" bpftool -j net show dev veth-lan2 2>/dev/null |
			"$PY" -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(p.get("name","") for e in d for p in e.get("xdp",[]) + e.get("tc",[])))')"
	check_eq "client 2 reaches the rogue again (by config)" "$MARK_A " "$(ask "$NS_CLIENT2")"
	check_eq "client 1 is still answered over DoT" "$DOT_A " "$(ask "$NS_CLIENT")"

	log "reload: Mode=drop, then Mode=redirect again, on the gateway"
	sed -i 's/^Mode=redirect$/Mode=drop/' "$CONF"
	reload 3
	check_eq "drop: client 1's query to the rogue goes nowhere" "" \
		"$(ask "$NS_CLIENT" | grep -o "$MARK_A\|$DOT_A")"
	check_eq "drop: no steering left on veth-lan" 0 \
		"$(ip netns exec "$NS_GW" bpftool -j net show dev veth-lan 2>/dev/null |
			"$PY" -c 'import json,sys; print(sum(1 for e in json.load(sys.stdin) for t in e.get("tc", []) if "ingress" in t.get("kind", "")))')"
	sed -i 's/^Mode=drop$/Mode=redirect/' "$CONF"
	reload 4
	check_eq "redirect: client 1 is answered over DoT again" "$DOT_A " "$(ask "$NS_CLIENT")"
	check_eq "redirect: over TCP too" "$DOT_A" \
		"$(timeout 10 ip netns exec "$NS_CLIENT" dig +short +tcp +tries=1 +time=2 "@$ROGUE4" a.test 2>&1)"
	check_eq "the rogue saw only client 2's unguarded queries" "$((r0 + 1))" "$(rogue_queries)"
}

post()
{
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
	status_json "$NS_GW"
	check_eq "status: veth-lan2 is no longer an attach point" 0 \
		"$(json_get "$T/status.json" 'sum(1 for a in d["attached"] if a["interface"] == "veth-lan2")')"
}

dg_main
