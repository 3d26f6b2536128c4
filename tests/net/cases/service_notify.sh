#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Test the sd_notify protocol as systemd (Type=notify) sees it, against a
# test socket: READY=1 once the guard is attached and the stub listens,
# RELOADING=1 then READY=1 on SIGHUP (also when the new config is
# refused), STOPPING=1 on SIGTERM.

# pre, test and post are called by dg_main.
# shellcheck disable=SC2317
# shellcheck source=tests/net/lib.sh
. "$(dirname "$0")/../lib.sh"

pre()
{
	require_base
	world_init
	bpffs_mount
	topo_host
	conf_guard drop Interface=veth-h
	# The stand-in for systemd: every datagram, one per line (\n -> |).
	"$PY" - "$T/notify.sock" "$T/notify.log" <<'PYEOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(0.5)
end = time.monotonic() + 60
with open(sys.argv[2], "a", buffering=1) as log:
    while time.monotonic() < end:
        try:
            log.write(s.recv(4096).decode().replace("\n", "|") + "\n")
        except socket.timeout:
            pass
PYEOF
	NOTIFY_PID=$!
	defer kill_pid "$NOTIFY_PID"
	for ((i = 0; i < 50; i++)); do
		[ -S "$T/notify.sock" ] && break
		sleep 0.1
	done
	export NOTIFY_SOCKET=$T/notify.sock
	dg_run_ready "$NS_HOST"
	unset NOTIFY_SOCKET
}

# wait_line PATTERN: the notify log has a line matching it (bounded 5 s).
wait_line()
{
	local i
	for ((i = 0; i < 50; i++)); do
		grep -qE "$1" "$T/notify.log" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

test()
{
	check_rc "READY=1 after start, with a status" 0 \
		wait_line '^READY=1\|STATUS=guarding veth-h \(tc-egress\); mode drop$'
	check_eq "the guard was attached when READY=1 came" 1 \
		"$(guard_progs "$NS_HOST" veth-h)"

	log "SIGHUP with a good config"
	kill -HUP "$DG_PID"
	check_rc "RELOADING=1 with MONOTONIC_USEC" 0 wait_line '^RELOADING=1\|MONOTONIC_USEC=[0-9]+$'
	check_rc "READY=1 again after the reload" 0 wait_line '^READY=1\|STATUS=guarding'
	check_eq "notifications so far: ready, reloading, ready" 3 "$(wc -l <"$T/notify.log")"

	log "SIGHUP with a broken config"
	echo "Mode=sideways" >>"$CONF"
	kill -HUP "$DG_PID"
	check_rc "READY=1 saying the reload was refused" 0 \
		wait_line '^READY=1\|STATUS=reload refused; running config kept$'

	log "SIGTERM"
	kill -TERM "$DG_PID"
	check_rc "STOPPING=1" 0 wait_line '^STOPPING=1$'
}

post()
{
	:
}

dg_main
