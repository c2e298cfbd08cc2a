/*
 * The state file: which process runs each program, so that a daemon started
 * again after a crash (or re-executed after an upgrade) re-adopts running
 * programs instead of starting them twice.  It lives next to the control
 * socket (SOCKET.state), is owned by the daemon's user with mode 0600, and is
 * replaced atomically (write a temporary file, rename) after state changes,
 * at most once per loop turn.
 */
#ifndef SAFEEXITD_STATEFILE_H
#define SAFEEXITD_STATEFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct event_base;

struct state_entry {
	char *name;
	pid_t pid;
	pid_t pgid;
	unsigned long long start_time;	/* /proc/PID/stat field 22, in ticks */
	char hash[17];			/* of the program's settings */
	char *exe;			/* /proc/PID/exe when written, or NULL */
	bool cgroup;			/* it ran in the program's cgroup */
};

struct state_file {
	struct state_entry *v;
	size_t n;
};

/* Keep path up to date from now on (NULL: no state file). */
void statefile_init(struct event_base *base, const char *path);
void statefile_fini(void);
/* Write the file now. */
int statefile_write(void);
/* Remove it (a clean exit: nothing runs any more). */
void statefile_remove(void);

/*
 * Read path.  Returns 0 with out filled; -1 when there is none or it cannot be
 * trusted (wrong owner or mode, a link, damaged), after logging why.
 */
int statefile_read(const char *path, struct state_file *out);
void statefile_free(struct state_file *sf);

/* The start time of pid from /proc, 0 when it is gone. */
unsigned long long statefile_start_time(pid_t pid, pid_t *ppid);
/* A short hash of a program's settings (its fingerprint). */
void statefile_hash(const char *fingerprint, char out[17]);

#endif
