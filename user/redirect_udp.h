/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Redirected queries: DNS an application or LAN client sent past the stub,
 * which the guard redirected into AF_XDP sockets. Each frame is parsed,
 * its query resolved like any other, and the answer written back on the
 * same socket as a frame from the server the client asked.
 */
#ifndef DG_REDIRECT_UDP_H
#define DG_REDIRECT_UDP_H

#include <stdbool.h>
#include <stdint.h>

#include "loop.h"
#include "resolver.h"

struct dg_redirect_udp;

struct dg_redirect_udp *dg_redirect_udp_new(struct dg_loop *l, struct dg_resolver *res,
				int xskmap_fd);

/*
 * Serve n_queues RX queues of ifname (index ifindex), the attach point in
 * slot. Host mode
 * (the capture veth's far end): reply_mac is the near end's MAC, where the
 * answer must be addressed. Gateway mode: reply_mac NULL, answers go back
 * to the client's MAC. mtu bounds the answer frames.
 */
int dg_redirect_udp_add(struct dg_redirect_udp *b, const char *ifname, int ifindex,
		  uint32_t slot, unsigned int n_queues, const uint8_t *reply_mac,
		  unsigned int mtu);

/* Is ifname served by sockets bound to ifindex (its index now)? */
bool dg_redirect_udp_serves(const struct dg_redirect_udp *b, const char *ifname,
		      int ifindex);

/*
 * Stop serving ifname: it went away, or was re-created with a new index
 * (add it again then). Its sockets close at once; an answer still owed to
 * one of its clients is dropped and counted in redirected_tx_drops. Returns
 * how many sockets it closed.
 */
int dg_redirect_udp_remove(struct dg_redirect_udp *b, const char *ifname);

/* Refresh the redirected_rx_drops counter from the kernel's socket stats. */
void dg_redirect_udp_poll_stats(struct dg_redirect_udp *b);

/* Close the sockets (redirects then fail closed). After the pool is freed:
 * answers still owed are dropped with it. */
void dg_redirect_udp_free(struct dg_redirect_udp *b);

#endif /* DG_REDIRECT_UDP_H */
