/*
 * What the files of the webhook module share and no other module sees.
 */
#ifndef REDRESS_WEBHOOK_INT_H
#define REDRESS_WEBHOOK_INT_H

#include <stddef.h>

#include "redress/webhook.h"

/*
 * rd_webhook_url_check, also giving the URL's host as libcurl reads it
 * (an IPv6 address without its brackets) into host (host_size bytes;
 * NULL when host_size is 0), for messages.
 */
int webhook_url_check_host(char *host, size_t host_size, const char *url,
			   const rd_webhook_options *opts, rd_error *err);

/*
 * The global initialisation of libcurl, once per process whichever thread
 * asks first. RD_OK or RD_EINTERNAL.
 */
int webhook_curl_init(rd_error *err);

#endif
