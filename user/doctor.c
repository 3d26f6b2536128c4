// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "counters.h"
#include "doctor.h"
#include "guard.h"
#include "tls.h"

#define STEP_MS 3000		/* connect, then handshake: each bounded */
#define RESOLV_CONF "/etc/resolv.conf"

struct doctor {
	int failed;
};

static void say(struct doctor *dr, const char *level, const char *what,
		const char *detail, const char *fix)
{
	if (!strcmp(level, "fail"))
		dr->failed++;
	printf("%-4s  %s: %s%s%s\n", level, what, detail, fix ? " -> " : "",
	       fix ? fix : "");
}

static int wait_fd(int fd, short ev)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int n = poll(&p, 1, STEP_MS);

	return n > 0 ? 0 : n == 0 ? -ETIMEDOUT : -errno;
}

/* A non-blocking TCP connect to srv (port 853 by default), bounded. */
static int tcp_connect(const struct dg_server *srv, int *fdp)
{
	struct sockaddr_storage ss = {};
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	uint16_t port = htons(srv->port ? srv->port : 853);
	socklen_t len;
	int fd, err = 0;

	if (srv->family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = port;
		sin->sin_addr = srv->addr.v4;
		len = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = port;
		sin6->sin6_addr = srv->addr.v6;
		len = sizeof(*sin6);
	}
	fd = socket(srv->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, len) && errno != EINPROGRESS)
		err = -errno;
	if (!err)
		err = wait_fd(fd, POLLOUT);
	len = sizeof(int);
	if (!err && !getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) && err)
		err = -err;
	if (err) {
		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}

/* Pins for srv's #name, as the pool takes them. */
static int pins_for(const struct dg_config *cfg, const struct dg_server *srv,
		    uint8_t pins[][32])
{
	int i, n = 0;

	for (i = 0; i < cfg->n_pins; i++)
		if (srv->name[0] && !strcasecmp(cfg->pins[i].name, srv->name))
			memcpy(pins[n++], cfg->pins[i].sha256, 32);
	return n;
}

static void check_upstream(struct doctor *dr, const struct dg_config *cfg,
			   struct dg_tls_ctx *ctx, const struct dg_server *srv)
{
	uint8_t pins[DG_CFG_MAX_PINS][32];
	char label[DG_UPSTREAM_NAME], what[DG_UPSTREAM_NAME + 16];
	char ip[INET6_ADDRSTRLEN], detail[320];
	struct dg_tls_conn *c;
	int fd = -1, err, n_pins, i;

	dg_server_str(srv, label, sizeof(label));
	inet_ntop(srv->family, &srv->addr, ip, sizeof(ip));
	snprintf(what, sizeof(what), "upstream %s", label);
	err = tcp_connect(srv, &fd);
	if (err) {
		snprintf(detail, sizeof(detail), "TCP port %u not reachable (%s)",
			 srv->port ? srv->port : 853, strerror(-err));
		say(dr, "fail", what, detail,
		    "check the address, and that a firewall lets outbound TCP/853 through");
		return;
	}
	n_pins = pins_for(cfg, srv, pins);
	c = dg_tls_conn_new(ctx, fd, srv->name[0] ? srv->name : NULL, ip,
			    (const uint8_t (*)[32])pins, n_pins, NULL);
	if (!c) {
		close(fd);
		say(dr, "fail", what, "cannot start TLS", NULL);
		return;
	}
	for (i = 0, err = -EAGAIN; i < 16 && err == -EAGAIN; i++) {
		err = dg_tls_handshake(c);
		if (err == -EAGAIN && wait_fd(fd, dg_tls_want(c) == DG_TLS_WANT_WRITE ?
						      POLLOUT : POLLIN))
			break;
	}
	if (!err) {
		snprintf(detail, sizeof(detail), "%s; certificate chain%s%s verified",
			 dg_tls_version(c), srv->name[0] ? ", name" : "",
			 n_pins ? " and SPKI pin" : "");
		say(dr, "ok", what, detail, NULL);
	} else {
		enum dg_tls_fail f = dg_tls_failure(c);
		const char *text = dg_tls_failure_text(c);
		bool dates = strstr(text, "expire") || strstr(text, "not yet valid");
		const char *fix =
			f == DG_TLS_F_VERIFY && dates ? "the certificate's dates do not cover now: check the clock (date; an NTP client), else the server must renew it" :
			f == DG_TLS_F_NAME ? "the #name after the address must be a name in the server's certificate" :
			f == DG_TLS_F_PIN ? "the server's key changed, or SPKIPin= is wrong: compare with openssl's SPKI hash of its certificate" :
			f == DG_TLS_F_VERIFY ? "CAFile= must hold the CA that signed the server's certificate; an expired or not-yet-valid one also fails here (check the clock)" :
			err == -EAGAIN ? "the server accepts TCP but does not complete a TLS handshake: is it a DoT server?" :
			"see the server's log";
		snprintf(detail, sizeof(detail), "TLS %s: %s",
			 err == -EAGAIN ? "timeout" : dg_tls_fail_name(f),
			 err == -EAGAIN ? "no handshake within the time" : text);
		say(dr, "fail", what, detail, fix);
	}
	dg_tls_conn_free(c);
	close(fd);
}

/* The clock: certificates are only valid between two dates. */
static void check_clock(struct doctor *dr)
{
	time_t now = time(NULL);
	char detail[80];

	/* Nothing signed today is valid before the build of this tool. */
	if (now < 1767225600) {	/* 2026-01-01 */
		snprintf(detail, sizeof(detail), "the system time %lld is before 2026",
			 (long long)now);
		say(dr, "fail", "clock", detail,
		    "set the time (timedatectl, an NTP client): TLS validation fails with a clock that far off");
		return;
	}
	say(dr, "ok", "clock", "plausible for certificate validation", NULL);
}

static void check_resolv_conf(struct doctor *dr)
{
	char line[256], first[64] = "";
	FILE *f = fopen(RESOLV_CONF, "r");

	if (!f) {
		say(dr, "warn", RESOLV_CONF, strerror(errno),
		    "create it with 'nameserver 127.0.0.53' so applications use the stub");
		return;
	}
	while (!first[0] && fgets(line, sizeof(line), f))
		if (sscanf(line, " nameserver %63s", first) != 1)
			first[0] = '\0';
	fclose(f);
	if (!strcmp(first, "127.0.0.53"))
		say(dr, "ok", RESOLV_CONF, "the first nameserver is the stub (127.0.0.53)", NULL);
	else
		say(dr, "warn", RESOLV_CONF, first[0] ? first : "no nameserver line",
		    "put 'nameserver 127.0.0.53' first; bypass queries are still caught by the guard, but cost a detour");
}

/* Port-53 packets the guard did not let pass at an uplink or LAN port
 * (the capture end sees the same packets again: not counted twice). */
static __u64 slot_caught(const struct dg_snapshot *s, int slot)
{
	__u64 n = 0;
	int r, a;

	if (s->att[slot].hook != DG_HOOK_TC_EGRESS &&
	    s->att[slot].hook != DG_HOOK_XDP_GATEWAY)
		return 0;
	for (r = DG_R_DNS_UDP4; r <= DG_R_DNS_TCP6; r++)
		for (a = 0; a < DG_ACTION_MAX; a++)
			if (a != DG_A_PASS)
				n += s->sum[slot][r][a].packets;
	return n;
}

static void check_guard(struct doctor *dr, const struct dg_config *cfg)
{
	struct dg_snapshot *s = calloc(1, sizeof(*s));
	char detail[160];
	__u64 caught = 0;
	int slot, err, used = 0;

	if (!s)
		return;
	err = dg_counters_read(cfg->pin_path, s);
	if (err) {
		snprintf(detail, sizeof(detail), "nothing pinned at %.100s (%s)",
			 cfg->pin_path, strerror(-err));
		say(dr, "fail", "guard", detail, "start it: dotguard run (or the dotguard service)");
		free(s);
		return;
	}
	for (slot = 0; slot < DG_MAX_SLOTS; slot++) {
		if (!(s->att[slot].flags & DG_ATTACH_USED))
			continue;
		used++;
		snprintf(detail, sizeof(detail), "%s on %.16s",
			 dg_hook_name(s->att[slot].hook), s->att[slot].ifname);
		if (s->state[slot] == DG_STATE_ATTACHED)
			say(dr, "ok", "guard", detail, NULL);
		else
			say(dr, "fail", "guard", detail,
			    "not in place: restart dotguard to attach it again");
		caught += slot_caught(s, slot);
	}
	if (!used)
		say(dr, "fail", "guard", "no attach point recorded", "start it: dotguard run");
	snprintf(detail, sizeof(detail), "%llu port-53 packets tried to bypass the stub",
		 (unsigned long long)caught);
	if (caught)
		say(dr, "warn", "leaks attempted", detail,
		    "the guard caught them; 'dotguard status' shows which interface and how");
	else
		say(dr, "ok", "leaks attempted", "none seen by the guard", NULL);
	free(s);
}

int dg_doctor_run(const struct dg_config *cfg)
{
	struct doctor dr = {};
	struct dg_tls_ctx *ctx;
	int i;

	check_clock(&dr);
	if (dg_tls_init() || !(ctx = dg_tls_ctx_new(cfg->ca_file,
						     cfg->dot != DG_DOT_OPPORTUNISTIC))) {
		say(&dr, "fail", "TLS", "cannot load CAFile=", "check that the file exists and holds PEM certificates");
	} else {
		for (i = 0; i < cfg->n_dns; i++)
			check_upstream(&dr, cfg, ctx, &cfg->dns[i]);
		for (i = 0; i < cfg->n_fallback; i++)
			check_upstream(&dr, cfg, ctx, &cfg->fallback[i]);
		dg_tls_ctx_free(ctx);
	}
	check_resolv_conf(&dr);
	check_guard(&dr, cfg);
	return dr.failed;
}
