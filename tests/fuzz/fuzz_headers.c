/*
 * Fuzz target: the request headers redress reads itself: Idempotency-Key
 * (rd_idem_key_check) and If-Match (http_if_match_parse); and the
 * Repr-Digest it writes from a recorded SHA-256 (http_repr_digest). The
 * whole input is the header's value, as libmicrohttpd hands it over (up to
 * the first NUL).
 *
 * Invariants: each parser agrees with a plain reading of its rule (an
 * Idempotency-Key is 1 to RD_IDEM_KEY_MAX visible ASCII characters; an
 * If-Match is one strong ETag "N" with N from 1 to INT64_MAX, its value
 * read back exactly); every refusal is one the API can answer, with its
 * field named; a Repr-Digest is made exactly from 64 hex digits and
 * decodes back to their bytes.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include <nettle/base64.h>

#include "http/http_int.h"
#include "redress/service.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static int reference_key_ok(const char *key)
{
	size_t len = strlen(key);

	if (len == 0 || len > RD_IDEM_KEY_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)key[i] < 0x21 || (unsigned char)key[i] > 0x7e)
			return 0;
	return 1;
}

static void check_idempotency_key(const char *key)
{
	rd_error err;
	int rc = rd_idem_key_check(key, &err);

	FUZZ_CHECK((rc == RD_OK) == reference_key_ok(key));
	if (rc < 0) {
		fuzz_check_error(rc, &err);
		FUZZ_CHECK(rc == RD_EUSAGE);
		FUZZ_CHECK(strcmp(err.field, "Idempotency-Key") == 0);
		fuzz_check_problem(&err);
	}
}

/* "N" with N in 1..INT64_MAX: 1 and *out, or 0. */
static int reference_if_match(int64_t *out, const char *h)
{
	size_t len = strlen(h);
	uint64_t v = 0;

	if (len < 3 || h[0] != '"' || h[len - 1] != '"')
		return 0;
	for (size_t i = 1; i + 1 < len; i++) {
		if (h[i] < '0' || h[i] > '9')
			return 0;
		if (v > ((uint64_t)INT64_MAX - (uint64_t)(h[i] - '0')) / 10)
			return 0;
		v = v * 10 + (uint64_t)(h[i] - '0');
	}
	if (v == 0)
		return 0;
	*out = (int64_t)v;
	return 1;
}

static void check_if_match(const char *header)
{
	int64_t version = -1, expected = 0;
	rd_error err;
	int rc = http_if_match_parse(&version, header, &err);
	int ok = reference_if_match(&expected, header);

	FUZZ_CHECK((rc == RD_OK) == ok);
	if (rc < 0) {
		fuzz_check_error(rc, &err);
		FUZZ_CHECK(rc == RD_EUSAGE);
		FUZZ_CHECK(strcmp(err.field, "If-Match") == 0);
		FUZZ_CHECK(version == 0);
		fuzz_check_problem(&err);
		return;
	}
	FUZZ_CHECK(version == expected && version > 0);
	/* absent: no condition */
	FUZZ_CHECK(http_if_match_parse(&version, NULL, &err) == RD_OK &&
		   version == 0);
}

static int hex_digit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

static void check_repr_digest(const char *hex)
{
	char out[64];
	uint8_t raw[64];
	size_t raw_len = sizeof(raw);
	struct base64_decode_ctx ctx;
	rd_error err;
	int ok = strlen(hex) == 64, rc;

	for (size_t i = 0; ok && i < 64; i++)
		ok = hex_digit(hex[i]);
	rc = http_repr_digest(out, hex, &err);
	FUZZ_CHECK((rc == RD_OK) == ok);
	if (rc < 0) {
		fuzz_check_error(rc, &err);
		return;
	}
	/* sha-256=:<44 characters of base64>: */
	FUZZ_CHECK(strlen(out) == 9 + 44 + 1);
	FUZZ_CHECK(strncmp(out, "sha-256=:", 9) == 0 && out[53] == ':');
	base64_decode_init(&ctx);
	FUZZ_CHECK(base64_decode_update(&ctx, &raw_len, raw, 44, out + 9));
	FUZZ_CHECK(base64_decode_final(&ctx) && raw_len == 32);
	for (size_t i = 0; i < 32; i++) {
		static const char digits[] = "0123456789abcdef";
		char a = hex[2 * i], b = hex[2 * i + 1];

		a = (char)(a >= 'A' && a <= 'F' ? a - 'A' + 'a' : a);
		b = (char)(b >= 'A' && b <= 'F' ? b - 'A' + 'a' : b);
		FUZZ_CHECK(digits[raw[i] >> 4] == a &&
			   digits[raw[i] & 15] == b);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *value = fuzz_strndup(data, size);

	check_idempotency_key(value);
	check_if_match(value);
	check_repr_digest(value);
	free(value);
	return 0;
}
