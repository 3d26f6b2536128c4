/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Inside the upstream pool. pool.c schedules queries: which upstream,
 * which connection, retry, failover, deadlines, health. A transport
 * (pool_conn.c: DNS-over-TLS; tests/unit/test_pool.c: a fake) owns a
 * connection's life: connect, handshake, framing, timers, close. The
 * scheduler opens a connection, hands it queries by message ID, and hears
 * back through five events: opened, answer, failed, closed, and an
 * upstream that could not even be connected to.
 */
#ifndef DG_POOL_INT_H
#define DG_POOL_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "config.h"
#include "idmap.h"
#include "plain.h"
#include "pool.h"

#define POOL_MS 1000000ull	/* ns per ms */

enum pool_conn_state {
	POOL_C_CONNECTING,	/* TCP connect under way */
	POOL_C_HANDSHAKE,	/* TLS handshake under way */
	POOL_C_OPEN,		/* queries are written as they come */
	POOL_C_DEAD,		/* closed; freed at the end of the iteration */
};

struct pool_up;
struct dg_tls_session;

/*
 * What the scheduler sees of one connection; a transport embeds it.
 * state and last_read are the transport's to write; ids and opened the
 * scheduler's.
 */
struct pool_conn {
	struct pool_up *up;
	enum pool_conn_state state;
	uint64_t last_read;	/* loop time of the last byte in: stalls */
	struct dg_idmap ids;	/* queries in flight, by message ID */
	bool opened;		/* counted in conns_open */
};

/* One upstream of DNS= or FallbackDNS=. */
struct pool_up {
	struct dg_pool *pool;
	int idx;
	struct dg_server srv;
	char label[DG_UPSTREAM_NAME];
	char ip[INET6_ADDRSTRLEN];
	struct sockaddr_storage sa;
	socklen_t salen;
	bool fallback;
	uint8_t pins[DG_CFG_MAX_PINS][32];
	int n_pins;
	struct pool_conn *conns[DG_CFG_POOL_MAX];
	struct dg_tls_session *session;	/* the transport's: resumption */
	bool down;
	uint64_t down_until;
	uint64_t backoff;
	struct dg_timer probe;	/* reopen after backoff, keep warm */
	struct dg_upstream_stats *st;
	bool use_clear;		/* DNSOverTLS=no, or opportunistic without TLS */
	bool no_clear;		/* a pin failed: someone is in the path */
	struct dg_plain *plain;	/* cleartext transport, made when first used */
};

/* How connections are made. Every callback is required. */
struct pool_transport {
	/* Set up what p's connections share (p->tctx). 0 or -errno. */
	int (*init)(struct dg_pool *p, const struct dg_config *cfg);
	/* Free it, and every upstream's session. Connections are gone. */
	void (*fini)(struct dg_pool *p);
	/*
	 * Start a connection to up, state CONNECTING or HANDSHAKE, base
	 * zeroed but for up and state. NULL when none could be started;
	 * if the upstream itself refused, pool_up_failed() was called.
	 */
	struct pool_conn *(*open)(struct pool_up *up);
	/* Queue q's question under message ID id; written once open.
	 * 0 or -errno (nothing queued). */
	int (*send)(struct pool_conn *c, uint16_t id,
		    const struct dg_dns_query *q);
	/* Close c now: state DEAD, then pool_conn_closed(). */
	void (*close)(struct pool_conn *c);
};

extern const struct pool_transport pool_tls_transport;

struct dg_pool {
	struct dg_loop *loop;
	struct dg_stats *stats;
	struct dg_daemon_stats dummy;	/* when no stats were given */
	const struct pool_transport *t;
	void *tctx;		/* the transport's (TLS context) */
	int pool_size;
	enum dg_dot_mode dot;
	dg_plain_allow_fn allow;
	dg_plain_forget_fn forget;
	void *allow_arg;
	struct pool_up up[DG_MAX_UPSTREAMS];
	int n_up;
	int inflight;
	bool closing;
	bool retired;		/* replaced on reload: finish, open nothing new */
};

/* dg_pool_new() with connections made by t (the unit test's fake). */
struct dg_pool *dg_pool_new_transport(struct dg_loop *loop,
				      const struct dg_config *cfg,
				      struct dg_stats *stats,
				      const struct pool_transport *t);

/* ---- events: the transport tells the scheduler ---- */

/* c is now POOL_C_OPEN: the upstream is up, keep the pool warm. */
void pool_conn_opened(struct pool_conn *c);
/*
 * A whole answer (message, no length prefix) arrived on c. Returns true
 * when it matched a query in flight there (which is then finished or
 * retried), false for a runt or an unknown ID (counted or logged).
 */
bool pool_conn_answer(struct pool_conn *c, const uint8_t *msg, size_t len);
/* c failed for why (text for the log); pool_conn_closed() follows. */
void pool_conn_failed(struct pool_conn *c, enum dg_upfail why,
		      const char *text);
/* c is DEAD and its transport let go of it: its queries move on. The
 * transport frees c after the loop iteration, not before. */
void pool_conn_closed(struct pool_conn *c);
/* No connection to up could even be started (connect failed at once). */
void pool_up_failed(struct pool_up *up, enum dg_upfail why, const char *text);

#endif /* DG_POOL_INT_H */
