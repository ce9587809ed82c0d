/*
 * The settlement policy: parse workflows/policy.json, walk it against the
 * format of docs/offers.md, and keep the figures the offer engine needs as
 * exact integers (shares in basis points, rounding steps in minor units).
 *
 * The parser must never accept what it cannot fully explain: unknown
 * members, unknown reasons, offer types or currencies, ladders out of order
 * and shares out of range are refused, each refusal naming the file, the
 * JSON path and the reason. It never reads a file (the caller passes the
 * bytes) and never uses floating point: decimal text is read digit by digit.
 */
#include "core/definition.h"
#include "offer/offer_int.h"
#include "redress/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define path_member(out, base, key) \
	rd_def_path_member(out, PATH_BUFSZ, base, key)
#define path_index(out, base, i) rd_def_path_index(out, PATH_BUFSZ, base, i)
#define PATH_BUFSZ 160
#define LIST_BUFSZ 256
#define QUOTE_MAX 40

/* The most decimals a share may have: basis points are exact. */
#define SHARE_DECIMALS 4

struct parser {
	const char *origin;
	rd_error *err;
	rd_policy *policy;
};

/* Refuse the policy: "origin: path: reason", err->field = path. */
__attribute__((format(printf, 3, 4)))
static int refuse(struct parser *ps, const char *path, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = rd_def_vrefuse(ps->err, ps->origin, path, fmt, ap);
	va_end(ap);
	return rc;
}

static int out_of_memory(struct parser *ps)
{
	return rd_error_set(ps->err, RD_ENOMEM, "%s: out of memory",
			    ps->origin);
}

/*
 * Text from the file, fit to quote in a message: at most QUOTE_MAX bytes,
 * anything but printable ASCII shown as '?', "..." when cut.
 */
static void quote_text(char out[QUOTE_MAX + 4], const char *text)
{
	size_t i;

	for (i = 0; i < QUOTE_MAX && text[i] != '\0'; i++) {
		unsigned char c = (unsigned char)text[i];

		out[i] = (char)(c >= 0x20 && c < 0x7f && c != '"' ? c : '?');
	}
	if (text[i] != '\0') {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

/* "a, b, c" from count names given by name_at, cut to fit. */
static void list_names(char out[LIST_BUFSZ], const char *(*name_at)(size_t),
		       size_t count)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < count && used < LIST_BUFSZ; i++) {
		int n = snprintf(out + used, LIST_BUFSZ - used, "%s%s",
				 i ? ", " : "", name_at(i));

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static const char *reason_at(size_t i)
{
	return rd_reason_name((rd_reason)i);
}

static const char *offer_type_at(size_t i)
{
	return rd_offer_type_name((rd_offer_type)i);
}

/* ---- members of each object ------------------------------------------ */

enum member_kind {
	MK_STRING,
	MK_INTEGER,
	MK_BOOL,
	MK_OBJECT,
	MK_ARRAY,
	MK_SHARE     /* decimal text: a JSON string such as "0.25" */
};

static const char *const member_kind_text[] = {
	[MK_STRING] = "a string",
	[MK_INTEGER] = "an integer",
	[MK_BOOL] = "true or false",
	[MK_OBJECT] = "an object",
	[MK_ARRAY] = "an array",
	[MK_SHARE] = "decimal text such as \"0.25\" (a JSON string)",
};

typedef rd_def_member def_member;

#define MEMBERS(table) (table), sizeof(table) / sizeof((table)[0])

static const def_member document_members[] = {
	{ "name", MK_STRING, 1 },
	{ "version", MK_INTEGER, 1 },
	{ "description", MK_STRING, 0 },
	{ "refund_shipping", MK_BOOL, 0 },
	{ "discount_ladder", MK_ARRAY, 1 },
	{ "copay_ladder", MK_ARRAY, 1 },
	{ "rounding", MK_OBJECT, 0 },
	{ "caps", MK_OBJECT, 0 },
	{ "reasons", MK_OBJECT, 1 },
	{ "buyer_history", MK_OBJECT, 0 },
};

static const def_member history_members[] = {
	{ "window_days", MK_INTEGER, 1 },
	{ "max_refunds", MK_INTEGER, 1 },
};

static const def_member caps_members[] = {
	{ "max_discount_share", MK_SHARE, 0 },
};

static const def_member reason_members[] = {
	{ "description", MK_STRING, 0 },
	{ "offers", MK_ARRAY, 1 },
	{ "copay", MK_BOOL, 0 },
	{ "salvage", MK_SHARE, 0 },
	{ "return_max_share", MK_SHARE, 0 },
	{ "return_paid_by_buyer", MK_BOOL, 0 },
};

static int kind_matches(int kind, const json_t *value)
{
	switch ((enum member_kind)kind) {
	case MK_STRING: return json_is_string(value);
	case MK_INTEGER: return json_is_integer(value);
	case MK_BOOL: return json_is_boolean(value);
	case MK_OBJECT: return json_is_object(value);
	case MK_ARRAY: return json_is_array(value);
	case MK_SHARE: return json_is_string(value);
	}
	return 0;
}

static const rd_def_kinds member_kinds = { kind_matches, member_kind_text };

/*
 * `obj` (at `path`) is an object whose members all appear in the table, each
 * of its kind, with every required one present.
 */
static int check_members(struct parser *ps, json_t *obj, const char *path,
			 const def_member *table, size_t count)
{
	return rd_def_check_members(ps->err, ps->origin, path, obj, table,
				    count, &member_kinds);
}

/* ---- shares ------------------------------------------------------------ */

/*
 * Decimal text -> basis points: digit+ ['.' digit{1,4}], nothing else (no
 * sign, exponent or spaces). 0 or -1 with *why saying what is wrong. Values
 * far above one stop accumulating, so no length of text can overflow.
 */
static int share_from_text(int64_t *out, const char *text, const char **why)
{
	const char *p = text;
	int64_t whole = 0, fraction = 0;
	int int_digits = 0, frac_digits = 0;

	while (*p >= '0' && *p <= '9') {
		if (whole <= OF_BP_ONE)
			whole = whole * 10 + (*p - '0');
		int_digits++;
		p++;
	}
	if (int_digits == 0) {
		*why = "it must start with a digit";
		return -1;
	}
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			if (frac_digits < SHARE_DECIMALS)
				fraction = fraction * 10 + (*p - '0');
			frac_digits++;
			p++;
		}
		if (frac_digits == 0) {
			*why = "digits are needed after the decimal point";
			return -1;
		}
		if (frac_digits > SHARE_DECIMALS) {
			*why = "at most 4 decimals are allowed";
			return -1;
		}
	}
	if (*p != '\0') {
		*why = "only digits and one decimal point are allowed";
		return -1;
	}
	for (int i = frac_digits; i < SHARE_DECIMALS; i++)
		fraction *= 10;
	*out = whole * OF_BP_ONE + fraction;
	return 0;
}

/*
 * The share at `path` (a JSON string), in basis points: 0..1, or above 0
 * and at most 1 when low_open.
 */
static int read_share(struct parser *ps, int64_t *out, json_t *value,
		      const char *path, int low_open)
{
	const char *text = json_string_value(value);
	char quoted[QUOTE_MAX + 4];
	const char *why = NULL;
	int64_t bp, low = 0, high = OF_BP_ONE;

	if (!text)
		return refuse(ps, path, "must be %s", member_kind_text[MK_SHARE]);
	quote_text(quoted, text);
	if (share_from_text(&bp, text, &why) < 0)
		return refuse(ps, path,
			      "\"%s\" is not a share: %s (write a decimal "
			      "such as \"0.25\")",
			      quoted, why);
	if (bp < low || (low_open && bp == low) || bp > high)
		return refuse(ps, path,
			      "\"%s\" is out of range: this share must be "
			      "%s 0 and at most 1",
			      quoted, low_open ? "above" : "at least");
	*out = bp;
	return RD_OK;
}

/* ---- ladders ------------------------------------------------------------ */

/*
 * A ladder: 1..OF_MAX_RUNGS shares; the discount ladder strictly increasing
 * within (0, 1], the co-pay ladder strictly decreasing within [0, 1].
 */
static int load_ladder(struct parser *ps, json_t *list, const char *path,
		       int increasing, int64_t rungs[OF_MAX_RUNGS],
		       size_t *count)
{
	size_t n = json_array_size(list);
	char sub[PATH_BUFSZ];
	int rc;

	if (n == 0)
		return refuse(ps, path, "must have at least one rung");
	if (n > OF_MAX_RUNGS)
		return refuse(ps, path, "has %zu rungs; at most %d are allowed",
			      n, OF_MAX_RUNGS);
	for (size_t i = 0; i < n; i++) {
		path_index(sub, path, i);
		if ((rc = read_share(ps, &rungs[i], json_array_get(list, i),
				     sub, increasing)) < 0)
			return rc;
		if (i > 0 && increasing && rungs[i] <= rungs[i - 1])
			return refuse(ps, sub,
				      "rungs must be strictly increasing: "
				      "each share above the one before");
		if (i > 0 && !increasing && rungs[i] >= rungs[i - 1])
			return refuse(ps, sub,
				      "rungs must be strictly decreasing: "
				      "each share below the one before");
	}
	*count = n;
	return RD_OK;
}

/* ---- rounding ------------------------------------------------------------ */

/* A currency of four decimals reads "default": a step in major units. */
static const rd_currency default_units = { "---", 4, "major units" };

static int load_rounding(struct parser *ps, json_t *rounding)
{
	rd_policy *policy = ps->policy;
	char path[PATH_BUFSZ], quoted[QUOTE_MAX + 4];
	const char *key;
	json_t *value;

	if (!rounding)
		return RD_OK;
	policy->rounding = calloc(json_object_size(rounding) + 1,
				  sizeof(*policy->rounding));
	if (!policy->rounding)
		return out_of_memory(ps);
	json_object_foreach(rounding, key, value) {
		int is_default = strcmp(key, "default") == 0;
		const rd_currency *cur = is_default ? &default_units
						    : rd_currency_find(key);
		rd_error money_err;
		int64_t step;

		path_member(path, "rounding", key);
		quote_text(quoted, key);
		if (!cur)
			return refuse(ps, path,
				      "unknown currency \"%s\" (use an ISO "
				      "4217 code such as USD, or \"default\")",
				      quoted);
		if (!json_is_string(value))
			return refuse(ps, path,
				      "must be decimal text such as \"0.01\" "
				      "(a JSON string)");
		if (rd_money_parse(&step, json_string_value(value), cur,
				   &money_err) < 0)
			return refuse(ps, path, "%s", money_err.message);
		if (step <= 0)
			return refuse(ps, path,
				      "a rounding step must be above zero");
		if (step > OF_STEP_MAX)
			return refuse(ps, path,
				      "a rounding step may be at most %lld "
				      "minor units",
				      (long long)OF_STEP_MAX);
		if (is_default) {
			policy->default_step_e4 = step;
			continue;
		}
		memcpy(policy->rounding[policy->rounding_count].code,
		       cur->code, sizeof(cur->code));
		policy->rounding[policy->rounding_count].step = step;
		policy->rounding_count++;
	}
	return RD_OK;
}

int64_t of_policy_step(const rd_policy *policy, const rd_currency *cur)
{
	static const int64_t pow10[] = { 1, 10, 100, 1000, 10000 };
	int64_t step = 0;

	for (size_t i = 0; i < policy->rounding_count; i++)
		if (strcmp(policy->rounding[i].code, cur->code) == 0)
			return policy->rounding[i].step;
	if (policy->default_step_e4 > 0 && cur->exponent >= 0 &&
	    cur->exponent <= 4 &&
	    rd_money_mul_ratio(&step, policy->default_step_e4, 1,
			       pow10[4 - cur->exponent], NULL) == RD_OK &&
	    step >= 1)
		return step;
	return 1;
}

/* ---- caps ------------------------------------------------------------ */

static int load_caps(struct parser *ps, json_t *caps)
{
	json_t *share;
	int rc;

	ps->policy->max_discount_bp = OF_BP_ONE;
	if (!caps)
		return RD_OK;
	if ((rc = check_members(ps, caps, "caps", MEMBERS(caps_members))) < 0)
		return rc;
	share = json_object_get(caps, "max_discount_share");
	if (share && (rc = read_share(ps, &ps->policy->max_discount_bp, share,
				      "caps.max_discount_share", 1)) < 0)
		return rc;
	return RD_OK;
}

/* ---- buyer_history ------------------------------------------------------- */

/* The longest window and the most refunds the rule takes. */
#define HISTORY_DAYS_MAX 3650
#define HISTORY_REFUNDS_MAX 10000

/*
 * {"window_days": D, "max_refunds": N}: refund_keep_item (a refund without
 * a return) is withheld from a buyer with more than N refunded disputes in
 * the storefront in the last D days (propose.c).
 */
static int load_history(struct parser *ps, json_t *history)
{
	json_int_t days, most;
	int rc;

	ps->policy->history_days = 0;
	ps->policy->history_max_refunds = 0;
	if (!history)
		return RD_OK;
	if ((rc = check_members(ps, history, "buyer_history",
				MEMBERS(history_members))) < 0)
		return rc;
	days = json_integer_value(json_object_get(history, "window_days"));
	most = json_integer_value(json_object_get(history, "max_refunds"));
	if (days < 1 || days > HISTORY_DAYS_MAX)
		return refuse(ps, "buyer_history.window_days",
			      "must be 1 to %d days, got %lld",
			      HISTORY_DAYS_MAX, (long long)days);
	if (most < 0 || most > HISTORY_REFUNDS_MAX)
		return refuse(ps, "buyer_history.max_refunds",
			      "must be 0 to %d refunds, got %lld",
			      HISTORY_REFUNDS_MAX, (long long)most);
	ps->policy->history_days = (int64_t)days;
	ps->policy->history_max_refunds = (int64_t)most;
	return RD_OK;
}

/* ---- reasons ------------------------------------------------------------ */

static int load_offers(struct parser *ps, struct of_reason_rule *rule,
		       json_t *offers, const char *path)
{
	size_t n = json_array_size(offers);
	char sub[PATH_BUFSZ], quoted[QUOTE_MAX + 4];

	if (n == 0)
		return refuse(ps, path, "must list at least one offer type");
	for (size_t i = 0; i < n; i++) {
		const char *name = json_string_value(json_array_get(offers, i));
		rd_offer_type type;

		path_index(sub, path, i);
		if (!name)
			return refuse(ps, sub, "must be a string");
		quote_text(quoted, name);
		if (rd_offer_type_parse(&type, name, NULL) < 0) {
			char known[LIST_BUFSZ];

			list_names(known, offer_type_at, RD_OFFER_TYPE_COUNT);
			return refuse(ps, sub,
				      "unknown offer type \"%s\" (known: %s)",
				      quoted, known);
		}
		if (rule->offers & (1u << type))
			return refuse(ps, sub, "\"%s\" is listed twice",
				      rd_offer_type_name(type));
		rule->offers |= 1u << type;
	}
	return RD_OK;
}

/* What the model forbids whatever a policy says (SPEC section 5). */
static int check_reason_rule(struct parser *ps, rd_reason reason,
			     const struct of_reason_rule *rule,
			     json_t *value, const char *path)
{
	char sub[PATH_BUFSZ];
	unsigned offers = rule->offers;

	path_member(sub, path, "offers");
	if (reason == RD_REASON_NOT_RECEIVED &&
	    (offers & (1u << RD_OFFER_PARTIAL_DISCOUNT)))
		return refuse(ps, sub,
			      "not_received may not offer partial_discount: "
			      "there is nothing to discount on a parcel that "
			      "never arrived");
	if (reason == RD_REASON_NOT_RECEIVED &&
	    (offers & (1u << RD_OFFER_REFUND_WITH_RETURN)))
		return refuse(ps, sub,
			      "not_received may not offer refund_with_return: "
			      "there is nothing to return from a parcel that "
			      "never arrived");
	path_member(sub, path, "copay");
	if (rule->copay && reason == RD_REASON_NOT_RECEIVED)
		return refuse(ps, sub,
			      "must be false for not_received: the buyer "
			      "does not pay again for a parcel that never "
			      "arrived");
	if (rule->copay && reason == RD_REASON_WRONG_ITEM)
		return refuse(ps, sub,
			      "must be false for wrong_item: the buyer does "
			      "not pay towards the seller's mistake");
	if (rule->copay && !(offers & (1u << RD_OFFER_RESHIPMENT)))
		return refuse(ps, sub,
			      "co-pay applies to reshipment, which this "
			      "reason does not offer");
	if (!(offers & (1u << RD_OFFER_REFUND_WITH_RETURN))) {
		static const char *const return_members[] = {
			"return_max_share", "return_paid_by_buyer"
		};

		for (size_t i = 0; i < 2; i++) {
			if (!json_object_get(value, return_members[i]))
				continue;
			path_member(sub, path, return_members[i]);
			return refuse(ps, sub,
				      "applies to refund_with_return, which "
				      "this reason does not offer");
		}
	}
	return RD_OK;
}

static int load_reason(struct parser *ps, rd_reason reason, json_t *value,
		       const char *path)
{
	struct of_reason_rule *rule = &ps->policy->reasons[reason];
	char sub[PATH_BUFSZ];
	json_t *share;
	int rc;

	if ((rc = check_members(ps, value, path, MEMBERS(reason_members))) < 0)
		return rc;
	path_member(sub, path, "offers");
	if ((rc = load_offers(ps, rule, json_object_get(value, "offers"),
			      sub)) < 0)
		return rc;
	rule->copay = json_is_true(json_object_get(value, "copay"));
	rule->return_paid_by_buyer =
		json_is_true(json_object_get(value, "return_paid_by_buyer"));
	rule->salvage_bp = 0;
	rule->return_max_bp = OF_NO_LIMIT;
	share = json_object_get(value, "salvage");
	path_member(sub, path, "salvage");
	if (share && (rc = read_share(ps, &rule->salvage_bp, share, sub,
				      0)) < 0)
		return rc;
	share = json_object_get(value, "return_max_share");
	path_member(sub, path, "return_max_share");
	if (share && (rc = read_share(ps, &rule->return_max_bp, share, sub,
				      0)) < 0)
		return rc;
	return check_reason_rule(ps, reason, rule, value, path);
}

static int load_reasons(struct parser *ps, json_t *reasons)
{
	int seen[RD_REASON_COUNT] = { 0 };
	char path[PATH_BUFSZ], quoted[QUOTE_MAX + 4];
	const char *key;
	json_t *value;
	int rc;

	json_object_foreach(reasons, key, value) {
		rd_reason reason;

		path_member(path, "reasons", key);
		if (rd_reason_parse(&reason, key, NULL) < 0) {
			char known[LIST_BUFSZ];

			quote_text(quoted, key);
			list_names(known, reason_at, RD_REASON_COUNT);
			return refuse(ps, path,
				      "unknown reason \"%s\" (known: %s)",
				      quoted, known);
		}
		if ((rc = load_reason(ps, reason, value, path)) < 0)
			return rc;
		seen[reason] = 1;
	}
	for (size_t i = 0; i < RD_REASON_COUNT; i++) {
		if (seen[i])
			continue;
		path_member(path, "reasons", rd_reason_name((rd_reason)i));
		return refuse(ps, path,
			      "reason missing: every reason needs a rule "
			      "(an object with at least \"offers\")");
	}
	return RD_OK;
}

/* ---- the document ------------------------------------------------------ */

/* 1 when s is a lower-case letter then up to 63 of [a-z0-9_-]. */
static int name_valid(const char *s)
{
	if (s[0] < 'a' || s[0] > 'z')
		return 0;
	for (size_t n = 1; s[n]; n++) {
		char c = s[n];

		if (n >= OF_NAME_MAX)
			return 0;
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-')
			continue;
		return 0;
	}
	return 1;
}

static int load_document(struct parser *ps, json_t *doc)
{
	rd_policy *policy = ps->policy;
	const char *name;
	char quoted[QUOTE_MAX + 4];
	json_t *value;
	int rc;

	if ((rc = check_members(ps, doc, "", MEMBERS(document_members))) < 0)
		return rc;
	name = json_string_value(json_object_get(doc, "name"));
	quote_text(quoted, name);
	if (!name_valid(name))
		return refuse(ps, "name",
			      "\"%s\" is not a valid policy name: a lower-case "
			      "letter, then up to 63 lower-case letters, "
			      "digits, _ or -",
			      quoted);
	memcpy(policy->name, name, strlen(name) + 1);
	policy->version = json_integer_value(json_object_get(doc, "version"));
	if (policy->version < 1)
		return refuse(ps, "version", "must be at least 1, got %lld",
			      (long long)policy->version);
	value = json_object_get(doc, "refund_shipping");
	policy->refund_shipping = value ? json_is_true(value) : 1;
	if ((rc = load_ladder(ps, json_object_get(doc, "discount_ladder"),
			      "discount_ladder", 1, policy->discount_bp,
			      &policy->discount_count)) < 0 ||
	    (rc = load_ladder(ps, json_object_get(doc, "copay_ladder"),
			      "copay_ladder", 0, policy->copay_bp,
			      &policy->copay_count)) < 0 ||
	    (rc = load_rounding(ps, json_object_get(doc, "rounding"))) < 0 ||
	    (rc = load_caps(ps, json_object_get(doc, "caps"))) < 0 ||
	    (rc = load_history(ps, json_object_get(doc,
						   "buyer_history"))) < 0 ||
	    (rc = load_reasons(ps, json_object_get(doc, "reasons"))) < 0)
		return rc;
	return RD_OK;
}

/* The content hash: SHA-256 of the exact bytes. */
static void hash_hex(char out[OF_HASH_BUFSZ], const char *bytes, size_t len)
{
	rd_def_sha256_hex(out, bytes, len);
}

int rd_policy_parse(rd_policy **out, const char *text, size_t len,
		    const char *origin, rd_error *err)
{
	struct parser ps = { 0 };
	rd_policy *policy = NULL;
	json_t *doc = NULL;
	json_error_t jerr;
	int rc;

	if (!origin)
		origin = "(policy)";
	if (!out || (!text && len))
		return rd_error_set(err, RD_EINTERNAL,
				    "%s: rd_policy_parse needs an output and "
				    "text", origin);
	*out = NULL;
	if (!text)
		text = "";
	ps.origin = origin;
	ps.err = err;
	policy = calloc(1, sizeof(*policy));
	if (!policy || !(policy->source = malloc(len + 1))) {
		rc = out_of_memory(&ps);
		goto done;
	}
	memcpy(policy->source, text, len);
	policy->source[len] = '\0';
	policy->source_len = len;
	ps.policy = policy;
	doc = rd_json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		rc = rd_error_set(err, RD_EDEFINITION, "%s:%d:%d: %s", origin,
				  jerr.line, jerr.column, jerr.text);
		goto done;
	}
	if ((rc = load_document(&ps, doc)) < 0)
		goto done;
	hash_hex(policy->hash, text, len);
	*out = policy;
	policy = NULL;
	rc = RD_OK;
done:
	json_decref(doc);
	rd_policy_free(policy);
	return rc;
}

void rd_policy_free(rd_policy *policy)
{
	if (!policy)
		return;
	free(policy->rounding);
	free(policy->source);
	free(policy);
}

const char *rd_policy_name(const rd_policy *policy)
{
	return policy ? policy->name : NULL;
}

int64_t rd_policy_version(const rd_policy *policy)
{
	return policy ? policy->version : 0;
}

const char *rd_policy_hash(const rd_policy *policy)
{
	return policy ? policy->hash : NULL;
}

const char *rd_policy_source(const rd_policy *policy)
{
	return policy ? policy->source : NULL;
}

int64_t rd_policy_history_days(const rd_policy *policy)
{
	return policy ? policy->history_days : 0;
}
