/*
 * The error table and the helpers that fill an rd_error. The table is the
 * single source of exit codes and HTTP statuses; nothing else may hard-code
 * them.
 */
#include "redress/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The functions themselves, not error.h's model of them for the analyzer. */
#undef rd_error_set
#undef rd_error_set_field
#undef rd_error_set_guard

/* One row: code, name, title, exit status, HTTP status, Retry-After. */
#define ROW(c, n, t, exit, http, retry)                                      \
	{ .code = (c), .name = (n), .title = (t), .exit_code = (exit),       \
	  .http_status = (http), .retry_after_s = (retry) }

static const rd_code_info code_table[RD_CODE_COUNT] = {
	ROW(RD_OK,          "ok",          "OK",                       0, 200, 0),
	ROW(RD_EUSAGE,      "usage",       "Bad usage",                2, 400, 0),
	ROW(RD_EINVALID,    "invalid",     "Invalid input",            3, 422, 0),
	ROW(RD_ENOTFOUND,   "not_found",   "Not found",                4, 404, 0),
	ROW(RD_ECONFLICT,   "conflict",    "Conflict",                 5, 409, 0),
	ROW(RD_ESTALE,      "stale",       "Stale version",            5, 412, 0),
	ROW(RD_ESTATE,      "state",       "Event not allowed now",    6, 409, 0),
	ROW(RD_EGUARD,      "guard",       "Refused by a guard",       6, 409, 0),
	ROW(RD_EFORBIDDEN,  "forbidden",   "Role not permitted",       7, 403, 0),
	ROW(RD_ETOOLARGE,   "too_large",   "Too large",                3, 413, 0),
	ROW(RD_EBUSY,       "busy",        "Busy, try again",          8, 503, 1),
	ROW(RD_EDEFINITION, "definition",  "Bad definition",           9, 500, 0),
	ROW(RD_EIO,         "io",          "Input/output error",       1, 500, 0),
	ROW(RD_ENOMEM,      "no_memory",   "Out of memory",            1, 500, 0),
	ROW(RD_EINTERNAL,   "internal",    "Internal error",           1, 500, 0),
	ROW(RD_ECONTENT,    "content_type","Content type not allowed", 3, 415, 0),
	/* 507 as WebDAV answers a quota (RFC 4331): 413 is the kind's limit */
	ROW(RD_EQUOTA,      "quota_exceeded", "Storage quota exceeded", 10, 507,
	    0),
	/* this node cannot reach its database; another node may */
	ROW(RD_EUNAVAILABLE, "database_unavailable", "Database unavailable",
	    11, 503, 2),
};

const rd_code_info *rd_code_info_get(int code)
{
	if (code <= 0 && code > -RD_CODE_COUNT)
		return &code_table[-code];
	return &code_table[-RD_EINTERNAL];
}

__attribute__((format(printf, 5, 0)))
static int error_vset(rd_error *err, int code, const char *field,
		      const char *guard, const char *fmt, va_list ap)
{
	if (!err)
		return code;
	err->code = code;
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	snprintf(err->guard, sizeof(err->guard), "%s", guard ? guard : "");
	err->quota[0] = '\0';
	err->quota_limit = 0;
	err->quota_remaining = 0;
	err->existing_id[0] = '\0';
	err->assignee[0] = '\0';
	return code;
}

int rd_error_set(rd_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(err, code, NULL, NULL, fmt, ap);
	va_end(ap);
	return code;
}

int rd_error_set_field(rd_error *err, int code, const char *field,
		       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(err, code, field, NULL, fmt, ap);
	va_end(ap);
	return code;
}

int rd_error_set_guard(rd_error *err, int code, const char *guard,
		       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(err, code, NULL, guard, fmt, ap);
	va_end(ap);
	return code;
}

int rd_error_set_quota(rd_error *err, const char *which, int64_t limit,
		       int64_t remaining, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(err, RD_EQUOTA, NULL, NULL, fmt, ap);
	va_end(ap);
	if (err) {
		snprintf(err->quota, sizeof(err->quota), "%s", which);
		err->quota_limit = limit;
		err->quota_remaining = remaining;
	}
	return RD_EQUOTA;
}

int rd_error_prefix(rd_error *err, const char *fmt, ...)
{
	char prefix[256];
	char message[sizeof(err->message)];
	va_list ap;

	if (!err)
		return RD_EINTERNAL;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	size_t plen = strlen(prefix);

	if (plen > sizeof(message) - 3)
		plen = sizeof(message) - 3;
	memcpy(message, prefix, plen);
	memcpy(message + plen, ": ", 2);
	size_t room = sizeof(message) - plen - 2;
	size_t mlen = strnlen(err->message, sizeof(err->message));
	if (mlen >= room)
		mlen = room - 1;
	memcpy(message + plen + 2, err->message, mlen);
	message[plen + 2 + mlen] = '\0';
	memcpy(err->message, message, sizeof(message));
	return err->code;
}

void rd_error_clear(rd_error *err)
{
	if (!err)
		return;
	err->code = RD_OK;
	err->message[0] = '\0';
	err->field[0] = '\0';
	err->guard[0] = '\0';
	err->quota[0] = '\0';
	err->quota_limit = 0;
	err->quota_remaining = 0;
	err->existing_id[0] = '\0';
	err->assignee[0] = '\0';
}
