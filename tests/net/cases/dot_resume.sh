#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that idle connections come back by TLS session resumption, not
# full handshakes, and queries keep being answered:
#  - the server closes them (unbound, tcp-idle-timeout 1 s);
#  - the server asks for a 1 s keepalive (RFC 7828), so the pool closes
#    those it was told about first.
# A server closing an idle connection is no failure of that server.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

UP_KA=198.51.100.54	# the keepalive upstream ($OUT4 is the other)

pre()
{
	dot_world host dig
	unbound_dot_start "$NS_OUT" "$OUT4" "$T/ca/dns.test" \
		"tcp-idle-timeout: 1000"
	addr_add "$NS_OUT" veth-o "$UP_KA/24"
	unbound_dot_start "$NS_OUT" "$UP_KA" "$T/ca/dns.test" \
		"tcp-idle-timeout: 1000" "edns-tcp-keepalive: yes" \
		"edns-tcp-keepalive-timeout: 1000"
	cap_start out "$NS_OUT" veth-o
}

# q ARGS...: dig +short at the stub.
q()
{
	ns_exec "$NS_HOST" dig +short +tries=1 +time=4 @127.0.0.53 "$@"
}

test()
{
	local full0

	log "server-side idle close"
	conf_dot_strict "$OUT4#dns.test" Cache=no
	dg_run_ready "$NS_HOST"
	check_eq "a.test (first query)" "$DOT_A" "$(q a.test)"
	full0=$(dstat handshakes_full 0)
	log "idle for 3 s: unbound closes after 1 s, the pool reconnects"
	sleep 3
	check_eq "a.test (after the idle close)" "$DOT_A" "$(q a.test)"
	check_eq "aaaa.test" "$DOT_AAAA" "$(q aaaa.test AAAA)"
	check_ge "handshakes_resumed" 1 "$(dstat handshakes_resumed 0)"
	check_eq "no full handshake since the first answer" "$full0" \
		"$(dstat handshakes_full 0)"
	check_eq "upstream answers" 3 "$(dstat answers 0)"
	check_eq "servfail" 0 "$(dstat servfail)"
	check_resets
	kill_pid "$DG_PID"

	log "keepalive 1 s: the pool closes first"
	conf_dot_strict "$UP_KA#dns.test" Cache=no
	dg_run_ready "$NS_HOST"
	check_eq "a.test (first query)" "$DOT_A" "$(q a.test)"
	full0=$(dstat handshakes_full 0)
	sleep 3
	check_eq "a.test (after the keepalive close)" "$DOT_A" "$(q a.test)"
	check_ge "handshakes_resumed" 1 "$(dstat handshakes_resumed 0)"
	check_eq "no full handshake since the first answer" "$full0" \
		"$(dstat handshakes_full 0)"
	check_grep "the pool closed idle connections itself" \
		"closing an idle connection" "$T/dg.log"
	check_resets
}

# check_resets: an idle connection the server closes with nothing in
# flight is the server's right (RFC 7858 3.4), not a failure: the reset
# counter may only count closes that cost queries ("moving N>0").
check_resets()
{
	check_eq "failures.reset = closes that moved queries (of $(grep -c 'connection lost' "$T/dg.log") closes)" \
		"$(grep -c 'connection lost.*moving [1-9]' "$T/dg.log")" \
		"$(dstat failures.reset 0)"
}

post()
{
	check_wire_clean
	check_ge "TCP connections opened to :853 (SYNs)" 3 \
		"$(cap_count out 'tcp dst port 853 and tcp[tcpflags] & tcp-syn != 0')"
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

dg_main
