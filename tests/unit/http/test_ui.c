/*
 * The web console's files: the table built into the binary holds exactly
 * the files of ui/ with their bytes and a strong ETag; lookups match exact
 * names only (no "..", no case folding, no prefix); content types follow
 * the extension; the routes take GET and HEAD, without a key, one path
 * segment deep; the handlers answer a file, a 304 for its ETag, a 404 for
 * any other name and a 308 from /ui; the console's policy forbids inline
 * script and style and framing.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"
#include "http/ui.h"
#include "test.h"

#define UI_DIR REDRESS_SOURCE_DIR "/ui"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long size;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)size + 1)) &&
	    fread(buf, 1, (size_t)size, f) == (size_t)size)
		*len = (size_t)size;
	else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static void table_is_the_ui_directory(void)
{
	DIR *dir = opendir(UI_DIR);
	struct dirent *entry;
	size_t files = 0;

	CHECK(dir != NULL);
	while (dir && (entry = readdir(dir))) {
		const http_ui_asset *asset;
		char path[4096];
		size_t len = 0;
		char *bytes;

		if (entry->d_name[0] == '.')
			continue;
		files++;
		snprintf(path, sizeof(path), "%s/%s", UI_DIR, entry->d_name);
		asset = http_ui_find(entry->d_name);
		CHECK(asset != NULL);
		if (!asset)
			continue;
		bytes = slurp(path, &len);
		CHECK(bytes != NULL);
		CHECK_INT(asset->size, len);
		CHECK(bytes && memcmp(asset->bytes, bytes, len) == 0);
		CHECK_INT(strlen(asset->etag), 34);
		CHECK(asset->etag[0] == '"' && asset->etag[33] == '"');
		free(bytes);
	}
	if (dir)
		closedir(dir);
	CHECK_INT(http_ui_asset_count, files);
	CHECK(http_ui_find("index.html") != NULL);
	CHECK(http_ui_find("app.js") != NULL);
}

static void exact_names_only(void)
{
	static const char *const absent[] = {
		"", ".", "..", "../index.html", "./index.html", "/index.html",
		"index.html/", "INDEX.HTML", "index.htm", "index.html.", "ui/app.js",
		"%2e%2e", "app.js%00", "index", "app.js ", " app.js",
	};

	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
		if (http_ui_find(absent[i]))
			fprintf(stderr, "  found \"%s\"\n", absent[i]);
		CHECK(http_ui_find(absent[i]) == NULL);
	}
}

static void types_by_extension(void)
{
	CHECK_STR(http_ui_content_type("index.html"), "text/html; charset=utf-8");
	CHECK_STR(http_ui_content_type("app.js"),
		  "text/javascript; charset=utf-8");
	CHECK_STR(http_ui_content_type("style.css"), "text/css; charset=utf-8");
	CHECK_STR(http_ui_content_type("favicon.svg"), "image/svg+xml");
	CHECK_STR(http_ui_content_type("logo.png"), "image/png");
	CHECK_STR(http_ui_content_type("app.js.map"), "application/octet-stream");
	CHECK_STR(http_ui_content_type("README"), "application/octet-stream");
	CHECK_STR(http_ui_content_type("x.HTML"), "application/octet-stream");
}

static void routes_are_public_get_and_head(void)
{
	static const char *const methods[] = { "GET", "HEAD" };
	http_match m;

	for (size_t i = 0; i < 2; i++) {
		CHECK_INT(http_route_find(&m, methods[i], "/ui"), 1);
		CHECK_STR(m.route->pattern, "/ui");
		CHECK_INT((int)m.route->roles, 0);
		CHECK_INT((int)m.route->body_limit, 0);
		CHECK_INT(http_route_find(&m, methods[i], "/ui/"), 1);
		CHECK_STR(m.route->pattern, "/ui/");
		CHECK_INT(http_route_find(&m, methods[i], "/ui/app.js"), 1);
		CHECK_STR(m.route->pattern, "/ui/{path}");
		CHECK_STR(m.params[0], "app.js");
		CHECK_INT((int)m.route->roles, 0);
	}
	CHECK_INT(http_route_find(&m, "GET", "/ui/a/b"), 0);
	CHECK_STR(m.allow, "");
	CHECK_INT(http_route_find(&m, "GET", "/ui//app.js"), 0);
	CHECK_INT(http_route_find(&m, "POST", "/ui/app.js"), 0);
	CHECK_STR(m.allow, "GET, HEAD");
}

static void handlers_answer(void)
{
	const http_ui_asset *index = http_ui_find("index.html");
	http_call call;
	rd_error err;
	char header[80];

	memset(&call, 0, sizeof(call));
	CHECK_OK(http_get_ui_index(&call, &err), &err);
	CHECK_INT(call.console, 1);
	CHECK(call.bytes == index->bytes);
	CHECK_INT(call.bytes_len, index->size);
	CHECK_STR(call.etag, index->etag);
	CHECK_STR(call.content_type, "text/html; charset=utf-8");

	/* If-None-Match: the ETag (in a list, or weak) is a 304 */
	snprintf(header, sizeof(header), "\"x\", W/%s", index->etag);
	memset(&call, 0, sizeof(call));
	call.if_none_match = header;
	CHECK_OK(http_get_ui_index(&call, &err), &err);
	CHECK_INT(call.status, 304);
	CHECK(call.bytes == NULL);
	memset(&call, 0, sizeof(call));
	call.if_none_match = "\"0000\"";
	CHECK_OK(http_get_ui_index(&call, &err), &err);
	CHECK(call.bytes != NULL);
	CHECK_INT(call.status, 0);

	memset(&call, 0, sizeof(call));
	snprintf(call.params[0], sizeof(call.params[0]), "..");
	CHECK_FAILS(http_get_ui_asset(&call, &err), RD_ENOTFOUND);
	CHECK_INT(call.console, 0);

	memset(&call, 0, sizeof(call));
	CHECK_OK(http_get_ui_root(&call, &err), &err);
	CHECK_INT(call.status, 308);
	CHECK_STR(call.location, "/ui/");
	CHECK(call.bytes == NULL);
}

static void policies_are_strict(void)
{
	const char *const policies[] = { HTTP_UI_CSP, HTTP_DEFAULT_CSP };

	for (size_t i = 0; i < 2; i++) {
		CHECK(strstr(policies[i], "default-src 'none'") != NULL);
		CHECK(strstr(policies[i], "frame-ancestors 'none'") != NULL);
		CHECK(strstr(policies[i], "base-uri 'none'") != NULL);
		CHECK(strstr(policies[i], "unsafe") == NULL);
		CHECK(strstr(policies[i], "*") == NULL);
		CHECK(strstr(policies[i], "data:") == NULL);
	}
	CHECK(strstr(HTTP_UI_CSP, "script-src 'self';") != NULL);
	CHECK(strstr(HTTP_UI_CSP, "style-src 'self';") != NULL);
	CHECK(strstr(HTTP_DEFAULT_CSP, "script-src") == NULL);
}

int main(void)
{
	RUN(table_is_the_ui_directory);
	RUN(exact_names_only);
	RUN(types_by_extension);
	RUN(routes_are_public_get_and_head);
	RUN(handlers_answer);
	RUN(policies_are_strict);
	return rd_test_summary();
}
