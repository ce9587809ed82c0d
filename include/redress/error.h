/*
 * Errors shared by every module of redress.
 *
 * A function that can fail returns an int: RD_OK (0) or one negative code of
 * rd_code, and fills the caller's rd_error with a message a user can act on.
 * One table maps each code to its class, its CLI exit code and its HTTP
 * status, so that the CLI and the API always agree. Library code never
 * prints and never exits.
 */
#ifndef REDRESS_ERROR_H
#define REDRESS_ERROR_H

#include <stddef.h>
#include <stdint.h>

typedef enum rd_code {
	RD_OK = 0,
	RD_EUSAGE = -1,      /* bad command line */
	RD_EINVALID = -2,    /* invalid input: malformed JSON, bad field, bad money */
	RD_ENOTFOUND = -3,   /* no such dispute, workflow, evidence... */
	RD_ECONFLICT = -4,   /* concurrent change or duplicate */
	RD_ESTALE = -5,      /* the caller's expected version is not current */
	RD_ESTATE = -6,      /* event not allowed from the current state */
	RD_EGUARD = -7,      /* a workflow guard refused the event */
	RD_EFORBIDDEN = -8,  /* the actor's role may not do this */
	RD_ETOOLARGE = -9,   /* input over a limit */
	RD_EBUSY = -10,      /* store busy past its timeout */
	RD_EDEFINITION = -11,/* bad workflow or policy definition */
	RD_EIO = -12,        /* file system or database failure */
	RD_ENOMEM = -13,     /* out of memory */
	RD_EINTERNAL = -14,  /* a bug: an invariant did not hold */
	RD_ECONTENT = -15,   /* content not of a type its kind allows */
	RD_EQUOTA = -16,     /* a storefront's evidence quota is used up */
	RD_EUNAVAILABLE = -17 /* the database cannot be reached: retry later */
} rd_code;

/* Number of codes in rd_code, RD_OK included. */
#define RD_CODE_COUNT 18

/*
 * What went wrong, filled by the function that failed. Fixed-size so that it
 * lives on the caller's stack and needs no freeing. `field` names the input
 * field at fault and `guard` the workflow guard that refused, when known.
 */
typedef struct rd_error {
	int code;
	char message[512];
	char field[64];
	char guard[64];
	/* RD_EQUOTA: which quota ("daily" or "total"), its bytes, and the
	 * bytes still free under it; "" and 0 otherwise */
	char quota[8];
	int64_t quota_limit;
	int64_t quota_remaining;
	char existing_id[32];   /* RD_ECONFLICT with an existing record (a
				   dispute already open for the same order):
				   its id; "" otherwise */
	char assignee[128];     /* RD_ECONFLICT refusing a write to a dispute
				   assigned to another agent: its assignee;
				   "" otherwise */
} rd_error;

/* The single table behind every error surface (the pointers first: no
 * padding). */
typedef struct rd_code_info {
	const char *name;         /* "not_found" — stable, used in problem types */
	const char *title;        /* "Not found" — short human title */
	int code;
	int exit_code;            /* CLI exit status */
	int http_status;          /* HTTP status for the API */
	int retry_after_s;        /* Retry-After sent with it (seconds); 0:
				     none. Codes a retry may cure: busy, the
				     database unreachable */
} rd_code_info;

/* Information on `code`; an unknown code maps to RD_EINTERNAL's row. */
const rd_code_info *rd_code_info_get(int code);

/*
 * Set `err` (which may be NULL) to `code` with a printf-style message and
 * clear its field and guard. Returns `code`, so that callers can write
 * `return rd_error_set(err, RD_EINVALID, "...")`.
 */
int rd_error_set(rd_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Same as rd_error_set, naming the input field at fault. */
int rd_error_set_field(rd_error *err, int code, const char *field,
		       const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * RD_EQUOTA for the quota `which` ("daily" or "total") of `limit` bytes with
 * `remaining` bytes still free under it. Returns RD_EQUOTA.
 */
int rd_error_set_quota(rd_error *err, const char *which, int64_t limit,
		       int64_t remaining, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Same as rd_error_set, naming the workflow guard that refused. */
int rd_error_set_guard(rd_error *err, int code, const char *guard,
		       const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Prefix the message already in `err` with "<prefix>: ", keeping its code,
 * field and guard. Returns err->code (RD_EINTERNAL when err is NULL).
 */
int rd_error_prefix(rd_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Reset `err` to RD_OK with empty strings. NULL is accepted. */
void rd_error_clear(rd_error *err);

/*
 * For clang's static analyzer only (`make lint`): it reads one file at a
 * time and cannot see that the setters return `code`, so it would follow
 * `return rd_error_set(err, RD_ENOTFOUND, ...)` as if it might succeed and
 * report null dereferences on paths that never run. These macros tell it;
 * the compiled program calls the functions as declared above.
 */
#ifdef __clang_analyzer__
#define rd_error_set(err, code, ...) \
	(rd_error_set((err), (code), __VA_ARGS__), (code))
#define rd_error_set_field(err, code, field, ...) \
	(rd_error_set_field((err), (code), (field), __VA_ARGS__), (code))
#define rd_error_set_guard(err, code, guard, ...) \
	(rd_error_set_guard((err), (code), (guard), __VA_ARGS__), (code))
#endif

#endif
