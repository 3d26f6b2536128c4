/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Drop root once everything privileged at start is done (programs
 * attached, sockets bound, AF_XDP sockets open): become User= and keep
 * only the capabilities the running daemon still uses - permitted, not
 * effective. The daemon parses LAN frames, client queries and upstream
 * answers with no capability in effect, so a bug there is not root; it
 * raises them only around the few operations that touch the kernel's
 * configuration (a reload, re-guarding after a link event, letting a
 * cleartext socket past the guard).
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

/*
 * Make the permitted capabilities effective for what follows, and take
 * them away again. Calls nest (a count); after no drop (root) they change
 * nothing. A failure is logged: the operation then fails on its own
 * permission error, which it reports.
 */
void dg_privs_raise(void);
void dg_privs_lower(void);

#endif /* DG_PRIVS_H */
