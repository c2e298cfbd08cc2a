/*
 * The dependency graph of the running programs (depends_on), walked for the
 * start planner (dependencies first) and the stop planner (dependents first).
 * The config loader has already rejected unknown names and cycles, with
 * depgraph_find_cycles() on the graph of the programs it read.
 */
#ifndef SAFEEXITD_DEPGRAPH_H
#define SAFEEXITD_DEPGRAPH_H

#include <stddef.h>

#include "program.h"

/*
 * A growable list of programs without duplicates.  Past a few entries a
 * hash set of its members (set, set_cap) keeps proglist_add constant-time;
 * it belongs to the list and goes with it when the list is moved.
 */
struct proglist {
	struct program **v;
	size_t n, cap;
	struct program **set;
	size_t set_cap;
};

void proglist_add(struct proglist *l, struct program *p);
bool proglist_contains(const struct proglist *l, const struct program *p);
/* Take out the entry at index i, keeping the order of the rest. */
void proglist_remove_at(struct proglist *l, size_t i);
void proglist_free(struct proglist *l);

/* Add the programs of named and everything that depends on them. */
void depgraph_with_dependents_all(struct proglist *l, const struct proglist *named);

/* Add p and everything it depends on, transitively. */
void depgraph_with_dependencies(struct proglist *l, struct program *p);
/* Add p and everything that depends on it, transitively. */
void depgraph_with_dependents(struct proglist *l, struct program *p);

/*
 * Order l into stop stages: a program stops before everything it depends on
 * (directly, or through programs outside l), and where that leaves a choice,
 * higher priority numbers stop first.  Each stage holds the programs that
 * nothing of l still waiting depends on and that share the highest priority
 * number among those.  Sorts l into stop order and sets *stage to a new
 * array (the caller frees it) with the 0-based stage of each l->v[i];
 * returns the number of stages.
 */
size_t depgraph_stop_stages(struct proglist *l, int **stage);

/*
 * Find the cycles of a graph of n nodes: the edges of node i go to
 * to[first[i]] .. to[first[i + 1] - 1].  A depth-first walk from node 0, 1,
 * ... (and along the edges in order) hands each cycle it closes to found,
 * as the path of nodes from where it closes: path[0] -> path[1] -> ... ->
 * path[len - 1] -> path[0].
 */
void depgraph_find_cycles(size_t n, const size_t *first, const size_t *to,
    void (*found)(void *arg, const size_t *path, size_t len), void *arg);

#endif
