# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# shellcheck shell=bash
#
# The DoT test bed: a throwaway CA made with openssl, leaf certificates,
# SPKI pins, and a real unbound serving DNS-over-TLS from local data only.
#
# Cases source it after lib.sh: unbound_dot_start and wait_port use lib.sh's
# defer, kill_pid, die and $T. ca_make, cert_make, spki_pin and
# unbound_dot_conf need nothing from lib.sh, so tests/unit/test_tls.c
# sources this file alone (bash -c '. tests/net/dot.sh; ca_make ...').
#
# unbound never sends a packet anywhere: every name is answered from
# local-zone data ("." is a static zone), and the only forwarder is a
# loopback discard port that do-not-query-localhost forbids anyway.

# The zone every upstream serves (the netns cases and the unit tests
# assert these exact answers).
DOT_A=203.0.113.10
DOT_AAAA=2001:db8::10
# Ports: DoT, and plain DNS for the floor ("" = no plain listener).
DOT_PORT=${DOT_PORT:-853}
DNS_PORT=${DNS_PORT-53}

_ub_n=0
UB_PID=""

# _dot_fail MSG: lib.sh's die when sourced after it, else a message and a
# non-zero return for the caller's `||`.
_dot_fail()
{
	if declare -F die >/dev/null; then
		die "$*"
	fi
	echo "dot.sh: $*" >&2
	return 1
}

# ca_make DIR: a throwaway CA (P-256) in DIR: ca.key, ca.pem, and the
# `openssl ca` state (ca.cnf, index.txt, serial) cert_make signs with.
ca_make()
{
	local dir=$1
	mkdir -p "$dir/issued" || _dot_fail "mkdir $dir" || return 1
	dir=$(cd "$dir" && pwd)
	: >"$dir/index.txt"
	echo 1000 >"$dir/serial"
	# A config of our own: the system openssl.cnf must not add or
	# clash with extensions.
	cat >"$dir/ca.cnf" <<EOF
[ req ]
distinguished_name = req_dn
prompt = no

[ req_dn ]
CN = dotguard test CA

[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ ca ]
default_ca = dg_ca

[ dg_ca ]
database = $dir/index.txt
new_certs_dir = $dir/issued
serial = $dir/serial
certificate = $dir/ca.pem
private_key = $dir/ca.key
default_md = sha256
default_days = 2
policy = dg_policy
unique_subject = no
email_in_dn = no
copy_extensions = none

[ dg_policy ]
commonName = supplied
EOF
	openssl req -x509 -new -nodes -config "$dir/ca.cnf" \
		-extensions v3_ca -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-keyout "$dir/ca.key" -out "$dir/ca.pem" -days 2 \
		-subj "/CN=dotguard test CA $RANDOM" 2>"$dir/openssl.err" ||
		_dot_fail "openssl req (CA in $dir): $(tail -n 3 "$dir/openssl.err")"
}

# cert_make DIR NAME [--expired] [--ip ADDR] [--name-only] [--rsa]
#           [--out BASE]
# A leaf for NAME signed by the CA in DIR: DIR/BASE.key and DIR/BASE.pem
# (BASE defaults to NAME, or NAME-expired with --expired).
#   SAN DNS:NAME, plus IP:ADDR with --ip (may repeat).
#   --expired    valid 2020-01-01 to 2020-01-02 only.
#   --name-only  no subjectAltName at all, NAME only in the subject CN
#                (a legacy certificate; RFC 6125 clients may refuse it).
#   --rsa        an RSA-2048 key instead of P-256.
cert_make()
{
	local dir=$1 name=$2 base="" expired=0 nameonly=0 rsa=0 san
	local -a ips=() dates=(-days 2) key
	shift 2
	while [ $# -gt 0 ]; do
		case $1 in
		--expired) expired=1 ;;
		--ip) ips+=("$2"); shift ;;
		--name-only) nameonly=1 ;;
		--rsa) rsa=1 ;;
		--out) base=$2; shift ;;
		*) _dot_fail "cert_make: unknown option $1"; return 1 ;;
		esac
		shift
	done
	dir=$(cd "$dir" && pwd) || return 1
	if [ -z "$base" ]; then
		base=$name
		[ "$expired" = 1 ] && base=$name-expired
	fi
	[ "$expired" = 1 ] && dates=(-startdate 20200101000000Z -enddate 20200102000000Z)
	if [ "$rsa" = 1 ]; then
		key=(-newkey rsa:2048)
	else
		key=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1)
	fi
	{
		echo "basicConstraints = critical, CA:FALSE"
		echo "keyUsage = critical, digitalSignature, keyEncipherment"
		echo "extendedKeyUsage = serverAuth"
		echo "subjectKeyIdentifier = hash"
		echo "authorityKeyIdentifier = keyid"
		if [ "$nameonly" = 0 ]; then
			san="DNS:$name"
			for ip in "${ips[@]}"; do
				san="$san, IP:$ip"
			done
			echo "subjectAltName = $san"
		fi
	} >"$dir/$base.ext"
	openssl req -new -nodes -config "$dir/ca.cnf" "${key[@]}" \
		-keyout "$dir/$base.key" -out "$dir/$base.csr" \
		-subj "/CN=$name" 2>"$dir/openssl.err" ||
		{ _dot_fail "openssl req ($name): $(tail -n 3 "$dir/openssl.err")"; return 1; }
	openssl ca -batch -notext -config "$dir/ca.cnf" "${dates[@]}" \
		-extfile "$dir/$base.ext" -in "$dir/$base.csr" \
		-out "$dir/$base.pem" 2>"$dir/openssl.err" ||
		{ _dot_fail "openssl ca ($name): $(tail -n 3 "$dir/openssl.err")"; return 1; }
}

# spki_pin CERT: the base64 SHA-256 of CERT's SubjectPublicKeyInfo (DER),
# as SPKIPin= and RFC 7469 spell it.
spki_pin()
{
	openssl x509 -in "$1" -noout -pubkey |
		openssl pkey -pubin -outform der |
		openssl dgst -sha256 -binary | base64
}

# unbound_dot_conf FILE ADDR CERTBASE [LINE...]: an unbound.conf serving
# DoT on ADDR@$DOT_PORT with CERTBASE.pem/.key, plain DNS on
# ADDR@$DNS_PORT (none when DNS_PORT is empty), the test zone from local
# data, extra server: LINEs appended. Log and pid file beside FILE.
unbound_dot_conf()
{
	local file=$1 addr=$2 cert=$3 dir stem i line big=""
	shift 3
	dir=$(cd "$(dirname "$file")" && pwd) || return 1
	stem=$dir/$(basename "$file" .conf)
	# 8 distinct 200-byte strings: about 1.7 KB of TXT, past the 1232-byte
	# EDNS buffer, so UDP truncates and only TCP/TLS gets it whole.
	for ((i = 0; i < 8; i++)); do
		printf -v line '%0200d' "$i"
		big+="	local-data: 'big.test. 300 IN TXT \"$i$line\"'"$'\n'
	done
	{
		cat <<EOF
server:
	username: ""
	chroot: ""
	directory: "$dir"
	pidfile: "$stem.pid"
	logfile: "$stem.log"
	use-syslog: no
	verbosity: 1
	log-queries: yes
	do-daemonize: no
	num-threads: 1
	so-reuseport: no
	incoming-num-tcp: 128
	tcp-idle-timeout: 30000
	interface: $addr@$DOT_PORT
EOF
		[ -n "$DNS_PORT" ] && echo "	interface: $addr@$DNS_PORT"
		cat <<EOF
	tls-port: $DOT_PORT
	tls-service-pem: "$cert.pem"
	tls-service-key: "$cert.key"
	access-control: 0.0.0.0/0 allow
	access-control: ::/0 allow
	module-config: "iterator"
	do-not-query-localhost: yes
	local-zone: "." static
	local-zone: "test." static
	local-data: "test. 3600 IN SOA ns.test. hostmaster.test. 1 3600 600 86400 60"
	local-data: "test. 3600 IN NS ns.test."
	local-data: "a.test. 300 IN A $DOT_A"
	local-data: "aaaa.test. 300 IN AAAA $DOT_AAAA"
$big
EOF
		for line in "$@"; do
			echo "	$line"
		done
		cat <<EOF
forward-zone:
	name: "."
	forward-addr: 127.0.0.1@9
remote-control:
	control-enable: no
EOF
	} >"$file"
	unbound-checkconf "$file" >"$stem.check" 2>&1 ||
		{ _dot_fail "unbound-checkconf $file: $(tail -n 3 "$stem.check")"; return 1; }
}

# _listening NS ADDR PORT: a TCP listener on ADDR:PORT in NS ("" = here).
_listening()
{
	local want=$2:$3
	[[ "$2" == *:* ]] && want="[$2]:$3"
	if [ -n "$1" ]; then
		ip netns exec "$1" ss -Hltn 2>/dev/null
	else
		ss -Hltn 2>/dev/null
	fi | awk '{ print $4 }' | grep -qxF -- "$want"
}

# _wait_port NS ADDR PORT [PID]: wait_port's loop, returning 1 on timeout
# or when PID exited, without dying.
_wait_port()
{
	local i
	for ((i = 0; i < 100; i++)); do
		_listening "$1" "$2" "$3" && return 0
		if [ -n "${4:-}" ] && ! kill -0 "$4" 2>/dev/null; then
			return 1
		fi
		sleep 0.05
	done
	return 1
}

# wait_port NS ADDR PORT [PID]: until something listens on TCP ADDR:PORT
# in NS ("" = this namespace), bounded ~5 s, or PID exits (then fail).
wait_port()
{
	_wait_port "$@" ||
		_dot_fail "nothing listens on $2:$3${1:+ in $1}${4:+ (pid $4)}"
}

# unbound_dot_start NS ADDR CERTBASE [LINE...]: a real unbound in NS (""
# = this namespace) serving DoT on ADDR@$DOT_PORT with CERTBASE.pem/.key
# and plain DNS on ADDR@$DNS_PORT; returns once both listen. Sets UB_PID
# and UB_LOG; stopped at teardown. Needs lib.sh (defer, kill_pid, $T).
unbound_dot_start()
{
	local n=$1 addr=$2 cert=$3 conf
	shift 3
	_ub_n=$((_ub_n + 1))
	conf=$T/unbound$_ub_n.conf
	UB_LOG=$T/unbound$_ub_n.log
	unbound_dot_conf "$conf" "$addr" "$cert" "$@" || return 1
	if [ -n "$n" ]; then
		ip netns exec "$n" unbound -d -c "$conf" \
			</dev/null >>"$T/unbound$_ub_n.out" 2>&1 &
	else
		unbound -d -c "$conf" </dev/null >>"$T/unbound$_ub_n.out" 2>&1 &
	fi
	UB_PID=$!
	defer kill_pid "$UB_PID"
	if ! _wait_port "$n" "$addr" "$DOT_PORT" "$UB_PID" ||
		{ [ -n "$DNS_PORT" ] && ! _wait_port "$n" "$addr" "$DNS_PORT" "$UB_PID"; }; then
		cat "$T/unbound$_ub_n.out" "$UB_LOG" 2>/dev/null | tail -n 20
		_dot_fail "unbound on $addr did not start"
		return 1
	fi
}

# conf_dot_strict DNS [LINE...]: $CONF for strict DoT (DNSOverTLS=yes)
# to DNS (IP[:port]#name ..., FallbackDNS= empty) trusting $T/ca, with
# Mode=drop on veth-h. Cache= LINEs go to [Resolve], the others to [TLS].
# Needs lib.sh ($CONF, $T, $PIN).
# shellcheck disable=SC2153 # $CONF is lib.sh's
conf_dot_strict()
{
	local dns=$1 l
	shift
	{
		printf '[Resolve]\nDNS=%s\nFallbackDNS=\nDNSOverTLS=yes\n' "$dns"
		for l in "$@"; do
			[[ "$l" == Cache=* ]] && echo "$l"
		done
		printf '[TLS]\nCAFile=%s\n' "$T/ca/ca.pem"
		for l in "$@"; do
			[[ "$l" == Cache=* ]] || echo "$l"
		done
		printf '[Guard]\nMode=drop\nInterface=veth-h\nPinPath=%s\n' "$PIN"
	} >"$CONF"
}

# dstat KEY [UPSTREAM]: one field of a fresh `status --json` "daemon"
# object of $DG_NS, or of upstreams[UPSTREAM]; KEY may be dotted
# (failures.verify). Needs lib.sh.
dstat()
{
	local expr='d["daemon"]' k l
	[ -n "${2:-}" ] && expr+="[\"upstreams\"][$2]"
	IFS=. read -ra k <<<"$1"
	for l in "${k[@]}"; do
		expr+="[\"$l\"]"
	done
	status_json "$DG_NS" || { echo "status-failed"; return 0; }
	json_get "$T/status.json" "$expr"
}

# now_ms: a monotonic-enough clock for bounded-time assertions.
now_ms()
{
	echo $(($(date +%s%N) / 1000000))
}

# The rogue plaintext server of the redirect cases: on ROGUE4/ROGUE6 port 53
# it answers the test zone with marker addresses, so a leak shows in the
# answer as well as on the wire. Its log lists every query it saw.
ROGUE4=198.51.100.9
ROGUE6=2001:db8:2::9
MARK_A=192.0.2.99
MARK_AAAA=2001:db8::99

# rogue_start NS IF CERTBASE: add the rogue's addresses to IF in NS and
# start it; sets ROGUE_LOG. Needs lib.sh.
rogue_start()
{
	addr_add "$1" "$2" "$ROGUE4/24"
	addr_add "$1" "$2" "$ROGUE6/64"
	# DoT on a spare port: unbound_dot_conf always serves DoT.
	DOT_A=$MARK_A DOT_AAAA=$MARK_AAAA DOT_PORT=8853 DNS_PORT=53 \
		unbound_dot_start "$1" "$ROGUE4" "$3" "interface: $ROGUE6@53" ||
		return 1
	ROGUE_LOG=$UB_LOG
}

# rogue_queries: how many queries the rogue has logged (log-queries:
# "info: CLIENT NAME TYPE CLASS").
rogue_queries()
{
	grep -cE 'info: [0-9a-f.:]+ [^ ]+ [A-Z0-9]+ IN$' "$ROGUE_LOG"
}

# dot_world TOPO [TOOL...]: the start of every DoT case: root, the tools
# (unbound and openssl always), a world with its bpffs, lib.sh's topo_TOPO
# (host or gateway), and a throwaway CA in $T/ca with a dns.test leaf.
dot_world()
{
	local topo=$1
	shift
	require_base
	require_tools "$@" unbound openssl
	world_init
	bpffs_mount
	"topo_$topo"
	ca_make "$T/ca"
	cert_make "$T/ca" dns.test >/dev/null
}

# check_wire_clean: stop the "out" capture; not one port-53 packet on it.
check_wire_clean()
{
	local n
	cap_stop out
	n=$(cap_count out port 53)
	check_eq "port-53 packets on the wire" 0 "$n"
	[ "$n" = 0 ] || cap_show out port 53
}

# redirect_world TOPO [LINE...]: the world of the redirect cases, TOPO host or
# gateway (lib.sh's topo_*): a DoT upstream on $OUT4 (no plaintext
# listener; extra unbound server: LINEs), the rogue, and $CONF for strict
# DoT in Mode=redirect, on veth-h (host) or the gateway's LAN port
# veth-lan. dotguard is not started.
redirect_world()
{
	local topo=$1
	shift
	dot_world "$topo" dig kdig
	DNS_PORT="" unbound_dot_start "$NS_OUT" "$OUT4" "$T/ca/dns.test" "$@"
	rogue_start "$NS_OUT" veth-o "$T/ca/dns.test"
	conf_dot_strict "$OUT4#dns.test"
	sed -i 's/^Mode=drop$/Mode=redirect/' "$CONF"
	[ "$topo" = gateway ] &&
		sed -i 's/^Interface=veth-h$/GatewayInterface=veth-lan/' "$CONF"
	return 0
}

# check_no_leak: stop the "out" capture; no port-53 packet crossed the
# wire and the rogue saw no query.
check_no_leak()
{
	check_wire_clean
	check_eq "queries the rogue saw" 0 "$(rogue_queries)"
}
