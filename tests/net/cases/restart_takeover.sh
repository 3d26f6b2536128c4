#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that `run` after a `kill -9` takes over the guard it left: exactly
# one program on the uplink's tc egress, the pinned counters carry on
# (not reset), and DNS is still dropped.

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
	local id1 id2 tcid
	dig_q "$NS_HOST" "$OUT4"
	pkt "$NS_HOST" udp "$OUT4" 53
	check_eq "dns-udp4 drop before the restart" 2 "$(dg_count dns-udp4 drop)"
	id1=$(json_get "$T/status.json" 'd["attached"][0]["prog_id"]')

	log "kill -9, run again with the same config"
	kill_pid "$DG_PID" KILL
	dg_run_ready "$NS_HOST"

	check_eq "tc egress programs" 1 "$(guard_progs "$NS_HOST" veth-h)"
	check_eq "tc filters (tc filter show)" 1 \
		"$(tc -n "$NS_HOST" filter show dev veth-h egress | grep -c ' bpf .* id ')"
	check_eq "dns-udp4 drop right after the restart (preserved)" 2 \
		"$(dg_count dns-udp4 drop)"
	check_eq "attach points" 1 "$(json_get "$T/status.json" 'len(d["attached"])')"
	check_eq "attach state" attached \
		"$(json_get "$T/status.json" 'd["attached"][0]["state"]')"
	id2=$(json_get "$T/status.json" 'd["attached"][0]["prog_id"]')
	tcid=$(tc -n "$NS_HOST" filter show dev veth-h egress |
		sed -n 's/.* id \([0-9]*\) .*/\1/p' | head -1)
	check_eq "status prog_id = program on veth-h" "$tcid" "$id2"
	echo "prog_id before $id1, after $id2"

	log "still drops"
	dig_q "$NS_HOST" "$OUT4"
	check_eq "dns-udp4 drop after the restart" 3 "$(dg_count dns-udp4 drop)"
	cap_stop out
}

post()
{
	check_eq "port-53 packets on the wire" 0 "$(cap_count out port 53)"
	check_eq "daemon running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

dg_main
