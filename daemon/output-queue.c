/*
 * Writing relayed output to a descriptor the daemon does not control the
 * reader of: its own stdout or stderr (inherit), which may be a pipe to a
 * container's log collector, or a journal stream.  Every write is whole
 * lines and never blocks: what the descriptor cannot take now waits in a
 * queue written first when it has room, so lines of two programs never mix;
 * while the queue is full, the programs writing to it are not read (their
 * own pipes fill and they wait, as on a slow terminal).  Nothing seeks.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"
#include "output-sink.h"

#define OUTQ_FULL	(1024 * 1024)	/* stop reading programs past this */

struct outq {
	int fd;
	char what[32];
	char *buf;
	size_t len, size;
	struct event *wev;
	bool failed;			/* said once */
};

static struct event_base *outq_base;
/* The queues of the daemon's own stdout and stderr, shared by programs. */
static struct outq *outq_own[3];

static void outq_writable_cb(evutil_socket_t fd, short what, void *arg);
static void outq_keep(struct outq *q, const struct iovec *iov, int n,
    size_t skip);
static void outq_resume(struct sink *s, void *arg);

/* Remember the loop (output_relay_init). */
void
outq_init(struct event_base *base)
{
	outq_base = base;
}

/*
 * The queue of the daemon's own descriptor fd (1 or 2).  Opened again
 * through /proc where it can be (a pipe, a terminal), so O_NONBLOCK is set
 * on a file description of the daemon's own, not on one it shares with the
 * shell or the container runtime; else a duplicate made non-blocking.
 */
struct outq *
outq_inherit(int fd, char *err, size_t errlen)
{
	char path[64];
	int own, fl;

	if (fd != 1 && fd != 2)
		fd = 1;
	if (outq_own[fd] != NULL)
		return outq_own[fd];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	if ((own = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NONBLOCK |
	    O_NOCTTY)) == -1) {
		if ((own = fcntl(fd, F_DUPFD_CLOEXEC, 3)) == -1) {
			snprintf(err, errlen, "inherit: %s", strerror(errno));
			return NULL;
		}
		if ((fl = fcntl(own, F_GETFL)) != -1)
			fcntl(own, F_SETFL, fl | O_NONBLOCK);
	}
	outq_own[fd] = outq_new(own, fd == 1 ? "the daemon's stdout" :
	    "the daemon's stderr");
	return outq_own[fd];
}

/* A queue writing to fd, which it owns from now on. */
struct outq *
outq_new(int fd, const char *what)
{
	struct outq *q;

	if ((q = calloc(1, sizeof *q)) == NULL)
		fatal("%s", __func__);
	q->fd = fd;
	snprintf(q->what, sizeof q->what, "%s", what);
	q->wev = event_new(outq_base, fd, EV_WRITE, outq_writable_cb, q);
	if (q->wev == NULL)
		fatalx("%s: cannot watch %s", __func__, what);
	return q;
}

/* Close a queue's descriptor and drop what it holds (a journal stream). */
void
outq_free(struct outq *q)
{
	if (q == NULL || q == outq_own[1] || q == outq_own[2])
		return;
	event_free(q->wev);
	close(q->fd);
	free(q->buf);
	free(q);
}

/* See output-sink.h. */
bool
outq_write(struct outq *q, struct sink *s, const struct iovec *iov, int n)
{
	ssize_t w = 0;

	if (q->len == 0) {
		do
			w = writev(q->fd, iov, n);
		while (w == -1 && errno == EINTR);
		if (w == -1 && errno != EAGAIN) {
			if (!q->failed)
				log_warn("cannot write %s output to %s; "
				    "dropping it", s->stream, q->what);
			q->failed = true;
			return true;
		}
		if (w == -1)
			w = 0;
		q->failed = false;
	}
	outq_keep(q, iov, n, (size_t)w);
	if (q->len > 0 && !event_pending(q->wev, EV_WRITE, NULL))
		event_add(q->wev, NULL);
	return q->len < OUTQ_FULL;
}

/* Queue what writev left of iov: all but its first skip bytes. */
static void
outq_keep(struct outq *q, const struct iovec *iov, int n, size_t skip)
{
	for (int i = 0; i < n; i++) {
		size_t len = iov[i].iov_len;
		const char *p = iov[i].iov_base;

		if (skip >= len) {
			skip -= len;
			continue;
		}
		p += skip;
		len -= skip;
		skip = 0;
		if (q->len + len > q->size) {
			size_t size = q->size ? q->size : 65536;

			while (size < q->len + len)
				size *= 2;
			if ((q->buf = realloc(q->buf, size)) == NULL)
				fatal("%s", __func__);
			q->size = size;
		}
		memcpy(q->buf + q->len, p, len);
		q->len += len;
	}
}

/* The descriptor has room: write the queue, then let programs on. */
static void
outq_writable_cb(evutil_socket_t fd, short what, void *arg)
{
	struct outq *q = arg;
	ssize_t w;

	do
		w = write(q->fd, q->buf, q->len);
	while (w == -1 && errno == EINTR);
	if (w == -1 && errno != EAGAIN) {
		log_warn("cannot write to %s; dropping output", q->what);
		w = (ssize_t)q->len;
	}
	if (w > 0) {
		memmove(q->buf, q->buf + w, q->len - (size_t)w);
		q->len -= (size_t)w;
	}
	if (q->len > 0)
		event_add(q->wev, NULL);
	if (q->len < OUTQ_FULL / 2)
		output_sink_each(outq_resume, q);
	if (q->len == 0 && q->size > 4 * 65536) {
		free(q->buf);
		q->buf = NULL;
		q->size = 0;
	}
}

/* Read a sink paused on queue arg again. */
static void
outq_resume(struct sink *s, void *arg)
{
	if (s->q == arg && s->paused)
		output_sink_pause(s, false);
}
