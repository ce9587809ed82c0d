/*
 * Standard Webhooks signatures and secrets: HMAC-SHA256 of
 * "<id>.<timestamp>.<body>" under each of an endpoint's secrets, and new
 * secrets from the system's randomness. A secret's text never appears in
 * an error message. See include/redress/webhook.h.
 */
#include "redress/webhook.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/base64.h>
#include <nettle/hmac.h>
#include <nettle/sha2.h>

#include "redress/random.h"

#define SECRET_PREFIX "whsec_"
#define SECRET_PREFIX_LEN (sizeof(SECRET_PREFIX) - 1)
/* Standard Webhooks: keys of 24 to 64 bytes. */
#define KEY_MIN 24
#define KEY_MAX 64
/* base64 of KEY_MAX bytes, padded */
#define KEY_TEXT_MAX BASE64_ENCODE_RAW_LENGTH(KEY_MAX)
#define ID_MAX 255
/* "v1," and base64 of a SHA-256 digest */
#define SIGNATURE_LEN (3 + BASE64_ENCODE_RAW_LENGTH(SHA256_DIGEST_SIZE))

static size_t base64_encode_padded(char *out, const uint8_t *bytes,
				   size_t len)
{
	base64_encode_raw(out, len, bytes);
	return BASE64_ENCODE_RAW_LENGTH(len);
}

static int is_base64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/*
 * The key of a "whsec_<base64>" secret into key (KEY_MAX bytes), its
 * length into *key_len; -1 unless the base64 is canonical (padding may be
 * left out), so that one key has one spelling, and the key 24 to 64 bytes.
 */
static int secret_decode(uint8_t key[KEY_MAX], size_t *key_len,
			 const char *secret)
{
	char padded[KEY_TEXT_MAX + 1], again[KEY_TEXT_MAX + 1];
	uint8_t buf[BASE64_DECODE_LENGTH(KEY_TEXT_MAX)];
	struct base64_decode_ctx ctx;
	const char *text;
	size_t len, digits = 0, n = 0;

	if (strncmp(secret, SECRET_PREFIX, SECRET_PREFIX_LEN) != 0)
		return -1;
	text = secret + SECRET_PREFIX_LEN;
	len = strnlen(text, KEY_TEXT_MAX + 1);
	if (len == 0 || len > KEY_TEXT_MAX)
		return -1;
	while (digits < len && is_base64_char(text[digits]))
		digits++;
	/* at most two '=' and only at the end */
	if (len - digits > 2 || strspn(text + digits, "=") != len - digits)
		return -1;
	if (len % 4 != 0 && len != digits)
		return -1;
	memcpy(padded, text, digits);
	len = digits;
	while (len % 4 != 0)
		padded[len++] = '=';
	if (len > KEY_TEXT_MAX)
		return -1;
	padded[len] = '\0';
	base64_decode_init(&ctx);
	if (!base64_decode_update(&ctx, &n, buf, len, padded) ||
	    !base64_decode_final(&ctx) || n < KEY_MIN || n > KEY_MAX)
		return -1;
	again[base64_encode_padded(again, buf, n)] = '\0';
	if (strcmp(again, padded) != 0)
		return -1;
	memcpy(key, buf, n);
	*key_len = n;
	return 0;
}

/* Visible ASCII, no space: a webhook-id is sent as a header. */
static int id_valid(const char *id)
{
	size_t len = strnlen(id, ID_MAX + 1);

	if (len == 0 || len > ID_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (id[i] <= ' ' || id[i] > '~')
			return 0;
	return 1;
}

/* "v1,<base64>" of one signature into out (SIGNATURE_LEN bytes, no NUL). */
static void sign_one(char *out, const uint8_t *key, size_t key_len,
		     const char *prefix, size_t prefix_len, const char *body,
		     size_t body_len)
{
	struct hmac_sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];

	hmac_sha256_set_key(&ctx, key_len, key);
	hmac_sha256_update(&ctx, prefix_len, (const uint8_t *)prefix);
	if (body_len > 0)
		hmac_sha256_update(&ctx, body_len, (const uint8_t *)body);
	hmac_sha256_digest(&ctx, SHA256_DIGEST_SIZE, digest);
	out[0] = 'v';
	out[1] = '1';
	out[2] = ',';
	(void)base64_encode_padded(out + 3, digest, sizeof(digest));
	memset(&ctx, 0, sizeof(ctx));
}

int rd_webhook_sign(char **out, const char *const *secrets,
		    size_t secret_count, const char *id, int64_t timestamp,
		    const char *body, size_t body_len, rd_error *err)
{
	uint8_t key[KEY_MAX];
	size_t key_len = 0;
	char prefix[ID_MAX + 32];
	int prefix_len;
	char *signatures = NULL;
	int rc = RD_OK;

	if (out == NULL)
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_webhook_sign: no place for the result");
	*out = NULL;
	if (secrets == NULL || secret_count == 0)
		return rd_error_set_field(err, RD_EINVALID, "secret",
					  "no secret to sign with");
	if (secret_count > SIZE_MAX / (SIGNATURE_LEN + 1))
		return rd_error_set_field(err, RD_EINVALID, "secret",
					  "too many secrets");
	if (id == NULL || !id_valid(id))
		return rd_error_set_field(err, RD_EINVALID, "id",
					  "a webhook id must be 1 to %d "
					  "printable ASCII characters without "
					  "spaces",
					  ID_MAX);
	if (timestamp < 0)
		return rd_error_set_field(err, RD_EINVALID, "timestamp",
					  "a webhook timestamp must be Unix "
					  "seconds, not negative");
	if (body == NULL && body_len > 0)
		return rd_error_set_field(err, RD_EINVALID, "body",
					  "no body for %zu bytes", body_len);
	prefix_len = snprintf(prefix, sizeof(prefix), "%s.%" PRId64 ".", id,
			      timestamp);
	if (prefix_len < 0 || (size_t)prefix_len >= sizeof(prefix))
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_webhook_sign: id too long");
	signatures = malloc(secret_count * (SIGNATURE_LEN + 1));
	if (signatures == NULL)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	for (size_t i = 0; i < secret_count; i++) {
		char *at = signatures + i * (SIGNATURE_LEN + 1);

		if (secrets[i] == NULL ||
		    secret_decode(key, &key_len, secrets[i]) < 0) {
			rc = rd_error_set_field(
				err, RD_EINVALID, "secret",
				"secret %zu of %zu is not \"whsec_\" followed "
				"by the base64 of a key of %d to %d bytes",
				i + 1, secret_count, KEY_MIN, KEY_MAX);
			goto done;
		}
		sign_one(at, key, key_len, prefix, (size_t)prefix_len, body,
			 body_len);
		at[SIGNATURE_LEN] = i + 1 < secret_count ? ' ' : '\0';
	}
	*out = signatures;
	signatures = NULL;
done:
	memset(key, 0, sizeof(key));
	free(signatures);
	return rc;
}

int rd_webhook_secret_new(char out[RD_WEBHOOK_SECRET_BUFSZ], rd_error *err)
{
	uint8_t key[RD_WEBHOOK_SECRET_BYTES];
	size_t len;
	int rc;

	_Static_assert(SECRET_PREFIX_LEN +
			       BASE64_ENCODE_RAW_LENGTH(RD_WEBHOOK_SECRET_BYTES) <
		       RD_WEBHOOK_SECRET_BUFSZ,
		       "RD_WEBHOOK_SECRET_BUFSZ holds a secret and its NUL");
	if ((rc = rd_random_bytes(key, sizeof(key), err)) < 0)
		return rc;
	memcpy(out, SECRET_PREFIX, SECRET_PREFIX_LEN);
	len = SECRET_PREFIX_LEN +
	      base64_encode_padded(out + SECRET_PREFIX_LEN, key, sizeof(key));
	out[len] = '\0';
	memset(key, 0, sizeof(key));
	return RD_OK;
}
