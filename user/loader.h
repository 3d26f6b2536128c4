/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Open and load one copy of a guard program for one attach point: set its
 * rodata, point its maps at the pin directory, load. Attaching is
 * guard.c's job; tests use the test mode and never attach.
 */
#ifndef DG_LOADER_H
#define DG_LOADER_H

#include <stdbool.h>

#include "dotguard/abi.h"
#include "guard_tc.skel.h"
#include "guard_xdp.skel.h"

/*
 * Open the tc egress guard with cfg in its rodata and load it.
 * pin_path: directory where maps are pinned by name (created maps are
 * pinned there, existing pins are reused); NULL is test mode: private,
 * unpinned maps. Returns 0 and *out, or -errno after one logged line that
 * names the cause and the fix.
 */
int dg_loader_tc(const struct dg_prog_cfg *cfg, const char *pin_path,
		 struct dg_tc **out);

/*
 * The same for the XDP gateway guard. load=false leaves it opened but not
 * loaded, for libxdp, which loads it into its dispatcher itself.
 */
int dg_loader_xdp(const struct dg_prog_cfg *cfg, const char *pin_path,
		  bool load, struct dg_xdp **out);

/* Explain a load failure (-errno) in one line naming what and the fix. */
void dg_loader_explain(int err, const char *what, const char *pin_path);

#endif /* DG_LOADER_H */
