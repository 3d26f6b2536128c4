#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test Interface=auto in redirect mode (the default) on a host whose only
# uplink gains its default route after the daemon started: the daemon
# starts with nothing to guard but the capture path ready, guards the
# uplink within a second of the route appearing, and from then on a query
# to a rogue plaintext server (dig, IPv4 and IPv6) is answered by the
# real upstream over DoT, from the address it asked; not one port-53
# packet crosses the wire and the rogue sees no query.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

pre()
{
	redirect_world host
	# No Interface= at all: auto. topo_host has no default route yet.
	sed -i '/^Interface=/d' "$CONF"
	cap_start out "$NS_OUT" veth-o
	dg_run_ready "$NS_HOST"
}

ask()
{
	timeout 10 ip netns exec "$NS_HOST" dig +short +tries=1 +time=3 \
		"@$1" "$2" "$3" 2>&1 | tr '\n' ' '
}

test()
{
	local t0

	check_eq "programs on veth-h before any default route" 0 \
		"$(guard_progs "$NS_HOST" veth-h)"
	check_ge "an XDP program on the capture end already" 1 \
		"$(ip -n "$NS_HOST" -d link show dg-cap-xsk | grep -c 'prog/xdp id')"

	log "a default route appears on veth-h"
	t0=$(date +%s%N)
	ip -n "$NS_HOST" route add default via "$OUT4" dev veth-h ||
		die "ip route add default"
	wait_guarded "$NS_HOST" veth-h "$t0"
	check_eq "veth-h guarded within a second of its default route (took $GUARD_MS ms)" 1 \
		"$((GUARD_MS >= 0 && GUARD_MS < 1000))"

	check_eq "dig A @$ROGUE4" "$DOT_A " "$(ask "$ROGUE4" a.test A)"
	check_eq "dig AAAA @$ROGUE6" "$DOT_AAAA " "$(ask "$ROGUE6" aaaa.test AAAA)"
	check_eq "queries redirected at tc (IPv4)" 1 "$(dg_count dns-udp4 redirect tc-egress)"
	check_eq "queries redirected at tc (IPv6)" 1 \
		"$(_json_sum "$T/status.json" dns-udp6 redirect tc-egress)"
	check_eq "daemon: redirected answers" 2 "$(dstat redirected_answers)"
}

post()
{
	check_no_leak
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

dg_main
