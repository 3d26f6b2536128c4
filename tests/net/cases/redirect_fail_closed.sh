#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that Mode=redirect with no socket to redirect to fails closed: DNS
# is dropped and counted as "fail-closed", never passed.

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
	conf_guard redirect Interface=veth-h
	dg_run_ready "$NS_HOST"
	cap_start out "$NS_OUT" veth-o
}

test()
{
	dig_q "$NS_HOST" "$OUT4"
	pkt "$NS_HOST" udp "$OUT4" 53
	kdig_q "$NS_HOST" "$OUT6"
	pkt "$NS_HOST" tcp "$OUT4" 53 0.5
	check_rc "ping $OUT4" 0 pkt "$NS_HOST" ping "$OUT4"
	cap_stop out
}

post()
{
	check_eq "port-53 packets on the wire" 0 "$(cap_count out port 53)"
	check_eq "dns-udp4 fail-closed" 2 "$(dg_count dns-udp4 fail-closed)"
	check_eq "dns-udp6 fail-closed" 1 \
		"$(_json_sum "$T/status.json" dns-udp6 fail-closed)"
	check_eq "mode" redirect "$(json_get "$T/status.json" 'd["mode"]')"
	check_eq "totals.fail-closed" 4 \
		"$(json_get "$T/status.json" 'd["totals"]["fail-closed"]')"
	check_eq "DNS passed, monitored or redirected" 0 \
		"$(json_get "$T/status.json" 'sum(c["packets"] for c in d["counters"]
			if c["reason"].startswith("dns-")
			and c["action"] in ("pass", "monitor", "redirect"))')"
}

dg_main
