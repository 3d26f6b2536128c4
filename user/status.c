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
