// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdint.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hash.h>

#include "digest.h"

int dg_sha256(const void *data, size_t len, uint8_t out[DG_SHA256_LEN])
{
	if (len > UINT32_MAX)
		return -EIO;
	return wc_Sha256Hash(data, (word32)len, out) ? -EIO : 0;
}
