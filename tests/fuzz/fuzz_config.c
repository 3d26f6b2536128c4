// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for dg_config_parse(): any bytes, no crash, no read
 * past the input, and a config that keeps its invariants (counts within
 * bounds, strings terminated inside their arrays, enums in range, every
 * stored server formatting back to itself).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"

static void quiet(enum dg_log_level level, const char *msg, void *arg)
{
	(void)level;
	(void)msg;
	(void)arg;
}

#define CHECK(cond)			\
	do {				\
		if (!(cond))		\
			abort();	\
	} while (0)

#define TERMINATED(arr) CHECK(memchr((arr), '\0', sizeof(arr)) != NULL)

static void check_servers(const struct dg_server *list, int n)
{
	struct dg_server back;
	const char *why;
	char buf[512];
	int i;

	CHECK(n >= 0 && n <= DG_CFG_MAX_SERVERS);
	for (i = 0; i < n; i++) {
		CHECK(list[i].family == AF_INET || list[i].family == AF_INET6);
		TERMINATED(list[i].ifname);
		TERMINATED(list[i].name);
		dg_server_str(&list[i], buf, sizeof(buf));
		CHECK(dg_server_parse(buf, &back, &why) == 0);
		CHECK(back.family == list[i].family);
		CHECK(back.port == list[i].port);
		CHECK(!memcmp(&back.addr, &list[i].addr,
			      list[i].family == AF_INET ?
			      sizeof(back.addr.v4) : sizeof(back.addr.v6)));
		CHECK(!strcmp(back.ifname, list[i].ifname));
		CHECK(!strcmp(back.name, list[i].name));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {
		"eth0", "wg0", "ppp12", "enp3s0f1", "a", "[x]", "*", "auto",
		"averyverylong15",
	};
	static struct dg_config cfg;
	int errors, i;

	log_set_sink(quiet, NULL);
	log_set_level(DG_LOG_DEBUG);	/* format every message too */
	dg_config_defaults(&cfg);
	errors = dg_config_parse(&cfg, "fuzz.conf", (const char *)data, size);
	CHECK(errors >= 0);

	TERMINATED(cfg.source);
	check_servers(cfg.dns, cfg.n_dns);
	check_servers(cfg.fallback, cfg.n_fallback);
	check_servers(cfg.stub_extra, cfg.n_stub_extra);
	CHECK(cfg.dot <= DG_DOT_OFF);
	CHECK(cfg.cache <= DG_CACHE_NO_NEGATIVE);
	CHECK(cfg.stub <= DG_STUB_TCP);
	CHECK(cfg.mode < DG_MODE_MAX);

	TERMINATED(cfg.ca_file);
	CHECK(cfg.ca_file[0] == '/');
	CHECK(cfg.n_pins >= 0 && cfg.n_pins <= DG_CFG_MAX_PINS);
	for (i = 0; i < cfg.n_pins; i++)
		TERMINATED(cfg.pins[i].name);

	CHECK(cfg.n_ifaces >= 0 && cfg.n_ifaces <= DG_CFG_MAX_IFACES);
	for (i = 0; i < cfg.n_ifaces; i++) {
		TERMINATED(cfg.ifaces[i]);
		CHECK(cfg.ifaces[i][0] != '\0');
		/* A name is a name the kernel could have; a glob may be longer. */
		if (!dg_config_is_glob(cfg.ifaces[i]))
			CHECK(strlen(cfg.ifaces[i]) < IF_NAMESIZE);
	}
	/* Every stored glob goes through fnmatch(3); lo and the capture
	 * pair are never taken, whatever was written. */
	for (i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
		(void)dg_config_iface_match(&cfg, names[i], i & 1);
	CHECK(dg_config_iface_match(&cfg, "lo", true) == DG_IFACE_NO);
	CHECK(dg_config_iface_match(&cfg, "dg-cap", true) == DG_IFACE_NO);
	CHECK(dg_config_iface_match(&cfg, "dg-cap-xsk", true) == DG_IFACE_NO);
	CHECK(cfg.n_gw_ifaces >= 0 && cfg.n_gw_ifaces <= DG_CFG_MAX_IFACES);
	for (i = 0; i < cfg.n_gw_ifaces; i++) {
		TERMINATED(cfg.gw_ifaces[i]);
		CHECK(cfg.gw_ifaces[i][0] != '\0');
	}
	TERMINATED(cfg.pin_path);
	CHECK(cfg.pin_path[0] == '/');

	/* A clean parse is a usable config: somewhere to send queries. */
	if (!errors)
		CHECK(cfg.n_dns + cfg.n_fallback > 0);
	return 0;
}
