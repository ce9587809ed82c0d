/*
 * The settlement policy parser: the shipped workflows/policy.json loads with
 * the figures it says, and every bad policy under tests/cases/policy/invalid
 * (one per validation rule, each with the message it must give) is refused.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "offer/offer_int.h"
#include "redress/offer.h"
#include "test.h"

#define POLICY_PATH REDRESS_SOURCE_DIR "/workflows/policy.json"
#define CASES_DIR REDRESS_SOURCE_DIR "/tests/cases/policy/invalid"

static int starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static rd_policy *load_shipped(rd_error *err)
{
	rd_policy *policy = NULL;
	size_t len = 0;
	char *text = rd_test_read(POLICY_PATH, &len);

	if (!text)
		return NULL;
	if (rd_policy_parse(&policy, text, len, POLICY_PATH, err) < 0)
		policy = NULL;
	free(text);
	return policy;
}

static void test_shipped_policy(void)
{
	rd_error err = { 0 };
	rd_policy *policy = load_shipped(&err);
	const struct of_reason_rule *rule;
	size_t len = 0;
	char *text = rd_test_read(POLICY_PATH, &len);

	CHECK(text);
	if (!policy)
		free(text);
	CHECK_OK(policy ? 0 : -1, &err);
	CHECK_STR(rd_policy_name(policy), "default");
	CHECK_INT(rd_policy_version(policy), 1);
	CHECK_INT(strlen(rd_policy_hash(policy)), 64);
	CHECK(strspn(rd_policy_hash(policy), "0123456789abcdef") == 64);
	CHECK_INT(strlen(rd_policy_source(policy)), len);
	CHECK(memcmp(rd_policy_source(policy), text, len) == 0);
	free(text);
	CHECK(policy->refund_shipping);
	CHECK_INT(policy->discount_count, 4);
	CHECK_INT(policy->discount_bp[0], 1000);
	CHECK_INT(policy->discount_bp[3], 5000);
	CHECK_INT(policy->copay_count, 4);
	CHECK_INT(policy->copay_bp[0], 7000);
	CHECK_INT(policy->copay_bp[3], 0);
	CHECK_INT(policy->max_discount_bp, 5000);
	CHECK_INT(of_policy_step(policy, rd_currency_find("USD")), 1);
	CHECK_INT(of_policy_step(policy, rd_currency_find("EUR")), 1);
	CHECK_INT(of_policy_step(policy, rd_currency_find("JPY")), 10);
	CHECK_INT(of_policy_step(policy, rd_currency_find("KWD")), 50);
	/* "default" 0.01 in a currency of 3 and 4 decimals, and of none */
	CHECK_INT(of_policy_step(policy, rd_currency_find("BHD")), 10);
	CHECK_INT(of_policy_step(policy, rd_currency_find("CLF")), 100);
	CHECK_INT(of_policy_step(policy, rd_currency_find("KRW")), 1);
	rule = &policy->reasons[RD_REASON_NOT_RECEIVED];
	CHECK_INT(rule->offers, (1u << RD_OFFER_RESHIPMENT) |
				       (1u << RD_OFFER_REFUND_KEEP_ITEM));
	CHECK(!rule->copay);
	rule = &policy->reasons[RD_REASON_DEFECTIVE];
	CHECK_INT(rule->salvage_bp, 2000);
	CHECK_INT(rule->return_max_bp, 3000);
	CHECK(rule->copay);
	rule = &policy->reasons[RD_REASON_CHANGED_MIND];
	CHECK(rule->return_paid_by_buyer);
	CHECK_INT(rule->return_max_bp, OF_NO_LIMIT);
	CHECK_INT(rule->offers, 1u << RD_OFFER_REFUND_WITH_RETURN);
	rd_policy_free(policy);
}

/* The same bytes give the same hash; one byte more gives another. */
static void test_hash_follows_bytes(void)
{
	static const char *minimal_head =
		"{\"name\": \"p\", \"version\": 2, \"discount_ladder\": [\"0.1\"],"
		" \"copay_ladder\": [\"0\"], \"reasons\": {";
	char text[2048];
	rd_policy *a = NULL, *b = NULL;
	rd_error err = { 0 };
	size_t used;
	int n;

	n = snprintf(text, sizeof(text), "%s", minimal_head);
	CHECK(n > 0);
	used = (size_t)n;
	for (int r = 0; r < RD_REASON_COUNT; r++) {
		n = snprintf(text + used, sizeof(text) - used,
			     "%s\"%s\": {\"offers\": [\"refund_keep_item\"]}",
			     r ? ", " : "", rd_reason_name((rd_reason)r));
		CHECK(n > 0 && (size_t)n < sizeof(text) - used);
		used += (size_t)n;
	}
	n = snprintf(text + used, sizeof(text) - used, "}}");
	CHECK(n > 0);
	used += (size_t)n;
	CHECK_OK(rd_policy_parse(&a, text, used, "a.json", &err), &err);
	/* SHA-256 of exactly these bytes, computed independently */
	CHECK_STR(rd_policy_hash(a), "8df3f1707539062addf5571944814f368da851"
				     "679c9bee7d56e5f852fda9c32b");
	text[used++] = '\n';
	CHECK_OK(rd_policy_parse(&b, text, used, "b.json", &err), &err);
	CHECK(strcmp(rd_policy_hash(a), rd_policy_hash(b)) != 0);
	/* defaults: shipping refunded, no cap, one minor unit everywhere */
	CHECK(a->refund_shipping);
	CHECK_INT(a->max_discount_bp, OF_BP_ONE);
	CHECK_INT(of_policy_step(a, rd_currency_find("JPY")), 1);
	CHECK_INT(of_policy_step(a, rd_currency_find("USD")), 1);
	CHECK_INT(a->reasons[RD_REASON_DAMAGED].salvage_bp, 0);
	CHECK_INT(a->reasons[RD_REASON_DAMAGED].return_max_bp, OF_NO_LIMIT);
	rd_policy_free(a);
	rd_policy_free(b);
	/* no bytes at all is not a policy */
	CHECK_FAILS(rd_policy_parse(&a, "", 0, "empty.json", &err),
		    RD_EDEFINITION);
	CHECK(a == NULL);
}

static int has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	return n > s && strcmp(name + n - s, suffix) == 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir ending in suffix, sorted; new array of new strings. */
static size_t list_dir(const char *dir, const char *suffix, char ***out)
{
	DIR *d = opendir(dir);
	struct dirent *entry;
	char **names = NULL;
	size_t count = 0;

	*out = NULL;
	if (!d)
		return 0;
	while ((entry = readdir(d)) != NULL) {
		char **grown;

		if (!has_suffix(entry->d_name, suffix))
			continue;
		grown = realloc(names, (count + 1) * sizeof(*names));
		if (!grown)
			break;
		names = grown;
		names[count++] = strdup(entry->d_name);
	}
	closedir(d);
	if (count)
		qsort(names, count, sizeof(*names), compare_names);
	*out = names;
	return count;
}

static void free_list(char **names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
}

/* One fixture: refused as RD_EDEFINITION with its expected text. */
static int check_invalid_case(const char *name)
{
	char path[512], expected_path[512], prefix[700];
	char *text = NULL, *expected = NULL;
	rd_policy *policy = NULL;
	rd_error err = { 0 };
	size_t len = 0;
	int rc, ok = 0;

	snprintf(path, sizeof(path), "%s/%s", CASES_DIR, name);
	snprintf(expected_path, sizeof(expected_path), "%.*s.expected",
		 (int)(strlen(path) - strlen(".json")), path);
	text = rd_test_read(path, &len);
	expected = rd_test_read(expected_path, NULL);
	if (!text || !expected) {
		rd_test_fail(__FILE__, __LINE__, "%s: cannot read %s", name,
			     text ? expected_path : path);
		goto done;
	}
	expected[strcspn(expected, "\n")] = '\0';
	rc = rd_policy_parse(&policy, text, len, path, &err);
	if (rc != RD_EDEFINITION || policy != NULL) {
		rd_test_fail(__FILE__, __LINE__,
			     "%s: rc %d, expected RD_EDEFINITION (%s)", name,
			     rc, err.message);
		goto done;
	}
	if (!strstr(err.message, expected)) {
		rd_test_fail(__FILE__, __LINE__,
			     "%s: message \"%s\" lacks \"%s\"", name,
			     err.message, expected);
		goto done;
	}
	/* "origin: path: reason", or "origin:line:col: text" for syntax */
	if (err.field[0])
		snprintf(prefix, sizeof(prefix), "%s: %s: ", path, err.field);
	else
		snprintf(prefix, sizeof(prefix), "%s:", path);
	if (!starts_with(err.message, prefix)) {
		rd_test_fail(__FILE__, __LINE__,
			     "%s: message \"%s\" does not start with \"%s\"",
			     name, err.message, prefix);
		goto done;
	}
	ok = 1;
done:
	rd_policy_free(policy);
	free(text);
	free(expected);
	return ok;
}

static void test_invalid_fixtures(void)
{
	char **names = NULL, **expected = NULL;
	size_t count = list_dir(CASES_DIR, ".json", &names);
	size_t expected_count = list_dir(CASES_DIR, ".expected", &expected);
	size_t failed = 0;

	for (size_t i = 0; i < count; i++)
		failed += !check_invalid_case(names[i]);
	free_list(names, count);
	free_list(expected, expected_count);
	CHECK_INT(failed, 0);
	/* a fixture per rule; an .expected without its .json is a mistake */
	CHECK(count >= 60);
	CHECK_INT(expected_count, count);
}

/* Syntax errors carry the line and column jansson found. */
static void test_syntax_error_position(void)
{
	static const char text[] = "{\n  \"name\": \"default\",\n  \"version\" 1\n}\n";
	rd_policy *policy = NULL;
	rd_error err = { 0 };

	CHECK_FAILS(rd_policy_parse(&policy, text, sizeof(text) - 1,
				    "workflows/policy.json", &err),
		    RD_EDEFINITION);
	CHECK(policy == NULL);
	CHECK(starts_with(err.message, "workflows/policy.json:3:13: "));
	CHECK_STR(err.field, "");
}

/* A key given twice is refused, not "last one wins". */
static void test_duplicate_keys(void)
{
	rd_error err = { 0 };
	rd_policy *shipped = load_shipped(&err);
	const char *source, *marker;
	char *text = NULL;
	rd_policy *policy = NULL;
	size_t len, at;

	CHECK(shipped);
	source = rd_policy_source(shipped);
	/* repeat "copay": false inside not_received's rule */
	marker = strstr(source, "\"copay\": false");
	CHECK(marker);
	len = strlen(source);
	at = (size_t)(marker - source);
	text = malloc(len + 32);
	CHECK(text);
	memcpy(text, source, at);
	/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): the NUL follows */
	memcpy(text + at, "\"copay\": true, ", 15);
	memcpy(text + at + 15, source + at, len - at + 1);
	rd_policy_free(shipped);
	CHECK_FAILS(rd_policy_parse(&policy, text, len + 15, "dup.json", &err),
		    RD_EDEFINITION);
	free(text);
	CHECK(policy == NULL);
	CHECK(starts_with(err.message, "dup.json:"));
	CHECK_HAS(err.message, "duplicate object key");
}

/* Messages from the file are quoted safely and named by path. */
static void test_error_names_path(void)
{
	rd_error err = { 0 };
	rd_policy *shipped = load_shipped(&err), *policy = NULL;
	json_t *doc;
	char *text;

	CHECK(shipped);
	doc = json_loads(rd_policy_source(shipped), 0, NULL);
	rd_policy_free(shipped);
	CHECK(doc);
	json_object_set_new(json_object_get(json_object_get(doc, "reasons"),
					    "damaged"),
			    "salvage", json_string("0.1\n0"));
	text = json_dumps(doc, 0);
	json_decref(doc);
	CHECK(text);
	CHECK_FAILS(rd_policy_parse(&policy, text, strlen(text), "p.json",
				    &err),
		    RD_EDEFINITION);
	free(text);
	CHECK_STR(err.field, "reasons.damaged.salvage");
	CHECK_HAS(err.message, "p.json: reasons.damaged.salvage: \"0.1?0\" is "
			       "not a share");
	CHECK(strchr(err.message, '\n') == NULL);
}

static void test_null_arguments(void)
{
	rd_policy *policy = NULL;
	rd_error err = { 0 };

	CHECK_FAILS(rd_policy_parse(NULL, "{}", 2, "x", &err), RD_EINTERNAL);
	CHECK_FAILS(rd_policy_parse(&policy, NULL, 5, "x", &err),
		    RD_EINTERNAL);
	rd_policy_free(NULL);
	CHECK(rd_policy_name(NULL) == NULL);
	CHECK(rd_policy_hash(NULL) == NULL);
}

int main(void)
{
	RUN(test_shipped_policy);
	RUN(test_hash_follows_bytes);
	RUN(test_invalid_fixtures);
	RUN(test_syntax_error_position);
	RUN(test_duplicate_keys);
	RUN(test_error_names_path);
	RUN(test_null_arguments);
	return rd_test_summary();
}
