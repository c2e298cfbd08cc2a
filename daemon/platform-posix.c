/*
 * The POSIX side of the platform interface: the lifecycle's process
 * operations (spawn, signals, process groups, stop_command), its per-program
 * timers on the event loop, and the monotonic clock.
 */
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "rlimits.h"
#include "accounting.h"
#include "deadline.h"
#include "eventlistener.h"
#include "fcgi.h"
#include "lifecycle.h"
#include "log.h"
#include "output.h"
#include "platform.h"
#include "procinfo.h"
#include "program.h"
#include "ready.h"
#include "reap.h"
#include "spawn.h"
#include "statefile.h"

static struct event_base *platform_base;

static double posix_now(void);
static int posix_spawn(struct program *p);
static int posix_kill(struct program *p, int sig);
static int posix_kill_and_wake(struct program *p, int sig);
static int posix_signal(struct program *p, int sig, bool wake);
static int posix_send(struct program *p, pid_t target, int sig, bool wake);
static bool posix_group_alive(struct program *p);
static bool posix_pid_alive(pid_t pid);
static int posix_run_stop_command(struct program *p);
static int posix_watch(struct program *p);
static void posix_watch_cb(evutil_socket_t fd, short what, void *arg);
static void posix_unwatch(struct program *p);
static void posix_deadline_due(struct program *p);
static void posix_spawn_status_cb(evutil_socket_t fd, short what, void *arg);
static void posix_request(const struct program *p, struct spawn_request *req,
    char *const *argv);

const struct lifecycle_ops platform_lifecycle_ops = {
	.now = posix_now,
	.spawn = posix_spawn,
	.kill = posix_kill,
	.kill_and_wake = posix_kill_and_wake,
	.group_alive = posix_group_alive,
	.run_stop_command = posix_run_stop_command,
	.arm = deadline_arm,
	.watch = posix_watch,
	.record_stop = statefile_journal_stop,
};

int
platform_init(struct event_base *base)
{
	struct rlimit rl;

	platform_base = base;
	deadline_init(base, posix_now, posix_deadline_due);
	/* Each program holds a pipe or two: raise the soft limit to the hard one. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		struct rlimit raised = { rl.rlim_max, rl.rlim_max };

		if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
			spawn_set_nofile(&rl);
		else
			log_warn("cannot raise the descriptor limit");
	}
	output_init(base);
	accounting_init(base);
	return reap_init(base);
}

void
platform_fini(void)
{
	accounting_fini();
	cgroup_fini();
	reap_fini();
}

void
platform_contain(bool wanted, const char *instance)
{
	cgroup_init(wanted, instance);
}

double
platform_now(void)
{
	return posix_now();
}

/* CLOCK_MONOTONIC in seconds: deadlines must not jump with the wall clock. */
static double
posix_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The rlimits of the request being built: a launch is over when it returns. */
static struct spawn_rlimit posix_rlimits[PRL_COUNT];

/* The spawn request for argv run the way p's settings say. */
static void
posix_request(const struct program *p, struct spawn_request *req,
    char *const *argv)
{
	memset(req, 0, sizeof *req);
	req->argv = argv;
	req->environment = p->cfg->environment;
	req->directory = p->cfg->directory;
	req->user = p->cfg->user;
	req->group = p->cfg->group;
	req->umask = p->cfg->umask;
	req->stdout_fd = output_stdout_fd(p->output);
	req->stderr_fd = output_stderr_fd(p->output);
	req->cgroup_fd = -1;
	req->extra_fd = -1;
	req->journal_fd = -1;
	req->n_rlimits = rlimits_resolve(p->cfg, posix_rlimits,
	    &req->sets_nofile);
	req->rlimits = posix_rlimits;
}

/* Launch p's command; the exec report is read when it arrives. */
static int
posix_spawn(struct program *p)
{
	struct spawn_request req;
	struct spawn_status st;
	char hash[17];
	pid_t pid;

	if (p->output == NULL &&
	    (p->output = output_open(p->cfg, p->error, sizeof p->error)) == NULL)
		return -1;
	posix_request(p, &req, p->cfg->argv);
	statefile_hash(p->cfg->fingerprint, hash);
	req.journal_fd = statefile_journal_fd();
	req.journal_name = p->cfg->name;
	req.journal_hash = hash;
	if (ready_prepare_spawn(p, &req) == -1)
		return -1;
	/* A FastCGI program's socket, or a listener's pipes, as 0 (and 1). */
	if ((req.stdin_fd = fcgi_fd(p)) != -1)
		req.has_stdin = true;
	else if (p->cfg->fcgi_socket != NULL) {
		snprintf(p->error, sizeof p->error, "no FastCGI socket %s",
		    p->cfg->fcgi_socket);
		return -1;
	}
	if (eventlistener_spawn_fds(p, &req.stdin_fd, &req.stdout_fd, p->error,
	    sizeof p->error) == -1)
		return -1;
	req.has_stdin = req.stdin_fd != -1;
	if (cgroup_enabled() && (req.cgroup_fd = cgroup_open(p->cfg->name,
	    p->error, sizeof p->error)) == -1) {
		eventlistener_spawned(p, false);
		return -1;
	}
	if (req.cgroup_fd != -1 && cgroup_apply_limits(p->cfg, p->error,
	    sizeof p->error) == -1) {
		close(req.cgroup_fd);
		return -1;
	}
	accounting_watch(p);
	pid = spawn_process(&req, &st, p->error, sizeof p->error);
	if (req.cgroup_fd != -1)
		close(req.cgroup_fd);
	eventlistener_spawned(p, pid != -1);
	if (pid == -1)
		return -1;
	p->pid = pid;
	program_index_pids(p);
	/* A failed child exits: lifecycle_exited says the start failed. */
	if (st.failed) {
		snprintf(p->error, sizeof p->error, "%s", st.error);
		log_warnx("%s: cannot start: %s", p->cfg->name, p->error);
	}
	if (st.fd == -1)
		return 0;
	p->spawn_status_fd = st.fd;
	p->spawn_status_ev = event_new(platform_base, st.fd, EV_READ | EV_PERSIST,
	    posix_spawn_status_cb, p);
	if (p->spawn_status_ev == NULL || event_add(p->spawn_status_ev, NULL) == -1)
		fatalx("%s: cannot watch the exec report", __func__);
	return 0;
}

/* The child's exec report: EOF (exec worked) or the step that failed. */
static void
posix_spawn_status_cb(evutil_socket_t fd, short what, void *arg)
{
	struct program *p = arg;
	struct spawn_request req;
	int r;

	posix_request(p, &req, p->cfg->argv);
	r = spawn_read_status(fd, &req, p->error, sizeof p->error);
	if (r == -1)
		return;
	if (r == 1)
		log_warnx("%s: cannot start: %s", p->cfg->name, p->error);
	event_free(p->spawn_status_ev);
	p->spawn_status_ev = NULL;
	close(p->spawn_status_fd);
	p->spawn_status_fd = -1;
}

void
platform_spawn_settle(struct program *p)
{
	/* The child wrote its report before exiting: it is there to read now. */
	if (p->spawn_status_fd != -1)
		posix_spawn_status_cb(p->spawn_status_fd, EV_READ, p);
	if (p->spawn_status_fd != -1) {
		event_free(p->spawn_status_ev);
		p->spawn_status_ev = NULL;
		close(p->spawn_status_fd);
		p->spawn_status_fd = -1;
	}
}

void
platform_stop_command_settle(struct program *p)
{
	struct spawn_request req;
	char err[256];

	if (p->stop_status_fd == -1)
		return;
	posix_request(p, &req, p->cfg->stop_argv);
	if (spawn_read_status(p->stop_status_fd, &req, err, sizeof err) == 1)
		log_warnx("%s: stop_command: %s", p->cfg->name, err);
	close(p->stop_status_fd);
	p->stop_status_fd = -1;
}

/*
 * Signal the program: its whole process group when stop_group is set, and
 * with a cgroup per program, whatever left the group too (setsid, double
 * fork).  Right after fork the child may not have called setsid yet, so the
 * group may not exist: then the main process alone gets the signal.
 */
static int
posix_kill(struct program *p, int sig)
{
	return posix_signal(p, sig, false);
}

static int
posix_kill_and_wake(struct program *p, int sig)
{
	return posix_signal(p, sig, true);
}

/*
 * The last line of defence: every signal to a program goes through here, and
 * never to pid 0 or 1 nor to -1 (every process we may signal) or -0, -1
 * (our own group, init's group), whatever a damaged state file said.
 */
static int
posix_send(struct program *p, pid_t target, int sig, bool wake)
{
	if (target >= -1 && target <= 1) {
		log_warnx("%s: refusing to send a signal to %s %ld", p->cfg->name,
		    target < 0 ? "process group" : "pid", (long)(target < 0 ?
		    -target : target));
		errno = ESRCH;
		return -1;
	}
	if (kill(target, sig) == -1)
		return -1;
	if (wake)
		kill(target, SIGCONT);
	return 0;
}

/* Send sig, and SIGCONT after it when wake is set, in one look at the cgroup. */
static int
posix_signal(struct program *p, int sig, bool wake)
{
	int r;

	/* supervisord's killasgroup alone: the stop signal to the main
	 * process, only the kill to the group. */
	if (p->cfg->stop_group && !(p->cfg->stop_main_only && !p->kill_sent &&
	    sig == p->cfg->stop_signal && p->main_alive)) {
		int e = ESRCH;

		r = -1;
		if (p->pgid > 1) {
			r = posix_send(p, -p->pgid, sig, wake);
			e = errno;
		}
		if (cgroup_signal(p->cfg->name, sig, wake, p->pgid) > 0)
			r = 0;
		if (r == 0)
			return 0;
		if (e != ESRCH || !p->main_alive) {
			errno = e;
			return -1;
		}
	}
	if (!p->main_alive || p->pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	return posix_send(p, p->pid, sig, wake);
}

/* Whether a process is left in p's cgroup or process group. */
static bool
posix_group_alive(struct program *p)
{
	/* A populated cgroup counts no zombie: the kernel drops them at exit. */
	if (cgroup_populated(p->cfg->name) == 1)
		return true;
	if (p->pgid <= 1)
		return false;
	if (kill(-p->pgid, 0) == -1 && errno != EPERM)
		return false;
	/*
	 * kill() counts zombies.  An adopted program's are reaped by whoever
	 * inherited them, maybe late: look for a member that still runs.  Ours
	 * count until reaped (the main process's pidfd may come before the
	 * SIGCHLD of a group member that died with it), so that STOPPED means
	 * every process of the program is gone and reaped.
	 */
	return procinfo_group_live(p->pgid);
}

/* Run stop_command as the program would run, with the program's output. */
static int
posix_run_stop_command(struct program *p)
{
	struct spawn_request req;
	struct spawn_status st;
	pid_t pid;

	if (p->output == NULL)
		return -1;
	posix_request(p, &req, p->cfg->stop_argv);
	if ((pid = spawn_process(&req, &st, p->error, sizeof p->error)) == -1)
		return -1;
	/* Its exit (127) tells the lifecycle; the reason is only logged. */
	if (st.failed)
		log_warnx("%s: stop_command: %s", p->cfg->name, st.error);
	/* An earlier stop_command still running is reaped as any orphan. */
	if (p->stop_status_fd != -1)
		close(p->stop_status_fd);
	p->stop_command_pid = pid;
	program_index_pids(p);
	p->stop_status_fd = st.fd;
	return 0;
}

/*
 * A program's deadline passed (deadline.c has waited out a timer that fired
 * early).
 */
static void
posix_deadline_due(struct program *p)
{
	/*
	 * Without a pidfd (Linux before 5.3) nothing says when an adopted
	 * process that is not our child ends: look when its deadline passes,
	 * so a stop ends at the next kill re-check instead of never.
	 */
	if (p->adopted && p->main_alive && p->watch_fd == -1 &&
	    !posix_pid_alive(p->pid)) {
		lifecycle_lost(p);
		if (p->deadline == 0)
			return;
	}
	lifecycle_timer(p);
}

/* Whether pid runs (a zombie does not); for processes that are not ours. */
static bool
posix_pid_alive(pid_t pid)
{
	pid_t ppid = 0;

	if (pid <= 1 || (kill(pid, 0) == -1 && errno == ESRCH))
		return false;
	return statefile_start_time(pid, &ppid) != 0;
}

/*
 * Watch an adopted main process.  After a re-exec it is still our child and
 * SIGCHLD reports it; after a crash it is not, and a pidfd says when it ends.
 */
static int
posix_watch(struct program *p)
{
	pid_t ppid = 0;
	int fd;

	posix_unwatch(p);	/* a main process named before this one */
	if (statefile_start_time(p->pid, &ppid) != 0 && ppid == getpid())
		return 0;
	if ((fd = (int)syscall(SYS_pidfd_open, p->pid, 0)) == -1)
		return -1;
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	p->watch_fd = fd;
	p->watch_ev = event_new(platform_base, fd, EV_READ, posix_watch_cb, p);
	if (p->watch_ev == NULL || event_add(p->watch_ev, NULL) == -1)
		fatalx("%s: cannot watch pid %ld", __func__, (long)p->pid);
	return 0;
}

/* The adopted process ended. */
static void
posix_watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct program *p = arg;
	siginfo_t si;

	posix_unwatch(p);
	/* Ours by now (its parent died first): the reaper has its status. */
	if (p->pid > 0 && waitid(P_PID, (id_t)p->pid, &si,
	    WEXITED | WNOHANG | WNOWAIT) == 0)
		return;
	if (p->main_alive && p->adopted)
		lifecycle_lost(p);
}

/* Stop watching an adopted process. */
static void
posix_unwatch(struct program *p)
{
	if (p->watch_ev != NULL)
		event_free(p->watch_ev);
	p->watch_ev = NULL;
	if (p->watch_fd != -1)
		close(p->watch_fd);
	p->watch_fd = -1;
}

void
platform_sweep(double grace, void (*done)(void *), void *arg)
{
	reap_sweep(grace, done, arg);
}

void
platform_sweep_kill_now(void)
{
	reap_sweep_kill_now();
}

void
platform_program_release(struct program *p)
{
	posix_unwatch(p);
	reap_forget(p);
	ready_forget(p);
	if (p->timer != NULL)
		event_free(p->timer);
	p->timer = NULL;
	if (p->spawn_status_ev != NULL)
		event_free(p->spawn_status_ev);
	p->spawn_status_ev = NULL;
	if (p->spawn_status_fd != -1)
		close(p->spawn_status_fd);
	p->spawn_status_fd = -1;
	if (p->stop_status_fd != -1)
		close(p->stop_status_fd);
	p->stop_status_fd = -1;
	output_close(p->output);
	p->output = NULL;
	cgroup_remove(p->cfg->name);
}

void
platform_program_reconfigure(struct program *p)
{
	output_close(p->output);
	p->output = NULL;
}
