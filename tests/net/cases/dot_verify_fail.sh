#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that an upstream whose certificate must be refused gets nothing
# but a TLS handshake: a certificate for another name, one from a CA we
# do not trust, an expired one, and an SPKI pin that does not match. Each
# time the client gets SERVFAIL within 4 s, exactly the matching failure
# counter grows, and not one port-53 packet crosses the wire. The right
# pin against the same server then answers (the control).

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

# One upstream per scenario, all in the out namespace.
UP_NAME=198.51.100.61		# certificate for other.test
UP_CA=198.51.100.62		# dns.test from an untrusted CA
UP_EXP=198.51.100.63		# dns.test, expired
UP_PIN=198.51.100.64		# dns.test, good; the pin will not match

pre()
{
	local a
	require_base
	require_tools dig unbound openssl
	world_init
	bpffs_mount
	topo_host
	ca_make "$T/ca"
	ca_make "$T/ca2"
	cert_make "$T/ca" dns.test >/dev/null
	cert_make "$T/ca" other.test >/dev/null
	cert_make "$T/ca" dns.test --expired >/dev/null
	cert_make "$T/ca2" dns.test >/dev/null
	for a in "$UP_NAME" "$UP_CA" "$UP_EXP" "$UP_PIN"; do
		addr_add "$NS_OUT" veth-o "$a/24"
	done
	unbound_dot_start "$NS_OUT" "$UP_NAME" "$T/ca/other.test"
	unbound_dot_start "$NS_OUT" "$UP_CA" "$T/ca2/dns.test"
	unbound_dot_start "$NS_OUT" "$UP_EXP" "$T/ca/dns.test-expired"
	unbound_dot_start "$NS_OUT" "$UP_PIN" "$T/ca/dns.test"
	cap_start out "$NS_OUT" veth-o
}

FAILS="verify name-mismatch pin-mismatch handshake"

# refused WHAT ADDR FAILURE [TLS-LINE...]: a fresh daemon with DNS=ADDR
# #dns.test; a.test must get SERVFAIL within 4 s and of the failure
# counters in $FAILS only FAILURE may have grown (by at least one).
refused()
{
	local what=$1 addr=$2 want=$3 t0 ms st f
	shift 3
	log "$what"
	[ -n "$DG_PID" ] && kill_pid "$DG_PID"
	conf_dot_strict "$addr#dns.test" Cache=no "$@"
	dg_run_ready "$NS_HOST"
	t0=$(now_ms)
	st=$(ns_exec "$NS_HOST" dig +tries=1 +time=6 @127.0.0.53 a.test |
		grep -o 'status: [A-Z]*')
	ms=$(($(now_ms) - t0))
	check_eq "$what: answer" "status: SERVFAIL" "$st"
	check_eq "$what: SERVFAIL within 4 s (took $ms ms)" 1 "$((ms < 4000))"
	status_json "$NS_HOST"
	for f in $FAILS; do
		if [ "$f" = "$want" ]; then
			check_ge "$what: failures.$f" 1 \
				"$(json_get "$T/status.json" "d['daemon']['upstreams'][0]['failures']['$f']")"
		else
			check_eq "$what: failures.$f" 0 \
				"$(json_get "$T/status.json" "d['daemon']['upstreams'][0]['failures']['$f']")"
		fi
	done
	check_eq "$what: upstream answers" 0 \
		"$(json_get "$T/status.json" "d['daemon']['upstreams'][0]['answers']")"
	check_eq "$what: handshakes completed" 0 \
		"$(json_get "$T/status.json" "d['daemon']['upstreams'][0]['handshakes_full'] + d['daemon']['upstreams'][0]['handshakes_resumed']")"
	check_grep "$what: the log names the upstream and the TLS failure" \
		"upstream $addr#dns.test: TLS .*marked down" "$T/dg.log"
	check_eq "$what: upstream state" down \
		"$(json_get "$T/status.json" "d['daemon']['upstreams'][0]['state']")"
}

test()
{
	local good bad

	refused "certificate for another name" "$UP_NAME" name-mismatch
	refused "untrusted CA" "$UP_CA" verify
	refused "expired certificate" "$UP_EXP" verify
	good=$(spki_pin "$T/ca/dns.test.pem")
	bad=$(spki_pin "$T/ca/other.test.pem")
	refused "SPKI pin mismatch" "$UP_PIN" pin-mismatch \
		"SPKIPin=dns.test sha256/$bad"

	log "control: the right pin, same server"
	kill_pid "$DG_PID"
	conf_dot_strict "$UP_PIN#dns.test" Cache=no "SPKIPin=dns.test sha256/$good"
	dg_run_ready "$NS_HOST"
	check_eq "a.test with the right pin" "$DOT_A" \
		"$(ns_exec "$NS_HOST" dig +short +tries=1 +time=4 @127.0.0.53 a.test)"
	check_eq "pin-mismatch with the right pin" 0 "$(dstat failures.pin-mismatch 0)"
}

post()
{
	local n a
	cap_stop out
	n=$(cap_count out port 53)
	check_eq "port-53 packets on the wire (all scenarios)" 0 "$n"
	[ "$n" = 0 ] || cap_show out port 53
	for a in "$UP_NAME" "$UP_CA" "$UP_EXP" "$UP_PIN"; do
		check_ge "packets to $a:853" 1 \
			"$(cap_count out tcp dst port 853 and dst host "$a")"
	done
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

dg_main
