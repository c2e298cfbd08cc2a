/*
 * Re-adoption (POSIX).  The hand-over variable reads
 *   SAFEEXITD_REEXEC=control=FD;NAME=OUT_R,OUT_W,ERR_R,ERR_W;...
 * Program names hold no '=', ',' or ';' (config.c allows [A-Za-z0-9_.-]).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adopt.h"
#include "cgroup.h"
#include "control.h"
#include "eventlistener.h"
#include "fcgi.h"
#include "keeper.h"
#include "lifecycle.h"
#include "log.h"
#include "orphan.h"
#include "output.h"
#include "platform.h"
#include "procinfo.h"
#include "program.h"
#include "ready.h"
#include "reap.h"
#include "statefile.h"
#include "xmalloc.h"

#define ADOPT_ENV	"SAFEEXITD_REEXEC"

struct handover {
	char *name;
	int fds[4];
	bool used;
};

static int control_fd_in = -1;
static struct handover *handovers;
static size_t n_handovers;

static struct handover *adopt_find(const char *name);
static void adopt_set_cloexec(int fd, bool on);
static double adopt_age(unsigned long long start_ticks);
static const char *adopt_mismatch(const struct state_entry *e,
    struct procinfo *pi);
static void adopt_one(struct program *p, struct state_entry *e);
static void adopt_from_cgroup(struct program *p);
static void adopt_orphan(const struct state_entry *e);

/* The hand-over of a program, or NULL. */
static struct handover *
adopt_find(const char *name)
{
	for (size_t i = 0; i < n_handovers; i++)
		if (strcmp(handovers[i].name, name) == 0)
			return &handovers[i];
	return NULL;
}

/* Keep fd open across exec, or not. */
static void
adopt_set_cloexec(int fd, bool on)
{
	int flags;

	if (fd < 0 || (flags = fcntl(fd, F_GETFD)) == -1)
		return;
	fcntl(fd, F_SETFD, on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC);
}

bool
adopt_resume(void)
{
	char *env = getenv(ADOPT_ENV), *copy, *item, *save = NULL;

	if (env == NULL)
		return false;
	copy = xstrdup(env);
	/* Programs must not inherit it. */
	unsetenv(ADOPT_ENV);
	for (item = strtok_r(copy, ";", &save); item != NULL;
	    item = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(item, '=');
		struct handover *h;

		if (eq == NULL)
			continue;
		*eq++ = '\0';
		if (strcmp(item, "control") == 0) {
			control_fd_in = (int)strtol(eq, NULL, 10);
			adopt_set_cloexec(control_fd_in, true);
			continue;
		}
		handovers = xreallocarray(handovers, n_handovers + 1,
		    sizeof *handovers);
		h = &handovers[n_handovers++];
		memset(h, 0, sizeof *h);
		h->name = xstrdup(item);
		if (sscanf(eq, "%d,%d,%d,%d", &h->fds[0], &h->fds[1], &h->fds[2],
		    &h->fds[3]) != 4)
			h->fds[0] = h->fds[1] = h->fds[2] = h->fds[3] = -1;
		for (int i = 0; i < 4; i++)
			adopt_set_cloexec(h->fds[i], true);
	}
	free(copy);
	log_notice("re-executed: %zu program pipe%s handed over", n_handovers,
	    n_handovers == 1 ? "" : "s");
	return true;
}

void
adopt_handover(const char *name, int stream, int read_fd, int write_fd)
{
	struct handover *h = adopt_find(name);

	if (h == NULL) {
		handovers = xreallocarray(handovers, n_handovers + 1,
		    sizeof *handovers);
		h = &handovers[n_handovers++];
		memset(h, 0, sizeof *h);
		h->fds[0] = h->fds[1] = h->fds[2] = h->fds[3] = -1;
		h->name = xstrdup(name);
	}
	h->fds[stream] = read_fd;
	h->fds[stream + 1] = write_fd;
}

int
adopt_control_fd(void)
{
	return control_fd_in;
}

/*
 * Whether the process at e->pid is the one recorded: NULL, or what differs.
 * A pid is reused, and a damaged file may name any process: the kernel's
 * start time, the session and group every launch of ours creates
 * (pid == pgid == sid, which no later setsid or setpgid can change), the
 * executable and the program's cgroup must all agree before the daemon
 * treats the process as the program's, and so before it may signal it.
 */
static const char *
adopt_mismatch(const struct state_entry *e, struct procinfo *pi)
{
	char exe[PATH_MAX];

	if (procinfo_read(e->pid, pi) == -1 || pi->state == 'Z' ||
	    pi->state == 'X') {
		pi->start_time = 0;
		return "is gone";
	}
	if (pi->start_time != e->start_time)
		return "now belongs to another process";
	if (e->pgid != e->pid || pi->pgid != e->pgid || pi->sid != e->pid)
		return "is not in the session and process group it was started in";
	if (e->exe != NULL && (procinfo_exe(e->pid, exe, sizeof exe) == -1 ||
	    strcmp(exe, e->exe) != 0))
		return "runs another executable than recorded";
	if (e->cgroup && cgroup_holds(e->name, e->pid) == 0)
		return "is not in the program's cgroup";
	return NULL;
}

/* Seconds a process has run, from its start time in clock ticks since boot. */
static double
adopt_age(unsigned long long start_ticks)
{
	long hz = sysconf(_SC_CLK_TCK);
	double uptime = 0;
	FILE *f;

	if ((f = fopen("/proc/uptime", "re")) != NULL) {
		if (fscanf(f, "%lf", &uptime) != 1)
			uptime = 0;
		fclose(f);
	}
	if (hz <= 0 || uptime <= 0)
		return 0;
	uptime -= (double)start_ticks / (double)hz;
	return uptime > 0 ? uptime : 0;
}

/*
 * Carry on with program p from what the files say (e): adopt its process
 * when the kernel agrees it is the one recorded, else go on without it.
 */
static void
adopt_one(struct program *p, struct state_entry *e)
{
	struct handover *h;
	struct procinfo pi = { 0 };
	const char *why = "is gone";
	bool alive = false, changed;
	char hash[17];

	statefile_hash(p->cfg->fingerprint, hash);
	changed = strcmp(hash, e->hash) != 0;
	if (e->pid != 0 && (why = adopt_mismatch(e, &pi)) == NULL)
		alive = true;
	else if (e->pid != 0 && pi.start_time == 0)
		log_info("%s: recorded pid %ld is gone", e->name, (long)e->pid);
	else if (e->pid != 0)
		log_warnx("%s: pid %ld %s; not adopted", e->name, (long)e->pid, why);
	if (!e->has_state && !alive)
		return;		/* an old file: nothing to carry on with */
	if (!e->has_state) {
		e->state = STATE_RUNNING;
		e->started_at = 0;
	}
	if (alive && changed) {
		/* Its process runs with old settings: stop it, then as reload does. */
		log_warnx("%s: settings changed since pid %ld started; restarting it",
		    e->name, (long)e->pid);
	}
	lifecycle_resume(p, e, alive, alive ? adopt_age(pi.start_time) : 0);
	ready_resume(p, e->status_text, e->health_failures, e->health_why);
	if (alive && (h = adopt_find(e->name)) != NULL) {
		char err[256];

		p->output = output_import(p->cfg, h->fds, err, sizeof err);
		if (p->output == NULL)
			log_warnx("%s: output: %s", e->name, err);
		else
			h->used = true;
	}
	if (alive && changed) {
		if (p->state == STATE_STOPPING)
			p->restart_after_stop = p->restart_after_stop || p->cfg->autostart;
		else
			lifecycle_restart(p);
	}
}

/*
 * Where programs have cgroups, the cgroup of a program with no process
 * adopted names any the records miss: its session leader is adopted.
 */
static void
adopt_from_cgroup(struct program *p)
{
	struct state_entry e;
	struct procinfo pi;
	pid_t *pids;
	size_t n;

	bool known = p->recovered;

	if (p->main_alive || cgroup_pids(p->cfg->name, &pids, &n) == -1)
		return;
	for (size_t i = 0; i < n && !p->main_alive; i++) {
		if (pids[i] <= 1 || procinfo_read(pids[i], &pi) == -1 ||
		    pi.pgid != pids[i] || pi.sid != pids[i] || pi.state == 'Z')
			continue;
		memset(&e, 0, sizeof e);
		e.name = p->cfg->name;
		e.state = p->state == STATE_STOPPING ? STATE_STOPPING : STATE_RUNNING;
		e.pid = e.pgid = pids[i];
		e.stop_reason = p->stop_reason;
		e.failed_starts = p->failed_starts;
		e.restarts = p->restarts;
		log_warnx("%s: pid %ld found in the program's cgroup", p->cfg->name,
		    (long)pids[i]);
		lifecycle_resume(p, &e, true, adopt_age(pi.start_time));
		/* Nothing says with which settings it runs: start it afresh. */
		if (!known && p->state == STATE_RUNNING) {
			if (p->cfg->autostart)
				lifecycle_restart(p);
			else
				lifecycle_stop(p, STOP_RELOAD);
		}
	}
	free(pids);
}

/*
 * A recorded process whose program is no longer configured: never adopted,
 * stopped (orphan.c) when the kernel confirms it is the one recorded.
 */
static void
adopt_orphan(const struct state_entry *e)
{
	struct procinfo pi = { 0 };
	const char *why;

	if (e->hash[0] == '\0' || (e->has_state && (e->state == STATE_STOPPED ||
	    e->state == STATE_FATAL)))
		return;		/* nothing it started is known to run */
	if (e->pid == 0) {
		orphan_stop(e, false);
		return;
	}
	if ((why = adopt_mismatch(e, &pi)) != NULL) {
		if (pi.start_time == 0)
			log_info("%s: recorded pid %ld is gone", e->name,
			    (long)e->pid);
		else
			log_warnx("%s: pid %ld %s; left alone", e->name,
			    (long)e->pid, why);
		orphan_stop(e, false);
		return;
	}
	orphan_stop(e, true);
}

void
adopt_init(struct event_base *base)
{
	orphan_init(base);
}

void
adopt_fini(void)
{
	orphan_fini();
}

bool
adopt_programs(const char *path)
{
	struct state_file sf;
	bool shutdown = false;

	if (statefile_read(path, &sf) == 0) {
		shutdown = sf.shutdown;
		for (size_t i = 0; i < sf.n; i++) {
			struct state_entry *e = &sf.v[i];
			struct program *p = program_find(e->name);

			if (p == NULL) {
				adopt_orphan(e);
				continue;
			}
			if (p->recovered)
				continue;	/* named twice in a damaged file */
			if (e->hash[0] == '\0')
				continue;	/* journal lines alone: settings unknown */
			adopt_one(p, e);
		}
	}
	statefile_free(&sf);
	for (size_t i = 0; i < programs.n; i++)
		adopt_from_cgroup(programs.v[i]);
	/* Pipes of programs that were not adopted: their old process loses them. */
	for (size_t i = 0; i < n_handovers; i++) {
		if (!handovers[i].used)
			for (int k = 0; k < 4; k++)
				if (handovers[i].fds[k] >= 0)
					close(handovers[i].fds[k]);
		free(handovers[i].name);
	}
	free(handovers);
	handovers = NULL;
	n_handovers = 0;
	ready_handover_done();
	return shutdown;
}

int
adopt_reexec(char **argv, struct event_base *base,
    const struct control_options *copts)
{
	char *env = NULL;
	size_t len = 0;
	FILE *f;
	int cfd, saved;

	if (statefile_write() == -1)
		log_warnx("re-exec: the state file could not be written");
	if ((f = open_memstream(&env, &len)) == NULL)
		fatal("%s", __func__);
	cfd = control_release_fd();
	fprintf(f, "control=%d", cfd);
	if (keeper_fd() >= 0) {
		char buf[16];

		snprintf(buf, sizeof buf, "%d", keeper_fd());
		setenv("SAFEEXITD_KEEPER_FD", buf, 1);
		snprintf(buf, sizeof buf, "%ld", (long)keeper_pid());
		setenv("SAFEEXITD_KEEPER_FD_PID", buf, 1);
		adopt_set_cloexec(keeper_fd(), false);
	}
	for (size_t i = 0; i < programs.n; i++) {
		struct program *p = programs.v[i];
		int fds[4];

		if (p->output == NULL)
			continue;
		output_export(p->output, fds);
		fprintf(f, ";%s=%d,%d,%d,%d", p->cfg->name, fds[0], fds[1], fds[2],
		    fds[3]);
		for (int k = 0; k < 4; k++)
			adopt_set_cloexec(fds[k], false);
	}
	fclose(f);
	fcgi_export();
	eventlistener_export();
	ready_export();
	setenv(ADOPT_ENV, env, 1);
	log_notice("re-executing %s", argv[0]);
	control_flush();
	reap_block_sigchld(false);
	execv("/proc/self/exe", argv);
	saved = errno;
	reap_block_sigchld(true);

	/* Still here: put everything back as it was. */
	log_warnx("re-exec failed: %s", strerror(saved));
	unsetenv(ADOPT_ENV);
	unsetenv("SAFEEXITD_KEEPER_FD");
	fcgi_export_undo();
	eventlistener_export_undo();
	ready_export_undo();
	adopt_set_cloexec(keeper_fd(), true);
	for (size_t i = 0; i < programs.n; i++) {
		int fds[4];

		if (programs.v[i]->output == NULL)
			continue;
		output_export(programs.v[i]->output, fds);
		for (int k = 0; k < 4; k++)
			adopt_set_cloexec(fds[k], true);
	}
	free(env);
	if (control_init_fd(base, cfd, copts) == -1)
		log_warnx("re-exec failed and the control socket is lost");
	errno = saved;
	return -1;
}
