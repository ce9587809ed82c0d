/*
 * Fuzz target: the evidence kinds definition (rd_evidence_kinds_parse,
 * evidence/kinds.json) and the content-type rule it sets
 * (rd_evidence_kind_allows). The input is a kinds file; when it is refused
 * it is also tried as a content type against the shipped kinds, read once
 * at start-up.
 *
 * Invariants: a refused definition is a well-formed RD_EDEFINITION naming
 * the origin; an accepted one defines every kind exactly once, each with a
 * size limit from 1 byte to 1 GiB and content types of the form
 * type/subtype or a type/ family, each allowed by its own kind, and the
 * largest limit is the largest kind's. A content type is allowed exactly
 * when its media type (parameters dropped, case ignored) is listed, or its
 * type's family is; parameters never change the answer.
 */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "redress/dispute.h"
#include "redress/evidence.h"

#define GIB (INT64_C(1) << 30)

static rd_evidence_kinds *shipped;

/* NOLINTNEXTLINE(readability-non-const-parameter): libFuzzer's signature */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t len = 0;
	char *text = fuzz_read_source_file("evidence/kinds.json", &len);
	rd_error err;

	(void)argc;
	(void)argv;
	json_object_seed(1);
	if (rd_evidence_kinds_parse(&shipped, text, len, "evidence/kinds.json",
				    &err) < 0) {
		fprintf(stderr, "fuzz: %s\n", err.message);
		abort();
	}
	free(text);
	return 0;
}

static int media_type_ok(const char *ct)
{
	const char *slash = strchr(ct, '/');

	return slash && slash != ct && slash[1] != '\0' &&
	       strchr(slash + 1, '/') == NULL;
}

static void check_definition(const rd_evidence_kinds *kinds)
{
	int64_t largest = 0;

	for (size_t i = 0; i < rd_evidence_kind_count(); i++) {
		const rd_evidence_kind *k =
			rd_evidence_kinds_find(kinds, rd_evidence_kind_at(i));

		FUZZ_CHECK(k != NULL);
		FUZZ_CHECK(strcmp(k->name, rd_evidence_kind_at(i)) == 0);
		FUZZ_CHECK(k->max_size >= 1 && k->max_size <= GIB);
		FUZZ_CHECK(k->content_type_count >= 1);
		if (k->max_size > largest)
			largest = k->max_size;
		for (size_t c = 0; c < k->content_type_count; c++) {
			const char *ct = k->content_types[c];

			FUZZ_CHECK(media_type_ok(ct));
			FUZZ_CHECK(rd_evidence_kind_allows(k, ct) ||
				   strcmp(ct + strlen(ct) - 2, "/*") == 0);
		}
	}
	FUZZ_CHECK(rd_evidence_kinds_max_size(kinds) == largest);
	FUZZ_CHECK(rd_evidence_kinds_find(kinds, "no_such_kind") == NULL);
}

/*
 * The rule read plainly: media type = up to ';', space or tab; text/csv
 * counts as text/plain.
 */
static int reference_allows(const rd_evidence_kind *k, const char *ct)
{
	size_t len = strcspn(ct, "; \t");

	if (len == 0 || !memchr(ct, '/', len))
		return 0;
	for (size_t i = 0; i < k->content_type_count; i++) {
		const char *allowed = k->content_types[i];
		size_t n = strlen(allowed);
		int family = n >= 2 && allowed[n - 1] == '*' &&
			     allowed[n - 2] == '/';

		if (family ? len >= n && strncasecmp(ct, allowed, n - 1) == 0
			   : len == n && strncasecmp(ct, allowed, n) == 0)
			return 1;
		/* text/csv is plain text to a kind that takes text/plain */
		if (strcasecmp(allowed, "text/plain") == 0 && len == 8 &&
		    strncasecmp(ct, "text/csv", 8) == 0)
			return 1;
	}
	return 0;
}

static void check_content_type(const char *ct)
{
	char with_parameter[600];

	snprintf(with_parameter, sizeof(with_parameter), "%.500s; charset=x",
		 ct);
	for (size_t i = 0; i < rd_evidence_kind_count(); i++) {
		const rd_evidence_kind *k =
			rd_evidence_kinds_find(shipped, rd_evidence_kind_at(i));
		int allowed = rd_evidence_kind_allows(k, ct);

		FUZZ_CHECK(allowed == reference_allows(k, ct));
		if (strlen(ct) <= 500 && ct[strcspn(ct, "; \t")] == '\0')
			FUZZ_CHECK(rd_evidence_kind_allows(k, with_parameter) ==
				   allowed);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rd_evidence_kinds *kinds = NULL;
	char *ct;
	rd_error err;
	int rc;

	rc = rd_evidence_kinds_parse(&kinds, (const char *)data, size,
				     "fuzz.json", &err);
	if (rc == RD_OK) {
		check_definition(kinds);
		rd_evidence_kinds_free(kinds);
		return 0;
	}
	FUZZ_CHECK(kinds == NULL);
	fuzz_check_error(rc, &err);
	FUZZ_CHECK(rc == RD_EDEFINITION);
	FUZZ_CHECK(strncmp(err.message, "fuzz.json", 9) == 0);
	ct = fuzz_strndup(data, size);
	check_content_type(ct);
	free(ct);
	return 0;
}
