/*
 * The floor: the least a supervisor can do for the same work.  It
 * posix_spawns N children detached the way safeexitd launches programs (own
 * session, stdin/stdout/stderr on the null device), reaps them through a
 * signalfd, optionally replaces one that dies (-r), and stops them the way
 * the daemon does: the highest tier first, SIGTERM to each child's process
 * group, SIGKILL to what outlives the grace period, the next tier once every
 * child of this one is reaped.  No config, no socket, no bookkeeping beyond
 * a table of pids.
 *
 *	floor -n N [-g GRACE] [-T TIERS] [-r] [-f] -- CHILD [ARG...]
 *
 * -f launches with fork + execve instead of posix_spawn: posix_spawn's
 * parent waits until the child has executed, fork's goes on at once, so on
 * more than one CPU the next launch overlaps the last one's exec.
 *
 * Child i runs as `CHILD --tag i ARG...` and belongs to tier i % TIERS.
 * Commands, one per line on stdin: `stop` (stop everything, report, keep
 * running), `shutdown` (the same, then exit).  Reports on stdout:
 * `spawned T` once every child is launched, `done T` when a stop is over
 * (T: CLOCK_MONOTONIC nanoseconds).  End of input kills the children and
 * exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct kid {
	pid_t pid;		/* 0 once reaped */
	int tier;
};

static struct kid *kids;
static long n_kids;
static long *slots;		/* open addressing: pid -> index + 1, 0 free */
static size_t slot_mask;
static long *tier_live;		/* live children per tier */
static int tiers = 1;
static double grace = 10;
static bool respawn;
static bool use_fork;
static int null_fd;
static bool stopping;
static int tier_now = -1;	/* the tier being stopped */
static double deadline;		/* its grace period ends, 0 once killed */
static char **child_argv;	/* CHILD --tag SLOT ARG... */
static char tag_buf[32];
static posix_spawnattr_t attr;
static posix_spawn_file_actions_t fa;

static double now(void);
static long long now_ns(void);
static void spawn_kid(long i);
static void reap(void);
static void slot_put(pid_t pid, long i);
static long slot_take(pid_t pid);
static void signal_tier(int tier, int sig);
static void advance(void);

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Launch child i in a session of its own. */
static void
spawn_kid(long i)
{
	pid_t pid;
	int err;

	snprintf(tag_buf, sizeof tag_buf, "%ld", i);
	if (use_fork) {
		sigset_t none;

		if ((pid = fork()) == -1) {
			perror("floor: fork");
			exit(1);
		}
		if (pid == 0) {
			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
			setsid();
			dup2(null_fd, 0);
			dup2(null_fd, 1);
			dup2(null_fd, 2);
			execve(child_argv[0], child_argv, environ);
			_exit(127);
		}
	} else if ((err = posix_spawn(&pid, child_argv[0], &fa, &attr, child_argv,
	    environ)) != 0) {
		fprintf(stderr, "floor: posix_spawn: %s\n", strerror(err));
		exit(1);
	}
	kids[i].pid = pid;
	tier_live[kids[i].tier]++;
	slot_put(pid, i);
}

/* Remember that pid is child i. */
static void
slot_put(pid_t pid, long i)
{
	size_t h = (size_t)pid * 2654435761u & slot_mask;

	while (slots[h] != 0)
		h = (h + 1) & slot_mask;
	slots[h] = i + 1;
}

/* The child whose pid this is, forgotten from the table; -1 if none. */
static long
slot_take(pid_t pid)
{
	size_t h = (size_t)pid * 2654435761u & slot_mask;

	for (; slots[h] != 0; h = (h + 1) & slot_mask) {
		long i = slots[h] - 1;

		if (kids[i].pid != pid)
			continue;
		/* Re-insert the rest of the cluster so lookups still find it. */
		slots[h] = 0;
		for (size_t j = (h + 1) & slot_mask; slots[j] != 0;
		    j = (j + 1) & slot_mask) {
			long k = slots[j];

			slots[j] = 0;
			slot_put(kids[k - 1].pid, k - 1);
		}
		return i;
	}
	return -1;
}

/* Reap everything that exited; replace it unless stopping. */
static void
reap(void)
{
	pid_t pid;

	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) {
		long i = slot_take(pid);

		if (i < 0)
			continue;
		kids[i].pid = 0;
		tier_live[kids[i].tier]--;
		if (respawn && !stopping)
			spawn_kid(i);
	}
}

static void
signal_tier(int tier, int sig)
{
	for (long i = 0; i < n_kids; i++)
		if (kids[i].tier == tier && kids[i].pid != 0)
			kill(-kids[i].pid, sig);
}

/* Move through the tiers that are done; report when the last one is. */
static void
advance(void)
{
	while (tier_now >= 0 && tier_live[tier_now] == 0) {
		if (--tier_now >= 0) {
			signal_tier(tier_now, SIGTERM);
			deadline = now() + grace;
		}
	}
	if (tier_now < 0) {
		printf("done %lld\n", now_ns());
		fflush(stdout);
		stopping = false;
		deadline = 0;
	}
}

int
main(int argc, char **argv)
{
	bool exit_after = false;
	sigset_t chld, none;
	char line[64];
	size_t line_len = 0;
	int opt, sfd, nullfd;
	long n = 0;

	while ((opt = getopt(argc, argv, "n:g:T:rf")) != -1) {
		switch (opt) {
		case 'n':
			n = strtol(optarg, NULL, 10);
			break;
		case 'g':
			grace = strtod(optarg, NULL);
			break;
		case 'T':
			tiers = (int)strtol(optarg, NULL, 10);
			break;
		case 'r':
			respawn = true;
			break;
		case 'f':
			use_fork = true;
			break;
		default:
			return 2;
		}
	}
	if (n <= 0 || tiers <= 0 || optind >= argc) {
		fprintf(stderr, "usage: floor -n N [-g GRACE] [-T TIERS] [-r] [-f] -- CHILD [ARG...]\n");
		return 2;
	}
	n_kids = n;
	for (slot_mask = 1; slot_mask < (size_t)n * 2; slot_mask <<= 1)
		;
	if ((slots = calloc(slot_mask, sizeof *slots)) == NULL ||
	    (tier_live = calloc((size_t)tiers, sizeof *tier_live)) == NULL)
		return 1;
	slot_mask--;
	if ((kids = calloc((size_t)n, sizeof *kids)) == NULL ||
	    (child_argv = calloc((size_t)(argc - optind + 3), sizeof *child_argv)) == NULL)
		return 1;
	child_argv[0] = argv[optind];
	child_argv[1] = "--tag";
	child_argv[2] = tag_buf;
	for (int i = optind + 1; i < argc; i++)
		child_argv[i - optind + 2] = argv[i];

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	if ((sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK)) == -1)
		return 1;

	if ((nullfd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		return 1;
	null_fd = nullfd;
	sigemptyset(&none);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, nullfd, 0);
	posix_spawn_file_actions_adddup2(&fa, nullfd, 1);
	posix_spawn_file_actions_adddup2(&fa, nullfd, 2);

	for (long i = 0; i < n; i++) {
		kids[i].tier = (int)(i % tiers);
		spawn_kid(i);
	}
	printf("spawned %lld\n", now_ns());
	fflush(stdout);

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = STDIN_FILENO, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
		};
		int timeout = -1;

		if (deadline > 0) {
			double left = deadline - now();

			timeout = left <= 0 ? 0 : (int)(left * 1000) + 1;
		}
		if (poll(pfd, 2, timeout) == -1 && errno != EINTR)
			return 1;
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof si) == sizeof si)
				;
			reap();
			if (stopping)
				advance();
		}
		if (stopping && deadline > 0 && now() >= deadline) {
			signal_tier(tier_now, SIGKILL);
			deadline = 0;
		}
		if (pfd[0].revents & (POLLIN | POLLHUP)) {
			ssize_t r = read(STDIN_FILENO, line + line_len, 1);

			if (r <= 0) {
				for (long i = 0; i < n; i++)
					if (kids[i].pid != 0)
						kill(-kids[i].pid, SIGKILL);
				return 0;
			}
			if (line[line_len] != '\n' && line_len < sizeof line - 2) {
				line_len++;
				continue;
			}
			line[line_len] = '\0';
			line_len = 0;
			if (strcmp(line, "stop") == 0 || strcmp(line, "shutdown") == 0) {
				exit_after = strcmp(line, "shutdown") == 0;
				stopping = true;
				tier_now = tiers - 1;
				signal_tier(tier_now, SIGTERM);
				deadline = now() + grace;
				advance();
			}
		}
		if (exit_after && !stopping)
			return 0;
	}
}
