#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that the guard fails closed: after `kill -9` of the daemon, DNS is
# still dropped and counted, and `status` works from the pins alone.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"

pre()
{
	require_base
	require_tools dig kdig
	world_init
	bpffs_mount
	topo_host
	conf_guard drop Interface=veth-h
	dg_run_ready "$NS_HOST"
	cap_start out "$NS_OUT" veth-o
}

test()
{
	dig_q "$NS_HOST" "$OUT4"
	check_eq "dns-udp4 drop before the kill" 1 "$(dg_count dns-udp4 drop)"

	log "kill -9 the daemon"
	kill_pid "$DG_PID" KILL
	check_eq "daemon exit status" 137 "$KILL_RC"

	log "DNS after the kill"
	dig_q "$NS_HOST" "$OUT4"
	kdig_q "$NS_HOST" "$OUT6"
	pkt "$NS_HOST" udp "$OUT4" 53
	pkt "$NS_HOST" tcp "$OUT4" 53 0.5
	check_rc "ping $OUT4 after the kill" 0 pkt "$NS_HOST" ping "$OUT4"
	cap_stop out
}

post()
{
	check_rc "status with the daemon dead" 0 status_json "$NS_HOST"
	check_eq "dns-udp4 drop after the kill" 3 \
		"$(_json_sum "$T/status.json" dns-udp4 drop)"
	check_eq "dns-udp6 drop after the kill" 1 \
		"$(_json_sum "$T/status.json" dns-udp6 drop)"
	check_eq "dns-tcp4 drop after the kill" 1 \
		"$(_json_sum "$T/status.json" dns-tcp4 drop)"
	check_eq "attach state" attached \
		"$(json_get "$T/status.json" '",".join(a["state"] for a in d["attached"])')"
	check_eq "port-53 packets on the wire" 0 "$(cap_count out port 53)"
	check_eq "status version" 1 "$(json_get "$T/status.json" 'd["version"]')"
	check_eq "status pin_path" "$PIN" "$(json_get "$T/status.json" 'd["pin_path"]')"
	check_eq "status time is RFC 3339" True \
		"$(json_get "$T/status.json" '__import__("re").fullmatch(
			r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
			d["time"]) is not None')"
	check_eq "totals.seen = sum of counter rows" True \
		"$(json_get "$T/status.json" '(d["totals"]["seen"] ==
			sum(c["packets"] for c in d["counters"]))')"
	check_rc "human status with the daemon dead" 0 \
		dg "$NS_HOST" status -c "$CONF"
}

dg_main
