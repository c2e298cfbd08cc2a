/*
 * The benchmark's supervised program.  It costs as little as a process can
 * and reports what happens to it, so the harness never has to ask the
 * supervisor: every event is one line, written with a single write() to the
 * FIFO given by --fifo, stamped with CLOCK_MONOTONIC in nanoseconds:
 *
 *	R TAG PID T		ready: signal mask set, grandchild (if any) started
 *	S TAG PID SIGNO T	a signal arrived
 *	X TAG PID CODE T	about to exit with CODE
 *	G TAG PID GCPID T	--double-fork: the escaped grandchild GCPID is up
 *
 * HUP, INT, QUIT, TERM, USR1 and USR2 are blocked and taken with
 * sigwaitinfo(), so nothing runs in a signal handler and nothing polls.
 * On any of them the child exits 0, after --exit-delay seconds when given;
 * --ignore-term records TERM and keeps running (only KILL ends it then).
 * --double-fork forks, the intermediate calls setsid() and forks again and
 * exits: the grandchild lives on in a session of its own, like a daemon
 * that detaches itself, and behaves like the child (it exits on TERM).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int fifo_fd = -1;
static long tag = -1;

static long long now_ns(void);
static void emit(char kind, long long extra);
static void wait_signals(const sigset_t *set, bool ignore_term, double delay);
static void usage(void) __attribute__((noreturn));

/* CLOCK_MONOTONIC in nanoseconds, the clock the harness reads too. */
static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* One event line; extra is the event's own field, or -1 for none. */
static void
emit(char kind, long long extra)
{
	char buf[128];
	int len;
	long long t = now_ns();

	if (extra < 0)
		len = snprintf(buf, sizeof buf, "%c %ld %ld %lld\n", kind, tag,
		    (long)getpid(), t);
	else
		len = snprintf(buf, sizeof buf, "%c %ld %ld %lld %lld\n", kind, tag,
		    (long)getpid(), extra, t);
	if (fifo_fd != -1 && write(fifo_fd, buf, (size_t)len) != len)
		_exit(3);
}

/* Take signals until one ends the process. */
static void
wait_signals(const sigset_t *set, bool ignore_term, double delay)
{
	for (;;) {
		int sig = sigwaitinfo(set, NULL);

		if (sig == -1)
			continue;
		emit('S', sig);
		if (sig == SIGTERM && ignore_term)
			continue;
		if (delay > 0) {
			struct timespec ts;

			ts.tv_sec = (time_t)delay;
			ts.tv_nsec = (long)((delay - (double)ts.tv_sec) * 1e9);
			while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
				;
		}
		emit('X', 0);
		_exit(0);
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: child --tag N --fifo PATH [--ignore-term] "
	    "[--exit-delay SECS] [--double-fork]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *fifo = NULL;
	bool ignore_term = false, double_fork = false;
	double delay = 0;
	sigset_t set;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--tag") == 0 && i + 1 < argc)
			tag = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--fifo") == 0 && i + 1 < argc)
			fifo = argv[++i];
		else if (strcmp(argv[i], "--exit-delay") == 0 && i + 1 < argc)
			delay = strtod(argv[++i], NULL);
		else if (strcmp(argv[i], "--ignore-term") == 0)
			ignore_term = true;
		else if (strcmp(argv[i], "--double-fork") == 0)
			double_fork = true;
		else
			usage();
	}
	if (fifo == NULL)
		usage();

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);

	if ((fifo_fd = open(fifo, O_WRONLY | O_CLOEXEC)) == -1)
		return 3;

	if (double_fork) {
		pid_t mid = fork();

		if (mid == -1)
			return 4;
		if (mid == 0) {
			pid_t gc;

			setsid();
			if ((gc = fork()) == -1)
				_exit(4);
			if (gc > 0)
				_exit(0);
			emit('G', getpid());
			wait_signals(&set, false, 0);
		}
		while (waitpid(mid, NULL, 0) == -1 && errno == EINTR)
			;
	}
	emit('R', -1);
	wait_signals(&set, ignore_term, delay);
	return 0;
}
