/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Reassembly of fragmented queries the guard redirected. The guard never
 * passes a fragment of a port-53 datagram, in any order; in redirect mode
 * it hands them to the daemon, which puts each datagram back together
 * here and answers it like any other query (the iptables DNAT recipe gets
 * this from conntrack's defragmentation).
 *
 * Everything is bounded (include/dotguard/limits.h): datagrams at once,
 * bytes and fragments per datagram, and time. Overlapping fragments drop
 * their datagram (RFC 5722; for IPv4 too, as Linux does). A datagram whose
 * first fragment never comes (it was not DNS and passed, or was never
 * sent) expires and is dropped: nothing held here is ever forwarded.
 */
#ifndef DG_REASM_H
#define DG_REASM_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

/* Why a datagram was given up; X(ENUM_SUFFIX, "name") */
#define DG_REASM_DROPS(X)		\
	X(TIMEOUT, "timeout")		\
	X(OVERLAP, "overlap")		\
	X(TOO_BIG, "too-big")		\
	X(TOO_MANY, "too-many-fragments") \
	X(EVICTED, "evicted")		\
	X(BAD, "bad-datagram")

#define DG_REASM_ENUM_DROP(sym, name) DG_REASM_##sym,
enum dg_reasm_drop { DG_REASM_DROPS(DG_REASM_ENUM_DROP) DG_REASM_DROP_MAX };
#undef DG_REASM_ENUM_DROP

struct dg_reasm_stats {
	uint64_t fragments;	/* offered */
	uint64_t datagrams;	/* put back together */
	uint64_t drops[DG_REASM_DROP_MAX];	/* datagrams given up, by why */
};

struct dg_reasm;

struct dg_reasm *dg_reasm_new(void);
void dg_reasm_free(struct dg_reasm *r);

/*
 * Offer the fragment fr (dg_frame_parse said DG_FRAME_FRAGMENT) of the
 * len-byte frame f, which arrived on interface ifindex at now_ns. When it
 * completes its datagram, the whole unfragmented frame (the first
 * fragment's link and IP headers, fragment fields cleared, lengths set) is
 * written to out and its length returned: parse it with dg_frame_parse.
 * Returns 0 while the datagram is incomplete, or -1 when this fragment's
 * datagram was given up (counted by why).
 */
long dg_reasm_add(struct dg_reasm *r, int ifindex, const uint8_t *f, size_t len,
		  const struct dg_frame *fr, uint64_t now_ns, uint8_t *out,
		  size_t cap);

/* Give up datagrams older than DG_REASM_TIMEOUT_MS; returns how many. */
unsigned int dg_reasm_expire(struct dg_reasm *r, uint64_t now_ns);

/* Datagrams held now. */
unsigned int dg_reasm_pending(const struct dg_reasm *r);

const struct dg_reasm_stats *dg_reasm_stats(const struct dg_reasm *r);
const char *dg_reasm_drop_name(enum dg_reasm_drop d);

#endif /* DG_REASM_H */
