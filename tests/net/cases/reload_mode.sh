#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that SIGHUP applies a new Mode= without lifting the guard (the same
# program stays attached, nothing leaks while the mode changes), and that
# a config broken on reload is refused with FILE:LINE while the running
# policy stays.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"

pre()
{
	require_base
	world_init
	bpffs_mount
	topo_host
	conf_guard drop Interface=veth-h
	dg_run_ready "$NS_HOST"
	cap_start out "$NS_OUT" veth-o
}

# wait_log TEXT: the daemon logged TEXT (bounded ~5 s).
wait_log()
{
	local i
	for ((i = 0; i < 50; i++)); do
		grep -q -- "$1" "$T/dg.log" && return 0
		sleep 0.1
	done
	sed 's/^/    /' "$T/dg.log"
	die "dotguard never logged '$1'"
}

# running_config: "SHA256 APPLIED REFUSED" of the daemon's running config,
# from status --json (the pins, not the file: it may be broken).
running_config()
{
	status_json "$NS_HOST"
	json_get "$T/status.json" \
		'" ".join(str(d["daemon"]["config"][k]) for k in ("sha256", "reloads", "reloads_refused"))'
}

test()
{
	local prog_before prog_after sum_monitor

	status_json "$NS_HOST"
	prog_before=$(json_get "$T/status.json" 'd["attached"][0]["prog_id"]')
	check_eq "status: the running config's sha256 is the file's" \
		"$(sha256sum "$CONF" | cut -d' ' -f1) 0 0" "$(running_config)"
	pkt "$NS_HOST" udp "$OUT4" 53

	log "drop -> monitor by SIGHUP"
	conf_guard monitor Interface=veth-h
	kill -HUP "$DG_PID"
	wait_log "reloaded: guarding veth-h"
	sum_monitor=$(sha256sum "$CONF" | cut -d' ' -f1)
	check_eq "status: after the reload, the new file's sha256; 1 reload applied" \
		"$sum_monitor 1 0" "$(running_config)"
	pkt "$NS_HOST" udp "$OUT4" 53
	pkt "$NS_HOST" udp "$OUT4" 53

	log "a broken file on reload is refused; monitor stays"
	echo "Mode=blok" >>"$CONF"
	kill -HUP "$DG_PID"
	wait_log "reload refused"
	check_grep "FILE:LINE of the bad line" "$CONF:[0-9]+: " "$T/dg.log"
	pkt "$NS_HOST" udp "$OUT4" 53
	cap_stop out
	# status reads PinPath= from the file, so give it a valid one again.
	conf_guard monitor Interface=veth-h
	check_eq "status: the refused reload left the running config's sha256; 1 refused" \
		"$sum_monitor 1 1" "$(running_config)"

	status_json "$NS_HOST"
	prog_after=$(json_get "$T/status.json" 'd["attached"][0]["prog_id"]')
	check_eq "program kept across reloads" "$prog_before" "$prog_after"
}

post()
{
	check_eq "dns-udp4 drop (before the reload)" 1 "$(dg_count dns-udp4 drop)"
	check_eq "dns-udp4 monitor (after it)" 3 "$(dg_count dns-udp4 monitor)"
	check_eq "UDP to 53 on the wire (monitored only)" 3 \
		"$(cap_count out udp dst port 53)"
	check_eq "mode" monitor "$(json_get "$T/status.json" 'd["mode"]')"
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

dg_main
