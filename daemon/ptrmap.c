/*
 * Open addressing with linear probing.  Deletion moves the rest of a probe
 * run back (no tombstones), and the table shrinks when it is mostly empty, so
 * walking its slots costs time in proportion to what it holds.
 */
#include <stdint.h>
#include <stdlib.h>

#include "log.h"
#include "ptrmap.h"
#include "xmalloc.h"

static size_t ptrmap_home(const struct ptrmap *m, const void *key);
static void ptrmap_resize(struct ptrmap *m, size_t cap);

/* The slot where key's probe run starts. */
static size_t
ptrmap_home(const struct ptrmap *m, const void *key)
{
	uint64_t h = (uint64_t)(uintptr_t)key * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 32) & (m->cap - 1);
}

/* Move every entry into a table of cap slots. */
static void
ptrmap_resize(struct ptrmap *m, size_t cap)
{
	struct ptrmap_slot *old = m->slot;
	size_t old_cap = m->cap;

	m->slot = xcalloc(cap, sizeof *m->slot);
	m->cap = cap;
	m->n = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].key != NULL)
			ptrmap_put(m, old[i].key, old[i].value);
	free(old);
}

void
ptrmap_put(struct ptrmap *m, const void *key, size_t value)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap)
		ptrmap_resize(m, m->cap ? m->cap * 2 : 16);
	for (i = ptrmap_home(m, key); m->slot[i].key != NULL; i = (i + 1) & (m->cap - 1))
		if (m->slot[i].key == key) {
			m->slot[i].value = value;
			return;
		}
	m->slot[i].key = key;
	m->slot[i].value = value;
	m->n++;
}

bool
ptrmap_get(const struct ptrmap *m, const void *key, size_t *value)
{
	if (m->cap == 0)
		return false;
	for (size_t i = ptrmap_home(m, key); m->slot[i].key != NULL;
	    i = (i + 1) & (m->cap - 1))
		if (m->slot[i].key == key) {
			if (value != NULL)
				*value = m->slot[i].value;
			return true;
		}
	return false;
}

void
ptrmap_del(struct ptrmap *m, const void *key)
{
	size_t mask = m->cap - 1, i, j;

	if (m->cap == 0)
		return;
	for (i = ptrmap_home(m, key); m->slot[i].key != key; i = (i + 1) & mask)
		if (m->slot[i].key == NULL)
			return;
	m->slot[i].key = NULL;
	m->n--;
	for (j = (i + 1) & mask; m->slot[j].key != NULL; j = (j + 1) & mask) {
		size_t home = ptrmap_home(m, m->slot[j].key);

		/* Move back unless its home lies cyclically in (i, j]. */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && home <= i && home > j)) {
			m->slot[i] = m->slot[j];
			m->slot[j].key = NULL;
			i = j;
		}
	}
	if (m->n == 0)
		ptrmap_free(m);
	else if (m->cap > 16 && m->n * 8 < m->cap)
		ptrmap_resize(m, m->cap / 4);
}

void
ptrmap_free(struct ptrmap *m)
{
	free(m->slot);
	m->slot = NULL;
	m->cap = m->n = 0;
}
