/*
 * Fuzz target: the router (http_route_find over the route table of
 * src/http/routes.c). The input is a method, a newline, then a path, as
 * libmicrohttpd hands them over (the path up to the first NUL).
 *
 * Invariants: the answer agrees with a second, plain matcher of the
 * patterns: a match is the first route of the table whose pattern and
 * method fit, and its parameters are the path's segments at the "{...}"
 * places (non-empty, no '/', at most HTTP_PARAM_MAX bytes; a spanning
 * parameter such as {buyer_ref} takes every segment up to the pattern's
 * fixed tail, at most HTTP_SPAN_PARAM_MAX bytes), so that the
 * pattern with them put back is the path; no match lists in Allow exactly
 * the methods of the routes whose pattern fits, each once, in table order
 * (405), or nothing (404). Only POST routes take an Idempotency-Key.
 */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"

/* NOLINTNEXTLINE(readability-non-const-parameter): libFuzzer's signature */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* One segment of path against one of pattern; 1 when it fits. */
static int segment_fits(const char *pattern, size_t plen, const char *path,
			size_t slen)
{
	if (plen > 0 && pattern[0] == '{')
		return slen > 0 && slen <= HTTP_PARAM_MAX;
	return plen == slen && memcmp(pattern, path, plen) == 0;
}

/*
 * A plain matcher: both split at every '/', compared segment by segment;
 * a spanning parameter ("{buyer_ref}") takes the path's segments up to
 * the pattern's fixed tail, which the path must end with.
 */
static int reference_match(const char *pattern, const char *path)
{
	if (pattern[0] != '/' || path[0] != '/')
		return 0;
	for (;;) {
		size_t plen, slen;

		pattern++;
		path++;
		plen = strcspn(pattern, "/");
		slen = strcspn(path, "/");
		if (plen > 0 && http_pattern_spans(pattern, plen)) {
			size_t tail = strlen(pattern + plen);
			size_t len = strlen(path);

			return len > tail && len - tail <= HTTP_SPAN_PARAM_MAX &&
			       strcmp(path + len - tail, pattern + plen) == 0;
		}
		if (!segment_fits(pattern, plen, path, slen))
			return 0;
		pattern += plen;
		path += slen;
		if (*pattern == '\0' || *path == '\0')
			return *pattern == '\0' && *path == '\0';
	}
}

/* The pattern with the parameters put back in its "{...}" places. */
static void expand(char *out, size_t size, const char *pattern,
		   char params[HTTP_MAX_PARAMS][HTTP_PARAM_BUFSZ])
{
	size_t used = 0, n = 0;

	while (*pattern && used + 1 < size) {
		if (*pattern == '{') {
			const char *close = strchr(pattern, '}');

			FUZZ_CHECK(close != NULL && n < HTTP_MAX_PARAMS);
			used += (size_t)snprintf(out + used, size - used, "%s",
						 params[n++]);
			pattern = close + 1;
			continue;
		}
		out[used++] = *pattern++;
	}
	out[used < size ? used : size - 1] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_bytes in = { data, size };
	char *method = fuzz_take_until(&in, '\n');
	char *path = fuzz_strndup(in.data, in.size);
	const http_route *routes;
	size_t count, first = SIZE_MAX;
	char allow[64] = "";
	size_t used = 0;
	http_match match;
	int found;

	routes = http_routes(&count);
	found = http_route_find(&match, method, path);
	for (size_t i = 0; i < count; i++) {
		if (!reference_match(routes[i].pattern, path))
			continue;
		if (strcmp(routes[i].method, method) == 0) {
			if (first == SIZE_MAX)
				first = i;
			continue;
		}
		if (first == SIZE_MAX && !strstr(allow, routes[i].method))
			used += (size_t)snprintf(allow + used,
						 sizeof(allow) - used, "%s%s",
						 used ? ", " : "",
						 routes[i].method);
	}
	if (first != SIZE_MAX) {
		char rebuilt[4096];

		FUZZ_CHECK(found == 1 && match.route == &routes[first]);
		for (size_t k = 0; k < HTTP_MAX_PARAMS; k++)
			FUZZ_CHECK(strchr(match.params[k], '/') == NULL ||
				   strstr(match.route->pattern,
					  "{buyer_ref}") != NULL);
		expand(rebuilt, sizeof(rebuilt), match.route->pattern,
		       match.params);
		FUZZ_CHECK(strlen(path) >= sizeof(rebuilt) ||
			   strcmp(rebuilt, path) == 0);
		FUZZ_CHECK(http_idem_operation(match.route) == -1 ||
			   strcmp(match.route->method, "POST") == 0);
	} else {
		FUZZ_CHECK(found == 0 && match.route == NULL);
		FUZZ_CHECK(strcmp(match.allow, allow) == 0);
		FUZZ_CHECK(http_idem_operation(NULL) == -1);
	}
	free(method);
	free(path);
	return 0;
}
