#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Run the netns integration cases: tests/net/run.sh [NAME...]
#
# Each cases/NAME.sh runs in its own process, killed after DG_NET_TIMEOUT
# seconds (default 120). Prints `[NAME] PASS`, `[NAME] SKIP(reason)` or
# `[NAME] FAIL` followed by the case's output, and ends with one line
# `N passed, N failed, N skipped`. Exit 77 from a case means skip. After
# each case, anything it left behind (namespaces, mounts, temp dirs) is
# removed and turns a PASS into a FAIL.
#
# Environment: DOTGUARD (binary, default ./dotguard), OUT (build dir for
# helpers, default .output), DG_NET_TIMEOUT.

set -u

NET_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SKIP_RC=77
TIMEOUT=${DG_NET_TIMEOUT:-120}
WORK=$(mktemp -d /tmp/dgnet.XXXXXX) || exit 1
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

passed=0
failed=0
skipped=0

# sweep TAG STATE: remove what a case tagged TAG left behind; print each
# item and return 1 if there was any.
sweep()
{
	local tag=$1 state=$2 left=0 n pid d
	for n in $(ip netns list 2>/dev/null | awk '{ print $1 }'); do
		[[ "$n" == "dg${tag}-"* ]] || continue
		echo "left behind: netns $n"
		left=1
		for pid in $(ip netns pids "$n" 2>/dev/null); do
			echo "left behind: pid $pid ($(tr '\0' ' ' \
				<"/proc/$pid/cmdline" 2>/dev/null))"
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$n" 2>/dev/null
	done
	[ -f "$state" ] || return "$left"
	while read -r d; do
		[[ "$d" == /tmp/dgt.* ]] || continue
		if mountpoint -q "$d/bpf" 2>/dev/null; then
			echo "left behind: mount $d/bpf"
			umount -l "$d/bpf"
			left=1
		fi
		if [ -d "$d" ]; then
			echo "left behind: $d"
			rm -rf "$d"
			left=1
		fi
	done <"$state"
	return "$left"
}

run_case()
{
	local file=$1 idx=$2 name tag state log rc reason t0 secs
	name=$(basename "$file" .sh)
	tag="r$$c$idx"
	state=$WORK/$name.state
	log=$WORK/$name.log
	t0=$(date +%s)
	# Braces: keep bash's "Killed" notice (timeout -k) out of our output.
	{
		DG_NET_TAG=$tag DG_NET_STATE=$state \
			timeout -k 10 "$TIMEOUT" bash "$file" >"$log" 2>&1 </dev/null
	} 2>/dev/null
	rc=$?
	secs=$(($(date +%s) - t0))
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "TIMEOUT: killed after ${TIMEOUT} s" >>"$log"
		rc=1
	fi
	if ! sweep "$tag" "$state" >>"$log" 2>&1 && [ "$rc" != 1 ]; then
		echo "FAIL: the case left the above behind" >>"$log"
		rc=1
	fi
	case $rc in
	0)
		echo "[$name] PASS (${secs}s)"
		passed=$((passed + 1))
		;;
	"$SKIP_RC")
		reason=$(sed -n 's/^SKIP: //p' "$log" | tail -1)
		echo "[$name] SKIP(${reason:-no reason given})"
		skipped=$((skipped + 1))
		;;
	*)
		echo "[$name] FAIL (exit $rc, ${secs}s)"
		sed 's/^/    /' "$log"
		failed=$((failed + 1))
		;;
	esac
}

main()
{
	local files=() f n i=0
	if [ $# -gt 0 ]; then
		for n in "$@"; do
			f=$NET_DIR/cases/${n%.sh}.sh
			[ -f "$f" ] || { echo "no such case: $n"; exit 2; }
			files+=("$f")
		done
	else
		for f in "$NET_DIR"/cases/*.sh; do
			[ -f "$f" ] && files+=("$f")
		done
	fi
	for f in "${files[@]}"; do
		i=$((i + 1))
		run_case "$f" "$i"
	done
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
}

main "$@"
