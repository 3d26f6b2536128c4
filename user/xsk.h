/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One AF_XDP socket (libxdp xsk) with a UMEM of its own, in copy mode:
 * frames the guard's XDP program redirects come in on its RX ring, reply
 * frames go out on its TX ring. Half the UMEM feeds RX, half is for TX.
 * Our own XDP program is already attached; the socket only registers
 * itself in the pinned XSKMAP.
 */
#ifndef DG_XSK_H
#define DG_XSK_H

#include <stddef.h>
#include <stdint.h>

/* A DNS query frame is far below 2 KiB, and answers are sized to fit. A
 * burst of 1000 queries must find room in the RX ring, and their answers
 * TX buffers: 2048 frames, 4 MiB of UMEM per socket. */
#define DG_XSK_FRAME_SIZE 2048u
#define DG_XSK_FRAMES 2048u

struct dg_xsk;

/* Open a socket on ifname's queue and put it at xskmap[key]. Logs one
 * line and returns -errno on failure. */
int dg_xsk_open(struct dg_xsk **out, const char *ifname, unsigned int queue,
		int xskmap_fd, uint32_t key);
void dg_xsk_close(struct dg_xsk *x);

int dg_xsk_fd(const struct dg_xsk *x);

/* Frames the kernel dropped on the way to this socket since it opened
 * (XDP_STATISTICS: RX ring full, dropped, invalid descriptors). */
uint64_t dg_xsk_rx_drops(const struct dg_xsk *x);

typedef void (*dg_xsk_rx_fn)(void *arg, const uint8_t *frame, size_t len);

/* Hand up to max received frames to fn (each valid only during the call)
 * and give their buffers back to the kernel. Returns how many. */
unsigned int dg_xsk_rx(struct dg_xsk *x, dg_xsk_rx_fn fn, void *arg,
		       unsigned int max);

/* A TX buffer of DG_XSK_FRAME_SIZE bytes, or NULL when all are in flight
 * (the frame is then lost, as on a full NIC queue). */
uint8_t *dg_xsk_tx_buf(struct dg_xsk *x, uint64_t *addr);

/* Queue a filled TX buffer; dg_xsk_kick sends what is queued. */
void dg_xsk_tx_put(struct dg_xsk *x, uint64_t addr, size_t len);
void dg_xsk_kick(struct dg_xsk *x);

/* Give a TX buffer back unsent. */
void dg_xsk_tx_unget(struct dg_xsk *x, uint64_t addr);

#endif /* DG_XSK_H */
