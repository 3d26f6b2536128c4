#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# dotguard's counters for node_exporter's textfile collector:
#   dotguard-textfile.sh [DIR]    (DIR: --collector.textfile.directory,
#                                  default /var/lib/prometheus/node-exporter)
# Writes DIR/dotguard.prom from `dotguard status --prometheus`, atomically
# (a temp file in DIR renamed over it), so node_exporter never reads half a
# file. On failure the previous file stays and the exit code is non-zero.
# `status` reads only the pinned maps: it works while the daemon is down,
# and dotguard_daemon_up says so. Run it from dotguard-textfile.timer.
#
# Environment: DOTGUARD (binary, default: dotguard on PATH), DOTGUARD_CONF
# (default /etc/dotguard/dotguard.conf).
set -u
dir=${1:-/var/lib/prometheus/node-exporter}
bin=${DOTGUARD:-dotguard}
conf=${DOTGUARD_CONF:-/etc/dotguard/dotguard.conf}

tmp=$(mktemp "$dir/.dotguard.prom.XXXXXX") || exit 1
if "$bin" status -c "$conf" --prometheus >"$tmp"; then
	chmod 0644 "$tmp" && mv -f "$tmp" "$dir/dotguard.prom" && exit 0
fi
rm -f "$tmp"
echo "dotguard-textfile: status failed; $dir/dotguard.prom left as it was" >&2
exit 1
