/*
 * Reading a small file whole, with a limit: one byte more than the limit is
 * read, so that a file that is too big is seen without reading it all.
 */
#include "redress/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int rd_file_read(char **out, size_t *len, const char *path, size_t limit,
		 int code, rd_error *err)
{
	char *bytes = NULL;
	size_t used = 0;
	struct stat st;
	int fd = -1, rc = RD_OK;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) != 0) {
		rc = rd_error_set(err, code, "%s: cannot read: %s", path,
				  strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = rd_error_set(err, code, "%s: not a regular file", path);
		goto done;
	}
	if ((bytes = malloc(limit + 1)) == NULL) {
		rc = rd_error_set(err, RD_ENOMEM, "%s: out of memory", path);
		goto done;
	}
	while (used <= limit) {
		ssize_t got = read(fd, bytes + used, limit + 1 - used);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = rd_error_set(err, code, "%s: cannot read: %s", path,
					  strerror(errno));
			goto done;
		}
		if (got == 0)
			break;
		used += (size_t)got;
	}
	if (used > limit) {
		rc = rd_error_set(err, code, "%s: larger than %zu bytes", path,
				  limit);
		goto done;
	}
	bytes[used] = '\0';
	*out = bytes;
	*len = used;
	bytes = NULL;
done:
	free(bytes);
	if (fd >= 0)
		close(fd);
	return rc;
}
