/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * TCP/53 steering: tc ingress (dg_tc_steer, on the capture veth's far end
 * and on each gateway port) assigns redirected TCP/53 to the daemon's
 * transparent listener and marks it. This is the routing that makes the
 * stack deliver marked packets locally, whatever their destination.
 */
#ifndef DG_STEER_H
#define DG_STEER_H

#include <stdbool.h>

/* Add (or remove) "fwmark DG_STEER_MARK lookup DG_STEER_TABLE" and that
 * table's "local default dev lo", IPv4 and IPv6. Idempotent both ways;
 * logs one line and returns -errno on failure. */
int dg_steer_routing(bool add);

#endif /* DG_STEER_H */
