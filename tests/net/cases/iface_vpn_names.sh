#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test Interface=wg* ppp*, the links a VPN or a PPP dial-up brings up
# after the daemon started: no link matches at start (the daemon starts
# anyway, saying so); wg0, an Ethernet-like link, and ppp0, an L3-only
# tun device with no Ethernet header, are each guarded within a second of
# appearing. Plaintext DNS (UDP and TCP, IPv4 and IPv6) through them
# leaves no port-53 packet: on wg0's wire (tcpdump), and out of ppp0,
# whose "wire" is what the process holding the tun reads. veth-h, which
# matches neither glob, is not touched.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"

WG_PEER=203.0.113.254
PPP_PEER=192.0.2.2
PPP_PEER6=2001:db8:7::2

pre()
{
	require_base
	require_tools dig
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
	world_init
	bpffs_mount
	topo_host
	NS_WG=$(ns wg)
	ns_add wg
	conf_guard drop "Interface=wg* ppp*"
	dg_run_ready "$NS_HOST"
}

# tun_start NAME SECONDS: a process holding the tun NAME (made by it, so
# its appearance is an event) that writes "ready" once it is made, then
# one line per packet it reads: "udp DPORT", "tcp DPORT" or "other".
# Returns once NAME exists, TUN_T0 (date +%s%N) within 10 ms of that.
tun_start()
{
	local i
	ip netns exec "$NS_HOST" "$PY" - "$1" "$2" >"$T/tun.out" 2>"$T/tun.err" <<'EOF' &
import fcntl, os, select, struct, sys, time
TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454ca, 0x0001, 0x1000
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", sys.argv[1].encode(), IFF_TUN | IFF_NO_PI))
print("ready", flush=True)
end = time.time() + float(sys.argv[2])
while time.time() < end:
    if not select.select([fd], [], [], 0.1)[0]:
        continue
    p = os.read(fd, 4096)
    if p[0] >> 4 == 4:
        proto, l4 = p[9], p[(p[0] & 15) * 4:]
    elif p[0] >> 4 == 6:
        proto, l4 = p[6], p[40:]
    else:
        proto, l4 = 0, b""
    name = {6: "tcp", 17: "udp"}.get(proto)
    if name and len(l4) >= 4:
        print(name, struct.unpack("!H", l4[2:4])[0], flush=True)
    else:
        print("other", flush=True)
EOF
	TUN_PID=$!
	defer kill_pid "$TUN_PID"
	for ((i = 0; i < 500; i++)); do
		grep -q ready "$T/tun.out" 2>/dev/null && break
		kill -0 "$TUN_PID" 2>/dev/null || break
		sleep 0.01
	done
	TUN_T0=$(date +%s%N)
	grep -q ready "$T/tun.out" || { cat "$T/tun.err"; die "no tun $1"; }
}

# tun_count PATTERN: lines the tun reader wrote matching PATTERN.
tun_count()
{
	grep -c -- "$1" "$T/tun.out"
}

test()
{
	local t0 i

	check_grep "the daemon started with nothing matching yet, and said so" \
		'Interface=wg\* ppp\* matches no interface yet' "$T/dg.log"
	check_eq "programs on veth-h (matches neither glob)" 0 "$(guard_progs "$NS_HOST" veth-h)"

	log "wg0 appears (a veth so named)"
	t0=$(date +%s%N)
	ip -n "$NS_HOST" link add wg0 type veth peer name wg-peer netns "$NS_WG" ||
		die "ip link add wg0"
	defer ip -n "$NS_HOST" link del wg0
	wait_guarded "$NS_HOST" wg0 "$t0"
	check_eq "wg0 guarded within a second of appearing (took $GUARD_MS ms)" 1 \
		"$((GUARD_MS >= 0 && GUARD_MS < 1000))"
	addr_add "$NS_HOST" wg0 203.0.113.1/24
	addr_add "$NS_WG" wg-peer "$WG_PEER/24"
	ip -n "$NS_HOST" link set wg0 up
	ip -n "$NS_WG" link set wg-peer up
	wait_link_up "$NS_HOST" wg0
	cap_start wg "$NS_WG" wg-peer
	dig_q "$NS_HOST" "$WG_PEER"
	pkt "$NS_HOST" udp "$WG_PEER" 53 2
	pkt "$NS_HOST" tcp "$WG_PEER" 53 0.5
	pkt "$NS_HOST" udp "$WG_PEER" 5353

	log "ppp0 appears (a tun: L3 only)"
	tun_start ppp0 60
	wait_guarded "$NS_HOST" ppp0 "$TUN_T0"
	check_eq "ppp0 guarded within a second of appearing (took $GUARD_MS ms)" 1 \
		"$((GUARD_MS >= 0 && GUARD_MS < 1000))"
	# Up first: IPv6 routes its peer only on a link that is up.
	ip -n "$NS_HOST" link set ppp0 up
	ip -n "$NS_HOST" addr add 192.0.2.1 peer "$PPP_PEER" dev ppp0 ||
		die "address on ppp0"
	ip -n "$NS_HOST" -6 addr add 2001:db8:7::1 peer "$PPP_PEER6" dev ppp0 nodad ||
		die "IPv6 address on ppp0"
	pkt "$NS_HOST" udp "$PPP_PEER" 53 2
	pkt "$NS_HOST" udp "$PPP_PEER6" 53 2
	pkt "$NS_HOST" tcp "$PPP_PEER" 53 0.5
	pkt "$NS_HOST" tcp "$PPP_PEER6" 53 0.5
	pkt "$NS_HOST" udp "$PPP_PEER" 5353
	pkt "$NS_HOST" udp "$PPP_PEER6" 5353
	# The reader writes a line per packet: wait for the two datagrams
	# sent last, so every packet before them has been read.
	for ((i = 0; i < 50; i++)); do
		[ "$(tun_count 'udp 5353')" = 2 ] && break
		sleep 0.1
	done

	check_eq "dns-udp4 drop (wg0: dig + 2, ppp0: 2)" 5 "$(dg_count dns-udp4 drop)"
	check_eq "dns-udp6 drop (ppp0: 2)" 2 "$(dg_count dns-udp6 drop)"
	check_eq "dns-tcp4 drop (wg0, ppp0: one SYN each)" 2 "$(dg_count dns-tcp4 drop)"
	check_eq "dns-tcp6 drop (ppp0: one SYN)" 1 "$(dg_count dns-tcp6 drop)"
}

post()
{
	local n
	cap_stop wg
	check_eq "UDP to 5353 on wg0's wire" 1 "$(cap_count wg udp dst port 5353)"
	n=$(cap_count wg port 53)
	check_eq "port-53 packets on wg0's wire" 0 "$n"
	[ "$n" = 0 ] || cap_show wg port 53
	check_eq "UDP to 5353 read from ppp0" 2 "$(tun_count 'udp 5353')"
	check_eq "port-53 packets read from ppp0" 0 "$(tun_count ' 53$')"
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
}

dg_main
