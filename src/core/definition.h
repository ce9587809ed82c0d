/*
 * Shared by the loaders of definition files (workflows, the settlement
 * policy, evidence kinds): refusals that name the file, the JSON path and
 * the reason, and building those paths. Private to libredress.
 */
#ifndef REDRESS_CORE_DEFINITION_H
#define REDRESS_CORE_DEFINITION_H

#include <stdarg.h>
#include <stddef.h>

#include <jansson.h>

#include "redress/error.h"

/*
 * RD_EDEFINITION with "origin: path: reason" and err->field = path, or
 * "origin: reason" when path is empty. Returns RD_EDEFINITION.
 */
int rd_def_vrefuse(rd_error *err, const char *origin, const char *path,
		   const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

/* out = "base.key" (or "key" when base is empty), cut to fit. */
void rd_def_path_member(char *out, size_t size, const char *base,
			const char *key);

/* out = "base[i]", cut to fit. */
void rd_def_path_index(char *out, size_t size, const char *base, size_t i);

/* One member a definition's JSON object may hold. */
typedef struct rd_def_member {
	const char *name;
	int kind;          /* the loader's own kind code */
	int required;
} rd_def_member;

/* A loader's kinds: whether a value is of one, and how to name it. */
typedef struct rd_def_kinds {
	int (*matches)(int kind, const json_t *value);
	const char *const *text;   /* "an integer", indexed by kind */
} rd_def_kinds;

/*
 * `obj` (at `path`) is an object whose members all appear in `table`,
 * each of its kind, with every required one present; else RD_EDEFINITION
 * naming the member ("unknown member \"x\" (allowed: ...)", "must be an
 * integer", "required member missing (an array)").
 */
int rd_def_check_members(rd_error *err, const char *origin, const char *path,
			 const json_t *obj, const rd_def_member *table,
			 size_t count, const rd_def_kinds *kinds);

/* out = lower-case hex SHA-256 of len bytes: a definition's content hash. */
void rd_def_sha256_hex(char out[65], const char *bytes, size_t len);

#endif
