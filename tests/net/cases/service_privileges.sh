#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that with User= the daemon runs unprivileged once started (every
# uid and gid of /proc/PID/status is that user's; it keeps exactly the
# capabilities it still uses, permitted but none in effect while it
# serves), and still does its whole job, raising them only for the kernel
# work: the stub, a redirected query over UDP and TCP, a reload that
# moves it to other upstreams, and re-guarding an interface that is
# deleted and re-created; between those, none is in effect again.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"

# CAP_DAC_OVERRIDE 1, CAP_NET_ADMIN 12, CAP_NET_RAW 13 (new AF_XDP
# sockets), CAP_SYS_ADMIN 21, CAP_PERFMON 38, CAP_BPF 39.
CAPS=$(printf '%016x' $(((1 << 1) | (1 << 12) | (1 << 13) | (1 << 21) | (1 << 38) | (1 << 39))))

pre()
{
	redirect_world host
	id nobody >/dev/null 2>&1 || skip "no user 'nobody' here"
	echo "User=nobody" >>"$CONF"
	cap_start out "$NS_OUT" veth-o
	dg_run_ready "$NS_HOST"
}

# field NAME: the /proc/PID/status line NAME of the daemon, values only.
field()
{
	awk -v k="$1:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "/proc/$DG_PID/status"
}

test()
{
	local nobody
	nobody=$(id -u nobody)
	check_eq "Uid (real, effective, saved, fs)" "$nobody $nobody $nobody $nobody" "$(field Uid)"
	check_eq "Gid (real, effective, saved, fs)" \
		"$(id -g nobody) $(id -g nobody) $(id -g nobody) $(id -g nobody)" "$(field Gid)"
	check_eq "no supplementary groups" "" "$(field Groups)"
	check_eq "CapEff: none in effect while serving" 0000000000000000 "$(field CapEff)"
	check_eq "CapPrm: exactly what it still uses" "$CAPS" "$(field CapPrm)"
	check_eq "CapBnd: nothing else can come back" "$CAPS" "$(field CapBnd)"
	check_eq "NoNewPrivs" 1 "$(field NoNewPrivs)"
	check_grep "the log says so" "running as nobody" "$T/dg.log"

	check_eq "the stub answers" "$DOT_A" \
		"$(ns_exec "$NS_HOST" dig +short +tries=1 +time=3 @127.0.0.53 a.test)"
	check_eq "a redirected query (UDP) is answered" "$DOT_A" \
		"$(ns_exec "$NS_HOST" dig +short +tries=1 +time=3 "@$ROGUE4" a.test)"
	check_eq "a redirected query (TCP) is answered" "$DOT_AAAA" \
		"$(ns_exec "$NS_HOST" dig +tcp +short +tries=1 +time=3 "@$ROGUE4" aaaa.test AAAA)"

	log "reload to another upstream, unprivileged"
	addr_add "$NS_OUT" veth-o 198.51.100.54/24
	DNS_PORT="" unbound_dot_start "$NS_OUT" 198.51.100.54 "$T/ca/dns.test"
	sed -i 's/^DNS=.*/DNS=198.51.100.54#dns.test/' "$CONF"
	kill -HUP "$DG_PID"
	sleep 0.5
	check_grep "the reload went through" "upstreams replaced" "$T/dg.log"
	# big.test was never asked: the cache cannot answer it.
	check_eq "a new name is answered (8 TXT strings over TCP)" 8 \
		"$(ns_exec "$NS_HOST" dig +tcp +short +tries=1 +time=3 @127.0.0.53 big.test TXT | wc -l)"
	check_eq "by the new upstream" "198.51.100.54#dns.test 1" \
		"$(status_json "$NS_HOST" && json_get "$T/status.json" \
			'd["daemon"]["upstreams"][0]["name"] + " " + str(d["daemon"]["upstreams"][0]["answers"])')"

	log "veth-h deleted and re-created: guarded again, unprivileged"
	ip -n "$NS_HOST" link del veth-h
	ip -n "$NS_HOST" link add veth-h type veth peer name veth-o netns "$NS_OUT"
	for ((i = 0; i < 100; i++)); do
		[ "$(guard_progs "$NS_HOST" veth-h)" = 1 ] && break
		sleep 0.01
	done
	check_eq "the tc guard is back on the new veth-h" 1 "$(guard_progs "$NS_HOST" veth-h)"
	check_eq "dotguard still running" 0 "$(kill -0 "$DG_PID"; echo $?)"
	check_eq "after the reload and the re-guard, CapEff is empty again" \
		0000000000000000 "$(field CapEff)"
	check_eq "CapPrm unchanged" "$CAPS" "$(field CapPrm)"
}

post()
{
	check_wire_clean
}

dg_main
