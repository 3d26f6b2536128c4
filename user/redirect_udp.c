// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "dotguard/abi.h"
#include "redirect_udp.h"
#include "dns_wire.h"
#include "frame.h"
#include "log.h"
#include "reasm.h"
#include "xsk.h"

#define RX_BATCH 64
#define IP4_UDP_HDRS (20 + 8)
#define IP6_UDP_HDRS (40 + 8)

struct redir_port {
	struct dg_redirect_udp *b;
	struct dg_xsk *xsk;
	struct dg_io io;
	struct dg_defer kick;	/* one TX wake-up per loop turn */
	bool host;		/* capture veth: answer to reply_mac */
	uint8_t reply_mac[6];
	unsigned int mtu;
	char ifname[16];
	int ifindex;		/* the interface the socket is bound to */
	unsigned int inflight;	/* queries taken here, not yet answered */
	bool gone;		/* its interface went away: sockets closed */
};

struct dg_redirect_udp {
	struct dg_loop *loop;
	struct dg_resolver *res;
	int xskmap_fd;
	struct redir_port *ports[DG_MAX_SLOTS * DG_MAX_QUEUES];
	unsigned int n_ports;
	uint64_t gone_rx_drops;	/* of sockets closed since: the counter never goes back */
	struct dg_reasm *reasm;	/* fragmented queries, from every port */
	uint8_t whole[DG_MAX_HDR_OFF + DG_REASM_BYTES];	/* a reassembled one */
};

/* A query taken from a frame: the frame's addressing for the answer. */
struct redir_req {
	struct dg_req r;	/* first: the resolver hands this back */
	struct redir_port *port;
	struct dg_frame f;
};

static struct dg_daemon_stats *redir_stats(struct dg_redirect_udp *b)
{
	return b->res->stats->s;
}

static void redir_kick(struct dg_loop *l, struct dg_defer *d)
{
	struct redir_port *p = (struct redir_port *)((char *)d - offsetof(struct redir_port, kick));

	(void)l;
	if (p->xsk)
		dg_xsk_kick(p->xsk);
}

static void redir_port_free(struct dg_loop *l, struct dg_defer *d)
{
	(void)l;
	free((char *)d - offsetof(struct redir_port, kick));
}

/* p leaves the port list, and memory once no loop turn can reach it. */
static void port_release(struct redir_port *p)
{
	struct dg_redirect_udp *b = p->b;
	unsigned int i;

	for (i = 0; i < b->n_ports; i++)
		if (b->ports[i] == p) {
			b->ports[i] = b->ports[--b->n_ports];
			break;
		}
	/* A queued kick turns into the free; else queue the free. */
	p->kick.fn = redir_port_free;
	dg_defer(b->loop, &p->kick);
}

static void redir_reply(struct dg_req *r, const uint8_t *msg, size_t len)
{
	struct redir_req *br = (struct redir_req *)r;
	struct redir_port *p = br->port;
	uint8_t *buf;
	uint64_t addr;
	size_t n;

	/* No answer (the daemon is stopping, or a response came in as a
	 * query): nothing to send. */
	if (!msg)
		goto out;
	if (p->gone) {
		/* The client's interface went away with its socket. */
		dg_stat_add(&redir_stats(p->b)->redirected_tx_drops, 1);
		goto out;
	}
	buf = dg_xsk_tx_buf(p->xsk, &addr);
	if (!buf) {
		dg_stat_add(&redir_stats(p->b)->redirected_tx_drops, 1);
		goto out;
	}
	/* Host mode: the near end of the capture veth takes only frames
	 * addressed to its own MAC. Gateway: back to the client. */
	n = dg_frame_reply(&br->f, p->host ? p->reply_mac : br->f.src_mac,
			   br->f.dst_mac, msg, len, buf, DG_XSK_FRAME_SIZE);
	if (!n) {
		dg_xsk_tx_unget(p->xsk, addr);
		dg_stat_add(&redir_stats(p->b)->redirected_tx_drops, 1);
		goto out;
	}
	dg_xsk_tx_put(p->xsk, addr, n);
	dg_stat_add(&redir_stats(p->b)->redirected_answers, 1);
	dg_defer(p->b->loop, &p->kick);
out:
	free(br);
	if (!--p->inflight && p->gone)
		port_release(p);
}

/* The client's address and port, for the query log. */
static void redir_peer(struct dg_req *r, const struct dg_frame *f)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&r->peer;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&r->peer;

	if (f->family == 4) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(f->sport);
		memcpy(&s4->sin_addr, f->saddr, 4);
		r->peer_len = sizeof(*s4);
	} else {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(f->sport);
		memcpy(&s6->sin6_addr, f->saddr, 16);
		r->peer_len = sizeof(*s6);
	}
}

/* The largest DNS answer one frame on this link carries. */
static size_t redir_limit(const struct redir_port *p, const struct dg_frame *f)
{
	unsigned int hdrs = f->family == 4 ? IP4_UDP_HDRS : IP6_UDP_HDRS;
	size_t limit = p->mtu > hdrs + DG_DNS_UDP_PLAIN ? p->mtu - hdrs : DG_DNS_UDP_PLAIN;

	/* And one UMEM frame must hold the whole answer frame. */
	if (limit > DG_XSK_FRAME_SIZE - DG_FRAME_REPLY_HDR_MAX)
		limit = DG_XSK_FRAME_SIZE - DG_FRAME_REPLY_HDR_MAX;
	return limit;
}

/* A fragment: into the reassembler; when it completes its datagram, the
 * whole frame (in b->whole) and its parse. Returns the frame's length, 0
 * while incomplete or given up (counted there). */
static size_t redir_reassemble(struct redir_port *p, const uint8_t *frame,
			       size_t len, struct dg_frame *f)
{
	struct dg_redirect_udp *b = p->b;
	long n;

	dg_stat_add(&redir_stats(b)->redirected_fragments, 1);
	n = dg_reasm_add(b->reasm, p->ifindex, frame, len, f, b->loop->now,
			 b->whole, sizeof(b->whole));
	if (n <= 0)
		return 0;
	dg_stat_add(&redir_stats(b)->redirected_reassembled, 1);
	return (size_t)n;
}

static void redir_frame(void *arg, const uint8_t *frame, size_t len)
{
	struct redir_port *p = arg;
	struct dg_redirect_udp *b = p->b;
	enum dg_frame_err fe;
	struct redir_req *br;
	struct dg_frame f;
	size_t limit;
	int rc;

	fe = dg_frame_parse(frame, len, &f);
	if (fe == DG_FRAME_FRAGMENT) {
		len = redir_reassemble(p, frame, len, &f);
		if (!len)
			return;
		frame = b->whole;
		/* A fragment inside a fragment stays a bad frame. */
		fe = dg_frame_parse(frame, len, &f);
	}
	if (fe != DG_FRAME_OK || f.dport != DG_DNS_PORT) {
		/* Counted and dropped, never forwarded (fail closed). */
		dg_stat_add(&redir_stats(b)->redirected_bad_frames, 1);
		log_verbose("redirect %s: frame of %zu bytes dropped: %s", p->ifname,
			    len, fe != DG_FRAME_OK ? dg_frame_err_name(fe) : "not to port 53");
		return;
	}
	if (dg_frame_source_reflects(&f)) {
		/* The guard drops these on LAN ports; never answer one. */
		dg_stat_add(&redir_stats(b)->redirected_bad_source, 1);
		log_verbose("redirect %s: query from a group or broadcast source dropped",
			    p->ifname);
		return;
	}
	br = calloc(1, sizeof(*br));
	if (!br)
		return;
	br->port = p;
	p->inflight++;
	br->f = f;
	br->r.reply = redir_reply;
	br->r.start = b->loop->now;
	br->r.via = "redirected udp";
	redir_peer(&br->r, &f);
	/* A LAN client gets at most so many answers a second: with a
	 * forged source, every answer is one the victim did not ask for.
	 * (The host's own applications are not a reflection's source.) */
	if (!p->host && !dg_clients_rate_ok(&b->res->clients,
					    (const struct sockaddr *)&br->r.peer,
					    b->loop->now)) {
		dg_stat_add(&redir_stats(b)->redirected_rate_limited, 1);
		p->inflight--;
		free(br);
		return;
	}
	rc = dg_dns_parse_query(frame + f.dns_off, f.dns_len, &br->r.q);
	/* No header, or a response: answering could start a loop. */
	if (rc < 0 || (br->r.q.flags & DG_DNS_QR)) {
		dg_stat_add(&redir_stats(b)->redirected_bad_frames, 1);
		p->inflight--;
		free(br);
		return;
	}
	dg_stat_add(&redir_stats(b)->redirected_queries, 1);
	limit = redir_limit(p, &f);
	br->r.limit = rc ? DG_DNS_UDP_PLAIN : dg_dns_udp_limit(&br->r.q);
	if (br->r.limit > limit)
		br->r.limit = limit;
	if (rc) {
		dg_resolve_error(b->res, &br->r, br->r.q.q.name_len != 0, rc);
		return;
	}
	dg_resolve(b->res, &br->r);
}

static void redir_read(struct dg_loop *l, uint32_t events, void *arg)
{
	struct redir_port *p = arg;
	int round;

	(void)l;
	(void)events;
	/* A burst at once (the RX ring holds 1024), then other sockets
	 * get their turn. */
	for (round = 0; round < 16; round++)
		if (dg_xsk_rx(p->xsk, redir_frame, p, RX_BATCH) < RX_BATCH)
			break;
}

void dg_redirect_udp_poll_stats(struct dg_redirect_udp *b)
{
	const struct dg_reasm_stats *rs;
	uint64_t drops, given_up = 0;
	unsigned int i;

	if (!b)
		return;
	/* Datagrams whose first fragment never came are given up here too. */
	dg_reasm_expire(b->reasm, b->loop->now);
	rs = dg_reasm_stats(b->reasm);
	for (i = 0; i < DG_REASM_DROP_MAX; i++)
		given_up += rs->drops[i];
	dg_stat_set(&redir_stats(b)->redirected_frag_drops, given_up);
	drops = b->gone_rx_drops;
	for (i = 0; i < b->n_ports; i++)
		if (!b->ports[i]->gone)
			drops += dg_xsk_rx_drops(b->ports[i]->xsk);
	dg_stat_set(&redir_stats(b)->redirected_rx_drops, drops);
}

struct dg_redirect_udp *dg_redirect_udp_new(struct dg_loop *l, struct dg_resolver *res,
				int xskmap_fd)
{
	struct dg_redirect_udp *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->loop = l;
	b->res = res;
	b->xskmap_fd = xskmap_fd;
	b->reasm = dg_reasm_new();
	if (!b->reasm) {
		free(b);
		return NULL;
	}
	return b;
}

int dg_redirect_udp_add(struct dg_redirect_udp *b, const char *ifname, int ifindex,
		  uint32_t slot, unsigned int n_queues, const uint8_t *reply_mac,
		  unsigned int mtu)
{
	struct redir_port *p;
	unsigned int q;
	int err;

	if (n_queues > DG_MAX_QUEUES)
		n_queues = DG_MAX_QUEUES;
	for (q = 0; q < n_queues; q++) {
		if (b->n_ports == sizeof(b->ports) / sizeof(b->ports[0]))
			return -E2BIG;
		p = calloc(1, sizeof(*p));
		if (!p)
			return -ENOMEM;
		p->b = b;
		p->host = reply_mac != NULL;
		if (reply_mac)
			memcpy(p->reply_mac, reply_mac, 6);
		p->mtu = mtu;
		snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);
		p->ifindex = ifindex;
		dg_defer_init(&p->kick, redir_kick);
		err = dg_xsk_open(&p->xsk, ifname, q, b->xskmap_fd,
				  slot * DG_MAX_QUEUES + q);
		if (!err)
			err = dg_io_add(b->loop, &p->io, dg_xsk_fd(p->xsk),
					EPOLLIN, redir_read, p);
		if (err) {
			dg_xsk_close(p->xsk);
			free(p);
			return err;
		}
		b->ports[b->n_ports++] = p;
	}
	return 0;
}

bool dg_redirect_udp_serves(const struct dg_redirect_udp *b, const char *ifname,
		      int ifindex)
{
	unsigned int i;

	for (i = 0; i < b->n_ports; i++)
		if (!b->ports[i]->gone && b->ports[i]->ifindex == ifindex &&
		    !strcmp(b->ports[i]->ifname, ifname))
			return true;
	return false;
}

/* Close p's socket; the port goes once nothing is owed to it. */
static void port_close(struct redir_port *p)
{
	if (p->gone)
		return;
	p->b->gone_rx_drops += dg_xsk_rx_drops(p->xsk);
	dg_io_del(p->b->loop, &p->io);
	dg_xsk_close(p->xsk);
	p->xsk = NULL;
	p->gone = true;
}

int dg_redirect_udp_remove(struct dg_redirect_udp *b, const char *ifname)
{
	unsigned int i = 0, closed = 0;
	struct redir_port *p;

	while (i < b->n_ports) {
		p = b->ports[i];
		if (p->gone || strcmp(p->ifname, ifname)) {
			i++;
			continue;
		}
		port_close(p);
		closed++;
		if (p->inflight) {
			i++;
			continue;
		}
		port_release(p);	/* moves the last port to i */
	}
	return closed;
}

void dg_redirect_udp_free(struct dg_redirect_udp *b)
{
	if (!b)
		return;
	while (b->n_ports) {
		port_close(b->ports[0]);
		port_release(b->ports[0]);
	}
	close(b->xskmap_fd);
	dg_reasm_free(b->reasm);
	free(b);
}
