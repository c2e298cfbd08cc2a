/*
 * Dependencies first.  Programs waiting for a dependency carry start_pending;
 * every state change re-examines them, so a program starts in the same loop
 * turn in which its last dependency reaches RUNNING.  Programs that may start
 * in the same turn are launched lowest priority number first.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "depgraph.h"
#include "lifecycle.h"
#include "log.h"
#include "parse.h"
#include "startplan.h"

/* Whether any program may still be pending: spares a scan per state change. */
static bool maybe_pending;
/* A kick is running: a nested one (from a state change it caused) only asks for another pass. */
static bool kicking, kick_again;

static void startplan_kick(void);
static bool startplan_hopeless(struct program *p, char *why, size_t len);
static bool startplan_exited_ok(const struct program *d);
static void startplan_needed(struct proglist *l, struct program *p);
static bool startplan_exit_failed(const struct program *d, char *why,
    size_t len);
static int startplan_compare(const void *a, const void *b);
static void startplan_changed(struct program *p, enum program_state old, void *arg);

/* Watch program changes: they release or fail waiting programs. */
void
startplan_init(void)
{
	program_observe(startplan_changed, NULL);
}

/*
 * Add p and what it needs started, transitively.  A one-shot that a
 * dependent waits for with NAME:exited and that has already exited
 * successfully is done: neither it nor its own dependencies start again
 * for that dependent (a start of the one-shot itself runs it again).
 */
static void
startplan_needed(struct proglist *l, struct program *p)
{
	size_t first = l->n;

	proglist_add(l, p);
	/* Breadth-first over the list itself, as it grows. */
	for (size_t i = first; i < l->n; i++) {
		strv_t deps = l->v[i]->cfg->depends_on;

		for (size_t j = 0; deps != NULL && deps[j] != NULL; j++) {
			struct program *d = program_find(deps[j]);

			if (d == NULL || (program_config_waits_exit(l->v[i]->cfg,
			    deps[j]) && startplan_exited_ok(d)))
				continue;
			proglist_add(l, d);
		}
	}
}

/* Mark v and their dependencies pending, then start what may start now. */
void
startplan_start(struct program **v, size_t n)
{
	struct proglist l = { 0 };

	if (lifecycle_exiting())
		return;
	for (size_t i = 0; i < n; i++)
		startplan_needed(&l, v[i]);
	for (size_t i = 0; i < l.n; i++)
		if (l.v[i]->state != STATE_RUNNING && l.v[i]->state != STATE_STARTING)
			l.v[i]->start_pending = maybe_pending = true;
	proglist_free(&l);
	startplan_kick();
}

/*
 * Whether a dependency of pending p will not get to RUNNING unless asked
 * again: FATAL, or stopped with no start of its own on the way.  why says
 * which one.
 */
static bool
startplan_hopeless(struct program *p, char *why, size_t len)
{
	strv_t deps = p->cfg->depends_on;

	for (size_t j = 0; deps != NULL && deps[j] != NULL; j++) {
		struct program *d = program_find(deps[j]);

		if (d == NULL)
			continue;
		if (program_config_waits_exit(p->cfg, d->cfg->name) &&
		    startplan_exit_failed(d, why, len))
			return true;
		if (d->state == STATE_FATAL ||
		    (d->state == STATE_STOPPED && !d->start_pending)) {
			snprintf(why, len, "dependency %s is %s", d->cfg->name,
			    program_state_name(d->state));
			return true;
		}
	}
	return false;
}

/* Whether one-shot d has exited with one of its exitcodes, for good. */
static bool
startplan_exited_ok(const struct program *d)
{
	return d->state == STATE_EXITED && !d->start_pending && d->has_exit &&
	    d->exit_signal == 0 && program_config_exit_ok(d->cfg, d->exit_code);
}

/*
 * Whether one-shot d failed with no retry on the way: FATAL, or exited
 * badly with no restart armed.  why says how ("dependency migrate failed:
 * exit 3").
 */
static bool
startplan_exit_failed(const struct program *d, char *why, size_t len)
{
	char how[260];

	if (d->state == STATE_FATAL)
		snprintf(how, sizeof how, "%s", d->error[0] != '\0' ? d->error :
		    "FATAL");
	else if (d->state == STATE_EXITED && d->deadline == 0 &&
	    !d->start_pending && !startplan_exited_ok(d)) {
		if (!d->has_exit)
			snprintf(how, sizeof how, "exit status unknown");
		else if (d->exit_signal != 0)
			snprintf(how, sizeof how, "signal %s",
			    signal_name(d->exit_signal) != NULL ?
			    signal_name(d->exit_signal) : "?");
		else
			snprintf(how, sizeof how, "exit %d", d->exit_code);
	} else
		return false;
	snprintf(why, len, "dependency %s failed: %s", d->cfg->name, how);
	return true;
}

/* Launch order: lower priority number first, then the order of the table. */
static int
startplan_compare(const void *a, const void *b)
{
	const struct program *p = *(struct program *const *)a;
	const struct program *q = *(struct program *const *)b;

	if (p->cfg->priority != q->cfg->priority)
		return p->cfg->priority < q->cfg->priority ? -1 : 1;
	return p->level < q->level ? -1 : p->level > q->level;
}

/*
 * Start every pending program whose dependencies all run; fail the hopeless.
 * A pending program that is still stopping waits until it is STOPPED, and
 * counts as on its way for what depends on it.
 */
static void
startplan_kick(void)
{
	bool again = true;

	if (kicking) {
		kick_again = true;
		return;
	}
	kicking = true;
	/* A failed dependent may in turn fail its own dependents: repeat. */
	while ((again || kick_again) && maybe_pending) {
		struct program **v;
		size_t n = 0;
		bool pending = false;

		again = kick_again = false;
		if ((v = calloc(programs.n ? programs.n : 1, sizeof *v)) == NULL)
			fatal("%s", __func__);
		for (size_t i = 0; i < programs.n; i++)
			if (programs.v[i]->start_pending) {
				programs.v[i]->level = (int)i;
				v[n++] = programs.v[i];
			}
		qsort(v, n, sizeof *v, startplan_compare);
		for (size_t i = 0; i < n; i++) {
			struct program *p = v[i];
			strv_t deps = p->cfg->depends_on;
			bool ready = true;
			char why[512];

			/* A start or stop of an earlier one may have settled it. */
			if (!p->start_pending)
				continue;
			if (startplan_hopeless(p, why, sizeof why)) {
				lifecycle_fail(p, why);
				again = true;
				continue;
			}
			for (size_t j = 0; deps != NULL && deps[j] != NULL; j++) {
				struct program *d = program_find(deps[j]);

				if (d == NULL)
					continue;
				if (program_config_waits_exit(p->cfg, deps[j]) ?
				    !startplan_exited_ok(d) :
				    d->state != STATE_RUNNING)
					ready = false;
			}
			if (ready && p->state != STATE_STOPPING)
				lifecycle_start(p);
			pending |= p->start_pending;
		}
		free(v);
		if (!pending && !again)
			maybe_pending = false;
	}
	kicking = false;
}

/* Any change may release or fail a waiting program. */
static void
startplan_changed(struct program *p, enum program_state old, void *arg)
{
	if (p->state == STATE_RUNNING || p->state == STATE_FATAL ||
	    p->state == STATE_STOPPED || p->state == STATE_EXITED)
		startplan_kick();
}
