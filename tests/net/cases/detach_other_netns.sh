#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that a guard is lifted only from the network namespace it was
# attached in: `detach` and `run` elsewhere with the same PinPath= refuse
# with one error line naming the interface and both namespaces, remove
# nothing (pins, program, drops all stay), and `detach` where it was
# attached lifts it. (Before, detach elsewhere removed the pins, said
# "guard lifted", exited 0, and left the program attached for good.)

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"

pre()
{
	require_base
	require_tools dig
	world_init
	bpffs_mount
	topo_host
	conf_guard drop Interface=veth-h
	dg_run_ready "$NS_HOST"
	kill_pid "$DG_PID" TERM
	cap_start out "$NS_OUT" veth-o
}

test()
{
	local out n_pins
	n_pins=$(find "$PIN" -mindepth 1 | wc -l)
	check_ge "pins before" 5 "$n_pins"

	log "detach from another namespace refuses"
	out=$(dg "$NS_OUT" detach -c "$CONF" 2>&1)
	check_eq "detach elsewhere: exit code" 1 "$(dg "$NS_OUT" detach -c "$CONF" >/dev/null 2>&1; echo $?)"
	echo "$out" >"$T/detach.err"
	check_grep "the error names the interface and the namespaces" \
		"error: PinPath=.*: the guard on veth-h \\(tc-egress\\) was attached in another network namespace \\(net:\\[[0-9]+\\], this is net:\\[[0-9]+\\]\\); cannot detach it from here" \
		"$T/detach.err"
	check_eq "one error line" 1 "$(grep -c 'error:' "$T/detach.err")"
	check_eq "no 'guard lifted'" 0 "$(grep -c 'guard lifted' "$T/detach.err")"
	check_eq "pins after the refused detach" "$n_pins" "$(find "$PIN" -mindepth 1 | wc -l)"
	check_eq "tc egress programs on veth-h" 1 "$(guard_progs "$NS_HOST" veth-h)"
	dig_q "$NS_HOST" "$OUT4"
	check_eq "a query from the guarded host is still dropped" 1 "$(dg_count dns-udp4 drop)"
	check_grep "status elsewhere says where the guard is" "veth-h +tc-egress +other-netns" \
		<(dg "$NS_OUT" status -c "$CONF" 2>&1)

	log "run from another namespace, same PinPath=, refuses too"
	# Monitor mode there: the refused start must not change the mode.
	sed 's/^Interface=veth-h$/Interface=veth-o/; s/^Mode=drop$/Mode=monitor/' \
		"$CONF" >"$T/other.conf"
	check_eq "run elsewhere: exit code" 1 \
		"$(timeout 20 ip netns exec "$NS_OUT" "$DOTGUARD" run -c "$T/other.conf" >"$T/run.err" 2>&1; echo $?)"
	check_eq "no program attached on veth-o" 0 "$(guard_progs "$NS_OUT" veth-o)"
	check_grep "run elsewhere: why" "attached in another network namespace .*cannot start a guard here" "$T/run.err"
	check_eq "pins after the refused run" "$n_pins" "$(find "$PIN" -mindepth 1 | wc -l)"
	dig_q "$NS_HOST" "$OUT4"
	check_eq "the guarded host's queries are still dropped" 2 "$(dg_count dns-udp4 drop)"

	log "detach where it was attached lifts it"
	check_rc "detach in the host namespace" 0 dg "$NS_HOST" detach -c "$CONF"
	check_eq "pin dir" absent "$([ -e "$PIN" ] && echo present || echo absent)"
	check_eq "tc egress programs on veth-h" 0 "$(guard_progs "$NS_HOST" veth-h)"
}

post()
{
	cap_stop out
	check_eq "port-53 packets on the wire while guarded" 0 "$(cap_count out port 53)"
}

dg_main
