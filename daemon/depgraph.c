/*
 * Graph walks over depends_on.  Membership tests use a per-walk mark on each
 * program instead of searching the list, so walks stay linear in the number
 * of edges.
 */
#include <stdlib.h>
#include <string.h>

#include "depgraph.h"
#include "log.h"

static unsigned walk_mark;

static void depgraph_dependents_of(struct proglist *out, struct program *p);
static int depgraph_level(struct program *p, unsigned mark);
static int depgraph_compare(const void *a, const void *b);

/* Append p unless it is there already. */
void
proglist_add(struct proglist *l, struct program *p)
{
	if (proglist_contains(l, p))
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		if ((l->v = realloc(l->v, l->cap * sizeof *l->v)) == NULL)
			fatal("%s", __func__);
	}
	l->v[l->n++] = p;
}

/* Whether p is in l. */
bool
proglist_contains(const struct proglist *l, const struct program *p)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i] == p)
			return true;
	return false;
}

void
proglist_free(struct proglist *l)
{
	free(l->v);
	memset(l, 0, sizeof *l);
}

void
depgraph_with_dependencies(struct proglist *l, struct program *p)
{
	size_t first = l->n;

	proglist_add(l, p);
	/* Breadth-first over the list itself: it grows as dependencies are found. */
	for (size_t i = first; i < l->n; i++) {
		strv_t deps = l->v[i]->cfg->depends_on;

		for (size_t j = 0; deps != NULL && deps[j] != NULL; j++) {
			struct program *d = program_find(deps[j]);

			if (d != NULL)
				proglist_add(l, d);
		}
	}
}

/* The programs that name p in depends_on. */
static void
depgraph_dependents_of(struct proglist *out, struct program *p)
{
	for (size_t i = 0; i < programs.n; i++) {
		struct program *q = programs.v[i];

		if (strv_contains(q->cfg->depends_on, p->cfg->name))
			proglist_add(out, q);
	}
}

void
depgraph_with_dependents(struct proglist *l, struct program *p)
{
	size_t first = l->n;

	proglist_add(l, p);
	for (size_t i = first; i < l->n; i++)
		depgraph_dependents_of(l, l->v[i]);
}

/*
 * How many programs of the walk must stop before p: 0 when none of them
 * depends on p, else one more than the deepest of its dependents.
 */
static int
depgraph_level(struct program *p, unsigned mark)
{
	int level = 0;

	if (p->mark == mark + 1)
		return p->level;
	p->mark = mark + 1;	/* visiting; the config has no cycles */
	for (size_t i = 0; i < programs.n; i++) {
		struct program *q = programs.v[i];

		if ((q->mark != mark && q->mark != mark + 1) ||
		    !strv_contains(q->cfg->depends_on, p->cfg->name))
			continue;
		int l = depgraph_level(q, mark) + 1;
		if (l > level)
			level = l;
	}
	p->level = level;
	return level;
}

/* Stop order: lower level first, then higher priority number first. */
static int
depgraph_compare(const void *a, const void *b)
{
	const struct program *p = *(struct program *const *)a;
	const struct program *q = *(struct program *const *)b;

	if (p->level != q->level)
		return p->level < q->level ? -1 : 1;
	if (p->cfg->priority != q->cfg->priority)
		return p->cfg->priority > q->cfg->priority ? -1 : 1;
	return strcmp(p->cfg->name, q->cfg->name);
}

size_t
depgraph_stop_stages(struct proglist *l, int **stage)
{
	unsigned mark;
	size_t n = 0;

	walk_mark += 2;
	mark = walk_mark;
	for (size_t i = 0; i < l->n; i++)
		l->v[i]->mark = mark;
	for (size_t i = 0; i < l->n; i++)
		depgraph_level(l->v[i], mark);
	qsort(l->v, l->n, sizeof *l->v, depgraph_compare);
	if ((*stage = calloc(l->n ? l->n : 1, sizeof **stage)) == NULL)
		fatal("%s", __func__);
	for (size_t i = 0; i < l->n; i++) {
		if (i > 0 && (l->v[i]->level != l->v[i - 1]->level ||
		    l->v[i]->cfg->priority != l->v[i - 1]->cfg->priority))
			n++;
		(*stage)[i] = (int)n;
	}
	for (size_t i = 0; i < l->n; i++)
		l->v[i]->mark = 0;
	return l->n ? n + 1 : 0;
}
