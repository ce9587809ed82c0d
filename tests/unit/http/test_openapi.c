/*
 * The API contract and the server list the same operations: every route of
 * the route table (src/http/routes.c) is documented in docs/openapi.yaml
 * with the same method and path, and every operation documented there is a
 * route. A mismatch fails naming each route missing from either side.
 *
 * The document also says what the server sends whatever the route: every
 * operation lists 400 (malformed HTTP is refused before routing) and 503
 * (a stopping server or a busy database); the console files' and the
 * contract's own content types are the ones src/http/ui.c sends; the raw
 * evidence upload takes any request content type; and no operation
 * declares a Content-Length header parameter, which generated clients
 * would send a second time beside their own.
 *
 * The document is read line by line, not as YAML, by the formatting rule
 * stated at its top: under `paths:`, path keys at two spaces starting with
 * "/", their operations as lower-case method keys at four spaces, an
 * operation's members at six (`responses:`, `requestBody:`), its status
 * codes at eight ('400':) and its request body's media types at ten
 * under `content:` at eight. The reader refuses a document that breaks
 * the rule rather than miss an operation.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/http_int.h"
#include "http/ui.h"
#include "test.h"

#define MAX_OPERATIONS 64
#define METHOD_MAX 8
#define PATH_MAX_LEN 128
#define REPORT_SIZE 4096
#define MAX_STATUSES 24
#define MAX_BODY_TYPES 8
#define TYPE_MAX 64

typedef struct operation {
	char method[METHOD_MAX];        /* "GET", as the route table has it */
	char path[PATH_MAX_LEN];
	int line;                       /* where the document declares it */
	int statuses[MAX_STATUSES];     /* its responses' status codes */
	size_t status_count;
	char body_types[MAX_BODY_TYPES][TYPE_MAX]; /* requestBody media types */
	size_t body_type_count;
} operation;

typedef struct operation_list {
	operation items[MAX_OPERATIONS];
	size_t count;
} operation_list;

/* ---- reading the document ------------------------------------------------ */

static const char *const methods[] = {
	"get", "put", "post", "delete", "options", "head", "patch", "trace",
};

/* Keys a path item may hold at four spaces besides its operations. */
static const char *const path_members[] = {
	"summary", "description", "parameters", "servers",
};

static int in_list(const char *word, const char *const *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(word, list[i]) == 0)
			return 1;
	return 0;
}

__attribute__((format(printf, 3, 4)))
static int refuse(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * The key of a "key:" line (text before the first ':' that ends the line
 * or is followed by a space) into out; -1 when the line holds none.
 */
static int line_key(char *out, size_t size, const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (text[i] != ':')
			continue;
		if (i + 1 < len && text[i + 1] != ' ')
			continue;
		if (i == 0 || i >= size)
			return -1;
		memcpy(out, text, i);
		out[i] = '\0';
		return 0;
	}
	return -1;
}

/* "'400'" or "400" -> 400; -1 for anything else. */
static int status_key(const char *key)
{
	size_t len = strlen(key);
	const char *digits = key;

	if (len == 5 && key[0] == '\'' && key[4] == '\'')
		digits = key + 1;
	else if (len != 3)
		return -1;
	for (size_t i = 0; i < 3; i++)
		if (!isdigit((unsigned char)digits[i]))
			return -1;
	return (digits[0] - '0') * 100 + (digits[1] - '0') * 10 +
	       (digits[2] - '0');
}

/* A media type key without its quotes ('*\/\*' -> *\/\*). */
static void unquote(char *out, size_t size, const char *key)
{
	size_t len = strlen(key);

	if (len >= 2 && (key[0] == '\'' || key[0] == '"') &&
	    key[len - 1] == key[0]) {
		key++;
		len -= 2;
	}
	if (len >= size)
		len = size - 1;
	memcpy(out, key, len);
	out[len] = '\0';
}

/*
 * A line deeper than four spaces inside operation op: its member at six
 * spaces becomes the section; status codes at eight under `responses`,
 * media types at ten under `requestBody` `content` are recorded. Other
 * lines (descriptions, schemas) are passed over.
 */
static void operation_member(operation *op, char *section, size_t size,
			     char *body_member, size_t body_size,
			     const char *text, size_t len, size_t indent)
{
	char key[PATH_MAX_LEN];
	int status;

	if (line_key(key, sizeof(key), text, len) < 0)
		return;
	if (indent == 6) {
		snprintf(section, size, "%s", key);
		body_member[0] = '\0';
		return;
	}
	if (indent == 8 && strcmp(section, "responses") == 0) {
		status = status_key(key);
		if (status > 0 && op->status_count < MAX_STATUSES)
			op->statuses[op->status_count++] = status;
		return;
	}
	if (indent == 8 && strcmp(section, "requestBody") == 0) {
		snprintf(body_member, body_size, "%s", key);
		return;
	}
	if (indent == 10 && strcmp(section, "requestBody") == 0 &&
	    strcmp(body_member, "content") == 0 &&
	    op->body_type_count < MAX_BODY_TYPES)
		unquote(op->body_types[op->body_type_count++], TYPE_MAX, key);
}

/*
 * The operations under `paths:` of an OpenAPI document written by the
 * rule above. -1 with the reason (and its line) in why when the document
 * breaks the rule or holds no paths.
 */
static int read_operations(operation_list *out, const char *text,
			   char *why, size_t why_size)
{
	char path[PATH_MAX_LEN] = "", key[PATH_MAX_LEN];
	char section[PATH_MAX_LEN] = "", body_member[PATH_MAX_LEN] = "";
	operation *current = NULL;
	const char *line = text;
	int number = 0, in_paths = 0, seen_paths = 0;

	memset(out, 0, sizeof(*out));
	while (*line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		size_t indent = 0;

		number++;
		while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\r'))
			len--;
		while (indent < len && line[indent] == ' ')
			indent++;
		if (indent < len && line[indent] == '\t')
			return refuse(why, why_size,
				      "line %d: a tab in the indentation",
				      number);
		if (indent == len || line[indent] == '#')
			goto next;
		if (indent == 0) {
			in_paths = len == 6 && memcmp(line, "paths:", 6) == 0;
			seen_paths |= in_paths;
			goto next;
		}
		if (in_paths && indent > 4 && current)
			operation_member(current, section, sizeof(section),
					 body_member, sizeof(body_member),
					 line + indent, len - indent, indent);
		if (!in_paths || indent > 4)
			goto next;
		current = NULL;
		if (indent == 1 || indent == 3)
			return refuse(why, why_size, "line %d: indented by %zu "
				      "spaces under paths: (paths take two, "
				      "operations four)", number, indent);
		if (line_key(key, sizeof(key), line + indent,
			     len - indent) < 0)
			return refuse(why, why_size, "line %d: not a \"key:\" "
				      "line at %zu spaces under paths:",
				      number, indent);
		if (indent == 2) {
			if (key[0] != '/')
				return refuse(why, why_size, "line %d: \"%s\" "
					      "at two spaces under paths: is "
					      "not a path starting with /",
					      number, key);
			memcpy(path, key, sizeof(path));
			goto next;
		}
		if (in_list(key, path_members,
			    sizeof(path_members) / sizeof(path_members[0])))
			goto next;
		if (!in_list(key, methods, sizeof(methods) / sizeof(methods[0])))
			return refuse(why, why_size, "line %d: \"%s\" at four "
				      "spaces is neither an operation (a "
				      "lower-case HTTP method) nor a member "
				      "of a path item", number, key);
		if (!path[0])
			return refuse(why, why_size, "line %d: operation %s "
				      "before any path", number, key);
		for (size_t i = 0; i < out->count; i++)
			if (strcasecmp(out->items[i].method, key) == 0 &&
			    strcmp(out->items[i].path, path) == 0)
				return refuse(why, why_size, "line %d: %s %s "
					      "is declared twice", number,
					      key, path);
		if (out->count == MAX_OPERATIONS)
			return refuse(why, why_size, "line %d: more than %d "
				      "operations", number, MAX_OPERATIONS);
		for (size_t i = 0; i < METHOD_MAX - 1 && key[i]; i++)
			out->items[out->count].method[i] =
				(char)toupper((unsigned char)key[i]);
		memcpy(out->items[out->count].path, path, sizeof(path));
		out->items[out->count].line = number;
		current = &out->items[out->count];
		section[0] = body_member[0] = '\0';
		out->count++;
next:
		if (!end)
			break;
		line = end + 1;
	}
	if (!seen_paths)
		return refuse(why, why_size, "no \"paths:\" line at the top "
			      "level");
	return 0;
}

/* ---- comparing ------------------------------------------------------------ */

__attribute__((format(printf, 3, 4)))
static void report_add(char *report, size_t size, const char *fmt, ...)
{
	size_t used = strlen(report);
	va_list ap;

	if (used + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(report + used, size - used, fmt, ap);
	va_end(ap);
	used = strlen(report);
	if (used + 1 < size) {
		report[used] = '\n';
		report[used + 1] = '\0';
	}
}

static int documented(const operation_list *ops, const char *method,
		      const char *path)
{
	for (size_t i = 0; i < ops->count; i++)
		if (strcmp(ops->items[i].method, method) == 0 &&
		    strcmp(ops->items[i].path, path) == 0)
			return 1;
	return 0;
}

static int routed(const http_route *routes, size_t nroutes,
		  const char *method, const char *path)
{
	for (size_t i = 0; i < nroutes; i++)
		if (strcmp(routes[i].method, method) == 0 &&
		    strcmp(routes[i].pattern, path) == 0)
			return 1;
	return 0;
}

/*
 * Compare the route table with the documented operations, both ways.
 * Each mismatch is one line of report; returns how many there are.
 */
static size_t compare(char *report, size_t size, const http_route *routes,
		      size_t nroutes, const operation_list *ops)
{
	size_t mismatches = 0;

	report[0] = '\0';
	for (size_t i = 0; i < nroutes; i++) {
		if (documented(ops, routes[i].method, routes[i].pattern))
			continue;
		report_add(report, size, "%s %s: a route of the route table, "
			   "missing from docs/openapi.yaml", routes[i].method,
			   routes[i].pattern);
		mismatches++;
	}
	for (size_t i = 0; i < ops->count; i++) {
		const operation *op = &ops->items[i];

		if (routed(routes, nroutes, op->method, op->path))
			continue;
		report_add(report, size, "%s %s (docs/openapi.yaml line %d): "
			   "documented, missing from the route table",
			   op->method, op->path, op->line);
		mismatches++;
	}
	return mismatches;
}

/* ---- the checks ------------------------------------------------------------- */

static void document_matches_route_table(void)
{
	char why[256] = "", report[REPORT_SIZE];
	operation_list ops;
	const http_route *routes;
	size_t nroutes = 0, mismatches;
	char *text = rd_test_read(REDRESS_SOURCE_DIR "/docs/openapi.yaml",
				  NULL);

	if (!text) {
		rd_test_fail(__FILE__, __LINE__, "cannot read %s",
			     REDRESS_SOURCE_DIR "/docs/openapi.yaml");
		return;
	}
	if (read_operations(&ops, text, why, sizeof(why)) < 0) {
		rd_test_fail(__FILE__, __LINE__, "docs/openapi.yaml: %s", why);
		goto done;
	}
	routes = http_routes(&nroutes);
	if (nroutes == 0 || ops.count < nroutes)
		rd_test_fail(__FILE__, __LINE__, "%zu routes, %zu documented "
			     "operations", nroutes, ops.count);
	mismatches = compare(report, sizeof(report), routes, nroutes, &ops);
	if (mismatches > 0)
		rd_test_fail(__FILE__, __LINE__, "the route table and "
			     "docs/openapi.yaml differ (%zu):\n%s", mismatches,
			     report);
done:
	free(text);
}

/* The document and its operations; NULL (a failure reported) if unread. */
static char *read_document(operation_list *ops)
{
	char why[256] = "";
	char *text = rd_test_read(REDRESS_SOURCE_DIR "/docs/openapi.yaml",
				  NULL);

	if (!text) {
		rd_test_fail(__FILE__, __LINE__, "cannot read %s",
			     REDRESS_SOURCE_DIR "/docs/openapi.yaml");
		return NULL;
	}
	if (read_operations(ops, text, why, sizeof(why)) < 0) {
		rd_test_fail(__FILE__, __LINE__, "docs/openapi.yaml: %s", why);
		free(text);
		return NULL;
	}
	return text;
}

static int has_status(const operation *op, int status)
{
	for (size_t i = 0; i < op->status_count; i++)
		if (op->statuses[i] == status)
			return 1;
	return 0;
}

/*
 * Malformed HTTP (control bytes in a header value, Content-Length twice,
 * Content-Length with Transfer-Encoding) is refused 400 before routing,
 * and a stopping server or a busy database answers 503, whatever the
 * route: every operation lists both.
 */
static void every_operation_lists_400_and_503(void)
{
	char report[REPORT_SIZE] = "";
	operation_list ops;
	size_t missing = 0;
	char *text = read_document(&ops);

	if (!text)
		return;
	for (size_t i = 0; i < ops.count; i++) {
		static const int always[] = { 400, 503 };

		for (size_t k = 0; k < 2; k++) {
			if (has_status(&ops.items[i], always[k]))
				continue;
			report_add(report, sizeof(report), "%s %s (line %d): "
				   "no %d response", ops.items[i].method,
				   ops.items[i].path, ops.items[i].line,
				   always[k]);
			missing++;
		}
	}
	if (missing)
		rd_test_fail(__FILE__, __LINE__, "docs/openapi.yaml lacks "
			     "responses the server sends on every route "
			     "(%zu):\n%s", missing, report);
	free(text);
}

/* HTTP clients send Content-Length themselves: never a parameter. */
static void no_content_length_parameter(void)
{
	operation_list ops;
	char *text = read_document(&ops);
	const char *p;

	if (!text)
		return;
	for (p = strstr(text, "name: Content-Length"); p;
	     p = strstr(p + 1, "name: Content-Length"))
		rd_test_fail(__FILE__, __LINE__, "docs/openapi.yaml declares "
			     "a Content-Length parameter near byte %zu",
			     (size_t)(p - text));
	free(text);
}

/*
 * The media types under `content:` of response component `name`
 * (components/responses), without their parameters, into types[]; how
 * many there are.
 */
static size_t response_types(char types[][TYPE_MAX], size_t max,
			     const char *text, const char *name)
{
	char heading[128], key[TYPE_MAX];
	const char *line;
	size_t count = 0;
	int in_content = 0;

	snprintf(heading, sizeof(heading), "\n    %s:\n", name);
	line = strstr(text, "\n  responses:\n");
	line = line ? strstr(line, heading) : NULL;
	if (!line)
		return 0;
	line += strlen(heading);
	while (*line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		size_t indent = 0;

		while (indent < len && line[indent] == ' ')
			indent++;
		if (indent < len && indent <= 4)
			break;
		if (indent == 6)
			in_content = len - indent == 8 &&
				     memcmp(line + indent, "content:", 8) == 0;
		else if (indent == 8 && in_content && count < max &&
			 line_key(key, sizeof(key), line + indent,
				  len - indent) == 0)
			unquote(types[count++], TYPE_MAX, key);
		if (!end)
			break;
		line = end + 1;
	}
	return count;
}

/* "text/html; charset=utf-8" is listed as text/html. */
static int type_listed(char types[][TYPE_MAX], size_t count,
		       const char *sent)
{
	size_t len = strcspn(sent, ";");

	for (size_t i = 0; i < count; i++)
		if (strlen(types[i]) == len && strncmp(types[i], sent, len) == 0)
			return 1;
	return 0;
}

/* Each console file's type, as ui.c sends it, is one ConsoleFile lists. */
static void console_types_are_documented(void)
{
	char types[16][TYPE_MAX];
	operation_list ops;
	size_t count;
	char *text = read_document(&ops);

	if (!text)
		return;
	count = response_types(types, 16, text, "ConsoleFile");
	CHECK(count > 0);
	for (size_t i = 0; i < http_ui_asset_count; i++) {
		const char *sent = http_ui_content_type(http_ui_assets[i].name);

		if (!type_listed(types, count, sent))
			rd_test_fail(__FILE__, __LINE__, "ui/%s is sent as "
				     "\"%s\", which ConsoleFile does not "
				     "list", http_ui_assets[i].name, sent);
	}
	free(text);
}

/* GET /openapi.yaml sends the type its response documents. */
static void contract_type_is_documented(void)
{
	char types[16][TYPE_MAX];
	operation_list ops;
	http_call call;
	rd_error err;
	size_t count;
	char *text = read_document(&ops);

	if (!text)
		return;
	memset(&call, 0, sizeof(call));
	rd_error_clear(&err);
	CHECK_INT(http_get_openapi(&call, &err), RD_OK);
	count = response_types(types, 16, text, "OpenApiDocument");
	CHECK(type_listed(types, count, call.content_type));
	CHECK_INT(call.bytes_len, http_openapi_asset.size);
	free(text);
}

/* A raw upload is sent with any Content-Type: the document takes any. */
static void raw_upload_takes_any_type(void)
{
	operation_list ops;
	const operation *upload = NULL;
	int any = 0, form = 0;
	char *text = read_document(&ops);

	if (!text)
		return;
	for (size_t i = 0; i < ops.count; i++)
		if (strcmp(ops.items[i].method, "POST") == 0 &&
		    strcmp(ops.items[i].path,
			   "/v1/disputes/{id}/evidence") == 0)
			upload = &ops.items[i];
	CHECK(upload != NULL);
	for (size_t i = 0; i < upload->body_type_count; i++) {
		any |= strcmp(upload->body_types[i], "*/*") == 0;
		form |= strcmp(upload->body_types[i],
			       "multipart/form-data") == 0;
	}
	CHECK(any);
	CHECK(form);
	free(text);
}

/* Every route is found again by routing its own pattern. */
static void table_is_the_routing_table(void)
{
	const http_route *routes;
	size_t nroutes = 0;
	http_match m;

	routes = http_routes(&nroutes);
	CHECK(nroutes >= 12);
	for (size_t i = 0; i < nroutes; i++) {
		CHECK_INT(http_route_find(&m, routes[i].method,
					  routes[i].pattern), 1);
		CHECK(m.route == &routes[i]);
	}
}

static const char sample[] =
	"# a comment\n"
	"openapi: 3.1.0\n"
	"info:\n"
	"  title: sample\n"
	"paths:\n"
	"  # a comment under paths\n"
	"  /healthz:\n"
	"    get:\n"
	"      operationId: health\n"
	"      responses:\n"
	"        '200':\n"
	"          description: |\n"
	"            post: not a key here\n"
	"\n"
	"  /v1/things/{id}:\n"
	"    summary: a thing\n"
	"    parameters:\n"
	"      - $ref: '#/components/parameters/Id'\n"
	"    get:\n"
	"      summary: read\n"
	"    post:   \n"
	"      summary: change\n"
	"      requestBody:\n"
	"        content:\n"
	"          '*/*':\n"
	"            schema: {}\n"
	"          multipart/form-data:\n"
	"            schema: {}\n"
	"      responses:\n"
	"        '201':\n"
	"          description: made\n"
	"        '400':\n"
	"          $ref: '#/components/responses/BadFraming'\n"
	"components:\n"
	"  /not-a-path:\n"
	"    delete:\n"
	"      summary: not under paths\n";

static void reader_follows_the_formatting_rule(void)
{
	operation_list ops;
	char why[256] = "";

	CHECK_INT(read_operations(&ops, sample, why, sizeof(why)), 0);
	CHECK_INT(ops.count, 3);
	CHECK_STR(ops.items[0].method, "GET");
	CHECK_STR(ops.items[0].path, "/healthz");
	CHECK_INT(ops.items[0].line, 8);
	CHECK_STR(ops.items[1].method, "GET");
	CHECK_STR(ops.items[1].path, "/v1/things/{id}");
	CHECK_STR(ops.items[2].method, "POST");
	CHECK_STR(ops.items[2].path, "/v1/things/{id}");
	CHECK_INT(ops.items[2].line, 21);
	CHECK_INT(ops.items[0].status_count, 1);
	CHECK_INT(ops.items[0].statuses[0], 200);
	CHECK_INT(ops.items[1].status_count, 0);
	CHECK_INT(ops.items[2].status_count, 2);
	CHECK_INT(ops.items[2].statuses[1], 400);
	CHECK_INT(ops.items[2].body_type_count, 2);
	CHECK_STR(ops.items[2].body_types[0], "*/*");
	CHECK_STR(ops.items[2].body_types[1], "multipart/form-data");
}

static void reader_refuses_what_breaks_the_rule(void)
{
	static const struct {
		const char *text;
		const char *why;
	} cases[] = {
		{ "paths:\n  /a:\n    gte:\n", "line 3: \"gte\" at four" },
		{ "paths:\n  things:\n    get:\n", "line 2: \"things\"" },
		{ "paths:\n    get:\n", "line 2: operation get before" },
		{ "paths:\n  /a:\n    get:\n  /b:\n  /a:\n    get:\n",
		  "line 6: get /a is declared twice" },
		{ "paths:\n  /a:\n   get:\n", "line 3: indented by 3" },
		{ "paths:\n  /a:\n\tget:\n", "line 3: a tab" },
		{ "paths:\n  /a:\n    GET /a\n", "line 3: not a \"key:\"" },
		{ "openapi: 3.1.0\ninfo: {}\n", "no \"paths:\"" },
	};
	operation_list ops;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char why[256] = "";

		if (read_operations(&ops, cases[i].text, why,
				    sizeof(why)) != -1 ||
		    !strstr(why, cases[i].why)) {
			rd_test_fail(__FILE__, __LINE__, "case %zu: \"%s\", "
				     "expected \"%s\"", i, why, cases[i].why);
			return;
		}
	}
}

/* A small table and document to compare. */
static const http_route few_routes[] = {
	{ "GET", "/healthz", NULL, 0, 0, NULL },
	{ "GET", "/v1/things", NULL, HTTP_ANY_ROLE, 0, NULL },
	{ "POST", "/v1/things", NULL, HTTP_WRITERS, 1024, NULL },
};

static void add_op(operation_list *ops, const char *method, const char *path)
{
	snprintf(ops->items[ops->count].method, METHOD_MAX, "%s", method);
	snprintf(ops->items[ops->count].path, PATH_MAX_LEN, "%s", path);
	ops->items[ops->count].line = 10 + (int)ops->count;
	ops->count++;
}

static void mismatches_are_named_both_ways(void)
{
	operation_list list, *ops = &list;
	char report[REPORT_SIZE];

	memset(ops, 0, sizeof(*ops));
	add_op(ops, "GET", "/healthz");
	add_op(ops, "GET", "/v1/things");
	add_op(ops, "POST", "/v1/things");
	CHECK_INT(compare(report, sizeof(report), few_routes, 3, ops),
		  0);
	CHECK_STR(report, "");

	/* A route the document lacks. */
	ops->count = 2;
	CHECK_INT(compare(report, sizeof(report), few_routes, 3, ops),
		  1);
	CHECK_STR(report, "POST /v1/things: a route of the route table, "
		  "missing from docs/openapi.yaml\n");

	/* An operation the table lacks. */
	add_op(ops, "POST", "/v1/things");
	add_op(ops, "DELETE", "/v1/things");
	CHECK_INT(compare(report, sizeof(report), few_routes, 3, ops),
		  1);
	CHECK_STR(report, "DELETE /v1/things (docs/openapi.yaml line 13): "
		  "documented, missing from the route table\n");

	/* The same path under another method is missing on both sides. */
	ops->count = 0;
	add_op(ops, "GET", "/healthz");
	add_op(ops, "GET", "/v1/things");
	add_op(ops, "PUT", "/v1/things");
	CHECK_INT(compare(report, sizeof(report), few_routes, 3, ops),
		  2);
	CHECK_HAS(report, "POST /v1/things: a route of the route table");
	CHECK_HAS(report, "PUT /v1/things (docs/openapi.yaml line 12): "
		  "documented, missing");
}

int main(void)
{
	RUN(document_matches_route_table);
	RUN(every_operation_lists_400_and_503);
	RUN(no_content_length_parameter);
	RUN(console_types_are_documented);
	RUN(contract_type_is_documented);
	RUN(raw_upload_takes_any_type);
	RUN(table_is_the_routing_table);
	RUN(reader_follows_the_formatting_rule);
	RUN(reader_refuses_what_breaks_the_rule);
	RUN(mismatches_are_named_both_ways);
	return rd_test_summary();
}
