#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that `dotguard doctor` names each failure class of the seeds'
# troubleshooting matrix against deliberately broken upstreams: a good
# one (ok), a certificate for another name, an untrusted CA, an expired
# certificate, a pin that does not match, a closed TCP 853; and that it
# checks resolv.conf, the guard on its interface and the leaks the guard
# caught. One line per check; exit 1 when any check fails.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

UP_NAME=198.51.100.61
UP_CA=198.51.100.62
UP_EXP=198.51.100.63
UP_PIN=198.51.100.64
UP_CLOSED=198.51.100.65	# an address with nothing on 853

pre()
{
	local a
	dot_world host dig
	ca_make "$T/ca2"
	cert_make "$T/ca" other.test >/dev/null
	cert_make "$T/ca" pin.test >/dev/null
	cert_make "$T/ca" dns.test --expired >/dev/null
	cert_make "$T/ca2" dns.test >/dev/null
	for a in "$UP_NAME" "$UP_CA" "$UP_EXP" "$UP_PIN" "$UP_CLOSED"; do
		addr_add "$NS_OUT" veth-o "$a/24"
	done
	DNS_PORT="" unbound_dot_start "$NS_OUT" "$OUT4" "$T/ca/dns.test"
	DNS_PORT="" unbound_dot_start "$NS_OUT" "$UP_NAME" "$T/ca/other.test"
	DNS_PORT="" unbound_dot_start "$NS_OUT" "$UP_CA" "$T/ca2/dns.test"
	DNS_PORT="" unbound_dot_start "$NS_OUT" "$UP_EXP" "$T/ca/dns.test-expired"
	DNS_PORT="" unbound_dot_start "$NS_OUT" "$UP_PIN" "$T/ca/pin.test"
	# The pin of another key than the one pin.test serves.
	conf_dot_strict "$OUT4#dns.test $UP_NAME#dns.test $UP_CA#dns.test $UP_EXP#dns.test $UP_PIN#pin.test $UP_CLOSED#dns.test" \
		"SPKIPin=pin.test sha256/$(spki_pin "$T/ca/other.test.pem")"
	[ -d /etc/netns ] || defer rmdir --ignore-fail-on-non-empty /etc/netns
	mkdir -p "/etc/netns/$NS_HOST"
	defer rm -rf "/etc/netns/$NS_HOST"
	echo "nameserver 127.0.0.53" >"/etc/netns/$NS_HOST/resolv.conf"
	dg_run_ready "$NS_HOST"
}

# line PATTERN: the doctor's line for it (first match).
line()
{
	grep -E -m1 "$1" "$T/doctor.out"
}

test()
{
	local rc
	dig_q "$NS_HOST" "$OUT4"	# a bypass attempt for the guard to catch
	timeout 60 ip netns exec "$NS_HOST" "$DOTGUARD" doctor -c "$CONF" >"$T/doctor.out" 2>&1
	rc=$?
	sed 's/^/    | /' "$T/doctor.out"
	check_eq "exit code (failures found)" 1 "$rc"
	check_grep "the good upstream" "^ok +upstream $OUT4#dns.test: TLSv1\\.[23]; certificate chain, name verified" "$T/doctor.out"
	check_grep "wrong #name" "^fail +upstream $UP_NAME#dns.test: TLS name.* -> the #name" \
		<(line "$UP_NAME")
	check_grep "untrusted CA" "^fail +upstream $UP_CA#dns.test: TLS verify: unable to verify.* -> CAFile= must hold the CA" <(line "$UP_CA")
	check_grep "expired certificate" "^fail +upstream $UP_EXP#dns.test: TLS verify: certificate has expired -> .*dates do not cover now: check the clock" \
		<(line "$UP_EXP")
	check_grep "pin mismatch" "^fail +upstream $UP_PIN#pin.test: TLS pin.* -> .*SPKIPin=" <(line "$UP_PIN")
	check_grep "closed TCP 853" "^fail +upstream $UP_CLOSED#dns.test: TCP port 853 not reachable \\(Connection refused\\) -> .*firewall" \
		<(line "$UP_CLOSED")
	check_grep "the clock" "^ok +clock:" "$T/doctor.out"
	check_grep "resolv.conf names the stub" "^ok +/etc/resolv.conf: the first nameserver is the stub" "$T/doctor.out"
	check_grep "the guard is on veth-h" "^ok +guard: tc-egress on veth-h" "$T/doctor.out"
	check_grep "the caught bypass is reported" "^warn +leaks attempted: 1 port-53 packets tried to bypass the stub" \
		"$T/doctor.out"
	check_eq "one line per check (6 upstreams, clock, resolv.conf, guard, leaks)" 10 \
		"$(wc -l <"$T/doctor.out")"

	log "with the daemon gone and the guard detached, doctor says so"
	kill_pid "$DG_PID"
	dg "$NS_HOST" detach -c "$CONF" >/dev/null 2>&1
	timeout 60 ip netns exec "$NS_HOST" "$DOTGUARD" doctor -c "$CONF" >"$T/doctor.out" 2>&1
	check_grep "no guard" "^fail +guard: nothing pinned at .* -> start it" "$T/doctor.out"
}

post()
{
	:
}

dg_main
