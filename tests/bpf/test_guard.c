// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * BPF_PROG_TEST_RUN tests of the guard programs. One table of packets runs
 * through the real entry points, dg_tc_egress and dg_xdp_gateway, under
 * every policy; each case checks the program's return code and that
 * exactly one counter slot, [slot][reason][action], moved by one packet
 * and its length while every other slot stayed put.
 *
 * Not driven here, by necessity:
 *  - the own-socket pass (bpf_get_socket_cookie()): BPF_PROG_TEST_RUN
 *    gives each skb a fresh dummy socket whose cookie cannot be known in
 *    advance, so dg_own_socks never matches;
 *  - the tc re-parse after bpf_skb_pull_data(): test skbs are linear;
 *  - frames shorter than an Ethernet header (DG_R_RUNT): the kernel
 *    refuses them for both hooks, metadata or not, as XDP does on real
 *    devices; the fuzz target covers the parser's runt branch;
 *  - tc frames whose EtherType says IPv4 (IPv6) but that hold fewer than
 *    20 (40) bytes after it: test_run refuses them, though AF_PACKET can
 *    send them through tc egress; the XDP subtests cover those cuts.
 * A refused run is checked too: -EINVAL, and no counter moves.
 *
 * Usage: test_guard [-v] [--write-baseline] [--write-seeds DIR]
 * Ends with "N passed, N failed"; exits non-zero when anything failed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "log.h"
#include "pkt.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define BASELINE_DEFAULT "tests/bpf/verifier_baseline.txt"
#define BASELINE_SLACK_PCT 10
#define MAX_CASES 512

/* ---- assertions, in the spirit of selftests/bpf test_progs.h ---- */

/* What went wrong in the current case, printed as one line at its end. */
static char fail_msg[1024];
static size_t fail_len;

static void __attribute__((format(printf, 1, 2))) fail_note(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (fail_len >= sizeof(fail_msg) - 1)
		return;
	if (fail_len)
		fail_len += snprintf(fail_msg + fail_len, sizeof(fail_msg) - fail_len, "; ");
	if (fail_len >= sizeof(fail_msg) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(fail_msg + fail_len, sizeof(fail_msg) - fail_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		fail_len += n;
	if (fail_len > sizeof(fail_msg) - 1)
		fail_len = sizeof(fail_msg) - 1;
}

#define ASSERT_EQ(actual, expected, name) ({				\
	long long ___a = (actual), ___e = (expected);			\
	bool ___ok = ___a == ___e;					\
	if (!___ok)							\
		fail_note("%s %lld != expected %lld", (name), ___a, ___e); \
	___ok;								\
})

#define ASSERT_OK(res, name) ({						\
	long long ___r = (res);						\
	bool ___ok = ___r == 0;						\
	if (!___ok)							\
		fail_note("%s failed: %lld (%s)", (name), ___r,		\
			  strerror(___r < 0 ? (int)-___r : errno));	\
	___ok;								\
})

#define ASSERT_LE(actual, limit, name) ({				\
	long long ___a = (actual), ___l = (limit);			\
	bool ___ok = ___a <= ___l;					\
	if (!___ok)							\
		fail_note("%s %lld > limit %lld", (name), ___a, ___l);	\
	___ok;								\
})

/* ---- names, from the same X-macros the programs use ---- */

#define DG_NAME(sym, name, doc) name,
static const char *const reason_names[] = { DG_REASONS(DG_NAME) };
static const char *const action_names[] = { DG_ACTIONS(DG_NAME) };
#undef DG_NAME

/* ---- the table ---- */

enum l4 { L4_NONE, L4_UDP, L4_TCP, L4_ICMP, L4_RAW };

struct ext {
	__u8 type;
	__u8 len;		/* bytes; 0 ends the chain */
};

/* A packet, described; build() turns it into bytes with pkt.h. */
struct spec {
	bool l3;		/* no Ethernet header (tun, wireguard) */
	__u16 tags[4];		/* VLAN TPIDs, outermost first; 0 ends */
	__u16 ethertype;	/* non-IP frame: this EtherType + a body */
	__u8 ip;		/* 4 or 6; 0 = no IP header */
	__u8 optlen;		/* IPv4 option bytes */
	bool set_ihl;		/* write ihl over the IPv4 IHL */
	__u8 ihl;
	__u8 version;		/* written over the IP version when non-zero */
	struct ext ext[12];	/* IPv6 extension chain */
	__u32 fid;		/* fragment id (IPv4: fragmented when non-zero) */
	__u16 foff;		/* fragment offset, 8-byte units */
	bool mf;		/* More Fragments */
	enum l4 l4;
	__u8 proto;		/* L4_RAW: the protocol number */
	__u16 sport;		/* 0 = 40000 */
	__u16 dport;
	bool bare;		/* UDP/TCP without the 24-byte payload */
	__u16 paylen;		/* L4_RAW: payload bytes */
	bool cut;		/* cut the packet to cutlen bytes */
	__u16 cutlen;
	bool syn;		/* TCP: a SYN alone, not ACK|PSH */
	/* What carries the IP packet: PPPoE (ppp: its PPP protocol, pfc:
	 * compressed to one byte) or MPLS (labels entries, the last with
	 * the bottom-of-stack bit unless nobos). */
	bool pppoe;
	__u16 ppp;
	bool pfc;
	__u8 labels;
	bool nobos;
	const __u8 *src_mac;	/* replaces the source MAC */
	const __u8 *src_ip;	/* replaces the source address (4 or 16 bytes) */
};

/* Expected dg_action per policy mode, indexed by enum dg_mode. */
#define ACT_DNS { DG_A_REDIRECT, DG_A_DROP, DG_A_MONITOR }
#define ACT_SUSPECT { DG_A_DROP, DG_A_DROP, DG_A_MONITOR }
#define ACT_PASS { DG_A_PASS, DG_A_PASS, DG_A_PASS }
/* A later fragment whose first was not seen: never passed unseen. */
#define ACT_UNKNOWN { DG_A_REDIRECT, DG_A_DROP, DG_A_PASS }
/* Two first fragments of one datagram that disagree: dropped whole. */
#define ACT_OVERLAP_PASS { DG_A_DROP, DG_A_DROP, DG_A_PASS }
#define ACT_OVERLAP_DNS { DG_A_DROP, DG_A_DROP, DG_A_MONITOR }
#define DNS .act = ACT_DNS
#define SUSPECT .act = ACT_SUSPECT
#define PASS .act = ACT_PASS
#define UNKNOWN .act = ACT_UNKNOWN

struct row {
	const char *name;	/* the packet, as a noun */
	const char *claim;	/* what must happen to it, and why */
	struct spec s;
	__u32 reason;
	__u32 act[DG_MODE_MAX];
	bool cuts;		/* also every cut at and just before a boundary */
	bool seed;		/* a fuzz seed (--write-seeds) */
	bool first;		/* the parser sees a first fragment */
	/* On a LAN port (the gateway XDP hook) the source would reflect the
	 * answer: there it is "bad-source" and dropped. */
	bool reflects;
};

#define V4 .ip = 4
#define V6 .ip = 6
#define L3 .l3 = true
#define UDP(d) .l4 = L4_UDP, .dport = (d)
#define TCP(d) .l4 = L4_TCP, .dport = (d)
#define RAW(p, n) .l4 = L4_RAW, .proto = (p), .paylen = (n)
#define IHL(n) .set_ihl = true, .ihl = (n)
#define CUT(n) .cut = true, .cutlen = (n)
#define TAGS(...) .tags = { __VA_ARGS__ }
#define EXT(...) .ext = { __VA_ARGS__ }
#define FRAG4(id, off, more) .fid = (id), .foff = (off), .mf = (more)
#define FRAG6(id, off, more) .fid = (id), .foff = (off), .mf = (more)
#define Q PKT_ETH_8021Q
#define AD PKT_ETH_8021AD
#define HOP { PKT_IP6_HOP, 8 }
#define RT { PKT_IP6_ROUTING, 8 }
#define DST { PKT_IP6_DSTOPTS, 8 }
#define AH { PKT_IP6_AH, 16 }
#define FH { PKT_IP6_FRAG, 8 }
#define LATER_UDP RAW(PKT_IP_UDP, 16)
#define FIRST .first = true
#define PPPOE(proto) .pppoe = true, .ppp = (proto)
#define MPLS(n) .labels = (n)

static const __u8 mac_group[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x35 };
static const __u8 mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const __u8 ip4_zero[4] = { 0, 0, 0, 0 };
static const __u8 ip4_bcast[4] = { 255, 255, 255, 255 };
static const __u8 ip4_mcast[4] = { 224, 0, 0, 251 };
static const __u8 ip6_zero[16] = { 0 };
static const __u8 ip6_mcast[16] = { 0xff, 0x02, [15] = 0x01 };
static const __u8 ip4_lan[4] = { 192, 0, 2, 77 };

static const struct row rows[] = {
	/* Plain transports. */
	{ "UDP/53 over IPv4", "is DNS",
	  { V4, UDP(53) }, DG_R_DNS_UDP4, DNS, .cuts = true, .seed = true },
	{ "UDP/53 over IPv6", "is DNS",
	  { V6, UDP(53) }, DG_R_DNS_UDP6, DNS, .cuts = true, .seed = true },
	{ "TCP/53 over IPv4", "is DNS",
	  { V4, TCP(53) }, DG_R_DNS_TCP4, DNS, .cuts = true, .seed = true },
	{ "TCP/53 over IPv6", "is DNS",
	  { V6, TCP(53) }, DG_R_DNS_TCP6, DNS, .cuts = true, .seed = true },
	{ "a bare UDP/53 header over IPv4", "is DNS: the header alone decides",
	  { V4, UDP(53), .bare = true }, DG_R_DNS_UDP4, DNS },
	{ "a bare TCP/53 header over IPv6", "is DNS: the header alone decides",
	  { V6, TCP(53), .bare = true }, DG_R_DNS_TCP6, DNS },
	{ "UDP/443 over IPv4", "passes: not port 53",
	  { V4, UDP(443) }, DG_R_NON_DNS, PASS, .cuts = true, .seed = true },
	{ "UDP/443 over IPv6", "passes: not port 53",
	  { V6, UDP(443) }, DG_R_NON_DNS, PASS, .seed = true },
	{ "TCP/853 (DoT) over IPv4", "passes: DNS over TLS is the point",
	  { V4, TCP(853) }, DG_R_NON_DNS, PASS },
	{ "TCP/80 over IPv6", "passes: not port 53",
	  { V6, TCP(80) }, DG_R_NON_DNS, PASS },
	{ "UDP from port 53 to 40000 over IPv4",
	  "passes: only the destination port counts",
	  { V4, UDP(40000), .sport = 53 }, DG_R_NON_DNS, PASS },
	{ "TCP from port 53 to 40000 over IPv6",
	  "passes: only the destination port counts",
	  { V6, TCP(40000), .sport = 53 }, DG_R_NON_DNS, PASS },
	{ "UDP/5353 (mDNS) over IPv4", "passes: not port 53",
	  { V4, UDP(5353) }, DG_R_NON_DNS, PASS },
	{ "UDP to port 13568 (53 byte-swapped) over IPv4",
	  "passes: ports are read in network order",
	  { V4, UDP(13568) }, DG_R_NON_DNS, PASS },
	{ "TCP to port 13568 (53 byte-swapped) over IPv6",
	  "passes: ports are read in network order",
	  { V6, TCP(13568) }, DG_R_NON_DNS, PASS },
	{ "ICMP echo over IPv4", "passes: not UDP or TCP",
	  { V4, .l4 = L4_ICMP }, DG_R_NON_DNS, PASS, .seed = true },
	{ "ICMPv6 echo", "passes: not UDP or TCP",
	  { V6, .l4 = L4_ICMP }, DG_R_NON_DNS, PASS },
	{ "SCTP over IPv4", "passes: not UDP or TCP",
	  { V4, RAW(132, 32) }, DG_R_NON_DNS, PASS },
	{ "ESP over IPv6", "passes: opaque, not UDP or TCP",
	  { V6, RAW(50, 32) }, DG_R_NON_DNS, PASS },

	/* Non-IP frames. */
	{ "an ARP request", "passes: not IP",
	  { .ethertype = PKT_ETH_ARP }, DG_R_NON_IP, PASS, .seed = true },
	{ "an LLDP frame", "passes: not IP",
	  { .ethertype = 0x88cc }, DG_R_NON_IP, PASS },
	{ "an MPLS pseudowire (a control word, not IP, after the label)",
	  "passes: not IP",
	  { MPLS(1) }, DG_R_NON_IP, PASS },
	{ "a PPPoE LCP frame", "passes: not IP",
	  { PPPOE(PKT_PPP_LCP) }, DG_R_NON_IP, PASS },
	{ "an 802.3 frame with a length field", "passes: not IP",
	  { .ethertype = 0x002e }, DG_R_NON_IP, PASS },
	{ "an Ethernet header alone, EtherType 0", "passes: not IP",
	  { 0 }, DG_R_NON_IP, PASS },
	{ "an ARP request in QinQ", "passes: not IP",
	  { TAGS(AD, Q), .ethertype = PKT_ETH_ARP }, DG_R_NON_IP, PASS },

	/* VLAN tags: DG_MAX_VLAN_DEPTH (3) are walked. */
	{ "UDP/53 over IPv4 in 802.1Q", "is DNS",
	  { TAGS(Q), V4, UDP(53) },
	  DG_R_DNS_UDP4, DNS, .cuts = true, .seed = true },
	{ "UDP/53 over IPv6 in 802.1ad", "is DNS",
	  { TAGS(AD), V6, UDP(53) }, DG_R_DNS_UDP6, DNS },
	{ "UDP/53 over IPv4 in QinQ", "is DNS",
	  { TAGS(AD, Q), V4, UDP(53) },
	  DG_R_DNS_UDP4, DNS, .cuts = true, .seed = true },
	{ "TCP/53 over IPv6 in QinQ", "is DNS",
	  { TAGS(AD, Q), V6, TCP(53) }, DG_R_DNS_TCP6, DNS },
	{ "UDP/443 over IPv4 in two 802.1Q tags", "passes: not port 53",
	  { TAGS(Q, Q), V4, UDP(443) }, DG_R_NON_DNS, PASS },
	{ "UDP/53 over IPv4 in three tags", "is DNS: three tags are walked",
	  { TAGS(AD, Q, Q), V4, UDP(53) }, DG_R_DNS_UDP4, DNS, .cuts = true },
	{ "UDP/443 over IPv6 in three tags", "passes: not port 53",
	  { TAGS(AD, AD, Q), V6, UDP(443) }, DG_R_NON_DNS, PASS },
	{ "ICMPv6 in 802.1Q", "passes: not UDP or TCP",
	  { TAGS(Q), V6, .l4 = L4_ICMP }, DG_R_NON_DNS, PASS },
	{ "UDP/53 over IPv4 in four tags",
	  "fails closed: more tags than walked",
	  { TAGS(AD, Q, Q, Q), V4, UDP(53) },
	  DG_R_LIMIT_VLAN, SUSPECT, .seed = true },
	{ "UDP/443 over IPv4 in four tags",
	  "fails closed: what is behind cannot be seen",
	  { TAGS(Q, Q, Q, Q), V4, UDP(443) }, DG_R_LIMIT_VLAN, SUSPECT },

	{ "UDP/53 over IPv4 in a 0x9100 tag and an 802.1Q tag",
	  "is DNS: the pre-802.1ad QinQ TPID is walked too",
	  { TAGS(PKT_ETH_QINQ1, Q), V4, UDP(53) },
	  DG_R_DNS_UDP4, DNS, .cuts = true },
	{ "UDP/443 over IPv6 in a 0x9100 tag", "passes: not port 53",
	  { TAGS(PKT_ETH_QINQ1), V6, UDP(443) }, DG_R_NON_DNS, PASS },

	/* PPPoE and MPLS: DNS inside is seen, and dropped (it cannot be
	 * answered in its wrapping); the rest passes. */
	{ "UDP/53 over IPv4 in PPPoE", "is dropped: DNS that cannot be answered there",
	  { PPPOE(PKT_PPP_IP), V4, UDP(53) },
	  DG_R_DNS_ENCAP, SUSPECT, .cuts = true, .seed = true },
	{ "TCP/53 over IPv6 in PPPoE", "is dropped: DNS that cannot be answered there",
	  { PPPOE(PKT_PPP_IPV6), V6, TCP(53) }, DG_R_DNS_ENCAP, SUSPECT },
	{ "UDP/53 over IPv4 in PPPoE with a compressed protocol field",
	  "is dropped: DNS that cannot be answered there",
	  { PPPOE(PKT_PPP_IP), .pfc = true, V4, UDP(53) },
	  DG_R_DNS_ENCAP, SUSPECT },
	{ "UDP/53 over IPv4 in PPPoE in 802.1Q",
	  "is dropped: DNS that cannot be answered there",
	  { TAGS(Q), PPPOE(PKT_PPP_IP), V4, UDP(53) }, DG_R_DNS_ENCAP, SUSPECT },
	{ "UDP/443 over IPv4 in PPPoE", "passes: not port 53",
	  { PPPOE(PKT_PPP_IP), V4, UDP(443) }, DG_R_NON_DNS, PASS },
	{ "UDP/53 over IPv4 under one MPLS label",
	  "is dropped: DNS that cannot be answered there",
	  { MPLS(1), V4, UDP(53) }, DG_R_DNS_ENCAP, SUSPECT, .cuts = true, .seed = true },
	{ "TCP/53 over IPv6 under 4 MPLS labels",
	  "is dropped: DNS that cannot be answered there",
	  { MPLS(4), V6, TCP(53) }, DG_R_DNS_ENCAP, SUSPECT },
	{ "UDP/443 over IPv4 under 2 MPLS labels", "passes: not port 53",
	  { MPLS(2), V4, UDP(443) }, DG_R_NON_DNS, PASS },
	{ "UDP/53 over IPv4 under 5 MPLS labels",
	  "fails closed: more labels than walked",
	  { MPLS(5), V4, UDP(53) }, DG_R_LIMIT_MPLS, SUSPECT },
	{ "UDP/443 under 4 MPLS labels with no bottom of stack",
	  "fails closed: what the labels carry cannot be found",
	  { MPLS(4), .nobos = true, V4, UDP(443) }, DG_R_LIMIT_MPLS, SUSPECT },

	/* Sources an answer would reflect from: dropped on LAN ports. */
	{ "UDP/53 from a multicast MAC",
	  "is DNS, and on a LAN port dropped: the answer would reflect",
	  { V4, UDP(53), .src_mac = mac_group }, DG_R_DNS_UDP4, DNS, .reflects = true },
	{ "UDP/53 over IPv6 from the broadcast MAC",
	  "is DNS, and on a LAN port dropped: the answer would reflect",
	  { V6, UDP(53), .src_mac = mac_bcast }, DG_R_DNS_UDP6, DNS, .reflects = true },
	{ "UDP/53 from 0.0.0.0",
	  "is DNS, and on a LAN port dropped: the answer would go nowhere",
	  { V4, UDP(53), .src_ip = ip4_zero }, DG_R_DNS_UDP4, DNS, .reflects = true },
	{ "UDP/53 from 255.255.255.255",
	  "is DNS, and on a LAN port dropped: the answer would reflect",
	  { V4, UDP(53), .src_ip = ip4_bcast }, DG_R_DNS_UDP4, DNS, .reflects = true },
	{ "TCP/53 from 224.0.0.251",
	  "is DNS, and on a LAN port dropped: the answer would reflect",
	  { V4, TCP(53), .src_ip = ip4_mcast }, DG_R_DNS_TCP4, DNS, .reflects = true },
	{ "UDP/53 from ::",
	  "is DNS, and on a LAN port dropped: the answer would go nowhere",
	  { V6, UDP(53), .src_ip = ip6_zero }, DG_R_DNS_UDP6, DNS, .reflects = true },
	{ "UDP/53 from ff02::1",
	  "is DNS, and on a LAN port dropped: the answer would reflect",
	  { V6, UDP(53), .src_ip = ip6_mcast }, DG_R_DNS_UDP6, DNS, .reflects = true },
	{ "UDP/53 from a unicast LAN address", "is DNS: the usual client",
	  { V4, UDP(53), .src_ip = ip4_lan }, DG_R_DNS_UDP4, DNS },
	{ "UDP/443 from a multicast MAC", "passes: not port 53",
	  { V4, UDP(443), .src_mac = mac_group }, DG_R_NON_DNS, PASS },

	/* A SYN: what steering hands to the listener (none in this test:
	 * fail closed); other segments go to an established socket. */
	{ "a TCP/53 SYN over IPv4", "is DNS",
	  { V4, TCP(53), .syn = true }, DG_R_DNS_TCP4, DNS },
	{ "a TCP/53 SYN over IPv6 after destination options", "is DNS",
	  { V6, EXT(DST), TCP(53), .syn = true }, DG_R_DNS_TCP6, DNS },
	{ "a TCP/53 SYN over IPv4 in QinQ", "is DNS",
	  { TAGS(AD, Q), V4, TCP(53), .syn = true }, DG_R_DNS_TCP4, DNS },
	{ "a TCP/53 SYN over IPv4 with IHL 15", "is DNS",
	  { V4, .optlen = 40, TCP(53), .syn = true }, DG_R_DNS_TCP4, DNS },
	{ "the first fragment of a TCP/53 SYN over IPv4",
	  "is DNS and recorded (steering drops it: a fragment cannot be assigned)",
	  { V4, FRAG4(0x4114, 0, true), TCP(53), .syn = true }, DG_R_DNS_TCP4, DNS, FIRST },

	/* IPv4 options: the header length comes from IHL (6..15). */
	{ "UDP/53 over IPv4 with IHL 6", "is DNS",
	  { V4, .optlen = 4, UDP(53) }, DG_R_DNS_UDP4, DNS },
	{ "UDP/53 over IPv4 with IHL 7", "is DNS",
	  { V4, .optlen = 8, UDP(53) }, DG_R_DNS_UDP4, DNS },
	{ "UDP/53 over IPv4 with IHL 8", "is DNS",
	  { V4, .optlen = 12, UDP(53) }, DG_R_DNS_UDP4, DNS },
	{ "UDP/53 over IPv4 with IHL 9", "is DNS",
	  { V4, .optlen = 16, UDP(53) }, DG_R_DNS_UDP4, DNS },
	{ "UDP/53 over IPv4 with IHL 10", "is DNS",
	  { V4, .optlen = 20, UDP(53) }, DG_R_DNS_UDP4, DNS },
	{ "TCP/53 over IPv4 with IHL 11", "is DNS",
	  { V4, .optlen = 24, TCP(53) }, DG_R_DNS_TCP4, DNS },
	{ "UDP/53 over IPv4 with IHL 12", "is DNS",
	  { V4, .optlen = 28, UDP(53) }, DG_R_DNS_UDP4, DNS },
	{ "UDP/53 over IPv4 with IHL 13", "is DNS",
	  { V4, .optlen = 32, UDP(53) }, DG_R_DNS_UDP4, DNS },
	{ "UDP/53 over IPv4 with IHL 14", "is DNS",
	  { V4, .optlen = 36, UDP(53) }, DG_R_DNS_UDP4, DNS },
	{ "UDP/53 over IPv4 with IHL 15", "is DNS",
	  { V4, .optlen = 40, UDP(53) },
	  DG_R_DNS_UDP4, DNS, .cuts = true, .seed = true },
	{ "UDP/443 over IPv4 with IHL 15", "passes: not port 53",
	  { V4, .optlen = 40, UDP(443) }, DG_R_NON_DNS, PASS },
	{ "IPv4 with IHL 15 but no options",
	  "fails closed: the header runs past the end",
	  { V4, IHL(15), UDP(53), .bare = true }, DG_R_TRUNCATED, SUSPECT },
	{ "IPv4 with IHL 4", "fails closed: impossible header length",
	  { V4, IHL(4), UDP(53) }, DG_R_MALFORMED, SUSPECT },
	{ "IPv4 with IHL 0 to port 443",
	  "fails closed: the port cannot be found",
	  { V4, IHL(0), UDP(443) }, DG_R_MALFORMED, SUSPECT },
	{ "IPv4 EtherType carrying version 6", "fails closed: version mismatch",
	  { V4, .version = 6, UDP(53) },
	  DG_R_MALFORMED, SUSPECT, .seed = true },
	{ "IPv6 EtherType carrying version 4", "fails closed: version mismatch",
	  { V6, .version = 4, UDP(53) }, DG_R_MALFORMED, SUSPECT },

	/* IPv6 extension headers: walked in RFC 8200 order (abi.h), else
	 * limit-exthdr. */
	{ "UDP/53 after hop-by-hop", "is DNS",
	  { V6, EXT(HOP), UDP(53) }, DG_R_DNS_UDP6, DNS },
	{ "UDP/53 after a routing header", "is DNS",
	  { V6, EXT(RT), UDP(53) }, DG_R_DNS_UDP6, DNS },
	{ "UDP/53 after destination options", "is DNS",
	  { V6, EXT(DST), UDP(53) }, DG_R_DNS_UDP6, DNS },
	{ "UDP/53 after AH", "is DNS: AH length is in 4-byte units",
	  { V6, EXT(AH), UDP(53) }, DG_R_DNS_UDP6, DNS },
	{ "TCP/53 after a 24-byte AH", "is DNS",
	  { V6, EXT({ PKT_IP6_AH, 24 }), TCP(53) }, DG_R_DNS_TCP6, DNS },
	{ "UDP/53 after a 64-byte hop-by-hop",
	  "is DNS: length is in 8-byte units",
	  { V6, EXT({ PKT_IP6_HOP, 64 }), UDP(53) }, DG_R_DNS_UDP6, DNS },
	{ "UDP/53 after an atomic fragment header",
	  "is DNS: offset 0 without M is no fragment",
	  { V6, EXT(FH), FRAG6(0x600, 0, false), UDP(53) },
	  DG_R_DNS_UDP6, DNS },
	{ "UDP/53 after hop-by-hop, routing, dstopts, AH", "is DNS",
	  { V6, EXT(HOP, RT, DST, AH), UDP(53) },
	  DG_R_DNS_UDP6, DNS, .cuts = true, .seed = true },
	{ "UDP/53 after the longest chain walked in RFC 8200 order",
	  "is DNS: 4 options headers, AH, 2 options headers",
	  { V6, EXT(HOP, DST, RT, DST, AH, DST, DST), UDP(53) },
	  DG_R_DNS_UDP6, DNS, .cuts = true },
	{ "UDP/443 after the longest chain walked", "passes: not port 53",
	  { V6, EXT(HOP, DST, RT, DST, AH, DST, DST), UDP(443) },
	  DG_R_NON_DNS, PASS },
	{ "UDP/53 after AH followed by a routing header and AH again",
	  "fails closed: a second AH is outside RFC 8200's order",
	  { V6, EXT(HOP, AH, RT, AH), UDP(53) },
	  DG_R_LIMIT_EXTHDR, SUSPECT },
	{ "UDP/443 after a fragment header that follows AH",
	  "fails closed: outside RFC 8200's order, what is behind is not walked",
	  { V6, EXT(AH, FH), FRAG6(0x60009, 0, false), UDP(443) },
	  DG_R_LIMIT_EXTHDR, SUSPECT },
	{ "UDP/53 after 9 extension headers",
	  "fails closed: chain longer than walked",
	  { V6, EXT(HOP, DST, RT, DST, AH, RT, AH, DST, DST), UDP(53) },
	  DG_R_LIMIT_EXTHDR, SUSPECT, .seed = true },
	{ "UDP/443 after 9 extension headers",
	  "fails closed: what is behind cannot be seen",
	  { V6, EXT(HOP, RT, RT, RT, RT, RT, RT, RT, DST), UDP(443) },
	  DG_R_LIMIT_EXTHDR, SUSPECT },
	{ "UDP/53 after 12 extension headers",
	  "fails closed: chain longer than walked",
	  { V6, EXT(HOP, DST, DST, DST, DST, DST, DST, DST, DST, DST, DST, DST), UDP(53) },
	  DG_R_LIMIT_EXTHDR, SUSPECT },
	{ "ICMPv6 after hop-by-hop", "passes: not UDP or TCP",
	  { V6, EXT(HOP), .l4 = L4_ICMP }, DG_R_NON_DNS, PASS },
	{ "destination options then No Next Header", "passes: nothing follows",
	  { V6, EXT(DST), RAW(59, 0) }, DG_R_NON_DNS, PASS },

	/*
	 * Fragments: a first fragment's action is recorded, DNS or not; a
	 * later fragment takes the action recorded for its first (same
	 * addresses, id and, for IPv4, protocol) and counts as "fragment";
	 * one whose first was not seen counts as "fragment-other" and is
	 * never passed unseen. Rows run in order; dg_frags is emptied before
	 * each subtest.
	 */
	{ "the first fragment of UDP/53 over IPv4", "is DNS and recorded",
	  { V4, FRAG4(0x1001, 0, true), UDP(53) },
	  DG_R_DNS_UDP4, DNS, .seed = true, FIRST },
	{ "a later fragment of that UDP/53 datagram",
	  "gets its first fragment's action",
	  { V4, FRAG4(0x1001, 4, true), LATER_UDP }, DG_R_FRAGMENT, DNS },
	{ "the last fragment of that UDP/53 datagram",
	  "gets its first fragment's action",
	  { V4, FRAG4(0x1001, 6, false), LATER_UDP }, DG_R_FRAGMENT, DNS },
	{ "a later IPv4 fragment with the same id but protocol TCP",
	  "is not passed unseen: another datagram, whose first was not seen",
	  { V4, FRAG4(0x1001, 4, true), RAW(PKT_IP_TCP, 16) },
	  DG_R_FRAGMENT_OTHER, UNKNOWN },
	{ "a later IPv4 fragment whose first was never seen",
	  "goes to the daemon or is dropped, never passed unseen (monitor: passed)",
	  { V4, FRAG4(0x2002, 4, true), LATER_UDP },
	  DG_R_FRAGMENT_OTHER, UNKNOWN, .seed = true },
	{ "the first fragment of UDP/443 over IPv4", "passes and is recorded",
	  { V4, FRAG4(0x3003, 0, true), UDP(443) }, DG_R_NON_DNS, PASS, FIRST },
	{ "a later fragment of that UDP/443 datagram",
	  "passes as its first did",
	  { V4, FRAG4(0x3003, 4, false), LATER_UDP },
	  DG_R_FRAGMENT, PASS },
	{ "the first fragment of TCP/53 over IPv4", "is DNS and recorded",
	  { V4, FRAG4(0x4004, 0, true), TCP(53) }, DG_R_DNS_TCP4, DNS, FIRST },
	{ "a later fragment of that TCP/53 datagram",
	  "gets its first fragment's action",
	  { V4, FRAG4(0x4004, 8, false), RAW(PKT_IP_TCP, 16) },
	  DG_R_FRAGMENT, DNS },
	{ "a first IPv4 fragment too short for a UDP header",
	  "fails closed and is recorded",
	  { V4, FRAG4(0x5005, 0, true), RAW(PKT_IP_UDP, 0) },
	  DG_R_TRUNCATED, SUSPECT, FIRST },
	{ "a later fragment of that short datagram",
	  "gets its first fragment's action",
	  { V4, FRAG4(0x5005, 1, false), LATER_UDP }, DG_R_FRAGMENT, SUSPECT },
	{ "the first fragment of UDP/53 over IPv4 in QinQ",
	  "is DNS and recorded",
	  { TAGS(AD, Q), V4, FRAG4(0x6006, 0, true), UDP(53) },
	  DG_R_DNS_UDP4, DNS, FIRST },
	{ "a later fragment of that QinQ datagram",
	  "gets its first fragment's action",
	  { TAGS(AD, Q), V4, FRAG4(0x6006, 4, false), LATER_UDP },
	  DG_R_FRAGMENT, DNS },
	{ "the first fragment of UDP/53 over IPv6", "is DNS and recorded",
	  { V6, EXT(FH), FRAG6(0x60001, 0, true), UDP(53) },
	  DG_R_DNS_UDP6, DNS, .seed = true, FIRST },
	{ "a later fragment of that IPv6 UDP/53 datagram",
	  "gets its first fragment's action",
	  { V6, EXT(FH), FRAG6(0x60001, 4, false), LATER_UDP },
	  DG_R_FRAGMENT, DNS },
	{ "a later IPv6 fragment whose first was never seen",
	  "goes to the daemon or is dropped, never passed unseen (monitor: passed)",
	  { V6, EXT(FH), FRAG6(0x60bad, 4, true), LATER_UDP },
	  DG_R_FRAGMENT_OTHER, UNKNOWN },
	{ "the first fragment of UDP/53 after hop-by-hop",
	  "is DNS and recorded",
	  { V6, EXT(HOP, FH), FRAG6(0x60002, 0, true), UDP(53) },
	  DG_R_DNS_UDP6, DNS, FIRST },
	{ "a later fragment of that datagram after hop-by-hop",
	  "gets its first fragment's action",
	  { V6, EXT(HOP, FH), FRAG6(0x60002, 4, false), LATER_UDP },
	  DG_R_FRAGMENT, DNS },
	{ "the first fragment of UDP/53 with dstopts after the fragment header",
	  "is DNS and recorded",
	  { V6, EXT(FH, DST), FRAG6(0x60003, 0, true), UDP(53) },
	  DG_R_DNS_UDP6, DNS, FIRST },
	{ "a later fragment of that datagram (next header dstopts)",
	  "gets its first fragment's action",
	  { V6, EXT(FH), FRAG6(0x60003, 4, false), RAW(PKT_IP6_DSTOPTS, 16) },
	  DG_R_FRAGMENT, DNS },
	{ "the first fragment of UDP/53 over IPv6 (id 0x60009)",
	  "is DNS and recorded",
	  { V6, EXT(FH), FRAG6(0x60009, 0, true), UDP(53) },
	  DG_R_DNS_UDP6, DNS, FIRST },
	{ "a later fragment of that datagram whose fragment header names TCP",
	  "gets its first fragment's action (RFC 8200 4.5: Next Header may differ)",
	  { V6, EXT(FH), FRAG6(0x60009, 4, false), RAW(PKT_IP_TCP, 16) },
	  DG_R_FRAGMENT, DNS },
	{ "the first fragment of UDP/443 over IPv6", "passes and is recorded",
	  { V6, EXT(FH), FRAG6(0x60004, 0, true), UDP(443) },
	  DG_R_NON_DNS, PASS, FIRST },
	{ "a later fragment of that IPv6 UDP/443 datagram",
	  "passes as its first did",
	  { V6, EXT(FH), FRAG6(0x60004, 4, false), LATER_UDP },
	  DG_R_FRAGMENT, PASS },
	{ "the first fragment of TCP/53 over IPv6", "is DNS and recorded",
	  { V6, EXT(FH), FRAG6(0x60005, 0, true), TCP(53) },
	  DG_R_DNS_TCP6, DNS, FIRST },
	{ "a later fragment of that IPv6 TCP/53 datagram",
	  "gets its first fragment's action",
	  { V6, EXT(FH), FRAG6(0x60005, 8, false), RAW(PKT_IP_TCP, 16) },
	  DG_R_FRAGMENT, DNS },
	{ "the first fragment of UDP/53 after the longest chain walked",
	  "is DNS and recorded",
	  { V6, EXT(HOP, DST, RT, DST, FH, AH, DST, DST), FRAG6(0x60006, 0, true), UDP(53) },
	  DG_R_DNS_UDP6, DNS, FIRST },
	{ "a later fragment of that datagram",
	  "gets its first fragment's action",
	  { V6, EXT(HOP, FH), FRAG6(0x60006, 4, false), LATER_UDP },
	  DG_R_FRAGMENT, DNS },
	{ "a first IPv6 fragment with 8 headers after its fragment header",
	  "fails closed and is recorded",
	  { V6, EXT(FH, HOP, DST, RT, DST, AH, RT, DST, DST), FRAG6(0x60007, 0, true), UDP(53) },
	  DG_R_LIMIT_EXTHDR, SUSPECT, FIRST },
	{ "a later fragment of that over-long chain",
	  "gets its first fragment's action",
	  { V6, EXT(FH), FRAG6(0x60007, 4, false), RAW(PKT_IP6_HOP, 16) },
	  DG_R_FRAGMENT, SUSPECT },
	{ "a first IPv6 fragment as the 9th extension header",
	  "fails closed; the walk never reaches its fragment header",
	  { V6, EXT(HOP, DST, RT, DST, AH, RT, DST, DST, FH), FRAG6(0x60008, 0, true), UDP(53) },
	  DG_R_LIMIT_EXTHDR, SUSPECT },
	{ "a later fragment of that datagram",
	  "is not passed unseen: its first was dropped unrecorded",
	  { V6, EXT(FH), FRAG6(0x60008, 4, false), LATER_UDP },
	  DG_R_FRAGMENT_OTHER, UNKNOWN },
	{ "the first fragment of UDP/53 over IPv4 (id 0x8008)",
	  "is DNS and recorded",
	  { V4, FRAG4(0x8008, 0, true), UDP(53) }, DG_R_DNS_UDP4, DNS, FIRST },
	{ "a second first fragment of that datagram claiming UDP/443",
	  "drops the datagram: first fragments that disagree are the overlap trick",
	  { V4, FRAG4(0x8008, 0, true), UDP(443) },
	  DG_R_NON_DNS, .act = ACT_OVERLAP_PASS, FIRST },
	{ "a later fragment of that datagram", "is dropped with it",
	  { V4, FRAG4(0x8008, 4, false), LATER_UDP },
	  DG_R_FRAGMENT, .act = ACT_OVERLAP_PASS },
	{ "the first fragment of UDP/443 over IPv6 (id 0x6000a)",
	  "passes and is recorded",
	  { V6, EXT(FH), FRAG6(0x6000a, 0, true), UDP(443) },
	  DG_R_NON_DNS, PASS, FIRST },
	{ "a second first fragment of that datagram claiming UDP/53",
	  "drops the datagram: first fragments that disagree are the overlap trick",
	  { V6, EXT(FH), FRAG6(0x6000a, 0, true), UDP(53) },
	  DG_R_DNS_UDP6, .act = ACT_OVERLAP_DNS, FIRST },
	{ "a later fragment of that IPv6 datagram", "is dropped with it",
	  { V6, EXT(FH), FRAG6(0x6000a, 4, false), LATER_UDP },
	  DG_R_FRAGMENT, .act = ACT_OVERLAP_DNS },
	{ "the last fragment of UDP/53 sent before its first (id 0x9009)",
	  "is never passed unseen: out of order, its first is not known yet",
	  { V4, FRAG4(0x9009, 4, false), LATER_UDP },
	  DG_R_FRAGMENT_OTHER, UNKNOWN },
	{ "then the first fragment of that datagram", "is DNS and recorded",
	  { V4, FRAG4(0x9009, 0, true), UDP(53) }, DG_R_DNS_UDP4, DNS, FIRST },
	{ "the last fragment of UDP/53 over IPv6 sent before its first",
	  "is never passed unseen: out of order, its first is not known yet",
	  { V6, EXT(FH), FRAG6(0x6000b, 4, false), LATER_UDP },
	  DG_R_FRAGMENT_OTHER, UNKNOWN },
	{ "then the first fragment of that IPv6 datagram", "is DNS and recorded",
	  { V6, EXT(FH), FRAG6(0x6000b, 0, true), UDP(53) },
	  DG_R_DNS_UDP6, DNS, FIRST },

	/* Runts: shorter than an Ethernet header (refused, see above). */
	{ "an empty frame", "is refused by the kernel",
	  { V4, UDP(53), CUT(0) }, DG_R_RUNT, PASS },
	{ "a 1-byte frame", "is refused by the kernel",
	  { V4, UDP(53), CUT(1) }, DG_R_RUNT, PASS },
	{ "a 6-byte frame", "is refused by the kernel",
	  { V6, UDP(53), CUT(6) }, DG_R_RUNT, PASS },

	/* No L2 header (tun, wireguard): programs loaded with l3_only. */
	{ "L3-only UDP/53 over IPv4", "is DNS",
	  { L3, V4, UDP(53) }, DG_R_DNS_UDP4, DNS, .cuts = true },
	{ "L3-only UDP/53 over IPv6", "is DNS",
	  { L3, V6, UDP(53) }, DG_R_DNS_UDP6, DNS, .cuts = true, .seed = true },
	{ "L3-only TCP/53 over IPv4 with IHL 15", "is DNS",
	  { L3, V4, .optlen = 40, TCP(53) }, DG_R_DNS_TCP4, DNS },
	{ "L3-only UDP/53 after hop-by-hop and AH", "is DNS",
	  { L3, V6, EXT(HOP, AH), UDP(53) }, DG_R_DNS_UDP6, DNS },
	{ "L3-only UDP/443 over IPv6", "passes: not port 53",
	  { L3, V6, UDP(443) }, DG_R_NON_DNS, PASS },
	{ "L3-only ICMP over IPv4", "passes: not UDP or TCP",
	  { L3, V4, .l4 = L4_ICMP }, DG_R_NON_DNS, PASS },
	{ "L3-only IPv4 with version 5", "fails closed: neither version",
	  { L3, V4, .version = 5, UDP(53) }, DG_R_MALFORMED, SUSPECT },
	{ "L3-only first fragment of UDP/53 over IPv4", "is DNS and recorded",
	  { L3, V4, FRAG4(0x7007, 0, true), UDP(53) }, DG_R_DNS_UDP4, DNS, FIRST },
	{ "L3-only later fragment of that datagram",
	  "gets its first fragment's action",
	  { L3, V4, FRAG4(0x7007, 4, false), LATER_UDP }, DG_R_FRAGMENT, DNS },
	{ "L3-only UDP/53 from 255.255.255.255",
	  "is DNS, and on a LAN port dropped: the answer would reflect",
	  { L3, V4, UDP(53), .src_ip = ip4_bcast }, DG_R_DNS_UDP4, DNS, .reflects = true },
	{ "L3-only IPv4 cut to 14 bytes", "fails closed: truncated",
	  { L3, V4, UDP(53), CUT(14) }, DG_R_TRUNCATED, SUSPECT },
	{ "L3-only IPv6 cut to 14 bytes", "fails closed: truncated",
	  { L3, V6, UDP(53), CUT(14) }, DG_R_TRUNCATED, SUSPECT },
};

/* One materialised case: a row, or one cut of a row. */
struct tcase {
	char desc[192];
	struct pkt pkt;
	bool l3;
	bool seed;
	bool first;		/* see struct row */
	bool reflects;
	bool syn;
	__u32 reason;
	__u32 act[DG_MODE_MAX];
};

static void build(const struct spec *s, struct pkt *p)
{
	unsigned int i;

	pkt_init(p);
	if (!s->l3) {
		pkt_eth(p);
		for (i = 0; i < ARRAY_SIZE(s->tags) && s->tags[i]; i++)
			pkt_vlan(p, s->tags[i], 100 + i);
		if (s->src_mac)
			pkt_src_mac(p, s->src_mac);
		if (s->pppoe)
			pkt_pppoe(p, s->ppp, s->pfc);
		for (i = 0; i < s->labels; i++)
			pkt_mpls(p, 16 + i, i + 1 == s->labels && !s->nobos);
		if ((s->pppoe || s->labels) && !s->ip)
			pkt_append(p, 16);	/* not IP: a control word, LCP */
		if (s->ethertype == PKT_ETH_ARP)
			pkt_arp(p);
		else if (s->ethertype)
			pkt_ethertype(p, s->ethertype, 28);
	}
	if (s->ip == 4) {
		pkt_ipv4(p, s->optlen);
		if (s->fid)
			pkt_ipv4_frag(p, s->fid, s->mf, s->foff);
		if (s->set_ihl)
			pkt_ipv4_ihl(p, s->ihl);
		if (s->src_ip)
			pkt_src_ip(p, s->src_ip);
	} else if (s->ip == 6) {
		pkt_ipv6(p);
		if (s->src_ip)
			pkt_src_ip(p, s->src_ip);
		for (i = 0; i < ARRAY_SIZE(s->ext) && s->ext[i].len; i++) {
			if (s->ext[i].type == PKT_IP6_FRAG)
				pkt_frag6(p, s->fid, s->mf, s->foff);
			else
				pkt_ext6(p, s->ext[i].type, s->ext[i].len);
		}
	}
	if (s->version)
		pkt_ip_version(p, s->version);
	switch (s->l4) {
	case L4_UDP:
		pkt_udp(p, s->sport ? s->sport : 40000, s->dport, s->bare ? 0 : 24);
		break;
	case L4_TCP:
		pkt_tcp_flags(p, s->sport ? s->sport : 40000, s->dport,
			      s->bare ? 0 : 24, s->syn);
		break;
	case L4_ICMP:
		pkt_icmp_echo(p);
		break;
	case L4_RAW:
		pkt_payload(p, s->proto, s->paylen);
		break;
	case L4_NONE:
		break;
	}
	pkt_finish(p);
	if (s->cut)
		pkt_trunc(p, s->cutlen);
}

static struct tcase *case_add(struct tcase *cases, unsigned int *n,
			      const struct row *r)
{
	struct tcase *c;

	if (*n >= MAX_CASES) {
		fprintf(stderr, "test_guard: more than %d cases: raise MAX_CASES\n",
			MAX_CASES);
		exit(1);
	}
	c = &cases[(*n)++];
	memset(c, 0, sizeof(*c));
	build(&r->s, &c->pkt);
	c->l3 = r->s.l3;
	c->first = r->first;
	c->reflects = r->reflects;
	c->syn = r->s.syn;
	c->reason = r->reason;
	memcpy(c->act, r->act, sizeof(c->act));
	return c;
}

/*
 * A packet cut anywhere inside its headers is truncated: maybe DNS, so it
 * fails closed. Under 14 bytes the kernel refuses it before the program
 * runs (see the top of this file).
 */
static void case_add_cut(struct tcase *cases, unsigned int *n,
			 const struct row *r, unsigned int len,
			 const char *how, const char *hdr)
{
	static const __u32 suspect[] = ACT_SUSPECT, pass[] = ACT_PASS;
	struct tcase *c = case_add(cases, n, r);
	bool runt = len < 14;

	pkt_trunc(&c->pkt, len);
	c->first = c->reflects = c->syn = false;
	c->reason = runt ? DG_R_RUNT : DG_R_TRUNCATED;
	memcpy(c->act, runt ? pass : suspect, sizeof(c->act));
	snprintf(c->desc, sizeof(c->desc),
		 "Test that %s cut to %u bytes (%s %s) %s", r->name, len, how,
		 hdr, runt ? "is refused by the kernel" : "fails closed as truncated");
}

static unsigned int cases_build(struct tcase *cases)
{
	unsigned int n = 0, i, m, last, end;
	struct tcase *c;
	struct pkt full;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		c = case_add(cases, &n, &rows[i]);
		c->seed = rows[i].seed;
		snprintf(c->desc, sizeof(c->desc), "Test that %s %s",
			 rows[i].name, rows[i].claim);
		if (!rows[i].cuts)
			continue;
		/* Every header boundary before the transport header's end,
		 * and one byte short of each, including of that end. */
		build(&rows[i].s, &full);
		last = full.marks[full.nmarks - 1].end;
		for (m = 0; m < full.nmarks; m++) {
			end = full.marks[m].end;
			case_add_cut(cases, &n, &rows[i], end - 1,
				     "one byte short of the end of",
				     full.marks[m].name);
			if (end < last)
				case_add_cut(cases, &n, &rows[i], end,
					     "at the end of", full.marks[m].name);
		}
	}
	return n;
}

/* ---- programs under test ---- */

struct hook {
	const char *name;
	bool xdp;
	bool capture;		/* XDP on the capture veth's far end */
	bool steer;		/* dg_tc_steer: tc ingress behind XDP */
	bool lan;		/* steer on a gateway LAN port */
	bool l3;
	__u32 slot;
	struct dg_tc *tc;
	struct dg_xdp *x;
	int prog;
	int counters;
	int policy;
	int frags;
};

struct policy {
	const char *name;
	__u32 mode;
	__u32 capture_ifindex;
	__u32 flags;
};

/* Redirect twice: with no capture device yet (fail closed) and with lo. */
static const struct policy policies[] = {
	{ "redirect-noif", DG_MODE_REDIRECT, 0, 0 },
	{ "redirect", DG_MODE_REDIRECT, 1, 0 },
	{ "drop", DG_MODE_DROP, 1, 0 },
	{ "monitor", DG_MODE_MONITOR, 1, 0 },
	/* TCP steering in place: only the capture end acts on it. */
	{ "redirect-steer", DG_MODE_REDIRECT, 1, DG_POLICY_TCP_STEER },
};

struct env {
	int ncpu;
	bool verbose;
	int passed;
	int failed;
	struct dg_counter *percpu;	/* DG_COUNTER_ENTRIES * ncpu */
	__u32 keys[DG_COUNTER_ENTRIES];
};

/* Counters summed over CPUs. */
struct totals {
	__u64 packets[DG_COUNTER_ENTRIES];
	__u64 bytes[DG_COUNTER_ENTRIES];
};

static int hook_load(struct hook *h)
{
	struct dg_prog_cfg cfg = {
		.slot = h->slot,
		.hook = h->capture ? DG_HOOK_XDP_CAPTURE :
			h->xdp ? DG_HOOK_XDP_GATEWAY :
			h->steer ? DG_HOOK_TC_STEER : DG_HOOK_TC_EGRESS,
		.l3_only = h->l3,
		.lan_port = h->lan,
	};
	struct bpf_object *obj;
	int err;

	if (h->xdp) {
		err = dg_loader_xdp(&cfg, NULL, true, &h->x);
		if (err)
			return err;
		h->prog = bpf_program__fd(h->x->progs.dg_xdp_gateway);
		obj = h->x->obj;
	} else {
		err = dg_loader_tc(&cfg, NULL, &h->tc);
		if (err)
			return err;
		h->prog = bpf_program__fd(h->steer ? h->tc->progs.dg_tc_steer :
						     h->tc->progs.dg_tc_egress);
		obj = h->tc->obj;
	}
	h->counters = bpf_object__find_map_fd_by_name(obj, "dg_counters");
	h->policy = bpf_object__find_map_fd_by_name(obj, "dg_policy");
	h->frags = bpf_object__find_map_fd_by_name(obj, "dg_frags");
	if (h->counters < 0 || h->policy < 0 || h->frags < 0)
		return -ENOENT;
	return 0;
}

static void hook_destroy(struct hook *h)
{
	dg_tc__destroy(h->tc);
	dg_xdp__destroy(h->x);
}

static int totals_read(struct env *e, int fd, struct totals *t)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 count = DG_COUNTER_ENTRIES, out, i, k;
	int cpu, err;

	err = bpf_map_lookup_batch(fd, NULL, &out, e->keys, e->percpu, &count,
				   &opts);
	if (err && err != -ENOENT)
		return err;
	if (count != DG_COUNTER_ENTRIES)
		return -EIO;
	memset(t, 0, sizeof(*t));
	for (i = 0; i < count; i++) {
		k = e->keys[i];
		if (k >= DG_COUNTER_ENTRIES)
			return -EIO;
		for (cpu = 0; cpu < e->ncpu; cpu++) {
			t->packets[k] += e->percpu[i * e->ncpu + cpu].packets;
			t->bytes[k] += e->percpu[i * e->ncpu + cpu].bytes;
		}
	}
	return 0;
}

static int frags_clear(int fd)
{
	struct dg_frag_key key;
	int err;

	while (!bpf_map_get_next_key(fd, NULL, &key)) {
		err = bpf_map_delete_elem(fd, &key);
		if (err)
			return err;
	}
	return 0;
}

/* What the hook must count and return for dg action act under pol. */
static void expect(const struct hook *h, const struct policy *pol, __u32 act,
		   __u32 *counted, int *ret)
{
	if (act == DG_A_REDIRECT && (h->xdp || !pol->capture_ifindex))
		act = DG_A_FAIL_CLOSED;	/* no AF_XDP socket / no capture dev */
	*counted = act;
	switch (act) {
	case DG_A_PASS:
	case DG_A_MONITOR:
		*ret = h->xdp ? XDP_PASS : TC_ACT_OK;
		break;
	case DG_A_REDIRECT:
		*ret = TC_ACT_REDIRECT;
		break;
	default:
		*ret = h->xdp ? XDP_DROP : TC_ACT_SHOT;
	}
}

/* What the parser alone calls c: guard.h turns a later fragment with a
 * record into "fragment"; programs without that bookkeeping see it as
 * "fragment-other". */
static __u32 classified(const struct tcase *c)
{
	return c->reason == DG_R_FRAGMENT ? DG_R_FRAGMENT_OTHER : c->reason;
}

static bool tcp_dns(__u32 reason)
{
	return reason == DG_R_DNS_TCP4 || reason == DG_R_DNS_TCP6;
}

/* A fragment of any kind: the daemon reassembles those, never steering. */
static bool fragment(const struct tcase *c)
{
	return c->first || classified(c) == DG_R_FRAGMENT_OTHER;
}

/* The guard programs: tc egress on uplinks, XDP on LAN ports. */
static void expect_guard(const struct hook *h, const struct policy *pol,
			 const struct tcase *c, __u32 *reason, __u32 *counted,
			 int *ret)
{
	static const __u32 suspect[] = ACT_SUSPECT;
	__u32 act = c->act[pol->mode];

	*reason = c->reason;
	/* Only the LAN port's XDP program looks at the source. */
	if (h->xdp && c->reflects) {
		*reason = DG_R_BAD_SOURCE;
		act = suspect[pol->mode];
	}
	expect(h, pol, act, counted, ret);
	/* With steering, XDP redirects whole TCP/53 segments by passing
	 * them on to tc ingress (no AF_XDP socket takes TCP). */
	if (h->xdp && (pol->flags & DG_POLICY_TCP_STEER) && tcp_dns(*reason) &&
	    !fragment(c) && act == DG_A_REDIRECT) {
		*counted = DG_A_REDIRECT;
		*ret = XDP_PASS;
	}
}

/*
 * What runs behind the guard in redirect mode, whatever the mode: the
 * capture end's XDP program (UDP queries and every fragment to the daemon's
 * socket, none here: fail closed; whole TCP/53 segments on to tc when
 * steering is in place; the rest dropped), and dg_tc_steer (a SYN to the
 * listener, none here: fail closed; a segment of no known connection
 * dropped; anything else that is or may be DNS dropped; on a LAN port,
 * what is not DNS, or anything outside redirect mode, passed uncounted:
 * XDP decided it).
 */
static void expect_behind_xdp(const struct hook *h, const struct policy *pol,
			      const struct tcase *c, __u32 *reason,
			      __u32 *counted, int *ret)
{
	__u32 r = classified(c);

	*reason = r;
	if (h->capture) {
		*ret = XDP_DROP;
		if (fragment(c) || r == DG_R_DNS_UDP4 || r == DG_R_DNS_UDP6) {
			*counted = DG_A_FAIL_CLOSED;
		} else if (tcp_dns(r) && (pol->flags & DG_POLICY_TCP_STEER)) {
			*counted = DG_A_REDIRECT;
			*ret = XDP_PASS;
		} else {
			*counted = DG_A_DROP;
		}
		return;
	}
	if (h->lan && ((!dg_reason_is_dns(r) && !dg_reason_is_suspect(r)) ||
		       pol->mode != DG_MODE_REDIRECT)) {
		*counted = DG_ACTION_MAX;	/* nothing counted */
		*ret = TC_ACT_OK;
		return;
	}
	*ret = TC_ACT_SHOT;
	*counted = tcp_dns(r) && !c->first && c->syn ? DG_A_FAIL_CLOSED : DG_A_DROP;
}

/* Exactly slot `key` moved, by one packet of len bytes; nothing else. */
static bool check_delta(const struct totals *before, const struct totals *after,
			__u32 key, __u32 len)
{
	__u64 dp, db, wp, wb;
	int reported = 0;
	bool ok = true;
	__u32 k;

	for (k = 0; k < DG_COUNTER_ENTRIES; k++) {
		dp = after->packets[k] - before->packets[k];
		db = after->bytes[k] - before->bytes[k];
		wp = k == key ? 1 : 0;
		wb = k == key ? len : 0;
		if (dp == wp && db == wb)
			continue;
		ok = false;
		if (reported++ < 3)
			fail_note("counter [%u][%s][%s] +%llu packets +%llu bytes, expected +%llu/+%llu",
				  k / (DG_REASON_MAX * DG_ACTION_MAX),
				  reason_names[k / DG_ACTION_MAX % DG_REASON_MAX],
				  action_names[k % DG_ACTION_MAX],
				  (unsigned long long)dp, (unsigned long long)db,
				  (unsigned long long)wp, (unsigned long long)wb);
	}
	return ok;
}

static int prog_run(const struct hook *h, const struct pkt *p, int *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p->buf,
		    .data_size_in = p->len, .repeat = 1);
	int err;

	err = bpf_prog_test_run_opts(h->prog, &opts);
	*retval = opts.retval;
	return err;
}

/* BPF_PROG_TEST_RUN's own checks, before the program runs (see top). */
static bool kernel_refuses(const struct hook *h, const struct pkt *p)
{
	unsigned int type;

	if (p->len < 14)
		return true;
	if (h->xdp)
		return false;
	/* The skb path reads an EtherType even for l3_only programs. */
	type = p->buf[12] << 8 | p->buf[13];
	return (type == PKT_ETH_IP && p->len < 14 + 20) ||
	       (type == PKT_ETH_IPV6 && p->len < 14 + 40);
}

static bool run_case(struct env *e, const struct hook *h,
		     const struct policy *pol, const struct tcase *c)
{
	struct totals before, after;
	__u32 counted, reason;
	int ret, want_ret, err;
	bool ok = true;

	fail_len = 0;
	fail_msg[0] = '\0';
	ok &= ASSERT_OK(totals_read(e, h->counters, &before), "read counters");
	err = prog_run(h, &c->pkt, &ret);
	if (kernel_refuses(h, &c->pkt)) {
		ok &= ASSERT_EQ(err, -EINVAL, "test run the kernel refuses");
		ok &= ASSERT_OK(totals_read(e, h->counters, &after), "read counters");
		ok &= check_delta(&before, &after, DG_COUNTER_ENTRIES, 0);
		return ok;
	}
	ok &= ASSERT_OK(err, "bpf_prog_test_run_opts");
	if (h->steer || h->capture)
		expect_behind_xdp(h, pol, c, &reason, &counted, &want_ret);
	else
		expect_guard(h, pol, c, &reason, &counted, &want_ret);
	ok &= ASSERT_EQ(ret, want_ret, "retval");
	ok &= ASSERT_OK(totals_read(e, h->counters, &after), "read counters");
	ok &= check_delta(&before, &after,
			  counted == DG_ACTION_MAX ? DG_COUNTER_ENTRIES :
			  dg_counter_key(h->slot, reason, counted), c->pkt.len);
	if (!ok)
		fail_note("wanted %s/%s", reason_names[reason],
			  counted < DG_ACTION_MAX ? action_names[counted] : "(none)");
	return ok;
}

static void record(struct env *e, bool ok, const char *where, const char *desc)
{
	if (ok) {
		e->passed++;
		if (e->verbose)
			printf("PASS %s: %s\n", where, desc);
		return;
	}
	e->failed++;
	printf("FAIL %s: %s: %s\n", where, desc, fail_msg);
}

static void run_subtest(struct env *e, const struct hook *h,
			const struct tcase *cases, unsigned int n)
{
	struct dg_policy pol;
	char where[64];
	unsigned int p, i;
	__u32 zero = 0;
	bool ok;

	for (p = 0; p < ARRAY_SIZE(policies); p++) {
		snprintf(where, sizeof(where), "%s/%s", h->name, policies[p].name);
		fail_len = 0;
		memset(&pol, 0, sizeof(pol));
		pol.mode = policies[p].mode;
		pol.capture_ifindex = policies[p].capture_ifindex;
		pol.flags = policies[p].flags;
		ok = ASSERT_OK(bpf_map_update_elem(h->policy, &zero, &pol, BPF_ANY),
			       "write dg_policy[0]");
		ok &= ASSERT_OK(frags_clear(h->frags), "empty dg_frags");
		if (!ok) {
			record(e, false, where, "Test that the policy can be set");
			continue;
		}
		for (i = 0; i < n; i++) {
			if (cases[i].l3 != h->l3)
				continue;
			record(e, run_case(e, h, &policies[p], &cases[i]), where,
			       cases[i].desc);
		}
	}
}

/* ---- verifier baseline ---- */

struct prog_size {
	char name[BPF_OBJ_NAME_LEN];
	__u32 xlated;		/* instructions after the verifier's rewrites */
	__u32 verified;		/* instructions the verifier walked */
};

static int prog_size_get(int fd, struct prog_size *s)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	int err;

	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	if (err)
		return err;
	snprintf(s->name, sizeof(s->name), "%s", info.name);
	s->xlated = info.xlated_prog_len / 8;
	s->verified = info.verified_insns;
	return 0;
}

static int baseline_write(const char *path, const struct prog_size *s, int n)
{
	FILE *f = fopen(path, "w");
	int i;

	if (!f) {
		fprintf(stderr, "test_guard: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	fprintf(f, "# Verifier baseline of the guard programs, as loaded by test_guard\n"
		   "# (test mode, l3_only = 0): name, xlated insns, verified insns.\n"
		   "# test_guard fails when either grows more than %d%% over this.\n"
		   "# Rewrite it on purpose, with the reason in the commit:\n"
		   "#   .output/tests/bpf/test_guard --write-baseline\n",
		BASELINE_SLACK_PCT);
	for (i = 0; i < n; i++)
		fprintf(f, "%s %u %u\n", s[i].name, s[i].xlated, s[i].verified);
	return fclose(f) ? -errno : 0;
}

/* One case per program: not more than BASELINE_SLACK_PCT over baseline. */
static void baseline_check(struct env *e, const char *path,
			   const struct prog_size *s, int n)
{
	char line[256], name[64], desc[160];
	unsigned int xl, ver;
	bool found, ok;
	FILE *f;
	int i;

	for (i = 0; i < n; i++) {
		fail_len = 0;
		snprintf(desc, sizeof(desc),
			 "Test that %s stays within %d%% of its verifier baseline",
			 s[i].name, BASELINE_SLACK_PCT);
		f = fopen(path, "r");
		if (!f) {
			fail_note("%s: %s (run with --write-baseline to create it)",
				  path, strerror(errno));
			record(e, false, "verifier", desc);
			continue;
		}
		found = false;
		while (!found && fgets(line, sizeof(line), f))
			found = line[0] != '#' &&
				sscanf(line, "%63s %u %u", name, &xl, &ver) == 3 &&
				!strcmp(name, s[i].name);
		fclose(f);
		if (!found) {
			fail_note("%s has no line for %s: add it on purpose (--write-baseline)",
				  path, s[i].name);
			record(e, false, "verifier", desc);
			continue;
		}
		ok = ASSERT_LE(s[i].xlated, xl + xl * BASELINE_SLACK_PCT / 100,
			       "xlated insns");
		ok &= ASSERT_LE(s[i].verified, ver + ver * BASELINE_SLACK_PCT / 100,
				"verified insns");
		if (!ok)
			fail_note("baseline %u/%u in %s: if the growth is intended, update the baseline on purpose (--write-baseline) and say why in the commit",
				  xl, ver, path);
		record(e, ok, "verifier", desc);
	}
}

/* ---- fuzz seeds ---- */

/* "Test that UDP/53 over IPv4 is DNS" -> "udp-53-over-ipv4-is-dns". */
static void seed_name(char *out, size_t size, const char *desc)
{
	const char *s = desc + strlen("Test that ");
	size_t n = 0;

	for (; *s && n + 1 < size && n < 48; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9'))
			out[n++] = *s;
		else if (*s >= 'A' && *s <= 'Z')
			out[n++] = *s - 'A' + 'a';
		else if (n && out[n - 1] != '-')
			out[n++] = '-';
	}
	while (n && out[n - 1] == '-')
		n--;
	out[n] = '\0';
}

static int seeds_write(const char *dir, const struct tcase *cases, unsigned int n)
{
	char path[512], name[64];
	unsigned int i;
	FILE *f;

	if (mkdir(dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "test_guard: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (!cases[i].seed)
			continue;
		seed_name(name, sizeof(name), cases[i].desc);
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		f = fopen(path, "w");
		if (!f || fwrite(cases[i].pkt.buf, 1, cases[i].pkt.len, f) !=
				  cases[i].pkt.len) {
			fprintf(stderr, "test_guard: %s: %s\n", path, strerror(errno));
			if (f)
				fclose(f);
			return -1;
		}
		fclose(f);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct hook hooks[] = {
		{ .name = "tc", .slot = 3 },
		{ .name = "xdp", .xdp = true, .slot = 5 },
		{ .name = "tc-l3", .l3 = true, .slot = 7 },
		{ .name = "xdp-l3", .xdp = true, .l3 = true, .slot = 9 },
		{ .name = "xdp-capture", .xdp = true, .capture = true, .slot = 11 },
		{ .name = "tc-steer", .steer = true, .slot = 13 },
		{ .name = "tc-steer-lan", .steer = true, .lan = true, .slot = 15 },
	};
	const char *baseline = getenv("DG_VERIFIER_BASELINE");
	const char *seed_dir = NULL;
	/* The baseline describes the programs as the daemon loads them on
	 * an Ethernet device: hooks[0], [1] and the steering program. */
	static const unsigned int base_hooks[] = { 0, 1, 5 };
	struct prog_size sizes[ARRAY_SIZE(base_hooks)];
	bool write_baseline = false;
	struct env e = { 0 };
	struct tcase *cases;
	unsigned int n, i;
	int err = 0;

	for (i = 1; i < (unsigned int)argc; i++) {
		if (!strcmp(argv[i], "-v")) {
			e.verbose = true;
		} else if (!strcmp(argv[i], "--write-baseline")) {
			write_baseline = true;
		} else if (!strcmp(argv[i], "--write-seeds") && i + 1 < (unsigned int)argc) {
			seed_dir = argv[++i];
		} else {
			fprintf(stderr, "usage: %s [-v] [--write-baseline] [--write-seeds DIR]\n",
				argv[0]);
			return 2;
		}
	}
	if (!baseline)
		baseline = BASELINE_DEFAULT;

	cases = calloc(MAX_CASES, sizeof(*cases));
	if (!cases)
		return 1;
	n = cases_build(cases);
	if (seed_dir) {
		err = seeds_write(seed_dir, cases, n);
		free(cases);
		return err ? 1 : 0;
	}

	log_hook_libraries();
	e.ncpu = libbpf_num_possible_cpus();
	if (e.ncpu < 0) {
		fprintf(stderr, "test_guard: possible CPUs: %s\n", strerror(-e.ncpu));
		return 1;
	}
	e.percpu = calloc((size_t)DG_COUNTER_ENTRIES * e.ncpu, sizeof(*e.percpu));
	if (!e.percpu)
		return 1;

	for (i = 0; i < ARRAY_SIZE(hooks); i++) {
		err = hook_load(&hooks[i]);
		if (err) {
			fprintf(stderr, "test_guard: loading %s: %s\n",
				hooks[i].name, strerror(-err));
			goto out;
		}
	}

	for (i = 0; i < ARRAY_SIZE(base_hooks); i++) {
		err = prog_size_get(hooks[base_hooks[i]].prog, &sizes[i]);
		if (err) {
			fprintf(stderr, "test_guard: program info: %s\n", strerror(-err));
			goto out;
		}
	}
	if (write_baseline) {
		err = baseline_write(baseline, sizes, ARRAY_SIZE(base_hooks));
		if (!err)
			printf("wrote %s\n", baseline);
		goto out;
	}
	baseline_check(&e, baseline, sizes, ARRAY_SIZE(base_hooks));

	for (i = 0; i < ARRAY_SIZE(hooks); i++)
		run_subtest(&e, &hooks[i], cases, n);
	printf("%d passed, %d failed\n", e.passed, e.failed);
	err = e.failed ? 1 : 0;
out:
	for (i = 0; i < ARRAY_SIZE(hooks); i++)
		hook_destroy(&hooks[i]);
	free(e.percpu);
	free(cases);
	return err ? 1 : 0;
}
