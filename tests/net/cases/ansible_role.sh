#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test that what the Ansible role (tools/ansible/roles/dotguard) installs
# works end to end: the role, run in tests/ansible/sandbox.sh (the real
# /etc, /usr and /var are never written), renders dotguard.conf for this
# world (DNS= the DoT upstream, FallbackDNS= empty, CAFile= the throwaway
# CA, Interface=veth-h, PinPath= under the case's bpffs); the binary it
# installed, run with that file, answers a query through the stub and
# one sent past it with the upstream's answer, with not one port-53
# packet on the wire.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/net/dot.sh
. "$(dirname "$0")/../dot.sh"
# shellcheck source=tests/ansible/lib.sh
. "$(dirname "$0")/../../ansible/lib.sh"

# role_render: run the role in the sandbox with this world's variables;
# copy the config and the binary it installed to $T/role/out.
role_render()
{
	local r=$T/role
	mkdir -p "$r/out"
	ans_stage "$r/stage" || { cat "$r/stage.log"; die "make install into the stage"; }
	cat >"$r/vars.json" <<EOF
{"dotguard_stage_dir": "$r/stage",
 "dotguard_manage_service": false,
 "dotguard_install_packages": false,
 "dotguard_manage_resolv_conf": false,
 "dotguard_disable_resolved": false,
 "dotguard_user": "root",
 "dotguard_dns": ["$OUT4#dns.test"],
 "dotguard_fallback_dns": [],
 "dotguard_ca_file": "$T/ca/ca.pem",
 "dotguard_mode": "redirect",
 "dotguard_interface": ["veth-h"],
 "dotguard_pin_path": "$PIN"}
EOF
	(
		ans_env "$r" || exit 1
		cd "$r" || exit 1
		# The user the daemon drops to exists only in the sandbox: this
		# run stays root (User=root), the role test covers the drop.
		# shellcheck disable=SC2016 # expanded by the inner bash
		timeout 90 "$ANS_SANDBOX" "$r" bash -c '
			"$@" && cp /etc/dotguard/dotguard.conf /usr/sbin/dotguard "$0/out/"' \
			"$r" "${ANS_PLAYBOOK[@]}" -e @"$r/vars.json"
	) >"$r/ansible.log" 2>&1 || {
		tail -n 30 "$r/ansible.log"
		die "the role failed"
	}
}

pre()
{
	dot_world host dig
	require_tools ansible-playbook unshare
	DNS_PORT="" unbound_dot_start "$NS_OUT" "$OUT4" "$T/ca/dns.test"
	role_render
	# From here on lib.sh runs what the role installed, with its config.
	CONF=$T/role/out/dotguard.conf
	DOTGUARD=$T/role/out/dotguard
	dg_run_ready "$NS_HOST"
	cap_start out "$NS_OUT" veth-o
}

test()
{
	local a
	check_eq "the role's config: [Resolve] as given" \
		"DNS=$OUT4#dns.test|FallbackDNS=|DNSOverTLS=yes" \
		"$(grep -E '^(DNS|FallbackDNS|DNSOverTLS)=' "$CONF" | paste -sd '|')"
	check_eq "  [TLS] and [Guard] as given" \
		"CAFile=$T/ca/ca.pem|Mode=redirect|Interface=veth-h|PinPath=$PIN|User=root" \
		"$(grep -E '^(CAFile|Mode|Interface|PinPath|User)=' "$CONF" | paste -sd '|')"

	a=$(timeout 10 ip netns exec "$NS_HOST" dig +tries=1 +time=3 @127.0.0.53 a.test +short 2>&1)
	check_eq "a query through the stub: the upstream's answer" "$DOT_A" "$a"
	# unbound has no plaintext listener: only the guard can answer this.
	a=$(timeout 10 ip netns exec "$NS_HOST" dig +tries=1 +time=3 "@$OUT4" a.test +short 2>&1)
	check_eq "a query sent past the stub: answered through the guard" "$DOT_A" "$a"

	status_json "$NS_HOST"
	check_eq "status: the guard on veth-h" "tc-egress attached" \
		"$(json_get "$T/status.json" '" ".join(a["hook"] + " " + a["state"] for a in d["attached"] if a["interface"] == "veth-h")')"
	check_eq "status: the upstream is up" "$OUT4#dns.test up" \
		"$(json_get "$T/status.json" '" ".join(u["name"] + " " + u["state"] for u in d["daemon"]["upstreams"])')"
}

post()
{
	check_wire_clean
}

dg_main
