/*
 * The staged stop planner.  A run takes a set of programs, orders them into
 * stages (depgraph_stop_stages), and feeds stop events to the lifecycle one
 * stage at a time: every program of a stage gets its stop in the same loop
 * turn, and the next stage begins the moment the last process of this one is
 * gone.  A timeout caps the whole run: when it expires every remaining
 * program gets its kill_signal at once.  The planner never signals a
 * process itself.
 */
#ifndef SAFEEXITD_SHUTDOWN_H
#define SAFEEXITD_SHUTDOWN_H

#include <stdbool.h>
#include <stddef.h>

#include "depgraph.h"
#include "program.h"

struct event_base;
struct shutdown_run;

typedef void (*shutdown_done_fn)(struct shutdown_run *run, void *arg);
/* Called whenever the run makes progress (a stage begins, a program stops). */
typedef void (*shutdown_progress_fn)(struct shutdown_run *run, void *arg);

struct shutdown_progress {
	int stage;		/* 1-based */
	int stages;
	int left;		/* programs of the run not yet stopped */
	double grace;		/* longest grace period still running, seconds */
};

void shutdown_init(struct event_base *base);

/*
 * Stop the programs of l (taken over by the run) in stages, within timeout
 * seconds (0: no cap).  done runs once all are stopped, always from the
 * event loop and never before shutdown_start has returned (even when there
 * is nothing to wait for), so the returned pointer stays good until then;
 * the run frees itself after done returns.
 */
struct shutdown_run *shutdown_start(struct proglist *l, enum stop_reason why,
    double timeout, shutdown_done_fn done, shutdown_progress_fn progress,
    void *arg);
/* Skip the remaining grace periods: kill_signal to everything of the run. */
void shutdown_escalate(struct shutdown_run *run);
/* Escalate every run in progress. */
void shutdown_escalate_all(void);
/* Stop reporting to the caller; the run itself goes on to its end. */
void shutdown_detach(struct shutdown_run *run);
void shutdown_get_progress(const struct shutdown_run *run,
    struct shutdown_progress *out);
/* The programs of a run, in stop order. */
const struct proglist *shutdown_programs(const struct shutdown_run *run);
/* Forget a program that is being removed from the table. */
void shutdown_forget(struct program *p);

#endif
