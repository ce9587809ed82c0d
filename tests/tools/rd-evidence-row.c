/*
 * rd-evidence-row DATA_DIR DISPUTE_ID N KIND: insert one row into the
 * evidence index through the store API, for tests of the workflow's
 * evidence guards.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redress/store.h"

int main(int argc, char **argv)
{
	char path[4096];
	rd_store *st = NULL;
	rd_evidence_row row;
	rd_error err;
	int rc;

	if (argc != 5) {
		fputs("usage: rd-evidence-row DATA_DIR DISPUTE_ID N KIND\n", stderr);
		return 2;
	}
	memset(&row, 0, sizeof(row));
	snprintf(row.dispute_id, sizeof(row.dispute_id), "%s", argv[2]);
	row.n = strtoll(argv[3], NULL, 10);
	snprintf(row.kind, sizeof(row.kind), "%s", argv[4]);
	snprintf(row.channel, sizeof(row.channel), "carrier");
	snprintf(row.submitted_by, sizeof(row.submitted_by), "agent:test");
	row.added_at = 1;
	snprintf(row.content_type, sizeof(row.content_type), "text/plain");
	row.size = 1;
	memset(row.sha256, 'a', 64);
	snprintf(path, sizeof(path), "%s/redress.db", argv[1]);
	if ((rc = rd_store_open(&st, path, &err)) < 0 ||
	    (rc = rd_store_begin(st, &err)) < 0 ||
	    (rc = rd_store_evidence_insert(st, &row, &err)) < 0 ||
	    (rc = rd_store_commit(st, &err)) < 0) {
		fprintf(stderr, "rd-evidence-row: %s\n", err.message);
		rd_store_close(st);
		return 1;
	}
	rd_store_close(st);
	return 0;
}
