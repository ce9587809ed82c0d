/*
 * Refusals and JSON paths for the definition loaders. A path only names a
 * place in a message, so one too long for its buffer is cut, harmlessly.
 */
#include "core/definition.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <nettle/sha2.h>

#include "redress/hex.h"

int rd_def_vrefuse(rd_error *err, const char *origin, const char *path,
		   const char *fmt, va_list ap)
{
	char reason[400];

	vsnprintf(reason, sizeof(reason), fmt, ap);
	if (*path)
		return rd_error_set_field(err, RD_EDEFINITION, path,
					  "%s: %s: %s", origin, path, reason);
	return rd_error_set(err, RD_EDEFINITION, "%s: %s", origin, reason);
}

void rd_def_path_member(char *out, size_t size, const char *base,
			const char *key)
{
	int n = *base ? snprintf(out, size, "%s.%s", base, key)
		      : snprintf(out, size, "%s", key);

	if (n < 0 || (size_t)n >= size)
		out[size - 1] = '\0';
}

void rd_def_path_index(char *out, size_t size, const char *base, size_t i)
{
	int n = snprintf(out, size, "%s[%zu]", base, i);

	if (n < 0 || (size_t)n >= size)
		out[size - 1] = '\0';
}

void rd_def_sha256_hex(char out[65], const char *bytes, size_t len)
{
	uint8_t digest[SHA256_DIGEST_SIZE];
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, len, (const uint8_t *)bytes);
	sha256_digest(&ctx, sizeof(digest), digest);
	rd_hex_encode(out, digest, sizeof(digest));
}

__attribute__((format(printf, 4, 5)))
static int refuse(rd_error *err, const char *origin, const char *path,
		  const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = rd_def_vrefuse(err, origin, path, fmt, ap);
	va_end(ap);
	return rc;
}

/* Text from a file, fit to quote: printable ASCII, at most 64 bytes. */
static void quote_text(char out[68], const char *text)
{
	size_t i;

	for (i = 0; i < 64 && text[i] != '\0'; i++) {
		unsigned char c = (unsigned char)text[i];

		out[i] = (char)(c >= 0x20 && c < 0x7f && c != '"' ? c : '?');
	}
	if (text[i] != '\0') {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

int rd_def_check_members(rd_error *err, const char *origin, const char *path,
			 const json_t *obj, const rd_def_member *table,
			 size_t count, const rd_def_kinds *kinds)
{
	char sub[256];
	const char *key;
	json_t *value;

	if (!json_is_object(obj))
		return refuse(err, origin, path, "must be an object");
	json_object_foreach((json_t *)obj, key, value) {
		const rd_def_member *m = NULL;

		for (size_t i = 0; i < count && !m; i++)
			if (strcmp(table[i].name, key) == 0)
				m = &table[i];
		rd_def_path_member(sub, sizeof(sub), path, key);
		if (!m) {
			char allowed[256], quoted[68];
			size_t used = 0;

			allowed[0] = '\0';
			for (size_t i = 0; i < count && used < sizeof(allowed);
			     i++) {
				int n = snprintf(allowed + used,
						 sizeof(allowed) - used, "%s%s",
						 i ? ", " : "", table[i].name);

				if (n < 0)
					break;
				used += (size_t)n;
			}
			quote_text(quoted, key);
			return refuse(err, origin, sub,
				      "unknown member \"%s\" (allowed: %s)",
				      quoted, allowed);
		}
		if (!kinds->matches(m->kind, value))
			return refuse(err, origin, sub, "must be %s",
				      kinds->text[m->kind]);
	}
	for (size_t i = 0; i < count; i++) {
		if (table[i].required && !json_object_get(obj, table[i].name)) {
			rd_def_path_member(sub, sizeof(sub), path,
					   table[i].name);
			return refuse(err, origin, sub,
				      "required member missing (%s)",
				      kinds->text[table[i].kind]);
		}
	}
	return RD_OK;
}
