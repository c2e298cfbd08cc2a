/*
 * Between the kill front end (kill.c: usage, options, checks, the exit
 * status) and the platform that stops processes (kill-posix.c with signals
 * and pidfds, kill-win32.c with window messages, console events and
 * TerminateProcess).
 */
#ifndef SAFEEXITCTL_KILL_BACKEND_H
#define SAFEEXITCTL_KILL_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#define KILL_PREFIX		"safeexitctl: kill: "

/* How long to wait after the forced stop (SIGKILL, TerminateProcess). */
#define KILL_FINAL_WAIT		1.0

/* Where a target stands while the platform works on it. */
enum kill_state {
	KILL_WAITING,		/* asked to stop, still running */
	KILL_DONE,		/* its outcome is known */
};

/* What became of one target. */
enum kill_outcome {
	KILL_GONE,		/* exited */
	KILL_MISSING,		/* did not exist when asked for */
	KILL_FAILED,		/* could not be signalled, or survived */
	KILL_DENIED,		/* not this user's to signal */
};

/* Print a message to stderr under the command's prefix (kill.c). */
void	kill_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The platform's part. */

/*
 * The usage text between the synopsis and "-h": what SIG means here and
 * the lines for -S and -t.
 */
extern const char kill_platform_usage[];
/*
 * Run a helper invocation of this program (Windows raises console events
 * through one) and return its exit status; -1 when argv is no such thing.
 */
int	kill_platform_helper(int argc, char **argv);
/* Whether sig means something here. */
bool	kill_platform_signal_ok(int sig);
/* Why pid may never be signalled (PID 1, this process), or NULL. */
const char *kill_platform_refuse(long pid);
/*
 * Send sig to each of the n distinct pids, wait up to grace seconds, force
 * what is left, and set out[i] to what became of pids[i].  Reports each
 * problem with kill_warnx().
 */
void	kill_platform_run(int sig, double grace, const long *pids,
	    enum kill_outcome *out, size_t n);

#endif
