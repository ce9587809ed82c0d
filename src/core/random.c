/* Randomness from the operating system: include/redress/random.h. */
#include "redress/random.h"

#include <errno.h>
#include <sys/random.h>

int rd_random_bytes(void *buf, size_t len, rd_error *err)
{
	unsigned char *at = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = getrandom(at + got, len - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return rd_error_set(err, RD_EIO,
					    "the operating system gave no "
					    "randomness (getrandom failed, "
					    "errno %d)",
					    errno);
		}
		got += (size_t)n;
	}
	return RD_OK;
}
