// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "log.h"
#include "rand.h"

/* A syscall costs about 1.2 us on our machines, the bytes 1.8 ns each
 * at this size: an ID then costs a few ns. Reads over 256 bytes may come
 * back short when a signal lands; what came is used. */
#define RAND_BUF 4096
#define RAND_TRIES 8

static struct {
	uint8_t b[RAND_BUF];
	size_t pos, len;	/* unused bytes: b[pos..len) */
} rand_pool;

static void rand_refill(void)
{
	ssize_t n = -1;
	int i;

	for (i = 0; i < RAND_TRIES; i++) {
		n = getrandom(rand_pool.b, sizeof(rand_pool.b), 0);
		if (n > 0) {
			rand_pool.pos = 0;
			rand_pool.len = (size_t)n;
			return;
		}
		if (n < 0 && errno != EINTR)
			break;
	}
	log_error("getrandom: %s: no unpredictable query IDs, stopping",
		  n < 0 ? strerror(errno) : "no bytes");
	abort();
}

void dg_rand_bytes(void *buf, size_t len)
{
	uint8_t *out = buf;
	size_t take;

	while (len) {
		if (rand_pool.pos == rand_pool.len)
			rand_refill();
		take = rand_pool.len - rand_pool.pos;
		if (take > len)
			take = len;
		memcpy(out, rand_pool.b + rand_pool.pos, take);
		/* Handed out once: wipe, so nothing reads it again. */
		memset(rand_pool.b + rand_pool.pos, 0, take);
		rand_pool.pos += take;
		out += take;
		len -= take;
	}
}

uint16_t dg_rand_u16(void)
{
	uint16_t v;

	dg_rand_bytes(&v, sizeof(v));
	return v;
}
