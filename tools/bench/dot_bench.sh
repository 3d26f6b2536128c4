#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# `make bench-dot`: DNS-over-TLS forwarders side by side (issue 3). One run,
# one unbound DoT upstream, the same dnsperf load of cache-missing names:
#
#   floor      dnsperf -> upstream plain UDP/53          (no TLS, no forwarder)
#   ceiling    dnsperf -m dot -> upstream DoT/853        (no forwarder)
#   dotguard   dnsperf -> 127.0.0.53 dotguard   -> DoT upstream
#   stubby     dnsperf -> 127.0.0.54 Stubby     -> DoT upstream
#   unbound    dnsperf -> 127.0.0.55 unbound    -> DoT upstream (forward-zone)
#
# The world: ns "bup" (upstream, veth 203.0.113.53) and ns "bcl" (client,
# forwarders, dnsperf; veth 203.0.113.1), names unique per run. Only
# loopback and TEST-NET addresses are used; every loop is bounded; every
# process, namespace and mount is torn down from one trap EXIT.
#
# Per target: a short warm-up (TLS connections open), latency rounds at a
# fixed rate (dnsperf -Q, -v per-query latencies -> avg/p50/p99 over all of
# them), throughput rounds (dnsperf -q outstanding, fixed time -> median
# QPS) during which the forwarder's VmRSS is sampled. Rounds interleave the
# targets, the order rotating; every forwarder runs from start to end, one
# loaded at a time. Its CPU time (utime+stime, all threads) over each
# round, over the queries answered in it, is its CPU per answered query.
# Before all that, cold starts: each forwarder started afresh COLD_ROUNDS
# times, the order rotating, while a client asks it a new name every
# COLD_INTERVAL ms; the time from its exec to the first answer
# (cold_start.py). dotguard's includes attaching its monitor-mode guard
# (detached again between rounds) and its TLS handshake to the upstream;
# Stubby's and unbound's their first TLS handshake too (both connect on the
# first query).
# Every query name is unique in the whole run (q%08d.bench, a fresh range
# per target and run, dnsperf -n 1 never wraps), so no forwarder cache ever
# answers; the upstream answers every name under bench. from local data
# (local-zone redirect).
# A forwarder that does not start or answer (dotguard while its engine is
# unfinished, say) is shown as "not ready" with the reason; the rest run.
#
# Output ($OUTDIR, default .output/bench-dot): results.txt (the table and
# the issue-3 targets), results.json, results.csv, latency.png (gnuplot),
# and the raw dnsperf outputs and daemon logs. A benchmark, not a test: a
# missed target is reported and the script still exits 0; it exits 1 only
# when the world itself cannot be built.
#
# Environment (defaults in brackets):
#   DOTGUARD       dotguard binary [repo ./dotguard]
#   OUTDIR         results directory [repo .output/bench-dot]
#   TARGETS        subset/order [floor ceiling dotguard stubby unbound]
#   DURATION       one throughput round, s [5]
#   ROUNDS         throughput rounds, interleaved across targets [3]
#   LAT_DURATION   one latency round, s [5]
#   LAT_ROUNDS     latency rounds, interleaved across targets [2]
#   RATE           latency phase rate, QPS [2000]
#   INFLIGHT       dnsperf -q in the throughput phase [1000]
#   CLIENTS        dnsperf -c (sockets / TLS connections) [4]
#   WARMUP         warm-up, s [1]
#   QTIMEOUT       dnsperf -t, s [2]
#   UP_THREADS     upstream unbound num-threads [1]
#   FWD_THREADS    unbound forwarder num-threads [1]
#   MAX_NAMES      names per throughput round [2500000]
#   CAPTURE        1: tcpdump (all links of bcl) during each latency phase [0]
#   QUICKACK       1: the client ACKs the upstream at once (see lib.sh
#                  quickack_route) [1]
#   COLD_ROUNDS    cold starts per forwarder, order rotating [5]
#   COLD_INTERVAL  ms between the cold-start client's queries [2]
#   COLD_TIMEOUT   s a cold start may take to answer [10]

set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BENCH=bench-dot
UP_PLAIN=1		# floor: plain DNS to the upstream
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

DOTGUARD=${DOTGUARD:-$REPO/dotguard}
OUTDIR=${OUTDIR:-$REPO/.output/bench-dot}
TARGETS=${TARGETS:-floor ceiling dotguard stubby unbound}
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
LAT_DURATION=${LAT_DURATION:-5}
LAT_ROUNDS=${LAT_ROUNDS:-2}
RATE=${RATE:-2000}
INFLIGHT=${INFLIGHT:-1000}
CLIENTS=${CLIENTS:-4}
WARMUP=${WARMUP:-1}
QTIMEOUT=${QTIMEOUT:-2}
UP_THREADS=${UP_THREADS:-1}
FWD_THREADS=${FWD_THREADS:-1}
MAX_NAMES=${MAX_NAMES:-2500000}
CAPTURE=${CAPTURE:-0}
QUICKACK=${QUICKACK:-1}
COLD_ROUNDS=${COLD_ROUNDS:-5}
COLD_INTERVAL=${COLD_INTERVAL:-2}
COLD_TIMEOUT=${COLD_TIMEOUT:-10}

# lib.sh: UP4, DG_ADDR, STUBBY_ADDR, TLS_NAME, ANSWER.
CL4=203.0.113.1
UBF_ADDR=127.0.0.55

NS_UP=bup$$
NS_CL=bcl$$
CAP_PID=""		# CAPTURE=1: tcpdump during a latency round
SAMPLER_PID=""		# rss_sampler during a throughput round

# Forwarders' memory (kB) and their listener's socket drops, by target
# (lib.sh keeps the rest).
declare -A R_HWM=() R_RSS=() R_RSS0=() R_HWM0=() R_SOCK=()

# ---- the forwarders' figures ----------------------------------------------------

# proc_field PID FIELD: a kB figure from /proc/PID/status ("" if gone).
proc_field()
{
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}

# rss_sampler PID FILE N: VmRSS of PID (kB) into FILE every 0.1 s, at most
# N samples; run in the background and stopped with kill_pid.
rss_sampler()
{
	local i
	for ((i = 0; i < $3; i++)); do
		proc_field "$1" VmRSS >>"$2" || break
		sleep 0.1
	done
}

# sock_drops ADDR: datagrams the UDP socket(s) bound to ADDR:53 in bcl
# dropped (ss skmem d), with their receive buffer size: "DROPS rbBYTES".
sock_drops()
{
	ip netns exec "$NS_CL" ss -Huanm src "$1:53" 2>/dev/null |
		sed -n 's/.*skmem:(\(.*\)).*/\1/p' | tr ',' '\n' |
		awk '/^d[0-9]/ { d += substr($0, 2) } /^rb[0-9]/ { rb = substr($0, 3) }
			END { printf "%d rb%d\n", d, rb }'
}

# stop_helpers: a capture or sampler a signal left running.
stop_helpers()
{
	kill_pid "$CAP_PID"
	kill_pid "$SAMPLER_PID"
	CAP_PID="" SAMPLER_PID=""
}

# ---- the world ----------------------------------------------------------------

world()
{
	world_tmp dgbench
	ns_new "$NS_UP"
	ns_new "$NS_CL"
	ip -n "$NS_CL" link add veth-cl type veth peer name veth-up \
		netns "$NS_UP" || die "veth"
	defer ip -n "$NS_CL" link del veth-cl
	ip -n "$NS_CL" addr add "$CL4/24" dev veth-cl || die "addr $CL4"
	ip -n "$NS_UP" addr add "$UP4/24" dev veth-up || die "addr $UP4"
	ip -n "$NS_CL" link set veth-cl up
	ip -n "$NS_UP" link set veth-up up
	quickack_route "$NS_CL" veth-cl "$CL4"
	bpffs_mount
}

# ---- forwarders -----------------------------------------------------------------

# Each fwd_* starts one forwarder in bcl, sets FWD_PID and FWD_ADDR, and
# returns 0 once it answers a query through the upstream; on failure it sets
# WHY (lib.sh: how background daemons are started).

fwd_dotguard()
{
	local rc
	FWD_ADDR=$DG_ADDR
	dotguard_start "$NS_CL" 0 monitor veth-cl
	rc=$?
	FWD_PID=$DG_PID
	return "$rc"
}

fwd_stubby()
{
	local rc
	FWD_ADDR=$STUBBY_ADDR
	stubby_start "$NS_CL"
	rc=$?
	FWD_PID=$STUBBY_PID
	[ "$rc" = 0 ] || return 1
	if ! probe "$NS_CL" "$STUBBY_ADDR"; then
		WHY="dig @$STUBBY_ADDR got no answer"
		return 1
	fi
}

# unbound_conf: $T/fwd.conf, unbound as a DoT forwarder on $UBF_ADDR (a
# copy in $OUTDIR), checked; 1 with WHY if unbound-checkconf refuses it.
unbound_conf()
{
	local conf=$T/fwd.conf
	# A forwarder, not a resolver: forward-zone "." over TLS only, small
	# caches (every name is new anyway), no validator (dotguard and Stubby
	# do not validate either). Its defaults that would handicap it under
	# 1,000 queries in flight are raised: queries per thread, outgoing
	# TLS streams and queries per reused stream (default 200, then a new
	# handshake), and its UDP receive buffer.
	cat >"$conf" <<EOF
server:
	username: ""
	chroot: ""
	directory: "$T"
	pidfile: "$T/fwd.pid"
	logfile: "$OUTDIR/unbound-fwd.log"
	use-syslog: no
	verbosity: 1
	log-queries: no
	do-daemonize: no
	num-threads: $FWD_THREADS
	interface: $UBF_ADDR@53
	access-control: 127.0.0.0/8 allow
	do-not-query-localhost: no
	module-config: "iterator"
	msg-cache-size: 4m
	rrset-cache-size: 4m
	key-cache-size: 1m
	prefetch: no
	qname-minimisation: no
	num-queries-per-thread: 4096
	outgoing-num-tcp: 16
	max-reuse-tcp-queries: 1000000
	tcp-reuse-timeout: 60000
	so-rcvbuf: 4m
	so-sndbuf: 4m
	tls-cert-bundle: "$CA"
	pad-queries: yes
remote-control:
	control-enable: no
forward-zone:
	name: "."
	forward-tls-upstream: yes
	forward-addr: $UP4@853#$TLS_NAME
EOF
	cp "$conf" "$OUTDIR/unbound-fwd.conf"
	if ! unbound-checkconf "$conf" >"$T/fwd.check" 2>&1; then
		WHY="unbound-checkconf: $(tail -n 2 "$T/fwd.check" | tr '\n' ' ')"
		return 1
	fi
}

fwd_unbound()
{
	local conf=$T/fwd.conf
	FWD_ADDR=$UBF_ADDR
	unbound_conf || return 1
	ip netns exec "$NS_CL" unbound -d -c "$conf" </dev/null >"$T/fwd.out" 2>&1 &
	FWD_PID=$!
	defer kill_pid "$FWD_PID"
	if ! wait_listen "$NS_CL" u "$UBF_ADDR" 53 "$FWD_PID"; then
		WHY="unbound forwarder not listening: $(tail -n 2 "$T/fwd.out" | tr '\n' ' ')"
		return 1
	fi
	if ! probe "$NS_CL" "$UBF_ADDR"; then
		WHY="dig @$UBF_ADDR got no answer"
		return 1
	fi
}

# ---- cold starts ----------------------------------------------------------------

# conf_NAME: the forwarder's config, written once for its cold starts and
# its run (1 with WHY if it cannot be); cold_NAME ROUND: one cold start
# (lib.sh cold_run).

conf_dotguard()
{
	dotguard_conf monitor veth-cl
}

conf_stubby()
{
	stubby_conf
}

conf_unbound()
{
	unbound_conf
}

cold_dotguard()
{
	dotguard_cold "$NS_CL" 0 "cs-dotguard-$1" "dotguard=$DG_ADDR"
}

cold_stubby()
{
	stubby_cold "$NS_CL" "cs-stubby-$1" "stubby=$STUBBY_ADDR"
}

cold_unbound()
{
	cold_run "$NS_CL" "cs-unbound-$1" "$OUTDIR/unbound-fwd.cold.log" \
		"unbound=$UBF_ADDR" -- unbound -d -c "$T/fwd.conf"
}

# ---- load -----------------------------------------------------------------------

# bench_hook EVENT NAME ROUND: with CAPTURE=1, tcpdump (all links of bcl)
# during each latency round; the forwarder's VmRSS sampled during each
# throughput round, a note if it exited in one, and its memory and
# listener drops when the rounds are summed.
bench_hook()
{
	local name=$2 pid=${R_PID[$2]:-}
	case $1 in
	latency-start)
		if [ "$CAPTURE" = 1 ] && command -v tcpdump >/dev/null 2>&1; then
			ip netns exec "$NS_CL" tcpdump -i any -n -s 128 -U \
				-w "$OUTDIR/$name.latency.$3.pcap" 2>/dev/null &
			CAP_PID=$!
			sleep 0.5
		fi
		;;
	throughput-start)
		if [ -n "$pid" ]; then
			rss_sampler "$pid" "$OUTDIR/$name.rss-kib.txt" $((DURATION * 10 + 100)) &
			SAMPLER_PID=$!
		fi
		;;
	latency-end | throughput-end)
		stop_helpers
		if [ "$1" = throughput-end ] && [ -n "$pid" ] &&
			! kill -0 "$pid" 2>/dev/null; then
			R_NOTE[$name]="exited during throughput round $(($3 + 1))"
		fi
		;;
	throughput-sum)
		[ -n "$pid" ] || return 0
		R_RSS[$name]=$(sort -n "$OUTDIR/$name.rss-kib.txt" 2>/dev/null | tail -n 1)
		R_HWM[$name]=$(proc_field "$pid" VmHWM)
		R_SOCK[$name]=$(sock_drops "${T_ADDR[$name]}")
		;;
	esac
}

# start_forwarder NAME: start it; on success record its PID, address and
# memory at rest, else mark it "not ready" with the reason.
start_forwarder()
{
	local name=$1
	FWD_PID="" FWD_ADDR="" WHY=""
	say "$name: starting"
	if ! "fwd_$name"; then
		R_STATUS[$name]="not ready"
		R_NOTE[$name]=$WHY
		say "$name: not ready: $WHY"
		kill_pid "$FWD_PID"
		return 1
	fi
	R_PID[$name]=$FWD_PID
	T_ADDR[$name]=$FWD_ADDR
	T_PORT[$name]=53
	R_RSS0[$name]=$(proc_field "$FWD_PID" VmRSS)
	R_HWM0[$name]=$(proc_field "$FWD_PID" VmHWM)
}

# ---- report ---------------------------------------------------------------------

mib()
{
	if num "${1:-}"; then awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; else echo "-"; fi
}

label()
{
	case $1 in
	floor) echo "floor(udp)" ;;
	ceiling) echo "ceiling(dot)" ;;
	unbound) echo "unbound-fwd" ;;
	*) echo "$1" ;;
	esac
}

# qps_target PEER MIN TEXT: one line of the targets: dotguard's QPS over
# PEER's must be at least MIN.
qps_target()
{
	local r ok=x
	r=$(ratio "${R_QPS[dotguard]:-}" "${R_QPS[$1]:-}")
	if num "$r"; then
		ok=$(awk -v r="$r" -v m="$2" 'BEGIN { print (r >= m) ? 1 : 0 }')
	fi
	printf '  %-46s %-26s %s\n' "QPS $3" "${r}x" "$(verdict "$ok")"
}

report()
{
	local t dg_qps dg_p99 added lostpct p99s peer ok
	local -a names
	local txt=$OUTDIR/results.txt csv=$OUTDIR/results.csv
	local fmt='%-13s %8s %6s %7s %7s %7s %7s %6s %7s %7s %5s %6s %6s %7s  %s\n'
	dg_qps=${R_QPS[dotguard]:-}
	dg_p99=${R_P99[dotguard]:-}
	{
		report_head "DoT forwarder" targets "Client route"
		echo "dg/x, p99dg/x: dotguard's QPS, p99 divided by this target's; +avg_us: avg latency over the floor's"
		echo
		# shellcheck disable=SC2059 # one format for every row
		printf "$fmt" target QPS dg/x avg_us p50_us p99_us +avg_us p99dg/x \
			RSS_MiB HWM_MiB cpu% lost% us/q cold_ms status
		for t in $TARGETS; do
			if [ "${R_STATUS[$t]:-}" != ok ]; then
				# shellcheck disable=SC2059
				printf "$fmt" "$(label "$t")" - - - - - - - - - - - - \
					"${R_COLD[$t]:--}" \
					"${R_STATUS[$t]:-skipped}: ${R_NOTE[$t]:-}"
				continue
			fi
			added=-
			if num "${R_AVG[$t]:-}" && num "${R_AVG[floor]:-}"; then
				added=$((R_AVG[$t] - R_AVG[floor]))
			fi
			lostpct=$(pct "${R_LOST[$t]:-0}" "${R_SENT[$t]:-0}")
			# shellcheck disable=SC2059
			printf "$fmt" "$(label "$t")" "${R_QPS[$t]}" \
				"$(ratio "$dg_qps" "${R_QPS[$t]}")" \
				"${R_AVG[$t]}" "${R_P50[$t]}" "${R_P99[$t]}" "$added" \
				"$(ratio "$dg_p99" "${R_P99[$t]}")" \
				"$(mib "${R_RSS[$t]:-}")" "$(mib "${R_HWM[$t]:-}")" \
				"${R_CPU[$t]:--}" "$lostpct" "${R_CPUQ[$t]:--}" \
				"${R_COLD[$t]:--}" "ok${R_NOTE[$t]:+ (${R_NOTE[$t]})}"
		done
		echo
		echo "RSS_MiB: the forwarder's largest VmRSS sampled (10/s) during the throughput rounds, ${INFLIGHT} queries in flight;"
		echo "HWM_MiB: its VmHWM (lifetime peak, start-up included) after them; cpu%: its CPU over them (100 = one core)"
		echo "us/q: its CPU time (utime+stime, all threads) per answered query, median of the throughput rounds"
		echo "cold_ms: from its exec to the first answer, median of $COLD_ROUNDS cold starts (see below)"
		echo "lost%: of the throughput rounds' queries; per target below: latency-phase losses and answers, each round's QPS"
		for t in $TARGETS; do
			[ "${R_STATUS[$t]:-}" = ok ] || continue
			printf '  %-13s latency: lost %s, %s | throughput: QPS %s; %s; UDP rcvbuf drops %s%s%s\n' \
				"$(label "$t")" "${R_LLOST[$t]:-?}" "${R_LRCODES[$t]:-?}" \
				"${R_QPSL[$t]% }" "${R_RCODES[$t]:-?}" "${R_DROPS[$t]:-?}" \
				"${R_SOCK[$t]:+ (its listener since start: ${R_SOCK[$t]% *} dropped, ${R_SOCK[$t]#* })}" \
				"$([ "${R_EOF[$t]:-}" = yes ] && echo " (ran out of names: raise MAX_NAMES)")"
		done
		echo
		echo "Setup: every forwarder single-threaded, strict DoT with verification, EDNS padding; unbound-fwd's"
		echo "  queries/thread, outgoing TLS streams, queries per stream and so-rcvbuf raised (see unbound-fwd.conf);"
		echo "  Stubby cannot size its UDP socket buffer (kernel default). dotguard's monitor-mode tc program"
		echo "  sits on the client's veth for every target. With quickack off, answers from the upstream"
		echo "  (unbound: Nagle on) wait for the client's next segment on that connection or its delayed ACK."
		echo "CPU per answered query counts the forwarder's own process only: the BPF"
		echo "  programs and softirq work run in other contexts."
		echo "Cold starts: each forwarder alone, before the runs, with its run's config; the upstream up and"
		echo "  warm. dotguard's start: config, BPF load, its monitor-mode tc guard attached and pinned"
		echo "  (detached between starts), stub listeners, and the TLS handshake it opens to the upstream"
		echo "  at start; Stubby's and unbound's: config, listeners, and the TLS handshake each opens at the"
		echo "  first query."
		echo
		echo "Targets (issue 3):"
		qps_target stubby 2.0 "at least 2x Stubby's"
		qps_target unbound 1.2 "at least 1.2x unbound-fwd's"
		qps_target ceiling 0.8 "aim: 0.8x the ceiling's"
		ok=x
		added=-
		if num "${R_AVG[dotguard]:-}" && num "${R_AVG[floor]:-}"; then
			added=$((R_AVG[dotguard] - R_AVG[floor]))
			ok=$((added <= 150 ? 1 : 0))
		fi
		printf '  %-46s %-26s %s\n' "avg latency added over floor @${RATE} <= 150 us" \
			"$added us" "$(verdict "$ok")"
		ok=x
		p99s=""
		if num "$dg_p99"; then
			ok=1
			for peer in stubby unbound; do
				[ "${R_STATUS[$peer]:-}" = ok ] || { ok=x; continue; }
				p99s+="$(label "$peer") ${R_P99[$peer]} "
				if ! num "${R_P99[$peer]}"; then
					continue	# the peer lost queries: worse
				fi
				[ "$dg_p99" -le "${R_P99[$peer]}" ] || ok=0
			done
		fi
		printf '  %-46s %-26s %s\n' "p99 @${RATE} no worse than any peer" \
			"${dg_p99:--} us vs ${p99s:--}" "$(verdict "$ok")"
		ok=x
		if num "${R_RSS[dotguard]:-}"; then
			ok=$((R_RSS[dotguard] < 16384 ? 1 : 0))
		fi
		printf '  %-46s %-26s %s\n' "RSS < 16 MiB with ${INFLIGHT} in flight" \
			"$(mib "${R_RSS[dotguard]:-}") MiB" "$(verdict "$ok")"
		cpu_targets dotguard stubby unbound
		cold_target dotguard stubby
		echo
		read -ra names <<<"$TARGETS"
		cpu_details "${names[@]}"
		cold_details "${names[@]}"
		echo
		echo "Memory, MiB (VmRSS / VmHWM): idle after start -> under load"
		for t in $TARGETS; do
			num "${R_RSS0[$t]:-}" || continue
			printf '  %-13s %s / %s -> %s / %s\n' "$(label "$t")" \
				"$(mib "${R_RSS0[$t]}")" "$(mib "${R_HWM0[$t]:-}")" \
				"$(mib "${R_RSS[$t]:-}")" "$(mib "${R_HWM[$t]:-}")"
		done
	} >"$txt"

	{
		echo "target,status,qps,sent,lost,avg_us,p50_us,p99_us,added_avg_us,latency_lost,udp_rcvbuf_drops,rss_idle_kib,hwm_idle_kib,rss_load_kib,hwm_kib,cpu_pct,note,$CSV_CPU,$CSV_COLD"
		for t in $TARGETS; do
			added=""
			if num "${R_AVG[$t]:-}" && num "${R_AVG[floor]:-}"; then
				added=$((R_AVG[$t] - R_AVG[floor]))
			fi
			printf '%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,"%s",%s,%s\n' \
				"$(label "$t")" "${R_STATUS[$t]:-skipped}" "${R_QPS[$t]:-}" \
				"${R_SENT[$t]:-}" "${R_LOST[$t]:-}" "${R_AVG[$t]:-}" \
				"${R_P50[$t]:-}" "${R_P99[$t]:-}" "$added" \
				"${R_LLOST[$t]:-}" "${R_DROPS[$t]:-}" "${R_RSS0[$t]:-}" \
				"${R_HWM0[$t]:-}" "${R_RSS[$t]:-}" "${R_HWM[$t]:-}" \
				"${R_CPU[$t]:-}" "${R_NOTE[$t]:-}" "$(csv_cpu "$t")" "$(csv_cold "$t")"
		done
	} >"$csv"
	json
	cat "$txt"
}

# json_fields NAME: the target's own fields in results.json.
json_fields()
{
	local t=$1
	printf ', "latency_lost": %s, "latency_rcodes": %s, "udp_rcvbuf_drops": %s, "rss_idle_kib": %s, "hwm_idle_kib": %s, "rss_load_kib": %s, "hwm_kib": %s' \
		"$(jnum "${R_LLOST[$t]:-}")" "$(jstr "${R_LRCODES[$t]:-}")" \
		"$(jnum "${R_DROPS[$t]:-}")" \
		"$(jnum "${R_RSS0[$t]:-}")" "$(jnum "${R_HWM0[$t]:-}")" \
		"$(jnum "${R_RSS[$t]:-}")" "$(jnum "${R_HWM[$t]:-}")"
}

json()
{
	local -a names
	read -ra names <<<"$TARGETS"
	{
		printf '{\n  "config": {"rounds": %s, "round_duration_s": %s, "latency_rounds": %s, "latency_round_s": %s, "quickack": %s, "rate_qps": %s, "inflight": %s, "clients": %s, "upstream_threads": %s, "unbound_fwd_threads": %s, "kernel": %s, "cpus": %s},\n' \
			"$ROUNDS" "$DURATION" "$LAT_ROUNDS" "$LAT_DURATION" \
			"$(jbool "$QUICKACK")" \
			"$RATE" "$INFLIGHT" "$CLIENTS" \
			"$UP_THREADS" "$FWD_THREADS" "$(jstr "$(uname -r)")" "$(nproc)"
		printf '  "targets": [\n'
		json_targets target json_fields "${names[@]}"
		printf '\n  ]\n}\n'
	} >"$OUTDIR/results.json"
}

# The plot: latency CDF per target at $RATE (log x) and p50/p99 bars.
plot()
{
	local -a names
	read -ra names <<<"$TARGETS"
	plot_latency "$HERE/dot_latency.gp" targets "qa='$(onoff "$QUICKACK")'" "${names[@]}"
}

# ---- main -----------------------------------------------------------------------

main()
{
	local t idx=0
	local -a ready=() cold=()
	for t in $TARGETS; do
		case $t in
		floor | ceiling | dotguard | stubby | unbound) ;;
		*) die "unknown target $t (floor ceiling dotguard stubby unbound)" ;;
		esac
	done
	bench_check_env ip ss unbound unbound-checkconf dnsperf openssl dig seq timeout
	# Only what an earlier run of this script wrote there.
	clean_outdir floor ceiling dotguard stubby unbound
	for t in floor ceiling dotguard stubby unbound; do
		rm -f "$OUTDIR/$t".rss-kib.txt \
			"$OUTDIR/$t".{latency,throughput}.[0-9]*.pcap
	done
	rm -f "$OUTDIR"/{unbound-fwd.log,unbound-fwd.conf,unbound-fwd.cold.log}

	traps
	say "world: ns $NS_UP ($UP4) <-> ns $NS_CL ($CL4)"
	world
	pki
	upstream "$NS_CL"
	# Cold starts first, each forwarder alone (the others not yet
	# running), with the config its run uses.
	for t in $TARGETS; do
		case $t in
		dotguard | stubby | unbound)
			WHY=""
			if "conf_$t"; then
				cold+=("$t")
			else
				say "$t: no cold start: $WHY"
			fi
			;;
		esac
	done
	if [ "${#cold[@]}" -gt 0 ] && [ "$COLD_ROUNDS" -gt 0 ]; then
		cold_rounds "$COLD_ROUNDS" "${cold[@]}"
	fi
	# Every forwarder runs from here to the end, so each sees the same
	# world (dotguard's monitor-mode tc program on veth-cl included).
	for t in $TARGETS; do
		T_IDX[$t]=$idx
		idx=$((idx + 1))
		T_NS[$t]=$NS_CL
		# Forwarder and dnsperf sockets in bcl, the upstream's in bup.
		T_DROPNS[$t]="$NS_CL $NS_UP"
		case $t in
		floor | ceiling)
			T_ADDR[$t]=$UP4
			T_PORT[$t]=53
			if [ "$t" = ceiling ]; then
				T_PORT[$t]=853
				T_MODE[$t]="dot"
			fi
			;;
		dotguard | stubby | unbound)
			start_forwarder "$t" || continue
			;;
		esac
		R_STATUS[$t]=ok
		ready+=("$t")
	done
	defer stop_helpers
	run_rounds "${ready[@]}"
	bench_finish
}

main "$@"
