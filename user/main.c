// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* dotguard: argv to the command table, nothing else. */
#include "cli.h"

int main(int argc, char **argv)
{
	return dg_cli_main(argc, argv);
}
