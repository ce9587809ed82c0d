/*
 * JSON text to and from jansson values, all or nothing.
 *
 * jansson 2.14 is not safe when memory runs out: its encoder ignores a
 * failed write of an object's key (json_dumps can return text with a key
 * missing), and its decoder drops the bytes it cannot keep (json_loads can
 * return a string cut short, as if that were the input). redress therefore
 * gives jansson an allocator of its own that notes every failure, and
 * reads and writes JSON only through these functions, which return a
 * whole document or nothing.
 */
#ifndef REDRESS_JSON_H
#define REDRESS_JSON_H

#include <stddef.h>

#include <jansson.h>

/*
 * Make jansson allocate through redress (malloc and free underneath,
 * noting failures). Called by every function below and by
 * rd_service_open; a program may call it first thing. Idempotent and
 * thread-safe. Memory jansson allocated before stays valid.
 */
void rd_json_init(void);

/*
 * Parse `len` bytes of `text` with jansson's decoding `flags` into a new
 * reference, as json_loadb does, or NULL with `error` filled (error may be
 * NULL). When any allocation failed during the parse the result is NULL
 * and json_error_code(error) is json_error_out_of_memory, even if jansson
 * returned a document.
 */
json_t *rd_json_loadb(const char *text, size_t len, size_t flags,
		      json_error_t *error);

/*
 * The text of `json` with jansson's dump `flags` (JSON_COMPACT,
 * JSON_INDENT(n), JSON_SORT_KEYS...), as a new NUL-terminated string
 * (free()), or NULL when `json` is NULL, cannot be encoded, or memory ran
 * out at any point.
 */
char *rd_json_dumps(const json_t *json, size_t flags);

#endif
