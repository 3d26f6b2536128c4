// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <xdp/xsk.h>

#include "log.h"
#include "xsk.h"

#define RING_SIZE DG_XSK_FRAMES
#define RX_FRAMES (DG_XSK_FRAMES / 2)
#define TX_FRAMES (DG_XSK_FRAMES - RX_FRAMES)

struct dg_xsk {
	struct xsk_umem *umem;
	struct xsk_socket *sock;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
	void *area;
	uint64_t tx_free[TX_FRAMES];	/* TX buffers not in flight */
	unsigned int n_tx_free;
	unsigned int tx_queued;		/* put, not yet kicked */
};

int dg_xsk_fd(const struct dg_xsk *x)
{
	return xsk_socket__fd(x->sock);
}

uint64_t dg_xsk_rx_drops(const struct dg_xsk *x)
{
	struct xdp_statistics st;
	socklen_t len = sizeof(st);

	if (getsockopt(dg_xsk_fd(x), SOL_XDP, XDP_STATISTICS, &st, &len))
		return 0;
	return st.rx_dropped + st.rx_ring_full + st.rx_invalid_descs;
}

static int xsk_fill_all(struct dg_xsk *x)
{
	unsigned int i;
	uint32_t idx;

	if (xsk_ring_prod__reserve(&x->fill, RX_FRAMES, &idx) != RX_FRAMES)
		return -ENOSPC;
	for (i = 0; i < RX_FRAMES; i++)
		*xsk_ring_prod__fill_addr(&x->fill, idx + i) =
			(uint64_t)i * DG_XSK_FRAME_SIZE;
	xsk_ring_prod__submit(&x->fill, RX_FRAMES);
	for (i = 0; i < TX_FRAMES; i++)
		x->tx_free[i] = (uint64_t)(RX_FRAMES + i) * DG_XSK_FRAME_SIZE;
	x->n_tx_free = TX_FRAMES;
	return 0;
}

int dg_xsk_open(struct dg_xsk **out, const char *ifname, unsigned int queue,
		int xskmap_fd, uint32_t key)
{
	const struct xsk_umem_config ucfg = {
		.fill_size = RING_SIZE,
		.comp_size = RING_SIZE,
		.frame_size = DG_XSK_FRAME_SIZE,
		.frame_headroom = 0,
	};
	const struct xsk_socket_config scfg = {
		.rx_size = RING_SIZE,
		.tx_size = RING_SIZE,
		/* Our guard program is there already; libxdp must not
		 * load its own. */
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		/* veth and generic XDP only copy; wake-ups save syscalls. */
		.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP,
	};
	size_t size = (size_t)DG_XSK_FRAMES * DG_XSK_FRAME_SIZE;
	struct dg_xsk *x;
	int fd, err;

	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->area = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->area == MAP_FAILED) {
		err = -errno;
		x->area = NULL;
		goto fail;
	}
	err = xsk_umem__create(&x->umem, x->area, size, &x->fill, &x->comp, &ucfg);
	if (err)
		goto fail;
	err = xsk_socket__create(&x->sock, ifname, queue, x->umem, &x->rx,
				 &x->tx, &scfg);
	if (err)
		goto fail;
	err = xsk_fill_all(x);
	if (err)
		goto fail;
	fd = xsk_socket__fd(x->sock);
	if (bpf_map_update_elem(xskmap_fd, &key, &fd, BPF_ANY)) {
		err = -errno;
		goto fail;
	}
	*out = x;
	return 0;
fail:
	log_error("interface %s queue %u: AF_XDP socket: %s", ifname, queue,
		  strerror(err < 0 ? -err : err));
	dg_xsk_close(x);
	return err < 0 ? err : -err;
}

void dg_xsk_close(struct dg_xsk *x)
{
	if (!x)
		return;
	/* Closing the socket takes it out of the XSKMAP: redirects then
	 * find no socket and the guard drops (fail closed). */
	if (x->sock)
		xsk_socket__delete(x->sock);
	if (x->umem)
		xsk_umem__delete(x->umem);
	if (x->area)
		munmap(x->area, (size_t)DG_XSK_FRAMES * DG_XSK_FRAME_SIZE);
	free(x);
}

unsigned int dg_xsk_rx(struct dg_xsk *x, dg_xsk_rx_fn fn, void *arg,
		       unsigned int max)
{
	const struct xdp_desc *d;
	uint32_t idx_rx, idx_fill;
	unsigned int n, i;

	n = xsk_ring_cons__peek(&x->rx, max, &idx_rx);
	if (!n) {
		if (xsk_ring_prod__needs_wakeup(&x->fill))
			recvfrom(dg_xsk_fd(x), NULL, 0, MSG_DONTWAIT, NULL, NULL);
		return 0;
	}
	for (i = 0; i < n; i++) {
		d = xsk_ring_cons__rx_desc(&x->rx, idx_rx + i);
		if (d->len <= DG_XSK_FRAME_SIZE)
			fn(arg, xsk_umem__get_data(x->area, d->addr), d->len);
	}
	/* Every RX buffer goes straight back: the fill ring has room for
	 * all of them, as it never holds more than RX_FRAMES. */
	if (xsk_ring_prod__reserve(&x->fill, n, &idx_fill) == n) {
		for (i = 0; i < n; i++)
			*xsk_ring_prod__fill_addr(&x->fill, idx_fill + i) =
				xsk_umem__extract_addr(
					xsk_ring_cons__rx_desc(&x->rx, idx_rx + i)->addr);
		xsk_ring_prod__submit(&x->fill, n);
	}
	xsk_ring_cons__release(&x->rx, n);
	return n;
}

/* Completed TX buffers become free again. */
static void xsk_reap(struct dg_xsk *x)
{
	uint32_t idx;
	unsigned int n, i;

	n = xsk_ring_cons__peek(&x->comp, TX_FRAMES, &idx);
	for (i = 0; i < n && x->n_tx_free < TX_FRAMES; i++)
		x->tx_free[x->n_tx_free++] = *xsk_ring_cons__comp_addr(&x->comp, idx + i);
	xsk_ring_cons__release(&x->comp, n);
}

uint8_t *dg_xsk_tx_buf(struct dg_xsk *x, uint64_t *addr)
{
	if (!x->n_tx_free)
		xsk_reap(x);
	/* All in flight: send what is queued now (copy mode transmits in
	 * the syscall) and take the completed buffers back. */
	if (!x->n_tx_free)
		dg_xsk_kick(x);
	if (!x->n_tx_free)
		return NULL;
	*addr = x->tx_free[--x->n_tx_free];
	return xsk_umem__get_data(x->area, *addr);
}

void dg_xsk_tx_unget(struct dg_xsk *x, uint64_t addr)
{
	if (x->n_tx_free < TX_FRAMES)
		x->tx_free[x->n_tx_free++] = addr;
}

void dg_xsk_tx_put(struct dg_xsk *x, uint64_t addr, size_t len)
{
	struct xdp_desc *d;
	uint32_t idx;

	/* The TX ring is as large as the UMEM: a buffer we hold always
	 * finds a slot. */
	if (xsk_ring_prod__reserve(&x->tx, 1, &idx) != 1) {
		dg_xsk_tx_unget(x, addr);
		return;
	}
	d = xsk_ring_prod__tx_desc(&x->tx, idx);
	d->addr = addr;
	d->len = (uint32_t)len;
	xsk_ring_prod__submit(&x->tx, 1);
	x->tx_queued++;
}

void dg_xsk_kick(struct dg_xsk *x)
{
	unsigned int tries;

	if (!x->tx_queued)
		return;
	/* Copy mode sends only when asked, at most 32 frames a call, and
	 * says EAGAIN while more wait: ask again, a bounded number of times. */
	tries = x->tx_queued / 32 + 2;
	x->tx_queued = 0;
	while (tries-- && xsk_ring_prod__needs_wakeup(&x->tx) &&
	       sendto(dg_xsk_fd(x), NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
	       (errno == EAGAIN || errno == EBUSY || errno == EINTR))
		;
	xsk_reap(x);
}
