/*
 * Test-only: an allocator for libgit2 that can be told to fail (see
 * evidence_fault.h). It does what libgit2's standard allocator does (which
 * libgit2 1.5 does not export), asking the test's hook first; redress
 * itself never installs it.
 *
 * It must never keep memory of its own: everything comes from the C
 * library's malloc, so that memory allocated before or after it was
 * installed can be freed by either allocator.
 */
#include "evidence/evidence_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <git2/sys/alloc.h>

static git_allocator wrapped;
static int (*hook)(size_t size, const char *file, int line);

/*
 * Each function asks the hook once, then makes exactly one call to the C
 * library's allocator. Like libgit2 1.5's standard allocator, a failure
 * sets libgit2's "out of memory" error: libgit2's callers count on it.
 */
static int refuse(size_t size, const char *file, int line)
{
	return hook && hook(size, file, line);
}

static void *checked(void *ptr)
{
	if (!ptr)
		git_error_set_oom();
	return ptr;
}

static void *fault_malloc(size_t n, const char *file, int line)
{
	return checked(refuse(n, file, line) ? NULL : malloc(n));
}

static void *fault_realloc(void *ptr, size_t size, const char *file, int line)
{
	/* NOLINTNEXTLINE(clang-analyzer-optin.portability.UnixAPI): as libgit2's own allocator, the size as asked */
	return checked(refuse(size, file, line) ? NULL : realloc(ptr, size));
}

static void fault_free(void *ptr)
{
	free(ptr);
}

#if LIBGIT2_VER_MAJOR == 1 && LIBGIT2_VER_MINOR < 7
/* Before libgit2 1.7 the allocator had a member for each helper as well. */
static void *fault_calloc(size_t nelem, size_t elsize, const char *file,
			  int line)
{
	if (elsize && nelem > SIZE_MAX / elsize)
		return checked(NULL);
	if (refuse(nelem * elsize, file, line))
		return checked(NULL);
	/* NOLINTNEXTLINE(clang-analyzer-optin.portability.UnixAPI): as libgit2's own allocator, the size as asked */
	return checked(calloc(nelem, elsize));
}

/* A copy of exactly n bytes of str and a NUL. */
static char *copy(const char *str, size_t n, const char *file, int line)
{
	char *out;

	if (n == SIZE_MAX || refuse(n + 1, file, line) ||
	    !(out = malloc(n + 1)))
		return checked(NULL);
	memcpy(out, str, n);
	out[n] = '\0';
	return out;
}

static char *fault_strdup(const char *str, const char *file, int line)
{
	return copy(str, strlen(str), file, line);
}

static char *fault_strndup(const char *str, size_t n, const char *file,
			   int line)
{
	return copy(str, strnlen(str, n), file, line);
}

static char *fault_substrdup(const char *str, size_t n, const char *file,
			     int line)
{
	return copy(str, n, file, line);
}

static void *fault_reallocarray(void *ptr, size_t nelem, size_t elsize,
				const char *file, int line)
{
	if (elsize && nelem > SIZE_MAX / elsize)
		return checked(NULL);
	return fault_realloc(ptr, nelem * elsize, file, line);
}

static void *fault_mallocarray(size_t nelem, size_t elsize, const char *file,
			       int line)
{
	return fault_reallocarray(NULL, nelem, elsize, file, line);
}
#endif

void ev_fault_set_hook(int (*fail_now)(size_t size, const char *file,
					int line))
{
	hook = fail_now;
}

int ev_fault_install(void)
{
	if (!wrapped.gmalloc) {
		wrapped.gmalloc = fault_malloc;
		wrapped.grealloc = fault_realloc;
		wrapped.gfree = fault_free;
#if LIBGIT2_VER_MAJOR == 1 && LIBGIT2_VER_MINOR < 7
		wrapped.gcalloc = fault_calloc;
		wrapped.gstrdup = fault_strdup;
		wrapped.gstrndup = fault_strndup;
		wrapped.gsubstrdup = fault_substrdup;
		wrapped.greallocarray = fault_reallocarray;
		wrapped.gmallocarray = fault_mallocarray;
#endif
	}
	return git_libgit2_opts(GIT_OPT_SET_ALLOCATOR, &wrapped);
}
