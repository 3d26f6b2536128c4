#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that SIGTERM leaves the guard in place (exit 0, still dropping) and
# that only `dotguard detach` lifts it: DNS crosses again, the pins are
# gone, `status` then fails with one error line, a second detach is a
# no-op that still exits 0.

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
	cap_start out "$NS_OUT" veth-o
}

test()
{
	log "SIGTERM: exits 0, guard stays"
	kill_pid "$DG_PID" TERM
	check_eq "daemon exit status after SIGTERM" 0 "$KILL_RC"
	dig_q "$NS_HOST" "$OUT4"
	check_eq "dns-udp4 drop after SIGTERM" 1 "$(dg_count dns-udp4 drop)"
	check_eq "tc egress programs after SIGTERM" 1 "$(guard_progs "$NS_HOST" veth-h)"

	log "detach"
	check_rc "detach" 0 dg "$NS_HOST" detach -c "$CONF"
	check_eq "pin dir after detach" absent \
		"$([ -e "$PIN" ] && echo present || echo absent)"
	check_eq "tc egress programs after detach" 0 "$(guard_progs "$NS_HOST" veth-h)"

	log "DNS after detach crosses"
	dig_q "$NS_HOST" "$OUT4"
	pkt "$NS_HOST" udp "$OUT6" 53
	pkt "$NS_HOST" tcp "$OUT4" 53 0.5
	cap_stop out
}

post()
{
	check_eq "UDP4 to 53 on the wire (after detach)" 1 \
		"$(cap_count out ip and udp dst port 53)"
	check_eq "UDP6 to 53 on the wire (after detach)" 1 \
		"$(cap_count out ip6 and udp dst port 53)"
	check_eq "TCP4 SYN to 53 on the wire (after detach)" 1 \
		"$(cap_count out ip and tcp dst port 53)"

	dg "$NS_HOST" status -c "$CONF" --json >"$T/st.out" 2>"$T/st.err"
	check_eq "status after detach (exit code)" 1 "$?"
	check_eq "status error lines" 1 "$(grep -c 'error:' "$T/st.err")"
	check_eq "status stdout bytes" 0 "$(wc -c <"$T/st.out")"

	check_rc "second detach" 0 dg "$NS_HOST" detach -c "$CONF"
	check_eq "pin dir after second detach" absent \
		"$([ -e "$PIN" ] && echo present || echo absent)"
}

dg_main
