/*
 * Refusals and JSON paths for the definition loaders. A path only names a
 * place in a message, so one too long for its buffer is cut, harmlessly.
 */
#include "core/definition.h"

#include <stdint.h>
#include <stdio.h>

#include <nettle/sha2.h>

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
	static const char hex[] = "0123456789abcdef";
	uint8_t digest[SHA256_DIGEST_SIZE];
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, len, (const uint8_t *)bytes);
	sha256_digest(&ctx, sizeof(digest), digest);
	for (size_t i = 0; i < sizeof(digest); i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 0x0f];
	}
	out[2 * sizeof(digest)] = '\0';
}
