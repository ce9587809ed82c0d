/*
 * Test-only: an allocator for SQLite that can be told to fail (see
 * store_fault.h). It wraps SQLite's own default allocator and changes
 * nothing while no hook is set; redress itself never installs it.
 *
 * It must never keep or free memory itself: every byte still comes from,
 * and goes back to, the allocator it wraps.
 */
#include "store/store_fault.h"

#include <sqlite3.h>

static sqlite3_mem_methods base;
static int installed;
static int (*hook)(size_t size);

static void *fault_malloc(int size)
{
	if (hook && hook(size > 0 ? (size_t)size : 0))
		return NULL;
	return base.xMalloc(size);
}

static void *fault_realloc(void *ptr, int size)
{
	if (hook && hook(size > 0 ? (size_t)size : 0))
		return NULL;
	return base.xRealloc(ptr, size);
}

int rd_store__fault_alloc(int (*fail_now)(size_t size), rd_error *err)
{
	sqlite3_mem_methods wrapped;
	int rc;

	if (!installed) {
		if ((rc = sqlite3_config(SQLITE_CONFIG_GETMALLOC, &base)) !=
		    SQLITE_OK)
			return rd_error_set(err, RD_EINTERNAL, "cannot read "
					    "SQLite's allocator: %s",
					    sqlite3_errstr(rc));
		wrapped = base;
		wrapped.xMalloc = fault_malloc;
		wrapped.xRealloc = fault_realloc;
		if ((rc = sqlite3_config(SQLITE_CONFIG_MALLOC, &wrapped)) !=
		    SQLITE_OK)
			return rd_error_set(err, RD_EINTERNAL, "cannot wrap "
					    "SQLite's allocator (%s): it must "
					    "be done before SQLite is first "
					    "used", sqlite3_errstr(rc));
		installed = 1;
	}
	hook = fail_now;
	return RD_OK;
}
