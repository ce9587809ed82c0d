/*
 * Reading small files whole: definitions (workflows, policies, evidence
 * kinds) and documents. Bounded, so that a huge or endless file is refused
 * rather than read into memory.
 */
#ifndef REDRESS_FILE_H
#define REDRESS_FILE_H

#include <stddef.h>

#include "redress/error.h"

/*
 * Read the whole regular file at `path`, at most `limit` bytes, into a new
 * NUL-terminated buffer (*out, free()) of *len bytes. Failures carry `code`
 * (the caller's error class, e.g. RD_EDEFINITION for a definition file) and
 * a message starting with the path: "PATH: cannot read: REASON", "PATH: not
 * a regular file", "PATH: larger than LIMIT bytes"; out of memory is
 * RD_ENOMEM.
 */
int rd_file_read(char **out, size_t *len, const char *path, size_t limit,
		 int code, rd_error *err);

#endif
