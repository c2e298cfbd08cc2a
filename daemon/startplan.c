/*
 * Dependencies first.  Programs waiting for a dependency carry start_pending;
 * every state change re-examines them, so a program starts in the same loop
 * turn in which its last dependency reaches RUNNING.
 */
#include <stdbool.h>
#include <stdio.h>

#include "depgraph.h"
#include "lifecycle.h"
#include "startplan.h"

/* Whether any program may still be pending: spares a scan per state change. */
static bool maybe_pending;

static void startplan_kick(void);
static void startplan_changed(struct program *p, enum program_state old, void *arg);

void
startplan_init(void)
{
	program_observe(startplan_changed, NULL);
}

void
startplan_start(struct program **v, size_t n)
{
	struct proglist l = { 0 };

	if (lifecycle_exiting())
		return;
	for (size_t i = 0; i < n; i++)
		depgraph_with_dependencies(&l, v[i]);
	for (size_t i = 0; i < l.n; i++)
		if (l.v[i]->state != STATE_RUNNING && l.v[i]->state != STATE_STARTING)
			l.v[i]->start_pending = maybe_pending = true;
	proglist_free(&l);
	startplan_kick();
}

/* Start every pending program whose dependencies all run; fail the hopeless. */
static void
startplan_kick(void)
{
	bool again = true;

	/* A failed dependent may in turn fail its own dependents: repeat. */
	while (again && maybe_pending) {
		bool pending = false;

		again = false;
		for (size_t i = 0; i < programs.n; i++) {
			struct program *p = programs.v[i];
			strv_t deps = p->cfg->depends_on;
			bool ready = true;
			char why[160];

			if (!p->start_pending)
				continue;
			for (size_t j = 0; deps != NULL && deps[j] != NULL; j++) {
				struct program *d = program_find(deps[j]);

				if (d == NULL || d->state == STATE_RUNNING)
					continue;
				ready = false;
				if (d->state == STATE_FATAL ||
				    (d->state == STATE_STOPPED && !d->start_pending)) {
					snprintf(why, sizeof why, "dependency %s is %s",
					    d->cfg->name, program_state_name(d->state));
					lifecycle_fail(p, why);
					again = true;
					break;
				}
			}
			if (ready && p->start_pending)
				lifecycle_start(p);
			pending |= p->start_pending;
		}
		if (!pending && !again)
			maybe_pending = false;
	}
}

/* Any change may release or fail a waiting program. */
static void
startplan_changed(struct program *p, enum program_state old, void *arg)
{
	if (p->state == STATE_RUNNING || p->state == STATE_FATAL ||
	    p->state == STATE_STOPPED)
		startplan_kick();
}
