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
 * start can be outside it.  No controller is
 * enabled: the cgroups only hold processes together, so the daemon may stay
 * where it is (the no-internal-process rule is about controllers).
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
#include <sys/xattr.h>
#include <unistd.h>

#include "cgroup.h"
#include "log.h"

#define CGROUP_PREFIX	"program-"
/* Passes over cgroup.procs for processes forked while we signal. */
#define CGROUP_SIGNAL_PASSES	8

static struct {
	bool enabled;
	int dirfd;		/* the daemon's folder, safeexitd-KEY */
	bool has_kill;		/* cgroup.kill (Linux 5.14) */
	char *parent;		/* the daemon's own cgroup, a path */
	char *name;		/* safeexitd-KEY */
	char *path;		/* parent/name, for logs */
} cg = { .dirfd = -1 };

static char *cgroup_self(void);
static char *cgroup_mount_for(char *self);
static bool cgroup_delegated(const char *dir, const char *self);
static void cgroup_unescape(char *s);
static int cgroup_read_pids(const char *name, pid_t **pids, size_t *n);
static int cgroup_program_path(char *buf, size_t len, const char *name,
    const char *file);

void
cgroup_init(bool wanted, const char *instance)
{
	char *self = NULL, *mount = NULL;
	const char *why = NULL;
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */
	int parentfd = -1;

	if (!wanted) {
		log_info("cgroups = off: programs are held by their process groups");
		return;
	}
	if ((self = cgroup_self()) == NULL)
		why = "no cgroup v2 hierarchy";
	else if ((mount = cgroup_mount_for(self)) == NULL)
		why = "cgroup v2 is not mounted";
	if (why == NULL) {
		const char *rel = self;

		/* The mount's root is a prefix of our path, cut off by cgroup_mount_for. */
		if (asprintf(&cg.parent, "%s%s", mount,
		    strcmp(rel, "/") == 0 ? "" : rel) == -1)
			fatal("asprintf");
		if (!cgroup_delegated(cg.parent, self))
			why = "the daemon's cgroup is not delegated to it";
	}
	if (why == NULL) {
		for (const char *c = instance; *c != '\0'; c++)
			h = (h ^ (unsigned char)*c) * 1099511628211ULL;
		if (asprintf(&cg.name, "safeexitd-%016llx", (unsigned long long)h) == -1 ||
		    asprintf(&cg.path, "%s/%s", cg.parent, cg.name) == -1)
			fatal("asprintf");
		if ((parentfd = open(cg.parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
		    (mkdirat(parentfd, cg.name, 0755) == -1 && errno != EEXIST) ||
		    (cg.dirfd = openat(parentfd, cg.name,
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
			why = strerror(errno);
	}
	if (parentfd != -1)
		close(parentfd);
	free(self);
	free(mount);
	if (why != NULL) {
		log_info("no cgroup per program (%s): programs are held by their "
		    "process groups", why);
		free(cg.parent);
		free(cg.name);
		free(cg.path);
		cg.parent = cg.name = cg.path = NULL;
		return;
	}
	cg.has_kill = faccessat(cg.dirfd, "cgroup.kill", F_OK, 0) == 0;
	cg.enabled = true;
	log_notice("programs run in a cgroup each under %s", cg.path);
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
				if ((*pids = realloc(*pids, cap * sizeof **pids)) == NULL)
					fatal("%s", __func__);
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
			if ((seen = realloc(seen, (n_seen + 1) * sizeof *seen)) == NULL)
				fatal("%s", __func__);
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
