# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""A fake plain-DNS upstream on UDP, and the spoofer beside it, for the
cleartext spoofing case.

  fake_dns.py ADDR SPOOF_ADDR SECONDS

Serves UDP on ADDR:53 for SECONDS and answers each A query by the first
label of its name (case ignored). Spoofs carry A 192.0.2.66, real
answers A 192.0.2.77:
  lower     a spoof only: the question lowercased, as a spoofer who
            cannot see the query would write it;
  echo      the real answer: the question exactly as asked;
  race      spoofs first (the question lowercased; then another ID),
            then the real answer;
  wrongsrc  the real answer byte for byte but for its address, sent from
            SPOOF_ADDR:53 first, then the real answer from ADDR:53.
Prints "ready" once listening, then one line per query:
"query LABEL ID NAME-AS-ASKED".

Only loopback and TEST-NET addresses are accepted.
"""
import ipaddress
import socket
import struct
import sys
import time

ALLOWED = [ipaddress.ip_network(n) for n in (
    "127.0.0.0/8", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]
SPOOF_A = bytes([192, 0, 2, 66])
REAL_A = bytes([192, 0, 2, 77])


def question(msg):
    """(name bytes as on the wire, qtype) of the question."""
    off = 12
    for _ in range(128):
        n = msg[off]
        if n == 0 or n > 63:
            break
        off += 1 + n
    name = msg[12:off + 1]
    qtype = struct.unpack("!H", msg[off + 1:off + 3])[0]
    return name, qtype


def answer(qid, name, qtype, addr):
    """A response: the question (name as given), one A record."""
    hdr = struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0)
    rr = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + addr
    return hdr + name + struct.pack("!HH", qtype, 1) + rr


def main():
    addr, spoof_addr, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
    for a in (addr, spoof_addr):
        if not any(ipaddress.ip_address(a) in n for n in ALLOWED):
            sys.exit("fake_dns.py: %s is not loopback or TEST-NET" % a)
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind((addr, 53))
    spoofer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    spoofer.bind((spoof_addr, 53))
    srv.settimeout(0.2)
    print("ready", flush=True)
    end = time.monotonic() + secs
    while time.monotonic() < end:
        try:
            msg, peer = srv.recvfrom(4096)
        except socket.timeout:
            continue
        if len(msg) < 17:
            continue
        qid = struct.unpack("!H", msg[:2])[0]
        name, qtype = question(msg)
        label = name[1:1 + name[0]].decode("ascii", "replace")
        mode = label.lower()
        text = ".".join(
            name[i + 1:i + 1 + name[i]].decode("ascii", "replace")
            for i in _label_offsets(name))
        print("query %s %d %s." % (mode, qid, text), flush=True)
        real = answer(qid, name, qtype, REAL_A)
        lower = answer(qid, name.lower(), qtype, SPOOF_A)
        if mode == "lower":
            srv.sendto(lower, peer)
        elif mode == "echo":
            srv.sendto(real, peer)
        elif mode == "race":
            srv.sendto(lower, peer)
            srv.sendto(answer(qid ^ 0x5555, name, qtype, SPOOF_A), peer)
            srv.sendto(real, peer)
        elif mode == "wrongsrc":
            spoofer.sendto(answer(qid, name, qtype, SPOOF_A), peer)
            srv.sendto(real, peer)


def _label_offsets(name):
    off = 0
    while off < len(name) and name[off]:
        yield off
        off += 1 + name[off]


if __name__ == "__main__":
    main()
