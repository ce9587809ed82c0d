/*
 * HTTP metrics: what the server counts about its requests, and GET
 * /metrics, which renders those counts and the service's running totals
 * in the Prometheus text exposition format 0.0.4.
 *
 * The counters are plain arrays of atomics, one row per route of the table
 * plus one per method for requests no route takes, allocated once when the
 * server starts. Counting a request is a few relaxed atomic additions: it
 * must never lock, allocate or take a label from the request itself, so
 * that neither the cost per request nor the number of series can be driven
 * up by clients. Rendering reads the counters without stopping writers, so
 * a scrape may see one request in its count and not yet in its duration.
 * Durations are kept in integer nanoseconds and written as decimal
 * seconds: no floating point anywhere.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/metrics.h"

/* Storefronts shown by name in the evidence usage; the rest as one. */
#define HTTP_USAGE_SERIES 100

#ifndef REDRESS_VERSION
#define REDRESS_VERSION "0"
#endif

/* Methods an unmatched request is counted under; the last is the rest. */
static const char *const methods[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other",
};

#define METHOD_COUNT (sizeof(methods) / sizeof(methods[0]))

/* Statuses 100..599 each have a slot; the last slot is "no answer". */
#define STATUS_FIRST 100u
#define STATUS_LAST 599u
#define STATUS_SLOTS (STATUS_LAST - STATUS_FIRST + 2)
#define STATUS_NONE_SLOT (STATUS_SLOTS - 1)

/* Upper bounds of the latency buckets (le), in nanoseconds and as text. */
static const struct {
	uint64_t ns;
	const char *le;
} buckets[] = {
	{ UINT64_C(1000000), "0.001" },
	{ UINT64_C(2500000), "0.0025" },
	{ UINT64_C(5000000), "0.005" },
	{ UINT64_C(10000000), "0.01" },
	{ UINT64_C(25000000), "0.025" },
	{ UINT64_C(50000000), "0.05" },
	{ UINT64_C(100000000), "0.1" },
	{ UINT64_C(250000000), "0.25" },
	{ UINT64_C(500000000), "0.5" },
	{ UINT64_C(1000000000), "1" },
	{ UINT64_C(2500000000), "2.5" },
	{ UINT64_C(5000000000), "5" },
	{ UINT64_C(10000000000), "10" },
};

#define BUCKET_COUNT (sizeof(buckets) / sizeof(buckets[0]))
/* per row: the finite buckets, then +Inf (not cumulative until rendered) */
#define BUCKET_SLOTS (BUCKET_COUNT + 1)

struct http_metrics {
	const http_route *routes;   /* the table; row i is routes[i] */
	size_t route_count;
	size_t rows;                /* route_count + METHOD_COUNT */
	_Atomic uint64_t *answers;  /* rows x STATUS_SLOTS */
	_Atomic uint64_t *latency;  /* rows x BUCKET_SLOTS */
	_Atomic uint64_t *sum_ns;   /* rows */
	_Atomic int64_t in_flight;
};

int http_metrics_new(http_metrics **out, rd_error *err)
{
	http_metrics *m = calloc(1, sizeof(*m));

	*out = NULL;
	if (!m)
		goto nomem;
	m->routes = http_routes(&m->route_count);
	m->rows = m->route_count + METHOD_COUNT;
	/* all-zero bytes are a valid zero for these lock-free atomics */
	m->answers = calloc(m->rows * STATUS_SLOTS, sizeof(*m->answers));
	m->latency = calloc(m->rows * BUCKET_SLOTS, sizeof(*m->latency));
	m->sum_ns = calloc(m->rows, sizeof(*m->sum_ns));
	if (!m->answers || !m->latency || !m->sum_ns)
		goto nomem;
	atomic_init(&m->in_flight, 0);
	*out = m;
	return RD_OK;
nomem:
	http_metrics_free(m);
	return rd_error_set(err, RD_ENOMEM, "out of memory for the metrics");
}

void http_metrics_free(http_metrics *m)
{
	if (!m)
		return;
	free(m->answers);
	free(m->latency);
	free(m->sum_ns);
	free(m);
}

unsigned http_metrics_series(const http_metrics *m, const http_route *route,
			     const char *method)
{
	size_t i;

	if (route && route >= m->routes && route < m->routes + m->route_count)
		return (unsigned)(route - m->routes);
	for (i = 0; i + 1 < METHOD_COUNT; i++)
		if (method && strcmp(method, methods[i]) == 0)
			break;
	return (unsigned)(m->route_count + i);
}

void http_metrics_begin(http_metrics *m)
{
	atomic_fetch_add_explicit(&m->in_flight, 1, memory_order_relaxed);
}

void http_metrics_answered(http_metrics *m, unsigned series, unsigned status)
{
	size_t slot = STATUS_NONE_SLOT;

	if (series >= m->rows)
		return;
	if (status >= STATUS_FIRST && status <= STATUS_LAST)
		slot = status - STATUS_FIRST;
	atomic_fetch_add_explicit(&m->answers[series * STATUS_SLOTS + slot], 1,
				  memory_order_relaxed);
}

void http_metrics_end(http_metrics *m, unsigned series, uint64_t elapsed_ns)
{
	size_t b = 0;

	atomic_fetch_sub_explicit(&m->in_flight, 1, memory_order_relaxed);
	if (series >= m->rows)
		return;
	while (b < BUCKET_COUNT && elapsed_ns > buckets[b].ns)
		b++;
	atomic_fetch_add_explicit(&m->latency[series * BUCKET_SLOTS + b], 1,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&m->sum_ns[series], elapsed_ns,
				  memory_order_relaxed);
}

int64_t http_metrics_in_flight(const http_metrics *m)
{
	return atomic_load_explicit(&((http_metrics *)m)->in_flight,
				    memory_order_relaxed);
}

size_t http_label_escape(char *out, size_t room, const char *value)
{
	size_t need = 0;

	for (const char *p = value; *p; p++) {
		char pair[2] = { *p, 0 };
		size_t n = 1;

		if (*p == '\\' || *p == '"') {
			pair[0] = '\\';
			pair[1] = *p;
			n = 2;
		} else if (*p == '\n') {
			pair[0] = '\\';
			pair[1] = 'n';
			n = 2;
		}
		for (size_t i = 0; i < n; i++, need++)
			if (need + 1 < room)
				out[need] = pair[i];
	}
	if (room > 0)
		out[need < room ? need : room - 1] = '\0';
	return need;
}

/* ---- the exposition ------------------------------------------------------- */

/* A growing text; after a failed allocation every addition is dropped. */
typedef struct text {
	char *buf;
	size_t len;
	size_t cap;
	int failed;
} text;

static int text_reserve(text *t, size_t more)
{
	size_t cap = t->cap ? t->cap : 16384;
	char *grown;

	if (t->failed)
		return -1;
	if (t->len + more + 1 <= t->cap)
		return 0;
	while (cap < t->len + more + 1)
		cap *= 2;
	if (!(grown = realloc(t->buf, cap))) {
		t->failed = 1;
		return -1;
	}
	t->buf = grown;
	t->cap = cap;
	return 0;
}

static void text_add(text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void text_add(text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		t->failed = 1;
		return;
	}
	if (text_reserve(t, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

/* A label value, escaped, without its quotes. */
static void text_label(text *t, const char *value)
{
	size_t n = http_label_escape(NULL, 0, value);

	if (text_reserve(t, n) < 0)
		return;
	http_label_escape(t->buf + t->len, t->cap - t->len, value);
	t->len += n;
}

static void text_help(text *t, const char *name, const char *type,
		      const char *help)
{
	text_add(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* {route="...",method="..." of row r, without the closing brace. */
static void text_series(text *t, const http_metrics *m, size_t r)
{
	const char *route = "unmatched";
	const char *method;

	if (r < m->route_count) {
		route = m->routes[r].pattern;
		method = m->routes[r].method;
	} else {
		method = methods[r - m->route_count];
	}
	text_add(t, "{route=\"");
	text_label(t, route);
	text_add(t, "\",method=\"");
	text_label(t, method);
	text_add(t, "\"");
}

static uint64_t load(_Atomic uint64_t *counter)
{
	return atomic_load_explicit(counter, memory_order_relaxed);
}

static void render_requests(text *t, const http_metrics *m)
{
	text_help(t, "redress_http_requests_total", "counter",
		  "HTTP requests answered, by route pattern, method and "
		  "status (\"none\": the client went away before an answer).");
	for (size_t r = 0; r < m->rows; r++) {
		for (size_t s = 0; s < STATUS_SLOTS; s++) {
			uint64_t n = load(&m->answers[r * STATUS_SLOTS + s]);

			if (n == 0)
				continue;
			text_add(t, "redress_http_requests_total");
			text_series(t, m, r);
			if (s == STATUS_NONE_SLOT)
				text_add(t, ",status=\"none\"} %" PRIu64 "\n",
					 n);
			else
				text_add(t, ",status=\"%u\"} %" PRIu64 "\n",
					 (unsigned)(s + STATUS_FIRST), n);
		}
	}
}

static void render_durations(text *t, const http_metrics *m)
{
	text_help(t, "redress_http_request_duration_seconds", "histogram",
		  "Time from a request's headers to its completion, by route "
		  "pattern and method.");
	for (size_t r = 0; r < m->rows; r++) {
		uint64_t seen[BUCKET_SLOTS];
		uint64_t total = 0, sum;

		for (size_t b = 0; b < BUCKET_SLOTS; b++) {
			seen[b] = load(&m->latency[r * BUCKET_SLOTS + b]);
			total += seen[b];
		}
		/* every route is listed; unmatched methods once seen */
		if (r >= m->route_count && total == 0)
			continue;
		sum = load(&m->sum_ns[r]);
		total = 0;
		for (size_t b = 0; b < BUCKET_SLOTS; b++) {
			total += seen[b];
			text_add(t, "redress_http_request_duration_seconds_bucket");
			text_series(t, m, r);
			text_add(t, ",le=\"%s\"} %" PRIu64 "\n",
				 b < BUCKET_COUNT ? buckets[b].le : "+Inf",
				 total);
		}
		text_add(t, "redress_http_request_duration_seconds_sum");
		text_series(t, m, r);
		text_add(t, "} %" PRIu64 ".%09" PRIu64 "\n",
			 sum / UINT64_C(1000000000),
			 sum % UINT64_C(1000000000));
		text_add(t, "redress_http_request_duration_seconds_count");
		text_series(t, m, r);
		text_add(t, "} %" PRIu64 "\n", total);
	}
}

static void render_domain(text *t, const rd_store_stats *stats)
{
	text_help(t, "redress_disputes", "gauge",
		  "Disputes in each workflow state.");
	for (size_t i = 0; i < stats->state_count; i++) {
		text_add(t, "redress_disputes{state=\"");
		text_label(t, stats->states[i].state);
		text_add(t, "\"} %" PRId64 "\n", stats->states[i].disputes);
	}
	text_help(t, "redress_sla_breaches_total", "counter",
		  "SLA deadlines fired: the escalations and expiries the "
		  "sweeper recorded.");
	text_add(t, "redress_sla_breaches_total %" PRId64 "\n",
		 stats->sla_breaches);
	text_help(t, "redress_evidence_bytes", "gauge",
		  "Bytes of evidence stored, withdrawn evidence included.");
	text_add(t, "redress_evidence_bytes %" PRId64 "\n",
		 stats->evidence_bytes);
	text_help(t, "redress_record_changes_total", "counter",
		  "Changes committed to the record (the number of the last).");
	text_add(t, "redress_record_changes_total %" PRId64 "\n",
		 stats->changes);
	text_help(t, "redress_mirror_lag_changes", "gauge",
		  "Changes of the record that evidence.git, its mirror, does "
		  "not hold yet.");
	text_add(t, "redress_mirror_lag_changes %" PRId64 "\n",
		 stats->changes > stats->mirror_position
			 ? stats->changes - stats->mirror_position : 0);
}

int http_metrics_render(char **out, size_t *len, const http_metrics *m,
			const rd_store_stats *stats, rd_error *err)
{
	text t = { NULL, 0, 0, 0 };

	*out = NULL;
	*len = 0;
	render_requests(&t, m);
	render_durations(&t, m);
	text_help(&t, "redress_http_requests_in_flight", "gauge",
		  "HTTP requests begun and not yet completed.");
	text_add(&t, "redress_http_requests_in_flight %" PRId64 "\n",
		 http_metrics_in_flight(m));
	if (stats)
		render_domain(&t, stats);
	text_help(&t, "redress_build_info", "gauge",
		  "The running build of redress (always 1).");
	text_add(&t, "redress_build_info{version=\"");
	text_label(&t, REDRESS_VERSION);
	text_add(&t, "\"} 1\n");
	if (t.failed) {
		free(t.buf);
		return rd_error_set(err, RD_ENOMEM,
				    "out of memory writing the metrics");
	}
	*out = t.buf;
	*len = t.len;
	return RD_OK;
}

/* One storefront's series of the evidence usage. */
static void usage_series(text *t, const char *name, const char *storefront,
			 int64_t bytes)
{
	text_add(t, "%s{storefront=\"", name);
	text_label(t, storefront);
	text_add(t, "\"} %" PRId64 "\n", bytes);
}

/*
 * The evidence bytes of each storefront, in all and today (UTC), after
 * the rest of the exposition in `t`: the HTTP_USAGE_SERIES largest, by
 * name, and the rest summed as storefront="_other" (no storefront's name
 * starts with '_'), so that the series stay bounded however many
 * storefronts there are, and every byte is counted somewhere.
 */
static int render_usage(text *t, rd_service *svc, int64_t now,
			rd_error *err)
{
	rd_evidence_usage *usage = NULL, others;
	size_t count = 0;
	int rc;

	if ((rc = rd_service_usage_list(svc, now, HTTP_USAGE_SERIES, &usage,
					&count, &others, err)) < 0)
		return rc;
	text_help(t, "redress_storefront_evidence_bytes", "gauge",
		  "Bytes of evidence stored for each storefront's disputes, "
		  "withdrawn evidence included (what its total quota counts).");
	for (size_t i = 0; i < count; i++)
		usage_series(t, "redress_storefront_evidence_bytes",
			     usage[i].storefront, usage[i].total);
	if (count == HTTP_USAGE_SERIES)
		usage_series(t, "redress_storefront_evidence_bytes", "_other",
			     others.total);
	text_help(t, "redress_storefront_evidence_bytes_today", "gauge",
		  "Bytes of evidence stored for each storefront's disputes "
		  "on the current UTC day (what its daily quota counts).");
	for (size_t i = 0; i < count; i++)
		usage_series(t, "redress_storefront_evidence_bytes_today",
			     usage[i].storefront, usage[i].today);
	if (count == HTTP_USAGE_SERIES)
		usage_series(t, "redress_storefront_evidence_bytes_today",
			     "_other", others.today);
	free(usage);
	return RD_OK;
}

/* Webhook deliveries: attempts by outcome (this process), the backlog. */
static int render_webhooks(text *t, rd_service *svc, int64_t now,
			   rd_error *err)
{
	uint64_t counts[RD_DELIVERY_OUTCOMES];
	int64_t pending = 0, oldest = 0;
	int rc;

	if ((rc = rd_service_webhook_backlog(svc, &pending, &oldest,
					     err)) < 0)
		return rc;
	rd_webhook_counts_get(counts);
	text_help(t, "redress_webhook_deliveries_total", "counter",
		  "Webhook delivery attempts this process made, by outcome: "
		  "delivered, retry (failed, to be tried again), failed (for "
		  "good).");
	for (int i = 0; i < RD_DELIVERY_OUTCOMES; i++)
		text_add(t, "redress_webhook_deliveries_total{outcome=\"%s\"}"
			 " %" PRIu64 "\n",
			 rd_delivery_outcome_name((rd_delivery_outcome)i),
			 counts[i]);
	text_help(t, "redress_webhook_pending", "gauge",
		  "Webhook deliveries not yet made.");
	text_add(t, "redress_webhook_pending %" PRId64 "\n", pending);
	text_help(t, "redress_webhook_oldest_pending_age_seconds", "gauge",
		  "Age of the oldest event a webhook delivery still waits to "
		  "deliver (0: none waits).");
	text_add(t, "redress_webhook_oldest_pending_age_seconds %" PRId64
		 "\n", oldest && now > oldest ? now - oldest : 0);
	return RD_OK;
}

int http_get_metrics(http_call *call, rd_error *err)
{
	rd_store_stats stats;
	char *body = NULL;
	size_t len = 0;
	text t = { NULL, 0, 0, 0 };
	int rc;

	memset(&stats, 0, sizeof(stats));
	if (!call->metrics)
		return rd_error_set(err, RD_EINTERNAL,
				    "this server keeps no metrics");
	if ((rc = rd_service_stats(call->svc, &stats, err)) < 0)
		goto done;
	if ((rc = http_metrics_render(&body, &len, call->metrics, &stats,
				      err)) < 0)
		goto done;
	t.buf = body;
	t.len = len;
	t.cap = len + 1;
	body = NULL;
	if ((rc = render_usage(&t, call->svc, call->now, err)) < 0 ||
	    (rc = render_webhooks(&t, call->svc, call->now, err)) < 0)
		goto done;
	if (t.failed) {
		rc = rd_error_set(err, RD_ENOMEM,
				  "out of memory writing the metrics");
		goto done;
	}
	call->text = t.buf;
	call->text_len = t.len;
	t.buf = NULL;
	snprintf(call->content_type, sizeof(call->content_type), "%s",
		 HTTP_METRICS_CONTENT_TYPE);
done:
	free(t.buf);
	rd_store_stats_clear(&stats);
	return rc;
}
