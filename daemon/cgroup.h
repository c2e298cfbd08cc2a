/*
 * One cgroup v2 per program (Linux), where a cgroup subtree is the daemon's
 * to manage: systemd's Delegate=yes, or the root of the daemon's cgroup
 * namespace (a container, or a host without a cgroup manager).  A process
 * cannot leave its cgroup without privileges over the hierarchy, so every
 * descendant of a program, setsid or double fork included, is found and
 * stopped through it.  Elsewhere programs are held by their process groups
 * and the daemon's exit sweep alone.
 *
 * Layout: DAEMON_CGROUP/safeexitd-KEY/program-NAME, where KEY is a hash of
 * the control socket's path: one daemon finds its programs' cgroups again
 * after a restart, and two daemons in the same cgroup never share one.
 */
#ifndef SAFEEXITD_CGROUP_H
#define SAFEEXITD_CGROUP_H

#include <stdbool.h>
#include <sys/types.h>

struct program_config;

/*
 * Decide, once at start, whether programs get cgroups: wanted (the config's
 * `cgroups = auto`) and a delegated cgroup v2 subtree is writable.  The
 * decision and its reason are logged.  instance names this daemon.
 */
void cgroup_init(bool wanted, const char *instance);
bool cgroup_enabled(void);
/* Where the programs' cgroups live, NULL when disabled. */
const char *cgroup_path(void);

/*
 * Create program name's cgroup if needed and open its folder for a child to
 * start in (spawn_request.cgroup_fd): a close-on-exec descriptor, or -1
 * with err filled.
 */
int cgroup_open(const char *name, char *err, size_t errlen);

/* Whether a process is left in name's cgroup: 1, 0, or -1 when it has none. */
int cgroup_populated(const char *name);

/*
 * Send sig to every process of name's cgroup, except members of process
 * group skip_pgid (already signalled as a group, with no race against fork),
 * each followed by SIGCONT when wake is set.  SIGKILL goes through
 * cgroup.kill where the kernel has it.  Returns how many processes were
 * signalled, or -1 when the program has no cgroup.
 */
int cgroup_signal(const char *name, int sig, bool wake, pid_t skip_pgid);

/*
 * The pids in name's cgroup: 0 with *pids (free it) and *n filled, or -1
 * when the program has no cgroup.
 */
int cgroup_pids(const char *name, pid_t **pids, size_t *n);
/* Whether pid is in name's cgroup: 1, 0, or -1 when it has none. */
int cgroup_holds(const char *name, pid_t pid);

/* Remove name's cgroup when it is empty (the program is gone). */
void cgroup_remove(const char *name);

/* What the host offers for cgroup limits, as the daemon would find it. */
struct cgroup_host {
	bool usable;		/* programs would get cgroups */
	char why[128];		/* when not: why */
	char where[512];	/* the daemon's cgroup */
	char controllers[256];	/* its cgroup.controllers */
};

/*
 * Fill host: from the running daemon once cgroup_init has decided,
 * otherwise by looking at the system the way cgroup_init would (-n, and
 * the check at start and reload).
 */
void cgroup_host_probe(bool wanted, struct cgroup_host *host);

/*
 * The first cgroup limit of pc (enum program_cglimit) that host cannot
 * apply, with why filled; -1 when all can be.
 */
int cgroup_limit_refused(const struct cgroup_host *host,
    const struct program_config *pc, char *why, size_t len);

/*
 * Write pc's limits into its cgroup (made by cgroup_open), enabling the
 * controllers they need first (the daemon then moves into its own leaf).
 * 0, or -1 with err filled.
 */
int cgroup_apply_limits(const struct program_config *pc, char *err,
    size_t errlen);

/* What a program's cgroup counts, read when asked. */
struct cgroup_usage {
	bool has_cpu, has_memory, has_events;
	unsigned long long cpu_usec;	/* cpu.stat usage_usec */
	unsigned long long memory_bytes;	/* memory.current */
	unsigned long long oom_kills;	/* memory.events oom_kill */
};

/* Read name's usage: 0, or -1 when it has no cgroup. */
int cgroup_usage(const char *name, struct cgroup_usage *u);

/* The full path of file in name's cgroup: 0, or -1 without one. */
int cgroup_file_path(const char *name, const char *file, char *buf, size_t len);

/* At exit: remove every empty cgroup of this daemon, then its own folder. */
void cgroup_fini(void);

#endif
