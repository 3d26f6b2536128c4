/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Drop root once everything privileged at start is done (programs
 * attached, sockets bound, AF_XDP sockets open): become User= and keep
 * only the capabilities the running daemon still uses.
 */
#ifndef DG_PRIVS_H
#define DG_PRIVS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * What the running daemon still needs: NET_ADMIN (re-attach on link
 * events and reloads, net sysctls, rules), BPF and PERFMON (load those
 * programs), SYS_ADMIN (libxdp finds a program by ID), DAC_OVERRIDE (the
 * root-owned pins and libxdp's bpffs directory), NET_RAW (AF_XDP sockets
 * for a port re-created or added, or a reload to Mode=redirect).
 */
uint64_t dg_privs_keep_mask(void);

/*
 * Become user (by name) keeping dg_privs_keep_mask(). "root" (or a user
 * with uid 0) changes nothing. A user that does not exist is an error
 * when required (User= written in the config), else a warning and root
 * stays. Returns 0 or -errno after one logged line.
 */
int dg_privs_drop(const char *user, bool required);

#endif /* DG_PRIVS_H */
