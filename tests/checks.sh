# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# shellcheck shell=bash
#
# The check helpers of the script-driven tiers (tests/install,
# tests/ansible): one "ok: ..." / "FAIL: ..." / "SKIP: ..." line per
# check, counted in $passed and $failed for the script's closing
# "N passed, N failed" line. Source it; the script sets passed=0 failed=0.

ok()
{
	echo "ok: $*"
	passed=$((passed + 1))
}

fail()
{
	echo "FAIL: $*"
	failed=$((failed + 1))
}

skip()
{
	echo "SKIP: $*"
}

# check_eq WHAT EXPECTED GOT
check_eq()
{
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		fail "$1: expected '$2', got '$3'"
	fi
}

# check WHAT CMD...: CMD must succeed; its output is shown when it does not.
check()
{
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$what"
	else
		fail "$what: '$*' failed:"
		printf '%s\n' "$out" | sed 's/^/    /'
	fi
}
