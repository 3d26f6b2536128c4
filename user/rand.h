/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Unpredictable bits for what an off-path attacker must not guess: the
 * message IDs of upstream queries and the letter case (0x20) of cleartext
 * ones. They come from the kernel's CSPRNG, getrandom(2), read 4 KiB
 * at a time, so an ID costs a copy, not a syscall. One buffer per
 * process: the daemon is one thread and never forks (a fork would hand
 * the child the same bytes).
 */
#ifndef DG_RAND_H
#define DG_RAND_H

#include <stddef.h>
#include <stdint.h>

/*
 * Fill buf with len random bytes. Never fails: getrandom(2) only blocks
 * until the kernel's pool is seeded at boot, and should it ever fail the
 * process logs one line and aborts rather than send a guessable query
 * (the guard stays up: fail closed).
 */
void dg_rand_bytes(void *buf, size_t len);

/* One uniformly random 16-bit value (a DNS message ID). */
uint16_t dg_rand_u16(void);

#endif /* DG_RAND_H */
