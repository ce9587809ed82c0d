/*
 * The web console's files under /ui/: looked up by exact name in the
 * table embedded at build time (ui.h), answered with their type, a strong
 * ETag (304 to a matching If-None-Match), no-cache so that a new build's
 * console is picked up at once, and the console's Content-Security-Policy.
 * It must never open a file, never serve a name the table does not hold
 * (so "..", encoded dots and symlinks have nothing to reach), and never
 * need an API key: the console holds no data, it asks /v1 with the key
 * the user pastes. The server's root redirects to it, and the API's
 * contract (docs/openapi.yaml, embedded the same way) is served from here
 * too, at /openapi.yaml.
 */
#include <stdio.h>
#include <string.h>

#include "http/http_int.h"
#include "http/ui.h"

const http_ui_asset *http_ui_find(const char *name)
{
	for (size_t i = 0; i < http_ui_asset_count; i++)
		if (http_ui_assets[i].name &&
		    strcmp(http_ui_assets[i].name, name) == 0)
			return &http_ui_assets[i];
	return NULL;
}

static const struct {
	const char *extension;
	const char *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".json", "application/json" },
	{ ".webmanifest", "application/manifest+json" },
	{ ".txt", "text/plain; charset=utf-8" },
};

const char *http_ui_content_type(const char *name)
{
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].extension) == 0)
			return types[i].type;
	return "application/octet-stream";
}

/* 1 when If-None-Match names this ETag (or is "*"). */
static int not_modified(const char *header, const char *etag)
{
	size_t len = strlen(etag);
	const char *p = header;

	if (!header)
		return 0;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '*')
			return 1;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (strncmp(p, etag, len) == 0 &&
		    (p[len] == '\0' || p[len] == ',' || p[len] == ' '))
			return 1;
		while (*p && *p != ',')
			p++;
	}
	return 0;
}

static int serve(http_call *call, const char *name, rd_error *err)
{
	const http_ui_asset *asset = http_ui_find(name);

	if (!asset)
		return rd_error_set(err, RD_ENOTFOUND,
				    "the console has no file %.64s", name);
	call->console = 1;
	snprintf(call->etag, sizeof(call->etag), "%s", asset->etag);
	snprintf(call->content_type, sizeof(call->content_type), "%s",
		 http_ui_content_type(asset->name));
	if (not_modified(call->if_none_match, asset->etag)) {
		call->status = 304;
		return RD_OK;
	}
	call->bytes = asset->bytes;
	call->bytes_len = asset->size;
	return RD_OK;
}

/* A redirect to the console's page, with the given status. */
static int redirect_to_console(http_call *call, unsigned status)
{
	call->console = 1;
	call->status = status;
	snprintf(call->location, sizeof(call->location), "/ui/");
	snprintf(call->content_type, sizeof(call->content_type),
		 "text/plain; charset=utf-8");
	return RD_OK;
}

int http_get_ui_root(http_call *call, rd_error *err)
{
	(void)err;
	return redirect_to_console(call, 308);
}

/*
 * The server's root leads to the console; 302, not 308, so that the root
 * may answer otherwise one day without browsers having kept the redirect.
 */
int http_get_root(http_call *call, rd_error *err)
{
	(void)err;
	return redirect_to_console(call, 302);
}

int http_get_openapi(http_call *call, rd_error *err)
{
	const http_ui_asset *asset = &http_openapi_asset;

	(void)err;
	call->console = 1;
	snprintf(call->etag, sizeof(call->etag), "%s", asset->etag);
	snprintf(call->content_type, sizeof(call->content_type),
		 "application/yaml");
	if (not_modified(call->if_none_match, asset->etag)) {
		call->status = 304;
		return RD_OK;
	}
	call->bytes = asset->bytes;
	call->bytes_len = asset->size;
	return RD_OK;
}

int http_get_ui_index(http_call *call, rd_error *err)
{
	return serve(call, "index.html", err);
}

int http_get_ui_asset(http_call *call, rd_error *err)
{
	return serve(call, call->params[0], err);
}
