#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that no fragment of a port-53 datagram leaves a guarded host, in
# any order and under a flood of fragments, and that fragmented queries
# are answered (host redirect mode): a query the kernel fragments (IPv4,
# IPv6), crafted fragments sent last-first and in reverse, and one whose
# record the guard lost to 6,000 other fragmented datagrams. Each gets the
# upstream's answer; the wire carries no fragment to the rogue; ordinary
# fragmented traffic still passes.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

CRAFT=(/usr/bin/python3 "$NET_DIR/craft.py")

pre()
{
	/usr/bin/python3 -c 'import scapy' 2>/dev/null ||
		skip "python3-scapy missing (make deps)"
	redirect_world host
	cap_start out "$NS_OUT" veth-o
	dg_run_ready "$NS_HOST"
	OUTMAC=$(mac_of "$NS_OUT" veth-o)
}

craft()
{
	timeout 30 ip netns exec "$NS_HOST" "${CRAFT[@]}" "$@" 2>&1 | tail -1
}

test()
{
	local before

	log "a query the kernel fragments, in order"
	check_eq "3000-byte query to $ROGUE4" "$DOT_A" "$(craft bigq "$ROGUE4")"
	check_eq "3000-byte query to $ROGUE6" "$DOT_AAAA" "$(craft bigq "$ROGUE6")"

	log "ordinary fragmented traffic still passes"
	check_rc "a 4000-byte ping to $OUT4" 0 \
		ip netns exec "$NS_HOST" ping -q -c 1 -W 3 -s 4000 "$OUT4"
	check_rc "a 4000-byte ping to $OUT6" 0 \
		ip netns exec "$NS_HOST" ping -q -6 -c 1 -W 3 -s 4000 "$OUT6"

	log "crafted fragments out of order"
	check_eq "IPv4, last fragment first" "$DOT_A" \
		"$(craft frags veth-h "$OUTMAC" 198.51.100.1 "$ROGUE4" last-first)"
	check_eq "IPv4, in reverse" "$DOT_A" \
		"$(craft frags veth-h "$OUTMAC" 198.51.100.1 "$ROGUE4" reverse)"
	check_eq "IPv6, last fragment first" "$DOT_AAAA" \
		"$(craft frags veth-h "$OUTMAC" 2001:db8:2::1 "$ROGUE6" last-first)"
	check_eq "IPv6, in reverse" "$DOT_AAAA" \
		"$(craft frags veth-h "$OUTMAC" 2001:db8:2::1 "$ROGUE6" reverse)"

	log "the guard's record flooded away between the first fragment and the rest"
	# 6000 other fragmented datagrams, past DG_MAX_FRAGS (4096): the
	# record of the query's first fragment is evicted, so its later
	# fragments arrive with none (counted fragment-other).
	before=$(dg_count fragment-other redirect tc-egress)
	check_eq "IPv4, 6000 fragmented datagrams in between" "$DOT_A" \
		"$(craft frags veth-h "$OUTMAC" 198.51.100.1 "$ROGUE4" in-order 256 6000)"
	check_eq "IPv6, 6000 fragmented datagrams in between" "$DOT_AAAA" \
		"$(craft frags veth-h "$OUTMAC" 2001:db8:2::1 "$ROGUE6" in-order 256 6000)"
	check_ge "later fragments that found their record evicted" $((before + 2)) \
		"$(dg_count fragment-other redirect tc-egress)"


	check_ge "datagrams the daemon put back together" 8 "$(dstat redirected_reassembled)"
	check_eq "datagrams it gave up" 0 "$(dstat redirected_frag_drops)"
	check_ge "fragments with no record, redirected at tc egress" 4 \
		"$(dg_count fragment-other redirect tc-egress)"
	check_eq "fragments passed with no record" 0 \
		"$(_json_sum "$T/status.json" fragment-other pass)"
}

post()
{
	local n
	cap_stop out
	n=$(cap_count out "(dst host $ROGUE4 and ip[6:2] & 0x3fff != 0) or (dst host $ROGUE6 and ip6[6] == 44)")
	check_eq "fragments to the rogue on the wire" 0 "$n"
	[ "$n" = 0 ] || cap_show out "dst host $ROGUE4 or dst host $ROGUE6"
	n=$(cap_count out port 53)
	check_eq "port-53 packets on the wire" 0 "$n"
	check_eq "queries the rogue saw" 0 "$(rogue_queries)"
	check_ge "fragments of the 4000-byte pings on the wire" 6 \
		"$(cap_count out "(dst host $OUT4 and ip[6:2] & 0x3fff != 0) or (dst host $OUT6 and ip6[6] == 44)")"
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

dg_main
