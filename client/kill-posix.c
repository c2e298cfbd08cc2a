/*
 * safeexitctl kill on POSIX: signal processes, wait a grace period, then
 * SIGKILL the ones left, without asking the daemon.  kill.c reads the
 * command line; this file stops the processes.
 *
 * On Linux every target is held by a pidfd opened before the first signal:
 * signals go through pidfd_send_signal, so a PID that is recycled while we
 * wait can never be hit, and the wait is a single poll() on all of them.
 * Where pidfds are missing (old kernels, other systems) kill() and a probe
 * with kill(pid, 0) take their place.
 */

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/types.h>
#ifdef __linux__
#include <fcntl.h>
#include <sys/syscall.h>
#endif

#if defined(__linux__) && defined(SYS_pidfd_open) && \
    defined(SYS_pidfd_send_signal)
#define KILL_HAVE_PIDFD 1
#endif

#include "kill-backend.h"

const char kill_platform_usage[] =
    "\n"
    "Send SIG to each PID, wait up to SECS seconds for all of them to exit,\n"
    "then send SIGKILL to those left and wait up to one second more.\n"
    "\n"
    "  -S, --signal SIG     the first signal, by name (TERM, INT, QUIT, ...)\n"
    "                       or number (default: TERM)\n"
    "  -t, --timeout SECS   grace period before SIGKILL, decimals allowed\n"
    "                       (default: 4)\n";

/* Longest pause between two probes of a target that has no pidfd. */
#define KILL_PROBE_MAX_MS	50

struct kill_target {
	pid_t			 pid;
	int			 fd;	/* pidfd, or -1 */
	enum kill_state		 state;
	enum kill_outcome	 outcome;
};

static double	kill_now(void);
static int	kill_pidfd_open(pid_t);
static bool	kill_pidfd_exited(int);
static int	kill_send(struct kill_target *, int);
static bool	kill_zombie(pid_t);
static bool	kill_alive(pid_t);
static void	kill_signal_all(struct kill_target *, size_t, int);
static size_t	kill_wait(struct kill_target *, struct pollfd *, size_t,
		    double);

static void	kill_done(struct kill_target *, enum kill_outcome);

#ifdef KILL_HAVE_PIDFD
/* Cleared at the first ENOSYS so a kernel without pidfds is asked once. */
static bool	kill_have_pidfd_open = true;
static bool	kill_have_pidfd_send = true;
#endif

/* Signals are what this platform has: every one means something. */
bool
kill_platform_signal_ok(int sig)
{
	(void)sig;
	return true;
}

/* No helper process runs here. */
int
kill_platform_helper(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return -1;
}

/* PID 1 (init, or a container's only process) and ourselves. */
const char *
kill_platform_refuse(long pid)
{
	static char	buf[64];

	if (pid == 1)
		return "refusing to signal PID 1";
	if (pid == (long)getpid()) {
		snprintf(buf, sizeof buf, "refusing to signal itself (PID %ld)",
		    pid);
		return buf;
	}
	return NULL;
}

/* Settle a target. */
static void
kill_done(struct kill_target *t, enum kill_outcome outcome)
{
	t->state = KILL_DONE;
	t->outcome = outcome;
}

/* Seconds on a clock that wall-clock changes cannot move. */
static double
kill_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Open a pidfd for pid (always close-on-exec), or return -1: with errno
 * ESRCH when pid does not exist, anything else meaning "use kill()".
 */
static int
kill_pidfd_open(pid_t pid)
{
#ifdef KILL_HAVE_PIDFD
	long	fd;

	if (!kill_have_pidfd_open) {
		errno = ENOSYS;
		return -1;
	}
	fd = syscall(SYS_pidfd_open, pid, 0);
	if (fd == -1 && errno == ENOSYS)
		kill_have_pidfd_open = false;
	return (int)fd;
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

/* Whether the process behind a pidfd has already exited. */
static bool
kill_pidfd_exited(int fd)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLIN | POLLHUP));
}

/* Send sig to a target; returns 0, or -1 with errno (ESRCH: it is gone). */
static int
kill_send(struct kill_target *t, int sig)
{
#ifdef KILL_HAVE_PIDFD
	if (t->fd != -1 && kill_have_pidfd_send) {
		if (syscall(SYS_pidfd_send_signal, t->fd, sig, NULL, 0) == 0)
			return 0;
		if (errno != ENOSYS)
			return -1;
		kill_have_pidfd_send = false;
	}
#endif
	/*
	 * Without pidfd_send_signal the PID may have been reused since the
	 * pidfd was opened; the pidfd still tells whether our process exited.
	 */
	if (t->fd != -1 && kill_pidfd_exited(t->fd)) {
		errno = ESRCH;
		return -1;
	}
	return kill(t->pid, sig);
}

/* Whether pid is a zombie, which kill(pid, 0) cannot tell from a live one. */
static bool
kill_zombie(pid_t pid)
{
#ifdef __linux__
	char	 path[64], buf[512], *p;
	ssize_t	 n;
	int	 fd;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* The command name may hold ')', so the state follows the last one. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return false;
	return p[2] == 'Z' || p[2] == 'X';
#else
	(void)pid;
	return false;
#endif
}

/* Probe a target that has no pidfd: alive unless kill() says ESRCH. */
static bool
kill_alive(pid_t pid)
{
	if (kill(pid, 0) == -1 && errno == ESRCH)
		return false;
	return !kill_zombie(pid);
}

/* Send sig to every waiting target; mark the ones that are gone or refuse. */
static void
kill_signal_all(struct kill_target *t, size_t n, int sig)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (t[i].state != KILL_WAITING)
			continue;
		if (kill_send(&t[i], sig) == 0)
			continue;
		if (errno == ESRCH) {
			/* Only a PID never seen alive is worth a message. */
			if (t[i].fd == -1 && sig != SIGKILL) {
				kill_warnx("no such process: %ld",
				    (long)t[i].pid);
				kill_done(&t[i], KILL_MISSING);
			} else
				kill_done(&t[i], KILL_GONE);
		} else {
			kill_warnx("cannot signal %ld: %s", (long)t[i].pid,
			    strerror(errno));
			kill_done(&t[i], errno == EPERM ? KILL_DENIED :
			    KILL_FAILED);
		}
	}
}

/*
 * Wait up to secs for every waiting target to exit; returns how many are
 * left.  Targets with a pidfd are watched by poll() alone.  A target
 * without one cannot be waited for: only its parent hears of its exit, so
 * it is probed with kill(pid, 0), first after 1 ms, then at doubling
 * intervals up to KILL_PROBE_MAX_MS, which notices a quick exit quickly
 * and costs little while a slow one takes its time.
 */
static size_t
kill_wait(struct kill_target *t, struct pollfd *pfd, size_t n, double secs)
{
	double	deadline, remaining, ms;
	size_t	i, left;
	int	timeout, interval = 1;
	bool	probing;

	deadline = kill_now() + secs;
	for (;;) {
		left = 0;
		probing = false;
		for (i = 0; i < n; i++) {
			pfd[i].fd = -1;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
			if (t[i].state != KILL_WAITING)
				continue;
			if (t[i].fd == -1) {
				if (!kill_alive(t[i].pid)) {
					kill_done(&t[i], KILL_GONE);
					continue;
				}
				probing = true;
			} else
				pfd[i].fd = t[i].fd;
			left++;
		}
		if (left == 0)
			return 0;

		/* Round up, or poll() would wake just before the deadline. */
		remaining = deadline - kill_now();
		ms = remaining > 0 ? remaining * 1000 : 0;
		if (ms >= INT_MAX)
			timeout = INT_MAX;
		else if ((timeout = (int)ms) < ms)
			timeout++;
		if (probing && timeout > interval) {
			timeout = interval;
			interval = interval * 2 > KILL_PROBE_MAX_MS ?
			    KILL_PROBE_MAX_MS : interval * 2;
		}
		if (poll(pfd, (nfds_t)n, timeout) == -1) {
			if (errno == EINTR)
				continue;
			kill_warnx("poll: %s", strerror(errno));
			return left;
		}
		for (i = 0; i < n; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			close(t[i].fd);
			t[i].fd = -1;
			/* An unusable pidfd leaves the target to probing. */
			if (pfd[i].revents & (POLLIN | POLLHUP))
				kill_done(&t[i], KILL_GONE);
		}
		if (remaining <= 0) {
			left = 0;
			for (i = 0; i < n; i++) {
				if (t[i].state == KILL_WAITING &&
				    (t[i].fd != -1 || kill_alive(t[i].pid)))
					left++;
				else if (t[i].state == KILL_WAITING)
					kill_done(&t[i], KILL_GONE);
			}
			return left;
		}
	}
}

/* Hold, signal, wait, escalate; see kill-backend.h. */
void
kill_platform_run(int sig, double grace, const long *pids,
    enum kill_outcome *out, size_t n)
{
	struct kill_target	*t;
	struct pollfd		*pfd;
	size_t			 i;

	if ((t = calloc(n, sizeof *t)) == NULL ||
	    (pfd = calloc(n, sizeof *pfd)) == NULL) {
		kill_warnx("out of memory");
		free(t);
		for (i = 0; i < n; i++)
			out[i] = KILL_FAILED;
		return;
	}

	/* Hold every process by a pidfd before the first signal. */
	for (i = 0; i < n; i++) {
		t[i].pid = (pid_t)pids[i];
		t[i].state = KILL_WAITING;
		if ((t[i].fd = kill_pidfd_open(t[i].pid)) != -1)
			continue;
		if (errno == ESRCH) {
			kill_warnx("no such process: %ld", (long)t[i].pid);
			kill_done(&t[i], KILL_MISSING);
		}
	}

	kill_signal_all(t, n, sig);
	/*
	 * A stopped process cannot act on its signal until it is continued,
	 * so follow up with SIGCONT as systemd does.
	 */
	if (sig != SIGKILL && sig != SIGCONT && sig != SIGSTOP &&
	    sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU) {
		for (i = 0; i < n; i++) {
			if (t[i].state == KILL_WAITING)
				(void)kill_send(&t[i], SIGCONT);
		}
	}

	if (kill_wait(t, pfd, n, grace) != 0) {
		kill_signal_all(t, n, SIGKILL);
		kill_wait(t, pfd, n, KILL_FINAL_WAIT);
	}
	for (i = 0; i < n; i++) {
		if (t[i].state == KILL_WAITING) {
			kill_warnx("%ld still running after SIGKILL",
			    (long)t[i].pid);
			kill_done(&t[i], KILL_FAILED);
		}
		out[i] = t[i].outcome;
		if (t[i].fd != -1)
			close(t[i].fd);
	}
	free(pfd);
	free(t);
}
