/*
 * Buyer-facing templates: the shipped templates/ loads with exactly its 11
 * moments in 7 locales and renders every moment in every locale; copies of
 * it, each broken in one way, are refused naming the file (and the line);
 * a buyer's tag chooses the texts' locale, English when none fits; and a
 * render refuses missing, mistyped and undeclared values.
 */
#include "test.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "redress/locale.h"

#define TEMPLATES_DIR REDRESS_SOURCE_DIR "/templates"

#define NBSP "\xc2\xa0"

/* 2026-03-02T09:00:00Z */
#define MARCH_2 INT64_C(1772442000)

static const char *const shipped_locales[] = {
	"de", "en", "es", "fr", "ja", "pt-BR", "zh-Hans",
};

#define LOCALE_COUNT (sizeof(shipped_locales) / sizeof(shipped_locales[0]))

/* The moments in name order with their variables, as the service fills
 * them: "name:type" in the order of moments.json. */
static const struct {
	const char *name;
	const char *vars[5];
} shipped_moments[] = {
	{ "acknowledgement", { "order_ref:text", "agent_name:text" } },
	{ "offer_accepted", { "order_ref:text" } },
	{ "offer_partial_discount",
	  { "order_ref:text", "amount:money", "respond_by:date" } },
	{ "offer_refund_keep_item",
	  { "order_ref:text", "amount:money", "respond_by:date" } },
	{ "offer_refund_with_return",
	  { "order_ref:text", "amount:money", "respond_by:date" } },
	{ "offer_reshipment",
	  { "order_ref:text", "item:text", "respond_by:date" } },
	{ "offer_reshipment_copay",
	  { "order_ref:text", "item:text", "buyer_pays:money",
	    "respond_by:date" } },
	{ "refund_sent", { "order_ref:text", "amount:money" } },
	{ "request_photos", { "order_ref:text", "item:text" } },
	{ "request_tracking", { "order_ref:text" } },
	{ "reshipment_sent",
	  { "order_ref:text", "item:text", "carrier:text", "tracking:text" } },
};

#define MOMENT_COUNT (sizeof(shipped_moments) / sizeof(shipped_moments[0]))

static const char *const type_names[] = {
	[RD_TVAR_TEXT] = "text",
	[RD_TVAR_MONEY] = "money",
	[RD_TVAR_DATE] = "date",
};

static rd_templates *shipped(void)
{
	rd_templates *t = NULL;
	rd_error err = { 0 };

	if (rd_templates_load(&t, TEMPLATES_DIR, &err) < 0)
		fprintf(stderr, "  %s\n", err.message);
	return t;
}

/*
 * A value for every variable the moment declares: text "<NAME>-value",
 * money `minor` USD, dates MARCH_2. At most 8.
 */
static size_t full_values(const rd_templates *t, const char *moment,
			  int64_t minor, rd_tvalue values[8], char texts[8][64])
{
	const rd_tvar *vars = NULL;
	size_t count = 0;
	rd_error err = { 0 };

	if (rd_templates_vars(t, moment, &vars, &count, &err) < 0 || count > 8)
		return 0;
	for (size_t i = 0; i < count; i++) {
		memset(&values[i], 0, sizeof(values[i]));
		values[i].name = vars[i].name;
		values[i].type = vars[i].type;
		snprintf(texts[i], 64, "%s-value", vars[i].name);
		values[i].text = texts[i];
		values[i].minor = minor;
		values[i].currency = "USD";
		values[i].at = MARCH_2;
	}
	return count;
}

/* ---- the shipped set ---------------------------------------------------- */

static void shipped_set_loads(void)
{
	rd_templates *t = shipped();
	rd_error err = { 0 };

	CHECK(t != NULL);
	CHECK_INT(rd_templates_count(t), MOMENT_COUNT);
	CHECK_INT(rd_templates_locale_count(t), LOCALE_COUNT);
	for (size_t i = 0; i < LOCALE_COUNT; i++)
		CHECK_STR(rd_templates_locale_at(t, i), shipped_locales[i]);
	CHECK(rd_templates_locale_at(t, LOCALE_COUNT) == NULL);
	for (size_t i = 0; i < MOMENT_COUNT; i++) {
		const rd_tvar *vars = NULL;
		size_t count = 0, expected = 0;

		CHECK_STR(rd_templates_name_at(t, i), shipped_moments[i].name);
		CHECK(rd_templates_description(t, shipped_moments[i].name) !=
		      NULL);
		CHECK_OK(rd_templates_vars(t, shipped_moments[i].name, &vars,
					   &count, &err), &err);
		while (expected < 5 && shipped_moments[i].vars[expected])
			expected++;
		CHECK_INT(count, expected);
		for (size_t j = 0; j < count; j++) {
			char spec[80];

			snprintf(spec, sizeof(spec), "%s:%s", vars[j].name,
				 type_names[vars[j].type]);
			CHECK_STR(spec, shipped_moments[i].vars[j]);
			CHECK(vars[j].description != NULL &&
			      vars[j].description[0] != '\0');
		}
	}
	CHECK(rd_templates_name_at(t, MOMENT_COUNT) == NULL);
	CHECK(rd_templates_description(t, "nope") == NULL);
	{
		const rd_tvar *vars = NULL;
		size_t count = 9;

		CHECK_FAILS(rd_templates_vars(t, "nope", &vars, &count, &err),
			    RD_ENOTFOUND);
		CHECK_INT(count, 0);
	}
	rd_templates_free(t);
	rd_templates_free(NULL);
}

static void every_moment_every_locale_renders(void)
{
	rd_templates *t = shipped();

	CHECK(t != NULL);
	for (size_t l = 0; l < LOCALE_COUNT; l++) {
		for (size_t m = 0; m < MOMENT_COUNT; m++) {
			const char *moment = shipped_moments[m].name;
			rd_tvalue values[8];
			char texts[8][64];
			size_t count = full_values(t, moment, 11500, values,
						   texts);
			rd_rendered r = { 0 };
			rd_error err = { 0 };

			CHECK(count > 0);
			CHECK_OK(rd_templates_render(t, moment,
						     shipped_locales[l],
						     "Europe/Berlin", values,
						     count, &r, &err), &err);
			CHECK_STR(r.locale, shipped_locales[l]);
			CHECK_INT(r.fell_back, 0);
			/* every value is in, no placeholder is left */
			CHECK(strstr(r.text, "{{") == NULL);
			CHECK(strstr(r.text, "}}") == NULL);
			for (size_t v = 0; v < count; v++)
				if (values[v].type == RD_TVAR_TEXT)
					CHECK_HAS(r.text, values[v].text);
				else if (values[v].type == RD_TVAR_MONEY)
					CHECK_HAS(r.text, "115");
				else
					CHECK_HAS(r.text, "2026");
			CHECK(strlen(r.text) > 40);
			rd_rendered_clear(&r);
			CHECK(r.text == NULL);
		}
	}
	rd_templates_free(t);
}

/*
 * No text can show a seller's cost: no variable of the seller's side is
 * declared (the loader refuses one), and a render with every amount at
 * 115.00 shows no other amount, such as a cost of 987.65.
 */
static void no_seller_amount(void)
{
	rd_templates *t = shipped();

	CHECK(t != NULL);
	for (size_t m = 0; m < MOMENT_COUNT; m++) {
		const rd_tvar *vars = NULL;
		size_t count = 0;
		rd_error err = { 0 };

		CHECK_OK(rd_templates_vars(t, shipped_moments[m].name, &vars,
					   &count, &err), &err);
		for (size_t v = 0; v < count; v++) {
			CHECK(strstr(vars[v].name, "cost") == NULL);
			CHECK(strstr(vars[v].name, "margin") == NULL);
			CHECK(strstr(vars[v].name, "profit") == NULL);
		}
		for (size_t l = 0; l < LOCALE_COUNT; l++) {
			rd_tvalue values[8];
			char texts[8][64];
			size_t n = full_values(t, shipped_moments[m].name,
					       11500, values, texts);
			rd_rendered r = { 0 };

			CHECK_OK(rd_templates_render(t, shipped_moments[m].name,
						     shipped_locales[l], NULL,
						     values, n, &r, &err),
				 &err);
			CHECK(strstr(r.text, "987") == NULL);
			rd_rendered_clear(&r);
		}
	}
	rd_templates_free(t);
}

/* ---- rendering ---------------------------------------------------------- */

static void german_offer(void)
{
	rd_templates *t = shipped();
	rd_tvalue values[8];
	char texts[8][64];
	size_t count;
	rd_rendered r = { 0 };
	rd_error err = { 0 };

	CHECK(t != NULL);
	count = full_values(t, "offer_refund_keep_item", 11500, values, texts);
	CHECK_INT(count, 3);
	CHECK_OK(rd_templates_render(t, "offer_refund_keep_item", "de-DE",
				     "Europe/Berlin", values, count, &r, &err),
		 &err);
	CHECK_STR(r.locale, "de");
	CHECK_INT(r.fell_back, 0);
	/* ICU 72 writes a no-break space (U+00A0) before the symbol */
	CHECK_HAS(r.text, "Erstattung von 115,00" NBSP "$ anbieten");
	CHECK_HAS(r.text, "bis 2. März 2026, 10:00 MEZ mit");
	CHECK_HAS(r.text, "Bestellung order_ref-value Probleme");
	CHECK(strncmp(r.text, "Guten Tag,\n\n", 12) == 0);
	rd_rendered_clear(&r);

	/* de-CH: German words, Swiss numbers */
	CHECK_OK(rd_templates_render(t, "offer_refund_keep_item", "de-CH",
				     "Europe/Zurich", values, count, &r, &err),
		 &err);
	CHECK_STR(r.locale, "de");
	CHECK_HAS(r.text, "115.00");
	CHECK_HAS(r.text, "Guten Tag");
	rd_rendered_clear(&r);

	/* no texts for Traditional Chinese: English, with English numbers */
	CHECK_OK(rd_templates_render(t, "offer_refund_keep_item", "zh-TW",
				     NULL, values, count, &r, &err), &err);
	CHECK_STR(r.locale, "en");
	CHECK_INT(r.fell_back, 1);
	CHECK_HAS(r.text, "a refund of $115.00, and");
	CHECK_HAS(r.text, "by Mar 2, 2026, 9:00\xe2\x80\xaf" "AM UTC whether");
	rd_rendered_clear(&r);
	rd_rendered_clear(NULL);
	rd_templates_free(t);
}

static void render_refusals(void)
{
	rd_templates *t = shipped();
	rd_tvalue values[8], extra[9];
	char texts[8][64];
	size_t count;
	rd_rendered r = { 0 };
	rd_error err = { 0 };

	CHECK(t != NULL);
	count = full_values(t, "offer_refund_keep_item", 11500, values, texts);
	CHECK_INT(count, 3);

	/* a value missing: the amount (values[1]) left out */
	extra[0] = values[0];
	extra[1] = values[2];
	CHECK_FAILS(rd_templates_render(t, "offer_refund_keep_item", "fr-FR",
					NULL, extra, 2, &r, &err),
		    RD_EINVALID);
	CHECK_STR(err.field, "vars.amount");
	CHECK_HAS(err.message, "needs a value for amount");
	CHECK(r.text == NULL);

	/* mistyped: the amount as text */
	memcpy(extra, values, sizeof(values));
	extra[1].type = RD_TVAR_TEXT;
	CHECK_FAILS(rd_templates_render(t, "offer_refund_keep_item", "fr-FR",
					NULL, extra, count, &r, &err),
		    RD_EINVALID);
	CHECK_STR(err.field, "vars.amount");
	CHECK_HAS(err.message, "amount must be money");
	/* the date as money */
	memcpy(extra, values, sizeof(values));
	extra[2].type = RD_TVAR_MONEY;
	CHECK_FAILS(rd_templates_render(t, "offer_refund_keep_item", "fr-FR",
					NULL, extra, count, &r, &err),
		    RD_EINVALID);
	CHECK_STR(err.field, "vars.respond_by");

	/* a value the moment does not declare */
	memcpy(extra, values, sizeof(values));
	memset(&extra[count], 0, sizeof(extra[count]));
	extra[count].name = "seller_cost";
	extra[count].type = RD_TVAR_MONEY;
	extra[count].minor = 98765;
	extra[count].currency = "USD";
	CHECK_FAILS(rd_templates_render(t, "offer_refund_keep_item", "fr-FR",
					NULL, extra, count + 1, &r, &err),
		    RD_EINVALID);
	CHECK_STR(err.field, "vars.seller_cost");
	CHECK_HAS(err.message, "not a variable of the moment");

	/* a value given twice */
	memcpy(extra, values, sizeof(values));
	extra[count] = values[0];
	CHECK_FAILS(rd_templates_render(t, "offer_refund_keep_item", "fr-FR",
					NULL, extra, count + 1, &r, &err),
		    RD_EINVALID);
	CHECK_STR(err.field, "vars.order_ref");

	/* text that is not UTF-8, a currency unknown */
	memcpy(extra, values, sizeof(values));
	extra[0].text = "\xff";
	CHECK_FAILS(rd_templates_render(t, "offer_refund_keep_item", "fr-FR",
					NULL, extra, count, &r, &err),
		    RD_EINVALID);
	CHECK_STR(err.field, "vars.order_ref");
	memcpy(extra, values, sizeof(values));
	extra[1].currency = "ZZZ";
	CHECK_FAILS(rd_templates_render(t, "offer_refund_keep_item", "fr-FR",
					NULL, extra, count, &r, &err),
		    RD_EINVALID);
	CHECK_STR(err.field, "vars.amount");

	/* an unknown zone, an unknown moment */
	CHECK_FAILS(rd_templates_render(t, "offer_refund_keep_item", "fr-FR",
					"Mars/Olympus", values, count, &r,
					&err), RD_EINVALID);
	CHECK_STR(err.field, "zone");
	CHECK_FAILS(rd_templates_render(t, "offer_everything", "fr-FR", NULL,
					values, count, &r, &err),
		    RD_ENOTFOUND);
	CHECK(r.text == NULL);
	rd_templates_free(t);
}

static void resolve_cases(void)
{
	static const struct {
		const char *tag;
		const char *locale;
		int fell_back;
	} cases[] = {
		{ "de", "de", 0 },          { "de-DE", "de", 0 },
		{ "de-AT", "de", 0 },       { "de-CH", "de", 0 },
		{ "en-GB", "en", 0 },       { "en", "en", 0 },
		{ "fr-CA", "fr", 0 },       { "es-MX", "es", 0 },
		{ "ja-JP", "ja", 0 },       { "ja", "ja", 0 },
		{ "pt-BR", "pt-BR", 0 },    { "pt-br", "pt-BR", 0 },
		{ "pt-PT", "pt-BR", 0 },    { "pt", "pt-BR", 0 },
		{ "zh-CN", "zh-Hans", 0 },  { "zh-SG", "zh-Hans", 0 },
		{ "zh-Hans-CN", "zh-Hans", 0 }, { "zh", "zh-Hans", 0 },
		{ "zh-Hans", "zh-Hans", 0 },
		{ "zh-TW", "en", 1 },       { "zh-Hant", "en", 1 },
		{ "zh-HK", "en", 1 },       { "sr-Latn-RS", "en", 1 },
		{ "xx-YY", "en", 1 },       { "nl-NL", "en", 1 },
		{ "", "en", 1 },            { NULL, "en", 1 },
		{ "de_DE!", "en", 1 },      { "und", "en", 1 },
	};
	rd_templates *t = shipped();

	CHECK(t != NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[RD_LOCALE_BUFSZ];
		int fell_back = -1;

		rd_templates_resolve(t, cases[i].tag, out, &fell_back);
		if (strcmp(out, cases[i].locale) != 0 ||
		    fell_back != cases[i].fell_back) {
			rd_test_fail(__FILE__, __LINE__,
				     "\"%s\" -> \"%s\" (fell_back %d), "
				     "expected \"%s\" (%d)",
				     cases[i].tag ? cases[i].tag : "(null)",
				     out, fell_back, cases[i].locale,
				     cases[i].fell_back);
			rd_templates_free(t);
			return;
		}
	}
	rd_templates_free(t);
}

/* ---- broken copies ------------------------------------------------------ */

static int copy_file(const char *from, const char *to)
{
	size_t len = 0;
	char *bytes = rd_test_read(from, &len);
	FILE *f;
	int rc = -1;

	if (!bytes)
		return -1;
	f = fopen(to, "wb");
	if (f) {
		rc = fwrite(bytes, 1, len, f) == len ? 0 : -1;
		if (fclose(f) != 0)
			rc = -1;
	}
	free(bytes);
	return rc;
}

/* Every file of src into dst (no subdirectories expected). */
static int copy_dir_files(const char *src, const char *dst)
{
	struct dirent *entry;
	DIR *d = opendir(src);
	int rc = 0;

	if (!d)
		return -1;
	while (rc == 0 && (entry = readdir(d)) != NULL) {
		char *from, *to;

		if (entry->d_name[0] == '.')
			continue;
		from = rd_test_path(src, entry->d_name);
		to = rd_test_path(dst, entry->d_name);
		rc = copy_file(from, to);
		free(from);
		free(to);
	}
	closedir(d);
	return rc;
}

/*
 * dst/name from src/name for every entry of src: files copied, directories
 * made and their files copied (templates/ has two levels: moments.json and
 * the locale directories of texts).
 */
static int copy_dir(const char *src, const char *dst)
{
	struct dirent *entry;
	DIR *d = opendir(src);
	int rc = 0;

	if (!d)
		return -1;
	while (rc == 0 && (entry = readdir(d)) != NULL) {
		char *from, *to;
		struct stat st;

		if (entry->d_name[0] == '.')
			continue;
		from = rd_test_path(src, entry->d_name);
		to = rd_test_path(dst, entry->d_name);
		if (stat(from, &st) != 0)
			rc = -1;
		else if (S_ISDIR(st.st_mode))
			rc = mkdir(to, 0700) == 0 ? copy_dir_files(from, to) : -1;
		else
			rc = copy_file(from, to);
		free(from);
		free(to);
	}
	closedir(d);
	return rc;
}

/* A fresh copy of the shipped templates: a new string (free()). */
static char *fresh_copy(void)
{
	char *dir = rd_test_tmpdir();

	if (dir && copy_dir(TEMPLATES_DIR, dir) != 0) {
		free(dir);
		return NULL;
	}
	return dir;
}

/* Write `text` to dir/rel; 0 or -1. */
static int put(const char *dir, const char *rel, const char *text)
{
	char *path = rd_test_path(dir, rel);
	int rc = rd_test_write(path, text);

	free(path);
	return rc;
}

/* The load of dir is refused with a message that is prefix + rest. */
static int refused_with(const char *dir, const char *rel, const char *rest)
{
	char expected[600];
	rd_templates *t = NULL;
	rd_error err = { 0 };
	int rc = rd_templates_load(&t, dir, &err);

	snprintf(expected, sizeof(expected), "%s/%s%s", dir, rel, rest);
	if (rc == RD_EDEFINITION && t == NULL &&
	    strcmp(err.message, expected) == 0)
		return 1;
	fprintf(stderr, "  rc %d, message:\n    %s\n  expected:\n    %s\n", rc,
		err.message, expected);
	rd_templates_free(t);
	return 0;
}

static void copy_loads(void)
{
	char *dir = fresh_copy();
	rd_templates *t = NULL;
	rd_error err = { 0 };

	CHECK(dir != NULL);
	/* a file beside moments.json is not a locale; hidden entries are
	 * skipped */
	CHECK(put(dir, "README.md", "notes") == 0);
	CHECK(put(dir, "en/.draft.txt", "{{nope}}") == 0);
	CHECK(put(dir, "en/notes.md", "{{nope}}") == 0);
	CHECK_OK(rd_templates_load(&t, dir, &err), &err);
	CHECK_INT(rd_templates_locale_count(t), LOCALE_COUNT);
	rd_templates_free(t);
	free(dir);
}

static void refused_undeclared_variable(void)
{
	char *dir = fresh_copy();

	CHECK(dir != NULL);
	CHECK(put(dir, "en/offer_reshipment.txt",
		  "Hello,\n\nyour order {{order_ref}}:\nwe refund {{amount}}.\n") ==
	      0);
	CHECK(refused_with(dir, "en/offer_reshipment.txt",
			   ":4: {{amount}} is not a variable of the moment "
			   "offer_reshipment (its variables: order_ref, item, "
			   "respond_by)"));
	free(dir);
}

static void refused_seller_side(void)
{
	char *dir = fresh_copy(), *path = NULL, *moments = NULL;
	char *declared = NULL;
	const char *at;
	size_t len = 0;
	rd_templates *t = NULL;
	rd_error err = { 0 };

	CHECK(dir != NULL);
	/* used in a text */
	CHECK(put(dir, "de/refund_sent.txt",
		  "Guten Tag,\nErstattet: {{amount}}\nUns kostete es "
		  "{{seller_cost}}.\n") == 0);
	CHECK(refused_with(dir, "de/refund_sent.txt",
			   ":3: {{seller_cost}} is of the seller's side (its "
			   "name holds \"cost\"): no buyer-facing text may "
			   "name a cost, margin or profit"));
	CHECK(put(dir, "de/refund_sent.txt", "{{net_margin}}\n") == 0);
	CHECK(refused_with(dir, "de/refund_sent.txt",
			   ":1: {{net_margin}} is of the seller's side (its "
			   "name holds \"margin\"): no buyer-facing text may "
			   "name a cost, margin or profit"));
	free(dir);

	/* declared in moments.json: refused even though no text uses it */
	dir = fresh_copy();
	CHECK(dir != NULL);
	path = rd_test_path(dir, "moments.json");
	moments = rd_test_read(path, &len);
	CHECK(moments != NULL);
	at = strstr(moments, "\"refund_sent\"");
	CHECK(at != NULL);
	at = strstr(at, "\"vars\": {");
	CHECK(at != NULL);
	at += strlen("\"vars\": {");
	declared = malloc(len + 200);
	CHECK(declared != NULL);
	snprintf(declared, len + 200, "%.*s\n\"goods_cost\": {\"type\": "
		 "\"money\", \"description\": \"what the goods cost\"},%s",
		 (int)(at - moments), moments, at);
	CHECK(rd_test_write(path, declared) == 0);
	CHECK_FAILS(rd_templates_load(&t, dir, &err), RD_EDEFINITION);
	CHECK_STR(err.field, "moments.refund_sent.vars.goods_cost");
	CHECK(strncmp(err.message, path, strlen(path)) == 0);
	CHECK_HAS(err.message, ": moments.refund_sent.vars.goods_cost: "
			       "\"goods_cost\" is of the seller's side (its "
			       "name holds \"cost\")");
	free(declared);
	free(moments);
	free(path);
	free(dir);
}

static void refused_missing_text(void)
{
	char *dir = fresh_copy(), *path = NULL;

	CHECK(dir != NULL);
	path = rd_test_path(dir, "fr/offer_accepted.txt");
	CHECK(unlink(path) == 0);
	CHECK(refused_with(dir, "fr/offer_accepted.txt",
			   ": missing: every locale needs a text for every "
			   "moment of moments.json"));
	free(path);
	free(dir);
}

static void refused_bad_utf8(void)
{
	static const char *const bad[] = {
		"ok\n\xff here\n",            /* not a UTF-8 byte */
		"ok\nover\xc0\xaf long\n",    /* an overlong '/' */
		"ok\nsurrogate \xed\xa0\x80\n",
		"ok\ncut \xe3\x81\n",         /* a sequence cut short */
		"ok\nbeyond \xf4\x90\x80\x80\n",
	};
	char *dir = fresh_copy();

	CHECK(dir != NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char rest[80];
		const char *at = strchr(bad[i], '\n') + 1;

		while ((unsigned char)*at < 0x80)
			at++;
		snprintf(rest, sizeof(rest),
			 ":2: not UTF-8 (byte 0x%02x): save the text as UTF-8",
			 (unsigned)(unsigned char)*at);
		CHECK(put(dir, "ja/refund_sent.txt", bad[i]) == 0);
		CHECK(refused_with(dir, "ja/refund_sent.txt", rest));
	}
	free(dir);
}

static void refused_control_characters(void)
{
	char *dir = fresh_copy();

	CHECK(dir != NULL);
	CHECK(put(dir, "es/request_photos.txt", "Hola\n\nbell \a {{item}}\n") ==
	      0);
	CHECK(refused_with(dir, "es/request_photos.txt",
			   ":3: control character U+0007: a text may hold "
			   "only newlines and tabs"));
	CHECK(put(dir, "es/request_photos.txt", "Hola\r\n{{item}}\r\n") == 0);
	CHECK(refused_with(dir, "es/request_photos.txt",
			   ":1: control character U+000D: a text may hold "
			   "only newlines and tabs (save it with Unix line "
			   "endings)"));
	CHECK(put(dir, "es/request_photos.txt", "Hola\n\tnext \xc2\x85line\n") ==
	      0);
	CHECK(refused_with(dir, "es/request_photos.txt",
			   ":2: control character U+0085: a text may hold "
			   "only newlines and tabs"));
	CHECK(put(dir, "es/request_photos.txt", "Hola \x7f\n") == 0);
	CHECK(refused_with(dir, "es/request_photos.txt",
			   ":1: control character U+007F: a text may hold "
			   "only newlines and tabs"));
	free(dir);
}

static void refused_placeholders_and_sizes(void)
{
	char *dir = fresh_copy(), *big = NULL;
	const size_t big_len = 16 * 1024 + 1;

	CHECK(dir != NULL);
	CHECK(put(dir, "en/refund_sent.txt", "Hi\n{{ amount }}\n") == 0);
	CHECK(refused_with(dir, "en/refund_sent.txt",
			   ":2: malformed placeholder: write {{name}} with "
			   "the name of a variable (a lower-case letter, then "
			   "up to 63 lower-case letters, digits or _), or "
			   "{{{{ for a literal {{"));
	CHECK(put(dir, "en/refund_sent.txt", "Hi {{amount") == 0);
	CHECK(refused_with(dir, "en/refund_sent.txt",
			   ":1: malformed placeholder: write {{name}} with "
			   "the name of a variable (a lower-case letter, then "
			   "up to 63 lower-case letters, digits or _), or "
			   "{{{{ for a literal {{"));
	CHECK(put(dir, "en/refund_sent.txt", " \n\t\n") == 0);
	CHECK(refused_with(dir, "en/refund_sent.txt", ": empty text"));

	big = malloc(big_len + 1);
	CHECK(big != NULL);
	memset(big, 'a', big_len);
	big[big_len] = '\0';
	CHECK(put(dir, "en/refund_sent.txt", big) == 0);
	free(big);
	CHECK(refused_with(dir, "en/refund_sent.txt",
			   ": larger than 16384 bytes"));
	/* 16 KiB exactly is allowed */
	big = malloc(big_len);
	CHECK(big != NULL);
	memset(big, 'a', big_len - 1);
	big[big_len - 1] = '\0';
	CHECK(put(dir, "en/refund_sent.txt", big) == 0);
	free(big);
	{
		rd_templates *t = NULL;
		rd_error err = { 0 };

		CHECK_OK(rd_templates_load(&t, dir, &err), &err);
		rd_templates_free(t);
	}

	/* a text that names no moment */
	CHECK(put(dir, "en/refund_send.txt", "typo\n") == 0);
	CHECK(refused_with(dir, "en/refund_send.txt",
			   ": not a moment of moments.json"));
	free(dir);
}

static void literal_braces(void)
{
	char *dir = fresh_copy();
	rd_templates *t = NULL;
	rd_tvalue value = { 0 };
	rd_rendered r = { 0 };
	rd_error err = { 0 };

	CHECK(dir != NULL);
	CHECK(put(dir, "en/request_tracking.txt",
		  "Order {{order_ref}}: write {{{{order}} and {x} }} as is.\n") ==
	      0);
	CHECK_OK(rd_templates_load(&t, dir, &err), &err);
	value.name = "order_ref";
	value.type = RD_TVAR_TEXT;
	value.text = "#10482";
	CHECK_OK(rd_templates_render(t, "request_tracking", "en-US", NULL,
				     &value, 1, &r, &err), &err);
	CHECK_STR(r.text, "Order #10482: write {{order}} and {x} }} as is.\n");
	rd_rendered_clear(&r);
	rd_templates_free(t);
	free(dir);
}

static void refused_locales(void)
{
	char *dir = fresh_copy(), *from = NULL, *to = NULL;

	CHECK(dir != NULL);
	/* a directory whose name is not a tag */
	to = rd_test_path(dir, "pt_BR");
	CHECK(mkdir(to, 0700) == 0);
	CHECK(refused_with(dir, "pt_BR",
			   ": a locale directory must be named by a BCP 47 "
			   "language tag, such as \"de\" or \"pt-BR\""));
	CHECK(rmdir(to) == 0);
	free(to);
	/* a tag in another case than ICU writes it */
	from = rd_test_path(dir, "pt-BR");
	to = rd_test_path(dir, "pt-br");
	CHECK(rename(from, to) == 0);
	CHECK(refused_with(dir, "pt-br", ": write the locale as \"pt-BR\""));
	CHECK(rename(to, from) == 0);
	free(from);
	free(to);
	/* a new locale must hold every moment */
	to = rd_test_path(dir, "it");
	CHECK(mkdir(to, 0700) == 0);
	CHECK(refused_with(dir, "it/acknowledgement.txt",
			   ": missing: every locale needs a text for every "
			   "moment of moments.json"));
	CHECK(rmdir(to) == 0);
	free(to);
	/* English is everyone's fallback */
	from = rd_test_path(dir, "en");
	to = rd_test_path(dir, ".en-off");
	CHECK(rename(from, to) == 0);
	CHECK(refused_with(dir, "en",
			   ": missing: English is every buyer's fallback, so "
			   "the \"en\" texts must exist"));
	free(from);
	free(to);
	free(dir);
}

static void refused_moments_file(void)
{
	static const struct {
		const char *text;
		const char *rest;
	} cases[] = {
		{ "{\"version\": 1, \"moments\": {\"a\": {\"description\": \"\", "
		  "\"vars\": {\"n\": {\"type\": \"number\", \"description\": "
		  "\"\"}}}}}",
		  ": moments.a.vars.n.type: unknown type \"number\" (types: "
		  "text, money, date)" },
		{ "{\"version\": 1, \"moments\": {\"a\": {\"vars\": {}}}}",
		  ": moments.a.description: required member missing (a "
		  "string)" },
		{ "{\"version\": 1, \"moments\": {\"A\": {\"description\": \"\", "
		  "\"vars\": {}}}}",
		  ": moments.A: \"A\" is not a valid moment name: a lower-case "
		  "letter, then up to 63 lower-case letters, digits or _" },
		{ "{\"version\": 1, \"moments\": {\"a\": {\"description\": \"\", "
		  "\"vars\": {\"total_profit\": {\"type\": \"money\", "
		  "\"description\": \"\"}}}}}",
		  ": moments.a.vars.total_profit: \"total_profit\" is of the "
		  "seller's side (its name holds \"profit\"): no buyer-facing "
		  "text may name a cost, margin or profit" },
		{ "{\"version\": 0, \"moments\": {}}",
		  ": version: must be a positive integer" },
		{ "{\"version\": 1, \"moments\": {}, \"extra\": 1}",
		  ": extra: unknown member \"extra\" (allowed: version, "
		  "description, moments)" },
		{ "{\"version\": 1,", ":1:14: string or '}' expected near end "
		  "of file" },
	};
	char *dir = fresh_copy();

	CHECK(dir != NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(put(dir, "moments.json", cases[i].text) == 0);
		CHECK(refused_with(dir, "moments.json", cases[i].rest));
	}
	free(dir);
}

int main(void)
{
	RUN(shipped_set_loads);
	RUN(every_moment_every_locale_renders);
	RUN(no_seller_amount);
	RUN(german_offer);
	RUN(render_refusals);
	RUN(resolve_cases);
	RUN(copy_loads);
	RUN(refused_undeclared_variable);
	RUN(refused_seller_side);
	RUN(refused_missing_text);
	RUN(refused_bad_utf8);
	RUN(refused_control_characters);
	RUN(refused_placeholders_and_sizes);
	RUN(literal_braces);
	RUN(refused_locales);
	RUN(refused_moments_file);
	return rd_test_summary();
}
