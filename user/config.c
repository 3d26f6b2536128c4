// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * dotguard.conf: resolved.conf's .ini syntax, read line by line from a
 * length-bounded buffer. Each line is copied into a NUL-terminated scratch
 * buffer first, so nothing after that can run past the caller's text.
 * Keys dispatch through one table; every problem is reported with its line
 * and parsing continues, so a user sees all of them at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/coding.h>

#include "dotguard/pins.h"
#include "capture.h"
#include "config.h"
#include "digest.h"
#include "log.h"

#define CFG_LINE_MAX 4096		/* bytes per line, without the newline */
#define CFG_FILE_MAX (1024 * 1024)	/* no config file is this big */
#define CFG_CLIP 64			/* longest value quoted in a message */
#define CFG_HOSTNAME_MAX 253		/* RFC 1035 text form, no final dot */
#define CFG_LABEL_MAX 63

enum cfg_section {
	SEC_NONE = 0,			/* before the first [Section] */
	SEC_RESOLVE,
	SEC_TLS,
	SEC_GUARD,
	SEC_UNKNOWN,			/* warned about once, keys ignored */
};

static const char *const section_names[] = {
	[SEC_RESOLVE] = "Resolve",
	[SEC_TLS] = "TLS",
	[SEC_GUARD] = "Guard",
};

/* The lists a key can fill; the first line of each replaces the defaults. */
enum cfg_list {
	L_DNS = 0,
	L_FALLBACK,
	L_STUB_EXTRA,
	L_PINS,
	L_IFACES,
	L_GW_IFACES,
	L_MAX
};

struct cfg_state {
	struct dg_config *cfg;
	const char *source;
	unsigned int line;
	enum cfg_section section;
	int errors;
	bool seen[L_MAX];
	unsigned int list_line[L_MAX];	/* last line that touched each list */
	/* Line of each entry, for cross-checks; 0 = not from this text. */
	unsigned int dns_line[DG_CFG_MAX_SERVERS];
	unsigned int fallback_line[DG_CFG_MAX_SERVERS];
	unsigned int stub_line[DG_CFG_MAX_SERVERS];
	unsigned int pin_line[DG_CFG_MAX_PINS];
};

struct cfg_key {
	enum cfg_section section;
	const char *name;
	/* NULL: a resolved.conf key dotguard accepts but does not use. */
	void (*parse)(struct cfg_state *st, const struct cfg_key *key,
		      char *value);
	int arg;			/* enum cfg_list, or which path */
};

/* Words of an enum key, indexed by the enum's value. */
struct cfg_enum {
	const char *expected;		/* "yes, no or ..." for messages */
	bool booleans;			/* also true/false/1/0/on/off... */
	int if_true;
	int if_false;
	const char *words[4];
};

static const struct cfg_enum dot_enum = {
	.expected = "yes, opportunistic or no",
	.booleans = true,
	.if_true = DG_DOT_STRICT,
	.if_false = DG_DOT_OFF,
	.words = {
		[DG_DOT_STRICT] = "yes",
		[DG_DOT_OPPORTUNISTIC] = "opportunistic",
		[DG_DOT_OFF] = "no",
	},
};

static const struct cfg_enum cache_enum = {
	.expected = "yes, no or no-negative",
	.booleans = true,
	.if_true = DG_CACHE_YES,
	.if_false = DG_CACHE_NO,
	.words = {
		[DG_CACHE_YES] = "yes",
		[DG_CACHE_NO] = "no",
		[DG_CACHE_NO_NEGATIVE] = "no-negative",
	},
};

static const struct cfg_enum stub_enum = {
	.expected = "yes, no, udp or tcp",
	.booleans = true,
	.if_true = DG_STUB_YES,
	.if_false = DG_STUB_NO,
	.words = {
		[DG_STUB_YES] = "yes",
		[DG_STUB_NO] = "no",
		[DG_STUB_UDP] = "udp",
		[DG_STUB_TCP] = "tcp",
	},
};

static const struct cfg_enum bool_enum = {
	.expected = "yes or no",
	.booleans = true,
	.if_true = 1,
	.if_false = 0,
};

static const struct cfg_enum mode_enum = {
	.expected = "redirect, drop or monitor",
	.words = {
		[DG_MODE_REDIRECT] = "redirect",
		[DG_MODE_DROP] = "drop",
		[DG_MODE_MONITOR] = "monitor",
	},
};

static const char *const default_dns[] = {
	"9.9.9.9#dns.quad9.net",
	"149.112.112.112#dns.quad9.net",
};

static const char *const default_fallback[] = {
	"1.1.1.1#cloudflare-dns.com",
};

#define DEFAULT_CA_FILE "/etc/ssl/certs/ca-certificates.crt"

/* Messages quote what the user wrote, but never a whole 4 KiB line. */
static const char *clip(const char *s, char buf[CFG_CLIP + 4])
{
	size_t n = strnlen(s, CFG_CLIP + 1);

	if (n <= CFG_CLIP)
		return s;
	memcpy(buf, s, CFG_CLIP);
	memcpy(buf + CFG_CLIP, "...", 4);
	return buf;
}

static void cfg_vlog(struct cfg_state *st, enum dg_log_level level,
		     unsigned int line, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (line)
		log_at(level, st->source, line, "%s", msg);
	else
		log_msg(level, "%s: %s", st->source, msg);
}

__attribute__((format(printf, 3, 4)))
static void cfg_error_at(struct cfg_state *st, unsigned int line,
			 const char *fmt, ...)
{
	va_list ap;

	st->errors++;
	va_start(ap, fmt);
	cfg_vlog(st, DG_LOG_ERROR, line, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 3, 4)))
static void cfg_warn_at(struct cfg_state *st, unsigned int line,
			const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_vlog(st, DG_LOG_WARN, line, fmt, ap);
	va_end(ap);
}

#define cfg_error(st, ...) cfg_error_at(st, (st)->line, __VA_ARGS__)
#define cfg_warn(st, ...) cfg_warn_at(st, (st)->line, __VA_ARGS__)

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

static char *trim(char *s)
{
	size_t n;

	while (is_space(*s))
		s++;
	n = strlen(s);
	while (n && is_space(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Split off the next whitespace-separated word of *p, or NULL at the end. */
static char *next_token(char **p)
{
	char *s = *p, *tok;

	while (is_space(*s))
		s++;
	if (!*s)
		return NULL;
	tok = s;
	while (*s && !is_space(*s))
		s++;
	if (*s)
		*s++ = '\0';
	*p = s;
	return tok;
}

/* systemd's parse_boolean(): 1 true, 0 false, -1 neither. */
static int parse_boolean(const char *v)
{
	static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
	static const char *const no[] = { "0", "no", "n", "false", "f", "off" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(v, yes[i]))
			return 1;
		if (!strcasecmp(v, no[i]))
			return 0;
	}
	return -1;
}

/* Returns the enum value for v, or -1 after reporting what was expected. */
static int parse_enum(struct cfg_state *st, const struct cfg_key *key,
		      const struct cfg_enum *e, const char *v)
{
	char c[CFG_CLIP + 4];
	int i, b;

	for (i = 0; i < 4; i++)
		if (e->words[i] && !strcmp(v, e->words[i]))
			return i;
	if (e->booleans) {
		b = parse_boolean(v);
		if (b >= 0)
			return b ? e->if_true : e->if_false;
	}
	cfg_error(st, "%s=: expected %s, got '%s'", key->name, e->expected,
		  clip(v, c));
	return -1;
}

/*
 * A host name as used for SNI and the certificate check: at most 253
 * characters plus an optional final dot, labels of 1-63 letters, digits
 * and hyphens, no hyphen at either end of a label. NULL when valid.
 */
static const char *name_check(const char *s)
{
	size_t len = strnlen(s, DG_NAME_MAX + 1), label = 0, i;

	if (len && s[len - 1] == '.')
		len--;
	if (len > CFG_HOSTNAME_MAX)
		return "name longer than 253 characters";
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (!label)
				return "empty label in name";
			if (s[i - 1] == '-')
				return "label starts or ends with '-'";
			label = 0;
			continue;
		}
		if (!is_alnum(s[i]) && s[i] != '-')
			return "name may contain only letters, digits, '-' and '.'";
		if (s[i] == '-' && !label)
			return "label starts or ends with '-'";
		if (++label > CFG_LABEL_MAX)
			return "label longer than 63 characters";
	}
	if (!label)
		return "empty label in name";
	if (s[len - 1] == '-')
		return "label starts or ends with '-'";
	return NULL;
}

/* The kernel's dev_valid_name(), on the first n bytes of s. */
static const char *ifname_check(const char *s, size_t n)
{
	size_t i;

	if (!n)
		return "empty interface name";
	if (n >= IF_NAMESIZE)
		return "interface name longer than 15 characters";
	if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return "interface name may not be '.' or '..'";
	for (i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ':' || is_space(s[i]) || !s[i])
			return "interface name contains '/', ':' or whitespace";
	return NULL;
}

/* Decimal 1-65535 in exactly n bytes; 0 when invalid. */
static uint16_t port_parse(const char *s, size_t n)
{
	unsigned int v = 0;
	size_t i;

	if (!n || n > 5)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (unsigned int)(s[i] - '0');
	}
	return v <= 65535 ? (uint16_t)v : 0;
}

/* inet_pton() on n bytes that are not NUL-terminated. */
static bool addr_parse(int family, const char *s, size_t n, void *out)
{
	char buf[INET6_ADDRSTRLEN];

	if (n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(family, buf, out) == 1;
}

/* "[ADDRESS]" or "[ADDRESS]:PORT" in s[0, n). */
static const char *server_parse_bracketed(const char *s, size_t n,
					  struct dg_server *out)
{
	const char *rb = memchr(s, ']', n);
	size_t rest;

	if (!rb)
		return "missing ']'";
	if (!addr_parse(AF_INET6, s + 1, (size_t)(rb - s - 1), &out->addr.v6))
		return "not an IPv6 address";
	out->family = AF_INET6;
	rest = n - (size_t)(rb + 1 - s);
	if (!rest)
		return NULL;
	if (rb[1] != ':')
		return "expected ':PORT' after ']'";
	out->port = port_parse(rb + 2, rest - 1);
	return out->port ? NULL : "port must be 1-65535";
}

/* "IPV4", "IPV4:PORT" or a bare IPv6 address in s[0, n). */
static const char *server_parse_plain(const char *s, size_t n,
				      struct dg_server *out)
{
	const char *colon = memchr(s, ':', n), *last;
	struct in6_addr v6;
	size_t alen;

	if (colon && memchr(colon + 1, ':', n - (size_t)(colon + 1 - s))) {
		if (addr_parse(AF_INET6, s, n, &out->addr.v6)) {
			out->family = AF_INET6;
			return NULL;
		}
		/* "2001:db8::1:853" is ambiguous; only a clear port is named. */
		for (last = s + n - 1; *last != ':'; last--)
			;
		if (port_parse(last + 1, n - (size_t)(last + 1 - s)) &&
		    addr_parse(AF_INET6, s, (size_t)(last - s), &v6))
			return "an IPv6 address with a port must be written [ADDRESS]:PORT";
		return "not an IPv4 or IPv6 address";
	}
	alen = colon ? (size_t)(colon - s) : n;
	if (!addr_parse(AF_INET, s, alen, &out->addr.v4))
		return "not an IPv4 or IPv6 address";
	out->family = AF_INET;
	if (!colon)
		return NULL;
	out->port = port_parse(colon + 1, n - alen - 1);
	return out->port ? NULL : "port must be 1-65535";
}

int dg_server_parse(const char *text, struct dg_server *out, const char **why)
{
	struct dg_server s;
	const char *hash, *pct, *w;
	size_t n;

	memset(&s, 0, sizeof(s));
	hash = strchr(text, '#');
	n = hash ? (size_t)(hash - text) : strlen(text);
	w = NULL;
	if (hash) {
		w = hash[1] ? name_check(hash + 1) : "empty name after '#'";
		if (!w)
			strcpy(s.name, hash + 1);	/* checked: < DG_NAME_MAX */
	}
	pct = w ? NULL : memchr(text, '%', n);
	if (pct) {
		size_t ilen = n - (size_t)(pct + 1 - text);

		w = ilen ? ifname_check(pct + 1, ilen) :
			   "empty interface name after '%'";
		if (!w)
			memcpy(s.ifname, pct + 1, ilen);
		n = (size_t)(pct - text);
	}
	if (!w && !n)
		w = "empty address";
	if (!w)
		w = text[0] == '[' ? server_parse_bracketed(text, n, &s) :
				     server_parse_plain(text, n, &s);
	if (why)
		*why = w;
	if (w)
		return -EINVAL;
	*out = s;
	return 0;
}

const char *dg_server_str(const struct dg_server *s, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN] = "?";
	char port[8] = "";
	bool v6 = s->family == AF_INET6;

	if (!size)
		return buf;
	if (s->family == AF_INET || v6)
		inet_ntop(s->family, &s->addr, addr, sizeof(addr));
	if (s->port)
		snprintf(port, sizeof(port), ":%u", (unsigned int)s->port);
	snprintf(buf, size, "%s%s%s%s%s%.*s%s%.*s",
		 v6 && s->port ? "[" : "", addr, v6 && s->port ? "]" : "",
		 port, s->ifname[0] ? "%" : "",
		 (int)sizeof(s->ifname) - 1, s->ifname,
		 s->name[0] ? "#" : "", (int)sizeof(s->name) - 1, s->name);
	return buf;
}

const char *dg_mode_name(enum dg_mode mode)
{
	if ((unsigned int)mode >= DG_MODE_MAX)
		return "unknown";
	return mode_enum.words[mode];
}

const char *dg_dot_name(enum dg_dot_mode dot)
{
	if ((unsigned int)dot > DG_DOT_OFF)
		return "unknown";
	return dot_enum.words[dot];
}

static struct dg_server *servers_of(struct cfg_state *st, int which,
				    int **n, unsigned int **lines)
{
	struct dg_config *cfg = st->cfg;

	switch (which) {
	case L_DNS:
		*n = &cfg->n_dns;
		*lines = st->dns_line;
		return cfg->dns;
	case L_FALLBACK:
		*n = &cfg->n_fallback;
		*lines = st->fallback_line;
		return cfg->fallback;
	default:
		*n = &cfg->n_stub_extra;
		*lines = st->stub_line;
		return cfg->stub_extra;
	}
}

/*
 * As resolved.conf: an empty value clears a list, the first line in the
 * file replaces the built-in list, later lines add to it.
 */
static void list_begin(struct cfg_state *st, int which, int *n,
		       const char *value)
{
	st->list_line[which] = st->line;
	if (!value[0] || !st->seen[which])
		*n = 0;
	st->seen[which] = true;
}

static void parse_servers(struct cfg_state *st, const struct cfg_key *key,
			  char *value)
{
	char c[CFG_CLIP + 4];
	struct dg_server s, *list;
	unsigned int *lines;
	const char *why;
	char *tok;
	int *n;

	list = servers_of(st, key->arg, &n, &lines);
	list_begin(st, key->arg, n, value);
	while ((tok = next_token(&value))) {
		if (dg_server_parse(tok, &s, &why)) {
			cfg_error(st, "%s=: '%s': %s", key->name,
				  clip(tok, c), why);
			continue;
		}
		if (*n >= DG_CFG_MAX_SERVERS) {
			cfg_error(st, "%s=: too many servers, at most %d",
				  key->name, DG_CFG_MAX_SERVERS);
			return;
		}
		lines[*n] = st->line;
		list[(*n)++] = s;
	}
}

/* Index of name in a list of n entries of width bytes each, or -1. */
static int iface_find(const char *list, size_t width, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strncmp(list + (size_t)i * width, name, width))
			return i;
	return -1;
}

/* Interfaces host mode never guards, by name: loopback traffic stays on
 * the host, and the capture pair is where the guard sends what it caught. */
static const char *iface_never(const char *name)
{
	if (!strcmp(name, "lo"))
		return "loopback, never guarded";
	if (!strcmp(name, DG_CAPTURE_NEAR) || !strcmp(name, DG_CAPTURE_FAR))
		return "dotguard's own capture pair, never guarded";
	return NULL;
}

bool dg_config_is_glob(const char *entry)
{
	return strpbrk(entry, "*?[") != NULL;
}

/* POSIX character class names fnmatch(3) knows inside [...]. */
static bool glob_class_known(const char *s, size_t n)
{
	static const char *const classes[] = {
		"alnum", "alpha", "blank", "cntrl", "digit", "graph",
		"lower", "print", "punct", "space", "upper", "xdigit",
	};
	size_t i;

	for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (strlen(classes[i]) == n && !memcmp(classes[i], s, n))
			return true;
	return false;
}

/* A bracket expression starting at s[0] == '['; returns its length, or 0
 * with *why set. fnmatch(3) would take an unclosed '[' as a plain
 * character, so a typo would quietly match nothing: refuse it. */
static size_t glob_bracket(const char *s, const char **why)
{
	size_t i = 1;
	const char *end;

	if (s[i] == '!' || s[i] == '^')
		i++;
	if (s[i] == ']')
		i++;		/* first: a literal ']' */
	for (; s[i]; i++) {
		if (s[i] == ']')
			return i + 1;
		if (s[i] == '\\' && s[i + 1]) {
			i++;	/* as fnmatch(3): escaped, even here */
			continue;
		}
		if (s[i] == '[' && s[i + 1] == ':') {
			end = strstr(s + i + 2, ":]");
			if (!end || !glob_class_known(s + i + 2,
						      (size_t)(end - (s + i + 2)))) {
				*why = "unknown character class in '[...]'";
				return 0;
			}
			i = (size_t)(end - s) + 1;
		}
	}
	*why = "'[' without its ']'";
	return 0;
}

/* An Interface= glob: short, no whitespace or '/', brackets closed. */
static const char *glob_check(const char *s)
{
	size_t i, n = strlen(s), len;
	const char *why = NULL;

	if (n >= DG_CFG_IFPAT_MAX)
		return "pattern longer than 31 characters";
	for (i = 0; i < n; i++) {
		if (s[i] == '/' || is_space(s[i]))
			return "pattern contains '/' or whitespace";
		if (s[i] == '\\') {
			if (!s[++i])
				return "pattern ends in '\\'";
			continue;
		}
		if (s[i] == '[') {
			len = glob_bracket(s + i, &why);
			if (!len)
				return why;
			i += len - 1;
		}
	}
	return NULL;
}

static void parse_ifaces(struct cfg_state *st, const struct cfg_key *key,
			 char *value)
{
	struct dg_config *cfg = st->cfg;
	bool gw = key->arg == L_GW_IFACES;
	char *list = gw ? &cfg->gw_ifaces[0][0] : &cfg->ifaces[0][0];
	size_t width = gw ? sizeof(cfg->gw_ifaces[0]) : sizeof(cfg->ifaces[0]);
	unsigned int *lines = gw ? cfg->gw_line : cfg->iface_line;
	int *n = gw ? &cfg->n_gw_ifaces : &cfg->n_ifaces;
	char c[CFG_CLIP + 4];
	const char *why;
	char *tok;

	/* auto goes with the list: an empty value or the first line clears
	 * both, as list_begin does. */
	if (!gw && (!value[0] || !st->seen[key->arg]))
		cfg->iface_auto = false;
	list_begin(st, key->arg, n, value);
	while ((tok = next_token(&value))) {
		if (!gw && !strcmp(tok, "auto")) {
			if (cfg->iface_auto)
				cfg_error(st, "%s=: 'auto' is listed twice",
					  key->name);
			cfg->iface_auto = true;
			continue;
		}
		if (dg_config_is_glob(tok))
			why = gw ? "patterns are for Interface= only: name each LAN port" :
				   glob_check(tok);
		else
			why = ifname_check(tok, strlen(tok));
		if (!why)
			why = iface_never(tok);
		if (why) {
			cfg_error(st, "%s=: '%s': %s", key->name,
				  clip(tok, c), why);
			continue;
		}
		if (iface_find(list, width, *n, tok) >= 0) {
			cfg_error(st, "%s=: '%s' is listed twice", key->name,
				  tok);
			continue;
		}
		if (*n >= DG_CFG_MAX_IFACES) {
			cfg_error(st, "%s=: too many interfaces, at most %d",
				  key->name, DG_CFG_MAX_IFACES);
			return;
		}
		strcpy(list + (size_t)*n * width, tok);	/* checked: < width */
		lines[(*n)++] = st->line;
	}
}

bool dg_config_iface_auto(const struct dg_config *cfg)
{
	return cfg->iface_auto || (!cfg->n_ifaces && !cfg->n_gw_ifaces);
}

bool dg_config_host_mode(const struct dg_config *cfg)
{
	return cfg->n_ifaces || dg_config_iface_auto(cfg);
}

enum dg_iface_match dg_config_iface_match(const struct dg_config *cfg,
					  const char *ifname, bool has_default)
{
	bool glob = false;
	int i;

	if (!ifname[0] || iface_never(ifname) ||
	    iface_find(&cfg->gw_ifaces[0][0], sizeof(cfg->gw_ifaces[0]),
		       cfg->n_gw_ifaces, ifname) >= 0)
		return DG_IFACE_NO;
	for (i = 0; i < cfg->n_ifaces; i++) {
		if (!dg_config_is_glob(cfg->ifaces[i])) {
			if (!strcmp(cfg->ifaces[i], ifname))
				return DG_IFACE_NAME;
		} else if (!fnmatch(cfg->ifaces[i], ifname, 0)) {
			glob = true;
		}
	}
	if (glob)
		return DG_IFACE_GLOB;
	return has_default && dg_config_iface_auto(cfg) ? DG_IFACE_AUTO :
							  DG_IFACE_NO;
}

/*
 * Strict base64 (RFC 4648, padding optional) of exactly 32 bytes.
 * wolfCrypt's decoder is lenient: it skips whitespace, ignores anything
 * after the padding or an unpadded tail, and accepts nonzero leftover
 * bits. So the text must be the canonical encoding of what it decodes
 * to, with its one '=' or without it.
 */
static bool b64_decode_sha256(const char *s, uint8_t out[32])
{
	byte text[44], canon[45];
	byte bin[34];	/* Base64_Decode wants 33 bytes' room for 44 chars */
	word32 n = sizeof(bin), m = sizeof(canon);
	size_t len = strlen(s);

	if (len != 43 && len != 44)
		return false;
	text[43] = '=';			/* the padding, if s left it out */
	memcpy(text, s, len);
	if (Base64_Decode(text, sizeof(text), bin, &n) || n != 32 ||
	    Base64_Encode_NoNl(bin, 32, canon, &m) || m != sizeof(text) ||
	    memcmp(canon, text, sizeof(text)))
		return false;
	memcpy(out, bin, 32);
	return true;
}

static void parse_pin(struct cfg_state *st, const struct cfg_key *key,
		      char *value)
{
	struct dg_config *cfg = st->cfg;
	char c[CFG_CLIP + 4], whole[CFG_CLIP + 4];
	char *name, *hash;
	uint8_t sha[32];
	const char *why;

	list_begin(st, L_PINS, &cfg->n_pins, value);
	if (!value[0])
		return;
	snprintf(whole, sizeof(whole), "%s", clip(value, c));
	name = next_token(&value);
	hash = next_token(&value);
	if (!hash || next_token(&value)) {
		cfg_error(st, "%s=: expected 'NAME sha256/BASE64', got '%s'",
			  key->name, whole);
		return;
	}
	why = name_check(name);
	if (why) {
		cfg_error(st, "%s=: '%s': %s", key->name, clip(name, c), why);
		return;
	}
	if (strncmp(hash, "sha256/", 7) ||
	    !b64_decode_sha256(hash + 7, sha)) {
		cfg_error(st, "%s=: expected sha256/ and the base64 of 32 bytes, got '%s'",
			  key->name, clip(hash, c));
		return;
	}
	if (cfg->n_pins >= DG_CFG_MAX_PINS) {
		cfg_error(st, "%s=: too many pins, at most %d", key->name,
			  DG_CFG_MAX_PINS);
		return;
	}
	strcpy(cfg->pins[cfg->n_pins].name, name);	/* checked length */
	memcpy(cfg->pins[cfg->n_pins].sha256, sha, sizeof(sha));
	st->pin_line[cfg->n_pins] = st->line;
	cfg->n_pins++;
}

static void parse_path(struct cfg_state *st, const struct cfg_key *key,
		       char *value)
{
	char *dst = key->arg ? st->cfg->pin_path : st->cfg->ca_file;
	char c[CFG_CLIP + 4];

	if (value[0] != '/') {
		cfg_error(st, "%s=: expected an absolute path, got '%s'",
			  key->name, clip(value, c));
		return;
	}
	if (strlen(value) >= PATH_MAX) {
		cfg_error(st, "%s=: path longer than %d bytes", key->name,
			  PATH_MAX - 1);
		return;
	}
	strcpy(dst, value);
	if (!key->arg)
		st->cfg->ca_file_line = st->line;
}

static void parse_dot(struct cfg_state *st, const struct cfg_key *key,
		      char *value)
{
	int v = parse_enum(st, key, &dot_enum, value);

	if (v >= 0)
		st->cfg->dot = (enum dg_dot_mode)v;
}

static void parse_cache(struct cfg_state *st, const struct cfg_key *key,
			char *value)
{
	int v = parse_enum(st, key, &cache_enum, value);

	if (v >= 0)
		st->cfg->cache = (enum dg_cache_mode)v;
}

static void parse_stub(struct cfg_state *st, const struct cfg_key *key,
		       char *value)
{
	int v = parse_enum(st, key, &stub_enum, value);

	if (v >= 0)
		st->cfg->stub = (enum dg_stub_mode)v;
}

static void parse_etc_hosts(struct cfg_state *st, const struct cfg_key *key,
			    char *value)
{
	int v = parse_enum(st, key, &bool_enum, value);

	if (v >= 0)
		st->cfg->read_etc_hosts = v;
}

/* PoolSize=N: TLS connections per upstream, 1..DG_CFG_POOL_MAX. */
static void parse_pool_size(struct cfg_state *st, const struct cfg_key *key,
			    char *value)
{
	char c[CFG_CLIP + 4], *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || *end || v < 1 || v > DG_CFG_POOL_MAX) {
		cfg_error(st, "%s=: expected a number from 1 to %d, got '%s'",
			  key->name, DG_CFG_POOL_MAX, clip(value, c));
		return;
	}
	st->cfg->pool_size = (int)v;
}

/* A login name: [a-z_][a-z0-9_-]*, as useradd(8) takes it. */
static void parse_user(struct cfg_state *st, const struct cfg_key *key,
		       char *value)
{
	char c[CFG_CLIP + 4];
	size_t i, n = strlen(value);
	bool ok = n > 0 && n < DG_CFG_USER_MAX &&
		  ((value[0] >= 'a' && value[0] <= 'z') || value[0] == '_');

	for (i = 1; ok && i < n; i++)
		ok = (value[i] >= 'a' && value[i] <= 'z') ||
		     (value[i] >= '0' && value[i] <= '9') || value[i] == '_' ||
		     value[i] == '-';
	if (!ok) {
		cfg_error(st, "%s=: expected a user name (lower case, digits, '_', '-', up to %d characters), got '%s'",
			  key->name, DG_CFG_USER_MAX - 1, clip(value, c));
		return;
	}
	strcpy(st->cfg->user, value);
	st->cfg->user_set = true;
	st->cfg->user_line = st->line;
}

static void parse_mode(struct cfg_state *st, const struct cfg_key *key,
		       char *value)
{
	int v = parse_enum(st, key, &mode_enum, value);

	if (v >= 0)
		st->cfg->mode = (enum dg_mode)v;
}

static const struct cfg_key cfg_keys[] = {
	{ SEC_RESOLVE, "DNS", parse_servers, L_DNS },
	{ SEC_RESOLVE, "FallbackDNS", parse_servers, L_FALLBACK },
	{ SEC_RESOLVE, "DNSOverTLS", parse_dot, 0 },
	{ SEC_RESOLVE, "Cache", parse_cache, 0 },
	{ SEC_RESOLVE, "DNSStubListener", parse_stub, 0 },
	{ SEC_RESOLVE, "DNSStubListenerExtra", parse_servers, L_STUB_EXTRA },
	{ SEC_RESOLVE, "ReadEtcHosts", parse_etc_hosts, 0 },
	/* resolved.conf keys with no meaning here: a warning, not an error,
	 * so an existing resolved.conf can be brought over as it is. */
	{ SEC_RESOLVE, "DNSSEC", NULL, 0 },
	{ SEC_RESOLVE, "Domains", NULL, 0 },
	{ SEC_RESOLVE, "LLMNR", NULL, 0 },
	{ SEC_RESOLVE, "MulticastDNS", NULL, 0 },
	{ SEC_RESOLVE, "CacheFromLocalhost", NULL, 0 },
	{ SEC_RESOLVE, "StaleRetentionSec", NULL, 0 },
	{ SEC_RESOLVE, "ResolveUnicastSingleLabel", NULL, 0 },
	{ SEC_RESOLVE, "RefuseRecordTypes", NULL, 0 },
	{ SEC_TLS, "CAFile", parse_path, 0 },
	{ SEC_TLS, "SPKIPin", parse_pin, 0 },
	{ SEC_TLS, "PoolSize", parse_pool_size, 0 },
	{ SEC_GUARD, "Mode", parse_mode, 0 },
	{ SEC_GUARD, "Interface", parse_ifaces, L_IFACES },
	{ SEC_GUARD, "GatewayInterface", parse_ifaces, L_GW_IFACES },
	{ SEC_GUARD, "PinPath", parse_path, 1 },
	{ SEC_GUARD, "User", parse_user, 0 },
};

static const struct cfg_key *key_find(enum cfg_section section,
				      const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(cfg_keys) / sizeof(cfg_keys[0]); i++)
		if (cfg_keys[i].section == section &&
		    !strcmp(cfg_keys[i].name, name))
			return &cfg_keys[i];
	return NULL;
}

/* s is trimmed and starts with '['. */
static void parse_section(struct cfg_state *st, char *s)
{
	size_t n = strlen(s), i;
	char c[CFG_CLIP + 4];

	if (n < 3 || s[n - 1] != ']') {
		cfg_error(st, "expected 'Key=Value' or '[Section]'");
		st->section = SEC_UNKNOWN;
		return;
	}
	s[n - 1] = '\0';
	s++;
	for (i = SEC_RESOLVE; i <= SEC_GUARD; i++) {
		if (!strcmp(s, section_names[i])) {
			st->section = (enum cfg_section)i;
			return;
		}
	}
	cfg_warn(st, "unknown section [%s], its keys are ignored", clip(s, c));
	st->section = SEC_UNKNOWN;
}

static void parse_line(struct cfg_state *st, char *s)
{
	const struct cfg_key *key;
	char c[CFG_CLIP + 4];
	char *eq, *name;

	s = trim(s);
	if (!s[0] || s[0] == '#' || s[0] == ';')
		return;
	if (s[0] == '[') {
		parse_section(st, s);
		return;
	}
	eq = strchr(s, '=');
	if (!eq || eq == s) {
		cfg_error(st, "expected 'Key=Value' or '[Section]'");
		return;
	}
	*eq = '\0';
	name = trim(s);
	if (st->section == SEC_NONE) {
		cfg_error(st, "key outside any section");
		return;
	}
	if (st->section == SEC_UNKNOWN)
		return;
	key = key_find(st->section, name);
	if (!key)
		cfg_warn(st, "unknown key '%s' in [%s], ignored", clip(name, c),
			 section_names[st->section]);
	else if (!key->parse)
		cfg_warn(st, "%s= is not supported by dotguard, ignored",
			 key->name);
	else
		key->parse(st, key, trim(eq + 1));
}

static unsigned int max_line(unsigned int a, unsigned int b)
{
	return a > b ? a : b;
}

static void check_upstreams(struct cfg_state *st)
{
	if (st->cfg->n_dns || st->cfg->n_fallback)
		return;
	cfg_error_at(st, max_line(st->list_line[L_DNS],
				  st->list_line[L_FALLBACK]),
		     "no upstream servers: DNS= and FallbackDNS= are both empty");
}

/* Strict DoT without #NAME still verifies the chain, but only against
 * an IP address SAN, which few public resolvers carry. */
static void check_names(struct cfg_state *st, const char *key,
			const struct dg_server *list, int n,
			const unsigned int *lines)
{
	char buf[INET6_ADDRSTRLEN + 32];
	int i;

	for (i = 0; i < n; i++) {
		if (list[i].name[0])
			continue;
		cfg_warn_at(st, lines[i],
			    "%s=: '%s' has no #NAME: with DNSOverTLS=yes the certificate will be checked against the IP address only",
			    key, dg_server_str(&list[i], buf, sizeof(buf)));
	}
}

static bool name_in(const char *name, const struct dg_server *list, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcasecmp(list[i].name, name))
			return true;
	return false;
}

/* A pin applies to the upstreams whose #NAME it names: one that names
 * none protects nothing, which a typo would otherwise hide. */
static void check_pins(struct cfg_state *st)
{
	struct dg_config *cfg = st->cfg;
	int i;

	for (i = 0; i < cfg->n_pins; i++)
		if (!name_in(cfg->pins[i].name, cfg->dns, cfg->n_dns) &&
		    !name_in(cfg->pins[i].name, cfg->fallback, cfg->n_fallback))
			cfg_warn_at(st, st->pin_line[i],
				    "SPKIPin=: '%s' is the #NAME of no upstream in DNS= or FallbackDNS=: this pin checks nothing",
				    cfg->pins[i].name);
}

static void check_iface_overlap(struct cfg_state *st)
{
	struct dg_config *cfg = st->cfg;
	int i, j;

	for (i = 0; i < cfg->n_gw_ifaces; i++) {
		j = iface_find(&cfg->ifaces[0][0], sizeof(cfg->ifaces[0]),
			       cfg->n_ifaces, cfg->gw_ifaces[i]);
		if (j < 0)
			continue;
		cfg_error_at(st, max_line(cfg->gw_line[i], cfg->iface_line[j]),
			     "'%s' is in both Interface= and GatewayInterface=",
			     cfg->gw_ifaces[i]);
	}
}

static void cross_check(struct cfg_state *st)
{
	struct dg_config *cfg = st->cfg;

	check_iface_overlap(st);
	if (cfg->dot == DG_DOT_STRICT) {
		check_names(st, "DNS", cfg->dns, cfg->n_dns, st->dns_line);
		check_names(st, "FallbackDNS", cfg->fallback, cfg->n_fallback,
			    st->fallback_line);
	}
	check_upstreams(st);
	check_pins(st);
}

int dg_config_parse(struct dg_config *cfg, const char *source,
		    const char *text, size_t len)
{
	struct cfg_state st = { .cfg = cfg, .source = source ? source : "" };
	char line[CFG_LINE_MAX + 1];
	const char *p = text, *end, *nl;
	size_t n, skip;

	snprintf(cfg->source, sizeof(cfg->source), "%s", st.source);
	if (!text)
		len = 0;
	end = text ? text + len : text;
	if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;		/* a UTF-8 byte order mark, as systemd skips */
	while (p < end) {
		st.line++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl ? nl : end) - p);
		skip = nl ? n + 1 : n;
		if (n && p[n - 1] == '\r')
			n--;
		if (n > CFG_LINE_MAX) {
			cfg_error(&st, "line longer than %d bytes", CFG_LINE_MAX);
		} else if (memchr(p, '\0', n)) {
			cfg_error(&st, "NUL byte in line");
		} else {
			memcpy(line, p, n);
			line[n] = '\0';
			parse_line(&st, line);
		}
		p += skip;
	}
	cross_check(&st);
	return st.errors;
}

static void servers_default(struct dg_server *list, int *n,
			    const char *const *text, int count)
{
	const char *why;
	int i;

	for (i = 0, *n = 0; i < count; i++)
		if (!dg_server_parse(text[i], &list[*n], &why))
			(*n)++;
}

void dg_config_defaults(struct dg_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	servers_default(cfg->dns, &cfg->n_dns, default_dns,
			sizeof(default_dns) / sizeof(default_dns[0]));
	servers_default(cfg->fallback, &cfg->n_fallback, default_fallback,
			sizeof(default_fallback) / sizeof(default_fallback[0]));
	cfg->dot = DG_DOT_STRICT;
	cfg->cache = DG_CACHE_YES;
	cfg->stub = DG_STUB_YES;
	cfg->read_etc_hosts = true;
	snprintf(cfg->ca_file, sizeof(cfg->ca_file), "%s", DEFAULT_CA_FILE);
	cfg->pool_size = DG_CFG_POOL_DEFAULT;
	cfg->mode = DG_MODE_REDIRECT;
	snprintf(cfg->pin_path, sizeof(cfg->pin_path), "%s",
		 DG_PIN_PATH_DEFAULT);
	snprintf(cfg->user, sizeof(cfg->user), "%s", DG_CFG_USER_DEFAULT);
}

/* Read all of fd into a new buffer; -EFBIG past CFG_FILE_MAX. */
static int read_all(int fd, char **out, size_t *len)
{
	char *buf = malloc(CFG_FILE_MAX + 1);
	size_t n = 0;
	ssize_t r;

	if (!buf)
		return -ENOMEM;
	while (n <= CFG_FILE_MAX) {
		r = read(fd, buf + n, CFG_FILE_MAX + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			r = -errno;
			free(buf);
			return (int)r;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	if (n > CFG_FILE_MAX) {
		free(buf);
		return -EFBIG;
	}
	*out = buf;
	*len = n;
	return 0;
}

int dg_config_load(struct dg_config *cfg, const char *path)
{
	const char *file = path ? path : DG_CONFIG_PATH_DEFAULT;
	char *text = NULL;
	size_t len = 0;
	int fd, err;

	dg_config_defaults(cfg);
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		err = errno;
		if (!path && err == ENOENT) {
			log_debug("%s: not found, using built-in defaults",
				  file);
			return 0;
		}
		log_error("%s: %s", file, strerror(err));
		return -err;
	}
	err = read_all(fd, &text, &len);
	close(fd);
	if (err == -EFBIG) {
		log_error("%s: larger than 1 MiB, not read", file);
		return err;
	}
	if (err) {
		log_error("%s: %s", file, strerror(-err));
		return err;
	}
	err = dg_config_parse(cfg, file, text, len);
	if (!err && dg_sha256(text, len, cfg->sha256))
		memset(cfg->sha256, 0, sizeof(cfg->sha256));
	free(text);
	return err;
}
