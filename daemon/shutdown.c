/*
 * Staged stops, driven by program state changes: no polling.
 */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle.h"
#include "log.h"
#include "platform.h"
#include "shutdown.h"

struct shutdown_run {
	struct proglist l;	/* in stop order */
	int *stage;		/* stage of each program of l */
	size_t stages;
	size_t current;		/* the stage being stopped */
	enum stop_reason why;
	bool killing;		/* timeout or escalation: kill_signal at once */
	bool finished;
	struct event *timer;
	shutdown_done_fn done;
	shutdown_progress_fn progress;
	void *arg;
	struct shutdown_run *next;
};

static struct event_base *shutdown_base;
static struct shutdown_run *runs;

static void shutdown_changed(struct program *p, enum program_state old, void *arg);
static void shutdown_advance(struct shutdown_run *run);
static void shutdown_begin_stage(struct shutdown_run *run);
static bool shutdown_stage_done(const struct shutdown_run *run, size_t stage);
static void shutdown_timeout_cb(evutil_socket_t fd, short what, void *arg);
static void shutdown_finish(struct shutdown_run *run);
static void shutdown_free(struct shutdown_run *run);

void
shutdown_init(struct event_base *base)
{
	shutdown_base = base;
	program_observe(shutdown_changed, NULL);
}

struct shutdown_run *
shutdown_start(struct proglist *l, enum stop_reason why, double timeout,
    shutdown_done_fn done, shutdown_progress_fn progress, void *arg)
{
	struct shutdown_run *run;

	if ((run = calloc(1, sizeof *run)) == NULL)
		fatal("%s", __func__);
	run->l = *l;
	memset(l, 0, sizeof *l);
	run->why = why;
	run->done = done;
	run->progress = progress;
	run->arg = arg;
	run->stages = depgraph_stop_stages(&run->l, &run->stage);
	run->next = runs;
	runs = run;
	if (timeout > 0) {
		struct timeval tv;

		tv.tv_sec = (time_t)timeout;
		tv.tv_usec = (suseconds_t)((timeout - (double)tv.tv_sec) * 1e6);
		run->timer = evtimer_new(shutdown_base, shutdown_timeout_cb, run);
		if (run->timer == NULL || evtimer_add(run->timer, &tv) == -1)
			fatalx("%s: cannot arm the shutdown timeout", __func__);
	}
	log_info("stopping %zu program%s in %zu stage%s", run->l.n,
	    run->l.n == 1 ? "" : "s", run->stages, run->stages == 1 ? "" : "s");
	run->current = 0;
	if (run->stages > 0)
		shutdown_begin_stage(run);
	shutdown_advance(run);
	return run;
}

/* Send the stop (or, once killing, the kill) to every program of the stage. */
static void
shutdown_begin_stage(struct shutdown_run *run)
{
	log_debug("stop stage %zu of %zu", run->current + 1, run->stages);
	for (size_t i = 0; i < run->l.n; i++) {
		if ((size_t)run->stage[i] != run->current)
			continue;
		if (run->killing)
			lifecycle_kill_now(run->l.v[i]);
		else
			lifecycle_stop(run->l.v[i], run->why);
	}
}

/* Whether every program of the stage has stopped. */
static bool
shutdown_stage_done(const struct shutdown_run *run, size_t stage)
{
	for (size_t i = 0; i < run->l.n; i++)
		if ((size_t)run->stage[i] == stage && program_is_active(run->l.v[i]))
			return false;
	return true;
}

/* Move on through every stage that is done; finish after the last. */
static void
shutdown_advance(struct shutdown_run *run)
{
	if (run->finished)
		return;
	while (run->current < run->stages && shutdown_stage_done(run, run->current)) {
		run->current++;
		if (run->current < run->stages)
			shutdown_begin_stage(run);
	}
	if (run->progress != NULL)
		run->progress(run, run->arg);
	if (run->current >= run->stages)
		shutdown_finish(run);
}

/* Every program of the run is stopped: report and free. */
static void
shutdown_finish(struct shutdown_run *run)
{
	struct shutdown_run **pp;

	run->finished = true;
	for (pp = &runs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == run) {
			*pp = run->next;
			break;
		}
	if (run->done != NULL)
		run->done(run, run->arg);
	shutdown_free(run);
}

static void
shutdown_free(struct shutdown_run *run)
{
	if (run->timer != NULL)
		event_free(run->timer);
	proglist_free(&run->l);
	free(run->stage);
	free(run);
}

/* A program changed state: a stage of some run may be complete now. */
static void
shutdown_changed(struct program *p, enum program_state old, void *arg)
{
	struct shutdown_run *run, *next;

	for (run = runs; run != NULL; run = next) {
		next = run->next;
		if (proglist_contains(&run->l, p))
			shutdown_advance(run);
	}
}

/* The run's time is up. */
static void
shutdown_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct shutdown_run *run = arg;

	log_notice("shutdown timeout reached; killing what is left");
	shutdown_escalate(run);
}

void
shutdown_escalate(struct shutdown_run *run)
{
	if (run->finished || run->killing)
		return;
	run->killing = true;
	/* Every program of the run, later stages included, gets its kill now. */
	for (size_t i = 0; i < run->l.n; i++)
		if (program_is_active(run->l.v[i]) ||
		    (size_t)run->stage[i] >= run->current)
			lifecycle_kill_now(run->l.v[i]);
}

void
shutdown_escalate_all(void)
{
	struct shutdown_run *run, *next;

	for (run = runs; run != NULL; run = next) {
		next = run->next;
		shutdown_escalate(run);
	}
}

void
shutdown_detach(struct shutdown_run *run)
{
	run->done = NULL;
	run->progress = NULL;
	run->arg = NULL;
}

void
shutdown_get_progress(const struct shutdown_run *run, struct shutdown_progress *out)
{
	double now = platform_now();

	memset(out, 0, sizeof *out);
	out->stage = (int)(run->current < run->stages ? run->current + 1 : run->stages);
	out->stages = (int)run->stages;
	for (size_t i = 0; i < run->l.n; i++) {
		struct program *p = run->l.v[i];

		if (!program_is_active(p))
			continue;
		out->left++;
		if (p->state == STATE_STOPPING && p->deadline > now &&
		    !p->kill_sent && p->deadline - now > out->grace)
			out->grace = p->deadline - now;
	}
}

const struct proglist *
shutdown_programs(const struct shutdown_run *run)
{
	return &run->l;
}

void
shutdown_forget(struct program *p)
{
	for (struct shutdown_run *run = runs; run != NULL; run = run->next)
		for (size_t i = 0; i < run->l.n; i++)
			if (run->l.v[i] == p) {
				memmove(&run->l.v[i], &run->l.v[i + 1],
				    (run->l.n - i - 1) * sizeof *run->l.v);
				memmove(&run->stage[i], &run->stage[i + 1],
				    (run->l.n - i - 1) * sizeof *run->stage);
				run->l.n--;
				break;
			}
}
