/* The test harness behind test.h. */
/* nftw needs X/Open; a feature test macro is reserved by design */
/* NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
#define _XOPEN_SOURCE 700
#include "test.h"

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int tests_run;
static int tests_failed;
static int tests_skipped;
static int current_failed;
static const char *current_skip;
static char *tmpdirs[256];
static size_t tmpdir_count;

void rd_test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	current_failed = 1;
	fprintf(stderr, "  %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int rd_test_failed(void)
{
	return current_failed;
}

void rd_test_skip(const char *reason)
{
	current_skip = reason;
}

void rd_test_run(const char *name, void (*fn)(void))
{
	current_failed = 0;
	current_skip = NULL;
	fn();
	tests_run++;
	if (current_failed) {
		tests_failed++;
		printf("FAIL %s\n", name);
	} else if (current_skip) {
		tests_skipped++;
		printf("skip %s: %s\n", name, current_skip);
	} else {
		printf("ok   %s\n", name);
	}
	(void)fflush(stdout);
}

static int remove_entry(const char *path, const struct stat *sb, int flag,
			struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void remove_tmpdirs(void)
{
	if (getenv("REDRESS_TEST_KEEP"))
		return;
	for (size_t i = 0; i < tmpdir_count; i++) {
		nftw(tmpdirs[i], remove_entry, 16, FTW_DEPTH | FTW_PHYS);
		free(tmpdirs[i]);
	}
	tmpdir_count = 0;
}

int rd_test_summary(void)
{
	if (tests_skipped)
		printf("%d passed, %d skipped, %d failed\n",
		       tests_run - tests_failed - tests_skipped,
		       tests_skipped, tests_failed);
	else
		printf("%d passed, %d failed\n", tests_run - tests_failed,
		       tests_failed);
	remove_tmpdirs();
	return tests_failed ? 1 : 0;
}

char *rd_test_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *path;
	size_t len;

	if (!base || !*base)
		base = "/tmp";
	len = strlen(base) + sizeof("/redress-test-XXXXXX");
	path = malloc(len);
	if (!path)
		return NULL;
	snprintf(path, len, "%s/redress-test-XXXXXX", base);
	if (!mkdtemp(path)) {
		free(path);
		return NULL;
	}
	if (tmpdir_count < sizeof(tmpdirs) / sizeof(tmpdirs[0]))
		tmpdirs[tmpdir_count++] = strdup(path);
	return path;
}

char *rd_test_path(const char *dir, const char *name)
{
	size_t len = strlen(dir) + strlen(name) + 2;
	char *path = malloc(len);

	if (path)
		snprintf(path, len, "%s/%s", dir, name);
	return path;
}

char *rd_test_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long size;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)size + 1);
		if (buf && fread(buf, 1, (size_t)size, f) == (size_t)size) {
			buf[size] = '\0';
			if (len)
				*len = (size_t)size;
		} else {
			free(buf);
			buf = NULL;
		}
	}
	(void)fclose(f);	/* read only */
	return buf;
}

int rd_test_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	int rc = 0;

	if (!f)
		return -1;
	if (fputs(text, f) == EOF)
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}
