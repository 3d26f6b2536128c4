#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that host redirect mode fails closed: with the daemon killed (-9),
# redirected queries (UDP and TCP, IPv4 and IPv6) get no answer, are dropped
# and counted as fail-closed at the capture end, and not one reaches the
# wire or the rogue server; restarted, the daemon takes the capture path
# back and answers again.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

pre()
{
	redirect_world host
	cap_start out "$NS_OUT" veth-o
	dg_run_ready "$NS_HOST"
}

# ask SERVER NAME TYPE: dig's short answer, one line.
ask()
{
	timeout 10 ip netns exec "$NS_HOST" dig +short +tries=1 +time=2 \
		"@$1" "$2" "$3" 2>&1 | tr '\n' ' '
}

# capture_count REASON ACTION: packets at the capture end's XDP program.
capture_count()
{
	dg_count "$1" "$2" xdp-capture
}

test()
{
	check_eq "before the kill: A @$ROGUE4" "$DOT_A " "$(ask "$ROGUE4" a.test A)"

	log "kill -9 the daemon"
	kill_pid "$DG_PID" KILL
	check_eq "daemon exit status" 137 "$KILL_RC"
	check_grep "dig gets no answer (IPv4)" "timed out|no servers" \
		<(ask "$ROGUE4" a.test A)
	check_grep "kdig gets no answer (IPv6)" "timeout|failed" \
		<(timeout 10 ip netns exec "$NS_HOST" kdig +retry=0 +timeout=2 \
			"@$ROGUE6" a.test 2>&1)
	pkt "$NS_HOST" udp "$ROGUE4" 53
	pkt "$NS_HOST" tcp "$ROGUE4" 53 0.5
	check_eq "capture end: dns-udp4 fail-closed" 2 "$(capture_count dns-udp4 fail-closed)"
	check_eq "capture end: dns-udp6 fail-closed" 1 \
		"$(_json_sum "$T/status.json" dns-udp6 fail-closed xdp-capture)"
	check_eq "capture end: the TCP SYN failed closed (no listener)" 1 \
		"$(_json_sum "$T/status.json" dns-tcp4 fail-closed tc-steer)"
	check_eq "attach state with the daemon dead" "attached,attached,attached" \
		"$(json_get "$T/status.json" '",".join(a["state"] for a in d["attached"])')"

	log "restart: the daemon takes the sockets back"
	dg_run_ready "$NS_HOST"
	check_eq "after the restart: A @$ROGUE4" "$DOT_A " "$(ask "$ROGUE4" a.test A)"
	check_eq "after the restart: AAAA @$ROGUE6" "$DOT_AAAA " "$(ask "$ROGUE6" aaaa.test AAAA)"
	check_eq "daemon: redirected answers since the restart" 2 "$(dstat redirected_answers)"
}

post()
{
	check_no_leak
}

dg_main
