#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test what the daemon writes to stderr (the journal, under systemd): by
# default one line per event, each with its level, and not one line per
# query whatever the traffic (stub, caught by the guard, UDP, TCP);
# with --verbose exactly one line per query, naming the name, type,
# client, path, RCODE and where the answer came from.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

HOST4=198.51.100.1	# topo_host's address on veth-h
HOST6=2001:db8:2::1

pre()
{
	redirect_world host
	cap_start out "$NS_OUT" veth-o
}

# hdig ARGS...: dig in the host namespace, bounded.
hdig()
{
	timeout 10 ip netns exec "$NS_HOST" dig +tries=1 +time=3 +short "$@" 2>&1
}

# traffic: 8 queries by every path, their answers checked. A caught query
# is one sent to the rogue's address, past the stub.
traffic()
{
	check_eq "$1: stub UDP" "$DOT_A" "$(hdig @127.0.0.53 a.test)"
	check_eq "$1: stub UDP again (cache)" "$DOT_A" "$(hdig @127.0.0.53 a.test)"
	check_eq "$1: stub TCP" "$DOT_AAAA" "$(hdig +tcp @127.0.0.53 aaaa.test AAAA)"
	check_eq "$1: caught UDP" "$DOT_A" "$(hdig "@$ROGUE4" a.test)"
	check_eq "$1: caught UDP over IPv6" "$DOT_AAAA" "$(hdig "@$ROGUE6" aaaa.test AAAA)"
	check_eq "$1: caught TCP" "$DOT_A" "$(hdig +tcp "@$ROGUE4" a.test)"
	check_eq "$1: NXDOMAIN" "NXDOMAIN" \
		"$(timeout 10 ip netns exec "$NS_HOST" dig +tries=1 +time=3 @127.0.0.53 no.test |
			sed -n 's/.*status: \([A-Z]*\),.*/\1/p')"
	# A question whose name is a compression pointer: no name at all.
	check_eq "$1: a name that is not a name gets FORMERR" 1 \
		"$(timeout 10 ip netns exec "$NS_HOST" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(bytes.fromhex("000101000001000000000000c00c00010001"), ("127.0.0.53", 53))
print(s.recv(512)[3] & 15)' 2>&1)"
}

# lines_without_level FILE: lines that do not start with a level.
lines_without_level()
{
	grep -cvE '^(dotguard: (error|warning|info|debug|verbose): |[^ :]+:[0-9]+: (error|warning): )' "$1"
}

test()
{
	local q p='[0-9]+'

	log "default level: events only"
	DG_QUIET=1 dg_start "$NS_HOST"
	wait_ready
	traffic quiet
	kill -HUP "$DG_PID"
	for ((q = 0; q < 50; q++)); do
		grep -q 'reloaded' "$T/dg.log" && break
		sleep 0.1
	done
	kill_pid "$DG_PID" TERM
	mv "$T/dg.log" "$T/quiet.log"
	check_eq "no per-query line without --verbose" 0 "$(grep -c 'query ' "$T/quiet.log")"
	check_eq "every line has its level" 0 "$(lines_without_level "$T/quiet.log")"
	check_eq "start, reload and stop: one info line each" "1 1 1" \
		"$(grep -c '^dotguard: info: ready' "$T/quiet.log") $(grep -c '^dotguard: info: reloaded' "$T/quiet.log") $(grep -c '^dotguard: info: stopping' "$T/quiet.log")"
	check_eq "no debug line at the default level" 0 \
		"$(grep -cE '^dotguard: (debug|verbose): ' "$T/quiet.log")"

	log "--verbose: one line per query"
	dg_start "$NS_HOST"
	wait_ready
	traffic verbose
	check_eq "every line has its level" 0 "$(lines_without_level "$T/dg.log")"
	check_eq "one query line per query sent" 8 "$(grep -c '^dotguard: debug: query ' "$T/dg.log")"
	check_eq "stub UDP, from the upstream, then from the cache" 2 \
		"$(grep -cE "query a\.test\. A from 127\.0\.0\.1#$p \(udp\): NOERROR in $p us, (upstream=$OUT4#dns\.test rtt_us=$p cache=miss|cache=hit age=$p)$" "$T/dg.log")"
	check_eq "  the first from the upstream" 1 \
		"$(grep -cE "query a\.test\. A .*\(udp\): .*upstream=$OUT4#dns\.test" "$T/dg.log")"
	check_eq "stub TCP" 1 \
		"$(grep -cE "query aaaa\.test\. AAAA from 127\.0\.0\.1#$p \(tcp\): NOERROR in $p us, " "$T/dg.log")"
	check_eq "caught UDP, from the client's own address" 1 \
		"$(grep -cE "query a\.test\. A from $HOST4#$p \(redirected udp\): NOERROR in $p us, " "$T/dg.log")"
	check_eq "caught UDP over IPv6" 1 \
		"$(grep -cE "query aaaa\.test\. AAAA from \[$HOST6\]#$p \(redirected udp\): NOERROR " "$T/dg.log")"
	check_eq "caught TCP" 1 \
		"$(grep -cE "query a\.test\. A from $HOST4#$p \(redirected tcp\): NOERROR " "$T/dg.log")"
	check_eq "NXDOMAIN" 1 "$(grep -cE "query no\.test\. A from .*: NXDOMAIN in $p us, " "$T/dg.log")"
	check_eq "the bad question, answered here (FORMERR)" 1 \
		"$(grep -cE "query \(no question\) from 127\.0\.0\.1#$p \(udp\): FORMERR in $p us, the question did not parse$" "$T/dg.log")"
}

post()
{
	check_no_leak
}

dg_main
