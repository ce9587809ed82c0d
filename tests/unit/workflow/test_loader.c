/*
 * Workflow loading: the reference definition, every bad-definition fixture
 * under tests/cases/workflow/invalid (each with the message it must give),
 * syntax errors, sets (pinning by hash, version conflicts, latest), reading
 * a directory, and the read-only queries on a loaded definition.
 */
#include "test.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "redress/workflow.h"

#define WORKFLOWS_DIR REDRESS_SOURCE_DIR "/workflows"
#define CASES_DIR REDRESS_SOURCE_DIR "/tests/cases/workflow"

/* A small valid definition; %s is its name, %d its version, %s a note. */
#define MINI_FMT                                                             \
	"{\"name\": \"%s\", \"version\": %d, \"description\": \"%s\",\n"      \
	" \"initial\": \"open\",\n"                                          \
	" \"states\": {\"open\": {}, \"done\": {\"terminal\": true}},\n"     \
	" \"transitions\": [{\"event\": \"close\", \"from\": [\"open\"],\n"  \
	"   \"to\": \"done\", \"roles\": [\"agent\"],"                       \
	" \"outcome\": \"closed\"}]}\n"

/* MINI_FMT with "mini", 1, "" — and the SHA-256 of exactly these bytes. */
#define MINI_TEXT                                                            \
	"{\"name\": \"mini\", \"version\": 1, \"description\": \"\",\n"       \
	" \"initial\": \"open\",\n"                                          \
	" \"states\": {\"open\": {}, \"done\": {\"terminal\": true}},\n"     \
	" \"transitions\": [{\"event\": \"close\", \"from\": [\"open\"],\n"  \
	"   \"to\": \"done\", \"roles\": [\"agent\"],"                       \
	" \"outcome\": \"closed\"}]}\n"
#define MINI_HASH "902cd78dbcdb084c276f9ec9deb8c45681010b41cc2f9c5852c2abb73c6a0613"

static rd_workflow *mini(const char *name, int version, const char *note,
			 const char *origin)
{
	char text[1024];
	rd_workflow *wf = NULL;
	rd_error err = { 0 };

	snprintf(text, sizeof(text), MINI_FMT, name, version, note);
	if (rd_workflow_parse(&wf, text, strlen(text), origin, &err) < 0)
		fprintf(stderr, "  mini: %s\n", err.message);
	return wf;
}

static int starts_with(const char *text, const char *prefix)
{
	return strncmp(text, prefix, strlen(prefix)) == 0;
}

/* ---- the reference definition ---------------------------------------- */

static void reference_loads(void)
{
	rd_workflow_set *set = NULL;
	const rd_workflow *wf;
	rd_error err = { 0 };
	char *bytes = NULL;
	size_t len = 0;
	int64_t within = 0;
	const char *on_timeout = NULL;

	CHECK_OK(rd_workflow_set_load_dir(&set, WORKFLOWS_DIR, &err), &err);
	wf = rd_workflow_set_latest(set, "dispute");
	CHECK(wf != NULL);
	CHECK_STR(rd_workflow_name(wf), "dispute");
	CHECK_INT(rd_workflow_version(wf), 4);
	CHECK_STR(rd_workflow_initial(wf), "opened");
	CHECK(rd_workflow_set_by_hash(set, rd_workflow_hash(wf)) == wf);

	/* the source is the file, byte for byte */
	bytes = rd_test_read(WORKFLOWS_DIR "/dispute.json", &len);
	CHECK(bytes != NULL);
	CHECK_INT(strlen(rd_workflow_source(wf)), len);
	CHECK(memcmp(rd_workflow_source(wf), bytes, len) == 0);
	free(bytes);

	static const char *const states[] = {
		"opened", "investigating", "offer_pending", "refund_pending",
		"awaiting_return", "reshipment_pending", "reshipped",
		"discount_pending", "escalated", "resolved", "closed",
	};
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		CHECK(rd_workflow_has_state(wf, states[i]));
		CHECK_INT(rd_workflow_is_terminal(wf, states[i]), i >= 9);
	}
	CHECK(!rd_workflow_has_state(wf, "refundd"));
	CHECK(!rd_workflow_has_state(wf, NULL));
	CHECK(!rd_workflow_is_terminal(wf, "refundd"));

	CHECK_INT(rd_workflow_sla(wf, "opened", &within, &on_timeout), 1);
	CHECK_INT(within, 86400);
	CHECK_STR(on_timeout, "escalate");
	CHECK_INT(rd_workflow_sla(wf, "offer_pending", &within, &on_timeout),
		  1);
	CHECK_INT(within, 5 * 86400);
	CHECK_STR(on_timeout, "expire_offer");
	CHECK_INT(rd_workflow_sla(wf, "awaiting_return", &within, NULL), 1);
	CHECK_INT(within, 21 * 86400);
	/* version 4: every open state has a clock */
	CHECK_INT(rd_workflow_sla(wf, "investigating", &within, &on_timeout),
		  1);
	CHECK_INT(within, 2 * 86400);
	CHECK_STR(on_timeout, "escalate");
	CHECK_INT(rd_workflow_sla(wf, "escalated", &within, &on_timeout), 1);
	CHECK_INT(within, 86400);
	CHECK_STR(on_timeout, "requeue");
	CHECK_INT(rd_workflow_sla(wf, "reshipped", &within, &on_timeout), 1);
	CHECK_INT(within, 14 * 86400);
	CHECK_STR(on_timeout, "escalate");
	CHECK_INT(rd_workflow_sla(wf, "reshipment_pending", &within, NULL), 1);
	for (size_t i = 0; i < 9; i++)
		CHECK_INT(rd_workflow_sla(wf, states[i], NULL, NULL), 1);
	CHECK_INT(rd_workflow_assign_exclusive(wf), 1);
	CHECK_INT(rd_workflow_sla(wf, "resolved", NULL, NULL), 0);
	CHECK_INT(rd_workflow_sla(wf, "nowhere", NULL, NULL), 0);
	CHECK_INT(rd_workflow_sla_business(wf, "opened"), 0);
	/* the reply clock: 24 h to the first answer, 48 to a later one */
	{
		int64_t first = 0, next = 0;
		int business = 0;

		CHECK_INT(rd_workflow_reply(wf, &first, &next, &on_timeout,
					    &business), 1);
		CHECK_INT(first, 86400);
		CHECK_INT(next, 2 * 86400);
		CHECK_STR(on_timeout, "escalate");
		CHECK_INT(business, 1);
	}
	rd_workflow_set_free(set);
}

static void hash_is_sha256_of_bytes(void)
{
	rd_workflow *wf = NULL;
	rd_error err = { 0 };
	json_t *doc = NULL;

	CHECK_OK(rd_workflow_parse(&wf, MINI_TEXT, strlen(MINI_TEXT),
				   "mini.json", &err), &err);
	CHECK_STR(rd_workflow_hash(wf), MINI_HASH);
	CHECK_STR(rd_workflow_source(wf), MINI_TEXT);

	doc = rd_workflow_to_json(wf);
	CHECK(doc != NULL);
	CHECK_STR(json_string_value(json_object_get(doc, "hash")), MINI_HASH);
	CHECK_STR(json_string_value(json_object_get(doc, "name")), "mini");
	CHECK_INT(json_integer_value(json_object_get(doc, "version")), 1);
	CHECK(json_is_object(json_object_get(doc, "states")));
	CHECK_INT(json_array_size(json_object_get(doc, "transitions")), 1);
	json_decref(doc);

	/* the same document spelled differently is another definition */
	rd_workflow *spaced = NULL;
	const char *text = " " MINI_TEXT;

	CHECK_OK(rd_workflow_parse(&spaced, text, strlen(text), "spaced.json",
				   &err), &err);
	CHECK(strcmp(rd_workflow_hash(spaced), MINI_HASH) != 0);
	CHECK_INT(strlen(rd_workflow_hash(spaced)), 64);
	rd_workflow_free(spaced);
	rd_workflow_free(wf);
}

/* ---- bad definitions --------------------------------------------------- */

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
static int check_invalid_case(const char *dir, const char *name)
{
	char path[512], expected_path[512], prefix[700];
	char *text = NULL, *expected = NULL;
	rd_workflow *wf = NULL;
	rd_error err = { 0 };
	size_t len = 0;
	int rc, ok = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
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
	rc = rd_workflow_parse(&wf, text, len, path, &err);
	if (rc != RD_EDEFINITION || wf != NULL) {
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
	/* "path: field: reason", or "path:line:col: text" for syntax */
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
	rd_workflow_free(wf);
	free(text);
	free(expected);
	return ok;
}

static void invalid_fixtures(void)
{
	char **names = NULL, **expected = NULL;
	size_t count = list_dir(CASES_DIR "/invalid", ".json", &names);
	size_t expected_count = list_dir(CASES_DIR "/invalid", ".expected",
					 &expected);
	size_t failed = 0;

	for (size_t i = 0; i < count; i++)
		failed += !check_invalid_case(CASES_DIR "/invalid", names[i]);
	free_list(names, count);
	free_list(expected, expected_count);
	CHECK_INT(failed, 0);
	/* a fixture per rule; an .expected without its .json is a mistake */
	CHECK(count >= 60);
	CHECK_INT(expected_count, count);
}

static void valid_fixtures(void)
{
	char **names = NULL;
	size_t count = list_dir(CASES_DIR "/valid", ".json", &names);
	size_t failed = 0;

	for (size_t i = 0; i < count; i++) {
		char path[512];
		char *text;
		size_t len = 0;
		rd_workflow *wf = NULL;
		rd_error err = { 0 };

		snprintf(path, sizeof(path), "%s/%s", CASES_DIR "/valid",
			 names[i]);
		text = rd_test_read(path, &len);
		if (!text ||
		    rd_workflow_parse(&wf, text, len, path, &err) < 0) {
			rd_test_fail(__FILE__, __LINE__, "%s: %s", names[i],
				     err.message);
			failed++;
		}
		rd_workflow_free(wf);
		free(text);
	}
	free_list(names, count);
	CHECK_INT(failed, 0);
	CHECK(count >= 1);
}

static void syntax_error_line_and_column(void)
{
	static const char text[] =
		"{\n  \"name\": \"mini\",\n  \"version\": 1 2\n}\n";
	rd_workflow *wf = NULL;
	rd_error err = { 0 };

	CHECK_FAILS(rd_workflow_parse(&wf, text, strlen(text),
				      "workflows/broken.json", &err),
		    RD_EDEFINITION);
	CHECK(wf == NULL);
	CHECK_INT(err.code, RD_EDEFINITION);
	CHECK(starts_with(err.message, "workflows/broken.json:3:16: "));

	/* nothing at all, and a document cut short */
	CHECK_FAILS(rd_workflow_parse(&wf, "", 0, "empty.json", &err),
		    RD_EDEFINITION);
	CHECK(starts_with(err.message, "empty.json:1:"));
	CHECK_FAILS(rd_workflow_parse(&wf, NULL, 0, "null.json", &err),
		    RD_EDEFINITION);
	CHECK_FAILS(rd_workflow_parse(&wf, text, 20, "cut.json", &err),
		    RD_EDEFINITION);
	CHECK(starts_with(err.message, "cut.json:"));
	CHECK(wf == NULL);
}

static void duplicate_keys_refused(void)
{
	static const char text[] =
		"{\"name\": \"mini\", \"version\": 1, \"initial\": \"open\",\n"
		" \"states\": {\"open\": {}, \"done\": {\"terminal\": true},\n"
		"            \"open\": {\"terminal\": true}},\n"
		" \"transitions\": [{\"event\": \"close\", \"from\": [\"open\"],\n"
		"   \"to\": \"done\", \"roles\": [\"agent\"], \"outcome\": \"x\"}]}\n";
	rd_workflow *wf = NULL;
	rd_error err = { 0 };

	CHECK_FAILS(rd_workflow_parse(&wf, text, strlen(text), "dup.json",
				      &err), RD_EDEFINITION);
	CHECK(wf == NULL);
	CHECK(starts_with(err.message, "dup.json:3:"));
	CHECK_HAS(err.message, "duplicate object key");
}

static void semantic_error_names_path_and_field(void)
{
	static const char text[] =
		"{\"name\": \"mini\", \"version\": 1, \"initial\": \"open\",\n"
		" \"states\": {\"open\": {}, \"done\": {\"terminal\": true}},\n"
		" \"transitions\": [{\"event\": \"close\", \"from\": [\"open\"],\n"
		"   \"to\": \"dne\", \"roles\": [\"agent\"], \"outcome\": \"x\"}]}\n";
	rd_workflow *wf = NULL;
	rd_error err = { 0 };

	CHECK_FAILS(rd_workflow_parse(&wf, text, strlen(text),
				      "workflows/mini.json", &err),
		    RD_EDEFINITION);
	CHECK_STR(err.message,
		  "workflows/mini.json: transitions[0].to: unknown state \"dne\"");
	CHECK_STR(err.field, "transitions[0].to");
	CHECK_STR(err.guard, "");
}

/* ---- sets ---------------------------------------------------------------- */

static void set_pins_by_hash(void)
{
	rd_workflow_set *set = rd_workflow_set_new();
	rd_error err = { 0 };
	rd_workflow *v1 = mini("mini", 1, "first", "v1.json");
	rd_workflow *v3 = mini("mini", 3, "third", "v3.json");
	rd_workflow *v2 = mini("mini", 2, "second", "v2.json");
	rd_workflow *other = mini("other", 7, "", "other.json");
	char h1[65], h2[65], h3[65];

	CHECK(set && v1 && v2 && v3 && other);
	snprintf(h1, sizeof(h1), "%s", rd_workflow_hash(v1));
	snprintf(h2, sizeof(h2), "%s", rd_workflow_hash(v2));
	snprintf(h3, sizeof(h3), "%s", rd_workflow_hash(v3));
	CHECK_OK(rd_workflow_set_add(set, v1, &err), &err);
	CHECK_OK(rd_workflow_set_add(set, v3, &err), &err);
	CHECK_OK(rd_workflow_set_add(set, v2, &err), &err);
	CHECK_OK(rd_workflow_set_add(set, other, &err), &err);
	CHECK_INT(rd_workflow_set_count(set), 4);
	CHECK(rd_workflow_set_at(set, 0) == v1);
	CHECK(rd_workflow_set_at(set, 2) == v2);
	CHECK(rd_workflow_set_at(set, 4) == NULL);

	/* the latest is the highest version, not the last added */
	CHECK(rd_workflow_set_latest(set, "mini") == v3);
	CHECK(rd_workflow_set_latest(set, "other") == other);
	CHECK(rd_workflow_set_latest(set, "missing") == NULL);
	CHECK(rd_workflow_set_latest(set, NULL) == NULL);

	/* every version stays available by its hash */
	CHECK(rd_workflow_set_by_hash(set, h1) == v1);
	CHECK(rd_workflow_set_by_hash(set, h2) == v2);
	CHECK(rd_workflow_set_by_hash(set, h3) == v3);
	CHECK(rd_workflow_set_by_hash(set, MINI_HASH) == NULL);
	CHECK(rd_workflow_set_by_hash(set, NULL) == NULL);

	/* the same bytes again are dropped silently */
	CHECK_OK(rd_workflow_set_add(set,
				     mini("mini", 2, "second", "copy.json"),
				     &err), &err);
	CHECK_INT(rd_workflow_set_count(set), 4);
	CHECK(rd_workflow_set_by_hash(set, h2) == v2);

	/* same name and version, other bytes: bump the version */
	CHECK_FAILS(rd_workflow_set_add(set, mini("mini", 2, "edited",
						  "edited.json"), &err),
		    RD_EDEFINITION);
	CHECK(starts_with(err.message, "edited.json: version: "));
	CHECK_HAS(err.message, "workflow \"mini\" version 2 is already defined "
		  "differently by v2.json");
	CHECK_HAS(err.message, "bump \"version\"");
	CHECK_STR(err.field, "version");
	CHECK_INT(rd_workflow_set_count(set), 4);
	CHECK(rd_workflow_set_by_hash(set, h2) == v2);

	/* a NULL definition is refused, a NULL set frees what it is given */
	CHECK_FAILS(rd_workflow_set_add(set, NULL, &err), RD_EINTERNAL);
	CHECK_FAILS(rd_workflow_set_add(NULL, mini("mini", 9, "", "x.json"),
					&err), RD_EINTERNAL);
	rd_workflow_set_free(set);
	rd_workflow_set_free(NULL);
	rd_workflow_free(NULL);
}

/* ---- reading a directory ---------------------------------------------- */

static int write_mini(const char *dir, const char *file, const char *name,
		      int version)
{
	char text[1024], *path = rd_test_path(dir, file);
	int rc;

	snprintf(text, sizeof(text), MINI_FMT, name, version, file);
	rc = rd_test_write(path, text);
	free(path);
	return rc;
}

static void load_dir_in_name_order(void)
{
	char *dir = rd_test_tmpdir();
	char *path = NULL;
	rd_workflow_set *set = NULL;
	rd_error err = { 0 };

	CHECK(dir != NULL);
	CHECK(write_mini(dir, "b.json", "mini", 2) == 0);
	CHECK(write_mini(dir, "a.json", "mini", 1) == 0);
	CHECK(write_mini(dir, "c.json", "other", 1) == 0);
	/* not definitions: a policy, other extensions, hidden files */
	path = rd_test_path(dir, "policy.json");
	CHECK(rd_test_write(path, "{\"ladder\": [1, 2, 3]}") == 0);
	free(path);
	path = rd_test_path(dir, "policy-eu.json");
	CHECK(rd_test_write(path, "not json") == 0);
	free(path);
	path = rd_test_path(dir, "calendars.json");
	CHECK(rd_test_write(path, "{\"version\": 1, \"calendars\": {}}") == 0);
	free(path);
	path = rd_test_path(dir, "notes.txt");
	CHECK(rd_test_write(path, "not json") == 0);
	free(path);
	path = rd_test_path(dir, ".draft.json");
	CHECK(rd_test_write(path, "not json") == 0);
	free(path);
	path = rd_test_path(dir, "dispute.json.orig");
	CHECK(rd_test_write(path, "not json") == 0);
	free(path);

	CHECK_OK(rd_workflow_set_load_dir(&set, dir, &err), &err);
	CHECK_INT(rd_workflow_set_count(set), 3);
	CHECK_INT(rd_workflow_version(rd_workflow_set_at(set, 0)), 1);
	CHECK_INT(rd_workflow_version(rd_workflow_set_at(set, 1)), 2);
	CHECK_STR(rd_workflow_name(rd_workflow_set_at(set, 2)), "other");
	CHECK_INT(rd_workflow_version(rd_workflow_set_latest(set, "mini")), 2);
	rd_workflow_set_free(set);
	free(dir);
}

static void load_dir_refusals(void)
{
	char *dir = rd_test_tmpdir(), *path = NULL, *big = NULL;
	char expected[600];
	rd_workflow_set *set = NULL;
	rd_error err = { 0 };
	const size_t big_len = 1024 * 1024 + 1;

	CHECK(dir != NULL);

	/* no definition at all */
	CHECK_FAILS(rd_workflow_set_load_dir(&set, dir, &err), RD_EDEFINITION);
	CHECK(set == NULL);
	CHECK_HAS(err.message, "no workflow definition");
	CHECK(starts_with(err.message, dir));

	/* no such directory */
	CHECK_FAILS(rd_workflow_set_load_dir(&set, "/nonexistent/redress",
					     &err), RD_EDEFINITION);
	CHECK(starts_with(err.message, "/nonexistent/redress: "));

	/* one bad file spoils the lot, and is named with its path */
	CHECK(write_mini(dir, "a.json", "mini", 1) == 0);
	path = rd_test_path(dir, "b.json");
	CHECK(rd_test_write(path, "{\"name\": \"mini\"}") == 0);
	CHECK_FAILS(rd_workflow_set_load_dir(&set, dir, &err), RD_EDEFINITION);
	CHECK(set == NULL);
	snprintf(expected, sizeof(expected), "%s: version: ", path);
	CHECK(starts_with(err.message, expected));
	CHECK_STR(err.field, "version");

	/* two files, same name and version, different bytes */
	CHECK(write_mini(dir, "b.json", "mini", 1) == 0);
	CHECK_FAILS(rd_workflow_set_load_dir(&set, dir, &err), RD_EDEFINITION);
	CHECK(starts_with(err.message, path));
	CHECK_HAS(err.message, "already defined differently");

	/* a file over 1 MiB */
	big = malloc(big_len + 1);
	CHECK(big != NULL);
	memset(big, ' ', big_len);
	big[big_len] = '\0';
	CHECK(rd_test_write(path, big) == 0);
	CHECK_FAILS(rd_workflow_set_load_dir(&set, dir, &err), RD_EDEFINITION);
	CHECK(starts_with(err.message, path));
	CHECK_HAS(err.message, "larger than 1048576 bytes");

	/* a directory where a file should be */
	CHECK(remove(path) == 0);
	free(path);
	path = rd_test_path(dir, "d.json");
	CHECK(mkdir(path, 0700) == 0);
	CHECK_FAILS(rd_workflow_set_load_dir(&set, dir, &err), RD_EDEFINITION);
	CHECK(starts_with(err.message, path));
	CHECK_HAS(err.message, "not a regular file");
	CHECK(rmdir(path) == 0);

	/* and with the bad files gone, the directory loads */
	CHECK_OK(rd_workflow_set_load_dir(&set, dir, &err), &err);
	CHECK_INT(rd_workflow_set_count(set), 1);
	rd_workflow_set_free(set);
	free(big);
	free(path);
	free(dir);
}

/* ---- queries ---------------------------------------------------------- */

static void events_from_each_state(void)
{
	rd_workflow_set *set = NULL;
	const rd_workflow *wf;
	const char *events[16];
	rd_error err = { 0 };
	size_t n;

	CHECK_OK(rd_workflow_set_load_dir(&set, WORKFLOWS_DIR, &err), &err);
	wf = rd_workflow_set_latest(set, "dispute");
	CHECK(wf != NULL);

	n = rd_workflow_events_from(wf, "offer_pending", RD_ROLE_AGENT, events,
				    16);
	CHECK_INT(n, 5);
	CHECK_STR(events[0], "accept_offer");
	CHECK_STR(events[1], "reject_offer");
	CHECK_STR(events[2], "counter_offer");
	CHECK_STR(events[3], "escalate");
	CHECK_STR(events[4], "withdraw");

	n = rd_workflow_events_from(wf, "offer_pending", RD_ROLE_SYSTEM, events,
				    16);
	CHECK_INT(n, 3);
	CHECK_STR(events[0], "accept_offer");
	CHECK_STR(events[1], "expire_offer");
	CHECK_STR(events[2], "escalate");

	n = rd_workflow_events_from(wf, "offer_pending", RD_ROLE_STOREFRONT,
				    events, 16);
	CHECK_INT(n, 4);
	CHECK_STR(events[3], "withdraw");

	n = rd_workflow_events_from(wf, "escalated", RD_ROLE_ADMIN, events, 16);
	CHECK_INT(n, 4);
	CHECK_STR(events[0], "make_offer");
	CHECK_STR(events[1], "resume");
	CHECK_STR(events[2], "withdraw");
	CHECK_STR(events[3], "reject_dispute");

	n = rd_workflow_events_from(wf, "opened", RD_ROLE_SYSTEM, events, 16);
	CHECK_INT(n, 1);
	CHECK_STR(events[0], "escalate");

	/* more than max: only max written, the total returned */
	events[1] = "untouched";
	n = rd_workflow_events_from(wf, "investigating", RD_ROLE_AGENT, events,
				    1);
	CHECK_INT(n, 4);
	CHECK_STR(events[0], "make_offer");
	CHECK_STR(events[1], "untouched");
	CHECK_INT(rd_workflow_events_from(wf, "investigating", RD_ROLE_AGENT,
					  NULL, 0), 4);

	/* auditors apply nothing; terminal and unknown states offer nothing */
	CHECK_INT(rd_workflow_events_from(wf, "opened", RD_ROLE_AUDITOR, events,
					  16), 0);
	CHECK_INT(rd_workflow_events_from(wf, "resolved", RD_ROLE_ADMIN, events,
					  16), 0);
	CHECK_INT(rd_workflow_events_from(wf, "closed", RD_ROLE_AGENT, events,
					  16), 0);
	CHECK_INT(rd_workflow_events_from(wf, "nowhere", RD_ROLE_AGENT, events,
					  16), 0);
	CHECK_INT(rd_workflow_events_from(wf, "opened", RD_ROLE_COUNT, events,
					  16), 0);
	rd_workflow_set_free(set);
}

static void action_names(void)
{
	CHECK_STR(rd_offer_action_name(RD_ACTION_OFFER_MAKE), "offer.make");
	CHECK_STR(rd_offer_action_name(RD_ACTION_OFFER_ACCEPT), "offer.accept");
	CHECK_STR(rd_offer_action_name(RD_ACTION_OFFER_REJECT), "offer.reject");
	CHECK_STR(rd_offer_action_name(RD_ACTION_OFFER_COUNTER),
		  "offer.counter");
	CHECK_STR(rd_offer_action_name(RD_ACTION_OFFER_EXPIRE), "offer.expire");
	CHECK(rd_offer_action_name(RD_ACTION_NONE) == NULL);
	CHECK(rd_offer_action_name((rd_offer_action)99) == NULL);
}

int main(void)
{
	RUN(reference_loads);
	RUN(hash_is_sha256_of_bytes);
	RUN(invalid_fixtures);
	RUN(valid_fixtures);
	RUN(syntax_error_line_and_column);
	RUN(duplicate_keys_refused);
	RUN(semantic_error_names_path_and_field);
	RUN(set_pins_by_hash);
	RUN(load_dir_in_name_order);
	RUN(load_dir_refusals);
	RUN(events_from_each_state);
	RUN(action_names);
	return rd_test_summary();
}
