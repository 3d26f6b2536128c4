#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that the stub answers dig and kdig with the zone's exact data over
# a strict DoT upstream (A, AAAA, a truncated TXT that dig gets whole over
# TCP, NXDOMAIN with the SOA), that a repeated query is served from the
# cache with a lower TTL, and that the wire carries port 853 only.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

pre()
{
	dot_world host dig kdig
	unbound_dot_start "$NS_OUT" "$OUT4" "$T/ca/dns.test"
	conf_dot_strict "$OUT4#dns.test"
	cap_start out "$NS_OUT" veth-o
	dg_run_ready "$NS_HOST"
}

# q TOOL ARGS...: dig or kdig at the stub, bounded, output on stdout.
q()
{
	local tool=$1
	shift
	if [ "$tool" = dig ]; then
		timeout 10 ip netns exec "$NS_HOST" dig +tries=1 +time=4 @127.0.0.53 "$@"
	else
		timeout 10 ip netns exec "$NS_HOST" kdig +retry=0 +timeout=4 @127.0.0.53 "$@"
	fi
}

# big_rrset: the 8 strings dot.sh puts in big.test TXT ("I", 199 zeros,
# "I" for I in 0..7), sorted, as txt_strings spells them.
big_rrset()
{
	local i z
	printf -v z '%0199d' 0
	for ((i = 0; i < 8; i++)); do
		echo "big.test. IN TXT \"$i$z$i\""
	done | txt_strings
}

# txt_strings: the big.test TXT strings in dig/kdig answer lines on
# stdin, sorted, on one line, each run of 199 zeros shown as "(0x199)".
txt_strings()
{
	awk '$1 == "big.test." && $NF ~ /^"/ { gsub(/"/, "", $NF); print $NF }' |
		sort | sed 's/0\{199\}/(0x199)/' | tr '\n' ' '
}

test()
{
	local out ans0 miss0 hit0 ttl1 ttl2 tcp0 trunc0 t0 elapsed

	log "A and AAAA, dig and kdig"
	check_eq "dig a.test A" "a.test. 300 IN A $DOT_A" \
		"$(q dig +noall +answer a.test A | tr -s ' \t' ' ')"
	# kdig asks second: the cache may have aged the TTL by a second.
	check_eq "kdig a.test A" "a.test. IN A $DOT_A" \
		"$(q kdig +noall +answer a.test A | awk '$2 >= 298 && $2 <= 300 { print $1, $3, $4, $5 }')"
	check_eq "dig aaaa.test AAAA" "aaaa.test. 300 IN AAAA $DOT_AAAA" \
		"$(q dig +noall +answer aaaa.test AAAA | tr -s ' \t' ' ')"
	check_eq "kdig aaaa.test AAAA" "aaaa.test. IN AAAA $DOT_AAAA" \
		"$(q kdig +noall +answer aaaa.test AAAA | awk '$2 >= 298 && $2 <= 300 { print $1, $3, $4, $5 }')"

	log "big.test TXT: TC over UDP, whole over TCP"
	tcp0=$(dstat queries_tcp)
	trunc0=$(dstat truncated)
	out=$(q dig +ignore big.test TXT)
	check_eq "UDP answer has TC" 1 "$(grep -c 'flags:.* tc[ ;]' <<<"$out")"
	out=$(q dig +noall +answer big.test TXT)
	check_eq "big.test TXT RRset after dig's TCP retry" "$(big_rrset)" \
		"$(txt_strings <<<"$out")"
	check_eq "truncated UDP answers (+ignore and dig's first try)" \
		$((trunc0 + 2)) "$(dstat truncated)"
	check_eq "TCP queries at the stub (dig's retry)" $((tcp0 + 1)) \
		"$(dstat queries_tcp)"
	check_eq "kdig +tcp big.test TXT RRset" "$(big_rrset)" \
		"$(q kdig +tcp +noall +answer big.test TXT | txt_strings)"

	log "NXDOMAIN with the SOA"
	out=$(q dig nx.test A)
	check_eq "nx.test status" "status: NXDOMAIN" \
		"$(grep -o 'status: [A-Z]*' <<<"$out")"
	check_eq "nx.test authority" "test. SOA" \
		"$(awk '/AUTHORITY SECTION/ { getline; print $1, $4 }' <<<"$out")"
	check_eq "kdig nx.test status" "NXDOMAIN" \
		"$(q kdig nx.test A | grep -o 'status: [A-Z]*' | cut -d' ' -f2)"

	log "a repeated query comes from the cache with a lower TTL"
	ans0=$(dstat answers 0)
	miss0=$(dstat cache_misses)
	hit0=$(dstat cache_hits)
	# The cache counts whole seconds since it stored the answer, so the
	# TTL may drop by at most the whole seconds that passed between the
	# first query's start and the second's end, rounded up: measured,
	# not assumed (a slow machine, ASan, takes longer between them).
	t0=$(date +%s%N)
	ttl1=$(q dig +noall +answer test. SOA | awk '{ print $2 }')
	check_eq "first test. SOA: one cache miss" $((miss0 + 1)) "$(dstat cache_misses)"
	check_eq "first test. SOA: one upstream answer" $((ans0 + 1)) "$(dstat answers 0)"
	sleep 1.1
	ttl2=$(q dig +noall +answer test. SOA | awk '{ print $2 }')
	elapsed=$(( ($(date +%s%N) - t0 + 999999999) / 1000000000 ))
	check_eq "repeat: cache_hits" $((hit0 + 1)) "$(dstat cache_hits)"
	check_eq "repeat: cache_misses unchanged" $((miss0 + 1)) "$(dstat cache_misses)"
	check_eq "repeat: upstream answers unchanged" $((ans0 + 1)) "$(dstat answers 0)"
	check_eq "first TTL (the zone's)" 3600 "$ttl1"
	check_eq "cached TTL lower by 1..$elapsed s after ${elapsed} s (got $ttl2)" 1 \
		"$(( ttl2 < ttl1 && ttl1 - ttl2 <= elapsed ))"
}

post()
{
	check_wire_clean
	check_idle_cpu
	check_ge "packets to $OUT4:853" 1 "$(cap_count out tcp dst port 853 and dst host "$OUT4")"
	check_eq "upstream state" up "$(dstat state 0)"
	check_ge "handshakes_full" 1 "$(dstat handshakes_full 0)"
	check_eq "servfail" 0 "$(dstat servfail)"
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

dg_main
