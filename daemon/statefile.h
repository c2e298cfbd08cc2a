/*
 * The state file and its journal: what each program is doing, so that a
 * daemon started again after a crash (or re-executed after an upgrade)
 * carries on where the last one was instead of starting programs twice,
 * forgetting a stop or starting over a back-off.  Both live next to the
 * control socket (SOCKET.state, SOCKET.state.journal), are owned by the
 * daemon's user with mode 0600, and are never opened through a link.  How
 * the two together hold at every instant is told atop statefile.c.
 */
#ifndef SAFEEXITD_STATEFILE_H
#define SAFEEXITD_STATEFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "program.h"

struct event_base;

/* What the files say about one program, journal replayed. */
struct state_entry {
	char *name;
	char hash[17];			/* of the program's settings */
	bool has_state;			/* state and the fields below are known */
	enum program_state state;
	pid_t pid;			/* 0: no main process recorded */
	pid_t pgid;
	unsigned long long start_time;	/* /proc/PID/stat field 22, in ticks */
	char *exe;			/* /proc/PID/exe when written, or NULL */
	bool cgroup;			/* it ran in the program's cgroup */
	double started_at;		/* CLOCK_MONOTONIC seconds, 0: unknown */
	double deadline;		/* CLOCK_MONOTONIC seconds, 0: none */
	int failed_starts;
	int restarts;
	enum stop_reason stop_reason;
	bool kill_sent;
	bool restart_after_stop;
	int stop_signal;		/* how to stop it, 0: not recorded */
	double stop_timeout;
	int kill_signal;
	bool has_exit;
	int exit_code;
	int exit_signal;
	char error[256];
	char status_text[256];		/* STATUS=, "" when none */
	int health_failures;		/* in a row, 0 when none */
	char health_why[192];
};

struct state_file {
	struct state_entry *v;
	size_t n;
	bool same_boot;		/* states are trusted only from this boot */
	bool shutdown;		/* a staged shutdown of everything was running */
};

/* Keep path (and path.journal) up to date from now on (NULL: no state file). */
void statefile_init(struct event_base *base, const char *path);
void statefile_fini(void);
/* Write the snapshot now (and empty the journal). */
int statefile_write(void);
/* Something the snapshot holds changed beside a state: write it soon. */
void statefile_touch(void);
/* Remove both (a clean exit: nothing runs any more). */
void statefile_remove(void);
/* Say in the next snapshot whether a staged shutdown of everything runs. */
void statefile_set_shutdown(bool running);

/*
 * Read path and replay path.journal on it.  Returns 0 with out filled; -1
 * when there is nothing or it cannot be trusted, after logging why.
 */
int statefile_read(const char *path, struct state_file *out);
void statefile_free(struct state_file *sf);

/* The journal, for launches to append their record to (-1: none). */
int statefile_journal_fd(void);
/* Append, before the stop signal goes out, that p is being stopped. */
void statefile_journal_stop(const struct program *p);

/* The start time of pid from /proc, 0 when it is gone. */
unsigned long long statefile_start_time(pid_t pid, pid_t *ppid);
/* A short hash of a program's settings (its fingerprint). */
void statefile_hash(const char *fingerprint, char out[17]);

#endif
