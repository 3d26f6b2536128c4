// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for user/dns_wire.c: any bytes, as a client query and
 * as an upstream response. No crash, no read past the input, and what we
 * build from whatever parsed parses again: the error answer to a query,
 * the query we would send upstream, the answer a client would get from a
 * response (any spelling, EDNS or not, any age and size limit), and the
 * question name through text and back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns_wire.h"

#define CHECK(cond)			\
	do {				\
		if (!(cond))		\
			abort();	\
	} while (0)

static uint8_t out[DG_DNS_MSG_MAX + 1024];

static void check_query(const uint8_t *data, size_t size)
{
	struct dg_dns_query q, back;
	struct dg_dns_resp_info ri;
	int rc, len;

	rc = dg_dns_parse_query(data, size, &q);
	if (rc < 0) {
		CHECK(rc == -1 && size < DG_DNS_HDR_LEN);
		return;
	}
	CHECK(rc == 0 || rc == DG_RCODE_FORMERR || rc == DG_RCODE_NOTIMP ||
	      rc == DG_RCODE_REFUSED || rc == DG_RCODE_BADVERS);
	CHECK(q.q.name_len <= DG_DNS_NAME_MAX);
	CHECK(rc != DG_RCODE_BADVERS || q.edns.present);

	len = dg_dns_build_error(out, sizeof(out), &q, true,
				 rc ? rc : DG_RCODE_SERVFAIL, "fuzz");
	CHECK(len >= DG_DNS_HDR_LEN);
	/* Answers to other opcodes are not responses we would accept. */
	if (q.q.name_len && !(q.flags & DG_DNS_OPCODE_MASK)) {
		CHECK(dg_dns_parse_response(out, (size_t)len, &ri) == 0);
		CHECK(dg_dns_question_equal(&ri.q, &q.q));
		CHECK(ri.id == q.id);
	}
	if (rc)
		return;
	len = dg_dns_build_query(out, sizeof(out), 0x5555, &q, size & 1,
				 DG_DNS_PAD_BLOCK);
	CHECK(len > 0 && len % DG_DNS_PAD_BLOCK == 0);
	CHECK(dg_dns_parse_query(out, (size_t)len, &back) == 0);
	CHECK(dg_dns_question_equal(&back.q, &q.q));
	CHECK(!memcmp(back.q.name, q.q.name, q.q.name_len));
	CHECK(back.edns.do_bit == (q.edns.present && q.edns.do_bit));
}

static void check_info(const uint8_t *msg, size_t len,
		       const struct dg_dns_resp_info *ri)
{
	unsigned int i;

	CHECK(ri->n_ttls <= DG_DNS_MAX_TTLS);
	CHECK(ri->q.name_len >= 1);
	for (i = 0; i < ri->n_ttls; i++) {
		CHECK(ri->ttl_offs[i] + 4u <= len);
		CHECK(!ri->opt_off || ri->ttl_offs[i] < ri->opt_off ||
		      ri->ttl_offs[i] >= ri->opt_off + ri->opt_len);
	}
	if (ri->opt_off) {
		CHECK(ri->opt_off >= DG_DNS_HDR_LEN + ri->q.name_len + 4u);
		CHECK(ri->opt_len >= 11 && ri->opt_off + ri->opt_len <= len);
		CHECK(msg[ri->opt_off] == 0 && ri->edns.present);
	}
	CHECK(ri->ttl <= 86400);
	CHECK(!ri->negative || ri->rcode == DG_RCODE_NOERROR ||
	      ri->rcode == DG_RCODE_NXDOMAIN);
}

/* The question's name through text and back gives the same bytes. */
static void check_name_text(const struct dg_dns_question *q)
{
	uint8_t wire[DG_DNS_NAME_MAX];
	char text[DG_DNS_NAME_MAX * 4 + 1];
	int n;

	n = dg_dns_name_to_text(q->name, q->name_len, text, sizeof(text));
	CHECK(n > 0 && (size_t)n == strlen(text));
	CHECK(dg_dns_name_from_text(text, wire, sizeof(wire)) == q->name_len);
	CHECK(!memcmp(wire, q->name, q->name_len));
}

/* A client asking the response's question, shaped by a few input bytes:
 * flipped case, EDNS, DO, the info option. */
static void client_for(const struct dg_dns_resp_info *ri, uint8_t shape,
		       struct dg_dns_query *q)
{
	unsigned int i;

	memset(q, 0, sizeof(*q));
	q->id = 0xa5a5;
	q->flags = shape & 1 ? DG_DNS_RD : DG_DNS_CD;
	q->q = ri->q;
	for (i = 0; i < q->q.name_len; i++)
		if (shape & 2 && q->q.name[i] >= 'a' && q->q.name[i] <= 'z')
			q->q.name[i] -= 'a' - 'A';
	q->edns.present = shape & 4;
	q->edns.do_bit = q->edns.present && shape & 8;
	q->edns.dg_info = q->edns.present && shape & 16;
	q->edns.udp_size = 4096;
}

static void check_answer(const uint8_t *data, size_t size,
			 const struct dg_dns_resp_info *ri)
{
	static const size_t limits[] = { 12, 512, 1232, 65535 };
	struct dg_dns_resp_info back;
	struct dg_dns_query q;
	uint8_t shape = data[2];
	size_t limit = limits[data[3] & 3];
	uint32_t age = data[4] & 0x80 ? UINT32_MAX : data[4];
	int len;

	client_for(ri, shape, &q);
	len = dg_dns_answer_for_client(out, sizeof(out), data, size, ri, &q,
				       age, limit, "upstream=fuzz cache=hit");
	CHECK(len > 0);
	CHECK(dg_dns_parse_response(out, (size_t)len, &back) == 0);
	check_info(out, (size_t)len, &back);
	CHECK(back.id == q.id);
	CHECK(!memcmp(out + DG_DNS_HDR_LEN, q.q.name, q.q.name_len));
	CHECK(back.edns.present == q.edns.present);
	CHECK(back.edns.do_bit == q.edns.do_bit);
	CHECK(!back.edns.present || back.edns.udp_size == DG_DNS_EDNS_SIZE);
	if ((size_t)len > limit)
		CHECK(back.flags & DG_DNS_TC && !back.ancount && !back.nscount);
	CHECK(back.ancount == ri->ancount ||
	      (back.flags & DG_DNS_TC && !back.ancount));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dg_dns_resp_info ri;

	check_query(data, size);
	if (dg_dns_parse_response(data, size, &ri))
		return 0;
	check_info(data, size, &ri);
	check_name_text(&ri.q);
	check_answer(data, size, &ri);
	return 0;
}
