/*
 * Evidence kinds: the shipped evidence/kinds.json loads and says what the
 * product promises, content types match exactly or by family, the types
 * libmagic reports for real samples are the ones the kinds accept, and
 * every bad-definition fixture under tests/cases/evidence/kinds-invalid
 * is refused with the message in its .expected file.
 */
#include "test.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redress/evidence.h"

#define KINDS_FILE REDRESS_SOURCE_DIR "/evidence/kinds.json"
#define INVALID_DIR REDRESS_SOURCE_DIR "/tests/cases/evidence/kinds-invalid"

#define MIB (INT64_C(1024) * 1024)

static void shipped_kinds_load(void)
{
	rd_evidence_kinds *kinds = NULL;
	const rd_evidence_kind *k;
	rd_error err = { 0 };

	CHECK_OK(rd_evidence_kinds_load(&kinds, KINDS_FILE, &err), &err);
	/* every kind of the vocabulary, and nothing else */
	for (size_t i = 0; i < rd_evidence_kind_count(); i++) {
		k = rd_evidence_kinds_find(kinds, rd_evidence_kind_at(i));
		CHECK(k != NULL);
		CHECK_STR(k->name, rd_evidence_kind_at(i));
		CHECK(k->content_type_count > 0);
		CHECK(k->max_size > 0 && k->max_size <= 1024 * MIB);
	}
	CHECK(rd_evidence_kinds_find(kinds, "selfie") == NULL);
	CHECK(rd_evidence_kinds_find(kinds, NULL) == NULL);
	CHECK(rd_evidence_kinds_find(NULL, "photo") == NULL);

	k = rd_evidence_kinds_find(kinds, "photo");
	CHECK_INT(k->max_size, 20 * MIB);
	CHECK_INT(k->requires_captured_at, 1);
	CHECK_INT(k->requires_channel, 0);
	CHECK_INT(k->requires_note, 0);
	CHECK_STR(k->content_types[0], "image/jpeg");
	k = rd_evidence_kinds_find(kinds, "video");
	CHECK_INT(k->max_size, 200 * MIB);
	CHECK_INT(k->requires_captured_at, 1);
	k = rd_evidence_kinds_find(kinds, "chat_transcript");
	CHECK_INT(k->max_size, 5 * MIB);
	CHECK_INT(k->requires_channel, 1);
	CHECK_INT(k->requires_captured_at, 0);
	k = rd_evidence_kinds_find(kinds, "call_recording");
	CHECK_INT(k->max_size, 100 * MIB);
	CHECK_INT(k->requires_captured_at, 1);
	k = rd_evidence_kinds_find(kinds, "note");
	CHECK_INT(k->max_size, 64 * 1024);
	CHECK_INT(k->content_type_count, 1);
	k = rd_evidence_kinds_find(kinds, "other");
	CHECK_INT(k->max_size, 50 * MIB);

	CHECK_INT(rd_evidence_kinds_max_size(kinds), 200 * MIB);
	CHECK_INT(rd_evidence_kinds_max_size(NULL), 0);
	rd_evidence_kinds_free(kinds);
	rd_evidence_kinds_free(NULL);
}

static void allows_exact_and_family(void)
{
	rd_evidence_kinds *kinds = NULL;
	const rd_evidence_kind *photo, *other, *note, *email, *calls;
	rd_error err = { 0 };

	CHECK_OK(rd_evidence_kinds_load(&kinds, KINDS_FILE, &err), &err);
	photo = rd_evidence_kinds_find(kinds, "photo");
	other = rd_evidence_kinds_find(kinds, "other");
	note = rd_evidence_kinds_find(kinds, "note");
	email = rd_evidence_kinds_find(kinds, "email");
	calls = rd_evidence_kinds_find(kinds, "call_recording");

	CHECK_INT(rd_evidence_kind_allows(photo, "image/jpeg"), 1);
	CHECK_INT(rd_evidence_kind_allows(photo, "image/heic"), 1);
	CHECK_INT(rd_evidence_kind_allows(photo, "IMAGE/JPEG"), 1);
	CHECK_INT(rd_evidence_kind_allows(photo, "image/jpeg; x=1"), 1);
	CHECK_INT(rd_evidence_kind_allows(photo, "image/jpe"), 0);
	CHECK_INT(rd_evidence_kind_allows(photo, "image/jpegx"), 0);
	CHECK_INT(rd_evidence_kind_allows(photo, "image/svg+xml"), 0);
	CHECK_INT(rd_evidence_kind_allows(photo, "text/plain"), 0);
	CHECK_INT(rd_evidence_kind_allows(photo, "application/pdf"), 0);
	CHECK_INT(rd_evidence_kind_allows(photo, ""), 0);
	CHECK_INT(rd_evidence_kind_allows(photo, NULL), 0);
	CHECK_INT(rd_evidence_kind_allows(NULL, "image/jpeg"), 0);

	/* families: any subtype of the type, but a subtype there must be */
	CHECK_INT(rd_evidence_kind_allows(other, "text/x-c"), 1);
	CHECK_INT(rd_evidence_kind_allows(other, "image/svg+xml"), 1);
	CHECK_INT(rd_evidence_kind_allows(other, "video/x-msvideo"), 1);
	CHECK_INT(rd_evidence_kind_allows(other, "audio/x-aiff"), 1);
	CHECK_INT(rd_evidence_kind_allows(other, "application/pdf"), 1);
	CHECK_INT(rd_evidence_kind_allows(other, "application/zip"), 0);
	CHECK_INT(rd_evidence_kind_allows(other, "application/x-executable"),
		  0);
	CHECK_INT(rd_evidence_kind_allows(other, "text/"), 0);
	CHECK_INT(rd_evidence_kind_allows(other, "text"), 0);
	CHECK_INT(rd_evidence_kind_allows(other, "textual/plain"), 0);

	CHECK_INT(rd_evidence_kind_allows(note, "text/plain"), 1);
	CHECK_INT(rd_evidence_kind_allows(note, "text/html"), 0);
	CHECK_INT(rd_evidence_kind_allows(email, "message/rfc822"), 1);
	CHECK_INT(rd_evidence_kind_allows(calls, "audio/x-m4a"), 1);
	CHECK_INT(rd_evidence_kind_allows(calls, "video/mp4"), 0);
	rd_evidence_kinds_free(kinds);
}

/* Samples whose libmagic type must be accepted by the kind named. */
struct sample {
	const char *kind;
	const char *bytes;
	size_t len;
	const char *type;        /* what libmagic 5.44 reports */
};

#define S(kind, lit, type) { kind, lit, sizeof(lit) - 1, type }

static const struct sample samples[] = {
	S("photo", "\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01"
		   "\x00\x01\x00\x00", "image/jpeg"),
	S("photo", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"
		   "\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde",
	  "image/png"),
	S("photo", "GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif"),
	S("photo", "RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00",
	  "image/webp"),
	S("photo", "\x00\x00\x00\x18" "ftypheic\x00\x00\x00\x00mif1heic",
	  "image/heic"),
	S("video", "\x00\x00\x00\x18" "ftypisom\x00\x00\x02\x00isomiso2",
	  "video/mp4"),
	S("video", "\x00\x00\x00\x14" "ftypqt  \x00\x00\x02\x00qt  ",
	  "video/quicktime"),
	S("call_recording", "RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00"
			    "\x01\x00\x01\x00\x44\xac\x00\x00\x88\x58\x01"
			    "\x00\x02\x00\x10\x00" "data\x00\x00\x00\x00",
	  "audio/x-wav"),
	S("call_recording", "fLaC\x00\x00\x00\x22", "audio/flac"),
	S("call_recording", "\x00\x00\x00\x18" "ftypM4A \x00\x00\x02\x00"
			    "M4A isom", "audio/x-m4a"),
	S("email", "From: alice@example.com\nTo: bob@example.com\n"
		   "Subject: parcel\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n"
		   "Message-ID: <1@example.com>\n\nThe lamp arrived broken.\n",
	  "message/rfc822"),
	S("chat_transcript", "{\"messages\": [{\"from\": \"buyer\", "
			     "\"text\": \"it is broken\"}]}\n",
	  "application/json"),
	S("chat_transcript", "time,from,text\n10:00,buyer,broken\n"
			     "10:01,agent,sorry\n", "text/csv"),
	S("tracking_record", "<!DOCTYPE html>\n<html><head><title>t</title>"
			     "</head><body>delivered</body></html>\n",
	  "text/html"),
	S("invoice", "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
		     "trailer\n<< /Root 1 0 R >>\n%%EOF\n",
	  "application/pdf"),
	S("note", "Buyer called, will send photos tomorrow.\n", "text/plain"),
};

static void sniffed_types_are_accepted(void)
{
	char *dir = rd_test_tmpdir();
	char *git = rd_test_path(dir, "evidence.git");
	rd_evidence_repo *repo = NULL;
	rd_evidence_kinds *kinds = NULL;
	char type[128];
	rd_error err = { 0 };

	CHECK_OK(rd_evidence_kinds_load(&kinds, KINDS_FILE, &err), &err);
	CHECK_OK(rd_evidence_repo_open(&repo, git, 1, &err), &err);
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		const struct sample *s = &samples[i];
		const rd_evidence_kind *k = rd_evidence_kinds_find(kinds,
								   s->kind);

		CHECK_OK(rd_evidence_sniff(repo, s->bytes, s->len, type, &err),
			 &err);
		CHECK_STR(type, s->type);
		if (!rd_evidence_kind_allows(k, type)) {
			rd_test_fail(__FILE__, __LINE__, "%s refuses %s",
				     s->kind, type);
			return;
		}
	}
	/* random bytes are nothing any kind accepts */
	CHECK_OK(rd_evidence_sniff(repo, "\x01\x02\x03\x04\xfe\xfd\x00\x9c", 8,
				   type, &err), &err);
	CHECK_STR(type, "application/octet-stream");
	for (size_t i = 0; i < rd_evidence_kind_count(); i++) {
		const rd_evidence_kind *k =
			rd_evidence_kinds_find(kinds, rd_evidence_kind_at(i));

		CHECK_INT(rd_evidence_kind_allows(k, type), 0);
	}
	rd_evidence_repo_close(repo);
	rd_evidence_kinds_free(kinds);
	free(git);
	free(dir);
}

/* A whole valid document written here, to vary one thing at a time. */
static const char minimal[] =
	"{\"version\": 1, \"kinds\": {\n"
	" \"photo\": {\"content_types\": [\"image/*\"], \"max_size\": 1,"
	" \"requires\": [\"note\", \"channel\", \"captured_at\"]},\n"
	" \"video\": {\"content_types\": [\"video/*\"],"
	" \"max_size\": 1073741824},\n"
	" \"chat_transcript\": {\"content_types\": [\"text/plain\"],"
	" \"max_size\": 10},\n"
	" \"email\": {\"content_types\": [\"message/rfc822\"],"
	" \"max_size\": 10, \"requires\": []},\n"
	" \"call_recording\": {\"content_types\": [\"audio/*\"],"
	" \"max_size\": 10},\n"
	" \"tracking_record\": {\"content_types\": [\"text/csv\"],"
	" \"max_size\": 10},\n"
	" \"carrier_report\": {\"content_types\": [\"application/pdf\"],"
	" \"max_size\": 10},\n"
	" \"invoice\": {\"content_types\": [\"application/pdf\"],"
	" \"max_size\": 10},\n"
	" \"inspection_report\": {\"content_types\": [\"application/pdf\"],"
	" \"max_size\": 10},\n"
	" \"note\": {\"description\": \"\", \"content_types\":"
	" [\"text/plain\"], \"max_size\": 10},\n"
	" \"other\": {\"content_types\": [\"application/vnd.ms-excel\","
	" \"application/x-tar\", \"VIDEO/MP2T\"], \"max_size\": 10}}}\n";

static void parse_from_text(void)
{
	rd_evidence_kinds *kinds = NULL;
	const rd_evidence_kind *k;
	rd_error err = { 0 };

	CHECK_OK(rd_evidence_kinds_parse(&kinds, minimal, strlen(minimal),
					 "mini.json", &err), &err);
	k = rd_evidence_kinds_find(kinds, "photo");
	CHECK_INT(k->max_size, 1);
	CHECK_INT(k->requires_captured_at, 1);
	CHECK_INT(k->requires_channel, 1);
	CHECK_INT(k->requires_note, 1);
	CHECK_INT(rd_evidence_kind_allows(k, "image/png"), 1);
	k = rd_evidence_kinds_find(kinds, "email");
	CHECK_INT(k->requires_captured_at + k->requires_channel +
		  k->requires_note, 0);
	k = rd_evidence_kinds_find(kinds, "other");
	CHECK_INT(k->content_type_count, 3);
	CHECK_INT(rd_evidence_kind_allows(k, "video/MP2T"), 1);
	CHECK_INT(rd_evidence_kinds_max_size(kinds), 1024 * MIB);
	rd_evidence_kinds_free(kinds);
	kinds = NULL;

	/* syntax errors give line and column */
	CHECK_FAILS(rd_evidence_kinds_parse(&kinds, "{\n  \"version\": 1,\n}",
					    19, "broken.json", &err),
		    RD_EDEFINITION);
	CHECK_HAS(err.message, "broken.json:3:");
	CHECK_FAILS(rd_evidence_kinds_parse(&kinds, "", 0, "empty.json", &err),
		    RD_EDEFINITION);
	CHECK_HAS(err.message, "empty.json");
	CHECK(kinds == NULL);

	/* a file that is not there */
	CHECK_FAILS(rd_evidence_kinds_load(&kinds, REDRESS_SOURCE_DIR
					   "/evidence/missing.json", &err),
		    RD_EDEFINITION);
	CHECK_HAS(err.message, "missing.json: cannot read");
	CHECK_FAILS(rd_evidence_kinds_load(&kinds, REDRESS_SOURCE_DIR
					   "/evidence", &err),
		    RD_EDEFINITION);
	CHECK_HAS(err.message, "not a regular file");
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One fixture: refused, naming the file and saying what .expected says. */
static int check_fixture(const char *name)
{
	char path[512], expected_path[512];
	char *expected = NULL;
	rd_evidence_kinds *kinds = NULL;
	rd_error err = { 0 };
	size_t len = 0;
	int rc, ok = 0;

	snprintf(path, sizeof(path), "%s/%s.json", INVALID_DIR, name);
	snprintf(expected_path, sizeof(expected_path), "%s/%s.expected",
		 INVALID_DIR, name);
	expected = rd_test_read(expected_path, &len);
	if (!expected) {
		rd_test_fail(__FILE__, __LINE__, "%s: no .expected", name);
		return 0;
	}
	while (len && (expected[len - 1] == '\n' || expected[len - 1] == ' '))
		expected[--len] = '\0';
	rc = rd_evidence_kinds_load(&kinds, path, &err);
	if (rc != RD_EDEFINITION)
		rd_test_fail(__FILE__, __LINE__, "%s: gave %d, not "
			     "RD_EDEFINITION (%s)", name, rc, err.message);
	else if (!len || !strstr(err.message, expected))
		rd_test_fail(__FILE__, __LINE__, "%s: \"%s\" lacks \"%s\"",
			     name, err.message, expected);
	else if (strncmp(err.message, path, strlen(path)) != 0)
		rd_test_fail(__FILE__, __LINE__, "%s: \"%s\" does not start "
			     "with the file name", name, err.message);
	else if (err.field[0] && !strstr(err.message, err.field))
		rd_test_fail(__FILE__, __LINE__, "%s: field \"%s\" is not in "
			     "\"%s\"", name, err.field, err.message);
	else if (kinds != NULL)
		rd_test_fail(__FILE__, __LINE__, "%s: an output was left",
			     name);
	else
		ok = 1;
	rd_evidence_kinds_free(kinds);
	free(expected);
	return ok;
}

static void invalid_fixtures_refused(void)
{
	DIR *d = opendir(INVALID_DIR);
	struct dirent *entry;
	char *names[128];
	size_t count = 0;
	int all_ok = 1;

	CHECK(d != NULL);
	while ((entry = readdir(d)) != NULL && count < 128) {
		size_t len = strlen(entry->d_name);

		if (len > 5 && strcmp(entry->d_name + len - 5, ".json") == 0)
			names[count++] = strndup(entry->d_name, len - 5);
	}
	closedir(d);
	qsort(names, count, sizeof(*names), compare_names);
	/* one per rule; an emptied directory must not pass */
	CHECK(count >= 30);
	for (size_t i = 0; i < count; i++) {
		if (names[i] && !check_fixture(names[i]))
			all_ok = 0;
		free(names[i]);
	}
	CHECK(all_ok);
}

int main(void)
{
	RUN(shipped_kinds_load);
	RUN(allows_exact_and_family);
	RUN(sniffed_types_are_accepted);
	RUN(parse_from_text);
	RUN(invalid_fixtures_refused);
	return rd_test_summary();
}
