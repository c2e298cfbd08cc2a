/*
 * Staged stops, driven by program state changes: no polling.
 *
 * Stopping a program can change its state at once (one in BACKOFF is simply
 * STOPPED), and every change comes back here through the observer.  So a run
 * is marked busy while it hands out stops, and only moves on once it is done
 * handing them out; and it reports its end from the event loop, never from
 * inside shutdown_start or a caller's lifecycle call, so a caller may keep
 * the pointer shutdown_start returns until done is called.
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
	bool *gone;		/* stopped since its stage began; a start after
				 * that is someone else's and not waited for */
	size_t stages;
	size_t current;		/* the stage being stopped */
	enum stop_reason why;
	bool killing;		/* timeout or escalation: kill_signal at once */
	bool busy;		/* handing out stops: changes wait for the end */
	bool finished;		/* every stage done; done is on its way */
	struct event *timer;
	struct event *done_ev;	/* reports the end from the event loop */
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
static bool shutdown_stage_done(struct shutdown_run *run, size_t stage);
static void shutdown_timeout_cb(evutil_socket_t fd, short what, void *arg);
static void shutdown_done_cb(evutil_socket_t fd, short what, void *arg);
static void shutdown_free(struct shutdown_run *run);

/* Remember the loop and watch every program change from now on. */
void
shutdown_init(struct event_base *base)
{
	shutdown_base = base;
	program_observe(shutdown_changed, NULL);
}

/* Order l into stages and send the first its stops. */
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
	if ((run->gone = calloc(run->l.n ? run->l.n : 1, sizeof *run->gone)) == NULL)
		fatal("%s", __func__);
	run->done_ev = event_new(shutdown_base, -1, 0, shutdown_done_cb, run);
	if (run->done_ev == NULL)
		fatalx("%s: event_new", __func__);
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
	run->busy = true;
	for (size_t i = 0; i < run->l.n; i++) {
		if ((size_t)run->stage[i] != stage)
			continue;
		if (run->killing)
			lifecycle_kill_now(run->l.v[i]);
		else
			lifecycle_stop(run->l.v[i], run->why);
	}
	run->busy = false;
}

/* Whether every program of the stage has stopped since the stage began. */
static bool
shutdown_stage_done(struct shutdown_run *run, size_t stage)
{
	bool done = true;

	for (size_t i = 0; i < run->l.n; i++) {
		if ((size_t)run->stage[i] != stage || run->gone[i])
			continue;
		if (program_is_active(run->l.v[i]))
			done = false;
		else
			run->gone[i] = true;
	}
	return done;
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
		if (run->timer != NULL)
			evtimer_del(run->timer);
		event_active(run->done_ev, EV_TIMEOUT, 0);
	}
	if (run->progress != NULL)
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
		next = run->next;
		for (size_t i = 0; i < run->l.n; i++) {
			if (run->l.v[i] != p)
				continue;
			if (old == STATE_STOPPING && (size_t)run->stage[i] <= run->current)
				run->gone[i] = true;
			shutdown_advance(run);
			break;
		}
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

/* Where the run has got, for clients and the service manager. */
void
shutdown_get_progress(const struct shutdown_run *run, struct shutdown_progress *out)
{
	double now = platform_now();

	memset(out, 0, sizeof *out);
	out->stage = (int)(run->current < run->stages ? run->current + 1 : run->stages);
	out->stages = (int)run->stages;
	for (size_t i = 0; i < run->l.n; i++) {
		struct program *p = run->l.v[i];

		if (run->gone[i] || !program_is_active(p))
			continue;
		out->left++;
		if (p->state == STATE_STOPPING && p->deadline > now &&
		    !p->kill_sent && p->deadline - now > out->grace)
			out->grace = p->deadline - now;
	}
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

	for (run = runs; run != NULL; run = next) {
		next = run->next;
		for (size_t i = 0; i < run->l.n; i++)
			if (run->l.v[i] == p) {
				memmove(&run->l.v[i], &run->l.v[i + 1],
				    (run->l.n - i - 1) * sizeof *run->l.v);
				memmove(&run->stage[i], &run->stage[i + 1],
				    (run->l.n - i - 1) * sizeof *run->stage);
				memmove(&run->gone[i], &run->gone[i + 1],
				    (run->l.n - i - 1) * sizeof *run->gone);
				run->l.n--;
				shutdown_advance(run);
				break;
			}
	}
}
