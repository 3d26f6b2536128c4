// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * DNS-over-TLS client side on wolfSSL (see tls.h for the contract).
 *
 * The name check: a hostname goes to wolfSSL_check_domain_name() and as
 * SNI; an IP address (no #name) goes to the X509_VERIFY_PARAM's IP, which
 * wolfSSL 5.5.4 checks against the certificate's IP SANs during the
 * handshake (it has no wolfSSL_check_ip_address()), and never as SNI
 * (RFC 6066 forbids literal addresses there). SPKI pins are checked right
 * after the handshake, before a byte of DNS is written, on the SPKI bytes
 * of the leaf as signed.
 *
 * A resumed session skips the certificate checks (wolfSSL keeps the
 * peer's chain with it, so pins are still compared): resume a session
 * only with the upstream it came from.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfio.h>
#include <wolfssl/wolfcrypt/coding.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include "digest.h"
#include "log.h"
#include "tls.h"

struct dg_tls_ctx {
	WOLFSSL_CTX *ctx;
	bool verify;
};

struct dg_tls_session {
	WOLFSSL_SESSION *s;
};

struct dg_tls_conn {
	WOLFSSL *ssl;
	bool verify;
	bool open;
	enum dg_tls_want want;
	enum dg_tls_fail fail;
	int n_pins;
	uint8_t (*pins)[32];		/* our copy: config reloads free theirs */
	char peer[300];			/* "IP#name", for messages */
	char text[360];			/* why it failed, in words */
};

static bool tls_inited;

static const char *const tls_fail_names[DG_TLS_F_MAX] = {
	[DG_TLS_OK] = "ok",
	[DG_TLS_F_VERIFY] = "verify",
	[DG_TLS_F_NAME] = "name",
	[DG_TLS_F_PIN] = "pin",
	[DG_TLS_F_HANDSHAKE] = "handshake",
	[DG_TLS_F_RESET] = "reset",
	[DG_TLS_F_CLOSED] = "closed",
};

/* wolfSSL's own debug output, if the library was built with it (Debian's
 * is not: then this is never called). */
static void tls_wolfssl_log(const int level, const char *const msg)
{
	(void)level;
	log_verbose("wolfSSL: %s", msg);
}

int dg_tls_init(void)
{
	if (tls_inited)
		return 0;
	if (wolfSSL_Init() != WOLFSSL_SUCCESS) {
		log_error("TLS: wolfSSL_Init failed");
		return -EIO;
	}
	/* Both return NOT_COMPILED_IN without DEBUG_WOLFSSL: nothing to do. */
	wolfSSL_SetLoggingCb(tls_wolfssl_log);
	if (log_get_level() >= DG_LOG_VERBOSE)
		wolfSSL_Debugging_ON();
	else
		wolfSSL_Debugging_OFF();
	tls_inited = true;
	return 0;
}

/* wolfSSL's text for an error code (its own or a wolfCrypt one). */
static void tls_err_text(int err, char *buf, size_t len)
{
	wolfSSL_ERR_error_string_n((unsigned long)err, buf, len);
}

struct dg_tls_ctx *dg_tls_ctx_new(const char *ca_file, bool verify)
{
	struct dg_tls_ctx *t;
	char why[120];
	int ret;

	if (dg_tls_init())
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t) {
		log_error("TLS: out of memory for a context");
		return NULL;
	}
	t->verify = verify;
	/* The "v23" method negotiates the highest version both sides have. */
	t->ctx = wolfSSL_CTX_new(wolfSSLv23_client_method());
	if (!t->ctx) {
		log_error("TLS: wolfSSL_CTX_new failed");
		goto err;
	}
	ret = wolfSSL_CTX_SetMinVersion(t->ctx, WOLFSSL_TLSV1_2);
	if (ret != WOLFSSL_SUCCESS) {
		tls_err_text(ret, why, sizeof(why));
		log_error("TLS: cannot set TLS 1.2 as the minimum: %s", why);
		goto err;
	}
	if (verify) {
		if (ca_file && *ca_file) {
			ret = wolfSSL_CTX_load_verify_locations(t->ctx, ca_file,
								NULL);
			if (ret != WOLFSSL_SUCCESS) {
				if (ret < 0)
					tls_err_text(ret, why, sizeof(why));
				else
					snprintf(why, sizeof(why),
						 "unreadable, or no PEM certificate in it");
				log_error("TLS: cannot load CAFile=%s: %s",
					  ca_file, why);
				goto err;
			}
		} else {
			ret = wolfSSL_CTX_load_system_CA_certs(t->ctx);
			if (ret != WOLFSSL_SUCCESS) {
				log_error("TLS: cannot load the system CA certificates (set CAFile=)");
				goto err;
			}
		}
		wolfSSL_CTX_set_verify(t->ctx, WOLFSSL_VERIFY_PEER, NULL);
	} else {
		/* RFC 8310 opportunistic: encrypt, accept any certificate. */
		wolfSSL_CTX_set_verify(t->ctx, WOLFSSL_VERIFY_NONE, NULL);
	}
	/* TLS 1.2 tickets too; TLS 1.3 resumes by ticket anyway. */
	wolfSSL_CTX_UseSessionTicket(t->ctx);
	return t;
err:
	dg_tls_ctx_free(t);
	return NULL;
}

void dg_tls_ctx_free(struct dg_tls_ctx *t)
{
	if (!t)
		return;
	if (t->ctx)
		wolfSSL_CTX_free(t->ctx);
	free(t);
}

/*
 * The IP address as wolfSSL 5.5.4 prints IP SANs, since it compares text:
 * IPv6 unabbreviated ("2001:0db8:0000:...:0053"), so "2001:db8::53" from a
 * config would never match; IPv4 dotted quad.
 */
static int tls_ip_text(const char *ip, char *out, size_t len)
{
	struct in6_addr a6;
	struct in_addr a4;
	const uint8_t *b = a6.s6_addr;

	if (inet_pton(AF_INET, ip, &a4) == 1)
		return inet_ntop(AF_INET, &a4, out, len) ? 0 : -EINVAL;
	if (inet_pton(AF_INET6, ip, &a6) != 1)
		return -EINVAL;
	snprintf(out, len, "%02x%02x:%02x%02x:%02x%02x:%02x%02x:"
		 "%02x%02x:%02x%02x:%02x%02x:%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
		 b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

/* Set the name check: the hostname, else the IP address. */
static int tls_set_name(struct dg_tls_conn *c, const char *name,
			const char *ip)
{
	WOLFSSL_X509_VERIFY_PARAM *param;
	char text[INET6_ADDRSTRLEN + 8];

	if (name && *name) {
		/* SNI even when not verifying: the server may need it to pick
		 * its certificate. */
		if (wolfSSL_UseSNI(c->ssl, WOLFSSL_SNI_HOST_NAME, name,
				   (unsigned short)strlen(name)) != WOLFSSL_SUCCESS)
			return -EINVAL;
		if (c->verify &&
		    wolfSSL_check_domain_name(c->ssl, name) != WOLFSSL_SUCCESS)
			return -EINVAL;
		return 0;
	}
	if (!c->verify)
		return 0;
	/* Verifying, so there must be something to check against. */
	if (!ip || tls_ip_text(ip, text, sizeof(text)))
		return -EINVAL;
	param = wolfSSL_get0_param(c->ssl);
	if (!param || wolfSSL_X509_VERIFY_PARAM_set1_ip_asc(param, text) !=
			      WOLFSSL_SUCCESS)
		return -EINVAL;
	return 0;
}

struct dg_tls_conn *dg_tls_conn_new(struct dg_tls_ctx *ctx, int fd,
				    const char *name, const char *ip,
				    const uint8_t (*pins)[32], int n_pins,
				    const struct dg_tls_session *session)
{
	struct dg_tls_conn *c;

	if (!ctx || fd < 0 || n_pins < 0 || (n_pins && !pins))
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		log_error("TLS: out of memory for a connection");
		return NULL;
	}
	c->verify = ctx->verify;
	snprintf(c->peer, sizeof(c->peer), "%s%s%s", ip && *ip ? ip : "?",
		 name && *name ? "#" : "", name ? name : "");
	if (n_pins) {
		c->pins = malloc((size_t)n_pins * sizeof(*c->pins));
		if (!c->pins) {
			log_error("TLS %s: out of memory for pins", c->peer);
			goto err;
		}
		memcpy(c->pins, pins, (size_t)n_pins * sizeof(*c->pins));
		c->n_pins = n_pins;
	}
	c->ssl = wolfSSL_new(ctx->ctx);
	if (!c->ssl) {
		log_error("TLS %s: wolfSSL_new failed", c->peer);
		goto err;
	}
	if (wolfSSL_set_fd(c->ssl, fd) != WOLFSSL_SUCCESS) {
		log_error("TLS %s: wolfSSL_set_fd failed", c->peer);
		goto err;
	}
	/* A peer that went away must cost an error, not a SIGPIPE. */
	wolfSSL_SetIOWriteFlags(c->ssl, MSG_NOSIGNAL);
	if (tls_set_name(c, name, ip)) {
		log_error("TLS %s: cannot set the name to check (give IP#name)",
			  c->peer);
		goto err;
	}
	/* A stale or foreign session only costs a full handshake. */
	if (session && session->s &&
	    wolfSSL_set_session(c->ssl, session->s) != WOLFSSL_SUCCESS)
		log_debug("TLS %s: session not usable, full handshake",
			  c->peer);
	return c;
err:
	dg_tls_conn_free(c);
	return NULL;
}

void dg_tls_conn_free(struct dg_tls_conn *c)
{
	if (!c)
		return;
	if (c->ssl) {
		/* close_notify, best effort: one try, never wait for the
		 * peer's, and not on a broken socket. */
		if (c->open && c->fail != DG_TLS_F_RESET)
			wolfSSL_shutdown(c->ssl);
		wolfSSL_free(c->ssl);
	}
	free(c->pins);
	free(c);
}

/* Record why the connection failed; the first reason wins. */
static void tls_fail(struct dg_tls_conn *c, enum dg_tls_fail f,
		     const char *text)
{
	if (c->fail)
		return;
	c->fail = f;
	c->want = DG_TLS_WANT_NONE;
	snprintf(c->text, sizeof(c->text), "%s", text);
	/* The caller logs the one line; this is the detail behind it.
	 * Expected disconnects only at -vv. */
	log_msg(f == DG_TLS_F_RESET || f == DG_TLS_F_CLOSED ?
		DG_LOG_VERBOSE : DG_LOG_DEBUG,
		"TLS %s: %s: %s", c->peer, tls_fail_names[f], c->text);
}

/*
 * OpenSSL's words for the verify results wolfSSL reports: 5.5.4's
 * wolfSSL_X509_verify_cert_error_string() knows only a few of them.
 */
static const char *tls_verify_text(long vr)
{
	switch (vr) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
		return "unable to get issuer certificate";
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
		return "certificate signature failure";
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return "certificate is not yet valid";
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return "certificate has expired";
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		return "self-signed certificate";
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		return "self-signed certificate in certificate chain";
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
		return "unable to get local issuer certificate";
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		return "unable to verify the first certificate";
	case X509_V_ERR_CERT_CHAIN_TOO_LONG:
		return "certificate chain too long";
	case X509_V_ERR_CERT_REVOKED:
		return "certificate revoked";
	case X509_V_ERR_INVALID_CA:
		return "invalid CA certificate";
	case X509_V_ERR_PATH_LENGTH_EXCEEDED:
		return "path length constraint exceeded";
	case X509_V_ERR_INVALID_PURPOSE:
		return "unsupported certificate purpose";
	case X509_V_ERR_CERT_UNTRUSTED:
		return "certificate not trusted";
	case X509_V_ERR_CERT_REJECTED:
		return "certificate rejected";
	default:
		return wolfSSL_X509_verify_cert_error_string(vr);
	}
}

/* 5.5.4 has no X509_V_ERR_HOSTNAME_MISMATCH: only its own codes tell. */
static bool tls_is_name_err(int err)
{
	return err == DOMAIN_NAME_MISMATCH || err == IPADDR_MISMATCH;
}

/* wolfCrypt's certificate errors: the ASN range of error-crypt.h. */
static bool tls_is_cert_err(int err)
{
	return (err <= ASN_PARSE_E && err >= ASN_NO_PEM_HEADER) ||
	       err == ASN_NO_SIGNER_E || err == ASN_SELF_SIGNED_E ||
	       err == ASN_PATHLEN_INV_E || err == ASN_PATHLEN_SIZE_E ||
	       err == VERIFY_CERT_ERROR || err == VERIFY_SIGN_ERROR ||
	       err == NO_PEER_CERT;
}

/* A failed wolfSSL_connect/read/write, err from wolfSSL_get_error(). */
static void tls_fail_err(struct dg_tls_conn *c, int err)
{
	char text[sizeof(c->text)];
	long vr;

	vr = wolfSSL_get_verify_result(c->ssl);
	tls_err_text(err, text, sizeof(text));
	if (tls_is_name_err(err)) {
		snprintf(text, sizeof(text), "certificate does not match %s",
			 c->peer);
		tls_fail(c, DG_TLS_F_NAME, text);
	} else if (vr != X509_V_OK || tls_is_cert_err(err)) {
		if (vr != X509_V_OK)
			snprintf(text, sizeof(text), "%s", tls_verify_text(vr));
		tls_fail(c, DG_TLS_F_VERIFY, text);
	} else if (err == WOLFSSL_ERROR_ZERO_RETURN ||
		   err == SOCKET_PEER_CLOSED_E) {
		tls_fail(c, DG_TLS_F_CLOSED, "connection closed by peer");
	} else if (err == SOCKET_ERROR_E || err == WOLFSSL_ERROR_SYSCALL) {
		snprintf(text, sizeof(text), "%s",
			 errno ? strerror(errno) : "connection reset");
		tls_fail(c, DG_TLS_F_RESET, text);
	} else {
		tls_fail(c, DG_TLS_F_HANDSHAKE, text);
	}
}

/* -EAGAIN and the direction to wait for, or 0 when err is not a WANT. */
static int tls_want(struct dg_tls_conn *c, int err)
{
	if (err == WOLFSSL_ERROR_WANT_READ) {
		c->want = DG_TLS_WANT_READ;
		return -EAGAIN;
	}
	if (err == WOLFSSL_ERROR_WANT_WRITE) {
		c->want = DG_TLS_WANT_WRITE;
		return -EAGAIN;
	}
	return 0;
}

static void tls_pin_text(char *buf, size_t len, const uint8_t *hash)
{
	byte b64[64];
	word32 n = sizeof(b64) - 1;

	if (Base64_Encode_NoNl(hash, 32, b64, &n) != 0)
		n = 0;
	b64[n] = '\0';
	snprintf(buf, len, "no SPKI pin matched (server has sha256/%s)",
		 (char *)b64);
}

/* One DER TLV in [p, end): its tag and contents; the next TLV, or NULL
 * when it does not fit. Lengths up to 3 bytes (16 MB) are plenty. */
static const uint8_t *der_tlv(const uint8_t *p, const uint8_t *end,
			      uint8_t *tag, const uint8_t **body)
{
	size_t len, n;

	if (end - p < 2)
		return NULL;
	*tag = *p++;
	len = *p++;
	if (len & 0x80) {
		n = len & 0x7f;
		if (!n || n > 3 || (size_t)(end - p) < n)
			return NULL;
		for (len = 0; n; n--)
			len = len << 8 | *p++;
	}
	if ((size_t)(end - p) < len)
		return NULL;
	*body = p;
	return p + len;
}

/*
 * The SubjectPublicKeyInfo TLV inside a certificate's DER, as it was
 * signed: tbsCertificate is [0] version, serial, signature, issuer,
 * validity, subject, then the SPKI. Taken from the certificate rather than
 * re-encoded from the key, because wolfSSL 5.5.4's i2d_PUBKEY does not give
 * the SPKI bytes for RSA keys. 0 and *spki, *len; -EINVAL if malformed.
 */
static int der_spki(const uint8_t *der, size_t der_len, const uint8_t **spki,
		    size_t *len)
{
	const uint8_t *end = der + der_len, *body, *p, *next;
	uint8_t tag;
	int i;

	end = der_tlv(der, end, &tag, &body);		/* Certificate */
	if (!end || tag != 0x30)
		return -EINVAL;
	p = body;
	end = der_tlv(p, end, &tag, &body);		/* tbsCertificate */
	if (!end || tag != 0x30)
		return -EINVAL;
	p = body;
	for (i = 0; i < 7; i++) {
		next = der_tlv(p, end, &tag, &body);
		if (!next)
			return -EINVAL;
		if (i == 0 && tag != 0xa0)
			i++;		/* v1: no [0] version */
		if (i == 6) {
			if (tag != 0x30)
				return -EINVAL;
			*spki = p;
			*len = (size_t)(next - p);
			return 0;
		}
		p = next;
	}
	return -EINVAL;
}

/*
 * The SHA-256 of the leaf's SubjectPublicKeyInfo compared with each pin.
 * 0 on a match, else the connection has failed with DG_TLS_F_PIN.
 */
static int tls_check_pins(struct dg_tls_conn *c)
{
	uint8_t hash[DG_SHA256_LEN];
	char text[sizeof(c->text)];
	const unsigned char *der;
	const uint8_t *spki;
	WOLFSSL_X509 *leaf;
	size_t spki_len;
	int der_len, i, ret = -EIO;

	if (!c->n_pins)
		return 0;
	/* Kept with the session, so a resumed connection has it too. */
	leaf = wolfSSL_get_peer_certificate(c->ssl);
	if (!leaf) {
		tls_fail(c, DG_TLS_F_PIN, "no peer certificate to check the pins against");
		return -EIO;
	}
	der = wolfSSL_X509_get_der(leaf, &der_len);
	if (!der || der_len <= 0 ||
	    der_spki(der, (size_t)der_len, &spki, &spki_len) ||
	    dg_sha256(spki, spki_len, hash)) {
		tls_fail(c, DG_TLS_F_PIN, "cannot read the certificate's public key");
		goto out;
	}
	for (i = 0; i < c->n_pins; i++) {
		if (!memcmp(hash, c->pins[i], sizeof(hash))) {
			ret = 0;
			goto out;
		}
	}
	tls_pin_text(text, sizeof(text), hash);
	tls_fail(c, DG_TLS_F_PIN, text);
out:
	wolfSSL_X509_free(leaf);
	return ret;
}

int dg_tls_handshake(struct dg_tls_conn *c)
{
	int ret, err;

	if (c->fail)
		return -ECONNABORTED;
	if (c->open)
		return 0;
	wolfSSL_ERR_clear_error();
	errno = 0;
	ret = wolfSSL_connect(c->ssl);
	if (ret != WOLFSSL_SUCCESS) {
		err = wolfSSL_get_error(c->ssl, ret);
		if (tls_want(c, err))
			return -EAGAIN;
		tls_fail_err(c, err);
		return -ECONNABORTED;
	}
	c->want = DG_TLS_WANT_NONE;
	if (tls_check_pins(c))
		return -ECONNABORTED;
	c->open = true;
	log_verbose("TLS %s: open, %s %s%s", c->peer,
		    wolfSSL_get_version(c->ssl), wolfSSL_get_cipher_name(c->ssl),
		    dg_tls_resumed(c) ? ", resumed" : "");
	return 0;
}

ssize_t dg_tls_write(struct dg_tls_conn *c, const void *buf, size_t len)
{
	int ret, err;

	if (c->fail)
		return c->fail == DG_TLS_F_CLOSED ? -EPIPE : -ECONNRESET;
	if (!c->open)
		return -ENOTCONN;
	if (!len)
		return 0;
	/* After -EAGAIN, wolfSSL wants the same bytes again (it already
	 * made the record): callers retry with the same buffer. */
	if (len > INT_MAX)
		len = INT_MAX;
	errno = 0;
	ret = wolfSSL_write(c->ssl, buf, (int)len);
	if (ret > 0) {
		c->want = DG_TLS_WANT_NONE;
		return ret;
	}
	err = wolfSSL_get_error(c->ssl, ret);
	if (tls_want(c, err))
		return -EAGAIN;
	tls_fail_err(c, err);
	return c->fail == DG_TLS_F_CLOSED ? -EPIPE : -ECONNRESET;
}

ssize_t dg_tls_read(struct dg_tls_conn *c, void *buf, size_t len)
{
	int ret, err;

	if (c->fail)
		return c->fail == DG_TLS_F_CLOSED ? 0 : -ECONNRESET;
	if (!c->open)
		return -ENOTCONN;
	if (!len)
		return 0;
	if (len > INT_MAX)
		len = INT_MAX;
	errno = 0;
	ret = wolfSSL_read(c->ssl, buf, (int)len);
	if (ret > 0) {
		c->want = DG_TLS_WANT_NONE;
		return ret;
	}
	err = wolfSSL_get_error(c->ssl, ret);
	if (tls_want(c, err))
		return -EAGAIN;
	tls_fail_err(c, err);
	return c->fail == DG_TLS_F_CLOSED ? 0 : -ECONNRESET;
}

size_t dg_tls_pending(struct dg_tls_conn *c)
{
	int n = wolfSSL_pending(c->ssl);

	return n > 0 ? (size_t)n : 0;
}

enum dg_tls_want dg_tls_want(const struct dg_tls_conn *c)
{
	return c->want;
}

enum dg_tls_fail dg_tls_failure(const struct dg_tls_conn *c)
{
	return c->fail;
}

const char *dg_tls_failure_text(const struct dg_tls_conn *c)
{
	return c->text;
}

const char *dg_tls_fail_name(enum dg_tls_fail f)
{
	if ((unsigned int)f >= DG_TLS_F_MAX)
		return "unknown";
	return tls_fail_names[f];
}

bool dg_tls_resumed(const struct dg_tls_conn *c)
{
	/* wolfSSL's getters are not const-correct. */
	return wolfSSL_session_reused((WOLFSSL *)c->ssl) == 1;
}

const char *dg_tls_version(const struct dg_tls_conn *c)
{
	return wolfSSL_get_version(c->ssl);
}

struct dg_tls_session *dg_tls_session_get(struct dg_tls_conn *c)
{
	struct dg_tls_session *s;
	WOLFSSL_SESSION *ws;

	if (!c->open || c->fail)
		return NULL;
	ws = wolfSSL_get1_session(c->ssl);
	if (!ws)
		return NULL;
	/* TLS 1.3: nothing to resume until the ticket arrived. */
	if (!wolfSSL_SESSION_is_resumable(ws)) {
		wolfSSL_SESSION_free(ws);
		return NULL;
	}
	s = malloc(sizeof(*s));
	if (!s) {
		wolfSSL_SESSION_free(ws);
		return NULL;
	}
	s->s = ws;
	return s;
}

void dg_tls_session_free(struct dg_tls_session *s)
{
	if (!s)
		return;
	wolfSSL_SESSION_free(s->s);
	free(s);
}
