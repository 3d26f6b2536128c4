#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that a DoT upstream whose answers do not parse (an RDLENGTH past
# the end) or answer another question is never believed: with DNS=bad1
# bad2 good the client gets the good upstream's answer and each bad one
# is counted under malformed-answer; with the bad ones alone the client
# gets SERVFAIL within 4 s.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

UP_RDLEN=198.51.100.55	# bad_dot.py rdlen
UP_QUEST=198.51.100.56	# bad_dot.py question
UP_GOOD=$OUT4

# bad_dot_start ADDR MODE: tests/net/bad_dot.py on ADDR:853 in the out
# namespace with the dns.test certificate, up to 60 s.
bad_dot_start()
{
	local pid
	addr_add "$NS_OUT" veth-o "$1/24"
	ip netns exec "$NS_OUT" "$PY" "$NET_DIR/bad_dot.py" "$1" 853 \
		"$T/ca/dns.test.pem" "$T/ca/dns.test.key" "$2" 60 \
		>"$T/bad-$2.out" 2>&1 &
	pid=$!
	defer kill_pid "$pid"
	wait_port "$NS_OUT" "$1" 853 "$pid"
}

pre()
{
	dot_world host dig
	unbound_dot_start "$NS_OUT" "$UP_GOOD" "$T/ca/dns.test"
	bad_dot_start "$UP_RDLEN" rdlen
	bad_dot_start "$UP_QUEST" question
	cap_start out "$NS_OUT" veth-o
}

test()
{
	local t0 ms st

	log "DNS=rdlen question good: the good answer wins"
	conf_dot_strict "$UP_RDLEN#dns.test $UP_QUEST#dns.test $UP_GOOD#dns.test" Cache=no
	dg_run_ready "$NS_HOST"
	check_eq "a.test" "$DOT_A" \
		"$(ns_exec "$NS_HOST" dig +short +tries=1 +time=4 @127.0.0.53 a.test)"
	check_eq "aaaa.test" "$DOT_AAAA" \
		"$(ns_exec "$NS_HOST" dig +short +tries=1 +time=4 @127.0.0.53 aaaa.test AAAA)"
	check_eq "rdlen upstream: malformed-answer" 2 "$(dstat failures.malformed-answer 0)"
	check_eq "question upstream: malformed-answer" 2 "$(dstat failures.malformed-answer 1)"
	check_eq "rdlen upstream: answers accepted" 0 "$(dstat answers 0)"
	check_eq "question upstream: answers accepted" 0 "$(dstat answers 1)"
	check_eq "good upstream: answers" 2 "$(dstat answers 2)"
	check_eq "servfail" 0 "$(dstat servfail)"
	check_eq "broken answers bad_dot.py sent (rdlen)" 2 \
		"$(grep -c '^sent rdlen' "$T/bad-rdlen.out")"
	check_eq "broken answers bad_dot.py sent (question)" 2 \
		"$(grep -c '^sent question' "$T/bad-question.out")"
	kill_pid "$DG_PID"

	log "DNS=rdlen question alone: SERVFAIL"
	conf_dot_strict "$UP_RDLEN#dns.test $UP_QUEST#dns.test" Cache=no
	dg_run_ready "$NS_HOST"
	t0=$(now_ms)
	st=$(ns_exec "$NS_HOST" dig +tries=1 +time=6 @127.0.0.53 a.test |
		grep -o 'status: [A-Z]*')
	ms=$(($(now_ms) - t0))
	check_eq "answer" "status: SERVFAIL" "$st"
	check_eq "SERVFAIL within 4 s (took $ms ms)" 1 "$((ms < 4000))"
	check_ge "rdlen upstream: malformed-answer" 1 "$(dstat failures.malformed-answer 0)"
	check_ge "question upstream: malformed-answer" 1 "$(dstat failures.malformed-answer 1)"
	check_eq "answers accepted" 0 "$(($(dstat answers 0) + $(dstat answers 1)))"
	check_eq "servfail" 1 "$(dstat servfail)"
}

post()
{
	check_wire_clean
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

dg_main
