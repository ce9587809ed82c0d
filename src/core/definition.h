/*
 * Shared by the loaders of definition files (workflows, the settlement
 * policy, evidence kinds): refusals that name the file, the JSON path and
 * the reason, and building those paths. Private to libredress.
 */
#ifndef REDRESS_CORE_DEFINITION_H
#define REDRESS_CORE_DEFINITION_H

#include <stdarg.h>
#include <stddef.h>

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

/* out = lower-case hex SHA-256 of len bytes: a definition's content hash. */
void rd_def_sha256_hex(char out[65], const char *bytes, size_t len);

#endif
