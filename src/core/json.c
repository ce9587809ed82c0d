/*
 * JSON in and out, all or nothing (see redress/json.h): jansson allocates
 * through json_alloc below, which notes a failure for the calling thread,
 * and rd_json_loadb / rd_json_dumps refuse any result made while one
 * happened.
 *
 * It must never return a document or a text after an allocation failed
 * during its making.
 */
#include "redress/json.h"

#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local int alloc_failed;
static pthread_once_t installed = PTHREAD_ONCE_INIT;

static void *json_alloc(size_t size)
{
	void *ptr = malloc(size);

	if (!ptr)
		alloc_failed = 1;
	return ptr;
}

static void json_release(void *ptr)
{
	free(ptr);
}

static void install(void)
{
	json_set_alloc_funcs(json_alloc, json_release);
}

void rd_json_init(void)
{
	pthread_once(&installed, install);
}

static void out_of_memory(json_error_t *error)
{
	if (!error)
		return;
	memset(error, 0, sizeof(*error));
	error->line = -1;
	error->column = -1;
	error->position = -1;
	snprintf(error->text, sizeof(error->text), "out of memory");
	/* where jansson keeps the code json_error_code() reads */
	error->text[JSON_ERROR_TEXT_LENGTH - 1] =
		(char)json_error_out_of_memory;
}

json_t *rd_json_loadb(const char *text, size_t len, size_t flags,
		      json_error_t *error)
{
	json_t *doc;

	rd_json_init();
	alloc_failed = 0;
	doc = json_loadb(text ? text : "", text ? len : 0, flags, error);
	if (alloc_failed) {
		/* the document may have lost bytes it never reported */
		json_decref(doc);
		out_of_memory(error);
		return NULL;
	}
	return doc;
}

typedef struct dump_buffer {
	char *text;
	size_t len;
	size_t room;
	int failed;
} dump_buffer;

static int dump_append(const char *bytes, size_t size, void *data)
{
	dump_buffer *b = data;

	if (b->failed)
		return -1;
	if (size >= b->room - b->len) {
		size_t room = b->room ? b->room : 256;
		char *text;

		while (size >= room - b->len) {
			if (room > SIZE_MAX / 2) {
				b->failed = 1;
				return -1;
			}
			room *= 2;
		}
		if ((text = realloc(b->text, room)) == NULL) {
			b->failed = 1;
			return -1;
		}
		b->text = text;
		b->room = room;
	}
	memcpy(b->text + b->len, bytes, size);
	b->len += size;
	b->text[b->len] = '\0';
	return 0;
}

char *rd_json_dumps(const json_t *json, size_t flags)
{
	dump_buffer b = { NULL, 0, 0, 0 };

	if (!json)
		return NULL;
	rd_json_init();
	alloc_failed = 0;
	/* a first room, so that an empty text is still a string */
	if (dump_append("", 0, &b) != 0 ||
	    json_dump_callback(json, dump_append, &b, flags) != 0 ||
	    b.failed || alloc_failed) {
		free(b.text);
		return NULL;
	}
	return b.text;
}
