/*
 * Helpers shared by the fuzz targets (see fuzz.h). Nothing here writes a
 * file; fuzz_read_source_file reads the shipped definitions at start-up.
 */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "http/http_int.h"
#include "redress/file.h"

void fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
	abort();
}

static int terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

void fuzz_check_error(int rc, const rd_error *err)
{
	FUZZ_CHECK(rc < 0 && rc > -RD_CODE_COUNT);
	FUZZ_CHECK(err->code == rc);
	FUZZ_CHECK(terminated(err->message, sizeof(err->message)));
	FUZZ_CHECK(err->message[0] != '\0');
	FUZZ_CHECK(terminated(err->field, sizeof(err->field)));
	FUZZ_CHECK(terminated(err->guard, sizeof(err->guard)));
}

void fuzz_check_problem(const rd_error *err)
{
	unsigned status = 0;
	json_t *doc = http_problem(err, 0, &status);

	FUZZ_CHECK(doc != NULL);
	FUZZ_CHECK(status == (unsigned)rd_code_info_get(err->code)->http_status);
	FUZZ_CHECK(json_is_string(json_object_get(doc, "detail")));
	json_decref(doc);
}

uint8_t fuzz_u8(fuzz_bytes *in)
{
	uint8_t b;

	if (in->size == 0)
		return 0;
	b = in->data[0];
	in->data++;
	in->size--;
	return b;
}

uint32_t fuzz_u32(fuzz_bytes *in)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v |= (uint32_t)fuzz_u8(in) << (8 * i);
	return v;
}

int64_t fuzz_i64(fuzz_bytes *in)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)fuzz_u8(in) << (8 * i);
	return (int64_t)v;
}

size_t fuzz_pick(fuzz_bytes *in, size_t n)
{
	return (size_t)fuzz_u8(in) % n;
}

char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

char *fuzz_take_until(fuzz_bytes *in, uint8_t sep)
{
	const uint8_t *end = in->size ? memchr(in->data, sep, in->size) : NULL;
	size_t len = end ? (size_t)(end - in->data) : in->size;
	char *s = fuzz_strndup(in->data, len);

	in->data += len;
	in->size -= len;
	if (end) {
		in->data++;
		in->size--;
	}
	return s;
}

char *fuzz_read_source_file(const char *relpath, size_t *len)
{
	char path[4096];
	char *bytes = NULL;
	rd_error err;

	snprintf(path, sizeof(path), "%s/%s", REDRESS_SOURCE_DIR, relpath);
	if (rd_file_read(&bytes, len, path, 1024 * 1024, RD_EDEFINITION,
			 &err) < 0) {
		fprintf(stderr, "fuzz: %s\n", err.message);
		abort();
	}
	return bytes;
}
