/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The stub listener: 127.0.0.53:53 over UDP and TCP (DNSStubListener=),
 * plus DNSStubListenerExtra= addresses, as in resolved.conf. Only local
 * clients are served; anyone else gets REFUSED (the seeds' hardening).
 *
 * TCP clients (local ones, and steered TCP/53 from the guard) cannot make
 * it hold more than limits.h says: connections per kind and per client
 * address (the idle longest closes for a newcomer), queries in flight
 * and answer bytes waiting per connection (past them it stops reading the
 * connection), answer bytes waiting in all. Answers leave in the order
 * they are ready, each written once from where the socket left it.
 */
#ifndef DG_STUB_H
#define DG_STUB_H

#include "config.h"
#include "loop.h"
#include "resolver.h"

#define DG_STUB_ADDR "127.0.0.53"

struct dg_stub;

/* Bind every configured listener and register it with l. Returns NULL
 * after one logged line naming the address that failed. */
struct dg_stub *dg_stub_new(struct dg_loop *l, struct dg_resolver *res,
			    const struct dg_config *cfg);
/* A transparent TCP listener (AF_INET or AF_INET6) on a loopback port for
 * steered TCP/53: its connections are served like the stub's own. Returns
 * its fd (the stub keeps it) or -errno. */
int dg_stub_listen_steered(struct dg_stub *s, int family);
/* Close those listeners (Mode= is no longer redirect); connections they
 * accepted are served to the end. */
void dg_stub_close_steered(struct dg_stub *s);

/* Close every listener and connection. Requests the resolver still holds
 * keep the memory until their replies come (then dropped). */
void dg_stub_free(struct dg_stub *s);

#endif /* DG_STUB_H */
