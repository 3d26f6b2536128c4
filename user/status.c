// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <inttypes.h>
#include <string.h>

#include "config.h"
#include "json.h"
#include "status.h"

#define DG_NAME_OF(sym, name, doc) name,
static const char *const reason_names[] = { DG_REASONS(DG_NAME_OF) };
static const char *const action_names[] = { DG_ACTIONS(DG_NAME_OF) };
#undef DG_NAME_OF
#define DG_NAME_OF(sym, name) name,
static const char *const upfail_names[] = { DG_UPFAILS(DG_NAME_OF) };
#undef DG_NAME_OF

static const char *const up_state_names[] = {
	[DG_UP_UNKNOWN] = "unknown",
	[DG_UP_UP] = "up",
	[DG_UP_DOWN] = "down",
};

/* A heartbeat older than this means the daemon is hung or gone. */
#define DAEMON_STALE_S 3

_Static_assert(sizeof(reason_names) / sizeof(reason_names[0]) == DG_REASON_MAX,
	       "one name per reason");
_Static_assert(sizeof(action_names) / sizeof(action_names[0]) == DG_ACTION_MAX,
	       "one name per action");

const char *dg_reason_name(int reason)
{
	return reason >= 0 && reason < DG_REASON_MAX ? reason_names[reason] : "unknown";
}

const char *dg_action_name(int action)
{
	return action >= 0 && action < DG_ACTION_MAX ? action_names[action] : "unknown";
}

static bool slot_used(const struct dg_snapshot *s, int slot)
{
	return s->att[slot].flags & DG_ATTACH_USED;
}

static void rfc3339(const struct dg_snapshot *s, char *buf, size_t size)
{
	struct tm tm;

	gmtime_r(&s->taken.tv_sec, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static __u64 seen_total(const struct dg_snapshot *s)
{
	__u64 seen = 0;
	int a;

	for (a = 0; a < DG_ACTION_MAX; a++)
		seen += dg_snapshot_action_total(s, a);
	return seen;
}

static const char *up_state(__u32 st)
{
	return st <= DG_UP_DOWN ? up_state_names[st] : "unknown";
}

static bool daemon_alive(const struct dg_snapshot *s)
{
	return s->have_daemon &&
	       (__u64)s->taken.tv_sec <= s->daemon.heartbeat + DAEMON_STALE_S;
}

/* Upper bound (us) of RTT histogram bucket b: 64, 128, ... */
static __u64 rtt_bucket_le(int b)
{
	return 64ull << b;
}

/* The running config's SHA-256 in hex; "" when it came from no file. */
static const char *config_hex(const struct dg_daemon_stats *d, char out[65])
{
	bool any = false;
	int i;

	for (i = 0; i < (int)sizeof(d->config_sha256); i++) {
		snprintf(out + 2 * i, 3, "%02x", d->config_sha256[i]);
		any |= d->config_sha256[i] != 0;
	}
	if (!any)
		out[0] = '\0';
	return out;
}

static void text_daemon(FILE *out, const struct dg_snapshot *s)
{
	const struct dg_daemon_stats *d = &s->daemon;
	const struct dg_upstream_stats *u;
	char hex[65];
	__u64 hb_age;
	int i, f;
	bool any;

	if (!s->have_daemon) {
		fputs("\ndaemon: none has run with these pins\n", out);
		return;
	}
	hb_age = (__u64)s->taken.tv_sec > d->heartbeat ? s->taken.tv_sec - d->heartbeat : 0;
	fprintf(out, "\ndaemon: pid %llu, %s (heartbeat %llu s ago), started %llu s ago\n",
		d->pid, daemon_alive(s) ? "running" : "NOT RUNNING", hb_age,
		(__u64)s->taken.tv_sec > d->started ? s->taken.tv_sec - d->started : 0);
	fprintf(out, "queries %llu (%llu udp, %llu tcp, %llu redirected); answers %llu; cache %llu hits, %llu misses; hosts %llu\n",
		d->queries_udp + d->queries_tcp + d->redirected_queries, d->queries_udp,
		d->queries_tcp, d->redirected_queries,
		d->answers, d->cache_hits, d->cache_misses, d->hosts_answers);
	fprintf(out, "errors: %llu servfail, %llu formerr, %llu refused; %llu truncated; %llu in flight; %llu retries\n",
		d->servfail, d->formerr, d->refused, d->truncated, d->inflight,
		d->retries);
	fprintf(out, "redirected by the guard: %llu queries, %llu answered; %llu frames dropped as not a query, %llu answers lost (no TX room), %llu frames lost before the daemon (RX ring full)\n",
		d->redirected_queries, d->redirected_answers, d->redirected_bad_frames,
		d->redirected_tx_drops, d->redirected_rx_drops);
	if (d->link_events)
		fprintf(out, "guarded links: %llu changes seen, guard re-applied\n",
			d->link_events);
	fprintf(out, "config: %s%s, read %llu s ago; reloads: %llu applied, %llu refused\n",
		config_hex(d, hex)[0] ? "sha256 " : "built-in defaults",
		hex, (__u64)s->taken.tv_sec > d->config_loaded ?
			s->taken.tv_sec - d->config_loaded : 0,
		d->reloads, d->reloads_refused);
	fputs("upstream rtt:", out);
	any = false;
	for (i = 0; i < DG_RTT_BUCKETS; i++) {
		if (!d->rtt_hist[i])
			continue;
		fprintf(out, "%s <%llu us %llu", any ? "," : "", rtt_bucket_le(i),
			d->rtt_hist[i]);
		any = true;
	}
	fputs(any ? "\n" : " none yet\n", out);

	fprintf(out, "\n%-40s %-5s %9s %9s %8s %6s %8s %5s  %s\n", "UPSTREAM",
		"STATE", "QUERIES", "ANSWERS", "RTT_MS", "FULL", "RESUMED",
		"OPEN", "FAILURES");
	for (i = 0; i < (int)d->n_up && i < DG_MAX_UPSTREAMS; i++) {
		char rtt[16] = "-";

		u = &d->up[i];
		if (u->answers)
			snprintf(rtt, sizeof(rtt), "%.2f",
				 (double)u->rtt_us_sum / u->answers / 1000.0);
		fprintf(out, "%-40.*s %-5s %9llu %9llu %8s %6llu %8llu %5llu  ",
			(int)sizeof(u->name), u->name, up_state(u->state),
			u->queries, u->answers, rtt, u->handshakes_full,
			u->handshakes_resumed, u->conns_open);
		any = false;
		for (f = 0; f < DG_UPFAIL_MAX; f++) {
			if (!u->fails[f])
				continue;
			fprintf(out, "%s%s %llu", any ? ", " : "", upfail_names[f],
				u->fails[f]);
			any = true;
		}
		fputs(any ? "\n" : "-\n", out);
	}
}

static void render_text(FILE *out, const struct dg_snapshot *s,
			const char *pin_path)
{
	char when[32];
	int slot, r, a, n_att = 0, n_bad = 0;

	rfc3339(s, when, sizeof(when));
	for (slot = 0; slot < DG_MAX_SLOTS; slot++) {
		if (!slot_used(s, slot))
			continue;
		n_att++;
		n_bad += s->state[slot] != DG_STATE_ATTACHED;
	}
	fprintf(out, "dotguard: mode %s, %d attach point%s%s, pins at %s, read %s\n",
		dg_mode_name(s->policy.mode), n_att, n_att == 1 ? "" : "s",
		n_bad ? " (SOME NOT ATTACHED)" : "", pin_path, when);
	fprintf(out, "seen %llu packets:", seen_total(s));
	for (a = 0; a < DG_ACTION_MAX; a++)
		fprintf(out, "%s %llu %s", a ? "," : "",
			dg_snapshot_action_total(s, a), action_names[a]);
	fputs("\n\n", out);

	fprintf(out, "%-16s %-12s %-9s %s\n", "INTERFACE", "HOOK", "STATE", "PROGRAM");
	for (slot = 0; slot < DG_MAX_SLOTS; slot++)
		if (slot_used(s, slot))
			fprintf(out, "%-16s %-12s %-9s %u\n", s->att[slot].ifname,
				dg_hook_name(s->att[slot].hook),
				dg_state_name(s->state[slot]), s->att[slot].prog_id);

	fprintf(out, "\n%-16s %-12s %-15s %-12s %12s %14s\n", "INTERFACE",
		"HOOK", "REASON", "ACTION", "PACKETS", "BYTES");
	for (slot = 0; slot < DG_MAX_SLOTS; slot++) {
		if (!slot_used(s, slot))
			continue;
		for (r = 0; r < DG_REASON_MAX; r++)
			for (a = 0; a < DG_ACTION_MAX; a++) {
				const struct dg_counter *c = &s->sum[slot][r][a];

				if (!c->packets)
					continue;
				fprintf(out, "%-16s %-12s %-15s %-12s %12llu %14llu\n",
					s->att[slot].ifname,
					dg_hook_name(s->att[slot].hook),
					reason_names[r], action_names[a],
					c->packets, c->bytes);
			}
	}
	text_daemon(out, s);
}

static void json_daemon(struct dg_json *j, const struct dg_snapshot *s)
{
	const struct dg_daemon_stats *d = &s->daemon;
	const struct dg_upstream_stats *u;
	char hex[65];
	int i, f;

	json_key(j, "daemon");
	if (!s->have_daemon) {
		json_obj_open(j);
		json_key(j, "running");
		json_bool(j, false);
		json_obj_close(j);
		return;
	}
	json_obj_open(j);
	json_key(j, "running");
	json_bool(j, daemon_alive(s));
	json_kv_u64(j, "pid", d->pid);
	json_kv_u64(j, "started", d->started);
	json_kv_u64(j, "heartbeat", d->heartbeat);
	json_kv_u64(j, "queries_udp", d->queries_udp);
	json_kv_u64(j, "queries_tcp", d->queries_tcp);
	json_kv_u64(j, "answers", d->answers);
	json_kv_u64(j, "servfail", d->servfail);
	json_kv_u64(j, "formerr", d->formerr);
	json_kv_u64(j, "refused", d->refused);
	json_kv_u64(j, "truncated", d->truncated);
	json_kv_u64(j, "cache_hits", d->cache_hits);
	json_kv_u64(j, "cache_misses", d->cache_misses);
	json_kv_u64(j, "hosts_answers", d->hosts_answers);
	json_kv_u64(j, "inflight", d->inflight);
	json_kv_u64(j, "retries", d->retries);
	json_kv_u64(j, "redirected_queries", d->redirected_queries);
	json_kv_u64(j, "redirected_answers", d->redirected_answers);
	json_kv_u64(j, "redirected_bad_frames", d->redirected_bad_frames);
	json_kv_u64(j, "redirected_tx_drops", d->redirected_tx_drops);
	json_kv_u64(j, "redirected_rx_drops", d->redirected_rx_drops);
	json_kv_u64(j, "link_events", d->link_events);
	json_key(j, "config");
	json_obj_open(j);
	json_kv_str(j, "sha256", config_hex(d, hex));
	json_kv_u64(j, "loaded", d->config_loaded);
	json_kv_u64(j, "reloads", d->reloads);
	json_kv_u64(j, "reloads_refused", d->reloads_refused);
	json_obj_close(j);
	json_key(j, "rtt_us_hist");
	json_arr_open(j);
	for (i = 0; i < DG_RTT_BUCKETS; i++) {
		json_obj_open(j);
		json_kv_u64(j, "le", rtt_bucket_le(i));
		json_kv_u64(j, "count", d->rtt_hist[i]);
		json_obj_close(j);
	}
	json_arr_close(j);
	json_key(j, "upstreams");
	json_arr_open(j);
	for (i = 0; i < (int)d->n_up && i < DG_MAX_UPSTREAMS; i++) {
		char name[DG_UPSTREAM_NAME + 1];

		u = &d->up[i];
		snprintf(name, sizeof(name), "%.*s", (int)sizeof(u->name), u->name);
		json_obj_open(j);
		json_kv_str(j, "name", name);
		json_key(j, "fallback");
		json_bool(j, u->fallback);
		json_kv_str(j, "state", up_state(u->state));
		json_kv_u64(j, "queries", u->queries);
		json_kv_u64(j, "answers", u->answers);
		json_kv_u64(j, "rtt_us_mean", u->answers ? u->rtt_us_sum / u->answers : 0);
		json_kv_u64(j, "handshakes_full", u->handshakes_full);
		json_kv_u64(j, "handshakes_resumed", u->handshakes_resumed);
		json_kv_u64(j, "conns_open", u->conns_open);
		json_kv_u64(j, "cleartext", u->cleartext);
		json_key(j, "failures");
		json_obj_open(j);
		for (f = 0; f < DG_UPFAIL_MAX; f++)
			json_kv_u64(j, upfail_names[f], u->fails[f]);
		json_obj_close(j);
		json_obj_close(j);
	}
	json_arr_close(j);
	json_obj_close(j);
}

static void render_json(FILE *out, const struct dg_snapshot *s,
			const char *pin_path)
{
	struct dg_json j;
	char when[32];
	int slot, r, a;

	rfc3339(s, when, sizeof(when));
	json_init(&j, out);
	json_obj_open(&j);
	json_kv_u64(&j, "version", 1);
	json_kv_str(&j, "pin_path", pin_path);
	json_kv_str(&j, "time", when);
	json_kv_str(&j, "mode", dg_mode_name(s->policy.mode));

	json_key(&j, "attached");
	json_arr_open(&j);
	for (slot = 0; slot < DG_MAX_SLOTS; slot++) {
		if (!slot_used(s, slot))
			continue;
		json_obj_open(&j);
		json_kv_u64(&j, "slot", slot);
		json_kv_str(&j, "interface", s->att[slot].ifname);
		json_kv_u64(&j, "ifindex", s->att[slot].ifindex);
		json_kv_str(&j, "hook", dg_hook_name(s->att[slot].hook));
		json_kv_u64(&j, "prog_id", s->att[slot].prog_id);
		json_kv_str(&j, "state", dg_state_name(s->state[slot]));
		json_obj_close(&j);
	}
	json_arr_close(&j);

	json_key(&j, "totals");
	json_obj_open(&j);
	json_kv_u64(&j, "seen", seen_total(s));
	for (a = 0; a < DG_ACTION_MAX; a++)
		json_kv_u64(&j, action_names[a], dg_snapshot_action_total(s, a));
	json_obj_close(&j);

	json_key(&j, "counters");
	json_arr_open(&j);
	for (slot = 0; slot < DG_MAX_SLOTS; slot++) {
		if (!slot_used(s, slot))
			continue;
		for (r = 0; r < DG_REASON_MAX; r++)
			for (a = 0; a < DG_ACTION_MAX; a++) {
				const struct dg_counter *c = &s->sum[slot][r][a];

				if (!c->packets)
					continue;
				json_obj_open(&j);
				json_kv_str(&j, "interface", s->att[slot].ifname);
				json_kv_str(&j, "hook", dg_hook_name(s->att[slot].hook));
				json_kv_str(&j, "reason", reason_names[r]);
				json_kv_str(&j, "action", action_names[a]);
				json_kv_u64(&j, "packets", c->packets);
				json_kv_u64(&j, "bytes", c->bytes);
				json_obj_close(&j);
			}
	}
	json_arr_close(&j);
	json_daemon(&j, s);
	json_obj_close(&j);
}

/* Prometheus text exposition format 0.0.4. Interface names are
 * [A-Za-z0-9._-] in practice but are escaped anyway. */
static void prom_label(FILE *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', out);
		if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	}
}

static void prom_counter_family(FILE *out, const struct dg_snapshot *s,
				const char *name, const char *help, bool bytes)
{
	int slot, r, a;

	fprintf(out, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
	for (slot = 0; slot < DG_MAX_SLOTS; slot++) {
		if (!slot_used(s, slot))
			continue;
		for (r = 0; r < DG_REASON_MAX; r++)
			for (a = 0; a < DG_ACTION_MAX; a++) {
				const struct dg_counter *c = &s->sum[slot][r][a];

				if (!c->packets)
					continue;
				fprintf(out, "%s{interface=\"", name);
				prom_label(out, s->att[slot].ifname);
				fprintf(out, "\",hook=\"%s\",reason=\"%s\",action=\"%s\"} %llu\n",
					dg_hook_name(s->att[slot].hook),
					reason_names[r], action_names[a],
					bytes ? c->bytes : c->packets);
			}
	}
}

static void prom_upstream_label(FILE *out, const struct dg_upstream_stats *u)
{
	char name[DG_UPSTREAM_NAME + 1];

	snprintf(name, sizeof(name), "%.*s", (int)sizeof(u->name), u->name);
	fputs("upstream=\"", out);
	prom_label(out, name);
	fputc('"', out);
}

static void prom_daemon(FILE *out, const struct dg_snapshot *s)
{
	const struct dg_daemon_stats *d = &s->daemon;
	char hex[65];
	__u64 cum = 0;
	int i, f;

	if (!s->have_daemon)
		return;
	fprintf(out, "# HELP dotguard_daemon_up 1 while the daemon's heartbeat is fresh.\n"
		     "# TYPE dotguard_daemon_up gauge\ndotguard_daemon_up %d\n",
		daemon_alive(s));
	fprintf(out, "# HELP dotguard_config_info The running config's SHA-256 (empty: built-in defaults).\n"
		     "# TYPE dotguard_config_info gauge\ndotguard_config_info{sha256=\"%s\"} 1\n",
		config_hex(d, hex));
	fprintf(out, "# HELP dotguard_reloads_total SIGHUPs, by whether the new config was applied.\n"
		     "# TYPE dotguard_reloads_total counter\n"
		     "dotguard_reloads_total{result=\"applied\"} %llu\n"
		     "dotguard_reloads_total{result=\"refused\"} %llu\n",
		d->reloads, d->reloads_refused);
	fprintf(out, "# HELP dotguard_queries_total Client queries by transport.\n"
		     "# TYPE dotguard_queries_total counter\n"
		     "dotguard_queries_total{transport=\"udp\"} %llu\n"
		     "dotguard_queries_total{transport=\"tcp\"} %llu\n",
		d->queries_udp, d->queries_tcp);
	fprintf(out, "# HELP dotguard_redirected_total Queries the guard redirected to the daemon, by outcome.\n"
		     "# TYPE dotguard_redirected_total counter\n"
		     "dotguard_redirected_total{outcome=\"query\"} %llu\n"
		     "dotguard_redirected_total{outcome=\"answered\"} %llu\n"
		     "dotguard_redirected_total{outcome=\"bad_frame\"} %llu\n"
		     "dotguard_redirected_total{outcome=\"answer_lost\"} %llu\n"
		     "dotguard_redirected_total{outcome=\"rx_lost\"} %llu\n",
		d->redirected_queries, d->redirected_answers, d->redirected_bad_frames,
		d->redirected_tx_drops, d->redirected_rx_drops);
	fprintf(out, "# HELP dotguard_answers_total Answers sent to clients.\n"
		     "# TYPE dotguard_answers_total counter\ndotguard_answers_total %llu\n",
		d->answers);
	fprintf(out, "# HELP dotguard_errors_total Error answers by RCODE, and truncations.\n"
		     "# TYPE dotguard_errors_total counter\n"
		     "dotguard_errors_total{kind=\"servfail\"} %llu\n"
		     "dotguard_errors_total{kind=\"formerr\"} %llu\n"
		     "dotguard_errors_total{kind=\"refused\"} %llu\n"
		     "dotguard_errors_total{kind=\"truncated\"} %llu\n",
		d->servfail, d->formerr, d->refused, d->truncated);
	fprintf(out, "# HELP dotguard_cache_total Cache lookups by result.\n"
		     "# TYPE dotguard_cache_total counter\n"
		     "dotguard_cache_total{result=\"hit\"} %llu\n"
		     "dotguard_cache_total{result=\"miss\"} %llu\n",
		d->cache_hits, d->cache_misses);
	fprintf(out, "# HELP dotguard_inflight Queries waiting on upstreams.\n"
		     "# TYPE dotguard_inflight gauge\ndotguard_inflight %llu\n",
		d->inflight);
	fputs("# HELP dotguard_upstream_rtt_seconds Upstream round trips.\n"
	      "# TYPE dotguard_upstream_rtt_seconds histogram\n", out);
	for (i = 0; i < DG_RTT_BUCKETS; i++) {
		cum += d->rtt_hist[i];
		if (i < DG_RTT_BUCKETS - 1)
			fprintf(out, "dotguard_upstream_rtt_seconds_bucket{le=\"%.6f\"} %llu\n",
				rtt_bucket_le(i) / 1e6, cum);
	}
	fprintf(out, "dotguard_upstream_rtt_seconds_bucket{le=\"+Inf\"} %llu\n"
		     "dotguard_upstream_rtt_seconds_count %llu\n", cum, cum);
	fputs("# HELP dotguard_upstream_up 1 when the upstream is usable.\n"
	      "# TYPE dotguard_upstream_up gauge\n", out);
	for (i = 0; i < (int)d->n_up && i < DG_MAX_UPSTREAMS; i++) {
		fputs("dotguard_upstream_up{", out);
		prom_upstream_label(out, &d->up[i]);
		fprintf(out, "} %d\n", d->up[i].state == DG_UP_UP);
	}
	fputs("# HELP dotguard_upstream_answers_total Answers accepted per upstream.\n"
	      "# TYPE dotguard_upstream_answers_total counter\n", out);
	for (i = 0; i < (int)d->n_up && i < DG_MAX_UPSTREAMS; i++) {
		fputs("dotguard_upstream_answers_total{", out);
		prom_upstream_label(out, &d->up[i]);
		fprintf(out, "} %llu\n", d->up[i].answers);
	}
	fputs("# HELP dotguard_upstream_handshakes_total TLS handshakes, full or resumed.\n"
	      "# TYPE dotguard_upstream_handshakes_total counter\n", out);
	for (i = 0; i < (int)d->n_up && i < DG_MAX_UPSTREAMS; i++) {
		fputs("dotguard_upstream_handshakes_total{", out);
		prom_upstream_label(out, &d->up[i]);
		fprintf(out, ",kind=\"full\"} %llu\n", d->up[i].handshakes_full);
		fputs("dotguard_upstream_handshakes_total{", out);
		prom_upstream_label(out, &d->up[i]);
		fprintf(out, ",kind=\"resumed\"} %llu\n", d->up[i].handshakes_resumed);
	}
	fputs("# HELP dotguard_upstream_failures_total Upstream failures by reason.\n"
	      "# TYPE dotguard_upstream_failures_total counter\n", out);
	for (i = 0; i < (int)d->n_up && i < DG_MAX_UPSTREAMS; i++)
		for (f = 0; f < DG_UPFAIL_MAX; f++) {
			fputs("dotguard_upstream_failures_total{", out);
			prom_upstream_label(out, &d->up[i]);
			fprintf(out, ",reason=\"%s\"} %llu\n", upfail_names[f],
				d->up[i].fails[f]);
		}
}

static void render_prometheus(FILE *out, const struct dg_snapshot *s)
{
	int slot, a, m;

	prom_counter_family(out, s, "dotguard_packets_total",
			    "Packets the guard saw, by attach point, reason and action.",
			    false);
	prom_counter_family(out, s, "dotguard_bytes_total",
			    "Bytes the guard saw, by attach point, reason and action.",
			    true);
	/* Every action always present, so rate() and alerts start at 0. */
	fputs("# HELP dotguard_action_packets_total Packets per action over all attach points.\n"
	      "# TYPE dotguard_action_packets_total counter\n", out);
	for (a = 0; a < DG_ACTION_MAX; a++)
		fprintf(out, "dotguard_action_packets_total{action=\"%s\"} %llu\n",
			action_names[a], dg_snapshot_action_total(s, a));
	fputs("# HELP dotguard_attach_up 1 when dotguard's program is in place on the attach point.\n"
	      "# TYPE dotguard_attach_up gauge\n", out);
	for (slot = 0; slot < DG_MAX_SLOTS; slot++) {
		if (!slot_used(s, slot))
			continue;
		fputs("dotguard_attach_up{interface=\"", out);
		prom_label(out, s->att[slot].ifname);
		fprintf(out, "\",hook=\"%s\"} %d\n", dg_hook_name(s->att[slot].hook),
			s->state[slot] == DG_STATE_ATTACHED);
	}
	prom_daemon(out, s);
	fputs("# HELP dotguard_mode The live guard mode (1 for the mode in force).\n"
	      "# TYPE dotguard_mode gauge\n", out);
	for (m = 0; m < DG_MODE_MAX; m++)
		fprintf(out, "dotguard_mode{mode=\"%s\"} %d\n", dg_mode_name(m),
			(__u32)m == s->policy.mode);
}

void dg_status_render(FILE *out, const struct dg_snapshot *s,
		      const char *pin_path, enum dg_status_format fmt)
{
	switch (fmt) {
	case DG_STATUS_JSON:
		render_json(out, s, pin_path);
		break;
	case DG_STATUS_PROMETHEUS:
		render_prometheus(out, s);
		break;
	default:
		render_text(out, s, pin_path);
	}
}
