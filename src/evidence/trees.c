/*
 * The builders of the trees a repository wrote last, kept for the next
 * change to start from.
 *
 * A change rewrites every directory on the path of the files it adds: a
 * dispute's events/ directory, with one entry per event, is read back,
 * checked against its id, parsed and copied into a tree builder for every
 * new event, so the cost of an event grew with the events before it (a
 * dispute of 500 events: an 18 KiB tree read, hashed and parsed). A
 * builder is left as it was after it wrote its tree; kept under that
 * tree's id, it is that tree, and the next change whose parent has the
 * same tree starts from it with no read at all. Object ids name content,
 * so a builder found under an id is right for any change, and a change
 * rolled back leaves nothing wrong: its trees are no one's parent.
 *
 * A builder is taken out of the cache while a change uses it and put back
 * only once it has written its tree: one that failed half-way is freed.
 * At most EV_TREE_CACHE_SLOTS builders and EV_TREE_CACHE_ENTRIES entries
 * in all; the least recently used goes first. An entry costs about 200
 * bytes of the heap (libgit2's entry, its name, the builder's hash table,
 * and what malloc keeps around them): 65,536 entries raised a server's
 * resident memory by 10 to 20 MiB, so 16,384 (256 disputes of 60 events)
 * it is. The cache belongs to one repository handle, which is used
 * by one thread at a time.
 */
#include "evidence/evidence_int.h"

#include <stdlib.h>
#include <string.h>

struct slot {
	git_oid id;               /* the tree the builder wrote last */
	git_treebuilder *bld;     /* NULL: free */
	size_t entries;
	uint64_t used;            /* the cache's clock when last put */
};

struct ev_tree_cache {
	struct slot slots[EV_TREE_CACHE_SLOTS];
	size_t entries;           /* of every builder held */
	uint64_t clock;
	uint64_t hits, misses;
};

static void slot_clear(ev_tree_cache *c, struct slot *s)
{
	git_treebuilder_free(s->bld);
	c->entries -= s->entries;
	memset(s, 0, sizeof(*s));
}

git_treebuilder *ev_tree_cache_take(ev_tree_cache *c, const git_oid *id)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < EV_TREE_CACHE_SLOTS; i++) {
		struct slot *s = &c->slots[i];
		git_treebuilder *bld = s->bld;

		if (!bld || git_oid_cmp(&s->id, id) != 0)
			continue;
		c->entries -= s->entries;
		memset(s, 0, sizeof(*s));
		c->hits++;
		return bld;
	}
	c->misses++;
	return NULL;
}

void ev_tree_cache_put(ev_tree_cache **cache, const git_oid *id,
		       git_treebuilder *bld)
{
	size_t entries = git_treebuilder_entrycount(bld);
	struct slot *free_slot = NULL;
	ev_tree_cache *c = *cache;

	if (entries > EV_TREE_CACHE_ENTRIES) {
		git_treebuilder_free(bld);
		return;
	}
	if (!c && !(c = *cache = calloc(1, sizeof(*c)))) {
		/* a cache is only ever a shortcut */
		git_treebuilder_free(bld);
		return;
	}
	/* room: the least recently used go until the new one fits */
	for (;;) {
		struct slot *oldest = NULL;

		free_slot = NULL;
		for (size_t i = 0; i < EV_TREE_CACHE_SLOTS; i++) {
			struct slot *s = &c->slots[i];

			if (!s->bld) {
				free_slot = free_slot ? free_slot : s;
				continue;
			}
			/* the same tree already held: keep one of them */
			if (git_oid_cmp(&s->id, id) == 0) {
				git_treebuilder_free(bld);
				s->used = ++c->clock;
				return;
			}
			if (!oldest || s->used < oldest->used)
				oldest = s;
		}
		if (free_slot && c->entries + entries <= EV_TREE_CACHE_ENTRIES)
			break;
		slot_clear(c, oldest);
	}
	git_oid_cpy(&free_slot->id, id);
	free_slot->bld = bld;
	free_slot->entries = entries;
	free_slot->used = ++c->clock;
	c->entries += entries;
}

void ev_tree_cache_free(ev_tree_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < EV_TREE_CACHE_SLOTS; i++)
		if (c->slots[i].bld)
			git_treebuilder_free(c->slots[i].bld);
	free(c);
}

void ev_tree_cache_stats(const rd_evidence_repo *repo, uint64_t *hits,
			 uint64_t *misses, size_t *builders, size_t *entries)
{
	const ev_tree_cache *c = repo ? repo->trees : NULL;
	size_t held = 0;

	for (size_t i = 0; c && i < EV_TREE_CACHE_SLOTS; i++)
		held += c->slots[i].bld != NULL;
	*hits = c ? c->hits : 0;
	*misses = c ? c->misses : 0;
	*builders = held;
	*entries = c ? c->entries : 0;
}
