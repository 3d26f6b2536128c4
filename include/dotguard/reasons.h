/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Why a packet got its verdict, and what the verdict was.
 *
 * Every packet a guard program sees is counted exactly once, in the slot
 * [attach point][reason][action], so "seen" is the sum of all slots and no
 * counter is derived twice. Both lists are X-macros: BPF gets the enums,
 * userspace also gets the name tables from the same lines.
 *
 * Codes are append-only: a retired reason becomes _UNUSEDn, never reused,
 * so counters pinned by an older build keep their meaning.
 */
#ifndef DOTGUARD_REASONS_H
#define DOTGUARD_REASONS_H

/* X(ENUM_SUFFIX, "name-in-status", "what it means") */
#define DG_REASONS(X)                                                          \
	X(NON_IP, "non-ip", "not IPv4 or IPv6")                                \
	X(NON_DNS, "non-dns", "IP traffic not to port 53")                     \
	X(OWN_SOCKET, "own-socket", "port 53 from a dotguard socket (cookie allow-list)") \
	X(DNS_UDP4, "dns-udp4", "UDP to port 53 over IPv4")                    \
	X(DNS_UDP6, "dns-udp6", "UDP to port 53 over IPv6")                    \
	X(DNS_TCP4, "dns-tcp4", "TCP to port 53 over IPv4")                    \
	X(DNS_TCP6, "dns-tcp6", "TCP to port 53 over IPv6")                    \
	X(FRAGMENT, "fragment", "later fragment: the verdict its first fragment got") \
	X(FRAGMENT_OTHER, "fragment-other", "later fragment whose first was not seen: redirected to the daemon (drop: dropped, monitor: passed)") \
	X(RUNT, "runt", "shorter than an Ethernet header: cannot carry IP")   \
	X(TRUNCATED, "truncated", "headers cut short where port 53 could follow: treated as DNS") \
	X(MALFORMED, "malformed", "impossible header field (IPv4 IHL < 5): treated as DNS") \
	X(LIMIT_VLAN, "limit-vlan", "more VLAN tags than parsed: treated as DNS") \
	X(LIMIT_EXTHDR, "limit-exthdr", "IPv6 extension chain longer than parsed: treated as DNS") \
	X(DNS_ENCAP, "dns-encap", "port 53 inside PPPoE or MPLS: cannot be answered there, dropped") \
	X(LIMIT_MPLS, "limit-mpls", "MPLS label stack deeper than parsed: treated as DNS") \
	X(BAD_SOURCE, "bad-source", "DNS from a group MAC or a broadcast, multicast or unspecified address: answering would reflect, dropped")

/* X(ENUM_SUFFIX, "name-in-status", "what it means") */
#define DG_ACTIONS(X)                                                          \
	X(PASS, "pass", "passed: not DNS, or our own socket")                  \
	X(MONITOR, "monitor", "DNS passed and counted (Mode=monitor)")         \
	X(DROP, "drop", "dropped (Mode=drop, or unparsable and maybe DNS)")   \
	X(REDIRECT, "redirect", "redirected to the daemon")                    \
	X(FAIL_CLOSED, "fail-closed", "redirect found no socket: dropped")

#define DG_ENUM_REASON(sym, name, doc) DG_R_##sym,
#define DG_ENUM_ACTION(sym, name, doc) DG_A_##sym,

enum dg_reason { DG_REASONS(DG_ENUM_REASON) DG_REASON_MAX };
enum dg_action { DG_ACTIONS(DG_ENUM_ACTION) DG_ACTION_MAX };

#undef DG_ENUM_REASON
#undef DG_ENUM_ACTION

/* Reasons whose packets may be DNS and so get the policy's verdict. */
static inline int dg_reason_is_dns(int reason)
{
	return reason >= DG_R_DNS_UDP4 && reason <= DG_R_DNS_TCP6;
}

/* Reasons for packets that must not pass and cannot be answered: we could
 * not prove they are not DNS, or DNS we must not answer. Dropped (monitor:
 * passed), never redirected. */
static inline int dg_reason_is_suspect(int reason)
{
	return (reason >= DG_R_TRUNCATED && reason <= DG_R_LIMIT_EXTHDR) ||
	       (reason >= DG_R_DNS_ENCAP && reason <= DG_R_BAD_SOURCE);
}

#endif /* DOTGUARD_REASONS_H */
