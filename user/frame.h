/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The raw Ethernet frames that AF_XDP sockets hand the daemon (UDP DNS
 * queries a guard program redirected) and the answer frames it sends back.
 * Frames are untrusted: every read is bounded by the frame's length and
 * no length field is believed past the bytes actually there.
 *
 * Neither the IPv4 header checksum nor the UDP checksum of a query is
 * checked: frames from locally generated packets carry partial (offloaded)
 * checksums. Replies always carry full, correct checksums.
 */
#ifndef DG_FRAME_H
#define DG_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dotguard/limits.h"

/* The most header bytes a reply puts before the DNS payload:
 * Ethernet, VLAN tags, IPv6, UDP. */
#define DG_FRAME_REPLY_HDR_MAX (14 + 4 * DG_MAX_VLAN_DEPTH + 40 + 8)

/* X(ENUM_SUFFIX, "name in logs and counters") */
#define DG_FRAME_ERRS(X)					\
	X(OK, "ok")						\
	X(TRUNCATED, "truncated")				\
	X(NOT_IP, "not-ip")					\
	X(NOT_UDP, "not-udp")					\
	X(FRAGMENT, "fragment")					\
	X(BAD_LENGTH, "bad-length")				\
	X(TOO_MANY_HDRS, "too-many-headers")			\
	X(ENCAP, "encapsulated")

#define DG_FRAME_ENUM_ERR(sym, name) DG_FRAME_##sym,
/*
 * TRUNCATED: the frame ends before a header, or before the end its IP
 *            length field announces (a prefix of a good frame is always
 *            this).
 * NOT_IP: EtherType neither IPv4 nor IPv6, or an IP version that does not
 *         match it.
 * NOT_UDP: the transport is not UDP (TCP, ICMP, ESP, ...).
 * FRAGMENT: an IPv4 or IPv6 fragment: the fragment fields are filled for
 *           the reassembler (user/reasm.h).
 * BAD_LENGTH: length fields that contradict each other: IHL < 5, IPv4
 *             total length < IHL * 4, UDP length < 8 or past the IP
 *             payload, a header past the IP packet's length.
 * TOO_MANY_HDRS: more VLAN tags, IPv6 extension headers or MPLS labels
 *                than the parser walks (include/dotguard/limits.h).
 * ENCAP: IP inside PPPoE or MPLS: not answered (the guard drops those).
 */
enum dg_frame_err { DG_FRAME_ERRS(DG_FRAME_ENUM_ERR) DG_FRAME_ERR_MAX };
#undef DG_FRAME_ENUM_ERR

/* Short text for e ("truncated", ...), "unknown" when out of range. */
const char *dg_frame_err_name(enum dg_frame_err e);

struct dg_frame {
	uint8_t dst_mac[6], src_mac[6];
	/* Host order, outermost first. */
	uint16_t vlan_tpid[DG_MAX_VLAN_DEPTH], vlan_tci[DG_MAX_VLAN_DEPTH];
	uint8_t n_vlans;
	uint8_t family;		/* 4 or 6 */
	uint8_t tos;		/* IPv4 TOS / IPv6 traffic class, as received */
	/* Network order; IPv4 uses the first 4 bytes, the rest are zero. */
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;	/* host order */
	size_t dns_off, dns_len;	/* the UDP payload inside the frame */
	/* DG_FRAME_FRAGMENT only: this fragment's place in its datagram. */
	size_t l3_off;		/* the IP header */
	size_t frag_hdr_off;	/* IPv6: its fragment header; IPv4: 0 */
	size_t data_off, data_len;	/* the bytes it carries */
	uint32_t frag_id;	/* IPv4 id / IPv6 identification, host order */
	uint32_t frag_off;	/* in bytes */
	uint8_t frag_proto;	/* IPv4 protocol; IPv6: the fragment header's
				 * next header */
	uint8_t frag_more;	/* More Fragments */
};

/*
 * Parse the len bytes at f with the guard's own parser (bpf/parse.h,
 * compiled for the host): Ethernet II, VLAN tags, IPv4 (options) or IPv6
 * (extension headers), then UDP, with the IP and UDP length fields checked
 * against each other and the frame. Bytes after the IP packet (Ethernet
 * padding) are ignored, and so are bytes after the UDP length inside it.
 * Ports are not checked.
 * Returns DG_FRAME_OK and fills *fr, whose dns_off + dns_len <= len;
 * DG_FRAME_FRAGMENT with the fragment fields filled; otherwise the reason,
 * and *fr is unspecified.
 */
enum dg_frame_err dg_frame_parse(const uint8_t *f, size_t len,
				 struct dg_frame *fr);

/*
 * Build the answer to the query q into out: q's VLAN tags in the same
 * order, Ethernet dst_mac/src_mac as given, source IP and port = q's
 * destination and destination = q's source, q's DSCP (ECN bits cleared:
 * we do not speak ECN), and the dns_len bytes at dns as UDP payload.
 * IPv4 has no options, ID 0, DF, TTL 64; IPv6 flow label 0, hop limit 64,
 * no extension headers. Both get a correct UDP checksum.
 * dns, dst_mac and src_mac may point into out (an answer built in the
 * query's own frame).
 * Returns the frame's length, or 0 when it does not fit cap, the payload
 * does not fit the IP length fields, or q is not a parsed frame.
 */
/*
 * Would an answer to fr reflect? A group (multicast or broadcast) source
 * MAC, or a broadcast, multicast or unspecified source address: the
 * answer would go to many hosts or none. The guard drops these on LAN
 * ports; the daemon checks again.
 */
bool dg_frame_source_reflects(const struct dg_frame *fr);

size_t dg_frame_reply(const struct dg_frame *q, const uint8_t dst_mac[6],
		      const uint8_t src_mac[6], const uint8_t *dns,
		      size_t dns_len, uint8_t *out, size_t cap);

#endif /* DG_FRAME_H */
