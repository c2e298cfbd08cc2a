/*
 * Detached launch of one process (POSIX): its own session and process group,
 * no controlling terminal, stdin from /dev/null, nothing inherited but the
 * descriptors it is given, default signal dispositions and an empty mask,
 * working directory, environment, umask and credentials of the program.
 */
#ifndef SAFEEXITD_SPAWN_H
#define SAFEEXITD_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

/* One rlimit of a program, resolved by the parent. */
struct spawn_rlimit {
	int resource;		/* RLIMIT_* */
	struct rlimit rl;
};

struct spawn_request {
	char *const *argv;
	char *const *environment;	/* "KEY=value" overrides, or NULL */
	const char *directory;
	const char *user;		/* NULL: keep the daemon's */
	const char *group;		/* NULL: the user's primary group */
	unsigned umask;
	bool has_stdin;			/* stdin_fd for 0, else /dev/null */
	int stdin_fd;
	int stdout_fd;			/* descriptors for 1 and 2 */
	int stderr_fd;
	/*
	 * The program's cgroup folder, or -1.  The child starts in it
	 * (clone3 with CLONE_INTO_CGROUP, Linux 5.7) or, where that cannot be
	 * used, moves itself there before anything else: either way every
	 * process it ever starts is counted in that cgroup (cgroup.c).
	 */
	int cgroup_fd;
	/* A descriptor the child gets as extra_fd_num, or -1 (ready = fd:N). */
	int extra_fd;
	int extra_fd_num;
	/* "KEY=value" the daemon sets last, over everything (NOTIFY_SOCKET). */
	char *const *daemon_environment;
	/*
	 * The state journal (statefile.c), or -1.  Just before its execve the
	 * child appends "L NAME PID START HASH" to it with one write(), START
	 * being its kernel start time: the launch is on record before the
	 * program runs.
	 */
	int journal_fd;
	const char *journal_name;
	const char *journal_hash;
	/*
	 * rlimits to set before exec, while still privileged (a raised hard
	 * limit needs it); a program's own descriptor limit replaces the one
	 * given by spawn_set_nofile.
	 */
	const struct spawn_rlimit *rlimits;
	int n_rlimits;
	bool sets_nofile;
};

/* How the child's exec went, as far as known when spawn_process returns. */
struct spawn_status {
	int fd;			/* -1: known; else the report to read later */
	bool failed;		/* known: a step of the child failed */
	char error[256];	/* which one, and why */
};

/*
 * Fork and exec req.  Returns the pid, or -1 with err filled when the
 * launch fails before there is a child (unknown user, ...).  Unless the
 * launch had to fork, the child has executed or failed by then, and st
 * says which; after a fork, st->fd is the read end of a close-on-exec
 * pipe: EOF on it means exec succeeded, a message says which step failed
 * (read it with spawn_read_status).
 */
pid_t spawn_process(const struct spawn_request *req, struct spawn_status *st,
    char *err, size_t errlen);

/*
 * Give children this descriptor limit: the daemon raises its own to serve
 * thousands of programs, but programs get the limit it started with (some
 * still use select(), which breaks past 1024).
 */
void spawn_set_nofile(const struct rlimit *rl);

/*
 * Read the child's report from status_fd without blocking: 1 and err filled
 * when a step failed, 0 on EOF (exec succeeded), -1 when nothing is there yet.
 */
int spawn_read_status(int status_fd, const struct spawn_request *req, char *err,
    size_t errlen);

#endif
