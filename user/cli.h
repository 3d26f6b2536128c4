/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The dotguard command line: a table of subcommands with typed options. */
#ifndef DG_CLI_H
#define DG_CLI_H

/* Exit codes: 0 done, 1 failed (one logged line says why), 2 usage. */
#define DG_EXIT_OK 0
#define DG_EXIT_FAIL 1
#define DG_EXIT_USAGE 2

int dg_cli_main(int argc, char **argv);

#endif /* DG_CLI_H */
