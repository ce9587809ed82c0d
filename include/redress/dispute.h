/*
 * The dispute and its vocabulary: reasons, channels, roles, actors, offer
 * types and outcomes, and the dispute document of SPEC section 4 in and out
 * of JSON. Pure data: nothing here touches a file or a database.
 */
#ifndef REDRESS_DISPUTE_H
#define REDRESS_DISPUTE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "redress/error.h"

/* Dispute ids: 26-character Crockford base32 ULIDs, sortable by time. */
#define RD_ID_LEN 26
#define RD_ID_BUFSZ (RD_ID_LEN + 1)

/* A cost figure the submitter did not give (unit_cost, ship_cost, return_cost). */
#define RD_AMOUNT_UNSET INT64_C(-1)

typedef enum rd_reason {
	RD_REASON_NOT_RECEIVED,
	RD_REASON_DAMAGED,
	RD_REASON_DEFECTIVE,
	RD_REASON_MISSING_PARTS,
	RD_REASON_NOT_AS_DESCRIBED,
	RD_REASON_WRONG_ITEM,
	RD_REASON_LATE_DELIVERY,
	RD_REASON_CHANGED_MIND,
	RD_REASON_OTHER,
	RD_REASON_COUNT
} rd_reason;

typedef enum rd_channel {
	RD_CHANNEL_CHAT,
	RD_CHANNEL_EMAIL,
	RD_CHANNEL_PHONE,
	RD_CHANNEL_PLATFORM,
	RD_CHANNEL_CARRIER,
	RD_CHANNEL_WEB,
	RD_CHANNEL_OTHER,
	RD_CHANNEL_COUNT
} rd_channel;

typedef enum rd_role {
	RD_ROLE_AGENT,
	RD_ROLE_STOREFRONT,
	RD_ROLE_AUDITOR,
	RD_ROLE_ADMIN,
	RD_ROLE_SYSTEM,   /* redress itself: SLA timeouts */
	RD_ROLE_COUNT
} rd_role;

typedef enum rd_offer_type {
	RD_OFFER_REFUND_KEEP_ITEM,
	RD_OFFER_REFUND_WITH_RETURN,
	RD_OFFER_RESHIPMENT,
	RD_OFFER_PARTIAL_DISCOUNT,
	RD_OFFER_TYPE_COUNT
} rd_offer_type;

/*
 * Names of the enum values as they appear in JSON and on the command line
 * ("not_received", "chat", "agent", "refund_keep_item"); NULL when out of
 * range. Parsers return RD_OK or RD_EINVALID (with a message listing the
 * accepted names; err may be NULL).
 */
const char *rd_reason_name(rd_reason reason);
int rd_reason_parse(rd_reason *out, const char *name, rd_error *err);
const char *rd_channel_name(rd_channel channel);
int rd_channel_parse(rd_channel *out, const char *name, rd_error *err);
const char *rd_role_name(rd_role role);
int rd_role_parse(rd_role *out, const char *name, rd_error *err);
const char *rd_offer_type_name(rd_offer_type type);
int rd_offer_type_parse(rd_offer_type *out, const char *name, rd_error *err);

/*
 * Evidence kinds (SPEC section 3): photo, video, chat_transcript, email,
 * call_recording, tracking_record, carrier_report, invoice,
 * inspection_report, note, other. rd_evidence_kind_known returns 1 for one
 * of these names, else 0.
 */
size_t rd_evidence_kind_count(void);
const char *rd_evidence_kind_at(size_t i);
int rd_evidence_kind_known(const char *name);

/*
 * The check every text input gets: valid UTF-8 (no overlong forms or
 * surrogates) and no control characters, NUL included; tab, line feed and
 * carriage return are allowed when `multiline` is set.
 */
typedef enum rd_text_problem {
	RD_TEXT_OK,
	RD_TEXT_NOT_UTF8,
	RD_TEXT_CONTROL
} rd_text_problem;

rd_text_problem rd_text_check(const char *text, size_t len, int multiline);

/*
 * 1 when s names a storefront: 1 to 64 characters of a-z, 0-9, '.', '_'
 * and '-', starting with a letter or digit ("acme-eu"); else 0.
 */
int rd_storefront_valid(const char *s);

/*
 * Who did something: a role and a name, plus the API key id when known,
 * and the storefront a storefront actor is scoped to ("" when unscoped).
 * A scoped actor sees only its storefront's disputes: the service answers
 * any other as a dispute that does not exist.
 */
typedef struct rd_actor {
	rd_role role;
	char name[128];
	char key_id[64];
	char storefront[128];
} rd_actor;

/*
 * Parse "ROLE:NAME" (e.g. "agent:alice") into out. The name is 1..127
 * printable characters. RD_EINVALID otherwise. A storefront actor
 * ("storefront:acme-eu") is scoped to the storefront it names.
 */
int rd_actor_parse(rd_actor *out, const char *spec, rd_error *err);

/* One disputed order line. Strings are owned by the dispute. */
typedef struct rd_item {
	char *sku;
	char *title;
	int64_t quantity;     /* >= 1 */
	int64_t unit_price;   /* what the buyer paid per unit, minor units */
	int64_t unit_cost;    /* the seller's goods cost per unit, or RD_AMOUNT_UNSET */
} rd_item;

/*
 * A dispute. All char * members are owned by the dispute (heap strings
 * freed by rd_dispute_free); NULL means "none". The lifecycle members are set
 * by the engine, never taken from an opening document.
 */
typedef struct rd_dispute {
	char id[RD_ID_BUFSZ];
	char *order_ref;
	char *storefront;
	char *buyer_ref;
	char currency[4];
	rd_reason reason;
	rd_channel channel;
	char *locale;         /* BCP 47 tag such as "de-DE", or NULL */
	char *description;    /* or NULL */
	rd_item *items;
	size_t item_count;
	int64_t shipping_paid; /* what the buyer paid for shipping (default 0) */
	int64_t ship_cost;     /* seller's cost to ship again, or RD_AMOUNT_UNSET */
	int64_t return_cost;   /* cost of a return label, or RD_AMOUNT_UNSET */

	/* lifecycle */
	char *workflow_name;
	int64_t workflow_version;
	char workflow_hash[65];  /* SHA-256 hex of the definition's bytes */
	char *state;
	char *outcome;           /* refunded, reshipped, ... or NULL while open */
	char *assignee;          /* or NULL */
	int64_t version;         /* 1 when opened, +1 on every change */
	int64_t created_at;
	int64_t updated_at;
	int64_t deadline_at;     /* current SLA due time, or 0 for none */
	char *deadline_event;    /* event fired when it passes, or NULL */

	/* the reply clock: an inbound message awaits an answer */
	int64_t reply_due_at;    /* when the answer is due, or 0 for none */
	int64_t reply_since;     /* the message that started it, or 0 */
	char *reply_event;       /* event fired when it passes, or NULL */

	/* relevance to a list's q, higher is better; 0 outside a search */
	int64_t search_rank;
} rd_dispute;

/* Limits on the opening document, enforced by rd_dispute_from_json. */
#define RD_DISPUTE_MAX_ITEMS 100
#define RD_DISPUTE_MAX_REF 128          /* order_ref, buyer_ref, sku */
#define RD_DISPUTE_MAX_TEXT 4096        /* description */
#define RD_DISPUTE_MAX_TITLE 512
#define RD_DISPUTE_MAX_QUANTITY 100000

/* Largest opening document rd_dispute_parse reads (RD_ETOOLARGE beyond). */
#define RD_DISPUTE_MAX_DOCUMENT (1024 * 1024)

/*
 * Validate an opening document (SPEC section 4) and build a new dispute
 * from it. Unknown members, missing required members, wrong types, unknown
 * reason, channel or currency, negative or oversized amounts, zero items or a
 * zero quantity, and totals that overflow are RD_EINVALID with err->field
 * set to the JSON path at fault ("items[0].quantity"). Lifecycle members of
 * the result are zero/NULL. On success *out is new; free with
 * rd_dispute_free.
 */
int rd_dispute_from_json(rd_dispute **out, const json_t *doc, rd_error *err);

/*
 * Same, from JSON text of `len` bytes. Malformed JSON is RD_EINVALID with the
 * line and column of the problem in the message.
 */
int rd_dispute_parse(rd_dispute **out, const char *text, size_t len,
		     rd_error *err);

/*
 * The dispute as read back: the opening document plus id, state, outcome,
 * version, workflow {name, version, hash}, assignee, created_at, updated_at,
 * deadline ({"at": time, "event": name} or null). Unset cost figures are
 * omitted. Returns a new reference, or NULL when out of memory.
 */
json_t *rd_dispute_to_json(const rd_dispute *d);

/*
 * A page of a list of disputes: {NAME: [each as rd_dispute_to_json, with
 * "search": {"rank"} added when ranked], "next_cursor": next or null}.
 * Returns a new reference, or NULL when out of memory.
 */
json_t *rd_dispute_page_to_json(const char *name, rd_dispute *const *list,
				size_t count, const char *next, int ranked);

/* A deep copy of d, or NULL when out of memory. */
rd_dispute *rd_dispute_clone(const rd_dispute *d);

/* Sum of quantity * unit_price over the items (what the buyer paid for goods). */
int rd_dispute_price(int64_t *out, const rd_dispute *d, rd_error *err);

/*
 * Sum of quantity * unit_cost (the seller's goods cost); RD_AMOUNT_UNSET when
 * any item lacks its unit cost.
 */
int rd_dispute_goods_cost(int64_t *out, const rd_dispute *d, rd_error *err);

/* Release d and everything it owns. NULL is accepted. */
void rd_dispute_free(rd_dispute *d);

/* Release the count disputes of list, then list itself. NULL is accepted. */
void rd_dispute_list_free(rd_dispute **list, size_t count);

/* Allocate a zeroed dispute (items empty, costs unset), or NULL. */
rd_dispute *rd_dispute_new(void);

/*
 * Make a new dispute id from `now` (epoch seconds) and operating-system
 * randomness (getrandom). RD_EIO when no randomness is available.
 */
int rd_id_generate(char out[RD_ID_BUFSZ], int64_t now, rd_error *err);

/* 1 when s is a well-formed dispute id, else 0. */
int rd_id_valid(const char *s);

#endif
