/*
 * A small test harness: each test is a function; a failed check reports its
 * place and ends that test; the program exits non-zero when any test failed.
 */
#ifndef REDRESS_TEST_H
#define REDRESS_TEST_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "redress/error.h"

void rd_test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int rd_test_failed(void);
void rd_test_run(const char *name, void (*fn)(void));
/*
 * The running case checked nothing here, for `reason` (a string that
 * outlives the case): it is reported as skipped, not passed, unless a
 * check of it failed before.
 */
void rd_test_skip(const char *reason);
int rd_test_summary(void);

/* A fresh empty directory for this test, removed at exit. New string (free()). */
char *rd_test_tmpdir(void);
/* path joined to dir, a new string (free()). */
char *rd_test_path(const char *dir, const char *name);
/* Whole file as a new NUL-terminated buffer, or NULL. */
char *rd_test_read(const char *path, size_t *len);
/* Write text to path; 0 or -1. */
int rd_test_write(const char *path, const char *text);

#define RUN(fn) rd_test_run(#fn, fn)

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			rd_test_fail(__FILE__, __LINE__, "%s", #cond);       \
			return;                                              \
		}                                                            \
	} while (0)

#define CHECK_INT(actual, expected)                                          \
	do {                                                                 \
		long long a_ = (long long)(actual);                          \
		long long e_ = (long long)(expected);                        \
		if (a_ != e_) {                                              \
			rd_test_fail(__FILE__, __LINE__,                     \
				     "%s == %lld, expected %lld", #actual,   \
				     a_, e_);                                \
			return;                                              \
		}                                                            \
	} while (0)

#define CHECK_STR(actual, expected)                                          \
	do {                                                                 \
		const char *a_ = (actual);                                   \
		const char *e_ = (expected);                                 \
		if (a_ == NULL || e_ == NULL || strcmp(a_, e_) != 0) {       \
			rd_test_fail(__FILE__, __LINE__,                     \
				     "%s == \"%s\", expected \"%s\"",        \
				     #actual, a_ ? a_ : "(null)",            \
				     e_ ? e_ : "(null)");                    \
			return;                                              \
		}                                                            \
	} while (0)

/* Text contains a substring. */
#define CHECK_HAS(text, needle)                                              \
	do {                                                                 \
		const char *t_ = (text);                                     \
		if (t_ == NULL || strstr(t_, (needle)) == NULL) {            \
			rd_test_fail(__FILE__, __LINE__,                     \
				     "%s == \"%s\" lacks \"%s\"", #text,     \
				     t_ ? t_ : "(null)", (needle));          \
			return;                                              \
		}                                                            \
	} while (0)

/* An rd_* call that must succeed; prints the error message if not. */
#define CHECK_OK(call, errp)                                                 \
	do {                                                                 \
		int rc_ = (call);                                            \
		if (rc_ != 0) {                                              \
			rd_test_fail(__FILE__, __LINE__, "%s = %d: %s",      \
				     #call, rc_, (errp)->message);           \
			return;                                              \
		}                                                            \
	} while (0)

/* An rd_* call that must fail with this code. */
#define CHECK_FAILS(call, code)                                              \
	do {                                                                 \
		int rc_ = (call);                                            \
		if (rc_ != (code)) {                                         \
			rd_test_fail(__FILE__, __LINE__,                     \
				     "%s = %d, expected %d", #call, rc_,     \
				     (int)(code));                           \
			return;                                              \
		}                                                            \
	} while (0)

#endif
