/*
 * Webhook signatures and secrets: a signature checked against one
 * computed by other code, several secrets at once, malformed secrets and
 * ids refused without echoing a secret, and new secrets that sign.
 */
#include "test.h"

#include <stdlib.h>
#include <string.h>

#include "redress/webhook.h"

#define SECRET_24 "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
/* "whsec_" and base64 of the bytes 0, 1, ... 31 */
#define SECRET_32 "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define TIMESTAMP INT64_C(1614265330)
#define BODY "{\"test\": 2432232314}"

/*
 * Computed once with Python's standard library, not with redress:
 *   key = base64.b64decode(secret[len("whsec_"):])
 *   base64.b64encode(hmac.new(key, f"{id}.{timestamp}.{body}".encode(),
 *                             hashlib.sha256).digest())
 * The first is also the example of the Standard Webhooks specification.
 */
#define SIGNATURE_24 "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
#define SIGNATURE_32 "v1,O4Gjv1HqPqsMrjmczoggs/sWA8gZD0VyHG+fLh4+ktI="
/* SECRET_24 over "evt_1.0." (an empty body) */
#define SIGNATURE_EMPTY "v1,GQ7zWhW0206Y+e7k/VRgncw/0EJLtGchZ5xIu5HX/Vw="

static void signs_as_the_specification(void)
{
	const char *const secrets[] = { SECRET_24 };
	rd_error err = { 0 };
	char *sig = NULL;

	CHECK_OK(rd_webhook_sign(&sig, secrets, 1, ID, TIMESTAMP, BODY,
				 strlen(BODY), &err),
		 &err);
	CHECK_STR(sig, SIGNATURE_24);
	free(sig);
}

static void empty_body(void)
{
	const char *const secrets[] = { SECRET_24 };
	rd_error err = { 0 };
	char *sig = NULL;

	CHECK_OK(rd_webhook_sign(&sig, secrets, 1, "evt_1", 0, NULL, 0, &err),
		 &err);
	CHECK_STR(sig, SIGNATURE_EMPTY);
	free(sig);
}

static void two_secrets_two_signatures(void)
{
	const char *const secrets[] = { SECRET_32, SECRET_24 };
	rd_error err = { 0 };
	char *sig = NULL;

	CHECK_OK(rd_webhook_sign(&sig, secrets, 2, ID, TIMESTAMP, BODY,
				 strlen(BODY), &err),
		 &err);
	CHECK_STR(sig, SIGNATURE_32 " " SIGNATURE_24);
	free(sig);
}

static void padding_may_be_left_out(void)
{
	/* SECRET_32 without its '=' */
	const char *const secrets[] = {
		"whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
	};
	rd_error err = { 0 };
	char *sig = NULL;

	CHECK_OK(rd_webhook_sign(&sig, secrets, 1, ID, TIMESTAMP, BODY,
				 strlen(BODY), &err),
		 &err);
	CHECK_STR(sig, SIGNATURE_32);
	free(sig);
}

static void bad_secrets_refused(void)
{
	static const char *const bad[] = {
		"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",        /* no whsec_ */
		"whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"whsec_",
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa!w",  /* not base64 */
		"whsec_MfKQ9r8GKYqrTwjUPD8I LPZIo2LaLaSw", /* a space */
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n",
		"whsec_MfKQ9r8GKYqr-wjUPD8ILPZIo2LaLa_w",  /* base64url */
		"whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=", /* not canonical */
		"whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8==",
		"whsec_AAEC=AwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
		"whsec_AAECAwQFBgcICQoLDA0ODxAREhMU",     /* 21 bytes */
		/* 66 bytes */
		"whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BB",
	};
	rd_error err = { 0 };
	char *sig = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *const secrets[] = { SECRET_24, bad[i] };

		CHECK_FAILS(rd_webhook_sign(&sig, secrets, 2, ID, TIMESTAMP,
					    BODY, strlen(BODY), &err),
			    RD_EINVALID);
		CHECK(sig == NULL);
		CHECK_STR(err.field, "secret");
		CHECK_HAS(err.message, "secret 2 of 2");
		/* the secret itself is never repeated */
		CHECK(strstr(err.message, "MfKQ") == NULL);
		CHECK(strstr(err.message, "AAEC") == NULL);
	}
	CHECK_FAILS(rd_webhook_sign(&sig, NULL, 0, ID, TIMESTAMP, BODY,
				    strlen(BODY), &err),
		    RD_EINVALID);
	CHECK_STR(err.field, "secret");
}

static void bad_ids_refused(void)
{
	static const char *const bad[] = { "", "msg 1", "msg\r\nx-evil: 1",
					   "msg_\x7f", "msg_\xc3\xa9" };
	const char *const secrets[] = { SECRET_24 };
	char long_id[300];
	rd_error err = { 0 };
	char *sig = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_FAILS(rd_webhook_sign(&sig, secrets, 1, bad[i],
					    TIMESTAMP, BODY, strlen(BODY),
					    &err),
			    RD_EINVALID);
		CHECK_STR(err.field, "id");
	}
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	CHECK_FAILS(rd_webhook_sign(&sig, secrets, 1, long_id, TIMESTAMP,
				    BODY, strlen(BODY), &err),
		    RD_EINVALID);
	long_id[255] = '\0';
	CHECK_OK(rd_webhook_sign(&sig, secrets, 1, long_id, TIMESTAMP, BODY,
				 strlen(BODY), &err),
		 &err);
	free(sig);
	CHECK_FAILS(rd_webhook_sign(&sig, secrets, 1, ID, -1, BODY,
				    strlen(BODY), &err),
		    RD_EINVALID);
}

static void new_secrets(void)
{
	char first[RD_WEBHOOK_SECRET_BUFSZ], second[RD_WEBHOOK_SECRET_BUFSZ];
	rd_error err = { 0 };
	char *sig = NULL;

	CHECK_OK(rd_webhook_secret_new(first, &err), &err);
	CHECK_OK(rd_webhook_secret_new(second, &err), &err);
	CHECK_INT(strlen(first), 6 + 44);
	CHECK(strncmp(first, "whsec_", 6) == 0);
	CHECK_INT(first[49], '=');
	CHECK(strcmp(first, second) != 0);
	{
		const char *const secrets[] = { first, second };

		CHECK_OK(rd_webhook_sign(&sig, secrets, 2, ID, TIMESTAMP,
					 BODY, strlen(BODY), &err),
			 &err);
	}
	CHECK_INT(strlen(sig), 2 * (3 + 44) + 1);
	free(sig);
}

int main(void)
{
	RUN(signs_as_the_specification);
	RUN(empty_body);
	RUN(two_secrets_two_signatures);
	RUN(padding_may_be_left_out);
	RUN(bad_secrets_refused);
	RUN(bad_ids_refused);
	RUN(new_secrets);
	return rd_test_summary();
}
