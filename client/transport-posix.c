/*
 * safeexitctl's transport on POSIX: a stream socket in the Unix domain,
 * non-blocking once connected, every wait a poll() bounded by its limit.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "safeexitctl.h"
#include "timeval.h"
#include "transport.h"

struct transport {
	int		 fd;
	const char	*path;		/* for messages */
};

static int	transport_poll(struct transport *, short, double);

/*
 * Connect to the daemon.  A Unix socket whose backlog is full makes
 * connect() wait, and SO_SNDTIMEO is what bounds that wait.
 */
int
transport_connect(const char *path, double connect_secs, struct transport **out)
{
	struct transport	*t;
	struct sockaddr_un	 sun;
	struct timeval		 tv;
	double			 limit, left;
	bool			 by_t = false;
	int			 fd, r, flags;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		ctl_warnx("cannot reach safeexitd at %s: path too long", path);
		return (CTL_EXIT_UNREACHABLE);
	}
	strncpy(sun.sun_path, path, sizeof sun.sun_path - 1);

	limit = connect_secs;
	if (ctl_opts.timeout_set) {
		left = ctl_opts.deadline - client_now();
		if (left <= limit) {
			limit = left;
			by_t = true;
		}
	}
	if (limit <= 0)
		return (client_timed_out(0));
	tv = timeval_from_secs(limit);
	if (tv.tv_sec == 0 && tv.tv_usec == 0)
		tv.tv_usec = 1;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		ctl_warn("socket");
		return (CTL_EXIT_UNREACHABLE);
	}
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == -1)
		ctl_warn("SO_SNDTIMEO");
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		r = errno;
		close(fd);
		if (r == EAGAIN || r == EINPROGRESS || r == ETIMEDOUT) {
			if (by_t)
				return (client_timed_out(0));
			ctl_warnx("cannot reach safeexitd at %s: it accepts no "
			    "connections", path);
			return (CTL_EXIT_UNREACHABLE);
		}
		ctl_warnx("cannot reach safeexitd at %s: %s", path,
		    strerror(r));
		return (r == EACCES || r == EPERM ? CTL_EXIT_PERMISSION :
		    CTL_EXIT_UNREACHABLE);
	}
	memset(&tv, 0, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
		ctl_warn("fcntl");
		close(fd);
		return (CTL_EXIT_UNREACHABLE);
	}
	if ((t = calloc(1, sizeof *t)) == NULL) {
		ctl_warn("calloc");
		close(fd);
		return (CTL_EXIT_UNREACHABLE);
	}
	t->fd = fd;
	t->path = path;
	*out = t;
	return (CTL_EXIT_DONE);
}

/* Write the whole frame; -1 when the daemon hung up. */
int
transport_send(struct transport *t, const char *buf, size_t len, double limit)
{
	ssize_t	n;
	int	r;

	while (len > 0) {
		n = send(t->fd, buf, len, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if ((r = transport_poll(t, POLLOUT, limit)) !=
				    CTL_EXIT_DONE)
					return (r);
				continue;
			}
			if (errno == EPIPE || errno == ECONNRESET)
				return (-1);
			ctl_warn("send to %s", t->path);
			return (CTL_EXIT_UNREACHABLE);
		}
		buf += n;
		len -= (size_t)n;
	}
	return (CTL_EXIT_DONE);
}

/* Read what is there; a reset connection reads as EOF. */
int
transport_recv(struct transport *t, char *buf, size_t size, size_t *n,
    double limit)
{
	ssize_t	got;
	int	r;

	for (;;) {
		got = recv(t->fd, buf, size, 0);
		if (got == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if ((r = transport_poll(t, POLLIN, limit)) !=
				    CTL_EXIT_DONE)
					return (r);
				continue;
			}
			if (errno != ECONNRESET) {
				ctl_warn("receive from %s", t->path);
				return (CTL_EXIT_UNREACHABLE);
			}
			got = 0;
		}
		*n = (size_t)got;
		return (CTL_EXIT_DONE);
	}
}

/* Close the connection. */
void
transport_close(struct transport *t)
{
	if (t == NULL)
		return;
	close(t->fd);
	free(t);
}

/* Wait for the socket to be ready until limit (0: no limit). */
static int
transport_poll(struct transport *t, short events, double limit)
{
	struct pollfd	pfd = { .fd = t->fd, .events = events };
	double		left;
	int		ms, n;

	for (;;) {
		ms = -1;
		if (limit > 0) {
			left = limit - client_now();
			if (left <= 0)
				return (client_timed_out(limit));
			/* Round up: waking early would only poll again. */
			ms = left > INT_MAX / 1000 ? INT_MAX :
			    (int)(left * 1000) + 1;
		}
		n = poll(&pfd, 1, ms);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			ctl_warn("poll");
			return (CTL_EXIT_UNREACHABLE);
		}
		if (n > 0)
			return (CTL_EXIT_DONE);
	}
}
