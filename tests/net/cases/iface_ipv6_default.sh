#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that with no Interface= (auto) every interface holding a default
# route is guarded, IPv4 or IPv6: the host's IPv4 default leaves by up4,
# its IPv6 default by up6, a link of its own. Plaintext DNS to outside
# TEST-NET addresses (dig, kdig, UDP and TCP) leaves no port-53 packet on
# either wire, each is counted as dropped, and other traffic flows out of
# both, so the wires watched are the ones the queries would take.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"

FAR4=203.0.113.99	# behind the IPv4 default route
FAR6=2001:db8:99::53	# behind the IPv6 default route

pre()
{
	require_base
	require_tools dig kdig
	world_init
	bpffs_mount
	NS_HOST=$(ns host)
	NS_OUT=$(ns out)
	NS_OUT6=$(ns out6)
	ns_add host
	ns_add out
	ns_add out6
	veth_add "$NS_HOST" up4 "$NS_OUT" veth-o
	veth_add "$NS_HOST" up6 "$NS_OUT6" veth-o6
	addr_add "$NS_HOST" up4 198.51.100.1/24
	addr_add "$NS_OUT" veth-o 198.51.100.254/24
	addr_add "$NS_HOST" up6 2001:db8:6::1/64
	addr_add "$NS_OUT6" veth-o6 2001:db8:6::fe/64
	ip -n "$NS_HOST" route add default via 198.51.100.254 dev up4
	ip -n "$NS_HOST" -6 route add default via 2001:db8:6::fe dev up6
	wait_link_up "$NS_HOST" up4
	wait_link_up "$NS_HOST" up6
	# No Interface= and no GatewayInterface=: auto.
	conf_guard drop
	dg_run_ready "$NS_HOST"
	cap_start out "$NS_OUT" veth-o
	cap_start out6 "$NS_OUT6" veth-o6
}

test()
{
	check_eq "programs on up4 (IPv4 default route)" 1 "$(guard_progs "$NS_HOST" up4)"
	check_eq "programs on up6 (only an IPv6 default route)" 1 "$(guard_progs "$NS_HOST" up6)"
	check_grep "the log says why up6 is guarded" \
		'interface up6: guarded: it holds a default route \(Interface=auto\)' "$T/dg.log"

	log "UDP: 3 to $FAR4, 3 to $FAR6"
	dig_q "$NS_HOST" "$FAR4"
	kdig_q "$NS_HOST" "$FAR4"
	pkt "$NS_HOST" udp "$FAR4" 53
	dig_q "$NS_HOST" "$FAR6"
	kdig_q "$NS_HOST" "$FAR6"
	pkt "$NS_HOST" udp "$FAR6" 53
	check_eq "dns-udp4 drop" 3 "$(dg_count dns-udp4 drop)"
	check_eq "dns-udp6 drop" 3 "$(dg_count dns-udp6 drop)"

	log "TCP: one connect() each way, shorter than the SYN RTO"
	pkt "$NS_HOST" tcp "$FAR4" 53 0.5
	pkt "$NS_HOST" tcp "$FAR6" 53 0.5
	check_eq "dns-tcp4 drop (one SYN)" 1 "$(dg_count dns-tcp4 drop)"
	check_eq "dns-tcp6 drop (one SYN)" 1 "$(dg_count dns-tcp6 drop)"

	log "other traffic leaves by each uplink"
	pkt "$NS_HOST" udp "$FAR4" 5353
	pkt "$NS_HOST" udp "$FAR6" 5353
}

post()
{
	local n
	cap_stop out
	cap_stop out6
	check_eq "UDP to 5353 on up4's wire" 1 "$(cap_count out udp dst port 5353)"
	check_eq "UDP to 5353 on up6's wire" 1 "$(cap_count out6 udp dst port 5353)"
	n=$(cap_count out port 53)
	check_eq "port-53 packets on up4's wire" 0 "$n"
	[ "$n" = 0 ] || cap_show out port 53
	n=$(cap_count out6 port 53)
	check_eq "port-53 packets on up6's wire" 0 "$n"
	[ "$n" = 0 ] || cap_show out6 port 53
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

dg_main
