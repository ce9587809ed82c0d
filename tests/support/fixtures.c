/*
 * The fixtures behind fixtures.h. They build what the unit tests start
 * from and never check what a test checks; a failure of their own is
 * reported with rd_test_fail and the test goes on to find it.
 */
/* a feature-test macro (mkdtemp, fdopen), not a name of ours */
/* NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
#define _XOPEN_SOURCE 700
#include "fixtures.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/db.h"
#include "store/store_int.h"
#include "test.h"

const char rd_test_example[] = RD_TEST_EXAMPLE("1", "acme", "damaged");

/* --- records on PostgreSQL ------------------------------------------------ */

/*
 * The databases made for this program's records, dropped at exit, and the
 * data directory each belongs to (NULL for rd_test_db_path's).
 */
typedef struct pg_record {
	char *name;
	char *uri;
	char *data_dir;
} pg_record;

static pg_record *pg_records;
static size_t pg_record_count, pg_record_room;
static char pg_server[512];
static pid_t pg_records_owner;   /* a forked child leaves them alone */

int rd_test_on_postgres(void)
{
	const char *store = getenv("REDRESS_TEST_STORE");

	return store && strcmp(store, "postgresql") == 0;
}

/* The suite's server, from the state file pg.sh wrote; 0 or -1. */
static int pg_server_uri(void)
{
	const char *state = getenv("REDRESS_TEST_PG_STATE");
	char *text, *line;

	if (pg_server[0])
		return 0;
	if (!state || !(text = rd_test_read(state, NULL))) {
		rd_test_fail(__FILE__, __LINE__, "REDRESS_TEST_PG_STATE (%s) "
			     "names no server started by tests/support/pg.sh",
			     state ? state : "unset");
		return -1;
	}
	if ((line = strstr(text, "PGURI=")) != NULL) {
		line += 6;
		line[strcspn(line, "\n")] = '\0';
		snprintf(pg_server, sizeof(pg_server), "%s", line);
	}
	free(text);
	return pg_server[0] ? 0 : -1;
}

static void drop_pg_records(void)
{
	rd_db *db = NULL;
	rd_error err;

	if (getpid() != pg_records_owner)
		return;
	if (pg_record_count && rd_db_open(&db, pg_server, 0, &err) == 0) {
		for (size_t i = 0; i < pg_record_count; i++) {
			char sql[160];

			snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS "
				 "%s WITH (FORCE)", pg_records[i].name);
			(void)rd_db_exec(db, sql);
		}
	}
	rd_db_close(db);
	for (size_t i = 0; i < pg_record_count; i++) {
		free(pg_records[i].name);
		free(pg_records[i].uri);
		free(pg_records[i].data_dir);
	}
	free(pg_records);
}

int rd_test_pg_server(void)
{
	const char *state = getenv("REDRESS_TEST_PG_STATE");

	if (!state || !*state)
		return 0;
	return pg_server_uri() < 0 ? -1 : 1;
}

/* A new empty database on the suite's server; its URI (borrowed). */
static const char *new_pg_record(const char *data_dir)
{
	static unsigned long made;
	char name[64], sql[128], uri[640];
	const char *slash;
	pg_record *more, *r;
	rd_db *db = NULL;
	rd_error err;

	if (pg_server_uri() < 0)
		return NULL;
	if (pg_record_count == pg_record_room) {
		size_t room = pg_record_room ? pg_record_room * 2 : 8;

		if (!(more = realloc(pg_records, room * sizeof(*more))))
			return NULL;
		pg_records = more;
		pg_record_room = room;
		if (pg_record_count == 0) {
			pg_records_owner = getpid();
			/* else the suite's server would keep every database */
			if (atexit(drop_pg_records) != 0)
				rd_test_fail(__FILE__, __LINE__, "cannot have "
					     "the test's databases dropped at "
					     "exit");
		}
	}
	snprintf(name, sizeof(name), "t_%ld_%lu", (long)getpid(), ++made);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	if (rd_db_open(&db, pg_server, 0, &err) < 0 ||
	    rd_db_exec(db, sql) != RD_DB_OK) {
		rd_test_fail(__FILE__, __LINE__, "cannot make a database: %s",
			     db ? rd_db_errmsg(db) : err.message);
		rd_db_close(db);
		return NULL;
	}
	rd_db_close(db);
	slash = strrchr(pg_server, '/');
	snprintf(uri, sizeof(uri), "%.*s/%s", (int)(slash - pg_server),
		 pg_server, name);
	r = &pg_records[pg_record_count];
	r->name = strdup(name);
	r->uri = strdup(uri);
	r->data_dir = data_dir ? strdup(data_dir) : NULL;
	if (!r->name || !r->uri || (data_dir && !r->data_dir)) {
		free(r->name);
		free(r->uri);
		free(r->data_dir);
		return NULL;
	}
	pg_record_count++;
	return r->uri;
}

/* The database of a data directory's record, made at its first use. */
static const char *postgres_record_of(const char *data_dir)
{
	for (size_t i = 0; i < pg_record_count; i++)
		if (pg_records[i].data_dir &&
		    strcmp(pg_records[i].data_dir, data_dir) == 0)
			return pg_records[i].uri;
	return new_pg_record(data_dir);
}

/* --- the service ---------------------------------------------------------- */

rd_service_options rd_test_service_options(const char *data,
					   const char *workflows)
{
	rd_service_options opts = {
		.data_dir = data,
		.workflows_dir = workflows ? workflows : RD_TEST_WORKFLOWS,
		.kinds_path = RD_TEST_KINDS,
		.policy_path = RD_TEST_POLICY,
		.create = 1,
	};

	/* a data directory's record: the same one each time it is opened */
	if (rd_test_on_postgres())
		opts.store = postgres_record_of(data);
	return opts;
}

rd_service *rd_test_service_open(const char *data, const char *workflows)
{
	rd_service_options opts = rd_test_service_options(data, workflows);
	rd_service *svc = NULL;
	rd_error err;

	if (rd_service_open(&svc, &opts, &err) < 0)
		rd_test_fail(__FILE__, __LINE__, "%s", err.message);
	return svc;
}

char *rd_test_dump(rd_service *svc)
{
	char *text = NULL;
	rd_error err;

	if (rd_store_dump(rd_service_store(svc), &text, &err) < 0)
		rd_test_fail(__FILE__, __LINE__, "%s", err.message);
	return text;
}

rd_actor rd_test_actor(rd_role role, const char *name)
{
	rd_actor a;

	memset(&a, 0, sizeof(a));
	a.role = role;
	snprintf(a.name, sizeof(a.name), "%s", name);
	return a;
}

rd_actor rd_test_keyed_actor(rd_role role, const char *name,
			     const char *key_id)
{
	rd_actor a = rd_test_actor(role, name);

	snprintf(a.key_id, sizeof(a.key_id), "%s", key_id);
	return a;
}

void rd_test_example_doc(char *buf, size_t size, int order,
			 const char *storefront, const char *reason)
{
	snprintf(buf, size, RD_TEST_EXAMPLE("%d", "%s", "%s"), order,
		 storefront, reason);
}

int rd_test_open_dispute(rd_service *svc, char id[RD_ID_BUFSZ], int order,
			 const char *storefront, const char *reason,
			 int64_t now, rd_error *err)
{
	char doc[1024];
	rd_dispute *input = NULL, *d = NULL;
	rd_actor agent = rd_test_actor(RD_ROLE_AGENT, "alice");
	int rc;

	rd_test_example_doc(doc, sizeof(doc), order, storefront, reason);
	if ((rc = rd_dispute_parse(&input, doc, strlen(doc), err)) == RD_OK &&
	    (rc = rd_service_dispute_open(svc, input, &agent, now, &d,
					  err)) == RD_OK)
		snprintf(id, RD_ID_BUFSZ, "%s", d->id);
	rd_dispute_free(input);
	rd_dispute_free(d);
	return rc;
}

int rd_test_apply(rd_service *svc, const char *id, const char *event,
		  rd_role role, const char *field, const char *value,
		  int64_t now, rd_error *err)
{
	rd_field fields[1] = { { field, value } };
	rd_event_request req = { event, fields, field ? 1 : 0, NULL, 0 };
	rd_actor who = rd_test_actor(role, "tester");

	return rd_service_event_apply(svc, id, &req, &who, now, NULL, err);
}

int rd_test_offer_id(rd_service *svc, const char *id, rd_offer_type type,
		     int64_t amount, char out[48], rd_error *err)
{
	rd_proposals *set = malloc(sizeof(*set));
	int rc;

	out[0] = '\0';
	if (!set)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	if ((rc = rd_service_offer_proposals(svc, id, set, err)) < 0)
		goto done;
	for (size_t i = 0; i < set->proposed; i++) {
		const rd_offer_terms *t = &set->items[i].terms;
		int64_t value = type == RD_OFFER_RESHIPMENT ? t->buyer_copay
							    : t->buyer_refund;

		if (t->type == type && (amount < 0 || value == amount)) {
			snprintf(out, 48, "%s", set->items[i].offer_id);
			break;
		}
	}
done:
	free(set);
	return rc;
}

int rd_test_make_offer(rd_service *svc, const char *id, rd_offer_type type,
		       int64_t amount, int64_t now, rd_error *err)
{
	char chosen[48];
	int rc;

	if ((rc = rd_test_offer_id(svc, id, type, amount, chosen, err)) < 0)
		return rc;
	if (!chosen[0])
		return rd_error_set(err, RD_ENOTFOUND,
				    "no such offer proposed");
	return rd_test_apply(svc, id, "make_offer", RD_ROLE_AGENT, "offer_id",
			     chosen, now, err);
}

int rd_test_add_text_evidence(rd_service *svc, const char *id,
			      const char *kind, const char *text, int64_t now,
			      rd_error *err)
{
	char *dir = rd_test_tmpdir();
	char *path = dir ? rd_test_path(dir, "evidence.txt") : NULL;
	rd_evidence_submission sub;
	rd_actor agent = rd_test_actor(RD_ROLE_AGENT, "alice");
	rd_dispute *d = NULL;
	int fd = -1, rc;

	/* the agent the dispute is assigned to, if any, adds it */
	if (rd_service_dispute_get(svc, id, &d, NULL) == RD_OK && d->assignee)
		snprintf(agent.name, sizeof(agent.name), "%s", d->assignee);
	rd_dispute_free(d);
	memset(&sub, 0, sizeof(sub));
	sub.kind = kind;
	if (!path || rd_test_write(path, text) != 0 ||
	    (fd = open(path, O_RDONLY)) < 0)
		rc = rd_error_set(err, RD_EIO, "cannot write %s",
				  path ? path : "a temporary file");
	else
		rc = rd_service_evidence_add_fd(svc, id, &sub, fd, &agent, now,
						NULL, err);
	if (fd >= 0)
		close(fd);
	free(path);
	free(dir);
	return rc;
}

/* --- the store ------------------------------------------------------------ */

char *rd_test_db_path(void)
{
	char *dir, *path;

	if (rd_test_on_postgres())
		return rd_test_pg_database();
	dir = rd_test_tmpdir();
	path = dir ? rd_test_path(dir, "redress.db") : NULL;
	free(dir);
	return path;
}

char *rd_test_pg_database(void)
{
	const char *uri = new_pg_record(NULL);

	return uri ? strdup(uri) : NULL;
}

char *rd_test_record_of(const char *dir)
{
	if (rd_test_on_postgres()) {
		const char *uri = postgres_record_of(dir);

		return uri ? strdup(uri) : NULL;
	}
	return rd_test_path(dir, "redress.db");
}

int rd_test_sql(const char *db_path, const char *sql)
{
	rd_db *db = NULL;
	rd_error err;
	int rc = 0;

	if (rd_db_open(&db, db_path, 1, &err) < 0) {
		rd_test_fail(__FILE__, __LINE__, "%s: %s", sql, err.message);
		return -1;
	}
	if (rd_db_exec(db, sql) != RD_DB_OK) {
		rd_test_fail(__FILE__, __LINE__, "%s: %s", sql,
			     rd_db_errmsg(db));
		rc = -1;
	}
	rd_db_close(db);
	return rc;
}

void rd_test_make_id(char out[RD_ID_BUFSZ], int n)
{
	snprintf(out, RD_ID_BUFSZ, "01J%023d", n);
}

rd_dispute *rd_test_stored_dispute(int n, const char *storefront,
				   rd_reason reason, const char *state,
				   int64_t at)
{
	rd_dispute *d = rd_dispute_new();

	if (!d)
		return NULL;
	rd_test_make_id(d->id, n);
	d->order_ref = strdup("ORD-1");
	d->storefront = strdup(storefront);
	memcpy(d->currency, "USD", 4);
	d->reason = reason;
	d->channel = RD_CHANNEL_CHAT;
	d->items = calloc(1, sizeof(*d->items));
	d->item_count = 1;
	if (d->items) {
		d->items[0].sku = strdup("SKU");
		d->items[0].quantity = 1;
		d->items[0].unit_price = 1000;
		d->items[0].unit_cost = RD_AMOUNT_UNSET;
	}
	d->ship_cost = RD_AMOUNT_UNSET;
	d->return_cost = RD_AMOUNT_UNSET;
	d->workflow_name = strdup("dispute");
	d->workflow_version = 1;
	memcpy(d->workflow_hash, RD_TEST_WORKFLOW_HASH,
	       sizeof(RD_TEST_WORKFLOW_HASH));
	d->state = strdup(state);
	d->version = 1;
	d->created_at = at;
	d->updated_at = at;
	if (!d->order_ref || !d->storefront || !d->items || !d->items[0].sku ||
	    !d->workflow_name || !d->state) {
		rd_dispute_free(d);
		return NULL;
	}
	return d;
}

rd_event_record rd_test_event_record(int n, int64_t seq, const char *event,
				     const char *from, const char *to)
{
	rd_event_record ev;

	memset(&ev, 0, sizeof(ev));
	rd_test_make_id(ev.dispute_id, n);
	ev.seq = seq;
	ev.event = (char *)event;
	ev.actor = rd_test_actor(RD_ROLE_AGENT, "alice");
	ev.at = 1700000100 + seq;
	ev.from_state = (char *)from;
	ev.to_state = (char *)to;
	return ev;
}

rd_evidence_row rd_test_evidence_row(int dispute, int64_t n, const char *kind)
{
	rd_evidence_row row;

	memset(&row, 0, sizeof(row));
	rd_test_make_id(row.dispute_id, dispute);
	row.n = n;
	snprintf(row.kind, sizeof(row.kind), "%s", kind);
	snprintf(row.channel, sizeof(row.channel), "chat");
	snprintf(row.submitted_by, sizeof(row.submitted_by), "agent:alice");
	row.added_at = 1700000200;
	snprintf(row.content_type, sizeof(row.content_type), "image/png");
	row.size = 1234;
	memcpy(row.sha256, RD_TEST_WORKFLOW_HASH,
	       sizeof(RD_TEST_WORKFLOW_HASH));
	return row;
}

int64_t rd_test_in_state(const rd_store_stats *stats, const char *state)
{
	for (size_t i = 0; i < stats->state_count; i++)
		if (strcmp(stats->states[i].state, state) == 0)
			return stats->states[i].disputes;
	return -1;
}

/* --- the evidence repository and the shell -------------------------------- */

rd_evidence_repo *rd_test_fresh_repo(char **dir, char **git)
{
	rd_evidence_repo *repo = NULL;
	rd_error err = { 0 };

	*dir = rd_test_tmpdir();
	*git = *dir ? rd_test_path(*dir, "evidence.git") : NULL;
	if (!*git || rd_evidence_repo_open(&repo, *git, 1, &err) < 0) {
		fprintf(stderr, "  fresh_repo: %s\n", err.message);
		return NULL;
	}
	return repo;
}

static int record_get(void *ctx, const unsigned char id[20], int *found,
		      int *type, int64_t *size, int *in_file, void **data,
		      rd_error *err)
{
	return rd_store_object_get(ctx, id, found, type, size, in_file, data,
				   err);
}

static int record_put(void *ctx, const unsigned char id[20], int type,
		      int64_t size, const void *data, rd_error *err)
{
	return rd_store_object_put(ctx, id, type, size, data, err);
}

/* The record's repository over r->store and r->blobs, into r->repo. */
static int record_repo_open(rd_test_record *r, rd_error *err)
{
	rd_object_io io;

	memset(&io, 0, sizeof(io));
	io.ctx = r->store;
	io.get = record_get;
	io.put = record_put;
	return rd_evidence_record_open(&r->repo, r->blobs, &io, err);
}

int rd_test_record_reopen(rd_test_record *r)
{
	rd_error err = { 0 };

	rd_evidence_repo_close(r->repo);
	r->repo = NULL;
	if (record_repo_open(r, &err) < 0) {
		rd_test_fail(__FILE__, __LINE__, "record: %s", err.message);
		return -1;
	}
	return 0;
}

int rd_test_record_open(rd_test_record *r)
{
	rd_error err = { 0 };

	memset(r, 0, sizeof(*r));
	if (!(r->dir = rd_test_tmpdir()) ||
	    !(r->db = rd_test_on_postgres() ? rd_test_db_path()
					    : rd_test_path(r->dir,
							   "redress.db")) ||
	    !(r->blobs = rd_test_path(r->dir, "blobs")) ||
	    !(r->git = rd_test_path(r->dir, "evidence.git"))) {
		rd_test_fail(__FILE__, __LINE__, "record: out of memory");
		return -1;
	}
	if (rd_store_open(&r->store, r->db, &err) < 0 ||
	    record_repo_open(r, &err) < 0)
		goto fail;
	return 0;
fail:
	rd_test_fail(__FILE__, __LINE__, "record: %s", err.message);
	return -1;
}

void rd_test_record_close(rd_test_record *r)
{
	rd_mirror_close(r->mirror);
	rd_evidence_repo_close(r->repo);
	rd_store_close(r->store);
	free(r->git);
	free(r->blobs);
	free(r->db);
	free(r->dir);
	memset(r, 0, sizeof(*r));
}

int rd_test_record_commit(rd_test_record *r, const rd_commit_request *req,
			  char out[RD_OID_BUFSZ], rd_error *err)
{
	char made[RD_OID_BUFSZ];
	int rc;

	if ((rc = rd_store_begin(r->store, err)) < 0)
		return rc;
	if ((rc = rd_evidence_commit(r->repo, req, made, err)) < 0 ||
	    (rc = rd_store_ref_move(r->store, req->dispute_id, req->parent,
				    made, req->when, err)) < 0 ||
	    (rc = rd_store_commit(r->store, err)) < 0) {
		rd_store_rollback(r->store);
		return rc;
	}
	memcpy(out, made, RD_OID_BUFSZ);
	return RD_OK;
}

int rd_test_record_head(rd_test_record *r, const char *dispute_id,
			char out[RD_OID_BUFSZ], int *found, rd_error *err)
{
	out[0] = '\0';
	return rd_store_ref_get(r->store, dispute_id, out, found, err);
}

typedef struct object_ids {
	unsigned char *ids;
	size_t count;
	struct object_ids *files;   /* evidence files go here */
} object_ids;

static int add_object(void *ctx, const unsigned char id[RD_OID_RAWSZ],
		      int type, int64_t size, int in_file)
{
	object_ids *o = in_file ? ((object_ids *)ctx)->files : ctx;
	unsigned char *more = realloc(o->ids, (o->count + 1) * RD_OID_RAWSZ);

	(void)type;
	(void)size;
	if (!more)
		return 1;   /* stops the walk: out of memory */
	o->ids = more;
	memcpy(o->ids + o->count++ * RD_OID_RAWSZ, id, RD_OID_RAWSZ);
	return 0;
}

/* As the service does (src/service/mirror.c): files in a kept pack. */
int rd_test_record_mirror(rd_test_record *r, rd_error *err)
{
	object_ids files = { NULL, 0, NULL };
	object_ids objects = { NULL, 0, &files };
	rd_change_row *changes = NULL;
	char pack[RD_OID_BUFSZ];
	size_t count = 0;
	int64_t last = 0;
	int rc;

	if (!r->mirror &&
	    (rc = rd_mirror_open(&r->mirror, r->git, 1, err)) < 0)
		return rc;
	if ((rc = rd_store_changes_last(r->store, &last, err)) < 0)
		return rc;
	if (last <= r->mirrored)
		return RD_OK;
	rc = rd_store_objects_of_changes(r->store, r->mirrored, last,
					 add_object, &objects, err);
	if (rc > 0)
		rc = rd_error_set(err, rc, "out of memory");
	if (rc == RD_OK)
		rc = rd_mirror_write_files_pack(r->mirror, r->repo, files.ids,
						files.count, pack, err);
	if (rc == RD_OK && pack[0])
		rc = rd_mirror_keep_pack(r->mirror, pack, err);
	if (rc == RD_OK)
		rc = rd_mirror_write_pack(r->mirror, r->repo, objects.ids,
					  objects.count, 0, pack, err);
	if (rc == RD_OK)
		rc = rd_store_changes_after(r->store, r->mirrored,
					    (size_t)(last - r->mirrored),
					    &changes, &count, err);
	/* in commit order: each dispute's ref ends at its newest head */
	for (size_t i = 0; rc == RD_OK && i < count; i++)
		rc = rd_mirror_set_ref(r->mirror, changes[i].dispute_id,
				       changes[i].head, err);
	if (rc == RD_OK && (rc = rd_mirror_sync(r->mirror, err)) == RD_OK)
		r->mirrored = last;
	free(changes);
	free(objects.ids);
	free(files.ids);
	return rc;
}

int rd_test_sh(char **out, const char *fmt, ...)
{
	char cmd[4096];
	char *buf = NULL;
	size_t len = 0, cap = 0;
	va_list ap;
	FILE *p;
	int status;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	for (;;) {
		size_t got;

		if (len + 4096 + 1 > cap) {
			char *grown;

			cap = cap ? 2 * cap : 8192;
			grown = realloc(buf, cap);
			if (!grown) {
				free(buf);
				pclose(p);
				return -1;
			}
			buf = grown;
		}
		got = fread(buf + len, 1, 4096, p);
		if (got == 0)
			break;
		len += got;
	}
	buf[len] = '\0';
	status = pclose(p);
	if (out)
		*out = buf;
	else
		free(buf);
	return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* --- the HTTP server ------------------------------------------------------ */

void rd_test_http_options(rd_http_options *opts, const char *data,
			  const char *listen)
{
	memset(opts, 0, sizeof(*opts));
	opts->listen = listen;
	opts->service = rd_test_service_options(data, NULL);
	opts->service.create = 0;
}

char *rd_test_data_with_key(rd_role role, char key[RD_KEY_BUFSZ])
{
	char *dir = rd_test_tmpdir();
	char *data = dir ? rd_test_path(dir, "data") : NULL;
	rd_service *svc = data ? rd_test_service_open(data, NULL) : NULL;
	rd_error err;

	if (svc && rd_service_key_create(svc, role, NULL, "tester",
					 INT64_C(1772442000), key, NULL,
					 &err) < 0)
		rd_test_fail(__FILE__, __LINE__, "%s", err.message);
	rd_service_close(svc);
	free(dir);
	return data;
}

int rd_test_holder_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *entry;
	int count = 0;

	while (d && (entry = readdir(d)) != NULL)
		count += strncmp(entry->d_name, "holder-", 7) == 0;
	if (d)
		closedir(d);
	return count;
}

rd_store *rd_test_store_open(const char *path)
{
	rd_store *st = NULL;
	rd_error err;

	rd_error_clear(&err);
	if (rd_store_open(&st, path, &err) < 0) {
		fprintf(stderr, "cannot open %s: %s\n", path, err.message);
		exit(1);
	}
	return st;
}

void rd_test_stmt_plan(rd_store *st, int stmt, char *plan, size_t size)
{
	const char *sql = rd_store__stmt_sql(stmt, NULL);
	char query[8192];
	sqlite3_stmt *q = NULL;
	size_t len = 0;

	if (size)
		plan[0] = '\0';
	if (!sql || !size)
		return;
	snprintf(query, sizeof(query), "EXPLAIN QUERY PLAN %s", sql);
	if (sqlite3_prepare_v2(rd_store_db(st), query, -1, &q, NULL) !=
	    SQLITE_OK) {
		sqlite3_finalize(q);
		return;
	}
	while (len + 1 < size && sqlite3_step(q) == SQLITE_ROW) {
		const char *detail = (const char *)sqlite3_column_text(q, 3);

		snprintf(plan + len, size - len, "%s; ", detail ? detail : "");
		len = strlen(plan);
	}
	sqlite3_finalize(q);
}
