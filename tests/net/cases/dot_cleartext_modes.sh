#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test DNSOverTLS= against a real unbound with Mode=drop on the uplink,
# the daemon running as nobody (each cleartext socket it lets past the
# guard needs its kept CAP_BPF raised for that moment):
#  - no: the daemon's own cleartext (UDP, and TCP for a truncated answer)
#    passes the guard as own-socket while an application's is dropped;
#  - opportunistic with no TLS on the upstream's port: cleartext, counted;
#  - yes (strict) with no TLS: SERVFAIL in time and not one port-53 packet
#    on the wire.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

pre()
{
	id nobody >/dev/null 2>&1 || skip "no user 'nobody' here"
	dot_world host dig
	unbound_dot_start "$NS_OUT" "$OUT4" "$T/ca/dns.test"
}

# conf_dot MODE DNS: a Mode=drop config for DNSOverTLS=MODE.
conf_dot()
{
	conf_write <<CONF
[Resolve]
DNS=$2
FallbackDNS=
DNSOverTLS=$1
Cache=no
[TLS]
CAFile=$T/ca/ca.pem
[Guard]
Mode=drop
Interface=veth-h
PinPath=$PIN
User=nobody
CONF
}

# stop_daemon: SIGTERM and wait, leaving the guard for the next start.
stop_daemon()
{
	kill "$DG_PID"
	wait "$DG_PID" 2>/dev/null
}

test()
{
	local t0 t1 ans

	log "DNSOverTLS=no: answers, TCP for the truncated one, all as own-socket"
	conf_dot no "$OUT4#dns.test"
	dg_run_ready "$NS_HOST"
	cap_start out "$NS_OUT" veth-o
	ans=$(ns_exec "$NS_HOST" dig +short +tries=1 +time=3 @127.0.0.53 a.test)
	check_eq "a.test via cleartext upstream" 203.0.113.10 "$ans"
	check_eq "big.test TXT strings (TCP after TC)" 8 \
		"$(ns_exec "$NS_HOST" dig +short +tries=1 +time=3 @127.0.0.53 big.test TXT | wc -l)"
	dig_q "$NS_HOST" "$OUT4"
	cap_stop out
	check_ge "own-socket passes" 3 "$(dg_count own-socket pass)"
	check_eq "the application's own query dropped" 1 "$(dg_count dns-udp4 drop)"
	check_eq "nothing of ours dropped (no TCP drops)" 0 "$(dg_count dns-tcp4 drop)"
	check_ge "UDP to 53 on the wire (the daemon's)" 2 \
		"$(cap_count out udp dst port 53)"
	check_eq "upstream cleartext count" 3 \
		"$(json_get "$T/status.json" 'd["daemon"]["upstreams"][0]["cleartext"]')"
	stop_daemon

	log "opportunistic, TLS refused on :8853: cleartext on 53, counted"
	conf_dot opportunistic "$OUT4:8853#dns.test"
	dg_run_ready "$NS_HOST"
	ans=$(ns_exec "$NS_HOST" dig +short +tries=1 +time=3 @127.0.0.53 aaaa.test AAAA)
	check_eq "aaaa.test via the fallback" 2001:db8::10 "$ans"
	check_grep "the fallback is logged" "opportunistic mode: using cleartext" "$T/dg.log"
	status_json "$NS_HOST"
	check_ge "refused TLS attempts counted" 1 \
		"$(json_get "$T/status.json" 'd["daemon"]["upstreams"][0]["failures"]["refused"]')"
	stop_daemon

	log "strict, TLS refused on :8853: SERVFAIL in time, nothing in cleartext"
	conf_dot yes "$OUT4:8853#dns.test"
	dg_run_ready "$NS_HOST"
	cap_start strict "$NS_OUT" veth-o
	t0=$(date +%s%N)
	ans=$(ns_exec "$NS_HOST" dig +tries=1 +time=6 @127.0.0.53 a.test | grep -o 'status: [A-Z]*')
	t1=$(date +%s%N)
	cap_stop strict
	check_eq "strict answer" "status: SERVFAIL" "$ans"
	check_eq "SERVFAIL within 4 s" 1 "$(( (t1 - t0) < 4000000000 ))"
	check_eq "port-53 packets on the wire in strict mode" 0 \
		"$(cap_count strict port 53)"
}

post()
{
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

dg_main
