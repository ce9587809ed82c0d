/*
 * Evidence quotas in the service, against a real data directory: the
 * server's defaults and a storefront's own settings, refusals before a
 * blob is started (RD_EQUOTA with which quota and what is left), two
 * uploads begun while both fit and finished one after the other (the
 * second is refused in its own transaction: the quota is never passed),
 * the day's usage starting again the next UTC day, and the settings and
 * usage after a reindex.
 */
#include <stdlib.h>
#include <string.h>

#include "redress/service.h"
#include "fixtures.h"
#include "test.h"

#define T0 INT64_C(1772442000) /* 2026-03-02T09:00:00Z */
#define DAY INT64_C(86400)

/* Begin an upload of `size` bytes of text to id as agent:alice at now. */
static int begin_upload(rd_service *svc, const char *id, int64_t size,
			int64_t now, rd_evidence_upload **out, rd_error *err)
{
	rd_evidence_submission sub;
	rd_actor agent = rd_test_actor(RD_ROLE_AGENT, "alice");

	memset(&sub, 0, sizeof(sub));
	sub.kind = "tracking_record";
	sub.size = size;
	return rd_service_evidence_upload_new(out, svc, id, &sub, &agent, now,
					      err);
}

/* Write `size` bytes of text into an upload. */
static int fill(rd_evidence_upload *up, int64_t size, rd_error *err)
{
	char *text = malloc((size_t)size);
	int rc;

	if (!text)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	/* plain text: libmagic tells text/plain */
	memset(text, 'x', (size_t)size);
	text[size - 1] = '\n';
	rc = rd_service_evidence_upload_write(up, text, (size_t)size, err);
	free(text);
	return rc;
}

static void defaults_settings_and_races(void)
{
	char *dir = rd_test_tmpdir();
	char *data = rd_test_path(dir, "data");
	rd_service_options opts = rd_test_service_options(data, NULL);
	rd_evidence_upload *first = NULL, *second = NULL;
	rd_quota_status status;
	rd_service *svc = NULL;
	char id[RD_ID_BUFSZ], other[RD_ID_BUFSZ];
	size_t rebuilt = 0;
	int64_t room = 0;
	rd_error err;

	opts.quota_daily = 1000;
	opts.quota_total = 1500;
	CHECK_OK(rd_service_open(&svc, &opts, &err), &err);
	CHECK_OK(rd_test_open_dispute(svc, id, 1, "acme", "damaged", T0, &err),
		 &err);
	CHECK_OK(rd_test_open_dispute(svc, other, 2, "other", "damaged", T0,
				      &err), &err);

	/* two uploads of 600 bytes begin while each fits the day's 1000 */
	CHECK_OK(begin_upload(svc, id, 600, T0 + 10, &first, &err), &err);
	CHECK_OK(begin_upload(svc, id, 600, T0 + 10, &second, &err), &err);
	CHECK_OK(fill(first, 600, &err), &err);
	CHECK_OK(fill(second, 600, &err), &err);
	CHECK_OK(rd_service_evidence_upload_finish(first, NULL, &err), &err);
	/* the second finds the first's bytes in its own transaction */
	CHECK_FAILS(rd_service_evidence_upload_finish(second, NULL, &err),
		    RD_EQUOTA);
	CHECK_STR(err.quota, "daily");
	CHECK_INT(err.quota_limit, 1000);
	CHECK_INT(err.quota_remaining, 400);
	rd_service_evidence_upload_free(first);
	rd_service_evidence_upload_free(second);

	/* refused before a blob is started */
	CHECK_FAILS(begin_upload(svc, id, 401, T0 + 20, &first, &err),
		    RD_EQUOTA);
	CHECK(first == NULL);
	CHECK_OK(rd_service_quota_room(svc, "acme", T0 + 20, &room, &err),
		 &err);
	CHECK_INT(room, 400);
	CHECK_OK(rd_service_quota_status(svc, "acme", T0 + 20, &status, &err),
		 &err);
	CHECK_INT(status.usage.today, 600);
	CHECK_INT(status.usage.total, 600);
	/* another storefront has its own */
	CHECK_OK(rd_service_quota_check(svc, "other", T0, 1000, &err), &err);

	/* a storefront's own setting comes first; 0 is no quota */
	CHECK_OK(rd_service_quota_set(svc, "acme", 0, RD_QUOTA_KEEP, T0, &err),
		 &err);
	CHECK_OK(rd_service_quota_check(svc, "acme", T0 + 30, 900, &err),
		 &err);
	/* the total (1500) then: 600 + 901 does not fit */
	CHECK_FAILS(rd_service_quota_check(svc, "acme", T0 + 30, 901, &err),
		    RD_EQUOTA);
	CHECK_STR(err.quota, "total");
	CHECK_INT(err.quota_remaining, 900);
	CHECK_FAILS(rd_service_quota_set(svc, "Not Valid", 5, 5, T0, &err),
		    RD_EINVALID);
	CHECK_FAILS(rd_service_quota_set(svc, "acme", -7, 5, T0, &err),
		    RD_EINVALID);

	/* the next UTC day: the daily usage starts again, the total not */
	CHECK_OK(rd_service_quota_set(svc, "acme", RD_QUOTA_DEFAULT,
				      RD_QUOTA_KEEP, T0, &err), &err);
	CHECK_OK(rd_service_quota_status(svc, "acme", T0 + DAY, &status,
					 &err), &err);
	CHECK_INT(status.usage.today, 0);
	CHECK_INT(status.usage.total, 600);
	CHECK_INT(status.daily, 1000);
	CHECK_INT(status.own.daily, RD_QUOTA_DEFAULT);
	CHECK_OK(rd_service_quota_set(svc, "acme", 700, RD_QUOTA_KEEP, T0,
				      &err), &err);

	/*
	 * a reindex keeps the settings and counts the usage again (reindex
	 * rebuilds an embedded record's file: PostgreSQL's stays as it is)
	 */
	if (!rd_test_on_postgres()) {
		CHECK_OK(rd_service_reindex(svc, &rebuilt, NULL, NULL, &err),
			 &err);
		CHECK_INT((int64_t)rebuilt, 2);
	}
	CHECK_OK(rd_service_quota_status(svc, "acme", T0 + 20, &status, &err),
		 &err);
	CHECK_INT(status.own.daily, 700);
	CHECK_INT(status.own.total, RD_QUOTA_DEFAULT);
	CHECK_INT(status.usage.today, 600);
	CHECK_INT(status.usage.total, 600);

	rd_service_close(svc);
	free(data);
	free(dir);
}

int main(void)
{
	RUN(defaults_settings_and_races);
	return rd_test_summary();
}
