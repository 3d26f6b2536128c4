/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * dotguard.conf: resolved.conf's syntax ([Resolve] DNS=, FallbackDNS=,
 * DNSOverTLS=, Cache=, DNSStubListener=, ReadEtcHosts=, IP[:port]#name)
 * plus [TLS] and [Guard]. Every diagnostic is one line "FILE:LINE: ...",
 * errors at DG_LOG_ERROR and unknown keys at DG_LOG_WARN.
 */
#ifndef DG_CONFIG_H
#define DG_CONFIG_H

#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dotguard/abi.h"

#define DG_CONFIG_PATH_DEFAULT "/etc/dotguard/dotguard.conf"
#define DG_CFG_MAX_SERVERS 16	/* per list: DNS=, FallbackDNS=, stub extras */
#define DG_CFG_MAX_PINS 16
#define DG_CFG_POOL_DEFAULT 2	/* [TLS] PoolSize=: connections per upstream */
#define DG_CFG_POOL_MAX 8
#define DG_CFG_MAX_IFACES 16	/* entries of Interface=, of GatewayInterface= */
#define DG_CFG_IFPAT_MAX 32	/* an Interface= entry (name or glob), with NUL */
#define DG_NAME_MAX 255		/* buffer for a DNS name in text form; the
				 * name itself is at most 253 (RFC 1035) */

enum dg_dot_mode {
	DG_DOT_STRICT = 0,	/* DNSOverTLS=yes: never cleartext */
	DG_DOT_OPPORTUNISTIC,	/* DNSOverTLS=opportunistic */
	DG_DOT_OFF,		/* DNSOverTLS=no */
};

enum dg_cache_mode {
	DG_CACHE_YES = 0,
	DG_CACHE_NO,
	DG_CACHE_NO_NEGATIVE,	/* Cache=no-negative, as resolved.conf */
};

enum dg_stub_mode {
	DG_STUB_YES = 0,	/* UDP and TCP */
	DG_STUB_NO,
	DG_STUB_UDP,
	DG_STUB_TCP,
};

/* One server in resolved.conf syntax:
 * ADDRESS[:PORT][%IFNAME][#NAME], IPv6 as [ADDRESS]:PORT when a port is
 * given. */
struct dg_server {
	int family;			/* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
	uint16_t port;			/* host order; 0 = not given */
	char ifname[IF_NAMESIZE];	/* %IFNAME, "" when not given */
	char name[DG_NAME_MAX + 1];	/* #NAME for SNI and the cert check */
};

/* [TLS] SPKIPin=NAME sha256/BASE64: the SHA-256 of an upstream's
 * SubjectPublicKeyInfo (RFC 7858 section 4.2). */
struct dg_spki_pin {
	char name[DG_NAME_MAX + 1];
	uint8_t sha256[32];
};

#define DG_CFG_USER_MAX 32		/* a login name, as useradd allows */
#define DG_CFG_USER_DEFAULT "dotguard"

struct dg_config {
	char source[PATH_MAX];		/* file read, "" for built-in defaults */

	/* [Resolve] */
	struct dg_server dns[DG_CFG_MAX_SERVERS];
	int n_dns;
	struct dg_server fallback[DG_CFG_MAX_SERVERS];
	int n_fallback;
	enum dg_dot_mode dot;
	enum dg_cache_mode cache;
	enum dg_stub_mode stub;
	struct dg_server stub_extra[DG_CFG_MAX_SERVERS];
	int n_stub_extra;
	bool read_etc_hosts;

	/* [TLS] */
	char ca_file[PATH_MAX];
	struct dg_spki_pin pins[DG_CFG_MAX_PINS];
	int n_pins;
	int pool_size;			/* PoolSize= */

	/* [Guard] */
	enum dg_mode mode;		/* enum dg_mode from abi.h */
	/* Interface=: names and fnmatch(3) globs; see dg_config_iface_match */
	char ifaces[DG_CFG_MAX_IFACES][DG_CFG_IFPAT_MAX];
	unsigned int iface_line[DG_CFG_MAX_IFACES];	/* where each is written */
	int n_ifaces;
	bool iface_auto;		/* "auto" written in Interface= */
	char gw_ifaces[DG_CFG_MAX_IFACES][IF_NAMESIZE];
	unsigned int gw_line[DG_CFG_MAX_IFACES];
	int n_gw_ifaces;
	char pin_path[PATH_MAX];
	char user[DG_CFG_USER_MAX];	/* User=: drop to it after start */
	bool user_set;			/* written in the file, not the default */
	unsigned int user_line;		/* where, for check-config's error */
	unsigned int ca_file_line;	/* CAFile= written in the file: where */
	uint8_t sha256[32];		/* of the file read; zero without one */
};

/* Why Interface= takes a link (dg_config_iface_match). */
enum dg_iface_match {
	DG_IFACE_NO = 0,
	DG_IFACE_NAME,		/* named as it is */
	DG_IFACE_GLOB,		/* matched by a pattern */
	DG_IFACE_AUTO,		/* holds a default route, and auto is in effect */
};

/* The built-in defaults: strict DoT to Quad9 with Cloudflare as fallback,
 * Mode=redirect on every interface holding a default route (auto), the
 * system CA bundle, PinPath=/sys/fs/bpf/dotguard. */
void dg_config_defaults(struct dg_config *cfg);

/*
 * Parse len bytes of text named `source` (used in messages) over cfg,
 * which holds defaults. A list key given an empty value (DNS=) clears the
 * list, as in resolved.conf; the first DNS= line otherwise replaces the
 * default list. Returns the number of errors (0: cfg is valid); every
 * error and warning is logged as "SOURCE:LINE: ...". Never reads past len;
 * NUL bytes and overlong lines are errors, not crashes.
 */
int dg_config_parse(struct dg_config *cfg, const char *source,
		    const char *text, size_t len);

/*
 * Defaults, then the file at path. When path is NULL the default path is
 * used and a missing file is not an error (built-in defaults apply);
 * a path the user named must exist. Returns the number of errors, or a
 * negative errno when the file cannot be read (logged with the path).
 */
int dg_config_load(struct dg_config *cfg, const char *path);

/* Parse one server in resolved.conf syntax; returns 0 or -EINVAL and
 * a static description of what was wrong in *why. */
int dg_server_parse(const char *text, struct dg_server *out, const char **why);

/* Format a server back as ADDRESS[:PORT][%IFNAME][#NAME] into buf. */
const char *dg_server_str(const struct dg_server *s, char *buf, size_t size);

/* Is this Interface= entry a pattern (it holds '*', '?' or '[')? */
bool dg_config_is_glob(const char *entry);

/* Does Interface= follow the default routes: "auto" written, or neither
 * Interface= nor GatewayInterface= names anything (the default)? */
bool dg_config_iface_auto(const struct dg_config *cfg);

/* Does the config guard uplinks (host mode) at all, even if nothing
 * matches yet? */
bool dg_config_host_mode(const struct dg_config *cfg);

/*
 * Should host mode guard the link named ifname? has_default: the link
 * holds a default route now. A name wins over a glob, a glob over auto.
 * Never lo, dotguard's capture pair or a GatewayInterface= port, whatever
 * a glob says. Pure: asks nothing of the host.
 */
enum dg_iface_match dg_config_iface_match(const struct dg_config *cfg,
					  const char *ifname, bool has_default);

/* Names for enums, as written in the file. */
const char *dg_mode_name(enum dg_mode mode);
const char *dg_dot_name(enum dg_dot_mode dot);

#endif /* DG_CONFIG_H */
