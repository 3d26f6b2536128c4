/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * DNS messages on the wire (RFC 1035, EDNS(0) RFC 6891): a bounded reader
 * whose every read checks what remains, and the few writers the daemon
 * needs. Nothing here trusts a count or a length from the message to size
 * anything. Parsers of client queries return the RCODE to answer with, so
 * a bad query always gets an answer.
 */
#ifndef DG_DNS_WIRE_H
#define DG_DNS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DG_DNS_HDR_LEN 12
#define DG_DNS_NAME_MAX 255	/* wire form, root label included */
#define DG_DNS_LABEL_MAX 63
#define DG_DNS_MAX_PTRS 16	/* compression pointers followed per name */
#define DG_DNS_MSG_MAX 65535
#define DG_DNS_UDP_PLAIN 512	/* without EDNS (RFC 1035) */
#define DG_DNS_EDNS_SIZE 1232	/* what we advertise and accept (DNS flag day 2020) */
#define DG_DNS_MAX_TTLS 64	/* RR TTLs tracked per cached message */
#define DG_DNS_PAD_BLOCK 128	/* query padding block, RFC 8467 */

/* Header flag bits (host order of the 16-bit flags word). */
#define DG_DNS_QR 0x8000
#define DG_DNS_OPCODE_MASK 0x7800
#define DG_DNS_AA 0x0400
#define DG_DNS_TC 0x0200
#define DG_DNS_RD 0x0100
#define DG_DNS_RA 0x0080
#define DG_DNS_AD 0x0020
#define DG_DNS_CD 0x0010
#define DG_DNS_RCODE_MASK 0x000F

enum dg_dns_rcode {
	DG_RCODE_NOERROR = 0,
	DG_RCODE_FORMERR = 1,
	DG_RCODE_SERVFAIL = 2,
	DG_RCODE_NXDOMAIN = 3,
	DG_RCODE_NOTIMP = 4,
	DG_RCODE_REFUSED = 5,
	DG_RCODE_BADVERS = 16,	/* extended, via OPT */
};

enum dg_dns_type {
	DG_TYPE_A = 1,
	DG_TYPE_NS = 2,
	DG_TYPE_CNAME = 5,
	DG_TYPE_SOA = 6,
	DG_TYPE_PTR = 12,
	DG_TYPE_MX = 15,
	DG_TYPE_TXT = 16,
	DG_TYPE_AAAA = 28,
	DG_TYPE_SRV = 33,
	DG_TYPE_OPT = 41,
	DG_TYPE_AXFR = 252,
	DG_TYPE_ANY = 255,
};

#define DG_CLASS_IN 1

/* EDNS option codes. */
#define DG_EDNS_KEEPALIVE 11	/* RFC 7828 */
#define DG_EDNS_PADDING 12	/* RFC 7830 */
/* Private use (RFC 6891 section 9): `dotguard query` asks the stub how it
 * answered; the answer carries the same option with text
 * "upstream=IP#name rtt_us=N cache=hit|miss". Never sent upstream. */
#define DG_EDNS_DG_INFO 65301
#define DG_DNS_INFO_MAX 200

struct dg_dns_question {
	uint8_t name[DG_DNS_NAME_MAX];	/* wire form, case as received */
	uint8_t name_len;		/* bytes in name, root label included */
	uint16_t qtype;
	uint16_t qclass;
};

struct dg_dns_edns {
	bool present;
	uint16_t udp_size;		/* as advertised (not clamped) */
	uint8_t ext_rcode;		/* upper 8 bits of the 12-bit RCODE */
	uint8_t version;
	bool do_bit;
	bool keepalive;			/* edns-tcp-keepalive present */
	uint16_t keepalive_timeout;	/* 100 ms units; 0 when absent/empty */
	bool dg_info;			/* DG_EDNS_DG_INFO present */
};

/* A client's query, parsed. */
struct dg_dns_query {
	uint16_t id;
	uint16_t flags;
	struct dg_dns_question q;
	struct dg_dns_edns edns;
};

/*
 * Parse a client query. Returns 0, or the RCODE to answer with:
 * FORMERR (malformed, QR set, qdcount != 1, bad name, bad or repeated OPT,
 * trailing garbage), NOTIMP (opcode not QUERY), BADVERS (EDNS version
 * != 0, answered with an OPT), REFUSED (AXFR/IXFR). Returns -1 only when
 * there is not even a header to answer (len < 12). q->id and q->flags are
 * set whenever there is a header; q->q is set once the question parsed.
 * Compression pointers are refused in the question.
 */
int dg_dns_parse_query(const uint8_t *msg, size_t len, struct dg_dns_query *q);

/* What the daemon needs to know about an upstream's response. */
struct dg_dns_resp_info {
	uint16_t id;
	uint16_t flags;
	int rcode;			/* 12-bit, extended RCODE included */
	struct dg_dns_question q;
	uint16_t ancount, nscount, arcount;
	uint32_t ttl;			/* cacheable lifetime (s); 0: do not cache */
	bool negative;			/* NXDOMAIN or NODATA (RFC 2308) */
	struct dg_dns_edns edns;
	size_t opt_off;			/* OPT RR start, 0 when none */
	size_t opt_len;
	uint16_t ttl_offs[DG_DNS_MAX_TTLS]; /* offsets of RR TTL fields */
	uint8_t n_ttls;
	bool ttls_complete;		/* false: more RRs than DG_DNS_MAX_TTLS */
};

/*
 * Parse and validate a whole response: header, question, then every RR of
 * every section must lie inside len, names bounded (255, labels 63),
 * compression pointers strictly backwards and at most DG_DNS_MAX_PTRS per
 * name, at most one OPT (in the additional section), RDATA lengths inside
 * the message. Cache TTL: positive = min TTL of the answer RRs; negative =
 * min(SOA TTL, SOA MINIMUM) from the authority section, 0 without a SOA;
 * SERVFAIL and other errors: 0. Returns 0 or -EBADMSG.
 */
int dg_dns_parse_response(const uint8_t *msg, size_t len,
			  struct dg_dns_resp_info *info);

/* Same question? Name compared case-insensitively, type and class exact. */
bool dg_dns_question_equal(const struct dg_dns_question *a,
			   const struct dg_dns_question *b);

/* Same question, byte for byte: the name's letter case too (0x20). */
bool dg_dns_question_exact(const struct dg_dns_question *a,
			   const struct dg_dns_question *b);

/* Random bytes dg_dns_name_0x20 reads: one bit per name byte. */
#define DG_DNS_0X20_BYTES ((DG_DNS_NAME_MAX + 7) / 8)

/*
 * draft-vixie-dnsext-dns0x20: set the case of each ASCII letter of the
 * uncompressed wire name (len bytes) from bits (DG_DNS_0X20_BYTES random
 * bytes; bit i % 8 of bits[i / 8] for name byte i: 1 upper, 0 lower).
 * Length bytes and every other byte stay as they are. An upstream that
 * echoes the question as asked answers with this spelling; a blind
 * spoofer must guess one bit per letter. Returns the number of letters
 * (bits of entropy added), or -EINVAL, the name untouched, when it is not
 * a well-formed uncompressed name of exactly len bytes.
 */
int dg_dns_name_0x20(uint8_t *name, size_t len, const uint8_t *bits);

/* DNS over a stream (TCP, TLS: RFC 1035 4.2.2, RFC 7858): each message
 * follows its length in two bytes, network order. */
#define DG_DNS_TCP_PREFIX 2

/* The length prefix of a len-byte message, into b[0..1]. */
static inline void dg_dns_tcp_prefix(uint8_t *b, size_t len)
{
	b[0] = (uint8_t)(len >> 8);
	b[1] = (uint8_t)len;
}

/* What the stream bytes at b (have of them) hold: 0 while not even the
 * prefix is there; else the whole frame's size, prefix included (more
 * than have while the message is still arriving). */
static inline size_t dg_dns_tcp_frame(const uint8_t *b, size_t have)
{
	if (have < DG_DNS_TCP_PREFIX)
		return 0;
	return DG_DNS_TCP_PREFIX + ((size_t)b[0] << 8 | b[1]);
}

/* Options dg_dns_build_query adds to its OPT. */
#define DG_QUERY_KEEPALIVE 1u	/* empty edns-tcp-keepalive (RFC 7828) */
#define DG_QUERY_INFO 2u	/* empty dotguard info option: `dotguard
				 * query` asks the daemon to say where the
				 * answer came from */

/*
 * The query we send for q (upstream, or to the stub): header with our id,
 * RD and CD as the client set them, the question as the client wrote it,
 * and an OPT with our UDP size, the client's DO bit, the options in opts
 * (DG_QUERY_*), and padding to a multiple of pad_block (RFC 8467; 0 =
 * none). Returns the length or -ENOSPC.
 */
int dg_dns_build_query(uint8_t *out, size_t cap, uint16_t id,
		       const struct dg_dns_query *q, unsigned int opts,
		       unsigned int pad_block);

/*
 * Turn a validated upstream response (or a cached copy) into the answer
 * for client query q: q's id; the question name in q's spelling (0x20);
 * the OPT replaced by ours (UDP size DG_DNS_EDNS_SIZE, DO and extended
 * RCODE kept, no padding or keepalive; plus info text as DG_EDNS_DG_INFO
 * when q asked for it and info is not NULL) or removed when q had no
 * EDNS; every tracked TTL lowered by age (not below 0). If the result is
 * longer than limit, answer with TC set and the question (and OPT) only.
 * Returns the length or -ENOSPC.
 */
int dg_dns_answer_for_client(uint8_t *out, size_t cap, const uint8_t *resp,
			     size_t len, const struct dg_dns_resp_info *ri,
			     const struct dg_dns_query *q, uint32_t age,
			     size_t limit, const char *info);

/*
 * An error answer (rcode: SERVFAIL, FORMERR, NOTIMP, REFUSED, BADVERS)
 * to q: header with q's id, RD copied, QR and RA set; the question when it
 * parsed; an OPT when the client sent one (BADVERS lives there). Returns
 * the length or -ENOSPC.
 */
int dg_dns_build_error(uint8_t *out, size_t cap, const struct dg_dns_query *q,
		       bool question_ok, int rcode, const char *info);

/*
 * A local answer (ReadEtcHosts=): q's question with n address records of
 * q's type (4-byte A or 16-byte AAAA rdata at addrs, back to back), TTL
 * ttl, AA set. n == 0 gives NOERROR/NODATA. An answer longer than limit
 * (the transport's: 512 over UDP without EDNS) is sent as question and
 * OPT with TC set, so the client asks again over TCP, as for any other
 * answer. Returns length or -ENOSPC.
 */
int dg_dns_build_local(uint8_t *out, size_t cap, const struct dg_dns_query *q,
		       const uint8_t *addrs, int n, uint32_t ttl,
		       const char *info, size_t limit);

/* The UDP answer size limit for q: 512 without EDNS, else the client's
 * size clamped to [512, DG_DNS_EDNS_SIZE]. */
size_t dg_dns_udp_limit(const struct dg_dns_query *q);

/* One resource record as dg_dns_rr_walk sees it. */
struct dg_dns_rr {
	int section;			/* 0 answer, 1 authority, 2 additional */
	uint8_t name[DG_DNS_NAME_MAX];	/* owner, uncompressed wire form */
	uint8_t name_len;
	uint16_t type, cls;
	uint32_t ttl;
	size_t rdata_off;		/* into the message */
	uint16_t rdlen;
};

/* Call fn for every RR of every section, OPT included, in order; stops
 * at fn's first non-zero return and returns it. -EBADMSG when the message
 * does not parse (bounded as dg_dns_parse_response). For display. */
int dg_dns_rr_walk(const uint8_t *msg, size_t len,
		   int (*fn)(void *arg, const struct dg_dns_rr *rr), void *arg);

/* The (possibly compressed) name at msg[off], uncompressed into out.
 * Returns 0 or -EBADMSG. */
int dg_dns_name_at(const uint8_t *msg, size_t len, size_t off, uint8_t *out,
		   uint8_t *out_len);

/* "www.example.com" -> wire form. Returns the length or -EINVAL. */
int dg_dns_name_from_text(const char *text, uint8_t *wire, size_t cap);
/* Wire name (uncompressed) -> "www.example.com." Returns length or -EINVAL. */
int dg_dns_name_to_text(const uint8_t *wire, size_t len, char *out, size_t cap);

/* A, AAAA, ... -> number; numbers too ("TYPE65"). Returns -EINVAL when unknown. */
int dg_dns_type_from_text(const char *text);
const char *dg_dns_type_name(int type, char *buf, size_t size);
const char *dg_dns_rcode_name(int rcode);

#endif /* DG_DNS_WIRE_H */
