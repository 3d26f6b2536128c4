// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "config.h"
#include "json.h"
#include "status.h"
#include "status_fields.h"

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

/*
 * The field tables of status_fields.h, as data. Every byte of the two
 * stats structs is either a row or listed as shown by hand: a field
 * appended to abi.h without a row fails the build here.
 */
enum field_kind {
	DG_FIELD_COUNTER,
	DG_FIELD_GAUGE,
	DG_FIELD_TIME,
	DG_FIELD_SHA256,
};

#define FIELD_SIZE_COUNTER 8
#define FIELD_SIZE_GAUGE 8
#define FIELD_SIZE_TIME 8
#define FIELD_SIZE_SHA256 32

struct status_field {
	size_t off;		/* in struct dg_daemon_stats or dg_upstream_stats */
	enum field_kind kind;
	const char *json;	/* key; "obj.key" nests it in obj */
	const char *prom;	/* metric name */
	const char *labels;	/* "k=\"v\",..." or "" */
	const char *line;	/* text line it goes on; NULL: a table column */
	const char *text;	/* its words on that line, or the column heading */
	const char *help;
};

#define DAEMON_ROW(f, k, j, p, l, ln, t, h) \
	{ offsetof(struct dg_daemon_stats, f), DG_FIELD_##k, j, p, l, ln, t, h },
#define UPSTREAM_ROW(f, k, j, p, l, col, h) \
	{ offsetof(struct dg_upstream_stats, f), DG_FIELD_##k, j, p, l, NULL, col, h },
static const struct status_field daemon_fields[] = { DG_DAEMON_FIELDS(DAEMON_ROW) };
static const struct status_field upstream_fields[] = { DG_UPSTREAM_FIELDS(UPSTREAM_ROW) };
#undef DAEMON_ROW
#undef UPSTREAM_ROW

#define N_DAEMON_FIELDS ((int)(sizeof(daemon_fields) / sizeof(daemon_fields[0])))
#define N_UPSTREAM_FIELDS ((int)(sizeof(upstream_fields) / sizeof(upstream_fields[0])))

#define DAEMON_MEMBER_SIZE(f) + sizeof(((struct dg_daemon_stats *)0)->f)
#define DAEMON_ROW_SIZE(f, k, ...) DAEMON_MEMBER_SIZE(f)
#define DAEMON_ROW_KIND(f, k, ...)                                             \
	_Static_assert(sizeof(((struct dg_daemon_stats *)0)->f) == FIELD_SIZE_##k, \
		       "status_fields.h: dg_daemon_stats." #f " is not a " #k);
DG_DAEMON_FIELDS(DAEMON_ROW_KIND)
_Static_assert(0 DG_DAEMON_FIELDS(DAEMON_ROW_SIZE)
	       DG_DAEMON_FIELDS_BY_HAND(DAEMON_MEMBER_SIZE) ==
	       sizeof(struct dg_daemon_stats),
	       "a field of struct dg_daemon_stats has no row in status_fields.h");

#define UPSTREAM_MEMBER_SIZE(f) + sizeof(((struct dg_upstream_stats *)0)->f)
#define UPSTREAM_ROW_SIZE(f, k, ...) UPSTREAM_MEMBER_SIZE(f)
#define UPSTREAM_ROW_KIND(f, k, ...)                                           \
	_Static_assert((DG_FIELD_##k == DG_FIELD_COUNTER ||                     \
			DG_FIELD_##k == DG_FIELD_GAUGE) &&                     \
		       sizeof(((struct dg_upstream_stats *)0)->f) == 8,        \
		       "status_fields.h: dg_upstream_stats." #f ": only __u64 COUNTER or GAUGE");
DG_UPSTREAM_FIELDS(UPSTREAM_ROW_KIND)
_Static_assert(0 DG_UPSTREAM_FIELDS(UPSTREAM_ROW_SIZE)
	       DG_UPSTREAM_FIELDS_BY_HAND(UPSTREAM_MEMBER_SIZE) ==
	       sizeof(struct dg_upstream_stats),
	       "a field of struct dg_upstream_stats has no row in status_fields.h");

static __u64 field_u64(const void *base, const struct status_field *f)
{
	__u64 v;

	memcpy(&v, (const char *)base + f->off, sizeof(v));
	return v;
}

/* A SHA256 field in hex; "" when all zero (nothing was hashed). */
static const char *field_hex(const void *base, const struct status_field *f,
			     char out[65])
{
	const __u8 *b = (const __u8 *)base + f->off;
	bool any = false;
	int i;

	for (i = 0; i < 32; i++) {
		snprintf(out + 2 * i, 3, "%02x", b[i]);
		any |= b[i] != 0;
	}
	if (!any)
		out[0] = '\0';
	return out;
}

static bool same_line(const struct status_field *a, const struct status_field *b)
{
	return !strcmp(a->line, b->line);
}

static bool same_metric(const struct status_field *a, const struct status_field *b)
{
	return !strcmp(a->prom, b->prom);
}

/* "obj.key" rows of one obj; a plain key is in no group. */
static bool same_obj(const struct status_field *a, const struct status_field *b)
{
	const char *da = strchr(a->json, '.'), *db = strchr(b->json, '.');

	return da && db && da - a->json == db - b->json &&
	       !strncmp(a->json, b->json, da - a->json);
}

/* Whether row i is the first of its group: groups print where they
 * first appear, all their rows together. */
static bool first_of_group(const struct status_field *t, int i,
			   bool (*same)(const struct status_field *,
					const struct status_field *))
{
	int k;

	for (k = 0; k < i; k++)
		if (same(&t[k], &t[i]))
			return false;
	return true;
}

static void text_field(FILE *out, const struct dg_snapshot *s, const void *base,
		       const struct status_field *f)
{
	__u64 v = f->kind == DG_FIELD_SHA256 ? 0 : field_u64(base, f);
	char hex[65];

	switch (f->kind) {
	case DG_FIELD_TIME:
		if (!v)
			fprintf(out, "%s never", f->text);
		else
			fprintf(out, "%s %llu s ago", f->text,
				(__u64)s->taken.tv_sec > v ? s->taken.tv_sec - v : 0);
		break;
	case DG_FIELD_SHA256:
		field_hex(base, f, hex);
		fprintf(out, "%s %s", f->text, hex[0] ? hex : "none");
		break;
	default:
		fprintf(out, "%llu %s", v, f->text);
	}
}

static void text_fields(FILE *out, const struct dg_snapshot *s)
{
	const struct status_field *t = daemon_fields;
	int i, k;

	for (i = 0; i < N_DAEMON_FIELDS; i++) {
		if (!first_of_group(t, i, same_line))
			continue;
		fprintf(out, "%s: ", t[i].line);
		for (k = i; k < N_DAEMON_FIELDS; k++) {
			if (!same_line(&t[i], &t[k]))
				continue;
			if (k > i)
				fputs(", ", out);
			text_field(out, s, &s->daemon, &t[k]);
		}
		fputc('\n', out);
	}
}

/* Column width: the heading, and at least 9 digits. */
static int text_col_width(const struct status_field *f)
{
	int w = strlen(f->text);

	return w > 9 ? w : 9;
}

static void text_upstreams(FILE *out, const struct dg_daemon_stats *d)
{
	const struct status_field *t = upstream_fields;
	const struct dg_upstream_stats *u;
	int i, c, f;
	bool any;

	fprintf(out, "\n%-40s %-5s", "UPSTREAM", "STATE");
	for (c = 0; c < N_UPSTREAM_FIELDS; c++)
		fprintf(out, " %*s", text_col_width(&t[c]), t[c].text);
	fprintf(out, " %8s  %s\n", "RTT_MS", "FAILURES");
	for (i = 0; i < (int)d->n_up && i < DG_MAX_UPSTREAMS; i++) {
		char rtt[16] = "-";

		u = &d->up[i];
		fprintf(out, "%-40.*s %-5s", (int)sizeof(u->name), u->name,
			up_state(u->state));
		for (c = 0; c < N_UPSTREAM_FIELDS; c++)
			fprintf(out, " %*llu", text_col_width(&t[c]),
				field_u64(u, &t[c]));
		if (u->answers)
			snprintf(rtt, sizeof(rtt), "%.2f",
				 (double)u->rtt_us_sum / u->answers / 1000.0);
		fprintf(out, " %8s  ", rtt);
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

static void text_daemon(FILE *out, const struct dg_snapshot *s)
{
	const struct dg_daemon_stats *d = &s->daemon;
	__u64 hb_age;
	bool any;
	int i;

	if (!s->have_daemon) {
		fputs("\ndaemon: none has run with these pins\n", out);
		return;
	}
	hb_age = (__u64)s->taken.tv_sec > d->heartbeat ? s->taken.tv_sec - d->heartbeat : 0;
	fprintf(out, "\ndaemon: pid %llu, %s (heartbeat %llu s ago), started %llu s ago\n",
		d->pid, daemon_alive(s) ? "running" : "NOT RUNNING", hb_age,
		(__u64)s->taken.tv_sec > d->started ? s->taken.tv_sec - d->started : 0);
	text_fields(out, s);
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
	text_upstreams(out, d);
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

static void json_field(struct dg_json *j, const char *key, const void *base,
		       const struct status_field *f)
{
	char hex[65];

	if (f->kind == DG_FIELD_SHA256)
		json_kv_str(j, key, field_hex(base, f, hex));
	else
		json_kv_u64(j, key, field_u64(base, f));
}

/* Table rows in order; "obj.key" rows nest in obj where obj first
 * appears. */
static void json_fields(struct dg_json *j, const void *base,
			const struct status_field *t, int n)
{
	char obj[32];
	const char *dot;
	int i, k;

	for (i = 0; i < n; i++) {
		dot = strchr(t[i].json, '.');
		if (!dot) {
			json_field(j, t[i].json, base, &t[i]);
			continue;
		}
		if (!first_of_group(t, i, same_obj))
			continue;
		snprintf(obj, sizeof(obj), "%.*s", (int)(dot - t[i].json), t[i].json);
		json_key(j, obj);
		json_obj_open(j);
		for (k = i; k < n; k++)
			if (same_obj(&t[i], &t[k]))
				json_field(j, strchr(t[k].json, '.') + 1, base, &t[k]);
		json_obj_close(j);
	}
}

static void json_daemon(struct dg_json *j, const struct dg_snapshot *s)
{
	const struct dg_daemon_stats *d = &s->daemon;
	const struct dg_upstream_stats *u;
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
	json_fields(j, d, daemon_fields, N_DAEMON_FIELDS);
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
		json_fields(j, u, upstream_fields, N_UPSTREAM_FIELDS);
		json_kv_u64(j, "rtt_us_mean", u->answers ? u->rtt_us_sum / u->answers : 0);
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

static void prom_family(FILE *out, const struct status_field *f)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", f->prom, f->help, f->prom,
		f->kind == DG_FIELD_COUNTER ? "counter" : "gauge");
}

/* One sample of a table row: the upstream label (if any) first, then the
 * row's labels; a SHA256 row is an info metric with the digest as label. */
static void prom_field(FILE *out, const void *base, const struct status_field *f,
		       const char *upstream)
{
	const char *sep = "{";
	char hex[65];

	fputs(f->prom, out);
	if (upstream) {
		fputs("{upstream=\"", out);
		prom_label(out, upstream);
		fputc('"', out);
		sep = ",";
	}
	if (f->labels[0]) {
		fprintf(out, "%s%s", sep, f->labels);
		sep = ",";
	}
	if (f->kind == DG_FIELD_SHA256) {
		fprintf(out, "%ssha256=\"%s\"", sep, field_hex(base, f, hex));
		sep = ",";
	}
	if (sep[0] == ',')
		fputc('}', out);
	fprintf(out, " %llu\n", f->kind == DG_FIELD_SHA256 ? 1 : field_u64(base, f));
}

static void prom_fields(FILE *out, const struct dg_daemon_stats *d)
{
	const struct status_field *t = daemon_fields;
	int i, k;

	for (i = 0; i < N_DAEMON_FIELDS; i++) {
		if (!first_of_group(t, i, same_metric))
			continue;
		prom_family(out, &t[i]);
		for (k = i; k < N_DAEMON_FIELDS; k++)
			if (same_metric(&t[i], &t[k]))
				prom_field(out, d, &t[k], NULL);
	}
}

static void prom_upstreams(FILE *out, const struct dg_daemon_stats *d)
{
	const struct status_field *t = upstream_fields;
	char names[DG_MAX_UPSTREAMS][DG_UPSTREAM_NAME + 1];
	int i, k, n, f;

	n = d->n_up < DG_MAX_UPSTREAMS ? (int)d->n_up : DG_MAX_UPSTREAMS;
	for (i = 0; i < n; i++)
		snprintf(names[i], sizeof(names[i]), "%.*s",
			 (int)sizeof(d->up[i].name), d->up[i].name);
	fputs("# HELP dotguard_upstream_up 1 when the upstream is usable.\n"
	      "# TYPE dotguard_upstream_up gauge\n", out);
	for (i = 0; i < n; i++) {
		fputs("dotguard_upstream_up{upstream=\"", out);
		prom_label(out, names[i]);
		fprintf(out, "\"} %d\n", d->up[i].state == DG_UP_UP);
	}
	for (k = 0; k < N_UPSTREAM_FIELDS; k++) {
		if (!first_of_group(t, k, same_metric))
			continue;
		prom_family(out, &t[k]);
		for (i = 0; i < n; i++)
			for (f = k; f < N_UPSTREAM_FIELDS; f++)
				if (same_metric(&t[k], &t[f]))
					prom_field(out, &d->up[i], &t[f], names[i]);
	}
	/* Not _rtt_seconds_total: that would read as the histogram's. */
	fputs("# HELP dotguard_upstream_round_trip_seconds_total Round trips of accepted answers, summed: over dotguard_upstream_answers_total, the mean.\n"
	      "# TYPE dotguard_upstream_round_trip_seconds_total counter\n", out);
	for (i = 0; i < n; i++) {
		fputs("dotguard_upstream_round_trip_seconds_total{upstream=\"", out);
		prom_label(out, names[i]);
		fprintf(out, "\"} %.6f\n", d->up[i].rtt_us_sum / 1e6);
	}
	fputs("# HELP dotguard_upstream_failures_total Upstream failures by reason.\n"
	      "# TYPE dotguard_upstream_failures_total counter\n", out);
	for (i = 0; i < n; i++)
		for (f = 0; f < DG_UPFAIL_MAX; f++) {
			fputs("dotguard_upstream_failures_total{upstream=\"", out);
			prom_label(out, names[i]);
			fprintf(out, "\",reason=\"%s\"} %llu\n", upfail_names[f],
				d->up[i].fails[f]);
		}
}

static void prom_daemon(FILE *out, const struct dg_snapshot *s)
{
	const struct dg_daemon_stats *d = &s->daemon;
	__u64 cum = 0;
	int i;

	if (!s->have_daemon)
		return;
	fprintf(out, "# HELP dotguard_daemon_up 1 while the daemon's heartbeat is fresh.\n"
		     "# TYPE dotguard_daemon_up gauge\ndotguard_daemon_up %d\n",
		daemon_alive(s));
	fprintf(out, "# HELP dotguard_daemon_start_time_seconds When the daemon started, in Unix seconds.\n"
		     "# TYPE dotguard_daemon_start_time_seconds gauge\n"
		     "dotguard_daemon_start_time_seconds %llu\n", d->started);
	fprintf(out, "# HELP dotguard_daemon_heartbeat_timestamp_seconds The daemon's last heartbeat (every second while alive), in Unix seconds.\n"
		     "# TYPE dotguard_daemon_heartbeat_timestamp_seconds gauge\n"
		     "dotguard_daemon_heartbeat_timestamp_seconds %llu\n", d->heartbeat);
	prom_fields(out, d);
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
	prom_upstreams(out, d);
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
