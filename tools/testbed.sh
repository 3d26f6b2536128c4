#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# A named test bed to poke at dotguard by hand (after bpf-examples'
# testenv). It lives until you tear it down.
#
#   tools/testbed.sh setup [--gateway] [NAME]   make the namespaces
#   tools/testbed.sh exec NAME NS CMD...        run CMD in NAME's ns NS
#   tools/testbed.sh enter NAME NS              a shell there
#   tools/testbed.sh list                       test beds that exist
#   tools/testbed.sh teardown [NAME]            remove everything
#
# Host bed:    ns NAME-host (veth-h 198.51.100.1, 2001:db8:2::1)
#              -- ns NAME-out (veth-o 198.51.100.53, 2001:db8:2::53)
# Gateway bed: ns NAME-client (veth-c 192.0.2.2) -- (veth-lan 192.0.2.1)
#              ns NAME-gw (veth-wan 198.51.100.1) -- ns NAME-out
# A bpffs is mounted at /run/dotguard-testbed/NAME/bpf, and a config using
# it is written there; `exec` exports LIBXDP_BPFFS to match. NAME defaults
# to "dgtb". Only TEST-NET addresses are used.

set -u

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DOTGUARD=${DOTGUARD:-$REPO/dotguard}
STATE=/run/dotguard-testbed

die()
{
	echo "testbed: $*" >&2
	exit 1
}

usage()
{
	sed -n '7,11s/^# \{0,1\}//p' "$0"
	exit 1
}

# veth NS1 IF1 ADDRS1 NS2 IF2 ADDRS2 (ADDRS: space-separated, with /len)
veth()
{
	local a
	ip -n "$1" link add "$2" type veth peer name "$5" netns "$4" || exit 1
	for a in $3; do ip -n "$1" addr add "$a" dev "$2" nodad 2>/dev/null ||
		ip -n "$1" addr add "$a" dev "$2"; done
	for a in $6; do ip -n "$4" addr add "$a" dev "$5" nodad 2>/dev/null ||
		ip -n "$4" addr add "$a" dev "$5"; done
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
}

nsadd()
{
	ip netns add "$1" || exit 1
	ip -n "$1" link set lo up
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 >/dev/null
}

cmd_setup()
{
	local gw=0 name dir iface role
	if [ "${1:-}" = --gateway ]; then
		gw=1
		shift
	fi
	name=${1:-dgtb}
	dir=$STATE/$name
	[ -e "$dir" ] && die "$name exists: '$0 teardown $name' first"
	mkdir -p "$dir/bpf" || die "mkdir $dir/bpf"
	mount -t bpf bpf "$dir/bpf" || die "mount bpffs at $dir/bpf"
	nsadd "$name-out"
	if [ "$gw" = 1 ]; then
		nsadd "$name-client"
		nsadd "$name-gw"
		veth "$name-client" veth-c "192.0.2.2/24 2001:db8:1::2/64" \
			"$name-gw" veth-lan "192.0.2.1/24 2001:db8:1::1/64"
		veth "$name-gw" veth-wan "198.51.100.1/24 2001:db8:2::1/64" \
			"$name-out" veth-o "198.51.100.53/24 2001:db8:2::53/64"
		ip netns exec "$name-gw" sysctl -qw net.ipv4.ip_forward=1 \
			net.ipv6.conf.all.forwarding=1 >/dev/null
		ip -n "$name-client" route add 198.51.100.0/24 via 192.0.2.1
		ip -n "$name-client" -6 route add 2001:db8:2::/64 via 2001:db8:1::1
		ip -n "$name-out" route add 192.0.2.0/24 via 198.51.100.1
		ip -n "$name-out" -6 route add 2001:db8:1::/64 via 2001:db8:2::1
		iface=GatewayInterface=veth-lan
		role=gw
	else
		nsadd "$name-host"
		veth "$name-host" veth-h "198.51.100.1/24 2001:db8:2::1/64" \
			"$name-out" veth-o "198.51.100.53/24 2001:db8:2::53/64"
		iface=Interface=veth-h
		role=host
	fi
	echo "$name-$role" >"$dir/dgns"
	printf '[Resolve]\nDNS=203.0.113.53#dns.test\nFallbackDNS=\n[Guard]\nMode=drop\n%s\nPinPath=%s\n' \
		"$iface" "$dir/bpf/dotguard" >"$dir/dotguard.conf"
	echo "test bed $name ready; config $dir/dotguard.conf; try:"
	echo "  $0 exec $name $role $DOTGUARD run -c $dir/dotguard.conf -v"
	echo "  $0 exec $name out tcpdump -ni veth-o port 53"
}

# nsname NAME NS: the namespace, checked.
nsname()
{
	[ -d "$STATE/$1" ] || die "no test bed $1 ('$0 list')"
	ip netns list | grep -q "^$1-$2\b" || die "$1 has no namespace $2"
	echo "$1-$2"
}

cmd_exec()
{
	[ $# -ge 3 ] || usage
	local n
	n=$(nsname "$1" "$2") || exit 1
	LIBXDP_BPFFS=$STATE/$1/bpf exec ip netns exec "$n" "${@:3}"
}

cmd_enter()
{
	[ $# -eq 2 ] || usage
	cmd_exec "$1" "$2" "${SHELL:-/bin/bash}"
}

cmd_list()
{
	local d
	for d in "$STATE"/*/; do
		[ -d "$d" ] && echo "$(basename "$d"): config ${d}dotguard.conf"
	done
	return 0
}

cmd_teardown()
{
	local name=${1:-dgtb} dir n ns pid i
	dir=$STATE/$name
	[ -d "$dir" ] || die "no test bed $name"
	# Stop what runs in the namespaces (a running dotguard holds the pin
	# dir), then lift the guard, then remove the namespaces.
	for n in client gw host out; do
		ip netns list | grep -q "^$name-$n\b" || continue
		for pid in $(ip netns pids "$name-$n"); do
			kill "$pid" 2>/dev/null
		done
	done
	for ((i = 0; i < 30; i++)); do
		n=$(for ns in client gw host out; do
			ip netns pids "$name-$ns" 2>/dev/null; done)
		[ -z "$n" ] && break
		sleep 0.1
	done
	if [ -f "$dir/dgns" ] && [ -x "$DOTGUARD" ]; then
		LIBXDP_BPFFS=$dir/bpf timeout 20 ip netns exec "$(cat "$dir/dgns")" \
			"$DOTGUARD" detach -c "$dir/dotguard.conf"
	fi
	for n in client gw host out; do
		ip netns list | grep -q "^$name-$n\b" && ip netns del "$name-$n"
	done
	mountpoint -q "$dir/bpf" && umount -l "$dir/bpf"
	rm -rf "$dir"
	echo "test bed $name removed"
}

[ "$(id -u)" = 0 ] || die "needs root"
cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
setup | exec | enter | list | teardown) "cmd_$cmd" "$@" ;;
*) usage ;;
esac
