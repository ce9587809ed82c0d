/*
 * rd-dump DATA_DIR: print every row of the data directory's index, sorted,
 * so that tests can prove a refused command changed nothing. The record is
 * DATA_DIR/redress.db, or REDRESS_STORE when it is set, as for redress.
 */
#include <stdio.h>
#include <stdlib.h>

#include "redress/store.h"

int main(int argc, char **argv)
{
	const char *store = getenv("REDRESS_STORE");
	char path[4096];
	rd_store *st = NULL;
	rd_error err;
	char *dump = NULL;

	if (argc != 2) {
		fputs("usage: rd-dump DATA_DIR\n", stderr);
		return 2;
	}
	if (store && *store)
		snprintf(path, sizeof(path), "%s", store);
	else
		snprintf(path, sizeof(path), "%s/redress.db", argv[1]);
	if (rd_store_open(&st, path, &err) < 0 ||
	    rd_store_dump(st, &dump, &err) < 0) {
		fprintf(stderr, "rd-dump: %s\n", err.message);
		rd_store_close(st);
		return 1;
	}
	fputs(dump, stdout);
	free(dump);
	rd_store_close(st);
	return 0;
}
