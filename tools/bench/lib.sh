# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# shellcheck shell=bash
# The results (R_*) and WHY are read by the scripts that source this file.
# shellcheck disable=SC2034
#
# What tools/bench/dot_bench.sh and redirect_bench.sh share: the plumbing
# (defer and one teardown, processes by PID, bounded waits), the parts of
# the world both build (temp dir, namespaces, quickack route, a private
# bpffs), the PKI, the unbound DoT upstream, Stubby and dotguard started
# the same way, the dnsperf rounds with their figures and statistics, and
# the report's helpers (header, JSON, plot).
#
# A script sets BENCH (its name, for die) and UP_PLAIN (1: the upstream
# serves plain DNS on @53 too) before it sources this file, and before it
# calls anything here: OUTDIR, DOTGUARD, the load settings (DURATION
# ROUNDS LAT_DURATION LAT_ROUNDS RATE INFLIGHT CLIENTS WARMUP QTIMEOUT
# MAX_NAMES UP_THREADS QUICKACK), the cold-start settings (COLD_ROUNDS
# COLD_INTERVAL COLD_TIMEOUT) and NS_UP. Per target NAME (a key of its
# own choosing) it fills T_IDX (a distinct index: its query names), T_NS,
# T_ADDR, T_PORT, T_MODE ("dot": dnsperf -m dot), T_DROPNS (namespaces
# whose UDP receive-buffer drops count for it), R_PID (the process
# serving it, if any) and R_STATUS ("ok" to run it). It defines label
# NAME (a target's name in tables and plots), report and plot, and may
# override bench_hook. For cold starts it defines cold_KEY ROUND per
# server it can start afresh, each calling cold_run, and calls
# cold_rounds with those KEYs before it starts the servers it measures.
#
# Only loopback and TEST-NET addresses; every loop is bounded; whatever is
# started or made is registered with defer and undone by teardown, from
# the script's trap EXIT.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# ca_make and cert_make: the test bed's throwaway CA and leaves.
# shellcheck source-path=SCRIPTDIR source=../../tests/net/dot.sh
. "$BENCH_DIR/../../tests/net/dot.sh"

# The upstream's address, the name on its certificate and the address it
# answers every name under bench. with; dotguard's and Stubby's listeners.
UP4=203.0.113.53
TLS_NAME=dns.bench
ANSWER=203.0.113.99
DG_ADDR=127.0.0.53
STUBBY_ADDR=127.0.0.54

T=""			# private temp dir (configs, PKI, bpffs)
CONF=""			# dotguard's config
DG_PID=""		# dotguard_start's daemon
STUBBY_PID=""		# stubby_start's daemon
LOAD_PID=""		# the dnsperf run under way, if any
WHY=""			# why a *_start failed
COLD_NOTES=""		# cold starts that went wrong, one line each
COLD_DETACH=0		# 1: a detach for dotguard_cold's pins is deferred
_defer=()

# Per-target results (associative arrays keyed by target name).
declare -A R_STATUS=() R_NOTE=() R_QPS=() R_QPSL=() R_SENT=() R_LOST=()
declare -A R_RCODES=() R_EOF=() R_AVG=() R_P50=() R_P99=() R_LLOST=()
declare -A R_LSENT=() R_LRCODES=() R_TICKS=() R_TROUNDS=() R_CPU=()
declare -A R_DROPS=() R_PID=() R_ALLSENT=()
# CPU per answered query (us): per round (lists), medians; cold starts
# (ms): per round (lists; "none": no answer in time), medians.
declare -A R_CPUQL=() R_CPUQ=() R_LCPUQL=() R_LCPUQ=()
declare -A R_COLDL=() R_COLD=() R_COLDRL=() R_COLDR=() R_COLDCL=() R_COLDC=()
declare -A T_IDX=() T_NS=() T_ADDR=() T_PORT=() T_MODE=() T_DROPNS=()

# ---- plumbing ---------------------------------------------------------------

die()
{
	echo "$BENCH: $*" >&2
	exit 1
}

say()
{
	echo "-- $*"
}

# defer CMD ARGS...: run at teardown, last deferred first.
defer()
{
	local q
	printf -v q '%q ' "$@"
	_defer+=("$q")
}

teardown()
{
	local i
	trap - EXIT INT TERM HUP
	kill_pid "$LOAD_PID"
	for ((i = ${#_defer[@]} - 1; i >= 0; i--)); do
		eval "${_defer[i]}" >/dev/null 2>&1 || true
	done
	_defer=()
}

# traps: teardown on any exit; a signal exits with 128 + its number.
traps()
{
	trap teardown EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

# kill_pid PID [SIG]: signal one process we started, bounded ~5 s, then
# KILL; reap.
kill_pid()
{
	local pid=$1 sig=${2:-TERM} i
	[ -n "$pid" ] || return 0
	{
		if kill -0 "$pid"; then
			kill -"$sig" "$pid"
			for ((i = 0; i < 50; i++)); do
				kill -0 "$pid" || break
				sleep 0.1
			done
			kill -0 "$pid" && kill -KILL "$pid"
		fi
		wait "$pid"
	} 2>/dev/null
	return 0
}

# listening NS PROTO(t|u) ADDR PORT
listening()
{
	ip netns exec "$1" ss -Hln"$2" 2>/dev/null | awk '{ print $4 }' |
		grep -qxF -- "$3:$4"
}

# wait_listen NS PROTO ADDR PORT PID: bounded ~10 s; 1 if PID died or timeout.
wait_listen()
{
	local i
	for ((i = 0; i < 100; i++)); do
		listening "$1" "$2" "$3" "$4" && return 0
		kill -0 "$5" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# probe NS ADDR [DIG-OPTS...]: one answered A query from NS, bounded (10
# tries of 1 s). The answer must be $ANSWER.
probe()
{
	local n=$1 addr=$2 i out
	shift 2
	for ((i = 0; i < 10; i++)); do
		out=$(timeout 5 ip netns exec "$n" dig +tries=1 +time=1 +short \
			"@$addr" "$@" "probe$i.bench" A 2>/dev/null)
		[ "$out" = "$ANSWER" ] && return 0
		sleep 0.5
	done
	return 1
}

# proc_cpu_ticks PID: utime + stime of PID (all threads), clock ticks.
proc_cpu_ticks()
{
	# Field 2 (comm) may hold spaces: cut after the last ')'.
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'
}

# udp_rcvbuf_errors NS...: UDP datagrams dropped for a full receive
# buffer, the namespaces together.
udp_rcvbuf_errors()
{
	local n
	for n in "$@"; do
		ip netns exec "$n" cat /proc/net/snmp
	done 2>/dev/null | awk '$1 == "Udp:" && $2 ~ /^[0-9]+$/ { s += $6 }
		END { print s + 0 }'
}

now()
{
	date +%s.%N
}

# us_per_query TICKS OUT: CPU time TICKS (clock ticks) over the queries
# dnsperf output OUT says were answered, in us, 1 decimal; "" if either
# is missing or none was answered.
us_per_query()
{
	local n
	n=$(stat_of "$2" completed)
	num "${1:-}" && num "${n:-}" || return 0
	awk -v t="$1" -v n="$n" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { if (n > 0) printf "%.1f", t / hz * 1e6 / n }'
}

# ---- the world ----------------------------------------------------------------

# world_tmp NAME: $T, a private temp dir /tmp/NAME.XXXXXX.
world_tmp()
{
	T=$(mktemp -d "/tmp/$1.XXXXXX") || die "mktemp"
	defer rm -rf "$T"
}

# ns_new NS: a namespace with lo up.
ns_new()
{
	ip netns add "$1" || die "ip netns add $1"
	defer ip netns del "$1"
	ip -n "$1" link set lo up
}

# quickack_route NS DEV SRC: with QUICKACK=1, NS's route to the upstream's
# prefix over DEV ACKs at once. unbound (1.17) leaves Nagle on for its DoT
# connections, so an answer written while the previous one is
# unacknowledged waits for that ACK, which the client's delayed-ACK logic
# holds until its next query on that connection (or ~40 ms). That would
# measure the test upstream, not what sits in front of it. QUICKACK=0
# keeps Nagle's effect in, as an upstream without TCP_NODELAY would show it.
quickack_route()
{
	[ "$QUICKACK" = 1 ] || return 0
	ip -n "$1" route replace 203.0.113.0/24 dev "$2" \
		proto kernel scope link src "$3" quickack 1 ||
		die "quickack route in $1"
}

# bpffs_mount: a private bpffs for dotguard's pins and libxdp's
# dispatcher, in the root mount namespace so `ip netns exec` sees it.
bpffs_mount()
{
	mkdir -p "$T/bpf"
	mount -t bpf bpf "$T/bpf" || die "mount -t bpf $T/bpf"
	defer umount -l "$T/bpf"
	export LIBXDP_BPFFS=$T/bpf
}

# pki: a throwaway CA (P-256) and a leaf for $TLS_NAME it signs, in
# $T/pki; sets CA.
pki()
{
	ca_make "$T/pki"
	cert_make "$T/pki" "$TLS_NAME"
	CA=$T/pki/ca.pem
}

# upstream NS...: one unbound in $NS_UP, DoT on $UP4@853 (and plain DNS
# on @53 with UP_PLAIN=1), answering every name under bench. from local
# data, nothing else; returns once it answers from every NS given.
upstream()
{
	local conf=$T/up.conf n
	{
		cat <<EOF
server:
	username: ""
	chroot: ""
	directory: "$T"
	pidfile: "$T/up.pid"
	logfile: "$T/up.log"
	use-syslog: no
	verbosity: 1
	log-queries: no
	do-daemonize: no
	num-threads: $UP_THREADS
	so-reuseport: yes
	so-sndbuf: 4m
	interface: $UP4@853
	tls-port: 853
	tls-service-pem: "$T/pki/$TLS_NAME.pem"
	tls-service-key: "$T/pki/$TLS_NAME.key"
	incoming-num-tcp: 2048
	num-queries-per-thread: 4096
	tcp-idle-timeout: 120000
	edns-tcp-keepalive: yes
	edns-tcp-keepalive-timeout: 120000
	access-control: 203.0.113.0/24 allow
	module-config: "iterator"
	do-not-query-localhost: yes
	local-zone: "." static
	local-zone: "bench." redirect
	local-data: "bench. 60 IN A $ANSWER"
EOF
		# so-rcvbuf sizes the UDP socket: only plain DNS has one.
		if [ "$UP_PLAIN" = 1 ]; then
			printf '\tinterface: %s@53\n\tso-rcvbuf: 4m\n' "$UP4"
		fi
		printf 'remote-control:\n\tcontrol-enable: no\n'
	} >"$conf"
	unbound-checkconf "$conf" >"$T/up.check" 2>&1 ||
		die "unbound-checkconf (upstream): $(tail -n 3 "$T/up.check")"
	ip netns exec "$NS_UP" unbound -d -c "$conf" </dev/null >"$T/up.out" 2>&1 &
	UP_PID=$!
	defer kill_pid "$UP_PID"
	if ! wait_listen "$NS_UP" t "$UP4" 853 "$UP_PID" ||
		{ [ "$UP_PLAIN" = 1 ] && ! wait_listen "$NS_UP" u "$UP4" 53 "$UP_PID"; }; then
		die "upstream unbound did not start: $(cat "$T/up.out" "$T/up.log" 2>/dev/null | tail -n 5)"
	fi
	for n in "$@"; do
		if [ "$UP_PLAIN" = 1 ]; then
			probe "$n" "$UP4" || die "upstream does not answer plain DNS from $n"
		fi
		probe "$n" "$UP4" +tls -p 853 || die "upstream does not answer DoT from $n"
	done
}

# ---- the servers measured -------------------------------------------------------

# Each *_start returns 0 once its server answers (or listens); on failure
# it sets WHY. Background processes are started as `ip netns exec ... &`
# directly (never through a shell function, which would fork a subshell):
# ip execs the daemon, so $! is the daemon's own PID, the one whose
# /proc/PID files are read.

# dotguard_conf MODE IF [RESOLVE-LINE...]: CONF, a config with Mode=MODE
# on IF, DoT to the upstream, the extra [Resolve] lines given (a copy in
# $OUTDIR). 1 with WHY if there is no binary.
dotguard_conf()
{
	local mode=$1 dev=$2 l
	shift 2
	CONF=$T/dotguard.conf
	if [ ! -x "$DOTGUARD" ]; then
		WHY="no binary at $DOTGUARD (make)"
		return 1
	fi
	{
		echo "[Resolve]"
		echo "DNS=$UP4#$TLS_NAME"
		for l in "$@"; do
			echo "$l"
		done
		echo "[TLS]"
		echo "CAFile=$CA"
		echo "[Guard]"
		echo "Mode=$mode"
		echo "Interface=$dev"
		echo "PinPath=$T/bpf/dotguard"
	} >"$CONF"
	cp "$CONF" "$OUTDIR/dotguard.conf"
}

# dotguard_vflag VERBOSITY: the -v flag for `dotguard run` (-v VERBOSITY
# times, at most 3; nothing for 0).
dotguard_vflag()
{
	local i v=""
	for ((i = 0; i < $1 && i < 3; i++)); do
		v+=v
	done
	echo "${v:+-$v}"
}

# dotguard_start NS VERBOSITY MODE IF [RESOLVE-LINE...]: `dotguard run`
# in NS with dotguard_vflag VERBOSITY and dotguard_conf MODE IF
# RESOLVE-LINE...; returns once it answers at $DG_ADDR. Sets CONF and
# DG_PID.
dotguard_start()
{
	local n=$1 nv=$2 log=$OUTDIR/dotguard.log i v
	shift 2
	dotguard_conf "$@" || return 1
	v=$(dotguard_vflag "$nv")
	: >"$log"
	defer timeout 20 ip netns exec "$n" "$DOTGUARD" detach -c "$CONF"
	ip netns exec "$n" "$DOTGUARD" run -c "$CONF" ${v:+"$v"} \
		</dev/null >>"$log" 2>&1 &
	DG_PID=$!
	defer kill_pid "$DG_PID"
	for ((i = 0; i < 100; i++)); do
		grep -q 'ready' "$log" && break
		if ! kill -0 "$DG_PID" 2>/dev/null; then
			WHY="dotguard exited before ready: $(tail -n 2 "$log" | tr '\n' ' ')"
			return 1
		fi
		sleep 0.1
	done
	if ! grep -q 'ready' "$log"; then
		WHY="no 'ready' in its log after 10 s"
		return 1
	fi
	if ! probe "$n" "$DG_ADDR"; then
		WHY="ready, but dig @$DG_ADDR got no answer"
		return 1
	fi
}

# dotguard_cold NS VERBOSITY PREFIX T=ADDR...: one cold start (cold_run)
# of `dotguard run` with CONF (dotguard_conf) and dotguard_vflag
# VERBOSITY, its output in dotguard.cold.log; then `dotguard detach`, so
# that the next start attaches the guard afresh.
dotguard_cold()
{
	local n=$1 v log=$OUTDIR/dotguard.cold.log
	v=$(dotguard_vflag "$2")
	if [ "$COLD_DETACH" = 0 ]; then
		defer timeout 20 ip netns exec "$n" "$DOTGUARD" detach -c "$CONF"
		COLD_DETACH=1
	fi
	cold_run "$n" "$3" "$log" "${@:4}" -- \
		"$DOTGUARD" run -c "$CONF" ${v:+"$v"}
	if ! timeout 20 ip netns exec "$n" "$DOTGUARD" detach -c "$CONF" \
		</dev/null >>"$log" 2>&1; then
		COLD_NOTES+="$3: dotguard detach failed, see $(basename "$log")"$'\n'
	fi
}

# stubby_cold NS PREFIX T=ADDR...: one cold start (cold_run) of Stubby
# with stubby_conf's config, its output in stubby.cold.log.
stubby_cold()
{
	cold_run "$1" "$2" "$OUTDIR/stubby.cold.log" "${@:3}" -- \
		stubby -C "$T/stubby.yml" -v 4
}

# stubby_conf: $T/stubby.yml (a copy in $OUTDIR), checked with stubby
# -i; 1 with WHY if Stubby is missing or refuses it.
stubby_conf()
{
	local conf=$T/stubby.yml
	if ! command -v stubby >/dev/null 2>&1; then
		WHY="stubby missing (make bench-deps)"
		return 1
	fi
	# Strict DoT to the one upstream, padding as dotguard and unbound
	# pad, one upstream (no round robin), connections kept open, and no
	# cap on outstanding queries (0 = unlimited; getdns' default).
	cat >"$conf" <<EOF
resolution_type: GETDNS_RESOLUTION_STUB
dns_transport_list:
  - GETDNS_TRANSPORT_TLS
tls_authentication: GETDNS_AUTHENTICATION_REQUIRED
tls_query_padding_blocksize: 128
edns_client_subnet_private: 1
round_robin_upstreams: 0
idle_timeout: 60000
tls_connection_retries: 5
tls_backoff_time: 1
limit_outstanding_queries: 0
timeout: 5000
tls_ca_file: "$CA"
listen_addresses:
  - $STUBBY_ADDR
upstream_recursive_servers:
  - address_data: $UP4
    tls_port: 853
    tls_auth_name: "$TLS_NAME"
EOF
	cp "$conf" "$OUTDIR/stubby.yml"
	if ! stubby -C "$conf" -i >"$T/stubby.check" 2>&1; then
		WHY="stubby -i: $(tail -n 2 "$T/stubby.check" | tr '\n' ' ')"
		return 1
	fi
}

# stubby_start NS: Stubby in NS on $STUBBY_ADDR:53 (stubby_conf); returns
# once it listens. Sets STUBBY_PID.
stubby_start()
{
	local n=$1 conf=$T/stubby.yml log=$OUTDIR/stubby.log
	stubby_conf || return 1
	ip netns exec "$n" stubby -C "$conf" -v 4 </dev/null >"$log" 2>&1 &
	STUBBY_PID=$!
	defer kill_pid "$STUBBY_PID"
	if ! wait_listen "$n" u "$STUBBY_ADDR" 53 "$STUBBY_PID"; then
		WHY="stubby not listening: $(tail -n 2 "$log" | tr '\n' ' ')"
		return 1
	fi
}

# ---- load -----------------------------------------------------------------------

# names FILE FIRST COUNT: COUNT unique query lines from q<FIRST>.bench on.
names()
{
	seq -f 'q%08.0f.bench A' "$2" "$(($2 + $3 - 1))" >"$1"
}

# stat_of FILE KEY: a figure from dnsperf's statistics block.
stat_of()
{
	case $2 in
	qps) awk '/Queries per second:/ { printf "%.0f", $4 }' "$1" ;;
	sent) awk '/Queries sent:/ { print $3 }' "$1" ;;
	completed) awk '/Queries completed:/ { print $3 }' "$1" ;;
	lost) awk '/Queries lost:/ { print $3 }' "$1" ;;
	avg) awk '/Average Latency \(s\):/ { printf "%.0f", $4 * 1e6 }' "$1" ;;
	rcodes) sed -n 's/^ *Response codes: *//p' "$1" ;;
	eof) grep -q 'end of file' "$1" && echo yes || echo no ;;
	esac
}

# dnsperf_run NAME OUT ARGS...: dnsperf aimed at target NAME, bounded in
# time. Each run's start and end go to $T/NAME.windows (to match a
# capture against) and its queries sent are added to R_ALLSENT[NAME].
dnsperf_run()
{
	local name=$1 out=$2 t0 t1 s
	local -a a=(-s "${T_ADDR[$1]}" -p "${T_PORT[$1]}" -c "$CLIENTS"
		-t "$QTIMEOUT" -n 1)
	shift 2
	[ -n "${T_MODE[$name]:-}" ] && a+=(-m "${T_MODE[$name]}")
	t0=$(now)
	# In the background and waited for, so that a signal stops the
	# run at once (bash runs a trap only after a foreground child).
	timeout $((DURATION + LAT_DURATION + QTIMEOUT + 30)) \
		ip netns exec "${T_NS[$name]}" dnsperf "${a[@]}" "$@" \
		>"$out" 2>&1 &
	LOAD_PID=$!
	wait "$LOAD_PID"
	LOAD_PID=""
	t1=$(now)
	echo "$t0 $t1" >>"$T/$name.windows"
	s=$(stat_of "$out" sent)
	R_ALLSENT[$name]=$((${R_ALLSENT[$name]:-0} + ${s:-0}))
}

# latencies IN OUT: per-query latencies (us, sorted) from dnsperf -v
# lines ("> RCODE NAME TYPE SECONDS"); timeouts ("> T ...") are left out
# here and counted by stat_of lost.
latencies()
{
	awk '$1 == ">" && $2 != "T" && $2 != "I" && NF >= 5 {
		printf "%.1f\n", $NF * 1e6 }' "$1" | sort -g >"$2"
}

# pctl FILE P LOST: the P-th percentile (nearest rank) of the sorted
# latencies in FILE, counting LOST queries as slower than any answer
# ("lost" when the rank falls among them).
pctl()
{
	awk -v p="$2" -v lost="$3" '{ v[NR] = $1 }
	END {
		n = NR + lost
		if (n == 0) { print "-"; exit }
		r = int(p / 100 * n); if (r < p / 100 * n) r++
		if (r < 1) r = 1
		if (r > NR) print "lost"; else printf "%.0f", v[r]
	}' "$1"
}

# mean FILE: the mean of the numbers in FILE, rounded ("-" if none).
mean()
{
	awk '{ s += $1 } END { if (NR) printf "%.0f", s / NR; else print "-" }' "$1"
}

# median N...: the median (the lower one of an even count); "" if none.
median()
{
	[ $# -gt 0 ] || return 0
	printf '%s\n' "$@" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

# rcodes_sum FILE...: dnsperf's response codes summed over its runs.
rcodes_sum()
{
	cat "$@" 2>/dev/null | sed -n 's/^ *Response codes: *//p' | tr ',' '\n' |
		awk '$1 ~ /^[A-Z]/ && $2 ~ /^[0-9]+$/ { n[$1] += $2 }
			END { for (c in n) { printf "%s%s %d", sep, c, n[c]; sep = ", " } }'
}

# bench_hook EVENT NAME ROUND: called around each measured dnsperf run,
# EVENT latency-start, latency-end, throughput-start or throughput-end,
# and as throughput_sum begins (EVENT throughput-sum, no ROUND). A script
# overrides it (captures, samplers, liveness checks, its own figures).
bench_hook()
{
	:
}

# bench_latency NAME ROUND: (round 0: a warm-up first) one fixed-rate run
# of ${LAT_DURATION}s with per-query latencies; the serving process's CPU
# time per answered query in it.
bench_latency()
{
	local name=$1 r=$2 base f=$T/names lat_n t0="" t1="" us
	local pid=${R_PID[$1]:-}
	base=$((T_IDX[$name] * 10000000 + 1))
	if [ "$r" = 0 ]; then
		say "$name: warm-up ${WARMUP}s"
		names "$f" "$base" 20000
		dnsperf_run "$name" "$OUTDIR/$name.warmup.txt" -d "$f" \
			-l "$WARMUP" -Q 1000 -q 100
	fi
	say "$name: latency round $((r + 1))/$LAT_ROUNDS, ${RATE} QPS for ${LAT_DURATION}s"
	lat_n=$((RATE * LAT_DURATION + RATE * LAT_DURATION / 5 + 1000))
	names "$f" $((base + 100000 + r * lat_n)) "$lat_n"
	[ -n "$pid" ] && t0=$(proc_cpu_ticks "$pid")
	bench_hook latency-start "$name" "$r"
	dnsperf_run "$name" "$OUTDIR/$name.latency.$r.txt" -d "$f" \
		-l "$LAT_DURATION" -Q "$RATE" -q "$INFLIGHT" -v
	bench_hook latency-end "$name" "$r"
	rm -f "$f"
	[ -n "$t0" ] && t1=$(proc_cpu_ticks "$pid")
	if [ -n "$t1" ]; then
		us=$(us_per_query $((t1 - t0)) "$OUTDIR/$name.latency.$r.txt")
		[ -n "$us" ] && R_LCPUQL[$name]="${R_LCPUQL[$name]:-}$us "
	fi
	return 0
}

# latency_sum NAME: avg, p50, p99 over every query of the latency rounds.
latency_sum()
{
	local name=$1 f lost=0 sent=0 l
	local -a cq files=("$OUTDIR/$name".latency.[0-9]*.txt)
	for f in "${files[@]}"; do
		l=$(stat_of "$f" lost)
		if [ -z "$l" ]; then
			R_STATUS[$name]=failed
			R_NOTE[$name]="dnsperf printed no statistics (see $(basename "$f"))"
			return 0
		fi
		lost=$((lost + l))
		sent=$((sent + $(stat_of "$f" sent)))
	done
	cat "${files[@]}" >"$T/lat.all"
	latencies "$T/lat.all" "$OUTDIR/$name.lat-us.txt"
	R_LLOST[$name]=$lost
	R_LSENT[$name]=$sent
	R_LRCODES[$name]=$(rcodes_sum "${files[@]}")
	read -ra cq <<<"${R_LCPUQL[$name]:-}"
	R_LCPUQ[$name]=$(median "${cq[@]}")
	R_AVG[$name]=$(mean "$OUTDIR/$name.lat-us.txt")
	R_P50[$name]=$(pctl "$OUTDIR/$name.lat-us.txt" 50 "$lost")
	R_P99[$name]=$(pctl "$OUTDIR/$name.lat-us.txt" 99 "$lost")
}

# bench_throughput NAME ROUND: ${INFLIGHT} in flight for ${DURATION}s; the
# serving process's CPU time, UDP drops and counts added to the target's
# totals, and its CPU time per answered query in this round noted.
bench_throughput()
{
	local name=$1 r=$2 base f=$T/names out t0="" t1 drops q us pid=${R_PID[$1]:-}
	local -a dropns
	read -ra dropns <<<"${T_DROPNS[$name]:-}"
	base=$((T_IDX[$name] * 10000000 + 1000001 + r * MAX_NAMES))
	out=$OUTDIR/$name.throughput.$r.txt
	say "$name: throughput round $((r + 1))/$ROUNDS, ${INFLIGHT} in flight for ${DURATION}s"
	names "$f" "$base" "$MAX_NAMES"
	[ -n "$pid" ] && t0=$(proc_cpu_ticks "$pid")
	drops=$(udp_rcvbuf_errors "${dropns[@]}")
	bench_hook throughput-start "$name" "$r"
	dnsperf_run "$name" "$out" -d "$f" -l "$DURATION" -q "$INFLIGHT"
	bench_hook throughput-end "$name" "$r"
	rm -f "$f"
	R_DROPS[$name]=$((${R_DROPS[$name]:-0} + $(udp_rcvbuf_errors "${dropns[@]}") - drops))
	if [ -n "$pid" ]; then
		t1=$(proc_cpu_ticks "$pid")
		if [ -n "$t0" ] && [ -n "$t1" ]; then
			R_TICKS[$name]=$((${R_TICKS[$name]:-0} + t1 - t0))
			R_TROUNDS[$name]=$((${R_TROUNDS[$name]:-0} + 1))
			us=$(us_per_query $((t1 - t0)) "$out")
			[ -n "$us" ] && R_CPUQL[$name]="${R_CPUQL[$name]:-}$us "
		fi
	fi
	q=$(stat_of "$out" qps)
	if [ -z "$q" ]; then
		R_NOTE[$name]="round $((r + 1)): dnsperf printed no statistics"
		return 0
	fi
	R_QPSL[$name]="${R_QPSL[$name]:-}$q "
	R_SENT[$name]=$((${R_SENT[$name]:-0} + $(stat_of "$out" sent)))
	R_LOST[$name]=$((${R_LOST[$name]:-0} + $(stat_of "$out" lost)))
	[ "$(stat_of "$out" eof)" = yes ] && R_EOF[$name]=yes
	return 0
}

# throughput_sum NAME: the median QPS over the rounds, response codes
# summed, CPU % over the rounds its CPU time was read in, the median CPU
# time per answered query.
throughput_sum()
{
	local name=$1 hz
	local -a qps cq
	bench_hook throughput-sum "$name"
	read -ra qps <<<"${R_QPSL[$name]:-}"
	R_QPS[$name]=$(median "${qps[@]}")
	read -ra cq <<<"${R_CPUQL[$name]:-}"
	R_CPUQ[$name]=$(median "${cq[@]}")
	R_RCODES[$name]=$(rcodes_sum "$OUTDIR/$name".throughput.[0-9]*.txt)
	if [ -n "${R_TICKS[$name]:-}" ]; then
		hz=$(getconf CLK_TCK)
		R_CPU[$name]=$(awk -v t="${R_TICKS[$name]}" -v hz="$hz" \
			-v d=$((DURATION * R_TROUNDS[$name])) \
			'BEGIN { printf "%.0f", t / hz / d * 100 }')
	fi
	if [ -z "${R_QPS[$name]}" ]; then
		R_STATUS[$name]=failed
		R_NOTE[$name]=${R_NOTE[$name]:-"no throughput figures"}
	fi
}

# each_round N FN NAME...: FN NAME ROUND for N rounds, each round over
# every NAME still "ok", round R starting at the R-th NAME (order
# rotating, so no target is always the one after a given other).
each_round()
{
	local n=$1 fn=$2 r i t
	local -a ts=("${@:3}")
	for ((r = 0; r < n; r++)); do
		for ((i = 0; i < ${#ts[@]}; i++)); do
			t=${ts[(r + i) % ${#ts[@]}]}
			[ "${R_STATUS[$t]}" = ok ] && "$fn" "$t" "$r"
		done
	done
	return 0
}

# ---- cold start ---------------------------------------------------------------

# cold_run NS PREFIX LOG T=ADDR... -- CMD...: one cold start of CMD in NS
# (cold_start.py: queries every COLD_INTERVAL ms, names PREFIX-N.bench,
# CMD's output appended to LOG, CMD stopped after), bounded by
# COLD_TIMEOUT. For each T=ADDR, target T's rounds gain the ms from CMD's
# exec to ADDR's first answer ("none": none in time), to its first reply
# of any kind, and CMD's CPU ms by then; the helper's lines go to
# cold-starts.txt. 1 if CMD exited by itself or the helper printed
# nothing (its error in $T/cold.out.err).
cold_run()
{
	local n=$1 prefix=$2 log=$3 out=$T/cold.out kv t a v
	local -a pairs=() addrs=()
	shift 3
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		pairs+=("$1")
		addrs+=(-a "${1#*=}")
		shift
	done
	shift
	: >"$out"
	# In the background and waited for, as dnsperf_run: a signal
	# stops it at once (the helper stops CMD on TERM).
	timeout $((COLD_TIMEOUT + 30)) ip netns exec "$n" python3 \
		"$BENCH_DIR/cold_start.py" "${addrs[@]}" -A "$ANSWER" \
		-n "$prefix" -i "$COLD_INTERVAL" -t "$COLD_TIMEOUT" -l "$log" \
		-- "$@" >"$out" 2>"$out.err" &
	LOAD_PID=$!
	wait "$LOAD_PID"
	LOAD_PID=""
	{ echo "# $prefix"; cat "$out"; } >>"$OUTDIR/cold-starts.txt"
	v=$(awk '$1 == "exit" { print $2 }' "$out")
	if [ -z "$v" ]; then
		COLD_NOTES+="$prefix: no result: $(tail -n 1 "$out.err")"$'\n'
	elif [ "$v" != running ]; then
		COLD_NOTES+="$prefix: exited by itself ($v), see $(basename "$log")"$'\n'
	fi
	for kv in "${pairs[@]}"; do
		t=${kv%%=*} a=${kv#*=}
		v=$(awk -v a="$a" '$1 == "answer" && $2 == a { print $3 }' "$out")
		[ "${v:-none}" = none ] &&
			COLD_NOTES+="$prefix: no answer at $a within ${COLD_TIMEOUT}s"$'\n'
		R_COLDL[$t]="${R_COLDL[$t]:-}${v:-none} "
		v=$(awk -v a="$a" '$1 == "reply" && $2 == a { print $3 }' "$out")
		R_COLDRL[$t]="${R_COLDRL[$t]:-}${v:-none} "
		v=$(awk '$1 == "cpu_ms" { print $2 }' "$out")
		R_COLDCL[$t]="${R_COLDCL[$t]:-}${v:-none} "
	done
	[ "$(awk '$1 == "exit" { print $2 }' "$out")" = running ]
}

# median_none V...: the median (the lower one of an even count) of
# numbers and "none"s, a "none" slower than any number; "" if no V.
median_none()
{
	[ $# -gt 0 ] || return 0
	printf '%s\n' "$@" | sed 's/^none$/inf/' | sort -g |
		awk '{ v[NR] = $1 } END { m = v[int((NR + 1) / 2)]
			print (m == "inf") ? "none" : m }'
}

# cold_rounds N KEY...: N rounds of cold_KEY ROUND, the order rotating as
# in each_round; then each target's medians.
cold_rounds()
{
	local n=$1 r i k t
	local -a ks=("${@:2}") v
	for ((r = 0; r < n; r++)); do
		for ((i = 0; i < ${#ks[@]}; i++)); do
			k=${ks[(r + i) % ${#ks[@]}]}
			say "$k: cold start $((r + 1))/$n"
			"cold_$k" "$r"
		done
	done
	for t in "${!R_COLDL[@]}"; do
		read -ra v <<<"${R_COLDL[$t]}"
		R_COLD[$t]=$(median_none "${v[@]}")
		read -ra v <<<"${R_COLDRL[$t]}"
		R_COLDR[$t]=$(median_none "${v[@]}")
		read -ra v <<<"${R_COLDCL[$t]}"
		R_COLDC[$t]=$(median_none "${v[@]}")
	done
}

# run_rounds NAME...: let start-up settle; then latency and throughput
# rounds, each interleaving the targets, so a drift in the machine's
# state (other work on its cores) hits them alike; each target's QPS is
# its median round.
run_rounds()
{
	sleep 1
	each_round "$LAT_ROUNDS" bench_latency "$@"
	each_round 1 latency_sum "$@"
	each_round "$ROUNDS" bench_throughput "$@"
	each_round 1 throughput_sum "$@"
}

# ---- report ---------------------------------------------------------------------

num()
{
	[[ "${1:-}" =~ ^-?[0-9]+(\.[0-9]+)?$ ]]
}

# ratio A B: A/B with 2 decimals, "-" unless both are positive numbers.
ratio()
{
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0 && a > 0)
			printf "%.2f", a / b; else print "-" }'
}

# pct PART WHOLE: PART as a percentage of WHOLE, 2 decimals ("-" if none).
pct()
{
	awk -v l="${1:-0}" -v s="${2:-0}" \
		'BEGIN { if (s > 0) printf "%.2f", l / s * 100; else print "-" }'
}

# verdict OK?: MET / MISS / n/a.
verdict()
{
	case $1 in
	1) echo MET ;;
	0) echo MISS ;;
	*) echo "n/a" ;;
	esac
}

# onoff 1|0: on / off.
onoff()
{
	if [ "$1" = 1 ]; then echo on; else echo off; fi
}

# report_head WHAT NOUN WHOSE: results.txt's first four lines: "dotguard
# WHAT benchmark", the upstream and the load; "rounds interleave the
# NOUN", "WHOSE quickack".
report_head()
{
	echo "dotguard $1 benchmark — $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(nproc) CPUs"
	echo "upstream: unbound $(unbound -V 2>/dev/null | awk '/^Version/ { print $2 }') (${UP_THREADS} thread) DoT $UP4@853$([ "$UP_PLAIN" = 1 ] && echo ", plain @53"); load: dnsperf $(dnsperf -h 2>&1 | awk '/^Version/ { print $2 }'), unique names, -c $CLIENTS"
	echo "QPS: median of $ROUNDS rounds of ${DURATION}s, ${INFLIGHT} in flight; latency: $LAT_ROUNDS rounds of ${LAT_DURATION}s at ${RATE} QPS,"
	echo "avg/p50/p99 over every query; rounds interleave the $2. $3 quickack: $(onoff "$QUICKACK")"
}

# The standing targets (the project brief's, beside each issue's own).
CPUQ_MAX=10		# CPU per answered query, us
# A line of a report's targets: WHAT, VALUE, MET/MISS/n/a.
TARGET_FMT='  %-46s %-26s %s\n'

# cpu_targets DG PEER...: the standing target's lines for target DG: its
# CPU per answered query at most $CPUQ_MAX us, and below each PEER's (the
# ratios; a peer not run is left out, one without a figure makes that
# line n/a).
cpu_targets()
{
	local dg=$1 p r ok rs=""
	shift
	ok=x
	num "${R_CPUQ[$dg]:-}" && ok=$(awk -v v="${R_CPUQ[$dg]}" -v m="$CPUQ_MAX" \
		'BEGIN { print (v <= m) ? 1 : 0 }')
	# shellcheck disable=SC2059 # the report's one format for targets
	printf "$TARGET_FMT" "CPU per answered query <= $CPUQ_MAX us ($(label "$dg"))" \
		"${R_CPUQ[$dg]:--} us" "$(verdict "$ok")"
	ok=1
	for p in "$@"; do
		[ -n "${R_STATUS[$p]:-}" ] || continue
		r=$(ratio "${R_CPUQ[$dg]:-}" "${R_CPUQ[$p]:-}")
		rs+="${rs:+, }$(label "$p") ${r}x"
		if ! num "$r"; then
			ok=x
		elif [ "$ok" = 1 ]; then
			ok=$(awk -v r="$r" 'BEGIN { print (r <= 1) ? 1 : 0 }')
		fi
	done
	[ -n "$rs" ] || ok=x
	# shellcheck disable=SC2059
	printf "$TARGET_FMT" "CPU per answered query below every peer's" \
		"${rs:--}" "$(verdict "$ok")"
}

# cold_target DG COLD: the standing target's line for target DG: its cold
# start no slower than COLD's (Stubby's); "none" (no answer) is slower
# than any time.
cold_target()
{
	local dg=$1 cold=$2 ok=x
	if [ "${R_COLD[$dg]:-}" = none ]; then
		ok=0
	elif num "${R_COLD[$dg]:-}" && [ "${R_COLD[$cold]:-}" = none ]; then
		ok=1
	elif num "${R_COLD[$dg]:-}" && num "${R_COLD[$cold]:-}"; then
		ok=$(awk -v a="${R_COLD[$dg]}" -v b="${R_COLD[$cold]}" \
			'BEGIN { print (a <= b) ? 1 : 0 }')
	fi
	# shellcheck disable=SC2059
	printf "$TARGET_FMT" "cold start <= $(label "$cold")'s ($(label "$dg"))" \
		"${R_COLD[$dg]:--} vs ${R_COLD[$cold]:--} ms ($(ratio "${R_COLD[$dg]:-}" "${R_COLD[$cold]:-}")x)" \
		"$(verdict "$ok")"
}

# cpu_details NAME...: per target its CPU per answered query, each
# throughput round's and at the fixed rate.
cpu_details()
{
	local t
	echo "CPU per answered query, us: median (each throughput round) | median of the latency rounds at ${RATE} QPS"
	for t in "$@"; do
		[ -n "${R_CPUQL[$t]:-}${R_LCPUQL[$t]:-}" ] || continue
		printf '  %-13s %s (%s) | %s\n' "$(label "$t")" "${R_CPUQ[$t]:--}" \
			"${R_CPUQL[$t]% }" "${R_LCPUQ[$t]:--}"
	done
}

# cold_details NAME...: per target its cold starts, each round's; then
# COLD_NOTES.
cold_details()
{
	local t
	echo "Cold start, ms from exec: to the first answer, median (each round) | to the first reply of any kind |"
	echo "  CPU ms used by the first answer; a new name every ${COLD_INTERVAL} ms, at most ${COLD_TIMEOUT} s (none: no answer)"
	for t in "$@"; do
		[ -n "${R_COLDL[$t]:-}" ] || continue
		printf '  %-13s %s (%s) | %s | %s\n' "$(label "$t")" "${R_COLD[$t]}" \
			"${R_COLDL[$t]% }" "${R_COLDR[$t]}" "${R_COLDC[$t]}"
	done
	printf '%s' "$COLD_NOTES" | sed 's/^/  /'
}

# The CSV columns csv_cpu and csv_cold fill, at the end of each row.
CSV_CPU=cpu_us_per_query,cpu_us_per_query_at_rate
CSV_COLD=cold_start_ms,cold_first_reply_ms,cold_cpu_ms

# csv_cpu NAME: its $CSV_CPU values.
csv_cpu()
{
	printf '%s,%s' "${R_CPUQ[$1]:-}" "${R_LCPUQ[$1]:-}"
}

# csv_cold NAME: its $CSV_COLD values ("none": no answer).
csv_cold()
{
	printf '%s,%s,%s' "${R_COLD[$1]:-}" "${R_COLDR[$1]:-}" "${R_COLDC[$1]:-}"
}

# jstr S: S as a JSON string.
jstr()
{
	local s=${1//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\n'/ }
	printf '"%s"' "$s"
}

# jnum S: S if a number, else null.
jnum()
{
	if num "${1:-}"; then printf '%s' "$1"; else printf 'null'; fi
}

# jbool 1|0: true / false.
jbool()
{
	if [ "$1" = 1 ]; then printf true; else printf false; fi
}

# jlist "V..." : the values as JSON list items, comma-separated, null for
# each that is not a number.
jlist()
{
	local v sep=""
	for v in $1; do
		printf '%s%s' "$sep" "$(jnum "$v")"
		sep=", "
	done
}

# qps_list NAME: the rounds' QPS, comma-separated.
qps_list()
{
	local v=${R_QPSL[$1]:-}
	v=${v% }
	printf '%s' "${v// /, }"
}

# json_targets KEY FN NAME...: a JSON object a line per target NAME,
# comma-separated: KEY (its label), its status, QPS and latency figures,
# the fields `FN NAME` prints (', "key": value' each), its CPU %, CPU per
# answered query and cold start, and note.
json_targets()
{
	local kind=$1 fn=$2 t sep=""
	shift 2
	for t in "$@"; do
		printf '%s    {"%s": %s, "status": %s, "qps": %s, "qps_rounds": [%s], "sent": %s, "lost": %s, "rcodes": %s, "avg_us": %s, "p50_us": %s, "p99_us": %s%s, "cpu_pct": %s%s, "note": %s}' \
			"$sep" "$kind" "$(jstr "$(label "$t")")" \
			"$(jstr "${R_STATUS[$t]:-skipped}")" \
			"$(jnum "${R_QPS[$t]:-}")" "$(qps_list "$t")" "$(jnum "${R_SENT[$t]:-}")" \
			"$(jnum "${R_LOST[$t]:-}")" "$(jstr "${R_RCODES[$t]:-}")" \
			"$(jnum "${R_AVG[$t]:-}")" "$(jnum "${R_P50[$t]:-}")" \
			"$(jnum "${R_P99[$t]:-}")" "$("$fn" "$t")" \
			"$(jnum "${R_CPU[$t]:-}")" "$(json_cpu "$t")$(json_cold "$t")" \
			"$(jstr "${R_NOTE[$t]:-}")"
		sep=$',\n'
	done
}

# json_cpu NAME: the target's CPU per answered query (us; median, each
# throughput round's, median at the fixed rate) as JSON fields.
json_cpu()
{
	printf ', "cpu_us_per_query": %s, "cpu_us_per_query_rounds": [%s], "cpu_us_per_query_at_rate": %s' \
		"$(jnum "${R_CPUQ[$1]:-}")" "$(jlist "${R_CPUQL[$1]:-}")" \
		"$(jnum "${R_LCPUQ[$1]:-}")"
}

# json_cold NAME: the target's cold start (ms; median, each round's, null
# where no answer came; first reply; CPU by the first answer) as JSON
# fields.
json_cold()
{
	printf ', "cold_start_ms": %s, "cold_start_rounds_ms": [%s], "cold_first_reply_ms": %s, "cold_cpu_ms": %s' \
		"$(jnum "${R_COLD[$1]:-}")" "$(jlist "${R_COLDL[$1]:-}")" \
		"$(jnum "${R_COLDR[$1]:-}")" "$(jnum "${R_COLDC[$1]:-}")"
}

# plot_latency GP VAR EXTRA NAME...: latency.png from gnuplot script GP,
# a latency CDF per NAME at $RATE and p50/p99 bars (label NAME gives the
# bars' names). GP gets outdir, VAR (the names plotted), rate and the
# assignments EXTRA ("" for none).
plot_latency()
{
	local gp=$1 var=$2 extra=$3 t cdfs=() bars=$OUTDIR/bars.dat
	shift 3
	if ! command -v gnuplot >/dev/null 2>&1; then
		say "gnuplot missing: no latency.png (make bench-deps)"
		return 0
	fi
	: >"$bars"
	for t in "$@"; do
		[ "${R_STATUS[$t]:-}" = ok ] || continue
		[ -s "$OUTDIR/$t.lat-us.txt" ] || continue
		# CDF over every query sent, lost ones never reaching 1.
		awk -v lost="${R_LLOST[$t]:-0}" '{ v[NR] = $1 }
		END { n = NR + lost; step = int(NR / 2000); if (step < 1) step = 1
			for (i = 1; i <= NR; i += step) printf "%s %.5f\n", v[i], i / n
			if (NR) printf "%s %.5f\n", v[NR], NR / n }' \
			"$OUTDIR/$t.lat-us.txt" >"$OUTDIR/$t.cdf.dat"
		cdfs+=("$t")
		printf '%s %s %s\n' "$(label "$t")" \
			"$(num "${R_P50[$t]}" && echo "${R_P50[$t]}" || echo 0)" \
			"$(num "${R_P99[$t]}" && echo "${R_P99[$t]}" || echo 0)" >>"$bars"
	done
	[ "${#cdfs[@]}" -gt 0 ] || return 0
	gnuplot -e "outdir='$OUTDIR'; $var='${cdfs[*]}'; rate='$RATE'${extra:+; $extra}" \
		"$gp" >"$OUTDIR/gnuplot.err" 2>&1 ||
		say "gnuplot failed: $(tail -n 3 "$OUTDIR/gnuplot.err")"
}

# bench_finish: keep the upstream's log; the script's report and plot.
bench_finish()
{
	cp "$T/up.log" "$OUTDIR/upstream.log" 2>/dev/null
	report
	plot
	echo
	echo "results in $OUTDIR: results.txt results.json results.csv latency.png"
}

# bench_check_env TOOL...: root, name ranges that cannot overlap, every
# TOOL there; OUTDIR made and absolute.
bench_check_env()
{
	local t
	[ "$(id -u)" = 0 ] || die "needs root (netns, bpffs)"
	[ $((ROUNDS * MAX_NAMES)) -le 8900000 ] ||
		die "ROUNDS * MAX_NAMES must stay under 8,900,000 (name ranges)"
	[ $((LAT_ROUNDS * (RATE * LAT_DURATION * 6 / 5 + 1000))) -le 890000 ] ||
		die "LAT_ROUNDS * RATE * LAT_DURATION too large (name ranges)"
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || die "$t missing"
	done
	mkdir -p "$OUTDIR" || die "mkdir $OUTDIR"
	OUTDIR=$(cd "$OUTDIR" && pwd)
}

# clean_outdir NAME...: only what an earlier run wrote in $OUTDIR: the
# targets' run files and the shared results, configs and logs.
clean_outdir()
{
	local t
	for t in "$@"; do
		rm -f "$OUTDIR/$t".{warmup,lat-us}.txt "$OUTDIR/$t".cdf.dat \
			"$OUTDIR/$t".{latency,throughput}.[0-9]*.txt
	done
	rm -f "$OUTDIR"/{results.txt,results.json,results.csv,bars.dat,latency.png} \
		"$OUTDIR"/{gnuplot.err,upstream.log,dotguard.log,dotguard.conf} \
		"$OUTDIR"/{stubby.log,stubby.yml,dotguard.cold.log,stubby.cold.log} \
		"$OUTDIR"/cold-starts.txt
}
