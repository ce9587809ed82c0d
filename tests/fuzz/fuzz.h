/*
 * What every fuzz target shares: the two entry points libFuzzer calls, a
 * check that aborts with the place and text of a broken invariant, a
 * reader that turns the fuzzer's bytes into choices, and the definitions
 * read once at start-up.
 *
 * A target never writes a file, never opens a data directory and never
 * reads the clock: the same input always takes the same path, so that any
 * crash replays from its input alone (tests/fuzz/replay.c).
 */
#ifndef REDRESS_FUZZ_H
#define REDRESS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "redress/error.h"

/* The entry points (libFuzzer's names); every target defines both. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort, naming the broken invariant, when cond is false. */
#define FUZZ_CHECK(cond)                                                    \
	do {                                                                \
		if (!(cond))                                                \
			fuzz_fail(__FILE__, __LINE__, #cond);               \
	} while (0)

void fuzz_fail(const char *file, int line, const char *what)
	__attribute__((noreturn));

/*
 * The contract every failing rd_ call keeps, checked after each one: rc is
 * a code of rd_code, err->code is rc and the message is a non-empty,
 * NUL-terminated text; field and guard are NUL-terminated too.
 */
void fuzz_check_error(int rc, const rd_error *err);

/*
 * The error as the HTTP API would answer it: http_problem must build a
 * problem document (never fail for want of valid UTF-8) with the status of
 * the error's code. Only targets linked with the http module call it.
 */
void fuzz_check_problem(const rd_error *err);

/* The fuzzer's bytes, consumed from the front. */
typedef struct fuzz_bytes {
	const uint8_t *data;
	size_t size;
} fuzz_bytes;

/* The next byte, 0 when none is left. */
uint8_t fuzz_u8(fuzz_bytes *in);
/* The next 4 bytes, little-endian; missing bytes read as 0. */
uint32_t fuzz_u32(fuzz_bytes *in);
/* The next 8 bytes as a signed integer; missing bytes read as 0. */
int64_t fuzz_i64(fuzz_bytes *in);
/* A choice in 0..n-1 (n > 0), from one byte. */
size_t fuzz_pick(fuzz_bytes *in, size_t n);

/*
 * The bytes up to the next `sep` (or the end), as a new NUL-terminated
 * string (free()); the separator is consumed. NUL bytes inside are kept
 * in the length but end the C string, as they would in a header.
 */
char *fuzz_take_until(fuzz_bytes *in, uint8_t sep);

/* A NUL-terminated copy of data (free()); never NULL. */
char *fuzz_strndup(const uint8_t *data, size_t size);

/*
 * The bytes of REDRESS_SOURCE_DIR/`relpath` (a definition shipped with
 * redress), read once at start-up; aborts when missing. New, free().
 */
char *fuzz_read_source_file(const char *relpath, size_t *len);

#endif
