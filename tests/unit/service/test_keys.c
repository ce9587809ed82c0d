/*
 * API keys through the service: a created key authenticates as its role,
 * name and id; every bad key (malformed, unknown, wrong secret, revoked)
 * is refused with one identical answer; the creation rules hold and a
 * refusal writes nothing; only the secret's hash is stored; reindex keeps
 * the keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/sha2.h>

#include "redress/service.h"
#include "fixtures.h"
#include "test.h"

#define T0 INT64_C(1772442000) /* 2026-03-02T09:00:00Z */

/* An independent base64url decoder (no padding): bytes written, or -1. */
static int b64url_decode(unsigned char *out, size_t room, const char *text)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "abcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned long acc = 0;
	size_t n = 0;
	int bits = 0;

	for (; *text; text++) {
		const char *p = strchr(alphabet, *text);

		if (!p)
			return -1;
		acc = (acc << 6) | (unsigned long)(p - alphabet);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == room)
				return -1;
			out[n++] = (unsigned char)(acc >> bits);
		}
		acc &= (1ul << bits) - 1;
	}
	return (int)n;
}

static void sha256_hex(char out[65], const unsigned char *data, size_t len)
{
	struct sha256_ctx ctx;
	unsigned char digest[SHA256_DIGEST_SIZE];

	sha256_init(&ctx);
	sha256_update(&ctx, len, data);
	sha256_digest(&ctx, sizeof(digest), digest);
	for (size_t i = 0; i < sizeof(digest); i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

static void create_and_authenticate(void)
{
	char *dir = rd_test_tmpdir();
	rd_service *svc = rd_test_service_open(dir, NULL);
	char key[RD_KEY_BUFSZ], other[RD_KEY_BUFSZ];
	char storefront[65] = "x";
	char expected_hash[65];
	unsigned char secret[64];
	rd_api_key rec, rec2;
	rd_actor who;
	rd_error err;

	CHECK(svc);
	CHECK_OK(rd_service_key_create(svc, RD_ROLE_AGENT, NULL, "Alice laptop",
				       T0, key, &rec, &err), &err);
	/* rdk_ + 16 hex + _ + 43 base64url */
	CHECK_INT(strlen(key), 64);
	CHECK(strncmp(key, "rdk_", 4) == 0);
	CHECK(key[20] == '_');
	CHECK_INT(strlen(rec.id), 16);
	CHECK(strspn(rec.id, "0123456789abcdef") == 16);
	CHECK(strncmp(key + 4, rec.id, 16) == 0);
	CHECK_STR(rec.name, "Alice laptop");
	CHECK_INT(rec.role, RD_ROLE_AGENT);
	CHECK_STR(rec.storefront, "");
	CHECK_INT(rec.created_at, T0);
	CHECK_INT(rec.revoked_at, 0);
	/* the stored hash is SHA-256 of the secret's 32 bytes */
	CHECK_INT(b64url_decode(secret, sizeof(secret), key + 21), 32);
	sha256_hex(expected_hash, secret, 32);
	CHECK_STR(rec.secret_sha256, expected_hash);

	CHECK_OK(rd_service_key_authenticate(svc, key, &who, storefront, &err),
		 &err);
	CHECK_INT(who.role, RD_ROLE_AGENT);
	CHECK_STR(who.name, "Alice laptop");
	CHECK_STR(who.key_id, rec.id);
	CHECK_STR(storefront, "");

	/* a storefront key, named after its role by default */
	CHECK_OK(rd_service_key_create(svc, RD_ROLE_STOREFRONT, "acme-eu", NULL,
				       T0 + 1, other, &rec2, &err), &err);
	CHECK_STR(rec2.name, "storefront");
	CHECK(strcmp(rec2.id, rec.id) != 0);
	CHECK(strcmp(other + 21, key + 21) != 0);
	CHECK_OK(rd_service_key_authenticate(svc, other, &who, storefront,
					     &err), &err);
	CHECK_INT(who.role, RD_ROLE_STOREFRONT);
	CHECK_STR(who.name, "storefront");
	CHECK_STR(who.key_id, rec2.id);
	CHECK_STR(storefront, "acme-eu");
	/* storefront_out may be NULL */
	CHECK_OK(rd_service_key_authenticate(svc, other, &who, NULL, &err),
		 &err);

	rd_service_close(svc);
	free(dir);
}

/* Authentication must fail with the one refusal, and say nothing else. */
static int refused_alike(rd_service *svc, const char *text)
{
	rd_actor who;
	rd_error err;
	char storefront[65] = "leftover";
	int rc;

	memset(&who, 0x55, sizeof(who));
	rc = rd_service_key_authenticate(svc, text, &who, storefront, &err);
	if (rc != RD_EFORBIDDEN || err.code != RD_EFORBIDDEN ||
	    strcmp(err.message, RD_KEY_INVALID_MESSAGE) != 0 ||
	    err.field[0] || err.guard[0] || who.name[0] || who.key_id[0] ||
	    storefront[0]) {
		rd_test_fail(__FILE__, __LINE__, "key \"%s\": rc %d, \"%s\"",
			     text ? text : "(null)", rc, err.message);
		return 0;
	}
	return 1;
}

static void bad_keys_refused_alike(void)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789-_";
	char *dir = rd_test_tmpdir();
	rd_service *svc = rd_test_service_open(dir, NULL);
	char key[RD_KEY_BUFSZ], bad[2 * RD_KEY_BUFSZ];
	rd_api_key rec;
	rd_actor who;
	rd_error err;
	size_t last;

	CHECK(svc);
	CHECK_OK(rd_service_key_create(svc, RD_ROLE_ADMIN, NULL, "root", T0,
				       key, &rec, &err), &err);
	CHECK_OK(rd_service_key_authenticate(svc, key, &who, NULL, &err),
		 &err);

	/* malformed */
	CHECK(refused_alike(svc, NULL));
	CHECK(refused_alike(svc, ""));
	CHECK(refused_alike(svc, "rdk_"));
	CHECK(refused_alike(svc, "Bearer x"));
	snprintf(bad, sizeof(bad), "Bearer %s", key);
	CHECK(refused_alike(svc, bad));
	snprintf(bad, sizeof(bad), "%sA", key);          /* too long */
	CHECK(refused_alike(svc, bad));
	snprintf(bad, sizeof(bad), "%.63s", key);        /* too short */
	CHECK(refused_alike(svc, bad));
	snprintf(bad, sizeof(bad), "%s", key);           /* other prefix */
	bad[0] = 'x';
	CHECK(refused_alike(svc, bad));
	snprintf(bad, sizeof(bad), "%s", key);           /* no separator */
	bad[20] = '-';
	CHECK(refused_alike(svc, bad));
	snprintf(bad, sizeof(bad), "%s", key);           /* upper-case id */
	bad[4] = 'A';
	CHECK(refused_alike(svc, bad));
	snprintf(bad, sizeof(bad), "%s", key);           /* bad base64 */
	bad[30] = '+';
	CHECK(refused_alike(svc, bad));
	bad[30] = '=';
	CHECK(refused_alike(svc, bad));
	/* the last character's unused bits must be zero: one spelling only */
	snprintf(bad, sizeof(bad), "%s", key);
	last = (size_t)(strchr(b64, key[63]) - b64);
	bad[63] = b64[last | 1];
	CHECK(refused_alike(svc, bad));
	/* an embedded NUL shortens the text */
	snprintf(bad, sizeof(bad), "%s", key);
	bad[40] = '\0';
	CHECK(refused_alike(svc, bad));

	/* unknown id, right shape */
	snprintf(bad, sizeof(bad), "%s", key);
	bad[4] = bad[4] == '0' ? '1' : '0';
	CHECK(refused_alike(svc, bad));
	/* wrong secret, right id */
	snprintf(bad, sizeof(bad), "%s", key);
	bad[25] = bad[25] == 'A' ? 'B' : 'A';
	CHECK(refused_alike(svc, bad));

	/* the real key still works; revoked, it is refused alike */
	CHECK_OK(rd_service_key_authenticate(svc, key, &who, NULL, &err),
		 &err);
	CHECK_OK(rd_service_key_revoke(svc, rec.id, T0 + 60, &err), &err);
	CHECK(refused_alike(svc, key));

	rd_service_close(svc);
	free(dir);
}

static void creation_rules(void)
{
	char *dir = rd_test_tmpdir();
	rd_service *svc = rd_test_service_open(dir, NULL);
	char key[RD_KEY_BUFSZ];
	char long_text[80];
	char *before = NULL, *after = NULL;
	rd_api_key rec;
	rd_error err;

	CHECK(svc);
	CHECK((before = rd_test_dump(svc)) != NULL);

	CHECK_FAILS(rd_service_key_create(svc, RD_ROLE_SYSTEM, NULL, NULL, T0,
					  key, &rec, &err), RD_EINVALID);
	CHECK_STR(err.field, "role");
	CHECK_HAS(err.message, "system");
	CHECK_STR(key, "");
	CHECK_FAILS(rd_service_key_create(svc, RD_ROLE_COUNT, NULL, NULL, T0,
					  key, &rec, &err), RD_EINVALID);
	CHECK_STR(err.field, "role");

	/* storefront: required for, and only for, a storefront key */
	CHECK_FAILS(rd_service_key_create(svc, RD_ROLE_STOREFRONT, NULL, NULL,
					  T0, key, &rec, &err), RD_EINVALID);
	CHECK_STR(err.field, "storefront");
	CHECK_FAILS(rd_service_key_create(svc, RD_ROLE_AGENT, "acme", NULL, T0,
					  key, &rec, &err), RD_EINVALID);
	CHECK_STR(err.field, "storefront");
	CHECK_HAS(err.message, "agent");
	CHECK_FAILS(rd_service_key_create(svc, RD_ROLE_ADMIN, "acme", NULL, T0,
					  key, &rec, &err), RD_EINVALID);
	CHECK_STR(err.field, "storefront");
	/* and it follows the dispute storefront rule */
	CHECK_FAILS(rd_service_key_create(svc, RD_ROLE_STOREFRONT, "", NULL,
					  T0, key, &rec, &err), RD_EINVALID);
	CHECK_STR(err.field, "storefront");
	CHECK_FAILS(rd_service_key_create(svc, RD_ROLE_STOREFRONT, "Acme", NULL,
					  T0, key, &rec, &err), RD_EINVALID);
	CHECK_STR(err.field, "storefront");
	CHECK_FAILS(rd_service_key_create(svc, RD_ROLE_STOREFRONT, "-acme",
					  NULL, T0, key, &rec, &err),
		    RD_EINVALID);
	CHECK_FAILS(rd_service_key_create(svc, RD_ROLE_STOREFRONT, "acme eu",
					  NULL, T0, key, &rec, &err),
		    RD_EINVALID);
	CHECK_FAILS(rd_service_key_create(svc, RD_ROLE_STOREFRONT, "acme/eu",
					  NULL, T0, key, &rec, &err),
		    RD_EINVALID);
	memset(long_text, 'a', 65);
	long_text[65] = '\0';
	CHECK_FAILS(rd_service_key_create(svc, RD_ROLE_STOREFRONT, long_text,
					  NULL, T0, key, &rec, &err),
		    RD_EINVALID);
	CHECK_STR(err.field, "storefront");

	/* name: 1..64 bytes of UTF-8 without control characters */
	CHECK_FAILS(rd_service_key_create(svc, RD_ROLE_AGENT, NULL, "", T0, key,
					  &rec, &err), RD_EINVALID);
	CHECK_STR(err.field, "name");
	CHECK_FAILS(rd_service_key_create(svc, RD_ROLE_AGENT, NULL, long_text,
					  T0, key, &rec, &err), RD_EINVALID);
	CHECK_STR(err.field, "name");
	CHECK_FAILS(rd_service_key_create(svc, RD_ROLE_AGENT, NULL, "a\nb", T0,
					  key, &rec, &err), RD_EINVALID);
	CHECK_STR(err.field, "name");
	CHECK_FAILS(rd_service_key_create(svc, RD_ROLE_AGENT, NULL, "caf\xe9",
					  T0, key, &rec, &err), RD_EINVALID);
	CHECK_STR(err.field, "name");

	/* nothing of that was written */
	CHECK((after = rd_test_dump(svc)) != NULL);
	CHECK_STR(after, before);
	free(after);
	after = NULL;

	/* the limits themselves are allowed */
	long_text[64] = '\0';
	CHECK_OK(rd_service_key_create(svc, RD_ROLE_STOREFRONT, long_text,
				       long_text, T0, key, &rec, &err), &err);
	CHECK_STR(rec.storefront, long_text);
	CHECK_STR(rec.name, long_text);
	CHECK_OK(rd_service_key_create(svc, RD_ROLE_STOREFRONT, "0.a_b-c",
				       "caf\xc3\xa9 \xe2\x9c\x93", T0, key,
				       NULL, &err), &err);
	CHECK_OK(rd_service_key_create(svc, RD_ROLE_AUDITOR, NULL, NULL, T0,
				       key, &rec, &err), &err);
	CHECK_STR(rec.name, "auditor");

	free(before);
	rd_service_close(svc);
	free(dir);
}

static void only_the_hash_is_stored(void)
{
	char *dir = rd_test_tmpdir();
	rd_service *svc = rd_test_service_open(dir, NULL);
	char key[RD_KEY_BUFSZ];
	char *dump = NULL;
	char *file = NULL;
	char *path = NULL;
	size_t len = 0;
	rd_api_key rec;
	rd_api_key *keys = NULL;
	size_t count = 0;
	json_t *doc = NULL;
	char *text = NULL;
	rd_error err;

	CHECK(svc);
	CHECK_OK(rd_service_key_create(svc, RD_ROLE_AGENT, NULL, "bot", T0,
				       key, &rec, &err), &err);
	CHECK((dump = rd_test_dump(svc)) != NULL);
	CHECK_HAS(dump, "[api_keys]\n");
	CHECK_HAS(dump, rec.id);
	CHECK_HAS(dump, rec.secret_sha256);
	CHECK(strstr(dump, key + 21) == NULL);
	CHECK(strstr(dump, key) == NULL);
	/*
	 * nor in the embedded database's file itself (checkpointed on
	 * close); a PostgreSQL record has no file of its own to read, the
	 * dump above read every table of it
	 */
	rd_service_close(svc);
	svc = NULL;
	if (!rd_test_on_postgres()) {
		path = rd_test_path(dir, "redress.db");
		CHECK((file = rd_test_read(path, &len)) != NULL);
		CHECK(memmem(file, len, key + 21, 43) == NULL);
		CHECK(memmem(file, len, rec.secret_sha256, 64) != NULL);
	}

	/* listing and the JSON record never carry the secret or its hash */
	svc = rd_test_service_open(dir, NULL);
	CHECK(svc);
	CHECK_OK(rd_service_keys_list(svc, &keys, &count, &err), &err);
	CHECK_INT(count, 1);
	CHECK((doc = rd_api_key_to_json(&keys[0])) != NULL);
	CHECK((text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS)) != NULL);
	CHECK(strstr(text, rec.secret_sha256) == NULL);
	CHECK(strstr(text, key + 21) == NULL);
	CHECK_HAS(text, "\"created_at\":\"2026-03-02T09:00:00Z\"");
	CHECK_HAS(text, "\"role\":\"agent\"");
	CHECK_HAS(text, "\"storefront\":null");
	CHECK_HAS(text, "\"revoked_at\":null");

	free(text);
	json_decref(doc);
	free(keys);
	free(file);
	free(path);
	free(dump);
	rd_service_close(svc);
	free(dir);
}

static void revoke_rules(void)
{
	char *dir = rd_test_tmpdir();
	rd_service *svc = rd_test_service_open(dir, NULL);
	char key[RD_KEY_BUFSZ], kept[RD_KEY_BUFSZ];
	rd_api_key rec, rec2;
	rd_api_key *keys = NULL;
	size_t count = 0;
	rd_actor who;
	rd_error err;

	CHECK(svc);
	CHECK_OK(rd_service_key_create(svc, RD_ROLE_AGENT, NULL, NULL, T0, key,
				       &rec, &err), &err);
	CHECK_OK(rd_service_key_create(svc, RD_ROLE_AGENT, NULL, NULL, T0, kept,
				       &rec2, &err), &err);
	CHECK_FAILS(rd_service_key_revoke(svc, "0123456789abcdef", T0, &err),
		    RD_ENOTFOUND);
	/* a pasted key is not a key id, and is not echoed back */
	CHECK_FAILS(rd_service_key_revoke(svc, key, T0, &err), RD_EINVALID);
	CHECK_STR(err.field, "id");
	CHECK(strstr(err.message, key + 21) == NULL);
	CHECK_FAILS(rd_service_key_revoke(svc, NULL, T0, &err), RD_EINVALID);
	CHECK_FAILS(rd_service_key_revoke(svc, "0123456789ABCDEF", T0, &err),
		    RD_EINVALID);

	CHECK_OK(rd_service_key_revoke(svc, rec.id, T0 + 30, &err), &err);
	CHECK_FAILS(rd_service_key_revoke(svc, rec.id, T0 + 90, &err),
		    RD_ECONFLICT);
	CHECK_OK(rd_service_keys_list(svc, &keys, &count, &err), &err);
	CHECK_INT(count, 2);
	for (size_t i = 0; i < count; i++)
		if (strcmp(keys[i].id, rec.id) == 0)
			CHECK_INT(keys[i].revoked_at, T0 + 30);
		else
			CHECK_INT(keys[i].revoked_at, 0);
	/* revoking one key leaves the others working */
	CHECK(refused_alike(svc, key));
	CHECK_OK(rd_service_key_authenticate(svc, kept, &who, NULL, &err),
		 &err);
	CHECK_STR(who.key_id, rec2.id);

	free(keys);
	rd_service_close(svc);
	free(dir);
}

static void reindex_keeps_keys(void)
{
	RD_TEST_SQLITE_ONLY("reindex rebuilds an embedded record's file");
	char *dir = rd_test_tmpdir();
	rd_service *svc = rd_test_service_open(dir, NULL);
	char key[RD_KEY_BUFSZ], revoked[RD_KEY_BUFSZ];
	rd_dispute *input = NULL, *d = NULL;
	rd_actor alice = { .role = RD_ROLE_AGENT, .name = "alice" };
	rd_api_key rec, gone;
	rd_api_key *before = NULL, *after = NULL;
	size_t n_before = 0, n_after = 0, disputes = 0;
	rd_actor who;
	rd_error err;

	CHECK(svc);
	CHECK_OK(rd_dispute_parse(&input, rd_test_example,
				  strlen(rd_test_example), &err), &err);
	CHECK_OK(rd_service_dispute_open(svc, input, &alice, T0, &d, &err),
		 &err);
	CHECK_OK(rd_service_key_create(svc, RD_ROLE_STOREFRONT, "acme", "shop",
				       T0, key, &rec, &err), &err);
	CHECK_OK(rd_service_key_create(svc, RD_ROLE_AUDITOR, NULL, NULL, T0 + 5,
				       revoked, &gone, &err), &err);
	CHECK_OK(rd_service_key_revoke(svc, gone.id, T0 + 9, &err), &err);
	CHECK_OK(rd_service_keys_list(svc, &before, &n_before, &err), &err);

	CHECK_OK(rd_service_reindex(svc, &disputes, NULL, NULL, &err), &err);
	CHECK_INT(disputes, 1);
	CHECK_OK(rd_service_keys_list(svc, &after, &n_after, &err), &err);
	CHECK_INT(n_after, 2);
	CHECK_INT(n_after, n_before);
	CHECK(memcmp(before, after, n_before * sizeof(*before)) == 0);
	CHECK_OK(rd_service_key_authenticate(svc, key, &who, NULL, &err),
		 &err);
	CHECK_STR(who.name, "shop");
	CHECK(refused_alike(svc, revoked));

	free(before);
	free(after);
	rd_dispute_free(input);
	rd_dispute_free(d);
	rd_service_close(svc);
	free(dir);
}

int main(void)
{
	RUN(create_and_authenticate);
	RUN(bad_keys_refused_alike);
	RUN(creation_rules);
	RUN(only_the_hash_is_stored);
	RUN(revoke_rules);
	RUN(reindex_keeps_keys);
	return rd_test_summary();
}
