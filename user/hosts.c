// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * /etc/hosts as a sorted table of (name, address) pairs: names in
 * lower-case wire form in one pool, pairs sorted by name and then by file
 * order, so a lookup is a binary search and the addresses come out in
 * the order the file lists them, however many lines a name is on.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "dns_wire.h"
#include "hosts.h"
#include "log.h"

#define HOSTS_FILE_MAX (1u << 20)
#define HOSTS_LINE_MAX 4096
#define HOSTS_PAIRS_MAX 65536	/* a full 1 MiB of short lines fits */

struct hosts_pair {
	uint32_t name_off;	/* into dg_hosts.pool */
	uint32_t seq;		/* file order */
	uint8_t name_len;
	uint8_t addr_len;	/* 4 or 16 */
	uint8_t addr[16];
};

struct dg_hosts {
	struct hosts_pair *pairs;
	size_t n, cap;
	uint8_t *pool;
	size_t pool_len, pool_cap;
};

static void wire_lower(uint8_t *name, size_t len)
{
	size_t i = 0, j;

	while (i < len && name[i]) {
		for (j = i + 1; j <= i + name[i] && j < len; j++)
			if (name[j] >= 'A' && name[j] <= 'Z')
				name[j] += 'a' - 'A';
		i += name[i] + 1;
	}
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 64;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

static int add_pair(struct dg_hosts *h, const uint8_t *name, size_t name_len,
		    const uint8_t *addr, size_t addr_len)
{
	struct hosts_pair *p;

	if (grow((void **)&h->pairs, &h->cap, h->n + 1, sizeof(*h->pairs)) ||
	    grow((void **)&h->pool, &h->pool_cap, h->pool_len + name_len, 1))
		return -ENOMEM;
	p = &h->pairs[h->n];
	memset(p, 0, sizeof(*p));
	p->name_off = (uint32_t)h->pool_len;
	p->seq = (uint32_t)h->n;
	p->name_len = (uint8_t)name_len;
	p->addr_len = (uint8_t)addr_len;
	memcpy(p->addr, addr, addr_len);
	memcpy(h->pool + h->pool_len, name, name_len);
	wire_lower(h->pool + h->pool_len, name_len);
	h->pool_len += name_len;
	h->n++;
	return 0;
}

/* Order by name (length first: any total order does), then file order. */
static int pair_cmp(const void *a, const void *b, void *arg)
{
	const struct hosts_pair *x = a, *y = b;
	const uint8_t *pool = arg;
	int d;

	if (x->name_len != y->name_len)
		return x->name_len < y->name_len ? -1 : 1;
	d = memcmp(pool + x->name_off, pool + y->name_off, x->name_len);
	if (d)
		return d;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static char *next_token(char **s)
{
	char *t = *s + strspn(*s, " \t\r\f\v");
	size_t n = strcspn(t, " \t\r\f\v");

	if (!*t)
		return NULL;
	*s = t[n] ? t + n + 1 : t + n;
	t[n] = '\0';
	return t;
}

/* One line, comments already cut. 0, or -ENOMEM. */
static int parse_line(struct dg_hosts *h, char *line, const char *path,
		      unsigned int lineno, bool *full)
{
	uint8_t addr[16], name[DG_DNS_NAME_MAX];
	size_t alen = 4;
	int names = 0, len, err;
	char *tok = next_token(&line);

	if (!tok)
		return 0;
	if (inet_pton(AF_INET, tok, addr) != 1) {
		alen = 16;
		if (inet_pton(AF_INET6, tok, addr) != 1) {
			log_at(DG_LOG_DEBUG, path, lineno,
			       "'%s' is not an IP address, line skipped", tok);
			return 0;
		}
	}
	while ((tok = next_token(&line))) {
		len = dg_dns_name_from_text(tok, name, sizeof(name));
		if (len < 0) {
			log_at(DG_LOG_DEBUG, path, lineno,
			       "'%s' is not a valid name, skipped", tok);
			continue;
		}
		names++;
		if (h->n >= HOSTS_PAIRS_MAX) {
			*full = true;
			return 0;
		}
		err = add_pair(h, name, (size_t)len, addr, alen);
		if (err)
			return err;
	}
	if (!names)
		log_at(DG_LOG_DEBUG, path, lineno,
		       "no host name, line skipped");
	return 0;
}

static int parse_text(struct dg_hosts *h, char *text, size_t len,
		      const char *path)
{
	unsigned int lineno = 0;
	bool full = false;
	char *line = text, *end = text + len, *nl, *hash;
	int err;

	while (line < end && !full) {
		nl = memchr(line, '\n', (size_t)(end - line));
		if (!nl)
			nl = end;
		*nl = '\0';
		lineno++;
		if (nl - line > HOSTS_LINE_MAX) {
			log_at(DG_LOG_DEBUG, path, lineno,
			       "line longer than %u bytes, skipped",
			       HOSTS_LINE_MAX);
		} else {
			hash = strchr(line, '#');
			if (hash)
				*hash = '\0';
			err = parse_line(h, line, path, lineno, &full);
			if (err)
				return err;
		}
		line = nl + 1;
	}
	if (full)
		log_at(DG_LOG_WARN, path, lineno,
		       "more than %u host entries; the rest are ignored",
		       HOSTS_PAIRS_MAX);
	return 0;
}

/* At most HOSTS_FILE_MAX bytes, NUL-terminated; *len excludes the NUL. */
static int read_bounded(const char *path, char **out, size_t *len)
{
	char *buf = malloc(HOSTS_FILE_MAX + 2);
	size_t n = 0;
	ssize_t r;
	int fd, err = 0;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	while (n <= HOSTS_FILE_MAX) {
		r = read(fd, buf + n, HOSTS_FILE_MAX + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r < 0 ? -errno : 0;
			break;
		}
		n += (size_t)r;
	}
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	if (n > HOSTS_FILE_MAX) {
		log_warn("%s: larger than %u bytes, only the first %u are read",
			 path, HOSTS_FILE_MAX, HOSTS_FILE_MAX);
		/* Never a cut line: drop back to the last whole one. */
		n = HOSTS_FILE_MAX;
		while (n && buf[n - 1] != '\n')
			n--;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

struct dg_hosts *dg_hosts_load(const char *path, int *err)
{
	struct dg_hosts *h = calloc(1, sizeof(*h));
	char *text = NULL;
	size_t len = 0;
	int e = h ? read_bounded(path, &text, &len) : -ENOMEM;

	if (e == -ENOENT)
		e = 0;	/* no file: nothing listed */
	else if (!e)
		e = parse_text(h, text, len, path);
	free(text);
	if (e) {
		dg_hosts_free(h);
		h = NULL;
	} else if (h->n) {
		qsort_r(h->pairs, h->n, sizeof(*h->pairs), pair_cmp, h->pool);
	}
	if (err)
		*err = e;
	return h;
}

void dg_hosts_free(struct dg_hosts *h)
{
	if (!h)
		return;
	free(h->pairs);
	free(h->pool);
	free(h);
}

/* First pair for name, or h->n. */
static size_t lower_bound(const struct dg_hosts *h, const uint8_t *name,
			  size_t len)
{
	size_t lo = 0, hi = h->n, mid;
	const struct hosts_pair *p;
	int d;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		p = &h->pairs[mid];
		if (p->name_len != len)
			d = p->name_len < len ? -1 : 1;
		else
			d = memcmp(h->pool + p->name_off, name, len);
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool seen(const uint8_t *addrs, int n, const uint8_t *a, size_t len)
{
	int i;

	for (i = 0; i < n; i++)
		if (!memcmp(addrs + (size_t)i * len, a, len))
			return true;
	return false;
}

int dg_hosts_lookup(const struct dg_hosts *h, const uint8_t *name,
		    size_t name_len, int qtype, uint8_t *addrs, int max)
{
	uint8_t key[DG_DNS_NAME_MAX];
	size_t alen = qtype == DG_TYPE_A ? 4 : 16, i;
	const struct hosts_pair *p;
	int n = 0;

	if (!h || !name_len || name_len > sizeof(key))
		return -ENOENT;
	memcpy(key, name, name_len);
	wire_lower(key, name_len);
	i = lower_bound(h, key, name_len);
	if (i == h->n || h->pairs[i].name_len != name_len ||
	    memcmp(h->pool + h->pairs[i].name_off, key, name_len))
		return -ENOENT;
	if (qtype != DG_TYPE_A && qtype != DG_TYPE_AAAA)
		return 0;
	for (; i < h->n && n < max; i++) {
		p = &h->pairs[i];
		if (p->name_len != name_len ||
		    memcmp(h->pool + p->name_off, key, name_len))
			break;
		/* A name on several lines with one address: one record. */
		if (p->addr_len == alen && !seen(addrs, n, p->addr, alen)) {
			memcpy(addrs + (size_t)n * alen, p->addr, alen);
			n++;
		}
	}
	return n;
}
