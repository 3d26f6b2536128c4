#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test the attach-slot bound (DG_MAX_SLOTS, 64) with a glob that matches
# more: with 66 matching links at start the daemon starts, guards 64 and
# names each of the other two in one error line, counted in
# links_unguarded. When guarded links go away, their slots are taken by
# the two left out and by a link that appears later, each guarded within
# a second; the count does not grow for links already reported; the
# daemon never stops.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

SLOTS=64
LINKS=66

pre()
{
	local i
	require_base
	require_tools bpftool
	world_init
	bpffs_mount
	NS_HOST=$(ns host)
	ns_add host
	# Both ends here; only bdN matches the glob. The namespace takes
	# them along at teardown.
	for ((i = 0; i < LINKS; i++)); do
		echo "link add bd$i type veth peer name pb$i"
	done | ip -n "$NS_HOST" -batch - || die "making $LINKS veth pairs"
	conf_guard drop "Interface=bd*"
	# 64 programs to load: more than wait_ready's 10 s on a slow machine.
	: >"$T/dg.log"
	dg_start "$NS_HOST"
	for ((i = 0; i < 600; i++)); do
		grep -q 'ready' "$T/dg.log" && break
		kill -0 "$DG_PID" 2>/dev/null || break
		sleep 0.1
	done
	grep -q 'ready' "$T/dg.log" || { sed 's/^/    /' "$T/dg.log"; die "not ready"; }
}

# guarded: how many bdN links carry a guard program.
guarded()
{
	ip netns exec "$NS_HOST" bpftool net show 2>/dev/null |
		grep -cE '^bd[0-9]+\([0-9]+\) .*egress'
}

test()
{
	local t0 i ms

	check_eq "bdN links guarded at start" "$SLOTS" "$(guarded)"
	check_eq "error lines" 2 "$(grep -c 'error:' "$T/dg.log")"
	check_grep "bd64 named" \
		'error: interface bd64: matches Interface= but is NOT guarded: no attach slot left \(at most 64\)' \
		"$T/dg.log"
	check_grep "bd65 named" 'error: interface bd65: .*NOT guarded' "$T/dg.log"
	check_eq "links_unguarded" 2 "$(dstat links_unguarded)"
	check_eq "bd65 has no program" 0 "$(guard_progs "$NS_HOST" bd65)"

	log "bd0..bd4 go away: bd64 and bd65 take two of their slots"
	t0=$(date +%s%N)
	for ((i = 0; i < 5; i++)); do
		echo "link del bd$i"
	done | ip -n "$NS_HOST" -batch - || die "deleting bd0..bd4"
	wait_guarded "$NS_HOST" bd64 "$t0"
	ms=$GUARD_MS
	wait_guarded "$NS_HOST" bd65 "$t0"
	check_eq "bd64 and bd65 guarded within a second (took $ms and $GUARD_MS ms)" 1 \
		"$((ms >= 0 && ms < 1000 && GUARD_MS >= 0 && GUARD_MS < 1000))"

	log "bd99 appears: a third freed slot"
	t0=$(date +%s%N)
	ip -n "$NS_HOST" link add bd99 type veth peer name pb99 || die "ip link add bd99"
	wait_guarded "$NS_HOST" bd99 "$t0"
	check_eq "bd99 guarded within a second (took $GUARD_MS ms)" 1 \
		"$((GUARD_MS >= 0 && GUARD_MS < 1000))"
	check_eq "bdN links guarded" "$((SLOTS - 5 + 3))" "$(guarded)"
	check_eq "links_unguarded (each counted once)" 2 "$(dstat links_unguarded)"
	# Two records of links gone stay until a slot or a reload needs them.
	check_eq "status: attach points attached" "$((SLOTS - 5 + 3))" \
		"$(json_get "$T/status.json" 'len([a for a in d["attached"] if a["state"] == "attached"])')"
	check_eq "error lines (still the two)" 2 "$(grep -c 'error:' "$T/dg.log")"

	log "a packet through bd65 is dropped by its guard"
	ip -n "$NS_HOST" link set pb65 up
	ip -n "$NS_HOST" link set bd65 up
	wait_link_up "$NS_HOST" bd65
	pkt "$NS_HOST" frame bd65 02:00:00:00:00:01 198.51.100.1 198.51.100.2 53
	check_eq "dns-udp4 drop" 1 "$(dg_count dns-udp4 drop)"
}

post()
{
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

dg_main
