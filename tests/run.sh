#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Runs the test tiers and ends with one line: "N passed, N failed[, N
# skipped]". Called by `make test` (every tier) and `make unit-test`,
# `bpf-test`, `fuzz-test`, `net-test` (one each).
#
#   tests/run.sh [TIER...]    TIER: unit bpf fuzz install ansible net
#                             (default: all, in that order)
#
# Environment: OUT (build dir, default .output), SAN, FUZZ_SECONDS
# (default 20), NET_CASES (names of tests/net/cases to run; default all),
# DOTGUARD (binary, default ./dotguard).
set -u
cd "$(dirname "$0")/.." || exit 1
OUT=${OUT:-.output}
FUZZ_SECONDS=${FUZZ_SECONDS:-10}
export DOTGUARD=${DOTGUARD:-$PWD/dotguard}
TIERS=(unit bpf fuzz install ansible net)
passed=0 failed=0 skipped=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

want=()
for t in "$@"; do
	[[ " ${TIERS[*]} " == *" $t "* ]] ||
		{ echo "tests/run.sh: no tier '$t' (tiers: ${TIERS[*]})" >&2; exit 2; }
	want+=("$t")
done
[ ${#want[@]} -gt 0 ] || want=("${TIERS[@]}")

# wanted TIER: whether this run includes TIER.
wanted()
{
	[[ " ${want[*]} " == *" $1 "* ]]
}

# A failing test's whole log is printed: the cause is often far from the
# end (a daemon's first error, a sanitizer report before the summary).
report() { # suite name passed failed
	passed=$((passed + $3)) failed=$((failed + $4))
	if [ "$4" -gt 0 ]; then
		echo "[$1] $2: $3 passed, $4 failed"
		sed 's/^/    /' "$log"
	else
		echo "[$1] $2: $3 passed"
	fi
}

skip() { # suite name reason
	skipped=$((skipped + 1))
	echo "[$1] $2: SKIP ($3)"
}

# "N passed, N failed" as the last such line of a runner's output.
count_line() {
	grep -Eo '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1 |
		grep -Eo '[0-9]+ passed, [0-9]+ failed' | tr -dc '0-9 \n' | awk '{print $1, $2}'
}

wanted unit && for src in tests/unit/test_*.c; do
	[ -e "$src" ] || continue
	name=$(basename "$src" .c)
	"$OUT/tests/unit/$name" >"$log" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	p=${p:-0} f=${f:-0}
	# A crash leaves no summary: that is a failure, never a silent pass.
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	report unit "$name" "$p" "$f"
done

wanted bpf && for src in tests/bpf/test_*.c; do
	[ -e "$src" ] || continue
	name=$(basename "$src" .c)
	if [ "$(id -u)" -ne 0 ]; then
		skip bpf "$name" "needs root for BPF_PROG_TEST_RUN"
		continue
	fi
	"$OUT/tests/bpf/$name" >"$log" 2>&1
	rc=$?
	read -r p f <<<"$(count_line)"
	p=${p:-0} f=${f:-0}
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	report bpf "$name" "$p" "$f"
done

wanted fuzz && for src in tests/fuzz/fuzz_*.c; do
	[ -e "$src" ] || continue
	name=$(basename "$src" .c)
	corpus=$(mktemp -d)
	[ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$corpus/"
	# Bounded in time; findings are written to the temp dir, not the repo.
	(cd "$corpus" && "$OLDPWD/$OUT/fuzz/$name" -max_total_time="$FUZZ_SECONDS" \
		-artifact_prefix="$corpus/" "$corpus") >"$log" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		report fuzz "$name (${FUZZ_SECONDS}s, $(grep -Eo 'Done [0-9]+ runs' "$log" | tail -n 1 | grep -Eo '[0-9]+') runs)" 1 0
	else
		report fuzz "$name" 0 1
	fi
	rm -rf "$corpus"
done

# script_tier TIER NAME SCRIPT: a script that prints ok/FAIL/SKIP lines and
# "N passed, N failed"; its SKIP lines (checks it could not make here) are
# shown and counted.
script_tier()
{
	local tier=$1 name=$2 script=$3 rc p f
	wanted "$tier" || return 0
	[ -x "$script" ] || return 0
	OUT=$OUT SAN=${SAN:-0} "$script" >"$log" 2>&1
	rc=$?
	read -r p f <<<"$(count_line)"
	p=${p:-0} f=${f:-0}
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	report "$tier" "$name" "$p" "$f"
	grep '^SKIP: ' "$log" | sed "s/^SKIP: /[$tier] SKIP (/; s/\$/)/"
	skipped=$((skipped + $(grep -c '^SKIP: ' "$log")))
}

# make install / uninstall into a temp DESTDIR: the tree, the unit, the
# config, the man pages. Needs no root; never touches the real /.
script_tier install test_install tests/install/test_install.sh
# The Ansible role (tools/ansible) run on localhost in a sandbox: /etc,
# /usr and /var overlaid in a private mount namespace, plus a throwaway
# systemd for the service tasks. Needs root; never touches the real /.
script_tier ansible test_role tests/ansible/test_role.sh

if wanted net && [ -x tests/net/run.sh ]; then
	if [ "$(id -u)" -ne 0 ]; then
		skip net "integration" "needs root for network namespaces"
	else
		# NET_CASES is a list of names: split on blanks on purpose.
		# shellcheck disable=SC2086
		set -- ${NET_CASES:-}
		# Shown as it runs; the runner prints each failing case's whole
		# log under its FAIL line, so nothing is printed again here.
		tests/net/run.sh "$@" 2>&1 | tee "$log" | sed 's/^/  /'
		rc=${PIPESTATUS[0]}
		read -r p f <<<"$(count_line)"
		p=${p:-0} f=${f:-0}
		s=$(grep -Eo '[0-9]+ skipped' "$log" | tail -n 1 | grep -Eo '[0-9]+')
		skipped=$((skipped + ${s:-0}))
		[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
		passed=$((passed + p)) failed=$((failed + f))
		if [ "$f" -gt 0 ]; then
			echo "[net] integration: $p passed, $f failed"
		else
			echo "[net] integration: $p passed"
		fi
	fi
fi

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
