#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# `make demo`: the whole product in a throwaway world. An application on a
# guarded host asks a rogue plaintext DNS server directly; dotguard
# (Mode=redirect) catches the query in the kernel and answers it over
# DNS-over-TLS from the real upstream, as if from the server asked. tcpdump
# on the wire shows no port-53 packet crossed. Everything is torn down on
# exit, Ctrl-C or failure included. Needs root; builds nothing itself.
#
# Exits non-zero, with one "demo: FAILED: ..." line, if a claim does not
# hold. Reuses the test bed of the integration tests (tests/net/lib.sh,
# tests/net/dot.sh), like tests/net/cases/redirect_host.sh.

set -u

# Namespace names carry this, so the demo never meets a parallel test run.
# shellcheck disable=SC2034 # read by lib.sh
DG_NET_TAG=demo$$
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tests/net/lib.sh
. "$REPO/tests/net/lib.sh"
# shellcheck source=tests/net/dot.sh
. "$REPO/tests/net/dot.sh"

# lib.sh's die, reworded: one clear line, then the EXIT trap tears down.
die()
{
	echo "demo: FAILED: $*" >&2
	exit 1
}

# lib.sh's _teardown first resets INT to its default, so a Ctrl-C while it
# runs (a second one, or one during step 8) would cut it short and leave
# namespaces and mounts behind. Run the same deferred steps, deaf to it.
demo_teardown()
{
	trap '' INT TERM HUP
	trap - EXIT
	while [ "${#_defer[@]}" -gt 0 ]; do
		eval "${_defer[-1]}" >/dev/null 2>&1
		unset '_defer[-1]'
	done
}

step()
{
	if [ -t 1 ]; then
		printf '\n\033[1m==> %s\033[0m\n' "$*"
	else
		printf '\n==> %s\n' "$*"
	fi
}

indent()
{
	sed 's/^/    /'
}

# expect WHAT WANT GOT: the demo's claims; the first that fails ends it.
expect()
{
	[ "$2" = "$3" ] || die "$1: expected $2, got ${3:-nothing}"
}

# expect_upstream WHAT GOT: GOT must be the upstream's answer, not the
# rogue's marker (which would mean the query leaked).
expect_upstream()
{
	case $2 in
	"$DOT_A") ;;
	"$MARK_A") die "$1: answered by the rogue ($MARK_A): the query leaked" ;;
	*) die "$1: expected the upstream's $DOT_A, got ${2:-no answer}" ;;
	esac
}

# dig_rogue FILE: dig a.test at the rogue, answer and server lines in FILE.
dig_rogue()
{
	timeout 10 ip netns exec "$NS_HOST" dig +tries=1 +time=3 \
		+noall +answer +stats "@$ROGUE4" a.test >"$1" 2>&1
	grep -E '^[^;]|^;; SERVER' "$1" | indent
}

# a_of FILE: the A records of a dig/kdig answer section, space-separated.
a_of()
{
	awk '!/^;/ && $4 == "A" { printf "%s%s", sep, $5; sep = " " }' "$1"
}

# wait_rogue_log N: until the rogue has logged N queries (bounded ~2 s).
wait_rogue_log()
{
	local i
	for ((i = 0; i < 20; i++)); do
		[ "$(rogue_queries)" -ge "$1" ] && return 0
		sleep 0.1
	done
}

main()
{
	local t seen got leaked etc_netns=0
	[ "$(id -u)" = 0 ] || { echo "demo: needs root (netns, tc, bpffs)"; exit 1; }
	[ -x "$DOTGUARD" ] || { echo "demo: no $DOTGUARD: run 'make' first"; exit 1; }
	for t in ip tc tcpdump dig kdig getent unbound openssl timeout "$PY"; do
		command -v "$t" >/dev/null 2>&1 ||
			{ echo "demo: $t missing: run 'make deps'"; exit 1; }
	done
	trap demo_teardown EXIT
	trap 'echo; echo "interrupted: cleaning up"; exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP

	world_init
	bpffs_mount
	topo_host
	step "1. The world: a guarded host and the outside, two throwaway namespaces"
	echo "    $NS_HOST: the host, uplink veth-h $(ip -n "$NS_HOST" -br -4 addr show veth-h | awk '{ print $3 }')"
	echo "    $NS_OUT: the outside, at the other end of the wire (veth-o)"
	ca_make "$T/ca"
	cert_make "$T/ca" dns.test >/dev/null
	DNS_PORT="" unbound_dot_start "$NS_OUT" "$OUT4" "$T/ca/dns.test"
	echo "      $OUT4:853  the real upstream: unbound, DNS-over-TLS only,"
	echo "                         certificate 'dns.test' from a throwaway CA; a.test = $DOT_A"
	rogue_start "$NS_OUT" veth-o "$T/ca/dns.test"
	echo "      $ROGUE4:53    a rogue plaintext server: a.test = $MARK_A (a marker)"

	step "2. Without dotguard: dig @$ROGUE4 a.test leaks in plaintext"
	cap_start before "$NS_OUT" veth-o
	dig_rogue "$T/dig0.out"
	cap_stop before
	echo "    on the wire: $(cap_count before port 53) port-53 packets; the rogue answered its marker"
	expect "the rogue's answer before dotguard" "$MARK_A" "$(a_of "$T/dig0.out")"
	wait_rogue_log 1
	seen=$(rogue_queries)

	step "3. dotguard run, Mode=redirect on the host's uplink"
	conf_dot_strict "$OUT4#dns.test"
	sed -i 's/^Mode=drop$/Mode=redirect/' "$CONF"
	indent <"$CONF"
	# Watch the wire from before the daemon starts: it must send nothing
	# to port 53 either.
	cap_start wire "$NS_OUT" veth-o
	dg_run_ready "$NS_HOST"
	grep 'ready' "$T/dg.log" | indent

	step "4. The same questions to the rogue now get the upstream's answer"
	echo "    dig @$ROGUE4 a.test"
	dig_rogue "$T/dig1.out"
	expect_upstream "dig @$ROGUE4 a.test" "$(a_of "$T/dig1.out")"
	grep -q "^;; SERVER: $ROGUE4#53" "$T/dig1.out" ||
		die "dig's answer did not come from $ROGUE4#53"

	echo "    kdig @$ROGUE4 a.test"
	timeout 10 ip netns exec "$NS_HOST" kdig +retry=0 +timeout=3 \
		"@$ROGUE4" a.test >"$T/kdig.out" 2>&1
	grep -E '^;; From|IN[[:space:]]+A[[:space:]]' "$T/kdig.out" | indent
	expect_upstream "kdig @$ROGUE4 a.test" "$(a_of "$T/kdig.out")"

	# glibc reads resolv.conf; `ip netns exec` bind-mounts
	# /etc/netns/NS/resolv.conf over it for that command only.
	[ -d /etc/netns ] || etc_netns=1
	mkdir -p "/etc/netns/$NS_HOST"
	defer rm -rf "/etc/netns/$NS_HOST"
	[ "$etc_netns" = 1 ] && defer rmdir /etc/netns
	printf 'nameserver %s\noptions attempts:1 timeout:3\n' "$ROGUE4" \
		>"/etc/netns/$NS_HOST/resolv.conf"
	echo "    getent ahostsv4 a.test   (glibc, resolv.conf: nameserver $ROGUE4)"
	got=$(timeout 10 ip netns exec "$NS_HOST" getent ahostsv4 a.test |
		awk 'NR == 1 { print $1 }')
	rm -rf "/etc/netns/$NS_HOST"
	[ "$etc_netns" = 1 ] && rmdir /etc/netns 2>/dev/null
	echo "      a.test = ${got:-nothing}"
	expect_upstream "getent ahostsv4 a.test" "$got"

	step "5. The wire: what crossed between the host and the outside"
	cap_stop wire
	leaked=$(cap_count wire port 53)
	echo "    port 53 (plaintext DNS):     $leaked packets"
	echo "    port 853 (TLS to upstream):  $(cap_count wire tcp port 853) packets"
	seen=$(($(rogue_queries) - seen))
	echo "    queries in the rogue's log:  $seen since dotguard started"
	if [ "$leaked" != 0 ]; then
		cap_show wire port 53
		die "$leaked port-53 packets crossed the wire"
	fi
	expect "queries the rogue saw since dotguard started" 0 "$seen"

	step "6. dotguard status: every query counted, by hook, reason and action"
	dg "$NS_HOST" status -c "$CONF" | indent
	echo "    (a redirected query shows twice: at veth-h's tc egress, then"
	echo "    into the daemon's AF_XDP socket at dg-cap-xsk, the capture veth)"

	step "7. dotguard query a.test: the well-behaved path, through the stub"
	dg "$NS_HOST" query -c "$CONF" a.test >"$T/query.out" 2>&1
	indent <"$T/query.out"
	grep -qF "$DOT_A" "$T/query.out" || die "dotguard query a.test: no $DOT_A"

	step "8. dotguard detach lifts the guard; the world is torn down"
	# SIGTERM alone would leave the guard in place (fail closed).
	kill_pid "$DG_PID"
	dg "$NS_HOST" detach -c "$CONF" 2>&1 | indent
	demo_teardown
	echo "    namespaces, bpffs mount, processes and temp files removed"
	echo
	echo "demo: every claim held"
}

main "$@"
