/*
 * What the daemon needs from the operating system, behind one interface:
 * POSIX (platform-posix.c, spawn.c, reap.c, detach-posix.c) and Win32
 * (platform-win32.c and the other *-win32.c files).  The lifecycle state
 * machine reaches processes only through platform_lifecycle_ops.
 */
#ifndef SAFEEXITD_PLATFORM_H
#define SAFEEXITD_PLATFORM_H

#include <stdbool.h>
#include <sys/types.h>

struct event_base;
struct lifecycle_ops;
struct program;

extern const struct lifecycle_ops platform_lifecycle_ops;

/* Set up process handling: child reaping, subreaper, the timer base. */
int platform_init(struct event_base *base);
void platform_fini(void);

/* Monotonic seconds. */
double platform_now(void);

/*
 * Decide how a program's processes are held together: a cgroup each where
 * the system delegates one to the daemon and wanted is set (Linux), else
 * its process group.  instance names this daemon (its control endpoint).
 */
void platform_contain(bool wanted, const char *instance);

/*
 * -d: carry on in the background, detached from the terminal or console;
 * returns there (0), while the process that was started waits for
 * platform_detach_done(status) and exits with that status.  -1 when the
 * daemon cannot detach.
 */
int platform_detach(void);
/* Start-up is over: release the waiting process (no-op without -d). */
void platform_detach_done(int status);

/*
 * Stop every process left below the daemon (escaped descendants) with
 * stop_signal, then SIGKILL after grace seconds; done() runs once none is left.
 */
void platform_sweep(double grace, void (*done)(void *), void *arg);
/* Kill what the sweep has not yet got rid of, now. */
void platform_sweep_kill_now(void);

/* Release what the platform holds for p (timer, output, pipes). */
void platform_program_release(struct program *p);
/* Close p's output plumbing so the next start opens it from p->cfg again. */
void platform_program_reconfigure(struct program *p);

/* POSIX: collect the child's exec report before its exit is handled. */
void platform_spawn_settle(struct program *p);
void platform_stop_command_settle(struct program *p);

#endif
