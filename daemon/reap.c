/*
 * Child reaping and the exit sweep.  A reaped child is found by pid in the
 * program table's index; beyond that, only programs that wait in STOPPING
 * for the rest of their group, their main process gone, care that something
 * was reaped, and they are kept in a set of their own so that a reap costs
 * nothing per program.
 *
 * waitpid(-1) walks the daemon's children, oldest first, up to one that has
 * exited.  When thousands of programs stop at once, the ones exiting are
 * often the newest (a shutdown stops the last-started tier first), and
 * reaping each that way walks past every older child: quadratic in the
 * number of programs.  So a main process that is stopping is watched by a
 * pidfd, whose events come first in the loop, and reaped by its pid, which
 * the kernel finds directly; the SIGCHLD path reaps one child a loop turn,
 * catching everything else (orphans, stop commands, crashes).
 *
 * SIGCHLD itself stays blocked and is read from a signalfd, as one event
 * for however many children exited: no handler runs in the daemon for each.
 */
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "keeper.h"
#include "lifecycle.h"
#include "log.h"
#include "platform.h"
#include "program.h"
#include "ptrmap.h"
#include "probe.h"
#include "ready.h"
#include "reap.h"
#include "safeexitd.h"
#include "timeval.h"
#include "xmalloc.h"

static struct event_base *reap_base;
static sigset_t sigchld_set;
static int sigchld_fd = -1;		/* signalfd for SIGCHLD */
static struct event *sigchld_ev;
/* Reaps one child a loop turn, however many SIGCHLDs came (reap_cb). */
static struct event *reap_ev;
/* STOPPING programs whose main process is gone: their group may empty. */
static struct ptrmap group_waiters;
static bool observing;

/* The exit sweep: in progress while done is set. */
static struct {
	void (*done)(void *);
	void *arg;
	bool killing;
	struct event *timer;
	struct sweep_sent {
		pid_t pid;
		int sig;	/* the last signal it got: TERM, then KILL */
	} *sent;
	size_t n_sent;
	int sent_all;		/* PID 1: the last signal sent to everyone */
} sweep;

static void reap_sigchld_cb(evutil_socket_t fd, short what, void *arg);
static void reap_cb(evutil_socket_t fd, short what, void *arg);
static void reap_changed(struct program *p, enum program_state old, void *arg);
static void reap_note(struct program *p);
static void reap_watch(struct program *p);
static void reap_unwatch(struct program *p);
static void reap_pidfd_cb(evutil_socket_t fd, short what, void *arg);
static void reap_dispatch(pid_t pid, int status);
static void reap_settle(void);
static int reap_some(int max);
static void reap_group_waiters(void);
static int reap_children(pid_t **out);
static bool reap_any_child(void);
static int reap_sweep_signal(int sig);
static bool reap_sweep_mark(pid_t pid, int sig);
static void reap_sweep_check(void);
static void reap_sweep_timer_cb(evutil_socket_t fd, short what, void *arg);

/* Become a subreaper and watch SIGCHLD. */
int
reap_init(struct event_base *base)
{
	/* Orphans of our programs reparent to us, not to init: we reap and sweep them. */
	if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1)
		log_warn("cannot become a child subreaper; escaped descendants "
		    "will reparent to init");
	if (!observing) {
		program_observe(reap_changed, NULL);
		observing = true;
	}
	reap_base = base;
	/* Inherited as SIG_IGN, SIGCHLD would let the kernel reap for us. */
	signal(SIGCHLD, SIG_DFL);
	reap_block_sigchld(true);
	if ((sigchld_fd = signalfd(-1, &sigchld_set, SFD_NONBLOCK |
	    SFD_CLOEXEC)) == -1)
		return -1;
	reap_ev = event_new(base, -1, 0, reap_cb, NULL);
	sigchld_ev = event_new(base, sigchld_fd, EV_READ | EV_PERSIST,
	    reap_sigchld_cb, NULL);
	if (reap_ev == NULL || sigchld_ev == NULL ||
	    event_add(sigchld_ev, NULL) == -1)
		return -1;
	/* A child may have exited before SIGCHLD was ours to read (a re-exec). */
	event_active(reap_ev, EV_TIMEOUT, 0);
	sweep.timer = evtimer_new(base, reap_sweep_timer_cb, NULL);
	return sweep.timer == NULL ? -1 : 0;
}

/*
 * Block SIGCHLD for the signalfd, or unblock it for a re-exec: the image
 * that follows, even an older one with a handler for it, expects it so.
 * Blocked again after a failed re-exec, it reaps what exited meanwhile.
 */
void
reap_block_sigchld(bool block)
{
	sigemptyset(&sigchld_set);
	sigaddset(&sigchld_set, SIGCHLD);
	sigprocmask(block ? SIG_BLOCK : SIG_UNBLOCK, &sigchld_set, NULL);
	/* Unblocked at SIG_DFL, a SIGCHLD was discarded: look for exits anyway. */
	if (block && reap_ev != NULL)
		event_active(reap_ev, EV_TIMEOUT, 0);
}

/* Stop watching SIGCHLD. */
void
reap_fini(void)
{
	if (sigchld_ev != NULL)
		event_free(sigchld_ev);
	if (sigchld_fd != -1)
		close(sigchld_fd);
	sigchld_fd = -1;
	if (reap_ev != NULL)
		event_free(reap_ev);
	if (sweep.timer != NULL)
		event_free(sweep.timer);
	sigchld_ev = reap_ev = sweep.timer = NULL;
	if (observing) {
		program_unobserve(reap_changed, NULL);
		observing = false;
	}
	ptrmap_free(&group_waiters);
	free(sweep.sent);
	sweep.sent = NULL;
	sweep.n_sent = 0;
}

/*
 * SIGCHLD: empty the signalfd, then reap.  Children that exit together
 * send hundreds; one read takes them all, and one reap_cb follows (a
 * waitpid that finds nothing still walks every child the daemon has).
 */
static void
reap_sigchld_cb(evutil_socket_t fd, short what, void *arg)
{
	struct signalfd_siginfo info[32];

	while (read(fd, info, sizeof info) > 0)
		continue;
	event_active(reap_ev, EV_TIMEOUT, 0);
}

/*
 * The reap SIGCHLD asked for: one child, then again in the next loop turn
 * (a timer of 0 s: an event made active here would run in this turn),
 * after the pidfds of stopping children that are ready by then.
 */
static void
reap_cb(evutil_socket_t fd, short what, void *arg)
{
	static const struct timeval now = { 0, 0 };

	if (reap_some(1) > 0)
		evtimer_add(reap_ev, &now);
}

/*
 * Keep p among the group waiters exactly while it is one, and its main
 * process watched by a pidfd exactly while that stops.
 */
static void
reap_note(struct program *p)
{
	if (p->state == STATE_STOPPING && !p->main_alive)
		ptrmap_put(&group_waiters, p, 0);
	else
		ptrmap_del(&group_waiters, p);
	if (p->state == STATE_STOPPING && p->main_alive)
		reap_watch(p);
	else
		reap_unwatch(p);
}

/*
 * Watch p's stopping main process by a pidfd.  Not for an adopted process
 * that is not our child (platform-posix.c watches that one); without
 * pidfd_open (Linux < 5.3) or out of descriptors, waitpid(-1) reaps it.
 */
static void
reap_watch(struct program *p)
{
	int fd;

	if (p->reap_fd != -1 || p->pid <= 0 || p->watch_fd != -1)
		return;
	/* Close-on-exec, as every pidfd is. */
	if ((fd = (int)syscall(SYS_pidfd_open, p->pid, 0)) == -1)
		return;
	p->reap_fd = fd;
	if ((p->reap_fd_ev = event_new(reap_base, fd, EV_READ, reap_pidfd_cb,
	    p)) == NULL ||
	    event_priority_set(p->reap_fd_ev, LOOP_PRIORITY_FIRST) == -1 ||
	    event_add(p->reap_fd_ev, NULL) == -1)
		reap_unwatch(p);
}

static void
reap_unwatch(struct program *p)
{
	if (p->reap_fd_ev != NULL)
		event_free(p->reap_fd_ev);
	p->reap_fd_ev = NULL;
	if (p->reap_fd != -1)
		close(p->reap_fd);
	p->reap_fd = -1;
}

/* A stopping main process exited: reap it by pid, at no walk's cost. */
static void
reap_pidfd_cb(evutil_socket_t fd, short what, void *arg)
{
	struct program *p = arg;
	pid_t pid = p->pid, got;
	int status;

	reap_unwatch(p);
	while ((got = waitpid(pid, &status, WNOHANG)) == -1 && errno == EINTR)
		continue;
	/* Else it was reaped already, or is not our child: SIGCHLD's part. */
	if (got == pid) {
		reap_dispatch(pid, status);
		reap_settle();
	}
}

void
reap_forget(struct program *p)
{
	ptrmap_del(&group_waiters, p);
	reap_unwatch(p);
}

/* A program changed state: it may have started or stopped waiting. */
static void
reap_changed(struct program *p, enum program_state old, void *arg)
{
	if (p->state == STATE_STOPPING || old == STATE_STOPPING)
		reap_note(p);
}

/*
 * Something was reaped: a group waiter's group may have lost its last
 * member.  Their state changes edit the set, so walk a copy.
 */
static void
reap_group_waiters(void)
{
	struct program **v;
	size_t n = 0;

	if (group_waiters.n == 0)
		return;
	v = xcalloc(group_waiters.n, sizeof *v);
	for (size_t i = 0; i < group_waiters.cap; i++)
		if (group_waiters.slot[i].key != NULL)
			v[n++] = (struct program *)group_waiters.slot[i].key;
	for (size_t i = 0; i < n; i++)
		if (ptrmap_get(&group_waiters, v[i], NULL))
			lifecycle_reaped(v[i]);
	free(v);
}

/* Hand a reaped child to its program, by pid. */
static void
reap_dispatch(pid_t pid, int status)
{
	struct program *p;

	/* What the program said before it exited comes first (MAINPID=). */
	if ((p = program_find_pid(pid)) != NULL)
		ready_drain(p);
	if ((p = program_find_pid(pid)) != NULL) {
		platform_spawn_settle(p);
		lifecycle_exited(p, status);
		/* Stopping, its group may outlive it (no state change says so). */
		reap_note(p);
	} else if ((p = program_find_stop_command(pid)) != NULL) {
		platform_stop_command_settle(p);
		lifecycle_stop_command_exited(p, status);
	} else if (!probe_reaped(pid, status))
		log_debug("reaped pid %ld (%s %d)", (long)pid,
		    WIFEXITED(status) ? "exit" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

/* Something was reaped: stopping groups may be empty, the sweep over. */
static void
reap_settle(void)
{
	reap_group_waiters();
	if (sweep.done != NULL)
		reap_sweep_check();
}

/* Reap up to max exited children by waitpid(-1); how many there were. */
static int
reap_some(int max)
{
	int n = 0, status;
	pid_t pid;

	while (n < max) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid == -1 && errno == EINTR)
			continue;
		if (pid <= 0)
			break;
		n++;
		reap_dispatch(pid, status);
	}
	if (n > 0)
		reap_settle();
	return n;
}

/* Reap every exited child, dispatch each by pid, then check stopping groups. */
void
reap_all(void)
{
	reap_some(INT_MAX);
}

/* Our live children: the pids whose parent is this process; -1 without /proc. */
static int
reap_children(pid_t **out)
{
	pid_t self = getpid(), *v = NULL;
	struct dirent *de;
	int n = 0;
	DIR *d;

	*out = NULL;
	if ((d = opendir("/proc")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		char path[300], buf[512], *close_paren;
		long ppid;
		char state;
		FILE *f;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
		if ((f = fopen(path, "re")) == NULL)
			continue;
		if (fgets(buf, sizeof buf, f) == NULL) {
			fclose(f);
			continue;
		}
		fclose(f);
		/* The command name may hold spaces and parentheses: parse after the last ')'. */
		if ((close_paren = strrchr(buf, ')')) == NULL ||
		    sscanf(close_paren + 1, " %c %ld", &state, &ppid) != 2)
			continue;
		if (ppid != self || state == 'Z')
			continue;
		v = xreallocarray(v, (size_t)n + 1, sizeof *v);
		v[n++] = (pid_t)strtol(de->d_name, NULL, 10);
	}
	closedir(d);
	*out = v;
	return n;
}

/* Note that pid gets sig now; false if it already had it (or KILL). */
static bool
reap_sweep_mark(pid_t pid, int sig)
{
	for (size_t i = 0; i < sweep.n_sent; i++) {
		if (sweep.sent[i].pid != pid)
			continue;
		if (sweep.sent[i].sig == sig || sweep.sent[i].sig == SIGKILL)
			return false;
		sweep.sent[i].sig = sig;
		return true;
	}
	sweep.sent = xreallocarray(sweep.sent, sweep.n_sent + 1,
	    sizeof *sweep.sent);
	sweep.sent[sweep.n_sent].pid = pid;
	sweep.sent[sweep.n_sent].sig = sig;
	sweep.n_sent++;
	return true;
}

/*
 * Whether any child is left, exited ones not yet reaped included.  Asking
 * the kernel, not /proc, which may be missing or belong to another PID
 * namespace.
 */
static bool
reap_any_child(void)
{
	siginfo_t si;

	memset(&si, 0, sizeof si);
	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0;
}

/*
 * Signal every remaining child, and the whole group of one that leads a
 * group, so what it started goes too.  The pid of a child cannot be reused
 * before we reap it, so a group named after it is its own.  Each child gets
 * each signal once, orphans that arrive while the sweep waits included.  As
 * PID 1 every other process of the namespace descends from us: kill(-1)
 * reaches them all, whatever /proc shows.  Returns how many children were
 * found, or -1 when they cannot be listed.
 */
static int
reap_sweep_signal(int sig)
{
	pid_t *v;
	int n;

	if (getpid() == 1) {
		if (sweep.sent_all == sig || sweep.sent_all == SIGKILL)
			return 1;
		sweep.sent_all = sig;
		log_notice("sweeping every process left with signal %d", sig);
		kill(-1, sig);
		if (sig != SIGKILL)
			kill(-1, SIGCONT);
		return 1;
	}
	if ((n = reap_children(&v)) == -1)
		return -1;
	for (int i = 0; i < n; i++) {
		pid_t target = getpgid(v[i]) == v[i] ? -v[i] : v[i];

		if (v[i] == keeper_pid())
			continue;	/* told to leave by keeper_stop; no leftover */
		if (!reap_sweep_mark(v[i], sig))
			continue;
		log_notice("sweeping leftover process %ld with signal %d", (long)v[i], sig);
		kill(target, sig);
		if (sig != SIGKILL)
			kill(target, SIGCONT);
	}
	free(v);
	return n;
}

/* Start the exit sweep: SIGTERM to every child left, SIGKILL after grace. */
void
reap_sweep(double grace, void (*done)(void *), void *arg)
{
	struct timeval tv;

	sweep.done = done;
	sweep.arg = arg;
	sweep.killing = false;
	sweep.n_sent = 0;
	sweep.sent_all = 0;
	reap_all();
	if (sweep.done == NULL)
		return;
	reap_sweep_signal(SIGTERM);
	if (grace < 0)
		grace = 0;
	tv = timeval_from_secs(grace);
	evtimer_add(sweep.timer, &tv);
	reap_sweep_check();
}

/* Skip the rest of the sweep's grace period: SIGKILL to what is left. */
void
reap_sweep_kill_now(void)
{
	if (sweep.done == NULL)
		return;
	sweep.killing = true;
	reap_sweep_signal(SIGKILL);
	reap_sweep_check();
}

/* The sweep's grace period ran out. */
static void
reap_sweep_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	reap_sweep_kill_now();
}

/*
 * Finish the sweep once no child is left; orphans that arrive late get the
 * signal of the moment.  Children that cannot be listed are given up on
 * once the grace period is over, rather than waited for forever.
 */
static void
reap_sweep_check(void)
{
	void (*done)(void *) = sweep.done;

	if (done == NULL)
		return;
	if (reap_any_child()) {
		if (reap_sweep_signal(sweep.killing ? SIGKILL : SIGTERM) != -1 ||
		    !sweep.killing)
			return;
		log_warnx("cannot list the processes left (no /proc); "
		    "exiting without them");
	}
	evtimer_del(sweep.timer);
	sweep.done = NULL;
	done(sweep.arg);
}
