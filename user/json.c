// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <inttypes.h>

#include "json.h"

void json_init(struct dg_json *j, FILE *out)
{
	j->out = out;
	j->depth = 0;
	j->first[0] = true;
	j->after_key = false;
}

/* Comma before every element but the first of its container. */
static void json_sep(struct dg_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		fputc(',', j->out);
	j->first[j->depth] = false;
}

static void json_open(struct dg_json *j, char c)
{
	json_sep(j);
	fputc(c, j->out);
	if (j->depth < DG_JSON_MAX_DEPTH - 1)
		j->depth++;
	j->first[j->depth] = true;
}

static void json_close(struct dg_json *j, char c)
{
	if (j->depth > 0)
		j->depth--;
	fputc(c, j->out);
	if (j->depth == 0)
		fputc('\n', j->out);
}

void json_obj_open(struct dg_json *j)
{
	json_open(j, '{');
}

void json_obj_close(struct dg_json *j)
{
	json_close(j, '}');
}

void json_arr_open(struct dg_json *j)
{
	json_open(j, '[');
}

void json_arr_close(struct dg_json *j)
{
	json_close(j, ']');
}

static void json_escaped(FILE *out, const char *s)
{
	const unsigned char *p;

	fputc('"', out);
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

void json_key(struct dg_json *j, const char *key)
{
	json_sep(j);
	json_escaped(j->out, key);
	fputc(':', j->out);
	j->after_key = true;
}

void json_str(struct dg_json *j, const char *s)
{
	json_sep(j);
	json_escaped(j->out, s);
}

void json_u64(struct dg_json *j, uint64_t v)
{
	json_sep(j);
	fprintf(j->out, "%" PRIu64, v);
}

void json_bool(struct dg_json *j, bool v)
{
	json_sep(j);
	fputs(v ? "true" : "false", j->out);
}

void json_kv_str(struct dg_json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_str(j, s);
}

void json_kv_u64(struct dg_json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	json_u64(j, v);
}
