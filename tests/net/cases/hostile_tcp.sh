#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that one TCP client cannot make the daemon hold its answers without
# bound: it pipelines 20,000 queries for a 16 KB TXT answer to the stub
# and reads nothing. The daemon stops reading it instead of piling up
# answers (about 330 MB of them): its RSS stays under its start + 16 MiB,
# and other clients are answered over UDP and TCP meanwhile. When the
# client starts reading it gets every answer it is owed, one per query
# ID, none lost.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

N=20000
RSS_SLACK_KB=$((16 * 1024))

pre()
{
	local i s line
	local -a fat=()
	dot_world host dig
	# 16 TXT records of four 250-byte strings: a 16.6 KB answer.
	printf -v s '%0250d' 0
	for ((i = 0; i < 16; i++)); do
		line="local-data: 'fat.test. 300 IN TXT \"$i$s\" \"$s\" \"$s\" \"$s\"'"
		fat+=("$line")
	done
	unbound_dot_start "$NS_OUT" "$OUT4" "$T/ca/dns.test" "${fat[@]}"
	conf_dot_strict "$OUT4#dns.test"
	cap_start out "$NS_OUT" veth-o
	dg_run_ready "$NS_HOST"
}

# rss_kb: the daemon's resident set now, in KiB.
rss_kb()
{
	awk '/^VmRSS:/ { print $2 }' "/proc/$DG_PID/status"
}

# sent: the hostile client's latest "sent N".
sent()
{
	awk '$1 == "sent" { n = $2 } END { print n + 0 }' "$T/hostile.out"
}

# hdig ARGS...: dig at the stub from the host namespace, bounded.
hdig()
{
	timeout 10 ip netns exec "$NS_HOST" dig +tries=1 +time=4 @127.0.0.53 "$@" 2>&1
}

test()
{
	local rss0 rss max=0 i prev=-1 now stable=0 hpid out size

	log "warm-up: fat.test TXT is cached, and how big the answer is"
	out=$(hdig +tcp fat.test TXT)
	check_eq "fat.test TXT records over TCP" 16 "$(grep -c '^fat.test.*TXT' <<<"$out")"
	size=$(sed -n 's/^;; MSG SIZE  rcvd: \([0-9]*\)$/\1/p' <<<"$out")
	check_ge "answer size (bytes)" 16000 "$size"
	rss0=$(rss_kb)
	log "daemon RSS at the start: $rss0 KiB"

	log "a client pipelines $N queries for it and reads nothing"
	ip netns exec "$NS_HOST" "$PY" "$NET_DIR/hostile.py" pipeline 127.0.0.53 \
		fat.test TXT "$N" "$T/go" 90 >"$T/hostile.out" 2>&1 &
	hpid=$!
	defer kill_pid "$hpid"
	# Until the client can write no more (held back) or wrote them
	# all: its count stands still for a second. Bounded (~30 s).
	for ((i = 0; i < 150 && stable < 5; i++)); do
		sleep 0.2
		now=$(sent)
		rss=$(rss_kb)
		((rss > max)) && max=$rss
		if [ "$now" = "$prev" ] && [ "$now" -gt 0 ]; then
			stable=$((stable + 1))
		else
			stable=0
		fi
		prev=$now
	done
	log "the client wrote $(sent) of $N queries before being held back"
	# And a second more of watching while it is held.
	for ((i = 0; i < 5; i++)); do
		sleep 0.2
		rss=$(rss_kb)
		((rss > max)) && max=$rss
	done
	log "daemon RSS at most $max KiB while it was held"
	check_eq "daemon RSS stays under start + $RSS_SLACK_KB KiB (start $rss0, max $max)" 1 \
		"$((max < rss0 + RSS_SLACK_KB))"

	log "other clients are answered meanwhile"
	check_eq "dig a.test (UDP)" "$DOT_A" "$(hdig +short a.test)"
	check_eq "dig +tcp aaaa.test" "$DOT_AAAA" "$(hdig +tcp +short aaaa.test AAAA)"
	check_eq "dig +tcp fat.test TXT records" 16 \
		"$(hdig +tcp fat.test TXT | grep -c '^fat.test.*TXT')"

	log "the client reads: every answer it is owed arrives"
	touch "$T/go"
	for ((i = 0; i < 600; i++)); do
		grep -q '^done' "$T/hostile.out" && break
		kill -0 "$hpid" 2>/dev/null || break
		sleep 0.1
	done
	check_grep "$N answers, one per query ID, all NOERROR, the connection open" \
		"^done sent $N answers $N unique $N noerror $N eof 0$" "$T/hostile.out"
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

post()
{
	check_wire_clean
}

dg_main
