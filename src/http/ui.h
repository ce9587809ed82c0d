/*
 * The web console's files, embedded in the program at build time
 * (cmake/embed_ui.cmake writes the table from ui/), and how they are
 * served under /ui/. Serving looks a request's name up in this table and
 * nowhere else: no request path ever reaches the file system.
 */
#ifndef REDRESS_HTTP_UI_H
#define REDRESS_HTTP_UI_H

#include <stddef.h>

/* One file of the console. */
typedef struct http_ui_asset {
	const char *name;               /* "app.js": flat, [A-Za-z0-9._-] */
	const unsigned char *bytes;     /* static */
	size_t size;
	const char *etag;               /* strong: "\"<SHA-256 prefix>\"" */
} http_ui_asset;

/* The generated table, sorted by name, and its length. */
extern const http_ui_asset http_ui_assets[];
extern const size_t http_ui_asset_count;

/*
 * The API's contract, docs/openapi.yaml as built (cmake/embed_file.cmake),
 * served at GET /openapi.yaml as application/yaml.
 */
extern const http_ui_asset http_openapi_asset;

/* The file called `name`, or NULL: an exact match, nothing else. */
const http_ui_asset *http_ui_find(const char *name);

/*
 * The Content-Type of a file name by its extension (html, js, css, svg,
 * png, ico, json, txt, webmanifest); application/octet-stream for any
 * other. Static string.
 */
const char *http_ui_content_type(const char *name);

/*
 * The Content-Security-Policy of the console's pages: its own scripts,
 * styles and images only (blob: images and media for evidence previews the
 * page fetched with its key), no inline script or style, no framing.
 */
#define HTTP_UI_CSP                                                          \
	"default-src 'none'; script-src 'self'; style-src 'self'; "          \
	"img-src 'self' blob:; media-src 'self' blob:; connect-src 'self'; " \
	"font-src 'self'; manifest-src 'self'; base-uri 'none'; "            \
	"form-action 'none'; frame-ancestors 'none'"

/*
 * The policy of every other response (JSON, evidence bytes, problems):
 * nothing may load from it and nothing may frame it.
 */
#define HTTP_DEFAULT_CSP                                                     \
	"default-src 'none'; base-uri 'none'; form-action 'none'; "          \
	"frame-ancestors 'none'"

#endif
