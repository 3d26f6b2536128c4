#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# sandbox.sh DIR CMD...: run CMD (as root) in a private mount namespace in
# which /etc, /usr and /var are overlays of the real ones. Their upper
# dirs live on a tmpfs at DIR/ov: DIR/ov/etc/upper holds exactly what CMD
# wrote under /etc, and so on. Nothing reaches the real directories, and
# the namespace, its tmpfs and every overlay are gone when CMD exits.
# DIR must exist and lie outside /etc, /usr and /var. The exit code is
# CMD's (or 1 when the sandbox cannot be set up).

set -u

if [ "${1:-}" != --inside ]; then
	[ $# -ge 2 ] || { echo "usage: $0 DIR CMD..." >&2; exit 2; }
	[ -d "$1" ] || { echo "sandbox: no directory $1" >&2; exit 1; }
	case $(cd "$1" && pwd -P)/ in
	/etc/* | /usr/* | /var/*)
		echo "sandbox: $1 is inside an overlaid directory" >&2
		exit 1
		;;
	esac
	# private: no mount made inside propagates back to the real /.
	exec unshare --mount --propagation private -- "$0" --inside "$@"
fi

shift
dir=$1
shift
ov=$dir/ov
mkdir -p "$ov" || exit 1
mount -t tmpfs -o mode=0700,size=1g dg-sandbox "$ov" || exit 1
for d in etc usr var; do
	mkdir -p "$ov/$d/upper" "$ov/$d/work" || exit 1
	mount -t overlay dg-sandbox-$d \
		-o "lowerdir=/$d,upperdir=$ov/$d/upper,workdir=$ov/$d/work" "/$d" ||
		{ echo "sandbox: cannot overlay /$d" >&2; exit 1; }
done
exec "$@"
