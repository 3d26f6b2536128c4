#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that in DNSOverTLS=opportunistic an SPKIPin= that does not match
# never falls back to cleartext (RFC 8310 lets opportunistic fall back
# when TLS cannot be had; a wrong key means someone is in the path).
# The upstream serves plain DNS on port 53 too, so a fallback would be
# answered: the client must get SERVFAIL instead, the upstream be marked
# down with pin-mismatch counted, and not one port-53 packet cross the
# wire, also after the upstream was probed again. The right pin against
# the same server then answers over TLS (the control).

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

pre()
{
	dot_world host dig
	cert_make "$T/ca" other.test >/dev/null
	unbound_dot_start "$NS_OUT" "$OUT4" "$T/ca/dns.test"
	cap_start out "$NS_OUT" veth-o
}

# conf_opp PIN: opportunistic DoT to $OUT4#dns.test with SPKIPin=PIN,
# Mode=drop (the daemon's own sockets pass, so a fallback would show).
conf_opp()
{
	conf_write <<CONF
[Resolve]
DNS=$OUT4#dns.test
FallbackDNS=
DNSOverTLS=opportunistic
Cache=no
[TLS]
CAFile=$T/ca/ca.pem
SPKIPin=dns.test sha256/$1
[Guard]
Mode=drop
Interface=veth-h
PinPath=$PIN
CONF
}

# servfail_in_time WHAT: a.test gets SERVFAIL within 4 s.
servfail_in_time()
{
	local t0 ms st
	t0=$(now_ms)
	st=$(ns_exec "$NS_HOST" dig +tries=1 +time=6 @127.0.0.53 a.test |
		grep -o 'status: [A-Z]*')
	ms=$(($(now_ms) - t0))
	check_eq "$1: answer" "status: SERVFAIL" "$st"
	check_eq "$1: within 4 s (took $ms ms)" 1 "$((ms < 4000))"
}

test()
{
	local good bad i

	good=$(spki_pin "$T/ca/dns.test.pem")
	bad=$(spki_pin "$T/ca/other.test.pem")

	log "opportunistic, wrong pin: SERVFAIL, no cleartext"
	conf_opp "$bad"
	dg_run_ready "$NS_HOST"
	servfail_in_time "wrong pin"
	check_grep "the log says why there is no fallback" \
		"upstream $OUT4#dns.test: SPKI pin mismatch; no cleartext fallback" "$T/dg.log"
	check_eq "no cleartext fallback logged" 0 \
		"$(grep -c 'using cleartext' "$T/dg.log")"
	check_ge "pin-mismatch counted" 1 "$(dstat failures.pin-mismatch 0)"
	check_eq "upstream state" down "$(dstat state 0)"
	check_eq "cleartext queries" 0 "$(dstat cleartext 0)"

	# Past the first backoffs (0.5 s, then 1 s): the probes meet the
	# same key and still nothing goes out in cleartext.
	for ((i = 0; i < 30; i++)); do
		[ "$(dstat failures.pin-mismatch 0)" -ge 3 ] && break
		sleep 0.1
	done
	check_ge "probed again, the pin failed again" 3 "$(dstat failures.pin-mismatch 0)"
	servfail_in_time "wrong pin, after the probes"
	check_eq "cleartext queries after the probes" 0 "$(dstat cleartext 0)"
	check_eq "upstream answers" 0 "$(dstat answers 0)"

	log "control: the right pin, same server"
	kill_pid "$DG_PID"
	conf_opp "$good"
	dg_run_ready "$NS_HOST"
	check_eq "a.test with the right pin" "$DOT_A" \
		"$(ns_exec "$NS_HOST" dig +short +tries=1 +time=4 @127.0.0.53 a.test)"
	check_eq "pin-mismatch with the right pin" 0 "$(dstat failures.pin-mismatch 0)"
	check_eq "cleartext queries with the right pin" 0 "$(dstat cleartext 0)"
}

post()
{
	check_wire_clean
	check_ge "packets to $OUT4:853" 1 \
		"$(cap_count out tcp dst port 853 and dst host "$OUT4")"
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

dg_main
