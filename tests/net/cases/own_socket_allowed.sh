#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that a socket whose cookie is in the pinned allow-list map
# (dg_own_socks) sends port-53 traffic through the drop guard, while an
# identical socket not in the list is dropped: the daemon's sockets are
# recognised by cookie, never by address or port. The helper registers
# its socket as the daemon does: cookie in dg_own_socks, and the
# DG_POLICY_OWN_SOCKETS flag raised in dg_policy (restored afterwards);
# the unlisted socket sends with the flag raised too, so only the cookie
# differs.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"

case $OUT in
/*) SOCKCOOKIE=$OUT/tests/net_sockcookie ;;
*) SOCKCOOKIE=$REPO/$OUT/tests/net_sockcookie ;;
esac

pre()
{
	require_base
	require_tools bpftool
	[ -x "$SOCKCOOKIE" ] || skip "no $SOCKCOOKIE (make $OUT/tests/net_sockcookie)"
	world_init
	bpffs_mount
	topo_host
	conf_guard drop Interface=veth-h
	dg_run_ready "$NS_HOST"
	cap_start out "$NS_OUT" veth-o
}

# sc VAR ADDR [OPTS...]: one datagram to ADDR:53 from net_sockcookie;
# VAR gets its local port.
sc()
{
	local var=$1 addr=$2 rc
	shift 2
	ns_exec "$NS_HOST" "$SOCKCOOKIE" "$@" "$addr" 53 >"$T/sc.out"
	rc=$?
	cat "$T/sc.out"
	check_eq "net_sockcookie $* $addr 53 (exit code)" 0 "$rc"
	printf -v "$var" '%s' "$(sed -n 's/.*lport=\([0-9]*\).*/\1/p' "$T/sc.out")"
}

test()
{
	local map=$PIN/dg_own_socks pol=$PIN/dg_policy
	sc A4 "$OUT4" -m "$map" -p "$pol"
	sc B4 "$OUT4" -p "$pol"
	sc A6 "$OUT6" -m "$map" -p "$pol"
	sc B6 "$OUT6" -p "$pol"
	cap_stop out
	check_eq "allow-list entries left" 0 \
		"$(ns_exec "$NS_HOST" bpftool -j map dump pinned "$map" |
			"$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')"
}

post()
{
	check_eq "allowed UDP4 on the wire (port $A4)" 1 \
		"$(cap_count out "udp src port $A4 and dst port 53")"
	check_eq "allowed UDP6 on the wire (port $A6)" 1 \
		"$(cap_count out "udp src port $A6 and dst port 53")"
	check_eq "port-53 packets on the wire" 2 "$(cap_count out port 53)"
	check_eq "not-allowed UDP4 on the wire (port $B4)" 0 \
		"$(cap_count out "udp src port $B4")"
	check_eq "not-allowed UDP6 on the wire (port $B6)" 0 \
		"$(cap_count out "udp src port $B6")"
	check_eq "own-socket pass" 2 "$(dg_count own-socket pass)"
	check_eq "dns-udp4 drop" 1 "$(_json_sum "$T/status.json" dns-udp4 drop)"
	check_eq "dns-udp6 drop" 1 "$(_json_sum "$T/status.json" dns-udp6 drop)"
}

dg_main
