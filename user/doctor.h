/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `dotguard doctor`: the troubleshooting matrix of the seeds, run by the
 * tool itself. One line per check: ok, warn or fail, what was found, and
 * for anything but ok the fix.
 */
#ifndef DG_DOCTOR_H
#define DG_DOCTOR_H

#include "config.h"

/* Run every check against cfg; returns the number of failed checks. */
int dg_doctor_run(const struct dg_config *cfg);

#endif /* DG_DOCTOR_H */
