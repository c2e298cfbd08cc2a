/*
 * The program lifecycle as an explicit state machine (after s6-supervise and
 * dinit).  Every transition goes through lifecycle_set_state, which logs it
 * and tells the observers; each program has one deadline, whose meaning
 * depends on the state:
 *
 *   STARTING  start_secs elapsed: the start succeeded -> RUNNING
 *   BACKOFF   back-off elapsed: try again -> STARTING
 *   STOPPING  grace period elapsed: send kill_signal
 *
 * Only failed starts back off; a program that dies after reaching RUNNING is
 * restarted at once (autorestart permitting).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "lifecycle.h"
#include "log.h"
#include "parse.h"
#include "statefile.h"
#include "timeline.h"

/* After kill_signal, how often to look for processes that give no event. */
#define LIFECYCLE_KILL_RECHECK	1.0

static const struct lifecycle_ops *ops;
static bool exiting;

static void lifecycle_set_state(struct program *p, enum program_state s);
static void lifecycle_spawn(struct program *p);
static void lifecycle_failed_start(struct program *p);
static void lifecycle_send_stop(struct program *p);
static void lifecycle_stop_with(struct program *p, enum stop_reason why,
    bool restart);
static void lifecycle_record_stop(struct program *p, enum stop_reason why);
static void lifecycle_send_stop_signal(struct program *p);
static void lifecycle_stopped(struct program *p);
static void lifecycle_record_exit(struct program *p, int status);
static void lifecycle_describe_exit(const struct program *p, char *buf, size_t len);
static bool lifecycle_should_restart(const struct program *p);
static void lifecycle_main_gone(struct program *p, const char *how,
    bool exec_failed);

/* Use ops for every clock read and process operation from now on. */
void
lifecycle_init(const struct lifecycle_ops *o)
{
	ops = o;
	exiting = false;
}

/* Stop all starting and restarting: the daemon is on its way out. */
void
lifecycle_set_exiting(bool e)
{
	exiting = e;
}

/* Whether the daemon is exiting. */
bool
lifecycle_exiting(void)
{
	return exiting;
}

/* Grow the pause after each failed start by a second, as supervisord does. */
double
lifecycle_backoff(int n)
{
	return n < 1 ? 1.0 : (n > 60 ? 60.0 : (double)n);
}

/* The single place where a program changes state. */
static void
lifecycle_set_state(struct program *p, enum program_state s)
{
	enum program_state old = p->state;

	if (old == s)
		return;
	p->state = s;
	p->state_since = ops->now();
	if (p->pid != 0)
		log_info("%s: %s -> %s (pid %ld)", p->cfg->name,
		    program_state_name(old), program_state_name(s), (long)p->pid);
	else if (p->error[0] != '\0' && (s == STATE_BACKOFF || s == STATE_FATAL))
		log_info("%s: %s -> %s: %s", p->cfg->name, program_state_name(old),
		    program_state_name(s), p->error);
	else
		log_info("%s: %s -> %s", p->cfg->name, program_state_name(old),
		    program_state_name(s));
	program_notify(p, old);
}

/* Arm or disarm the program's one deadline. */
static void
lifecycle_arm(struct program *p, double at)
{
	p->deadline = at;
	ops->arm(p, at);
}

/* Request: start p (a start on a stopping program starts it once stopped). */
void
lifecycle_start(struct program *p)
{
	p->start_pending = false;
	if (exiting)
		return;
	switch (p->state) {
	case STATE_STARTING:
	case STATE_RUNNING:
		return;
	case STATE_STOPPING:
		p->restart_after_stop = true;
		return;
	case STATE_BACKOFF:
	case STATE_STOPPED:
	case STATE_EXITED:
	case STATE_FATAL:
		lifecycle_arm(p, 0);
		p->failed_starts = 0;
		lifecycle_spawn(p);
		return;
	}
}

/* Launch the main process and enter STARTING (or RUNNING at once). */
static void
lifecycle_spawn(struct program *p)
{
	p->error[0] = '\0';
	p->stop_reason = STOP_NONE;
	p->kill_sent = false;
	if (ops->spawn(p) == -1) {
		log_warnx("%s: cannot start: %s", p->cfg->name, p->error);
		lifecycle_failed_start(p);
		return;
	}
	p->main_alive = true;
	p->pgid = p->pid;
	p->started_at = ops->now();
	p->ready_cause[0] = '\0';
	if (check_waits(&p->cfg->ready)) {
		/* STARTING until the readiness check passes (ready.c). */
		lifecycle_set_state(p, STATE_STARTING);
		if (p->state == STATE_STARTING && p->cfg->ready_timeout > 0)
			lifecycle_arm(p, p->started_at + p->cfg->ready_timeout);
		return;
	}
	if (p->cfg->start_secs <= 0) {
		p->failed_starts = 0;
		lifecycle_set_state(p, STATE_RUNNING);
		return;
	}
	lifecycle_set_state(p, STATE_STARTING);
	lifecycle_arm(p, p->started_at + p->cfg->start_secs);
}

/* A start failed: back off and retry, or give up after start_retries. */
static void
lifecycle_failed_start(struct program *p)
{
	p->failed_starts++;
	if (exiting) {
		lifecycle_arm(p, 0);
		lifecycle_set_state(p, STATE_STOPPED);
		return;
	}
	if (p->failed_starts > p->cfg->start_retries) {
		lifecycle_arm(p, 0);
		log_warnx("%s: gave up after %d failed start%s", p->cfg->name,
		    p->failed_starts, p->failed_starts == 1 ? "" : "s");
		lifecycle_set_state(p, STATE_FATAL);
		return;
	}
	lifecycle_set_state(p, STATE_BACKOFF);
	lifecycle_arm(p, ops->now() + lifecycle_backoff(p->failed_starts));
}

/* Request: stop p with its stop signal (or stop_command), grace, then kill. */
void
lifecycle_stop(struct program *p, enum stop_reason why)
{
	lifecycle_stop_with(p, why, false);
}

/* Make the stop durable (see record_stop) before anything is signalled. */
static void
lifecycle_record_stop(struct program *p, enum stop_reason why)
{
	p->stop_reason = why;
	if (ops->record_stop != NULL)
		ops->record_stop(p);
}

/* Stop p; with restart, start it again once every process is gone. */
static void
lifecycle_stop_with(struct program *p, enum stop_reason why, bool restart)
{
	p->start_pending = false;
	p->fail_after_stop = false;
	p->restart_after_stop = false;
	switch (p->state) {
	case STATE_STOPPING:
		return;
	case STATE_BACKOFF:
		/* A retry was due: recorded, so that a crash does not retry. */
		lifecycle_arm(p, 0);
		lifecycle_record_stop(p, why);
		lifecycle_set_state(p, STATE_STOPPED);
		return;
	case STATE_STOPPED:
	case STATE_EXITED:
	case STATE_FATAL:
		if (p->deadline != 0) {
			/* A restart pending since an exit is off, for good. */
			lifecycle_arm(p, 0);
			lifecycle_record_stop(p, why);
		}
		/* The main process is gone, but what it left in its group is not. */
		if (p->pgid == 0 || !p->cfg->stop_group || !ops->group_alive(p))
			return;
		break;
	case STATE_STARTING:
	case STATE_RUNNING:
		break;
	}
	p->kill_sent = false;
	p->restart_after_stop = restart;
	p->deadline = ops->now() + p->cfg->stop_timeout;
	lifecycle_record_stop(p, why);
	lifecycle_send_stop(p);
	lifecycle_set_state(p, STATE_STOPPING);
	lifecycle_arm(p, p->deadline);
}

/* Run stop_command, or send the stop signal when there is none or it fails. */
static void
lifecycle_send_stop(struct program *p)
{
	const char *name = signal_name(p->cfg->stop_signal);

	if (p->cfg->stop_argv != NULL && p->main_alive) {
		if (ops->run_stop_command(p) == 0) {
			log_info("%s: running stop_command (pid %ld)", p->cfg->name,
			    (long)p->stop_command_pid);
			return;
		}
		log_warnx("%s: stop_command failed to start: %s; sending %s instead",
		    p->cfg->name, p->error, name ? name : "the stop signal");
	}
	lifecycle_send_stop_signal(p);
}

/* Send the stop signal, with SIGCONT so that stopped processes see it. */
static void
lifecycle_send_stop_signal(struct program *p)
{
	int sig = p->cfg->stop_signal, r;

	if (sig != SIGCONT && sig != SIGKILL)
		r = ops->kill_and_wake(p, sig);
	else
		r = ops->kill(p, sig);
	if (r == -1 && errno != ESRCH)
		log_warn("%s: cannot send stop signal", p->cfg->name);
}

/* Request: stop, then start again once stopped. */
void
lifecycle_restart(struct program *p)
{
	bool active = p->state == STATE_STARTING || p->state == STATE_RUNNING ||
	    p->state == STATE_STOPPING;

	if (!active) {
		lifecycle_start(p);
		return;
	}
	if (p->state == STATE_STOPPING) {
		if (!exiting)
			p->restart_after_stop = true;
		return;
	}
	lifecycle_stop_with(p, STOP_REQUEST, !exiting);
	if (p->state != STATE_STOPPING) {
		p->restart_after_stop = false;
		lifecycle_start(p);
	}
}

/* Skip the rest of the grace period: kill_signal to whatever is left. */
void
lifecycle_kill_now(struct program *p)
{
	if (p->state != STATE_STOPPING) {
		lifecycle_stop(p, STOP_SHUTDOWN);
		if (p->state != STATE_STOPPING)
			return;
	}
	if (ops->kill(p, p->cfg->kill_signal) == -1 && errno != ESRCH)
		log_warn("%s: cannot send kill signal", p->cfg->name);
	p->kill_sent = true;
	timeline_killed(p);
	/*
	 * Our children are reaped, and their deaths seen, at once.  A group
	 * member that is not our descendant (or an adopted main process that
	 * ignores nothing) gives no such event: look again in a second.
	 */
	lifecycle_arm(p, ops->now() + LIFECYCLE_KILL_RECHECK);
}

/* Request: send sig to the program's processes. */
int
lifecycle_signal(struct program *p, int sig)
{
	if (!p->main_alive) {
		errno = ESRCH;
		return -1;
	}
	return ops->kill(p, sig);
}

/* A program that will not start (a dependency failed) goes FATAL. */
void
lifecycle_fail(struct program *p, const char *why)
{
	p->start_pending = false;
	if (p->state != STATE_STOPPED && p->state != STATE_EXITED &&
	    p->state != STATE_BACKOFF && p->state != STATE_FATAL)
		return;
	lifecycle_arm(p, 0);
	snprintf(p->error, sizeof p->error, "%s", why);
	lifecycle_set_state(p, STATE_FATAL);
}

/* Keep the exit code or signal of the main process for status. */
static void
lifecycle_record_exit(struct program *p, int status)
{
	p->has_exit = true;
	if (WIFSIGNALED(status)) {
		p->exit_code = -1;
		p->exit_signal = WTERMSIG(status);
	} else {
		p->exit_code = WEXITSTATUS(status);
		p->exit_signal = 0;
	}
}

/* "exit 3" or "signal KILL", for messages. */
static void
lifecycle_describe_exit(const struct program *p, char *buf, size_t len)
{
	const char *name;

	if (p->exit_signal == 0) {
		snprintf(buf, len, "exit %d", p->exit_code);
		return;
	}
	if ((name = signal_name(p->exit_signal)) != NULL)
		snprintf(buf, len, "signal %s", name);
	else
		snprintf(buf, len, "signal %d", p->exit_signal);
}

/* Whether autorestart asks for a new process after this exit. */
static bool
lifecycle_should_restart(const struct program *p)
{
	switch (p->cfg->autorestart) {
	case RESTART_ALWAYS:
		return true;
	case RESTART_ON_FAILURE:
		return !p->has_exit || p->exit_signal != 0 ||
		    !program_config_exit_ok(p->cfg, p->exit_code);
	case RESTART_NEVER:
		break;
	}
	return false;
}

/* Event: the main process was reaped. */
void
lifecycle_exited(struct program *p, int status)
{
	char how[48];
	bool exec_failed = p->error[0] != '\0';

	/*
	 * A child that failed before its exec (chdir, setuid, exec) exits 127,
	 * but the program never ran: its cause (p->error) is the last word,
	 * not "exit 127", in every state that follows, STOPPED included.
	 */
	if (exec_failed) {
		p->has_exit = false;
		p->exit_code = -1;
		p->exit_signal = 0;
		snprintf(how, sizeof how, "did not start");
	} else {
		lifecycle_record_exit(p, status);
		lifecycle_describe_exit(p, how, sizeof how);
	}
	lifecycle_main_gone(p, how, exec_failed);
}

/*
 * Event: an adopted process that is not our child is gone.  Only its parent
 * learns how it ended, so the exit counts as a failure of unknown cause.
 */
void
lifecycle_lost(struct program *p)
{
	p->has_exit = false;
	p->exit_code = -1;
	p->exit_signal = 0;
	snprintf(p->error, sizeof p->error, "exit status unknown (adopted pid %ld)",
	    (long)p->pid);
	lifecycle_main_gone(p, "status unknown", false);
}

/*
 * Event: a main process from an earlier run of the daemon still runs with
 * the same settings: watch it as RUNNING instead of starting another.
 */
void
lifecycle_adopt(struct program *p, pid_t pid, pid_t pgid, double age)
{
	p->pid = pid;
	program_index_pids(p);
	p->pgid = pgid;
	p->main_alive = true;
	p->adopted = true;
	p->started_at = ops->now() - age;
	p->failed_starts = 0;
	p->error[0] = '\0';
	p->start_pending = false;
	if (ops->watch != NULL && ops->watch(p) == -1)
		log_warnx("%s: cannot watch adopted pid %ld", p->cfg->name, (long)pid);
	log_notice("%s: adopted running pid %ld", p->cfg->name, (long)pid);
	lifecycle_set_state(p, STATE_RUNNING);
}

void
lifecycle_resume(struct program *p, const struct state_entry *e, bool alive,
    double age)
{
	enum program_state s = e->state;
	double now = ops->now();

	p->recovered = true;
	p->start_pending = false;
	p->failed_starts = e->failed_starts;
	p->restarts = e->restarts;
	p->has_exit = e->has_exit;
	p->exit_code = e->exit_code;
	p->exit_signal = e->exit_signal;
	snprintf(p->error, sizeof p->error, "%s", e->error);
	p->stop_reason = e->stop_reason;
	p->kill_sent = e->kill_sent;
	p->restart_after_stop = e->restart_after_stop;
	p->pgid = e->pgid;
	if (alive) {
		p->pid = e->pid;
		program_index_pids(p);
		p->main_alive = true;
		p->adopted = true;
		p->started_at = e->started_at > 0 && e->started_at <= now ?
		    e->started_at : now - age;
		if (ops->watch != NULL && ops->watch(p) == -1)
			log_warnx("%s: cannot watch adopted pid %ld", p->cfg->name,
			    (long)p->pid);
		if (s != STATE_STARTING && s != STATE_STOPPING)
			s = STATE_RUNNING;
		if (s == STATE_STARTING && p->cfg->start_secs <= 0 &&
		    !check_waits(&p->cfg->ready))
			s = STATE_RUNNING;
		log_notice("%s: adopted running pid %ld (%s)", p->cfg->name,
		    (long)p->pid, program_state_name(s));
		lifecycle_set_state(p, s);
		if (s == STATE_STARTING && check_waits(&p->cfg->ready)) {
			/* Still waiting for its check (ready.c probes again). */
			if (e->deadline > 0 || p->cfg->ready_timeout > 0)
				lifecycle_arm(p, e->deadline > 0 ? e->deadline :
				    p->started_at + p->cfg->ready_timeout);
		} else if (s == STATE_STARTING)
			lifecycle_arm(p, e->deadline > 0 ? e->deadline :
			    p->started_at + p->cfg->start_secs);
		else if (s == STATE_STOPPING)
			lifecycle_arm(p, p->kill_sent ? now :
			    (e->deadline > 0 ? e->deadline : now + p->cfg->stop_timeout));
		return;
	}
	p->pid = 0;
	p->main_alive = false;
	switch (s) {
	case STATE_STOPPING:
		if (p->pgid > 1 && p->cfg->stop_group && ops->group_alive(p)) {
			lifecycle_set_state(p, STATE_STOPPING);
			lifecycle_arm(p, p->kill_sent || e->deadline <= 0 ? now :
			    e->deadline);
			return;
		}
		lifecycle_stopped(p);
		return;
	case STATE_STARTING:
		snprintf(p->error, sizeof p->error, "pid %ld ended while no daemon "
		    "watched it", (long)e->pid);
		lifecycle_failed_start(p);
		return;
	case STATE_RUNNING:
		p->has_exit = false;
		snprintf(p->error, sizeof p->error, "exit status unknown (pid %ld "
		    "ended while no daemon watched it)", (long)e->pid);
		lifecycle_set_state(p, STATE_EXITED);
		if (!exiting && lifecycle_should_restart(p))
			lifecycle_arm(p, now);
		return;
	case STATE_BACKOFF:
		lifecycle_set_state(p, STATE_BACKOFF);
		lifecycle_arm(p, e->deadline > 0 ? e->deadline : now);
		return;
	case STATE_EXITED:
		lifecycle_set_state(p, STATE_EXITED);
		if (e->deadline > 0 && !exiting)
			lifecycle_arm(p, e->deadline);
		return;
	case STATE_STOPPED:
	case STATE_FATAL:
		p->pgid = 0;
		lifecycle_set_state(p, s);
		return;
	}
}

/* The main process is gone, however we learnt it: move the machine on. */
static void
lifecycle_main_gone(struct program *p, const char *how, bool exec_failed)
{
	p->main_alive = false;
	p->adopted = false;
	log_info("%s: pid %ld exited (%s)", p->cfg->name, (long)p->pid, how);
	p->pid = 0;

	switch (p->state) {
	case STATE_STARTING:
	case STATE_RUNNING:
		if (p->state == STATE_STARTING || exec_failed) {
			if (!exec_failed)
				snprintf(p->error, sizeof p->error,
				    "exited too quickly (%s)", how);
			lifecycle_arm(p, 0);
			lifecycle_failed_start(p);
			return;
		}
		lifecycle_set_state(p, STATE_EXITED);
		if (exiting || !lifecycle_should_restart(p))
			return;
		/*
		 * Restart at once, but from the loop: spawning here, inside the
		 * reaper's waitpid loop, would let programs that exit at once
		 * keep that loop busy forever and starve every other event.
		 */
		lifecycle_arm(p, ops->now());
		return;
	case STATE_STOPPING:
		if (p->cfg->stop_group && ops->group_alive(p))
			return;	/* wait for the rest of the group */
		lifecycle_stopped(p);
		return;
	case STATE_STOPPED:
	case STATE_BACKOFF:
	case STATE_EXITED:
	case STATE_FATAL:
		log_warnx("%s: unexpected exit in state %s", p->cfg->name,
		    program_state_name(p->state));
		return;
	}
}

/*
 * Event: the stop_command finished; the grace period goes on regardless.
 * One that failed (could not run, exited non-zero) has most likely not
 * asked the program to stop, so the stop signal goes out as it would have
 * without a stop_command, rather than leaving only kill_signal.
 */
void
lifecycle_stop_command_exited(struct program *p, int status)
{
	const char *name = signal_name(p->cfg->stop_signal);

	p->stop_command_pid = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return;
	log_warnx("%s: stop_command failed (%s %d)", p->cfg->name,
	    WIFEXITED(status) ? "exit" : "signal",
	    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	if (p->state != STATE_STOPPING || p->kill_sent)
		return;
	if (!p->main_alive && (!p->cfg->stop_group || !ops->group_alive(p)))
		return;
	log_notice("%s: sending %s instead", p->cfg->name,
	    name ? name : "the stop signal");
	lifecycle_send_stop_signal(p);
}

/* Event: a process was reaped; a stopping program may now be empty. */
void
lifecycle_reaped(struct program *p)
{
	if (p->state != STATE_STOPPING || p->main_alive)
		return;
	if (p->cfg->stop_group && ops->group_alive(p))
		return;
	lifecycle_stopped(p);
}

/* Every process of the program is gone: STOPPED, and maybe start again. */
static void
lifecycle_stopped(struct program *p)
{
	bool again = p->restart_after_stop && !exiting;

	lifecycle_arm(p, 0);
	p->pgid = 0;
	p->restart_after_stop = false;
	if (p->fail_after_stop) {
		/* Stopped for not being ready in time: a failed start. */
		p->fail_after_stop = false;
		lifecycle_failed_start(p);
		return;
	}
	lifecycle_set_state(p, STATE_STOPPED);
	if (again)
		lifecycle_start(p);
}

/* Event: the program's deadline passed. */
void
lifecycle_timer(struct program *p)
{
	if (p->deadline == 0)
		return;		/* disarmed after it fired: nothing is due */
	p->deadline = 0;
	switch (p->state) {
	case STATE_STARTING:
		if (check_waits(&p->cfg->ready)) {
			lifecycle_not_ready(p, p->ready_cause);
			return;
		}
		p->failed_starts = 0;
		lifecycle_set_state(p, STATE_RUNNING);
		return;
	case STATE_BACKOFF:
		if (exiting) {
			lifecycle_set_state(p, STATE_STOPPED);
			return;
		}
		lifecycle_spawn(p);
		return;
	case STATE_STOPPING:
		if (p->kill_sent) {
			if (!p->main_alive &&
			    !(p->cfg->stop_group && ops->group_alive(p))) {
				lifecycle_stopped(p);
				return;
			}
			ops->kill(p, p->cfg->kill_signal);
			lifecycle_arm(p, ops->now() + LIFECYCLE_KILL_RECHECK);
			return;
		}
		log_notice("%s: still running after %.3gs; sending %s", p->cfg->name,
		    p->cfg->stop_timeout,
		    signal_name(p->cfg->kill_signal) ? signal_name(p->cfg->kill_signal) : "kill signal");
		lifecycle_kill_now(p);
		return;
	case STATE_EXITED:
		/* The restart armed by lifecycle_exited. */
		if (exiting)
			return;
		p->restarts++;
		lifecycle_spawn(p);
		return;
	case STATE_STOPPED:
	case STATE_RUNNING:
	case STATE_FATAL:
		return;
	}
}

/* Event: a STARTING program passed its readiness check. */
void
lifecycle_ready(struct program *p)
{
	if (p->state != STATE_STARTING)
		return;
	lifecycle_arm(p, 0);
	p->failed_starts = 0;
	p->ready_cause[0] = '\0';
	lifecycle_set_state(p, STATE_RUNNING);
}

/*
 * Event: ready_timeout ran out.  The processes are stopped as at a stop
 * (stop_signal, grace, kill_signal); once they are gone the start counts as
 * failed: BACKOFF, or FATAL after start_retries.
 */
void
lifecycle_not_ready(struct program *p, const char *why)
{
	char cause[sizeof p->ready_cause];

	if (p->state != STATE_STARTING)
		return;
	snprintf(cause, sizeof cause, "%s", why != NULL && *why != '\0' ? why :
	    p->cfg->ready.spec);
	snprintf(p->error, sizeof p->error, "not ready after %g s: %s",
	    p->cfg->ready_timeout, cause);
	log_warnx("%s: %s", p->cfg->name, p->error);
	lifecycle_stop(p, STOP_NOT_READY);
	if (p->state == STATE_STOPPING)
		p->fail_after_stop = true;
	else
		lifecycle_failed_start(p);
}

/* Event: a RUNNING program failed its health check: restart it. */
void
lifecycle_unhealthy(struct program *p, const char *why)
{
	if (p->state != STATE_RUNNING || exiting)
		return;
	log_warnx("%s: unhealthy, restarting: %s", p->cfg->name, why);
	p->restarts++;
	lifecycle_stop(p, STOP_HEALTH);
	if (p->state == STATE_STOPPING)
		p->restart_after_stop = true;
	else
		lifecycle_start(p);
}

/* Event: the program named its real main process (a forking daemon). */
void
lifecycle_set_main_pid(struct program *p, pid_t pid, pid_t pgid)
{
	if (pid == p->pid || (p->state != STATE_STARTING &&
	    p->state != STATE_RUNNING))
		return;
	log_info("%s: main process is now pid %ld (was %ld)", p->cfg->name,
	    (long)pid, (long)p->pid);
	p->pid = pid;
	program_index_pids(p);
	p->main_alive = true;
	if (pgid > 0)
		p->pgid = pgid;
	/*
	 * While its parent lives it is not our child, and its parent, not we,
	 * reaps it: watch it as an adopted process (a pidfd), whose exit
	 * status nobody tells us.  Our child (its parent gone) needs nothing.
	 */
	if (ops->watch != NULL && ops->watch(p) == -1)
		log_warnx("%s: cannot watch pid %ld", p->cfg->name, (long)pid);
	p->adopted = p->watch_fd != -1;
}

/* Event: the program asks for more time to start or to stop. */
void
lifecycle_extend(struct program *p, double secs)
{
	double at = ops->now() + secs;

	if ((p->state == STATE_STARTING && check_waits(&p->cfg->ready) &&
	    p->deadline != 0) || (p->state == STATE_STOPPING && !p->kill_sent)) {
		if (at > p->deadline)
			lifecycle_arm(p, at);
	}
}
