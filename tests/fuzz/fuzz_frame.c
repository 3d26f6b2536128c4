// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for user/frame.c: any bytes as a frame from an AF_XDP
 * socket. No crash, no read past the input, and whatever parses gets a
 * reply that parses back with addresses and ports swapped, the tags and
 * the payload kept and both checksums right (summed here, not by
 * frame.c). The reply built in the query's own buffer is the same, and
 * one byte less room gets none.
 *
 * Seeds: tests/fuzz/corpus/fuzz_frame (written by test_frame --write-seeds).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

#define CHECK(cond)			\
	do {				\
		if (!(cond))		\
			abort();	\
	} while (0)

#define BUF_SIZE (DG_FRAME_REPLY_HDR_MAX + 65536)

static const uint8_t our_mac[6] = { 0x02, 0xd0, 0x7, 0x00, 0x00, 0x53 };
static uint8_t out[BUF_SIZE];
static uint8_t inplace[BUF_SIZE];

/* RFC 1071: each word added with its end-around carry at once. */
static uint16_t ones_sum(uint16_t sum, const uint8_t *b, size_t n)
{
	uint32_t s = sum;
	size_t i;

	for (i = 0; i < n; i += 2) {
		s += (uint32_t)b[i] << 8 | (i + 1 < n ? b[i + 1] : 0);
		s = (s & 0xffff) + (s >> 16);
	}
	return (uint16_t)s;
}

/* The reply's IPv4 header checksum (if any) and UDP checksum are right:
 * each sum, pseudo-header included, comes to 0xffff. */
static void check_sums(const uint8_t *ip, int family, const uint8_t *u)
{
	uint8_t ph[40] = { 0 };
	size_t ulen = (size_t)u[4] << 8 | u[5];

	if (family == 4) {
		CHECK(ones_sum(0, ip, 20) == 0xffff);
		memcpy(ph, ip + 12, 8);
		ph[9] = 17;
		ph[10] = u[4];
		ph[11] = u[5];
		CHECK(ones_sum(ones_sum(0, ph, 12), u, ulen) == 0xffff);
	} else {
		memcpy(ph, ip + 8, 32);
		ph[34] = u[4];
		ph[35] = u[5];
		ph[39] = 17;
		CHECK(ones_sum(ones_sum(0, ph, 40), u, ulen) == 0xffff);
	}
	CHECK(u[6] | u[7]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dg_frame q, r;
	enum dg_frame_err e;
	size_t n, l3, l4;
	unsigned int i;

	e = dg_frame_parse(data, size, &q);
	CHECK((unsigned int)e < DG_FRAME_ERR_MAX);
	if (e != DG_FRAME_OK)
		return 0;
	CHECK(q.family == 4 || q.family == 6);
	CHECK(q.n_vlans <= DG_MAX_VLAN_DEPTH);
	CHECK(q.dns_off >= 14 + 4 * (size_t)q.n_vlans + 20 + 8);
	CHECK(q.dns_off <= size && q.dns_len <= size - q.dns_off);

	n = dg_frame_reply(&q, q.src_mac, our_mac, data + q.dns_off, q.dns_len,
			   out, sizeof(out));
	l3 = 14 + 4 * (size_t)q.n_vlans;
	l4 = l3 + (q.family == 4 ? 20 : 40);
	CHECK(n == l4 + 8 + q.dns_len);
	CHECK(dg_frame_parse(out, n, &r) == DG_FRAME_OK);
	CHECK(!memcmp(r.dst_mac, q.src_mac, 6));
	CHECK(!memcmp(r.src_mac, our_mac, 6));
	CHECK(r.n_vlans == q.n_vlans);
	for (i = 0; i < q.n_vlans; i++)
		CHECK(r.vlan_tpid[i] == q.vlan_tpid[i] &&
		      r.vlan_tci[i] == q.vlan_tci[i]);
	CHECK(r.family == q.family);
	CHECK(r.tos == (q.tos & 0xfc));
	CHECK(!memcmp(r.saddr, q.daddr, 16));
	CHECK(!memcmp(r.daddr, q.saddr, 16));
	CHECK(r.sport == q.dport && r.dport == q.sport);
	CHECK(r.dns_off == l4 + 8 && r.dns_len == q.dns_len);
	CHECK(!memcmp(out + r.dns_off, data + q.dns_off, q.dns_len));
	check_sums(out + l3, q.family, out + l4);

	CHECK(!dg_frame_reply(&q, q.src_mac, our_mac, data + q.dns_off,
			      q.dns_len, out, n - 1));

	/* In place: payload and MACs read from the buffer being written. */
	if (size <= sizeof(inplace)) {
		memcpy(inplace, data, size);
		CHECK(dg_frame_reply(&q, inplace + 6, our_mac,
				     inplace + q.dns_off, q.dns_len, inplace,
				     sizeof(inplace)) == n);
		CHECK(!memcmp(inplace, out, n));
	}
	return 0;
}
