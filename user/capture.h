/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The capture veth pair of host redirect mode. The tc guard redirects a
 * redirected query into the near end; it comes out of the far end, where XDP
 * hands it to the daemon's AF_XDP socket. The daemon's reply frame goes
 * back the same way and the near end delivers it to the application.
 */
#ifndef DG_CAPTURE_H
#define DG_CAPTURE_H

#include <stdint.h>

#define DG_CAPTURE_NEAR "dg-cap"	/* tc redirects here; replies arrive here */
#define DG_CAPTURE_FAR "dg-cap-xsk"	/* XDP and the AF_XDP socket */
#define DG_CAPTURE_ADDR4 "169.254.0.53"	/* the near end's, for rp_filter */
#define DG_CAPTURE_FAR_ADDR4 "169.254.0.54" /* the far end's */

struct dg_capture {
	int near_ifindex;
	int far_ifindex;
	uint8_t near_mac[6];	/* a reply frame must be addressed to it */
	unsigned int mtu;
};

/*
 * Create the pair, or take over the one an earlier run left (a restart
 * keeps the guard's redirect target), and set it up: loose reverse-path
 * filtering and a link-local /32 on each end (replies come from
 * addresses routed via the uplink; steered TCP from the host's own), no
 * forwarding on the far end. Logs one line and
 * returns -errno on failure.
 */
int dg_capture_ensure(struct dg_capture *c);

/* Remove the pair if it is ours (a veth named DG_CAPTURE_NEAR). */
int dg_capture_remove(void);

#endif /* DG_CAPTURE_H */
