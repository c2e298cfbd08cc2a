/*
 * Detached launch of one process (POSIX): its own session and process group,
 * no controlling terminal, stdin from /dev/null, nothing inherited but the
 * descriptors it is given, default signal dispositions and an empty mask,
 * working directory, environment, umask and credentials of the program.
 */
#ifndef SAFEEXITD_SPAWN_H
#define SAFEEXITD_SPAWN_H

#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

struct spawn_request {
	char *const *argv;
	char *const *environment;	/* "KEY=value" overrides, or NULL */
	const char *directory;
	const char *user;		/* NULL: keep the daemon's */
	const char *group;		/* NULL: the user's primary group */
	unsigned umask;
	int stdout_fd;			/* descriptors for 1 and 2 */
	int stderr_fd;
	/*
	 * The program's cgroup folder, or -1.  The child starts in it
	 * (clone3 with CLONE_INTO_CGROUP, Linux 5.7) or, where that cannot be
	 * used, moves itself there before anything else: either way every
	 * process it ever starts is counted in that cgroup (cgroup.c).
	 */
	int cgroup_fd;
};

/*
 * Fork and exec req.  Returns the pid, with *status_fd the read end of a
 * close-on-exec pipe: EOF on it means exec succeeded; a message on it says
 * which step failed in the child (read it with spawn_read_status); unless
 * the launch had to fork, it is there to read when this returns.  Returns
 * -1 with err filled when the launch fails before fork (unknown user, ...).
 */
pid_t spawn_process(const struct spawn_request *req, int *status_fd, char *err,
    size_t errlen);

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
