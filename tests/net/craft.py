# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Crafted DNS frames for the netns cases, as an attacker would send them:
fragments in any order, fragment floods, VLAN stacks, PPPoE and MPLS
wrapping, reflective sources. Runs with Debian's python3 (python3-scapy).
Every call sends a known number of packets and is bounded in time.

  craft.py bigq DST [SIZE]
        a SIZE-byte query (default 3000) from a plain UDP socket; the
        kernel fragments it, in order. Prints the answer's first address,
        or "timeout" after 4 s.
  craft.py frags IFACE DSTMAC SRC DST ORDER [FRAGSIZE] [FLOOD] [VLAN]
        a padded query from SRC (a bound UDP socket waits for the answer),
        cut into FRAGSIZE-byte fragments (default 256) and sent from an
        AF_PACKET socket on IFACE in ORDER: in-order, reverse, last-first.
        FLOOD > 0: after the first fragment sent, FLOOD first fragments of
        other (UDP/443) datagrams to 198.51.100.77 (nobody: the receiver keeps
        no reassembly queue for them), to evict the guard's
        record. Prints the answer's first address, or "timeout".
  craft.py tcpfrag IFACE DSTMAC SRC DST
        a TCP/53 SYN cut into two IPv4 fragments (first, then second).
  craft.py tcpsyn IFACE DSTMAC SRC DST [TAGS]
        one TCP/53 SYN; TAGS: VLAN ids, outermost first, comma-separated
        (two: 802.1ad then 802.1Q).
  craft.py udp53 IFACE DSTMAC SRC DST KIND [SRCMAC]
        one DNS query frame: KIND plain, pppoe or mpls; SRCMAC replaces the
        interface's MAC (a group address for the reflection checks).
  craft.py tcp6opts DST
        a DNS query over TCP/IPv6 from a real socket whose segments carry a
        Destination Options header (IPV6_DSTOPTS). Prints the first
        address of the answer, or "timeout".

Only loopback and TEST-NET addresses are accepted as destinations.
"""
import ipaddress
import os
import random
import select
import socket
import struct
import sys
import time

from scapy.config import conf
conf.verb = 0
from scapy.layers.inet import IP, UDP, TCP, fragment  # noqa: E402
from scapy.layers.inet6 import (IPv6, IPv6ExtHdrFragment,  # noqa: E402
                                fragment6)
from scapy.layers.l2 import Ether, Dot1Q  # noqa: E402
from scapy.layers.ppp import PPPoE, PPP  # noqa: E402
from scapy.contrib.mpls import MPLS  # noqa: E402
from scapy.packet import Raw  # noqa: E402

ALLOWED = [ipaddress.ip_network(n) for n in (
    "127.0.0.0/8", "::1/128", "192.0.2.0/24", "198.51.100.0/24",
    "203.0.113.0/24", "2001:db8::/32")]
FLOOD_DST = "198.51.100.77"
FLOOD_DST6 = "2001:db8:2::77"
WAIT = 4.0


def target(addr):
    ip = ipaddress.ip_address(addr)
    if not any(ip in n for n in ALLOWED):
        sys.exit("craft.py: %s is not a loopback or TEST-NET address" % addr)
    return ip


def query(qid, qtype, size):
    """a.test A or aaaa.test AAAA (names the test zone answers), with an
    EDNS Padding option up to size bytes."""
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 1)
    name = b"\x04aaaa" if qtype == 28 else b"\x01a"
    q += name + b"\x04test\x00" + struct.pack("!HH", qtype, 1)
    pad = max(0, size - len(q) - 11 - 4)
    opt = struct.pack("!HH", 12, pad) + b"\0" * pad
    q += b"\x00" + struct.pack("!HHIH", 41, 1232, 0, len(opt)) + opt
    return q


def first_address(msg):
    """The first A or AAAA in an answer, as text; None if none."""
    if len(msg) < 12:
        return None
    qd, an = struct.unpack("!HH", msg[4:8])
    off = 12

    def skip_name(o):
        for _ in range(128):
            if o >= len(msg):
                return len(msg)
            n = msg[o]
            if n == 0:
                return o + 1
            if n & 0xc0 == 0xc0:
                return o + 2
            o += 1 + n
        return len(msg)
    for _ in range(qd):
        off = skip_name(off) + 4
    for _ in range(an):
        off = skip_name(off)
        if off + 10 > len(msg):
            return None
        rtype, _, _, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        off += 10
        rdata = msg[off:off + rdlen]
        off += rdlen
        if rtype == 1 and rdlen == 4:
            return socket.inet_ntop(socket.AF_INET, rdata)
        if rtype == 28 and rdlen == 16:
            return socket.inet_ntop(socket.AF_INET6, rdata)
    return None


def wait_answer(sock, qid):
    end = time.monotonic() + WAIT
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return "timeout"
        r, _, _ = select.select([sock], [], [], left)
        if not r:
            return "timeout"
        msg = sock.recv(65535)
        if len(msg) >= 2 and struct.unpack("!H", msg[:2])[0] == qid:
            return first_address(msg) or "no-address"


def cmd_bigq(dst, size="3000"):
    ip = target(dst)
    fam = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    # Let the kernel fragment rather than refuse: IP_PMTUDISC_DONT.
    if fam == socket.AF_INET:
        s.setsockopt(socket.IPPROTO_IP, 10, 0)
    else:
        s.setsockopt(socket.IPPROTO_IPV6, 23, 0)
    qid = random.randrange(1, 65535)
    s.sendto(query(qid, 28 if fam == socket.AF_INET6 else 1, int(size)),
             (dst, 53))
    print(wait_answer(s, qid))


def l2_socket(iface):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    return s


def cmd_frags(iface, dstmac, src, dst, order, fragsize="256", flood="0",
              vlan=""):
    ip = target(dst)
    v6 = ip.version == 6
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    rx = socket.socket(fam, socket.SOCK_DGRAM)
    rx.bind((src, 0))
    sport = rx.getsockname()[1]
    qid = random.randrange(1, 65535)
    payload = query(qid, 28 if v6 else 1, 3 * int(fragsize))
    srcmac = open("/sys/class/net/%s/address" % iface).read().strip()
    eth = Ether(src=srcmac, dst=dstmac)
    if vlan:
        eth = eth / Dot1Q(vlan=int(vlan))
    fid = random.randrange(1, 65535)
    if v6:
        pkt = (IPv6(src=src, dst=dst) / IPv6ExtHdrFragment(id=fid) /
               UDP(sport=sport, dport=53) / Raw(payload))
        frags = fragment6(pkt, int(fragsize) + 48)
    else:
        pkt = IP(src=src, dst=dst, id=fid) / UDP(sport=sport, dport=53) / Raw(payload)
        frags = fragment(pkt, fragsize=int(fragsize))
    if order == "reverse":
        frags = frags[::-1]
    elif order == "last-first":
        frags = frags[-1:] + frags[:-1]
    elif order != "in-order":
        sys.exit("craft.py: unknown order %s" % order)
    flood_frames = flood_build(eth, src, v6, int(flood))
    tx = l2_socket(iface)
    tx.send(bytes(eth / frags[0]))
    for f in flood_frames:
        tx.send(f)
    for f in frags[1:]:
        tx.send(bytes(eth / f))
    print(wait_answer(rx, qid))


def flood_build(eth, src, v6, n):
    """n first fragments of distinct UDP/443 datagrams, built ahead so
    they go out back to back (scapy builds a packet in about 1 ms)."""
    if v6:
        tmpl = bytes(eth / IPv6(src=src, dst=FLOOD_DST6) /
                     IPv6ExtHdrFragment(id=0, m=1, nh=17) /
                     UDP(sport=40000, dport=443) / Raw(b"f" * 16))
        at = len(tmpl) - 16 - 8 - 4	# the fragment header's id
        return [tmpl[:at] + struct.pack("!I", 0x10000 + i) + tmpl[at + 4:]
                for i in range(n)]
    tmpl = bytearray(bytes(eth / IP(src=src, dst=FLOOD_DST, id=0, flags="MF") /
                           UDP(sport=40000, dport=443) / Raw(b"f" * 16)))
    ip = len(tmpl) - 16 - 8 - 20
    out = []
    for i in range(n):
        tmpl[ip + 4:ip + 6] = struct.pack("!H", i & 0xffff)
        tmpl[ip + 10:ip + 12] = b"\0\0"
        tmpl[ip + 10:ip + 12] = struct.pack("!H", ip_csum(bytes(tmpl[ip:ip + 20])))
        out.append(bytes(tmpl))
    return out


def ip_csum(h):
    s = sum(struct.unpack("!10H", h))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def cmd_tcpfrag(iface, dstmac, src, dst):
    target(dst)
    srcmac = open("/sys/class/net/%s/address" % iface).read().strip()
    syn = (IP(src=src, dst=dst, id=0x7a7a) /
           TCP(sport=40053, dport=53, flags="S", options=[("NOP", None)] * 20))
    tx = l2_socket(iface)
    for f in fragment(syn, fragsize=16):
        tx.send(bytes(Ether(src=srcmac, dst=dstmac) / f))
    print("sent")


def cmd_tcpsyn(iface, dstmac, src, dst, tags=""):
    ip = target(dst)
    srcmac = open("/sys/class/net/%s/address" % iface).read().strip()
    l3 = (IPv6(src=src, dst=dst) if ip.version == 6 else IP(src=src, dst=dst))
    frame = Ether(src=srcmac, dst=dstmac)
    ids = [int(t) for t in tags.split(",") if t]
    for i, vid in enumerate(ids):
        frame = frame / Dot1Q(vlan=vid)
    if len(ids) > 1:
        frame[Ether].type = 0x88a8
    l2_socket(iface).send(bytes(frame / l3 / TCP(sport=40054, dport=53, flags="S")))
    print("sent")


def cmd_udp53(iface, dstmac, src, dst, kind, srcmac=""):
    ip = target(dst)
    if not srcmac:
        srcmac = open("/sys/class/net/%s/address" % iface).read().strip()
    l3 = (IPv6(src=src, dst=dst) if ip.version == 6 else IP(src=src, dst=dst))
    dns = l3 / UDP(sport=40000, dport=53) / Raw(query(0x5353, 1, 40))
    if kind == "plain":
        frame = Ether(src=srcmac, dst=dstmac) / dns
    elif kind == "pppoe":
        frame = (Ether(src=srcmac, dst=dstmac, type=0x8864) /
                 PPPoE(sessionid=0x1234) /
                 PPP(proto=0x57 if ip.version == 6 else 0x21) / dns)
    elif kind == "mpls":
        frame = Ether(src=srcmac, dst=dstmac, type=0x8847) / MPLS(label=16, s=1, ttl=64) / dns
    else:
        sys.exit("craft.py: unknown kind %s" % kind)
    l2_socket(iface).send(bytes(frame))
    print("sent")


def cmd_tcp6opts(dst):
    ip = target(dst)
    if ip.version != 6:
        sys.exit("craft.py: tcp6opts wants an IPv6 address")
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    # Destination Options: next header (filled by the kernel), length 0,
    # one PadN option of 4 bytes.
    opts = bytes([0, 0, 1, 4, 0, 0, 0, 0])
    s.setsockopt(socket.IPPROTO_IPV6, 59, opts)	# IPV6_DSTOPTS
    s.settimeout(WAIT)
    qid = random.randrange(1, 65535)
    try:
        s.connect((dst, 53))
        q = query(qid, 1, 0)
        s.sendall(struct.pack("!H", len(q)) + q)
        hdr = s.recv(2)
        n = struct.unpack("!H", hdr)[0]
        msg = b""
        while len(msg) < n:
            chunk = s.recv(n - len(msg))
            if not chunk:
                break
            msg += chunk
        print(first_address(msg) or "no-address")
    except OSError as e:
        print("error-%s" % (e.errno or "timeout"))


def main():
    cmds = {"bigq": cmd_bigq, "frags": cmd_frags, "tcpfrag": cmd_tcpfrag,
            "tcpsyn": cmd_tcpsyn,
            "udp53": cmd_udp53, "tcp6opts": cmd_tcp6opts}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    os.environ.setdefault("SCAPY_USE_LIBPCAP", "no")
    main()
