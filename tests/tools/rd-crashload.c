/*
 * rd-crashload: the write load and the checks of `make crashtest`
 * (tests/crash/crashtest.sh), against a running `redress serve` on
 * 127.0.0.1:PORT.
 *
 *   rd-crashload load PORT KEY LOGDIR CYCLE CLIENTS SECONDS
 *
 * CLIENTS threads, each on a keep-alive connection of its own, open
 * disputes and write to them, one request at a time: open, investigate,
 * two evidence uploads, escalate, then the next dispute. Every POST carries
 * an Idempotency-Key of its own and a tag (in its order_ref or its note)
 * that shows where its effect landed. Before a request is sent its client
 * logs it ("S op tag dispute"); once its 2xx answer has been read whole it
 * logs the acknowledgement ("A tag status id"). A client stops at its
 * first request without a whole answer (the server was killed) or after
 * SECONDS.
 *
 *   rd-crashload check PORT KEY LOGDIR
 *
 * Retries every logged request that was not acknowledged, with its
 * Idempotency-Key and the same body (logging the answer in retry.log, so
 * that it counts as acknowledged from then on), then checks that every
 * logged request has had exactly one effect: one dispute per order_ref,
 * each event and each piece of evidence once in its dispute, and nothing
 * else there. Prints one line of totals; exits 1 naming every mismatch.
 *
 *   rd-crashload mirror PORT KEY GITDIR SECONDS
 *
 * Waits until the mirror GITDIR (the data directory's evidence.git) has
 * caught up with what the API reports, for every dispute of the load:
 * its ref refs/disputes/<id> in GITDIR is the last commit of
 * GET /v1/disputes/{id}/history, and that history holds as many commits as
 * the dispute's version (GET /v1/disputes lists it; each change is one
 * commit and one version). Polls every 10 ms, reading every ref at once
 * with git for-each-ref; prints how long it waited; exits 1 naming the
 * disputes still behind after SECONDS.
 *
 * It must never send a request it has not logged first, nor count a
 * request acknowledged before its whole answer was read.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "net.h"

#define TAG_MAX 64
#define ID_MAX 32
#define STOREFRONT "crash-shop"

/* ---- HTTP/1.1 over one keep-alive connection ----------------------------- */

typedef struct http_conn {
	int fd;
	unsigned port;
} http_conn;

typedef struct http_answer {
	int status;
	int replayed;          /* Idempotent-Replayed: true */
	char *body;            /* NUL-terminated (free()) */
	size_t len;
} http_answer;

static void conn_close(http_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/*
 * The value of header `name` in the header block (the status line and the
 * header lines, each ending with CRLF), into out; 0 if absent.
 */
static int header(const char *head, const char *name, char *out, size_t size)
{
	size_t nlen = strlen(name);
	const char *line = strstr(head, "\r\n");

	while (line && line[2] != '\0') {
		const char *p = line + 2, *end = strstr(p, "\r\n");

		if (!end)
			break;
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			size_t len;

			p += nlen + 1;
			while (*p == ' ')
				p++;
			len = (size_t)(end - p);
			if (len >= size)
				len = size - 1;
			memcpy(out, p, len);
			out[len] = '\0';
			return 1;
		}
		line = end;
	}
	return 0;
}

/*
 * Send one request and read its whole answer. 0 with *out filled when the
 * answer arrived whole; -1 when the connection failed at any point (the
 * request may or may not have been done).
 */
static int http_call(http_conn *c, const char *method, const char *target,
		     const char *api_key, const char *idem_key,
		     const char *content_type, const char *body,
		     size_t body_len, http_answer *out)
{
	char head[1024], value[64];
	char *buf = NULL, *end;
	size_t len = 0, room = 0, head_len, want;
	int n, closes, rc = -1;

	memset(out, 0, sizeof(*out));
	if (c->fd < 0 && (c->fd = rd_test_connect_within((uint16_t)c->port,
						   20)) < 0)
		return -1;
	n = snprintf(head, sizeof(head),
		     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		     "Authorization: Bearer %s\r\n%s%s%s"
		     "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n",
		     method, target, api_key, idem_key ? "Idempotency-Key: " : "",
		     idem_key ? idem_key : "", idem_key ? "\r\n" : "",
		     content_type ? content_type : "application/json", body_len);
	if (n < 0 || (size_t)n >= sizeof(head) ||
	    rd_test_send_all(c->fd, head, (size_t)n) < 0 ||
	    (body_len && rd_test_send_all(c->fd, body, body_len) < 0))
		goto done;
	/* the header block, then exactly Content-Length bytes */
	for (;;) {
		ssize_t got;

		if (len + 4096 + 1 > room) {
			char *more = realloc(buf, room = len + 65536);

			if (!more)
				goto done;
			buf = more;
		}
		got = recv(c->fd, buf + len, room - len - 1, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			goto done;
		len += (size_t)got;
		buf[len] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL)
			break;
	}
	head_len = (size_t)(end - buf) + 4;
	end[2] = '\0';  /* every header line keeps its CRLF */
	if (sscanf(buf, "HTTP/1.%*d %d", &out->status) != 1)
		goto done;
	want = header(buf, "Content-Length", value, sizeof(value))
		       ? (size_t)strtoull(value, NULL, 10) : 0;
	out->replayed = header(buf, "Idempotent-Replayed", value,
			       sizeof(value)) && strcmp(value, "true") == 0;
	closes = header(buf, "Connection", value, sizeof(value)) &&
		 strcasecmp(value, "close") == 0;
	len -= head_len;
	memmove(buf, buf + head_len, len);
	if (want + 1 > room) {
		char *more = realloc(buf, want + 1);

		if (!more)
			goto done;
		buf = more;
	}
	while (len < want) {
		ssize_t got = recv(c->fd, buf + len, want - len, 0);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			goto done;
		len += (size_t)got;
	}
	buf[want] = '\0';
	out->body = buf;
	out->len = want;
	buf = NULL;
	if (closes)
		conn_close(c);  /* the next request reconnects */
	rc = 0;
done:
	free(buf);
	if (rc < 0)
		conn_close(c);
	return rc;
}

/* ---- the requests: each a function of its op and tag --------------------- */

typedef enum op { OP_OPEN, OP_EVENT, OP_EVIDENCE } op;

static const char *const op_names[] = { "open", "event", "evidence" };

static const char evidence_text[] =
	"buyer: the desk lamp arrived with a cracked base\n"
	"agent: sorry to hear it; could you send a photo of the box?\n";

/* The event a tag names: its last part, "inv" or "esc". */
static const char *event_of(const char *tag)
{
	const char *step = strrchr(tag, '-');

	return step && strcmp(step, "-esc") == 0 ? "escalate" : "investigate";
}

typedef struct request {
	op op;
	char tag[TAG_MAX];
	char dispute[ID_MAX];     /* an event's or evidence's; an open's own */
	int acked;                /* a whole 2xx answer was read */
	int retried;
	int replayed;
} request;

/* Method, target, content type and body of a request, into the buffers. */
static void build(const request *r, char *target, size_t tsize, char *body,
		  size_t bsize, const char **content_type, size_t *body_len)
{
	*content_type = "application/json";
	switch (r->op) {
	case OP_OPEN:
		snprintf(target, tsize, "/v1/disputes");
		snprintf(body, bsize,
			 "{\"order_ref\": \"CR-%s\", \"storefront\": \""
			 STOREFRONT "\", \"buyer_ref\": \"b-%s\", "
			 "\"currency\": \"USD\", \"reason\": \"damaged\", "
			 "\"channel\": \"chat\", \"items\": [{\"sku\": "
			 "\"LAMP-1\", \"title\": \"Desk lamp\", \"quantity\": 1, "
			 "\"unit_price\": 10000, \"unit_cost\": 4000}], "
			 "\"shipping_paid\": 1500, \"ship_cost\": 3000, "
			 "\"return_cost\": 2500}", r->tag, r->tag);
		break;
	case OP_EVENT:
		snprintf(target, tsize, "/v1/disputes/%s/events", r->dispute);
		snprintf(body, bsize, "{\"event\": \"%s\", \"note\": \"%s\"}",
			 event_of(r->tag), r->tag);
		break;
	case OP_EVIDENCE:
		snprintf(target, tsize, "/v1/disputes/%s/evidence?kind="
			 "chat_transcript&channel=chat&note=%s&name=chat.txt",
			 r->dispute, r->tag);
		snprintf(body, bsize, "%s%s\n", evidence_text, r->tag);
		*content_type = "application/octet-stream";
		break;
	}
	*body_len = strlen(body);
}

/* Send r with its Idempotency-Key; 0 and *out when answered whole. */
static int send_request(http_conn *c, const char *api_key, const request *r,
			http_answer *out)
{
	char target[256], body[1024], key[TAG_MAX + 8];
	const char *content_type;
	size_t body_len;

	build(r, target, sizeof(target), body, sizeof(body), &content_type,
	      &body_len);
	snprintf(key, sizeof(key), "crash-%s", r->tag);
	return http_call(c, "POST", target, api_key, key, content_type, body,
			 body_len, out);
}

/* The "id" member of a JSON answer, into out; 0 when there is none. */
static int answer_id(const http_answer *a, char out[ID_MAX])
{
	json_t *doc = json_loadb(a->body ? a->body : "", a->len, 0, NULL);
	const char *id = json_string_value(json_object_get(doc, "id"));
	int found = id && strlen(id) < ID_MAX;

	if (found)
		snprintf(out, ID_MAX, "%s", id);
	json_decref(doc);
	return found;
}

/* ---- load ------------------------------------------------------------------ */

typedef struct client {
	pthread_t thread;
	unsigned port;
	const char *api_key;
	const char *logdir;
	long cycle;
	int index;
	double seconds;
	long sent;
	long acked;
	int failed;           /* its log could not be written */
} client;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * One line of a log, on disk before anything else happens: the logs are
 * what the check believes. -1 when it cannot be written.
 */
__attribute__((format(printf, 2, 3)))
static int log_line(FILE *log, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vfprintf(log, fmt, ap);
	va_end(ap);
	if (n < 0 || fflush(log) != 0) {
		fprintf(stderr, "rd-crashload: cannot write a log: %s\n",
			strerror(errno));
		return -1;
	}
	return 0;
}

/* Send one request, logged before and after; 1 when acknowledged. */
static int load_one(client *cl, http_conn *conn, FILE *log, request *r)
{
	http_answer a;
	int whole;

	if (log_line(log, "S %s %s %s\n", op_names[r->op], r->tag,
		     r->op == OP_OPEN ? "-" : r->dispute) < 0) {
		cl->failed = 1;
		return 0;
	}
	cl->sent++;
	whole = send_request(conn, cl->api_key, r, &a) == 0;
	if (whole && a.status / 100 == 2 &&
	    (r->op != OP_OPEN || answer_id(&a, r->dispute))) {
		free(a.body);
		if (log_line(log, "A %s %d %s\n", r->tag, a.status,
			     r->op == OP_OPEN ? r->dispute : "-") < 0) {
			cl->failed = 1;
			return 0;
		}
		cl->acked++;
		return 1;
	}
	if (whole)
		fprintf(stderr, "rd-crashload: %s %s answered %d: %.300s\n",
			op_names[r->op], r->tag, a.status,
			a.body ? a.body : "");
	free(a.body);
	return 0;
}

static void *load_client(void *arg)
{
	static const struct {
		op op;
		const char *step;
	} plan[] = {
		{ OP_OPEN, "open" }, { OP_EVENT, "inv" },
		{ OP_EVIDENCE, "ev1" }, { OP_EVIDENCE, "ev2" },
		{ OP_EVENT, "esc" },
	};
	client *cl = arg;
	http_conn conn = { -1, cl->port };
	char path[4096];
	double stop = now_s() + cl->seconds;
	FILE *log;

	snprintf(path, sizeof(path), "%s/load-%ld-%d.log", cl->logdir,
		 cl->cycle, cl->index);
	if (!(log = fopen(path, "a"))) {
		fprintf(stderr, "rd-crashload: %s: %s\n", path,
			strerror(errno));
		cl->failed = 1;
		return NULL;
	}
	for (long k = 0; now_s() < stop; k++) {
		request r;
		int ok = 1;

		memset(&r, 0, sizeof(r));
		for (size_t i = 0; ok && i < sizeof(plan) / sizeof(plan[0]);
		     i++) {
			r.op = plan[i].op;
			snprintf(r.tag, sizeof(r.tag), "c%ld-%d-%ld-%s",
				 cl->cycle, cl->index, k, plan[i].step);
			ok = load_one(cl, &conn, log, &r);
		}
		if (!ok)
			break;
	}
	conn_close(&conn);
	if (fclose(log) != 0)
		cl->failed = 1;
	return NULL;
}

static int load(unsigned port, const char *api_key, const char *logdir,
		long cycle, int clients, double seconds)
{
	client *cls = calloc((size_t)clients, sizeof(*cls));
	long sent = 0, acked = 0;
	int failed = 0;

	if (!cls)
		return 1;
	for (int i = 0; i < clients; i++) {
		cls[i] = (client){ .port = port, .api_key = api_key,
				   .logdir = logdir, .cycle = cycle,
				   .index = i, .seconds = seconds };
		if (pthread_create(&cls[i].thread, NULL, load_client,
				   &cls[i]) != 0) {
			fprintf(stderr, "rd-crashload: cannot start a client\n");
			return 1;
		}
	}
	for (int i = 0; i < clients; i++) {
		pthread_join(cls[i].thread, NULL);
		sent += cls[i].sent;
		acked += cls[i].acked;
		failed |= cls[i].failed;
	}
	printf("sent=%ld acknowledged=%ld\n", sent, acked);
	free(cls);
	return failed;
}

/* ---- check ------------------------------------------------------------------ */

typedef struct request_log {
	request *items;
	size_t count;
	size_t room;
} request_log;

static request *find_tag(request_log *rl, const char *tag)
{
	/* logs are read once per check: a linear search from the end is
	 * enough, acknowledgements follow their request closely */
	for (size_t i = rl->count; i-- > 0;)
		if (strcmp(rl->items[i].tag, tag) == 0)
			return &rl->items[i];
	return NULL;
}

static int read_log(request_log *rl, const char *path, int retries)
{
	char line[256], kind, opname[16], tag[TAG_MAX], third[ID_MAX];
	char fourth[16];
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "rd-crashload: %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		request *r;

		if (line[0] == 'S' &&
		    sscanf(line, "%c %15s %63s %31s", &kind, opname, tag,
			   third) == 4) {
			if (rl->count == rl->room) {
				size_t room = rl->room ? rl->room * 2 : 1024;
				request *more = realloc(rl->items,
							room * sizeof(*more));

				if (!more) {
					(void)fclose(f);  /* read only */
					return -1;
				}
				rl->items = more;
				rl->room = room;
			}
			r = &rl->items[rl->count++];
			memset(r, 0, sizeof(*r));
			r->op = strcmp(opname, "open") == 0 ? OP_OPEN
				: strcmp(opname, "event") == 0 ? OP_EVENT
							       : OP_EVIDENCE;
			snprintf(r->tag, sizeof(r->tag), "%s", tag);
			if (strcmp(third, "-") != 0)
				snprintf(r->dispute, sizeof(r->dispute), "%s",
					 third);
		} else if (line[0] == 'A') {
			int status = 0, fields;

			fourth[0] = '\0';
			fields = sscanf(line, "%c %63s %d %31s %15s", &kind,
					tag, &status, third, fourth);
			if (fields < 4 || !(r = find_tag(rl, tag)))
				continue;
			r->acked = status / 100 == 2;
			if (r->op == OP_OPEN && strcmp(third, "-") != 0)
				snprintf(r->dispute, sizeof(r->dispute), "%s",
					 third);
			if (retries) {
				r->retried = 1;
				r->replayed = strcmp(fourth, "replayed") == 0;
			}
		}
	}
	(void)fclose(f);  /* read only */
	return 0;
}

static int read_logs(request_log *rl, const char *logdir)
{
	struct dirent **names = NULL;
	char path[4096];
	int n, rc = 0;

	/* load logs in name order, the retries last */
	n = scandir(logdir, &names, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "rd-crashload: %s: %s\n", logdir,
			strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (rc == 0 && strncmp(names[i]->d_name, "load-", 5) == 0) {
			snprintf(path, sizeof(path), "%s/%s", logdir,
				 names[i]->d_name);
			rc = read_log(rl, path, 0);
		}
		free(names[i]);
	}
	free(names);
	snprintf(path, sizeof(path), "%s/retry.log", logdir);
	if (rc == 0 && access(path, F_OK) == 0)
		rc = read_log(rl, path, 1);
	return rc;
}

static int mismatches;

__attribute__((format(printf, 1, 2)))
static void mismatch(const char *fmt, ...)
{
	va_list ap;

	fputs("MISMATCH: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	mismatches++;
}

/* Retry every request that was not acknowledged; 0 unless one failed. */
static int retry_unacknowledged(http_conn *conn, const char *api_key,
				request_log *rl, const char *logdir,
				long *retried, long *replayed)
{
	char path[4096];
	FILE *log;

	snprintf(path, sizeof(path), "%s/retry.log", logdir);
	if (!(log = fopen(path, "a")))
		return -1;
	for (size_t i = 0; i < rl->count; i++) {
		request *r = &rl->items[i];
		http_answer a;

		if (r->acked)
			continue;
		if (send_request(conn, api_key, r, &a) < 0) {
			mismatch("the retry of %s %s got no answer",
				 op_names[r->op], r->tag);
			continue;
		}
		if (a.status / 100 != 2 ||
		    (r->op == OP_OPEN && !answer_id(&a, r->dispute))) {
			mismatch("the retry of %s %s answered %d: %.300s",
				 op_names[r->op], r->tag, a.status,
				 a.body ? a.body : "");
			free(a.body);
			continue;
		}
		r->acked = r->retried = 1;
		r->replayed = a.replayed;
		free(a.body);
		if (log_line(log, "A %s %d %s %s\n", r->tag, a.status,
			     r->op == OP_OPEN ? r->dispute : "-",
			     r->replayed ? "replayed" : "executed") < 0) {
			(void)fclose(log);
			return -1;
		}
		(*retried)++;
		*replayed += r->replayed;
	}
	return fclose(log) == 0 ? 0 : -1;
}

/* GET target as JSON (a new reference), or NULL after a mismatch. */
static json_t *get_json(http_conn *conn, const char *api_key,
			const char *target)
{
	http_answer a;
	json_t *doc;

	if (http_call(conn, "GET", target, api_key, NULL, NULL, NULL, 0,
		      &a) < 0) {
		mismatch("GET %s got no answer", target);
		return NULL;
	}
	doc = a.status == 200 ? json_loadb(a.body, a.len, 0, NULL) : NULL;
	if (!doc)
		mismatch("GET %s answered %d: %.300s", target, a.status,
			 a.body ? a.body : "");
	free(a.body);
	return doc;
}

/* How many members of `array` have `member` equal to `value`. */
static size_t count_with(json_t *array, const char *member, const char *value)
{
	size_t i, n = 0;
	json_t *item;

	json_array_foreach(array, i, item) {
		const char *v = json_string_value(json_object_get(item, member));

		if (v && strcmp(v, value) == 0)
			n++;
	}
	return n;
}

static int by_dispute(const void *a, const void *b)
{
	return strcmp(((const request *)a)->dispute,
		      ((const request *)b)->dispute);
}

/* Every logged open: exactly one dispute with its order_ref, its id. */
static void check_opens(http_conn *conn, const char *api_key,
			request_log *rl, size_t *disputes)
{
	json_t *all = json_array();
	char target[512], *cursor = NULL;
	size_t i;
	json_t *item;
	size_t opens = 0, ours = 0;

	for (;;) {
		json_t *page;
		const char *next;

		snprintf(target, sizeof(target), "/v1/disputes?storefront="
			 STOREFRONT "&limit=500%s%s", cursor ? "&cursor=" : "",
			 cursor ? cursor : "");
		if (!(page = get_json(conn, api_key, target)))
			break;
		json_array_extend(all, json_object_get(page, "disputes"));
		next = json_string_value(json_object_get(page,
							 "next_cursor"));
		free(cursor);
		cursor = next ? strdup(next) : NULL;
		json_decref(page);
		if (!cursor)
			break;
	}
	free(cursor);
	json_array_foreach(all, i, item) {
		const char *ref = json_string_value(json_object_get(item,
								    "order_ref"));

		if (ref && strncmp(ref, "CR-", 3) == 0)
			ours++;
	}
	for (i = 0; i < rl->count; i++) {
		const request *r = &rl->items[i];
		char ref[TAG_MAX + 4];
		size_t n;

		if (r->op != OP_OPEN)
			continue;
		opens++;
		snprintf(ref, sizeof(ref), "CR-%s", r->tag);
		if ((n = count_with(all, "order_ref", ref)) != 1)
			mismatch("%zu disputes with order_ref %s, expected 1",
				 n, ref);
		else if (count_with(all, "id", r->dispute) != 1)
			mismatch("order_ref %s is not dispute %s as answered",
				 ref, r->dispute);
	}
	if (ours != opens)
		mismatch("%zu disputes of the load, %zu opens logged", ours,
			 opens);
	*disputes = ours;
	json_decref(all);
}

/* One dispute's events and evidence against its logged requests. */
static void check_dispute(http_conn *conn, const char *api_key,
			  const request *rs, size_t count)
{
	const char *id = rs[0].dispute;
	char target[256];
	json_t *history, *evidence, *events, *rows;
	size_t want_events = 1, want_evidence = 0;

	snprintf(target, sizeof(target), "/v1/disputes/%s/history", id);
	history = get_json(conn, api_key, target);
	snprintf(target, sizeof(target), "/v1/disputes/%s/evidence", id);
	evidence = get_json(conn, api_key, target);
	events = json_object_get(history, "events");
	rows = json_object_get(evidence, "evidence");
	if (!json_is_array(events) || !json_is_array(rows))
		goto done;
	for (size_t i = 0; i < count; i++) {
		const request *r = &rs[i];
		size_t n;

		if (r->op == OP_OPEN)
			continue;
		want_events++;
		if ((n = count_with(events, "note", r->tag)) != 1)
			mismatch("dispute %s holds %zu events of %s %s, "
				 "expected 1", id, n, op_names[r->op], r->tag);
		if (r->op != OP_EVIDENCE)
			continue;
		want_evidence++;
		if ((n = count_with(rows, "note", r->tag)) != 1)
			mismatch("dispute %s holds %zu evidence of %s, "
				 "expected 1", id, n, r->tag);
	}
	if (json_array_size(events) != want_events)
		mismatch("dispute %s holds %zu events, expected %zu", id,
			 json_array_size(events), want_events);
	if (json_array_size(rows) != want_evidence)
		mismatch("dispute %s holds %zu evidence, expected %zu", id,
			 json_array_size(rows), want_evidence);
done:
	json_decref(history);
	json_decref(evidence);
}

static int check(unsigned port, const char *api_key, const char *logdir)
{
	request_log rl = { NULL, 0, 0 };
	http_conn conn = { -1, port };
	long retried = 0, replayed = 0, all_retried = 0, all_replayed = 0;
	size_t acked_under_load = 0, disputes = 0;
	int rc = 1;

	if (read_logs(&rl, logdir) < 0)
		goto done;
	for (size_t i = 0; i < rl.count; i++)
		acked_under_load += rl.items[i].acked && !rl.items[i].retried;
	if (retry_unacknowledged(&conn, api_key, &rl, logdir, &retried,
				 &replayed) < 0)
		goto done;
	check_opens(&conn, api_key, &rl, &disputes);
	qsort(rl.items, rl.count, sizeof(*rl.items), by_dispute);
	for (size_t i = 0, j; i < rl.count; i = j) {
		for (j = i + 1; j < rl.count &&
		     strcmp(rl.items[j].dispute, rl.items[i].dispute) == 0;
		     j++)
			;
		if (rl.items[i].dispute[0])
			check_dispute(&conn, api_key, &rl.items[i], j - i);
	}
	for (size_t i = 0; i < rl.count; i++) {
		all_retried += rl.items[i].retried;
		all_replayed += rl.items[i].replayed;
	}
	printf("requests=%zu acknowledged=%zu retried=%ld replayed=%ld "
	       "disputes=%zu this_retries=%ld this_replays=%ld "
	       "mismatches=%d\n", rl.count, acked_under_load, all_retried,
	       all_replayed, disputes, retried, replayed, mismatches);
	rc = mismatches ? 1 : 0;
done:
	conn_close(&conn);
	free(rl.items);
	return rc;
}

/* ---- mirror ------------------------------------------------------------------ */

typedef struct mirrored {
	char id[ID_MAX];
	long long version;       /* the API's */
	char head[48];           /* the API's last commit, once read */
	long long commits;       /* and how many the history holds */
	int done;
} mirrored;

typedef struct git_ref {
	char id[ID_MAX];
	char oid[48];
} git_ref;

static int by_ref_id(const void *a, const void *b)
{
	return strcmp(((const git_ref *)a)->id, ((const git_ref *)b)->id);
}

/* Every refs/disputes/<id> of gitdir, sorted by id; -1 when git fails. */
static long read_refs(const char *gitdir, git_ref **out)
{
	char cmd[PATH_MAX + 128], line[256];
	git_ref *refs = NULL;
	size_t count = 0, room = 0;
	FILE *p;

	if (strchr(gitdir, '\''))
		return -1;
	snprintf(cmd, sizeof(cmd), "git --git-dir='%s' for-each-ref "
		 "--format='%%(objectname) %%(refname)' refs/disputes/",
		 gitdir);
	if (!(p = popen(cmd, "r")))
		return -1;
	while (fgets(line, sizeof(line), p)) {
		char oid[48], name[128];

		if (sscanf(line, "%47s %127s", oid, name) != 2 ||
		    strncmp(name, "refs/disputes/", 14) != 0 ||
		    strlen(name + 14) >= ID_MAX)
			continue;
		if (count == room) {
			git_ref *more;

			room = room ? room * 2 : 1024;
			if (!(more = realloc(refs, room * sizeof(*more)))) {
				free(refs);
				(void)pclose(p);
				return -1;
			}
			refs = more;
		}
		snprintf(refs[count].id, ID_MAX, "%s", name + 14);
		snprintf(refs[count].oid, sizeof(refs[count].oid), "%s", oid);
		count++;
	}
	if (pclose(p) != 0) {
		free(refs);
		return -1;
	}
	if (count)
		qsort(refs, count, sizeof(*refs), by_ref_id);
	*out = refs;
	return (long)count;
}

/* The load's disputes with their versions, as GET /v1/disputes lists them. */
static long list_disputes(http_conn *conn, const char *api_key,
			  mirrored **out)
{
	char target[512], *cursor = NULL;
	mirrored *all = NULL;
	size_t count = 0, room = 0;

	for (;;) {
		json_t *page, *item;
		const char *next;
		size_t i;

		snprintf(target, sizeof(target), "/v1/disputes?storefront="
			 STOREFRONT "&limit=500%s%s", cursor ? "&cursor=" : "",
			 cursor ? cursor : "");
		if (!(page = get_json(conn, api_key, target))) {
			free(cursor);
			free(all);
			return -1;
		}
		json_array_foreach(json_object_get(page, "disputes"), i, item) {
			const char *id = json_string_value(json_object_get(item,
								     "id"));

			if (!id || strlen(id) >= ID_MAX)
				continue;
			if (count == room) {
				mirrored *more;

				room = room ? room * 2 : 1024;
				if (!(more = realloc(all, room * sizeof(*more)))) {
					json_decref(page);
					free(cursor);
					free(all);
					return -1;
				}
				all = more;
			}
			memset(&all[count], 0, sizeof(all[count]));
			snprintf(all[count].id, ID_MAX, "%s", id);
			all[count].version = json_integer_value(
				json_object_get(item, "version"));
			count++;
		}
		next = json_string_value(json_object_get(page, "next_cursor"));
		free(cursor);
		cursor = next ? strdup(next) : NULL;
		json_decref(page);
		if (!cursor)
			break;
	}
	*out = all;
	return (long)count;
}

/* Read d's history: its last commit and how many it holds. */
static int read_head(http_conn *conn, const char *api_key, mirrored *d)
{
	char target[256];
	json_t *history, *commits;
	size_t n;

	snprintf(target, sizeof(target), "/v1/disputes/%s/history", d->id);
	if (!(history = get_json(conn, api_key, target)))
		return -1;
	commits = json_object_get(history, "commits");
	n = json_array_size(commits);
	d->commits = (long long)n;
	d->head[0] = '\0';
	if (n) {
		const char *oid = json_string_value(json_object_get(
			json_array_get(commits, n - 1), "commit"));

		if (oid)
			snprintf(d->head, sizeof(d->head), "%s", oid);
	}
	json_decref(history);
	return 0;
}

static int mirror(unsigned port, const char *api_key, const char *gitdir,
		  double seconds)
{
	http_conn conn = { -1, port };
	mirrored *all = NULL;
	double began = now_s();
	long count, behind = 0, rounds = 0;
	int rc = 1;

	if ((count = list_disputes(&conn, api_key, &all)) < 0)
		goto done;
	for (;;) {
		git_ref *refs = NULL, key;
		long nrefs = read_refs(gitdir, &refs);

		if (nrefs < 0) {
			mismatch("git for-each-ref in %s failed", gitdir);
			goto done;
		}
		rounds++;
		behind = 0;
		for (long i = 0; i < count; i++) {
			mirrored *d = &all[i];
			const git_ref *ref;

			if (d->done)
				continue;
			snprintf(key.id, sizeof(key.id), "%s", d->id);
			ref = nrefs ? bsearch(&key, refs, (size_t)nrefs,
					      sizeof(*refs), by_ref_id)
				    : NULL;
			/* the history is read again only once the ref moved */
			if (ref && strcmp(ref->oid, d->head) != 0 &&
			    read_head(&conn, api_key, d) < 0) {
				free(refs);
				goto done;
			}
			d->done = ref && strcmp(ref->oid, d->head) == 0 &&
				  d->commits == d->version;
			behind += !d->done;
		}
		if (!behind || now_s() - began > seconds) {
			for (long i = 0, shown = 0; behind && i < count &&
			     shown < 20; i++) {
				const mirrored *d = &all[i];
				const git_ref *ref;

				if (d->done)
					continue;
				snprintf(key.id, sizeof(key.id), "%s", d->id);
				ref = nrefs ? bsearch(&key, refs, (size_t)nrefs,
						      sizeof(*refs), by_ref_id)
					    : NULL;
				mismatch("the mirror's ref of dispute %s is %s "
					 "after %.0f s; the API reports head %s "
					 "of %lld commits, version %lld", d->id,
					 ref ? ref->oid : "missing", seconds,
					 d->head[0] ? d->head : "-", d->commits,
					 d->version);
				shown++;
			}
			free(refs);
			break;
		}
		free(refs);
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
	printf("disputes=%ld behind=%ld waited_ms=%.0f rounds=%ld\n", count,
	       behind, (now_s() - began) * 1000, rounds);
	rc = behind ? 1 : 0;
done:
	conn_close(&conn);
	free(all);
	return rc;
}

/* ---- main -------------------------------------------------------------------- */

static int usage(void)
{
	fputs("usage: rd-crashload load PORT KEY LOGDIR CYCLE CLIENTS SECONDS\n"
	      "       rd-crashload check PORT KEY LOGDIR\n"
	      "       rd-crashload mirror PORT KEY GITDIR SECONDS\n", stderr);
	return 2;
}

int main(int argc, char **argv)
{
	unsigned long port;

	if (argc < 5)
		return usage();
	port = strtoul(argv[2], NULL, 10);
	if (port == 0 || port > 65535)
		return usage();
	if (strcmp(argv[1], "load") == 0 && argc == 8) {
		long cycle = strtol(argv[5], NULL, 10);
		long clients = strtol(argv[6], NULL, 10);
		double seconds = strtod(argv[7], NULL);

		if (clients < 1 || clients > 64 || seconds <= 0)
			return usage();
		return load((unsigned)port, argv[3], argv[4], cycle,
			    (int)clients, seconds);
	}
	if (strcmp(argv[1], "check") == 0 && argc == 5)
		return check((unsigned)port, argv[3], argv[4]);
	if (strcmp(argv[1], "mirror") == 0 && argc == 6) {
		double seconds = strtod(argv[5], NULL);

		if (seconds <= 0)
			return usage();
		return mirror((unsigned)port, argv[3], argv[4], seconds);
	}
	return usage();
}
