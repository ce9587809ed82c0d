/*
 * The set of loaded workflow definitions: every version of every name, kept
 * so that a dispute pinned to an older definition can still be evaluated.
 * Also the one place that reads definition files from a directory.
 *
 * A set never holds two different definitions under one name and version:
 * a changed file must bump its "version". It never reads anything but the
 * directory it is given, and never writes.
 */
#include "workflow/workflow_int.h"

#include "redress/file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct rd_workflow_set {
	rd_workflow **items;
	size_t count;
	size_t capacity;
};

rd_workflow_set *rd_workflow_set_new(void)
{
	return calloc(1, sizeof(rd_workflow_set));
}

void rd_workflow_set_free(rd_workflow_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->count; i++)
		rd_workflow_free(set->items[i]);
	free(set->items);
	free(set);
}

int rd_workflow_set_add(rd_workflow_set *set, rd_workflow *wf, rd_error *err)
{
	int rc = RD_OK;

	if (!set || !wf) {
		rc = rd_error_set(err, RD_EINTERNAL,
				  "rd_workflow_set_add needs a set and a "
				  "definition");
		goto done;
	}
	for (size_t i = 0; i < set->count; i++) {
		const rd_workflow *known = set->items[i];

		if (strcmp(known->name, wf->name) != 0 ||
		    known->version != wf->version)
			continue;
		if (strcmp(known->hash, wf->hash) != 0)
			rc = rd_error_set_field(err, RD_EDEFINITION, "version",
						"%s: version: workflow \"%s\" "
						"version %lld is already "
						"defined differently by %s; "
						"bump \"version\" when you "
						"change a definition",
						wf->origin, wf->name,
						(long long)wf->version,
						known->origin);
		goto done; /* the same bytes: nothing to add */
	}
	if (set->count == set->capacity) {
		size_t capacity = set->capacity ? 2 * set->capacity : 4;
		/* NOLINTBEGIN(bugprone-sizeof-expression): of pointers */
		rd_workflow **items = realloc(set->items,
					      capacity * sizeof(*items));
		/* NOLINTEND(bugprone-sizeof-expression) */

		if (!items) {
			rc = rd_error_set(err, RD_ENOMEM,
					  "%s: out of memory", wf->origin);
			goto done;
		}
		set->items = items;
		set->capacity = capacity;
	}
	set->items[set->count++] = wf;
	wf = NULL;
done:
	rd_workflow_free(wf);
	return rc;
}

size_t rd_workflow_set_count(const rd_workflow_set *set)
{
	return set ? set->count : 0;
}

const rd_workflow *rd_workflow_set_at(const rd_workflow_set *set, size_t i)
{
	return set && i < set->count ? set->items[i] : NULL;
}

const rd_workflow *rd_workflow_set_latest(const rd_workflow_set *set,
					  const char *name)
{
	const rd_workflow *latest = NULL;

	if (!set || !name)
		return NULL;
	for (size_t i = 0; i < set->count; i++) {
		const rd_workflow *wf = set->items[i];

		if (strcmp(wf->name, name) == 0 &&
		    (!latest || wf->version > latest->version))
			latest = wf;
	}
	return latest;
}

const rd_workflow *rd_workflow_set_by_hash(const rd_workflow_set *set,
					   const char *hash)
{
	if (!set || !hash)
		return NULL;
	for (size_t i = 0; i < set->count; i++)
		if (strcmp(set->items[i]->hash, hash) == 0)
			return set->items[i];
	return NULL;
}

/* ---- reading a directory --------------------------------------------- */

/*
 * A definition file: "*.json", not hidden, not a settlement policy and not
 * the business-hour calendars (src/locale/ reads those).
 */
static int is_definition_name(const char *name)
{
	size_t len = strlen(name);

	return len > 5 && name[0] != '.' &&
	       strcmp(name + len - 5, ".json") == 0 &&
	       strncmp(name, "policy", 6) != 0 &&
	       strncmp(name, "calendars", 9) != 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The definition files of dir by name, sorted: a new array of new strings. */
static int list_definitions(char ***out, size_t *count, const char *dir,
			    rd_error *err)
{
	DIR *d = NULL;
	struct dirent *entry;
	char **names = NULL;
	size_t n = 0, capacity = 0;
	int rc = RD_OK;

	d = opendir(dir);
	if (!d) {
		rc = rd_error_set(err, RD_EDEFINITION,
				  "%s: cannot read the workflow directory: %s",
				  dir, strerror(errno));
		goto done;
	}
	while ((errno = 0, entry = readdir(d)) != NULL) {
		if (!is_definition_name(entry->d_name))
			continue;
		if (n == capacity) {
			size_t bigger = capacity ? 2 * capacity : 8;
			char **grown = realloc(names, bigger * sizeof(*grown));

			if (!grown)
				goto nomem;
			names = grown;
			capacity = bigger;
		}
		if (!(names[n] = strdup(entry->d_name)))
			goto nomem;
		n++;
	}
	if (errno) {
		rc = rd_error_set(err, RD_EDEFINITION,
				  "%s: cannot read the workflow directory: %s",
				  dir, strerror(errno));
		goto done;
	}
	if (n)
		qsort(names, n, sizeof(*names), compare_names);
	goto done;
nomem:
	rc = rd_error_set(err, RD_ENOMEM, "%s: out of memory", dir);
done:
	if (d)
		closedir(d);
	if (rc < 0) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		names = NULL;
		n = 0;
	}
	*out = names;
	*count = n;
	return rc;
}

int rd_workflow_set_load_dir(rd_workflow_set **out, const char *dir,
			     rd_error *err)
{
	rd_workflow_set *set = NULL;
	rd_workflow *wf = NULL;
	char **names = NULL, *path = NULL, *bytes = NULL;
	size_t count = 0, len = 0;
	int rc;

	if (!out || !dir)
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_workflow_set_load_dir needs an output "
				    "and a directory");
	*out = NULL;
	if ((rc = list_definitions(&names, &count, dir, err)) < 0)
		goto done;
	if (count == 0) {
		rc = rd_error_set(err, RD_EDEFINITION,
				  "%s: no workflow definition (*.json) found",
				  dir);
		goto done;
	}
	if (!(set = rd_workflow_set_new())) {
		rc = rd_error_set(err, RD_ENOMEM, "%s: out of memory", dir);
		goto done;
	}
	for (size_t i = 0; i < count; i++) {
		size_t size = strlen(dir) + strlen(names[i]) + 2;

		free(path);
		free(bytes);
		bytes = NULL;
		if (!(path = malloc(size))) {
			rc = rd_error_set(err, RD_ENOMEM, "%s: out of memory",
					  dir);
			goto done;
		}
		snprintf(path, size, "%s/%s", dir, names[i]);
		if ((rc = rd_file_read(&bytes, &len, path, WF_FILE_MAX, RD_EDEFINITION, err)) < 0 ||
		    (rc = rd_workflow_parse(&wf, bytes, len, path, err)) < 0 ||
		    (rc = rd_workflow_set_add(set, wf, err)) < 0)
			goto done;
		wf = NULL; /* the set took it */
	}
	*out = set;
	set = NULL;
done:
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
	free(path);
	free(bytes);
	rd_workflow_set_free(set);
	return rc;
}
