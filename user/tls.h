/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * TLS for DNS-over-TLS upstreams (RFC 7858, wolfSSL): one context per
 * profile, one session per connection, the name check always on, and an
 * explicit handshake state machine over a non-blocking socket.
 */
#ifndef DG_TLS_H
#define DG_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Why a connection failed, for counters and the one-line log. */
enum dg_tls_fail {
	DG_TLS_OK = 0,
	DG_TLS_F_VERIFY,	/* chain not trusted, expired, ... */
	DG_TLS_F_NAME,		/* certificate does not match #name */
	DG_TLS_F_PIN,		/* no SPKI pin matched */
	DG_TLS_F_HANDSHAKE,	/* other handshake failure */
	DG_TLS_F_RESET,		/* connection reset or I/O error */
	DG_TLS_F_CLOSED,	/* peer closed (close_notify or EOF) */
	DG_TLS_F_MAX
};

enum dg_tls_want {
	DG_TLS_WANT_NONE = 0,
	DG_TLS_WANT_READ,	/* re-arm the fd for EPOLLIN */
	DG_TLS_WANT_WRITE,	/* re-arm the fd for EPOLLOUT */
};

struct dg_tls_ctx;
struct dg_tls_conn;
struct dg_tls_session;

/* Once per process, before any context. Returns 0 or -EIO. */
int dg_tls_init(void);

/*
 * A context for one profile. verify: check the chain against ca_file
 * (NULL or "": the system bundle) and the name; false only for
 * DNSOverTLS=opportunistic, where any certificate is accepted.
 * TLS 1.3 preferred, 1.2 allowed. NULL (one line logged) on failure.
 */
struct dg_tls_ctx *dg_tls_ctx_new(const char *ca_file, bool verify);
void dg_tls_ctx_free(struct dg_tls_ctx *ctx);

/*
 * Wrap a connected or connecting non-blocking TCP fd. name: sent as SNI
 * and checked against the certificate ("" = check the IP address ip
 * instead). pins: n SHA-256 hashes of acceptable SubjectPublicKeyInfo,
 * checked after the chain (n == 0: no pinning). session: resume it when
 * not NULL (not consumed). The fd stays the caller's.
 */
struct dg_tls_conn *dg_tls_conn_new(struct dg_tls_ctx *ctx, int fd,
				    const char *name, const char *ip,
				    const uint8_t (*pins)[32], int n_pins,
				    const struct dg_tls_session *session);
void dg_tls_conn_free(struct dg_tls_conn *c);

/* Drive the handshake: 0 once open, -EAGAIN (see dg_tls_want), or
 * -ECONNABORTED with dg_tls_failure() telling why. */
int dg_tls_handshake(struct dg_tls_conn *c);

/* Bytes written, -EAGAIN, or -ECONNRESET / -EPIPE (see dg_tls_failure). */
ssize_t dg_tls_write(struct dg_tls_conn *c, const void *buf, size_t len);
/* Bytes read, 0 when the peer closed, -EAGAIN, or -ECONNRESET. */
ssize_t dg_tls_read(struct dg_tls_conn *c, void *buf, size_t len);
/* Decrypted bytes buffered inside TLS: read them before waiting on the fd. */
size_t dg_tls_pending(struct dg_tls_conn *c);

enum dg_tls_want dg_tls_want(const struct dg_tls_conn *c);
enum dg_tls_fail dg_tls_failure(const struct dg_tls_conn *c);
/* Why, in words (the verify error string when there is one). */
const char *dg_tls_failure_text(const struct dg_tls_conn *c);
const char *dg_tls_fail_name(enum dg_tls_fail f);	/* "verify", "name", ... */
bool dg_tls_resumed(const struct dg_tls_conn *c);
const char *dg_tls_version(const struct dg_tls_conn *c);	/* "TLSv1.3" */

/*
 * The session to resume later. Call after the first application data was
 * read (TLS 1.3 sends its ticket after the handshake). NULL when none.
 * Owned by the caller.
 */
struct dg_tls_session *dg_tls_session_get(struct dg_tls_conn *c);
void dg_tls_session_free(struct dg_tls_session *s);

#endif /* DG_TLS_H */
