// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/config.c: what a user writes in dotguard.conf, what
 * ends up in struct dg_config, and the exact "FILE:LINE: ..." text they
 * are told. Every parse goes through an exact-size heap copy with no
 * terminating NUL, so ASan catches any read past len.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "dotguard/pins.h"
#include "config.h"
#include "log.h"

#define PIN_B64 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="	/* 0..31 */
#define MAX_LOGS 64

struct logged {
	enum dg_log_level level;
	char text[1024];
};

static struct logged logs[MAX_LOGS];
static int n_logs;
static struct dg_config cfg;

static void capture(enum dg_log_level level, const char *msg, void *arg)
{
	(void)arg;
	if (n_logs >= MAX_LOGS)
		return;
	logs[n_logs].level = level;
	snprintf(logs[n_logs].text, sizeof(logs[n_logs].text), "%s", msg);
	n_logs++;
}

static int setup(void **state)
{
	(void)state;
	n_logs = 0;
	log_set_sink(capture, NULL);
	log_set_level(DG_LOG_DEBUG);
	dg_config_defaults(&cfg);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	log_set_sink(NULL, NULL);
	log_set_level(DG_LOG_INFO);
	return 0;
}

static int count(enum dg_log_level level)
{
	int i, n = 0;

	for (i = 0; i < n_logs; i++)
		n += logs[i].level == level;
	return n;
}

static void dump_logs(void)
{
	int i;

	for (i = 0; i < n_logs; i++)
		print_message("  logged[%d] level %d: %s\n", i, logs[i].level,
			      logs[i].text);
}

/* The idx-th message of this level, as the user would read it. */
static const char *nth(enum dg_log_level level, int idx)
{
	int i;

	for (i = 0; i < n_logs; i++)
		if (logs[i].level == level && !idx--)
			return logs[i].text;
	dump_logs();
	fail_msg("no message #%d at level %d", idx, level);
	return NULL;
}

/* Parse len bytes from an exact-size heap copy: no NUL after the text. */
static int parse_n(const char *text, size_t len)
{
	char *copy = malloc(len ? len : 1);
	int ret;

	assert_non_null(copy);
	memcpy(copy, text, len);
	n_logs = 0;
	ret = dg_config_parse(&cfg, "x.conf", copy, len);
	free(copy);
	return ret;
}

static int parse(const char *text)
{
	return parse_n(text, strlen(text));
}

/* Parse text and expect exactly one error, with this exact wording. */
static void expect_one_error(const char *text, const char *msg)
{
	dg_config_defaults(&cfg);
	if (parse(text) != 1 || count(DG_LOG_ERROR) != 1) {
		dump_logs();
		fail_msg("expected one error for:\n%s", text);
	}
	assert_string_equal(nth(DG_LOG_ERROR, 0), msg);
}

static void expect_clean(const char *text)
{
	if (parse(text) != 0 || count(DG_LOG_ERROR) || count(DG_LOG_WARN)) {
		dump_logs();
		fail_msg("expected no errors or warnings for:\n%s", text);
	}
}

static const char *server_str(const struct dg_server *s)
{
	static char buf[512];

	return dg_server_str(s, buf, sizeof(buf));
}

/* Test that the built-in defaults are the documented safe ones. */
static void test_defaults(void **state)
{
	(void)state;
	assert_int_equal(cfg.n_dns, 2);
	assert_string_equal(server_str(&cfg.dns[0]), "9.9.9.9#dns.quad9.net");
	assert_string_equal(server_str(&cfg.dns[1]),
			    "149.112.112.112#dns.quad9.net");
	assert_int_equal(cfg.n_fallback, 1);
	assert_string_equal(server_str(&cfg.fallback[0]),
			    "1.1.1.1#cloudflare-dns.com");
	assert_int_equal(cfg.dot, DG_DOT_STRICT);
	assert_int_equal(cfg.cache, DG_CACHE_YES);
	assert_int_equal(cfg.stub, DG_STUB_YES);
	assert_int_equal(cfg.n_stub_extra, 0);
	assert_true(cfg.read_etc_hosts);
	assert_string_equal(cfg.ca_file, "/etc/ssl/certs/ca-certificates.crt");
	assert_int_equal(cfg.n_pins, 0);
	assert_int_equal(cfg.mode, DG_MODE_REDIRECT);
	assert_int_equal(cfg.n_ifaces, 0);
	assert_int_equal(cfg.n_gw_ifaces, 0);
	assert_string_equal(cfg.pin_path, DG_PIN_PATH_DEFAULT);
	assert_string_equal(cfg.source, "");
}

/* Test that design.md's example file, fully filled in, parses cleanly. */
static void test_full_file(void **state)
{
	(void)state;
	expect_clean("# dotguard.conf\n"
		     "[Resolve]\n"
		     "DNS=9.9.9.9#dns.quad9.net 149.112.112.112#dns.quad9.net\n"
		     "FallbackDNS=1.1.1.1#cloudflare-dns.com\n"
		     "DNSOverTLS=yes\n"
		     "Cache=no-negative\n"
		     "DNSStubListener=udp\n"
		     "DNSStubListenerExtra=127.0.0.54 [::1]:5353\n"
		     "ReadEtcHosts=no\n"
		     "\n"
		     "[TLS]\n"
		     "CAFile=/etc/dotguard/ca.pem\n"
		     "; a pin for quad9\n"
		     "SPKIPin=dns.quad9.net sha256/" PIN_B64 "\n"
		     "\n"
		     "[Guard]\n"
		     "Mode=drop\n"
		     "Interface=eth0 wlan0\n"
		     "GatewayInterface=lan0\n"
		     "PinPath=/sys/fs/bpf/dg-test\n"
		     "User=_dg-guard0\n");
	assert_string_equal(cfg.source, "x.conf");
	assert_int_equal(cfg.n_dns, 2);
	assert_string_equal(server_str(&cfg.dns[1]),
			    "149.112.112.112#dns.quad9.net");
	assert_int_equal(cfg.n_fallback, 1);
	assert_int_equal(cfg.dot, DG_DOT_STRICT);
	assert_int_equal(cfg.cache, DG_CACHE_NO_NEGATIVE);
	assert_int_equal(cfg.stub, DG_STUB_UDP);
	assert_int_equal(cfg.n_stub_extra, 2);
	assert_string_equal(server_str(&cfg.stub_extra[0]), "127.0.0.54");
	assert_string_equal(server_str(&cfg.stub_extra[1]), "[::1]:5353");
	assert_false(cfg.read_etc_hosts);
	assert_string_equal(cfg.ca_file, "/etc/dotguard/ca.pem");
	assert_int_equal(cfg.n_pins, 1);
	assert_string_equal(cfg.pins[0].name, "dns.quad9.net");
	assert_int_equal(cfg.pins[0].sha256[0], 0);
	assert_int_equal(cfg.pins[0].sha256[31], 31);
	assert_int_equal(cfg.mode, DG_MODE_DROP);
	assert_int_equal(cfg.n_ifaces, 2);
	assert_string_equal(cfg.ifaces[0], "eth0");
	assert_string_equal(cfg.ifaces[1], "wlan0");
	assert_int_equal(cfg.n_gw_ifaces, 1);
	assert_string_equal(cfg.gw_ifaces[0], "lan0");
	assert_string_equal(cfg.pin_path, "/sys/fs/bpf/dg-test");
	assert_string_equal(cfg.user, "_dg-guard0");
	assert_true(cfg.user_set);
}

/* Test that every key's bad values give one error naming line and key. */
static void test_bad_values(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} rows[] = {
		{ "[Resolve]\nDNSOverTLS=maybe\n",
		  "x.conf:2: DNSOverTLS=: expected yes, opportunistic or no, got 'maybe'" },
		{ "[Resolve]\nDNSOverTLS=\n",
		  "x.conf:2: DNSOverTLS=: expected yes, opportunistic or no, got ''" },
		{ "[Resolve]\nCache=sometimes\n",
		  "x.conf:2: Cache=: expected yes, no or no-negative, got 'sometimes'" },
		{ "[Resolve]\nDNSStubListener=sctp\n",
		  "x.conf:2: DNSStubListener=: expected yes, no, udp or tcp, got 'sctp'" },
		{ "[Resolve]\nReadEtcHosts=perhaps\n",
		  "x.conf:2: ReadEtcHosts=: expected yes or no, got 'perhaps'" },
		{ "[Resolve]\nDNS=9.9.9.9:99999\n",
		  "x.conf:2: DNS=: '9.9.9.9:99999': port must be 1-65535" },
		{ "[Resolve]\nFallbackDNS=1.2.3.4.5\n",
		  "x.conf:2: FallbackDNS=: '1.2.3.4.5': not an IPv4 or IPv6 address" },
		{ "[Resolve]\nDNSStubListenerExtra=127.0.0.54:0\n",
		  "x.conf:2: DNSStubListenerExtra=: '127.0.0.54:0': port must be 1-65535" },
		{ "[TLS]\nCAFile=certs.pem\n",
		  "x.conf:2: CAFile=: expected an absolute path, got 'certs.pem'" },
		{ "[TLS]\nCAFile=\n",
		  "x.conf:2: CAFile=: expected an absolute path, got ''" },
		{ "[TLS]\nSPKIPin=dns.quad9.net\n",
		  "x.conf:2: SPKIPin=: expected 'NAME sha256/BASE64', got 'dns.quad9.net'" },
		{ "[TLS]\nSPKIPin=a.example sha256/x y\n",
		  "x.conf:2: SPKIPin=: expected 'NAME sha256/BASE64', got 'a.example sha256/x y'" },
		{ "[TLS]\nSPKIPin=bad_name.example sha256/" PIN_B64 "\n",
		  "x.conf:2: SPKIPin=: 'bad_name.example': name may contain only letters, digits, '-' and '.'" },
		{ "[TLS]\nSPKIPin=a.example md5/" PIN_B64 "\n",
		  "x.conf:2: SPKIPin=: expected sha256/ and the base64 of 32 bytes, got 'md5/" PIN_B64 "'" },
		{ "[TLS]\nSPKIPin=a.example sha256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n",
		  "x.conf:2: SPKIPin=: expected sha256/ and the base64 of 32 bytes, got 'sha256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg=='" },
		{ "[TLS]\nSPKIPin=a.example sha256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g\n",
		  "x.conf:2: SPKIPin=: expected sha256/ and the base64 of 32 bytes, got 'sha256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g'" },
		{ "[TLS]\nSPKIPin=a.example sha256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh*=\n",
		  "x.conf:2: SPKIPin=: expected sha256/ and the base64 of 32 bytes, got 'sha256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh*='" },
		/* Leftover bits set, text after the padding, padding inside:
		 * what a lenient decoder (wolfCrypt's) would let through. */
		{ "[TLS]\nSPKIPin=a.example sha256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=\n",
		  "x.conf:2: SPKIPin=: expected sha256/ and the base64 of 32 bytes, got 'sha256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9='" },
		{ "[TLS]\nSPKIPin=a.example sha256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=AAAA\n",
		  "x.conf:2: SPKIPin=: expected sha256/ and the base64 of 32 bytes, got 'sha256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=AAAA'" },
		{ "[TLS]\nSPKIPin=a.example sha256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd=Hh8\n",
		  "x.conf:2: SPKIPin=: expected sha256/ and the base64 of 32 bytes, got 'sha256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd=Hh8'" },
		{ "[Guard]\nMode=blok\n",
		  "x.conf:2: Mode=: expected redirect, drop or monitor, got 'blok'" },
		{ "[Guard]\nMode=yes\n",
		  "x.conf:2: Mode=: expected redirect, drop or monitor, got 'yes'" },
		{ "[Guard]\nInterface=eth0/1\n",
		  "x.conf:2: Interface=: 'eth0/1': interface name contains '/', ':' or whitespace" },
		{ "[Guard]\nInterface=eth0:1\n",
		  "x.conf:2: Interface=: 'eth0:1': interface name contains '/', ':' or whitespace" },
		{ "[Guard]\nInterface=..\n",
		  "x.conf:2: Interface=: '..': interface name may not be '.' or '..'" },
		{ "[Guard]\nGatewayInterface=averyveryverylong0\n",
		  "x.conf:2: GatewayInterface=: 'averyveryverylong0': interface name longer than 15 characters" },
		{ "[Guard]\nPinPath=bpf/dotguard\n",
		  "x.conf:2: PinPath=: expected an absolute path, got 'bpf/dotguard'" },
		{ "[Guard]\nPinPath=\n",
		  "x.conf:2: PinPath=: expected an absolute path, got ''" },
		{ "[Guard]\nUser=\n",
		  "x.conf:2: User=: expected a user name (lower case, digits, '_', '-', up to 31 characters), got ''" },
		{ "[Guard]\nUser=Root\n",
		  "x.conf:2: User=: expected a user name (lower case, digits, '_', '-', up to 31 characters), got 'Root'" },
		{ "[Guard]\nUser=../etc\n",
		  "x.conf:2: User=: expected a user name (lower case, digits, '_', '-', up to 31 characters), got '../etc'" },
		{ "[Guard]\nUser=abcdefghijklmnopqrstuvwxyz012345\n",
		  "x.conf:2: User=: expected a user name (lower case, digits, '_', '-', up to 31 characters), got 'abcdefghijklmnopqrstuvwxyz012345'" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		expect_one_error(rows[i].text, rows[i].msg);
}

/* Test that a bad value leaves the default in place. */
static void test_bad_value_keeps_default(void **state)
{
	(void)state;
	assert_int_equal(parse("[Guard]\nMode=blok\n[TLS]\nCAFile=rel\n"), 2);
	assert_int_equal(cfg.mode, DG_MODE_REDIRECT);
	assert_string_equal(cfg.ca_file, "/etc/ssl/certs/ca-certificates.crt");
}

/* Test that every error in a file is reported, not only the first. */
static void test_all_errors_reported(void **state)
{
	(void)state;
	assert_int_equal(parse("[Resolve]\n"
			       "Cache=x\n"
			       "DNS=192.0.2.1#a.example 192.0.2.2:0 ::g\n"
			       "[Guard]\n"
			       "Mode=\n"),
			 4);
	assert_int_equal(count(DG_LOG_ERROR), 4);
	assert_string_equal(nth(DG_LOG_ERROR, 0),
			    "x.conf:2: Cache=: expected yes, no or no-negative, got 'x'");
	assert_string_equal(nth(DG_LOG_ERROR, 1),
			    "x.conf:3: DNS=: '192.0.2.2:0': port must be 1-65535");
	assert_string_equal(nth(DG_LOG_ERROR, 2),
			    "x.conf:3: DNS=: '::g': not an IPv4 or IPv6 address");
	assert_string_equal(nth(DG_LOG_ERROR, 3),
			    "x.conf:5: Mode=: expected redirect, drop or monitor, got ''");
	/* The good server on the same line is still taken. */
	assert_int_equal(cfg.n_dns, 1);
}

/* Test the boolean spellings systemd accepts, and each enum's words. */
static void test_booleans_and_enums(void **state)
{
	static const struct {
		const char *text;
		int dot, cache, stub, hosts;
	} rows[] = {
		{ "DNSOverTLS=true\nCache=off\nDNSStubListener=0\nReadEtcHosts=false\n",
		  DG_DOT_STRICT, DG_CACHE_NO, DG_STUB_NO, 0 },
		{ "DNSOverTLS=0\nCache=On\nDNSStubListener=YES\nReadEtcHosts=1\n",
		  DG_DOT_OFF, DG_CACHE_YES, DG_STUB_YES, 1 },
		{ "DNSOverTLS=opportunistic\nCache=no-negative\nDNSStubListener=tcp\nReadEtcHosts=on\n",
		  DG_DOT_OPPORTUNISTIC, DG_CACHE_NO_NEGATIVE, DG_STUB_TCP, 1 },
		{ "DNSOverTLS=no\nCache=no\nDNSStubListener=udp\nReadEtcHosts=off\n",
		  DG_DOT_OFF, DG_CACHE_NO, DG_STUB_UDP, 0 },
	};
	char text[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		dg_config_defaults(&cfg);
		snprintf(text, sizeof(text), "[Resolve]\n%s", rows[i].text);
		expect_clean(text);
		assert_int_equal(cfg.dot, rows[i].dot);
		assert_int_equal(cfg.cache, rows[i].cache);
		assert_int_equal(cfg.stub, rows[i].stub);
		assert_int_equal(cfg.read_etc_hosts, rows[i].hosts);
	}
	dg_config_defaults(&cfg);
	expect_clean("[Guard]\nMode=monitor\n");
	assert_int_equal(cfg.mode, DG_MODE_MONITOR);
	expect_clean("[Guard]\nMode=redirect\n");
	assert_int_equal(cfg.mode, DG_MODE_REDIRECT);
}

/* Test every accepted server form and that it formats back the same. */
static void test_server_forms(void **state)
{
	static const struct {
		const char *text;
		int family;
		uint16_t port;
		const char *ifname, *name, *str;
	} rows[] = {
		{ "9.9.9.9", AF_INET, 0, "", "", "9.9.9.9" },
		{ "9.9.9.9:853", AF_INET, 853, "", "", "9.9.9.9:853" },
		{ "9.9.9.9#dns.quad9.net", AF_INET, 0, "", "dns.quad9.net",
		  "9.9.9.9#dns.quad9.net" },
		{ "192.0.2.1:853%eth0#dns.example", AF_INET, 853, "eth0",
		  "dns.example", "192.0.2.1:853%eth0#dns.example" },
		{ "192.0.2.1:1", AF_INET, 1, "", "", "192.0.2.1:1" },
		{ "192.0.2.1:65535", AF_INET, 65535, "", "", "192.0.2.1:65535" },
		{ "[2001:db8::1]:853#dns.example", AF_INET6, 853, "",
		  "dns.example", "[2001:db8::1]:853#dns.example" },
		{ "2001:db8::1#dns.example", AF_INET6, 0, "", "dns.example",
		  "2001:db8::1#dns.example" },
		{ "2001:db8::1", AF_INET6, 0, "", "", "2001:db8::1" },
		{ "[2001:db8::1]", AF_INET6, 0, "", "", "2001:db8::1" },
		{ "fe80::1%eth0", AF_INET6, 0, "eth0", "", "fe80::1%eth0" },
		{ "[fe80::1]:53%eth0#x.example", AF_INET6, 53, "eth0",
		  "x.example", "[fe80::1]:53%eth0#x.example" },
		{ "1.1.1.1#cloudflare-dns.com.", AF_INET, 0, "",
		  "cloudflare-dns.com.", "1.1.1.1#cloudflare-dns.com." },
		{ "192.0.2.1#1-a.b2.example", AF_INET, 0, "", "1-a.b2.example",
		  "192.0.2.1#1-a.b2.example" },
	};
	struct dg_server s;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		why = "unset";
		if (dg_server_parse(rows[i].text, &s, &why))
			fail_msg("'%s' rejected: %s", rows[i].text, why);
		assert_null(why);
		assert_int_equal(s.family, rows[i].family);
		assert_int_equal(s.port, rows[i].port);
		assert_string_equal(s.ifname, rows[i].ifname);
		assert_string_equal(s.name, rows[i].name);
		assert_string_equal(server_str(&s), rows[i].str);
	}
	assert_int_equal(dg_server_parse("192.0.2.7:53", &s, &why), 0);
	assert_int_equal(s.addr.v4.s_addr, htonl(0xc0000207));
}

/* Test each malformed server form is refused with the reason. */
static void test_server_malformed(void **state)
{
	static const struct {
		const char *text, *why;
	} rows[] = {
		{ "", "empty address" },
		{ "#dns.example", "empty address" },
		{ "192.0.2", "not an IPv4 or IPv6 address" },
		{ "dns.quad9.net", "not an IPv4 or IPv6 address" },
		{ "192.0.2.256", "not an IPv4 or IPv6 address" },
		{ "192.0.2.1:0", "port must be 1-65535" },
		{ "192.0.2.1:65536", "port must be 1-65535" },
		{ "192.0.2.1:99999", "port must be 1-65535" },
		{ "192.0.2.1:853853", "port must be 1-65535" },
		{ "192.0.2.1:https", "port must be 1-65535" },
		{ "192.0.2.1:", "port must be 1-65535" },
		{ "192.0.2.1:+53", "port must be 1-65535" },
		{ "[2001:db8::1]:0", "port must be 1-65535" },
		{ "[2001:db8::1]:", "port must be 1-65535" },
		{ "2001:db8:0:0:0:0:0:1:853",
		  "an IPv6 address with a port must be written [ADDRESS]:PORT" },
		{ "2001:db8::g", "not an IPv4 or IPv6 address" },
		{ "[2001:db8::1", "missing ']'" },
		{ "[2001:db8::1]853", "expected ':PORT' after ']'" },
		{ "[192.0.2.1]:853", "not an IPv6 address" },
		{ "[]:853", "not an IPv6 address" },
		{ "192.0.2.1#", "empty name after '#'" },
		{ "192.0.2.1#.", "empty label in name" },
		{ "192.0.2.1#a..example", "empty label in name" },
		{ "192.0.2.1#.example", "empty label in name" },
		{ "192.0.2.1#-dns.example", "label starts or ends with '-'" },
		{ "192.0.2.1#dns-.example", "label starts or ends with '-'" },
		{ "192.0.2.1#dns.example-", "label starts or ends with '-'" },
		{ "192.0.2.1#dns_x.example",
		  "name may contain only letters, digits, '-' and '.'" },
		{ "192.0.2.1#dns.example#x",
		  "name may contain only letters, digits, '-' and '.'" },
		{ "192.0.2.1%", "empty interface name after '%'" },
		{ "192.0.2.1%#dns.example", "empty interface name after '%'" },
		{ "192.0.2.1%averyveryverylong0",
		  "interface name longer than 15 characters" },
		{ "[fe80::1%eth0]:53",
		  "interface name contains '/', ':' or whitespace" },
	};
	struct dg_server s;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		why = NULL;
		if (!dg_server_parse(rows[i].text, &s, &why))
			fail_msg("'%s' accepted", rows[i].text);
		assert_non_null(why);
		if (strcmp(why, rows[i].why))
			fail_msg("'%s': got '%s', expected '%s'",
				 rows[i].text, why, rows[i].why);
	}
}

/* Test the 63-byte label and 253-byte name limits, at and past the edge. */
static void test_name_limits(void **state)
{
	char text[400], label[64], expect[256];
	struct dg_server s;
	const char *why;
	size_t n;

	(void)state;
	memset(label, 'a', 63);
	label[63] = '\0';
	snprintf(text, sizeof(text), "192.0.2.1#%s.example", label);
	assert_int_equal(dg_server_parse(text, &s, &why), 0);
	snprintf(text, sizeof(text), "192.0.2.1#%sa.example", label);
	assert_int_equal(dg_server_parse(text, &s, &why), -EINVAL);
	assert_string_equal(why, "label longer than 63 characters");

	/* 4 x 63 + 3 dots = 255; trim to exactly 253. */
	snprintf(text, sizeof(text), "192.0.2.1#%s.%s.%s.%s", label, label,
		 label, label);
	n = strlen("192.0.2.1#");
	text[n + 253] = '\0';
	assert_int_equal(dg_server_parse(text, &s, &why), 0);
	assert_int_equal(strlen(s.name), 253);
	strcat(text, ".");		/* the final dot is not counted */
	assert_int_equal(dg_server_parse(text, &s, &why), 0);
	text[n + 253] = 'b';		/* 254 characters */
	assert_int_equal(dg_server_parse(text, &s, &why), -EINVAL);
	assert_string_equal(why, "name longer than 253 characters");
	memset(text + n, 'a', 300);
	text[n + 300] = '\0';
	assert_int_equal(dg_server_parse(text, &s, &why), -EINVAL);
	assert_string_equal(why, "name longer than 253 characters");

	/* And through the file, with the value clipped in the message. */
	snprintf(text, sizeof(text), "[Resolve]\nDNS=192.0.2.1#%sa.example\n",
		 label);
	assert_int_equal(parse(text), 1);
	/* 64 characters are quoted: "192.0.2.1#" and 54 of the a's. */
	snprintf(expect, sizeof(expect),
		 "x.conf:2: DNS=: '192.0.2.1#%.54s...': label longer than 63 characters",
		 label);
	assert_string_equal(nth(DG_LOG_ERROR, 0), expect);
}

/* Test that the first DNS= replaces the built-in list, later ones add. */
static void test_list_first_replaces(void **state)
{
	(void)state;
	expect_clean("[Resolve]\nDNS=192.0.2.1#a.example\n");
	assert_int_equal(cfg.n_dns, 1);
	assert_string_equal(server_str(&cfg.dns[0]), "192.0.2.1#a.example");
	assert_int_equal(cfg.n_fallback, 1);	/* untouched default */

	dg_config_defaults(&cfg);
	expect_clean("[Resolve]\nFallbackDNS=192.0.2.9#f.example\n"
		     "DNS=192.0.2.1#a.example\n"
		     "DNS=192.0.2.2#b.example 192.0.2.3#c.example\n"
		     "FallbackDNS=192.0.2.10#g.example\n");
	assert_int_equal(cfg.n_dns, 3);
	assert_string_equal(server_str(&cfg.dns[2]), "192.0.2.3#c.example");
	assert_int_equal(cfg.n_fallback, 2);
	assert_string_equal(server_str(&cfg.fallback[0]), "192.0.2.9#f.example");
	assert_string_equal(server_str(&cfg.fallback[1]),
			    "192.0.2.10#g.example");
}

/* Test that an empty value clears a list and later lines start over. */
static void test_list_clear(void **state)
{
	(void)state;
	expect_clean("[Resolve]\nDNS=192.0.2.1#a.example\nDNS=\n"
		     "DNS=192.0.2.2#b.example\n"
		     "[Guard]\nInterface=eth0 eth1\nInterface=\nInterface=eth2\n"
		     "GatewayInterface=lan0\nGatewayInterface=\n");
	assert_int_equal(cfg.n_dns, 1);
	assert_string_equal(server_str(&cfg.dns[0]), "192.0.2.2#b.example");
	assert_int_equal(cfg.n_ifaces, 1);
	assert_string_equal(cfg.ifaces[0], "eth2");
	assert_int_equal(cfg.n_gw_ifaces, 0);

	/* DNS= empty with the fallback left is valid: resolved uses it. */
	dg_config_defaults(&cfg);
	expect_clean("[Resolve]\nDNS=\n");
	assert_int_equal(cfg.n_dns, 0);
	assert_int_equal(cfg.n_fallback, 1);

	dg_config_defaults(&cfg);
	expect_clean("[Resolve]\nFallbackDNS=\n");
	assert_int_equal(cfg.n_dns, 2);
	assert_int_equal(cfg.n_fallback, 0);

	/* Pins accumulate and clear the same way. */
	dg_config_defaults(&cfg);
	expect_clean("[Resolve]\nDNS=192.0.2.2#b.example\n"
		     "[TLS]\nSPKIPin=a.example sha256/" PIN_B64 "\n"
		     "SPKIPin=\nSPKIPin=b.example sha256/" PIN_B64 "\n"
		     "SPKIPin=b.example sha256/AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n");
	assert_int_equal(cfg.n_pins, 2);
	assert_string_equal(cfg.pins[0].name, "b.example");
	assert_memory_equal(cfg.pins[0].sha256, cfg.pins[1].sha256, 32);
}

/* Test that with no upstream left at all the file is refused. */
static void test_no_upstreams(void **state)
{
	(void)state;
	assert_int_equal(parse("[Resolve]\nDNS=\nFallbackDNS=\n"), 1);
	assert_string_equal(nth(DG_LOG_ERROR, 0),
			    "x.conf:3: no upstream servers: DNS= and FallbackDNS= are both empty");
}

/* Test that an SPKIPin= naming no upstream's #NAME warns at its line (a
 * typo there would silently protect nothing), names matching in any case
 * or only in FallbackDNS= do not, and neither is an error. */
static void test_pin_matching_no_upstream(void **state)
{
	(void)state;
	assert_int_equal(parse("[Resolve]\nDNS=192.0.2.1#a.example\n"
			       "FallbackDNS=192.0.2.2#b.example\n[TLS]\n"
			       "SPKIPin=A.Example sha256/" PIN_B64 "\n"
			       "SPKIPin=b.example sha256/" PIN_B64 "\n"
			       "SPKIPin=c.example sha256/" PIN_B64 "\n"),
			 0);
	assert_int_equal(count(DG_LOG_WARN), 1);
	assert_string_equal(nth(DG_LOG_WARN, 0),
			    "x.conf:7: SPKIPin=: 'c.example' is the #NAME of no upstream in DNS= or FallbackDNS=: this pin checks nothing");
}

/* Test that strict DoT without #NAME warns (IP-only check), no error. */
static void test_strict_without_name(void **state)
{
	(void)state;
	assert_int_equal(parse("[Resolve]\nDNS=192.0.2.1 192.0.2.2#b.example\n"
			       "FallbackDNS=[2001:db8::1]:853\n"),
			 0);
	assert_int_equal(count(DG_LOG_WARN), 2);
	assert_string_equal(nth(DG_LOG_WARN, 0),
			    "x.conf:2: DNS=: '192.0.2.1' has no #NAME: with DNSOverTLS=yes the certificate will be checked against the IP address only");
	assert_string_equal(nth(DG_LOG_WARN, 1),
			    "x.conf:3: FallbackDNS=: '[2001:db8::1]:853' has no #NAME: with DNSOverTLS=yes the certificate will be checked against the IP address only");

	/* Opportunistic checks no certificate, so nothing to say. */
	dg_config_defaults(&cfg);
	expect_clean("[Resolve]\nDNS=192.0.2.1\nDNSOverTLS=opportunistic\n");
	dg_config_defaults(&cfg);
	expect_clean("[Resolve]\nDNS=192.0.2.1\nDNSOverTLS=no\n");
}

/* Test that unknown keys and sections warn and are skipped, not fatal. */
static void test_unknown_key_and_section(void **state)
{
	(void)state;
	assert_int_equal(parse("[Resolve]\nFoo=bar\n"), 0);
	assert_int_equal(count(DG_LOG_ERROR), 0);
	assert_int_equal(count(DG_LOG_WARN), 1);
	assert_string_equal(nth(DG_LOG_WARN, 0),
			    "x.conf:2: unknown key 'Foo' in [Resolve], ignored");

	/* A key of another section is unknown where it is written. */
	assert_int_equal(parse("[Guard]\nDNS=192.0.2.1\n"), 0);
	assert_string_equal(nth(DG_LOG_WARN, 0),
			    "x.conf:2: unknown key 'DNS' in [Guard], ignored");
	assert_int_equal(cfg.n_dns, 2);

	assert_int_equal(parse("[Network]\nDNS=192.0.2.1\nFoo=1\nMode=x\n"
			       "[Guard]\nMode=drop\n"),
			 0);
	assert_int_equal(count(DG_LOG_ERROR), 0);
	assert_int_equal(count(DG_LOG_WARN), 1);
	assert_string_equal(nth(DG_LOG_WARN, 0),
			    "x.conf:1: unknown section [Network], its keys are ignored");
	assert_int_equal(cfg.n_dns, 2);
	assert_int_equal(cfg.mode, DG_MODE_DROP);
}

/* Test that resolved.conf keys dotguard does not implement warn. */
static void test_resolved_only_keys(void **state)
{
	static const char *const keys[] = {
		"DNSSEC", "Domains", "LLMNR", "MulticastDNS",
		"CacheFromLocalhost", "StaleRetentionSec",
		"ResolveUnicastSingleLabel",
	};
	char text[128], msg[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(text, sizeof(text), "[Resolve]\n%s=yes\n", keys[i]);
		assert_int_equal(parse(text), 0);
		assert_int_equal(count(DG_LOG_WARN), 1);
		snprintf(msg, sizeof(msg),
			 "x.conf:2: %s= is not supported by dotguard, ignored",
			 keys[i]);
		assert_string_equal(nth(DG_LOG_WARN, 0), msg);
	}
}

/* Test lines that are not Key=Value, [Section] or a comment. */
static void test_syntax_errors(void **state)
{
	(void)state;
	expect_one_error("[Resolve]\nDNS 192.0.2.1\n",
			 "x.conf:2: expected 'Key=Value' or '[Section]'");
	expect_one_error("[Resolve]\n=192.0.2.1\n",
			 "x.conf:2: expected 'Key=Value' or '[Section]'");
	expect_one_error("[Resolve\nDNS=192.0.2.1\n",
			 "x.conf:1: expected 'Key=Value' or '[Section]'");
	expect_one_error("[]\n",
			 "x.conf:1: expected 'Key=Value' or '[Section]'");
	expect_one_error("\n# comment\nDNS=192.0.2.1\n[Resolve]\n",
			 "x.conf:3: key outside any section");
	/* Comments, blank lines and surrounding space are fine. */
	dg_config_defaults(&cfg);
	expect_clean("  # c\n; c\n\n \t[Resolve]  \n  DNS  =  192.0.2.1#a.example \t\n");
	assert_int_equal(cfg.n_dns, 1);
}

/* Test that an overlong line is one error and the next line still counts. */
static void test_overlong_line(void **state)
{
	size_t len = 5000 + 64;
	char *text = malloc(len);
	int n;

	(void)state;
	assert_non_null(text);
	n = snprintf(text, len, "[Resolve]\nDNS=");
	memset(text + n, 'x', 5000 - (size_t)n);
	snprintf(text + 5000, len - 5000, "\nCache=no\n");
	assert_int_equal(parse(text), 1);
	assert_string_equal(nth(DG_LOG_ERROR, 0),
			    "x.conf:2: line longer than 4096 bytes");
	assert_int_equal(cfg.cache, DG_CACHE_NO);
	assert_int_equal(cfg.n_dns, 2);

	/* Exactly 4096 bytes is allowed, also with a CR before the LF. */
	memcpy(text, "[Resolve]\n#", 11);
	memset(text + 11, 'x', 4095);
	memcpy(text + 11 + 4095, "\r\n", 3);
	assert_int_equal(parse(text), 0);
	free(text);
}

/* Test that a NUL byte is one error with its line, and parsing goes on. */
static void test_embedded_nul(void **state)
{
	static const char text[] = "[Resolve]\nDNS=192.0.2.1\0#x.example\n"
				   "Cache=no\n";

	(void)state;
	assert_int_equal(parse_n(text, sizeof(text) - 1), 1);
	assert_int_equal(count(DG_LOG_ERROR), 1);
	assert_string_equal(nth(DG_LOG_ERROR, 0), "x.conf:2: NUL byte in line");
	assert_int_equal(cfg.n_dns, 2);
	assert_int_equal(cfg.cache, DG_CACHE_NO);
}

/* Test that only len bytes are read: a prefix parses as the prefix. */
static void test_not_nul_terminated(void **state)
{
	static const char text[] =
		"[Resolve]\nDNS=192.0.2.1#a.example 192.0.2.2#b.example\n";
	size_t cut = strlen("[Resolve]\nDNS=192.0.2.1#a.example");

	(void)state;
	assert_int_equal(parse_n(text, cut), 0);
	assert_int_equal(cfg.n_dns, 1);
	assert_string_equal(server_str(&cfg.dns[0]), "192.0.2.1#a.example");
	/* Cut inside the name: what is there is checked, nothing more. */
	dg_config_defaults(&cfg);
	assert_int_equal(parse_n(text, cut - 8), 0);
	assert_string_equal(server_str(&cfg.dns[0]), "192.0.2.1#a");
	/* Empty text and a NULL pointer leave the defaults. */
	dg_config_defaults(&cfg);
	assert_int_equal(parse_n(text, 0), 0);
	assert_int_equal(dg_config_parse(&cfg, "x.conf", NULL, 0), 0);
	assert_int_equal(cfg.n_dns, 2);
}

/* Test that CRLF files from other systems parse like LF files. */
static void test_crlf(void **state)
{
	(void)state;
	expect_clean("[Resolve]\r\nDNS=192.0.2.1#a.example\r\n"
		     "DNSOverTLS=opportunistic\r\n\r\n[Guard]\r\n"
		     "Interface=eth0\r\nPinPath=/sys/fs/bpf/x\r\n");
	assert_string_equal(cfg.dns[0].name, "a.example");
	assert_int_equal(cfg.dot, DG_DOT_OPPORTUNISTIC);
	assert_string_equal(cfg.ifaces[0], "eth0");
	assert_string_equal(cfg.pin_path, "/sys/fs/bpf/x");
}

/* Test the server and interface count limits: one error, no overflow. */
static void test_too_many(void **state)
{
	char text[2048];
	int i, n;

	(void)state;
	n = snprintf(text, sizeof(text), "[Resolve]\nDNS=");
	for (i = 0; i < DG_CFG_MAX_SERVERS + 3; i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n,
			      "192.0.2.%d#a.example ", i + 1);
	snprintf(text + n, sizeof(text) - (size_t)n, "\n");
	assert_int_equal(parse(text), 1);
	assert_string_equal(nth(DG_LOG_ERROR, 0),
			    "x.conf:2: DNS=: too many servers, at most 16");
	assert_int_equal(cfg.n_dns, DG_CFG_MAX_SERVERS);

	/* Across lines, the line that overflows is named. */
	n = snprintf(text, sizeof(text), "[Resolve]\nFallbackDNS=");
	for (i = 0; i < DG_CFG_MAX_SERVERS; i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n,
			      "192.0.2.%d#a.example ", i + 1);
	snprintf(text + n, sizeof(text) - (size_t)n,
		 "\nFallbackDNS=192.0.2.99#a.example\n");
	assert_int_equal(parse(text), 1);
	assert_string_equal(nth(DG_LOG_ERROR, 0),
			    "x.conf:3: FallbackDNS=: too many servers, at most 16");
	assert_int_equal(cfg.n_fallback, DG_CFG_MAX_SERVERS);

	n = snprintf(text, sizeof(text), "[Guard]\nInterface=");
	for (i = 0; i < DG_CFG_MAX_IFACES + 1; i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "eth%d ", i);
	snprintf(text + n, sizeof(text) - (size_t)n, "\n");
	assert_int_equal(parse(text), 1);
	assert_string_equal(nth(DG_LOG_ERROR, 0),
			    "x.conf:2: Interface=: too many interfaces, at most 16");
	assert_int_equal(cfg.n_ifaces, DG_CFG_MAX_IFACES);

	n = snprintf(text, sizeof(text), "[TLS]\n");
	for (i = 0; i < DG_CFG_MAX_PINS + 1; i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n,
			      "SPKIPin=a.example sha256/" PIN_B64 "\n");
	assert_int_equal(parse(text), 1);
	assert_string_equal(nth(DG_LOG_ERROR, 0),
			    "x.conf:18: SPKIPin=: too many pins, at most 16");
	assert_int_equal(cfg.n_pins, DG_CFG_MAX_PINS);
}

/* Test that an interface listed twice, even across lines, is an error. */
static void test_duplicate_interface(void **state)
{
	(void)state;
	expect_one_error("[Guard]\nInterface=eth0 eth0\n",
			 "x.conf:2: Interface=: 'eth0' is listed twice");
	expect_one_error("[Guard]\nGatewayInterface=lan0\nGatewayInterface=lan1 lan0\n",
			 "x.conf:3: GatewayInterface=: 'lan0' is listed twice");
	assert_int_equal(cfg.n_gw_ifaces, 2);
}

/* Test that one interface cannot be both uplink and gateway port. */
static void test_interface_in_both_lists(void **state)
{
	(void)state;
	expect_one_error("[Guard]\nInterface=eth0 eth1\n"
			 "GatewayInterface=lan0 eth1\n",
			 "x.conf:3: 'eth1' is in both Interface= and GatewayInterface=");
	expect_one_error("[Guard]\nGatewayInterface=eth1\n#\n"
			 "Interface=eth1\n",
			 "x.conf:4: 'eth1' is in both Interface= and GatewayInterface=");
}

/* Test that Interface= takes auto, globs and names in any mix, across
 * lines, each with the line it was written on. */
static void test_interface_auto_and_globs(void **state)
{
	(void)state;
	expect_clean("[Guard]\nInterface=auto wg* ppp*\n#\nInterface=eth[0-9] eth10\n");
	assert_true(cfg.iface_auto);
	assert_int_equal(cfg.n_ifaces, 4);
	assert_string_equal(cfg.ifaces[0], "wg*");
	assert_string_equal(cfg.ifaces[1], "ppp*");
	assert_string_equal(cfg.ifaces[2], "eth[0-9]");
	assert_string_equal(cfg.ifaces[3], "eth10");
	assert_int_equal(cfg.iface_line[0], 2);
	assert_int_equal(cfg.iface_line[3], 4);
	assert_true(dg_config_is_glob(cfg.ifaces[2]));
	assert_false(dg_config_is_glob(cfg.ifaces[3]));

	/* Longer than a name may be, as long as a glob may be. */
	dg_config_defaults(&cfg);
	expect_clean("[Guard]\nInterface=enp[0-9]*s[0-9]*f[[:digit:]] [!a-z]?*x [\\]]* w\\*\n");
	assert_false(cfg.iface_auto);
	assert_int_equal(cfg.n_ifaces, 4);
	assert_string_equal(cfg.ifaces[0], "enp[0-9]*s[0-9]*f[[:digit:]]");

	/* auto alone; later lines add to it; an empty value clears it. */
	dg_config_defaults(&cfg);
	expect_clean("[Guard]\nInterface=auto\nInterface=wg*\n");
	assert_true(cfg.iface_auto);
	assert_int_equal(cfg.n_ifaces, 1);
	dg_config_defaults(&cfg);
	expect_clean("[Guard]\nInterface=auto eth0\nInterface=\nGatewayInterface=lan0\n");
	assert_false(cfg.iface_auto);
	assert_int_equal(cfg.n_ifaces, 0);
	assert_false(dg_config_iface_auto(&cfg));
}

/* Test what Interface= means when written, half written or left out:
 * auto is the default with neither key, and a gateway-only config guards
 * no uplink. */
static void test_interface_defaults(void **state)
{
	(void)state;
	assert_true(dg_config_iface_auto(&cfg));
	assert_true(dg_config_host_mode(&cfg));

	expect_clean("[Guard]\nGatewayInterface=lan0\n");
	assert_false(dg_config_iface_auto(&cfg));
	assert_false(dg_config_host_mode(&cfg));

	dg_config_defaults(&cfg);
	expect_clean("[Guard]\nInterface=eth0\n");
	assert_false(dg_config_iface_auto(&cfg));
	assert_true(dg_config_host_mode(&cfg));

	dg_config_defaults(&cfg);
	expect_clean("[Guard]\nInterface=wg*\n");
	assert_false(dg_config_iface_auto(&cfg));
	assert_true(dg_config_host_mode(&cfg));

	dg_config_defaults(&cfg);
	expect_clean("[Guard]\nInterface=auto\nGatewayInterface=lan0\n");
	assert_true(dg_config_iface_auto(&cfg));
	assert_true(dg_config_host_mode(&cfg));
}

/* Test that each bad Interface= entry is one error naming line and
 * entry, and that the rest of the line is still taken. */
static void test_interface_errors(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} rows[] = {
		{ "[Guard]\nInterface=eth[0-9\n",
		  "x.conf:2: Interface=: 'eth[0-9': '[' without its ']'" },
		{ "[Guard]\nInterface=eth[]\n",
		  "x.conf:2: Interface=: 'eth[]': '[' without its ']'" },
		{ "[Guard]\nInterface=eth[[:digits:]]\n",
		  "x.conf:2: Interface=: 'eth[[:digits:]]': unknown character class in '[...]'" },
		{ "[Guard]\nInterface=eth[[:digit:]\n",
		  "x.conf:2: Interface=: 'eth[[:digit:]': '[' without its ']'" },
		{ "[Guard]\nInterface=eth*\\\n",
		  "x.conf:2: Interface=: 'eth*\\': pattern ends in '\\'" },
		{ "[Guard]\nInterface=e*/x\n",
		  "x.conf:2: Interface=: 'e*/x': pattern contains '/' or whitespace" },
		{ "[Guard]\nInterface=abcdefghijklmnopqrstuvwxyz01234*\n",
		  "x.conf:2: Interface=: 'abcdefghijklmnopqrstuvwxyz01234*': pattern longer than 31 characters" },
		{ "[Guard]\nInterface=auto auto\n",
		  "x.conf:2: Interface=: 'auto' is listed twice" },
		{ "[Guard]\nInterface=wg* wg*\n",
		  "x.conf:2: Interface=: 'wg*' is listed twice" },
		{ "[Guard]\nInterface=lo\n",
		  "x.conf:2: Interface=: 'lo': loopback, never guarded" },
		{ "[Guard]\nInterface=dg-cap\n",
		  "x.conf:2: Interface=: 'dg-cap': dotguard's own capture pair, never guarded" },
		{ "[Guard]\nGatewayInterface=dg-cap-xsk\n",
		  "x.conf:2: GatewayInterface=: 'dg-cap-xsk': dotguard's own capture pair, never guarded" },
		{ "[Guard]\nGatewayInterface=lan*\n",
		  "x.conf:2: GatewayInterface=: 'lan*': patterns are for Interface= only: name each LAN port" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		expect_one_error(rows[i].text, rows[i].msg);

	dg_config_defaults(&cfg);
	assert_int_equal(parse("[Guard]\nInterface=eth[ auto wg*\n"), 1);
	assert_true(cfg.iface_auto);
	assert_int_equal(cfg.n_ifaces, 1);
	assert_string_equal(cfg.ifaces[0], "wg*");
}

/* Test the matching decision: a name wins over a glob and a glob over
 * auto; auto takes only a link with a default route; lo, the capture pair
 * and a LAN port are never taken, whatever a glob says. */
static void test_interface_match(void **state)
{
	(void)state;
	expect_clean("[Guard]\nInterface=auto wg* eth[0-9] ppp0 *cap*\nGatewayInterface=eth1\n");
	assert_int_equal(dg_config_iface_match(&cfg, "ppp0", false), DG_IFACE_NAME);
	assert_int_equal(dg_config_iface_match(&cfg, "ppp0", true), DG_IFACE_NAME);
	assert_int_equal(dg_config_iface_match(&cfg, "ppp1", false), DG_IFACE_NO);
	assert_int_equal(dg_config_iface_match(&cfg, "ppp1", true), DG_IFACE_AUTO);
	assert_int_equal(dg_config_iface_match(&cfg, "wg0", false), DG_IFACE_GLOB);
	assert_int_equal(dg_config_iface_match(&cfg, "wg0", true), DG_IFACE_GLOB);
	assert_int_equal(dg_config_iface_match(&cfg, "wg", false), DG_IFACE_GLOB);
	assert_int_equal(dg_config_iface_match(&cfg, "xwg0", false), DG_IFACE_NO);
	assert_int_equal(dg_config_iface_match(&cfg, "eth0", false), DG_IFACE_GLOB);
	assert_int_equal(dg_config_iface_match(&cfg, "eth10", false), DG_IFACE_NO);
	assert_int_equal(dg_config_iface_match(&cfg, "eth1", true), DG_IFACE_NO);
	assert_int_equal(dg_config_iface_match(&cfg, "lo", true), DG_IFACE_NO);
	assert_int_equal(dg_config_iface_match(&cfg, "dg-cap", true), DG_IFACE_NO);
	assert_int_equal(dg_config_iface_match(&cfg, "dg-cap-xsk", true), DG_IFACE_NO);
	assert_int_equal(dg_config_iface_match(&cfg, "mycap0", false), DG_IFACE_GLOB);
	assert_int_equal(dg_config_iface_match(&cfg, "", true), DG_IFACE_NO);

	/* Everything, by glob: still not lo or the capture pair. */
	dg_config_defaults(&cfg);
	expect_clean("[Guard]\nInterface=*\n");
	assert_int_equal(dg_config_iface_match(&cfg, "veth-h", false), DG_IFACE_GLOB);
	assert_int_equal(dg_config_iface_match(&cfg, "lo", false), DG_IFACE_NO);
	assert_int_equal(dg_config_iface_match(&cfg, "dg-cap", false), DG_IFACE_NO);
	/* Names only: no auto, even with a default route. */
	dg_config_defaults(&cfg);
	expect_clean("[Guard]\nInterface=eth0\n");
	assert_int_equal(dg_config_iface_match(&cfg, "eth1", true), DG_IFACE_NO);
	/* Nothing written: auto. */
	dg_config_defaults(&cfg);
	assert_int_equal(dg_config_iface_match(&cfg, "eth1", true), DG_IFACE_AUTO);
	assert_int_equal(dg_config_iface_match(&cfg, "eth1", false), DG_IFACE_NO);
}

/* Test the enum names used by status and check-config output. */
static void test_names(void **state)
{
	(void)state;
	assert_string_equal(dg_mode_name(DG_MODE_REDIRECT), "redirect");
	assert_string_equal(dg_mode_name(DG_MODE_DROP), "drop");
	assert_string_equal(dg_mode_name(DG_MODE_MONITOR), "monitor");
	assert_string_equal(dg_mode_name(DG_MODE_MAX), "unknown");
	assert_string_equal(dg_dot_name(DG_DOT_STRICT), "yes");
	assert_string_equal(dg_dot_name(DG_DOT_OPPORTUNISTIC), "opportunistic");
	assert_string_equal(dg_dot_name(DG_DOT_OFF), "no");
}

/* Test that dg_server_str truncates safely in a short buffer. */
static void test_server_str_short_buffer(void **state)
{
	struct dg_server s;
	const char *why;
	char buf[8];

	(void)state;
	assert_int_equal(dg_server_parse("[2001:db8::1]:853#dns.example", &s,
					 &why), 0);
	assert_string_equal(dg_server_str(&s, buf, sizeof(buf)), "[2001:d");
	assert_ptr_equal(dg_server_str(&s, buf, 0), buf);
}

static char tmpdir[64];

static int setup_tmp(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/dg-test-config.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return setup(state);
}

static int teardown_tmp(void **state)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/dotguard.conf", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return teardown(state);
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Test loading a named file: its values, its name in messages. */
static void test_load_file(void **state)
{
	static const char text[] = "[Guard]\nMode=monitor\nPinPath=pins\n";
	char path[128], msg[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/dotguard.conf", tmpdir);
	write_file(path, text, sizeof(text) - 1);
	n_logs = 0;
	assert_int_equal(dg_config_load(&cfg, path), 1);
	assert_string_equal(cfg.source, path);
	assert_int_equal(cfg.mode, DG_MODE_MONITOR);
	snprintf(msg, sizeof(msg),
		 "%s:3: PinPath=: expected an absolute path, got 'pins'", path);
	assert_string_equal(nth(DG_LOG_ERROR, 0), msg);
}

/* Test that a file the user named must exist, and says which. */
static void test_load_missing_named(void **state)
{
	static const char path[] = "/nonexistent/dotguard-test.conf";

	(void)state;
	cfg.mode = DG_MODE_DROP;
	assert_int_equal(dg_config_load(&cfg, path), -ENOENT);
	assert_int_equal(count(DG_LOG_ERROR), 1);
	assert_string_equal(nth(DG_LOG_ERROR, 0),
			    "/nonexistent/dotguard-test.conf: No such file or directory");
	assert_int_equal(cfg.mode, DG_MODE_REDIRECT);	/* defaults applied */
}

/* Test that a directory or a huge file is refused with a reason. */
static void test_load_unreadable(void **state)
{
	char path[128], msg[256];
	char *big;
	size_t len = 1024 * 1024 + 1;

	(void)state;
	assert_int_equal(dg_config_load(&cfg, tmpdir), -EISDIR);
	snprintf(msg, sizeof(msg), "%s: Is a directory", tmpdir);
	assert_string_equal(nth(DG_LOG_ERROR, 0), msg);

	snprintf(path, sizeof(path), "%s/dotguard.conf", tmpdir);
	big = malloc(len);
	assert_non_null(big);
	memset(big, '\n', len);
	write_file(path, big, len);
	free(big);
	n_logs = 0;
	assert_int_equal(dg_config_load(&cfg, path), -EFBIG);
	snprintf(msg, sizeof(msg), "%s: larger than 1 MiB, not read", path);
	assert_string_equal(nth(DG_LOG_ERROR, 0), msg);
}

/* Test that with no -c and no file the built-in defaults apply. */
static void test_load_default_missing(void **state)
{
	(void)state;
	if (access(DG_CONFIG_PATH_DEFAULT, F_OK) == 0)
		skip();
	cfg.mode = DG_MODE_DROP;
	assert_int_equal(dg_config_load(&cfg, NULL), 0);
	assert_int_equal(count(DG_LOG_ERROR), 0);
	assert_int_equal(cfg.mode, DG_MODE_REDIRECT);
	assert_int_equal(cfg.n_dns, 2);
	assert_string_equal(cfg.source, "");
	assert_string_equal(nth(DG_LOG_DEBUG, 0),
			    "/etc/dotguard/dotguard.conf: not found, using built-in defaults");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define TT(f) cmocka_unit_test_setup_teardown(f, setup_tmp, teardown_tmp)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_defaults),
		T(test_full_file),
		T(test_bad_values),
		T(test_bad_value_keeps_default),
		T(test_all_errors_reported),
		T(test_booleans_and_enums),
		T(test_server_forms),
		T(test_server_malformed),
		T(test_name_limits),
		T(test_list_first_replaces),
		T(test_list_clear),
		T(test_no_upstreams),
		T(test_strict_without_name),
		T(test_pin_matching_no_upstream),
		T(test_unknown_key_and_section),
		T(test_resolved_only_keys),
		T(test_syntax_errors),
		T(test_overlong_line),
		T(test_embedded_nul),
		T(test_not_nul_terminated),
		T(test_crlf),
		T(test_too_many),
		T(test_duplicate_interface),
		T(test_interface_in_both_lists),
		T(test_interface_auto_and_globs),
		T(test_interface_defaults),
		T(test_interface_errors),
		T(test_interface_match),
		T(test_names),
		T(test_server_str_short_buffer),
		TT(test_load_file),
		T(test_load_missing_named),
		TT(test_load_unreadable),
		T(test_load_default_missing),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
