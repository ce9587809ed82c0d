/*
 * The HTTP metrics alone: label values escaped as the exposition format
 * wants (and cut safely in a short buffer), requests counted in the series
 * of their route or, unmatched, of a bounded method, durations in
 * cumulative buckets with an exact sum in seconds, the in-flight gauge,
 * the domain totals with escaped state names, and HELP and TYPE lines for
 * every metric.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/metrics.h"
#include "test.h"

static void escapes_label_values(void)
{
	char out[64];

	CHECK_INT(http_label_escape(out, sizeof(out), "plain"), 5);
	CHECK_STR(out, "plain");
	CHECK_INT(http_label_escape(out, sizeof(out), "a\"b\\c\nd"), 10);
	CHECK_STR(out, "a\\\"b\\\\c\\nd");
	CHECK_INT(http_label_escape(out, sizeof(out), ""), 0);
	CHECK_STR(out, "");
	/* UTF-8 passes as it is */
	CHECK_INT(http_label_escape(out, sizeof(out), "\xc3\xa9t\xc3\xa9"), 5);
	CHECK_STR(out, "\xc3\xa9t\xc3\xa9");
	/* a short buffer: cut, NUL-terminated, the full length returned */
	CHECK_INT(http_label_escape(out, 4, "\"\"\""), 6);
	CHECK_STR(out, "\\\"\\");
	CHECK_INT(http_label_escape(NULL, 0, "a\nb"), 4);
}

/* The value of the sample line that starts with `series` + " ", or -1. */
static long long sample(const char *text, const char *series)
{
	size_t n = strlen(series);
	const char *p = text;

	while ((p = strstr(p, series)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtoll(p + n + 1, NULL, 10);
		p += n;
	}
	return -1;
}

static void counts_and_renders(void)
{
	http_metrics *m = NULL;
	const http_route *routes;
	size_t route_count = 0, len = 0;
	http_match match;
	rd_state_count states[2];
	rd_store_stats stats;
	unsigned dispute, unmatched_get, unmatched_other, again;
	char *text = NULL;
	rd_error err;

	CHECK_OK(http_metrics_new(&m, &err), &err);
	routes = http_routes(&route_count);
	CHECK(route_count > 0);

	CHECK(http_route_find(&match, "GET", "/v1/disputes/01ABC"));
	dispute = http_metrics_series(m, match.route, "GET");
	CHECK_INT(dispute, (unsigned)(match.route - routes));
	unmatched_get = http_metrics_series(m, NULL, "GET");
	unmatched_other = http_metrics_series(m, NULL, "BREW");
	again = http_metrics_series(m, NULL, "TRACE");
	CHECK_INT(again, unmatched_other);
	CHECK(unmatched_get != unmatched_other);
	CHECK(unmatched_get >= route_count);

	/* three answers and durations on one route, at the bucket edges */
	for (int i = 0; i < 3; i++)
		http_metrics_begin(m);
	CHECK_INT(http_metrics_in_flight(m), 3);
	http_metrics_answered(m, dispute, 200);
	http_metrics_answered(m, dispute, 200);
	http_metrics_answered(m, dispute, 404);
	http_metrics_end(m, dispute, 1000000);      /* le 0.001 exactly */
	http_metrics_end(m, dispute, 1000001);      /* just above: 0.0025 */
	http_metrics_end(m, dispute, 20000000000);  /* 20 s: only +Inf */
	/* two unmatched, one the client left before an answer */
	http_metrics_begin(m);
	http_metrics_begin(m);
	http_metrics_answered(m, unmatched_other, 405);
	http_metrics_answered(m, unmatched_get, HTTP_METRICS_NO_STATUS);
	http_metrics_end(m, unmatched_other, 5);
	CHECK_INT(http_metrics_in_flight(m), 1);

	memset(&stats, 0, sizeof(stats));
	memset(states, 0, sizeof(states));
	snprintf(states[0].state, sizeof(states[0].state), "opened");
	states[0].disputes = 7;
	snprintf(states[1].state, sizeof(states[1].state), "we\"ird\\");
	states[1].disputes = 0;
	stats.states = states;
	stats.state_count = 2;
	stats.sla_breaches = 3;
	stats.evidence_bytes = 123456789012;
	CHECK_OK(http_metrics_render(&text, &len, m, &stats, &err), &err);
	CHECK(text != NULL);
	CHECK_INT(strlen(text), len);

	CHECK_INT(sample(text, "redress_http_requests_total{route=\"/v1/disputes/{id}\",method=\"GET\",status=\"200\"}"), 2);
	CHECK_INT(sample(text, "redress_http_requests_total{route=\"/v1/disputes/{id}\",method=\"GET\",status=\"404\"}"), 1);
	CHECK_INT(sample(text, "redress_http_requests_total{route=\"unmatched\",method=\"other\",status=\"405\"}"), 1);
	CHECK_INT(sample(text, "redress_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"none\"}"), 1);
	/* nothing else was answered: no other request series */
	CHECK_INT(sample(text, "redress_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"}"), -1);

	CHECK_INT(sample(text, "redress_http_request_duration_seconds_bucket{route=\"/v1/disputes/{id}\",method=\"GET\",le=\"0.001\"}"), 1);
	CHECK_INT(sample(text, "redress_http_request_duration_seconds_bucket{route=\"/v1/disputes/{id}\",method=\"GET\",le=\"0.0025\"}"), 2);
	CHECK_INT(sample(text, "redress_http_request_duration_seconds_bucket{route=\"/v1/disputes/{id}\",method=\"GET\",le=\"10\"}"), 2);
	CHECK_INT(sample(text, "redress_http_request_duration_seconds_bucket{route=\"/v1/disputes/{id}\",method=\"GET\",le=\"+Inf\"}"), 3);
	CHECK_INT(sample(text, "redress_http_request_duration_seconds_count{route=\"/v1/disputes/{id}\",method=\"GET\"}"), 3);
	CHECK_HAS(text, "\nredress_http_request_duration_seconds_sum{route=\"/v1/disputes/{id}\",method=\"GET\"} 20.002000001\n");
	/* every route has its histogram, even unused; unmatched once seen */
	CHECK_INT(sample(text, "redress_http_request_duration_seconds_count{route=\"/healthz\",method=\"GET\"}"), 0);
	CHECK_INT(sample(text, "redress_http_request_duration_seconds_count{route=\"/metrics\",method=\"GET\"}"), 0);
	CHECK_INT(sample(text, "redress_http_request_duration_seconds_count{route=\"unmatched\",method=\"other\"}"), 1);
	CHECK_HAS(text, "\nredress_http_request_duration_seconds_sum{route=\"unmatched\",method=\"other\"} 0.000000005\n");
	CHECK_INT(sample(text, "redress_http_request_duration_seconds_count{route=\"unmatched\",method=\"GET\"}"), -1);

	CHECK_INT(sample(text, "redress_http_requests_in_flight"), 1);
	CHECK_INT(sample(text, "redress_disputes{state=\"opened\"}"), 7);
	CHECK_INT(sample(text, "redress_disputes{state=\"we\\\"ird\\\\\"}"), 0);
	CHECK_INT(sample(text, "redress_sla_breaches_total"), 3);
	CHECK_INT(sample(text, "redress_evidence_bytes"), 123456789012);
	CHECK_HAS(text, "\nredress_build_info{version=\"");

	CHECK_HAS(text, "# TYPE redress_http_requests_total counter\n");
	CHECK_HAS(text, "# TYPE redress_http_request_duration_seconds histogram\n");
	CHECK_HAS(text, "# TYPE redress_http_requests_in_flight gauge\n");
	CHECK_HAS(text, "# TYPE redress_disputes gauge\n");
	CHECK_HAS(text, "# TYPE redress_sla_breaches_total counter\n");
	CHECK_HAS(text, "# TYPE redress_evidence_bytes gauge\n");
	CHECK_HAS(text, "# TYPE redress_build_info gauge\n");
	CHECK_HAS(text, "# HELP redress_disputes ");
	CHECK_HAS(text, "# TYPE redress_record_changes_total counter\n");
	CHECK_HAS(text, "\nredress_mirror_lag_changes 0\n");
	/* one HELP per TYPE, and the text ends with a line feed */
	{
		size_t helps = 0, types = 0;

		for (const char *p = text; (p = strstr(p, "# HELP ")); p++)
			helps++;
		for (const char *p = text; (p = strstr(p, "# TYPE ")); p++)
			types++;
		CHECK_INT(helps, 9);
		CHECK_INT(types, 9);
	}
	CHECK(len > 0 && text[len - 1] == '\n');
	free(text);
	text = NULL;

	/* without a service: no domain metrics, the rest as before */
	CHECK_OK(http_metrics_render(&text, &len, m, NULL, &err), &err);
	CHECK(strstr(text, "redress_disputes") == NULL);
	CHECK_INT(sample(text, "redress_http_requests_in_flight"), 1);
	free(text);
	http_metrics_free(m);
	http_metrics_free(NULL);
}

int main(void)
{
	RUN(escapes_label_values);
	RUN(counts_and_renders);
	return rd_test_summary();
}
