#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that SIGHUP switches Mode= into and out of redirect without lifting
# the guard, unprivileged (User=nobody): drop -> redirect builds the
# capture path (veth pair, AF_XDP socket, TCP/53 steering), so a query to
# a rogue server is answered over DoT; redirect -> drop takes it all down
# again, so such a query goes nowhere. The uplink's program is the same
# throughout, the stub answers throughout, and while queries are fired
# across each switch none reaches the wire or the rogue.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

pre()
{
	redirect_world host
	id nobody >/dev/null 2>&1 || skip "no user 'nobody' here"
	sed -i 's/^Mode=redirect$/Mode=drop/' "$CONF"
	echo "User=nobody" >>"$CONF"
	cap_start out "$NS_OUT" veth-o
	dg_run_ready "$NS_HOST"
}

# hdig ARGS...: dig in the host namespace, bounded.
hdig()
{
	timeout 10 ip netns exec "$NS_HOST" dig +short +tries=1 +time=1 "$@" 2>&1 | tr '\n' ' '
}

# switch_to MODE N: rewrite Mode=, SIGHUP, wait (bounded ~5 s) for the
# Nth "reloaded" line, with queries to the rogue fired across the switch.
switch_to()
{
	local i burst
	sed -i "s/^Mode=.*/Mode=$1/" "$CONF"
	pkt "$NS_HOST" udp "$ROGUE4" 53 20 >/dev/null &
	burst=$!
	kill -HUP "$DG_PID"
	for ((i = 0; i < 50; i++)); do
		[ "$(grep -c 'info: reloaded' "$T/dg.log")" -ge "$2" ] && break
		sleep 0.1
	done
	pkt "$NS_HOST" udp "$ROGUE4" 53 20 >/dev/null
	wait "$burst"
	check_eq "reload $2 (to $1) went through" 1 \
		"$([ "$(grep -c 'info: reloaded' "$T/dg.log")" -ge "$2" ] && echo 1)"
}

# capture_path: "PAIR RULES LISTENERS": the capture veth pair's links,
# the steering fwmark rules (IPv4 + IPv6), the transparent listeners.
capture_path()
{
	echo "$(ip -n "$NS_HOST" -o link show | grep -c ' dg-cap')" \
		"$(($(ip -n "$NS_HOST" rule show | grep -c 'fwmark 0xd053') +
			$(ip -n "$NS_HOST" -6 rule show | grep -c 'fwmark 0xd053')))" \
		"$(ip netns exec "$NS_HOST" ss -Hltn "( sport != :53 )" 2>/dev/null |
			grep -cE '127\.0\.0\.1:|\[::1\]:')"
}

prog_of_uplink()
{
	status_json "$NS_HOST"
	json_get "$T/status.json" \
		'[a["prog_id"] for a in d["attached"] if a["interface"] == "veth-h" and a["hook"] == "tc-egress"][0]'
}

test()
{
	local prog
	prog=$(prog_of_uplink)
	check_eq "drop: a query to the rogue goes nowhere" "" "$(hdig "@$ROGUE4" a.test | grep -o "$MARK_A")"
	check_eq "drop: no capture path" "0 0 0" "$(capture_path)"
	check_eq "drop: the stub answers" "$DOT_A " "$(hdig @127.0.0.53 a.test)"

	log "drop -> redirect by SIGHUP"
	switch_to redirect 1
	status_json "$NS_HOST"
	check_eq "redirect: mode in status" redirect "$(json_get "$T/status.json" 'd["mode"]')"
	check_eq "redirect: the capture pair, 2 rules, 2 listeners" "2 2 2" "$(capture_path)"
	check_eq "redirect: UDP to the rogue is answered over DoT" "$DOT_A " "$(hdig "@$ROGUE4" a.test)"
	check_eq "redirect: IPv6 too" "$DOT_AAAA " "$(hdig "@$ROGUE6" aaaa.test AAAA)"
	check_eq "redirect: TCP too" "$DOT_A " "$(hdig +tcp "@$ROGUE4" a.test)"
	check_eq "redirect: the stub answers" "$DOT_A " "$(hdig @127.0.0.53 a.test)"
	check_ge "the daemon took the caught UDP queries" 2 "$(dstat redirected_queries)"

	log "redirect -> drop by SIGHUP"
	switch_to drop 2
	check_eq "drop: capture pair, rules and listeners gone" "0 0 0" "$(capture_path)"
	check_eq "drop: a query to the rogue goes nowhere again" "" "$(hdig "@$ROGUE4" a.test | grep -o "$MARK_A")"
	check_eq "drop: TCP to the rogue goes nowhere" "timeout" "$(pkt "$NS_HOST" tcp "$ROGUE4" 53 0.5)"
	check_eq "drop: the stub answers" "$DOT_A " "$(hdig @127.0.0.53 a.test)"
	check_grep "the AF_XDP socket was closed" "Mode= is no longer redirect; its AF_XDP sockets closed" "$T/dg.log"

	log "and back to redirect"
	switch_to redirect 3
	check_eq "redirect again: UDP to the rogue answered over DoT" "$DOT_A " "$(hdig "@$ROGUE4" a.test)"
	check_eq "redirect again: TCP too" "$DOT_A " "$(hdig +tcp "@$ROGUE4" a.test)"

	check_eq "the uplink kept the same program (the guard was never lifted)" \
		"$prog" "$(prog_of_uplink)"
	check_eq "no reload was refused" 0 "$(grep -c 'reload refused' "$T/dg.log")"
	check_eq "still unprivileged" "$(id -u nobody)" \
		"$(awk '$1 == "Uid:" { print $3 }' "/proc/$DG_PID/status")"
	check_idle_cpu
}

post()
{
	check_no_leak
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

dg_main
