#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Cold start of a DNS server, from its exec to its first answer.

  cold_start.py -a ADDR [-a ADDR...] -A ANSWER -n PREFIX -l LOG
                [-p PORT] [-i INTERVAL_MS] [-t TIMEOUT_S] -- CMD [ARG...]

Starts CMD (stdout and stderr appended to LOG) and, from the instant
before its exec, asks a fresh A query every INTERVAL ms (2) at each ADDR
still unanswered, until each has answered with ANSWER, TIMEOUT s (10)
pass or CMD exits; then stops CMD (TERM, ~5 s, KILL) and prints one
line each:

  pid PID
  answer ADDR MS|none   first answer carrying ANSWER, ms after the exec
  reply ADDR MS|none    first reply of any kind (SERVFAIL included)
  cpu_ms MS|none        CMD's CPU time (its threads' run time) when
                        the last ADDR first answered, or when the wait
                        ended
  sent N                queries sent
  exit running|N        running: stopped here; N: it exited first

Run it inside the namespace the server and its clients live in (ip netns
exec): CMD inherits it. Every name is unique (PREFIX-N.bench), so no
cache answers; a reply counts only from the address asked, with the
query's ID and question. A TERM or INT stops CMD before this exits.
Only loopback and TEST-NET addresses are accepted.
"""
import argparse
import ipaddress
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time


ALLOWED = [ipaddress.ip_network(n) for n in (
    "127.0.0.0/8", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]


class Stop(Exception):
    pass


def on_signal(signum, frame):
    raise Stop()


def build_query(qid, name):
    q = struct.pack('>HHHHHH', qid, 0x0100, 1, 0, 0, 0)
    for label in name.split('.'):
        q += bytes([len(label)]) + label.encode()
    return q + b'\x00' + struct.pack('>HH', 1, 1)


def skip_name(msg, off):
    """Offset after the name at off; -1 if it runs past the message."""
    for _ in range(128):
        if off >= len(msg):
            return -1
        n = msg[off]
        if n == 0:
            return off + 1
        if n & 0xc0 == 0xc0:
            return off + 2 if off + 2 <= len(msg) else -1
        off += 1 + n
    return -1


def has_answer(msg, qlen, addr4):
    """True if msg (a reply, question of qlen bytes) is NOERROR with an
    A record whose address is addr4."""
    if len(msg) < 12 or msg[3] & 0x0f != 0:
        return False
    an = struct.unpack('>H', msg[6:8])[0]
    off = 12 + qlen
    for _ in range(min(an, 64)):
        off = skip_name(msg, off)
        if off < 0 or off + 10 > len(msg):
            return False
        rtype, _, _, rdlen = struct.unpack('>HHIH', msg[off:off + 10])
        off += 10
        if off + rdlen > len(msg):
            return False
        if rtype == 1 and msg[off:off + rdlen] == addr4:
            return True
        off += rdlen
    return False


def cpu_ms(pid):
    """CPU time of pid's threads, ms: their run time in schedstat (ns;
    the 10 ms clock ticks of /proc/PID/stat are too coarse here), or
    utime+stime if there is none."""
    try:
        ns = 0
        for tid in os.listdir('/proc/%d/task' % pid):
            with open('/proc/%d/task/%s/schedstat' % (pid, tid)) as f:
                ns += int(f.read().split()[0])
        return '%.1f' % (ns / 1e6)
    except (OSError, IndexError, ValueError):
        pass
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return '%d' % ((int(fields[11]) + int(fields[12])) * 1000 //
                       os.sysconf('SC_CLK_TCK'))
    except (OSError, IndexError, ValueError):
        return None


def stop(proc):
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('-a', dest='addrs', action='append', required=True)
    ap.add_argument('-p', dest='port', type=int, default=53)
    ap.add_argument('-A', dest='answer', required=True)
    ap.add_argument('-n', dest='prefix', required=True)
    ap.add_argument('-i', dest='interval_ms', type=float, default=2.0)
    ap.add_argument('-t', dest='timeout_s', type=float, default=10.0)
    ap.add_argument('-l', dest='log', required=True)
    ap.add_argument('cmd', nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ['--'] else a.cmd
    if not cmd:
        ap.error('no command')
    for x in a.addrs:
        if not any(ipaddress.ip_address(x) in n for n in ALLOWED):
            ap.error('%s: only loopback and TEST-NET addresses' % x)
    addr4 = socket.inet_aton(a.answer)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    interval = a.interval_ms / 1000.0
    pending = {}        # qid -> (addr, question bytes)
    answer = {x: None for x in a.addrs}
    reply = {x: None for x in a.addrs}
    qid = int.from_bytes(os.urandom(2), 'big')
    sent = 0
    cpu = None
    exited = None
    log = open(a.log, 'ab')
    proc = None
    try:
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                    stdout=log, stderr=log)
        deadline = t0 + a.timeout_s
        for _ in range(int(a.timeout_s / interval) + 1):
            now = time.monotonic()
            if now >= deadline or None not in answer.values():
                break
            if proc.poll() is not None:
                exited = proc.returncode
                break
            for x in a.addrs:
                if answer[x] is not None:
                    continue
                qid = (qid + 1) & 0xffff
                q = build_query(qid, '%s-%d.bench' % (a.prefix, sent))
                pending[qid] = (x, q[12:])
                try:
                    sock.sendto(q, (x, a.port))
                except OSError:
                    pass    # no route or listener yet
                sent += 1
            wake = min(now + interval, deadline)
            while True:
                left = wake - time.monotonic()
                if left <= 0 or not select.select([sock], [], [], left)[0]:
                    break
                try:
                    msg, src = sock.recvfrom(4096)
                except OSError:
                    continue
                t = (time.monotonic() - t0) * 1000
                if len(msg) < 12:
                    continue
                p = pending.get(struct.unpack('>H', msg[:2])[0])
                if not p or p[0] != src[0] or \
                   msg[12:12 + len(p[1])] != p[1]:
                    continue
                if reply[src[0]] is None:
                    reply[src[0]] = t
                if answer[src[0]] is None and \
                   has_answer(msg, len(p[1]), addr4):
                    answer[src[0]] = t
                    if None not in answer.values():
                        cpu = cpu_ms(proc.pid)
                        break
        if cpu is None:
            cpu = cpu_ms(proc.pid)
    except Stop:
        pass
    finally:
        if proc:
            if exited is None and proc.poll() is not None:
                exited = proc.returncode
            stop(proc)
    print('pid %s' % (proc.pid if proc else 'none'))
    for x in a.addrs:
        print('answer %s %s' % (x, 'none' if answer[x] is None
                    else '%.1f' % answer[x]))
        print('reply %s %s' % (x, 'none' if reply[x] is None
                       else '%.1f' % reply[x]))
    print('cpu_ms %s' % ('none' if cpu is None else cpu))
    print('sent %d' % sent)
    print('exit %s' % ('running' if exited is None else exited))
    return 0


if __name__ == '__main__':
    sys.exit(main())
