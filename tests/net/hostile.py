# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Hostile TCP/53 clients for the netns cases; every mode is bounded in
time, and only loopback and TEST-NET addresses are accepted.

  hostile.py pipeline ADDR NAME TYPE COUNT GOFILE SECONDS
      One connection to ADDR port 53. A thread writes COUNT queries for
      NAME TYPE (IDs 0..COUNT-1) back to back while nothing is read;
      "sent N" is printed every 0.2 s until GOFILE exists. Then every
      answer is read (the writer goes on if it was held back), within
      SECONDS, and one line is printed:
      "done sent N answers N unique N noerror N eof 0|1".

  hostile.py hold ADDR COUNT SRC[,SRC...] STATE GOFILE SECONDS PING
      COUNT idle connections to ADDR port 53, from the source addresses
      in turn (one after the other, each connect bounded). Every PING
      seconds (0: never) each open connection sends one query for a.test
      A, oldest first, so the server's idle timeout does not close them
      while a slow test runs; answers are read and dropped. STATE is
      rewritten every 0.1 s until GOFILE exists or SECONDS pass, one
      line per source: "SRC opened N closed N", a connection counting as
      closed once the server ends it; a last line "all opened N closed N"
      follows.

  hostile.py slowdot ADDR PORT CERT KEY DELAY SECONDS
      A DNS-over-TLS upstream on ADDR:PORT for SECONDS, pipelined (RFC
      7766), that answers every A query itself: names starting with
      "slow" after DELAY seconds (TTL 0, so nothing caches them), any
      other at once (TTL 60); the address is 203.0.113.77 for slow names,
      203.0.113.10 for the others. Prints "slowdot slow N fast N" at the
      end.
"""
import heapq
import ipaddress
import os
import resource
import select
import socket
import ssl
import struct
import sys
import threading
import time

ALLOWED = [ipaddress.ip_network(n) for n in (
    "127.0.0.0/8", "::1/128", "192.0.2.0/24", "198.51.100.0/24",
    "203.0.113.0/24", "2001:db8::/32")]
TYPES = {"A": 1, "TXT": 16, "AAAA": 28}


def target(addr):
    ip = ipaddress.ip_address(addr)
    if not any(ip in n for n in ALLOWED):
        sys.exit("hostile.py: %s is not a loopback or TEST-NET address" % addr)
    return socket.AF_INET6 if ip.version == 6 else socket.AF_INET


def more_files(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), hard))


def query(qid, name, qtype):
    wire = b"".join(bytes([len(l)]) + l.encode() for l in name.strip(".").split("."))
    msg = (struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + wire + b"\0"
           + struct.pack("!HH", TYPES[qtype], 1))
    return struct.pack("!H", len(msg)) + msg


def cmd_pipeline(addr, name, qtype, count, gofile, seconds):
    count, seconds = int(count), float(seconds)
    s = socket.socket(target(addr), socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect((addr, 53))
    s.settimeout(None)
    sent = [0]

    def writer():
        try:
            for i in range(count):
                s.sendall(query(i & 0xffff, name, qtype))
                sent[0] = i + 1
        except OSError:
            pass

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    end = time.monotonic() + seconds
    while not os.path.exists(gofile) and time.monotonic() < end:
        print("sent %d" % sent[0], flush=True)
        time.sleep(0.2)
    print("sent %d" % sent[0], flush=True)

    buf = b""
    answers = noerror = eof = 0
    seen = set()
    s.setblocking(False)
    while answers < count and time.monotonic() < end:
        r, _, _ = select.select([s], [], [], 0.5)
        if not r:
            continue
        try:
            data = s.recv(1 << 20)
        except BlockingIOError:
            continue
        except OSError:
            data = b""
        if not data:
            eof = 1
            break
        buf += data
        off = 0
        while len(buf) - off >= 2:
            n = struct.unpack_from("!H", buf, off)[0]
            if len(buf) - off - 2 < n:
                break
            msg = buf[off + 2:off + 2 + n]
            off += 2 + n
            if n < 12:
                continue
            answers += 1
            seen.add(struct.unpack_from("!H", msg)[0])
            if msg[3] & 0xF == 0:
                noerror += 1
        buf = buf[off:]
    print("done sent %d answers %d unique %d noerror %d eof %d"
          % (sent[0], answers, len(seen), noerror, eof), flush=True)


def write_state(path, srcs, conns):
    lines = []
    tot_o = tot_c = 0
    for src in srcs:
        o = sum(1 for c in conns if c[0] == src)
        c = sum(1 for c in conns if c[0] == src and c[2])
        tot_o += o
        tot_c += c
        lines.append("%s opened %d closed %d" % (src, o, c))
    lines.append("all opened %d closed %d" % (tot_o, tot_c))
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(path + ".tmp", path)


def cmd_hold(addr, count, srcs, state, gofile, seconds, ping):
    count, seconds, ping = int(count), float(seconds), float(ping)
    srcs = srcs.split(",")
    fam = target(addr)
    for src in srcs:
        target(src)
    more_files(count + 64)
    end = time.monotonic() + seconds
    conns = []		# [src, socket, closed]
    p = select.poll()
    by_fd = {}
    for i in range(count):
        if time.monotonic() >= end:
            break
        src = srcs[i % len(srcs)]
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.bind((src, 0))
        s.settimeout(5)
        try:
            s.connect((addr, 53))
        except OSError as e:
            print("connect %d from %s: %s" % (i, src, e), flush=True)
            s.close()
            continue
        s.setblocking(False)
        c = [src, s, False]
        conns.append(c)
        by_fd[s.fileno()] = c
        p.register(s, select.POLLIN)
    next_ping = time.monotonic() + ping
    while True:
        if ping and time.monotonic() >= next_ping:
            next_ping += ping
            for c in conns:
                if not c[2]:
                    try:
                        c[1].send(query(0x5050, "a.test", "A"))
                    except OSError:
                        pass
        for fd, _ in p.poll(100):
            c = by_fd[fd]
            try:
                data = c[1].recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                c[2] = True
                p.unregister(fd)
        write_state(state, srcs, conns)
        if os.path.exists(gofile) or time.monotonic() >= end:
            break
    for c in conns:
        c[1].close()


def dns_answer(query):
    """The answer for an A query (QR RD RA, the question, one A), and
    whether its name is a slow one."""
    off = 12
    while query[off]:
        off += 1 + query[off]
    slow = query[13:17] == b"slow"
    addr, ttl = (b"\xcb\x00\x71\x4d", 0) if slow else (b"\xcb\x00\x71\x0a", 60)
    rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, ttl, 4) + addr
    msg = (query[:2] + struct.pack("!HHHHH", 0x8180, 1, 1, 0, 0)
           + query[12:off + 5] + rr)
    return struct.pack("!H", len(msg)) + msg, slow


def cmd_slowdot(addr, port, cert, key, delay, seconds):
    delay, end = float(delay), time.monotonic() + float(seconds)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ls = socket.socket(target(addr), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, int(port)))
    ls.listen(16)
    ls.settimeout(0.2)
    counts = {True: 0, False: 0}
    lock = threading.Lock()

    def serve(conn):
        # One thread per connection reads and writes: an SSL object is
        # never used by two threads at once.
        buf = b""
        later = []		# (when, seq, answer)
        seq = 0
        while time.monotonic() < end:
            now = time.monotonic()
            out = []
            while later and later[0][0] <= now:
                out.append(heapq.heappop(later)[2])
            try:
                if out:
                    conn.settimeout(None)
                    conn.sendall(b"".join(out))
                conn.settimeout(0.01)
                data = conn.recv(65536)
            except socket.timeout:
                continue
            except (OSError, ssl.SSLError):
                break
            if not data:
                break
            buf += data
            while len(buf) >= 2 and len(buf) - 2 >= struct.unpack_from("!H", buf)[0]:
                n = struct.unpack_from("!H", buf)[0]
                query, buf = buf[2:2 + n], buf[2 + n:]
                if len(query) < 17:
                    continue
                ans, slow = dns_answer(query)
                with lock:
                    counts[slow] += 1
                seq += 1
                heapq.heappush(later, (time.monotonic() + (delay if slow else 0),
                                       seq, ans))
        conn.close()

    while time.monotonic() < end:
        try:
            raw, _ = ls.accept()
        except socket.timeout:
            continue
        raw.settimeout(2)
        try:
            conn = ctx.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            raw.close()
            continue
        threading.Thread(target=serve, args=(conn,), daemon=True).start()
    print("slowdot slow %d fast %d" % (counts[True], counts[False]), flush=True)


def main():
    cmds = {"pipeline": (cmd_pipeline, 6), "hold": (cmd_hold, 7),
            "slowdot": (cmd_slowdot, 6)}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds or \
            len(sys.argv) - 2 != cmds[sys.argv[1]][1]:
        sys.exit(__doc__)
    fn = cmds[sys.argv[1]][0]
    fn(*sys.argv[2:])


if __name__ == "__main__":
    main()
