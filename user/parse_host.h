/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Compile the BPF packet parsers for the host: what vmlinux.h and
 * bpf_helpers.h give them in BPF, taken here from the uapi headers and
 * libc. Nothing else differs, so the daemon's frame code and the fuzz
 * targets run the very code the programs run: one parser for every hook.
 */
#ifndef DG_PARSE_HOST_H
#define DG_PARSE_HOST_H

#include <endian.h>
#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/tcp.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* Headers at any offset: see DG_HDR_ALIGN in parse.h. */
#define DG_PARSE_HOST 1

/* Network to host order, 16 bits, as bpf_endian.h's. */
#define bpf_ntohs(x) be16toh(x)

#include "bpf/classify.h"

#endif /* DG_PARSE_HOST_H */
