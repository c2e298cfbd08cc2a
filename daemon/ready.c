/*
 * Readiness and health of each program (see ready.h).  Per program, one
 * struct ready made when its config asks for a check: one timer (the next
 * probe, or the watchdog's deadline), at most one probe in flight, the
 * program's notify socket, the descriptor of ready = fd:N.  Everything is
 * started and stopped from the program's state changes, so a program that
 * leaves STARTING or RUNNING leaves no probe, timer or hook behind.  The
 * deadline of a start (ready_timeout) is the lifecycle's own deadline.
 *
 * Across a re-exec the notify sockets and fd:N pipes are handed over
 * (READY_ENV names them), so nothing a program sends meanwhile is lost;
 * after a crash the notify names are the same (sdnotify.c), and an fd:N
 * pipe is opened again through /proc/PID/fd/N.  A STATUS= text and the
 * health failures in a row travel in the state file (ready_resume).
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "lifecycle.h"
#include "log.h"
#include "output.h"
#include "probe.h"
#include "program.h"
#include "ready.h"
#include "sdnotify.h"
#include "spawn.h"
#include "statefile.h"
#include "xmalloc.h"

struct ready {
	struct program *p;
	struct sdnotify *notify;
	char *env[3];			/* NOTIFY_SOCKET=, WATCHDOG_USEC=, NULL */
	char watchdog_env[48];
	struct event *timer;		/* next probe, or the watchdog deadline */
	struct probe *probe;		/* in flight, or NULL */
	int fd_read, fd_write;		/* ready = fd:N */
	struct event *fd_ev;
	bool health_on;			/* health checks run (RUNNING) */
	int failures;			/* health failures in a row */
	char health_why[192];
	char status_text[256];		/* STATUS= */
	double watchdog;		/* watchdog interval now (WATCHDOG_USEC=) */
	bool refused_said;		/* a stranger's message was logged */
};

#define READY_ENV	"SAFEEXITD_READY_FDS"	/* NAME=NOTIFY,FD;... */
#define READY_GRID_US	50000	/* health probes gather on this grid */

static struct event_base *ready_base;
static void (*settled_fn)(void);

/* What a re-exec handed over, by program name, until taken. */
struct ready_handover {
	char *name;
	int notify_fd, fd_read;
};
static struct ready_handover *handovers;
static size_t n_handovers;

static void ready_import(void);
static int ready_take(const char *name, bool notify);
static void ready_reattach_fd(struct ready *r);

static struct ready *ready_get(struct program *p);
static bool ready_wanted(const struct program *p);
static void ready_changed(struct program *p, enum program_state old, void *arg);
static void ready_begin_start(struct ready *r);
static void ready_begin_health(struct ready *r);
static void ready_halt(struct ready *r);
static void ready_arm(struct ready *r, double secs);
static void ready_arm_health(struct ready *r, double interval);
static void ready_probe(struct ready *r, const struct check *c);
static void ready_timer_cb(evutil_socket_t fd, short what, void *arg);
static void ready_probe_done(void *arg, bool ok, const char *why);
static void ready_health_failed(struct ready *r, const char *why);
static void ready_fd_cb(evutil_socket_t fd, short what, void *arg);
static void ready_fd_close(struct ready *r);
static void ready_log_line(void *arg, const char *line, size_t len);
static void ready_notified(void *arg, const struct sdnotify_msg *m,
    pid_t sender);
static bool ready_sender_ok(const struct program *p, pid_t pid);
static int ready_open_notify(struct ready *r);
static void ready_settled_check(struct program *p, enum program_state old,
    void *arg);

/* Watch every program's state changes; take what a re-exec handed over. */
void
ready_init(struct event_base *base, const char *instance)
{
	ready_base = base;
	sdnotify_init(instance);
	probe_init(base);
	ready_import();
	program_observe(ready_changed, NULL);
}

/* Read READY_ENV (a re-exec's hand-over) into the table; programs must not
 * inherit it. */
static void
ready_import(void)
{
	char *env = getenv(READY_ENV), *copy, *item, *save = NULL;

	if (env == NULL)
		return;
	copy = xstrdup(env);
	unsetenv(READY_ENV);
	for (item = strtok_r(copy, ";", &save); item != NULL;
	    item = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(item, '=');
		struct ready_handover *h;
		int a, b;

		if (eq == NULL || sscanf(eq + 1, "%d,%d", &a, &b) != 2)
			continue;
		*eq = '\0';
		handovers = xreallocarray(handovers, n_handovers + 1,
		    sizeof *handovers);
		h = &handovers[n_handovers++];
		h->name = xstrdup(item);
		h->notify_fd = a;
		h->fd_read = b;
		if (a >= 0)
			fcntl(a, F_SETFD, FD_CLOEXEC);
		if (b >= 0)
			fcntl(b, F_SETFD, FD_CLOEXEC);
	}
	free(copy);
}

/* Take the handed-over notify socket (or fd:N pipe) of name, or -1. */
static int
ready_take(const char *name, bool notify)
{
	int fd;

	for (size_t i = 0; i < n_handovers; i++) {
		if (strcmp(handovers[i].name, name) != 0)
			continue;
		if (notify) {
			fd = handovers[i].notify_fd;
			handovers[i].notify_fd = -1;
		} else {
			fd = handovers[i].fd_read;
			handovers[i].fd_read = -1;
		}
		return fd;
	}
	return -1;
}

void
ready_handover_done(void)
{
	for (size_t i = 0; i < n_handovers; i++) {
		if (handovers[i].notify_fd >= 0)
			close(handovers[i].notify_fd);
		if (handovers[i].fd_read >= 0)
			close(handovers[i].fd_read);
		free(handovers[i].name);
	}
	free(handovers);
	handovers = NULL;
	n_handovers = 0;
}

/* Set or clear close-on-exec on fd. */
static void
ready_set_cloexec(int fd, bool on)
{
	int flags;

	if (fd < 0 || (flags = fcntl(fd, F_GETFD)) == -1)
		return;
	fcntl(fd, F_SETFD, on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC);
}

void
ready_export(void)
{
	char *env = NULL;
	size_t len = 0;
	const char *sep = "";
	FILE *f;

	if ((f = open_memstream(&env, &len)) == NULL)
		fatal("%s", __func__);
	for (size_t i = 0; i < programs.n; i++) {
		struct ready *r = programs.v[i]->ready;
		int nfd = r != NULL && r->notify != NULL ?
		    sdnotify_fd(r->notify) : -1;

		if (r == NULL || (nfd == -1 && r->fd_read == -1))
			continue;
		fprintf(f, "%s%s=%d,%d", sep, programs.v[i]->cfg->name, nfd,
		    r->fd_read);
		sep = ";";
		ready_set_cloexec(nfd, false);
		ready_set_cloexec(r->fd_read, false);
	}
	fclose(f);
	setenv(READY_ENV, env, 1);
	free(env);
}

void
ready_export_undo(void)
{
	unsetenv(READY_ENV);
	for (size_t i = 0; i < programs.n; i++) {
		struct ready *r = programs.v[i]->ready;

		if (r == NULL)
			continue;
		if (r->notify != NULL)
			ready_set_cloexec(sdnotify_fd(r->notify), true);
		ready_set_cloexec(r->fd_read, true);
	}
}

void
ready_resume(struct program *p, const char *status_text, int failures,
    const char *why)
{
	struct ready *r;

	if (!ready_wanted(p))
		return;
	r = ready_get(p);
	snprintf(r->status_text, sizeof r->status_text, "%s", status_text);
	if (r->health_on && failures > 0 &&
	    failures < p->cfg->health_retries) {
		r->failures = failures;
		snprintf(r->health_why, sizeof r->health_why, "%s", why);
	}
}

int
ready_failures(const struct program *p, const char **why)
{
	const struct ready *r = p->ready;

	*why = r != NULL ? r->health_why : "";
	return r != NULL && r->health_on ? r->failures : 0;
}

/*
 * An adopted program's fd:N pipe: the one handed over, or after a crash the
 * pipe itself, opened again through /proc/PID/fd/N (the program holds its
 * write end; an fd that is no longer a pipe is not read).
 */
static void
ready_reattach_fd(struct ready *r)
{
	struct program *p = r->p;
	char path[64];
	struct stat st;
	int fd;

	if (r->fd_read != -1 || p->cfg->ready.kind != CHECK_FD || !p->adopted)
		return;
	if ((fd = ready_take(p->cfg->name, false)) == -1 && p->pid > 0) {
		snprintf(path, sizeof path, "/proc/%ld/fd/%d", (long)p->pid,
		    p->cfg->ready.fd);
		fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd != -1 && (fstat(fd, &st) == -1 || !S_ISFIFO(st.st_mode))) {
			close(fd);
			fd = -1;
		}
	}
	if (fd == -1)
		return;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	r->fd_read = fd;
}

/* Stop watching; programs are released one by one (ready_forget). */
void
ready_fini(void)
{
	program_unobserve(ready_changed, NULL);
	if (settled_fn != NULL)
		program_unobserve(ready_settled_check, NULL);
	settled_fn = NULL;
	probe_fini();
}

/* Whether p's config asks for anything of this module. */
static bool
ready_wanted(const struct program *p)
{
	return check_waits(&p->cfg->ready) ||
	    p->cfg->health.kind != CHECK_NONE;
}

/* p's state, made on first use. */
static struct ready *
ready_get(struct program *p)
{
	struct ready *r = p->ready;

	if (r != NULL)
		return r;
	r = xcalloc(1, sizeof *r);
	r->p = p;
	r->fd_read = r->fd_write = -1;
	if ((r->timer = evtimer_new(ready_base, ready_timer_cb, r)) == NULL)
		fatal("%s", __func__);
	p->ready = r;
	return r;
}

/* Bind p's notify socket once; it serves every run of the program. */
static int
ready_open_notify(struct ready *r)
{
	char err[256];

	if (r->notify != NULL)
		return 0;
	r->notify = sdnotify_open(ready_base, r->p->cfg->name,
	    ready_take(r->p->cfg->name, true), ready_notified, r, err, sizeof err);
	if (r->notify == NULL) {
		snprintf(r->p->error, sizeof r->p->error, "%s", err);
		return -1;
	}
	return 0;
}

int
ready_prepare_spawn(struct program *p, struct spawn_request *req)
{
	const struct program_config *pc = p->cfg;
	struct ready *r;
	size_t n = 0;
	int fds[2];

	if (!ready_wanted(p))
		return 0;
	r = ready_get(p);
	r->status_text[0] = '\0';
	r->watchdog = pc->health.kind == CHECK_WATCHDOG ? pc->health.watchdog : 0;
	if (check_wants_notify(&pc->ready) || check_wants_notify(&pc->health)) {
		if (ready_open_notify(r) == -1)
			return -1;
		r->env[n++] = (char *)sdnotify_env(r->notify);
		if (r->watchdog > 0) {
			snprintf(r->watchdog_env, sizeof r->watchdog_env,
			    "WATCHDOG_USEC=%llu",
			    (unsigned long long)(r->watchdog * 1e6 + 0.5));
			r->env[n++] = r->watchdog_env;
		}
	}
	r->env[n] = NULL;
	req->daemon_environment = r->env;
	if (pc->ready.kind == CHECK_FD) {
		ready_fd_close(r);
		if (pipe2(fds, O_CLOEXEC) == -1) {
			snprintf(p->error, sizeof p->error, "ready = %s: pipe: %s",
			    pc->ready.spec, strerror(errno));
			return -1;
		}
		fcntl(fds[0], F_SETFL, O_NONBLOCK);
		r->fd_read = fds[0];
		r->fd_write = fds[1];
		req->extra_fd = fds[1];
		req->extra_fd_num = pc->ready.fd;
	}
	return 0;
}

void
ready_forget(struct program *p)
{
	struct ready *r = p->ready;

	if (r == NULL)
		return;
	ready_halt(r);
	ready_fd_close(r);
	sdnotify_close(r->notify);
	event_free(r->timer);
	free(r);
	p->ready = NULL;
}

void
ready_drain(struct program *p)
{
	if (p->ready != NULL && p->ready->notify != NULL)
		sdnotify_drain(p->ready->notify);
}

/* Start or stop the checks as p enters a state. */
static void
ready_changed(struct program *p, enum program_state old, void *arg)
{
	struct ready *r;

	if (!ready_wanted(p))
		return;
	r = ready_get(p);
	ready_halt(r);
	if (p->state == STATE_STARTING)
		ready_begin_start(r);
	else if (p->state == STATE_RUNNING)
		ready_begin_health(r);
	else
		ready_fd_close(r);
}

/* Stop what runs: the probe, the timer, the output hook, health. */
static void
ready_halt(struct ready *r)
{
	probe_cancel(r->probe);
	r->probe = NULL;
	evtimer_del(r->timer);
	if (r->fd_ev != NULL)
		event_free(r->fd_ev);
	r->fd_ev = NULL;
	if (r->p->cfg->ready.kind == CHECK_LOG)
		output_watch_lines(r->p->output, NULL, NULL);
	r->health_on = false;
	r->failures = 0;
	r->health_why[0] = '\0';
}

/* Close the descriptor pipe of ready = fd:N. */
static void
ready_fd_close(struct ready *r)
{
	if (r->fd_ev != NULL)
		event_free(r->fd_ev);
	r->fd_ev = NULL;
	if (r->fd_read != -1)
		close(r->fd_read);
	if (r->fd_write != -1)
		close(r->fd_write);
	r->fd_read = r->fd_write = -1;
}

/*
 * Arm the timer for the next health probe, at least interval from now, on a
 * grid of READY_GRID_US microseconds of the loop's clock: the probes of many
 * programs then share one wake-up of the daemon (a wake-up costs as much as
 * a probe) instead of each having its own.
 */
static void
ready_arm_health(struct ready *r, double interval)
{
	struct timeval now;
	long long t, due;

	if (interval < 10 * READY_GRID_US / 1e6 ||
	    event_base_gettimeofday_cached(ready_base, &now) == -1) {
		ready_arm(r, interval);
		return;
	}
	t = (long long)now.tv_sec * 1000000 + now.tv_usec;
	due = t + (long long)(interval * 1e6);
	due += (READY_GRID_US - due % READY_GRID_US) % READY_GRID_US;
	ready_arm(r, (double)(due - t) / 1e6);
}

/* Arm the one timer secs from now. */
static void
ready_arm(struct ready *r, double secs)
{
	struct timeval tv;

	if (secs < 0)
		secs = 0;
	tv.tv_sec = (time_t)secs;
	tv.tv_usec = (suseconds_t)((secs - (double)tv.tv_sec) * 1e6);
	evtimer_add(r->timer, &tv);
}

/* The program is STARTING: watch for what its readiness check waits for. */
static void
ready_begin_start(struct ready *r)
{
	const struct check *c = &r->p->cfg->ready;

	if (check_wants_notify(c) || check_wants_notify(&r->p->cfg->health))
		(void)ready_open_notify(r);	/* adopted: none was made */
	ready_reattach_fd(r);
	switch (c->kind) {
	case CHECK_FD:
		/* Only the child may hold the write end: its EOF must be its own. */
		if (r->fd_write != -1)
			close(r->fd_write);
		r->fd_write = -1;
		if (r->fd_read == -1)
			break;
		if ((r->fd_ev = event_new(ready_base, r->fd_read,
		    EV_READ | EV_PERSIST, ready_fd_cb, r)) == NULL ||
		    event_add(r->fd_ev, NULL) == -1)
			fatal("%s", __func__);
		break;
	case CHECK_LOG:
		output_watch_lines(r->p->output, ready_log_line, r);
		break;
	case CHECK_TCP:
	case CHECK_HTTP:
	case CHECK_EXEC:
		ready_arm(r, r->p->cfg->ready_interval);
		break;
	default:
		break;		/* notify: the socket listens already */
	}
}

/* The program is RUNNING (ready): start its health check, if any. */
static void
ready_begin_health(struct ready *r)
{
	const struct check *c = &r->p->cfg->health;

	ready_reattach_fd(r);
	if (r->fd_read != -1 && r->fd_ev == NULL) {
		/* Keep reading fd:N, so the program never writes into a full pipe. */
		if ((r->fd_ev = event_new(ready_base, r->fd_read,
		    EV_READ | EV_PERSIST, ready_fd_cb, r)) == NULL ||
		    event_add(r->fd_ev, NULL) == -1)
			fatal("%s", __func__);
	}
	if (check_wants_notify(c) || check_wants_notify(&r->p->cfg->ready))
		(void)ready_open_notify(r);	/* adopted after a re-exec */
	if (c->kind == CHECK_NONE)
		return;
	r->health_on = true;
	if (c->kind == CHECK_WATCHDOG) {
		if (r->watchdog <= 0)
			r->watchdog = c->watchdog;
		ready_arm(r, r->watchdog);
	} else
		ready_arm_health(r, r->p->cfg->health_interval);
}

/* Probe c: the answer at once when the probe can give it, else later. */
static void
ready_probe(struct ready *r, const struct check *c)
{
	char why[192];
	bool ok;

	if (probe_now(c, &ok, why, sizeof why)) {
		ready_probe_done(r, ok, why);
		return;
	}
	r->probe = probe_start(c, r->p, r->p->cfg->health_timeout,
	    ready_probe_done, r);
}

/* The timer: a probe is due, or the watchdog went unfed. */
static void
ready_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ready *r = arg;
	struct program *p = r->p;
	char why[192];

	if (p->state == STATE_STARTING && check_is_probe(&p->cfg->ready)) {
		ready_probe(r, &p->cfg->ready);
		return;
	}
	if (p->state != STATE_RUNNING || !r->health_on)
		return;
	if (p->cfg->health.kind == CHECK_WATCHDOG) {
		snprintf(why, sizeof why, "watchdog: no WATCHDOG=1 for %g s",
		    r->watchdog);
		ready_health_failed(r, why);
		return;
	}
	ready_probe(r, &p->cfg->health);
}

/* A probe's answer, for readiness or for health by the program's state. */
static void
ready_probe_done(void *arg, bool ok, const char *why)
{
	struct ready *r = arg;
	struct program *p = r->p;

	r->probe = NULL;
	if (p->state == STATE_STARTING) {
		if (ok) {
			lifecycle_ready(p);
			return;
		}
		snprintf(p->ready_cause, sizeof p->ready_cause, "%s", why);
		ready_arm(r, p->cfg->ready_interval);
		return;
	}
	if (p->state != STATE_RUNNING || !r->health_on)
		return;
	if (ok) {
		if (r->failures > 0) {
			log_notice("%s: healthy again (%s)", p->cfg->name, why);
			statefile_touch();
		}
		r->failures = 0;
		r->health_why[0] = '\0';
		ready_arm_health(r, p->cfg->health_interval);
		return;
	}
	ready_health_failed(r, why);
}

/* One more health failure in a row: restart after health_retries of them. */
static void
ready_health_failed(struct ready *r, const char *why)
{
	struct program *p = r->p;

	r->failures++;
	snprintf(r->health_why, sizeof r->health_why, "%s", why);
	statefile_touch();	/* the count survives a crash */
	log_warnx("%s: health check failed (%d of %d): %s", p->cfg->name,
	    r->failures, p->cfg->health_retries, why);
	if (r->failures >= p->cfg->health_retries) {
		lifecycle_unhealthy(p, why);
		return;
	}
	if (p->cfg->health.kind == CHECK_WATCHDOG)
		ready_arm(r, r->watchdog);
	else
		ready_arm_health(r, p->cfg->health_interval);
}

/* ready = fd:N: a newline means ready; later writes are read and dropped. */
static void
ready_fd_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ready *r = arg;
	char buf[512];
	ssize_t n;

	while ((n = read(fd, buf, sizeof buf)) > 0) {
		if (r->p->state == STATE_STARTING && memchr(buf, '\n', (size_t)n)) {
			lifecycle_ready(r->p);
			return;
		}
	}
	if (n == 0 && r->fd_ev != NULL) {
		/* Every writer closed it: nothing more can come. */
		event_free(r->fd_ev);
		r->fd_ev = NULL;
	}
}

/* ready = log:REGEX: an output line while STARTING. */
static void
ready_log_line(void *arg, const char *line, size_t len)
{
	struct ready *r = arg;
	char buf[2048];

	if (r->p->state != STATE_STARTING)
		return;
	if (len >= sizeof buf)
		len = sizeof buf - 1;
	memcpy(buf, line, len);
	buf[len] = '\0';
	if (check_log_matches(&r->p->cfg->ready, buf))
		lifecycle_ready(r->p);
}

/*
 * Whether pid may speak for p: its main process, or a process of its
 * process group, its session, or its cgroup (which a double fork with
 * setsid cannot leave).
 */
static bool
ready_sender_ok(const struct program *p, pid_t pid)
{
	char path[64], line[512], tail[320];
	const char *cg, *base;
	size_t nl, lt;
	FILE *f;
	bool ok = false;

	if (pid <= 0)
		return false;
	if (pid == p->pid || (p->pgid > 0 && (getpgid(pid) == p->pgid ||
	    getsid(pid) == p->pgid)))
		return true;
	if (!cgroup_enabled() || (cg = cgroup_path()) == NULL)
		return false;
	/* The program's cgroup ends in .../safeexitd-KEY/program-NAME. */
	base = strrchr(cg, '/') != NULL ? strrchr(cg, '/') : cg;
	snprintf(tail, sizeof tail, "%s/program-%s", base, p->cfg->name);
	lt = strlen(tail);
	/* A short read of procfs, no disk. */
	snprintf(path, sizeof path, "/proc/%ld/cgroup", (long)pid);
	if ((f = fopen(path, "re")) == NULL)
		return false;
	while (fgets(line, sizeof line, f) != NULL) {
		nl = strcspn(line, "\n");
		line[nl] = '\0';
		if (strncmp(line, "0::", 3) == 0 && nl >= lt &&
		    strcmp(line + nl - lt, tail) == 0)
			ok = true;
	}
	fclose(f);
	return ok;
}

/* A datagram on p's notify socket. */
static void
ready_notified(void *arg, const struct sdnotify_msg *m, pid_t sender)
{
	struct ready *r = arg;
	struct program *p = r->p;

	if (!ready_sender_ok(p, sender)) {
		if (!r->refused_said)
			log_notice("%s: ignoring a notification from pid %ld, "
			    "not a process of the program", p->cfg->name,
			    (long)sender);
		r->refused_said = true;
		return;
	}
	if (m->has_status) {
		snprintf(r->status_text, sizeof r->status_text, "%s", m->status);
		for (char *s = r->status_text; *s != '\0'; s++)
			if ((unsigned char)*s < ' ')
				*s = ' ';
		statefile_touch();	/* it survives a crash */
	}
	if (m->mainpid > 0 && m->mainpid != p->pid) {
		if (ready_sender_ok(p, m->mainpid))
			lifecycle_set_main_pid(p, m->mainpid, getpgid(m->mainpid));
		else
			log_warnx("%s: ignoring MAINPID=%ld: not a process of the "
			    "program", p->cfg->name, (long)m->mainpid);
	}
	if (m->extend_usec > 0)
		lifecycle_extend(p, (double)m->extend_usec / 1e6);
	if (m->watchdog_usec > 0 && p->cfg->health.kind == CHECK_WATCHDOG) {
		r->watchdog = (double)m->watchdog_usec / 1e6;
		if (r->health_on)
			ready_arm(r, r->watchdog);
	}
	if (m->watchdog && r->health_on &&
	    p->cfg->health.kind == CHECK_WATCHDOG) {
		r->failures = 0;
		r->health_why[0] = '\0';
		ready_arm(r, r->watchdog);
	}
	if (m->stopping)
		log_info("%s: the program says it is stopping", p->cfg->name);
	if (m->ready && p->cfg->ready.kind == CHECK_NOTIFY)
		lifecycle_ready(p);
}

bool
ready_is_ready(const struct program *p)
{
	return p->state == STATE_RUNNING;
}

const char *
ready_health(const struct program *p)
{
	if (p->cfg->health.kind == CHECK_NONE || p->state != STATE_RUNNING ||
	    p->ready == NULL)
		return NULL;
	return p->ready->failures > 0 ? "failing" : "ok";
}

const char *
ready_status_text(const struct program *p)
{
	if (p->ready == NULL || p->ready->status_text[0] == '\0')
		return NULL;
	return p->ready->status_text;
}

void
ready_describe(const struct program *p, char *buf, size_t len)
{
	const struct ready *r = p->ready;
	size_t n = 0;

	buf[0] = '\0';
	if (p->state == STATE_STARTING && check_waits(&p->cfg->ready)) {
		n += (size_t)snprintf(buf, len, "waiting for %s",
		    p->cfg->ready.spec);
		if (p->ready_cause[0] != '\0' && n < len)
			n += (size_t)snprintf(buf + n, len - n, " (%s)",
			    p->ready_cause);
	}
	if (r == NULL)
		return;
	if (r->status_text[0] != '\0' && n < len)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "; " : "",
		    r->status_text);
	if (p->state == STATE_RUNNING && r->failures > 0 && n < len)
		snprintf(buf + n, len - n, "%shealth failing (%d of %d): %s",
		    n ? "; " : "", r->failures, p->cfg->health_retries,
		    r->health_why);
}

/* Whether every autostart program is RUNNING or has settled. */
static bool
ready_all_settled(void)
{
	for (size_t i = 0; i < programs.n; i++) {
		const struct program *p = programs.v[i];

		if (!p->cfg->autostart)
			continue;
		switch (p->state) {
		case STATE_RUNNING:
		case STATE_FATAL:
		case STATE_EXITED:
			continue;
		case STATE_STOPPED:
			if (!p->start_pending)
				continue;
			return false;
		default:
			return false;
		}
	}
	return true;
}

/* A state changed: maybe the last autostart program has settled. */
static void
ready_settled_check(struct program *p, enum program_state old, void *arg)
{
	void (*fn)(void) = settled_fn;

	if (fn == NULL || !ready_all_settled())
		return;
	settled_fn = NULL;
	program_unobserve(ready_settled_check, NULL);
	fn();
}

void
ready_when_settled(void (*fn)(void))
{
	settled_fn = fn;
	program_observe(ready_settled_check, NULL);
	ready_settled_check(NULL, STATE_STOPPED, NULL);
}
