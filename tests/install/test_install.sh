#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Test that `make install` and `make uninstall`, with DESTDIR and PREFIX,
# put exactly the expected tree in place and take all of it away again:
# the binary, the default config (never overwriting one the administrator
# changed), the systemd unit with its paths filled in, the sysusers.d entry
# for the dotguard user (applied to a copy of the tree), and the man pages.
# Everything happens under a private temp dir, never in the real /. Prints
# "ok: ..." or "FAIL: ..." per check and ends with "N passed, N failed".
#
# Environment: OUT and SAN (the build flavour `make test` runs), MAKE.

set -u
cd "$(dirname "$0")/../.." || exit 1
OUT=${OUT:-.output}
SAN=${SAN:-0}
MAKE=${MAKE:-make}
passed=0 failed=0

tmp=$(mktemp -d /tmp/dginst.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
D=$tmp/root		# DESTDIR: every installed path lives under it

# shellcheck source=tests/checks.sh
. tests/checks.sh

# check_quiet WHAT CMD...: CMD must succeed and print nothing at all.
check_quiet()
{
	local what=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ] && [ -z "$out" ]; then
		ok "$what"
	else
		fail "$what: '$*' exited $rc with:"
		printf '%s\n' "$out" | sed 's/^/    /'
	fi
}

# make_in TARGET VAR=VALUE...: make TARGET into $D (never the real /).
make_in()
{
	local target=$1
	shift
	[ -n "$D" ] || { echo "DESTDIR is empty: refusing"; exit 1; }
	"$MAKE" --no-print-directory SAN="$SAN" "$target" DESTDIR="$D" "$@" \
		>"$tmp/make.log" 2>&1
}

# The files under $D, one relative path per line, sorted.
tree_files()
{
	(cd "$D" 2>/dev/null && find . ! -type d | sed 's|^\./||' | sort)
}

mode_of()
{
	stat -c %a "$D/$1" 2>/dev/null
}

# The keys config.c implements: { SEC_X, "Name", parse_fn, ... } rows
# (rows with a NULL parser are resolved.conf keys dotguard only warns about).
parser_keys()
{
	sed -nE 's/^[[:space:]]*\{ SEC_[A-Z]+, "([A-Za-z]+)", parse_[a-z_]+,.*/\1/p' user/config.c
}

BIN=usr/sbin/dotguard
UNIT=usr/lib/systemd/system/dotguard.service
CONF=etc/dotguard/dotguard.conf
MAN8=usr/share/man/man8/dotguard.8
MAN5=usr/share/man/man5/dotguard.conf.5
SYSU=usr/lib/sysusers.d/dotguard.conf

echo "-- make install DESTDIR=\$tmp PREFIX=/usr"
if make_in install PREFIX=/usr; then
	ok "make install exits 0"
else
	fail "make install failed:"
	sed 's/^/    /' "$tmp/make.log"
fi
check_eq "installed files" \
	"$(printf '%s\n' "$CONF" "$BIN" "$UNIT" "$SYSU" "$MAN5" "$MAN8" | sort | tr '\n' ' ')" \
	"$(tree_files | tr '\n' ' ')"
check_eq "mode of the binary" 755 "$(mode_of "$BIN")"
check_eq "mode of the unit" 644 "$(mode_of "$UNIT")"
check_eq "mode of the sysusers.d entry" 644 "$(mode_of "$SYSU")"
check_eq "mode of the config" 644 "$(mode_of "$CONF")"
check_eq "mode of the config dir" 755 "$(mode_of etc/dotguard)"
check_eq "modes of the man pages" "644 644" "$(mode_of "$MAN8") $(mode_of "$MAN5")"
check "the binary is the one built" cmp "$OUT/dotguard" "$D/$BIN"
check "the config is the shipped default" cmp tools/dotguard.conf "$D/$CONF"
check "the man pages are the shipped ones" \
	cmp man/dotguard.8 "$D/$MAN8"
check "the man pages are the shipped ones (5)" \
	cmp man/dotguard.conf.5 "$D/$MAN5"

echo "-- the unit"
check_eq "no @PLACEHOLDER@ left in the unit" 0 \
	"$(grep -c '@[A-Z_]*@' "$D/$UNIT" 2>/dev/null)"
check_eq "ExecStart runs the installed binary on the installed config" \
	"ExecStart=/usr/sbin/dotguard run -c /etc/dotguard/dotguard.conf" \
	"$(grep '^ExecStart=' "$D/$UNIT")"
exec_bin=$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$D/$UNIT")
exec_conf=$(sed -n 's/^ExecStart=.* -c \([^ ]*\)$/\1/p' "$D/$UNIT")
check "ExecStart's binary is installed and executable" test -x "$D$exec_bin"
check "ExecStart's config is installed" test -f "$D$exec_conf"
check_eq "Type=notify" 1 "$(grep -cx 'Type=notify' "$D/$UNIT")"
# shellcheck disable=SC2016 # $MAINPID is literal text in the unit
check_eq "ExecReload sends SIGHUP, from outside the sandbox (CAP_KILL)" 1 \
	"$(grep -cx 'ExecReload=+/bin/kill -HUP $MAINPID' "$D/$UNIT")"
check_eq "Restart=on-failure" 1 "$(grep -cx 'Restart=on-failure' "$D/$UNIT")"
check_eq "no PrivateNetwork=/ProtectKernelTunables= (it writes /proc/sys/net, pins in /sys/fs/bpf)" \
	0 "$(grep -cE '^(PrivateNetwork|ProtectKernelTunables)=' "$D/$UNIT")"
if command -v systemd-analyze >/dev/null; then
	# verify checks that ExecStart's binary exists: point a copy of the
	# unit at the tree under $D. Any output (an unknown key, a bad value)
	# is a failure too.
	sed -e "s|^ExecStart=/usr/sbin/|ExecStart=$D/usr/sbin/|" \
		-e "s| -c /etc/| -c $D/etc/|" "$D/$UNIT" >"$tmp/dotguard.service"
	check_quiet "systemd-analyze verify: no errors, no warnings" \
		systemd-analyze verify --man=no "$tmp/dotguard.service"
else
	skip "systemd-analyze not installed: unit not verified"
fi

echo "-- the dotguard user"
# A DESTDIR install is staging: it must not create users anywhere.
check_eq "a DESTDIR install creates no user (no passwd in the tree)" no \
	"$([ -e "$D/etc/passwd" ] && echo yes || echo no)"
if command -v systemd-sysusers >/dev/null; then
	# What systemd-sysusers does with the entry at boot, done on a copy
	# of the tree (it leaves lock files behind).
	S=$tmp/sysroot
	cp -a "$D" "$S"
	systemd-sysusers --root="$S" >"$tmp/sysusers.log" 2>&1
	check_eq "systemd-sysusers --root accepts the entry (exit code)" 0 $?
	IFS=: read -r u _ uid gid _ home shell <<<"$(grep '^dotguard:' "$S/etc/passwd" 2>/dev/null)"
	check_eq "it creates the user the daemon drops to (User= default)" dotguard "${u:-}"
	check_eq "  a system account (uid < 1000) with its own group" 1 \
		"$([ "${uid:-1000}" -lt 1000 ] && grep -q "^dotguard:x:$gid:" "$S/etc/group" && echo 1)"
	check_eq "  no home, no login" "/ /usr/sbin/nologin" "${home:-} ${shell:-}"
	check_eq "  no password" '!*' "$(grep '^dotguard:' "$S/etc/shadow" 2>/dev/null | cut -d: -f2)"
	rm -rf "$S"
else
	skip "systemd-sysusers not installed: the sysusers.d entry not applied"
fi

echo "-- the config"
"$D/$BIN" check-config -c "$D/$CONF" >"$tmp/cc.out" 2>"$tmp/cc.err"
check_eq "installed binary: check-config of the installed config (exit code)" 0 $?
check_eq "check-config: no error and no warning" "" "$(cat "$tmp/cc.err")"
check_eq "check-config: strict DoT, 4 upstreams, 2 fallbacks, redirect" \
	"$D/$CONF: ok (4 DNS, 2 fallback, DNSOverTLS=yes, Mode=redirect)" \
	"$(cat "$tmp/cc.out")"
check_eq "every upstream is IP#name" "" \
	"$(grep -E '^(DNS|FallbackDNS)=' "$D/$CONF" | cut -d= -f2- | tr ' ' '\n' |
		grep -vE '^[0-9a-fA-F:.]+#[a-z0-9.-]+$' | grep -v '^$')"
# Every commented-out Key= line is the key's default or an example: all of
# them switched on at once must still be a valid config.
sed -E 's/^#([A-Z][A-Za-z]*=)/\1/' "$D/$CONF" >"$tmp/all.conf"
# User=dotguard written out must name a user of this host (run refuses
# one that is not): where there is none, that is the one error, and the
# file passes with a user that exists.
if ! getent passwd dotguard >/dev/null; then
	"$D/$BIN" check-config -c "$tmp/all.conf" >/dev/null 2>"$tmp/all.err"
	check_eq "every commented key switched on, no dotguard user here: exit 1" 1 $?
	check_eq "  ... with User='s error only" \
		"$tmp/all.conf:$(grep -n '^User=dotguard$' "$tmp/all.conf" | cut -d: -f1): error: User=dotguard: no such user on this host; 'run' would refuse to start" \
		"$(cat "$tmp/all.err")"
	sed -i 's/^User=dotguard$/User=root/' "$tmp/all.conf"
fi
"$D/$BIN" check-config -c "$tmp/all.conf" >/dev/null 2>"$tmp/all.err"
check_eq "the config with every commented key switched on (exit code)" 0 $?
check_eq "  ... and no warning" "" "$(cat "$tmp/all.err")"
keys=$(parser_keys)
check_eq "config.c's key table was read" 1 "$([ "$(echo "$keys" | wc -l)" -ge 14 ] && echo 1)"
missing_conf="" missing_man=""
for k in $keys; do
	grep -qE "^#?$k=" "$D/$CONF" || missing_conf="$missing_conf $k"
	grep -qE "^\.B[IR]? $k=" "$D/$MAN5" || missing_man="$missing_man $k"
done
check_eq "every key config.c knows is in the config" "" "$missing_conf"
check_eq "every key config.c knows is in dotguard.conf(5)" "" "$missing_man"

echo "-- the man pages"
cmds=$("$D/$BIN" --help | sed -n '/^commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }')
check_eq "dotguard --help lists its commands" 1 "$([ -n "$cmds" ] && echo 1)"
missing=""
for c in $cmds; do
	# roff writes "check\-config"; match the name as a fixed string.
	grep -E '^\.B[IR]? ' "$D/$MAN8" | awk '{ print $2 }' | sed 's/\\-/-/g' |
		grep -qx -- "$c" || missing="$missing $c"
done
check_eq "every command is in dotguard(8)" "" "$missing"
missing=""
for o in $("$D/$BIN" status --help | grep -oE -- '--[a-z-]+' | sort -u); do
	grep -qF -- "${o//-/\\-}" "$D/$MAN8" || missing="$missing $o"
done
check_eq "every status option is in dotguard(8)" "" "$missing"
if command -v groff >/dev/null; then
	for m in "$MAN8" "$MAN5"; do
		check_quiet "$(basename "$m") renders with no groff warning" \
			groff -man -Tutf8 -ww -z "$D/$m"
		check_eq "$(basename "$m") has its NAME and SEE ALSO" 2 \
			"$(groff -man -Tutf8 -P-cbou "$D/$m" 2>/dev/null | grep -cE '^(NAME|SEE ALSO)$')"
	done
else
	skip "groff not installed: man pages not rendered"
fi

echo "-- make uninstall"
if make_in uninstall PREFIX=/usr; then
	ok "make uninstall exits 0"
else
	fail "make uninstall failed:"
	sed 's/^/    /' "$tmp/make.log"
fi
check_eq "nothing left but directories" "" "$(tree_files | tr '\n' ' ')"
check_eq "the config dir is gone" no "$([ -e "$D/etc/dotguard" ] && echo yes || echo no)"

echo "-- an administrator's config survives"
make_in install PREFIX=/usr || fail "make install (again) failed"
echo "# local change" >>"$D/$CONF"
cp "$D/$CONF" "$tmp/mine.conf"
if make_in uninstall PREFIX=/usr; then
	ok "make uninstall with a changed config exits 0"
else
	fail "make uninstall with a changed config failed"
fi
check_eq "uninstall leaves only the changed config" "$CONF" "$(tree_files | tr '\n' ' ' | sed 's/ $//')"
check "  ... untouched" cmp "$tmp/mine.conf" "$D/$CONF"
check_eq "  ... and says so" 1 "$(grep -c "KEEP .*$CONF" "$tmp/make.log")"
make_in install PREFIX=/usr || fail "make install over a changed config failed"
check "install does not overwrite a changed config" cmp "$tmp/mine.conf" "$D/$CONF"
check_eq "  ... and says so" 1 "$(grep -c "KEEP .*$CONF" "$tmp/make.log")"
check_eq "  ... and installs the rest" \
	"$(printf '%s\n' "$CONF" "$BIN" "$UNIT" "$SYSU" "$MAN5" "$MAN8" | sort | tr '\n' ' ')" \
	"$(tree_files | tr '\n' ' ')"
make_in uninstall PREFIX=/usr || fail "make uninstall (last) failed"
check_eq "the last uninstall leaves only the changed config" "$CONF" \
	"$(tree_files | tr '\n' ' ' | sed 's/ $//')"

echo "-- PREFIX=/usr/local"
rm -rf "$D"
make_in install PREFIX=/usr/local || fail "make install PREFIX=/usr/local failed"
check_eq "ExecStart under /usr/local; the config stays in /etc" \
	"ExecStart=/usr/local/sbin/dotguard run -c /etc/dotguard/dotguard.conf" \
	"$(grep '^ExecStart=' "$D/usr/local/lib/systemd/system/dotguard.service" 2>/dev/null)"
check "the binary in /usr/local/sbin" test -x "$D/usr/local/sbin/dotguard"
check "the config in /etc" test -f "$D/etc/dotguard/dotguard.conf"
make_in uninstall PREFIX=/usr/local || fail "make uninstall PREFIX=/usr/local failed"
check_eq "uninstall PREFIX=/usr/local leaves nothing" "" "$(tree_files | tr '\n' ' ')"

echo "-- node_exporter textfile example (tools/prometheus)"
# A stand-in for dotguard: prints fixed metrics, or fails when told to.
mkdir -p "$tmp/prom" "$tmp/fake"
cat >"$tmp/fake/dotguard" <<'FAKE'
#!/bin/sh
[ -e "${FAKE_FAIL:-/nonexistent}" ] && { echo "error: no pins" >&2; exit 1; }
[ "$1 $2 $4" = "status -c --prometheus" ] || exit 2
printf '# TYPE dotguard_daemon_up gauge\ndotguard_daemon_up 1\n'
FAKE
chmod +x "$tmp/fake/dotguard"
TEXTFILE=tools/prometheus/dotguard-textfile.sh
check "the textfile script writes dotguard.prom" \
	env DOTGUARD="$tmp/fake/dotguard" "$TEXTFILE" "$tmp/prom"
check_eq "  with status --prometheus's output" "dotguard_daemon_up 1" \
	"$(grep -v '^#' "$tmp/prom/dotguard.prom" 2>/dev/null)"
check_eq "  readable by node_exporter (0644)" 644 "$(stat -c %a "$tmp/prom/dotguard.prom" 2>/dev/null)"
touch "$tmp/fail"
if env DOTGUARD="$tmp/fake/dotguard" FAKE_FAIL="$tmp/fail" "$TEXTFILE" "$tmp/prom" 2>/dev/null; then
	fail "a failing status makes the script fail"
else
	ok "a failing status makes the script fail"
fi
check_eq "  and leaves the previous file, and no temp file" "dotguard.prom" \
	"$(cd "$tmp/prom" && ls -A)"
if command -v systemd-analyze >/dev/null; then
	sed 's|^ExecStart=/usr/local/lib/dotguard/|ExecStart='"$PWD"'/tools/prometheus/|' \
		tools/prometheus/dotguard-textfile.service >"$tmp/dotguard-textfile.service"
	cp tools/prometheus/dotguard-textfile.timer "$tmp/"
	check_quiet "the textfile service and timer verify" \
		systemd-analyze verify --man=no "$tmp/dotguard-textfile.service" \
		"$tmp/dotguard-textfile.timer"
else
	skip "systemd-analyze not installed: textfile units not verified"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
