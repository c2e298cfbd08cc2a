/*
 * Graph walks over depends_on.  The stop planner marks the programs of its
 * list (program->mark, a fresh number per walk) so that telling a member
 * from an outsider costs nothing, and keeps its per-program numbers in
 * program->level while it works.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "depgraph.h"
#include "log.h"
#include "xmalloc.h"

/* "from must stop before to": indices into the list being staged. */
struct depgraph_edges {
	struct {
		size_t from, to;
	} *v;
	size_t n, cap;
};

/* A program and its stage, for sorting the list into stop order. */
struct depgraph_staged {
	struct program *p;
	int stage;
};

static unsigned walk_mark;

static void depgraph_dependents_of(struct proglist *out, struct program *p);
static void depgraph_edge(struct depgraph_edges *e, size_t from, size_t to);
static void depgraph_member_deps(struct depgraph_edges *e, struct program *p,
    size_t from, unsigned member, unsigned visit);
static int depgraph_compare(const void *a, const void *b);

/* Where p starts its probe in a set of set_cap slots. */
static size_t
proglist_hash(const struct program *p, size_t set_cap)
{
	return (size_t)(((uintptr_t)p >> 4) * 2654435761U) & (set_cap - 1);
}

/* Put p in the member set (which has room). */
static void
proglist_set_put(struct proglist *l, struct program *p)
{
	size_t i = proglist_hash(p, l->set_cap);

	while (l->set[i] != NULL)
		i = (i + 1) & (l->set_cap - 1);
	l->set[i] = p;
}

/* Size the member set for twice the list's capacity and fill it. */
static void
proglist_set_build(struct proglist *l)
{
	free(l->set);
	l->set_cap = 64;
	while (l->set_cap < l->cap * 2)
		l->set_cap *= 2;
	l->set = xcalloc(l->set_cap, sizeof *l->set);
	for (size_t i = 0; i < l->n; i++)
		proglist_set_put(l, l->v[i]);
}

/* Append p unless it is there already. */
void
proglist_add(struct proglist *l, struct program *p)
{
	if (proglist_contains(l, p))
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	l->v[l->n++] = p;
	/* Short lists are searched; longer ones keep a set (built on growth). */
	if (l->set != NULL && l->set_cap >= l->cap * 2)
		proglist_set_put(l, p);
	else if (l->n > 16)
		proglist_set_build(l);
}

/* Whether p is in l. */
bool
proglist_contains(const struct proglist *l, const struct program *p)
{
	if (l->set != NULL) {
		for (size_t i = proglist_hash(p, l->set_cap); l->set[i] != NULL;
		    i = (i + 1) & (l->set_cap - 1))
			if (l->set[i] == p)
				return true;
		return false;
	}
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i] == p)
			return true;
	return false;
}

/* Take out the entry at index i; the set is rebuilt from what is left. */
void
proglist_remove_at(struct proglist *l, size_t i)
{
	memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof *l->v);
	l->n--;
	free(l->set);
	l->set = NULL;
	l->set_cap = 0;
	if (l->n > 16)
		proglist_set_build(l);
}

/* Free the list's storage (not the programs) and leave it empty. */
void
proglist_free(struct proglist *l)
{
	free(l->v);
	free(l->set);
	memset(l, 0, sizeof *l);
}

/* Add p and its dependencies, breadth-first: nearest first. */
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

/* Add p and its dependents, breadth-first: nearest first. */
void
depgraph_with_dependents(struct proglist *l, struct program *p)
{
	size_t first = l->n;

	proglist_add(l, p);
	for (size_t i = first; i < l->n; i++)
		depgraph_dependents_of(l, l->v[i]);
}

/* "q names dep in depends_on", q being the order-th program of the table. */
struct depgraph_rdep {
	const struct program *dep;
	size_t order;
	struct program *q;
};

/* By dependency, then by table order: the order depgraph_dependents_of uses. */
static int
depgraph_rdep_compare(const void *a, const void *b)
{
	const struct depgraph_rdep *x = a, *y = b;

	if (x->dep != y->dep)
		return (uintptr_t)x->dep < (uintptr_t)y->dep ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Every depends_on edge of the table, reversed and sorted; *n its length. */
static struct depgraph_rdep *
depgraph_reverse_edges(size_t *n)
{
	struct depgraph_rdep *v = NULL;
	size_t cap = 0;

	*n = 0;
	for (size_t i = 0; i < programs.n; i++) {
		strv_t deps = programs.v[i]->cfg->depends_on;

		for (size_t j = 0; deps != NULL && deps[j] != NULL; j++) {
			struct program *d = program_find(deps[j]);

			if (d == NULL)
				continue;
			if (*n == cap) {
				cap = cap ? cap * 2 : 64;
				v = xreallocarray(v, cap, sizeof *v);
			}
			v[*n].dep = d;
			v[*n].order = i;
			v[*n].q = programs.v[i];
			(*n)++;
		}
	}
	if (*n > 1)
		qsort(v, *n, sizeof *v, depgraph_rdep_compare);
	return v;
}

/*
 * depgraph_with_dependents for each program of named, in the same order,
 * with the reversed edges computed once rather than by scanning the whole
 * table for every program added: "stop all" stays linear.
 */
void
depgraph_with_dependents_all(struct proglist *l, const struct proglist *named)
{
	struct depgraph_rdep *rdeps;
	size_t n_rdeps;

	rdeps = depgraph_reverse_edges(&n_rdeps);
	for (size_t k = 0; k < named->n; k++) {
		size_t first = l->n;

		proglist_add(l, named->v[k]);
		for (size_t i = first; i < l->n && n_rdeps > 0; i++) {
			const struct program *p = l->v[i];
			size_t lo = 0, hi = n_rdeps;

			/* The first edge into p. */
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;

				if ((uintptr_t)rdeps[mid].dep < (uintptr_t)p)
					lo = mid + 1;
				else
					hi = mid;
			}
			for (; lo < n_rdeps && rdeps[lo].dep == p; lo++)
				proglist_add(l, rdeps[lo].q);
		}
	}
	free(rdeps);
}

/* Record that the member at from must stop before the member at to. */
static void
depgraph_edge(struct depgraph_edges *e, size_t from, size_t to)
{
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 16;
		e->v = xreallocarray(e->v, e->cap, sizeof *e->v);
	}
	e->v[e->n].from = from;
	e->v[e->n].to = to;
	e->n++;
}

/*
 * Record an edge from the member at from to every member that p depends
 * on.  A dependency outside the list is looked through, since what depends
 * on it depends on its dependencies as well: web -> app -> db with only web
 * and db stopping still stops web first.
 */
static void
depgraph_member_deps(struct depgraph_edges *e, struct program *p, size_t from,
    unsigned member, unsigned visit)
{
	strv_t deps = p->cfg->depends_on;

	for (size_t j = 0; deps != NULL && deps[j] != NULL; j++) {
		struct program *d = program_find(deps[j]);

		if (d == NULL || d->mark == visit)
			continue;
		if (d->mark == member) {
			depgraph_edge(e, from, (size_t)d->level);
			continue;
		}
		d->mark = visit;
		depgraph_member_deps(e, d, from, member, visit);
	}
}

/* Stop order: earlier stage first, then by name so runs are repeatable. */
static int
depgraph_compare(const void *a, const void *b)
{
	const struct depgraph_staged *p = a, *q = b;

	if (p->stage != q->stage)
		return p->stage < q->stage ? -1 : 1;
	return strcmp(p->p->cfg->name, q->p->cfg->name);
}

/*
 * Each stage takes, of the programs that nothing still running depends on,
 * those with the highest priority number.  So dependencies always hold, and
 * priority decides wherever they leave a choice: a priority 1 program that
 * nothing depends on still stops last.
 */
size_t
depgraph_stop_stages(struct proglist *l, int **stage)
{
	struct depgraph_edges e = { 0 };
	struct depgraph_staged *sorted;
	size_t n = l->n, placed = 0, stages = 0;
	unsigned member;
	int *st, *pending;

	st = xcalloc(n ? n : 1, sizeof *st);
	pending = xcalloc(n ? n : 1, sizeof *pending);
	sorted = xcalloc(n ? n : 1, sizeof *sorted);
	member = ++walk_mark;
	for (size_t i = 0; i < n; i++) {
		l->v[i]->mark = member;
		l->v[i]->level = (int)i;
	}
	for (size_t i = 0; i < n; i++)
		depgraph_member_deps(&e, l->v[i], i, member, ++walk_mark);
	for (size_t k = 0; k < e.n; k++)
		pending[e.v[k].to]++;
	for (size_t i = 0; i < n; i++)
		st[i] = -1;

	while (placed < n) {
		bool any = false;
		int best = 0;

		for (size_t i = 0; i < n; i++) {
			if (st[i] != -1 || pending[i] != 0)
				continue;
			if (!any || l->v[i]->cfg->priority > best)
				best = l->v[i]->cfg->priority;
			any = true;
		}
		if (!any) {
			/* Only a dependency cycle gets here; the config forbids them. */
			log_warnx("%s: dependency cycle; stopping the rest together",
			    __func__);
			for (size_t i = 0; i < n; i++)
				if (st[i] == -1) {
					st[i] = (int)stages;
					placed++;
				}
			stages++;
			break;
		}
		for (size_t i = 0; i < n; i++)
			if (st[i] == -1 && pending[i] == 0 &&
			    l->v[i]->cfg->priority == best) {
				st[i] = (int)stages;
				placed++;
			}
		for (size_t k = 0; k < e.n; k++)
			if (st[e.v[k].from] == (int)stages)
				pending[e.v[k].to]--;
		stages++;
	}

	for (size_t i = 0; i < n; i++) {
		sorted[i].p = l->v[i];
		sorted[i].stage = st[i];
		l->v[i]->mark = 0;
	}
	qsort(sorted, n, sizeof *sorted, depgraph_compare);
	for (size_t i = 0; i < n; i++) {
		l->v[i] = sorted[i].p;
		st[i] = sorted[i].stage;
	}
	free(sorted);
	free(pending);
	free(e.v);
	*stage = st;
	return stages;
}

/* A walk for depgraph_find_cycles: the graph, the colours, the path. */
struct depgraph_walk {
	const size_t *first, *to;
	unsigned char *color;	/* 0: not seen, 1: on the path, 2: done */
	size_t *path, depth;
	void (*found)(void *, const size_t *, size_t);
	void *arg;
};

/* Walk from node i; meeting a node on the path closes a cycle. */
static void
depgraph_walk_from(struct depgraph_walk *w, size_t i)
{
	size_t start;

	w->color[i] = 1;
	w->path[w->depth++] = i;
	for (size_t e = w->first[i]; e < w->first[i + 1]; e++) {
		size_t k = w->to[e];

		if (w->color[k] == 0)
			depgraph_walk_from(w, k);
		else if (w->color[k] == 1) {
			for (start = 0; w->path[start] != k; start++)
				;
			w->found(w->arg, w->path + start, w->depth - start);
		}
	}
	w->depth--;
	w->color[i] = 2;
}

/* Find every cycle a depth-first walk closes (see depgraph.h). */
void
depgraph_find_cycles(size_t n, const size_t *first, const size_t *to,
    void (*found)(void *arg, const size_t *path, size_t len), void *arg)
{
	struct depgraph_walk w = { first, to, NULL, NULL, 0, found, arg };

	w.color = xcalloc(n + 1, 1);
	w.path = xcalloc(n + 1, sizeof *w.path);
	for (size_t i = 0; i < n; i++)
		if (w.color[i] == 0)
			depgraph_walk_from(&w, i);
	free(w.path);
	free(w.color);
}
