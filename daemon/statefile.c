/*
 * Crash survival: the snapshot and the journal.
 *
 * The snapshot (SOCKET.state, JSON) holds every program's state: its main
 * process (pid, group, kernel start time, executable), its one deadline as
 * CLOCK_MONOTONIC time (valid across an exec and a crash on the same boot,
 * which the boot id says), retry and restart counts, the stop in progress,
 * the last exit and error, its STATUS= text and health failures in a row
 * (ready.c), and whether a staged shutdown runs.  It is
 * rewritten (temporary file, rename) at most every 100 ms while states
 * change: its cost grows with the number of programs, so it is never
 * written per launch.
 *
 * The journal (SOCKET.state.journal, opened once with O_APPEND and
 * O_CLOEXEC) closes the gap between two snapshots, for the two events that
 * must never be lost:
 *
 *   L NAME PID START HASH	a launch.  The child appends it itself, with
 *				one write(), just before its execve: the record
 *				exists before the program can run unobserved.
 *				(The launch waits for the exec, so no child
 *				writes while the daemon empties the journal.)
 *   T NAME STATE FAILED RESTARTS DEADLINE PID
 *				a change of state, as it happens: one
 *				write(), O(1), where the snapshot is O(N).
 *   D			a staged shutdown of everything began, before
 *				its first stop record.
 *   S NAME PID REASON DEADLINE RESTART
 *				a stop.  The daemon appends it before it sends
 *				the stop signal (or drops a back-off or a
 *				pending restart): a stop once begun is never
 *				forgotten.
 *
 * Each record is one line written by one write() to an O_APPEND file, so
 * records never interleave, and a SIGKILL of the daemon cannot leave half
 * of one.  Whenever a fresh snapshot has been renamed into place the
 * journal is emptied (it then holds only the line "B BOOT-ID").  Recovery
 * is the snapshot with the journal replayed on it, in order; every pid so
 * named is then checked against the kernel (adopt.c) before it is trusted,
 * and where programs have cgroups, a program's cgroup names the processes
 * no record does.  A crash at any instant thus leaves one of: no record and
 * no process (the launch had not happened), or a record of a process that
 * is found again; and a stop is either not begun (no signal was sent) or
 * recorded.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "log.h"
#include "orphan.h"
#include "procinfo.h"
#include "program.h"
#include "protocol.h"
#include "ready.h"
#include "statefile.h"
#include "xmalloc.h"

#define STATEFILE_VERSION	2
#define STATEFILE_MAX		(16 * 1024 * 1024)
#define JOURNAL_MAX		(64 * 1024 * 1024)

static char *state_path;
static char *journal_path;
static int journal_fd = -1;
static struct event *state_ev;
static bool shutdown_running;
static char boot_id[40];

static void statefile_changed(struct program *p, enum program_state old, void *arg);
static void statefile_write_cb(evutil_socket_t fd, short what, void *arg);
static unsigned long long statefile_program_start(struct program *p);
static int statefile_put(const char *text, size_t len);
static void statefile_program(struct protocol_text *t, struct program *p);
static void statefile_ready(struct protocol_text *t, const struct program *p);
static int statefile_open_trusted(const char *path, struct stat *st);
static void journal_open(void);
static void journal_reset(void);
static void journal_replay(const char *path, struct state_file *sf);
static struct state_entry *statefile_entry_for(struct state_file *sf,
    const char *name);
static const char *statefile_boot_id(void);

void
statefile_hash(const char *fingerprint, char out[17])
{
	/* FNV-1a: a change detector, not a defence; the file is ours alone. */
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const unsigned char *s = (const unsigned char *)fingerprint; *s; s++) {
		h ^= *s;
		h *= 0x100000001b3ULL;
	}
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

unsigned long long
statefile_start_time(pid_t pid, pid_t *ppid)
{
	struct procinfo pi;

	/* A zombie is gone for our purposes. */
	if (procinfo_read(pid, &pi) == -1 || pi.state == 'Z')
		return 0;
	if (ppid != NULL)
		*ppid = pi.ppid;
	return pi.start_time;
}

/* This boot's id (/proc/sys/kernel/random/boot_id), "" when unknown. */
static const char *
statefile_boot_id(void)
{
	ssize_t n;
	int fd;

	if (boot_id[0] != '\0')
		return boot_id;
	if ((fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC)) == -1)
		return boot_id;
	n = read(fd, boot_id, sizeof boot_id - 1);
	close(fd);
	boot_id[n > 0 ? n : 0] = '\0';
	boot_id[strcspn(boot_id, "\n ")] = '\0';
	return boot_id;
}

void
statefile_init(struct event_base *base, const char *path)
{
	if (path == NULL)
		return;
	state_path = xstrdup(path);
	journal_path = xasprintf("%s.journal", path);
	state_ev = event_new(base, -1, 0, statefile_write_cb, NULL);
	if (state_ev == NULL)
		fatalx("%s: event_new", __func__);
	statefile_boot_id();
	journal_open();
	program_observe(statefile_changed, NULL);
}

void
statefile_fini(void)
{
	program_unobserve(statefile_changed, NULL);
	if (state_ev != NULL)
		event_free(state_ev);
	state_ev = NULL;
	if (journal_fd != -1)
		close(journal_fd);
	journal_fd = -1;
	free(state_path);
	free(journal_path);
	state_path = journal_path = NULL;
}

/*
 * Open the journal for appending, keeping what it holds for recovery: a
 * regular file of ours with mode 0600, never through a link, never
 * blocking.  Anything else there is named in the log and replaced.
 */
static void
journal_open(void)
{
	struct stat st;
	int fd;

	fd = open(journal_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0600);
	if (fd != -1 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_uid == geteuid() && (st.st_mode & 077) == 0) {
		journal_fd = fd;
		if (st.st_size == 0)
			journal_reset();
		return;
	}
	log_warnx("state journal %s is not a regular file of ours with mode "
	    "0600; replaced", journal_path);
	if (fd != -1)
		close(fd);
	if (unlink(journal_path) == -1 && errno != ENOENT)
		log_warn("state journal %s", journal_path);
	fd = open(journal_path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL |
	    O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
	if (fd == -1) {
		log_warn("state journal %s: a crash may now start programs twice",
		    journal_path);
		return;
	}
	journal_fd = fd;
	journal_reset();
}

/* Empty the journal: a snapshot holds everything it said. */
static void
journal_reset(void)
{
	char line[64];
	int n;

	if (journal_fd == -1)
		return;
	if (ftruncate(journal_fd, 0) == -1) {
		log_warn("state journal %s", journal_path);
		return;
	}
	n = snprintf(line, sizeof line, "B %s\n", statefile_boot_id());
	if (write(journal_fd, line, (size_t)n) != n)
		log_warn("state journal %s", journal_path);
}

int
statefile_journal_fd(void)
{
	return journal_fd;
}

void
statefile_journal_stop(const struct program *p)
{
	char line[256];
	int n;

	if (journal_fd == -1)
		return;
	n = snprintf(line, sizeof line, "S %s %ld %d %.3f %d\n", p->cfg->name,
	    (long)(p->main_alive ? p->pid : 0), (int)p->stop_reason, p->deadline,
	    p->restart_after_stop ? 1 : 0);
	if (n <= 0 || (size_t)n >= sizeof line || write(journal_fd, line,
	    (size_t)n) != n)
		log_warn("%s: state journal %s", p->cfg->name, journal_path);
}

void
statefile_set_shutdown(bool running)
{
	shutdown_running = running;
	/* On record before the first stop of the run goes out. */
	if (running && journal_fd != -1 && write(journal_fd, "D\n", 2) != 2)
		log_warn("state journal %s", journal_path);
	statefile_changed(NULL, STATE_STOPPED, NULL);
}

/* A program changed state: rewrite the file once this loop turn is over. */
static void
statefile_changed(struct program *p, enum program_state old, void *arg)
{
	static const struct timeval coalesce = { 0, 100000 };
	char line[256];
	int n;

	/* The change on record at once, O(1); the snapshot follows. */
	if (p != NULL && journal_fd != -1) {
		n = snprintf(line, sizeof line, "T %s %s %d %d %.3f %ld\n",
		    p->cfg->name, program_state_name(p->state), p->failed_starts,
		    p->restarts, p->deadline, (long)(p->main_alive ? p->pid : 0));
		if (n > 0 && (size_t)n < sizeof line &&
		    write(journal_fd, line, (size_t)n) != n)
			log_warn("state journal %s", journal_path);
	}
	/* One write for every change of the next 100 ms, after the restarts they cause. */
	if (state_ev != NULL && !event_pending(state_ev, EV_TIMEOUT, NULL))
		event_add(state_ev, &coalesce);
}

void
statefile_touch(void)
{
	statefile_changed(NULL, STATE_STOPPED, NULL);
}

/* The deferred write. */
static void
statefile_write_cb(evutil_socket_t fd, short what, void *arg)
{
	statefile_write();
}

/* The start time of p's main process, read from /proc once per process. */
static unsigned long long
statefile_program_start(struct program *p)
{
	if (p->start_time_pid != p->pid || p->start_time == 0) {
		p->start_time = statefile_start_time(p->pid, NULL);
		p->start_time_pid = p->pid;
	}
	return p->start_time;
}

/* One program's object. */
static void
statefile_program(struct protocol_text *t, struct program *p)
{
	unsigned long long start = 0;
	char hash[17], exe[PATH_MAX];
	bool alive = p->main_alive && p->pid > 0 &&
	    (start = statefile_program_start(p)) != 0;

	statefile_hash(p->cfg->fingerprint, hash);
	/* How to stop it, should a crash and a new config leave it unconfigured. */
	protocol_text_printf(t, "{\"stop_signal\":%d,\"stop_timeout\":%.3f,"
	    "\"kill_signal\":%d,\"name\":", p->cfg->stop_signal,
	    p->cfg->stop_timeout, p->cfg->kill_signal);
	protocol_text_string(t, p->cfg->name);
	protocol_text_printf(t, ",\"settings\":\"%s\",\"state\":", hash);
	protocol_text_string(t, program_state_name(p->state));
	protocol_text_printf(t, ",\"pid\":%lld,\"pgid\":%lld,\"start_time\":%llu",
	    (long long)(alive ? p->pid : 0), (long long)(p->pgid > 1 ? p->pgid : 0),
	    start);
	/* Read at each write: a wrapper may have executed its program since. */
	if (alive && procinfo_exe(p->pid, exe, sizeof exe) == 0) {
		protocol_text_raw(t, ",\"exe\":", 7);
		protocol_text_string(t, exe);
	}
	protocol_text_printf(t, ",\"cgroup\":%s,\"started_at\":%.6f,"
	    "\"deadline\":%.6f,\"failed_starts\":%d,\"restarts\":%d,"
	    "\"stop_reason\":%d,\"kill_sent\":%s,\"restart_after_stop\":%s,"
	    "\"has_exit\":%s,\"exit_code\":%d,\"exit_signal\":%d,\"error\":",
	    cgroup_enabled() ? "true" : "false", p->started_at, p->deadline,
	    p->failed_starts, p->restarts, (int)p->stop_reason,
	    p->kill_sent ? "true" : "false",
	    p->restart_after_stop ? "true" : "false",
	    p->has_exit ? "true" : "false", p->exit_code, p->exit_signal);
	protocol_text_string(t, p->error);
	statefile_ready(t, p);
	protocol_text_raw(t, "}", 1);
}

/* What readiness knows of p (ready.c), when there is something. */
static void
statefile_ready(struct protocol_text *t, const struct program *p)
{
	const char *text = ready_status_text(p), *why;
	int failures = ready_failures(p, &why);

	if (text != NULL) {
		protocol_text_printf(t, ",\"status_text\":");
		protocol_text_string(t, text);
	}
	if (failures > 0) {
		protocol_text_printf(t, ",\"health_failures\":%d,"
		    "\"health_why\":", failures);
		protocol_text_string(t, why);
	}
}

int
statefile_write(void)
{
	struct protocol_text t = { 0 };
	int r;

	if (state_path == NULL)
		return 0;
	protocol_text_printf(&t, "{\"version\":%d,\"daemon\":%lld,\"boot\":",
	    STATEFILE_VERSION, (long long)getpid());
	protocol_text_string(&t, statefile_boot_id());
	protocol_text_printf(&t, ",\"shutdown\":%s,\"programs\":[",
	    shutdown_running ? "true" : "false");
	for (size_t i = 0; i < programs.n; i++) {
		if (i > 0)
			protocol_text_raw(&t, ",", 1);
		statefile_program(&t, programs.v[i]);
	}
	/* Processes of programs no longer configured, until they are gone. */
	orphan_snapshot(&t, programs.n == 0);
	protocol_text_raw(&t, "]}\n", 3);
	if (t.failed) {
		log_warnx("state file %s: out of memory", state_path);
		r = -1;
	} else
		r = statefile_put(t.s, t.n);
	protocol_text_free(&t);
	/* The snapshot says all the journal said: start it afresh. */
	if (r == 0)
		journal_reset();
	return r;
}

/* Replace the file with text, through a fresh temporary file and rename. */
static int
statefile_put(const char *text, size_t len)
{
	char *tmp;
	int fd, r = -1;

	tmp = xasprintf("%s.tmp", state_path);
	/* O_EXCL after unlink: never write through a link planted in the folder. */
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK, 0600);
	if (fd == -1)
		log_warn("state file %s", tmp);
	else if (write(fd, text, len) != (ssize_t)len) {
		log_warn("state file %s", tmp);
		close(fd);
		unlink(tmp);
	} else {
		close(fd);
		if (rename(tmp, state_path) == -1) {
			log_warn("state file %s", state_path);
			unlink(tmp);
		} else
			r = 0;
	}
	free(tmp);
	return r;
}

void
statefile_remove(void)
{
	if (state_path != NULL && unlink(state_path) == -1 && errno != ENOENT)
		log_warn("remove %s", state_path);
	if (journal_path != NULL && unlink(journal_path) == -1 && errno != ENOENT)
		log_warn("remove %s", journal_path);
}

/* Open path for reading without blocking or following a link: a regular
 * file of ours with mode 0600, or -1 after logging what is there instead. */
static int
statefile_open_trusted(const char *path, struct stat *st)
{
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd == -1) {
		/* ELOOP: a link (O_NOFOLLOW), named as such by log_warn. */
		if (errno != ENOENT)
			log_warn("state file %s: not used", path);
		return -1;
	}
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode)) {
		log_warnx("state file %s is not a regular file; ignored", path);
		close(fd);
		return -1;
	}
	if (st->st_uid != geteuid() || (st->st_mode & 077) != 0 ||
	    st->st_size > STATEFILE_MAX) {
		log_warnx("state file %s: not owned by us with mode 0600; ignored", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* A pid from the file as the pid_t it will be used as, or 0 when unusable. */
static pid_t
statefile_get_pid(struct json_object *o, const char *key)
{
	struct json_object *v;
	long long n;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return 0;
	errno = 0;
	n = (long long)json_object_get_int64(v);
	if (errno != 0 || !procinfo_valid_pid(n))
		return 0;
	return (pid_t)n;
}

/* The state a name in the file stands for, or -1. */
static int
statefile_state(const char *name)
{
	for (int s = 0; s < PROGRAM_STATE_COUNT; s++)
		if (strcmp(name, program_state_name((enum program_state)s)) == 0)
			return s;
	return -1;
}

/* An integer field, or def when absent or not an integer. */
static int64_t
statefile_int(struct json_object *o, const char *key, int64_t def)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return def;
	return json_object_get_int64(v);
}

/* A number field (integer or not), or 0. */
static double
statefile_double(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    (!json_object_is_type(v, json_type_double) &&
	    !json_object_is_type(v, json_type_int)))
		return 0;
	return json_object_get_double(v);
}

/* A boolean field, false when absent. */
static bool
statefile_bool(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) &&
	    json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

/* The recorded stop settings, all three or none (stop_signal 0). */
static void
statefile_stop_settings(struct json_object *o, struct state_entry *e)
{
	int64_t sig = statefile_int(o, "stop_signal", 0);
	int64_t kill_sig = statefile_int(o, "kill_signal", 0);
	double timeout = statefile_double(o, "stop_timeout");

	if (sig < 1 || sig >= NSIG || kill_sig < 1 || kill_sig >= NSIG ||
	    !(timeout >= 0 && timeout <= 86400))
		return;
	e->stop_signal = (int)sig;
	e->stop_timeout = timeout;
	e->kill_signal = (int)kill_sig;
}

/* Fill e from entry o: NULL, or why it cannot be used. */
static const char *
statefile_entry(struct json_object *o, struct state_entry *e)
{
	struct json_object *name, *start, *hash, *exe, *v;
	int64_t st, n;
	int state;

	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "name", &name) ||
	    !json_object_is_type(name, json_type_string))
		return "no name";
	e->name = xstrdup(json_object_get_string(name));
	if (strlen(e->name) != (size_t)json_object_get_string_len(name))
		return "a name with a NUL byte";
	if (!json_object_object_get_ex(o, "settings", &hash) ||
	    !json_object_is_type(hash, json_type_string) ||
	    json_object_get_string_len(hash) != 16)
		return "no settings hash";
	memcpy(e->hash, json_object_get_string(hash), 17);
	if (json_object_object_get_ex(o, "state", &v)) {
		if (!json_object_is_type(v, json_type_string) ||
		    (state = statefile_state(json_object_get_string(v))) == -1)
			return "an unknown state";
		e->has_state = true;
		e->state = (enum program_state)state;
	} else
		e->state = STATE_RUNNING;	/* version 1: running programs only */
	/* No process recorded (version 2, a program that has none). */
	if (e->has_state && statefile_int(o, "pid", -1) == 0)
		goto process_done;
	if ((e->pid = statefile_get_pid(o, "pid")) == 0)
		return "a pid out of range";
	if ((e->pgid = statefile_get_pid(o, "pgid")) == 0)
		return "a process group out of range";
	if (!json_object_object_get_ex(o, "start_time", &start) ||
	    !json_object_is_type(start, json_type_int) ||
	    (st = json_object_get_int64(start)) <= 0)
		return "no start time";
	e->start_time = (unsigned long long)st;
	if (json_object_object_get_ex(o, "exe", &exe)) {
		if (!json_object_is_type(exe, json_type_string))
			return "an executable that is not a string";
		e->exe = xstrdup(json_object_get_string(exe));
	}
process_done:
	if (e->has_state && e->pid == 0 &&
	    (n = statefile_int(o, "pgid", 0)) != 0) {
		/* A stop waiting for what the main process left in its group. */
		if (!procinfo_valid_pid(n))
			return "a process group out of range";
		e->pgid = (pid_t)n;
	}
	e->cgroup = statefile_bool(o, "cgroup");
	e->started_at = statefile_double(o, "started_at");
	e->deadline = statefile_double(o, "deadline");
	if (e->started_at < 0 || e->deadline < 0)
		return "a time out of range";
	n = statefile_int(o, "failed_starts", 0);
	e->failed_starts = n >= 0 && n < INT_MAX ? (int)n : 0;
	n = statefile_int(o, "restarts", 0);
	e->restarts = n >= 0 && n < INT_MAX ? (int)n : 0;
	n = statefile_int(o, "stop_reason", STOP_NONE);
	e->stop_reason = n >= STOP_NONE && n <= STOP_RELOAD ?
	    (enum stop_reason)n : STOP_REQUEST;
	e->kill_sent = statefile_bool(o, "kill_sent");
	e->restart_after_stop = statefile_bool(o, "restart_after_stop");
	e->has_exit = statefile_bool(o, "has_exit");
	n = statefile_int(o, "exit_code", -1);
	e->exit_code = n >= -1 && n <= 255 ? (int)n : -1;
	n = statefile_int(o, "exit_signal", 0);
	e->exit_signal = n >= 0 && n < 128 ? (int)n : 0;
	statefile_stop_settings(o, e);
	if (json_object_object_get_ex(o, "error", &v) &&
	    json_object_is_type(v, json_type_string))
		snprintf(e->error, sizeof e->error, "%s", json_object_get_string(v));
	/* Readiness (absent from older files: none). */
	if (json_object_object_get_ex(o, "status_text", &v) &&
	    json_object_is_type(v, json_type_string))
		snprintf(e->status_text, sizeof e->status_text, "%s",
		    json_object_get_string(v));
	n = statefile_int(o, "health_failures", 0);
	e->health_failures = n > 0 && n < INT_MAX ? (int)n : 0;
	if (json_object_object_get_ex(o, "health_why", &v) &&
	    json_object_is_type(v, json_type_string))
		snprintf(e->health_why, sizeof e->health_why, "%s",
		    json_object_get_string(v));
	return NULL;
}

/* The entry for name, added (stateless) when there is none. */
static struct state_entry *
statefile_entry_for(struct state_file *sf, const char *name)
{
	struct state_entry *e;

	for (size_t i = 0; i < sf->n; i++)
		if (strcmp(sf->v[i].name, name) == 0)
			return &sf->v[i];
	sf->v = xreallocarray(sf->v, sf->n + 1, sizeof *sf->v);
	e = &sf->v[sf->n++];
	memset(e, 0, sizeof *e);
	e->name = xstrdup(name);
	return e;
}

/*
 * Replay the journal on sf, line by line in order.  A line that does not
 * parse (only a line cut by a full disk could) is skipped.  Records of
 * another boot name processes that no longer exist: the whole journal is
 * then ignored.
 */
static void
journal_replay(const char *path, struct state_file *sf)
{
	char name[128], hash[32], *buf, *line, *save = NULL;
	struct stat st;
	ssize_t n;
	int fd;

	if ((fd = statefile_open_trusted(path, &st)) == -1)
		return;
	if (st.st_size > JOURNAL_MAX) {
		log_warnx("state journal %s is too large; ignored", path);
		close(fd);
		return;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		struct state_entry *e;
		long long pid, start;
		int reason, restart, failed, restarts, k;
		double deadline;
		char state[16];

		if (line[0] == 'B') {
			if (strcmp(line + 1 + (line[1] == ' '), statefile_boot_id()) != 0) {
				log_info("state journal %s is from another boot; ignored",
				    path);
				break;
			}
			sf->same_boot = true;
			continue;
		}
		if (!sf->same_boot)
			break;
		if (strcmp(line, "D") == 0) {
			sf->shutdown = true;
			continue;
		}
		if (sscanf(line, "L %127s %lld %lld %31s", name, &pid, &start,
		    hash) == 4 && procinfo_valid_pid(pid) && start > 0 &&
		    strlen(hash) == 16) {
			e = statefile_entry_for(sf, name);
			e->has_state = true;
			e->state = STATE_STARTING;
			e->pid = e->pgid = (pid_t)pid;
			e->start_time = (unsigned long long)start;
			memcpy(e->hash, hash, 17);
			free(e->exe);
			e->exe = NULL;
			e->started_at = e->deadline = 0;
			e->stop_reason = STOP_NONE;
			e->kill_sent = e->restart_after_stop = false;
			e->error[0] = '\0';
		} else if (sscanf(line, "T %127s %15s %d %d %lf %lld", name, state,
		    &failed, &restarts, &deadline, &pid) == 6 &&
		    (k = statefile_state(state)) != -1 && failed >= 0 &&
		    restarts >= 0 && deadline >= 0) {
			e = statefile_entry_for(sf, name);
			e->has_state = true;
			e->state = (enum program_state)k;
			e->failed_starts = failed;
			e->restarts = restarts;
			e->deadline = deadline;
			if (pid == 0) {
				e->pid = 0;
				e->start_time = 0;
			}
		} else if (sscanf(line, "S %127s %lld %d %lf %d", name, &pid,
		    &reason, &deadline, &restart) == 5 && deadline >= 0) {
			e = statefile_entry_for(sf, name);
			if (!e->has_state && e->hash[0] == '\0')
				continue;	/* nothing known to stop */
			e->has_state = true;
			e->state = STATE_STOPPING;
			e->stop_reason = reason >= STOP_REQUEST && reason <= STOP_RELOAD ?
			    (enum stop_reason)reason : STOP_REQUEST;
			e->deadline = deadline;
			e->kill_sent = false;
			e->restart_after_stop = restart != 0;
			if (pid == 0 || pid != e->pid) {
				/* Stopped in BACKOFF, or after its exit: nothing runs. */
				e->pid = 0;
				e->start_time = 0;
			}
		}
	}
	free(buf);
}

int
statefile_read(const char *path, struct state_file *out)
{
	struct json_object *root = NULL, *list, *v;
	struct stat st;
	char *buf = NULL, *jpath;
	size_t k = 0;
	ssize_t n;
	int fd, version;

	memset(out, 0, sizeof *out);
	jpath = xasprintf("%s.journal", path);
	if ((fd = statefile_open_trusted(path, &st)) == -1)
		goto journal;
	buf = xmalloc((size_t)st.st_size + 1);
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size)
		goto damaged;
	buf[n] = '\0';
	if ((root = json_tokener_parse(buf)) == NULL ||
	    !json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "version", &v) ||
	    ((version = json_object_get_int(v)) != 1 &&
	    version != STATEFILE_VERSION) ||
	    !json_object_object_get_ex(root, "programs", &list) ||
	    !json_object_is_type(list, json_type_array))
		goto damaged;
	/* States and deadlines hold on this boot only; pids are checked anyway. */
	out->same_boot = json_object_object_get_ex(root, "boot", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    statefile_boot_id()[0] != '\0' &&
	    strcmp(json_object_get_string(v), statefile_boot_id()) == 0;
	out->shutdown = out->same_boot && statefile_bool(root, "shutdown");
	n = (ssize_t)json_object_array_length(list);
	out->v = xcalloc((size_t)n + 1, sizeof *out->v);
	for (ssize_t i = 0; i < n; i++) {
		struct state_entry *e = &out->v[k];
		const char *why;

		/* One bad entry costs that entry, not the others: they may run. */
		if ((why = statefile_entry(json_object_array_get_idx(list, (size_t)i),
		    e)) != NULL) {
			log_warnx("state file %s: entry %zd (%s) has %s; ignored", path,
			    i + 1, e->name != NULL ? e->name : "?", why);
			free(e->name);
			free(e->exe);
			memset(e, 0, sizeof *e);
			continue;
		}
		if (!out->same_boot && e->has_state) {
			/* Another boot: nothing of it runs; only a pid may match. */
			e->has_state = false;
			e->state = STATE_RUNNING;
		}
		k++;
	}
	out->n = k;
	json_object_put(root);
	free(buf);
	buf = NULL;
	root = NULL;
journal:
	journal_replay(jpath, out);
	free(jpath);
	return out->n > 0 ? 0 : -1;
damaged:
	log_warnx("state file %s is damaged; ignored", path);
	json_object_put(root);
	free(buf);
	statefile_free(out);
	buf = NULL;
	root = NULL;
	goto journal;
}

void
statefile_free(struct state_file *sf)
{
	for (size_t i = 0; i < sf->n; i++) {
		free(sf->v[i].name);
		free(sf->v[i].exe);
	}
	free(sf->v);
	memset(sf, 0, sizeof *sf);
}
