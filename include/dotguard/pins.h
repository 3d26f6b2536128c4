/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Where dotguard pins its maps and programs: one place for every name. */
#ifndef DOTGUARD_PINS_H
#define DOTGUARD_PINS_H

#define DG_PIN_PATH_DEFAULT "/sys/fs/bpf/dotguard"

/* Map pin names are the BPF map names (LIBBPF_PIN_BY_NAME). */
#define DG_PIN_COUNTERS "dg_counters"
#define DG_PIN_POLICY "dg_policy"
#define DG_PIN_OWN_SOCKS "dg_own_socks"
#define DG_PIN_FRAGS "dg_frags"
#define DG_PIN_XSKS "dg_xsks"
#define DG_PIN_LISTEN "dg_listen"
#define DG_PIN_ATTACH "dg_attach"
#define DG_PIN_DAEMON "dg_daemon"

/* Programs: "prog_<slot>", one per attach point. */
#define DG_PIN_PROG_FMT "prog_%u"

#endif /* DOTGUARD_PINS_H */
