/*
 * The one state machine every program goes through.  Events come in from the
 * reaper (a process exited), the program's timer (its one deadline), control
 * requests, the start and stop planners and reload; each is a lifecycle_*
 * call.  Processes are touched only through struct lifecycle_ops, so the unit
 * tests drive the machine with a fake clock and fake processes.
 */
#ifndef SAFEEXITD_LIFECYCLE_H
#define SAFEEXITD_LIFECYCLE_H

#include <stdbool.h>

#include "program.h"

struct lifecycle_ops {
	/* Monotonic seconds. */
	double (*now)(void);
	/*
	 * Start p's main process: 0 with p->pid set, or -1 with p->error
	 * saying which step failed.  A failure found after fork (exec, chdir,
	 * setuid) arrives later: the child exits and p->error is set before
	 * lifecycle_exited is called.
	 */
	int (*spawn)(struct program *p);
	/* Deliver sig to p's process group (stop_group) or main process. */
	int (*kill)(struct program *p, int sig);
	/* The same, each process also getting SIGCONT: a stopped one sees sig. */
	int (*kill_and_wake)(struct program *p, int sig);
	/* Whether any process of p's process group is still alive. */
	bool (*group_alive)(struct program *p);
	/* Start p's stop_command; 0 with p->stop_command_pid set, or -1. */
	int (*run_stop_command)(struct program *p);
	/* Arm p's one deadline at monotonic time at; 0 disarms. */
	void (*arm)(struct program *p, double at);
	/*
	 * Watch an adopted main process that may not be our child (a pidfd);
	 * its end is reported with lifecycle_lost.  NULL: nothing to do.
	 */
	int (*watch)(struct program *p);
	/*
	 * Make a stop of p durable before its stop signal goes out (the state
	 * journal), with p->stop_reason, p->deadline and p->restart_after_stop
	 * already set.  NULL: nothing to record.
	 */
	void (*record_stop)(const struct program *p);
};

void lifecycle_init(const struct lifecycle_ops *ops);

/* While the daemon exits, nothing is started or restarted. */
void lifecycle_set_exiting(bool exiting);
bool lifecycle_exiting(void);

/* Requests. */
void lifecycle_start(struct program *p);
void lifecycle_stop(struct program *p, enum stop_reason why);
void lifecycle_restart(struct program *p);
/* Skip what is left of the grace period: kill_signal now. */
void lifecycle_kill_now(struct program *p);
/* Send sig to a running program; -1 with errno when it has no process. */
int lifecycle_signal(struct program *p, int sig);
/* A program that cannot start (a dependency failed) goes FATAL with why. */
void lifecycle_fail(struct program *p, const char *why);

/* Events. */
void lifecycle_exited(struct program *p, int wait_status);
void lifecycle_lost(struct program *p);
void lifecycle_adopt(struct program *p, pid_t pid, pid_t pgid, double age);
/*
 * Event: carry on from what an earlier run of the daemon recorded (e), its
 * main process found alive (alive, running for age seconds) or not: a stop
 * goes on to its kill_signal, a start to start_secs, a back-off keeps its
 * count and its time, a process that ended unseen counts as an exit.
 */
struct state_entry;
void lifecycle_resume(struct program *p, const struct state_entry *e,
    bool alive, double age);
void lifecycle_stop_command_exited(struct program *p, int wait_status);
/* Some process was reaped: a stopping program's group may be empty now. */
void lifecycle_reaped(struct program *p);
void lifecycle_timer(struct program *p);

/*
 * Readiness and health (ready.c).  lifecycle_ready: a STARTING program
 * passed its readiness check and is RUNNING.  lifecycle_not_ready: it did
 * not in time; its processes are stopped, and the start counts as failed.
 * lifecycle_unhealthy: a RUNNING program failed its health check; it is
 * stopped and started again, counted in restarts.  lifecycle_set_main_pid:
 * the program named another main process (MAINPID=).  lifecycle_extend:
 * the deadline of a start or stop moves secs from now, if that is later.
 */
void lifecycle_ready(struct program *p);
void lifecycle_not_ready(struct program *p, const char *why);
void lifecycle_unhealthy(struct program *p, const char *why);
void lifecycle_set_main_pid(struct program *p, pid_t pid, pid_t pgid);
void lifecycle_extend(struct program *p, double secs);

/* Seconds to wait before retry n (1-based) after a failed start. */
double lifecycle_backoff(int n);

#endif
