/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A small streaming JSON writer: objects and arrays nest, commas and
 * string escaping are handled here so callers cannot get them wrong.
 */
#ifndef DG_JSON_H
#define DG_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define DG_JSON_MAX_DEPTH 16

struct dg_json {
	FILE *out;
	int depth;
	bool first[DG_JSON_MAX_DEPTH];	/* no element written yet at depth */
	bool after_key;			/* a key was written, value follows */
};

void json_init(struct dg_json *j, FILE *out);
void json_obj_open(struct dg_json *j);
void json_obj_close(struct dg_json *j);
void json_arr_open(struct dg_json *j);
void json_arr_close(struct dg_json *j);
void json_key(struct dg_json *j, const char *key);
void json_str(struct dg_json *j, const char *s);
void json_u64(struct dg_json *j, uint64_t v);
void json_bool(struct dg_json *j, bool v);

/* key + value in one call */
void json_kv_str(struct dg_json *j, const char *key, const char *s);
void json_kv_u64(struct dg_json *j, const char *key, uint64_t v);

#endif /* DG_JSON_H */
