// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "reasm.h"

#define MS 1000000ull
#define IP6_HLEN 40
#define IP4_DF 0x4000

/* One datagram being put back together. */
struct reasm_dgram {
	bool used;
	/* The key: where it came from and which datagram it is. */
	int ifindex;
	uint8_t family;
	uint8_t proto;		/* IPv4 only: IPv6 keys on addresses and id */
	uint8_t n_vlans;
	uint16_t vlan_tci[DG_MAX_VLAN_DEPTH];
	uint8_t saddr[16], daddr[16];
	uint32_t id;
	uint64_t started;
	/* The first fragment's headers: link, IP, and for IPv6 the headers
	 * before the fragment header, which every fragment repeats. */
	bool have_first;
	size_t hdr_len, l3_off;
	uint8_t next_proto;	/* IPv6: what follows the fragment header */
	/* What arrived of the rest, and how long it is once the last came. */
	bool have_last;
	uint32_t total;
	unsigned int n;
	struct {
		uint32_t off, end;
	} span[DG_REASM_FRAGS];
	/* Bytes last: a new datagram clears everything before them. */
	uint8_t hdr[DG_MAX_HDR_OFF];
	uint8_t data[DG_REASM_BYTES];
};

struct dg_reasm {
	struct reasm_dgram d[DG_REASM_DATAGRAMS];
	unsigned int pending;
	struct dg_reasm_stats st;
};

#define DG_REASM_DROP_NAME(sym, name) [DG_REASM_##sym] = name,
static const char *const drop_names[] = { DG_REASM_DROPS(DG_REASM_DROP_NAME) };
#undef DG_REASM_DROP_NAME

const char *dg_reasm_drop_name(enum dg_reasm_drop d)
{
	return (unsigned int)d < DG_REASM_DROP_MAX ? drop_names[d] : "unknown";
}

struct dg_reasm *dg_reasm_new(void)
{
	return calloc(1, sizeof(struct dg_reasm));
}

void dg_reasm_free(struct dg_reasm *r)
{
	free(r);
}

unsigned int dg_reasm_pending(const struct dg_reasm *r)
{
	return r->pending;
}

const struct dg_reasm_stats *dg_reasm_stats(const struct dg_reasm *r)
{
	return &r->st;
}

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = v >> 8;
	b[1] = v & 0xff;
}

static void dgram_drop(struct dg_reasm *r, struct reasm_dgram *d,
		       enum dg_reasm_drop why)
{
	r->st.drops[why]++;
	d->used = false;
	r->pending--;
}

static bool dgram_is(const struct reasm_dgram *d, int ifindex,
		     const struct dg_frame *fr)
{
	return d->used && d->ifindex == ifindex && d->family == fr->family &&
	       d->id == fr->frag_id &&
	       (fr->family == 6 || d->proto == fr->frag_proto) &&
	       d->n_vlans == fr->n_vlans &&
	       !memcmp(d->vlan_tci, fr->vlan_tci, sizeof(d->vlan_tci)) &&
	       !memcmp(d->saddr, fr->saddr, 16) && !memcmp(d->daddr, fr->daddr, 16);
}

/* fr's datagram, or a new slot for it: a free one, else the oldest's. */
static struct reasm_dgram *dgram_get(struct dg_reasm *r, int ifindex,
				     const struct dg_frame *fr, uint64_t now)
{
	struct reasm_dgram *d, *oldest = NULL, *free_slot = NULL;
	unsigned int i;

	for (i = 0; i < DG_REASM_DATAGRAMS; i++) {
		d = &r->d[i];
		if (dgram_is(d, ifindex, fr))
			return d;
		if (!d->used && !free_slot)
			free_slot = d;
		else if (d->used && (!oldest || d->started < oldest->started))
			oldest = d;
	}
	if (!free_slot) {
		dgram_drop(r, oldest, DG_REASM_EVICTED);
		free_slot = oldest;
	}
	d = free_slot;
	memset(d, 0, offsetof(struct reasm_dgram, hdr));
	d->used = true;
	d->ifindex = ifindex;
	d->family = fr->family;
	d->proto = fr->frag_proto;
	d->n_vlans = fr->n_vlans;
	memcpy(d->vlan_tci, fr->vlan_tci, sizeof(d->vlan_tci));
	memcpy(d->saddr, fr->saddr, 16);
	memcpy(d->daddr, fr->daddr, 16);
	d->id = fr->frag_id;
	d->started = now;
	r->pending++;
	return d;
}

/* Keep the first fragment's headers (see struct reasm_dgram). */
static bool dgram_first(struct reasm_dgram *d, const uint8_t *f,
			const struct dg_frame *fr)
{
	size_t keep = fr->family == 4 ? fr->data_off : fr->frag_hdr_off;

	if (keep > sizeof(d->hdr) || keep < fr->l3_off)
		return false;
	memcpy(d->hdr, f, keep);
	d->hdr_len = keep;
	d->l3_off = fr->l3_off;
	d->next_proto = fr->frag_proto;
	d->have_first = true;
	return true;
}

/* The whole datagram as one frame in out; its length, or 0 if it cannot
 * be made (headers that do not add up, no room). */
static size_t dgram_build(const struct reasm_dgram *d, uint8_t *out, size_t cap)
{
	size_t len = d->hdr_len + d->total, nh_at, h;
	uint8_t *ip = out + d->l3_off;

	if (len > cap)
		return 0;
	memcpy(out, d->hdr, d->hdr_len);
	memcpy(out + d->hdr_len, d->data, d->total);
	if (d->family == 4) {
		put16(ip + 2, (uint16_t)(d->hdr_len - d->l3_off + d->total));
		put16(ip + 6, get16(ip + 6) & IP4_DF);
		return len;
	}
	/* IPv6: the header before the fragment header now names what
	 * followed it; the walk is the parser's own, already bounded. */
	nh_at = d->l3_off + 6;
	for (h = d->l3_off + IP6_HLEN; h < d->hdr_len; h += ((size_t)out[h + 1] + 1) * 8) {
		if (h + 2 > d->hdr_len)
			return 0;
		nh_at = h;
	}
	if (h != d->hdr_len)
		return 0;
	out[nh_at] = d->next_proto;
	put16(ip + 4, (uint16_t)(d->hdr_len - d->l3_off - IP6_HLEN + d->total));
	return len;
}

long dg_reasm_add(struct dg_reasm *r, int ifindex, const uint8_t *f, size_t len,
		  const struct dg_frame *fr, uint64_t now_ns, uint8_t *out,
		  size_t cap)
{
	struct reasm_dgram *d;
	uint32_t off = fr->frag_off, end;
	uint64_t have = 0;
	unsigned int i;
	size_t n;

	r->st.fragments++;
	dg_reasm_expire(r, now_ns);
	if (fr->data_off + fr->data_len > len)
		return -1;	/* not what dg_frame_parse gives */
	d = dgram_get(r, ifindex, fr, now_ns);
	end = off + (uint32_t)fr->data_len;
	if (end > DG_REASM_BYTES || fr->data_len > DG_REASM_BYTES) {
		dgram_drop(r, d, DG_REASM_TOO_BIG);
		return -1;
	}
	/* Every fragment but the last carries a multiple of 8 bytes, and
	 * none may reach past the end the last one set. */
	if ((fr->frag_more && (fr->data_len % 8 || !fr->data_len)) ||
	    (!fr->frag_more && d->have_last && end != d->total) ||
	    (d->have_last && end > d->total)) {
		dgram_drop(r, d, DG_REASM_BAD);
		return -1;
	}
	for (i = 0; i < d->n; i++) {
		if (off == d->span[i].off && end == d->span[i].end)
			return 0;	/* a duplicate: nothing new */
		if ((off < d->span[i].end && d->span[i].off < end) ||
		    (!fr->frag_more && d->span[i].end > end)) {
			dgram_drop(r, d, off < d->span[i].end && d->span[i].off < end ?
					 DG_REASM_OVERLAP : DG_REASM_BAD);
			return -1;
		}
	}
	if (d->n == DG_REASM_FRAGS) {
		dgram_drop(r, d, DG_REASM_TOO_MANY);
		return -1;
	}
	if (off == 0 && !dgram_first(d, f, fr)) {
		dgram_drop(r, d, DG_REASM_BAD);
		return -1;
	}
	memcpy(d->data + off, f + fr->data_off, fr->data_len);
	d->span[d->n].off = off;
	d->span[d->n].end = end;
	d->n++;
	if (!fr->frag_more) {
		d->have_last = true;
		d->total = end;
	}
	if (!d->have_first || !d->have_last)
		return 0;
	for (i = 0; i < d->n; i++)
		have += d->span[i].end - d->span[i].off;
	if (have != d->total)
		return 0;
	n = dgram_build(d, out, cap);
	if (!n) {
		dgram_drop(r, d, DG_REASM_BAD);
		return -1;
	}
	d->used = false;
	r->pending--;
	r->st.datagrams++;
	return (long)n;
}

unsigned int dg_reasm_expire(struct dg_reasm *r, uint64_t now_ns)
{
	unsigned int i, n = 0;

	for (i = 0; i < DG_REASM_DATAGRAMS && r->pending; i++)
		if (r->d[i].used &&
		    now_ns - r->d[i].started >= DG_REASM_TIMEOUT_MS * MS) {
			dgram_drop(r, &r->d[i], DG_REASM_TIMEOUT);
			n++;
		}
	return n;
}
