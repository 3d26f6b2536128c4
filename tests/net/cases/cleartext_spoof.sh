#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that the daemon's cleartext queries (DNSOverTLS=no) are hard to
# spoof, as seen on the wire and by a spoofer:
#  - against a real unbound, 100 queries leave from (nearly) 100 distinct
#    source ports, with IDs and ports that do not count up, every name in
#    random mixed case (0x20); each query's socket passes the guard by
#    cookie and is forgotten after; the client gets its own spelling;
#  - against a fake upstream: an answer with the question lowercased is
#    never taken (SERVFAIL), one that echoes the case is; spoofs racing
#    the real answer (lowercased, another ID, another source address)
#    lose to it.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

N=100
# 44 letters: all in one case by chance has odds 2^-43.
LONG=abcdefghijklmnopqrst.uvwxyzabcdefghijklmn.test
ASKED=AbCdEfGhIjKlMnOpQrSt.UvWxYzAbCdEfGhIjKlMn.TeSt
FAKE4=198.51.100.54
SPOOF4=198.51.100.55
# 26 letters after the mode label: a 0x20 spelling all lowercase (which
# the "lower" spoof would then match) has odds 2^-31 per attempt.
TAIL=abcdefghijklmnopqrstuvwxyz.test

pre()
{
	dot_world host dig bpftool
	unbound_dot_start "$NS_OUT" "$OUT4" "$T/ca/dns.test" \
		"local-data: \"$LONG. 300 IN A $DOT_A\""
	addr_add "$NS_OUT" veth-o "$FAKE4/24"
	addr_add "$NS_OUT" veth-o "$SPOOF4/24"
}

# conf_plain DNS: DNSOverTLS=no to DNS, no cache (every query goes out).
conf_plain()
{
	conf_write <<CONF
[Resolve]
DNS=$1
FallbackDNS=
DNSOverTLS=no
Cache=no
[Guard]
Mode=drop
Interface=veth-h
PinPath=$PIN
CONF
}

# dmap_read: the daemon's pinned counters into $T/dmap.json, read through
# the map's BTF (status does not show the cleartext_* counters yet).
dmap_read()
{
	ns_exec "$NS_HOST" bpftool -j map dump pinned "$PIN/dg_daemon" >"$T/dmap.json" 2>&1
}

# dmap FIELD: a field of the last dmap_read.
dmap()
{
	json_get "$T/dmap.json" "d[0][\"formatted\"][\"value\"][\"$1\"]"
}

# own_socks: cookies on the guard's allow-list now.
own_socks()
{
	ns_exec "$NS_HOST" bpftool -j map dump pinned "$PIN/dg_own_socks" 2>/dev/null |
		"$PY" -c 'import json, sys; print(len(json.load(sys.stdin)))' 2>/dev/null ||
		echo "unreadable"
}

# wire_stats: from the "out" capture, the daemon's queries to $OUT4:
# "queries ports ids port_steps id_steps mixed spellings" (steps: between
# consecutive queries, ports within +-2, IDs +1).
wire_stats()
{
	tcpdump -r "$T/out.pcap" -n "udp and dst host $OUT4 and dst port 53" 2>/dev/null |
		"$PY" -c '
import re, sys
rx = re.compile(r"IP \S+\.(\d+) > \S+\.53: (\d+)\+? .*?A\? (\S+) ")
q = [(int(m[1]), int(m[2]), m[3]) for m in map(rx.search, sys.stdin) if m]
ports = [p for p, _, _ in q]
ids = [i for _, i, _ in q]
names = [n for _, _, n in q]
mixed = sum(1 for n in names if n.lower() != n and n.upper() != n)
print(len(q), len(set(ports)), len(set(ids)),
      sum(1 for a, b in zip(ports, ports[1:]) if abs(a - b) <= 2),
      sum(1 for a, b in zip(ids, ids[1:]) if b == (a + 1) % 65536),
      mixed, len(set(names)))'
}

# dig_status NAME: "STATUS ADDRS" of one A query through the stub (ADDRS
# "-" when none); dig's whole output is kept in $T/dig.NAME.
dig_status()
{
	ns_exec "$NS_HOST" dig +tries=1 +time=8 @127.0.0.53 "$1" A >"$T/dig.$1"
	"$PY" -c 'import re, sys
t = open(sys.argv[1]).read()
s = re.search(r"status: (\w+)", t)
a = re.findall(r"^[^;].*\sIN\s+A\s+(\S+)$", t, re.M)
print((s[1] if s else "none") + " " + (",".join(a) or "-"))' "$T/dig.$1"
}

# wait_fake: until fake_dns.py says it listens (bounded ~15 s: python
# can take seconds to start on a busy machine).
wait_fake()
{
	local i
	for ((i = 0; i < 150; i++)); do
		grep -q '^ready' "$T/fake.log" 2>/dev/null && return 0
		kill -0 "$FAKE_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$T/fake.log"
	die "fake_dns.py did not start"
}

test()
{
	local i ok stats ans

	log "DNSOverTLS=no against unbound: $N queries as seen on the wire"
	conf_plain "$OUT4#dns.test"
	dg_run_ready "$NS_HOST"
	cap_start out "$NS_OUT" veth-o
	for ((i = 0; i < N; i++)); do
		echo "$LONG"
	done >"$T/names"
	# One dig for all, one query after another.
	ok=$(ns_exec "$NS_HOST" dig +short +tries=1 +time=3 @127.0.0.53 -f "$T/names" |
		grep -cxF "$DOT_A")
	cap_stop out
	check_eq "answers from unbound" "$N" "$ok"
	read -r -a stats <<<"$(wire_stats)"
	check_eq "queries on the wire" "$N" "${stats[0]:-none}"
	# Each socket draws its port afresh, so two of 100 share one by
	# chance now and then (0.18 pairs expected); 6 pairs: odds ~1e-6.
	check_ge "distinct source ports" $((N - 5)) "${stats[1]:-none}"
	check_ge "distinct IDs" $((N - 5)) "${stats[2]:-none}"
	check_eq "port steps within +-2 under 5" 1 "$(( ${stats[3]:-99} < 5 ))"
	check_eq "ID steps of +1 under 5" 1 "$(( ${stats[4]:-99} < 5 ))"
	check_eq "names in mixed case" "$N" "${stats[5]:-none}"
	check_ge "distinct spellings" $((N - 5)) "${stats[6]:-none}"
	check_ge "own-socket passes (one socket per query)" "$N" \
		"$(dg_count own-socket pass)"
	check_eq "our own queries dropped by the guard" 0 "$(dg_count dns-udp4 drop)"
	check_eq "cookies left on the allow-list" 0 "$(own_socks)"
	dmap_read
	check_eq "cleartext sockets open" 0 "$(dmap cleartext_sockets)"
	check_eq "answers dropped as spoofs (bad id)" 0 "$(dmap cleartext_bad_id)"
	check_eq "answers dropped as spoofs (bad case)" 0 "$(dmap cleartext_bad_case)"

	log "the client gets its own spelling back"
	ns_exec "$NS_HOST" dig +tries=1 +time=3 @127.0.0.53 "$ASKED" A >"$T/asked.txt"
	check_grep "question as asked" "^;$ASKED\.[[:space:]]+IN[[:space:]]+A" "$T/asked.txt"
	check_grep "answer owner as asked" "^$ASKED\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+A[[:space:]]+$DOT_A" \
		"$T/asked.txt"
	kill "$DG_PID"
	wait "$DG_PID" 2>/dev/null

	log "a fake upstream and a spoofer beside it"
	ns_exec "$NS_OUT" "$PY" "$NET_DIR/fake_dns.py" "$FAKE4" "$SPOOF4" 300 \
		>"$T/fake.log" 2>&1 </dev/null &
	FAKE_PID=$!
	defer kill_pid "$FAKE_PID"
	wait_fake
	conf_plain "$FAKE4"
	dg_run_ready "$NS_HOST"
	cap_start host "$NS_HOST" veth-h

	ans=$(dig_status "lower.$TAIL")
	check_eq "question lowercased: never taken" "SERVFAIL -" "$ans"
	ans=$(dig_status "echo.$TAIL")
	check_eq "question echoed: taken" "NOERROR 192.0.2.77" "$ans"
	ans=$(dig_status "race.$TAIL")
	check_eq "spoofs racing the real answer lose" "NOERROR 192.0.2.77" "$ans"
	ans=$(dig_status "wrongsrc.$TAIL")
	check_eq "a spoof from another address loses" "NOERROR 192.0.2.77" "$ans"
	cap_stop host
	dmap_read
	# lower: one per attempt (2 or 3 in the 3 s deadline); race: one.
	check_ge "answers dropped for their case" 2 "$(dmap cleartext_bad_case)"
	check_eq "answers dropped for their ID (race)" 1 "$(dmap cleartext_bad_id)"
	check_eq "answers dropped as not ours" 0 "$(dmap cleartext_bad_answer)"
	check_ge "that spoof reached the host" 1 \
		"$(cap_count host "udp and src host $SPOOF4 and src port 53")"
	check_ge "the fake saw our queries" 4 "$(grep -c '^query ' "$T/fake.log")"
	check_eq "every query went out in mixed case" 0 \
		"$(awk '$1 == "query" && ($4 == tolower($4) || $4 == toupper($4))' "$T/fake.log" | wc -l)"
}

post()
{
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

dg_main
