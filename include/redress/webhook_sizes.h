/*
 * The sizes of what a webhook endpoint and its deliveries hold, defined
 * once for the two modules that use them: the webhook module (webhook.h),
 * which checks an endpoint's URL, makes its secrets and keeps the start of
 * a receiver's answer, and the store (store.h), which keeps all three.
 */
#ifndef REDRESS_WEBHOOK_SIZES_H
#define REDRESS_WEBHOOK_SIZES_H

/* Longest endpoint URL, in bytes. */
#define RD_WEBHOOK_URL_MAX 2048

/* Bytes of an answer kept in rd_webhook_result.answer (its NUL apart). */
#define RD_WEBHOOK_ANSWER_MAX 256

/*
 * Room for a secret: "whsec_", base64 of RD_WEBHOOK_SECRET_BYTES bytes
 * (44 characters) and the NUL.
 */
#define RD_WEBHOOK_SECRET_BUFSZ 64
#define RD_WEBHOOK_SECRET_BYTES 32

#endif
