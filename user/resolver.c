// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "resolver.h"

#define SEC (1000000000ull)
#define HOSTS_TTL 0		/* local data: never cached downstream */

static struct dg_daemon_stats *res_stats(struct dg_resolver *res)
{
	return res->stats->s;
}

/* "192.0.2.1#53000", "[2001:db8::1]#53000", or "-" when not known. */
static void res_peer_text(const struct dg_req *r, char *out, size_t cap)
{
	const struct sockaddr_in6 *s6 = (const void *)&r->peer;
	const struct sockaddr_in *s4 = (const void *)&r->peer;
	char a[INET6_ADDRSTRLEN];

	if (r->peer_len && s4->sin_family == AF_INET &&
	    inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a)))
		snprintf(out, cap, "%s#%u", a, ntohs(s4->sin_port));
	else if (r->peer_len && s6->sin6_family == AF_INET6 &&
		 inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a)))
		snprintf(out, cap, "[%s]#%u", a, ntohs(s6->sin6_port));
	else
		snprintf(out, cap, "-");
}

/* One line per answered query, at --verbose only: who asked what, by
 * which path, the answer's RCODE and where it came from. */
static void res_log_query(struct dg_resolver *res, const struct dg_req *r,
			  int len, const char *how)
{
	char name[DG_DNS_NAME_MAX * 4 + 24], type[16], peer[INET6_ADDRSTRLEN + 10];

	if (log_get_level() < DG_LOG_DEBUG)
		return;
	if (!r->q.q.name_len ||
	    dg_dns_name_to_text(r->q.q.name, r->q.q.name_len, name, sizeof(name)) < 0)
		snprintf(name, sizeof(name), "(no question)");
	else
		snprintf(name + strlen(name), sizeof(name) - strlen(name), " %s",
			 dg_dns_type_name(r->q.q.qtype, type, sizeof(type)));
	res_peer_text(r, peer, sizeof(peer));
	log_debug("query %s from %s (%s): %s in %" PRIu64 " us, %s", name, peer,
		  r->via ? r->via : "?",
		  len >= DG_DNS_HDR_LEN ? dg_dns_rcode_name(res->out[3] & 0xf) : "SERVFAIL",
		  (dg_now_ns() - r->start) / 1000, how);
}

/* how: where the answer came from, for the query log. */
static void res_send(struct dg_resolver *res, struct dg_req *r, int len,
		     const char *how)
{
	struct dg_daemon_stats *s = res_stats(res);

	if (len < 0) {
		/* Cannot happen with a 64 KiB buffer; never leave a client
		 * waiting all the same. */
		len = dg_dns_build_error(res->out, sizeof(res->out), &r->q, true,
					 DG_RCODE_SERVFAIL, NULL);
	}
	dg_stat_add(&s->answers, 1);
	if (len >= DG_DNS_HDR_LEN && (res->out[2] & (DG_DNS_TC >> 8)))
		dg_stat_add(&s->truncated, 1);
	res_log_query(res, r, len, how);
	r->reply(r, res->out, len);
}

/* An error answer made here, counted by RCODE; how: why, for the log. */
static void res_error(struct dg_resolver *res, struct dg_req *r,
		      bool question_ok, int rcode, const char *how)
{
	struct dg_daemon_stats *s = res_stats(res);

	dg_stat_add(rcode == DG_RCODE_REFUSED ? &s->refused :
		    rcode == DG_RCODE_SERVFAIL ? &s->servfail : &s->formerr, 1);
	res_send(res, r, dg_dns_build_error(res->out, sizeof(res->out), &r->q,
					    question_ok, rcode, NULL), how);
}

void dg_resolve_error(struct dg_resolver *res, struct dg_req *r,
		      bool question_ok, int rcode)
{
	res_error(res, r, question_ok, rcode,
		  r->q.q.name_len ? "answered here" : "the question did not parse");
}

struct res_wait {
	struct dg_resolver *res;
	struct dg_req *r;
	int client;		/* handle in res->clients; 0: not counted */
};

static void res_upstream_done(void *arg, const uint8_t *msg, size_t len,
			      const struct dg_dns_resp_info *ri,
			      const char *label, uint64_t rtt_us)
{
	struct res_wait *w = arg;
	struct dg_resolver *res = w->res;
	struct dg_req *r = w->r;
	struct dg_cache_key key;
	char info[DG_DNS_INFO_MAX];
	int n;

	dg_clients_query_done(&res->clients, w->client);
	free(w);
	if (!msg) {
		res_error(res, r, true, DG_RCODE_SERVFAIL, "no upstream answered in time");
		return;
	}
	if (res->cache && !(ri->negative && res->cfg->cache == DG_CACHE_NO_NEGATIVE)) {
		dg_cache_key_from_query(&key, &r->q);
		dg_cache_put(res->cache, &key, msg, len, ri, res->loop->now / SEC);
	}
	snprintf(info, sizeof(info), "upstream=%s rtt_us=%" PRIu64 " cache=miss",
		 label, rtt_us);
	n = dg_dns_answer_for_client(res->out, sizeof(res->out), msg, len, ri,
				     &r->q, 0, r->limit, info);
	res_send(res, r, n, info);
}

static bool res_from_hosts(struct dg_resolver *res, struct dg_req *r)
{
	uint8_t addrs[16 * 16];
	int n;

	if (!res->hosts || r->q.q.qclass != DG_CLASS_IN ||
	    (r->q.q.qtype != DG_TYPE_A && r->q.q.qtype != DG_TYPE_AAAA))
		return false;
	n = dg_hosts_lookup(res->hosts, r->q.q.name, r->q.q.name_len,
			    r->q.q.qtype, addrs, 16);
	if (n < 0)
		return false;
	dg_stat_add(&res_stats(res)->hosts_answers, 1);
	res_send(res, r, dg_dns_build_local(res->out, sizeof(res->out), &r->q,
					    addrs, n, HOSTS_TTL, "source=hosts",
					    r->limit),
		 "source=hosts");
	return true;
}

static bool res_from_cache(struct dg_resolver *res, struct dg_req *r)
{
	const struct dg_cache_entry *e;
	struct dg_cache_key key;
	char info[DG_DNS_INFO_MAX];
	uint32_t age;

	if (!res->cache)
		return false;
	dg_cache_key_from_query(&key, &r->q);
	e = dg_cache_get(res->cache, &key, res->loop->now / SEC, &age);
	if (!e) {
		dg_stat_add(&res_stats(res)->cache_misses, 1);
		return false;
	}
	dg_stat_add(&res_stats(res)->cache_hits, 1);
	snprintf(info, sizeof(info), "cache=hit age=%u", age);
	res_send(res, r, dg_dns_answer_for_client(res->out, sizeof(res->out),
						  e->msg, e->len, &e->info,
						  &r->q, age, r->limit, info),
		 info);
	return true;
}

/* Count r against its client; false when it was answered instead. */
static bool res_client_begin(struct dg_resolver *res, struct dg_req *r,
			     int *client)
{
	struct dg_daemon_stats *s = res_stats(res);
	int h;

	*client = 0;
	h = r->peer_len ? dg_clients_query_begin(&res->clients,
						 (struct sockaddr *)&r->peer) :
			  -EAFNOSUPPORT;
	dg_stat_set(&s->clients_evicted, res->clients.evicted);
	if (h == -EBUSY) {
		dg_stat_add(&s->client_limited, 1);
		res_error(res, r, true, DG_RCODE_SERVFAIL,
			  "the client has too many queries in flight");
		return false;
	}
	if (h == -ENOSPC) {
		dg_stat_add(&s->clients_full, 1);
		res_error(res, r, true, DG_RCODE_SERVFAIL,
			  "the client table is full of busy clients");
		return false;
	}
	/* No address (a transport that has none): not counted. */
	*client = h > 0 ? h : 0;
	return true;
}

void dg_resolve(struct dg_resolver *res, struct dg_req *r)
{
	struct res_wait *w;
	int client;

	if (res_from_hosts(res, r) || res_from_cache(res, r))
		return;
	if (!res_client_begin(res, r, &client))
		return;
	w = malloc(sizeof(*w));
	if (!w) {
		dg_clients_query_done(&res->clients, client);
		dg_resolve_error(res, r, true, DG_RCODE_SERVFAIL);
		return;
	}
	w->res = res;
	w->r = r;
	w->client = client;
	if (res->forward)
		res->forward(res, &r->q, res_upstream_done, w);
	else
		dg_pool_query(res->pool, &r->q, res_upstream_done, w);
}
