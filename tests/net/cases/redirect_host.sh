#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test host redirect mode end to end: applications on the guarded host ask
# a rogue plaintext server (which answers every name with a marker
# address) with dig, kdig, getent (glibc) and a raw socket, over IPv4 and
# IPv6. Each gets the real
# upstream's answer, fetched over DoT, from the address it asked; not one
# port-53 packet crosses the wire; the rogue never sees a query; the tc
# and daemon counters account for every query.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

pre()
{
	redirect_world host
	cap_start out "$NS_OUT" veth-o
	dg_run_ready "$NS_HOST"
	# Where the answer frames come back in: their source is checked.
	cap_start near "$NS_HOST" dg-cap
}

# ask TOOL SERVER NAME TYPE: the answer's addresses, one line.
ask()
{
	case $1 in
	dig) timeout 10 ip netns exec "$NS_HOST" dig +short +tries=1 +time=3 \
		"@$2" "$3" "$4" 2>&1 | tr '\n' ' ' ;;
	kdig) timeout 10 ip netns exec "$NS_HOST" kdig +short +retry=0 +timeout=3 \
		"@$2" "$3" "$4" 2>&1 | tr '\n' ' ' ;;
	esac
}

test()
{
	check_ge "an XDP program on the capture end (native)" 1 \
		"$(ip -n "$NS_HOST" -d link show dg-cap-xsk | grep -c 'prog/xdp id')"
	check_eq "dig A @$ROGUE4" "$DOT_A " "$(ask dig "$ROGUE4" a.test A)"
	check_eq "kdig A @$ROGUE4" "$DOT_A " "$(ask kdig "$ROGUE4" a.test A)"
	check_eq "dig AAAA @$ROGUE6" "$DOT_AAAA " "$(ask dig "$ROGUE6" aaaa.test AAAA)"
	check_eq "kdig A @$ROGUE6" "$DOT_A " "$(ask kdig "$ROGUE6" a.test A)"
	check_eq "dig A @$ROGUE4 (again)" "$DOT_A " "$(ask dig "$ROGUE4" a.test A)"

	log "glibc (getent) with a resolv.conf naming the rogue"
	# ip netns exec bind-mounts /etc/netns/NS/resolv.conf over /etc's.
	[ -d /etc/netns ] || defer rmdir --ignore-fail-on-non-empty /etc/netns
	mkdir -p "/etc/netns/$NS_HOST"
	defer rm -rf "/etc/netns/$NS_HOST"
	printf 'nameserver %s\noptions attempts:1 timeout:3\n' "$ROGUE4" \
		>"/etc/netns/$NS_HOST/resolv.conf"
	check_eq "getent ahostsv4 a.test" "$DOT_A" \
		"$(timeout 10 ip netns exec "$NS_HOST" getent ahostsv4 a.test | awk 'NR == 1 { print $1 }')"

	log "a raw socket with its own UDP header"
	pkt "$NS_HOST" raw "$ROGUE4" 53
	sleep 0.3

	# dig 2 + kdig 1 + getent ahostsv4 (A only) 1
	# + raw 1 over IPv4; dig 1 + kdig 1 over IPv6.
	check_eq "queries redirected at tc (IPv4)" 5 "$(dg_count dns-udp4 redirect tc-egress)"
	check_eq "queries redirected at tc (IPv6)" 2 "$(_json_sum "$T/status.json" dns-udp6 redirect tc-egress)"
	check_eq "daemon: redirected queries" 7 "$(dstat redirected_queries)"
	check_eq "daemon: redirected answers" 7 "$(dstat redirected_answers)"
	check_eq "daemon: bad frames" 0 "$(dstat redirected_bad_frames)"
	check_eq "daemon: answers from the upstream" 2 "$(dstat answers 0)"
}

post()
{
	check_idle_cpu
	cap_stop near
	check_eq "answers from $ROGUE4:53 on the capture veth (dig 2, kdig, getent, raw)" 5 \
		"$(cap_count near "udp and src host $ROGUE4 and src port 53")"
	check_eq "answers from $ROGUE6:53 on the capture veth (dig, kdig)" 2 \
		"$(cap_count near "udp and src host $ROGUE6 and src port 53")"
	check_eq "answers from any other address" 0 \
		"$(cap_count near "udp and src port 53 and not src host $ROGUE4 and not src host $ROGUE6")"
	check_no_leak
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

dg_main
