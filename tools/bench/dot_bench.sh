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
# targets; every forwarder runs from start to end, one loaded at a time.
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
#   QUICKACK       1: the client ACKs the upstream at once (see world()) [1]

set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
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

UP4=203.0.113.53
CL4=203.0.113.1
DG_ADDR=127.0.0.53
STUBBY_ADDR=127.0.0.54
UBF_ADDR=127.0.0.55
TLS_NAME=dns.bench
ANSWER=203.0.113.99

NS_UP=bup$$
NS_CL=bcl$$
T=""
_defer=()

# Per-target results (associative arrays keyed by target name).
declare -A R_STATUS=() R_NOTE=() R_QPS=() R_SENT=() R_LOST=() R_RCODES=()
declare -A R_EOF=() R_AVG=() R_P50=() R_P99=() R_LLOST=() R_LRCODES=()
declare -A R_HWM=() R_RSS=() R_CPU=() R_PID=() R_DROPS=() R_RSS0=() R_HWM0=()
declare -A R_SOCK=() R_QPSL=() R_TICKS=() T_IDX=() T_ADDR=() T_PORT=()

# ---- plumbing ---------------------------------------------------------------

die()
{
	echo "bench-dot: $*" >&2
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
	for ((i = ${#_defer[@]} - 1; i >= 0; i--)); do
		eval "${_defer[i]}" >/dev/null 2>&1 || true
	done
	_defer=()
}

# kill_pid PID: TERM one process we started, bounded ~5 s, then KILL; reap.
kill_pid()
{
	local pid=$1 i
	[ -n "$pid" ] || return 0
	{
		if kill -0 "$pid"; then
			kill -TERM "$pid"
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

# probe ADDR [DIG-OPTS...]: one answered A query from the client ns,
# bounded (10 tries of 1 s). The answer must be $ANSWER.
probe()
{
	local addr=$1 i out
	shift
	for ((i = 0; i < 10; i++)); do
		out=$(timeout 5 ip netns exec "$NS_CL" dig +tries=1 +time=1 +short \
			"@$addr" "$@" "probe$i.bench" A 2>/dev/null)
		[ "$out" = "$ANSWER" ] && return 0
		sleep 0.5
	done
	return 1
}

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

# proc_cpu_ticks PID: utime + stime of PID (all threads), clock ticks.
proc_cpu_ticks()
{
	# Field 2 (comm) may hold spaces: cut after the last ')'.
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'
}

# udp_rcvbuf_errors: UDP datagrams dropped for a full receive buffer, both
# namespaces together (forwarder and dnsperf sockets in bcl, upstream in bup).
udp_rcvbuf_errors()
{
	local n
	for n in "$NS_CL" "$NS_UP"; do
		ip netns exec "$n" cat /proc/net/snmp
	done 2>/dev/null | awk '$1 == "Udp:" && $2 ~ /^[0-9]+$/ { s += $6 }
		END { print s + 0 }'
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

# ---- the world ----------------------------------------------------------------

world()
{
	T=$(mktemp -d /tmp/dgbench.XXXXXX) || die "mktemp"
	defer rm -rf "$T"

	ip netns add "$NS_UP" || die "ip netns add $NS_UP"
	defer ip netns del "$NS_UP"
	ip netns add "$NS_CL" || die "ip netns add $NS_CL"
	defer ip netns del "$NS_CL"
	ip -n "$NS_UP" link set lo up
	ip -n "$NS_CL" link set lo up
	ip -n "$NS_CL" link add veth-cl type veth peer name veth-up \
		netns "$NS_UP" || die "veth"
	defer ip -n "$NS_CL" link del veth-cl
	ip -n "$NS_CL" addr add "$CL4/24" dev veth-cl || die "addr $CL4"
	ip -n "$NS_UP" addr add "$UP4/24" dev veth-up || die "addr $UP4"
	ip -n "$NS_CL" link set veth-cl up
	ip -n "$NS_UP" link set veth-up up
	# unbound (1.17) leaves Nagle on for its DoT connections, so an
	# answer written while the previous one is unacknowledged waits for
	# that ACK, which the client's delayed-ACK logic holds until its next
	# query on that connection (or ~40 ms). That would measure the test
	# upstream, not the forwarders: the client side ACKs at once instead
	# (quickack on its route to the upstream). QUICKACK=0 keeps Nagle's
	# effect in, as an upstream without TCP_NODELAY would show it.
	if [ "$QUICKACK" = 1 ]; then
		ip -n "$NS_CL" route replace 203.0.113.0/24 dev veth-cl \
			proto kernel scope link src "$CL4" quickack 1 ||
			die "quickack route"
	fi

	# A private bpffs for dotguard's pins and libxdp's dispatcher, in
	# the root mount namespace so `ip netns exec` sees it.
	mkdir -p "$T/bpf"
	mount -t bpf bpf "$T/bpf" || die "mount -t bpf $T/bpf"
	defer umount -l "$T/bpf"
	export LIBXDP_BPFFS=$T/bpf
}

# A throwaway CA (P-256) and a leaf for $TLS_NAME it signs.
pki()
{
	local d=$T/pki
	mkdir -p "$d"
	openssl req -x509 -new -nodes -newkey ec \
		-pkeyopt ec_paramgen_curve:prime256v1 \
		-keyout "$d/ca.key" -out "$d/ca.pem" -days 2 \
		-subj "/CN=dotguard bench CA $$" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-addext "subjectKeyIdentifier=hash" 2>"$d/err" ||
		die "openssl CA: $(tail -n 3 "$d/err")"
	cat >"$d/leaf.ext" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:$TLS_NAME
EOF
	openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-keyout "$d/leaf.key" -out "$d/leaf.csr" -subj "/CN=$TLS_NAME" \
		2>"$d/err" || die "openssl leaf req: $(tail -n 3 "$d/err")"
	openssl x509 -req -in "$d/leaf.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
		-CAcreateserial -days 2 -sha256 -extfile "$d/leaf.ext" \
		-out "$d/leaf.pem" 2>"$d/err" ||
		die "openssl leaf sign: $(tail -n 3 "$d/err")"
	CA=$d/ca.pem
}

# The upstream: one unbound in bup, DoT on @853 and plain DNS on @53,
# answering every name under bench. from local data, nothing else.
upstream()
{
	local conf=$T/up.conf
	cat >"$conf" <<EOF
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
	so-rcvbuf: 4m
	so-sndbuf: 4m
	interface: $UP4@853
	interface: $UP4@53
	tls-port: 853
	tls-service-pem: "$T/pki/leaf.pem"
	tls-service-key: "$T/pki/leaf.key"
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
remote-control:
	control-enable: no
EOF
	unbound-checkconf "$conf" >"$T/up.check" 2>&1 ||
		die "unbound-checkconf (upstream): $(tail -n 3 "$T/up.check")"
	ip netns exec "$NS_UP" unbound -d -c "$conf" </dev/null >"$T/up.out" 2>&1 &
	UP_PID=$!
	defer kill_pid "$UP_PID"
	if ! wait_listen "$NS_UP" t "$UP4" 853 "$UP_PID" ||
		! wait_listen "$NS_UP" u "$UP4" 53 "$UP_PID"; then
		die "upstream unbound did not start: $(cat "$T/up.out" "$T/up.log" 2>/dev/null | tail -n 5)"
	fi
	probe "$UP4" || die "upstream does not answer plain DNS"
	probe "$UP4" +tls -p 853 || die "upstream does not answer DoT"
}

# ---- forwarders -----------------------------------------------------------------

# Each fwd_* starts one forwarder in bcl, sets FWD_PID and FWD_ADDR, and
# returns 0 once it answers a query through the upstream; on failure it sets
# FWD_WHY. Background processes are started as `ip netns exec ... &`
# directly (never through a shell function, which would fork a subshell):
# ip execs the daemon, so $! is the daemon's own PID, the one whose
# /proc/PID/status and CPU time are read.

fwd_dotguard()
{
	local conf=$T/dotguard.conf log=$OUTDIR/dotguard.log i
	FWD_ADDR=$DG_ADDR
	if [ ! -x "$DOTGUARD" ]; then
		FWD_WHY="no binary at $DOTGUARD (make)"
		return 1
	fi
	cat >"$conf" <<EOF
[Resolve]
DNS=$UP4#$TLS_NAME
[TLS]
CAFile=$CA
[Guard]
Mode=monitor
Interface=veth-cl
PinPath=$T/bpf/dotguard
EOF
	cp "$conf" "$OUTDIR/dotguard.conf"
	: >"$log"
	defer timeout 20 ip netns exec "$NS_CL" "$DOTGUARD" detach -c "$conf"
	ip netns exec "$NS_CL" "$DOTGUARD" run -c "$conf" </dev/null >>"$log" 2>&1 &
	FWD_PID=$!
	defer kill_pid "$FWD_PID"
	for ((i = 0; i < 100; i++)); do
		grep -q 'ready' "$log" && break
		if ! kill -0 "$FWD_PID" 2>/dev/null; then
			FWD_WHY="dotguard exited before ready: $(tail -n 2 "$log" | tr '\n' ' ')"
			return 1
		fi
		sleep 0.1
	done
	if ! grep -q 'ready' "$log"; then
		FWD_WHY="no 'ready' in its log after 10 s"
		return 1
	fi
	if ! probe "$DG_ADDR"; then
		FWD_WHY="ready, but dig @$DG_ADDR got no answer"
		return 1
	fi
}

fwd_stubby()
{
	local conf=$T/stubby.yml log=$OUTDIR/stubby.log
	FWD_ADDR=$STUBBY_ADDR
	if ! command -v stubby >/dev/null 2>&1; then
		FWD_WHY="stubby missing (apt-get install stubby)"
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
		FWD_WHY="stubby -i: $(tail -n 2 "$T/stubby.check" | tr '\n' ' ')"
		return 1
	fi
	ip netns exec "$NS_CL" stubby -C "$conf" -v 4 </dev/null >"$log" 2>&1 &
	FWD_PID=$!
	defer kill_pid "$FWD_PID"
	if ! wait_listen "$NS_CL" u "$STUBBY_ADDR" 53 "$FWD_PID"; then
		FWD_WHY="stubby not listening: $(tail -n 2 "$log" | tr '\n' ' ')"
		return 1
	fi
	if ! probe "$STUBBY_ADDR"; then
		FWD_WHY="dig @$STUBBY_ADDR got no answer"
		return 1
	fi
}

fwd_unbound()
{
	local conf=$T/fwd.conf
	FWD_ADDR=$UBF_ADDR
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
		FWD_WHY="unbound-checkconf: $(tail -n 2 "$T/fwd.check" | tr '\n' ' ')"
		return 1
	fi
	ip netns exec "$NS_CL" unbound -d -c "$conf" </dev/null >"$T/fwd.out" 2>&1 &
	FWD_PID=$!
	defer kill_pid "$FWD_PID"
	if ! wait_listen "$NS_CL" u "$UBF_ADDR" 53 "$FWD_PID"; then
		FWD_WHY="unbound forwarder not listening: $(tail -n 2 "$T/fwd.out" | tr '\n' ' ')"
		return 1
	fi
	if ! probe "$UBF_ADDR"; then
		FWD_WHY="dig @$UBF_ADDR got no answer"
		return 1
	fi
}

# ---- load -----------------------------------------------------------------------

# names FILE FIRST COUNT: COUNT unique query lines from q<FIRST>.bench on.
names()
{
	seq -f 'q%08.0f.bench A' "$2" "$(($2 + $3 - 1))" >"$1"
}

# dnsperf_run OUT ARGS...: dnsperf in the client ns, bounded in time.
dnsperf_run()
{
	local out=$1
	shift
	timeout $((DURATION + LAT_DURATION + QTIMEOUT + 30)) \
		ip netns exec "$NS_CL" dnsperf "$@" >"$out" 2>&1
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

# target_args NAME: the dnsperf arguments that aim at target NAME.
target_args()
{
	local -a a=(-s "${T_ADDR[$1]}" -p "${T_PORT[$1]}" -c "$CLIENTS" -t "$QTIMEOUT" -n 1)
	[ "$1" = ceiling ] && a+=(-m dot)
	printf '%s\n' "${a[@]}"
}

# bench_latency NAME ROUND: (round 0: a warm-up first) one fixed-rate
# run of ${LAT_DURATION}s with per-query latencies.
bench_latency()
{
	local name=$1 r=$2 base f lat_n cap=""
	local -a args
	mapfile -t args < <(target_args "$name")
	base=$((T_IDX[$name] * 10000000 + 1))
	f=$T/names

	if [ "$r" = 0 ]; then
		say "$name: warm-up ${WARMUP}s"
		names "$f" "$base" 20000
		dnsperf_run "$OUTDIR/$name.warmup.txt" "${args[@]}" -d "$f" \
			-l "$WARMUP" -Q 1000 -q 100
	fi

	say "$name: latency round $((r + 1))/$LAT_ROUNDS, ${RATE} QPS for ${LAT_DURATION}s"
	lat_n=$((RATE * LAT_DURATION + RATE * LAT_DURATION / 5 + 1000))
	names "$f" $((base + 100000 + r * lat_n)) "$lat_n"
	if [ "$CAPTURE" = 1 ] && command -v tcpdump >/dev/null 2>&1; then
		ip netns exec "$NS_CL" tcpdump -i any -n -s 128 -U \
			-w "$OUTDIR/$name.latency.$r.pcap" 2>/dev/null &
		cap=$!
		sleep 0.5
	fi
	dnsperf_run "$OUTDIR/$name.latency.$r.txt" "${args[@]}" -d "$f" \
		-l "$LAT_DURATION" -Q "$RATE" -q "$INFLIGHT" -v
	kill_pid "$cap"
	rm -f "$f"
}

# rcodes_sum FILE...: dnsperf's response codes summed over its runs.
rcodes_sum()
{
	cat "$@" 2>/dev/null | sed -n 's/^ *Response codes: *//p' | tr ',' '\n' |
		awk '$1 ~ /^[A-Z]/ && $2 ~ /^[0-9]+$/ { n[$1] += $2 }
			END { for (c in n) { printf "%s%s %d", sep, c, n[c]; sep = ", " } }'
}

# latency_sum NAME: avg, p50, p99 over every query of the latency rounds.
latency_sum()
{
	local name=$1 f lost=0 l
	local -a files=("$OUTDIR/$name".latency.[0-9]*.txt)
	for f in "${files[@]}"; do
		l=$(stat_of "$f" lost)
		if [ -z "$l" ]; then
			R_STATUS[$name]=failed
			R_NOTE[$name]="dnsperf printed no statistics (see $(basename "$f"))"
			return 0
		fi
		lost=$((lost + l))
	done
	cat "${files[@]}" >"$T/lat.all"
	latencies "$T/lat.all" "$OUTDIR/$name.lat-us.txt"
	R_LLOST[$name]=$lost
	R_LRCODES[$name]=$(rcodes_sum "${files[@]}")
	R_AVG[$name]=$(awk '{ s += $1 } END { if (NR) printf "%.0f", s / NR; else print "-" }' \
		"$OUTDIR/$name.lat-us.txt")
	R_P50[$name]=$(pctl "$OUTDIR/$name.lat-us.txt" 50 "$lost")
	R_P99[$name]=$(pctl "$OUTDIR/$name.lat-us.txt" 99 "$lost")
}

# bench_throughput NAME ROUND: one throughput run, ${INFLIGHT} in flight
# for ${DURATION}s, with the forwarder's VmRSS sampled and its CPU time,
# UDP drops and counts added to the target's totals.
bench_throughput()
{
	local name=$1 r=$2 base f out t0="" t1 drops sampler="" pid=${R_PID[$1]:-}
	local -a args
	mapfile -t args < <(target_args "$name")
	base=$((T_IDX[$name] * 10000000 + 1000001 + r * MAX_NAMES))
	f=$T/names
	out=$OUTDIR/$name.throughput.$r.txt

	say "$name: throughput round $((r + 1))/$ROUNDS, ${INFLIGHT} in flight for ${DURATION}s"
	names "$f" "$base" "$MAX_NAMES"
	[ -n "$pid" ] && t0=$(proc_cpu_ticks "$pid")
	drops=$(udp_rcvbuf_errors)
	if [ -n "$pid" ]; then
		rss_sampler "$pid" "$OUTDIR/$name.rss-kib.txt" $((DURATION * 10 + 100)) &
		sampler=$!
	fi
	dnsperf_run "$out" "${args[@]}" -d "$f" -l "$DURATION" -q "$INFLIGHT"
	kill_pid "$sampler"
	rm -f "$f"
	R_DROPS[$name]=$((${R_DROPS[$name]:-0} + $(udp_rcvbuf_errors) - drops))
	if [ -n "$pid" ]; then
		t1=$(proc_cpu_ticks "$pid")
		if [ -n "$t0" ] && [ -n "$t1" ]; then
			R_TICKS[$name]=$((${R_TICKS[$name]:-0} + t1 - t0))
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			R_NOTE[$name]="exited during throughput round $((r + 1))"
		fi
	fi
	if [ -z "$(stat_of "$out" qps)" ]; then
		R_NOTE[$name]="round $((r + 1)): dnsperf printed no statistics"
		return 0
	fi
	R_QPSL[$name]="${R_QPSL[$name]:-}$(stat_of "$out" qps) "
	R_SENT[$name]=$((${R_SENT[$name]:-0} + $(stat_of "$out" sent)))
	R_LOST[$name]=$((${R_LOST[$name]:-0} + $(stat_of "$out" lost)))
	[ "$(stat_of "$out" eof)" = yes ] && R_EOF[$name]=yes
	return 0
}

# throughput_sum NAME: the median QPS over the rounds, response codes
# summed, peak sampled RSS, VmHWM now, CPU %.
throughput_sum()
{
	local name=$1 pid=${R_PID[$1]:-} hz
	local -a qps
	read -ra qps <<<"${R_QPSL[$name]:-}"
	R_QPS[$name]=$([ "${#qps[@]}" -gt 0 ] && printf '%s\n' "${qps[@]}" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }')
	R_RCODES[$name]=$(rcodes_sum "$OUTDIR/$name".throughput.[0-9]*.txt)
	if [ -n "$pid" ]; then
		R_RSS[$name]=$(sort -n "$OUTDIR/$name.rss-kib.txt" 2>/dev/null | tail -n 1)
		R_HWM[$name]=$(proc_field "$pid" VmHWM)
		hz=$(getconf CLK_TCK)
		if [ -n "${R_TICKS[$name]:-}" ]; then
			R_CPU[$name]=$(awk -v t="${R_TICKS[$name]}" -v hz="$hz" \
				-v d=$((DURATION * ROUNDS)) 'BEGIN { printf "%.0f", t / hz / d * 100 }')
		fi
		R_SOCK[$name]=$(sock_drops "${T_ADDR[$name]}")
	fi
	if [ -z "${R_QPS[$name]}" ]; then
		R_STATUS[$name]=failed
		R_NOTE[$name]=${R_NOTE[$name]:-"no throughput figures"}
	fi
}

# start_forwarder NAME: start it; on success record its PID, address and
# memory at rest, else mark it "not ready" with the reason.
start_forwarder()
{
	local name=$1
	FWD_PID="" FWD_ADDR="" FWD_WHY=""
	say "$name: starting"
	if ! "fwd_$name"; then
		R_STATUS[$name]="not ready"
		R_NOTE[$name]=$FWD_WHY
		say "$name: not ready: $FWD_WHY"
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

# ratio A B: A/B with 2 decimals, "-" unless both are positive numbers.
ratio()
{
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0 && a > 0)
			printf "%.2f", a / b; else print "-" }'
}

num()
{
	[[ "${1:-}" =~ ^[0-9]+(\.[0-9]+)?$ ]]
}

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

# verdict OK?: MET / MISS / n/a.
verdict()
{
	case $1 in
	1) echo MET ;;
	0) echo MISS ;;
	*) echo "n/a" ;;
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
	local txt=$OUTDIR/results.txt csv=$OUTDIR/results.csv
	dg_qps=${R_QPS[dotguard]:-}
	dg_p99=${R_P99[dotguard]:-}
	{
		echo "dotguard DoT forwarder benchmark — $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(nproc) CPUs"
		echo "upstream: unbound $(unbound -V 2>/dev/null | awk '/^Version/ { print $2 }') (${UP_THREADS} thread) DoT $UP4@853, plain @53; load: dnsperf $(dnsperf -h 2>&1 | awk '/^Version/ { print $2 }'), unique names, -c $CLIENTS"
		echo "QPS: median of $ROUNDS rounds of ${DURATION}s, ${INFLIGHT} in flight; latency: $LAT_ROUNDS rounds of ${LAT_DURATION}s at ${RATE} QPS,"
		echo "avg/p50/p99 over every query; rounds interleave the targets. Client route quickack: $([ "$QUICKACK" = 1 ] && echo on || echo off)"
		echo "dg/x, p99dg/x: dotguard's QPS, p99 divided by this target's; +avg_us: avg latency over the floor's"
		echo
		printf '%-13s %8s %6s %7s %7s %7s %7s %6s %7s %7s %5s %6s  %s\n' \
			target QPS dg/x avg_us p50_us p99_us +avg_us p99dg/x \
			RSS_MiB HWM_MiB cpu% lost% status
		for t in $TARGETS; do
			if [ "${R_STATUS[$t]:-}" != ok ]; then
				printf '%-13s %8s %6s %7s %7s %7s %7s %6s %7s %7s %5s %6s  %s\n' \
					"$(label "$t")" - - - - - - - - - - - \
					"${R_STATUS[$t]:-skipped}: ${R_NOTE[$t]:-}"
				continue
			fi
			added=-
			if num "${R_AVG[$t]:-}" && num "${R_AVG[floor]:-}"; then
				added=$((R_AVG[$t] - R_AVG[floor]))
			fi
			lostpct=$(awk -v l="${R_LOST[$t]:-0}" -v s="${R_SENT[$t]:-0}" \
				'BEGIN { if (s > 0) printf "%.2f", l / s * 100; else print "-" }')
			printf '%-13s %8s %6s %7s %7s %7s %7s %6s %7s %7s %5s %6s  %s\n' \
				"$(label "$t")" "${R_QPS[$t]}" \
				"$(ratio "$dg_qps" "${R_QPS[$t]}")" \
				"${R_AVG[$t]}" "${R_P50[$t]}" "${R_P99[$t]}" "$added" \
				"$(ratio "$dg_p99" "${R_P99[$t]}")" \
				"$(mib "${R_RSS[$t]:-}")" "$(mib "${R_HWM[$t]:-}")" \
				"${R_CPU[$t]:--}" "$lostpct" \
				"ok${R_NOTE[$t]:+ (${R_NOTE[$t]})}"
		done
		echo
		echo "RSS_MiB: the forwarder's largest VmRSS sampled (10/s) during the throughput rounds, ${INFLIGHT} queries in flight;"
		echo "HWM_MiB: its VmHWM (lifetime peak, start-up included) after them; cpu%: its CPU over them (100 = one core)"
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
		echo "target,status,qps,sent,lost,avg_us,p50_us,p99_us,added_avg_us,latency_lost,udp_rcvbuf_drops,rss_idle_kib,hwm_idle_kib,rss_load_kib,hwm_kib,cpu_pct,note"
		for t in $TARGETS; do
			added=""
			if num "${R_AVG[$t]:-}" && num "${R_AVG[floor]:-}"; then
				added=$((R_AVG[$t] - R_AVG[floor]))
			fi
			printf '%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,"%s"\n' \
				"$(label "$t")" "${R_STATUS[$t]:-skipped}" "${R_QPS[$t]:-}" \
				"${R_SENT[$t]:-}" "${R_LOST[$t]:-}" "${R_AVG[$t]:-}" \
				"${R_P50[$t]:-}" "${R_P99[$t]:-}" "$added" \
				"${R_LLOST[$t]:-}" "${R_DROPS[$t]:-}" "${R_RSS0[$t]:-}" \
				"${R_HWM0[$t]:-}" "${R_RSS[$t]:-}" "${R_HWM[$t]:-}" \
				"${R_CPU[$t]:-}" "${R_NOTE[$t]:-}"
		done
	} >"$csv"
	json
	cat "$txt"
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

# qps_list NAME: the rounds' QPS, comma-separated.
qps_list()
{
	local v=${R_QPSL[$1]:-}
	v=${v% }
	printf '%s' "${v// /, }"
}

json()
{
	local t sep=""
	{
		printf '{\n  "config": {"rounds": %s, "round_duration_s": %s, "latency_rounds": %s, "latency_round_s": %s, "quickack": %s, "rate_qps": %s, "inflight": %s, "clients": %s, "upstream_threads": %s, "unbound_fwd_threads": %s, "kernel": %s, "cpus": %s},\n' \
			"$ROUNDS" "$DURATION" "$LAT_ROUNDS" "$LAT_DURATION" \
			"$([ "$QUICKACK" = 1 ] && echo true || echo false)" \
			"$RATE" "$INFLIGHT" "$CLIENTS" \
			"$UP_THREADS" "$FWD_THREADS" "$(jstr "$(uname -r)")" "$(nproc)"
		printf '  "targets": [\n'
		for t in $TARGETS; do
			printf '%s    {"target": %s, "status": %s, "qps": %s, "qps_rounds": [%s], "sent": %s, "lost": %s, "rcodes": %s, "avg_us": %s, "p50_us": %s, "p99_us": %s, "latency_lost": %s, "latency_rcodes": %s, "udp_rcvbuf_drops": %s, "rss_idle_kib": %s, "hwm_idle_kib": %s, "rss_load_kib": %s, "hwm_kib": %s, "cpu_pct": %s, "note": %s}' \
				"$sep" "$(jstr "$(label "$t")")" "$(jstr "${R_STATUS[$t]:-skipped}")" \
				"$(jnum "${R_QPS[$t]:-}")" "$(qps_list "$t")" "$(jnum "${R_SENT[$t]:-}")" \
				"$(jnum "${R_LOST[$t]:-}")" "$(jstr "${R_RCODES[$t]:-}")" \
				"$(jnum "${R_AVG[$t]:-}")" "$(jnum "${R_P50[$t]:-}")" \
				"$(jnum "${R_P99[$t]:-}")" "$(jnum "${R_LLOST[$t]:-}")" \
				"$(jstr "${R_LRCODES[$t]:-}")" "$(jnum "${R_DROPS[$t]:-}")" \
				"$(jnum "${R_RSS0[$t]:-}")" "$(jnum "${R_HWM0[$t]:-}")" \
				"$(jnum "${R_RSS[$t]:-}")" "$(jnum "${R_HWM[$t]:-}")" \
				"$(jnum "${R_CPU[$t]:-}")" \
				"$(jstr "${R_NOTE[$t]:-}")"
			sep=$',\n'
		done
		printf '\n  ]\n}\n'
	} >"$OUTDIR/results.json"
}

# The plot: latency CDF per target at $RATE (log x) and p50/p99 bars.
plot()
{
	local t cdfs=() bars=$OUTDIR/bars.dat
	if ! command -v gnuplot >/dev/null 2>&1; then
		say "gnuplot missing: no latency.png (apt-get install gnuplot-nox)"
		return 0
	fi
	: >"$bars"
	for t in $TARGETS; do
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
	gnuplot -e "outdir='$OUTDIR'; targets='${cdfs[*]}'; rate='$RATE'; qa='$([ "$QUICKACK" = 1 ] && echo on || echo off)'" \
		"$HERE/dot_latency.gp" >"$OUTDIR/gnuplot.err" 2>&1 ||
		say "gnuplot failed: $(tail -n 3 "$OUTDIR/gnuplot.err")"
}

# ---- main -----------------------------------------------------------------------

main()
{
	local t r idx=0
	local -a ready=()
	[ "$(id -u)" = 0 ] || die "needs root (netns, bpffs)"
	for t in $TARGETS; do
		case $t in
		floor | ceiling | dotguard | stubby | unbound) ;;
		*) die "unknown target $t (floor ceiling dotguard stubby unbound)" ;;
		esac
	done
	[ $((ROUNDS * MAX_NAMES)) -le 8900000 ] ||
		die "ROUNDS * MAX_NAMES must stay under 8,900,000 (name ranges)"
	[ $((LAT_ROUNDS * (RATE * LAT_DURATION * 6 / 5 + 1000))) -le 890000 ] ||
		die "LAT_ROUNDS * RATE * LAT_DURATION too large (name ranges)"
	for t in ip ss unbound unbound-checkconf dnsperf openssl dig seq timeout; do
		command -v "$t" >/dev/null 2>&1 || die "$t missing"
	done
	mkdir -p "$OUTDIR" || die "mkdir $OUTDIR"
	OUTDIR=$(cd "$OUTDIR" && pwd)
	# Only what an earlier run of this script wrote there.
	for t in floor ceiling dotguard stubby unbound; do
		rm -f "$OUTDIR/$t".{warmup,lat-us,rss-kib}.txt "$OUTDIR/$t".cdf.dat \
			"$OUTDIR/$t".{latency,throughput}.[0-9]*.{txt,pcap}
	done
	rm -f "$OUTDIR"/{results.txt,results.json,results.csv,bars.dat,latency.png} \
		"$OUTDIR"/{gnuplot.err,upstream.log,dotguard.log,dotguard.conf} \
		"$OUTDIR"/{stubby.log,stubby.yml,unbound-fwd.log,unbound-fwd.conf}

	trap teardown EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP

	say "world: ns $NS_UP ($UP4) <-> ns $NS_CL ($CL4)"
	world
	pki
	upstream
	# Every forwarder runs from here to the end, so each sees the same
	# world (dotguard's monitor-mode tc program on veth-cl included).
	for t in $TARGETS; do
		T_IDX[$t]=$idx
		idx=$((idx + 1))
		case $t in
		floor | ceiling)
			T_ADDR[$t]=$UP4
			T_PORT[$t]=53
			[ "$t" = ceiling ] && T_PORT[$t]=853
			;;
		dotguard | stubby | unbound)
			start_forwarder "$t" || continue
			;;
		esac
		R_STATUS[$t]=ok
		ready+=("$t")
	done
	# Let start-up settle; then latency and throughput rounds, each
	# interleaving the targets, so a drift in the machine's state (other
	# work on its cores) hits them alike.
	sleep 1
	for ((r = 0; r < LAT_ROUNDS; r++)); do
		for t in "${ready[@]}"; do
			bench_latency "$t" "$r"
		done
	done
	for t in "${ready[@]}"; do
		latency_sum "$t"
	done
	# Each target's QPS is its median round.
	for ((r = 0; r < ROUNDS; r++)); do
		for t in "${ready[@]}"; do
			[ "${R_STATUS[$t]}" = ok ] && bench_throughput "$t" "$r"
		done
	done
	for t in "${ready[@]}"; do
		[ "${R_STATUS[$t]}" = ok ] && throughput_sum "$t"
	done
	cp "$T/up.log" "$OUTDIR/upstream.log" 2>/dev/null
	report
	plot
	echo
	echo "results in $OUTDIR: results.txt results.json results.csv latency.png"
}

main "$@"
