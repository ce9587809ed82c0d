/*
 * Fixtures shared by the unit tests, so that each test builds its world the
 * same way: a service on a fresh data directory with the repository's
 * workflows, evidence kinds and policy; the example dispute opened, moved
 * by events and offers, given text evidence; actors with and without a
 * key; raw SQL on an index; records as the store keeps them; a fresh
 * evidence repository and shell commands to inspect it with git; an HTTP
 * server's options and plain sockets to talk to it. Compiled into every
 * unit test beside test.c. A fixture never asserts what a test checks: it
 * returns the library's code (and error) or reports its own failure with
 * rd_test_fail, and the test decides.
 */
#ifndef REDRESS_TEST_FIXTURES_H
#define REDRESS_TEST_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

#include "redress/evidence.h"
#include "redress/http.h"
#include "redress/service.h"
#include "redress/store.h"

#include "net.h"

/* The repository's reference configuration. */
#define RD_TEST_WORKFLOWS REDRESS_SOURCE_DIR "/workflows"
#define RD_TEST_KINDS REDRESS_SOURCE_DIR "/evidence/kinds.json"
#define RD_TEST_POLICY REDRESS_SOURCE_DIR "/workflows/policy.json"

/* The workflow hash the store fixtures record their disputes under. */
#define RD_TEST_WORKFLOW_HASH \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* --- the service ---------------------------------------------------------- */

/*
 * Options for a service on `data` (created when missing) with the
 * repository's kinds and policy and `workflows` (NULL: the repository's).
 * Its record is <data>/redress.db, or a fresh PostgreSQL database when
 * the test runs on PostgreSQL (rd_test_on_postgres).
 */
rd_service_options rd_test_service_options(const char *data,
					   const char *workflows);

/*
 * rd_service_open with rd_test_service_options; NULL (the failure
 * reported) when it fails. Close with rd_service_close.
 */
rd_service *rd_test_service_open(const char *data, const char *workflows);

/* The store's dump (rd_store_dump), new; NULL, reported, on failure. */
char *rd_test_dump(rd_service *svc);

/* How many holder files (holder-<pid>-<n>) lie in the data directory dir. */
int rd_test_holder_files(const char *dir);

/* An actor of role and name, with no API key. */
rd_actor rd_test_actor(rd_role role, const char *name);

/* An actor of role and name authenticated by the API key key_id. */
rd_actor rd_test_keyed_actor(rd_role role, const char *name,
			     const char *key_id);

/*
 * The example dispute document, a string literal: order ORD-<order> of
 * storefront, for reason (each a string literal); buyer "b", USD, by
 * chat, one lamp at 100.00 that cost 40.00, 15.00 shipping paid, 30.00 to
 * ship, 25.00 for a return label.
 */
#define RD_TEST_EXAMPLE(order, storefront, reason)                            \
	"{\"order_ref\": \"ORD-" order "\", \"storefront\": \"" storefront    \
	"\", \"buyer_ref\": \"b\", \"currency\": \"USD\", \"reason\": \""     \
	reason "\", \"channel\": \"chat\", \"items\": [{\"sku\": \"L\", "     \
	"\"title\": \"Lamp\", \"quantity\": 1, \"unit_price\": 10000, "       \
	"\"unit_cost\": 4000}], \"shipping_paid\": 1500, "                    \
	"\"ship_cost\": 3000, \"return_cost\": 2500}"

/* RD_TEST_EXAMPLE("1", "acme", "damaged"). */
extern const char rd_test_example[];

/* RD_TEST_EXAMPLE of order, storefront and reason into buf. */
void rd_test_example_doc(char *buf, size_t size, int order,
			 const char *storefront, const char *reason);

/*
 * Open the example dispute (rd_test_example_doc) as agent:alice at now;
 * its id into id. The service's code, err filled on failure.
 */
int rd_test_open_dispute(rd_service *svc, char id[RD_ID_BUFSZ], int order,
			 const char *storefront, const char *reason,
			 int64_t now, rd_error *err);

/*
 * Apply event to dispute id as role:tester at now, with one field (when
 * field is not NULL) and no version condition.
 */
int rd_test_apply(rd_service *svc, const char *id, const char *event,
		  rd_role role, const char *field, const char *value,
		  int64_t now, rd_error *err);

/*
 * The id of the first offer the engine proposes for dispute id of this type
 * (and buyer refund, or co-pay for a reshipment, when amount >= 0) into
 * out; "" when it proposes none such. RD_OK, or the service's code.
 */
int rd_test_offer_id(rd_service *svc, const char *id, rd_offer_type type,
		     int64_t amount, char out[48], rd_error *err);

/*
 * Make that offer (rd_test_offer_id) as an agent at now; RD_ENOTFOUND when
 * the engine proposes none such.
 */
int rd_test_make_offer(rd_service *svc, const char *id, rd_offer_type type,
		       int64_t amount, int64_t now, rd_error *err);

/*
 * Add text (written to a file of a fresh directory) as evidence of kind,
 * by agent:alice at now.
 */
int rd_test_add_text_evidence(rd_service *svc, const char *id,
			      const char *kind, const char *text, int64_t now,
			      rd_error *err);

/* --- the store ------------------------------------------------------------ */

/*
 * A fresh record for rd_store_open; free(). The path of redress.db in a
 * fresh directory (not created), or, when the test runs on PostgreSQL,
 * the URI of a new empty database of the suite's server (dropped when the
 * test program exits).
 */
char *rd_test_db_path(void);

/*
 * Open the record at path (rd_test_db_path's) with rd_store_open; a test
 * that cannot ends at once, saying why.
 */
rd_store *rd_test_store_open(const char *path);

/*
 * 1 when this run of the test keeps its records in PostgreSQL: ctest runs
 * the store's and the service's tests a second time so (NAME@pg), with
 * REDRESS_TEST_STORE=postgresql and REDRESS_TEST_PG_STATE naming the
 * server tests/support/pg.sh started. A case that tests what only SQLite
 * has returns early when it is 1.
 */
int rd_test_on_postgres(void);

/*
 * SQLite's plan of the store's statement `stmt` (EXPLAIN QUERY PLAN) on
 * st, embedded records only: each step's detail followed by "; ", into
 * plan (cut short at size); "" when the statement cannot be planned.
 */
void rd_test_stmt_plan(rd_store *st, int stmt, char *plan, size_t size);

/*
 * The first line of a case that tests what only the embedded record has
 * (SQLite's locks, files, pragmas, query plans, older schemas): on
 * PostgreSQL the case ends there, reported as skipped with `why`.
 */
#define RD_TEST_SQLITE_ONLY(why)                                             \
	do {                                                                 \
		if (rd_test_on_postgres()) {                                 \
			rd_test_skip("SQLite only: " why);                   \
			return;                                              \
		}                                                            \
	} while (0)

/*
 * The first line of a case that tests what only a PostgreSQL record has
 * (writers of several connections committing at once, its locks): on
 * SQLite the case ends there, reported as skipped with `why`.
 */
#define RD_TEST_POSTGRES_ONLY(why)                                           \
	do {                                                                 \
		if (!rd_test_on_postgres()) {                                \
			rd_test_skip("PostgreSQL only: " why);               \
			return;                                              \
		}                                                            \
	} while (0)

/*
 * The suite's PostgreSQL server, for the tests that always run against it
 * too (store/test_db, store/test_pg): 1 when REDRESS_TEST_PG_STATE names
 * a started one, 0 when the variable is not set (a run by hand: the test
 * leaves out its PostgreSQL cases, saying so), -1 when it names none.
 */
int rd_test_pg_server(void);

/*
 * A new empty database of the suite's PostgreSQL server, dropped when
 * the test program exits: its URI (new string), or NULL (reported).
 */
char *rd_test_pg_database(void);

/*
 * The record of the data directory `dir` as rd_test_service_options
 * gives it: <dir>/redress.db, or its PostgreSQL database. New string
 * (free()).
 */
char *rd_test_record_of(const char *dir);

/*
 * Run sql on the record at db_path (rd_test_db_path's) through a
 * connection of its own; 0, or -1 with the database's message reported.
 */
int rd_test_sql(const char *db_path, const char *sql);

/* The id of store fixture n: "01J" and n in 23 digits. */
void rd_test_make_id(char out[RD_ID_BUFSZ], int n);

/*
 * Dispute n as the store keeps it: order ORD-1 of storefront for reason,
 * by chat, one SKU at 10.00 (cost unknown), no shipping or return cost,
 * workflow dispute version 1 (RD_TEST_WORKFLOW_HASH), in state at version
 * 1, created and updated at `at`. New (rd_dispute_free), NULL without
 * memory.
 */
rd_dispute *rd_test_stored_dispute(int n, const char *storefront,
				   rd_reason reason, const char *state,
				   int64_t at);

/*
 * Event seq of dispute n from one state to another, by agent:alice at
 * 1700000100 + seq. The strings are borrowed.
 */
rd_event_record rd_test_event_record(int n, int64_t seq, const char *event,
				     const char *from, const char *to);

/*
 * Evidence n of dispute `dispute`, of kind: by chat, from agent:alice at
 * 1700000200, a 1234-byte image/png with digest RD_TEST_WORKFLOW_HASH.
 */
rd_evidence_row rd_test_evidence_row(int dispute, int64_t n, const char *kind);

/* How many disputes the stats count in state; -1 when it is not listed. */
int64_t rd_test_in_state(const rd_store_stats *stats, const char *state);

/* --- the record, its mirror and the shell --------------------------------- */

/*
 * A fresh bare repository on disk, evidence.git in a fresh directory (an
 * earlier release's record, or a mirror); *dir and *git are new strings
 * (free()). NULL, with the reason on standard error, when it cannot be
 * created.
 */
rd_evidence_repo *rd_test_fresh_repo(char **dir, char **git);

/*
 * A record as a data directory holds it: a store (redress.db) whose
 * objects the repository reads and writes, evidence files under blobs/,
 * and the mirror evidence.git, written only by rd_test_record_mirror.
 */
typedef struct rd_test_record {
	char *dir;                 /* the fresh directory */
	char *db;                  /* <dir>/redress.db */
	char *blobs;               /* <dir>/blobs */
	char *git;                 /* <dir>/evidence.git, the mirror */
	rd_store *store;
	rd_evidence_repo *repo;    /* the record's repository */
	rd_mirror *mirror;         /* NULL until first mirrored */
	int64_t mirrored;          /* the last change the mirror holds */
} rd_test_record;

/* Open a fresh record into *r: 0, or -1 with the reason reported. */
int rd_test_record_open(rd_test_record *r);

/*
 * Open the record's repository again over the same store and blobs (what
 * a new process would see: nothing cached). 0, or -1 reported.
 */
int rd_test_record_reopen(rd_test_record *r);

/* Close and free what r holds (the directory stays). */
void rd_test_record_close(rd_test_record *r);

/*
 * Commit req as the service does: in one store transaction, the objects
 * (rd_evidence_commit) and the head moved by compare-and-swap from
 * req->parent (rd_store_ref_move, at req->when). Either code fails the
 * whole transaction; out is written only on success.
 */
int rd_test_record_commit(rd_test_record *r, const rd_commit_request *req,
			  char out[RD_OID_BUFSZ], rd_error *err);

/* The dispute's head in the store (rd_store_ref_get). */
int rd_test_record_head(rd_test_record *r, const char *dispute_id,
			char out[RD_OID_BUFSZ], int *found, rd_error *err);

/*
 * Bring the mirror r->git up to the record: one pack of the evidence
 * files and one of the other objects the changes after r->mirrored
 * stored, every changed dispute's ref at its head, made durable. Then
 * stock git can read it.
 */
int rd_test_record_mirror(rd_test_record *r, rd_error *err);

/*
 * Run a shell command made from fmt; its standard output goes to *out
 * (new, free()) unless out is NULL. The command's exit status, or -1.
 */
int rd_test_sh(char **out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* --- the HTTP server ------------------------------------------------------ */

/*
 * Server options: listen (may be NULL) and a service on data with the
 * repository's configuration (not created: set service.create).
 */
void rd_test_http_options(rd_http_options *opts, const char *data,
			  const char *listen);

/*
 * A fresh data directory holding one API key of role (named "tester"),
 * whose secret goes into key; its path, new (free()); failures reported.
 */
char *rd_test_data_with_key(rd_role role, char key[RD_KEY_BUFSZ]);

#endif
