#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that idle TCP connections cannot shut other clients out of TCP DNS
# (host redirect mode, so both kinds of TCP client exist):
# - one address holds at most 64 connections: its 65th closes its own
#   oldest, and another address loses none;
# - with the stub's 512 local connections all held idle by 8 addresses, a
#   new client is answered at once and exactly one connection, the
#   oldest, is closed for it;
# - steered TCP/53 (an application asking a rogue server) has a budget of
#   its own: 512 idle steered connections close no local one, and a new
#   steered client is answered, closing one steered connection only;
# - an IPv6 /64 is one client: two addresses in it share the 64.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

PER=64		# DG_STUB_TCP_PER_CLIENT
BUDGET=512	# DG_STUB_TCP_LOCAL_MAX = DG_STUB_TCP_STEERED_MAX
CROWD=127.0.1.1,127.0.1.2,127.0.1.3,127.0.1.4,127.0.1.5,127.0.1.6,127.0.1.7,127.0.1.8
STEERED=198.51.100.10,198.51.100.11,198.51.100.12,198.51.100.13,198.51.100.14,198.51.100.15,198.51.100.16,198.51.100.17

pre()
{
	local a
	redirect_world host
	for a in ${STEERED//,/ }; do
		addr_add "$NS_HOST" veth-h "$a/24"
	done
	addr_add "$NS_HOST" veth-h 2001:db8:2::10/64
	addr_add "$NS_HOST" veth-h 2001:db8:2::11/64
	cap_start out "$NS_OUT" veth-o
	dg_run_ready "$NS_HOST"
}

# hold NAME ADDR COUNT SRCS: COUNT idle connections to ADDR:53 from SRCS
# in turn (hostile.py hold), in the background until hold_stop NAME;
# returns once all are open (bounded ~60 s). Each sends a query every
# 3 s, so the daemon's 10 s idle timeout cannot close them mid-test.
hold()
{
	local name=$1 i
	ip netns exec "$NS_HOST" "$PY" "$NET_DIR/hostile.py" hold "$2" "$3" "$4" \
		"$T/$name.state" "$T/$name.go" 110 3 >"$T/$name.out" 2>&1 &
	HOLD_PID[$name]=$!
	defer kill_pid "$!"
	for ((i = 0; i < 600; i++)); do
		grep -q "^all opened $3 " "$T/$name.state" 2>/dev/null && return 0
		kill -0 "${HOLD_PID[$name]}" 2>/dev/null || break
		sleep 0.1
	done
	cat "$T/$name.out" "$T/$name.state" 2>/dev/null
	die "hold $name: $3 connections to $2 not all open"
}

declare -A HOLD_PID=()

hold_stop()
{
	touch "$T/$1.go"
	kill_pid "${HOLD_PID[$1]}"
}

# closed NAME [SRC]: connections of hold NAME (from SRC, default all)
# the server has closed so far.
closed()
{
	awk -v s="${2:-all}" '$1 == s { print $5 }' "$T/$1.state"
}

# closed_settles NAME SRC WANT: wait (bounded ~10 s) until closed says
# WANT, then half a second more so a late extra close shows; prints the
# final count.
closed_settles()
{
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(closed "$1" "$2")" = "$3" ] && break
		sleep 0.1
	done
	sleep 0.5
	closed "$1" "$2"
}

# tdig ADDR NAME [ARGS...]: dig +tcp at ADDR from the host, bounded.
tdig()
{
	local a=$1
	shift
	timeout 10 ip netns exec "$NS_HOST" dig +tcp +short +tries=1 +time=3 "@$a" "$@" 2>&1
}

test()
{
	log "per client address: $((PER + 6)) from one, 10 from another"
	hold b 127.0.0.53 10 127.0.2.2
	hold a 127.0.0.53 $((PER + 6)) 127.0.2.1
	check_eq "127.0.2.1: connections closed for its own newcomers" 6 \
		"$(closed_settles a 127.0.2.1 6)"
	check_eq "127.0.2.2: connections closed" 0 "$(closed_settles b 127.0.2.2 0)"
	hold_stop a
	hold_stop b

	log "the local budget full of idle connections ($BUDGET from 8 addresses)"
	hold crowd 127.0.0.53 "$BUDGET" "$CROWD"
	check_eq "crowd: connections closed while it fills the budget" 0 \
		"$(closed_settles crowd all 0)"
	check_eq "dig +tcp a.test at the stub: answered" "$DOT_A" "$(tdig 127.0.0.53 a.test)"
	check_eq "crowd: connections closed for the newcomer" 1 "$(closed_settles crowd all 1)"
	check_eq "crowd: the one closed was the oldest (127.0.1.1's first)" 1 \
		"$(closed crowd 127.0.1.1)"

	log "steered connections have their own budget ($BUDGET idle to $ROGUE4)"
	hold steer "$ROGUE4" "$BUDGET" "$STEERED"
	check_eq "steered: connections closed while they fill their budget" 0 \
		"$(closed_settles steer all 0)"
	check_eq "crowd: none closed by the steered ones" 1 "$(closed_settles crowd all 1)"
	check_eq "dig +tcp a.test at the rogue (steered): answered" "$DOT_A" \
		"$(tdig "$ROGUE4" a.test)"
	check_eq "steered: one closed for the steered newcomer" 1 "$(closed_settles steer all 1)"
	check_eq "crowd: still none more closed" 1 "$(closed_settles crowd all 1)"
	check_eq "dig +tcp a.test at the stub again: answered" "$DOT_A" \
		"$(tdig 127.0.0.53 a.test)"
	check_eq "crowd: none more closed (the first newcomer's slot is free again)" 1 \
		"$(closed_settles crowd all 1)"
	check_eq "steered: none more closed" 1 "$(closed_settles steer all 1)"
	hold_stop steer
	hold_stop crowd

	log "an IPv6 /64 is one client: 40 from ::10, then 40 from ::11"
	hold v6a "$ROGUE6" 40 2001:db8:2::10
	hold v6b "$ROGUE6" 40 2001:db8:2::11
	check_eq "2001:db8:2::10: closed for its /64's newcomers" 16 \
		"$(closed_settles v6a 2001:db8:2::10 16)"
	check_eq "2001:db8:2::11: closed" 0 "$(closed_settles v6b 2001:db8:2::11 0)"
	check_eq "dig +tcp AAAA at the rogue over IPv6 (same /64): answered" \
		"$DOT_AAAA" "$(tdig "$ROGUE6" aaaa.test AAAA)"
	hold_stop v6a
	hold_stop v6b
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

post()
{
	check_no_leak
}

dg_main
