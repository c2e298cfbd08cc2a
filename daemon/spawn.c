/*
 * Launch + exec with every step checked.  Everything that may allocate or look
 * up the user database happens in the parent before the launch; the child does
 * only async-signal-safe calls and reports the first step that failed, with
 * its errno, over a close-on-exec pipe, then _exit(127).  So a missing
 * binary, a bad directory or a failed setuid shows up in the log and in the
 * program's status with its cause, never as a bare exit 127.
 *
 * The launch is a clone(CLONE_VM | CLONE_VFORK) on a stack of our own, as
 * glibc's posix_spawn does: fork would copy the daemon's page tables (which
 * grow with the number of programs) and fault in copy-on-write pages for
 * every launch.  The child shares our memory only until it executes or
 * exits, and the daemon waits for that, so the shared stack is reused by
 * every launch.  Sanitizer builds, and systems where that clone fails,
 * fork instead; valgrind turns the clone into a fork by itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "spawn.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SPAWN_FORK_ONLY 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define SPAWN_FORK_ONLY 1
#endif
#endif

/*
 * The child changes credentials with the system calls themselves: the C
 * library's wrappers apply a change to every thread of the process they
 * think they are in, which is the daemon's when the child shares its memory.
 * 32-bit systems have the calls for 32-bit ids under other names.
 */
#ifdef SYS_setuid32
#define SYS_SPAWN_SETGROUPS	SYS_setgroups32
#define SYS_SPAWN_SETGID	SYS_setgid32
#define SYS_SPAWN_SETUID	SYS_setuid32
#else
#define SYS_SPAWN_SETGROUPS	SYS_setgroups
#define SYS_SPAWN_SETGID	SYS_setgid
#define SYS_SPAWN_SETUID	SYS_setuid
#endif

/* clone3's arguments up to the cgroup field (struct clone_args, Linux 5.7). */
struct spawn_clone3_args {
	uint64_t flags;
	uint64_t pidfd;
	uint64_t child_tid;
	uint64_t parent_tid;
	uint64_t exit_signal;
	uint64_t stack;
	uint64_t stack_size;
	uint64_t tls;
	uint64_t set_tid;
	uint64_t set_tid_size;
	uint64_t cgroup;
};
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP	0x200000000ULL
#endif
#if defined(SYS_clone3) && !defined(SPAWN_FORK_ONLY)
#define SPAWN_CLONE3 1
#if defined(__x86_64__) && defined(__linux__)
#define SPAWN_CLONE3_VM 1
#endif
#endif

#ifdef SPAWN_CLONE3_VM
/*
 * clone3 with a stack of the child's own, on which it calls fn(arg) and
 * exits with what fn returns: what glibc's clone() does for clone, which
 * the C library offers for clone3 only from glibc 2.39 on (inside
 * posix_spawn).  The child cannot return from a C function into a frame on
 * a stack it does not have, so this is written in assembly.  Returns the
 * pid, or -errno.  (rcx and r11 are the registers the syscall clobbers: fn
 * stays in rdx, arg moves to r8; the kernel starts the child on args->stack
 * + stack_size, 16-byte aligned, as a call expects.)
 */
long spawn_clone3_vm(struct spawn_clone3_args *args, size_t size,
    int (*fn)(void *), void *arg) __attribute__((visibility("hidden")));
__asm__(
	"	.text\n"
	"	.globl spawn_clone3_vm\n"
	"	.hidden spawn_clone3_vm\n"
	"	.type spawn_clone3_vm, @function\n"
	"spawn_clone3_vm:\n"
	"	mov %rcx, %r8\n"
	"	mov $435, %eax\n"		/* __NR_clone3 */
	"	syscall\n"
	"	test %rax, %rax\n"
	"	jz 1f\n"
	"	ret\n"
	"1:	xor %ebp, %ebp\n"
	"	mov %r8, %rdi\n"
	"	call *%rdx\n"
	"	mov %eax, %edi\n"
	"	mov $60, %eax\n"		/* __NR_exit */
	"	syscall\n"
	"	hlt\n"
	"	.size spawn_clone3_vm, .-spawn_clone3_vm\n");
#endif

/*
 * How long a vfork-style launch waits for the child's copy of the report
 * pipe to close (see spawn_await_report): microseconds as a rule; the bound
 * only matters where the launch was a fork in disguise (valgrind).
 */
#define SPAWN_REPORT_WAIT_MS	100

/* The child's stack: spawn_child and execve need a few KiB; room to spare. */
#define SPAWN_STACK_SIZE	(256 * 1024)

extern char **environ;

static struct rlimit child_nofile;
static bool child_nofile_set;
/* clone3 into a cgroup failed for want of support: children join instead. */
static bool clone3_unusable;
#ifndef SPAWN_FORK_ONLY
static void *clone_stack;	/* MAP_FAILED: clone is not to be used */
#endif

enum spawn_step {
	STEP_CGROUP = 1,
	STEP_SETSID,
	STEP_STDIN,
	STEP_STDOUT,
	STEP_STDERR,
	STEP_CLOSE,
	STEP_SETGROUPS,
	STEP_SETGID,
	STEP_SETUID,
	STEP_CHDIR,
	STEP_RLIMIT,
	STEP_EXEC,
};

static const char *const step_names[] = {
	[STEP_CGROUP] = "join cgroup",
	[STEP_SETSID] = "setsid",
	[STEP_STDIN] = "stdin",
	[STEP_STDOUT] = "stdout",
	[STEP_STDERR] = "stderr",
	[STEP_CLOSE] = "close descriptors",
	[STEP_SETGROUPS] = "setgroups",
	[STEP_SETGID] = "setgid",
	[STEP_SETUID] = "setuid",
	[STEP_CHDIR] = "chdir",
	[STEP_RLIMIT] = "setrlimit",
	[STEP_EXEC] = "exec",
};

struct spawn_report {
	int step;		/* 0: none */
	int err;
};

/*
 * Where the child says which step failed.  A child that shares our memory
 * (CLONE_VM) writes the report into it: we resume only once it has
 * executed or exited, so it is there when the launch returns, at no cost.
 * Any other child writes into a pipe, made for it alone.  So does the
 * first child cloned with CLONE_VM, which also marks our memory, to prove
 * it shares it: valgrind runs such a clone as a fork.
 */
struct spawn_channel {
	struct spawn_report shared;
	bool vm;		/* cloned with CLONE_VM */
	bool touched;		/* the child marked this: it shares our memory */
	int pipe[2];		/* { -1, -1 } when no pipe is needed */
	bool pipe_failed;
};

/* Whether children cloned with CLONE_VM do share our memory. */
static enum { VM_UNPROVEN, VM_SHARED, VM_COPIED } clone_vm_memory;

/* What the child needs, prepared by the parent. */
struct spawn_plan {
	const struct spawn_request *req;
	char **envp;
	char **paths;		/* candidate paths for argv[0] */
	bool drop;		/* change credentials */
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	int ngroups;
	int devnull;
	int cgroup_procs_fd;	/* the child joins its cgroup by this, or -1 */
	bool forked;		/* launched by fork: we did not wait for the child */
};

static int spawn_prepare(const struct spawn_request *req, struct spawn_plan *plan,
    char *err, size_t errlen);
static void spawn_plan_free(struct spawn_plan *plan);
static char **spawn_environment(const struct spawn_request *req,
    const struct passwd *pw);
static char **spawn_candidates(const char *file, char **envp);
static void spawn_child(const struct spawn_plan *plan,
    struct spawn_channel *ch) __attribute__((noreturn));
static void spawn_fail(struct spawn_channel *ch, int step)
    __attribute__((noreturn));
static void spawn_journal(const struct spawn_request *req);
static size_t spawn_put(char *buf, size_t at, size_t len, const char *s);
static size_t spawn_put_number(char *buf, size_t at, size_t len,
    unsigned long long v);
static int spawn_channel_pipe(struct spawn_channel *ch);
static void spawn_describe(const struct spawn_request *req,
    const struct spawn_report *r, char *err, size_t errlen);
static char *spawn_strdup(const char *s);
static int spawn_cloexec_from(int lowfd);
static pid_t spawn_launch(struct spawn_plan *plan, struct spawn_channel *ch);
static void spawn_await_report(int fd);
static pid_t spawn_launch_into_cgroup(const struct spawn_plan *plan,
    struct spawn_channel *ch);
#ifndef SPAWN_FORK_ONLY
static int spawn_clone_entry(void *arg);
static void *spawn_stack(void);

/* What the cloned child is handed: it runs on a stack of its own. */
struct spawn_clone_args {
	const struct spawn_plan *plan;
	struct spawn_channel *ch;
};
#endif

/* Mark every descriptor from lowfd up close-on-exec in one call. */
static int
spawn_cloexec_from(int lowfd)
{
#ifdef SYS_close_range
	return (int)syscall(SYS_close_range, (unsigned)lowfd, ~0U,
	    CLOSE_RANGE_CLOEXEC);
#else
	errno = ENOSYS;
	return -1;
#endif
}

/* strdup that treats running out of memory as fatal. */
static char *
spawn_strdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		fatal("strdup");
	return d;
}

/* Build the program's environment: the daemon's, user variables, overrides. */
static char **
spawn_environment(const struct spawn_request *req, const struct passwd *pw)
{
	size_t n = 0, extra = 0, ours = 0, k = 0;
	char **envp;

	while (environ[n] != NULL)
		n++;
	if (req->environment != NULL)
		while (req->environment[extra] != NULL)
			extra++;
	for (size_t i = 0; req->daemon_environment != NULL &&
	    req->daemon_environment[i] != NULL; i++)
		ours++;
	if ((envp = calloc(n + extra + ours + 4, sizeof *envp)) == NULL)
		fatal("calloc");
	for (size_t i = 0; i < n; i++) {
		/* A program run as another user gets that user's identity. */
		if (pw != NULL && (strncmp(environ[i], "USER=", 5) == 0 ||
		    strncmp(environ[i], "LOGNAME=", 8) == 0 ||
		    strncmp(environ[i], "HOME=", 5) == 0))
			continue;
		/* The notify socket is the daemon's, not its programs'. */
		if (strncmp(environ[i], "NOTIFY_SOCKET=", 14) == 0 ||
		    strncmp(environ[i], "WATCHDOG_USEC=", 14) == 0 ||
		    strncmp(environ[i], "WATCHDOG_PID=", 13) == 0)
			continue;
		envp[k++] = spawn_strdup(environ[i]);
	}
	if (pw != NULL) {
		if (asprintf(&envp[k++], "USER=%s", pw->pw_name) == -1 ||
		    asprintf(&envp[k++], "LOGNAME=%s", pw->pw_name) == -1 ||
		    asprintf(&envp[k++], "HOME=%s", pw->pw_dir) == -1)
			fatal("asprintf");
	}
	for (size_t i = 0; i < extra; i++) {
		const char *kv = req->environment[i];
		size_t klen = strcspn(kv, "=") + 1;
		size_t j;

		for (j = 0; j < k; j++)
			if (strncmp(envp[j], kv, klen) == 0)
				break;
		if (j < k) {
			free(envp[j]);
			envp[j] = spawn_strdup(kv);
		} else
			envp[k++] = spawn_strdup(kv);
	}
	for (size_t i = 0; req->daemon_environment != NULL &&
	    req->daemon_environment[i] != NULL; i++) {
		const char *kv = req->daemon_environment[i];
		size_t klen = strcspn(kv, "=") + 1;
		size_t j;

		for (j = 0; j < k && strncmp(envp[j], kv, klen) != 0; j++)
			;
		if (j < k)
			free(envp[j]);
		envp[j == k ? k++ : j] = spawn_strdup(kv);
	}
	envp[k] = NULL;
	return envp;
}

/* The paths to try for file: itself when it has a '/', else along PATH. */
static char **
spawn_candidates(const char *file, char **envp)
{
	const char *path = "/usr/local/bin:/usr/bin:/bin";
	char **v;
	size_t n = 1, k = 0;

	if (strchr(file, '/') != NULL) {
		if ((v = calloc(2, sizeof *v)) == NULL)
			fatal("calloc");
		v[0] = spawn_strdup(file);
		return v;
	}
	for (char **e = envp; *e != NULL; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path = *e + 5;
	for (const char *s = path; *s != '\0'; s++)
		n += *s == ':';
	if ((v = calloc(n + 1, sizeof *v)) == NULL)
		fatal("calloc");
	for (const char *s = path;;) {
		size_t len = strcspn(s, ":");

		/* An empty element means the current directory, as in execvp. */
		if (asprintf(&v[k++], "%.*s%s%s", (int)len, s, len ? "/" : "",
		    file) == -1)
			fatal("asprintf");
		if (s[len] == '\0')
			break;
		s += len + 1;
	}
	return v;
}

/* Resolve everything the child needs; -1 with err when it cannot be done. */
static int
spawn_prepare(const struct spawn_request *req, struct spawn_plan *plan,
    char *err, size_t errlen)
{
	struct passwd *pw = NULL;

	memset(plan, 0, sizeof *plan);
	plan->req = req;
	plan->devnull = -1;
	plan->cgroup_procs_fd = -1;
	if (req->user != NULL) {
		errno = 0;
		if ((pw = getpwnam(req->user)) == NULL) {
			snprintf(err, errlen, "unknown user %s", req->user);
			return -1;
		}
		plan->drop = true;
		plan->uid = pw->pw_uid;
		plan->gid = pw->pw_gid;
	}
	if (req->group != NULL) {
		struct group *gr;

		if ((gr = getgrnam(req->group)) == NULL) {
			snprintf(err, errlen, "unknown group %s", req->group);
			return -1;
		}
		if (!plan->drop) {
			plan->drop = true;
			plan->uid = geteuid();
		}
		plan->gid = gr->gr_gid;
	}
	if (pw != NULL) {
		int n = 32;

		/* initgroups' list, computed here: the child may not use NSS. */
		for (;;) {
			if ((plan->groups = realloc(plan->groups, n * sizeof(gid_t))) == NULL)
				fatal("realloc");
			if (getgrouplist(pw->pw_name, plan->gid, plan->groups, &n) != -1)
				break;
		}
		plan->ngroups = n;
	} else if (plan->drop) {
		if ((plan->groups = malloc(sizeof(gid_t))) == NULL)
			fatal("malloc");
		plan->groups[0] = plan->gid;
		plan->ngroups = 1;
	}
	/*
	 * A daemon without root that is asked for the identity it already has
	 * keeps it: setgroups would fail for nothing.  Asked for another one,
	 * the drop goes ahead and its failure names the cause.
	 */
	if (plan->drop && geteuid() != 0 && plan->uid == geteuid() &&
	    plan->gid == getegid())
		plan->drop = false;
	plan->envp = spawn_environment(req, pw);
	plan->paths = spawn_candidates(req->argv[0], plan->envp);
	if ((plan->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "open /dev/null: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Free what spawn_prepare allocated. */
static void
spawn_plan_free(struct spawn_plan *plan)
{
	if (plan->envp != NULL)
		for (char **e = plan->envp; *e != NULL; e++)
			free(*e);
	free(plan->envp);
	if (plan->paths != NULL)
		for (char **e = plan->paths; *e != NULL; e++)
			free(*e);
	free(plan->paths);
	free(plan->groups);
	if (plan->devnull != -1)
		close(plan->devnull);
	if (plan->cgroup_procs_fd != -1)
		close(plan->cgroup_procs_fd);
}

/* Tell the parent which step failed, and exit. */
static void
spawn_fail(struct spawn_channel *ch, int step)
{
	struct spawn_report r = { step, errno };
	ssize_t unused;

	if (ch->pipe[1] == -1)
		ch->shared = r;
	else {
		unused = write(ch->pipe[1], &r, sizeof r);
		(void)unused;
	}
	_exit(127);
}

/* Append s to buf at at, as far as it fits; async-signal-safe. */
static size_t
spawn_put(char *buf, size_t at, size_t len, const char *s)
{
	while (*s != '\0' && at < len)
		buf[at++] = *s++;
	return at;
}

/* Append v in decimal; async-signal-safe. */
static size_t
spawn_put_number(char *buf, size_t at, size_t len, unsigned long long v)
{
	char digits[24];
	int n = 0;

	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0 && at < len)
		buf[at++] = digits[--n];
	return at;
}

/*
 * In the child, just before execve: append the launch record to the state
 * journal with one write() (O_APPEND: whole, never interleaved).  Only raw
 * system calls: the child may share the daemon's memory.  A record that
 * cannot be written costs the crash guarantee for this launch, not the
 * launch.
 */
static void
spawn_journal(const struct spawn_request *req)
{
	char stat[1024], line[256], *p = NULL;
	unsigned long long start = 0;
	size_t at = 0;
	ssize_t n;
	int fd;

	if (req->journal_fd < 0 || req->journal_name == NULL)
		return;
	if ((fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC)) == -1)
		return;
	n = read(fd, stat, sizeof stat - 1);
	close(fd);
	if (n <= 0)
		return;
	stat[n] = '\0';
	/* Field 22, counted after the last ')' (the name may hold anything). */
	for (ssize_t i = n - 1; i >= 0 && p == NULL; i--)
		if (stat[i] == ')')
			p = stat + i + 2;
	for (int field = 3; p != NULL && p < stat + n && field < 22; p++)
		if (*p == ' ')
			field++;
	if (p == NULL || p >= stat + n)
		return;
	for (; *p >= '0' && *p <= '9'; p++)
		start = start * 10 + (unsigned long long)(*p - '0');
	at = spawn_put(line, at, sizeof line, "L ");
	at = spawn_put(line, at, sizeof line, req->journal_name);
	at = spawn_put(line, at, sizeof line, " ");
	at = spawn_put_number(line, at, sizeof line,
	    (unsigned long long)syscall(SYS_getpid));
	at = spawn_put(line, at, sizeof line, " ");
	at = spawn_put_number(line, at, sizeof line, start);
	at = spawn_put(line, at, sizeof line, " ");
	at = spawn_put(line, at, sizeof line, req->journal_hash);
	at = spawn_put(line, at, sizeof line, "\n");
	if (at < sizeof line && start != 0) {
		n = write(req->journal_fd, line, at);
		(void)n;
	}
}

/* The pipe for a child with a copy of our memory, made once. */
static int
spawn_channel_pipe(struct spawn_channel *ch)
{
	if (ch->vm && clone_vm_memory == VM_SHARED)
		return 0;
	if (ch->pipe[0] != -1)
		return 0;
	if (pipe2(ch->pipe, O_CLOEXEC) == -1) {
		ch->pipe_failed = true;
		return -1;
	}
	return 0;
}

/* Runs in the child between fork and exec: async-signal-safe calls only. */
static void
spawn_child(const struct spawn_plan *plan, struct spawn_channel *ch)
{
	const struct spawn_request *req = plan->req;
	struct sigaction sa;
	sigset_t none;
	int exec_errno = ENOENT;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	/* "0" is the writer itself; done while still privileged, before any fork. */
	if (plan->cgroup_procs_fd != -1 && write(plan->cgroup_procs_fd, "0", 1) != 1)
		spawn_fail(ch, STEP_CGROUP);
	if (setsid() == -1)
		spawn_fail(ch, STEP_SETSID);
	if (dup2(req->has_stdin ? req->stdin_fd : plan->devnull, 0) == -1)
		spawn_fail(ch, STEP_STDIN);
	if (dup2(req->stdout_fd, 1) == -1)
		spawn_fail(ch, STEP_STDOUT);
	if (dup2(req->stderr_fd, 2) == -1)
		spawn_fail(ch, STEP_STDERR);
	/* Belt and braces: every descriptor of ours is O_CLOEXEC already. */
	if (spawn_cloexec_from(3) == -1) {
		long max = sysconf(_SC_OPEN_MAX);

		for (int fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
			if (fd != ch->pipe[1])
				fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	/* After the close-on-exec sweep: dup2 leaves the new one open. */
	if (req->extra_fd != -1 && req->extra_fd_num != ch->pipe[1] &&
	    dup2(req->extra_fd, req->extra_fd_num) == -1)
		spawn_fail(ch, STEP_STDERR);
	for (int i = 0; i < req->n_rlimits; i++)
		if (setrlimit(req->rlimits[i].resource, &req->rlimits[i].rl) == -1)
			spawn_fail(ch, STEP_RLIMIT);
	if (plan->drop) {
		if (syscall(SYS_SPAWN_SETGROUPS, (size_t)plan->ngroups, plan->groups) == -1)
			spawn_fail(ch, STEP_SETGROUPS);
		if (syscall(SYS_SPAWN_SETGID, plan->gid) == -1)
			spawn_fail(ch, STEP_SETGID);
		if (syscall(SYS_SPAWN_SETUID, plan->uid) == -1)
			spawn_fail(ch, STEP_SETUID);
	}
	if (child_nofile_set && !req->sets_nofile && setrlimit(RLIMIT_NOFILE, &child_nofile) == -1)
		spawn_fail(ch, STEP_RLIMIT);
	umask((mode_t)req->umask);
	if (chdir(req->directory != NULL ? req->directory : "/") == -1)
		spawn_fail(ch, STEP_CHDIR);
	spawn_journal(req);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (char **path = plan->paths; *path != NULL; path++) {
		execve(*path, req->argv, plan->envp);
		/* Like execvp: remember a more telling error than ENOENT. */
		if (errno != ENOENT && errno != ENOTDIR)
			exec_errno = errno;
	}
	errno = exec_errno;
	spawn_fail(ch, STEP_EXEC);
}

#ifndef SPAWN_FORK_ONLY
/* The children's stack, mapped at the first launch; NULL when it cannot be. */
static void *
spawn_stack(void)
{
	if (clone_stack == NULL) {
		clone_stack = mmap(NULL, SPAWN_STACK_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		if (clone_stack == MAP_FAILED)
			log_warn("%s: no stack for clone; using fork", __func__);
	}
	return clone_stack == MAP_FAILED ? NULL : clone_stack;
}

/* Start of the cloned child: the same steps as after fork. */
static int
spawn_clone_entry(void *arg)
{
	const struct spawn_clone_args *a = arg;

	a->ch->touched = true;
	spawn_child(a->plan, a->ch);
}
#endif

/*
 * Start the child in its cgroup (clone3 with CLONE_INTO_CGROUP): nothing to
 * migrate, so no wait for the kernel's cgroup lock.  With CLONE_VFORK we
 * resume once it has executed or failed, its report written.  On x86-64 it
 * shares our memory until then, on a stack of its own (CLONE_VM, as the
 * plain launch); elsewhere it runs on a copy, as after fork.  Where clone3
 * or CLONE_INTO_CGROUP is missing (or a seccomp filter refuses clone3, as
 * container runtimes do), clone3_unusable is set and -1 returned.
 */
static pid_t
spawn_launch_into_cgroup(const struct spawn_plan *plan, struct spawn_channel *ch)
{
#ifdef SPAWN_CLONE3
	struct spawn_clone3_args a;
	pid_t pid;

	if (!clone3_unusable) {
		memset(&a, 0, sizeof a);
		a.flags = CLONE_VFORK | CLONE_INTO_CGROUP;
		a.exit_signal = SIGCHLD;
		a.cgroup = (uint64_t)plan->req->cgroup_fd;
#ifdef SPAWN_CLONE3_VM
		if (spawn_stack() != NULL) {
			struct spawn_clone_args ca = { plan, ch };
			long r;

			ch->vm = true;
			if (spawn_channel_pipe(ch) == -1)
				return -1;
			a.flags |= CLONE_VM;
			a.stack = (uint64_t)(uintptr_t)clone_stack;
			a.stack_size = SPAWN_STACK_SIZE;
			r = spawn_clone3_vm(&a, sizeof a, spawn_clone_entry, &ca);
			if (r < 0)
				errno = (int)-r;
			pid = r < 0 ? -1 : (pid_t)r;
		} else
#endif
		{
			ch->vm = false;
			if (spawn_channel_pipe(ch) == -1)
				return -1;
			pid = (pid_t)syscall(SYS_clone3, &a, sizeof a);
			if (pid == 0) {
				close(ch->pipe[0]);
				spawn_child(plan, ch);
			}
		}
		if (pid != -1 || (errno != ENOSYS && errno != E2BIG &&
		    errno != EINVAL && errno != EPERM))
			return pid;
		log_info("programs join their cgroups after start (clone3: %s)",
		    strerror(errno));
	}
#endif
	clone3_unusable = true;
	errno = ENOSYS;
	return -1;
}

/*
 * Create the child, which runs spawn_child; with signals blocked.  With
 * CLONE_VFORK the call returns once the child has executed or failed, so
 * its report is already written (into ch).
 */
static pid_t
spawn_launch(struct spawn_plan *plan, struct spawn_channel *ch)
{
	pid_t pid;

	if (plan->req->cgroup_fd != -1 && plan->cgroup_procs_fd == -1) {
		if ((pid = spawn_launch_into_cgroup(plan, ch)) != -1 ||
		    !clone3_unusable)
			return pid;
		/* Not supported here: the child joins its cgroup itself. */
		plan->cgroup_procs_fd = openat(plan->req->cgroup_fd,
		    "cgroup.procs", O_WRONLY | O_CLOEXEC);
		if (plan->cgroup_procs_fd == -1)
			return -1;
	}
#ifndef SPAWN_FORK_ONLY
	if (spawn_stack() != NULL) {
		struct spawn_clone_args a = { plan, ch };

		ch->vm = true;
		if (spawn_channel_pipe(ch) == -1)
			return -1;
		pid = clone(spawn_clone_entry, (char *)clone_stack + SPAWN_STACK_SIZE,
		    CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
		if (pid != -1 || (errno != ENOSYS && errno != EINVAL))
			return pid;
		log_warn("%s: clone; using fork from now on", __func__);
		munmap(clone_stack, SPAWN_STACK_SIZE);
		clone_stack = MAP_FAILED;
	}
#endif
	plan->forked = true;
	ch->vm = false;
	if (spawn_channel_pipe(ch) == -1)
		return -1;
	if ((pid = fork()) == 0) {
		close(ch->pipe[0]);
		spawn_child(plan, ch);
	}
	return pid;
}

/*
 * A vfork-style launch lets us go once the child has exited or its exec
 * has replaced our memory, but an exec closes the child's close-on-exec
 * descriptors only after that, so the report pipe may still look open.
 * Wait for its end (a report, or EOF), briefly: else the caller keeps the
 * pipe until the loop comes back to it, and a start of thousands of
 * programs in one loop turn keeps thousands of them open, which every
 * later launch copies and every child closes again.
 */
static void
spawn_await_report(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	while (poll(&pfd, 1, SPAWN_REPORT_WAIT_MS) == -1 && errno == EINTR)
		continue;
}

void
spawn_set_nofile(const struct rlimit *rl)
{
	child_nofile = *rl;
	child_nofile_set = true;
}

pid_t
spawn_process(const struct spawn_request *req, struct spawn_status *st,
    char *err, size_t errlen)
{
	struct spawn_channel ch = { .pipe = { -1, -1 } };
	struct spawn_plan plan;
	sigset_t all, old;
	pid_t pid;
	bool forked;

	st->fd = -1;
	st->failed = false;
	st->error[0] = '\0';
	if (spawn_prepare(req, &plan, err, errlen) == -1) {
		spawn_plan_free(&plan);
		return -1;
	}
	/* No handler of the daemon may run in the child before it resets them. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = spawn_launch(&plan, &ch);
	if (pid == -1)
		snprintf(err, errlen, "%s: %s", ch.pipe_failed ? "pipe" : "fork",
		    strerror(errno));
	sigprocmask(SIG_SETMASK, &old, NULL);
	/* The child has its copy (or has executed): ours goes at once. */
	if (ch.pipe[1] != -1)
		close(ch.pipe[1]);
	forked = plan.forked;
	spawn_plan_free(&plan);
	if (pid == -1) {
		if (ch.pipe[0] != -1)
			close(ch.pipe[0]);
		return -1;
	}
	if (ch.vm && clone_vm_memory == VM_UNPROVEN) {
		clone_vm_memory = ch.touched ? VM_SHARED : VM_COPIED;
		if (!ch.touched)
			log_info("children cloned with CLONE_VM get a copy of the "
			    "daemon's memory here (as under valgrind): exec "
			    "reports come through pipes");
	}
	if (ch.pipe[0] == -1) {
		/* It shared our memory, and has executed or failed by now. */
		if (ch.shared.step != 0) {
			st->failed = true;
			spawn_describe(req, &ch.shared, st->error, sizeof st->error);
		}
		return pid;
	}
	if (!forked)
		spawn_await_report(ch.pipe[0]);
	fcntl(ch.pipe[0], F_SETFL, O_NONBLOCK);
	switch (spawn_read_status(ch.pipe[0], req, st->error, sizeof st->error)) {
	case -1:
		st->fd = ch.pipe[0];	/* forked: the report comes later */
		return pid;
	case 1:
		st->failed = true;
		break;
	}
	close(ch.pipe[0]);
	return pid;
}

int
spawn_read_status(int status_fd, const struct spawn_request *req, char *err,
    size_t errlen)
{
	struct spawn_report r;
	ssize_t n;

	do
		n = read(status_fd, &r, sizeof r);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return errno == EAGAIN ? -1 : 0;
	if (n != (ssize_t)sizeof r)
		return 0;
	spawn_describe(req, &r, err, errlen);
	return 1;
}

/* Say which step of the child failed, and why. */
static void
spawn_describe(const struct spawn_request *req, const struct spawn_report *r,
    char *err, size_t errlen)
{
	int step = r->step < 1 || r->step > STEP_EXEC ? STEP_EXEC : r->step;

	if (step == STEP_EXEC)
		snprintf(err, errlen, "exec %s: %s", req->argv[0], strerror(r->err));
	else if (step == STEP_CHDIR)
		snprintf(err, errlen, "chdir %s: %s",
		    req->directory ? req->directory : "/", strerror(r->err));
	else if (step == STEP_SETUID || step == STEP_SETGID ||
	    step == STEP_SETGROUPS)
		snprintf(err, errlen, "%s for %s: %s", step_names[step],
		    req->user ? req->user : req->group, strerror(r->err));
	else
		snprintf(err, errlen, "%s: %s", step_names[step], strerror(r->err));
}
