/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Cleartext DNS to one upstream, for DNSOverTLS=no and for opportunistic
 * mode when TLS cannot be had (RFC 8310): UDP, and TCP for an answer that
 * came back truncated. Every socket is put on the guard's cookie
 * allow-list before its first byte and taken off once it is closed, so
 * the kernel guard passes exactly these and nothing else.
 *
 * Made hard to spoof into the cache as RFC 5452 asks: each query has a
 * UDP socket of its own with a fresh random source port, a message ID
 * from the CSPRNG, and its question's letters in random case (0x20);
 * only a datagram from the upstream's address and port (the socket is
 * connected), with that ID and that exact spelling, is its answer.
 * Anything else is counted (cleartext_bad_* in struct dg_daemon_stats)
 * and dropped, and the real answer is still awaited. At most
 * DG_PLAIN_SOCKETS_MAX sockets are open at once, over all upstreams;
 * queries past that wait for one, oldest first.
 */
#ifndef DG_PLAIN_H
#define DG_PLAIN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dns_wire.h"
#include "loop.h"

struct dg_plain;
struct dg_daemon_stats;

/* Allow fd past the guard; 0 or -errno. */
typedef int (*dg_plain_allow_fn)(void *arg, int fd);
/* Stop allowing the socket with this cookie (it is closed by now). */
typedef void (*dg_plain_forget_fn)(void *arg, uint64_t cookie);
/* An answer (whole message) for query token q. */
typedef void (*dg_plain_answer_fn)(void *q, const uint8_t *msg, size_t len);
/* Query token q can get no answer here (socket error). */
typedef void (*dg_plain_fail_fn)(void *q);

struct dg_plain_ops {
	dg_plain_allow_fn allow;
	dg_plain_forget_fn forget;
	void *allow_arg;
	dg_plain_answer_fn answer;
	dg_plain_fail_fn fail;
};

struct dg_plain *dg_plain_new(struct dg_loop *l, const struct sockaddr *sa,
			      socklen_t salen, const struct dg_plain_ops *ops);
/* Fail every query still waiting, close every socket. */
void dg_plain_free(struct dg_plain *p);

/* Send q's question for token tok; *id identifies it for forget.
 * Returns 0 (sent, or waiting for a socket: ops answer or fail tok
 * later) or -errno (nothing sent, tok not kept). */
int dg_plain_send(struct dg_plain *p, void *tok, const struct dg_dns_query *q,
		  uint16_t *id);
/* tok moved on: its socket is closed (a late answer finds nothing), or
 * it stops waiting for one. */
void dg_plain_forget(struct dg_plain *p, uint16_t id);

/* Where every dg_plain counts what it drops (NULL: nowhere). The
 * caller keeps s valid until it sets another. */
void dg_plain_set_stats(struct dg_daemon_stats *s);

#endif /* DG_PLAIN_H */
