/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Redirect mode, the daemon's side, in one place. The guard programs
 * redirect the DNS they catch; this module builds, keeps and takes down
 * what they redirect to:
 *  - host mode: the capture veth pair (capture.c), with XDP (UDP to
 *    AF_XDP) and tc-steer (TCP/53) on its far end;
 *  - gateway mode: tc-steer on each LAN port (XDP there takes UDP);
 *  - the policy rule that makes the stack deliver steered TCP/53 locally;
 *  - AF_XDP sockets on every redirect point (redirect_udp.c answers the
 *    UDP queries that arrive there);
 *  - the transparent TCP/53 listeners in the guard's SOCKMAP (stub.c
 *    serves their connections).
 *
 * Start-up: plan, (the guard attaches,) aim, start. Reload: plan, (the
 * guard applies,) then reload or stop. Link events: plan, sync.
 * `dotguard detach`: dg_redirect_detach. Until a redirect point has its
 * socket or listener, what is redirected there is dropped, never passed.
 */
#ifndef DG_REDIRECT_H
#define DG_REDIRECT_H

#include <stdbool.h>

#include "capture.h"
#include "config.h"
#include "guard.h"
#include "loop.h"
#include "redirect_udp.h"
#include "resolver.h"
#include "stub.h"

struct dg_redirect {
	struct dg_guard *guard;
	struct dg_loop *loop;
	struct dg_resolver *res;	/* set by start */
	struct dg_stub *stub;
	struct dg_capture cap;	/* host mode; ifindex 0 when none */
	bool steer;		/* steering points are in the plan */
	int n_listeners;	/* transparent TCP/53 listeners (IPv4, IPv6) */
	struct dg_redirect_udp *udp;	/* AF_XDP sockets, once opened */
};

void dg_redirect_init(struct dg_redirect *r, struct dg_guard *g,
		      struct dg_loop *l);

/*
 * Add redirect mode's own attach points to the config's targets t[*n]
 * (room for at most max): tc-steer on each gateway LAN port; in host mode
 * the capture pair, made or taken over here, with XDP and tc-steer on its
 * far end; and the steering rule. Nothing when cfg's mode is not
 * redirect. Returns 0 or -errno (logged).
 */
int dg_redirect_plan(struct dg_redirect *r, const struct dg_config *cfg,
		     struct dg_target *t, int *n, int max);

/* Point the tc guard at the capture pair (host mode): redirected queries
 * reach it from now on, and are dropped until start opens sockets. */
int dg_redirect_aim(struct dg_redirect *r);

/* At start, whatever the mode: what answers redirected queries (a reload
 * may switch to redirect mode later). In redirect mode (active): AF_XDP
 * sockets on every redirect point of t[n], the transparent listeners,
 * then TCP is let through to steering. Returns the first error (logged);
 * what failed stays fail-closed. */
int dg_redirect_start(struct dg_redirect *r, struct dg_resolver *res,
		      struct dg_stub *stub, const struct dg_target *t, int n,
		      bool active);

/* After a reload that leaves the mode redirect (was_redirect: it was
 * already): the capture target, sockets for the points t[n] and none for
 * those of old[n_old] that are gone, listeners when coming from another
 * mode. Errors are logged; what is not served is dropped. */
void dg_redirect_reload(struct dg_redirect *r, const struct dg_target *old,
			int n_old, const struct dg_target *t, int n,
			bool was_redirect);

/*
 * Make the AF_XDP sockets match t[n] after old[n_old]: a point new, or
 * re-created under its name with a new index, gets sockets; one gone
 * loses them (why: for the log line). Returns the first port's error,
 * after trying them all.
 */
int dg_redirect_sync(struct dg_redirect *r, const struct dg_target *old,
		     int n_old, const struct dg_target *t, int n,
		     const char *why);

/* After a reload out of redirect mode: close sockets and listeners, stop
 * aiming the guard, remove the steering rule. Answers still owed to
 * redirected queries are dropped and counted (redirected_tx_drops). */
void dg_redirect_stop(struct dg_redirect *r, const struct dg_target *old,
		      int n_old);

/* Once a second: the kernel's drop counts, fragments given up. */
void dg_redirect_poll(struct dg_redirect *r);

/* Close the sockets (the guard then fails closed). */
void dg_redirect_free(struct dg_redirect *r);

/* `dotguard detach`, after the programs are gone: remove the capture pair
 * (if with_capture) and the steering rule. Returns 0 or -errno (logged). */
int dg_redirect_detach(bool with_capture);

#endif /* DG_REDIRECT_H */
