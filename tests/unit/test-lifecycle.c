/*
 * The lifecycle state machine against a fake clock and fake processes: every
 * transition of the state table in safeexitctl(1), start_secs, back-off, start_retries,
 * autorestart and exitcodes, the stop escalation and stop_group, and the
 * resumption of each state in flight after a crash of the daemon.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "lifecycle.h"
#include "log.h"
#include "statefile.h"
#include "tap.h"

#define MAX_CALLS 64

static double fake_now;
static pid_t next_pid = 100;
static bool spawn_fails;		/* fail before fork */
static bool group_alive_flag;
static struct { pid_t pid; int sig; bool group, wake; } kills[MAX_CALLS];
static int n_kills;
static int n_stop_commands;
static enum program_state seen[MAX_CALLS];
static int n_seen;

static double fake_clock(void) { return fake_now; }

static int
fake_spawn(struct program *p)
{
	if (spawn_fails) {
		strcpy(p->error, "unknown user nobody-here");
		return -1;
	}
	p->pid = next_pid++;
	return 0;
}

static int
fake_signal(struct program *p, int sig, bool wake)
{
	if (n_kills < MAX_CALLS) {
		kills[n_kills].pid = p->pid ? p->pid : p->pgid;
		kills[n_kills].sig = sig;
		kills[n_kills].group = p->cfg->stop_group;
		kills[n_kills].wake = wake;
		n_kills++;
	}
	return 0;
}

static int fake_kill(struct program *p, int sig) { return fake_signal(p, sig, false); }
static int fake_kill_and_wake(struct program *p, int sig) { return fake_signal(p, sig, true); }

static bool fake_group_alive(struct program *p) { return group_alive_flag; }

static int
fake_stop_command(struct program *p)
{
	n_stop_commands++;
	p->stop_command_pid = next_pid++;
	return 0;
}

static void fake_arm(struct program *p, double at) { (void)p; (void)at; }

static const struct lifecycle_ops fake_ops = {
	.now = fake_clock,
	.spawn = fake_spawn,
	.kill = fake_kill,
	.kill_and_wake = fake_kill_and_wake,
	.group_alive = fake_group_alive,
	.run_stop_command = fake_stop_command,
	.arm = fake_arm,
};

static void
observe(struct program *p, enum program_state old, void *arg)
{
	if (n_seen < MAX_CALLS)
		seen[n_seen++] = p->state;
}

/* Everything the fixtures allocate, freed at the end so leak checkers stay quiet. */
static void *allocated[256];
static int n_allocated;

static void *
keep(void *ptr)
{
	if (n_allocated < (int)(sizeof allocated / sizeof allocated[0]))
		allocated[n_allocated++] = ptr;
	return ptr;
}

static struct program_config *
make_cfg(const char *name)
{
	struct program_config *pc = keep(calloc(1, sizeof *pc));
	static int zero = 0;

	pc->name = keep(strdup(name));
	pc->autostart = true;
	pc->autorestart = RESTART_ON_FAILURE;
	pc->exitcodes = &zero;
	pc->n_exitcodes = 1;
	pc->start_secs = 1;
	pc->start_retries = 3;
	pc->stop_signal = SIGTERM;
	pc->stop_timeout = 10;
	pc->kill_signal = SIGKILL;
	pc->stop_group = true;
	return pc;
}

static struct program *
make_program(struct program_config *pc)
{
	struct program *p = keep(calloc(1, sizeof *p));

	p->cfg = pc;
	p->state = STATE_STOPPED;
	p->spawn_status_fd = p->stop_status_fd = -1;
	return p;
}

static void
reset(void)
{
	fake_now = 1000;
	spawn_fails = false;
	group_alive_flag = false;
	n_kills = 0;
	n_stop_commands = 0;
	n_seen = 0;
	lifecycle_init(&fake_ops);
}

static int
exit_status(int code)
{
	return W_EXITCODE(code, 0);
}

static int
signal_status(int sig)
{
	return W_EXITCODE(0, sig) | sig;
}

static void
test_start_and_run(void)
{
	struct program *p = make_program(make_cfg("web"));

	reset();
	lifecycle_start(p);
	is_str(program_state_name(p->state), "STARTING", "start: STOPPED -> STARTING");
	ok(p->pid == 100 && p->main_alive, "start: main process recorded");
	ok(p->deadline == 1001, "start: deadline at start_secs");
	fake_now = 1001;
	lifecycle_timer(p);
	is_str(program_state_name(p->state), "RUNNING", "start_secs elapsed: RUNNING");
	lifecycle_start(p);
	is_int(p->pid, 100, "start while RUNNING does nothing");
	is_int(n_seen, 2, "two transitions notified");
}

static void
test_backoff_to_fatal(void)
{
	struct program *p = make_program(make_cfg("flaky"));
	double waits[3];

	reset();
	lifecycle_start(p);
	for (int i = 0; i < 3; i++) {
		fake_now += 0.2;
		lifecycle_exited(p, exit_status(1));
		is_str(program_state_name(p->state), "BACKOFF", "failed start %d: BACKOFF", i + 1);
		waits[i] = p->deadline - fake_now;
		ok(strstr(p->error, "exited too quickly (exit 1)") != NULL,
		    "failed start %d: error says why", i + 1);
		fake_now = p->deadline;
		lifecycle_timer(p);
		is_str(program_state_name(p->state), "STARTING", "back-off %d over: STARTING again", i + 1);
	}
	ok(waits[0] < waits[1] && waits[1] < waits[2], "back-off grows (%g %g %g)",
	    waits[0], waits[1], waits[2]);
	lifecycle_exited(p, exit_status(1));
	is_str(program_state_name(p->state), "FATAL", "1 + start_retries failures: FATAL");
	is_int(p->failed_starts, 4, "four failed starts counted");
	lifecycle_start(p);
	is_str(program_state_name(p->state), "STARTING", "start on FATAL tries again");
	is_int(p->failed_starts, 0, "a new start resets the count");
}

static void
test_crash_after_running(void)
{
	struct program *p = make_program(make_cfg("worker"));

	reset();
	lifecycle_start(p);
	lifecycle_timer(p);
	lifecycle_exited(p, exit_status(3));
	is_str(program_state_name(p->state), "EXITED", "crash after RUNNING: EXITED");
	ok(p->deadline == fake_now, "restart armed for now, not after a back-off");
	lifecycle_timer(p);
	is_str(program_state_name(p->state), "STARTING", "crash after RUNNING: restarted at once");
	is_int(p->restarts, 1, "restart counted");
	is_int(p->exit_code, 3, "last exit code kept");
	lifecycle_timer(p);
	lifecycle_exited(p, signal_status(SIGSEGV));
	lifecycle_timer(p);
	is_str(program_state_name(p->state), "STARTING", "killed by a signal: restarted");
	is_int(p->exit_signal, SIGSEGV, "last signal kept");
	lifecycle_timer(p);
	lifecycle_exited(p, exit_status(0));
	is_str(program_state_name(p->state), "EXITED", "on-failure: exit 0 is not restarted");
}

static void
test_autorestart_policies(void)
{
	struct program_config *pc = make_cfg("always");
	struct program *p = make_program(pc);
	static int codes[] = { 0, 2 };

	reset();
	pc->autorestart = RESTART_ALWAYS;
	lifecycle_start(p);
	lifecycle_timer(p);
	lifecycle_exited(p, exit_status(0));
	lifecycle_timer(p);
	is_str(program_state_name(p->state), "STARTING", "always: exit 0 restarted");

	pc->autorestart = RESTART_NEVER;
	lifecycle_timer(p);
	lifecycle_exited(p, exit_status(1));
	is_str(program_state_name(p->state), "EXITED", "never: failure not restarted");

	pc->autorestart = RESTART_ON_FAILURE;
	pc->exitcodes = codes;
	pc->n_exitcodes = 2;
	lifecycle_start(p);
	lifecycle_timer(p);
	lifecycle_exited(p, exit_status(2));
	is_str(program_state_name(p->state), "EXITED", "exitcodes: 2 counts as success");
}

static void
test_stop_escalation(void)
{
	struct program *p = make_program(make_cfg("slow"));

	reset();
	lifecycle_start(p);
	lifecycle_timer(p);
	lifecycle_stop(p, STOP_REQUEST);
	is_str(program_state_name(p->state), "STOPPING", "stop: STOPPING");
	ok(n_kills == 1 && kills[0].sig == SIGTERM && kills[0].wake,
	    "stop_signal, with SIGCONT to wake a stopped process");
	ok(p->deadline == fake_now + 10, "grace period armed");
	fake_now += 10;
	lifecycle_timer(p);
	ok(n_kills == 2 && kills[1].sig == SIGKILL && !kills[1].wake,
	    "grace over: kill_signal");
	ok(p->kill_sent, "kill recorded");
	group_alive_flag = true;
	lifecycle_exited(p, signal_status(SIGKILL));
	is_str(program_state_name(p->state), "STOPPING", "stop_group: waits for the rest of the group");
	group_alive_flag = false;
	lifecycle_reaped(p);
	is_str(program_state_name(p->state), "STOPPED", "group empty: STOPPED");
	is_int(p->pgid, 0, "group forgotten");
}

static void
test_stop_main_only(void)
{
	struct program_config *pc = make_cfg("single");
	struct program *p = make_program(pc);

	reset();
	pc->stop_group = false;
	pc->stop_signal = SIGINT;
	lifecycle_start(p);
	lifecycle_stop(p, STOP_REQUEST);
	ok(kills[0].sig == SIGINT && !kills[0].group, "stop_signal INT to the main process only");
	group_alive_flag = true;
	lifecycle_exited(p, exit_status(0));
	is_str(program_state_name(p->state), "STOPPED",
	    "stop_group=false: stopped when the main process is gone");
}

static void
test_stop_command(void)
{
	struct program_config *pc = make_cfg("nginx");
	struct program *p = make_program(pc);
	char *argv[] = { "nginx", "-s", "quit", NULL };

	reset();
	pc->stop_argv = argv;
	lifecycle_start(p);
	lifecycle_timer(p);
	lifecycle_stop(p, STOP_REQUEST);
	is_int(n_stop_commands, 1, "stop_command runs instead of the signal");
	is_int(n_kills, 0, "no stop signal sent");
	fake_now = p->deadline;
	lifecycle_timer(p);
	ok(n_kills == 1 && kills[0].sig == SIGKILL, "grace and kill_signal still apply");
	lifecycle_exited(p, signal_status(SIGKILL));
	is_str(program_state_name(p->state), "STOPPED", "stopped");
}

static void
test_stop_command_fails(void)
{
	struct program_config *pc = make_cfg("nginx");
	struct program *p = make_program(pc);
	char *argv[] = { "/nonexistent/stopper", NULL };

	reset();
	pc->stop_argv = argv;
	lifecycle_start(p);
	lifecycle_timer(p);
	lifecycle_stop(p, STOP_REQUEST);
	is_int(n_kills, 0, "stop_command first");
	lifecycle_stop_command_exited(p, exit_status(127));
	ok(n_kills >= 1 && kills[0].sig == SIGTERM,
	    "a failed stop_command: the stop signal after all");
	ok(!p->kill_sent, "the grace period goes on");
	lifecycle_exited(p, signal_status(SIGTERM));
	is_str(program_state_name(p->state), "STOPPED", "stopped by the signal");

	reset();
	p = make_program(pc);
	lifecycle_start(p);
	lifecycle_timer(p);
	lifecycle_stop(p, STOP_REQUEST);
	lifecycle_stop_command_exited(p, exit_status(0));
	is_int(n_kills, 0, "a stop_command that worked: no signal");
	fake_now = p->deadline;
	lifecycle_timer(p);
	lifecycle_stop_command_exited(p, exit_status(1));
	ok(n_kills == 1 && kills[0].sig == SIGKILL,
	    "after kill_signal, a late failure sends nothing more");
	lifecycle_exited(p, signal_status(SIGKILL));
	is_str(program_state_name(p->state), "STOPPED", "stopped");
}

static void
test_restart_and_kill_now(void)
{
	struct program *p = make_program(make_cfg("api"));

	reset();
	lifecycle_start(p);
	lifecycle_timer(p);
	lifecycle_restart(p);
	is_str(program_state_name(p->state), "STOPPING", "restart: stopping first");
	lifecycle_kill_now(p);
	ok(kills[n_kills - 1].sig == SIGKILL && p->kill_sent, "kill_now: kill_signal at once");
	lifecycle_exited(p, signal_status(SIGKILL));
	is_str(program_state_name(p->state), "STARTING", "restart: started again once stopped");
	is_int(p->restarts, 0, "a requested restart is not an automatic one");
}

static void
test_spawn_failures(void)
{
	struct program_config *pc = make_cfg("broken");
	struct program *p = make_program(pc);

	reset();
	spawn_fails = true;
	lifecycle_start(p);
	is_str(program_state_name(p->state), "BACKOFF", "spawn failure: BACKOFF");
	is_str(p->error, "unknown user nobody-here", "spawn failure: cause kept");

	reset();
	p = make_program(pc);
	pc->start_secs = 0;
	lifecycle_start(p);
	is_str(program_state_name(p->state), "RUNNING", "start_secs=0: RUNNING at once");
	strcpy(p->error, "exec /nope: No such file or directory");
	lifecycle_exited(p, exit_status(127));
	is_str(program_state_name(p->state), "BACKOFF",
	    "exec failure counts as a failed start even when already RUNNING");
	is_str(p->error, "exec /nope: No such file or directory", "exec failure: cause kept");
}

static void
test_backoff_stop_and_start(void)
{
	struct program *p = make_program(make_cfg("retry"));

	reset();
	lifecycle_start(p);
	lifecycle_exited(p, exit_status(1));
	lifecycle_stop(p, STOP_REQUEST);
	is_str(program_state_name(p->state), "STOPPED", "stop in BACKOFF: STOPPED");
	lifecycle_start(p);
	lifecycle_exited(p, exit_status(1));
	lifecycle_start(p);
	is_str(program_state_name(p->state), "STARTING", "start in BACKOFF: spawns now");
}

static void
test_exiting(void)
{
	struct program_config *pc = make_cfg("final");
	struct program *p = make_program(pc);

	reset();
	pc->autorestart = RESTART_ALWAYS;
	lifecycle_start(p);
	lifecycle_timer(p);
	lifecycle_set_exiting(true);
	lifecycle_exited(p, exit_status(1));
	lifecycle_timer(p);
	is_str(program_state_name(p->state), "EXITED", "daemon exiting: no restart");
	lifecycle_start(p);
	is_str(program_state_name(p->state), "EXITED", "daemon exiting: no start");
	lifecycle_set_exiting(false);
}

static void
test_stop_cancels_pending_restart(void)
{
	struct program_config *pc = make_cfg("pending");
	struct program *p = make_program(pc);

	reset();
	pc->autorestart = RESTART_ALWAYS;
	lifecycle_start(p);
	lifecycle_timer(p);
	lifecycle_exited(p, exit_status(0));
	ok(p->deadline != 0, "restart pending after an exit");
	lifecycle_stop(p, STOP_REQUEST);
	is_int((long long)p->deadline, 0, "stop cancels the pending restart");
	lifecycle_timer(p);
	is_str(program_state_name(p->state), "EXITED", "a stale timer starts nothing");
	is_int(p->restarts, 0, "no restart happened");
}

static void
test_fail_and_leftovers(void)
{
	struct program *p = make_program(make_cfg("dependent"));

	reset();
	p->start_pending = true;
	lifecycle_fail(p, "dependency db is FATAL");
	is_str(program_state_name(p->state), "FATAL", "lifecycle_fail: FATAL");
	is_str(p->error, "dependency db is FATAL", "lifecycle_fail: reason kept");
	ok(!p->start_pending, "no longer pending");

	reset();
	p = make_program(make_cfg("daemonizer"));
	p->cfg->autorestart = RESTART_NEVER;
	lifecycle_start(p);
	lifecycle_timer(p);
	lifecycle_exited(p, exit_status(0));
	is_str(program_state_name(p->state), "EXITED", "main exited, leaving a child in its group");
	group_alive_flag = true;
	lifecycle_stop(p, STOP_REQUEST);
	is_str(program_state_name(p->state), "STOPPING", "stop on EXITED signals what is left of the group");
	group_alive_flag = false;
	lifecycle_reaped(p);
	is_str(program_state_name(p->state), "STOPPED", "leftovers gone: STOPPED");
}

/* A record of an earlier run, as statefile_read() hands it to adopt.c. */
static struct state_entry
make_entry(const char *name, enum program_state s, pid_t pid)
{
	struct state_entry e;

	memset(&e, 0, sizeof e);
	e.name = (char *)name;
	e.has_state = true;
	e.state = s;
	e.pid = e.pgid = pid;
	e.start_time = pid != 0 ? 12345 : 0;
	e.exit_code = -1;
	return e;
}

static void
test_resume_starting(void)
{
	struct program *p = make_program(make_cfg("resumed-start"));
	struct state_entry e = make_entry("resumed-start", STATE_STARTING, 700);

	reset();
	/* Its deadline is not start_secs from its start: it asked for more time. */
	e.started_at = fake_now - 0.4;
	e.deadline = fake_now + 2.6;
	e.failed_starts = 1;
	lifecycle_resume(p, &e, true, 0.4);
	is_str(program_state_name(p->state), "STARTING", "resume STARTING: still STARTING");
	ok(p->pid == 700 && p->main_alive && p->adopted, "resume STARTING: process adopted");
	ok(p->deadline == e.deadline, "resume STARTING: the recorded deadline, not a new one");
	is_int(n_kills, 0, "resume STARTING: nothing signalled");
	fake_now = p->deadline;
	lifecycle_timer(p);
	is_str(program_state_name(p->state), "RUNNING", "resume STARTING: RUNNING at the deadline");
	is_int(p->failed_starts, 0, "resume STARTING: a start that succeeded clears the count");

	reset();
	p = make_program(make_cfg("resumed-start"));
	e.deadline = 0;
	e.started_at = fake_now - 0.25;
	lifecycle_resume(p, &e, true, 0.25);
	ok(p->deadline == e.started_at + 1, "resume STARTING, no deadline: start_secs from its start");

	reset();
	p = make_program(make_cfg("resumed-start"));
	e.deadline = fake_now + 0.6;
	lifecycle_resume(p, &e, false, 0);
	is_str(program_state_name(p->state), "BACKOFF", "resume STARTING, process gone: a failed start");
	is_int(p->failed_starts, 2, "resume STARTING, process gone: counted after the recorded one");
	ok(strstr(p->error, "ended while no daemon watched it") != NULL,
	    "resume STARTING, process gone: the error says so");
}

static void
test_resume_stopping(void)
{
	struct program *p = make_program(make_cfg("resumed-stop"));
	struct state_entry e = make_entry("resumed-stop", STATE_STOPPING, 710);

	/* The stop signal went out; the grace period goes on where it was. */
	reset();
	e.stop_reason = STOP_REQUEST;
	e.deadline = fake_now + 4;
	lifecycle_resume(p, &e, true, 30);
	is_str(program_state_name(p->state), "STOPPING", "resume STOPPING: still STOPPING");
	ok(p->deadline == e.deadline, "resume STOPPING: the rest of the grace period");
	is_int(n_kills, 0, "resume STOPPING: no signal before the grace period is over");
	ok(!p->kill_sent, "resume STOPPING: kill not yet sent");
	fake_now = p->deadline;
	lifecycle_timer(p);
	ok(n_kills == 1 && kills[0].sig == SIGKILL && kills[0].pid == 710,
	    "resume STOPPING: kill_signal when the grace period ends");
	ok(p->kill_sent, "resume STOPPING: kill recorded");
	lifecycle_lost(p);
	is_str(program_state_name(p->state), "STOPPED", "resume STOPPING: STOPPED once gone");

	/* kill_signal already sent: it goes out again at once. */
	reset();
	p = make_program(make_cfg("resumed-stop"));
	e.kill_sent = true;
	e.restart_after_stop = true;
	lifecycle_resume(p, &e, true, 30);
	is_str(program_state_name(p->state), "STOPPING", "resume STOPPING after kill: STOPPING");
	ok(p->deadline == fake_now, "resume STOPPING after kill: due now, not after a new grace");
	lifecycle_timer(p);
	ok(n_kills == 1 && kills[0].sig == SIGKILL, "resume STOPPING after kill: kill_signal again");
	lifecycle_lost(p);
	is_str(program_state_name(p->state), "STARTING",
	    "resume STOPPING of a restart: started again once stopped");

	/* The main process is gone but its group is not. */
	reset();
	p = make_program(make_cfg("resumed-stop"));
	e.kill_sent = false;
	e.restart_after_stop = false;
	e.deadline = fake_now + 2;
	group_alive_flag = true;
	lifecycle_resume(p, &e, false, 0);
	is_str(program_state_name(p->state), "STOPPING", "resume STOPPING, group left: STOPPING");
	ok(p->deadline == e.deadline && p->pgid == 710, "resume STOPPING, group left: its grace and group");
	group_alive_flag = false;
	lifecycle_reaped(p);
	is_str(program_state_name(p->state), "STOPPED", "resume STOPPING, group gone: STOPPED");

	/* Nothing left at all. */
	reset();
	p = make_program(make_cfg("resumed-stop"));
	lifecycle_resume(p, &e, false, 0);
	is_str(program_state_name(p->state), "STOPPED", "resume STOPPING, nothing left: STOPPED");
	is_int(n_kills, 0, "resume STOPPING, nothing left: nothing signalled");
}

static void
test_resume_backoff(void)
{
	struct program *p = make_program(make_cfg("resumed-backoff"));
	struct state_entry e = make_entry("resumed-backoff", STATE_BACKOFF, 0);

	reset();
	e.failed_starts = 2;
	e.deadline = fake_now + 1.5;
	snprintf(e.error, sizeof e.error, "exited too quickly (exit 1)");
	lifecycle_resume(p, &e, false, 0);
	is_str(program_state_name(p->state), "BACKOFF", "resume BACKOFF: still BACKOFF");
	is_int(p->failed_starts, 2, "resume BACKOFF: retry count kept");
	ok(p->deadline == e.deadline, "resume BACKOFF: the rest of the back-off");
	is_str(p->error, "exited too quickly (exit 1)", "resume BACKOFF: cause kept");
	fake_now = p->deadline;
	lifecycle_timer(p);
	is_str(program_state_name(p->state), "STARTING", "resume BACKOFF: retried when due");
	fake_now += 0.1;
	lifecycle_exited(p, exit_status(1));
	is_int(p->failed_starts, 3, "resume BACKOFF: the count goes on");
	ok(p->deadline == fake_now + lifecycle_backoff(3), "resume BACKOFF: the next back-off grows");
	fake_now = p->deadline;
	lifecycle_timer(p);
	lifecycle_exited(p, exit_status(1));
	is_str(program_state_name(p->state), "FATAL",
	    "resume BACKOFF: FATAL after start_retries counted across the crash");

	/* A record without a deadline retries at once. */
	reset();
	p = make_program(make_cfg("resumed-backoff"));
	e.deadline = 0;
	lifecycle_resume(p, &e, false, 0);
	ok(p->state == STATE_BACKOFF && p->deadline == fake_now,
	    "resume BACKOFF, no deadline: retry due now");
}

int
main(void)
{
	log_set_level(LOG_LEVEL_ERROR);
	program_observe(observe, NULL);
	test_start_and_run();
	test_backoff_to_fatal();
	test_crash_after_running();
	test_autorestart_policies();
	test_stop_escalation();
	test_stop_main_only();
	test_stop_command();
	test_stop_command_fails();
	test_restart_and_kill_now();
	test_spawn_failures();
	test_backoff_stop_and_start();
	test_exiting();
	test_stop_cancels_pending_restart();
	test_fail_and_leftovers();
	test_resume_starting();
	test_resume_stopping();
	test_resume_backoff();
	program_unobserve(observe, NULL);
	for (int i = 0; i < n_allocated; i++)
		free(allocated[i]);
	return tap_done();
}
