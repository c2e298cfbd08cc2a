/*
 * Staged stops, driven by program state changes: no polling.
 *
 * Stopping a program can change its state at once (one in BACKOFF is simply
 * STOPPED), and every change comes back here through the observer.  So a run
 * is marked busy while it hands out stops, and only moves on once it is done
 * handing them out; and it reports its end from the event loop, never from
 * inside shutdown_start or a caller's lifecycle call, so a caller may keep
 * the pointer shutdown_start returns until done is called.
 *
 * A run costs time in proportion to its programs, not to programs times
 * changes: the list is in stage order, so a stage is a slice of it; a map
 * finds a changed program's place; and a stage counts its programs not yet
 * gone instead of being rescanned on every change.  Progress goes to the
 * caller at most once per loop turn.
 */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle.h"
#include "log.h"
#include "platform.h"
#include "ptrmap.h"
#include "shutdown.h"
#include "timeline.h"
#include "timeval.h"
#include "xmalloc.h"

struct shutdown_run {
	struct proglist l;	/* in stop order */
	int *stage;		/* stage of each program of l */
	bool *gone;		/* stopped since its stage began; a start after
				 * that is someone else's and not waited for */
	size_t stages;
	size_t *first;		/* stage s is l.v[first[s]] up to l.v[first[s + 1]] */
	struct ptrmap index;	/* program -> its position in l */
	size_t current;		/* the stage being stopped */
	bool counted;		/* left is known for the current stage */
	size_t left;		/* of the current stage: not gone yet */
	size_t later;		/* of later stages: active when this one began */
	double grace_until;	/* the latest grace deadline handed out this stage */
	enum stop_reason why;
	bool killing;		/* timeout or escalation: kill_signal at once */
	bool busy;		/* handing out stops: changes wait for the end */
	bool finished;		/* every stage done; done is on its way */
	struct event *timer;
	struct event *done_ev;	/* reports the end from the event loop */
	struct event *progress_ev;	/* reports progress once per loop turn */
	shutdown_done_fn done;
	shutdown_progress_fn progress;
	void *arg;
	struct shutdown_run *next;
};

static struct event_base *shutdown_base;
static struct shutdown_run *runs;

static void shutdown_changed(struct program *p, enum program_state old, void *arg);
static void shutdown_layout(struct shutdown_run *run);
static void shutdown_gone(struct shutdown_run *run, size_t i);
static void shutdown_progress_cb(evutil_socket_t fd, short what, void *arg);
static void shutdown_advance(struct shutdown_run *run);
static void shutdown_begin_stage(struct shutdown_run *run);
static bool shutdown_stage_done(struct shutdown_run *run, size_t stage);
static void shutdown_timeout_cb(evutil_socket_t fd, short what, void *arg);
static void shutdown_done_cb(evutil_socket_t fd, short what, void *arg);
static void shutdown_free(struct shutdown_run *run);

/* Remember the loop and watch every program change from now on. */
void
shutdown_init(struct event_base *base)
{
	shutdown_base = base;
	/* First, so that it hears of a program's end before the run does. */
	timeline_init(platform_now, NULL);
	program_observe(shutdown_changed, NULL);
}

/* Order l into stages and send the first its stops. */
struct shutdown_run *
shutdown_start(struct proglist *l, enum stop_reason why, double timeout,
    shutdown_done_fn done, shutdown_progress_fn progress, void *arg)
{
	struct shutdown_run *run;

	run = xcalloc(1, sizeof *run);
	run->l = *l;
	memset(l, 0, sizeof *l);
	run->why = why;
	run->done = done;
	run->progress = progress;
	run->arg = arg;
	run->stages = depgraph_stop_stages(&run->l, &run->stage);
	run->gone = xcalloc(run->l.n ? run->l.n : 1, sizeof *run->gone);
	shutdown_layout(run);
	timeline_begin(run, why, &run->l, run->stage, run->stages);
	run->done_ev = event_new(shutdown_base, -1, 0, shutdown_done_cb, run);
	run->progress_ev = event_new(shutdown_base, -1, 0, shutdown_progress_cb, run);
	if (run->done_ev == NULL || run->progress_ev == NULL)
		fatalx("%s: event_new", __func__);
	run->next = runs;
	runs = run;
	if (timeout > 0) {
		struct timeval tv;

		tv = timeval_from_secs(timeout);
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

/*
 * Send the stop (or, once killing, the kill) to every program of the stage,
 * all in this loop turn.  The state changes this causes are looked at once
 * every program has had its stop: the caller advances afterwards.
 */
static void
shutdown_begin_stage(struct shutdown_run *run)
{
	size_t stage = run->current;

	log_debug("stop stage %zu of %zu", stage + 1, run->stages);
	timeline_stage(run, stage);
	run->busy = true;
	run->counted = false;
	run->grace_until = 0;
	for (size_t i = run->first[stage]; i < run->first[stage + 1]; i++) {
		struct program *p = run->l.v[i];

		if (run->killing)
			lifecycle_kill_now(p);
		else
			lifecycle_stop(p, run->why);
		if (p->state == STATE_STOPPING && !p->kill_sent &&
		    p->deadline > run->grace_until)
			run->grace_until = p->deadline;
	}
	run->later = 0;
	for (size_t i = run->first[stage + 1]; i < run->l.n; i++)
		run->later += !run->gone[i] && program_is_active(run->l.v[i]);
	run->busy = false;
}

/*
 * Find each stage's slice of the list (which is in stage order) and each
 * program's place; called again when a program leaves the list.
 */
static void
shutdown_layout(struct shutdown_run *run)
{
	size_t s = 0;

	free(run->first);
	run->first = xcalloc(run->stages + 1, sizeof *run->first);
	ptrmap_free(&run->index);
	for (size_t i = 0; i < run->l.n; i++) {
		while (s < (size_t)run->stage[i])
			run->first[++s] = i;
		ptrmap_put(&run->index, run->l.v[i], i);
	}
	while (s < run->stages)
		run->first[++s] = run->l.n;
	run->counted = false;
}

/* The program at i has stopped since its stage began. */
static void
shutdown_gone(struct shutdown_run *run, size_t i)
{
	if (run->gone[i])
		return;
	run->gone[i] = true;
	if (run->counted && (size_t)run->stage[i] == run->current)
		run->left--;
}

/*
 * Whether every program of the current stage has stopped since the stage
 * began.  The first time, count those still active (the rest are gone);
 * from then on their changes keep the count.
 */
static bool
shutdown_stage_done(struct shutdown_run *run, size_t stage)
{
	if (!run->counted) {
		run->left = 0;
		for (size_t i = run->first[stage]; i < run->first[stage + 1]; i++) {
			if (run->gone[i])
				continue;
			if (program_is_active(run->l.v[i]))
				run->left++;
			else
				run->gone[i] = true;
		}
		run->counted = true;
	}
	return run->left == 0;
}

/*
 * Move on through every stage that is done, the next one's stops going out
 * in the same loop turn as the last exit of this one; after the last stage,
 * have the loop report the end.
 */
static void
shutdown_advance(struct shutdown_run *run)
{
	if (run->finished || run->busy)
		return;
	while (run->current < run->stages && shutdown_stage_done(run, run->current)) {
		run->current++;
		if (run->current < run->stages)
			shutdown_begin_stage(run);
	}
	if (run->current >= run->stages) {
		run->finished = true;
		timeline_end(run);
		if (run->timer != NULL)
			evtimer_del(run->timer);
		event_active(run->done_ev, EV_TIMEOUT, 0);
		/* The last word comes now, ahead of done. */
		event_del(run->progress_ev);
		if (run->progress != NULL)
			run->progress(run, run->arg);
		return;
	}
	/* Many changes in one loop turn make one report (activating twice is once). */
	if (run->progress != NULL)
		event_active(run->progress_ev, EV_TIMEOUT, 0);
}

/* Report progress: the changes of a loop turn are in. */
static void
shutdown_progress_cb(evutil_socket_t fd, short what, void *arg)
{
	struct shutdown_run *run = arg;

	if (run->progress != NULL && !run->finished)
		run->progress(run, run->arg);
}

/* The run is over: take it off the list, tell the caller, and free it. */
static void
shutdown_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct shutdown_run *run = arg, **pp;

	for (pp = &runs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == run) {
			*pp = run->next;
			break;
		}
	if (run->done != NULL)
		run->done(run, run->arg);
	shutdown_free(run);
}

/* Release the run and what it holds. */
static void
shutdown_free(struct shutdown_run *run)
{
	if (run->timer != NULL)
		event_free(run->timer);
	event_free(run->done_ev);
	event_free(run->progress_ev);
	ptrmap_free(&run->index);
	free(run->first);
	proglist_free(&run->l);
	free(run->stage);
	free(run->gone);
	free(run);
}

/*
 * A program changed state: a stage of some run may be complete now.  One
 * that leaves STOPPING has stopped, even if another observer started it
 * again before this one heard of it.
 */
static void
shutdown_changed(struct program *p, enum program_state old, void *arg)
{
	struct shutdown_run *run, *next;

	for (run = runs; run != NULL; run = next) {
		size_t i;

		next = run->next;
		if (!ptrmap_get(&run->index, p, &i))
			continue;
		if ((size_t)run->stage[i] <= run->current && (old == STATE_STOPPING ||
		    (run->counted && (size_t)run->stage[i] == run->current &&
		    !program_is_active(p))))
			shutdown_gone(run, i);
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

/* kill_signal to every program of the run not yet stopped, later stages too. */
void
shutdown_escalate(struct shutdown_run *run)
{
	bool busy = run->busy;

	if (run->finished || run->killing)
		return;
	run->killing = true;
	run->busy = true;
	for (size_t i = 0; i < run->l.n; i++)
		if (!run->gone[i])
			lifecycle_kill_now(run->l.v[i]);
	run->grace_until = 0;
	run->busy = busy;
	shutdown_advance(run);
}

/* Escalate every run that is still going. */
void
shutdown_escalate_all(void)
{
	struct shutdown_run *run, *next;

	for (run = runs; run != NULL; run = next) {
		next = run->next;
		shutdown_escalate(run);
	}
}

/* Forget the caller: no progress reports, no done. */
void
shutdown_detach(struct shutdown_run *run)
{
	run->done = NULL;
	run->progress = NULL;
	run->arg = NULL;
}

/*
 * Where the run has got, for clients and the service manager: the current
 * stage's programs not yet stopped (as counted), those of later stages
 * that were active when it began, and what is left of its grace period.
 */
void
shutdown_get_progress(const struct shutdown_run *run, struct shutdown_progress *out)
{
	double now = platform_now();
	size_t left = run->later;

	memset(out, 0, sizeof *out);
	out->stage = (int)(run->current < run->stages ? run->current + 1 : run->stages);
	out->stages = (int)run->stages;
	if (run->current >= run->stages)
		return;
	if (run->counted)
		left += run->left;
	else
		for (size_t i = run->first[run->current];
		    i < run->first[run->current + 1]; i++)
			left += !run->gone[i] && program_is_active(run->l.v[i]);
	out->left = (int)left;
	if (left > 0 && !run->killing && run->grace_until > now)
		out->grace = run->grace_until - now;
}

/* The run's programs, in stop order. */
const struct proglist *
shutdown_programs(const struct shutdown_run *run)
{
	return &run->l;
}

/*
 * Drop p from every run, finished ones waiting to report included, since
 * the program is about to be freed.  A stage it was the last of is done.
 */
void
shutdown_forget(struct program *p)
{
	struct shutdown_run *run, *next;

	timeline_forget(p);
	for (run = runs; run != NULL; run = next) {
		size_t i;

		next = run->next;
		if (!ptrmap_get(&run->index, p, &i))
			continue;
		memmove(&run->stage[i], &run->stage[i + 1],
		    (run->l.n - i - 1) * sizeof *run->stage);
		memmove(&run->gone[i], &run->gone[i + 1],
		    (run->l.n - i - 1) * sizeof *run->gone);
		proglist_remove_at(&run->l, i);
		shutdown_layout(run);
		shutdown_advance(run);
	}
}
