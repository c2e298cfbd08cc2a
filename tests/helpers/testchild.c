/*
 * testchild: the process the integration tests supervise.  It reports what
 * happens to it as one-line events and behaves as told: it exits on cue,
 * lingers on signals, forks a grandchild into its own process group, or lets
 * one escape into a session of its own.
 *
 * Every event is one line, written with a single write() shorter than
 * PIPE_BUF to the --events file (normally a FIFO the test reads), so lines of
 * many processes never interleave:
 *
 *	TAG EVENT pid=N ppid=N pgid=N sid=N t=SECONDS.NANOS [KEY=VALUE ...]
 *
 * t comes from CLOCK_MONOTONIC.  Values that could hold white space (cwd,
 * environment values) are percent-encoded.  Events:
 *
 *	env	name=NAME set=1 value=VALUE, or name=NAME set=0 (--print-env)
 *	ready	handlers installed, grandchildren set up; uid= gid= groups=
 *		umask= cwd=, plus gc=PID (--fork-grandchild), escaped=PID
 *		(--escape) and fds= stdin= ctty= sigmask= sigign= (--check-fds)
 *	signal	sig=NAME, on every caught signal
 *	reaped	child=PID code=N or child=PID signal=NAME
 *	flooded	bytes=N (--flood is done), or bytes=N error=ERRNO
 *	exit	code=N, just before exiting
 *
 * Signals: HUP, INT, QUIT, TERM, USR1 and USR2 are caught and by default
 * recorded, then the process exits 0 like a well-behaved daemon (after
 * --exit-delay, if given).  --exit-on SIG:CODE exits with CODE instead.
 * --ignore SIG means "record it and keep running": the disposition is a
 * handler, never SIG_IGN, so every arrival is still seen.  Other signals
 * keep the disposition the process inherited unless named by an option.
 * Waiting is event-driven: the handlers only write the signal number to a
 * pipe that the main loop polls.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#ifndef PIPE_BUF
#define PIPE_BUF 512
#endif

#define EVENT_MAX	(PIPE_BUF - 1)
#define FLOOD_LINE	64
#define MAX_FDS		256
#define MAX_GROUPS	32

enum action {
	ACT_INHERIT,	/* not touched: keep the inherited disposition */
	ACT_EXIT,	/* record, then exit with the rule's code */
	ACT_RECORD,	/* record and keep running ("--ignore") */
};

struct rule {
	enum action	 action;
	int		 code;
};

struct output {
	int		 fd;
	const char	*text;
};

static const struct {
	const char	*name;
	int		 signo;
} signames[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
	{ "ILL", SIGILL }, { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },
	{ "BUS", SIGBUS }, { "FPE", SIGFPE }, { "KILL", SIGKILL },
	{ "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM },
	{ "CHLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP },
	{ "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },
	{ "URG", SIGURG }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
	{ "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH },
	{ "SYS", SIGSYS },
#ifdef SIGIO
	{ "IO", SIGIO },
#endif
#ifdef SIGPWR
	{ "PWR", SIGPWR },
#endif
};

/* The signals a daemon is usually stopped or poked with. */
static const int stopsigs[] = {
	SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2
};

static const char	*tag = "child";
static int		 events_fd = -1;
static int		 wake[2] = { -1, -1 };
static struct rule	 rules[NSIG];

static double		 exit_delay;
static int		 exiting;
static int		 exit_code;
static double		 exit_at;
static int		 after_set;
static int		 after_code;
static double		 after_at;
static unsigned long long flood_left;
static unsigned long long flood_done;

static void	usage(FILE *, int) __attribute__((noreturn));
static void	die(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
static double	now(void);
static const char *signame(int, char *, size_t);
static int	parse_signal(const char *);
static int	parse_code(const char *);
static double	parse_secs(const char *);
static void	encode(char *, size_t, const char *);
static void	record(const char *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	append(char *, size_t, size_t, const char *, ...)
		    __attribute__((format(printf, 4, 5)));
static int	cmp_int(const void *, const void *);
static void	scan_fds(char *, size_t);
static void	describe_launch(char *, size_t);
static void	describe_identity(char *, size_t);
static void	on_signal(int);
static void	make_wake_pipe(void);
static void	install_handlers(sigset_t *);
static void	become(const char *, enum action);
static pid_t	fork_grandchild(void);
static pid_t	escape(void);
static void	write_pidfile(const char *);
static void	write_text(int, const char *);
static void	print_env(const char *);
static void	reap(void);
static void	handle_signal(int);
static void	finish(int) __attribute__((noreturn));
static void	flood_some(void);
static int	poll_timeout(void);
static void	run(void) __attribute__((noreturn));

/* Print the usage message and exit with status. */
static void
usage(FILE *f, int status)
{
	fprintf(f,
"usage: testchild [options]\n"
"  --events PATH         append one line per event to PATH\n"
"  --tag NAME            name in each event line (default \"child\")\n"
"  --ignore SIG          record SIG and keep running (repeatable)\n"
"  --exit-on SIG:CODE    record SIG and exit with CODE (repeatable)\n"
"  --exit-delay SECS     wait this long before a signal makes it exit\n"
"  --exit CODE           exit by itself with CODE (after --after SECS)\n"
"  --after SECS          when to exit by itself (default code 0)\n"
"  --fork-grandchild     fork TAG.gc into the same process group\n"
"  --escape              double-fork TAG.esc into a new session; it\n"
"                        records every stop signal and only KILL ends it\n"
"  --stdout TEXT, --stderr TEXT   print TEXT at start (repeatable)\n"
"  --flood BYTES         write BYTES bytes of 'x' lines to stdout\n"
"  --check-fds           report fds, stdin, tty and signal state at ready\n"
"  --print-env NAME      record the variable NAME (repeatable)\n"
"  --pidfile PATH        write the pid to PATH\n"
"HUP, INT, QUIT, TERM, USR1 and USR2 are recorded and then make it exit 0.\n");
	exit(status);
}

/* Report a run-time failure on stderr and exit 1. */
static void
die(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	fprintf(stderr, "testchild: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(saved));
	_exit(1);
}

/* Return the monotonic clock in seconds. */
static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Return the name of signo without "SIG", or its number. */
static const char *
signame(int signo, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof signames / sizeof signames[0]; i++) {
		if (signames[i].signo == signo)
			return signames[i].name;
	}
	snprintf(buf, len, "%d", signo);
	return buf;
}

/* Parse a signal name (with or without "SIG") or number; -1 if invalid. */
static int
parse_signal(const char *s)
{
	char	*end;
	long	 n;

	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < sizeof signames / sizeof signames[0]; i++) {
		if (strcasecmp(signames[i].name, s) == 0)
			return signames[i].signo;
	}
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < 1 || n >= NSIG)
		return -1;
	return (int)n;
}

/* Parse an exit code from 0 to 255; -1 if invalid. */
static int
parse_code(const char *s)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < 0 || n > 255)
		return -1;
	return (int)n;
}

/* Parse a non-negative number of seconds; -1 if invalid. */
static double
parse_secs(const char *s)
{
	char	*end;
	double	 d;

	errno = 0;
	d = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(d >= 0) || d > 1e6)
		return -1;
	return d;
}

/* Copy src to dst, percent-encoding white space, '%' and non-ASCII. */
static void
encode(char *dst, size_t len, const char *src)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 n = 0;
	unsigned char		 c;

	for (; *src != '\0'; src++) {
		c = (unsigned char)*src;
		if (c > ' ' && c < 0x7f && c != '%') {
			if (n + 1 >= len)
				break;
			dst[n++] = (char)c;
		} else {
			if (n + 3 >= len)
				break;
			dst[n++] = '%';
			dst[n++] = hex[c >> 4];
			dst[n++] = hex[c & 0xf];
		}
	}
	if (len > 0)
		dst[n] = '\0';
}

/* Write one event line with a single write(); fmt adds KEY=VALUE fields. */
static void
record(const char *event, const char *fmt, ...)
{
	char		 buf[EVENT_MAX + 1];
	struct timespec	 ts;
	va_list		 ap;
	int		 n, m;

	if (events_fd == -1)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	n = snprintf(buf, sizeof buf,
	    "%s %s pid=%ld ppid=%ld pgid=%ld sid=%ld t=%lld.%09ld", tag, event,
	    (long)getpid(), (long)getppid(), (long)getpgrp(), (long)getsid(0),
	    (long long)ts.tv_sec, ts.tv_nsec);
	if (n < 0)
		return;
	if ((size_t)n > EVENT_MAX - 1)
		n = EVENT_MAX - 1;
	if (fmt != NULL && (size_t)n < EVENT_MAX - 2) {
		buf[n++] = ' ';
		va_start(ap, fmt);
		m = vsnprintf(buf + n, sizeof buf - n, fmt, ap);
		va_end(ap);
		if (m > 0)
			n += m;
		if ((size_t)n > EVENT_MAX - 1)
			n = EVENT_MAX - 1;
	}
	buf[n++] = '\n';
	while (write(events_fd, buf, n) == -1 && errno == EINTR)
		;
}

/* Append formatted text at offset off of buf; return the new offset. */
static int
append(char *buf, size_t len, size_t off, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (off >= len)
		return (int)off;
	va_start(ap, fmt);
	n = vsnprintf(buf + off, len - off, fmt, ap);
	va_end(ap);
	if (n < 0)
		return (int)off;
	if ((size_t)n >= len - off)
		return (int)len - 1;
	return (int)(off + n);
}

/* Order ints for qsort. */
static int
cmp_int(const void *a, const void *b)
{
	int	x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* List the open file descriptors above 2, ascending, as "3,5". */
static void
scan_fds(char *buf, size_t len)
{
	int		 fds[MAX_FDS];
	size_t		 nfds = 0, off = 0;
	DIR		*d;
	struct dirent	*de;
	char		*end;
	long		 fd;

	if ((d = opendir("/proc/self/fd")) != NULL ||
	    (d = opendir("/dev/fd")) != NULL) {
		while ((de = readdir(d)) != NULL && nfds < MAX_FDS) {
			fd = strtol(de->d_name, &end, 10);
			if (end == de->d_name || *end != '\0')
				continue;
			if (fd > 2 && fd != dirfd(d))
				fds[nfds++] = (int)fd;
		}
		closedir(d);
	} else {
		for (fd = 3; fd < 1024 && nfds < MAX_FDS; fd++) {
			if (fcntl((int)fd, F_GETFD) != -1)
				fds[nfds++] = (int)fd;
		}
	}
	qsort(fds, nfds, sizeof fds[0], cmp_int);
	buf[0] = '\0';
	for (size_t i = 0; i < nfds; i++)
		off = append(buf, len, off, "%s%d", i == 0 ? "" : ",", fds[i]);
}

/* Describe how the process was launched: fds, stdin, tty, signal state. */
static void
describe_launch(char *buf, size_t len)
{
	char			 fds[1024];
	const char		*in;
	struct stat		 st, null;
	struct sigaction	 sa;
	sigset_t		 mask;
	uint64_t		 blocked = 0, ignored = 0;
	int			 fd, ctty;

	scan_fds(fds, sizeof fds);

	if (fstat(STDIN_FILENO, &st) == -1)
		in = "closed";
	else if (S_ISCHR(st.st_mode) && stat("/dev/null", &null) == 0 &&
	    st.st_rdev == null.st_rdev)
		in = "null";
	else
		in = "other";

	fd = open("/dev/tty", O_RDWR|O_NOCTTY|O_CLOEXEC);
	ctty = fd != -1;
	if (fd != -1)
		close(fd);

	sigprocmask(SIG_BLOCK, NULL, &mask);
	for (int sig = 1; sig < NSIG && sig <= 64; sig++) {
		if (sigismember(&mask, sig) == 1)
			blocked |= (uint64_t)1 << (sig - 1);
		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
			ignored |= (uint64_t)1 << (sig - 1);
	}

	snprintf(buf, len, "fds=%s stdin=%s ctty=%d sigmask=%llx sigign=%llx",
	    fds, in, ctty, (unsigned long long)blocked,
	    (unsigned long long)ignored);
}

/* Describe who and where the process is: ids, groups, umask, directory. */
static void
describe_identity(char *buf, size_t len)
{
	gid_t	groups[MAX_GROUPS];
	char	cwd[PATH_MAX], enc[PATH_MAX];
	mode_t	mask;
	int	ngroups, off;

	mask = umask(0);
	umask(mask);
	if (getcwd(cwd, sizeof cwd) == NULL)
		strcpy(cwd, "?");
	encode(enc, sizeof enc, cwd);

	off = append(buf, len, 0, "uid=%ld gid=%ld groups=", (long)getuid(),
	    (long)getgid());
	ngroups = getgroups(MAX_GROUPS, groups);
	for (int i = 0; i < ngroups; i++) {
		off = append(buf, len, off, "%s%ld", i == 0 ? "" : ",",
		    (long)groups[i]);
	}
	append(buf, len, off, " umask=%03o cwd=%s", (unsigned)mask, enc);
}

/* Wake the main loop: the handler only passes the signal number on. */
static void
on_signal(int signo)
{
	unsigned char	c = (unsigned char)signo;
	int		saved = errno;

	if (write(wake[1], &c, 1) == -1) {
		/* Full pipe: the loop is already awake. */
	}
	errno = saved;
}

/* Create the non-blocking pipe the signal handlers write to. */
static void
make_wake_pipe(void)
{
	if (wake[0] != -1) {
		close(wake[0]);
		close(wake[1]);
	}
	if (pipe(wake) == -1)
		die("pipe");
	for (int i = 0; i < 2; i++) {
		if (fcntl(wake[i], F_SETFD, FD_CLOEXEC) == -1 ||
		    fcntl(wake[i], F_SETFL, O_NONBLOCK) == -1)
			die("fcntl");
	}
}

/* Install a handler for every signal with a rule and for SIGCHLD. */
static void
install_handlers(sigset_t *handled)
{
	struct sigaction	sa;

	sigemptyset(handled);
	for (int sig = 1; sig < NSIG; sig++) {
		if (rules[sig].action != ACT_INHERIT || sig == SIGCHLD)
			sigaddset(handled, sig);
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_mask = *handled;
	sa.sa_flags = 0;	/* no SA_RESTART: poll and write see EINTR */
	for (int sig = 1; sig < NSIG; sig++) {
		if (!sigismember(handled, sig))
			continue;
		if (sig == SIGCHLD)
			sa.sa_flags = SA_NOCLDSTOP;
		if (sigaction(sig, &sa, NULL) == -1)
			die("sigaction %d", sig);
		sa.sa_flags = 0;
	}
}

/*
 * Turn a freshly forked process into a grandchild with its own tag: the usual
 * stop signals get action stop, any other handled signal is only recorded.
 */
static void
become(const char *suffix, enum action stop)
{
	size_t	 len = strlen(tag) + strlen(suffix) + 1;
	char	*name;

	if ((name = malloc(len)) == NULL)
		die("malloc");
	snprintf(name, len, "%s%s", tag, suffix);
	tag = name;

	/* Start from the rules of main: every handled signal is a rule. */
	for (int sig = 1; sig < NSIG; sig++) {
		if (rules[sig].action != ACT_INHERIT) {
			rules[sig].action = ACT_RECORD;
			rules[sig].code = 0;
		}
	}
	if (stop == ACT_EXIT) {
		for (size_t i = 0; i < sizeof stopsigs / sizeof stopsigs[0];
		    i++)
			rules[stopsigs[i]].action = ACT_EXIT;
	}
	exit_delay = 0;
	exiting = 0;
	after_set = 0;
	flood_left = 0;
	make_wake_pipe();
}

/* Fork a grandchild in our process group; return its pid once it is ready. */
static pid_t
fork_grandchild(void)
{
	int	sync[2];
	pid_t	pid;
	char	c;

	if (pipe(sync) == -1)
		die("pipe");
	switch ((pid = fork())) {
	case -1:
		die("fork");
	case 0:
		close(sync[0]);
		become(".gc", ACT_EXIT);
		record("ready", NULL);
		close(sync[1]);
		run();
	}
	close(sync[1]);
	while (read(sync[0], &c, 1) == -1 && errno == EINTR)
		;
	close(sync[0]);
	return pid;
}

/* Double-fork a grandchild into a new session; return its pid once ready. */
static pid_t
escape(void)
{
	int	sync[2], status;
	pid_t	pid, esc = -1;
	ssize_t	n;

	if (pipe(sync) == -1)
		die("pipe");
	switch ((pid = fork())) {
	case -1:
		die("fork");
	case 0:
		close(sync[0]);
		switch (fork()) {
		case -1:
			die("fork");
		case 0:
			break;
		default:
			_exit(0);
		}
		if (setsid() == -1)
			die("setsid");
		become(".esc", ACT_RECORD);
		record("ready", NULL);
		esc = getpid();
		if (write(sync[1], &esc, sizeof esc) != sizeof esc)
			die("write");
		close(sync[1]);
		run();
	}
	close(sync[1]);
	do {
		n = read(sync[0], &esc, sizeof esc);
	} while (n == -1 && errno == EINTR);
	close(sync[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (n != sizeof esc) {
		errno = EIO;
		die("escaped grandchild");
	}
	return esc;
}

/* Write our pid to path. */
static void
write_pidfile(const char *path)
{
	char	buf[32];
	int	fd, n;

	fd = open(path, O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0644);
	if (fd == -1)
		die("%s", path);
	n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (write(fd, buf, n) != n)
		die("%s", path);
	close(fd);
}

/* Write text and a newline to fd in one write. */
static void
write_text(int fd, const char *text)
{
	size_t	 len = strlen(text);
	char	*buf;

	if ((buf = malloc(len + 1)) == NULL)
		die("malloc");
	memcpy(buf, text, len);
	buf[len] = '\n';
	if (write(fd, buf, len + 1) == -1 && errno != EPIPE)
		die("write %d", fd);
	free(buf);
}

/* Record the value of an environment variable. */
static void
print_env(const char *name)
{
	const char	*value = getenv(name);
	char		 enc[EVENT_MAX];

	if (value == NULL) {
		record("env", "name=%s set=0", name);
		return;
	}
	encode(enc, sizeof enc, value);
	record("env", "name=%s set=1 value=%s", name, enc);
}

/* Reap every exited child and record how it ended. */
static void
reap(void)
{
	char	buf[16];
	pid_t	pid;
	int	status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (WIFSIGNALED(status)) {
			record("reaped", "child=%ld signal=%s", (long)pid,
			    signame(WTERMSIG(status), buf, sizeof buf));
		} else {
			record("reaped", "child=%ld code=%d", (long)pid,
			    WEXITSTATUS(status));
		}
	}
}

/* Act on one signal the handler passed on. */
static void
handle_signal(int signo)
{
	char	buf[16];

	if (signo == SIGCHLD)
		reap();
	if (rules[signo].action == ACT_INHERIT)
		return;
	record("signal", "sig=%s", signame(signo, buf, sizeof buf));
	if (rules[signo].action != ACT_EXIT || exiting)
		return;
	exiting = 1;
	exit_code = rules[signo].code;
	if (exit_delay <= 0)
		finish(exit_code);
	exit_at = now() + exit_delay;
}

/* Record the exit and leave. */
static void
finish(int code)
{
	record("exit", "code=%d", code);
	_exit(code);
}

/* Write the next piece of the flood to stdout. */
static void
flood_some(void)
{
	char			 buf[PIPE_BUF];
	size_t			 n = sizeof buf;
	unsigned long long	 k;
	ssize_t			 w;

	if (n > flood_left)
		n = flood_left;
	for (size_t i = 0; i < n; i++) {
		k = flood_done + i;
		buf[i] = (k % FLOOD_LINE == FLOOD_LINE - 1 ||
		    i + 1 == flood_left) ? '\n' : 'x';
	}
	w = write(STDOUT_FILENO, buf, n);
	if (w == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		record("flooded", "bytes=%llu error=%d", flood_done, errno);
		flood_left = 0;
		return;
	}
	flood_done += w;
	flood_left -= w;
	if (flood_left == 0)
		record("flooded", "bytes=%llu", flood_done);
}

/* Return milliseconds until the next deadline, or -1 for none. */
static int
poll_timeout(void)
{
	double	deadline, left;

	if (exiting)
		deadline = exit_at;
	else if (after_set)
		deadline = after_at;
	else
		return -1;
	left = deadline - now();
	if (left <= 0)
		return 0;
	if (left > 86400)
		return 86400 * 1000;
	return (int)(left * 1000) + 1;
}

/* Wait for signals, deadlines and a writable stdout, and act on them. */
static void
run(void)
{
	struct pollfd	pfd[2];
	unsigned char	sigs[64];
	sigset_t	none;
	nfds_t		nfds;
	ssize_t		n;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (;;) {
		pfd[0].fd = wake[0];
		pfd[0].events = POLLIN;
		nfds = 1;
		if (flood_left > 0) {
			pfd[1].fd = STDOUT_FILENO;
			pfd[1].events = POLLOUT;
			nfds = 2;
		}
		if (poll(pfd, nfds, poll_timeout()) == -1) {
			if (errno != EINTR)
				die("poll");
			continue;
		}
		if (pfd[0].revents & POLLIN) {
			while ((n = read(wake[0], sigs, sizeof sigs)) > 0) {
				for (ssize_t i = 0; i < n; i++)
					handle_signal(sigs[i]);
			}
		}
		if (nfds == 2 && (pfd[1].revents & (POLLOUT|POLLERR|POLLHUP)))
			flood_some();
		if (exiting && now() >= exit_at)
			finish(exit_code);
		if (!exiting && after_set && now() >= after_at)
			finish(after_code);
	}
}

/* Parse the options, set up as told, report ready and wait. */
int
main(int argc, char **argv)
{
	enum {
		OPT_EVENTS = 256, OPT_TAG, OPT_IGNORE, OPT_EXIT_ON,
		OPT_EXIT_DELAY, OPT_EXIT, OPT_AFTER, OPT_FORK_GRANDCHILD,
		OPT_ESCAPE, OPT_STDOUT, OPT_STDERR, OPT_FLOOD, OPT_CHECK_FDS,
		OPT_PRINT_ENV, OPT_PIDFILE, OPT_HELP,
	};
	static const struct option longopts[] = {
		{ "events", required_argument, NULL, OPT_EVENTS },
		{ "tag", required_argument, NULL, OPT_TAG },
		{ "ignore", required_argument, NULL, OPT_IGNORE },
		{ "exit-on", required_argument, NULL, OPT_EXIT_ON },
		{ "exit-delay", required_argument, NULL, OPT_EXIT_DELAY },
		{ "exit", required_argument, NULL, OPT_EXIT },
		{ "after", required_argument, NULL, OPT_AFTER },
		{ "fork-grandchild", no_argument, NULL, OPT_FORK_GRANDCHILD },
		{ "escape", no_argument, NULL, OPT_ESCAPE },
		{ "stdout", required_argument, NULL, OPT_STDOUT },
		{ "stderr", required_argument, NULL, OPT_STDERR },
		{ "flood", required_argument, NULL, OPT_FLOOD },
		{ "check-fds", no_argument, NULL, OPT_CHECK_FDS },
		{ "print-env", required_argument, NULL, OPT_PRINT_ENV },
		{ "pidfile", required_argument, NULL, OPT_PIDFILE },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 }
	};
	const char	 *events = NULL, *pidfile = NULL;
	struct output	 *outputs;
	const char	**envs;
	size_t		  noutputs = 0, nenvs = 0;
	int		  fork_gc = 0, do_escape = 0, check_fds = 0;
	double		  after = 0;
	char		  launch[2048] = "", identity[1024], extra[EVENT_MAX];
	char		 *colon, *end;
	sigset_t	  handled;
	pid_t		  gc = -1, esc = -1;
	int		  ch, sig, code, off;

	outputs = calloc(argc, sizeof *outputs);
	envs = calloc(argc, sizeof *envs);
	if (outputs == NULL || envs == NULL)
		die("calloc");

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_EVENTS:
			events = optarg;
			break;
		case OPT_TAG:
			if (*optarg == '\0' || strpbrk(optarg, " \t\n") != NULL)
				usage(stderr, 2);
			tag = optarg;
			break;
		case OPT_IGNORE:
			sig = parse_signal(optarg);
			if (sig == -1 || sig == SIGKILL || sig == SIGSTOP)
				usage(stderr, 2);
			rules[sig].action = ACT_RECORD;
			break;
		case OPT_EXIT_ON:
			if ((colon = strchr(optarg, ':')) == NULL)
				usage(stderr, 2);
			*colon = '\0';
			sig = parse_signal(optarg);
			code = parse_code(colon + 1);
			if (sig == -1 || sig == SIGKILL || sig == SIGSTOP ||
			    code == -1)
				usage(stderr, 2);
			rules[sig].action = ACT_EXIT;
			rules[sig].code = code;
			break;
		case OPT_EXIT_DELAY:
			if ((exit_delay = parse_secs(optarg)) < 0)
				usage(stderr, 2);
			break;
		case OPT_EXIT:
			if ((after_code = parse_code(optarg)) == -1)
				usage(stderr, 2);
			after_set = 1;
			break;
		case OPT_AFTER:
			if ((after = parse_secs(optarg)) < 0)
				usage(stderr, 2);
			after_set = 1;
			break;
		case OPT_FORK_GRANDCHILD:
			fork_gc = 1;
			break;
		case OPT_ESCAPE:
			do_escape = 1;
			break;
		case OPT_STDOUT:
		case OPT_STDERR:
			outputs[noutputs].fd = ch == OPT_STDOUT ?
			    STDOUT_FILENO : STDERR_FILENO;
			outputs[noutputs++].text = optarg;
			break;
		case OPT_FLOOD:
			errno = 0;
			flood_left = strtoull(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    *optarg == '-')
				usage(stderr, 2);
			break;
		case OPT_CHECK_FDS:
			check_fds = 1;
			break;
		case OPT_PRINT_ENV:
			if (*optarg == '\0' ||
			    strpbrk(optarg, " \t\n=") != NULL)
				usage(stderr, 2);
			envs[nenvs++] = optarg;
			break;
		case OPT_PIDFILE:
			pidfile = optarg;
			break;
		case OPT_HELP:
			usage(stdout, 0);
		default:
			usage(stderr, 2);
		}
	}
	if (optind != argc)
		usage(stderr, 2);

	/* Look at what was inherited before opening anything. */
	if (check_fds)
		describe_launch(launch, sizeof launch);

	if (events != NULL) {
		events_fd = open(events, O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC,
		    0644);
		if (events_fd == -1)
			die("%s", events);
	}

	for (size_t i = 0; i < sizeof stopsigs / sizeof stopsigs[0]; i++) {
		if (rules[stopsigs[i]].action == ACT_INHERIT)
			rules[stopsigs[i]].action = ACT_EXIT;
	}
	install_handlers(&handled);
	sigprocmask(SIG_BLOCK, &handled, NULL);
	make_wake_pipe();

	if (pidfile != NULL)
		write_pidfile(pidfile);
	for (size_t i = 0; i < noutputs; i++)
		write_text(outputs[i].fd, outputs[i].text);
	for (size_t i = 0; i < nenvs; i++)
		print_env(envs[i]);
	if (fork_gc)
		gc = fork_grandchild();
	if (do_escape)
		esc = escape();

	describe_identity(identity, sizeof identity);
	off = append(extra, sizeof extra, 0, "%s", identity);
	if (gc != -1)
		off = append(extra, sizeof extra, off, " gc=%ld", (long)gc);
	if (esc != -1)
		off = append(extra, sizeof extra, off, " escaped=%ld", (long)esc);
	if (check_fds)
		append(extra, sizeof extra, off, " %s", launch);
	record("ready", "%s", extra);

	if (after_set)
		after_at = now() + after;
	run();
}
