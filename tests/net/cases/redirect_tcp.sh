#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test host redirect mode for TCP/53: dig +tcp and kdig +tcp to a rogue
# server (IPv4, IPv6), and a UDP answer too large for the client that is
# truncated and then fetched whole over TCP, all answered by the daemon
# (tc ingress on the capture end assigns the connection to its
# transparent listener) with the upstream's data; 0 port-53 packets on
# the wire, 0 queries at the rogue. With the daemon killed, a TCP/53
# connection gets nowhere (fail closed).

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

# hdig ARGS...: dig in the host namespace, bounded.
hdig()
{
	timeout 10 ip netns exec "$NS_HOST" dig +tries=1 +time=3 "$@" 2>&1
}

test()
{
	local out
	check_eq "dig +tcp A @$ROGUE4" "$DOT_A" "$(hdig +tcp +short "@$ROGUE4" a.test)"
	check_eq "dig +tcp AAAA @$ROGUE6" "$DOT_AAAA" "$(hdig +tcp +short "@$ROGUE6" aaaa.test AAAA)"
	check_eq "kdig +tcp A @$ROGUE4" "$DOT_A" \
		"$(timeout 10 ip netns exec "$NS_HOST" kdig +tcp +short +retry=0 +timeout=3 "@$ROGUE4" a.test 2>&1)"
	check_grep "the TCP answer comes from the address asked" \
		"SERVER: $ROGUE4#53\\($ROGUE4\\) \\(TCP\\)" <(hdig +tcp "@$ROGUE4" a.test)

	log "a TXT answer too big for UDP: truncated, then retried over TCP"
	out=$(hdig +bufsize=1232 "@$ROGUE4" big.test TXT)
	check_grep "dig says it retried in TCP mode" "Truncated, retrying in TCP mode" <(echo "$out")
	check_eq "all 8 TXT strings arrived" 8 "$(grep -c '^big.test.*TXT' <<<"$out")"
	check_grep "the TCP retry went to the rogue's address" "SERVER: $ROGUE4#53\\($ROGUE4\\) \\(TCP\\)" <(echo "$out")

	check_ge "steered TCP segments (IPv4)" 1 "$(dg_count dns-tcp4 redirect tc-steer)"
	check_ge "steered TCP segments (IPv6)" 1 "$(_json_sum "$T/status.json" dns-tcp6 redirect tc-steer)"
	check_eq "steer: nothing failed closed while the daemon ran" 0 \
		"$(_json_sum "$T/status.json" dns-tcp4 fail-closed tc-steer)"
	check_eq "daemon: TCP queries" 5 "$(dstat queries_tcp)"

	log "kill -9: TCP/53 finds no listener and goes nowhere"
	kill_pid "$DG_PID" KILL
	check_eq "connect to $ROGUE4:53 after the kill" timeout \
		"$(pkt "$NS_HOST" tcp "$ROGUE4" 53 0.5)"
	check_eq "the SYN failed closed at the capture end" 1 \
		"$(dg_count dns-tcp4 fail-closed tc-steer)"
}

post()
{
	check_no_leak
	log "detach lifts the guard and removes the capture pair and the steering rule"
	check_rc "dotguard detach" 0 dg "$NS_HOST" detach -c "$CONF"
	check_eq "links named dg-cap* left" 0 \
		"$(ip -n "$NS_HOST" -o link show | grep -c ' dg-cap')"
	check_eq "fwmark rules left (IPv4, IPv6)" "0 0" \
		"$(ip -n "$NS_HOST" rule show | grep -c 'fwmark 0xd053') $(ip -n "$NS_HOST" -6 rule show | grep -c 'fwmark 0xd053')"
	check_eq "steering table routes left" 0 \
		"$(ip -n "$NS_HOST" route show table 53053 2>/dev/null | wc -l)"
}

dg_main
