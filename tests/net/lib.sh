# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# shellcheck shell=bash
#
# Shared helpers for tests/net/cases/*.sh. A case sources this file,
# defines pre(), test() and post(), and ends with `dg_main`.
#
# Everything a case makes (namespaces, veths, the bpffs mount, dotguard,
# tcpdump) is registered with `defer` as it is made, and torn down in
# reverse order from one trap EXIT: processes stopped, then `dotguard detach`
# always, then links, namespaces, mounts. Names carry $DG_NET_TAG (default
# $$) so parallel runs never collide.
#
# Addresses: only loopback and TEST-NET (192.0.2.0/24, 198.51.100.0/24,
# 203.0.113.0/24, 2001:db8::/32) are ever used, and every loop is bounded.

set -u

DG_SKIP=77
NET_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$NET_DIR/../.." && pwd)
DOTGUARD=${DOTGUARD:-$REPO/dotguard}
OUT=${OUT:-.output}
PY=${PYTHON:-python3}
PKT=$NET_DIR/pkt.py
TAG=${DG_NET_TAG:-$$}

# The outside world's addresses (host mode and gateway mode alike).
OUT4=198.51.100.53
OUT6=2001:db8:2::53

T=""			# private temp dir (config, logs, captures, bpffs)
PIN=""			# PinPath= given to dotguard
CONF=""			# config file of this case
DG_NS=""		# namespace dotguard runs in
DG_PID=""		# background `dotguard run`, if any
_defer=()
_fails=0
declare -A CAP_PID=()

# ---- outcome ---------------------------------------------------------------

skip()
{
	echo "SKIP: $*"
	exit "$DG_SKIP"
}

die()
{
	echo "FAIL: $*"
	exit 1
}

log()
{
	echo "-- $*"
}

# check_eq WHAT EXPECTED GOT: record a failure (and go on) unless equal.
check_eq()
{
	if [ "$2" = "$3" ]; then
		echo "ok: $1 = $3"
	else
		echo "FAIL: $1: expected $2, got $3"
		_fails=$((_fails + 1))
	fi
}

# check_ge WHAT MIN GOT: GOT must be an integer >= MIN.
check_ge()
{
	if [[ "$3" =~ ^[0-9]+$ ]] && [ "$3" -ge "$2" ]; then
		echo "ok: $1 = $3 (>= $2)"
	else
		echo "FAIL: $1: expected >= $2, got $3"
		_fails=$((_fails + 1))
	fi
}

# check_rc WHAT EXPECTED_RC CMD...: run CMD, compare its exit code.
check_rc()
{
	local what=$1 want=$2 rc
	shift 2
	"$@"
	rc=$?
	check_eq "$what (exit code)" "$want" "$rc"
}

# check_grep WHAT PATTERN FILE: FILE must contain the extended regex.
check_grep()
{
	if grep -Eq -- "$2" "$3"; then
		echo "ok: $1"
	else
		echo "FAIL: $1: expected /$2/ in $3, got:"
		sed 's/^/    /' "$3"
		_fails=$((_fails + 1))
	fi
}

# ---- requirements ----------------------------------------------------------

require_root()
{
	[ "$(id -u)" = 0 ] || skip "not root"
}

require_tools()
{
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "$t missing"
	done
}

require_dotguard()
{
	[ -x "$DOTGUARD" ] || skip "no dotguard binary at $DOTGUARD (make)"
}

require_base()
{
	require_root
	require_tools ip tc tcpdump "$PY" mount umount timeout
	require_dotguard
}

# ---- teardown --------------------------------------------------------------

# defer CMD ARGS...: run CMD at teardown; the last deferred runs first.
defer()
{
	local q
	printf -v q '%q ' "$@"
	_defer+=("$q")
}

_teardown()
{
	local i
	# A second Ctrl-C must not stop the cleanup halfway.
	trap - EXIT
	trap '' INT TERM HUP
	for ((i = ${#_defer[@]} - 1; i >= 0; i--)); do
		eval "${_defer[i]}" >/dev/null 2>&1 || true
	done
	_defer=()
}

# kill_pid PID [SIG]: signal one process we started and reap it, bounded
# (about 5 s, then SIGKILL). Sets KILL_RC to its exit status.
KILL_RC=""
kill_pid()
{
	local pid=$1 sig=${2:-TERM}
	KILL_RC=""
	[ -n "$pid" ] || return 0
	# Braces: keep bash's "Killed" job notice out of the case's output.
	{ _kill_wait "$pid" "$sig"; } 2>/dev/null
	return 0
}

_kill_wait()
{
	local pid=$1 sig=$2 i
	if kill -0 "$pid"; then
		kill -"$sig" "$pid"
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" || break
			sleep 0.1
		done
		kill -0 "$pid" && kill -KILL "$pid"
	fi
	wait "$pid"
	# shellcheck disable=SC2034 # read by the cases
	KILL_RC=$?
}

# ---- the world -------------------------------------------------------------

world_init()
{
	T=$(mktemp -d /tmp/dgt.XXXXXX) || die "mktemp"
	defer rm -rf "$T"
	# Let a runner that had to kill us find what we left.
	if [ -n "${DG_NET_STATE:-}" ]; then
		echo "$T" >>"$DG_NET_STATE"
	fi
	CONF=$T/dotguard.conf
}

# ns NAME: the full, run-unique name of namespace NAME.
ns()
{
	echo "dg${TAG}-$1"
}

# ns_add NAME: create namespace NAME with lo up, DAD off, no RAs.
ns_add()
{
	local n
	n=$(ns "$1")
	ip netns add "$n" || die "ip netns add $n"
	defer ip netns del "$n"
	ip -n "$n" link set lo up
	ip netns exec "$n" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.default.accept_ra=0 \
		net.ipv6.conf.default.router_solicitations=0 >/dev/null
}

# veth_add NS1 IF1 NS2 IF2: a veth pair between two namespaces, both up.
veth_add()
{
	ip -n "$1" link add "$2" type veth peer name "$4" netns "$3" ||
		die "ip link add $2 ($1) <-> $4 ($3)"
	defer ip -n "$1" link del "$2"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}

# addr_add NS IF ADDR/LEN: IPv4 or IPv6 (IPv6 with nodad).
addr_add()
{
	if [[ "$3" == *:* ]]; then
		ip -n "$1" -6 addr add "$3" dev "$2" nodad || die "addr $3 on $2"
	else
		ip -n "$1" addr add "$3" dev "$2" || die "addr $3 on $2"
	fi
}

# ns_exec NS CMD...
ns_exec()
{
	local n=$1
	shift
	ip netns exec "$n" "$@"
}

# pkt NS ARGS...: tests/net/pkt.py inside NS (see its header).
pkt()
{
	local n=$1
	shift
	ip netns exec "$n" "$PY" "$PKT" "$@"
}

# mac_of NS IF
mac_of()
{
	ip netns exec "$1" cat "/sys/class/net/$2/address"
}

# wait_link_up NS IF: the link reports carrier (bounded ~5 s).
wait_link_up()
{
	local i
	for ((i = 0; i < 50; i++)); do
		ip -n "$1" link show "$2" 2>/dev/null | grep -q 'LOWER_UP' &&
			return 0
		sleep 0.1
	done
	die "link $2 in $1 not up after 5 s"
}

# topo_host: ns "host" (guarded, uplink veth-h) <-> ns "out" (veth-o)
# holding OUT4 / OUT6. Sets NS_HOST, NS_OUT.
topo_host()
{
	NS_HOST=$(ns host)
	NS_OUT=$(ns out)
	ns_add host
	ns_add out
	veth_add "$NS_HOST" veth-h "$NS_OUT" veth-o
	addr_add "$NS_HOST" veth-h 198.51.100.1/24
	addr_add "$NS_HOST" veth-h 2001:db8:2::1/64
	addr_add "$NS_OUT" veth-o "$OUT4/24"
	addr_add "$NS_OUT" veth-o "$OUT6/64"
	wait_link_up "$NS_HOST" veth-h
	wait_link_up "$NS_OUT" veth-o
}

# topo_gateway: ns "client" (veth-c) <-> ns "gw" (veth-lan | veth-wan,
# forwarding) <-> ns "out" (veth-o). Sets NS_CLIENT, NS_GW, NS_OUT.
topo_gateway()
{
	NS_CLIENT=$(ns client)
	NS_GW=$(ns gw)
	NS_OUT=$(ns out)
	ns_add client
	ns_add gw
	ns_add out
	veth_add "$NS_CLIENT" veth-c "$NS_GW" veth-lan
	veth_add "$NS_GW" veth-wan "$NS_OUT" veth-o
	ns_exec "$NS_GW" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1 >/dev/null
	addr_add "$NS_CLIENT" veth-c 192.0.2.2/24
	addr_add "$NS_CLIENT" veth-c 2001:db8:1::2/64
	addr_add "$NS_GW" veth-lan 192.0.2.1/24
	addr_add "$NS_GW" veth-lan 2001:db8:1::1/64
	addr_add "$NS_GW" veth-wan 198.51.100.1/24
	addr_add "$NS_GW" veth-wan 2001:db8:2::1/64
	addr_add "$NS_OUT" veth-o "$OUT4/24"
	addr_add "$NS_OUT" veth-o "$OUT6/64"
	# Routes to TEST-NET prefixes only; no default route anywhere.
	ip -n "$NS_CLIENT" route add 198.51.100.0/24 via 192.0.2.1
	ip -n "$NS_CLIENT" -6 route add 2001:db8:2::/64 via 2001:db8:1::1
	ip -n "$NS_OUT" route add 192.0.2.0/24 via 198.51.100.1
	ip -n "$NS_OUT" -6 route add 2001:db8:1::/64 via 2001:db8:2::1
	wait_link_up "$NS_CLIENT" veth-c
	wait_link_up "$NS_GW" veth-lan
	wait_link_up "$NS_GW" veth-wan
	wait_link_up "$NS_OUT" veth-o
}

# bpffs_mount: a private bpffs for the pins and libxdp's dispatcher,
# mounted in the root mount namespace so every `ip netns exec` sees it.
bpffs_mount()
{
	mkdir -p "$T/bpf"
	mount -t bpf bpf "$T/bpf" || die "mount -t bpf $T/bpf"
	defer umount -l "$T/bpf"
	PIN=$T/bpf/dotguard
	export LIBXDP_BPFFS=$T/bpf
}

# conf_write: $CONF from stdin.
conf_write()
{
	cat >"$CONF"
}

# conf_guard MODE KEY=VALUE...: the usual config, extra [Guard] lines given.
conf_guard()
{
	local mode=$1 kv
	shift
	{
		echo "[Resolve]"
		echo "DNS=203.0.113.53#dns.test"
		# Clear the built-in public fallbacks: a test never targets
		# anything but TEST-NET and loopback.
		echo "FallbackDNS="
		echo "[Guard]"
		echo "Mode=$mode"
		for kv in "$@"; do
			echo "$kv"
		done
		echo "PinPath=$PIN"
	} >"$CONF"
}

# ---- dotguard --------------------------------------------------------------

# dg NS ARGS...: one dotguard command in NS, in the foreground.
dg()
{
	local n=$1
	shift
	ip netns exec "$n" "$DOTGUARD" "$@"
}

# Arm the teardown's `dotguard detach` (once per case and namespace).
_arm_detach()
{
	if [ "$DG_NS" != "$1" ]; then
		DG_NS=$1
		defer _detach "$1" "$CONF"
	fi
}

_detach()
{
	timeout 20 ip netns exec "$1" "$DOTGUARD" detach -c "$2"
}

# dg_start NS [ARGS...]: `dotguard run -c $CONF -v` in the background
# (DG_QUIET=1: without -v), stderr to $T/dg.log (appended). Sets DG_PID.
dg_start()
{
	local n=$1 v=(-v)
	shift
	[ "${DG_QUIET:-0}" = 1 ] && v=()
	_arm_detach "$n"
	ip netns exec "$n" "$DOTGUARD" run -c "$CONF" "${v[@]}" "$@" \
		</dev/null >>"$T/dg.log" 2>&1 &
	DG_PID=$!
	defer kill_pid "$DG_PID"
}

# wait_ready: poll the log for `ready` (bounded ~10 s); die with the log
# if the daemon exits or never gets ready.
wait_ready()
{
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q 'ready' "$T/dg.log" 2>/dev/null && return 0
		if ! kill -0 "$DG_PID" 2>/dev/null; then
			wait "$DG_PID"
			echo "dotguard exited ($?) before ready; log:"
			sed 's/^/    /' "$T/dg.log"
			die "dotguard run did not start"
		fi
		sleep 0.1
	done
	echo "dotguard log:"
	sed 's/^/    /' "$T/dg.log"
	die "dotguard not ready after 10 s"
}

# check_idle_cpu: the daemon, left alone for a second, uses under 0.2 s of
# CPU: nothing it watches wakes it in a loop.
check_idle_cpu()
{
	local c0 c1
	c0=$(awk '{ print $14 + $15 }' "/proc/$DG_PID/stat")
	sleep 1
	c1=$(awk '{ print $14 + $15 }' "/proc/$DG_PID/stat")
	check_eq "idle for 1 s, the daemon used $((c1 - c0)) clock ticks (under 20)" 1 \
		"$((c1 - c0 < 20))"
}

# dg_run_ready NS: start and wait for `ready`; the log is truncated first
# so a second start waits for its own `ready`.
dg_run_ready()
{
	: >"$T/dg.log"
	dg_start "$1"
	wait_ready
}

# status_json NS [FILE]: `status --json` into FILE (default
# $T/status.json); returns dotguard's exit code.
status_json()
{
	dg "$1" status -c "$CONF" --json >"${2:-$T/status.json}" 2>"$T/status.err"
}

# _json_sum FILE REASON ACTION [HOOK]: sum of packets over matching rows.
_json_sum()
{
	"$PY" - "$@" <<'EOF'
import json, sys
path, reason, action = sys.argv[1:4]
hook = sys.argv[4] if len(sys.argv) > 4 else None
try:
    with open(path) as f:
        d = json.load(f)
    print(sum(int(c["packets"]) for c in d["counters"]
              if c["reason"] == reason and c["action"] == action
              and (hook is None or c["hook"] == hook)))
except Exception as e:
    print("bad-json(%s)" % e.__class__.__name__)
EOF
}

# dg_count REASON ACTION [HOOK]: packets counted under REASON/ACTION, from
# a fresh `status --json` in $DG_NS.
dg_count()
{
	if ! status_json "$DG_NS"; then
		echo "status-failed($(head -c 200 "$T/status.err"))"
		return 0
	fi
	_json_sum "$T/status.json" "$@"
}

# json_get FILE PYEXPR: evaluate PYEXPR with `d` = the parsed JSON.
json_get()
{
	"$PY" - "$1" "$2" <<'EOF'
import json, sys
try:
    with open(sys.argv[1]) as f:
        d = json.load(f)
    print(eval(sys.argv[2], {"d": d}))
except Exception as e:
    print("bad-json(%s: %s)" % (e.__class__.__name__, e))
EOF
}

# guard_progs NS IF: the number of BPF programs on IF's tc egress hook
# (clsact filters and tcx links alike), from `bpftool net`, else tc.
guard_progs()
{
	if command -v bpftool >/dev/null 2>&1; then
		ip netns exec "$1" bpftool -j net show dev "$2" 2>/dev/null |
			"$PY" -c 'import json,sys
d = json.load(sys.stdin)
print(sum(1 for e in d for t in e.get("tc", [])
          if "egress" in t.get("kind", "")))' 2>/dev/null && return 0
	fi
	tc -n "$1" filter show dev "$2" egress | grep -c ' bpf .* id [0-9]'
}

# wait_guarded NS IF T0: poll, for at most 5 s, until IF carries a guard
# program on tc egress; sets GUARD_MS to the time since T0 (date +%s%N),
# or -1. bpftool alone, every 10 ms: the poll must be finer than what it
# measures (guard_progs starts Python, ~0.4 s a call here).
GUARD_MS=-1
wait_guarded()
{
	local end=$(($(date +%s%N) + 5000000000))
	GUARD_MS=-1
	while [ "$(date +%s%N)" -lt "$end" ]; do
		if ip netns exec "$1" bpftool net show dev "$2" 2>/dev/null |
			grep -q 'egress'; then
			GUARD_MS=$((($(date +%s%N) - $3) / 1000000))
			return 0
		fi
		sleep 0.01
	done
	return 1
}

# ---- the wire --------------------------------------------------------------

# cap_start NAME NS IF: tcpdump on IF writing $T/NAME.pcap packet by
# packet; returns once it is listening (bounded ~5 s).
cap_start()
{
	local name=$1 n=$2 dev=$3 i
	ip netns exec "$n" tcpdump -i "$dev" -n -U --immediate-mode -s 256 \
		-w "$T/$name.pcap" 2>"$T/$name.err" &
	CAP_PID[$name]=$!
	defer kill_pid "${CAP_PID[$name]}" INT
	for ((i = 0; i < 50; i++)); do
		grep -q 'listening on' "$T/$name.err" 2>/dev/null && return 0
		kill -0 "${CAP_PID[$name]}" 2>/dev/null || break
		sleep 0.1
	done
	cat "$T/$name.err"
	die "tcpdump on $dev ($n) not listening"
}

# cap_stop NAME: stop a capture so its file is complete.
cap_stop()
{
	sleep 0.2
	kill_pid "${CAP_PID[$1]}" INT
}

# cap_count NAME FILTER...: packets in $T/NAME.pcap matching the filter.
cap_count()
{
	local name=$1
	shift
	tcpdump -r "$T/$name.pcap" -n "$@" 2>/dev/null | wc -l
}

# cap_show NAME FILTER...: the matching packets, for a failure message.
cap_show()
{
	local name=$1
	shift
	tcpdump -r "$T/$name.pcap" -n "$@" 2>/dev/null | head -20 |
		sed 's/^/    /'
}

# ---- clients ---------------------------------------------------------------

# dig_q NS SERVER [OPTS...]: one plaintext query, bounded (one try, 1 s).
dig_q()
{
	local n=$1 server=$2
	shift 2
	timeout 10 ip netns exec "$n" dig +tries=1 +time=1 "@$server" \
		a.test "$@" >>"$T/clients.log" 2>&1
}

# kdig_q NS SERVER [OPTS...]: the same with Knot's kdig (no retries).
kdig_q()
{
	local n=$1 server=$2
	shift 2
	timeout 10 ip netns exec "$n" kdig +retry=0 +timeout=1 "@$server" \
		a.test "$@" >>"$T/clients.log" 2>&1
}

# ---- main ------------------------------------------------------------------

# dg_main: run pre, test and post with teardown on any exit. A case fails
# if any check_* failed or a step called die; return codes are not checks.
dg_main()
{
	local step
	trap _teardown EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	for step in pre test post; do
		echo "== $step"
		"$step"
	done
	if [ "$_fails" -ne 0 ]; then
		echo "$_fails check(s) failed"
		exit 1
	fi
	exit 0
}
