/*
 * The program table: one struct program per [program:NAME] of the running
 * config, holding the runtime state that the lifecycle state machine owns.
 * Other modules read programs freely but change them only through
 * lifecycle_* events; they learn of every change through an observer.
 */
#ifndef SAFEEXITD_PROGRAM_H
#define SAFEEXITD_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "conf.h"

enum program_state {
	STATE_STOPPED,
	STATE_STARTING,
	STATE_RUNNING,
	STATE_BACKOFF,
	STATE_STOPPING,
	STATE_EXITED,
	STATE_FATAL,
};
#define PROGRAM_STATE_COUNT (STATE_FATAL + 1)

const char *program_state_name(enum program_state s);

/* Why a program was last asked to stop: shown in logs. */
enum stop_reason {
	STOP_NONE,
	STOP_REQUEST,		/* stop / restart from a client */
	STOP_SHUTDOWN,		/* staged shutdown of everything */
	STOP_RELOAD,		/* removed or changed by a reload */
	STOP_HEALTH,		/* its health check failed: restart */
	STOP_NOT_READY,		/* not ready within ready_timeout: a failed start */
};

struct output;
struct event;
struct ready;

struct program {
	struct program_config *cfg;	/* owned by the program */
	struct program_config *next_cfg;	/* reload: settings to take once stopped */
	bool start_after_swap;	/* reload: start with next_cfg once swapped */
	enum program_state state;
	double state_since;	/* monotonic seconds */

	pid_t pid;		/* main process, 0 when none */
	pid_t pgid;		/* its process group (== pid), kept after it exits
				 * until the group is empty */
	double started_at;	/* monotonic time of the last spawn */
	bool main_alive;	/* the main process has not been reaped yet */
	bool adopted;		/* main process from an earlier daemon (statefile.c) */
	int watch_fd;		/* pidfd of an adopted process that is not our child */
	struct event *watch_ev;

	/* The last exit: exit code or signal, valid when has_exit. */
	bool has_exit;
	int exit_code;		/* -1 when killed by a signal */
	int exit_signal;	/* 0 when it exited normally */

	int failed_starts;	/* in a row, reset when RUNNING is reached */
	int restarts;		/* automatic restarts since the daemon started */
	char error[256];	/* why the last start failed, "" when none */

	/* Stopping. */
	enum stop_reason stop_reason;
	bool kill_sent;		/* kill_signal already sent this stop */
	bool restart_after_stop;	/* restart: start again once stopped */
	pid_t stop_command_pid;	/* stop_command running, 0 when none */
	int stop_status_fd;	/* its exec-failure pipe, -1 when closed */
	int reap_fd;		/* pidfd of the main process while it stops (reap.c) */
	struct event *reap_fd_ev;

	/* The one deadline of this program (start_secs, back-off, grace). */
	double deadline;	/* 0 when none is armed */
	struct event *timer;

	int spawn_status_fd;	/* child's exec-failure pipe, -1 when closed */
	struct event *spawn_status_ev;

	struct output *output;	/* the program's stdout/stderr plumbing */

	/* Readiness and health (ready.c); the cause is read by lifecycle.c. */
	struct ready *ready;
	char ready_cause[160];	/* the last failed readiness check, "" none */
	bool fail_after_stop;	/* not ready in time: once stopped, a failed start */

	bool start_pending;	/* start once its dependencies are RUNNING */
	unsigned mark;		/* scratch for graph walks (depgraph.c) */
	int level;		/* scratch for graph walks (depgraph.c) */
	bool removed;		/* dropped by reload: free once stopped */
	bool recovered;		/* state carried on from an earlier run (adopt.c) */
	bool remove_scheduled;
	pid_t start_time_pid;	/* statefile.c: start_time is that of this pid */
	unsigned long long start_time;	/* its kernel start time, read once */
};

/* Called after every state change, with the state it left. */
typedef void (*program_observer_fn)(struct program *p, enum program_state old,
    void *arg);

struct program_table {
	struct program **v;
	size_t n;
};

extern struct program_table programs;

struct program *program_find(const char *name);
struct program *program_find_pid(pid_t pid);
struct program *program_find_stop_command(pid_t pid);
/*
 * Index p->pid and p->stop_command_pid for the two lookups above; called
 * right after either is set.  A stale entry is never returned: lookups
 * check the program's current pids.
 */
void program_index_pids(struct program *p);

/* Add a program in STATE_STOPPED; it owns cfg from now on. */
struct program *program_add(struct program_config *cfg);
/* Remove and free a program that is not running. */
void program_remove(struct program *p);

void program_observe(program_observer_fn fn, void *arg);
void program_unobserve(program_observer_fn fn, void *arg);
void program_notify(struct program *p, enum program_state old);

/* Whether the program has a process that may still run (main or group). */
bool program_is_active(const struct program *p);

#endif
