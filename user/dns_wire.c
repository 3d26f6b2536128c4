// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * DNS messages on the wire. Everything is read through struct rd, whose
 * every get checks what remains first; counts from the message only drive
 * loops that consume bytes, never size anything. Everything is written
 * through struct wr, whose overflow is sticky and checked once at the end.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dns_wire.h"

#define DG_TYPE_IXFR 251
#define OPT_RR_LEN 11		/* root name, type, class, ttl, rdlen */
#define OPT_DO 0x8000		/* in the OPT TTL's low 16 bits */
#define TTL_CAP 86400		/* a day at most (unbound's cache-max-ttl) */
#define PTR_MASK 0xC0

enum { SEC_AN, SEC_NS, SEC_AR };

/* A bounded reader over msg[0..len). */
struct rd {
	const uint8_t *p;
	size_t len;
	size_t pos;
};

static size_t rd_left(const struct rd *r)
{
	return r->len - r->pos;
}

static bool rd_u16(struct rd *r, uint16_t *v)
{
	if (rd_left(r) < 2)
		return false;
	*v = (uint16_t)(r->p[r->pos] << 8 | r->p[r->pos + 1]);
	r->pos += 2;
	return true;
}

static bool rd_u32(struct rd *r, uint32_t *v)
{
	if (rd_left(r) < 4)
		return false;
	*v = (uint32_t)r->p[r->pos] << 24 | (uint32_t)r->p[r->pos + 1] << 16 |
	     (uint32_t)r->p[r->pos + 2] << 8 | r->p[r->pos + 3];
	r->pos += 4;
	return true;
}

static bool rd_skip(struct rd *r, size_t n)
{
	if (rd_left(r) < n)
		return false;
	r->pos += n;
	return true;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/*
 * Read the name at r->pos and move past it as it sits in place (a pointer
 * ends it). Expanded into out (DG_DNS_NAME_MAX bytes) when out is set.
 * A pointer must point below the start of the run of labels it ends, and
 * the run it lands on must end below that start too: a compressed suffix
 * is a whole name written earlier. So every jump goes strictly backwards
 * (no loops), and a name never depends on bytes after its own RR (which
 * lets dg_dns_answer_for_client drop RRs after the OPT). Never into the
 * header; at most DG_DNS_MAX_PTRS pointers. Label types 01 and 10
 * (RFC 6891 5: deprecated extended labels) are refused.
 */
static bool rd_name(struct rd *r, bool allow_ptr, uint8_t *out,
		    uint8_t *out_len)
{
	size_t pos = r->pos, run = r->pos, limit = r->len, end = 0, total = 0;
	unsigned int ptrs = 0;

	for (;;) {
		size_t c, target;

		if (pos >= limit)
			return false;
		c = r->p[pos];
		if ((c & PTR_MASK) == PTR_MASK) {
			if (!allow_ptr || limit - pos < 2)
				return false;
			target = (c & ~PTR_MASK) << 8 | r->p[pos + 1];
			if (target < DG_DNS_HDR_LEN || target >= run ||
			    ++ptrs > DG_DNS_MAX_PTRS)
				return false;
			if (!end)
				end = pos + 2;
			limit = run;
			pos = run = target;
			continue;
		}
		if (c & PTR_MASK)
			return false;
		if (total + c + 1 > DG_DNS_NAME_MAX || c >= limit - pos)
			return false;
		if (out)
			memcpy(out + total, r->p + pos, c + 1);
		total += c + 1;
		pos += c + 1;
		if (!c)
			break;
	}
	if (out_len)
		*out_len = (uint8_t)total;
	r->pos = end ? end : pos;
	return true;
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Two well-formed uncompressed names of the same length, letters folded
 * inside labels only. */
static bool name_eq_nocase(const uint8_t *a, const uint8_t *b, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t n = a[i], j;

		if (b[i] != n || n > len - i - 1)
			return false;
		for (j = i + 1; j <= i + n; j++)
			if (lower(a[j]) != lower(b[j]))
				return false;
		i += n + 1;
		if (!n)
			return i == len;
	}
	return false;
}

bool dg_dns_question_equal(const struct dg_dns_question *a,
			   const struct dg_dns_question *b)
{
	return a->qtype == b->qtype && a->qclass == b->qclass &&
	       a->name_len == b->name_len && a->name_len &&
	       name_eq_nocase(a->name, b->name, a->name_len);
}

bool dg_dns_question_exact(const struct dg_dns_question *a,
			   const struct dg_dns_question *b)
{
	return a->qtype == b->qtype && a->qclass == b->qclass &&
	       a->name_len == b->name_len && a->name_len &&
	       !memcmp(a->name, b->name, a->name_len);
}

static bool is_letter(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Well formed: labels of at most 63 bytes ending in the root at len. */
static bool name_wire_ok(const uint8_t *name, size_t len)
{
	size_t i = 0;

	while (i < len && len <= DG_DNS_NAME_MAX) {
		if (name[i] > DG_DNS_LABEL_MAX || name[i] > len - i - 1)
			return false;
		if (!name[i])
			return i + 1 == len;
		i += name[i] + 1;
	}
	return false;
}

int dg_dns_name_0x20(uint8_t *name, size_t len, const uint8_t *bits)
{
	size_t i, j;
	int letters = 0;

	if (!name || !bits || !name_wire_ok(name, len))
		return -EINVAL;
	for (i = 0; name[i]; i += name[i] + 1) {
		for (j = i + 1; j <= i + name[i]; j++) {
			if (!is_letter(name[j]))
				continue;
			name[j] = (uint8_t)(bits[j / 8] & (1u << (j % 8)) ?
					    name[j] & ~0x20 : name[j] | 0x20);
			letters++;
		}
	}
	return letters;
}

static bool rd_question(struct rd *r, bool allow_ptr,
			struct dg_dns_question *out)
{
	struct dg_dns_question q;

	if (!rd_name(r, allow_ptr, q.name, &q.name_len) ||
	    !rd_u16(r, &q.qtype) || !rd_u16(r, &q.qclass))
		return false;
	*out = q;
	return true;
}

/*
 * The OPT RR's fields and options. Options of an EDNS version other than
 * 0 are not ours to read (the caller answers BADVERS). In a query, the
 * keepalive option must be empty (RFC 7828 3.2.1); in a response, one of
 * a length other than 0 or 2 is ignored. Unknown options are skipped.
 */
static bool parse_opt(const uint8_t *rdata, size_t rdlen, uint16_t cls,
		      uint32_t ttl, bool query, struct dg_dns_edns *out)
{
	struct dg_dns_edns e = {
		.present = true,
		.udp_size = cls,
		.ext_rcode = ttl >> 24,
		.version = (ttl >> 16) & 0xff,
		.do_bit = !!(ttl & OPT_DO),
	};
	struct rd r = { rdata, rdlen, 0 };
	uint16_t code, olen;

	while (e.version == 0 && rd_left(&r)) {
		if (!rd_u16(&r, &code) || !rd_u16(&r, &olen) ||
		    rd_left(&r) < olen)
			return false;
		if (code == DG_EDNS_KEEPALIVE && query && olen)
			return false;
		if (code == DG_EDNS_KEEPALIVE && (olen == 0 || olen == 2)) {
			e.keepalive = true;
			e.keepalive_timeout = olen ? get16(rdata + r.pos) : 0;
		}
		if (code == DG_EDNS_DG_INFO)
			e.dg_info = true;
		r.pos += olen;
	}
	*out = e;
	return true;
}

/* One RR's fixed part, after its name. */
struct rr {
	size_t start;		/* the owner name */
	size_t ttl_off;
	uint16_t type, cls, rdlen;
	uint32_t ttl;
	size_t rdata;
};

static bool rd_rr(struct rd *r, bool allow_ptr, struct rr *rr)
{
	rr->start = r->pos;
	if (!rd_name(r, allow_ptr, NULL, NULL) || !rd_u16(r, &rr->type) ||
	    !rd_u16(r, &rr->cls))
		return false;
	rr->ttl_off = r->pos;
	if (!rd_u32(r, &rr->ttl) || !rd_u16(r, &rr->rdlen))
		return false;
	rr->rdata = r->pos;
	return rd_skip(r, rr->rdlen);
}

/* The OPT's owner must be the root, one zero byte (RFC 6891 6.1.2). */
static bool opt_name_ok(const struct rd *r, const struct rr *rr)
{
	return rr->ttl_off - 4 - rr->start == 1 && r->p[rr->start] == 0;
}

/* Additional RRs of a query: one OPT at most; anything else (a TSIG we
 * cannot verify) is skipped, since we never forward it. */
static int query_additional(struct rd *r, struct dg_dns_query *q, bool *opt)
{
	struct rr rr;

	if (!rd_rr(r, true, &rr))
		return DG_RCODE_FORMERR;
	if (rr.type != DG_TYPE_OPT)
		return 0;
	if (*opt || !opt_name_ok(r, &rr))
		return DG_RCODE_FORMERR;
	*opt = true;
	if (!parse_opt(r->p + rr.rdata, rr.rdlen, rr.cls, rr.ttl, true,
		       &q->edns))
		return DG_RCODE_FORMERR;
	return 0;
}

/* Everything after the header. */
static int query_body(struct rd *r, struct dg_dns_query *q, uint16_t qd,
		      uint16_t an, uint16_t ns, uint16_t ar)
{
	bool opt = false;
	int rc;

	if (qd != 1 || !rd_question(r, false, &q->q))
		return DG_RCODE_FORMERR;
	if (an || ns || q->q.qtype == DG_TYPE_OPT)
		return DG_RCODE_FORMERR;
	while (ar--) {
		rc = query_additional(r, q, &opt);
		if (rc)
			return rc;
	}
	if (rd_left(r))
		return DG_RCODE_FORMERR;
	return q->edns.present && q->edns.version ? DG_RCODE_BADVERS : 0;
}

int dg_dns_parse_query(const uint8_t *msg, size_t len, struct dg_dns_query *q)
{
	struct rd r = { msg, len, 0 };
	uint16_t qd, an, ns, ar;
	int rc;

	memset(q, 0, sizeof(*q));
	if (!msg || len < DG_DNS_HDR_LEN)
		return -1;
	rd_u16(&r, &q->id);
	rd_u16(&r, &q->flags);
	rd_u16(&r, &qd);
	rd_u16(&r, &an);
	rd_u16(&r, &ns);
	rd_u16(&r, &ar);
	if (q->flags & DG_DNS_QR || len > DG_DNS_MSG_MAX)
		return DG_RCODE_FORMERR;
	/* Parsed even for other opcodes, so NOTIMP can echo the question. */
	rc = query_body(&r, q, qd, an, ns, ar);
	if (q->flags & DG_DNS_OPCODE_MASK)
		return DG_RCODE_NOTIMP;
	if (rc)
		return rc;
	if (q->q.qtype == DG_TYPE_AXFR || q->q.qtype == DG_TYPE_IXFR)
		return DG_RCODE_REFUSED;
	return 0;
}

/* RFC 2181 8: a TTL with the top bit set means zero. */
static uint32_t ttl_clean(uint32_t ttl)
{
	return ttl & 0x80000000u ? 0 : ttl;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* What the RRs tell about the cache lifetime. */
struct ttl_state {
	uint32_t answer_min;
	uint32_t soa_min;
	bool soa;
};

/* A name at rdata offset off that ends inside the rdata; *next: after it. */
static bool rdata_name(const struct rd *r, const struct rr *rr, size_t off,
		       size_t *next)
{
	struct rd s = { r->p, rr->rdata + rr->rdlen, rr->rdata + off };

	if (!rd_name(&s, true, NULL, NULL))
		return false;
	*next = s.pos - rr->rdata;
	return true;
}

/*
 * Check the RDATA of the types whose layout we know and a client will
 * read names from; an SOA in the authority section gives the negative
 * TTL, min(SOA TTL, MINIMUM) (RFC 2308 5).
 */
static bool check_rdata(const struct rd *r, const struct rr *rr, int sec,
			struct ttl_state *ts)
{
	size_t off = 0;

	switch (rr->type) {
	case DG_TYPE_A:
		return rr->cls != DG_CLASS_IN || rr->rdlen == 4;
	case DG_TYPE_AAAA:
		return rr->cls != DG_CLASS_IN || rr->rdlen == 16;
	case DG_TYPE_NS:
	case DG_TYPE_CNAME:
	case DG_TYPE_PTR:
		return rdata_name(r, rr, 0, &off) && off == rr->rdlen;
	case DG_TYPE_MX:
		return rr->rdlen > 2 && rdata_name(r, rr, 2, &off) &&
		       off == rr->rdlen;
	case DG_TYPE_SOA:
		if (!rdata_name(r, rr, 0, &off) ||
		    !rdata_name(r, rr, off, &off) || rr->rdlen - off != 20)
			return false;
		if (sec == SEC_NS) {
			uint32_t min = ttl_clean(get32(r->p + rr->rdata + off +
						       16));

			ts->soa_min = min_u32(ts->soa_min,
					      min_u32(ttl_clean(rr->ttl), min));
			ts->soa = true;
		}
		return true;
	default:
		return true;
	}
}

static int resp_opt(const struct rd *r, const struct rr *rr, int sec,
		    struct dg_dns_resp_info *info)
{
	if (sec != SEC_AR || info->opt_off || !opt_name_ok(r, rr) ||
	    !parse_opt(r->p + rr->rdata, rr->rdlen, rr->cls, rr->ttl, false,
		       &info->edns))
		return -EBADMSG;
	info->opt_off = rr->start;
	info->opt_len = rr->rdata + rr->rdlen - rr->start;
	return 0;
}

static int resp_rr(struct rd *r, int sec, struct dg_dns_resp_info *info,
		   struct ttl_state *ts)
{
	struct rr rr;

	if (!rd_rr(r, true, &rr))
		return -EBADMSG;
	if (rr.type == DG_TYPE_OPT)
		return resp_opt(r, &rr, sec, info);
	if (!check_rdata(r, &rr, sec, ts))
		return -EBADMSG;
	if (sec == SEC_AN)
		ts->answer_min = min_u32(ts->answer_min, ttl_clean(rr.ttl));
	if (info->n_ttls < DG_DNS_MAX_TTLS)
		info->ttl_offs[info->n_ttls++] = (uint16_t)rr.ttl_off;
	else
		info->ttls_complete = false;
	return 0;
}

/*
 * RFC 2308: NXDOMAIN, or NOERROR without answers (NODATA), is negative
 * and lives min(SOA TTL, MINIMUM), not at all without a SOA. A positive
 * answer lives as long as its shortest answer RR; a CNAME chain ending in
 * NODATA/NXDOMAIN carries a SOA too, which then bounds it. Errors and
 * truncated answers are not cached.
 */
static void resp_ttl(struct dg_dns_resp_info *info, const struct ttl_state *ts)
{
	uint32_t ttl = 0;
	bool noerror = info->rcode == DG_RCODE_NOERROR;

	if (info->flags & DG_DNS_TC)
		ttl = 0;
	else if (noerror && info->ancount)
		ttl = ts->soa ? min_u32(ts->answer_min, ts->soa_min) :
				ts->answer_min;
	else if (noerror || info->rcode == DG_RCODE_NXDOMAIN) {
		info->negative = true;
		if (ts->soa)
			ttl = min_u32(ts->answer_min, ts->soa_min);
	}
	info->ttl = min_u32(ttl, TTL_CAP);
}

int dg_dns_parse_response(const uint8_t *msg, size_t len,
			  struct dg_dns_resp_info *info)
{
	struct rd r = { msg, len, 0 };
	struct ttl_state ts = { UINT32_MAX, UINT32_MAX, false };
	uint16_t qd, counts[3];
	int sec, rc;
	unsigned int i;

	memset(info, 0, sizeof(*info));
	info->ttls_complete = true;
	if (!msg || len < DG_DNS_HDR_LEN || len > DG_DNS_MSG_MAX)
		return -EBADMSG;
	rd_u16(&r, &info->id);
	rd_u16(&r, &info->flags);
	rd_u16(&r, &qd);
	for (sec = SEC_AN; sec <= SEC_AR; sec++)
		rd_u16(&r, &counts[sec]);
	info->ancount = counts[SEC_AN];
	info->nscount = counts[SEC_NS];
	info->arcount = counts[SEC_AR];
	/* We ask one question with opcode QUERY; anything else is not ours. */
	if (!(info->flags & DG_DNS_QR) || info->flags & DG_DNS_OPCODE_MASK ||
	    qd != 1 || !rd_question(&r, true, &info->q))
		return -EBADMSG;
	for (sec = SEC_AN; sec <= SEC_AR; sec++) {
		for (i = 0; i < counts[sec]; i++) {
			rc = resp_rr(&r, sec, info, &ts);
			if (rc)
				return rc;
		}
	}
	if (rd_left(&r))
		return -EBADMSG;
	info->rcode = info->edns.ext_rcode << 4 |
		      (info->flags & DG_DNS_RCODE_MASK);
	resp_ttl(info, &ts);
	return 0;
}

int dg_dns_name_at(const uint8_t *msg, size_t len, size_t off, uint8_t *out,
		   uint8_t *out_len)
{
	struct rd r = { msg, len, off };

	return off < len && rd_name(&r, true, out, out_len) ? 0 : -EBADMSG;
}

int dg_dns_rr_walk(const uint8_t *msg, size_t len,
		   int (*fn)(void *arg, const struct dg_dns_rr *rr), void *arg)
{
	struct rd r = { msg, len, 0 };
	struct dg_dns_question q;
	struct dg_dns_rr out;
	uint16_t hdr[6];
	struct rr rr;
	unsigned int i;
	int sec, rc;

	for (i = 0; i < 6; i++)
		if (!rd_u16(&r, &hdr[i]))
			return -EBADMSG;
	for (i = 0; i < hdr[2]; i++)
		if (!rd_question(&r, true, &q))
			return -EBADMSG;
	for (sec = SEC_AN; sec <= SEC_AR; sec++) {
		for (i = 0; i < hdr[3 + sec]; i++) {
			out.section = sec;
			if (!rd_name(&(struct rd){ msg, len, r.pos }, true, out.name,
				     &out.name_len) || !rd_rr(&r, true, &rr))
				return -EBADMSG;
			out.type = rr.type;
			out.cls = rr.cls;
			out.ttl = rr.ttl;
			out.rdata_off = rr.rdata;
			out.rdlen = rr.rdlen;
			rc = fn(arg, &out);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* A writer whose overflow is sticky: check w.err once at the end. */
struct wr {
	uint8_t *p;
	size_t cap;
	size_t pos;
	bool err;
};

static void wr_bytes(struct wr *w, const void *src, size_t n)
{
	if (w->err || w->cap - w->pos < n) {
		w->err = true;
		return;
	}
	if (src)
		memcpy(w->p + w->pos, src, n);
	else
		memset(w->p + w->pos, 0, n);
	w->pos += n;
}

static void wr_u8(struct wr *w, uint8_t v)
{
	wr_bytes(w, &v, 1);
}

static void wr_u16(struct wr *w, uint16_t v)
{
	uint8_t b[2];

	put16(b, v);
	wr_bytes(w, b, 2);
}

static void wr_u32(struct wr *w, uint32_t v)
{
	uint8_t b[4];

	put32(b, v);
	wr_bytes(w, b, 4);
}

static int wr_done(const struct wr *w)
{
	return w->err ? -ENOSPC : (int)w->pos;
}

static void wr_header(struct wr *w, uint16_t id, uint16_t flags, uint16_t qd,
		      uint16_t an, uint16_t ar)
{
	wr_u16(w, id);
	wr_u16(w, flags);
	wr_u16(w, qd);
	wr_u16(w, an);
	wr_u16(w, 0);
	wr_u16(w, ar);
}

static void wr_question(struct wr *w, const struct dg_dns_question *q)
{
	wr_bytes(w, q->name, q->name_len);
	wr_u16(w, q->qtype);
	wr_u16(w, q->qclass);
}

static size_t info_len(const struct dg_dns_query *q, const char *info)
{
	return q->edns.dg_info && info ? strnlen(info, DG_DNS_INFO_MAX) : 0;
}

/* Our OPT in an answer to q: its size, or 0 when q had no EDNS. */
static size_t our_opt_len(const struct dg_dns_query *q, const char *info)
{
	if (!q->edns.present)
		return 0;
	return OPT_RR_LEN + (q->edns.dg_info && info ? 4 + info_len(q, info) :
			     0);
}

/* Our OPT in an answer: DO mirrors the query (RFC 3225 3). */
static void wr_answer_opt(struct wr *w, const struct dg_dns_query *q,
			  int rcode, const char *info)
{
	bool with_info = q->edns.dg_info && info;
	size_t ilen = info_len(q, info);

	if (!q->edns.present)
		return;
	wr_u8(w, 0);
	wr_u16(w, DG_TYPE_OPT);
	wr_u16(w, DG_DNS_EDNS_SIZE);
	wr_u32(w, (uint32_t)((rcode >> 4) & 0xff) << 24 |
		  (q->edns.do_bit ? OPT_DO : 0));
	wr_u16(w, with_info ? 4 + ilen : 0);
	if (!with_info)
		return;
	wr_u16(w, DG_EDNS_DG_INFO);
	wr_u16(w, (uint16_t)ilen);
	wr_bytes(w, info, ilen);
}

/* The header's 4 RCODE bits; an extended RCODE needs EDNS to be said. */
static uint16_t hdr_rcode(const struct dg_dns_query *q, int rcode)
{
	if (rcode > 15 && !q->edns.present)
		return DG_RCODE_SERVFAIL;
	return rcode & DG_DNS_RCODE_MASK;
}

/* Flags of any answer to q: QR, RA, and what RFC 1035/4035 copy. */
static uint16_t answer_flags(const struct dg_dns_query *q, int rcode)
{
	return DG_DNS_QR | DG_DNS_RA | hdr_rcode(q, rcode) |
	       (q->flags & (DG_DNS_OPCODE_MASK | DG_DNS_RD | DG_DNS_CD));
}

int dg_dns_build_query(uint8_t *out, size_t cap, uint16_t id,
		       const struct dg_dns_query *q, unsigned int opt_flags,
		       unsigned int pad_block)
{
	struct wr w = { out, cap, 0, false };
	bool keepalive = opt_flags & DG_QUERY_KEEPALIVE;
	bool info = opt_flags & DG_QUERY_INFO;
	size_t opts = (keepalive ? 4 : 0) + (info ? 4 : 0), pad = 0, base;

	if (pad_block) {
		/* RFC 8467 4.1: the whole message, option header included,
		 * becomes a multiple of the block. */
		base = DG_DNS_HDR_LEN + q->q.name_len + 4 + OPT_RR_LEN +
		       opts + 4;
		pad = (pad_block - base % pad_block) % pad_block;
		opts += 4 + pad;
	}
	if (!q->q.name_len)
		return -EINVAL;
	if (opts > UINT16_MAX)
		return -ENOSPC;
	wr_header(&w, id, q->flags & (DG_DNS_RD | DG_DNS_CD), 1, 0, 1);
	wr_question(&w, &q->q);
	wr_u8(&w, 0);
	wr_u16(&w, DG_TYPE_OPT);
	wr_u16(&w, DG_DNS_EDNS_SIZE);
	wr_u32(&w, q->edns.present && q->edns.do_bit ? OPT_DO : 0);
	wr_u16(&w, (uint16_t)opts);
	if (keepalive) {
		wr_u16(&w, DG_EDNS_KEEPALIVE);
		wr_u16(&w, 0);
	}
	if (info) {
		wr_u16(&w, DG_EDNS_DG_INFO);
		wr_u16(&w, 0);
	}
	if (pad_block) {
		wr_u16(&w, DG_EDNS_PADDING);
		wr_u16(&w, (uint16_t)pad);
		wr_bytes(&w, NULL, pad);
	}
	return wr_done(&w);
}

/* Additional RRs after the upstream's OPT, from off to len. */
static int count_rrs(const uint8_t *resp, size_t off, size_t len)
{
	struct rd r = { resp, len, off };
	struct rr rr;
	int n = 0;

	while (rd_left(&r)) {
		if (!rd_rr(&r, true, &rr))
			return -1;
		n++;
	}
	return n;
}

/* Header, question and OPT only, TC set: the client retries over TCP. */
static int answer_truncated(struct wr *w, const struct dg_dns_resp_info *ri,
			    const struct dg_dns_query *q, const char *info)
{
	uint16_t flags = (ri->flags & ~(DG_DNS_RCODE_MASK | DG_DNS_RD |
					DG_DNS_CD)) |
			 (q->flags & (DG_DNS_RD | DG_DNS_CD)) |
			 hdr_rcode(q, ri->rcode) | DG_DNS_TC;

	wr_header(w, q->id, flags, 1, 0, q->edns.present ? 1 : 0);
	wr_question(w, &q->q);
	wr_answer_opt(w, q, ri->rcode, info);
	return wr_done(w);
}

/* Every tracked TTL in out[0..end) lowered by age, not below 0. */
static void age_ttls(uint8_t *out, size_t end, const uint8_t *resp,
		     const struct dg_dns_resp_info *ri, uint32_t age)
{
	unsigned int i;

	for (i = 0; i < ri->n_ttls && i < DG_DNS_MAX_TTLS; i++) {
		size_t off = ri->ttl_offs[i];
		uint32_t ttl;

		if (off + 4 > end)
			continue;
		ttl = ttl_clean(get32(resp + off));
		put32(out + off, ttl > age ? ttl - age : 0);
	}
}

/*
 * The upstream's OPT is dropped together with any additional RRs after
 * it: those may hold compression pointers into or past the OPT, which
 * moving them would break. RRs before it are copied as they are (their
 * pointers only point backwards), so offsets there never shift.
 */
int dg_dns_answer_for_client(uint8_t *out, size_t cap, const uint8_t *resp,
			     size_t len, const struct dg_dns_resp_info *ri,
			     const struct dg_dns_query *q, uint32_t age,
			     size_t limit, const char *info)
{
	struct wr w = { out, cap, 0, false };
	size_t end = ri->opt_off ? ri->opt_off : len;
	size_t qend = DG_DNS_HDR_LEN + (size_t)ri->q.name_len + 4;
	uint16_t flags, ar = ri->arcount;
	int after;

	if (!dg_dns_question_equal(&ri->q, &q->q) || end > len || end < qend ||
	    (ri->opt_off && ri->opt_len > len - ri->opt_off))
		return -EINVAL;
	if (ri->opt_off) {
		after = count_rrs(resp, ri->opt_off + ri->opt_len, len);
		if (after < 0 || after + 1 > ar)
			return -EINVAL;
		ar -= after + 1;
	}
	if (end + our_opt_len(q, info) > limit)
		return answer_truncated(&w, ri, q, info);
	wr_bytes(&w, resp, end);
	if (w.err)
		return -ENOSPC;
	flags = (get16(out + 2) & ~(DG_DNS_RCODE_MASK | DG_DNS_RD |
				    DG_DNS_CD)) |
		(q->flags & (DG_DNS_RD | DG_DNS_CD)) | hdr_rcode(q, ri->rcode);
	put16(out, q->id);
	put16(out + 2, flags);
	put16(out + 10, ar + (q->edns.present ? 1 : 0));
	memcpy(out + DG_DNS_HDR_LEN, q->q.name, q->q.name_len);
	age_ttls(out, end, resp, ri, age);
	wr_answer_opt(&w, q, ri->rcode, info);
	return wr_done(&w);
}

int dg_dns_build_error(uint8_t *out, size_t cap, const struct dg_dns_query *q,
		       bool question_ok, int rcode, const char *info)
{
	struct wr w = { out, cap, 0, false };
	bool qd = question_ok && q->q.name_len;

	wr_header(&w, q->id, answer_flags(q, rcode), qd, 0,
		  q->edns.present ? 1 : 0);
	if (qd)
		wr_question(&w, &q->q);
	wr_answer_opt(&w, q, rcode, info);
	return wr_done(&w);
}

int dg_dns_build_local(uint8_t *out, size_t cap, const struct dg_dns_query *q,
		       const uint8_t *addrs, int n, uint32_t ttl,
		       const char *info, size_t limit)
{
	struct wr w = { out, cap, 0, false };
	uint16_t rdlen = q->q.qtype == DG_TYPE_A ? 4 : 16, flags;
	size_t whole;
	int i;

	if (n < 0 || n > UINT16_MAX || !q->q.name_len ||
	    (n && q->q.qtype != DG_TYPE_A && q->q.qtype != DG_TYPE_AAAA))
		return -EINVAL;
	/* Each record: a compression pointer, type, class, TTL, rdlength. */
	whole = DG_DNS_HDR_LEN + q->q.name_len + 4 + (size_t)n * (12 + rdlen) +
		our_opt_len(q, info);
	flags = answer_flags(q, 0) | DG_DNS_AA;
	if (whole > limit) {
		flags |= DG_DNS_TC;
		n = 0;
	}
	wr_header(&w, q->id, flags, 1, (uint16_t)n, q->edns.present ? 1 : 0);
	wr_question(&w, &q->q);
	for (i = 0; i < n; i++) {
		wr_u16(&w, PTR_MASK << 8 | DG_DNS_HDR_LEN);
		wr_u16(&w, q->q.qtype);
		wr_u16(&w, q->q.qclass);
		wr_u32(&w, ttl);
		wr_u16(&w, rdlen);
		wr_bytes(&w, addrs + (size_t)i * rdlen, rdlen);
	}
	wr_answer_opt(&w, q, 0, info);
	return wr_done(&w);
}

size_t dg_dns_udp_limit(const struct dg_dns_query *q)
{
	size_t s = q->edns.udp_size;

	if (!q->edns.present || s < DG_DNS_UDP_PLAIN)
		return DG_DNS_UDP_PLAIN;
	return s > DG_DNS_EDNS_SIZE ? DG_DNS_EDNS_SIZE : s;
}

/* One character of a label in text: "\." "\\" "\DDD" or itself. */
static int text_char(const char **s)
{
	const char *p = *s;
	int v;

	if (*p != '\\') {
		*s = p + 1;
		return (unsigned char)*p;
	}
	p++;
	if (p[0] >= '0' && p[0] <= '9') {
		if (p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9')
			return -1;
		v = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
		*s = p + 3;
		return v > 255 ? -1 : v;
	}
	if (!*p)
		return -1;
	*s = p + 1;
	return (unsigned char)*p;
}

/*
 * "www.example.com" or "www.example.com." (or "." for the root) in wire
 * form. Escapes as in master files: "\." and "\\" (any "\X"), "\DDD".
 * Empty labels, labels over 63 and names over 255 bytes are -EINVAL.
 */
int dg_dns_name_from_text(const char *text, uint8_t *wire, size_t cap)
{
	uint8_t buf[DG_DNS_NAME_MAX];
	size_t n = 0, lab = 0;
	const char *s = text;
	int c;

	if (!text || !*text)
		return -EINVAL;
	if (!strcmp(text, "."))
		s = "";
	while (*s) {
		lab = n++;
		while (*s && *s != '.') {
			c = text_char(&s);
			if (c < 0 || n - lab > DG_DNS_LABEL_MAX ||
			    n >= DG_DNS_NAME_MAX - 1)
				return -EINVAL;
			buf[n++] = (uint8_t)c;
		}
		if (n - lab == 1)
			return -EINVAL;
		buf[lab] = (uint8_t)(n - lab - 1);
		if (*s == '.')
			s++;
	}
	buf[n++] = 0;
	if (n > cap)
		return -EINVAL;
	memcpy(wire, buf, n);
	return (int)n;
}

static bool text_put(char *out, size_t cap, size_t *o, const char *s,
		     size_t n)
{
	if (cap - *o <= n)
		return false;
	memcpy(out + *o, s, n);
	*o += n;
	return true;
}

/* The text of one label byte: itself, "\." "\\", or "\DDD". */
static bool text_label_byte(char *out, size_t cap, size_t *o, uint8_t c)
{
	char esc[5];

	if (c == '.' || c == '\\') {
		esc[0] = '\\';
		esc[1] = (char)c;
		return text_put(out, cap, o, esc, 2);
	}
	if (c <= 0x20 || c >= 0x7f) {
		snprintf(esc, sizeof(esc), "\\%03u", c);
		return text_put(out, cap, o, esc, 4);
	}
	esc[0] = (char)c;
	return text_put(out, cap, o, esc, 1);
}

int dg_dns_name_to_text(const uint8_t *wire, size_t len, char *out, size_t cap)
{
	size_t pos = 0, o = 0, i;

	if (!wire || !out || !cap)
		return -EINVAL;
	for (;;) {
		size_t c;

		if (pos >= len || pos >= DG_DNS_NAME_MAX)
			return -EINVAL;
		c = wire[pos];
		if (c & PTR_MASK || c >= len - pos)
			return -EINVAL;
		if (!c)
			break;
		if (pos + c + 1 >= DG_DNS_NAME_MAX)	/* and the root */
			return -EINVAL;
		for (i = pos + 1; i <= pos + c; i++)
			if (!text_label_byte(out, cap, &o, wire[i]))
				return -EINVAL;
		if (!text_put(out, cap, &o, ".", 1))
			return -EINVAL;
		pos += c + 1;
	}
	if (!o && !text_put(out, cap, &o, ".", 1))
		return -EINVAL;
	out[o] = '\0';
	return (int)o;
}

static const struct {
	uint16_t type;
	const char *name;
} type_names[] = {
	{ DG_TYPE_A, "A" }, { DG_TYPE_NS, "NS" }, { DG_TYPE_CNAME, "CNAME" },
	{ DG_TYPE_SOA, "SOA" }, { DG_TYPE_PTR, "PTR" }, { 13, "HINFO" },
	{ DG_TYPE_MX, "MX" }, { DG_TYPE_TXT, "TXT" },
	{ DG_TYPE_AAAA, "AAAA" }, { DG_TYPE_SRV, "SRV" }, { 35, "NAPTR" },
	{ 39, "DNAME" }, { DG_TYPE_OPT, "OPT" }, { 43, "DS" }, { 44, "SSHFP" },
	{ 46, "RRSIG" }, { 47, "NSEC" }, { 48, "DNSKEY" }, { 50, "NSEC3" },
	{ 51, "NSEC3PARAM" }, { 52, "TLSA" }, { 64, "SVCB" }, { 65, "HTTPS" },
	{ DG_TYPE_IXFR, "IXFR" }, { DG_TYPE_AXFR, "AXFR" },
	{ DG_TYPE_ANY, "ANY" }, { 257, "CAA" },
};

#define N_TYPES (sizeof(type_names) / sizeof(type_names[0]))

/* "A", "aaaa", "TYPE65" (RFC 3597 5) or "65". */
int dg_dns_type_from_text(const char *text)
{
	unsigned long v = 0;
	const char *p;
	size_t i;

	if (!text)
		return -EINVAL;
	for (i = 0; i < N_TYPES; i++)
		if (!strcasecmp(text, type_names[i].name))
			return type_names[i].type;
	p = strncasecmp(text, "TYPE", 4) ? text : text + 4;
	if (!*p || strlen(p) > 5)
		return -EINVAL;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	return v > UINT16_MAX ? -EINVAL : (int)v;
}

const char *dg_dns_type_name(int type, char *buf, size_t size)
{
	size_t i;

	for (i = 0; i < N_TYPES; i++)
		if (type_names[i].type == type)
			return type_names[i].name;
	if (!buf || !size)
		return "TYPE?";
	snprintf(buf, size, "TYPE%d", type);
	return buf;
}

const char *dg_dns_rcode_name(int rcode)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
		"REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH",
		"NOTZONE",
	};

	if (rcode >= 0 && rcode < (int)(sizeof(names) / sizeof(names[0])))
		return names[rcode];
	if (rcode == DG_RCODE_BADVERS)
		return "BADVERS";
	if (rcode == 23)
		return "BADCOOKIE";
	return "UNKNOWN";
}
