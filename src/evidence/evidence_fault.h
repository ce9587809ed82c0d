/*
 * Test-only: fault injection into libgit2's allocations.
 *
 * Only fault-injection tests include this header; nothing in redress calls
 * it. It names no libgit2 type, so a test needs no git2.h to use it. It
 * must never become part of the public API (include/redress/).
 */
#ifndef REDRESS_EVIDENCE_FAULT_H
#define REDRESS_EVIDENCE_FAULT_H

#include <stddef.h>

#include "redress/error.h"

/*
 * Route every allocation libgit2 makes through `fail_now`: when it answers
 * non-zero for a request of `size` bytes made at libgit2's source `file`
 * and `line`, that allocation fails as if memory had run out (and libgit2's
 * last error says so, as its own allocator would). The wrapping allocator (libgit2's standard one
 * underneath) is put in place at once if libgit2 is initialised, and again
 * each time it is initialised after that; NULL removes the hook and lets
 * everything through. Memory libgit2 allocated before stays valid: both
 * allocators end in the C library's malloc and free. Call it while no
 * other thread uses libgit2.
 */
int rd_evidence__fault_alloc(int (*fail_now)(size_t size, const char *file,
					     int line),
			     rd_error *err);

#endif
