#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test the link monitor in gateway redirect mode: the LAN port deleted
# and re-created (same name, new index) gets its guard back within a
# second and its AF_XDP sockets reopened, so a LAN client's query to a
# rogue server is answered over DoT again without a restart; in between
# nothing leaks, and the daemon does not spin on the dead sockets.
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
	id nobody >/dev/null 2>&1 || skip "no user 'nobody' here"
	# Unprivileged, as a service runs it: new AF_XDP sockets need the
	# CAP_NET_RAW it keeps in redirect mode.
	echo "User=nobody" >>"$CONF"
	dg_run_ready "$NS_GW"
	cap_start out "$NS_OUT" veth-o
}

# ask SERVER NAME TYPE: the client's short answer, one line.
ask()
{
	timeout 10 ip netns exec "$NS_CLIENT" dig +short +tries=1 +time=2 \
		"@$1" "$2" "$3" 2>&1 | tr '\n' ' '
}

# recreate: delete the LAN pair and make it again, addressed and up.
recreate()
{
	ip -n "$NS_GW" link del veth-lan
	ip -n "$NS_GW" link add veth-lan type veth peer name veth-c netns "$NS_CLIENT"
	ip -n "$NS_GW" addr add 192.0.2.1/24 dev veth-lan
	ip -n "$NS_GW" addr add 2001:db8:1::1/64 dev veth-lan nodad
	ip -n "$NS_CLIENT" addr add 192.0.2.2/24 dev veth-c
	ip -n "$NS_CLIENT" addr add 2001:db8:1::2/64 dev veth-c nodad
	ip -n "$NS_GW" link set veth-lan up
	ip -n "$NS_CLIENT" link set veth-c up
	ip -n "$NS_CLIENT" route add 198.51.100.0/24 via 192.0.2.1
	ip -n "$NS_CLIENT" -6 route add 2001:db8:2::/64 via 2001:db8:1::1
}

# port_guard: "XDP TCINGRESS" program counts on veth-lan: the gateway
# hook and the TCP/53 steering.
port_guard()
{
	ip netns exec "$NS_GW" bpftool -j net show dev veth-lan 2>/dev/null |
		"$PY" -c 'import json,sys
d = json.load(sys.stdin)
print(sum(len(e.get("xdp", [])) for e in d),
      sum(1 for e in d for t in e.get("tc", []) if "ingress" in t.get("kind", "")))' 2>/dev/null
}

test()
{
	local i ms=-1 t0 q0
	check_eq "before: the client's query is answered over DoT" "$DOT_A " \
		"$(ask "$ROGUE4" a.test A)"
	check_eq "before: XDP and steering on veth-lan" "1 1" "$(port_guard)"
	q0=$(dstat redirected_queries)

	log "delete and re-create veth-lan"
	t0=$(date +%s%N)
	recreate
	for ((i = 0; i < 100; i++)); do
		if [ "$(port_guard)" = "1 1" ]; then
			ms=$((($(date +%s%N) - t0) / 1000000))
			break
		fi
		sleep 0.01
	done
	check_eq "XDP and steering on veth-lan again within a second (took $ms ms from the delete)" 1 \
		"$((ms >= 0 && ms < 1000))"
	[ "$ms" -ge 0 ] || { port_guard; ip netns exec "$NS_GW" bpftool net show dev veth-lan; cat "$T/dg.log"; }
	wait_link_up "$NS_CLIENT" veth-c

	log "the new port's queries are answered, no restart"
	check_eq "dig A @$ROGUE4 from the client" "$DOT_A " "$(ask "$ROGUE4" a.test A)"
	check_eq "dig AAAA @$ROGUE6 from the client" "$DOT_AAAA " "$(ask "$ROGUE6" aaaa.test AAAA)"
	check_eq "dig +tcp A @$ROGUE4 from the client" "$DOT_A" \
		"$(timeout 10 ip netns exec "$NS_CLIENT" dig +short +tcp +tries=1 +time=2 "@$ROGUE4" a.test 2>&1)"
	check_ge "the daemon took them from the new port's sockets" "$((q0 + 2))" \
		"$(dstat redirected_queries)"
	check_ge "link changes counted" 1 "$(dstat link_events)"

	log "idle afterwards: nothing left spinning (old sockets, new connections)"
	check_idle_cpu
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

post()
{
	check_no_leak
}

dg_main
