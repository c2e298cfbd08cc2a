/*
 * What a program uses (POSIX), read when asked.  With a cgroup: cpu.stat,
 * memory.current and memory.events, which count every process the program
 * ever started, since its cgroup was made.  Without one (or without the
 * memory controller): the processes of its process group (or cgroup) now
 * running, from /proc: CPU time from stat, memory as the sum of their PSS
 * (smaps_rollup), which shares pages fairly between them.
 *
 * OOM kills: the kernel marks memory.events modified when it changes, so
 * one inotify descriptor on the event loop wakes the daemon only then.
 */
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/inotify.h>
#endif

#include "accounting.h"
#include "cgroup.h"
#include "log.h"
#include "platform.h"
#include "procinfo.h"
#include "program.h"
#include "xmalloc.h"

/* A program whose memory.events is watched. */
struct oom_watch {
	int wd;
	char *name;
	unsigned long long seen;	/* oom_kill count last logged */
};

static struct {
	int fd;
	struct event *ev;
	struct oom_watch *v;
	size_t n;
	long tick;			/* clock ticks per second */
	/* Every process's group and CPU time, from one pass over /proc that
	 * serves one status of all programs (taken at snapshot_at). */
	struct proc_sample {
		pid_t pid, pgid;
		double cpu;
	} *procs;
	size_t n_procs, cap_procs;
	double snapshot_at;
} acc = { .fd = -1 };

/* How long one pass over /proc answers for (seconds). */
#define ACCOUNTING_SNAPSHOT_AGE	0.25

static void accounting_oom_cb(int fd, short what, void *arg);
static void accounting_oom_check(struct oom_watch *w);
static void accounting_snapshot(void);

void
accounting_init(struct event_base *base)
{
	acc.tick = sysconf(_SC_CLK_TCK);
	if (acc.tick <= 0)
		acc.tick = 100;
#ifdef __linux__
	if ((acc.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		log_warn("inotify: OOM kills will be counted, not logged");
		return;
	}
	acc.ev = event_new(base, acc.fd, EV_READ | EV_PERSIST,
	    accounting_oom_cb, NULL);
	if (acc.ev == NULL || event_add(acc.ev, NULL) == -1)
		fatalx("%s: cannot watch for OOM kills", __func__);
#else
	(void)base;
#endif
}

void
accounting_fini(void)
{
	if (acc.ev != NULL)
		event_free(acc.ev);
	acc.ev = NULL;
	if (acc.fd != -1)
		close(acc.fd);
	acc.fd = -1;
	for (size_t i = 0; i < acc.n; i++)
		free(acc.v[i].name);
	free(acc.v);
	acc.v = NULL;
	acc.n = 0;
	free(acc.procs);
	acc.procs = NULL;
	acc.n_procs = acc.cap_procs = 0;
}

void
accounting_watch(struct program *p)
{
#ifdef __linux__
	struct cgroup_usage u;
	char path[4096];
	size_t i;
	int wd;

	if (acc.fd == -1 ||
	    cgroup_file_path(p->cfg->name, "memory.events", path, sizeof path) == -1 ||
	    (wd = inotify_add_watch(acc.fd, path, IN_MODIFY)) == -1)
		return;
	/* The same file gives the same wd: one watch per cgroup. */
	for (i = 0; i < acc.n && acc.v[i].wd != wd; i++)
		;
	if (i < acc.n)
		return;
	acc.v = xreallocarray(acc.v, acc.n + 1, sizeof *acc.v);
	acc.v[acc.n].name = xstrdup(p->cfg->name);
	acc.v[acc.n].wd = wd;
	acc.v[acc.n].seen = cgroup_usage(p->cfg->name, &u) == 0 ? u.oom_kills : 0;
	acc.n++;
#else
	(void)p;
#endif
}

/* Log the OOM kills of w's program since the last look. */
static void
accounting_oom_check(struct oom_watch *w)
{
	struct cgroup_usage u;

	if (cgroup_usage(w->name, &u) == -1 || !u.has_events ||
	    u.oom_kills <= w->seen)
		return;
	log_warnx("%s: out of memory: the kernel killed %llu process%s in its "
	    "cgroup (memory_max; %llu OOM kill%s in all)", w->name,
	    u.oom_kills - w->seen, u.oom_kills - w->seen == 1 ? "" : "es",
	    u.oom_kills, u.oom_kills == 1 ? "" : "s");
	w->seen = u.oom_kills;
}

#ifdef __linux__
/* memory.events changed (or its cgroup went away): look at it. */
static void
accounting_oom_cb(int fd, short what, void *arg)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	(void)what;
	(void)arg;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (char *at = buf; at < buf + n;) {
			const struct inotify_event *ev = (const void *)at;

			for (size_t i = 0; i < acc.n; i++) {
				if (acc.v[i].wd != ev->wd)
					continue;
				if (ev->mask & IN_IGNORED) {
					/* The cgroup was removed. */
					free(acc.v[i].name);
					acc.v[i] = acc.v[--acc.n];
				} else
					accounting_oom_check(&acc.v[i]);
				break;
			}
			at += sizeof *ev + ev->len;
		}
	}
}
#else
static void
accounting_oom_cb(int fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}
#endif

/* Sample every process's group and CPU time, unless a recent pass will do. */
static void
accounting_snapshot(void)
{
	struct procinfo pi;
	struct dirent *de;
	double now = platform_now();
	DIR *dir;

	if (acc.procs != NULL && now - acc.snapshot_at < ACCOUNTING_SNAPSHOT_AGE)
		return;
	acc.n_procs = 0;
	acc.snapshot_at = now;
	if ((dir = opendir("/proc")) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end != '\0' || pid <= 0 || procinfo_read((pid_t)pid, &pi) == -1)
			continue;
		if (acc.n_procs == acc.cap_procs) {
			acc.cap_procs = acc.cap_procs ? acc.cap_procs * 2 : 256;
			acc.procs = xreallocarray(acc.procs, acc.cap_procs,
			    sizeof *acc.procs);
		}
		acc.procs[acc.n_procs++] = (struct proc_sample){ (pid_t)pid,
		    pi.pgid, (double)(pi.utime + pi.stime) / (double)acc.tick };
	}
	closedir(dir);
}

void
accounting_read(const struct program *p, struct accounting *a)
{
	struct cgroup_usage u;
	pid_t *pids = NULL;
	size_t n = 0;

	memset(a, 0, sizeof *a);
	if (cgroup_usage(p->cfg->name, &u) == 0) {
		a->cpu_seconds = (double)u.cpu_usec / 1e6;
		a->memory_bytes = u.memory_bytes;
		a->oom_kills = u.oom_kills;
		if (u.has_memory)
			return;
		/* No memory controller for it: the PSS of its processes. */
		if (cgroup_pids(p->cfg->name, &pids, &n) == 0)
			for (size_t i = 0; i < n; i++)
				a->memory_bytes += procinfo_pss(pids[i]);
		free(pids);
		return;
	}
	if (p->pgid <= 0)
		return;
	accounting_snapshot();
	for (size_t i = 0; i < acc.n_procs; i++) {
		if (acc.procs[i].pgid != p->pgid)
			continue;
		a->cpu_seconds += acc.procs[i].cpu;
		a->memory_bytes += procinfo_pss(acc.procs[i].pid);
	}
}
