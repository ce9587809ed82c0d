/*
 * Test-only: fault injection into SQLite's allocations.
 *
 * Only fault-injection tests include this header; nothing in redress calls
 * it. It names no SQLite type, so a test needs no sqlite3.h to use it. It
 * must never become part of the public API (include/redress/).
 */
#ifndef REDRESS_STORE_FAULT_H
#define REDRESS_STORE_FAULT_H

#include <stddef.h>

#include "redress/error.h"

/*
 * Route every allocation SQLite makes (malloc and realloc) through
 * `fail_now`: when it answers non-zero for a request of `size` bytes, that
 * allocation fails as if memory had run out. NULL removes the hook (the
 * wrapper stays installed and lets everything through). Installing the
 * wrapper must happen before SQLite is first used in the process (SQLite
 * refuses a new allocator once initialised): RD_EINTERNAL then. Not
 * thread-safe: call it before any thread uses SQLite.
 */
int rd_store__fault_alloc(int (*fail_now)(size_t size), rd_error *err);

#endif
