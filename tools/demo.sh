#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# `make demo`: a throwaway world of two network namespaces, dotguard in
# Mode=drop on the guarded host's uplink, an application trying plaintext
# DNS, and tcpdump on the wire showing that nothing crossed. Everything is
# torn down on exit, Ctrl-C included. Needs root; builds nothing itself.
#
# Reuses the netns helpers of the integration tests (tests/net/lib.sh).

set -u

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tests/net/lib.sh
. "$REPO/tests/net/lib.sh"

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

main()
{
	local t
	[ "$(id -u)" = 0 ] || { echo "demo: needs root (netns, tc, bpffs)"; exit 1; }
	[ -x "$DOTGUARD" ] || { echo "demo: no $DOTGUARD: run 'make' first"; exit 1; }
	for t in ip tc tcpdump dig "$PY"; do
		command -v "$t" >/dev/null 2>&1 ||
			{ echo "demo: $t missing: run 'make deps'"; exit 1; }
	done
	trap _teardown EXIT
	trap 'echo; echo "interrupted: cleaning up"; exit 130' INT
	trap 'exit 143' TERM

	step "Building a throwaway world: ns 'host' (guarded) -- veth -- ns 'out' ($OUT4)"
	world_init
	bpffs_mount
	topo_host
	ip -n "$NS_HOST" -br addr show veth-h | indent

	step "Starting 'dotguard run' with Mode=drop on the host's uplink veth-h"
	conf_guard drop Interface=veth-h
	indent <"$CONF"
	dg_run_ready "$NS_HOST"
	grep 'ready' "$T/dg.log" | indent

	step "Watching the wire on the out side with tcpdump"
	cap_start wire "$NS_OUT" veth-o
	echo "    listening on veth-o"

	step "An application tries plaintext DNS: dig @$OUT4 example.test"
	ip netns exec "$NS_HOST" dig +tries=1 +time=1 "@$OUT4" example.test 2>&1 |
		grep '^;;' | indent

	step "Other traffic still flows: ping $OUT4"
	pkt "$NS_HOST" ping "$OUT4" | indent
	cap_stop wire

	step "Port-53 packets that crossed the wire: $(cap_count wire port 53)"
	echo "    (all packets seen on the wire: $(cap_count wire))"

	step "dotguard status"
	dg "$NS_HOST" status -c "$CONF" | indent

	step "dotguard status --json | head"
	dg "$NS_HOST" status -c "$CONF" --json |
		"$PY" -m json.tool 2>/dev/null | head -n 20 | indent

	step "Tearing down: dotguard detach, namespaces and mounts removed"
	kill_pid "$DG_PID"
	dg "$NS_HOST" detach -c "$CONF" 2>&1 | indent
	_teardown
	echo "    done"
}

main "$@"
