#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Test that the Ansible role tools/ansible/roles/dotguard installs and
# configures dotguard the way an administrator would check it, without
# changing the real host: every ansible-playbook run (-c local, localhost)
# happens in tests/ansible/sandbox.sh, a private mount namespace in which
# /etc, /usr and /var are overlays whose upper dirs (on a tmpfs) show
# exactly what the role wrote.
#
# Part 1, the files (dotguard_manage_service=false): first run, second run
# idempotent, which handler each kind of change notifies (reload or
# restart), every config key rendered and accepted by check-config, a bad
# value refused by check-config with the config left byte-identical, a
# missing stage refused.
# Part 2, the service: a throwaway systemd (the host's own, PID 1 of a
# PID, network, cgroup and mount namespace over the same kind of
# overlays) runs the role with dotguard_manage_service=true: dotguard is
# started by its real unit on a veth of that namespace, reloaded,
# restarted, and the role's audit step passes, or fails when the guard is
# missing.
# Then: nothing leaked to the real host.
#
# Prints "ok: ..." / "FAIL: ..." / "SKIP: ..." per check and ends with
# "N passed, N failed". Needs root, ansible-playbook, unshare, overlayfs.
# Environment: OUT and SAN (the build flavour `make test` runs), MAKE,
# DG_ANSIBLE_PARTS ("files service": the parts to run).

set -u
cd "$(dirname "$0")/../.." || exit 1
REPO=$PWD
SELF=$REPO/tests/ansible/test_role.sh
# shellcheck source=tests/ansible/lib.sh
. "$REPO/tests/ansible/lib.sh"
OUT=${OUT:-.output}
SAN=${SAN:-0}
MAKE=${MAKE:-make}
case $OUT in
/*) BUILT=$OUT/dotguard ;;
*) BUILT=$REPO/$OUT/dotguard ;;
esac
passed=0 failed=0

# shellcheck source=tests/checks.sh
. "$REPO/tests/checks.sh"

# check_grep WHAT ERE FILE: FILE has a line matching ERE. On failure, an
# ansible-playbook log shows its errors and recap, anything else its end.
check_grep()
{
	if grep -Eq -- "$2" "$3" 2>/dev/null; then
		ok "$1"
	else
		fail "$1: no line matching /$2/ in $(basename "$3"):"
		{ grep -E '^(fatal|failed): |^localhost +:' "$3" || tail -n 15 "$3"; } 2>/dev/null |
			cut -c 1-400 | sed 's/^/    /'
	fi
}

# ---- reading ansible-playbook's output (the default callback) -------------

# recap LOG FIELD: FIELD=N of the PLAY RECAP line.
recap()
{
	sed -n "s/^localhost *:.* $2=\([0-9]*\).*/\1/p" "$1" | tail -n 1
}

# changed_tasks LOG: the tasks and handlers that reported "changed",
# sorted, joined with "|".
changed_tasks()
{
	awk '/^(TASK|RUNNING HANDLER) \[/ { t = $0; sub(/^[A-Z ]*\[([a-z_]+ : )?/, "", t); sub(/\] \**$/, "", t) }
		/^changed: \[/ { print t }' "$1" | sort -u | paste -sd '|'
}

# handlers LOG: the handlers that ran (changed or skipped), in order.
handlers()
{
	sed -n 's/^RUNNING HANDLER \[dotguard : \(.*\)\] \**$/\1/p' "$1" | paste -sd '|'
}

# handler_result LOG NAME: what the handler did: changed, skipping, ok...
handler_result()
{
	awk -v h="RUNNING HANDLER [dotguard : $2]" 'index($0, h) == 1 { f = 1; next }
		f && /^[a-z]+: \[/ { sub(/:.*/, ""); print; exit }' "$1"
}

# failed_task LOG: the task that failed (the one before "fatal:").
failed_task()
{
	awk '/^(TASK|RUNNING HANDLER) \[/ { t = $0; sub(/^[A-Z ]*\[([a-z_]+ : )?/, "", t); sub(/\] \**$/, "", t) }
		/^(fatal|failed): \[/ { print t; exit }' "$1"
}

# ---- running the role ------------------------------------------------------

# play NAME [JSON|--OPTION...]: the role on localhost (-c local) with
# $tmp/base.json and then each JSON object (or @FILE) as extra vars, later
# ones winning; --OPTIONs go to ansible-playbook as they are. Output in
# $tmp/NAME.log; RC is ansible-playbook's exit code. Inside the sandbox only.
RC=""
PLAY_TIMEOUT=120
play()
{
	local name=$1 j e=() t0
	shift
	for j in "$@"; do
		case $j in
		--*) e+=("$j") ;;
		*) e+=(-e "$j") ;;
		esac
	done
	t0=$(date +%s%N)
	(cd "$tmp" && timeout "$PLAY_TIMEOUT" "${IN_BOX[@]}" "${ANS_PLAYBOOK[@]}" \
		-e @"$tmp/base.json" "${e[@]}") >"$tmp/$name.log" 2>&1
	RC=$?
	echo "-- ansible-playbook: $name (exit $RC, $((($(date +%s%N) - t0) / 1000000)) ms)"
}
IN_BOX=()

# The keys config.c implements (test_install.sh reads them the same way).
parser_keys()
{
	sed -nE 's/^[[:space:]]*\{ SEC_[A-Z]+, "([A-Za-z]+)", parse_[a-z_]+,.*/\1/p' \
		"$REPO/user/config.c"
}

# conf_keys FILE: the keys set in FILE, sorted, one line.
conf_keys()
{
	sed -n 's/^\([A-Za-z]*\)=.*/\1/p' "$1" | sort -u | paste -sd ' '
}

# owner_mode PATH: "user:group mode"
owner_mode()
{
	stat -c '%U:%G %a' "$1" 2>/dev/null
}

CONF=/etc/dotguard/dotguard.conf
STATE=/var/lib/dotguard/restart-only.conf
BIN=/usr/sbin/dotguard
UNIT=/usr/lib/systemd/system/dotguard.service
MAN8=/usr/share/man/man8/dotguard.8
MAN5=/usr/share/man/man5/dotguard.conf.5
SYSU=/usr/lib/sysusers.d/dotguard.conf
RELOAD='Write /etc/dotguard/dotguard.conf'
RESTART_STATE='Record the values that need a restart'

# ---- part 1: the files, in the sandbox -------------------------------------

inner_files()
{
	local cc dns pkgs=true pin v upper expected noise uid gid home shell
	readlink /proc/self/ns/mnt >"$tmp/ns.files"
	# The runtime libraries: apt only checks them when all are installed
	# (it must not fetch anything); else the task is skipped.
	for v in libbpf1 libxdp1 libwolfssl35 libmnl0 libelf1 python3-apt; do
		dpkg-query -W -f='${Status}\n' "$v" 2>/dev/null | grep -q 'ok installed' || pkgs=false
	done
	[ "$pkgs" = true ] ||
		skip "runtime libraries or python3-apt not all installed: dotguard_install_packages=false"
	cat >"$tmp/base.json" <<EOF
{"dotguard_stage_dir": "$tmp/stage",
 "dotguard_manage_service": false,
 "dotguard_install_packages": $pkgs,
 "dotguard_interface": ["eth0"]}
EOF
	# Later runs skip apt: run 2 already showed it idempotent.
	local nopkg='{"dotguard_install_packages": false}'

	echo "-- 1. first run"
	play first
	check_eq "first run: exit code" 0 "$RC"
	check_eq "first run: failed=0" 0 "$(recap "$tmp/first.log" failed)"
	v=$(recap "$tmp/first.log" changed)
	check_eq "first run: changed > 0" yes "$([ "${v:-0}" -gt 0 ] && echo yes || echo "no ($v)")"
	check_eq "the binary: root:root 0755" "root:root 755" "$(owner_mode $BIN)"
	check "  identical to the one built" cmp "$BUILT" $BIN
	check_eq "the unit: root:root 0644" "root:root 644" "$(owner_mode $UNIT)"
	check "  the staged one" cmp "$tmp/stage$UNIT" $UNIT
	check_eq "the man pages: root:root 0644" "root:root 644 root:root 644" \
		"$(owner_mode $MAN8) $(owner_mode $MAN5)"
	check "  dotguard(8) is the staged one" cmp "$tmp/stage$MAN8" $MAN8
	check "  dotguard.conf(5) is the staged one" cmp "$tmp/stage$MAN5" $MAN5
	if [ -f "$tmp/stage$SYSU" ]; then
		check_eq "the sysusers.d entry: root:root 0644" "root:root 644" "$(owner_mode $SYSU)"
	else
		skip "the stage has no sysusers.d entry"
	fi
	check_eq "the config: root:root 0644" "root:root 644" "$(owner_mode $CONF)"
	check_eq "  in /etc/dotguard (root:root 0755)" "root:root 755" "$(owner_mode /etc/dotguard)"
	check_grep "  says it is managed by Ansible" '^# .*managed by Ansible; local changes are overwritten' $CONF
	cc=$($BIN check-config -c $CONF 2>&1)
	check_eq "  check-config: the role's defaults (the shipped upstreams)" \
		"$CONF: ok (4 DNS, 2 fallback, DNSOverTLS=yes, Mode=redirect)" "$cc"
	check_eq "  DNS= is dotguard_dns" \
		"DNS=9.9.9.9#dns.quad9.net 149.112.112.112#dns.quad9.net 1.1.1.1#cloudflare-dns.com 1.0.0.1#cloudflare-dns.com" \
		"$(grep '^DNS=' $CONF)"
	check_eq "  FallbackDNS= is dotguard_fallback_dns" "FallbackDNS=8.8.8.8#dns.google 8.8.4.4#dns.google" \
		"$(grep '^FallbackDNS=' $CONF)"
	check_eq "  Interface= is dotguard_interface" "Interface=eth0" "$(grep '^Interface=' $CONF)"
	check_eq "  unset variables write no line (only these keys)" \
		"DNS DNSOverTLS FallbackDNS Interface Mode User" "$(conf_keys $CONF)"
	IFS=: read -r _ _ uid gid _ home shell <<<"$(getent passwd dotguard)"
	check_eq "the dotguard user: a system account (uid < 1000) with its group" yes \
		"$([ "${uid:-1000}" -lt 1000 ] && [ "$(getent group dotguard | cut -d: -f3)" = "$gid" ] && echo yes)"
	check_eq "  no home, no login" "/ /usr/sbin/nologin" "${home:-} ${shell:-}"
	check_eq "  no home directory made" no "$([ -e /home/dotguard ] && echo yes || echo no)"
	check_eq "/etc/resolv.conf: a file, first nameserver the stub" "file 127.0.0.53" \
		"$([ -L /etc/resolv.conf ] && echo link || echo file) $(awk '$1 == "nameserver" { print $2; exit }' /etc/resolv.conf)"
	check_grep "  with options edns0 trust-ad" '^options edns0 trust-ad$' /etc/resolv.conf
	check_eq "service tasks skipped (dotguard_manage_service=false)" \
		"skipping skipping" "$(handler_result "$tmp/first.log" 'Restart dotguard') $(handler_result "$tmp/first.log" 'Reload dotguard')"
	# What the overlays caught is what the role wrote. The user database
	# (passwd, group, shadow, gshadow, their "-" backups, lock) and the
	# apt/python caches vary by host, so they are listed apart.
	upper=$(cd "$tmp/ov" && find etc/upper usr/upper var/upper ! -type d |
		sed 's|^\([a-z]*\)/upper|/\1|' | sort)
	noise='^/etc/(passwd|group|shadow|gshadow|subuid|subgid)-?$|^/etc/\.pwd\.lock$|^/var/cache/|^/var/lib/apt/|^/var/log/|^/usr/lib/python3/.*/__pycache__/'
	expected=$(printf '%s\n' $BIN $UNIT $MAN8 $MAN5 $CONF $STATE /etc/resolv.conf \
		"$([ -f "$tmp/stage$SYSU" ] && echo $SYSU)" | grep . | sort)
	check_eq "the role wrote exactly these files (overlay upper dirs)" \
		"$(echo "$expected" | paste -sd ' ')" \
		"$(echo "$upper" | grep -Ev "$noise" | paste -sd ' ')"
	check_eq "  and the user database" yes \
		"$(echo "$upper" | grep -qx /etc/passwd && echo "$upper" | grep -qx /etc/shadow && echo yes)"

	echo "-- 2. the same run again"
	play second
	check_eq "second run: exit code" 0 "$RC"
	check_eq "second run: changed=0 (idempotent)" 0 "$(recap "$tmp/second.log" changed)"
	check_eq "second run: no handler notified" "" "$(handlers "$tmp/second.log")"

	echo "-- 3. a local edit: --check --diff reports it"
	echo "Cache=no" >>$CONF
	play check "$nopkg" --check --diff
	check_eq "--check: exit code" 0 "$RC"
	check_eq "  only the config would change" "$RELOAD" "$(changed_tasks "$tmp/check.log")"
	check_grep "  the diff shows the local line going" '^-Cache=no$' "$tmp/check.log"
	check_eq "  and nothing was written" "Cache=no" "$(tail -n 1 $CONF)"

	echo "-- 4. only the upstreams change (and the local edit goes)"
	dns='"dotguard_dns": ["203.0.113.53#dns.test", "[2001:db8::53]:853#dns.test"]'
	play upstreams "$nopkg" "{$dns}"
	check_eq "upstreams: exit code" 0 "$RC"
	check_eq "  only the config changed" "$RELOAD" "$(changed_tasks "$tmp/upstreams.log")"
	check_eq "  only the reload handler notified" "Reload dotguard" "$(handlers "$tmp/upstreams.log")"
	check_eq "  the local edit is overwritten" "" "$(grep '^Cache=' $CONF)"
	check_eq "  DNS= is the new list" "DNS=203.0.113.53#dns.test [2001:db8::53]:853#dns.test" \
		"$(grep '^DNS=' $CONF)"
	check_eq "  check-config" "$CONF: ok (2 DNS, 2 fallback, DNSOverTLS=yes, Mode=redirect)" \
		"$($BIN check-config -c $CONF 2>&1)"

	echo "-- 5. Mode redirect -> drop: a reload applies it"
	play drop "$nopkg" "{$dns, \"dotguard_mode\": \"drop\"}"
	check_eq "drop: exit code" 0 "$RC"
	check_eq "  only the config changed" "$RELOAD" "$(changed_tasks "$tmp/drop.log")"
	check_eq "  only the reload handler notified" "Reload dotguard" "$(handlers "$tmp/drop.log")"
	check_eq "  check-config" "$CONF: ok (2 DNS, 2 fallback, DNSOverTLS=yes, Mode=drop)" \
		"$($BIN check-config -c $CONF 2>&1)"

	echo "-- 6. PinPath= moved: a reload refuses it, so restart"
	play pinpath "$nopkg" "{$dns, \"dotguard_mode\": \"drop\", \"dotguard_pin_path\": \"/sys/fs/bpf/dotguard-test\"}"
	check_eq "pinpath: exit code" 0 "$RC"
	check_eq "  the config and the restart-only record changed" "$RESTART_STATE|$RELOAD" \
		"$(changed_tasks "$tmp/pinpath.log")"
	check_eq "  restart notified (and reload, which then skips)" "Restart dotguard|Reload dotguard" \
		"$(handlers "$tmp/pinpath.log")"
	check_grep "  the record names it" '^PinPath=/sys/fs/bpf/dotguard-test$' $STATE

	echo "-- 7. every key dotguard knows"
	pin=$(head -c 32 /dev/zero | base64)
	cat >"$tmp/all.json" <<EOF
{"dotguard_install_packages": false,
 "dotguard_dns": ["203.0.113.53#dns.test", "203.0.113.54:8853#dns2.test"],
 "dotguard_fallback_dns": ["198.51.100.53#fb.test"],
 "dotguard_dns_over_tls": "opportunistic",
 "dotguard_cache": "no-negative",
 "dotguard_stub_listener": "udp",
 "dotguard_stub_listener_extra": ["127.0.0.54", "127.0.0.55"],
 "dotguard_read_etc_hosts": false,
 "dotguard_ca_file": "/etc/ssl/certs/ca-certificates.crt",
 "dotguard_spki_pins": ["dns.test sha256/$pin", "dns2.test sha256/$pin"],
 "dotguard_pool_size": 4,
 "dotguard_mode": "drop",
 "dotguard_interface": ["eth0", "eth1"],
 "dotguard_gateway_interface": ["lan0"],
 "dotguard_pin_path": "/sys/fs/bpf/dotguard-test"}
EOF
	play all @"$tmp/all.json"
	check_eq "all keys: exit code" 0 "$RC"
	check_eq "  restart notified (DNSStubListener=, DNSStubListenerExtra= changed)" "Restart dotguard|Reload dotguard" \
		"$(handlers "$tmp/all.log")"
	check_eq "  every key config.c knows is written" "$(parser_keys | sort -u | paste -sd ' ')" \
		"$(conf_keys $CONF)"
	check_eq "  check-config" "$CONF: ok (2 DNS, 1 fallback, DNSOverTLS=opportunistic, Mode=drop)" \
		"$($BIN check-config -c $CONF 2>&1)"
	check_eq "  check-config says nothing on stderr" "" "$($BIN check-config -c $CONF 2>&1 >/dev/null)"
	check_eq "  each line as given" "$(printf '%s\n' \
		'DNS=203.0.113.53#dns.test 203.0.113.54:8853#dns2.test' \
		'FallbackDNS=198.51.100.53#fb.test' 'DNSOverTLS=opportunistic' 'Cache=no-negative' \
		'DNSStubListener=udp' 'DNSStubListenerExtra=127.0.0.54 127.0.0.55' 'ReadEtcHosts=no' \
		'CAFile=/etc/ssl/certs/ca-certificates.crt' "SPKIPin=dns.test sha256/$pin" \
		"SPKIPin=dns2.test sha256/$pin" 'PoolSize=4' 'Mode=drop' 'Interface=eth0 eth1' \
		'GatewayInterface=lan0' 'PinPath=/sys/fs/bpf/dotguard-test' 'User=dotguard' | paste -sd '|')" \
		"$(grep -E '^[A-Za-z]+=' $CONF | paste -sd '|')"
	check_eq "  in their sections" "[Resolve]:DNS [TLS]:CAFile [Guard]:Mode" \
		"$(awk '/^\[/ { s = $0 } /^(DNS|CAFile|Mode)=/ { sub(/=.*/, ""); printf "%s%s:%s", n++ ? " " : "", s, $0 }' $CONF)"

	echo "-- 8. a bad value: check-config refuses it, nothing changes"
	cp -p $CONF "$tmp/conf.before"
	cp -p $STATE "$tmp/state.before"
	play bad @"$tmp/all.json" \
		'{"dotguard_dns": ["not-an-ip#x"], "dotguard_pool_size": 99, "dotguard_pin_path": "/sys/fs/bpf/dg-bad"}'
	check_eq "bad value: the play fails" "yes failed=1" \
		"$([ "$RC" -ne 0 ] && echo yes) failed=$(recap "$tmp/bad.log" failed)"
	check_eq "  at the config task" "$RELOAD" "$(failed_task "$tmp/bad.log")"
	check_grep "  with check-config's FILE:LINE error for DNS=" \
		":[0-9]+: error: DNS=: 'not-an-ip#x': not an IPv4 or IPv6 address" "$tmp/bad.log"
	check_grep "  and for PoolSize=" \
		":[0-9]+: error: PoolSize=: expected a number from 1 to 8, got '99'" "$tmp/bad.log"
	check "  the config on disk is byte-identical" cmp "$tmp/conf.before" $CONF
	check_eq "  and keeps its owner and mode" "$(owner_mode "$tmp/conf.before")" "$(owner_mode $CONF)"
	check "  the restart-only record too (PinPath= was in the same change)" cmp "$tmp/state.before" $STATE
	check_eq "  no handler ran" "" "$(handlers "$tmp/bad.log")"
	check_eq "  no temp file left in /etc/dotguard" "dotguard.conf" "$(find /etc/dotguard -mindepth 1 -printf '%f\n' | paste -sd ' ')"

	echo "-- 9. wrong input is refused before anything is touched"
	play nostage '{"dotguard_stage_dir": ""}'
	check_eq "no stage: fails at the first check" "Check the stage directory and the variables" \
		"$(failed_task "$tmp/nostage.log")"
	check_grep "  saying how to make one" 'make install DESTDIR=<dir> PREFIX=/usr' "$tmp/nostage.log"
	play notlist '{"dotguard_interface": "eth0 eth1"}'
	check_eq "a string for a list: fails" "Check that the list variables are lists" \
		"$(failed_task "$tmp/notlist.log")"
	check_grep "  naming the variable" 'dotguard_interface must be a YAML list' "$tmp/notlist.log"
	check "  the config untouched" cmp "$tmp/conf.before" $CONF
}

# ---- part 2: the service, under a throwaway systemd ------------------------

BOX_PID="" BOX_UNSHARE="" BOX_CG=""

# box_stop: kill the container's PID 1 (its PID namespace, and with it
# every process in it, goes too), then remove its cgroups.
box_stop()
{
	local i
	if [ -n "$BOX_PID" ]; then
		kill -KILL "$BOX_PID" 2>/dev/null
		for ((i = 0; i < 50; i++)); do
			kill -0 "$BOX_UNSHARE" 2>/dev/null || break
			sleep 0.1
		done
		wait "$BOX_UNSHARE" 2>/dev/null
		BOX_PID=""
	fi
	if [ -n "$BOX_CG" ] && [ -d "$BOX_CG" ]; then
		find "$BOX_CG" -depth -type d -exec rmdir {} + 2>/dev/null
	fi
}

# box_boot: mask what would touch the real kernel or start host services,
# then run systemd as PID 1 of new PID, network, UTS, IPC, cgroup and
# mount namespaces: cgroup2 of its own, a private bpffs, /dev, /run and
# /tmp, /sys and /proc/sys read-only but /proc/sys/net, a veth pair dgv0
# <-> dgv1 (198.51.100.1/24) and lo, and no CAP_SYS_MODULE/TIME/BOOT.
box_boot()
{
	local u n cg2 i st
	mkdir -p /etc/systemd/system /etc/systemd/system-generators
	for u in /lib/systemd/system/sysinit.target.wants/* /etc/systemd/system/sysinit.target.wants/*; do
		n=$(basename "$u")
		case $n in
		systemd-journald.service | systemd-journal-flush.service | '*') continue ;;
		esac
		ln -sf /dev/null "/etc/systemd/system/$n"
	done
	for n in timers.target paths.target swap.target systemd-remount-fs.service \
		systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket \
		systemd-journald-audit.socket dbus.socket dbus.service getty.target \
		console-getty.service systemd-networkd.service systemd-resolved.service \
		networking.service NetworkManager.service; do
		ln -sf /dev/null "/etc/systemd/system/$n"
	done
	for u in /lib/systemd/system-generators/*; do
		ln -sf /dev/null "/etc/systemd/system-generators/$(basename "$u")"
	done
	printf '[Unit]\nDescription=dotguard role test\n' >/etc/systemd/system/dgtest.target
	cg2=$(findmnt -n -t cgroup2 -o TARGET | head -n 1)
	BOX_CG=$cg2/dgtest.$$
	mkdir "$BOX_CG" || return 1
	echo "$BOX_CG" >"$tmp/box.cg"
	(
		echo "$BASHPID" >"$BOX_CG/cgroup.procs" || exit 1
		# shellcheck disable=SC2016 # expanded by the inner bash
		exec unshare --pid --fork --net --uts --ipc --cgroup --mount-proc \
			--propagation private -- bash -c '
			set -e
			t=$1
			mount --bind /sys /sys
			mount -o remount,bind,ro /sys
			mount -t cgroup2 cgroup2 /sys/fs/cgroup
			mount -t bpf bpf /sys/fs/bpf
			mount --bind /proc/sys /proc/sys
			mount -o remount,bind,ro /proc/sys
			mount --bind /proc/sys/net /proc/sys/net
			mount -t tmpfs -o mode=0755 tmpfs /run
			# A /dev of its own: systemd makes symlinks there (the
			# journal socket makes /dev/log), and the real one is
			# the host'"'"'s devtmpfs.
			d=/run/dgtest-dev
			mkdir "$d"
			mount -t tmpfs -o mode=0755,nosuid dgtest-dev "$d"
			for n in null zero full random urandom tty; do
				touch "$d/$n"
				mount --bind "/dev/$n" "$d/$n"
			done
			touch "$d/console"
			mount --bind /dev/null "$d/console"
			mkdir "$d/pts" "$d/shm"
			mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$d/pts"
			ln -s pts/ptmx "$d/ptmx"
			mount -t tmpfs -o mode=1777,nosuid,nodev dgtest-shm "$d/shm"
			ln -s /proc/self/fd "$d/fd"
			ln -s /proc/self/fd/0 "$d/stdin"
			ln -s /proc/self/fd/1 "$d/stdout"
			ln -s /proc/self/fd/2 "$d/stderr"
			mount --move "$d" /dev
			rmdir "$d"
			# A fresh /tmp, but the test dir and the tree (the role,
			# the binary: a clone may live under /tmp) stay visible.
			r=$2
			mkdir /run/dgtest /run/dgrepo
			mount --bind "$t" /run/dgtest
			mount --bind "$r" /run/dgrepo
			mount -t tmpfs -o mode=1777 tmpfs /tmp
			mkdir -p "$t"
			mount --bind /run/dgtest "$t"
			case $r/ in
			/tmp/*)
				mkdir -p "$r"
				mount --bind /run/dgrepo "$r"
				;;
			esac
			umount /run/dgtest /run/dgrepo
			rmdir /run/dgtest /run/dgrepo
			ip link set lo up
			ip link add dgv0 type veth peer name dgv1
			ip link set dgv0 up
			ip link set dgv1 up
			ip addr add 198.51.100.1/24 dev dgv0
			exec env -i container=dotguard-test PATH=/usr/sbin:/usr/bin:/sbin:/bin \
				setpriv --bounding-set -sys_module,-sys_time,-sys_boot \
				/lib/systemd/systemd --unit=dgtest.target --show-status=no \
				--log-target=console
		' dgbox "$tmp" "$REPO"
	) >"$tmp/systemd.log" 2>&1 </dev/null &
	BOX_UNSHARE=$!
	for ((i = 0; i < 50; i++)); do
		BOX_PID=$(cat "/proc/$BOX_UNSHARE/task/$BOX_UNSHARE/children" 2>/dev/null)
		BOX_PID=${BOX_PID%% *}
		[ -n "$BOX_PID" ] && break
		sleep 0.1
	done
	[ -n "$BOX_PID" ] || return 1
	IN_BOX=(nsenter -t "$BOX_PID" -m -p -n -u -i -C --)
	for ((i = 0; i < 100; i++)); do
		st=$("${IN_BOX[@]}" systemctl is-system-running 2>/dev/null)
		case $st in
		running | degraded) return 0 ;;
		esac
		kill -0 "$BOX_UNSHARE" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# in_box CMD...: CMD inside the container.
in_box()
{
	"${IN_BOX[@]}" "$@"
}

# box_journal: dotguard's journal, for a failure message.
box_journal()
{
	echo "    journalctl -u dotguard (last 15 lines):"
	in_box journalctl -u dotguard --no-pager -n 15 -o short-monotonic 2>&1 | sed 's/^/    | /'
}

main_pid()
{
	in_box systemctl show -p MainPID --value dotguard 2>/dev/null
}

# status_field PYEXPR: from `dotguard status --json` in the container.
status_field()
{
	in_box /usr/sbin/dotguard status -c $CONF --json 2>/dev/null |
		python3 -c 'import json, sys
try:
    d = json.load(sys.stdin)
    print(eval(sys.argv[1]))
except Exception as e:
    print("bad-json(%s)" % e.__class__.__name__)' "$1"
}

inner_service()
{
	local pid pid2 t0 dns
	readlink /proc/self/ns/mnt >"$tmp/ns.service"
	trap box_stop EXIT
	trap 'exit 143' TERM
	trap 'exit 130' INT
	t0=$(date +%s)
	if ! box_boot; then
		fail "the throwaway systemd did not boot:"
		tail -n 20 "$tmp/systemd.log" | sed 's/^/    /'
		return
	fi
	ok "a throwaway systemd $(in_box systemctl --version | awk 'NR == 1 { print $2 }') booted in $(($(date +%s) - t0)) s"
	cat >"$tmp/base.json" <<EOF
{"dotguard_stage_dir": "$tmp/stage",
 "dotguard_install_packages": false,
 "dotguard_interface": ["dgv0"],
 "dotguard_dns": ["203.0.113.53#dns.test"],
 "dotguard_fallback_dns": []}
EOF
	echo "-- 1. install, start, audit"
	play svc-first
	[ "$RC" = 0 ] || box_journal
	check_eq "first run: exit code, failed=0" "0 0" "$RC $(recap "$tmp/svc-first.log" failed)"
	check_eq "  restart handler started it; reload skipped" "changed skipping" \
		"$(handler_result "$tmp/svc-first.log" 'Restart dotguard') $(handler_result "$tmp/svc-first.log" 'Reload dotguard')"
	check_grep "  the audit passed" '"msg": "dotguard audit ok: mode redirect, guarding dgv0' "$tmp/svc-first.log"
	check_eq "  dotguard.service enabled, active" "enabled active" \
		"$(in_box systemctl is-enabled dotguard) $(in_box systemctl is-active dotguard)"
	pid=$(main_pid)
	check_eq "  running as the dotguard user" dotguard "$(in_box ps -o user= -p "${pid:-0}" | tr -d ' ')"
	check_eq "  status --json: tc-egress attached on dgv0" "tc-egress attached" \
		"$(status_field '" ".join([(a["hook"] + " " + a["state"]) for a in d["attached"] if a["interface"] == "dgv0"])')"

	echo "-- 2. again: nothing to do"
	play svc-again
	check_eq "second run: changed=0, no handler" "0 " \
		"$(recap "$tmp/svc-again.log" changed) $(handlers "$tmp/svc-again.log")"
	check_eq "  same daemon" "$pid" "$(main_pid)"

	echo "-- 3. new upstreams: reload"
	dns='{"dotguard_dns": ["203.0.113.53#dns.test", "203.0.113.54#dns.test"]}'
	play svc-reload "$dns"
	[ "$RC" = 0 ] || box_journal
	check_eq "reload: exit code" 0 "$RC"
	check_eq "  handlers: restart not notified, reload changed" "Reload dotguard changed" \
		"$(handlers "$tmp/svc-reload.log") $(handler_result "$tmp/svc-reload.log" 'Reload dotguard')"
	check_eq "  same daemon (SIGHUP, no restart)" "$pid" "$(main_pid)"
	check_eq "  it runs the new upstreams" "203.0.113.53#dns.test 203.0.113.54#dns.test" \
		"$(status_field '" ".join(u["name"] for u in d["daemon"]["upstreams"])')"
	check_grep "  the audit passed" 'dotguard audit ok: mode redirect' "$tmp/svc-reload.log"

	echo "-- 4. Mode redirect -> drop: a reload too"
	play svc-drop "$dns" '{"dotguard_mode": "drop"}'
	[ "$RC" = 0 ] || box_journal
	check_eq "drop: exit code" 0 "$RC"
	check_eq "  reload changed, restart not notified" "Reload dotguard changed" \
		"$(handlers "$tmp/svc-drop.log") $(handler_result "$tmp/svc-drop.log" 'Reload dotguard')"
	check_eq "  same daemon" "$pid" "$(main_pid)"
	check_eq "  in mode drop" drop "$(status_field 'd["mode"]')"
	check_grep "  the audit passed" 'dotguard audit ok: mode drop, guarding dgv0' "$tmp/svc-drop.log"

	echo "-- 5. PinPath= moved: restart, not reload"
	pins='{"dotguard_mode": "drop", "dotguard_pin_path": "/sys/fs/bpf/dotguard-b"}'
	play svc-pin "$dns" "$pins"
	[ "$RC" = 0 ] || box_journal
	check_eq "restart: exit code" 0 "$RC"
	check_eq "  restart changed, reload skipped" "changed skipping" \
		"$(handler_result "$tmp/svc-pin.log" 'Restart dotguard') $(handler_result "$tmp/svc-pin.log" 'Reload dotguard')"
	pid2=$(main_pid)
	check_eq "  a new daemon" yes "$([ -n "$pid2" ] && [ "$pid2" != 0 ] && [ "$pid2" != "$pid" ] && echo yes)"
	check_eq "  pinned at the new path" /sys/fs/bpf/dotguard-b "$(status_field 'd["pin_path"]')"
	check_grep "  the audit passed" 'dotguard audit ok: mode drop, guarding dgv0' "$tmp/svc-pin.log"

	echo "-- 6. the audit fails a host whose guard went missing"
	# Drift no variable explains: the guarded link is deleted under the
	# daemon, so nothing changes and no handler runs; only the audit sees it.
	in_box ip link del dgv0
	play svc-missing "$dns" "$pins" '{"dotguard_verify_retries": 2}'
	check_eq "guard gone: the play fails, nothing changed" "yes failed=1 changed=0" \
		"$([ "$RC" -ne 0 ] && echo yes) failed=$(recap "$tmp/svc-missing.log" failed) changed=$(recap "$tmp/svc-missing.log" changed)"
	check_eq "  at the audit" "The guard is attached on every configured interface and the daemon is up" \
		"$(failed_task "$tmp/svc-missing.log")"
	check_grep "  naming what is wrong" 'dotguard audit failed on localhost: no guard on dgv0 \(tc-egress\)' \
		"$tmp/svc-missing.log"
	sed -n 's/.*"msg": "\(dotguard audit failed[^"]*\)".*/    (\1)/p' "$tmp/svc-missing.log"

	echo "-- 7. a reload the daemon refuses fails the audit"
	# PoolSize= changes while Interface=dgv0 names no link: check-config
	# passes, the reload goes out, the daemon refuses the file and keeps
	# running the old one. Only the running config's sha256 tells.
	play svc-refused "$dns" "$pins" '{"dotguard_verify_retries": 2, "dotguard_pool_size": 3}'
	check_eq "refused reload: the play fails after the reload" "yes failed=1 Reload dotguard changed" \
		"$([ "$RC" -ne 0 ] && echo yes) failed=$(recap "$tmp/svc-refused.log" failed) $(handlers "$tmp/svc-refused.log") $(handler_result "$tmp/svc-refused.log" 'Reload dotguard')"
	check_grep "  at the audit, saying the reload was refused" \
		'dotguard audit failed on localhost: .*the daemon runs another config than /etc/dotguard/dotguard.conf \(sha256 [0-9a-f]{12} vs [0-9a-f]{12}\): its reload was refused' \
		"$tmp/svc-refused.log"
	check_eq "  status: 1 reload refused" 1 "$(status_field 'd["daemon"]["config"]["reloads_refused"]')"
	sed -n 's/.*"msg": "\(dotguard audit failed[^"]*\)".*/    (\1)/p' "$tmp/svc-refused.log"

	box_stop
	trap - EXIT
	check_eq "the throwaway systemd is gone, and its cgroup" "gone gone" \
		"$(kill -0 "$BOX_UNSHARE" 2>/dev/null && echo alive || echo gone) $([ -d "$BOX_CG" ] && echo left || echo gone)"
}

# ---- the outer run ---------------------------------------------------------

# ns_pids ID: the processes in mount namespace ID.
ns_pids()
{
	local p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$1" ] && echo "${p#/proc/}"
	done
}

# ns_reap ID: wait (bounded, ~5 s) for the processes of a sandbox's mount
# namespace to end; kill any still there (each by PID: they are ours, as
# only our sandbox has that namespace) and name them. Prints "gone" when
# none was left.
ns_reap()
{
	local i pids p
	for ((i = 0; i < 50; i++)); do
		pids=$(ns_pids "$1")
		[ -z "$pids" ] && { echo gone; return 0; }
		sleep 0.1
	done
	for p in $pids; do
		echo "left: $p ($(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c 1-80))"
		kill -KILL "$p" 2>/dev/null
	done
}

# A safety net, not a speed check: about 50 s on an idle machine, but
# twice that or more when the machine is busy.
PART_TIMEOUT=300

# part_start NAME MODE: run this script's MODE in a fresh sandbox, in
# the background (the parts share nothing, so they run side by side).
declare -A PART_PID=()
part_start()
{
	local name=$1 mode=$2
	mkdir -p "$tmp/$name"
	cp -a "$tmp/stage" "$tmp/$name/stage"
	timeout -k 5 "$PART_TIMEOUT" "$ANS_SANDBOX" "$tmp/$name" "$SELF" "$mode" "$tmp/$name" \
		>"$tmp/$name.out" 2>&1 </dev/null &
	PART_PID[$name]=$!
}

# part_end NAME TITLE: wait for it; its ok/FAIL lines count here.
part_end()
{
	local name=$1 rc n
	wait "${PART_PID[$name]}"
	rc=$?
	echo "== $2"
	cat "$tmp/$name.out"
	n=$(grep -c '^ok: ' "$tmp/$name.out")
	passed=$((passed + n))
	n=$(grep -c '^FAIL: ' "$tmp/$name.out")
	failed=$((failed + n))
	if [ "$rc" -ne 0 ]; then
		fail "$name: the sandboxed run exited $rc$([ "$rc" = 124 ] && echo " (timed out after $PART_TIMEOUT s)")"
	fi
}

case ${1:-} in
--files | --service)
	tmp=$2
	ans_env "$tmp" || exit 1
	if [ "$1" = --files ]; then
		inner_files
	else
		inner_service
	fi
	exit 0
	;;
esac

if [ "$(id -u)" -ne 0 ]; then
	skip "needs root (mount namespaces, overlayfs)"
	echo "0 passed, 0 failed"
	exit 0
fi
for t in ansible-playbook unshare nsenter python3 findmnt; do
	if ! command -v "$t" >/dev/null; then
		skip "$t not installed (make deps)"
		echo "0 passed, 0 failed"
		exit 0
	fi
done
if [ ! -x "$BUILT" ]; then
	skip "no $OUT/dotguard (make)"
	echo "0 passed, 0 failed"
	exit 0
fi

# cg_sweep: kill what is left in a throwaway systemd's cgroup (an inner
# run killed by its timeout) and remove the cgroup; say so if anything was.
cg_sweep()
{
	local f cg i
	for f in "$tmp"/*/box.cg; do
		[ -e "$f" ] || continue
		cg=$(cat "$f")
		[ -d "$cg" ] || continue
		echo "left behind: cgroup $cg"
		echo 1 >"$cg/cgroup.kill" 2>/dev/null
		for ((i = 0; i < 50; i++)); do
			[ -z "$(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null)" ] && break
			sleep 0.1
		done
		find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
	done
}

# fingerprint FILE: type, owner, mode, target and content hash, or "none".
fingerprint()
{
	if [ -e "$1" ] || [ -L "$1" ]; then
		stat -c '%F %U:%G %a %N' "$1"
		sha256sum "$1" 2>/dev/null | cut -d' ' -f1
	else
		echo none
	fi
}

tmp=$(mktemp -d /tmp/dgans.XXXXXX) || exit 1
trap 'cg_sweep >/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The real host as it was, to compare at the end.
cp -p /etc/passwd "$tmp/passwd.real"
cp -p /etc/group "$tmp/group.real"
had_conf=no
[ -e /etc/dotguard ] && had_conf=yes && tar -C / -cf "$tmp/etc-dotguard.tar" etc/dotguard
# The top of /dev (names and types): the throwaway systemd must not add to it.
dev_real=$(find /dev -maxdepth 1 -printf '%f %y\n' | sort)
home_ansible=$(fingerprint "${HOME:-/root}/.ansible")
resolv_real=$(fingerprint /etc/resolv.conf)
bin_real=$(fingerprint /usr/sbin/dotguard)

echo "-- stage: make install DESTDIR=\$tmp/stage PREFIX=/usr"
if ans_stage "$tmp/stage"; then
	ok "make install into the stage"
else
	fail "make install into the stage failed:"
	sed 's/^/    /' "$tmp/stage.log"
	echo "$passed passed, $failed failed"
	exit 1
fi

PARTS=${DG_ANSIBLE_PARTS:-files service}
service_skip=""
if [[ " $PARTS " != *" service "* ]]; then
	service_skip=-
elif [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then
	service_skip="the service tasks (enable, start, reload/restart, audit) run only under the throwaway systemd, which needs a host whose PID 1 is not systemd (a nested one would need a delegated scope); here they are covered by handler notifications only"
elif [ ! -x /lib/systemd/systemd ] || ! findmnt -n -t cgroup2 >/dev/null; then
	service_skip="no systemd binary or no cgroup2 mount: the service tasks are covered by handler notifications only"
fi

[[ " $PARTS " == *" files "* ]] && part_start files --files
[ -z "$service_skip" ] && part_start service --service
[[ " $PARTS " == *" files "* ]] && part_end files "part 1: the files (dotguard_manage_service=false)"
if [ -z "$service_skip" ]; then
	part_end service "part 2: the service, under a throwaway systemd"
elif [ "$service_skip" != - ]; then
	skip "$service_skip"
fi

echo "-- nothing leaked to the real host"
if [ "$had_conf" = no ]; then
	check_eq "the real /etc/dotguard does not exist" no "$([ -e /etc/dotguard ] && echo yes || echo no)"
else
	check "the real /etc/dotguard is unchanged" \
		tar -C / --compare -f "$tmp/etc-dotguard.tar"
fi
check "the real /etc/passwd is unchanged" cmp "$tmp/passwd.real" /etc/passwd
check "the real /etc/group is unchanged" cmp "$tmp/group.real" /etc/group
check_eq "the real /etc/resolv.conf is unchanged" "$resolv_real" "$(fingerprint /etc/resolv.conf)"
check_eq "the real /usr/sbin/dotguard is unchanged" "$bin_real" "$(fingerprint /usr/sbin/dotguard)"
check_eq "the real /dev: nothing added or removed" "" \
	"$(diff <(echo "$dev_real") <(find /dev -maxdepth 1 -printf '%f %y\n' | sort) | grep '^[<>]' | paste -sd ' ')"
check_eq "ansible left nothing in the real HOME (~/.ansible as before)" "$home_ansible" \
	"$(fingerprint "${HOME:-/root}/.ansible")"
check_eq "no mount left under the temp dir" "" "$(findmnt -rn -o TARGET | grep -F "$tmp")"
for f in "$tmp"/*/ns.*; do
	[ -e "$f" ] || continue
	id=$(cat "$f")
	check_eq "the sandbox's mount namespace is gone (${f##*.})" gone "$(ns_reap "$id")"
done
check_eq "no cgroup of the throwaway systemd left" "" "$(cg_sweep)"

echo "-- took ${SECONDS} s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
