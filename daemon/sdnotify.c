/*
 * sd_notify's receiving end for the programs (see sdnotify.h).  The address
 * is abstract: nothing to create or remove in the file system, no length
 * trouble with long names.  Its KEY is a hash of the control socket's path
 * (the same key names the daemon's cgroup), not the daemon's pid: a program
 * keeps the NOTIFY_SOCKET it was started with, and after a crash the daemon
 * started again on the same socket has another pid but binds the same
 * names, so what the program sends from then on is heard.  A re-exec hands
 * the bound sockets over (nothing sent meanwhile is lost).  Anyone may send
 * to an abstract socket; the credentials the kernel attaches say who did,
 * and only the program's own processes are listened to (ready.c checks
 * them).
 */
#include <errno.h>
#include <fcntl.h>
#include <event2/event.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "sdnotify.h"
#include "xmalloc.h"

#define SDNOTIFY_MAX		4096	/* longer datagrams are cut */
#define SDNOTIFY_READS		16	/* per wake-up: one sender cannot starve the loop */

struct sdnotify {
	int fd;
	struct event *ev;
	sdnotify_fn fn;
	void *arg;
	char env[160];
};

static unsigned long long sdnotify_key;

static void sdnotify_read_cb(evutil_socket_t fd, short what, void *arg);
static int sdnotify_read_one(struct sdnotify *sn);
static void sdnotify_assign(struct sdnotify_msg *m, const char *line,
    size_t len);

/* One KEY=VALUE of a datagram into m. */
static void
sdnotify_assign(struct sdnotify_msg *m, const char *line, size_t len)
{
	char value[256];
	const char *eq = memchr(line, '=', len);
	size_t klen, vlen;
	char *end;

	if (eq == NULL)
		return;
	klen = (size_t)(eq - line);
	vlen = len - klen - 1;
	if (vlen >= sizeof value)
		vlen = sizeof value - 1;
	memcpy(value, eq + 1, vlen);
	value[vlen] = '\0';
#define KEY(k)	(klen == sizeof k - 1 && memcmp(line, k, klen) == 0)
	if (KEY("READY"))
		m->ready = strcmp(value, "1") == 0;
	else if (KEY("STOPPING"))
		m->stopping = strcmp(value, "1") == 0;
	else if (KEY("WATCHDOG"))
		m->watchdog = strcmp(value, "1") == 0;
	else if (KEY("STATUS")) {
		m->has_status = true;
		snprintf(m->status, sizeof m->status, "%s", value);
	} else if (KEY("MAINPID")) {
		long v;

		errno = 0;
		v = strtol(value, &end, 10);
		if (errno == 0 && end != value && *end == '\0' && v > 1)
			m->mainpid = (pid_t)v;
	} else if (KEY("WATCHDOG_USEC") || KEY("EXTEND_TIMEOUT_USEC")) {
		unsigned long long v;

		errno = 0;
		v = strtoull(value, &end, 10);
		if (errno != 0 || end == value || *end != '\0' || value[0] == '-')
			return;
		if (KEY("WATCHDOG_USEC"))
			m->watchdog_usec = v;
		else
			m->extend_usec = v;
	}
#undef KEY
}

void
sdnotify_parse(const char *buf, size_t len, struct sdnotify_msg *m)
{
	memset(m, 0, sizeof *m);
	while (len > 0) {
		const char *nl = memchr(buf, '\n', len);
		size_t l = nl != NULL ? (size_t)(nl - buf) : len;

		sdnotify_assign(m, buf, l);
		if (nl == NULL)
			break;
		buf += l + 1;
		len -= l + 1;
	}
}

void
sdnotify_init(const char *instance)
{
	/* FNV-1a, as for the cgroup's name. */
	sdnotify_key = 1469598103934665603ULL;
	for (const char *c = instance; *c != '\0'; c++)
		sdnotify_key = (sdnotify_key ^ (unsigned char)*c) *
		    1099511628211ULL;
}

/* Whether fd is a datagram socket bound to exactly sun (len bytes). */
static bool
sdnotify_bound_to(int fd, const struct sockaddr_un *sun, socklen_t len)
{
	struct sockaddr_un have;
	socklen_t hlen = sizeof have;
	int type = 0;
	socklen_t tlen = sizeof type;

	return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == 0 &&
	    type == SOCK_DGRAM &&
	    getsockname(fd, (struct sockaddr *)&have, &hlen) == 0 &&
	    hlen == len && memcmp(&have, sun, len) == 0;
}

struct sdnotify *
sdnotify_open(struct event_base *base, const char *name, int inherited,
    sdnotify_fn fn, void *arg, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct sdnotify *sn;
	socklen_t len;
	int one = 1, n;

	sn = xcalloc(1, sizeof *sn);
	n = snprintf(sun.sun_path + 1, sizeof sun.sun_path - 1,
	    "safeexitd/%016llx/%s", sdnotify_key, name);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
	snprintf(sn->env, sizeof sn->env, "NOTIFY_SOCKET=@%s", sun.sun_path + 1);
	sn->fn = fn;
	sn->arg = arg;
	if (inherited != -1 && sdnotify_bound_to(inherited, &sun, len)) {
		/* Handed over by a re-exec: what was sent meanwhile waits in it. */
		sn->fd = inherited;
		fcntl(sn->fd, F_SETFL, O_NONBLOCK);
		goto listen;
	}
	if (inherited != -1)
		close(inherited);
	sn->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sn->fd == -1 ||
	    setsockopt(sn->fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) == -1 ||
	    bind(sn->fd, (struct sockaddr *)&sun, len) == -1) {
		snprintf(err, errlen, "notify socket @%s: %s", sun.sun_path + 1,
		    strerror(errno));
		sdnotify_close(sn);
		return NULL;
	}
listen:
	if ((sn->ev = event_new(base, sn->fd, EV_READ | EV_PERSIST,
	    sdnotify_read_cb, sn)) == NULL || event_add(sn->ev, NULL) == -1)
		fatal("%s", __func__);
	return sn;
}

int
sdnotify_fd(const struct sdnotify *sn)
{
	return sn->fd;
}

const char *
sdnotify_env(const struct sdnotify *sn)
{
	return sn->env;
}

/*
 * Read one datagram and hand it on; 1 when there was one, 0 when none is
 * waiting.  A datagram without credentials, or with descriptors (the
 * file-descriptor store is not offered), is dropped; its descriptors closed.
 */
static int
sdnotify_read_one(struct sdnotify *sn)
{
	char buf[SDNOTIFY_MAX];
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(struct ucred)) +
		    CMSG_SPACE(sizeof(int) * 16)];
	} ctl;
	struct iovec iov = { buf, sizeof buf - 1 };
	struct msghdr msg = { 0 };
	struct cmsghdr *c;
	struct ucred cred = { 0 };
	struct sdnotify_msg m;
	bool have_cred = false;
	ssize_t n;

	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.space;
	msg.msg_controllen = sizeof ctl.space;
	n = recvmsg(sn->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n == -1)
		return errno == EINTR ? 1 : 0;
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len >= CMSG_LEN(sizeof cred)) {
			memcpy(&cred, CMSG_DATA(c), sizeof cred);
			have_cred = true;
		} else if (c->cmsg_type == SCM_RIGHTS) {
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (size_t i = 0; i < k; i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(c) + i * sizeof fd,
				    sizeof fd);
				close(fd);
			}
		}
	}
	if (!have_cred || cred.pid <= 0)
		return 1;
	sdnotify_parse(buf, (size_t)n, &m);
	sn->fn(sn->arg, &m, cred.pid);
	return 1;
}

/* Datagrams are waiting. */
static void
sdnotify_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sdnotify *sn = arg;

	for (int i = 0; i < SDNOTIFY_READS && sdnotify_read_one(sn) == 1; i++)
		;
}

void
sdnotify_drain(struct sdnotify *sn)
{
	/* Bounded all the same: a sender cannot keep the reaper here. */
	for (int i = 0; i < 256 && sdnotify_read_one(sn) == 1; i++)
		;
}

void
sdnotify_close(struct sdnotify *sn)
{
	if (sn == NULL)
		return;
	if (sn->ev != NULL)
		event_free(sn->ev);
	if (sn->fd != -1)
		close(sn->fd);
	free(sn);
}
