#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test what holds while the daemon is stopped, in the default setup
# (redirect mode, Interface=auto): the program on the uplink it guarded
# stays and keeps catching queries, which now get no answer and are
# dropped (fail closed), never passed; but a default route that moves to
# another link while it is stopped is NOT followed: a query leaving by
# that link crosses the wire in cleartext. Started again, the daemon
# selects afresh: the new uplink is guarded, nothing more leaks there,
# and the old one, which holds no default route now, is let go.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

FAR=203.0.113.99	# only reachable through a default route

pre()
{
	redirect_world host
	sed -i '/^Interface=/d' "$CONF"
	NS_B=$(ns out-b)
	ns_add out-b
	veth_add "$NS_HOST" up-b "$NS_B" veth-b
	addr_add "$NS_HOST" up-b 192.0.2.1/24
	addr_add "$NS_B" veth-b 192.0.2.254/24
	wait_link_up "$NS_HOST" up-b
	ip -n "$NS_HOST" route add default via "$OUT4" dev veth-h
	cap_start out "$NS_OUT" veth-o
	cap_start b "$NS_B" veth-b
	dg_run_ready "$NS_HOST"
}

ask()
{
	timeout 10 ip netns exec "$NS_HOST" dig +short +tries=1 +time=2 \
		"@$1" "$2" "$3" 2>&1 | tr '\n' ' '
}

test()
{
	check_eq "running: dig A @$ROGUE4 answered over DoT" "$DOT_A " "$(ask "$ROGUE4" a.test A)"

	log "the daemon stops"
	kill_pid "$DG_PID"
	check_eq "dotguard exit code (SIGTERM)" 0 "$KILL_RC"
	check_eq "programs on veth-h with the daemon stopped" 1 "$(guard_progs "$NS_HOST" veth-h)"
	check_eq "dig A @$ROGUE4 with the daemon stopped: no answer" 0 \
		"$(ask "$ROGUE4" a.test A | grep -c "$DOT_A\|$MARK_A")"
	check_eq "caught, and dropped at the capture end (fail-closed)" 1 \
		"$(dg_count dns-udp4 fail-closed xdp-capture)"

	log "the default route moves to up-b while the daemon is stopped"
	ip -n "$NS_HOST" route replace default via 192.0.2.254 dev up-b ||
		die "ip route replace default"
	check_eq "programs on up-b while stopped" 0 "$(guard_progs "$NS_HOST" up-b)"
	pkt "$NS_HOST" udp "$FAR" 53

	log "the daemon starts again"
	dg_run_ready "$NS_HOST"
	check_eq "programs on up-b after the start" 1 "$(guard_progs "$NS_HOST" up-b)"
	check_eq "programs on veth-h after the start (no default route now)" 0 \
		"$(guard_progs "$NS_HOST" veth-h)"
	pkt "$NS_HOST" udp "$FAR" 53 3
	check_eq "queries redirected at up-b" 3 "$(dg_count dns-udp4 redirect tc-egress)"
}

post()
{
	cap_stop b
	check_eq "port-53 packets on up-b's wire: the one sent while stopped" 1 \
		"$(cap_count b udp dst port 53)"
	check_no_leak
}

dg_main
