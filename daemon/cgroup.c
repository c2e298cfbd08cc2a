/*
 * A cgroup v2 per program.  The daemon decides once, at start, whether it
 * may manage cgroups: the kernel has a cgroup v2 hierarchy, the daemon's own
 * cgroup is delegated to it, and it can create a folder there.  Delegated
 * means systemd marked the cgroup so (Delegate=yes sets the trusted.delegate
 * or user.delegate attribute) or the daemon runs in the root of its cgroup
 * namespace, which no other manager claims.  A cgroup that systemd manages
 * for a unit without Delegate= is left alone, as systemd asks.
 *
 * Children start in their program's cgroup (clone3 with CLONE_INTO_CGROUP)
 * or join it themselves before anything else (spawn.c), so nothing they
 * start can be outside it.
 *
 * Controllers (memory, cpu, pids, io) are enabled only when a program's
 * limits need one.  A cgroup with processes of its own cannot pass
 * controllers down (the no-internal-process rule), so the daemon then first
 * moves itself into a leaf of its own, DAEMON_CGROUP/safeexitd-KEY/daemon,
 * as systemd's own managers move into init.scope.  A daemon that finds
 * itself in that leaf (re-executed, or started again from it) takes the
 * cgroup above its folder as its own, so its programs' cgroups are found
 * either way.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cgroup.h"
#include "conf.h"
#include "log.h"
#include "xmalloc.h"

#define CGROUP_PREFIX	"program-"
/* The daemon's own leaf, inside its folder, once controllers are needed. */
#define CGROUP_LEAF	"daemon"
/* Passes over cgroup.procs for processes forked while we signal. */
#define CGROUP_SIGNAL_PASSES	8

static struct {
	bool enabled;
	int dirfd;		/* the daemon's folder, safeexitd-KEY */
	bool has_kill;		/* cgroup.kill (Linux 5.14) */
	char *parent;		/* the daemon's own cgroup, a path */
	char *name;		/* safeexitd-KEY */
	char *path;		/* parent/name, for logs */
	bool decided;		/* cgroup_init has run */
	bool in_leaf;		/* the daemon sits in CGROUP_LEAF */
	char parent_added[64];	/* controllers we enabled in parent, " "-separated */
} cg = { .dirfd = -1 };

/* The controller each cgroup limit needs, and the file it writes. */
static const struct {
	const char *controller;
	const char *file;
} cglimit_files[PCG_COUNT] = {
	[PCG_MEMORY_MAX] = { "memory", "memory.max" },
	[PCG_MEMORY_HIGH] = { "memory", "memory.high" },
	[PCG_CPU_MAX] = { "cpu", "cpu.max" },
	[PCG_PIDS_MAX] = { "pids", "pids.max" },
	[PCG_IO_WEIGHT] = { "io", "io.weight" },
};

static char *cgroup_self(void);
static char *cgroup_mount_for(char *self);
static bool cgroup_delegated(const char *dir, const char *self);
static void cgroup_unescape(char *s);
static int cgroup_read_pids(const char *name, pid_t **pids, size_t *n);
static int cgroup_program_path(char *buf, size_t len, const char *name,
    const char *file);
static char *cgroup_find_parent(const char **why, bool *in_leaf);
static ssize_t cgroup_read_file(int dirfd, const char *path, char *buf,
    size_t len);
static int cgroup_write_file(int dirfd, const char *path, const char *value);
static bool cgroup_has_word(const char *list, const char *word);
static int cgroup_enter_leaf(void);
static void cgroup_leave_leaf(void);
static int cgroup_enable(const char *controller, char *err, size_t errlen);
static bool cgroup_kill_probe(void);

/*
 * The cgroup the daemon's folder goes in, as a path, or NULL with why:
 * its own cgroup, or the one above its folder when it sits in its leaf.
 */
static char *
cgroup_find_parent(const char **why, bool *in_leaf)
{
	char *self, *mount, *parent = NULL, *cut;

	*in_leaf = false;
	if ((self = cgroup_self()) == NULL) {
		*why = "no cgroup v2 hierarchy";
		return NULL;
	}
	if ((mount = cgroup_mount_for(self)) == NULL) {
		*why = "cgroup v2 is not mounted";
		free(self);
		return NULL;
	}
	/* .../safeexitd-KEY/daemon: the daemon moved itself there before. */
	if ((cut = strrchr(self, '/')) != NULL && strcmp(cut + 1, CGROUP_LEAF) == 0 &&
	    cut != self) {
		char *up;

		*cut = '\0';
		if ((up = strrchr(self, '/')) != NULL &&
		    strncmp(up + 1, "safeexitd-", 10) == 0) {
			*up = '\0';
			if (*self == '\0')
				strcpy(self, "/");
			*in_leaf = true;
		} else
			*cut = '/';
	}
	/* The mount's root is a prefix of our path, cut off by cgroup_mount_for. */
	parent = xasprintf("%s%s", mount, strcmp(self, "/") == 0 ? "" : self);
	if (!cgroup_delegated(parent, self)) {
		*why = "the daemon's cgroup is not delegated to it";
		free(parent);
		parent = NULL;
	}
	free(self);
	free(mount);
	return parent;
}

void
cgroup_init(bool wanted, const char *instance)
{
	const char *why = NULL;
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */
	int parentfd = -1;

	cg.decided = true;
	if (!wanted) {
		log_info("cgroups = off: programs are held by their process groups");
		return;
	}
	if ((cg.parent = cgroup_find_parent(&why, &cg.in_leaf)) != NULL) {
		for (const char *c = instance; *c != '\0'; c++)
			h = (h ^ (unsigned char)*c) * 1099511628211ULL;
		cg.name = xasprintf("safeexitd-%016llx", (unsigned long long)h);
		cg.path = xasprintf("%s/%s", cg.parent, cg.name);
		if ((parentfd = open(cg.parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
		    (mkdirat(parentfd, cg.name, 0755) == -1 && errno != EEXIST) ||
		    (cg.dirfd = openat(parentfd, cg.name,
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
			why = strerror(errno);
	}
	if (parentfd != -1)
		close(parentfd);
	if (why != NULL) {
		log_info("no cgroup per program (%s): programs are held by their "
		    "process groups", why);
		free(cg.parent);
		free(cg.name);
		free(cg.path);
		cg.parent = cg.name = cg.path = NULL;
		cg.in_leaf = false;
		return;
	}
	cg.has_kill = faccessat(cg.dirfd, "cgroup.kill", F_OK, 0) == 0 &&
	    cgroup_kill_probe();
	cg.enabled = true;
	log_notice("programs run in a cgroup each under %s", cg.path);
	if (cg.in_leaf)
		log_info("the daemon runs in its own leaf, %s/" CGROUP_LEAF, cg.path);
}

/*
 * Whether a child started into a cgroup that cgroup.kill emptied before
 * lives.  Some kernels (seen on 6.18) compare that cgroup's count of kills
 * with the forking task's own at clone3(CLONE_INTO_CGROUP), so every
 * later child of a program that once needed its kill signal would die of
 * SIGKILL at birth.  There the daemon kills process by process instead.
 */
static bool
cgroup_kill_probe(void)
{
#if defined(SYS_clone3)
	static const char	 name[] = "probe-kill";
	struct {
		uint64_t	 flags, pidfd, child_tid, parent_tid;
		uint64_t	 exit_signal, stack, stack_size, tls;
		uint64_t	 set_tid, set_tid_size, cgroup;
	} args;
	int			 fd, kfd, status = 0;
	bool			 works = true;
	long			 pid;

	if (mkdirat(cg.dirfd, name, 0755) == -1 && errno != EEXIST)
		return true;
	if ((fd = openat(cg.dirfd, name, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		goto done;
	if ((kfd = openat(fd, "cgroup.kill", O_WRONLY | O_CLOEXEC)) != -1) {
		if (write(kfd, "1", 1) != 1)
			log_debug("%s: cgroup.kill: %s", __func__,
			    strerror(errno));
		close(kfd);
	}
	memset(&args, 0, sizeof args);
	args.flags = 0x200000000ULL;	/* CLONE_INTO_CGROUP */
	args.exit_signal = SIGCHLD;
	args.cgroup = (uint64_t)fd;
	pid = syscall(SYS_clone3, &args, sizeof args);
	if (pid == 0)
		_exit(0);
	if (pid > 0) {
		while (waitpid((pid_t)pid, &status, 0) == -1 && errno == EINTR)
			;
		works = !(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		if (!works)
			log_info("this kernel kills every child started into a "
			    "cgroup that cgroup.kill once emptied: programs "
			    "are killed process by process");
	}
	close(fd);
done:
	unlinkat(cg.dirfd, name, AT_REMOVEDIR);
	return works;
#else
	return true;
#endif
}

bool
cgroup_enabled(void)
{
	return cg.enabled;
}

const char *
cgroup_path(void)
{
	return cg.path;
}

/* Our cgroup v2 path ("0::/a/b" in /proc/self/cgroup), NULL with v1 only. */
static char *
cgroup_self(void)
{
	char *line = NULL, *self = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	if ((f = fopen("/proc/self/cgroup", "re")) == NULL)
		return NULL;
	while (self == NULL && (n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (strncmp(line, "0::/", 4) == 0 &&
		    strstr(line, " (deleted)") == NULL)
			self = strdup(line + 3);
	}
	free(line);
	fclose(f);
	return self;
}

/*
 * The mount point of a cgroup2 file system that shows self (its mount root
 * is self or above it, /sys/fs/cgroup or /sys/fs/cgroup/unified as a rule).
 * self is cut to the part below the mount's root.
 */
static char *
cgroup_mount_for(char *self)
{
	char *line = NULL, *found = NULL;
	size_t cap = 0;
	FILE *f;

	if ((f = fopen("/proc/self/mountinfo", "re")) == NULL)
		return NULL;
	while (found == NULL && getline(&line, &cap, f) > 0) {
		char *dash = strstr(line, " - "), root[4096], point[4096];
		size_t len;

		/* ID PARENT MAJ:MIN ROOT POINT OPTIONS... - FSTYPE SOURCE ... */
		if (dash == NULL || strncmp(dash + 3, "cgroup2 ", 8) != 0 ||
		    sscanf(line, "%*s %*s %*s %4095s %4095s", root, point) != 2)
			continue;
		cgroup_unescape(root);
		cgroup_unescape(point);
		len = strlen(root);
		if (strcmp(root, "/") == 0)
			len = 0;
		if (strncmp(self, root, len) != 0 ||
		    (self[len] != '/' && self[len] != '\0'))
			continue;
		/* self below the mount's root: move the rest to the front. */
		memmove(self, self + len, strlen(self + len) + 1);
		if (*self == '\0')
			strcpy(self, "/");
		found = strdup(point);
	}
	free(line);
	fclose(f);
	return found;
}

/* mountinfo writes space, tab, newline and backslash as \ooo. */
static void
cgroup_unescape(char *s)
{
	char *out = s;

	for (; *s != '\0'; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else
			*out++ = *s;
	}
	*out = '\0';
}

static bool
cgroup_delegated(const char *dir, const char *self)
{
	static const char *const attrs[] = { "trusted.delegate", "user.delegate" };
	char v[8];

	/* The root of our namespace: a container's, or a host's without a manager. */
	if (strcmp(self, "/") == 0)
		return true;
	for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
		ssize_t n = getxattr(dir, attrs[i], v, sizeof v - 1);

		if (n > 0) {
			v[n] = '\0';
			if (strcmp(v, "1") == 0)
				return true;
		}
	}
	return false;
}

/* DAEMON/program-NAME[/file], relative to the daemon's folder. */
static int
cgroup_program_path(char *buf, size_t len, const char *name, const char *file)
{
	int n = snprintf(buf, len, CGROUP_PREFIX "%s%s%s", name,
	    file != NULL ? "/" : "", file != NULL ? file : "");

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
cgroup_open(const char *name, char *err, size_t errlen)
{
	char path[256];
	int fd;

	if (cgroup_program_path(path, sizeof path, name, NULL) == -1 ||
	    (mkdirat(cg.dirfd, path, 0755) == -1 && errno != EEXIST) ||
	    (fd = openat(cg.dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "cgroup %s/" CGROUP_PREFIX "%s: %s", cg.path,
		    name, strerror(errno));
		return -1;
	}
	return fd;
}

int
cgroup_populated(const char *name)
{
	char path[256], buf[256], *at;
	ssize_t n;
	int fd;

	if (!cg.enabled ||
	    cgroup_program_path(path, sizeof path, name, "cgroup.events") == -1 ||
	    (fd = openat(cg.dirfd, path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((at = strstr(buf, "populated ")) == NULL)
		return -1;
	return at[10] == '1';
}

/* The pids in name's cgroup.procs: 0, or -1 when it has no cgroup. */
static int
cgroup_read_pids(const char *name, pid_t **pids, size_t *n)
{
	char path[256], buf[4096], part[16];
	size_t plen = 0, cap = 0;
	ssize_t got;
	int fd;

	*pids = NULL;
	*n = 0;
	if (cgroup_program_path(path, sizeof path, name, "cgroup.procs") == -1 ||
	    (fd = openat(cg.dirfd, path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while ((got = read(fd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < got; i++) {
			if (buf[i] != '\n') {
				if (plen < sizeof part - 1)
					part[plen++] = buf[i];
				continue;
			}
			part[plen] = '\0';
			plen = 0;
			if (*n == cap) {
				cap = cap ? cap * 2 : 16;
				*pids = xreallocarray(*pids, cap,
				    sizeof **pids);
			}
			(*pids)[(*n)++] = (pid_t)strtol(part, NULL, 10);
		}
	}
	close(fd);
	return 0;
}

int
cgroup_pids(const char *name, pid_t **pids, size_t *n)
{
	*pids = NULL;
	*n = 0;
	if (!cg.enabled)
		return -1;
	return cgroup_read_pids(name, pids, n);
}

int
cgroup_holds(const char *name, pid_t pid)
{
	pid_t *pids;
	size_t n;
	int found = 0;

	if (cgroup_pids(name, &pids, &n) == -1)
		return -1;
	for (size_t i = 0; i < n && !found; i++)
		found = pids[i] == pid;
	free(pids);
	return found;
}

int
cgroup_signal(const char *name, int sig, bool wake, pid_t skip_pgid)
{
	pid_t *seen = NULL;
	size_t n_seen = 0;
	int sent = 0;

	if (!cg.enabled)
		return -1;
	if (sig == SIGKILL && cg.has_kill) {
		char path[256];
		int populated = cgroup_populated(name), fd;

		/* One write, and the kernel stops new forks while it kills. */
		if (populated >= 0 &&
		    cgroup_program_path(path, sizeof path, name, "cgroup.kill") == 0 &&
		    (fd = openat(cg.dirfd, path, O_WRONLY | O_CLOEXEC)) != -1) {
			ssize_t w = write(fd, "1", 1);

			close(fd);
			if (w == 1)
				return populated;
		}
	}
	/*
	 * Read, signal, read again: a process may fork between the read and
	 * the signal.  Each is signalled once.  Members of skip_pgid were
	 * signalled as a group by the caller, which no fork escapes: only when
	 * others were signalled here is another pass needed.
	 */
	for (int pass = 0; pass < CGROUP_SIGNAL_PASSES; pass++) {
		pid_t *pids;
		size_t n;
		bool fresh = false;

		if (cgroup_read_pids(name, &pids, &n) == -1) {
			free(seen);
			return pass == 0 ? -1 : sent;
		}
		for (size_t i = 0; i < n; i++) {
			size_t j;

			for (j = 0; j < n_seen && seen[j] != pids[i]; j++)
				;
			if (j < n_seen || pids[i] <= 1)
				continue;
			seen = xreallocarray(seen, n_seen + 1, sizeof *seen);
			seen[n_seen++] = pids[i];
			if (skip_pgid > 0 && (pids[i] == skip_pgid ||
			    getpgid(pids[i]) == skip_pgid))
				continue;
			fresh = true;
			if (kill(pids[i], sig) == 0)
				sent++;
			if (wake)
				kill(pids[i], SIGCONT);
		}
		free(pids);
		if (!fresh)
			break;
	}
	free(seen);
	return sent;
}

void
cgroup_remove(const char *name)
{
	char path[256];

	if (!cg.enabled || cgroup_program_path(path, sizeof path, name, NULL) == -1)
		return;
	if (unlinkat(cg.dirfd, path, AT_REMOVEDIR) == -1 && errno != ENOENT)
		log_debug("cannot remove cgroup %s/%s: %s", cg.path, path,
		    strerror(errno));
}

/*
 * At exit, back from the leaf to the daemon's cgroup, so that nothing is
 * left behind: take back the controllers enabled for the programs (those
 * of the parent only if this daemon enabled them), then move.  What fails
 * (another daemon shares the parent and uses them) leaves the leaf.
 */
static void
cgroup_leave_leaf(void)
{
	char have[256], pid[24], *word, *save = NULL;
	int parentfd;

	if (cgroup_read_file(cg.dirfd, "cgroup.subtree_control", have,
	    sizeof have) > 0)
		for (word = strtok_r(have, " \n", &save); word != NULL;
		    word = strtok_r(NULL, " \n", &save)) {
			char off[40];

			snprintf(off, sizeof off, "-%s", word);
			cgroup_write_file(cg.dirfd, "cgroup.subtree_control", off);
		}
	if ((parentfd = open(cg.parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	snprintf(have, sizeof have, "%s", cg.parent_added);
	save = NULL;
	for (word = strtok_r(have, " ", &save); word != NULL;
	    word = strtok_r(NULL, " ", &save)) {
		char off[40];

		snprintf(off, sizeof off, "-%s", word);
		cgroup_write_file(parentfd, "cgroup.subtree_control", off);
	}
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	if (cgroup_write_file(parentfd, "cgroup.procs", pid) == 0 &&
	    unlinkat(cg.dirfd, CGROUP_LEAF, AT_REMOVEDIR) == 0)
		cg.in_leaf = false;
	else
		log_debug("the daemon stays in %s/" CGROUP_LEAF ": %s", cg.path,
		    strerror(errno));
	close(parentfd);
}

void
cgroup_fini(void)
{
	struct dirent *de;
	DIR *dir;
	int fd;

	if (!cg.enabled)
		return;
	/* Programs' cgroups left by an earlier config (a reload dropped them). */
	if ((fd = fcntl(cg.dirfd, F_DUPFD_CLOEXEC, 0)) != -1 &&
	    (dir = fdopendir(fd)) != NULL) {
		while ((de = readdir(dir)) != NULL)
			if (strncmp(de->d_name, CGROUP_PREFIX,
			    strlen(CGROUP_PREFIX)) == 0)
				unlinkat(cg.dirfd, de->d_name, AT_REMOVEDIR);
		closedir(dir);
	} else if (fd != -1)
		close(fd);
	if (cg.in_leaf)
		cgroup_leave_leaf();
	close(cg.dirfd);
	cg.dirfd = -1;
	if (rmdir(cg.path) == -1)
		log_debug("cannot remove cgroup %s: %s", cg.path, strerror(errno));
	cg.enabled = false;
	free(cg.parent);
	free(cg.name);
	free(cg.path);
	cg.parent = cg.name = cg.path = NULL;
}

/* Read a small cgroup file at dirfd/path into buf: its length, or -1. */
static ssize_t
cgroup_read_file(int dirfd, const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	if ((fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* Write value into dirfd/path: 0, or -1 with errno. */
static int
cgroup_write_file(int dirfd, const char *path, const char *value)
{
	ssize_t n;
	int fd, saved;

	if ((fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC)) == -1)
		return -1;
	n = write(fd, value, strlen(value));
	saved = errno;
	close(fd);
	errno = saved;
	return n == (ssize_t)strlen(value) ? 0 : -1;
}

/* Whether word is one of the space-separated words of list. */
static bool
cgroup_has_word(const char *list, const char *word)
{
	size_t len = strlen(word);

	for (const char *at = list; (at = strstr(at, word)) != NULL; at += len)
		if ((at == list || at[-1] == ' ' || at[-1] == '\n') &&
		    (at[len] == '\0' || at[len] == ' ' || at[len] == '\n'))
			return true;
	return false;
}

void
cgroup_host_probe(bool wanted, struct cgroup_host *host)
{
	char *parent = NULL, path[4096];
	const char *why = NULL;
	bool in_leaf;
	ssize_t n;
	int fd;

	memset(host, 0, sizeof *host);
	/* A running daemon keeps what it decided at start until it restarts. */
	if (cg.decided && !cg.enabled) {
		snprintf(host->why, sizeof host->why, "%s", "the daemon runs "
		    "without cgroups until it restarts");
		return;
	}
	if (!cg.decided && !wanted) {
		snprintf(host->why, sizeof host->why, "cgroups = off");
		return;
	}
	if (cg.enabled)
		parent = strdup(cg.parent);
	else
		parent = cgroup_find_parent(&why, &in_leaf);
	if (parent == NULL) {
		snprintf(host->why, sizeof host->why, "%s", why != NULL ? why :
		    strerror(errno));
		return;
	}
	host->usable = true;
	snprintf(path, sizeof path, "%s/cgroup.controllers", parent);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, host->controllers, sizeof host->controllers - 1);
		close(fd);
		if (n > 0) {
			host->controllers[n] = '\0';
			host->controllers[strcspn(host->controllers, "\n")] = '\0';
		} else
			host->controllers[0] = '\0';
	}
	snprintf(host->where, sizeof host->where, "%s", parent);
	free(parent);
}

int
cgroup_limit_refused(const struct cgroup_host *host,
    const struct program_config *pc, char *why, size_t len)
{
	for (int i = 0; i < PCG_COUNT; i++) {
		if (!pc->cglimits[i].set)
			continue;
		if (!host->usable) {
			snprintf(why, len, "no cgroup for the program (%s)",
			    host->why);
			return i;
		}
		if (!cgroup_has_word(host->controllers,
		    cglimit_files[i].controller)) {
			snprintf(why, len, "the %s controller is not available "
			    "in %s (cgroup.controllers: %s)",
			    cglimit_files[i].controller, host->where,
			    host->controllers[0] != '\0' ? host->controllers :
			    "none");
			return i;
		}
	}
	return -1;
}

/*
 * Move the daemon into its leaf, so that its cgroup may pass controllers
 * down: 0, or -1 with errno.
 */
static int
cgroup_enter_leaf(void)
{
	char pid[24];

	if (cg.in_leaf)
		return 0;
	if ((mkdirat(cg.dirfd, CGROUP_LEAF, 0755) == -1 && errno != EEXIST))
		return -1;
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	if (cgroup_write_file(cg.dirfd, CGROUP_LEAF "/cgroup.procs", pid) == -1)
		return -1;
	cg.in_leaf = true;
	log_info("the daemon moved into its own leaf, %s/" CGROUP_LEAF
	    ", to pass controllers to its programs", cg.path);
	return 0;
}

/* Enable controller for the programs' cgroups: 0, or -1 with err filled. */
static int
cgroup_enable(const char *controller, char *err, size_t errlen)
{
	char have[256], add[32];
	int parentfd;
	bool ok = true;

	if (cgroup_read_file(cg.dirfd, "cgroup.subtree_control", have,
	    sizeof have) >= 0 && cgroup_has_word(have, controller))
		return 0;
	snprintf(add, sizeof add, "+%s", controller);
	if ((parentfd = open(cg.parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", cg.parent, strerror(errno));
		return -1;
	}
	if (cgroup_read_file(parentfd, "cgroup.subtree_control", have,
	    sizeof have) < 0 || !cgroup_has_word(have, controller)) {
		if (cgroup_enter_leaf() == -1) {
			snprintf(err, errlen, "cannot move the daemon into "
			    "%s/" CGROUP_LEAF ": %s", cg.path, strerror(errno));
			ok = false;
		} else if (cgroup_write_file(parentfd, "cgroup.subtree_control",
		    add) == -1) {
			snprintf(err, errlen, "cannot enable the %s controller "
			    "in %s: %s%s", controller, cg.parent, strerror(errno),
			    errno == EBUSY ? " (other processes share the "
			    "daemon's cgroup)" : "");
			ok = false;
		} else if (strlen(cg.parent_added) + strlen(controller) + 2 <
		    sizeof cg.parent_added) {
			strcat(cg.parent_added, " ");
			strcat(cg.parent_added, controller);
		}
	}
	close(parentfd);
	if (ok && cgroup_write_file(cg.dirfd, "cgroup.subtree_control", add) == -1) {
		snprintf(err, errlen, "cannot enable the %s controller in %s: %s",
		    controller, cg.path, strerror(errno));
		ok = false;
	}
	if (ok)
		log_info("%s controller enabled for the programs' cgroups",
		    controller);
	return ok ? 0 : -1;
}

/* A limit as its cgroup file writes it. */
static void
cgroup_limit_text(enum program_cglimit which, const struct cglimit_config *l,
    char *buf, size_t len)
{
	bool none = !l->set || l->value == LIMIT_INFINITY;

	switch (which) {
	case PCG_CPU_MAX:
		/* Percent of one CPU per period of 100 ms. */
		if (none)
			snprintf(buf, len, "max 100000");
		else
			snprintf(buf, len, "%llu 100000",
			    (unsigned long long)l->value * 1000);
		break;
	case PCG_IO_WEIGHT:
		snprintf(buf, len, "default %llu",
		    (unsigned long long)(l->set ? l->value : 100));
		break;
	default:
		if (none)
			snprintf(buf, len, "max");
		else
			snprintf(buf, len, "%llu", (unsigned long long)l->value);
	}
}

int
cgroup_apply_limits(const struct program_config *pc, char *err, size_t errlen)
{
	char path[256], text[64];

	if (!cg.enabled)
		return 0;
	for (int i = 0; i < PCG_COUNT; i++) {
		if (pc->cglimits[i].set &&
		    cgroup_enable(cglimit_files[i].controller, err, errlen) == -1)
			return -1;
	}
	/*
	 * Every limit whose file is there, set or not: the cgroup outlives a
	 * run, and a reload that drops a key must lift its limit.
	 */
	for (int i = 0; i < PCG_COUNT; i++) {
		if (cgroup_program_path(path, sizeof path, pc->name,
		    cglimit_files[i].file) == -1)
			continue;
		cgroup_limit_text((enum program_cglimit)i, &pc->cglimits[i], text,
		    sizeof text);
		if (cgroup_write_file(cg.dirfd, path, text) == -1) {
			if (errno == ENOENT && !pc->cglimits[i].set)
				continue;
			snprintf(err, errlen, "%s: cannot write '%s' to %s/%s: %s",
			    program_cglimit_key((enum program_cglimit)i), text,
			    cg.path, path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* The number after "key " in a flat keyed cgroup file, or 0. */
static unsigned long long
cgroup_keyed(const char *text, const char *key)
{
	size_t len = strlen(key);

	for (const char *at = text; at != NULL && *at != '\0';
	    at = strchr(at, '\n') ? strchr(at, '\n') + 1 : NULL)
		if (strncmp(at, key, len) == 0 && at[len] == ' ')
			return strtoull(at + len + 1, NULL, 10);
	return 0;
}

int
cgroup_usage(const char *name, struct cgroup_usage *u)
{
	char path[256], buf[1024];

	memset(u, 0, sizeof *u);
	if (!cg.enabled)
		return -1;
	if (cgroup_program_path(path, sizeof path, name, "cpu.stat") == 0 &&
	    cgroup_read_file(cg.dirfd, path, buf, sizeof buf) > 0) {
		u->has_cpu = true;
		u->cpu_usec = cgroup_keyed(buf, "usage_usec");
	}
	if (cgroup_program_path(path, sizeof path, name, "memory.current") == 0 &&
	    cgroup_read_file(cg.dirfd, path, buf, sizeof buf) > 0) {
		u->has_memory = true;
		u->memory_bytes = strtoull(buf, NULL, 10);
	}
	if (cgroup_program_path(path, sizeof path, name, "memory.events") == 0 &&
	    cgroup_read_file(cg.dirfd, path, buf, sizeof buf) > 0) {
		u->has_events = true;
		u->oom_kills = cgroup_keyed(buf, "oom_kill");
	}
	return 0;
}

int
cgroup_file_path(const char *name, const char *file, char *buf, size_t len)
{
	char rel[256];
	int n;

	if (!cg.enabled || cgroup_program_path(rel, sizeof rel, name, file) == -1)
		return -1;
	n = snprintf(buf, len, "%s/%s", cg.path, rel);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}
