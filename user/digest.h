/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * SHA-256, from wolfCrypt (already linked for TLS). Config files are
 * hashed so status can show which file the daemon runs; SPKI pins are
 * hashes of public keys.
 */
#ifndef DG_DIGEST_H
#define DG_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define DG_SHA256_LEN 32

/* The SHA-256 of len bytes at data into out. Returns 0 or -EIO. */
int dg_sha256(const void *data, size_t len, uint8_t out[DG_SHA256_LEN]);

#endif /* DG_DIGEST_H */
