/*
 * The running totals a monitoring scrape reads: disputes per state, SLA
 * deadlines fired, evidence bytes stored.
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
