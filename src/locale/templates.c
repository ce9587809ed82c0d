/*
 * The texts a buyer reads (templates/): loading and checking
 * templates/moments.json and every templates/<locale>/<moment>.txt,
 * choosing the texts' locale for a buyer's tag, and filling a text's
 * placeholders with values formatted for the buyer.
 *
 * A buyer-facing text must never name a variable of the seller's side: a
 * variable whose name holds "cost", "margin" or "profit" is refused at
 * load, declared or used, by the rule in this file (no file can relax it).
 * The loader accepts nothing it cannot fully explain; each refusal names
 * the file, and the line for a text.
 */
#include "core/definition.h"
#include "locale/locale_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "redress/file.h"
#include "redress/json.h"

#define PATH_BUFSZ 256
#define LIST_BUFSZ 256

/* The limits of a templates/ directory. */
#define MOMENTS_FILE_MAX (256 * 1024)
#define TEXT_FILE_MAX (16 * 1024)
#define MOMENTS_MAX 128
#define VARS_MAX 32
#define LOCALES_MAX 64

/* Longest variable or moment name: a lower-case letter and 63 more. */
#define NAME_MAX_LEN 64

#define NAME_RULE \
	"a lower-case letter, then up to 63 lower-case letters, digits or _"

/* Words no variable of a buyer-facing text may hold: the seller's side. */
static const char *const seller_words[] = { "cost", "margin", "profit" };

#define SELLER_WORD_COUNT (sizeof(seller_words) / sizeof(seller_words[0]))

static const struct {
	const char *name;
	rd_tvar_type type;
	const char *text;   /* for messages */
} type_table[] = {
	{ "text", RD_TVAR_TEXT, "text (a string)" },
	{ "money", RD_TVAR_MONEY, "money (minor units and a currency)" },
	{ "date", RD_TVAR_DATE, "a date (an instant)" },
};

#define TYPE_COUNT (sizeof(type_table) / sizeof(type_table[0]))

struct moment {
	const char *name;          /* borrowed from the document */
	const char *description;
	rd_tvar *vars;             /* in the order of moments.json */
	size_t var_count;
};

struct text_locale {
	char name[RD_LOCALE_BUFSZ];    /* the directory: "pt-BR" */
	/* its subtags, for rd_templates_resolve: the language, the script
	 * (given or likely: "Latn" for "pt-BR") and the region given, if any */
	char language[ULOC_LANG_CAPACITY];
	char script[ULOC_SCRIPT_CAPACITY];
	char region[ULOC_COUNTRY_CAPACITY];
	char **texts;                  /* one per moment, in moment order */
};

struct rd_templates {
	json_t *doc;
	struct moment *moments;        /* sorted by name */
	size_t moment_count;
	struct text_locale *locales;   /* sorted by name */
	size_t locale_count;
};

struct loader {
	const char *dir;
	rd_error *err;
	rd_templates *t;
};

static int compare_moments(const void *a, const void *b)
{
	return strcmp(((const struct moment *)a)->name,
		      ((const struct moment *)b)->name);
}

static int compare_locales(const void *a, const void *b)
{
	return strcmp(((const struct text_locale *)a)->name,
		      ((const struct text_locale *)b)->name);
}

static const struct moment *find_moment(const rd_templates *t,
					const char *name)
{
	struct moment key = { 0 };

	if (!t || !name || t->moment_count == 0)
		return NULL;
	key.name = name;
	return bsearch(&key, t->moments, t->moment_count, sizeof(*t->moments),
		       compare_moments);
}

static const rd_tvar *find_var(const struct moment *m, const char *name)
{
	for (size_t i = 0; i < m->var_count; i++)
		if (strcmp(m->vars[i].name, name) == 0)
			return &m->vars[i];
	return NULL;
}

static const char *type_text(rd_tvar_type type)
{
	for (size_t i = 0; i < TYPE_COUNT; i++)
		if (type_table[i].type == type)
			return type_table[i].text;
	return "an unknown type";
}

/* 1 when s is [a-z][a-z0-9_]{0,63}. */
static int name_valid(const char *s, size_t len)
{
	if (len == 0 || len > NAME_MAX_LEN || s[0] < 'a' || s[0] > 'z')
		return 0;
	for (size_t i = 1; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* The word of the seller's side a name holds, or NULL. */
static const char *seller_word(const char *name)
{
	for (size_t i = 0; i < SELLER_WORD_COUNT; i++)
		if (strstr(name, seller_words[i]))
			return seller_words[i];
	return NULL;
}

/* "order_ref, amount" of a moment, cut to fit, for messages. */
static void list_vars(char out[LIST_BUFSZ], const struct moment *m)
{
	size_t used = 0;

	snprintf(out, LIST_BUFSZ, "none");
	for (size_t i = 0; i < m->var_count && used < LIST_BUFSZ; i++) {
		int n = snprintf(out + used, LIST_BUFSZ - used, "%s%s",
				 i ? ", " : "", m->vars[i].name);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static int out_of_memory(struct loader *ld)
{
	return rd_error_set(ld->err, RD_ENOMEM, "%s: out of memory", ld->dir);
}

/* ---- moments.json ------------------------------------------------------- */

/* the kinds of a member: MK_STRING... and lc_member_kinds (members.c) */

#define MEMBERS(table) (table), sizeof(table) / sizeof((table)[0])

static const rd_def_member document_members[] = {
	{ "version", MK_INTEGER, 1 },
	{ "description", MK_STRING, 0 },
	{ "moments", MK_OBJECT, 1 },
};

static const rd_def_member moment_members[] = {
	{ "description", MK_STRING, 1 },
	{ "vars", MK_OBJECT, 1 },
};

static const rd_def_member var_members[] = {
	{ "type", MK_STRING, 1 },
	{ "description", MK_STRING, 1 },
};

/* The moments.json loader: origin is its path. */
struct doc_loader {
	const char *origin;
	rd_error *err;
};

__attribute__((format(printf, 3, 4)))
static int refuse(struct doc_loader *dl, const char *path, const char *fmt,
		  ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = rd_def_vrefuse(dl->err, dl->origin, path, fmt, ap);
	va_end(ap);
	return rc;
}

#ifdef __clang_analyzer__
/* As in error.h: the analyzer does not follow variadic calls; tell it. */
#define refuse(dl, path, ...) \
	(refuse((dl), (path), __VA_ARGS__), RD_EDEFINITION)
#endif

static int check_members(struct doc_loader *dl, const json_t *obj,
			 const char *path, const rd_def_member *table,
			 size_t count)
{
	return rd_def_check_members(dl->err, dl->origin, path, obj, table,
				    count, &lc_member_kinds);
}

static int load_var(struct doc_loader *dl, rd_tvar *var, const char *name,
		    const json_t *obj, const char *path)
{
	const char *type, *word;
	char sub[PATH_BUFSZ];
	int rc;

	if (!name_valid(name, strlen(name)))
		return refuse(dl, path,
			      "\"%.64s\" is not a valid variable name: %s",
			      name, NAME_RULE);
	if ((word = seller_word(name)) != NULL)
		return refuse(dl, path,
			      "\"%s\" is of the seller's side (its name holds "
			      "\"%s\"): no buyer-facing text may name a cost, "
			      "margin or profit", name, word);
	if ((rc = check_members(dl, obj, path, MEMBERS(var_members))) < 0)
		return rc;
	var->name = name;
	var->description = json_string_value(json_object_get(obj,
							      "description"));
	type = json_string_value(json_object_get(obj, "type"));
	for (size_t i = 0; i < TYPE_COUNT; i++)
		if (strcmp(type_table[i].name, type) == 0) {
			var->type = type_table[i].type;
			return RD_OK;
		}
	rd_def_path_member(sub, sizeof(sub), path, "type");
	return refuse(dl, sub,
		      "unknown type \"%.32s\" (types: text, money, date)",
		      type);
}

static int load_moment(struct doc_loader *dl, struct moment *m,
		       const char *name, const json_t *obj)
{
	char path[PATH_BUFSZ], sub[PATH_BUFSZ], var_path[PATH_BUFSZ];
	const json_t *vars;
	const char *key;
	json_t *value;
	int rc;

	rd_def_path_member(path, sizeof(path), "moments", name);
	if (!name_valid(name, strlen(name)))
		return refuse(dl, path,
			      "\"%.64s\" is not a valid moment name: %s", name,
			      NAME_RULE);
	if ((rc = check_members(dl, obj, path, MEMBERS(moment_members))) < 0)
		return rc;
	m->name = name;
	m->description = json_string_value(json_object_get(obj,
							   "description"));
	vars = json_object_get(obj, "vars");
	rd_def_path_member(sub, sizeof(sub), path, "vars");
	if (json_object_size(vars) > VARS_MAX)
		return refuse(dl, sub, "at most %d variables", VARS_MAX);
	if (json_object_size(vars) == 0)
		return RD_OK;
	m->vars = calloc(json_object_size(vars), sizeof(*m->vars));
	if (!m->vars)
		return rd_error_set(dl->err, RD_ENOMEM, "%s: out of memory",
				    dl->origin);
	json_object_foreach((json_t *)vars, key, value) {
		rd_def_path_member(var_path, sizeof(var_path), sub, key);
		if ((rc = load_var(dl, &m->vars[m->var_count], key, value,
				   var_path)) < 0)
			return rc;
		m->var_count++;
	}
	return RD_OK;
}

static int load_moments(struct loader *ld, const char *path)
{
	struct doc_loader dl = { path, ld->err };
	rd_templates *t = ld->t;
	const json_t *moments;
	json_error_t jerr;
	char *text = NULL;
	size_t len = 0;
	const char *key;
	json_t *value;
	int rc;

	if ((rc = rd_file_read(&text, &len, path, MOMENTS_FILE_MAX,
			       RD_EDEFINITION, ld->err)) < 0)
		return rc;
	t->doc = rd_json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (!t->doc)
		return json_error_code(&jerr) == json_error_out_of_memory
			       ? out_of_memory(ld)
			       : rd_error_set(ld->err, RD_EDEFINITION,
					      "%s:%d:%d: %s", path, jerr.line,
					      jerr.column, jerr.text);
	if ((rc = check_members(&dl, t->doc, "",
				MEMBERS(document_members))) < 0)
		return rc;
	if (json_integer_value(json_object_get(t->doc, "version")) < 1)
		return refuse(&dl, "version", "must be a positive integer");
	moments = json_object_get(t->doc, "moments");
	if (json_object_size(moments) == 0)
		return refuse(&dl, "moments", "declare at least one moment");
	if (json_object_size(moments) > MOMENTS_MAX)
		return refuse(&dl, "moments", "at most %d moments",
			      MOMENTS_MAX);
	t->moments = calloc(json_object_size(moments), sizeof(*t->moments));
	if (!t->moments)
		return out_of_memory(ld);
	json_object_foreach((json_t *)moments, key, value) {
		rc = load_moment(&dl, &t->moments[t->moment_count], key,
				 value);
		/* counted even when refused: its variables are freed then */
		t->moment_count++;
		if (rc < 0)
			return rc;
	}
	qsort(t->moments, t->moment_count, sizeof(*t->moments),
	      compare_moments);
	return RD_OK;
}

/* ---- the locale directories --------------------------------------------- */

/* The canonical tag of a valid tag ("pt-BR"), or "" when ICU has none. */
static void canonical_tag(char out[RD_LOCALE_BUFSZ], const char *tag)
{
	char id[ULOC_FULLNAME_CAPACITY];
	UErrorCode status = U_ZERO_ERROR;

	out[0] = '\0';
	if (lc_icu_locale(id, tag, NULL) < 0)
		return;
	uloc_toLanguageTag(id, out, RD_LOCALE_BUFSZ, 1, &status);
	if (U_FAILURE(status) || status == U_STRING_NOT_TERMINATED_WARNING)
		out[0] = '\0';
}

/*
 * The language, likely script and given region of a valid tag: "pt-BR"
 * is pt, Latn, BR; "zh-CN" is zh, Hans, CN; "zh-Hant" is zh, Hant, "".
 */
static void subtags(const char *tag, char language[ULOC_LANG_CAPACITY],
		    char script[ULOC_SCRIPT_CAPACITY],
		    char region[ULOC_COUNTRY_CAPACITY])
{
	char id[ULOC_FULLNAME_CAPACITY], likely[ULOC_FULLNAME_CAPACITY];
	UErrorCode status = U_ZERO_ERROR;

	language[0] = script[0] = region[0] = '\0';
	if (lc_icu_locale(id, tag, NULL) < 0)
		return;
	uloc_getLanguage(id, language, ULOC_LANG_CAPACITY, &status);
	uloc_getCountry(id, region, ULOC_COUNTRY_CAPACITY, &status);
	uloc_addLikelySubtags(id, likely, (int32_t)sizeof(likely), &status);
	uloc_getScript(likely, script, ULOC_SCRIPT_CAPACITY, &status);
	if (U_FAILURE(status))
		language[0] = script[0] = region[0] = '\0';
}

static int is_directory(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int join(struct loader *ld, char out[PATH_BUFSZ], const char *dir,
		const char *name)
{
	int n = snprintf(out, PATH_BUFSZ, "%s/%s", dir, name);

	if (n < 0 || n >= PATH_BUFSZ)
		return rd_error_set(ld->err, RD_EDEFINITION,
				    "%s/%.64s: path too long", dir, name);
	return RD_OK;
}

/* One locale directory: its name checked, its subtags noted. */
static int add_locale(struct loader *ld, const char *name, const char *path)
{
	rd_templates *t = ld->t;
	struct text_locale *loc;
	char canonical[RD_LOCALE_BUFSZ];

	if (!rd_locale_tag_valid(name))
		return rd_error_set(ld->err, RD_EDEFINITION,
				    "%s: a locale directory must be named by a "
				    "BCP 47 language tag, such as \"de\" or "
				    "\"pt-BR\"", path);
	canonical_tag(canonical, name);
	if (strcmp(canonical, name) != 0)
		return rd_error_set(ld->err, RD_EDEFINITION,
				    "%s: write the locale as \"%s\"", path,
				    canonical);
	if (t->locale_count == LOCALES_MAX)
		return rd_error_set(ld->err, RD_EDEFINITION,
				    "%s: more than %d locales", ld->dir,
				    LOCALES_MAX);
	if (t->moment_count == 0)   /* load_moments refuses that */
		return rd_error_set(ld->err, RD_EINTERNAL,
				    "%s: no moments loaded", ld->dir);
	loc = &t->locales[t->locale_count];
	/* a valid tag (checked above) fits: at most RD_LOCALE_BUFSZ - 1 */
	snprintf(loc->name, sizeof(loc->name), "%.*s",
		 (int)sizeof(loc->name) - 1, name);
	subtags(name, loc->language, loc->script, loc->region);
	loc->texts = calloc(t->moment_count, sizeof(*loc->texts));
	if (!loc->texts)
		return out_of_memory(ld);
	t->locale_count++;
	return RD_OK;
}

static int list_locales(struct loader *ld)
{
	char path[PATH_BUFSZ];
	struct dirent *entry;
	DIR *d;
	int rc = RD_OK;

	ld->t->locales = calloc(LOCALES_MAX, sizeof(*ld->t->locales));
	if (!ld->t->locales)
		return out_of_memory(ld);
	d = opendir(ld->dir);
	if (!d)
		return rd_error_set(ld->err, RD_EDEFINITION,
				    "%s: cannot read the templates directory: "
				    "%s", ld->dir, strerror(errno));
	while (rc == RD_OK && (errno = 0, entry = readdir(d)) != NULL) {
		if (entry->d_name[0] == '.')
			continue;
		if ((rc = join(ld, path, ld->dir, entry->d_name)) < 0)
			break;
		/* files beside moments.json (a README) are not locales */
		if (is_directory(path))
			rc = add_locale(ld, entry->d_name, path);
	}
	if (rc == RD_OK && errno)
		rc = rd_error_set(ld->err, RD_EDEFINITION,
				  "%s: cannot read the templates directory: %s",
				  ld->dir, strerror(errno));
	closedir(d);
	if (rc < 0)
		return rc;
	qsort(ld->t->locales, ld->t->locale_count, sizeof(*ld->t->locales),
	      compare_locales);
	return RD_OK;
}

/* ---- one text ----------------------------------------------------------- */

/* The line (from 1) of byte `at`. */
static size_t line_of(const char *text, size_t at)
{
	size_t line = 1;

	for (size_t i = 0; i < at; i++)
		line += text[i] == '\n';
	return line;
}

/*
 * The control character at `at` as a code point (C0, DEL or C1: U+0080 to
 * U+009F, written C2 80 to C2 9F), or -1 for any other character. Newline
 * and tab are the two a text may hold.
 */
static int control_at(const char *text, size_t len, size_t at)
{
	unsigned char c = (unsigned char)text[at];

	if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
		return c;
	if (c == 0xc2 && at + 1 < len &&
	    (unsigned char)text[at + 1] >= 0x80 &&
	    (unsigned char)text[at + 1] <= 0x9f)
		return (unsigned char)text[at + 1];
	return -1;
}

/*
 * The placeholder at text[at] (which starts "{{"): 0 for the literal
 * "{{{{" (*end past it, *name_len 0), 1 for {{name}} (*name, *name_len,
 * *end past "}}"), -1 when malformed.
 */
static int placeholder_at(const char *text, size_t len, size_t at,
			  const char **name, size_t *name_len, size_t *end)
{
	size_t i = at + 2;

	if (i + 1 < len && text[i] == '{' && text[i + 1] == '{') {
		*name_len = 0;
		*end = at + 4;
		return 0;
	}
	*name = text + i;
	while (i < len && text[i] != '}' && i - (at + 2) <= NAME_MAX_LEN)
		i++;
	*name_len = i - (at + 2);
	if (i + 1 >= len || text[i] != '}' || text[i + 1] != '}' ||
	    !name_valid(*name, *name_len))
		return -1;
	*end = i + 2;
	return 1;
}

static int check_text(struct loader *ld, const char *path, const char *text,
		      size_t len, const struct moment *m)
{
	size_t bad = lc_utf8_invalid_at(text, len), blank = 1;
	char vars[LIST_BUFSZ];

	if (bad < len)
		return rd_error_set(ld->err, RD_EDEFINITION,
				    "%s:%zu: not UTF-8 (byte 0x%02x): save the "
				    "text as UTF-8", path, line_of(text, bad),
				    (unsigned)(unsigned char)text[bad]);
	for (size_t i = 0; i < len; i++) {
		int control = control_at(text, len, i);
		const char *name = NULL, *word;
		size_t name_len = 0, end = i;
		char shown[NAME_MAX_LEN + 1];
		int kind;

		if (control >= 0)
			return rd_error_set(ld->err, RD_EDEFINITION,
					    "%s:%zu: control character U+%04X: "
					    "a text may hold only newlines and "
					    "tabs%s", path, line_of(text, i),
					    (unsigned)control,
					    control == '\r'
						    ? " (save it with Unix "
						      "line endings)"
						    : "");
		if (text[i] != ' ' && text[i] != '\n' && text[i] != '\t')
			blank = 0;
		if (text[i] != '{' || i + 1 >= len || text[i + 1] != '{')
			continue;
		kind = placeholder_at(text, len, i, &name, &name_len, &end);
		if (kind < 0)
			return rd_error_set(ld->err, RD_EDEFINITION,
					    "%s:%zu: malformed placeholder: "
					    "write {{name}} with the name of a "
					    "variable (%s), or {{{{ for a "
					    "literal {{", path,
					    line_of(text, i), NAME_RULE);
		if (kind == 1) {
			snprintf(shown, sizeof(shown), "%.*s", (int)name_len,
				 name);
			if ((word = seller_word(shown)) != NULL)
				return rd_error_set(
					ld->err, RD_EDEFINITION,
					"%s:%zu: {{%s}} is of the seller's "
					"side (its name holds \"%s\"): no "
					"buyer-facing text may name a cost, "
					"margin or profit", path,
					line_of(text, i), shown, word);
			if (!find_var(m, shown)) {
				list_vars(vars, m);
				return rd_error_set(
					ld->err, RD_EDEFINITION,
					"%s:%zu: {{%s}} is not a variable of "
					"the moment %s (its variables: %s)",
					path, line_of(text, i), shown,
					m->name, vars);
			}
		}
		i = end - 1;
	}
	if (blank)
		return rd_error_set(ld->err, RD_EDEFINITION, "%s: empty text",
				    path);
	return RD_OK;
}

/* A text file of a locale directory that names a moment, else refused. */
static int check_entries(struct loader *ld, const char *locale_dir)
{
	struct dirent *entry;
	DIR *d = opendir(locale_dir);
	int rc = RD_OK;

	if (!d)
		return rd_error_set(ld->err, RD_EDEFINITION,
				    "%s: cannot read: %s", locale_dir,
				    strerror(errno));
	while (rc == RD_OK && (entry = readdir(d)) != NULL) {
		size_t n = strlen(entry->d_name);
		char name[NAME_MAX_LEN + 1];

		if (entry->d_name[0] == '.' || n < 5 ||
		    strcmp(entry->d_name + n - 4, ".txt") != 0)
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(n - 4),
			 entry->d_name);
		if (n - 4 > NAME_MAX_LEN || !find_moment(ld->t, name))
			rc = rd_error_set(ld->err, RD_EDEFINITION,
					  "%s/%s: not a moment of moments.json",
					  locale_dir, entry->d_name);
	}
	closedir(d);
	return rc;
}

static int load_texts(struct loader *ld, struct text_locale *loc)
{
	char locale_dir[PATH_BUFSZ], path[PATH_BUFSZ], file[NAME_MAX_LEN + 8];
	size_t len = 0;
	int rc;

	if ((rc = join(ld, locale_dir, ld->dir, loc->name)) < 0 ||
	    (rc = check_entries(ld, locale_dir)) < 0)
		return rc;
	for (size_t i = 0; i < ld->t->moment_count; i++) {
		const struct moment *m = &ld->t->moments[i];
		struct stat st;

		snprintf(file, sizeof(file), "%s.txt", m->name);
		if ((rc = join(ld, path, locale_dir, file)) < 0)
			return rc;
		if (stat(path, &st) != 0 && errno == ENOENT)
			return rd_error_set(ld->err, RD_EDEFINITION,
					    "%s: missing: every locale needs a "
					    "text for every moment of "
					    "moments.json", path);
		if ((rc = rd_file_read(&loc->texts[i], &len, path,
				       TEXT_FILE_MAX, RD_EDEFINITION,
				       ld->err)) < 0 ||
		    (rc = check_text(ld, path, loc->texts[i], len, m)) < 0)
			return rc;
	}
	return RD_OK;
}

static const struct text_locale *find_locale(const rd_templates *t,
					     const char *name)
{
	for (size_t i = 0; i < t->locale_count; i++)
		if (strcasecmp(t->locales[i].name, name) == 0)
			return &t->locales[i];
	return NULL;
}

int rd_templates_load(rd_templates **out, const char *dir, rd_error *err)
{
	struct loader ld = { 0 };
	rd_templates *t = NULL;
	char path[PATH_BUFSZ];
	int rc;

	if (!out || !dir)
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_templates_load needs an output and a "
				    "directory");
	*out = NULL;
	ld.dir = dir;
	ld.err = err;
	t = calloc(1, sizeof(*t));
	if (!t)
		return out_of_memory(&ld);
	ld.t = t;
	if ((rc = join(&ld, path, dir, "moments.json")) < 0 ||
	    (rc = load_moments(&ld, path)) < 0 ||
	    (rc = list_locales(&ld)) < 0)
		goto done;
	if (!find_locale(t, "en")) {
		rc = rd_error_set(err, RD_EDEFINITION,
				  "%s/en: missing: English is every buyer's "
				  "fallback, so the \"en\" texts must exist",
				  dir);
		goto done;
	}
	for (size_t i = 0; i < t->locale_count; i++)
		if ((rc = load_texts(&ld, &t->locales[i])) < 0)
			goto done;
	*out = t;
	t = NULL;
	rc = RD_OK;
done:
	rd_templates_free(t);
	return rc;
}

void rd_templates_free(rd_templates *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->locale_count; i++) {
		for (size_t j = 0; j < t->moment_count; j++)
			free(t->locales[i].texts[j]);
		free(t->locales[i].texts);
	}
	free(t->locales);
	for (size_t i = 0; i < t->moment_count; i++)
		free(t->moments[i].vars);
	free(t->moments);
	json_decref(t->doc);
	free(t);
}

/* ---- queries ------------------------------------------------------------ */

size_t rd_templates_count(const rd_templates *t)
{
	return t ? t->moment_count : 0;
}

const char *rd_templates_name_at(const rd_templates *t, size_t i)
{
	return t && i < t->moment_count ? t->moments[i].name : NULL;
}

const char *rd_templates_description(const rd_templates *t,
				     const char *name)
{
	const struct moment *m = find_moment(t, name);

	return m ? m->description : NULL;
}

int rd_templates_vars(const rd_templates *t, const char *name,
		      const rd_tvar **vars, size_t *count, rd_error *err)
{
	const struct moment *m = find_moment(t, name);

	if (!vars || !count)
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_templates_vars needs its outputs");
	*vars = NULL;
	*count = 0;
	if (!m)
		return rd_error_set_field(err, RD_ENOTFOUND, "moment",
					  "no template moment \"%.64s\"",
					  name ? name : "(null)");
	*vars = m->vars;
	*count = m->var_count;
	return RD_OK;
}

size_t rd_templates_locale_count(const rd_templates *t)
{
	return t ? t->locale_count : 0;
}

const char *rd_templates_locale_at(const rd_templates *t, size_t i)
{
	return t && i < t->locale_count ? t->locales[i].name : NULL;
}

/* ---- choosing the locale ------------------------------------------------ */

/*
 * How well the texts of `loc` suit a buyer of language, likely script and
 * region: 0 not at all (another language or script: zh-Hant is not read
 * as zh-Hans), 1 another region of the language, 2 that region's language
 * default ("pt" is most likely "pt-BR"), 3 the language without a region,
 * 4 the buyer's very region.
 */
static int suitability(const struct text_locale *loc, const char *language,
		       const char *script, const char *region,
		       const char *default_region)
{
	if (strcmp(loc->language, language) != 0 ||
	    strcmp(loc->script, script) != 0)
		return 0;
	if (loc->region[0] == '\0')
		return 3;
	if (strcmp(loc->region, region) == 0)
		return 4;
	if (strcmp(loc->region, default_region) == 0)
		return 2;
	return 1;
}

void rd_templates_resolve(const rd_templates *t, const char *tag,
			  char out[RD_LOCALE_BUFSZ], int *fell_back)
{
	char canonical[RD_LOCALE_BUFSZ], language[ULOC_LANG_CAPACITY];
	char script[ULOC_SCRIPT_CAPACITY], region[ULOC_COUNTRY_CAPACITY];
	char id[ULOC_FULLNAME_CAPACITY], likely[ULOC_FULLNAME_CAPACITY];
	char default_region[ULOC_COUNTRY_CAPACITY];
	UErrorCode status = U_ZERO_ERROR;
	const struct text_locale *best = NULL, *exact;
	int best_score = 0;

	snprintf(out, RD_LOCALE_BUFSZ, "en");
	if (fell_back)
		*fell_back = 1;
	if (!t || !tag || !rd_locale_tag_valid(tag))
		return;
	canonical_tag(canonical, tag);
	if ((exact = find_locale(t, canonical)) != NULL ||
	    (exact = find_locale(t, tag)) != NULL) {
		snprintf(out, RD_LOCALE_BUFSZ, "%s", exact->name);
		if (fell_back)
			*fell_back = 0;
		return;
	}
	subtags(tag, language, script, region);
	if (language[0] == '\0')   /* "und": no language to go by */
		return;
	/* the region the language's own speakers most likely have */
	uloc_addLikelySubtags(language, likely, (int32_t)sizeof(likely),
			      &status);
	uloc_getCountry(likely, default_region, ULOC_COUNTRY_CAPACITY,
			&status);
	if (U_FAILURE(status))
		default_region[0] = '\0';
	if (region[0] == '\0') {
		/* "zh" alone is read with its likely region, as "zh-CN" */
		status = U_ZERO_ERROR;
		if (lc_icu_locale(id, tag, NULL) == RD_OK) {
			uloc_addLikelySubtags(id, likely,
					      (int32_t)sizeof(likely), &status);
			uloc_getCountry(likely, region, ULOC_COUNTRY_CAPACITY,
					&status);
		}
		if (U_FAILURE(status))
			region[0] = '\0';
	}
	for (size_t i = 0; i < t->locale_count; i++) {
		int score = suitability(&t->locales[i], language, script,
					region, default_region);

		if (score > best_score) {
			best = &t->locales[i];
			best_score = score;
		}
	}
	if (!best)
		return;
	snprintf(out, RD_LOCALE_BUFSZ, "%s", best->name);
	if (fell_back)
		*fell_back = 0;
}

/* ---- rendering ---------------------------------------------------------- */

struct buffer {
	char *bytes;
	size_t len;
	size_t cap;
};

static int append(struct buffer *b, const char *bytes, size_t len,
		  rd_error *err)
{
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *grown;

		while (cap < b->len + len + 1)
			cap *= 2;
		grown = realloc(b->bytes, cap);
		if (!grown)
			return rd_error_set(err, RD_ENOMEM, "out of memory");
		b->bytes = grown;
		b->cap = cap;
	}
	memcpy(b->bytes + b->len, bytes, len);
	b->len += len;
	b->bytes[b->len] = '\0';
	return RD_OK;
}

/* The values given, checked against what the moment declares. */
static int check_values(const struct moment *m, const rd_tvalue *values,
			size_t count, rd_error *err)
{
	char field[RD_LOCALE_BUFSZ + NAME_MAX_LEN + 8], vars[LIST_BUFSZ];

	for (size_t i = 0; i < count; i++) {
		const rd_tvalue *v = &values[i];
		const rd_tvar *var;

		if (!v->name)
			return rd_error_set_field(err, RD_EINVALID, "vars",
						  "a value without a name");
		snprintf(field, sizeof(field), "vars.%.64s", v->name);
		if ((var = find_var(m, v->name)) == NULL) {
			list_vars(vars, m);
			return rd_error_set_field(err, RD_EINVALID, field,
						  "\"%.64s\" is not a variable "
						  "of the moment %s (its "
						  "variables: %s)", v->name,
						  m->name, vars);
		}
		if (v->type != var->type)
			return rd_error_set_field(err, RD_EINVALID, field,
						  "%s must be %s", v->name,
						  type_text(var->type));
		if (v->type == RD_TVAR_TEXT &&
		    (!v->text ||
		     lc_utf8_invalid_at(v->text, strlen(v->text)) !=
			     strlen(v->text)))
			return rd_error_set_field(err, RD_EINVALID, field,
						  "%s must be UTF-8 text",
						  v->name);
		for (size_t j = 0; j < i; j++)
			if (strcmp(values[j].name, v->name) == 0)
				return rd_error_set_field(err, RD_EINVALID,
							  field,
							  "%s is given twice",
							  v->name);
	}
	return RD_OK;
}

static const rd_tvalue *find_value(const rd_tvalue *values, size_t count,
				   const char *name)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(values[i].name, name) == 0)
			return &values[i];
	return NULL;
}

/* One value written for the buyer: text as given, money and dates by ICU. */
static int write_value(struct buffer *b, const rd_tvalue *v,
		       const char *format_tag, const char *zone,
		       const char *field, rd_error *err)
{
	char *formatted = NULL;
	int rc;

	switch (v->type) {
	case RD_TVAR_TEXT:
		return append(b, v->text, strlen(v->text), err);
	case RD_TVAR_MONEY:
		rc = rd_locale_format_money(&formatted, format_tag, v->minor,
					    v->currency, err);
		break;
	case RD_TVAR_DATE:
		rc = rd_locale_format_date(&formatted, format_tag, zone, v->at,
					   err);
		break;
	default:
		rc = rd_error_set(err, RD_EINVALID, "unknown value type");
		break;
	}
	if (rc < 0) {
		/* keep the message, name the variable */
		if (err)
			snprintf(err->field, sizeof(err->field), "%.*s",
				 (int)sizeof(err->field) - 1, field);
		return rc;
	}
	rc = append(b, formatted, strlen(formatted), err);
	free(formatted);
	return rc;
}

int rd_templates_render(const rd_templates *t, const char *name,
			const char *tag, const char *zone,
			const rd_tvalue *values, size_t count,
			rd_rendered *out, rd_error *err)
{
	struct buffer b = { 0 };
	const struct moment *m = find_moment(t, name);
	const struct text_locale *loc;
	const char *text, *format_tag;
	char field[NAME_MAX_LEN + 8];
	size_t len, literal = 0;
	int rc;

	if (!out || (count && !values))
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_templates_render needs an output and "
				    "its values");
	memset(out, 0, sizeof(*out));
	if (!m)
		return rd_error_set_field(err, RD_ENOTFOUND, "moment",
					  "no template moment \"%.64s\"",
					  name ? name : "(null)");
	if (zone && !rd_locale_zone_valid(zone))
		return rd_error_set_field(err, RD_EINVALID, "zone",
					  "time zone \"%.64s\" is not an IANA "
					  "zone ICU knows (such as "
					  "\"Europe/Berlin\")", zone);
	if ((rc = check_values(m, values, count, err)) < 0)
		return rc;
	rd_templates_resolve(t, tag, out->locale, &out->fell_back);
	loc = find_locale(t, out->locale);
	if (!loc)
		return rd_error_set(err, RD_EINTERNAL,
				    "no texts for the locale %s", out->locale);
	/* money and dates read as the buyer's own tag does */
	format_tag = out->fell_back ? "en" : tag;
	text = loc->texts[m - t->moments];
	len = strlen(text);
	for (size_t i = 0; i < len; i++) {
		const char *var_name = NULL;
		const rd_tvalue *v;
		size_t name_len = 0, end = i;
		char shown[NAME_MAX_LEN + 1];

		if (text[i] != '{' || i + 1 >= len || text[i + 1] != '{')
			continue;
		/* checked at load: only {{{{ and {{name}} remain */
		if (placeholder_at(text, len, i, &var_name, &name_len, &end) <
		    0) {
			rc = rd_error_set(err, RD_EINTERNAL,
					  "malformed placeholder in %s/%s",
					  loc->name, m->name);
			goto done;
		}
		if ((rc = append(&b, text + literal, i - literal, err)) < 0)
			goto done;
		if (name_len == 0) {
			rc = append(&b, "{{", 2, err);
		} else {
			snprintf(shown, sizeof(shown), "%.*s", (int)name_len,
				 var_name);
			snprintf(field, sizeof(field), "vars.%s", shown);
			v = find_value(values, count, shown);
			if (!v) {
				const rd_tvar *var = find_var(m, shown);

				rc = rd_error_set_field(
					err, RD_EINVALID, field,
					"the %s text of %s needs a value for "
					"%s (%s)", loc->name, m->name, shown,
					var ? type_text(var->type) : "?");
				goto done;
			}
			rc = write_value(&b, v, format_tag, zone, field, err);
		}
		if (rc < 0)
			goto done;
		literal = end;
		i = end - 1;
	}
	if ((rc = append(&b, text + literal, len - literal, err)) < 0)
		goto done;
	out->text = b.bytes;
	b.bytes = NULL;
	rc = RD_OK;
done:
	free(b.bytes);
	return rc;
}

void rd_rendered_clear(rd_rendered *r)
{
	if (!r)
		return;
	free(r->text);
	r->text = NULL;
}
