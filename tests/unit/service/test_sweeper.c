/*
 * The SLA sweeper thread: it refuses what it cannot run before starting,
 * fires the deadlines due at REDRESS_NOW (and only those) as the system
 * actor, keeps a failed sweep (the database busy) in its status and
 * recovers at the next interval, stops at once while sleeping, and fires
 * every deadline exactly once beside another sweeper and a plain sweep.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "redress/clock.h"
#include "redress/service.h"
#include "fixtures.h"
#include "test.h"

#define T0 INT64_C(1772442000)   /* 2026-03-02T09:00:00Z */
#define DAY INT64_C(86400)

/* An hour: a sweeper that waited for it would never let a test end. */
#define LONG_INTERVAL_MS 3600000u

static int open_disputes(rd_service *svc, int count, int64_t now,
			 char ids[][RD_ID_BUFSZ], rd_error *err)
{
	rd_dispute *input = NULL, *d = NULL;
	rd_actor agent = rd_test_actor(RD_ROLE_AGENT, "alice");
	int rc = RD_OK;

	if ((rc = rd_dispute_parse(&input, rd_test_example,
				   strlen(rd_test_example), err)) < 0)
		return rc;
	for (int i = 0; i < count && rc == RD_OK; i++) {
		rc = rd_service_dispute_open(svc, input, &agent, now, &d, err);
		if (rc == RD_OK && ids)
			snprintf(ids[i], RD_ID_BUFSZ, "%s", d->id);
		rd_dispute_free(d);
		d = NULL;
	}
	rd_dispute_free(input);
	return rc;
}

static void set_now(int64_t epoch)
{
	char text[RD_TIME_BUFSZ];

	rd_time_format(text, epoch);
	setenv("REDRESS_NOW", text, 1);
}

static double monotonic_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A clock the test moves while a sweeper runs. */
static _Atomic int64_t test_now;

static int test_clock(int64_t *out, rd_error *err)
{
	(void)err;
	*out = test_now;
	return RD_OK;
}

static int swept(const rd_sweeper_status *st, uint64_t n)
{
	return st->sweeps >= n;
}

static int failed(const rd_sweeper_status *st, uint64_t n)
{
	return st->failures >= n;
}

static int fired(const rd_sweeper_status *st, uint64_t n)
{
	return st->fired >= n;
}

/* Poll the status until cond(st, n) holds, for at most 30 s; 1 if it did. */
static int wait_for(rd_sweeper *sw, rd_sweeper_status *st,
		    int (*cond)(const rd_sweeper_status *, uint64_t),
		    uint64_t n)
{
	double until = monotonic_s() + 30.0;

	for (;;) {
		rd_sweeper_status_get(sw, st);
		if (cond(st, n))
			return 1;
		if (monotonic_s() > until)
			return 0;
		usleep(20000);
	}
}

static int events_of(rd_service *svc, const char *id, size_t *count,
		     const char **last, int *last_role, rd_error *err)
{
	static char name[64];
	rd_event_record *events = NULL;
	int rc = rd_service_events(svc, id, &events, count, err);

	if (rc == RD_OK && *count > 0) {
		snprintf(name, sizeof(name), "%s", events[*count - 1].event);
		*last = name;
		*last_role = (int)events[*count - 1].actor.role;
	}
	rd_event_records_free(events, *count);
	return rc;
}

static void test_refused_before_start(void)
{
	char *dir = rd_test_tmpdir();
	char *missing = rd_test_path(dir, "missing");
	rd_service_options opts = rd_test_service_options(dir, NULL);
	rd_service *svc = NULL;
	rd_sweeper *sw = NULL;
	rd_error err;

	CHECK_OK(rd_service_open(&svc, &opts, &err), &err);
	rd_service_close(svc);
	opts.create = 0;
	CHECK_FAILS(rd_sweeper_start(&sw, &opts, 0, NULL, &err), RD_EUSAGE);
	CHECK(sw == NULL);
	setenv("REDRESS_NOW", "yesterday", 1);
	CHECK_FAILS(rd_sweeper_start(&sw, &opts, 1000, NULL, &err), RD_EINVALID);
	CHECK(sw == NULL);
	unsetenv("REDRESS_NOW");
	opts.data_dir = missing;
	CHECK_FAILS(rd_sweeper_start(&sw, &opts, 1000, NULL, &err), RD_ENOTFOUND);
	CHECK(sw == NULL);
	rd_sweeper_stop(NULL);
	free(missing);
	free(dir);
}

/*
 * At start the sweeper fires what is due at REDRESS_NOW, not at the
 * system clock (which is past every deadline here), then sleeps an hour;
 * stopping it does not wait for that hour.
 */
static void test_fires_due_at_redress_now(void)
{
	char *dir = rd_test_tmpdir();
	rd_service_options opts = rd_test_service_options(dir, NULL);
	rd_service *svc = NULL;
	rd_sweeper *sw = NULL;
	rd_sweeper_status st;
	char due[3][RD_ID_BUFSZ], later[2][RD_ID_BUFSZ];
	const char *last = NULL;
	int role = -1;
	size_t count = 0;
	double stop_started;
	rd_error err;

	CHECK_OK(rd_service_open(&svc, &opts, &err), &err);
	CHECK_OK(open_disputes(svc, 3, T0, due, &err), &err);
	CHECK_OK(open_disputes(svc, 2, T0 + DAY, later, &err), &err);
	opts.create = 0;
	set_now(T0 + DAY + 3600);  /* the first three are due, not the others */
	CHECK_OK(rd_sweeper_start(&sw, &opts, LONG_INTERVAL_MS, NULL, &err),
		 &err);
	CHECK(wait_for(sw, &st, swept, 1));
	CHECK_INT(st.fired, 3);
	CHECK_INT(st.failures, 0);
	for (int i = 0; i < 3; i++) {
		CHECK_OK(events_of(svc, due[i], &count, &last, &role, &err),
			 &err);
		CHECK_INT(count, 2);
		CHECK_STR(last, "escalate");
		CHECK_INT(role, RD_ROLE_SYSTEM);
	}
	for (int i = 0; i < 2; i++) {
		CHECK_OK(events_of(svc, later[i], &count, &last, &role, &err),
			 &err);
		CHECK_INT(count, 1);
	}
	stop_started = monotonic_s();
	rd_sweeper_stop(sw);
	/* a bound far below the interval, not a performance figure */
	CHECK(monotonic_s() - stop_started < 10.0);
	unsetenv("REDRESS_NOW");
	rd_service_close(svc);
	free(dir);
}

/*
 * A sweep that meets a database held by another writer fails as busy;
 * the status keeps the error and its time, and the next interval fires
 * what was due once the lock is gone.
 */
static void test_busy_is_kept_and_retried(void)
{
	RD_TEST_SQLITE_ONLY("a held write transaction blocks every writer");
	char *dir = rd_test_tmpdir();
	rd_service_options opts = rd_test_service_options(dir, NULL);
	rd_service *svc = NULL;
	rd_sweeper *sw = NULL;
	rd_sweeper_status st;
	rd_error err;

	CHECK_OK(rd_service_open(&svc, &opts, &err), &err);
	CHECK_OK(open_disputes(svc, 2, T0, NULL, &err), &err);
	opts.create = 0;
	test_now = T0 + 3600;      /* nothing is due yet */
	CHECK_OK(rd_sweeper_start(&sw, &opts, 100, test_clock, &err), &err);
	CHECK(wait_for(sw, &st, swept, 1));
	CHECK_INT(st.fired, 0);
	CHECK_OK(rd_store_begin(rd_service_store(svc), &err), &err);
	test_now = T0 + 2 * DAY;   /* both are due, the database is held */
	CHECK(wait_for(sw, &st, failed, 1));
	CHECK_INT(st.last_error.code, RD_EBUSY);
	CHECK_INT(st.last_failure_at, T0 + 2 * DAY);
	CHECK_INT(st.fired, 0);
	rd_store_rollback(rd_service_store(svc));
	CHECK(wait_for(sw, &st, fired, 2));
	CHECK_INT(st.fired, 2);
	CHECK(st.sweeps > st.failures);
	rd_sweeper_stop(sw);
	rd_service_close(svc);
	free(dir);
}

#define RACE_DISPUTES 30

/* Two sweepers and a plain sweep at once: every deadline fires once. */
static void test_exactly_once_beside_others(void)
{
	char *dir = rd_test_tmpdir();
	rd_service_options opts = rd_test_service_options(dir, NULL);
	rd_service *svc = NULL;
	rd_sweeper *a = NULL, *b = NULL;
	rd_sweeper_status sa, sb;
	char ids[RACE_DISPUTES][RD_ID_BUFSZ];
	const char *last = NULL;
	int role = -1;
	size_t count = 0, swept_now = 0, total;
	rd_error err;

	CHECK_OK(rd_service_open(&svc, &opts, &err), &err);
	CHECK_OK(open_disputes(svc, RACE_DISPUTES, T0, ids, &err), &err);
	opts.create = 0;
	test_now = T0 + 2 * DAY;
	CHECK_OK(rd_sweeper_start(&a, &opts, 10, test_clock, &err), &err);
	CHECK_OK(rd_sweeper_start(&b, &opts, 10, test_clock, &err), &err);
	CHECK_OK(rd_service_sweep(svc, T0 + 2 * DAY, &swept_now, &err), &err);
	total = swept_now;
	for (int round = 0; round < 1500; round++) {
		rd_sweeper_status_get(a, &sa);
		rd_sweeper_status_get(b, &sb);
		if (total + sa.fired + sb.fired >= RACE_DISPUTES &&
		    sa.sweeps >= 2 && sb.sweeps >= 2)
			break;
		usleep(20000);
	}
	rd_sweeper_stop(a);
	rd_sweeper_stop(b);
	CHECK_INT(sa.failures + sb.failures, 0);
	CHECK_INT(total + sa.fired + sb.fired, RACE_DISPUTES);
	for (int i = 0; i < RACE_DISPUTES; i++) {
		CHECK_OK(events_of(svc, ids[i], &count, &last, &role, &err),
			 &err);
		CHECK_INT(count, 2);
		CHECK_STR(last, "escalate");
		CHECK_INT(role, RD_ROLE_SYSTEM);
	}
	rd_service_close(svc);
	free(dir);
}

int main(void)
{
	RUN(test_refused_before_start);
	RUN(test_fires_due_at_redress_now);
	RUN(test_busy_is_kept_and_retried);
	RUN(test_exactly_once_beside_others);
	return rd_test_summary();
}
