/*
 * The pipe keeper (POSIX).  The daemon talks to it over a SOCK_SEQPACKET
 * socketpair: "+NAME STREAM" with the descriptor attached adds a pipe,
 * "-NAME STREAM" drops one, "." ends the keeper.  End-of-file without "."
 * means the daemon died: the keeper then listens on SOCKET.keeper and gives
 * every pipe, as "NAME STREAM" with the descriptor, to the first connection
 * from its own user, then "." and exits.  The daemon that collects them
 * trusts none of it until checked: the socket's owner, the peer's user, and
 * that each descriptor is the read end of a pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "keeper.h"
#include "log.h"

#define KEEPER_MSG	256
#define KEEPER_ENV	"SAFEEXITD_KEEPER_FD"
/* How long the keeper may take to answer and to send a message. */
#define KEEPER_WAIT_MS	5000

struct kept {
	char key[KEEPER_MSG];	/* "NAME STREAM" */
	int fd;
	bool hung_up;		/* no writer left (kept: it may hold output) */
};

static int keeper_sock = -1;	/* the daemon's end */
static pid_t keeper_child;

static int keeper_send(int sock, const char *msg, int fd);
static int keeper_recv(int sock, char *msg, size_t len, int *fd);
static void keeper_main(int sock, const char *path) __attribute__((noreturn));
static void keeper_hand_over(struct kept *v, size_t n, const char *path)
    __attribute__((noreturn));
static bool keeper_wait(struct kept *v, size_t n, int listen_fd);
static void keeper_close_from(int low, int keep);
static bool keeper_socket_ours(const char *path);
static int keeper_connect(const char *path);
static bool keeper_is_pipe(int fd, const char *key, const char *path);

/* Close every descriptor from low up, except keep. */
static void
keeper_close_from(int low, int keep)
{
	long max = sysconf(_SC_OPEN_MAX);

#ifdef SYS_close_range
	if ((keep <= low ||
	    syscall(SYS_close_range, (unsigned)low, (unsigned)keep - 1, 0) == 0) &&
	    syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0) == 0)
		return;
#endif
	if (max <= 0 || max > 65536)
		max = 65536;
	for (int fd = low; fd < max; fd++)
		if (fd != keep)
			close(fd);
}

/* One message, with a descriptor when fd >= 0. */
static int
keeper_send(int sock, const char *msg, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { (void *)msg, strlen(msg) + 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (fd >= 0) {
		struct cmsghdr *cm;

		memset(cbuf, 0, sizeof cbuf);
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof cbuf;
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	return n == -1 ? -1 : 0;
}

/* One message into msg; *fd gets an attached descriptor, else -1.  0 on EOF. */
static int
keeper_recv(int sock, char *msg, size_t len, int *fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { msg, len - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = cbuf, .msg_controllen = sizeof cbuf };
	struct cmsghdr *cm;
	ssize_t n;

	*fd = -1;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n == -1 && errno == EINTR);
	if (n <= 0)
		return (int)n;
	msg[n] = '\0';
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(cm), sizeof(int));
	return 1;
}

/*
 * Wait until listen_fd can be accepted on (true) or every pipe has lost its
 * last writer (false).  A pipe that hung up is no longer polled, or poll
 * would report it at once for ever, but stays open: it may still hold a
 * dead program's last lines for the next daemon.
 */
static bool
keeper_wait(struct kept *v, size_t n, int listen_fd)
{
	struct pollfd pfd[n + 1];
	size_t idx[n + 1];

	for (;;) {
		size_t k = 0;

		for (size_t i = 0; i < n; i++)
			if (v[i].fd >= 0 && !v[i].hung_up) {
				idx[k] = i;
				pfd[k++] = (struct pollfd){ .fd = v[i].fd };
			}
		if (k == 0)
			return false;
		pfd[k] = (struct pollfd){ .fd = listen_fd, .events = POLLIN };
		if (poll(pfd, k + 1, -1) <= 0)
			continue;
		if (pfd[k].revents & POLLIN)
			return true;
		for (size_t i = 0; i < k; i++)
			if (pfd[i].revents & (POLLHUP | POLLERR | POLLNVAL))
				v[idx[i]].hung_up = true;
	}
}

/* The daemon is gone: wait for the next one and give it the pipes. */
static void
keeper_hand_over(struct kept *v, size_t n, const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t old;
	int lfd, c;

	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	if ((lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1)
		_exit(1);
	unlink(path);
	old = umask(0077);
	if (bind(lfd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    listen(lfd, 1) == -1)
		_exit(1);
	umask(old);
	for (;;) {
		struct ucred cred;
		socklen_t clen = sizeof cred;

		/* No pipe left with a writer: no program needs the keeper any more. */
		if (!keeper_wait(v, n, lfd)) {
			unlink(path);
			_exit(0);
		}
		if ((c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
			continue;
		if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == -1 ||
		    cred.uid != geteuid()) {
			close(c);
			continue;
		}
		for (size_t i = 0; i < n; i++)
			if (v[i].fd >= 0)
				keeper_send(c, v[i].key, v[i].fd);
		keeper_send(c, ".", -1);
		unlink(path);
		_exit(0);
	}
}

/* The keeper process: collect pipes while the daemon lives. */
static void
keeper_main(int sock, const char *path)
{
	struct kept *v = NULL;
	size_t n = 0;
	char msg[KEEPER_MSG];
	int fd, r;

	for (;;) {
		r = keeper_recv(sock, msg, sizeof msg, &fd);
		if (r == 0 || (r == -1 && errno != EINTR))
			keeper_hand_over(v, n, path);
		if (r < 0)
			continue;
		if (msg[0] == '.')
			_exit(0);
		if (msg[0] != '+' && msg[0] != '-') {
			if (fd >= 0)
				close(fd);
			continue;
		}
		for (size_t i = 0; i < n; i++)
			if (v[i].fd >= 0 && strcmp(v[i].key, msg + 1) == 0) {
				close(v[i].fd);
				v[i].fd = -1;
			}
		if (msg[0] == '+' && fd >= 0) {
			if ((v = realloc(v, (n + 1) * sizeof *v)) == NULL)
				_exit(1);
			snprintf(v[n].key, sizeof v[n].key, "%s", msg + 1);
			v[n].fd = fd;
			v[n].hung_up = false;
			n++;
		}
	}
}

void
keeper_start(const char *path)
{
	const char *env = getenv(KEEPER_ENV);
	sigset_t all, old;
	int sv[2];
	pid_t pid;

	if (env != NULL) {
		/* A re-exec: the keeper we started before is still ours. */
		keeper_sock = (int)strtol(env, NULL, 10);
		if ((env = getenv(KEEPER_ENV "_PID")) != NULL)
			keeper_child = (pid_t)strtol(env, NULL, 10);
		unsetenv(KEEPER_ENV "_PID");
		fcntl(keeper_sock, F_SETFD, FD_CLOEXEC);
		unsetenv(KEEPER_ENV);
		return;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("cannot start the pipe keeper");
		return;
	}
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	if ((pid = fork()) == 0) {
		struct sigaction sa = { .sa_handler = SIG_DFL };

		for (int sig = 1; sig < NSIG; sig++)
			sigaction(sig, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
		/* Out of the terminal's reach: a Ctrl-C meant for the daemon must not end it. */
		setsid();
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		/*
		 * Hold nothing of the daemon's but the pipes it sends: above all
		 * not the control socket, or a daemon started after a crash
		 * would find it still listening.
		 */
		keeper_close_from(3, sv[1]);
		for (int fd = 0; fd < 3; fd++) {
			int null = open("/dev/null", O_RDWR | O_CLOEXEC);

			if (null != -1 && null != fd) {
				dup2(null, fd);
				close(null);
			}
		}
		keeper_main(sv[1], path);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(sv[1]);
	if (pid == -1) {
		log_warn("cannot start the pipe keeper");
		close(sv[0]);
		return;
	}
	keeper_sock = sv[0];
	keeper_child = pid;
	log_debug("pipe keeper is pid %ld", (long)pid);
}

int
keeper_fd(void)
{
	return keeper_sock;
}

void
keeper_add(const char *name, const char *stream, int read_fd)
{
	char msg[KEEPER_MSG];

	if (keeper_sock == -1)
		return;
	snprintf(msg, sizeof msg, "+%s %s", name, stream);
	if (keeper_send(keeper_sock, msg, read_fd) == -1)
		log_warn("pipe keeper");
}

void
keeper_del(const char *name, const char *stream)
{
	char msg[KEEPER_MSG];

	if (keeper_sock == -1)
		return;
	snprintf(msg, sizeof msg, "-%s %s", name, stream);
	keeper_send(keeper_sock, msg, -1);
}

void
keeper_stop(void)
{
	if (keeper_sock == -1)
		return;
	keeper_send(keeper_sock, ".", -1);
	close(keeper_sock);
	keeper_sock = -1;
}

pid_t
keeper_pid(void)
{
	return keeper_child;
}

/* Whether the socket at path may be the keeper's: a socket of our user. */
static bool
keeper_socket_ours(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return false;	/* none: no keeper is waiting */
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("pipe keeper: %s is not a socket; not used", path);
		return false;
	}
	if (st.st_uid != geteuid()) {
		log_warnx("pipe keeper: %s belongs to uid %ld, not to the daemon's "
		    "user; not used", path, (long)st.st_uid);
		return false;
	}
	return true;
}

/* Connect to path without ever waiting long: whoever answers may be anyone. */
static int
keeper_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct pollfd pfd;
	struct ucred cred;
	socklen_t clen = sizeof cred;
	int s, err = 0;
	socklen_t elen = sizeof err;

	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	if ((s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return -1;
	if (connect(s, (struct sockaddr *)&sun, sizeof sun) == -1) {
		if (errno != EAGAIN && errno != EINPROGRESS) {
			if (errno == ECONNREFUSED)
				unlink(path);	/* a keeper that is gone */
			close(s);
			return -1;
		}
		/* A full backlog: someone listens but does not accept. */
		pfd = (struct pollfd){ .fd = s, .events = POLLOUT };
		if (poll(&pfd, 1, KEEPER_WAIT_MS) != 1 ||
		    getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &elen) == -1 ||
		    err != 0) {
			log_warnx("pipe keeper: %s does not answer; not used", path);
			close(s);
			return -1;
		}
	}
	/* The keeper is a process of the daemon's user; nobody else's pipes. */
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == -1 ||
	    cred.uid != geteuid()) {
		log_warnx("pipe keeper: %s is answered by pid %ld of uid %ld, not "
		    "by the daemon's user; refused", path, (long)cred.pid,
		    (long)cred.uid);
		close(s);
		return -1;
	}
	return s;
}

/* Whether fd is the read end of a pipe: the only thing a keeper holds. */
static bool
keeper_is_pipe(int fd, const char *key, const char *path)
{
	struct stat st;
	int fl;

	if (fstat(fd, &st) == -1 || !S_ISFIFO(st.st_mode) ||
	    (fl = fcntl(fd, F_GETFL)) == -1 || (fl & O_ACCMODE) != O_RDONLY) {
		log_warnx("pipe keeper at %s handed over %s for %s, not the read "
		    "end of a pipe; refused", path, fstat(fd, &st) == -1 ?
		    "a bad descriptor" : S_ISREG(st.st_mode) ? "a regular file" :
		    S_ISFIFO(st.st_mode) ? "a write end" : "a descriptor", key);
		return false;
	}
	return true;
}

void
keeper_reclaim(const char *path,
    void (*got)(const char *name, int stream, int read_fd))
{
	char msg[KEEPER_MSG];
	size_t collected = 0;
	int s, fd, r;

	if (!keeper_socket_ours(path) || (s = keeper_connect(path)) == -1)
		return;
	for (;;) {
		struct pollfd pfd = { .fd = s, .events = POLLIN };
		char *name, *stream;

		/* The keeper sends everything at once; anyone slower is not it. */
		if (poll(&pfd, 1, KEEPER_WAIT_MS) != 1) {
			log_warnx("pipe keeper at %s went silent; stopped "
			    "collecting", path);
			break;
		}
		if ((r = keeper_recv(s, msg, sizeof msg, &fd)) == -1 &&
		    (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0 || msg[0] == '.') {
			if (fd >= 0)
				close(fd);
			break;
		}
		/* "NAME STREAM", possibly with more words after the stream. */
		name = msg;
		if ((stream = strchr(msg, ' ')) != NULL) {
			*stream++ = '\0';
			stream[strcspn(stream, " ")] = '\0';
		}
		if (fd < 0 || stream == NULL || (strcmp(stream, "stdout") != 0 &&
		    strcmp(stream, "stderr") != 0)) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		if (!keeper_is_pipe(fd, name, path)) {
			close(fd);
			continue;
		}
		got(name, strcmp(stream, "stderr") == 0 ? 2 : 0, fd);
		collected++;
	}
	close(s);
	if (collected > 0)
		log_notice("collected %zu program pipe%s from the pipe keeper",
		    collected, collected == 1 ? "" : "s");
}
