/*
 * What monitoring reads: the running totals of a scrape (disputes per
 * state, SLA deadlines fired, evidence bytes stored) and whether the
 * record answers at all (a load balancer's readiness check).
 *
 * The store keeps them in the transaction of every change; the service
 * only hands them on. It must never compute them by reading disputes,
 * events or evidence one by one: a scrape must cost the same with a
 * million disputes as with ten.
 */
#include "service/service_int.h"

int rd_service_stats(rd_service *svc, rd_store_stats *out, rd_error *err)
{
	return rd_store_stats_read(svc->store, out, err);
}

int rd_service_ready(rd_service *svc, rd_error *err)
{
	int schema = 0;

	/* one small read: the schema version, one row of one table */
	return rd_store_schema_version(svc->store, &schema, err);
}
