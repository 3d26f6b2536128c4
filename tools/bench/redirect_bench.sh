#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# `make bench-redirect`: queries sent past the stub, answered through the
# guard (issue 4). One run, one unbound DoT upstream in its own netns, the
# same dnsperf load of cache-missing names on three paths:
#
#   redirect   dnsperf -> 198.51.100.9:53, a "rogue" server routed out the
#            uplink; dotguard Mode=redirect on the uplink catches it at tc
#            egress, through the capture veth into AF_XDP, resolves it over
#            DoT and answers as the rogue (nothing listens at the rogue)
#   stub     the same dotguard, dnsperf -> 127.0.0.53:53
#   dnat     a guard built from peers: nftables DNAT of UDP/53 and TCP/53
#            in the OUTPUT hook to Stubby on 127.0.0.54 (route_localnet=1),
#            strict DoT to the same upstream; dnsperf -> 198.51.100.9:53
#
# The world: ns "up" (unbound, 203.0.113.53 on a bridge), ns "gh" (the
# guarded host: uplink 203.0.113.1, dotguard, dnsperf) and ns "rh" (the
# reference host: uplink 203.0.113.2, nftables, Stubby, dnsperf); both hosts
# route 198.51.100.0/24 via the upstream's address, so a query that escaped
# its guard would cross its uplink (nobody there answers it). Names are
# unique per run. Only loopback and TEST-NET addresses are used; every loop
# is bounded; every process, namespace, mount and rule is torn down from
# one trap EXIT.
#
# Per path: a short warm-up (TLS connections open), latency rounds at a
# fixed rate (dnsperf -Q, -v per-query latencies -> avg/p50/p99 over all of
# them), throughput rounds (dnsperf -q outstanding, fixed time -> median
# QPS) during which the serving process's CPU time is read: over the
# queries answered, its CPU per answered query. Rounds interleave the
# paths, the order rotating.
# Before all that, cold starts: dotguard and Stubby (behind its DNAT
# rules, already in place) started afresh COLD_ROUNDS times, the order
# rotating, while a client asks a new name every COLD_INTERVAL ms; the
# time from the exec to the first answer on each path (cold_start.py;
# dotguard's redirect and stub paths from the same starts). dotguard's
# includes attaching the guard (the capture pair, AF_XDP sockets; detached
# again between rounds) and its TLS handshake to the upstream; Stubby's
# its first TLS handshake (made at the first query).
# Every query name is unique in the whole run (q%08d.bench, a fresh range
# per path and round, dnsperf -n 1 never wraps), so no cache ever answers;
# the upstream answers every name under bench. from local data.
#
# Leak and accounting checks on the redirect path: tcpdump on the upstream's
# bridge counts packets to or from the rogue address (and any port-53
# packet) from each host, and those that fell inside the redirect path's
# dnsperf runs; dotguard's tc counter (dns-udp4, redirect, tc-egress) must
# grow by exactly the queries dnsperf sent there, and the daemon's redirect
# counters (status --json -> daemon) are shown beside them.
#
# Output ($OUTDIR, default .output/bench-redirect): results.txt (the table,
# the issue-4 targets and the checks), results.json, results.csv,
# latency.png (gnuplot), and the raw dnsperf outputs, status snapshots,
# the capture, configs and logs. A benchmark, not a test: a missed target
# or a failed check is reported and the script still exits 0; it exits 1
# only when the world itself cannot be built.
#
# Environment (defaults in brackets):
#   DOTGUARD       dotguard binary [repo ./dotguard]
#   OUTDIR         results directory [repo .output/bench-redirect]
#   PATHS          subset/order [redirect stub dnat]
#   DURATION       one throughput round, s [5]
#   ROUNDS         throughput rounds, interleaved across paths [5]
#   LAT_DURATION   one latency round, s [5]
#   LAT_ROUNDS     latency rounds, interleaved across paths [2]
#   RATE           latency phase rate, QPS [2000]
#   INFLIGHT       dnsperf -q in the throughput phase [1000]
#   CLIENTS        dnsperf -c (sockets) [4]
#   WARMUP         warm-up, s [1]
#   QTIMEOUT       dnsperf -t, s [2]
#   UP_THREADS     upstream unbound num-threads [1]
#   MAX_NAMES      names per throughput round [1000000]
#   DG_VERBOSE     -v flags for `dotguard run` [1]
#   QUICKACK       1: the hosts ACK the upstream at once (see lib.sh
#                  quickack_route) [1]
#   COLD_ROUNDS    cold starts per server, order rotating [5]
#   COLD_INTERVAL  ms between the cold-start client's queries [2]
#   COLD_TIMEOUT   s a cold start may take to answer [10]

set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BENCH=bench-redirect
UP_PLAIN=0		# DoT only: no path sends plain DNS to the upstream
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

DOTGUARD=${DOTGUARD:-$REPO/dotguard}
OUTDIR=${OUTDIR:-$REPO/.output/bench-redirect}
PATHS=${PATHS:-redirect stub dnat}
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-5}
LAT_DURATION=${LAT_DURATION:-5}
LAT_ROUNDS=${LAT_ROUNDS:-2}
RATE=${RATE:-2000}
INFLIGHT=${INFLIGHT:-1000}
CLIENTS=${CLIENTS:-4}
WARMUP=${WARMUP:-1}
QTIMEOUT=${QTIMEOUT:-2}
UP_THREADS=${UP_THREADS:-1}
MAX_NAMES=${MAX_NAMES:-1000000}
DG_VERBOSE=${DG_VERBOSE:-1}
QUICKACK=${QUICKACK:-1}
COLD_ROUNDS=${COLD_ROUNDS:-5}
COLD_INTERVAL=${COLD_INTERVAL:-2}
COLD_TIMEOUT=${COLD_TIMEOUT:-10}
TARGET_FMT='  %-50s %-30s %s\n'

# lib.sh: UP4, DG_ADDR, STUBBY_ADDR, TLS_NAME, ANSWER.
GH4=203.0.113.1
RH4=203.0.113.2
ROGUE4=198.51.100.9

NS_UP=bbup$$
NS_GH=bbgh$$
NS_RH=bbrh$$
CAP_PID=""		# the uplink capture
DNAT_RULES=0		# 1: the reference host's DNAT rules are in place
# Status snapshots before and after the rounds.
S0="" S1=""

# ---- the world ----------------------------------------------------------------

# host_ns NS IF ADDR BRPORT: a host namespace with its uplink IF (ADDR/24)
# on the upstream's bridge, and the rogue's prefix routed via the upstream.
host_ns()
{
	local n=$1 dev=$2 addr=$3 port=$4
	ns_new "$n"
	ip -n "$n" link add "$dev" type veth peer name "$port" netns "$NS_UP" ||
		die "veth $dev"
	defer ip -n "$n" link del "$dev"
	ip -n "$NS_UP" link set "$port" master br0 || die "bridge port $port"
	ip -n "$NS_UP" link set "$port" up
	ip -n "$n" addr add "$addr/24" dev "$dev" || die "addr $addr"
	ip -n "$n" link set "$dev" up
	quickack_route "$n" "$dev" "$addr"
	ip -n "$n" route add 198.51.100.0/24 via "$UP4" dev "$dev" ||
		die "route to the rogue's prefix in $n"
}

world()
{
	local i
	world_tmp dgbbench
	ns_new "$NS_UP"
	ip -n "$NS_UP" link add br0 type bridge || die "bridge"
	ip -n "$NS_UP" addr add "$UP4/24" dev br0 || die "addr $UP4"
	ip -n "$NS_UP" link set br0 up
	host_ns "$NS_GH" veth-g "$GH4" veth-ug
	host_ns "$NS_RH" veth-r "$RH4" veth-ur
	# The bridge forwards once its ports leave the listening state.
	for ((i = 0; i < 50; i++)); do
		ip netns exec "$NS_GH" ping -c 1 -W 1 "$UP4" >/dev/null 2>&1 &&
			ip netns exec "$NS_RH" ping -c 1 -W 1 "$UP4" >/dev/null 2>&1 &&
			break
		sleep 0.2
	done
	bpffs_mount
}

# The wire: every packet on the upstream's bridge to or from the rogue, or
# to or from port 53 (no path may put one there), with its time.
capture_start()
{
	local i
	ip netns exec "$NS_UP" tcpdump -i br0 -n -U --immediate-mode -s 128 \
		-w "$OUTDIR/uplinks.pcap" \
		"host $ROGUE4 or udp port 53 or tcp port 53" 2>"$T/cap.err" &
	CAP_PID=$!
	defer kill_pid "$CAP_PID" INT
	for ((i = 0; i < 50; i++)); do
		grep -q 'listening on' "$T/cap.err" 2>/dev/null && return 0
		kill -0 "$CAP_PID" 2>/dev/null || break
		sleep 0.1
	done
	die "tcpdump on br0 ($NS_UP) not listening: $(tail -n 2 "$T/cap.err")"
}

# ---- the guards -----------------------------------------------------------------

# Each start_* starts one guard (lib.sh: dotguard_start, stubby_start),
# returns 0 once it answers a query sent to the rogue through the
# upstream; on failure it sets WHY.

start_dotguard()
{
	dotguard_start "$NS_GH" "$DG_VERBOSE" redirect veth-g \
		FallbackDNS= DNSOverTLS=yes || return 1
	if ! probe "$NS_GH" "$ROGUE4"; then
		WHY="ready, but dig @$ROGUE4 (redirected) got no answer"
		return 1
	fi
}

# dnat_rules: the reference host's nftables DNAT to Stubby, once; 1 with
# WHY if they cannot be put in place.
dnat_rules()
{
	local rules=$OUTDIR/dnat.nft
	[ "$DNAT_RULES" = 0 ] || return 0
	if ! command -v nft >/dev/null 2>&1; then
		WHY="nft missing (make bench-deps)"
		return 1
	fi
	# Every UDP/53 and TCP/53 query this host sends, to any server, goes
	# to Stubby instead. DNAT to a loopback address from a packet routed
	# with the uplink's source address needs route_localnet.
	cat >"$rules" <<EOF
table ip dgbench {
	chain output {
		type nat hook output priority -100; policy accept;
		udp dport 53 counter dnat to $STUBBY_ADDR:53
		tcp dport 53 counter dnat to $STUBBY_ADDR:53
	}
}
EOF
	ip netns exec "$NS_RH" sysctl -qw net.ipv4.conf.all.route_localnet=1 ||
		{ WHY="sysctl route_localnet"; return 1; }
	if ! ip netns exec "$NS_RH" nft -f "$rules" 2>"$T/nft.err"; then
		WHY="nft -f: $(tail -n 2 "$T/nft.err" | tr '\n' ' ')"
		return 1
	fi
	defer ip netns exec "$NS_RH" nft delete table ip dgbench
	DNAT_RULES=1
}

start_dnat()
{
	stubby_start "$NS_RH" || return 1
	dnat_rules || return 1
	if ! probe "$NS_RH" "$ROGUE4"; then
		WHY="dig @$ROGUE4 (DNAT to Stubby) got no answer"
		return 1
	fi
}

# ---- cold starts ----------------------------------------------------------------

# cold_dotguard ROUND: one cold start of dotguard (its run's config),
# timed on each of its paths being measured.
cold_dotguard()
{
	local -a at=()
	[[ " $PATHS " = *" redirect "* ]] && at+=("redirect=$ROGUE4")
	[[ " $PATHS " = *" stub "* ]] && at+=("stub=$DG_ADDR")
	dotguard_cold "$NS_GH" "$DG_VERBOSE" "cs-dotguard-$1" "${at[@]}"
}

# cold_dnat ROUND: one cold start of Stubby behind the DNAT rules.
cold_dnat()
{
	stubby_cold "$NS_RH" "cs-dnat-$1" "dnat=$ROGUE4"
}

# cold_phase: the cold starts, before the capture: until dotguard's guard
# is attached, the client's queries to the rogue leave by the uplink, as
# from any host whose guard has not started yet.
cold_phase()
{
	local -a keys=()
	if [[ " $PATHS " = *" redirect "* ]] || [[ " $PATHS " = *" stub "* ]]; then
		WHY=""
		if dotguard_conf redirect veth-g FallbackDNS= DNSOverTLS=yes; then
			keys+=(dotguard)
		else
			say "dotguard: no cold start: $WHY"
		fi
	fi
	if [[ " $PATHS " = *" dnat "* ]]; then
		WHY=""
		if stubby_conf && dnat_rules; then
			keys+=(dnat)
		else
			say "dnat: no cold start: $WHY"
		fi
	fi
	if [ "${#keys[@]}" -gt 0 ] && [ "$COLD_ROUNDS" -gt 0 ]; then
		cold_rounds "$COLD_ROUNDS" "${keys[@]}"
	fi
}

# ---- load -----------------------------------------------------------------------

# alive PATH: the path's serving process still runs (else a note).
alive()
{
	local p=$1 pid=${R_PID[$1]:-}
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null && return 0
	R_NOTE[$p]="its server (pid $pid) exited"
	R_STATUS[$p]=failed
	return 1
}

# bench_hook EVENT NAME ROUND: after each measured run, the path's server
# must still run.
bench_hook()
{
	case $1 in
	latency-end | throughput-end) alive "$2" ;;
	esac
}

# ---- the checks -----------------------------------------------------------------

# status_snap FILE: dotguard's `status --json` (the pinned maps), and in
# FILE.link the capture veth's far end counters (`ip -s -j link`).
status_snap()
{
	timeout 20 ip netns exec "$NS_GH" "$DOTGUARD" status --json -c "$CONF" \
		>"$1" 2>"$1.err"
	ip -n "$NS_GH" -s -j link show dev dg-cap-xsk >"$1.link" 2>&1
}

# xdp_rx_dropped FILE: the RX "dropped" count of the capture veth's far end
# (frames its XDP program could not hand to the AF_XDP socket).
xdp_rx_dropped()
{
	python3 -c 'import json, sys
print(int(json.load(open(sys.argv[1]))[0]["stats64"]["rx"]["dropped"]))' \
		"$1.link" 2>/dev/null
}

# jfield FILE WHAT: from a status snapshot: "redirect" (dns-udp4 redirect
# packets at tc-egress) or a key of "daemon"; "" if unreadable.
jfield()
{
	python3 - "$1" "$2" <<'EOF' 2>/dev/null
import json, sys
path, what = sys.argv[1:3]
try:
    with open(path) as f:
        d = json.load(f)
    if what == "redirect":
        print(sum(int(c["packets"]) for c in d["counters"]
                  if c["reason"] == "dns-udp4" and c["action"] == "redirect"
                  and c["hook"] == "tc-egress"))
    else:
        print(int(d["daemon"][what]))
except Exception:
    print("")
EOF
}

# delta WHAT: jfield in the last snapshot minus the first ("?" if
# unknown); WHAT "xdp_rx_dropped": the capture veth's RX drops.
delta()
{
	local a b
	if [ "$1" = xdp_rx_dropped ]; then
		a=$(xdp_rx_dropped "$S0")
		b=$(xdp_rx_dropped "$S1")
	else
		a=$(jfield "$S0" "$1")
		b=$(jfield "$S1" "$1")
	fi
	if num "$a" && num "$b"; then
		echo $((b - a))
	else
		echo "?"
	fi
}

# wire_counts: "ROGUE_IN_WINDOWS ROGUE_GH PORT53_GH PORT53_RH" from the
# capture: packets to or from the rogue inside the redirect path's dnsperf
# runs, and over the whole run per host (to or from the rogue; port 53).
wire_counts()
{
	local pcap=$OUTDIR/uplinks.pcap inw rg pg ph
	inw=$(tcpdump -r "$pcap" -n -tt "host $ROGUE4" 2>/dev/null |
		awk -v wf="$T/redirect.windows" '
		BEGIN { while ((getline l < wf) > 0) { split(l, w, " "); n++; s[n] = w[1]; e[n] = w[2] } }
		{ t = $1 + 0; for (i = 1; i <= n; i++) if (t >= s[i] && t <= e[i]) { c++; break } }
		END { print c + 0 }')
	rg=$(tcpdump -r "$pcap" -n "host $ROGUE4 and host $GH4" 2>/dev/null | wc -l)
	pg=$(tcpdump -r "$pcap" -n "host $GH4 and (udp port 53 or tcp port 53)" 2>/dev/null | wc -l)
	ph=$(tcpdump -r "$pcap" -n "host $RH4 and (udp port 53 or tcp port 53)" 2>/dev/null | wc -l)
	[ -s "$pcap" ] || inw="?" rg="?" pg="?" ph="?"
	[ -s "$T/redirect.windows" ] || inw="?"
	echo "$inw $rg $pg $ph"
}

# ---- report ---------------------------------------------------------------------

label()
{
	case $1 in
	redirect) echo "redirect" ;;
	stub) echo "stub" ;;
	dnat) echo "dnat+stubby" ;;
	*) echo "$1" ;;
	esac
}

# check_line WHAT VALUE OK?: one line of the checks (ok / FAIL / n/a).
check_line()
{
	local v
	case $3 in
	1) v=ok ;;
	0) v=FAIL ;;
	*) v="n/a" ;;
	esac
	printf '  %-50s %-30s %s\n' "$1" "$2" "$v"
}

report()
{
	local p ok r d bq ba btd bbf red xd inw rg pg ph bp_sent
	local txt=$OUTDIR/results.txt csv=$OUTDIR/results.csv
	local fmt='%-12s %8s %6s %7s %7s %7s %7s %10s %10s %5s %6s %7s  %s\n'
	local -a names
	read -r inw rg pg ph <<<"$(wire_counts)"
	red=$(delta redirect)
	bq=$(delta redirected_queries)
	ba=$(delta redirected_answers)
	btd=$(delta redirected_tx_drops)
	bbf=$(delta redirected_bad_frames)
	xd=$(delta xdp_rx_dropped)
	bp_sent=${R_ALLSENT[redirect]:-0}
	{
		report_head redirect paths "Hosts' route"
		echo "  redirect       dnsperf -> $ROGUE4:53 (rogue, via the uplink); dotguard Mode=redirect: tc -> AF_XDP -> DoT"
		echo "  stub         dnsperf -> $DG_ADDR:53, the same dotguard"
		echo "  dnat+stubby  dnsperf -> $ROGUE4:53 in another host; nftables DNAT udp+tcp/53 (output) -> Stubby $STUBBY_ADDR -> DoT"
		echo "bp/x: redirect QPS divided by this path's; +p50_us: p50 over the stub path's"
		echo
		# shellcheck disable=SC2059 # one format for every row
		printf "$fmt" path QPS bp/x avg_us p50_us p99_us +p50_us lost@rate \
			"lost@q$INFLIGHT" cpu% us/q cold_ms status
		for p in $PATHS; do
			if [ "${R_STATUS[$p]:-}" != ok ]; then
				# shellcheck disable=SC2059
				printf "$fmt" "$(label "$p")" - - - - - - - - - - \
					"${R_COLD[$p]:--}" \
					"${R_STATUS[$p]:-skipped}: ${R_NOTE[$p]:-}"
				continue
			fi
			d=-
			if num "${R_P50[$p]:-}" && num "${R_P50[stub]:-}"; then
				d=$((R_P50[$p] - R_P50[stub]))
			fi
			# shellcheck disable=SC2059
			printf "$fmt" "$(label "$p")" "${R_QPS[$p]}" \
				"$(ratio "${R_QPS[redirect]:-}" "${R_QPS[$p]}")" \
				"${R_AVG[$p]:--}" "${R_P50[$p]:--}" "${R_P99[$p]:--}" "$d" \
				"${R_LLOST[$p]:-?}/${R_LSENT[$p]:-?}" \
				"${R_LOST[$p]:-?}/${R_SENT[$p]:-?}" "${R_CPU[$p]:--}" \
				"${R_CPUQ[$p]:--}" "${R_COLD[$p]:--}" \
				"ok${R_NOTE[$p]:+ (${R_NOTE[$p]})}"
		done
		echo
		echo "lost@rate: queries lost / sent in the latency rounds; lost@q$INFLIGHT: in the throughput rounds"
		echo "cpu%: the serving process (dotguard, or Stubby) over the throughput rounds (100 = one core)"
		echo "us/q: its CPU time (utime+stime, all threads) per answered query, median of the throughput rounds"
		echo "cold_ms: from the server's exec to the path's first answer, median of $COLD_ROUNDS cold starts (see below)"
		for p in $PATHS; do
			[ "${R_STATUS[$p]:-}" = ok ] || continue
			printf '  %-12s QPS per round %s; answers %s; UDP rcvbuf drops in its host %s%s\n' \
				"$(label "$p")" "${R_QPSL[$p]% }" "${R_RCODES[$p]:-?}" \
				"${R_DROPS[$p]:-?}" \
				"$([ "${R_EOF[$p]:-}" = yes ] && echo " (ran out of names: raise MAX_NAMES)")"
		done
		echo
		echo "Targets (issue 4):"
		ok=x
		r=$(ratio "${R_QPS[redirect]:-}" "${R_QPS[stub]:-}")
		num "$r" && ok=$(awk -v r="$r" 'BEGIN { print (r >= 0.9) ? 1 : 0 }')
		printf '  %-50s %-30s %s\n' "redirect QPS >= 0.9x the stub path's" "${r}x" "$(verdict "$ok")"
		ok=x
		r=$(ratio "${R_QPS[redirect]:-}" "${R_QPS[dnat]:-}")
		num "$r" && ok=$(awk -v r="$r" 'BEGIN { print (r >= 2.0) ? 1 : 0 }')
		printf '  %-50s %-30s %s\n' "redirect QPS >= 2x the DNAT+Stubby guard's" "${r}x" "$(verdict "$ok")"
		ok=x
		d=-
		if num "${R_P50[redirect]:-}" && num "${R_P50[stub]:-}"; then
			d=$((R_P50[redirect] - R_P50[stub]))
			ok=$((d <= 50 ? 1 : 0))
		fi
		printf '  %-50s %-30s %s\n' "redirect p50 @${RATE} within 50 us of the stub's" \
			"${R_P50[redirect]:--} vs ${R_P50[stub]:--} us (${d} us)" "$(verdict "$ok")"
		echo "Standing targets:"
		cpu_targets redirect dnat
		cpu_targets stub dnat
		cold_target redirect dnat
		cold_target stub dnat
		echo
		read -ra names <<<"$PATHS"
		cpu_details "${names[@]}"
		cold_details "${names[@]}"
		echo
		echo "Checks on the redirect path (over all its dnsperf runs: warm-up, latency, throughput):"
		ok=x
		num "$inw" && ok=$((inw == 0 ? 1 : 0))
		check_line "packets to/from $ROGUE4 on the uplink, redirect runs" "${inw:-?}" "$ok"
		ok=x
		num "$rg" && num "$pg" && ok=$((rg + pg == 0 ? 1 : 0))
		check_line "guarded host, whole run: rogue / port-53 packets" "${rg:-?} / ${pg:-?}" "$ok"
		ok=x
		num "$red" && ok=$((red == bp_sent ? 1 : 0))
		check_line "tc dns-udp4 redirect = queries dnsperf sent" "$red vs $bp_sent" "$ok"
		ok=x
		num "$xd" && ok=$((xd == 0 ? 1 : 0))
		check_line "dg-cap-xsk RX dropped (XDP -> AF_XDP)" "$xd" "$ok"
		ok=x
		num "$bq" && ok=$((bq == bp_sent ? 1 : 0))
		check_line "daemon redirected_queries = queries dnsperf sent" "$bq vs $bp_sent" "$ok"
		ok=x
		num "$ba" && num "$bq" && ok=$((ba == bq ? 1 : 0))
		check_line "daemon redirected_answers = redirected_queries" "$ba vs $bq" "$ok"
		ok=x
		num "$btd" && ok=$((btd == 0 ? 1 : 0))
		check_line "daemon redirected_tx_drops" "$btd" "$ok"
		ok=x
		num "$bbf" && ok=$((bbf == 0 ? 1 : 0))
		check_line "daemon redirected_bad_frames" "$bbf" "$ok"
		ok=x
		[ -n "$DG_PID" ] && ok=$(kill -0 "$DG_PID" 2>/dev/null && echo 1 || echo 0)
		check_line "dotguard still running" "pid ${DG_PID:--}" "$ok"
		ok=x
		num "$ph" && ok=$((ph == 0 ? 1 : 0))
		check_line "reference host, whole run: port-53 packets" "${ph:-?}" "$ok"
		if { num "$xd" && [ "$xd" != 0 ]; } || { num "$btd" && [ "$btd" != 0 ]; }; then
			echo "  Queries lost inside dotguard: see dotguard.log (run -v), status-{before,after}.json"
			echo "  (.link: dg-cap-xsk counters) and xsk.txt."
		fi
		echo
		echo "Setup: dotguard and Stubby single-threaded, strict DoT with verification to one upstream;"
		echo "  Stubby as in bench-dot (kernel-default UDP socket buffer). The reference host has no"
		echo "  dotguard; its guard is nftables DNAT (IPv4) with conntrack, route_localnet=1."
		echo "  Snapshots: status-before.json, status-after.json; capture: uplinks.pcap."
		echo "CPU per answered query counts the serving process only: the tc and XDP programs, the"
		echo "  DNAT and softirq work run in other contexts."
		echo "Cold starts: before the runs and the capture (until dotguard's guard is attached, the"
		echo "  client's queries to $ROGUE4 leave by the uplink), the upstream up and warm. dotguard's"
		echo "  start: config, BPF load, tc guard attached and pinned, capture veth pair, AF_XDP sockets,"
		echo "  stub listeners, and the TLS handshake it opens to the upstream at start (detached between"
		echo "  starts); its redirect and stub times come from the same starts. Stubby's: config, listener"
		echo "  and the TLS handshake it opens at the first query; the DNAT rules are already in place."
	} >"$txt"

	{
		echo "path,status,qps,sent,lost,avg_us,p50_us,p99_us,latency_sent,latency_lost,udp_rcvbuf_drops,cpu_pct,note,$CSV_CPU,$CSV_COLD"
		for p in $PATHS; do
			printf '%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,"%s",%s,%s\n' \
				"$(label "$p")" "${R_STATUS[$p]:-skipped}" "${R_QPS[$p]:-}" \
				"${R_SENT[$p]:-}" "${R_LOST[$p]:-}" "${R_AVG[$p]:-}" \
				"${R_P50[$p]:-}" "${R_P99[$p]:-}" "${R_LSENT[$p]:-}" \
				"${R_LLOST[$p]:-}" "${R_DROPS[$p]:-}" "${R_CPU[$p]:-}" \
				"${R_NOTE[$p]:-}" "$(csv_cpu "$p")" "$(csv_cold "$p")"
		done
	} >"$csv"
	json "$inw" "$rg" "$pg" "$ph" "$red" "$bq" "$ba" "$btd" "$bbf" "$xd"
	cat "$txt"
}

# json_fields PATH: the path's own fields in results.json.
json_fields()
{
	local p=$1
	printf ', "latency_sent": %s, "latency_lost": %s, "latency_rcodes": %s, "udp_rcvbuf_drops": %s' \
		"$(jnum "${R_LSENT[$p]:-}")" "$(jnum "${R_LLOST[$p]:-}")" \
		"$(jstr "${R_LRCODES[$p]:-}")" "$(jnum "${R_DROPS[$p]:-}")"
}

# json INW RG PG PH RED BQ BA BTD BBF XD: results.json.
json()
{
	local -a names
	read -ra names <<<"$PATHS"
	{
		printf '{\n  "config": {"rounds": %s, "round_duration_s": %s, "latency_rounds": %s, "latency_round_s": %s, "rate_qps": %s, "inflight": %s, "clients": %s, "upstream_threads": %s, "quickack": %s, "kernel": %s, "cpus": %s},\n' \
			"$ROUNDS" "$DURATION" "$LAT_ROUNDS" "$LAT_DURATION" "$RATE" \
			"$INFLIGHT" "$CLIENTS" "$UP_THREADS" \
			"$(jbool "$QUICKACK")" \
			"$(jstr "$(uname -r)")" "$(nproc)"
		printf '  "paths": [\n'
		json_targets path json_fields "${names[@]}"
		printf '\n  ],\n'
		printf '  "bypass_checks": {"queries_sent": %s, "rogue_packets_in_bypass_runs": %s, "guarded_host_rogue_packets": %s, "guarded_host_port53_packets": %s, "reference_host_port53_packets": %s, "tc_dns_udp4_redirect": %s, "redirected_queries": %s, "redirected_answers": %s, "redirected_tx_drops": %s, "redirected_bad_frames": %s, "capture_xdp_rx_dropped": %s}\n}\n' \
			"${R_ALLSENT[redirect]:-0}" "$(jnum "$1")" "$(jnum "$2")" "$(jnum "$3")" "$(jnum "$4")" \
			"$(jnum "$5")" "$(jnum "$6")" "$(jnum "$7")" "$(jnum "$8")" "$(jnum "$9")" \
			"$(jnum "${10}")"
	} >"$OUTDIR/results.json"
}

# The plot: latency CDF per path at $RATE (log x) and p50/p99 bars.
plot()
{
	local -a names
	read -ra names <<<"$PATHS"
	plot_latency "$HERE/redirect_latency.gp" paths "" "${names[@]}"
}

# ---- main -----------------------------------------------------------------------

main()
{
	local p idx=0 ok_dg=0 ok_dnat=0
	local -a ready=()
	for p in $PATHS; do
		case $p in
		redirect | stub | dnat) ;;
		*) die "unknown path $p (redirect stub dnat)" ;;
		esac
	done
	bench_check_env ip ss unbound unbound-checkconf dnsperf openssl dig seq \
		timeout tcpdump python3 ping
	# Only what an earlier run of this script wrote there.
	clean_outdir redirect stub dnat
	rm -f "$OUTDIR"/{dnat.nft,uplinks.pcap,xsk.txt} \
		"$OUTDIR"/status-{before,after}.json{,.err,.link}

	traps
	say "world: ns $NS_UP ($UP4, bridge) <-> $NS_GH ($GH4, dotguard) and $NS_RH ($RH4, DNAT + Stubby)"
	world
	pki
	upstream "$NS_GH" "$NS_RH"
	cold_phase
	capture_start
	for p in $PATHS; do
		T_IDX[$p]=$idx
		idx=$((idx + 1))
		T_PORT[$p]=53
		case $p in
		redirect | stub)
			T_NS[$p]=$NS_GH
			T_ADDR[$p]=$ROGUE4
			[ "$p" = stub ] && T_ADDR[$p]=$DG_ADDR
			if [ "$ok_dg" = 0 ]; then
				WHY=""
				say "dotguard: starting (Mode=redirect on veth-g)"
				if start_dotguard; then ok_dg=1; else ok_dg=2; DG_WHY=$WHY; fi
			fi
			if [ "$ok_dg" != 1 ]; then
				R_STATUS[$p]="not ready"
				R_NOTE[$p]=$DG_WHY
				say "$p: not ready: $DG_WHY"
				continue
			fi
			R_PID[$p]=$DG_PID
			;;
		dnat)
			T_NS[$p]=$NS_RH
			T_ADDR[$p]=$ROGUE4
			WHY=""
			say "dnat: starting Stubby and the nftables DNAT"
			if start_dnat; then ok_dnat=1; else
				R_STATUS[$p]="not ready"
				R_NOTE[$p]=$WHY
				say "$p: not ready: $WHY"
				continue
			fi
			R_PID[$p]=$STUBBY_PID
			;;
		esac
		# UDP receive-buffer drops: those of the path's own host.
		T_DROPNS[$p]=${T_NS[$p]}
		R_STATUS[$p]=ok
		ready+=("$p")
	done
	[ "${#ready[@]}" -gt 0 ] || say "no path ready"
	if [ "$ok_dg" = 1 ]; then
		S0=$OUTDIR/status-before.json
		status_snap "$S0"
	fi
	run_rounds "${ready[@]}"
	if [ "$ok_dg" = 1 ]; then
		# Answers still on their way when dnsperf stopped.
		sleep 1
		S1=$OUTDIR/status-after.json
		status_snap "$S1"
		ip -n "$NS_GH" -s link show dev dg-cap >"$OUTDIR/xsk.txt" 2>&1
		ip -n "$NS_GH" -s link show dev dg-cap-xsk >>"$OUTDIR/xsk.txt" 2>&1
	fi
	kill_pid "$CAP_PID" INT
	if [ "$ok_dnat" = 1 ]; then
		echo "# after the run; nat chains see only each flow's first packet" >>"$OUTDIR/dnat.nft"
		ip netns exec "$NS_RH" nft list table ip dgbench >>"$OUTDIR/dnat.nft" 2>&1
	fi
	bench_finish
}

main "$@"
