// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include <sys/socket.h>

#include "dotguard/abi.h"
#include "log.h"
#include "netlink.h"
#include "steer.h"

/* Steered TCP/53 carries DG_STEER_MARK: deliver it locally, to the
 * socket tc assigned it to, whatever its destination address. */
int dg_steer_routing(bool add)
{
	static const int families[] = { AF_INET, AF_INET6 };
	int i, err = 0;

	/* The rule never points at an empty table: a marked packet that
	 * fell through to the main table could be forwarded. */
	for (i = 0; i < 2 && !err; i++) {
		if (add)
			err = dg_nl_route_local_all(true, families[i], DG_STEER_TABLE);
		if (!err)
			err = dg_nl_rule_fwmark(add, families[i], DG_STEER_MARK,
						DG_STEER_TABLE, DG_STEER_RULE_PRIO);
		if (!err && !add)
			err = dg_nl_route_local_all(false, families[i], DG_STEER_TABLE);
	}
	if (err)
		log_error("%s the TCP/53 steering rule (fwmark %#x lookup %d): %s",
			  add ? "adding" : "removing", DG_STEER_MARK, DG_STEER_TABLE,
			  strerror(-err));
	return err;
}
