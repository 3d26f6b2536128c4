// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for user/reasm.c behind user/frame.c: any bytes as a
 * run of frames from an AF_XDP socket (each a 2-byte big-endian length,
 * then that many bytes; the first byte of a frame's length also moves the
 * clock), as a sender that lies about fragments would send them. No
 * crash, no read past a frame, a datagram never longer than the room
 * given, never more held than DG_REASM_DATAGRAMS, and every datagram made
 * is accounted for: put together, given up, or still held (counted over
 * every input: the reassembler is kept between them, emptied first).
 *
 * Seeds: tests/fuzz/corpus/fuzz_reasm.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reasm.h"

#define CHECK(cond)			\
	do {				\
		if (!(cond))		\
			abort();	\
	} while (0)

#define MAX_FRAMES 64

static uint8_t out[DG_MAX_HDR_OFF + DG_REASM_BYTES];

static struct dg_reasm *r;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct dg_reasm_stats *st;
	uint64_t now = 0, made, drops;
	struct dg_frame fr, whole;
	size_t off = 0, len;
	uint8_t *f;
	int i, j;
	long n;

	/* One reassembler for every input (its 400 KiB would cost more
	 * than the run), emptied first: nothing carries over. */
	if (!r)
		r = dg_reasm_new();
	if (!r)
		return 0;
	dg_reasm_expire(r, UINT64_MAX);
	for (i = 0; i < MAX_FRAMES && size - off >= 2; i++) {
		len = (size_t)data[off] << 8 | data[off + 1];
		now += (uint64_t)data[off] * 50000000ull;	/* up to 12.75 s */
		off += 2;
		if (len > size - off)
			len = size - off;
		f = malloc(len ? len : 1);
		if (!f)
			break;
		memcpy(f, data + off, len);
		off += len;
		if (dg_frame_parse(f, len, &fr) == DG_FRAME_FRAGMENT) {
			n = dg_reasm_add(r, 1 + (i & 1), f, len, &fr, now, out,
					 sizeof(out));
			CHECK(n >= -1 && n <= (long)sizeof(out));
			/* Whatever was put together parses, or is refused,
			 * within its own length. */
			if (n > 0)
				dg_frame_parse(out, (size_t)n, &whole);
		}
		free(f);
		CHECK(dg_reasm_pending(r) <= DG_REASM_DATAGRAMS);
	}
	st = dg_reasm_stats(r);
	drops = 0;
	for (j = 0; j < DG_REASM_DROP_MAX; j++)
		drops += st->drops[j];
	made = st->datagrams + drops + dg_reasm_pending(r);
	CHECK(made <= st->fragments);
	return 0;
}
