/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * For unit tests that drive the resolver: its forward hook (struct
 * dg_resolver.forward) keeps each query here, in order, until the test
 * answers it through done(). The includer defines N_FWD and allocates
 * fwds (N_FWD entries); cmocka is included before.
 */
#ifndef DG_TEST_FAKE_UPSTREAM_H
#define DG_TEST_FAKE_UPSTREAM_H

#include "resolver.h"

struct fwd {
	struct dg_dns_query q;
	dg_pool_done_fn done;
	void *arg;
	bool answered;
};

static struct fwd *fwds;
static int n_fwd;

static void fake_forward(struct dg_resolver *r, const struct dg_dns_query *q,
			 dg_pool_done_fn done, void *arg)
{
	(void)r;
	assert_true(n_fwd < N_FWD);
	fwds[n_fwd].q = *q;
	fwds[n_fwd].done = done;
	fwds[n_fwd].arg = arg;
	n_fwd++;
}

#endif /* DG_TEST_FAKE_UPSTREAM_H */
