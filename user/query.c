// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `dotguard query NAME [TYPE]`: ask the running daemon's stub, as any
 * application would, with one private EDNS option (DG_EDNS_DG_INFO) that
 * makes the stub say how it answered: which upstream, its round trip,
 * whether the cache did. UDP first; TCP when the answer was truncated.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "log.h"
#include "rand.h"
#include "loop.h"
#include "query.h"

#define QUERY_TIMEOUT_MS 5000	/* longer than the daemon's own deadline */

static int wait_fd(int fd, short ev, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = ev };
	uint64_t now = dg_now_ns();
	int ms = now >= deadline ? 0 : (int)((deadline - now) / 1000000);

	if (poll(&p, 1, ms) <= 0)
		return -ETIMEDOUT;
	return 0;
}

static int ask_udp(const struct sockaddr_in *to, const uint8_t *q, size_t qlen,
		   uint8_t *ans, size_t cap, uint64_t deadline)
{
	ssize_t n;
	int fd, err = -ETIMEDOUT;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)to, sizeof(*to)) ||
	    send(fd, q, qlen, 0) < 0) {
		err = -errno;
		goto out;
	}
	/* Skip anything that is not the answer to our ID. */
	while (!wait_fd(fd, POLLIN, deadline)) {
		n = recv(fd, ans, cap, MSG_DONTWAIT);
		if (n < 0) {
			err = -errno;
			break;
		}
		if (n >= 2 && ans[0] == q[0] && ans[1] == q[1]) {
			err = (int)n;
			break;
		}
	}
out:
	close(fd);
	return err;
}

static int ask_tcp(const struct sockaddr_in *to, const uint8_t *q, size_t qlen,
		   uint8_t *ans, size_t cap, uint64_t deadline)
{
	uint8_t frame[2 + 512];
	size_t got = 0, want = 2;
	ssize_t n;
	int fd, err = 0;

	if (qlen > sizeof(frame) - 2)
		return -ENOSPC;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	dg_dns_tcp_prefix(frame, qlen);
	memcpy(frame + 2, q, qlen);
	if (connect(fd, (const struct sockaddr *)to, sizeof(*to)) ||
	    send(fd, frame, qlen + 2, MSG_NOSIGNAL) < 0) {
		err = -errno;
		goto out;
	}
	/* The 2-byte length, then that many bytes. */
	while (got < want) {
		err = wait_fd(fd, POLLIN, deadline);
		if (err)
			goto out;
		n = recv(fd, got < 2 ? frame + got : ans + got - 2,
			 got < 2 ? 2 - got : want - got, 0);
		if (n <= 0) {
			err = n ? -errno : -ECONNRESET;
			goto out;
		}
		got += n;
		if (got == DG_DNS_TCP_PREFIX) {
			want = dg_dns_tcp_frame(frame, got);
			if (want - 2 > cap) {
				err = -EMSGSIZE;
				goto out;
			}
		}
	}
	err = (int)(want - 2);
out:
	close(fd);
	return err;
}

struct show {
	const uint8_t *msg;
	size_t len;
	int answers;
	char info[DG_DNS_INFO_MAX + 1];
};

/* RDATA as text for the common types; the RFC 3597 form otherwise. */
static void rdata_text(const struct show *s, const struct dg_dns_rr *rr,
		       char *out, size_t cap)
{
	const uint8_t *d = s->msg + rr->rdata_off;
	uint8_t name[DG_DNS_NAME_MAX], nlen;
	char txt[DG_DNS_NAME_MAX * 4 + 1];
	size_t o = 0, i;

	out[0] = '\0';
	switch (rr->type) {
	case DG_TYPE_A:
	case DG_TYPE_AAAA:
		if (rr->rdlen == (rr->type == DG_TYPE_A ? 4 : 16) &&
		    inet_ntop(rr->type == DG_TYPE_A ? AF_INET : AF_INET6, d, out, cap))
			return;
		break;
	case DG_TYPE_CNAME:
	case DG_TYPE_NS:
	case DG_TYPE_PTR:
	case DG_TYPE_MX:
		i = rr->type == DG_TYPE_MX ? 2 : 0;
		if (rr->rdlen > i &&
		    !dg_dns_name_at(s->msg, s->len, rr->rdata_off + i, name, &nlen) &&
		    dg_dns_name_to_text(name, nlen, txt, sizeof(txt)) >= 0) {
			if (i)
				snprintf(out, cap, "%u %s", d[0] << 8 | d[1], txt);
			else
				snprintf(out, cap, "%s", txt);
			return;
		}
		break;
	case DG_TYPE_TXT:
		for (i = 0; i < rr->rdlen && o + 4 < cap;) {
			size_t l = d[i++], k;

			o += snprintf(out + o, cap - o, "%s\"", o ? " " : "");
			for (k = 0; k < l && i + k < rr->rdlen && o + 3 < cap; k++) {
				uint8_t c = d[i + k];

				out[o++] = c >= 0x20 && c < 0x7f && c != '"' ? c : '?';
			}
			out[o++] = '"';
			out[o] = '\0';
			i += l;
		}
		return;
	}
	o = snprintf(out, cap, "\\# %u ", rr->rdlen);
	for (i = 0; i < rr->rdlen && o + 3 < cap; i++)
		o += snprintf(out + o, cap - o, "%02x", d[i]);
}

static void opt_info(struct show *s, const struct dg_dns_rr *rr)
{
	const uint8_t *d = s->msg + rr->rdata_off;
	size_t i = 0, code, l;

	while (i + 4 <= rr->rdlen) {
		code = (size_t)d[i] << 8 | d[i + 1];
		l = (size_t)d[i + 2] << 8 | d[i + 3];
		i += 4;
		if (i + l > rr->rdlen)
			return;
		if (code == DG_EDNS_DG_INFO && l <= DG_DNS_INFO_MAX) {
			memcpy(s->info, d + i, l);
			s->info[l] = '\0';
		}
		i += l;
	}
}

static int show_rr(void *arg, const struct dg_dns_rr *rr)
{
	struct show *s = arg;
	char name[DG_DNS_NAME_MAX * 4 + 1], type[16], data[2048];

	if (rr->type == DG_TYPE_OPT) {
		opt_info(s, rr);
		return 0;
	}
	if (rr->section != 0)
		return 0;
	s->answers++;
	if (dg_dns_name_to_text(rr->name, rr->name_len, name, sizeof(name)) < 0)
		snprintf(name, sizeof(name), "?");
	rdata_text(s, rr, data, sizeof(data));
	printf("%-30s %6u IN %-6s %s\n", name, rr->ttl,
	       dg_dns_type_name(rr->type, type, sizeof(type)), data);
	return 0;
}

int dg_query_run(const struct dg_config *cfg, const char *name_text,
		 const char *type_text)
{
	static uint8_t ans[DG_DNS_MSG_MAX];
	uint8_t name[DG_DNS_NAME_MAX], q[512];
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(53) };
	struct show s = { .msg = ans };
	struct dg_dns_query dq;
	uint64_t t0, deadline;
	int name_len, type, qlen, n, rcode;
	bool tcp = false;

	name_len = dg_dns_name_from_text(name_text, name, sizeof(name));
	if (name_len < 0) {
		log_error("query: '%s' is not a valid DNS name", name_text);
		return -EINVAL;
	}
	type = type_text ? dg_dns_type_from_text(type_text) : DG_TYPE_A;
	if (type < 0) {
		log_error("query: unknown record type '%s' (A, AAAA, TXT, MX, ... or TYPEnn)",
			  type_text);
		return -EINVAL;
	}
	if (cfg->stub != DG_STUB_NO) {
		inet_pton(AF_INET, DG_STUB_ADDR, &to.sin_addr);
	} else if (cfg->n_stub_extra && cfg->stub_extra[0].family == AF_INET) {
		to.sin_addr = cfg->stub_extra[0].addr.v4;
		if (cfg->stub_extra[0].port)
			to.sin_port = htons(cfg->stub_extra[0].port);
	} else {
		log_error("query: no IPv4 stub listener configured (DNSStubListener=no)");
		return -EINVAL;
	}
	memset(&dq, 0, sizeof(dq));
	memcpy(dq.q.name, name, (size_t)name_len);
	dq.q.name_len = (uint8_t)name_len;
	dq.q.qtype = (uint16_t)type;
	dq.q.qclass = DG_CLASS_IN;
	dq.flags = DG_DNS_RD;
	qlen = dg_dns_build_query(q, sizeof(q), dg_rand_u16(), &dq,
				  DG_QUERY_INFO, 0);
	if (qlen < 0)
		return qlen;

	t0 = dg_now_ns();
	deadline = t0 + QUERY_TIMEOUT_MS * 1000000ull;
	n = ask_udp(&to, q, qlen, ans, sizeof(ans), deadline);
	if (n >= DG_DNS_HDR_LEN && (ans[2] & (DG_DNS_TC >> 8))) {
		tcp = true;
		n = ask_tcp(&to, q, qlen, ans, sizeof(ans), deadline);
	}
	if (n < 0) {
		log_error("query: no answer from the stub at %s:%u: %s (is 'dotguard run' running?)",
			  inet_ntoa(to.sin_addr), ntohs(to.sin_port), strerror(-n));
		return n;
	}
	s.len = (size_t)n;
	if (n < DG_DNS_HDR_LEN || dg_dns_rr_walk(ans, n, show_rr, &s)) {
		log_error("query: the stub's answer does not parse");
		return -EBADMSG;
	}
	rcode = ans[3] & DG_DNS_RCODE_MASK;
	printf("%s, %d answer%s, %.1f ms over %s%s%s\n", dg_dns_rcode_name(rcode),
	       s.answers, s.answers == 1 ? "" : "s",
	       (dg_now_ns() - t0) / 1e6, tcp ? "TCP (truncated over UDP)" : "UDP",
	       s.info[0] ? "; " : "", s.info);
	return rcode == DG_RCODE_NOERROR ? 0 : -ENODATA;
}
