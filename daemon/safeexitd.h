/*
 * The daemon as a whole: its running config and the actions that signals,
 * control requests and host events share, so every trigger takes one path.
 */
#ifndef SAFEEXITD_SAFEEXITD_H
#define SAFEEXITD_SAFEEXITD_H

#include <stdbool.h>
#include <sys/types.h>

#include "conf.h"

struct json_object;

/*
 * The event loop's priorities: every event has the default (1) but a
 * stopping child's pidfd, which comes first (see reap.c).
 */
#define LOOP_PRIORITIES		2
#define LOOP_PRIORITY_FIRST	0

/* The running config (daemon-level keys; programs live in the table). */
const struct config *daemon_config(void);
/* Seconds since the daemon started. */
double daemon_uptime(void);

/*
 * Stop everything in stages, then exit.  why is logged.  Calling it again
 * during the shutdown does nothing; use daemon_escalate for the second signal.
 */
void daemon_shutdown(const char *why);
bool daemon_shutting_down(void);
/* Skip the remaining grace periods of the shutdown in progress. */
void daemon_escalate(void);
/* Call fn(arg) once the shutdown has stopped every program (before exit). */
void daemon_on_stopped(void (*fn)(void *), void *arg);
void daemon_forget_on_stopped(void *arg);

/*
 * Re-read the config file.  On success returns 0 and, if result is not NULL,
 * a JSON object with added/removed/changed/unchanged/restart_needed.  On a
 * bad config returns -1, changes nothing, and puts the messages in errs.
 */
int daemon_reload(struct json_object **result, struct config_errors *errs);

/*
 * Load the config file as a reload would and put in *result what it would
 * change (added/removed/changed/unchanged), changing nothing.  On a bad
 * config returns -1 with the messages in errs.
 */
int daemon_reread(struct json_object **result, struct config_errors *errs);

/*
 * Re-execute the daemon's binary (after an upgrade), keeping every program
 * running and the control socket open.  Returns only on failure.
 */
int daemon_reexec(void);

#endif
