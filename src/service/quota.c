/*
 * Evidence quotas per storefront: how many bytes of evidence the disputes
 * of one storefront may store per UTC day and in all, whoever uploads
 * them. A storefront's own settings (`redress key quota`) come first, the
 * server's defaults (rd_service_options) otherwise; 0 means no quota.
 *
 * This file decides whether a size fits; the usage it reads is kept by the
 * store in the transaction of each evidence row, and the upload checks
 * again inside that transaction (evidence.c), so that two uploads racing
 * for the last bytes cannot both pass. It must never count evidence rows.
 */
#include "service_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define SECONDS_PER_DAY 86400

/* A setting in force: the storefront's own, else the default. */
static int64_t in_force(int64_t own, int64_t fallback)
{
	if (own == RD_QUOTA_DEFAULT)
		return fallback;
	return own == 0 ? RD_QUOTA_NONE : own;
}

static int64_t utc_day(int64_t now)
{
	return now >= 0 ? now / SECONDS_PER_DAY : 0;
}

static int check_storefront(const char *storefront, rd_error *err)
{
	if (!storefront || !rd_storefront_valid(storefront))
		return rd_error_set_field(err, RD_EINVALID, "storefront",
					  "a storefront is 1 to 64 characters "
					  "of a-z, 0-9, '.', '_' and '-'");
	return RD_OK;
}

int rd_service_quota_status(rd_service *svc, const char *storefront,
			    int64_t now, rd_quota_status *out, rd_error *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = check_storefront(storefront, err)) < 0 ||
	    (rc = rd_store_quota_get(svc->store, storefront, &out->own,
				     err)) < 0 ||
	    (rc = rd_store_usage_get(svc->store, storefront, utc_day(now),
				     &out->usage, err)) < 0)
		return rc;
	out->daily = in_force(out->own.daily, svc->quota_daily);
	out->total = in_force(out->own.total, svc->quota_total);
	return RD_OK;
}

static int check_setting(int64_t value, const char *name, rd_error *err)
{
	if (value >= 0 || value == RD_QUOTA_DEFAULT || value == RD_QUOTA_KEEP)
		return RD_OK;
	return rd_error_set_field(err, RD_EINVALID, name,
				  "a quota is a number of bytes, 0 or none "
				  "for no quota, or default");
}

int rd_service_quota_set(rd_service *svc, const char *storefront,
			 int64_t daily, int64_t total, int64_t now,
			 rd_error *err)
{
	rd_storefront_quota q;
	int rc;

	if ((rc = check_storefront(storefront, err)) < 0 ||
	    (rc = check_setting(daily, "daily", err)) < 0 ||
	    (rc = check_setting(total, "total", err)) < 0)
		return rc;
	if ((rc = rd_store_begin(svc->store, err)) < 0)
		return rc;
	if ((rc = rd_store_quota_get(svc->store, storefront, &q, err)) < 0)
		goto fail;
	if (daily != RD_QUOTA_KEEP)
		q.daily = daily;
	if (total != RD_QUOTA_KEEP)
		q.total = total;
	q.updated_at = now;
	if ((rc = rd_store_quota_put(svc->store, &q, err)) < 0 ||
	    (rc = rd_store_commit(svc->store, err)) < 0)
		goto fail;
	return RD_OK;
fail:
	rd_store_rollback(svc->store);
	return rc;
}

/* What is left of `limit` after `used` (never below 0). */
static int64_t left_of(int64_t limit, int64_t used)
{
	return used >= limit ? 0 : limit - used;
}

int rd_service_quota_room(rd_service *svc, const char *storefront,
			  int64_t now, int64_t *out, rd_error *err)
{
	rd_quota_status status;
	int64_t daily_left, total_left;
	int rc;

	*out = RD_QUOTA_NONE;
	if ((rc = rd_service_quota_status(svc, storefront, now, &status,
					  err)) < 0)
		return rc;
	daily_left = status.daily == RD_QUOTA_NONE
			     ? RD_QUOTA_NONE
			     : left_of(status.daily, status.usage.today);
	total_left = status.total == RD_QUOTA_NONE
			     ? RD_QUOTA_NONE
			     : left_of(status.total, status.usage.total);
	*out = daily_left < total_left ? daily_left : total_left;
	return RD_OK;
}

int rd_service_quota_check(rd_service *svc, const char *storefront,
			   int64_t now, int64_t size, rd_error *err)
{
	rd_quota_status status;
	int64_t left;
	int rc;

	if ((rc = rd_service_quota_status(svc, storefront, now, &status,
					  err)) < 0)
		return rc;
	/* the total first: waiting for tomorrow does not help with it */
	if (status.total != RD_QUOTA_NONE &&
	    size > (left = left_of(status.total, status.usage.total)))
		return rd_error_set_quota(err, "total", status.total, left,
					  "storefront %s has %" PRId64 " of "
					  "its %" PRId64 " bytes of evidence "
					  "left; %" PRId64 " bytes do not fit "
					  "(an operator can raise it: redress "
					  "key quota %s --total BYTES)",
					  storefront, left, status.total, size,
					  storefront);
	if (status.daily != RD_QUOTA_NONE &&
	    size > (left = left_of(status.daily, status.usage.today)))
		return rd_error_set_quota(err, "daily", status.daily, left,
					  "storefront %s has %" PRId64 " of "
					  "its %" PRId64 " bytes of evidence "
					  "a day left today (UTC); %" PRId64
					  " bytes do not fit: retry after "
					  "00:00 UTC, or an operator can raise "
					  "it: redress key quota %s --daily "
					  "BYTES", storefront, left,
					  status.daily, size, storefront);
	return RD_OK;
}

int rd_service_usage_list(rd_service *svc, int64_t now, size_t limit,
			  rd_evidence_usage **out, size_t *count,
			  rd_evidence_usage *others, rd_error *err)
{
	return rd_store_usage_list(svc->store, utc_day(now), limit, out, count,
				   others, err);
}
