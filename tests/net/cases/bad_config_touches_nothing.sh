#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that a bad config or a missing interface touches nothing: `run`
# exits 1 naming FILE:LINE (or the interface, in one error line), creates
# no pin dir and no tc hook; `check-config` reports the same lines.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"

# untouched WHEN: no pins, no tc hook or program, no XDP on veth-h.
untouched()
{
	check_eq "pin dir $1" absent \
		"$([ -e "$PIN" ] && echo present || echo absent)"
	check_eq "tc egress programs $1" 0 "$(guard_progs "$NS_HOST" veth-h)"
	check_eq "clsact qdisc $1" 0 \
		"$(tc -n "$NS_HOST" qdisc show dev veth-h | grep -c clsact)"
	check_eq "xdp $1" 0 "$(ip -n "$NS_HOST" link show veth-h | grep -c xdp)"
}

pre()
{
	require_base
	world_init
	bpffs_mount
	topo_host
	_arm_detach "$NS_HOST"
}

test()
{
	log "Mode=sideways on line 4"
	conf_write <<-CONF
		[Resolve]
		DNS=203.0.113.53#dns.test
		[Guard]
		Mode=sideways
		Interface=veth-h
		PinPath=$PIN
	CONF
	timeout 20 ip netns exec "$NS_HOST" "$DOTGUARD" run -c "$CONF" \
		>"$T/run.out" 2>"$T/run.err"
	check_eq "run with a bad config (exit code)" 1 "$?"
	check_grep "run names $CONF:4:" "$CONF:4: .*sideways" "$T/run.err"
	untouched "after run"

	dg "$NS_HOST" check-config -c "$CONF" >"$T/cc.out" 2>"$T/cc.err"
	check_eq "check-config (exit code)" 1 "$?"
	check_grep "check-config names $CONF:4:" "$CONF:4: .*sideways" "$T/cc.err"
	check_eq "check-config FILE:LINE lines = run's" \
		"$(grep -F "$CONF:" "$T/run.err" | grep "$CONF:[0-9][0-9]*:")" \
		"$(grep -F "$CONF:" "$T/cc.err" | grep "$CONF:[0-9][0-9]*:")"

	log "a valid config passes check-config, still touching nothing"
	conf_guard drop Interface=veth-h
	check_rc "check-config of a valid config" 0 dg "$NS_HOST" check-config -c "$CONF"
	untouched "after check-config"

	log "Interface=nosuch0: one error line naming it"
	conf_guard drop Interface=nosuch0
	timeout 20 ip netns exec "$NS_HOST" "$DOTGUARD" run -c "$CONF" \
		>"$T/run2.out" 2>"$T/run2.err"
	check_eq "run with a missing interface (exit code)" 1 "$?"
	check_eq "error lines" 1 "$(grep -c 'error:' "$T/run2.err")"
	check_grep "the error names nosuch0" 'error:.*nosuch0' "$T/run2.err"
	untouched "after the missing interface"
}

post()
{
	local f
	for f in run.err cc.err run2.err; do
		echo "$f:"
		sed 's/^/    /' "$T/$f"
	done
}

dg_main
