# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""A fake DNS-over-TLS upstream that answers every query with a broken
message, for the malformed-answer case.

  bad_dot.py ADDR PORT CERT KEY MODE SECONDS

Serves TLS on ADDR:PORT with CERT/KEY for SECONDS, reads 2-byte-framed
queries (RFC 7858) and answers each, with the query's own ID and QR set:
  rdlen     the question copied, one A record whose RDLENGTH (200) runs
            past the end of the message (4 bytes of data follow);
  question  a well-formed answer, but for another name (wrong.test. A).
Prints one line per answer sent ("sent MODE ID") on stdout.

Only loopback and TEST-NET addresses are accepted.
"""
import ipaddress
import socket
import ssl
import struct
import sys
import threading
import time

ALLOWED = [ipaddress.ip_network(n) for n in (
    "127.0.0.0/8", "::1/128", "192.0.2.0/24", "198.51.100.0/24",
    "203.0.113.0/24", "2001:db8::/32")]
WRONG_NAME = b"\x05wrong\x04test\x00"
lock = threading.Lock()


def question_end(msg):
    """Offset just past the first question (uncompressed name)."""
    off = 12
    while msg[off]:
        off += 1 + msg[off]
    return off + 1 + 4


def broken_answer(query, mode):
    qid = query[:2]
    flags = struct.pack("!H", 0x8180)		# QR RD RA, NOERROR
    if mode == "rdlen":
        q = query[12:question_end(query)]
        rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 200) + b"\xcb\x00\x71\x0a"
        return qid + flags + struct.pack("!HHHH", 1, 1, 0, 0) + q + rr
    # A clean answer to a question nobody asked.
    q = WRONG_NAME + struct.pack("!HH", 1, 1)
    rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + b"\xcb\x00\x71\x0a"
    return qid + flags + struct.pack("!HHHH", 1, 1, 0, 0) + q + rr


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def serve(conn, mode):
    try:
        while True:
            hdr = recv_exact(conn, 2)
            if hdr is None:
                break
            query = recv_exact(conn, struct.unpack("!H", hdr)[0])
            if query is None or len(query) < 17:
                break
            ans = broken_answer(query, mode)
            conn.sendall(struct.pack("!H", len(ans)) + ans)
            with lock:
                print("sent %s %d" % (mode, struct.unpack("!H", query[:2])[0]),
                      flush=True)
    except (OSError, ssl.SSLError):
        pass
    finally:
        conn.close()


def main():
    addr, port, cert, key, mode, secs = sys.argv[1:7]
    ip = ipaddress.ip_address(addr)
    if not any(ip in n for n in ALLOWED):
        sys.exit("bad_dot.py: %s is not a loopback or TEST-NET address" % addr)
    if mode not in ("rdlen", "question"):
        sys.exit("bad_dot.py: MODE is rdlen or question")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ls = socket.socket(socket.AF_INET6 if ip.version == 6 else socket.AF_INET)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, int(port)))
    ls.listen(16)
    ls.settimeout(0.2)
    end = time.monotonic() + float(secs)
    while time.monotonic() < end:
        try:
            raw, _ = ls.accept()
        except socket.timeout:
            continue
        raw.settimeout(max(0.1, end - time.monotonic()))
        try:
            conn = ctx.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            raw.close()
            continue
        threading.Thread(target=serve, args=(conn, mode), daemon=True).start()


if __name__ == "__main__":
    main()
