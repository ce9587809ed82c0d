/*
 * A fuzz target as a plain program, for builds without libFuzzer: each
 * argument is a file, or a directory walked recursively in name order, and
 * every file is given once to LLVMFuzzerTestOneInput. This is how the seed
 * corpus and every crasher kept under tests/fuzz/regressions/ are replayed
 * by `make test`, with gcc as with clang's sanitizers. A broken invariant
 * aborts, so a failing input fails the test; the last file named on
 * standard error is the one at fault.
 */
#define _XOPEN_SOURCE 700
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "redress/file.h"

/* Larger than any seed; libFuzzer's inputs are kept far smaller. */
#define REPLAY_MAX_INPUT (4 * 1024 * 1024)

static size_t replayed;

static int replay_file(const char *path)
{
	char *bytes = NULL;
	size_t len = 0;
	rd_error err;

	if (rd_file_read(&bytes, &len, path, REPLAY_MAX_INPUT, RD_EIO,
			 &err) < 0) {
		fprintf(stderr, "replay: %s\n", err.message);
		return -1;
	}
	fprintf(stderr, "replay: %s\n", path);
	LLVMFuzzerTestOneInput((const uint8_t *)bytes, len);
	free(bytes);
	replayed++;
	return 0;
}

static int skip_entry(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

static int replay_path(const char *path)
{
	struct dirent **entries = NULL;
	struct stat st;
	int n, rc = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path);
	n = scandir(path, &entries, skip_entry, alphasort);
	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		size_t size = strlen(path) + strlen(entries[i]->d_name) + 2;
		char *child = malloc(size);

		if (!child) {
			rc = -1;
		} else {
			snprintf(child, size, "%s/%s", path,
				 entries[i]->d_name);
			if (replay_path(child) < 0)
				rc = -1;
		}
		free(child);
		free(entries[i]);
	}
	free(entries);
	return rc;
}

int main(int argc, char **argv)
{
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++)
		if (replay_path(argv[i]) < 0)
			rc = 1;
	printf("replayed %zu inputs\n", replayed);
	return rc;
}
