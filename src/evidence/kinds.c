/*
 * Evidence kinds (evidence/kinds.json): for each kind of SPEC section 3,
 * the content types it may hold, its size limit and the metadata its
 * submitter must give.
 *
 *   {"version": 1,
 *    "kinds": {"photo": {"description": "...",
 *                        "content_types": ["image/jpeg", "image/png"],
 *                        "max_size": 20971520,
 *                        "requires": ["captured_at"]}, ...}}
 *
 * A content type may also name a family: the type, '/' and a star.
 *
 * The loader must never accept what it cannot fully explain: an unknown
 * member or kind, a kind missing, a malformed content type or a limit out
 * of range is refused, naming the file, the JSON path and the reason.
 */
#include "core/definition.h"
#include "redress/evidence.h"
#include "redress/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "redress/json.h"

#define KINDS_VERSION 1
#define KINDS_FILE_MAX (1024 * 1024)
#define MAX_SIZE_LIMIT (INT64_C(1024) * 1024 * 1024)
#define CONTENT_TYPE_MAX 127   /* fits rd_blob_info.content_type */
#define path_member(out, base, key) \
	rd_def_path_member(out, PATH_BUFSZ, base, key)
#define path_index(out, base, i) rd_def_path_index(out, PATH_BUFSZ, base, i)
#define PATH_BUFSZ 160

struct rd_evidence_kinds {
	rd_evidence_kind *kinds;       /* in rd_evidence_kind_at order */
	size_t count;
};

struct loader {
	const char *origin;
	rd_error *err;
};

/* Refuse the file: "origin: path: reason", err->field = path. */
__attribute__((format(printf, 3, 4)))
static int refuse(struct loader *ld, const char *path, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = rd_def_vrefuse(ld->err, ld->origin, path, fmt, ap);
	va_end(ap);
	return rc;
}

static int out_of_memory(struct loader *ld)
{
	return rd_error_set(ld->err, RD_ENOMEM, "%s: out of memory",
			    ld->origin);
}

/* Paths only name places in messages: one too long is cut. */
__attribute__((format(printf, 2, 3)))
static void path_format(char out[PATH_BUFSZ], const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, PATH_BUFSZ, fmt, ap);
	va_end(ap);
	if (n < 0)
		out[0] = '\0';
}

/* ---- content types ------------------------------------------------------ */

/* RFC 6838 restricted-name: a letter or digit, then up to 126 of these. */
static int restricted_name_len(const char *s)
{
	size_t n = 0;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
	      (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (n = 1; s[n]; n++) {
		char c = s[n];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("!#$&-^_.+", c))
			continue;
		break;
	}
	return n <= 127 ? (int)n : 0;
}

/* 1 when s is "type/subtype" or a family: "type/" followed by a star. */
static int content_type_valid(const char *s)
{
	int n = restricted_name_len(s);
	int m;

	if (n == 0 || s[n] != '/' || strlen(s) > CONTENT_TYPE_MAX)
		return 0;
	if (strcmp(s + n + 1, "*") == 0)
		return 1;
	m = restricted_name_len(s + n + 1);
	return m > 0 && s[n + 1 + m] == '\0';
}

/* ---- one kind ----------------------------------------------------------- */

static const char *const kind_members = "description, content_types, "
					"max_size, requires";
static const char *const require_names = "captured_at, channel, note";

static int load_content_types(struct loader *ld, rd_evidence_kind *kind,
			      const char *base, json_t *list)
{
	char path[PATH_BUFSZ];
	size_t count = json_is_array(list) ? json_array_size(list) : 0;

	path_format(path, "%s.content_types", base);
	if (!json_is_array(list) || count == 0)
		return refuse(ld, path, "must be a non-empty array of content "
			      "types such as \"image/jpeg\" or \"image/*\"");
	kind->content_types = calloc(count, sizeof(char *));
	if (!kind->content_types)
		return out_of_memory(ld);
	for (size_t i = 0; i < count; i++) {
		const char *type = json_string_value(json_array_get(list, i));

		path_format(path, "%s.content_types[%zu]", base, i);
		if (!type || !content_type_valid(type))
			return refuse(ld, path, "\"%.100s\" is not a content "
				      "type: write type/subtype "
				      "(\"image/jpeg\") or a family "
				      "(\"image/*\")", type ? type : "");
		for (size_t j = 0; j < i; j++)
			if (strcasecmp(kind->content_types[j], type) == 0)
				return refuse(ld, path, "\"%s\" is listed "
					      "twice", type);
		if (!(kind->content_types[i] = strdup(type)))
			return out_of_memory(ld);
		kind->content_type_count = i + 1;
	}
	return RD_OK;
}

static int load_requires(struct loader *ld, rd_evidence_kind *kind,
			 const char *base, json_t *list)
{
	char path[PATH_BUFSZ];

	path_format(path, "%s.requires", base);
	if (!json_is_array(list))
		return refuse(ld, path, "must be an array of names from: %s",
			      require_names);
	for (size_t i = 0; i < json_array_size(list); i++) {
		const char *name = json_string_value(json_array_get(list, i));
		int *flag = NULL;

		path_format(path, "%s.requires[%zu]", base, i);
		if (name && strcmp(name, "captured_at") == 0)
			flag = &kind->requires_captured_at;
		else if (name && strcmp(name, "channel") == 0)
			flag = &kind->requires_channel;
		else if (name && strcmp(name, "note") == 0)
			flag = &kind->requires_note;
		if (!flag)
			return refuse(ld, path, "\"%.100s\" is not metadata a "
				      "submitter can give; one of: %s",
				      name ? name : "", require_names);
		if (*flag)
			return refuse(ld, path, "\"%s\" is listed twice",
				      name);
		*flag = 1;
	}
	return RD_OK;
}

static int load_kind(struct loader *ld, rd_evidence_kind *kind,
		     const char *name, json_t *def)
{
	char base[PATH_BUFSZ], path[PATH_BUFSZ];
	json_t *types = NULL, *max_size = NULL;
	const char *key;
	json_t *value;
	int rc;

	path_format(base, "kinds.%s", name);
	if (!json_is_object(def))
		return refuse(ld, base, "must be an object with members %s",
			      kind_members);
	snprintf(kind->name, sizeof(kind->name), "%s", name);
	json_object_foreach(def, key, value) {
		path_format(path, "%s.%s", base, key);
		if (strcmp(key, "description") == 0) {
			if (!json_is_string(value))
				return refuse(ld, path, "must be a string");
		} else if (strcmp(key, "content_types") == 0) {
			types = value;
		} else if (strcmp(key, "max_size") == 0) {
			max_size = value;
		} else if (strcmp(key, "requires") == 0) {
			if ((rc = load_requires(ld, kind, base, value)) < 0)
				return rc;
		} else {
			return refuse(ld, path, "unknown member; a kind has "
				      "%s", kind_members);
		}
	}
	if (!types) {
		path_format(path, "%s.content_types", base);
		return refuse(ld, path, "missing: list the content types "
			      "this kind accepts");
	}
	if ((rc = load_content_types(ld, kind, base, types)) < 0)
		return rc;
	path_format(path, "%s.max_size", base);
	if (!max_size)
		return refuse(ld, path, "missing: give the largest file in "
			      "bytes, from 1 to %lld",
			      (long long)MAX_SIZE_LIMIT);
	if (!json_is_integer(max_size) ||
	    json_integer_value(max_size) < 1 ||
	    json_integer_value(max_size) > MAX_SIZE_LIMIT)
		return refuse(ld, path, "must be an integer from 1 to %lld",
			      (long long)MAX_SIZE_LIMIT);
	kind->max_size = (int64_t)json_integer_value(max_size);
	return RD_OK;
}

/* ---- the document ------------------------------------------------------- */

static int load_kinds(struct loader *ld, rd_evidence_kinds *kinds,
		      json_t *map)
{
	char path[PATH_BUFSZ];
	const char *key;
	json_t *value;
	int rc;

	if (!json_is_object(map))
		return refuse(ld, "kinds", "must be an object mapping each "
			      "evidence kind to its definition");
	json_object_foreach(map, key, value) {
		size_t i = 0;

		while (i < kinds->count && strcmp(rd_evidence_kind_at(i), key) != 0)
			i++;
		path_format(path, "kinds.%s", key);
		if (i == kinds->count) {
			char known[256];
			size_t used = 0;

			known[0] = '\0';
			for (size_t k = 0; k < kinds->count; k++) {
				int n = snprintf(known + used,
						 sizeof(known) - used, "%s%s",
						 k ? ", " : "",
						 rd_evidence_kind_at(k));

				if (n < 0 || (size_t)n >= sizeof(known) - used)
					break;
				used += (size_t)n;
			}
			return refuse(ld, path, "unknown evidence kind; the "
				      "kinds are: %s", known);
		}
		if ((rc = load_kind(ld, &kinds->kinds[i], key, value)) < 0)
			return rc;
	}
	for (size_t i = 0; i < kinds->count; i++)
		if (!kinds->kinds[i].name[0])
			return refuse(ld, "kinds", "\"%s\" is not defined; "
				      "every evidence kind must be",
				      rd_evidence_kind_at(i));
	return RD_OK;
}

static int load_document(struct loader *ld, rd_evidence_kinds *kinds,
			 json_t *doc)
{
	json_t *version = NULL, *map = NULL;
	const char *key;
	json_t *value;

	if (!json_is_object(doc))
		return refuse(ld, "", "the document must be a JSON object "
			      "with members version and kinds");
	json_object_foreach(doc, key, value) {
		if (strcmp(key, "version") == 0)
			version = value;
		else if (strcmp(key, "kinds") == 0)
			map = value;
		else
			return refuse(ld, key, "unknown member; the document "
				      "has version and kinds");
	}
	if (!version)
		return refuse(ld, "version", "missing: this format is "
			      "version %d", KINDS_VERSION);
	if (!json_is_integer(version) ||
	    json_integer_value(version) != KINDS_VERSION)
		return refuse(ld, "version", "must be %d, the only format "
			      "version known", KINDS_VERSION);
	if (!map)
		return refuse(ld, "kinds", "missing: define every evidence "
			      "kind");
	return load_kinds(ld, kinds, map);
}

int rd_evidence_kinds_parse(rd_evidence_kinds **out, const char *text,
			    size_t len, const char *origin, rd_error *err)
{
	struct loader ld;
	rd_evidence_kinds *kinds = NULL;
	json_t *doc = NULL;
	json_error_t jerr;
	int rc;

	if (!origin)
		origin = "(evidence kinds)";
	if (!out || (!text && len))
		return rd_error_set(err, RD_EINTERNAL,
				    "%s: rd_evidence_kinds_parse needs an "
				    "output and text", origin);
	*out = NULL;
	ld.origin = origin;
	ld.err = err;
	kinds = calloc(1, sizeof(*kinds));
	if (!kinds) {
		rc = out_of_memory(&ld);
		goto done;
	}
	kinds->count = rd_evidence_kind_count();
	kinds->kinds = calloc(kinds->count, sizeof(*kinds->kinds));
	if (!kinds->kinds) {
		rc = out_of_memory(&ld);
		goto done;
	}
	doc = rd_json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		rc = rd_error_set(err, RD_EDEFINITION, "%s:%d:%d: %s", origin,
				  jerr.line, jerr.column, jerr.text);
		goto done;
	}
	if ((rc = load_document(&ld, kinds, doc)) < 0)
		goto done;
	*out = kinds;
	kinds = NULL;
	rc = RD_OK;
done:
	json_decref(doc);
	rd_evidence_kinds_free(kinds);
	return rc;
}

int rd_evidence_kinds_load(rd_evidence_kinds **out, const char *path,
			   rd_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (!out || !path)
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_evidence_kinds_load needs an output "
				    "and a path");
	*out = NULL;
	if ((rc = rd_file_read(&text, &len, path, KINDS_FILE_MAX,
			       RD_EDEFINITION, err)) < 0)
		goto done;
	rc = rd_evidence_kinds_parse(out, text, len, path, err);
done:
	free(text);
	return rc;
}

void rd_evidence_kinds_free(rd_evidence_kinds *kinds)
{
	if (!kinds)
		return;
	for (size_t i = 0; kinds->kinds && i < kinds->count; i++) {
		rd_evidence_kind *kind = &kinds->kinds[i];

		for (size_t j = 0; j < kind->content_type_count; j++)
			free(kind->content_types[j]);
		free(kind->content_types);
	}
	free(kinds->kinds);
	free(kinds);
}

/* ---- queries ------------------------------------------------------------ */

const rd_evidence_kind *rd_evidence_kinds_find(const rd_evidence_kinds *kinds,
					       const char *name)
{
	if (!kinds || !name)
		return NULL;
	for (size_t i = 0; i < kinds->count; i++)
		if (strcmp(kinds->kinds[i].name, name) == 0)
			return &kinds->kinds[i];
	return NULL;
}

int rd_evidence_kind_allows(const rd_evidence_kind *kind,
			    const char *content_type)
{
	size_t len;

	if (!kind || !content_type)
		return 0;
	/* media types compare without parameters and without case */
	len = strcspn(content_type, "; \t");
	if (len == 0 || !memchr(content_type, '/', len))
		return 0;
	for (size_t i = 0; i < kind->content_type_count; i++) {
		const char *allowed = kind->content_types[i];
		size_t n = strlen(allowed);

		/*
		 * CSV is plain text: libmagic calls any text with enough
		 * commas text/csv, so a kind that takes text/plain takes it
		 * (a note that lists prices is still a note).
		 */
		if (len == 8 && strncasecmp(content_type, "text/csv", 8) == 0 &&
		    strcasecmp(allowed, "text/plain") == 0)
			return 1;

		if (n >= 2 && strcmp(allowed + n - 2, "/*") == 0) {
			/* a family: the type and '/', then any subtype */
			if (len > n - 1 &&
			    strncasecmp(content_type, allowed, n - 1) == 0)
				return 1;
		} else if (n == len &&
			   strncasecmp(content_type, allowed, n) == 0) {
			return 1;
		}
	}
	return 0;
}

int64_t rd_evidence_kinds_max_size(const rd_evidence_kinds *kinds)
{
	int64_t largest = 0;

	for (size_t i = 0; kinds && i < kinds->count; i++)
		if (kinds->kinds[i].max_size > largest)
			largest = kinds->kinds[i].max_size;
	return largest;
}
