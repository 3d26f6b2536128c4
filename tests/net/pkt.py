# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Tiny traffic generator for the netns cases: every call sends a known
number of packets and is bounded in time.

  pkt.py ping ADDR [TIMEOUT]            one ICMP(v6) echo; 0 = reply seen
  pkt.py udp ADDR PORT [COUNT]          COUNT datagrams from one socket
  pkt.py tcp ADDR PORT TIMEOUT          one connect(); prints connected /
                                        refused / timeout; a timeout below
                                        the 1 s initial RTO sends one SYN
  pkt.py raw ADDR PORT                  one UDP datagram from a SOCK_RAW
                                        socket (our own UDP header)
  pkt.py frame IFNAME DSTMAC SRC DST PORT [VLAN]
                                        one Ethernet/IPv4/UDP frame from an
                                        AF_PACKET socket, optionally tagged
  pkt.py udpserve ADDR PORT SECONDS     answer datagrams (echo) until time

Only loopback and TEST-NET addresses are accepted as destinations.
"""
import errno
import ipaddress
import os
import select
import socket
import struct
import sys
import time

ALLOWED = [ipaddress.ip_network(n) for n in (
    "127.0.0.0/8", "::1/128", "192.0.2.0/24", "198.51.100.0/24",
    "203.0.113.0/24", "2001:db8::/32")]

# A minimal DNS query for "a.test. IN A" so a capture shows DNS.
DNS_QUERY = (struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
             + b"\x01a\x04test\x00" + struct.pack("!HH", 1, 1))


def target(addr):
    ip = ipaddress.ip_address(addr)
    if not any(ip in n for n in ALLOWED):
        sys.exit("pkt.py: %s is not a loopback or TEST-NET address" % addr)
    return ip


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def family(ip):
    return socket.AF_INET6 if ip.version == 6 else socket.AF_INET


def cmd_ping(addr, timeout="2"):
    ip = target(addr)
    ident = os.getpid() & 0xffff
    if ip.version == 4:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
        pkt = hdr + b"dotguard"
        pkt = pkt[:2] + struct.pack("!H", csum(pkt)) + pkt[4:]
        want = 0
    else:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW,
                          socket.IPPROTO_ICMPV6)
        pkt = struct.pack("!BBHHH", 128, 0, 0, ident, 1) + b"dotguard"
        want = 129
    s.sendto(pkt, (str(ip), 0))
    deadline = time.monotonic() + float(timeout)
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            print("ping %s: no reply" % ip)
            return 1
        data, src = s.recvfrom(2048)
        if ip.version == 4:
            data = data[(data[0] & 0x0f) * 4:]
        if len(data) >= 8 and data[0] == want and \
                struct.unpack("!H", data[4:6])[0] == ident and \
                ipaddress.ip_address(src[0].split("%")[0]) == ip:
            print("ping %s: reply" % ip)
            return 0


def cmd_udp(addr, port, count="1"):
    ip = target(addr)
    s = socket.socket(family(ip), socket.SOCK_DGRAM)
    for _ in range(int(count)):
        send(s.sendto, DNS_QUERY, (str(ip), int(port)))
    return 0


def cmd_tcp(addr, port, timeout):
    ip = target(addr)
    s = socket.socket(family(ip), socket.SOCK_STREAM)
    s.settimeout(float(timeout))
    try:
        s.connect((str(ip), int(port)))
        print("connected")
        return 0
    except ConnectionRefusedError:
        print("refused")
        return 1
    except (socket.timeout, TimeoutError):
        print("timeout")
        return 2
    except OSError as e:
        print("error: %s" % e)
        return 3
    finally:
        s.close()


def cmd_raw(addr, port):
    ip = target(addr)
    s = socket.socket(family(ip), socket.SOCK_RAW, socket.IPPROTO_UDP)
    udp = struct.pack("!HHHH", 40053, int(port), 8 + len(DNS_QUERY), 0)
    if ip.version == 6:
        # Let the kernel fill the UDP checksum at offset 6.
        s.setsockopt(socket.IPPROTO_IPV6, 7, 6)  # IPV6_CHECKSUM
    send(s.sendto, udp + DNS_QUERY, (str(ip), 0))
    return 0


def mac(text):
    return bytes(int(x, 16) for x in text.split(":"))


def cmd_frame(ifname, dstmac, src, dst, port, vlan=None):
    sip, dip = ipaddress.ip_address(src), target(dst)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))
    srcmac = s.getsockname()[4]
    udp = struct.pack("!HHHH", 40054, int(port), 8 + len(DNS_QUERY), 0)
    total = 20 + len(udp) + len(DNS_QUERY)
    iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0x4d47, 0, 64, 17, 0,
                      sip.packed, dip.packed)
    iph = iph[:10] + struct.pack("!H", csum(iph)) + iph[12:]
    eth = mac(dstmac) + srcmac
    if vlan is not None:
        eth += struct.pack("!HH", 0x8100, int(vlan))
    eth += struct.pack("!H", 0x0800)
    send(s.send, eth + iph + udp + DNS_QUERY)
    return 0


def cmd_udpserve(addr, port, seconds):
    ip = target(addr)
    s = socket.socket(family(ip), socket.SOCK_DGRAM)
    s.bind((str(ip), int(port)))
    deadline = time.monotonic() + float(seconds)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return 0
        if select.select([s], [], [], left)[0]:
            data, peer = s.recvfrom(4096)
            s.sendto(data, peer)


def send(fn, *args):
    """Send; a local drop (ENOBUFS from a qdisc or tc verdict) still
    counts as sent: the packet reached the egress path."""
    try:
        fn(*args)
    except OSError as e:
        if e.errno != errno.ENOBUFS:
            raise
        print("sent, dropped locally (ENOBUFS)")


CMDS = {"ping": cmd_ping, "udp": cmd_udp, "tcp": cmd_tcp, "raw": cmd_raw,
        "frame": cmd_frame, "udpserve": cmd_udpserve}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in CMDS:
        sys.exit(__doc__)
    sys.exit(CMDS[sys.argv[1]](*sys.argv[2:]))
