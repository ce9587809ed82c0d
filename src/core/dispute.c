/*
 * The dispute model: the names of reasons, channels, roles, offer types and
 * evidence kinds, actors, dispute ids, and the dispute document of SPEC
 * section 4 in and out of JSON. The opening document is validated here, in
 * one place, member by member in a fixed order, so that every caller (CLI,
 * API, store) refuses the same input with the same message and field.
 *
 * This module holds data only: it never reads a file, a database or the
 * clock, never prints, and never takes lifecycle members (id, state,
 * version...) from an opening document.
 */
#include "redress/dispute.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "redress/clock.h"
#include "redress/json.h"
#include "redress/money.h"
#include "redress/random.h"

/* ---- names ------------------------------------------------------------ */

static const char *const reason_names[RD_REASON_COUNT] = {
	[RD_REASON_NOT_RECEIVED] = "not_received",
	[RD_REASON_DAMAGED] = "damaged",
	[RD_REASON_DEFECTIVE] = "defective",
	[RD_REASON_MISSING_PARTS] = "missing_parts",
	[RD_REASON_NOT_AS_DESCRIBED] = "not_as_described",
	[RD_REASON_WRONG_ITEM] = "wrong_item",
	[RD_REASON_LATE_DELIVERY] = "late_delivery",
	[RD_REASON_CHANGED_MIND] = "changed_mind",
	[RD_REASON_OTHER] = "other",
};

static const char *const channel_names[RD_CHANNEL_COUNT] = {
	[RD_CHANNEL_CHAT] = "chat",
	[RD_CHANNEL_EMAIL] = "email",
	[RD_CHANNEL_PHONE] = "phone",
	[RD_CHANNEL_PLATFORM] = "platform",
	[RD_CHANNEL_CARRIER] = "carrier",
	[RD_CHANNEL_WEB] = "web",
	[RD_CHANNEL_OTHER] = "other",
};

static const char *const role_names[RD_ROLE_COUNT] = {
	[RD_ROLE_AGENT] = "agent",
	[RD_ROLE_STOREFRONT] = "storefront",
	[RD_ROLE_AUDITOR] = "auditor",
	[RD_ROLE_ADMIN] = "admin",
	[RD_ROLE_SYSTEM] = "system",
};

static const char *const offer_type_names[RD_OFFER_TYPE_COUNT] = {
	[RD_OFFER_REFUND_KEEP_ITEM] = "refund_keep_item",
	[RD_OFFER_REFUND_WITH_RETURN] = "refund_with_return",
	[RD_OFFER_RESHIPMENT] = "reshipment",
	[RD_OFFER_PARTIAL_DISCOUNT] = "partial_discount",
};

static const char *const evidence_kind_names[] = {
	"photo", "video", "chat_transcript", "email", "call_recording",
	"tracking_record", "carrier_report", "invoice", "inspection_report",
	"note", "other",
};

#define EVIDENCE_KIND_COUNT \
	(sizeof(evidence_kind_names) / sizeof(evidence_kind_names[0]))

/* "a, b, c" into buf, truncated if it must be. */
static void names_join(char *buf, size_t size, const char *const *names,
		       size_t count)
{
	size_t used = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < count && used < size; i++) {
		int n = snprintf(buf + used, size - used, "%s%s",
				 i ? ", " : "", names[i]);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/*
 * Copy `s` into buf for a message: at most `max` bytes, control bytes and
 * bytes that are not UTF-8 shown as '?', "..." appended when cut short.
 */
static void text_for_message(char *buf, size_t size, const char *s,
			     size_t max);

static int name_parse(int *out, const char *const *names, size_t count,
		      const char *what, const char *name, rd_error *err)
{
	char accepted[256];
	char shown[64];

	for (size_t i = 0; name && i < count; i++) {
		if (strcmp(names[i], name) == 0) {
			*out = (int)i;
			return RD_OK;
		}
	}
	names_join(accepted, sizeof(accepted), names, count);
	text_for_message(shown, sizeof(shown), name ? name : "", 40);
	return rd_error_set(err, RD_EINVALID,
			    "unknown %s \"%s\"; expected one of: %s", what,
			    shown, accepted);
}

static const char *name_at(const char *const *names, size_t count, int i)
{
	if (i < 0 || (size_t)i >= count)
		return NULL;
	return names[i];
}

const char *rd_reason_name(rd_reason reason)
{
	return name_at(reason_names, RD_REASON_COUNT, (int)reason);
}

int rd_reason_parse(rd_reason *out, const char *name, rd_error *err)
{
	int value = 0;
	int rc = name_parse(&value, reason_names, RD_REASON_COUNT, "reason",
			    name, err);

	if (rc == RD_OK)
		*out = (rd_reason)value;
	return rc;
}

const char *rd_channel_name(rd_channel channel)
{
	return name_at(channel_names, RD_CHANNEL_COUNT, (int)channel);
}

int rd_channel_parse(rd_channel *out, const char *name, rd_error *err)
{
	int value = 0;
	int rc = name_parse(&value, channel_names, RD_CHANNEL_COUNT, "channel",
			    name, err);

	if (rc == RD_OK)
		*out = (rd_channel)value;
	return rc;
}

const char *rd_role_name(rd_role role)
{
	return name_at(role_names, RD_ROLE_COUNT, (int)role);
}

int rd_role_parse(rd_role *out, const char *name, rd_error *err)
{
	int value = 0;
	int rc = name_parse(&value, role_names, RD_ROLE_COUNT, "role", name,
			    err);

	if (rc == RD_OK)
		*out = (rd_role)value;
	return rc;
}

const char *rd_offer_type_name(rd_offer_type type)
{
	return name_at(offer_type_names, RD_OFFER_TYPE_COUNT, (int)type);
}

int rd_offer_type_parse(rd_offer_type *out, const char *name, rd_error *err)
{
	int value = 0;
	int rc = name_parse(&value, offer_type_names, RD_OFFER_TYPE_COUNT,
			    "offer type", name, err);

	if (rc == RD_OK)
		*out = (rd_offer_type)value;
	return rc;
}

size_t rd_evidence_kind_count(void)
{
	return EVIDENCE_KIND_COUNT;
}

const char *rd_evidence_kind_at(size_t i)
{
	return i < EVIDENCE_KIND_COUNT ? evidence_kind_names[i] : NULL;
}

int rd_evidence_kind_known(const char *name)
{
	for (size_t i = 0; name && i < EVIDENCE_KIND_COUNT; i++)
		if (strcmp(evidence_kind_names[i], name) == 0)
			return 1;
	return 0;
}

/* ---- text ------------------------------------------------------------- */

/*
 * Length of the UTF-8 sequence at s (len bytes available) with its code
 * point in *cp, or 0 when the bytes are not UTF-8 (overlong forms,
 * surrogates and values past U+10FFFF included).
 */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		c &= 0x1F;
		min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		c &= 0x0F;
		min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

static int is_control(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F);
}

enum text_problem { TEXT_OK, TEXT_NOT_UTF8, TEXT_CONTROL };

/*
 * Check len bytes of text: UTF-8, and no control characters (tab, line feed
 * and carriage return allowed when `multiline`). A NUL byte is a control
 * character.
 */
static enum text_problem text_check(const char *text, size_t len,
				    int multiline)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = utf8_decode(s + i, len - i, &cp);

		if (n == 0)
			return TEXT_NOT_UTF8;
		if (is_control(cp) &&
		    !(multiline && (cp == '\t' || cp == '\n' || cp == '\r')))
			return TEXT_CONTROL;
		i += n;
	}
	return TEXT_OK;
}

rd_text_problem rd_text_check(const char *text, size_t len, int multiline)
{
	switch (text_check(text, len, multiline)) {
	case TEXT_OK:
		return RD_TEXT_OK;
	case TEXT_NOT_UTF8:
		return RD_TEXT_NOT_UTF8;
	case TEXT_CONTROL:
		break;
	}
	return RD_TEXT_CONTROL;
}

static void text_for_message(char *buf, size_t size, const char *s,
			     size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, used = 0;

	if (size < 4)
		max = 0;
	else if (max > size - 4)
		max = size - 4;
	while (i < len && used < max) {
		uint32_t cp;
		size_t n = utf8_decode(p + i, len - i, &cp);

		if (n == 0 || is_control(cp)) {
			buf[used++] = '?';
			i += n ? n : 1;
			continue;
		}
		if (used + n > max)
			break;
		memcpy(buf + used, p + i, n);
		used += n;
		i += n;
	}
	if (i < len && size >= 4) {
		memcpy(buf + used, "...", 3);
		used += 3;
	}
	if (size > 0)
		buf[used < size ? used : size - 1] = '\0';
}

/* ---- actors ------------------------------------------------------------ */

int rd_actor_parse(rd_actor *out, const char *spec, rd_error *err)
{
	rd_actor actor;
	const char *colon, *name;
	char role[32], shown[64];
	size_t role_len, name_len;
	int rc;

	memset(&actor, 0, sizeof(actor));
	text_for_message(shown, sizeof(shown), spec ? spec : "", 40);
	colon = spec ? strchr(spec, ':') : NULL;
	if (!colon)
		return rd_error_set(err, RD_EINVALID,
				    "actor \"%s\" is not ROLE:NAME such as "
				    "agent:alice",
				    shown);
	role_len = (size_t)(colon - spec);
	if (role_len >= sizeof(role))
		role_len = sizeof(role) - 1;
	memcpy(role, spec, role_len);
	role[role_len] = '\0';
	rc = rd_role_parse(&actor.role, role, err);
	if (rc < 0)
		return rd_error_prefix(err, "actor \"%s\"", shown);

	name = colon + 1;
	name_len = strlen(name);
	if (name_len == 0 || name_len >= sizeof(actor.name))
		return rd_error_set(err, RD_EINVALID,
				    "actor \"%s\": the name after ':' must be "
				    "1 to %zu bytes, got %zu",
				    shown, sizeof(actor.name) - 1, name_len);
	switch (text_check(name, name_len, 0)) {
	case TEXT_NOT_UTF8:
		return rd_error_set(err, RD_EINVALID,
				    "actor \"%s\": the name must be valid "
				    "UTF-8",
				    shown);
	case TEXT_CONTROL:
		return rd_error_set(err, RD_EINVALID,
				    "actor \"%s\": the name must not contain "
				    "control characters",
				    shown);
	case TEXT_OK:
		break;
	}
	memcpy(actor.name, name, name_len + 1);
	if (actor.role == RD_ROLE_STOREFRONT)
		memcpy(actor.storefront, name, name_len + 1);
	*out = actor;
	return RD_OK;
}

/* ---- ids --------------------------------------------------------------- */

static const char id_alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* Largest millisecond count a 48-bit ULID timestamp holds. */
#define ID_TIME_MAX ((INT64_C(1) << 48) - 1)

static int bit_at(const unsigned char bytes[16], int k)
{
	if (k < 0)
		return 0;
	return (bytes[k / 8] >> (7 - k % 8)) & 1;
}

int rd_id_generate(char out[RD_ID_BUFSZ], int64_t now, rd_error *err)
{
	unsigned char bytes[16];
	int rc;
	int64_t ms;

	if (now < 0 || now > ID_TIME_MAX / 1000)
		return rd_error_set(err, RD_EINVALID,
				    "time %" PRId64 " is outside the range a "
				    "dispute id can hold",
				    now);
	ms = now * 1000;
	for (int i = 0; i < 6; i++)
		bytes[i] = (unsigned char)((uint64_t)ms >> (8 * (5 - i)));
	if ((rc = rd_random_bytes(bytes + 6, 10, err)) < 0)
		return rc;
	/* 26 groups of 5 bits cover 130 bits: the first 2 are zero. */
	for (int i = 0; i < RD_ID_LEN; i++) {
		int value = 0;

		for (int j = 0; j < 5; j++)
			value = (value << 1) | bit_at(bytes, i * 5 - 2 + j);
		out[i] = id_alphabet[value];
	}
	out[RD_ID_LEN] = '\0';
	return RD_OK;
}

int rd_id_valid(const char *s)
{
	if (!s || strnlen(s, RD_ID_LEN + 1) != RD_ID_LEN)
		return 0;
	if (s[0] < '0' || s[0] > '7')
		return 0;
	for (size_t i = 0; i < RD_ID_LEN; i++)
		if (!strchr(id_alphabet, s[i]))
			return 0;
	return 1;
}

/* ---- the dispute -------------------------------------------------------- */

rd_dispute *rd_dispute_new(void)
{
	rd_dispute *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->ship_cost = RD_AMOUNT_UNSET;
	d->return_cost = RD_AMOUNT_UNSET;
	return d;
}

void rd_dispute_free(rd_dispute *d)
{
	if (!d)
		return;
	for (size_t i = 0; d->items && i < d->item_count; i++) {
		free(d->items[i].sku);
		free(d->items[i].title);
	}
	free(d->items);
	free(d->order_ref);
	free(d->storefront);
	free(d->buyer_ref);
	free(d->locale);
	free(d->description);
	free(d->workflow_name);
	free(d->state);
	free(d->outcome);
	free(d->assignee);
	free(d->deadline_event);
	free(d->reply_event);
	free(d);
}

void rd_dispute_list_free(rd_dispute **list, size_t count)
{
	for (size_t i = 0; list && i < count; i++)
		rd_dispute_free(list[i]);
	free(list);
}

/* *out = a copy of s (NULL stays NULL); -1 when out of memory. */
static int dup_text(char **out, const char *s)
{
	*out = NULL;
	if (!s)
		return 0;
	*out = strdup(s);
	return *out ? 0 : -1;
}

rd_dispute *rd_dispute_clone(const rd_dispute *d)
{
	rd_dispute *c = NULL, *result = NULL;

	if (!d)
		goto done;
	c = malloc(sizeof(*c));
	if (!c)
		goto done;
	*c = *d;
	/* Own nothing yet, so that rd_dispute_free is safe at any step. */
	c->items = NULL;
	c->item_count = 0;
	c->order_ref = c->storefront = c->buyer_ref = NULL;
	c->locale = c->description = NULL;
	c->workflow_name = c->state = c->outcome = c->assignee = NULL;
	c->deadline_event = NULL;
	c->reply_event = NULL;

	if (dup_text(&c->order_ref, d->order_ref) < 0 ||
	    dup_text(&c->storefront, d->storefront) < 0 ||
	    dup_text(&c->buyer_ref, d->buyer_ref) < 0 ||
	    dup_text(&c->locale, d->locale) < 0 ||
	    dup_text(&c->description, d->description) < 0 ||
	    dup_text(&c->workflow_name, d->workflow_name) < 0 ||
	    dup_text(&c->state, d->state) < 0 ||
	    dup_text(&c->outcome, d->outcome) < 0 ||
	    dup_text(&c->assignee, d->assignee) < 0 ||
	    dup_text(&c->deadline_event, d->deadline_event) < 0 ||
	    dup_text(&c->reply_event, d->reply_event) < 0)
		goto done;
	if (d->item_count > 0) {
		c->items = calloc(d->item_count, sizeof(*c->items));
		if (!c->items)
			goto done;
		c->item_count = d->item_count;
		for (size_t i = 0; i < d->item_count; i++) {
			c->items[i] = d->items[i];
			c->items[i].sku = NULL;
			c->items[i].title = NULL;
			if (dup_text(&c->items[i].sku, d->items[i].sku) < 0 ||
			    dup_text(&c->items[i].title, d->items[i].title) < 0)
				goto done;
		}
	}
	result = c;
	c = NULL;
done:
	rd_dispute_free(c);
	return result;
}

int rd_dispute_price(int64_t *out, const rd_dispute *d, rd_error *err)
{
	int64_t total = 0;

	if (!d)
		return rd_error_set(err, RD_EINTERNAL, "no dispute given");
	for (size_t i = 0; i < d->item_count; i++) {
		int64_t line;
		int rc;

		if ((rc = rd_money_mul(&line, d->items[i].unit_price,
				       d->items[i].quantity, err)) < 0 ||
		    (rc = rd_money_add(&total, total, line, err)) < 0) {
			if (err)
				rd_error_prefix(err, "price of items[%zu]", i);
			return rc;
		}
	}
	*out = total;
	return RD_OK;
}

int rd_dispute_goods_cost(int64_t *out, const rd_dispute *d, rd_error *err)
{
	int64_t total = 0;

	if (!d)
		return rd_error_set(err, RD_EINTERNAL, "no dispute given");
	for (size_t i = 0; i < d->item_count; i++) {
		int64_t line;
		int rc;

		if (d->items[i].unit_cost == RD_AMOUNT_UNSET) {
			*out = RD_AMOUNT_UNSET;
			return RD_OK;
		}
		if ((rc = rd_money_mul(&line, d->items[i].unit_cost,
				       d->items[i].quantity, err)) < 0 ||
		    (rc = rd_money_add(&total, total, line, err)) < 0) {
			if (err)
				rd_error_prefix(err,
						"goods cost of items[%zu]", i);
			return rc;
		}
	}
	*out = total;
	return RD_OK;
}

/* ---- the opening document ---------------------------------------------- */

static const char *const document_members[] = {
	"order_ref", "storefront", "buyer_ref", "currency", "reason",
	"channel", "locale", "description", "items", "shipping_paid",
	"ship_cost", "return_cost",
};

/* Members of the dispute as read back, which redress alone sets. */
static const char *const lifecycle_members[] = {
	"id", "state", "outcome", "version", "workflow", "assignee",
	"created_at", "updated_at", "deadline", "reply_deadline",
};

static const char *const item_members[] = {
	"sku", "title", "quantity", "unit_price", "unit_cost",
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* A JSON path such as "items[12].unit_price"; long member names are cut. */
#define PATH_SIZE 96

/* err := RD_EINVALID, field `path`, message "path: <fmt>". */
__attribute__((format(printf, 3, 4)))
static int invalid(rd_error *err, const char *path, const char *fmt, ...)
{
	char what[448];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return rd_error_set_field(err, RD_EINVALID, path, "%s: %s", path,
				  what);
}

#ifdef __clang_analyzer__
/* As in error.h: the analyzer does not follow variadic calls; tell it. */
#define invalid(err, path, ...) \
	(invalid((err), (path), __VA_ARGS__), RD_EINVALID)
#endif

/* "a string", "5", "null"... for "got ..." in messages. */
static void describe_value(char *buf, size_t size, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		snprintf(buf, size, "an object");
		break;
	case JSON_ARRAY:
		snprintf(buf, size, "an array");
		break;
	case JSON_STRING:
		snprintf(buf, size, "a string");
		break;
	case JSON_INTEGER:
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(buf, size, "a number with a fraction or exponent");
		break;
	case JSON_TRUE:
		snprintf(buf, size, "true");
		break;
	case JSON_FALSE:
		snprintf(buf, size, "false");
		break;
	case JSON_NULL:
	default:
		snprintf(buf, size, "null");
		break;
	}
}

static int is_member_of(const char *name, const char *const *names,
			size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(names[i], name) == 0)
			return 1;
	return 0;
}

/*
 * Refuse members of `obj` not in `accepted`, naming the first as the field
 * and every one in the message. `prefix` is "" at the top level or
 * "items[3]." inside an item.
 */
static int check_members(const json_t *obj, const char *prefix,
			 const char *const *accepted, size_t accepted_count,
			 int top_level, rd_error *err)
{
	char path[PATH_SIZE], shown[64], others[200], accepted_list[200];
	const char *first = NULL, *key;
	const json_t *value;
	size_t others_used = 0;

	others[0] = '\0';
	json_object_foreach((json_t *)obj, key, value) {
		if (is_member_of(key, accepted, accepted_count))
			continue;
		if (!first) {
			first = key;
			continue;
		}
		text_for_message(shown, sizeof(shown), key, 32);
		if (others_used < sizeof(others)) {
			int n = snprintf(others + others_used,
					 sizeof(others) - others_used,
					 "%s\"%s\"", others_used ? ", " : "",
					 shown);
			if (n > 0)
				others_used += (size_t)n;
		}
	}
	if (!first)
		return RD_OK;

	text_for_message(shown, sizeof(shown), first, 48);
	if (snprintf(path, sizeof(path), "%s%s", prefix,
		     first[0] ? shown : "\"\"") >= (int)sizeof(path))
		path[sizeof(path) - 1] = '\0'; /* a cut path still names the place */
	names_join(accepted_list, sizeof(accepted_list), accepted,
		   accepted_count);
	if (top_level && is_member_of(first, lifecycle_members,
				      COUNT_OF(lifecycle_members)))
		return invalid(err, path,
			       "is set by redress and may not appear in the "
			       "document that opens a dispute%s%s%s; accepted "
			       "members are %s",
			       others_used ? " (also unknown: " : "", others,
			       others_used ? ")" : "", accepted_list);
	return invalid(err, path,
		       "unknown member%s%s%s; accepted members are %s",
		       others_used ? " (also unknown: " : "", others,
		       others_used ? ")" : "", accepted_list);
}

/* How a text member is checked. */
struct text_rule {
	size_t min, max;     /* length in bytes */
	int multiline;       /* tab, line feed and carriage return allowed */
	const char *example; /* shown when the member is missing */
};

/*
 * *out = a new copy of the string member `key`, or NULL when it is absent
 * (or null) and not required.
 */
static int get_text(char **out, const json_t *obj, const char *key,
		    const char *path, int required,
		    const struct text_rule *rule, rd_error *err)
{
	const json_t *v = json_object_get(obj, key);
	char got[64];
	const char *s;
	size_t len;

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (!required)
			return RD_OK;
		return invalid(err, path,
			       "required: a string of %zu to %zu bytes such "
			       "as %s",
			       rule->min, rule->max, rule->example);
	}
	if (!json_is_string(v)) {
		describe_value(got, sizeof(got), v);
		return invalid(err, path, "must be a string, got %s", got);
	}
	s = json_string_value(v);
	len = json_string_length(v);
	if (len < rule->min || len > rule->max)
		return invalid(err, path,
			       "must be %zu to %zu bytes long, got %zu",
			       rule->min, rule->max, len);
	if (strlen(s) != len)
		return invalid(err, path,
			       "must not contain control characters (it "
			       "holds a NUL)");
	switch (text_check(s, len, rule->multiline)) {
	case TEXT_NOT_UTF8:
		return invalid(err, path, "must be valid UTF-8");
	case TEXT_CONTROL:
		return invalid(err, path,
			       rule->multiline ?
			       "must not contain control characters other "
			       "than tab and line breaks" :
			       "must not contain control characters such as "
			       "line breaks or tabs");
	case TEXT_OK:
		break;
	}
	*out = malloc(len + 1);
	if (!*out)
		return rd_error_set_field(err, RD_ENOMEM, path,
					  "out of memory reading %s", path);
	memcpy(*out, s, len + 1);
	return RD_OK;
}

/* How an integer member is checked. */
struct int_rule {
	int64_t min, max;
	int64_t absent;      /* value when absent or null and not required */
	const char *what;    /* "an integer", "an amount in minor units" */
};

static int get_integer(int64_t *out, const json_t *obj, const char *key,
		       const char *path, int required,
		       const struct int_rule *rule, rd_error *err)
{
	const json_t *v = json_object_get(obj, key);
	char got[64];
	json_int_t value;

	if (!v || json_is_null(v)) {
		if (!required) {
			*out = rule->absent;
			return RD_OK;
		}
		return invalid(err, path,
			       "required: %s from %" PRId64 " to %" PRId64,
			       rule->what, rule->min, rule->max);
	}
	describe_value(got, sizeof(got), v);
	if (!json_is_integer(v))
		return invalid(err, path,
			       "must be %s from %" PRId64 " to %" PRId64
			       " (a JSON integer), got %s",
			       rule->what, rule->min, rule->max, got);
	value = json_integer_value(v);
	if (value < rule->min || value > rule->max)
		return invalid(err, path,
			       "must be %s from %" PRId64 " to %" PRId64
			       ", got %s",
			       rule->what, rule->min, rule->max, got);
	*out = (int64_t)value;
	return RD_OK;
}

static const struct text_rule ref_rule = {
	1, RD_DISPUTE_MAX_REF, 0, "\"ORD-1001\""
};
static const struct text_rule storefront_rule = {
	1, 64, 0, "\"acme-eu\""
};
static const struct text_rule buyer_rule = {
	1, RD_DISPUTE_MAX_REF, 0, "\"cust-77\""
};
static const struct text_rule currency_rule = { 1, 64, 0, "\"USD\"" };
static const struct text_rule locale_rule = { 2, 35, 0, "\"de-DE\"" };
static const struct text_rule description_rule = {
	0, RD_DISPUTE_MAX_TEXT, 1, "\"Arrived broken\""
};
static const struct text_rule sku_rule = {
	1, RD_DISPUTE_MAX_REF, 0, "\"LAMP-1\""
};
static const struct text_rule title_rule = {
	1, RD_DISPUTE_MAX_TITLE, 0, "\"Desk lamp\""
};

static const struct int_rule quantity_rule = {
	1, RD_DISPUTE_MAX_QUANTITY, 0, "an integer"
};
static const struct int_rule price_rule = {
	0, RD_MONEY_INPUT_MAX, 0, "an amount in minor units"
};
static const struct int_rule cost_rule = {
	0, RD_MONEY_INPUT_MAX, RD_AMOUNT_UNSET, "an amount in minor units"
};
static const struct int_rule shipping_paid_rule = {
	0, RD_MONEY_INPUT_MAX, 0, "an amount in minor units"
};

/*
 * One of `names` for the required member `key`: the value's index into
 * *out, or RD_EINVALID listing the accepted names.
 */
static int get_name(int *out, const json_t *obj, const char *key,
		    const char *const *names, size_t count, rd_error *err)
{
	const json_t *v = json_object_get(obj, key);
	char accepted[256], got[64];

	names_join(accepted, sizeof(accepted), names, count);
	if (!v || json_is_null(v))
		return invalid(err, key, "required: one of %s", accepted);
	if (!json_is_string(v)) {
		describe_value(got, sizeof(got), v);
		return invalid(err, key, "must be one of %s, got %s", accepted,
			       got);
	}
	if (name_parse(out, names, count, key, json_string_value(v),
		       NULL) < 0) {
		text_for_message(got, sizeof(got), json_string_value(v), 40);
		return invalid(err, key, "must be one of %s, got \"%s\"",
			       accepted, got);
	}
	return RD_OK;
}

static int is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_alnum(char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9');
}

int rd_storefront_valid(const char *s)
{
	const char *p = s;

	if (is_lower_alnum(*p))
		while (is_lower_alnum(*p) || *p == '.' || *p == '_' ||
		       *p == '-')
			p++;
	return p != s && *p == '\0' && p - s <= 64;
}

static int check_storefront(const char *s, rd_error *err)
{
	char shown[80];

	if (rd_storefront_valid(s))
		return RD_OK;
	text_for_message(shown, sizeof(shown), s, 64);
	return invalid(err, "storefront",
		       "must start with a lower-case letter or digit and hold "
		       "only a-z, 0-9, '.', '_' and '-' (such as "
		       "\"acme-eu\"), got \"%s\"",
		       shown);
}

/*
 * A language tag: a primary subtag of 2 or 3 letters, then subtags of 1 to 8
 * letters or digits, each after one '-' ("de", "de-DE", "zh-Hant-TW").
 */
static int check_locale(const char *s, rd_error *err)
{
	size_t i = 0, run;

	while (is_alpha(s[i]))
		i++;
	if (i < 2 || i > 3 || (s[i] != '\0' && s[i] != '-'))
		goto bad;
	while (s[i] == '-') {
		i++;
		run = 0;
		while (is_alnum(s[i])) {
			i++;
			run++;
		}
		if (run < 1 || run > 8)
			goto bad;
	}
	if (s[i] != '\0')
		goto bad;
	return RD_OK;
bad:
	return invalid(err, "locale",
		       "must be a language tag such as \"de\" or \"de-DE\": a "
		       "2 or 3 letter language, then '-' separated parts of "
		       "letters and digits");
}

static int parse_item(rd_item *item, const json_t *v, size_t index,
		      rd_error *err)
{
	char prefix[PATH_SIZE], path[PATH_SIZE], got[64];
	int rc;

	snprintf(prefix, sizeof(prefix), "items[%zu]", index);
	if (!json_is_object(v)) {
		describe_value(got, sizeof(got), v);
		return invalid(err, prefix,
			       "must be an object with sku, title, quantity "
			       "and unit_price, got %s",
			       got);
	}
	snprintf(prefix, sizeof(prefix), "items[%zu].", index);
	rc = check_members(v, prefix, item_members, COUNT_OF(item_members), 0,
			   err);
	if (rc < 0)
		return rc;

	snprintf(path, sizeof(path), "items[%zu].sku", index);
	if ((rc = get_text(&item->sku, v, "sku", path, 1, &sku_rule, err)) < 0)
		return rc;
	snprintf(path, sizeof(path), "items[%zu].title", index);
	if ((rc = get_text(&item->title, v, "title", path, 1, &title_rule,
			   err)) < 0)
		return rc;
	snprintf(path, sizeof(path), "items[%zu].quantity", index);
	if ((rc = get_integer(&item->quantity, v, "quantity", path, 1,
			      &quantity_rule, err)) < 0)
		return rc;
	snprintf(path, sizeof(path), "items[%zu].unit_price", index);
	if ((rc = get_integer(&item->unit_price, v, "unit_price", path, 1,
			      &price_rule, err)) < 0)
		return rc;
	snprintf(path, sizeof(path), "items[%zu].unit_cost", index);
	if ((rc = get_integer(&item->unit_cost, v, "unit_cost", path, 0,
			      &cost_rule, err)) < 0)
		return rc;
	return RD_OK;
}

static int parse_items(rd_dispute *d, const json_t *doc, rd_error *err)
{
	const json_t *items = json_object_get(doc, "items");
	char got[64];
	size_t count;
	int rc;

	if (!items || json_is_null(items))
		return invalid(err, "items",
			       "required: an array of 1 to %d items, each "
			       "{\"sku\", \"title\", \"quantity\", "
			       "\"unit_price\"}",
			       RD_DISPUTE_MAX_ITEMS);
	if (!json_is_array(items)) {
		describe_value(got, sizeof(got), items);
		return invalid(err, "items", "must be an array, got %s", got);
	}
	count = json_array_size(items);
	if (count < 1 || count > RD_DISPUTE_MAX_ITEMS)
		return invalid(err, "items",
			       "must hold 1 to %d items, got %zu",
			       RD_DISPUTE_MAX_ITEMS, count);
	d->items = calloc(count, sizeof(*d->items));
	if (!d->items)
		return rd_error_set_field(err, RD_ENOMEM, "items",
					  "out of memory reading items");
	for (size_t i = 0; i < count; i++) {
		/* Counted before it is filled: free must see its strings. */
		d->item_count = i + 1;
		rc = parse_item(&d->items[i], json_array_get(items, i), i, err);
		if (rc < 0)
			return rc;
	}
	return RD_OK;
}

/* The totals of the items must stay within what redress accepts. */
static int check_totals(const rd_dispute *d, rd_error *err)
{
	int64_t price = 0, goods_cost = 0, total = 0;
	char limit[RD_MONEY_BUFSZ];

	snprintf(limit, sizeof(limit), "%" PRId64, RD_MONEY_INPUT_MAX);
	if (rd_dispute_price(&price, d, NULL) < 0 || price > RD_MONEY_INPUT_MAX)
		return invalid(err, "items",
			       "the total price (quantity times unit_price, "
			       "summed) must be at most %s minor units",
			       limit);
	if (rd_dispute_goods_cost(&goods_cost, d, NULL) < 0 ||
	    goods_cost > RD_MONEY_INPUT_MAX)
		return invalid(err, "items",
			       "the total goods cost (quantity times "
			       "unit_cost, summed) must be at most %s minor "
			       "units",
			       limit);
	if (rd_money_add(&total, price, d->shipping_paid, NULL) < 0)
		return invalid(err, "shipping_paid",
			       "the total paid (items plus shipping_paid) "
			       "overflows");
	return RD_OK;
}

int rd_dispute_from_json(rd_dispute **out, const json_t *doc, rd_error *err)
{
	rd_dispute *d = NULL;
	const rd_currency *currency;
	char *code = NULL, shown[64], got[64];
	int reason, channel, rc;

	if (!out)
		return rd_error_set(err, RD_EINTERNAL,
				    "no place given for the dispute");
	*out = NULL;
	if (!json_is_object(doc)) {
		if (doc)
			describe_value(got, sizeof(got), doc);
		return rd_error_set(err, RD_EINVALID,
				    "a dispute document must be a JSON "
				    "object, got %s",
				    doc ? got : "nothing");
	}
	d = rd_dispute_new();
	if (!d)
		return rd_error_set(err, RD_ENOMEM,
				    "out of memory reading a dispute");

	if ((rc = check_members(doc, "", document_members,
				COUNT_OF(document_members), 1, err)) < 0)
		goto done;

	if ((rc = get_text(&d->order_ref, doc, "order_ref", "order_ref", 1,
			   &ref_rule, err)) < 0)
		goto done;
	if ((rc = get_text(&d->storefront, doc, "storefront", "storefront", 1,
			   &storefront_rule, err)) < 0 ||
	    (rc = check_storefront(d->storefront, err)) < 0)
		goto done;
	if ((rc = get_text(&d->buyer_ref, doc, "buyer_ref", "buyer_ref", 1,
			   &buyer_rule, err)) < 0)
		goto done;

	if ((rc = get_text(&code, doc, "currency", "currency", 1,
			   &currency_rule, err)) < 0)
		goto done;
	currency = rd_currency_find(code);
	if (!currency) {
		text_for_message(shown, sizeof(shown), code, 16);
		rc = invalid(err, "currency",
			     "unknown currency \"%s\"; expected an active "
			     "ISO 4217 code in upper case, such as USD, EUR "
			     "or JPY",
			     shown);
		goto done;
	}
	snprintf(d->currency, sizeof(d->currency), "%s", currency->code);

	if ((rc = get_name(&reason, doc, "reason", reason_names,
			   RD_REASON_COUNT, err)) < 0)
		goto done;
	d->reason = (rd_reason)reason;
	if ((rc = get_name(&channel, doc, "channel", channel_names,
			   RD_CHANNEL_COUNT, err)) < 0)
		goto done;
	d->channel = (rd_channel)channel;

	if ((rc = get_text(&d->locale, doc, "locale", "locale", 0,
			   &locale_rule, err)) < 0)
		goto done;
	if (d->locale && (rc = check_locale(d->locale, err)) < 0)
		goto done;
	if ((rc = get_text(&d->description, doc, "description", "description",
			   0, &description_rule, err)) < 0)
		goto done;

	if ((rc = parse_items(d, doc, err)) < 0)
		goto done;

	if ((rc = get_integer(&d->shipping_paid, doc, "shipping_paid",
			      "shipping_paid", 0, &shipping_paid_rule,
			      err)) < 0 ||
	    (rc = get_integer(&d->ship_cost, doc, "ship_cost", "ship_cost", 0,
			      &cost_rule, err)) < 0 ||
	    (rc = get_integer(&d->return_cost, doc, "return_cost",
			      "return_cost", 0, &cost_rule, err)) < 0)
		goto done;

	if ((rc = check_totals(d, err)) < 0)
		goto done;

	*out = d;
	d = NULL;
	rc = RD_OK;
done:
	free(code);
	rd_dispute_free(d);
	return rc;
}

/* Line and column (from 1) of byte `pos` of text, as jansson counts them. */
static void position_of(const char *text, size_t pos, int *line, int *column)
{
	*line = 1;
	*column = 1;
	for (size_t i = 0; i < pos; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*column = 1;
		} else if (((unsigned char)text[i] & 0xC0) != 0x80) {
			(*column)++;
		}
	}
}

int rd_dispute_parse(rd_dispute **out, const char *text, size_t len,
		     rd_error *err)
{
	json_t *doc = NULL;
	json_error_t jerr;
	char shown[200];
	const char *nul;
	int line, column, rc;

	if (out)
		*out = NULL;
	if (!text && len > 0)
		return rd_error_set(err, RD_EINTERNAL, "no dispute text given");
	if (len > RD_DISPUTE_MAX_DOCUMENT)
		return rd_error_set(err, RD_ETOOLARGE,
				    "the dispute document is %zu bytes; at "
				    "most %d are accepted",
				    len, RD_DISPUTE_MAX_DOCUMENT);
	/* jansson would call a NUL byte the end of the input. */
	nul = len ? memchr(text, '\0', len) : NULL;
	if (nul) {
		position_of(text, (size_t)(nul - text), &line, &column);
		return rd_error_set(err, RD_EINVALID,
				    "line %d, column %d: the text holds a NUL "
				    "byte, which JSON does not allow",
				    line, column);
	}
	doc = rd_json_loadb(text, len,
			 JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!doc) {
		text_for_message(shown, sizeof(shown), jerr.text, 160);
		/* jansson leaves the error empty when an allocation fails. */
		if (json_error_code(&jerr) == json_error_out_of_memory ||
		    jerr.text[0] == '\0')
			return rd_error_set(err, RD_ENOMEM,
					    "out of memory reading a dispute "
					    "document");
		if (json_error_code(&jerr) == json_error_invalid_utf8)
			return rd_error_set(err, RD_EINVALID,
					    "line %d, column %d: the text is "
					    "not valid UTF-8 (%s)",
					    jerr.line, jerr.column, shown);
		if (json_error_code(&jerr) == json_error_null_character)
			return rd_error_set(err, RD_EINVALID,
					    "line %d, column %d: a string "
					    "holds \\u0000 (a NUL character), "
					    "which is not accepted",
					    jerr.line, jerr.column);
		if (json_error_code(&jerr) == json_error_duplicate_key)
			return rd_error_set(err, RD_EINVALID,
					    "line %d, column %d: a member "
					    "appears twice (%s)",
					    jerr.line, jerr.column, shown);
		return rd_error_set(err, RD_EINVALID,
				    "line %d, column %d: %s", jerr.line,
				    jerr.column, shown);
	}
	rc = rd_dispute_from_json(out, doc, err);
	json_decref(doc);
	return rc;
}

/* ---- the document as read back ----------------------------------------- */

static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *time_json(int64_t epoch)
{
	char buf[RD_TIME_BUFSZ];

	rd_time_format(buf, epoch);
	return json_string(buf);
}

/*
 * obj[key] = value, taking the reference whatever happens; -1 when value is
 * NULL (a failed allocation) or the object cannot grow.
 */
static int put(json_t *obj, const char *key, json_t *value)
{
	return json_object_set_new(obj, key, value);
}

static json_t *item_json(const rd_item *item)
{
	json_t *obj = json_object(), *result = NULL;

	if (!obj)
		goto done;
	if (put(obj, "sku", string_or_null(item->sku)) < 0 ||
	    put(obj, "title", string_or_null(item->title)) < 0 ||
	    put(obj, "quantity", json_integer(item->quantity)) < 0 ||
	    put(obj, "unit_price", json_integer(item->unit_price)) < 0)
		goto done;
	if (item->unit_cost != RD_AMOUNT_UNSET &&
	    put(obj, "unit_cost", json_integer(item->unit_cost)) < 0)
		goto done;
	result = obj;
	obj = NULL;
done:
	json_decref(obj);
	return result;
}

static json_t *workflow_json(const rd_dispute *d)
{
	json_t *obj = json_object(), *result = NULL;

	if (!obj)
		goto done;
	if (put(obj, "name", string_or_null(d->workflow_name)) < 0 ||
	    put(obj, "version", json_integer(d->workflow_version)) < 0 ||
	    put(obj, "hash", d->workflow_hash[0] ?
				     json_string(d->workflow_hash) :
				     json_null()) < 0)
		goto done;
	result = obj;
	obj = NULL;
done:
	json_decref(obj);
	return result;
}

static json_t *deadline_json(const rd_dispute *d)
{
	json_t *obj = NULL, *result = NULL;

	if (d->deadline_at == 0)
		return json_null();
	obj = json_object();
	if (!obj)
		goto done;
	if (put(obj, "at", time_json(d->deadline_at)) < 0 ||
	    put(obj, "event", string_or_null(d->deadline_event)) < 0)
		goto done;
	result = obj;
	obj = NULL;
done:
	json_decref(obj);
	return result;
}

/* The reply clock: {"at", "since_message", "event"}. */
static json_t *reply_json(const rd_dispute *d)
{
	json_t *obj = NULL, *result = NULL;

	if (d->reply_due_at == 0)
		return json_null();
	obj = json_object();
	if (!obj)
		goto done;
	if (put(obj, "at", time_json(d->reply_due_at)) < 0 ||
	    put(obj, "since_message", json_integer(d->reply_since)) < 0 ||
	    put(obj, "event", string_or_null(d->reply_event)) < 0)
		goto done;
	result = obj;
	obj = NULL;
done:
	json_decref(obj);
	return result;
}

static json_t *items_json(const rd_dispute *d)
{
	json_t *items = json_array(), *result = NULL;

	if (!items)
		goto done;
	for (size_t i = 0; i < d->item_count; i++)
		if (json_array_append_new(items, item_json(&d->items[i])) < 0)
			goto done;
	result = items;
	items = NULL;
done:
	json_decref(items);
	return result;
}

json_t *rd_dispute_to_json(const rd_dispute *d)
{
	json_t *obj = NULL, *result = NULL;

	if (!d)
		goto done;
	obj = json_object();
	if (!obj)
		goto done;
	if (put(obj, "id", d->id[0] ? json_string(d->id) : json_null()) < 0 ||
	    put(obj, "order_ref", string_or_null(d->order_ref)) < 0 ||
	    put(obj, "storefront", string_or_null(d->storefront)) < 0 ||
	    put(obj, "buyer_ref", string_or_null(d->buyer_ref)) < 0 ||
	    put(obj, "currency", json_string(d->currency)) < 0 ||
	    put(obj, "reason", string_or_null(rd_reason_name(d->reason))) < 0 ||
	    put(obj, "channel",
		string_or_null(rd_channel_name(d->channel))) < 0 ||
	    put(obj, "locale", string_or_null(d->locale)) < 0 ||
	    put(obj, "description", string_or_null(d->description)) < 0 ||
	    put(obj, "items", items_json(d)) < 0 ||
	    put(obj, "shipping_paid", json_integer(d->shipping_paid)) < 0)
		goto done;
	if (d->ship_cost != RD_AMOUNT_UNSET &&
	    put(obj, "ship_cost", json_integer(d->ship_cost)) < 0)
		goto done;
	if (d->return_cost != RD_AMOUNT_UNSET &&
	    put(obj, "return_cost", json_integer(d->return_cost)) < 0)
		goto done;
	if (put(obj, "state", string_or_null(d->state)) < 0 ||
	    put(obj, "outcome", string_or_null(d->outcome)) < 0 ||
	    put(obj, "version", json_integer(d->version)) < 0 ||
	    put(obj, "workflow", workflow_json(d)) < 0 ||
	    put(obj, "assignee", string_or_null(d->assignee)) < 0 ||
	    put(obj, "created_at", time_json(d->created_at)) < 0 ||
	    put(obj, "updated_at", time_json(d->updated_at)) < 0 ||
	    put(obj, "deadline", deadline_json(d)) < 0)
		goto done;
	/* only while a buyer awaits an answer: a dispute reads as before */
	if (d->reply_due_at && put(obj, "reply_deadline", reply_json(d)) < 0)
		goto done;
	result = obj;
	obj = NULL;
done:
	json_decref(obj);
	return result;
}

json_t *rd_dispute_page_to_json(const char *name, rd_dispute *const *list,
				size_t count, const char *next, int ranked)
{
	json_t *items = json_array();

	for (size_t i = 0; items && i < count; i++) {
		json_t *doc = rd_dispute_to_json(list[i]);

		/* a search says how well each dispute matched */
		if (doc && ranked &&
		    json_object_set_new(doc, "search",
					json_pack("{s:I}", "rank",
						  (json_int_t)list[i]
							  ->search_rank)) < 0) {
			json_decref(doc);
			doc = NULL;
		}
		if (json_array_append_new(items, doc) < 0) {
			json_decref(items);
			items = NULL;
		}
	}
	if (!items)
		return NULL;
	return json_pack("{s:o, s:o}", name, items, "next_cursor",
			 next ? json_string(next) : json_null());
}
