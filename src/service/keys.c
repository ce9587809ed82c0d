/*
 * API keys: creating, listing and revoking them, and authenticating a key
 * a client presents.
 *
 * A key is "rdk_<id>_<secret>". Only the SHA-256 of the secret's bytes is
 * stored; the key text exists in memory only long enough to be handed to
 * the caller once. This file must never store, log or echo a secret (not
 * even in an error message), and authentication must answer every bad key
 * the same way, comparing digests in constant time, so that a refusal
 * tells a caller nothing about which part was wrong. Keys are not dispute
 * data: they are not written to git.
 */
#include "service_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <nettle/memops.h>
#include <nettle/base64.h>
#include <nettle/sha2.h>

#include "redress/clock.h"
#include "redress/hex.h"

#define ID_BYTES 8
#define ID_LEN (ID_BYTES * 2)
#define SECRET_BYTES 32
#define SECRET_LEN 43          /* base64url of 32 bytes, unpadded */
#define PREFIX_LEN (sizeof(RD_KEY_PREFIX) - 1)

_Static_assert(PREFIX_LEN + ID_LEN + 1 + SECRET_LEN == RD_KEY_TEXT_LEN,
	       "RD_KEY_TEXT_LEN must match the key layout");
_Static_assert(RD_KEY_TEXT_LEN < RD_KEY_BUFSZ,
	       "RD_KEY_BUFSZ must hold a key and its NUL");
_Static_assert(sizeof(((rd_api_key *)0)->id) == ID_LEN + 1,
	       "rd_api_key.id holds one key id");
_Static_assert(sizeof(((rd_actor *)0)->key_id) > ID_LEN,
	       "rd_actor.key_id holds one key id");



static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Lower-case hex of exactly 2 * len digits into len bytes; -1 otherwise. */
static int hex_decode(uint8_t *out, size_t len, const char *text)
{
	for (size_t i = 0; i < len; i++) {
		int hi = hex_value(text[2 * i]);
		int lo = hi < 0 ? -1 : hex_value(text[2 * i + 1]);

		if (lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return text[2 * len] == '\0' ? 0 : -1;
}

/* base64url of SECRET_BYTES bytes, no padding: SECRET_LEN characters. */
static void secret_encode(char out[SECRET_LEN + 1],
			  const uint8_t bytes[SECRET_BYTES])
{
	char buf[BASE64_ENCODE_LENGTH(SECRET_BYTES) + BASE64_ENCODE_FINAL_LENGTH];
	struct base64_encode_ctx ctx;
	size_t n;

	base64url_encode_init(&ctx);
	n = base64_encode_update(&ctx, buf, SECRET_BYTES, bytes);
	n += base64_encode_final(&ctx, buf + n);
	while (n > SECRET_LEN && buf[n - 1] == '=')
		n--;
	memcpy(out, buf, SECRET_LEN);
	out[SECRET_LEN] = '\0';
}

/*
 * The SECRET_BYTES bytes of a SECRET_LEN-character secret; -1 unless it
 * is canonical base64url (it encodes back to the same text), so that one
 * secret has exactly one spelling.
 */
static int secret_decode(uint8_t out[SECRET_BYTES], const char *text)
{
	uint8_t buf[BASE64_DECODE_LENGTH(SECRET_LEN + 1)];
	char padded[SECRET_LEN + 2], again[SECRET_LEN + 1];
	struct base64_decode_ctx ctx;
	size_t n = 0;

	if (strnlen(text, SECRET_LEN + 1) != SECRET_LEN)
		return -1;
	memcpy(padded, text, SECRET_LEN);
	padded[SECRET_LEN] = '=';
	padded[SECRET_LEN + 1] = '\0';
	base64url_decode_init(&ctx);
	if (!base64_decode_update(&ctx, &n, buf, SECRET_LEN + 1, padded) ||
	    !base64_decode_final(&ctx) || n != SECRET_BYTES)
		return -1;
	memcpy(out, buf, SECRET_BYTES);
	secret_encode(again, out);
	return strcmp(again, text) == 0 ? 0 : -1;
}

static void secret_digest(uint8_t digest[SHA256_DIGEST_SIZE],
			  const uint8_t secret[SECRET_BYTES])
{
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, SECRET_BYTES, secret);
	sha256_digest(&ctx, SHA256_DIGEST_SIZE, digest);
}

static int is_key_id(const char *s)
{
	size_t i;

	for (i = 0; i < ID_LEN; i++)
		if (hex_value(s[i]) < 0)
			return 0;
	return s[i] == '\0';
}

static int check_request(rd_role role, const char *storefront,
			 const char *name, rd_error *err)
{
	size_t len;

	if (role != RD_ROLE_AGENT && role != RD_ROLE_AUDITOR &&
	    role != RD_ROLE_STOREFRONT && role != RD_ROLE_ADMIN)
		return rd_error_set_field(err, RD_EINVALID, "role",
					  "an API key's role must be agent, "
					  "auditor, storefront or admin%s",
					  role == RD_ROLE_SYSTEM
						  ? " (system is redress "
						    "itself)"
						  : "");
	if (role == RD_ROLE_STOREFRONT && !storefront)
		return rd_error_set_field(err, RD_EINVALID, "storefront",
					  "a storefront key needs the "
					  "storefront it is scoped to "
					  "(such as \"acme-eu\")");
	if (role != RD_ROLE_STOREFRONT && storefront)
		return rd_error_set_field(err, RD_EINVALID, "storefront",
					  "only a storefront key is scoped to "
					  "a storefront; an %s key sees every "
					  "storefront",
					  rd_role_name(role));
	if (storefront && !rd_storefront_valid(storefront))
		return rd_error_set_field(err, RD_EINVALID, "storefront",
					  "a storefront must start with a "
					  "lower-case letter or digit and "
					  "hold 1 to 64 of a-z, 0-9, '.', '_' "
					  "and '-' (such as \"acme-eu\")");
	len = strnlen(name, RD_KEY_MAX_NAME + 1);
	if (len == 0 || len > RD_KEY_MAX_NAME)
		return rd_error_set_field(err, RD_EINVALID, "name",
					  "a key name must be 1 to %d bytes%s",
					  RD_KEY_MAX_NAME,
					  len ? ", this one is longer" : "");
	if (rd_text_check(name, len, 0) != RD_TEXT_OK)
		return rd_error_set_field(err, RD_EINVALID, "name",
					  "a key name must be UTF-8 text "
					  "without control characters");
	return RD_OK;
}

int rd_service_key_create(rd_service *svc, rd_role role,
			  const char *storefront, const char *name,
			  int64_t now, char out_key[RD_KEY_BUFSZ],
			  rd_api_key *out_record, rd_error *err)
{
	uint8_t id_bytes[ID_BYTES], secret[SECRET_BYTES];
	uint8_t digest[SHA256_DIGEST_SIZE];
	char secret_text[SECRET_LEN + 1];
	rd_api_key key;
	int named = name != NULL;
	int began = 0, taken = 0;
	int rc;

	out_key[0] = '\0';
	memset(&key, 0, sizeof(key));
	if (!name)
		name = rd_role_name(role) ? rd_role_name(role) : "";
	if ((rc = check_request(role, storefront, name, err)) < 0)
		return rc;
	if ((rc = rd_random_bytes(id_bytes, sizeof(id_bytes), err)) < 0 ||
	    (rc = rd_random_bytes(secret, sizeof(secret), err)) < 0)
		goto done;
	rd_hex_encode(key.id, id_bytes, sizeof(id_bytes));
	snprintf(key.name, sizeof(key.name), "%s", name);
	key.role = role;
	snprintf(key.storefront, sizeof(key.storefront), "%s",
		 storefront ? storefront : "");
	secret_digest(digest, secret);
	rd_hex_encode(key.secret_sha256, digest, sizeof(digest));
	key.created_at = now;

	if ((rc = rd_store_begin(svc->store, err)) < 0)
		goto done;
	began = 1;
	/*
	 * A name is unique per role among live keys (an agent is known by
	 * its key's name): a name given twice is refused; the role's name,
	 * the default, once taken, is told apart by the key's id, as
	 * schema 21 renamed the duplicates of earlier releases.
	 */
	if ((rc = rd_store_key_name_live(svc->store, role, key.name, NULL,
					 &taken, err)) < 0)
		goto done;
	if (taken && named) {
		rc = rd_error_set_field(err, RD_EINVALID, "name",
					"a live %s key is already named %.64s; "
					"names are unique per role among "
					"live keys: choose another name, or "
					"revoke that key first",
					rd_role_name(role), key.name);
		goto done;
	}
	if (taken)
		snprintf(key.name, sizeof(key.name), "%s~%.6s", name, key.id);
	if ((rc = rd_store_key_insert(svc->store, &key, err)) < 0 ||
	    (rc = rd_store_commit(svc->store, err)) < 0)
		goto done;
	began = 0;
	secret_encode(secret_text, secret);
	snprintf(out_key, RD_KEY_BUFSZ, RD_KEY_PREFIX "%s_%s", key.id,
		 secret_text);
	if (out_record)
		*out_record = key;
done:
	if (began)
		rd_store_rollback(svc->store);
	/* the secret lives on only in out_key */
	memset(secret, 0, sizeof(secret));
	memset(secret_text, 0, sizeof(secret_text));
	return rc;
}

int rd_service_keys_list(rd_service *svc, rd_api_key **out, size_t *count,
			 rd_error *err)
{
	return rd_store_keys_list(svc->store, out, count, err);
}

int rd_service_key_revoke(rd_service *svc, const char *id, int64_t now,
			  rd_error *err)
{
	int rc;

	if (!id || !is_key_id(id))
		return rd_error_set_field(err, RD_EINVALID, "id",
					  "an API key id is 16 lower-case "
					  "hex digits, as `redress key list` "
					  "shows them");
	if ((rc = rd_store_begin(svc->store, err)) < 0)
		return rc;
	if ((rc = rd_store_key_revoke(svc->store, id, now, err)) < 0 ||
	    (rc = rd_store_commit(svc->store, err)) < 0)
		rd_store_rollback(svc->store);
	return rc;
}

/*
 * Split "rdk_<id>_<secret>" into the id (copied into id, NUL-terminated)
 * and the secret's bytes; -1 for anything else.
 */
static int parse_key(const char *text, char id[ID_LEN + 1],
		     uint8_t secret[SECRET_BYTES])
{
	if (!text || strnlen(text, RD_KEY_TEXT_LEN + 1) != RD_KEY_TEXT_LEN ||
	    strncmp(text, RD_KEY_PREFIX, PREFIX_LEN) != 0 ||
	    text[PREFIX_LEN + ID_LEN] != '_')
		return -1;
	memcpy(id, text + PREFIX_LEN, ID_LEN);
	id[ID_LEN] = '\0';
	if (!is_key_id(id))
		return -1;
	return secret_decode(secret, text + PREFIX_LEN + ID_LEN + 1);
}

int rd_service_key_authenticate(rd_service *svc, const char *key_text,
				rd_actor *actor_out, char storefront_out[65],
				rd_error *err)
{
	uint8_t secret[SECRET_BYTES], presented[SHA256_DIGEST_SIZE];
	uint8_t stored[SHA256_DIGEST_SIZE];
	char id[ID_LEN + 1];
	rd_api_key key;
	int valid = 1;
	int rc;

	memset(actor_out, 0, sizeof(*actor_out));
	if (storefront_out)
		storefront_out[0] = '\0';
	memset(&key, 0, sizeof(key));
	memset(stored, 0, sizeof(stored));
	if (parse_key(key_text, id, secret) < 0) {
		rc = RD_EFORBIDDEN;
		goto done;
	}
	rc = rd_store_key_get(svc->store, id, &key, err);
	if (rc == RD_ENOTFOUND) {
		/* compare anyway: an unknown id costs what a known one does */
		valid = 0;
	} else if (rc < 0) {
		goto done;
	} else if (hex_decode(stored, sizeof(stored), key.secret_sha256) < 0) {
		rc = rd_error_set(err, RD_EIO, "API key %s has a malformed "
				  "hash in the database", id);
		goto done;
	}
	secret_digest(presented, secret);
	if (!memeql_sec(presented, stored, sizeof(stored)))
		valid = 0;
	if (!valid || key.revoked_at != 0) {
		rc = RD_EFORBIDDEN;
		goto done;
	}
	actor_out->role = key.role;
	snprintf(actor_out->name, sizeof(actor_out->name), "%s", key.name);
	snprintf(actor_out->key_id, sizeof(actor_out->key_id), "%s", key.id);
	snprintf(actor_out->storefront, sizeof(actor_out->storefront), "%s",
		 key.storefront);
	if (storefront_out)
		snprintf(storefront_out, 65, "%s", key.storefront);
	rc = RD_OK;
done:
	memset(secret, 0, sizeof(secret));
	if (rc == RD_EFORBIDDEN) {
		memset(actor_out, 0, sizeof(*actor_out));
		rd_error_set(err, RD_EFORBIDDEN, "%s", RD_KEY_INVALID_MESSAGE);
	}
	return rc;
}

static json_t *time_or_null(int64_t t)
{
	char buf[RD_TIME_BUFSZ];

	if (t == 0)
		return json_null();
	rd_time_format(buf, t);
	return json_string(buf);
}

json_t *rd_api_key_to_json(const rd_api_key *key)
{
	char created[RD_TIME_BUFSZ];

	rd_time_format(created, key->created_at);
	return json_pack("{s:s, s:s, s:s, s:o, s:s, s:o}",
			 "id", key->id,
			 "name", key->name,
			 "role", rd_role_name(key->role),
			 "storefront",
			 key->storefront[0] ? json_string(key->storefront)
					    : json_null(),
			 "created_at", created,
			 "revoked_at", time_or_null(key->revoked_at));
}
