/*
 * A hash map from pointers to numbers (a set when the numbers are unused):
 * for modules that keep their own view of a subset of the programs and must
 * find, add and drop one of them without a scan.
 */
#ifndef SAFEEXITD_PTRMAP_H
#define SAFEEXITD_PTRMAP_H

#include <stdbool.h>
#include <stddef.h>

struct ptrmap_slot {
	const void *key;	/* NULL: free */
	size_t value;
};

/* Zero-initialised is empty. */
struct ptrmap {
	struct ptrmap_slot *slot;
	size_t cap, n;		/* cap is 0 or a power of two */
};

/* Map key (not NULL) to value, replacing an earlier value. */
void ptrmap_put(struct ptrmap *m, const void *key, size_t value);
/* Whether key is there; its value in *value when value is not NULL. */
bool ptrmap_get(const struct ptrmap *m, const void *key, size_t *value);
/* Drop key if it is there. */
void ptrmap_del(struct ptrmap *m, const void *key);
/* Free the storage and leave the map empty. */
void ptrmap_free(struct ptrmap *m);

#endif
