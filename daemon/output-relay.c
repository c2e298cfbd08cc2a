/*
 * Program output relayed line by line: read from the program's pipe, cut
 * into lines, stamped and prefixed as configured, and written in batches
 * (one writev for many lines) to a file rotated only between lines, to the
 * daemon's own stdout or stderr, to a journal stream, to syslog or to the
 * daemon's log.  A file that needs no change of the bytes at all gets them
 * by splice(2), never copied through the daemon.  See safeexitd.ini(5).
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
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "eventlistener.h"
#include "log.h"
#include "output-sink.h"
#include "safeopen.h"

#define RELAY_READS	8		/* reads per wake-up: one flood cannot starve the loop */
#define RELAY_BUF	(256 * 1024)
#define RELAY_SPLICE	(1024 * 1024)	/* bytes per splice call */
#define BATCH_IOV	512
/* A line to syslog or the daemon's log goes in pieces that fit its message. */
#define LOG_PIECE	1920

static struct event_base *relay_base;
static char relay_buf[RELAY_BUF];

/* The lines of one sink waiting for one writev. */
static struct {
	struct iovec iov[BATCH_IOV];
	int n;
	size_t bytes;
	/* Small pieces (stamps, prefixes, short lines) copied end to end. */
	char stage[RELAY_BUF];
	size_t staged;
} batch;

/* The time stamps of the read being cut into lines: one clock read per read. */
static struct {
	bool valid[3];
	char text[3][64];		/* with a space after */
	size_t len[3];
} stamp;

static ssize_t	output_splice(struct sink *s, int fd);
static void	output_hold(struct sink *s, const char *buf, size_t len);
static void	output_line_done(struct sink *s, const char *line, size_t len,
		    bool cut, bool nl_follows);
static void	output_line_log(struct sink *s, const char *line, size_t len,
		    bool cut);
static void	output_batch_add(struct sink *s, const char *p, size_t len,
		    bool merge);
static void	output_batch_flush(struct sink *s);
static void	output_file_writev(struct sink *s, struct iovec *iov, int n);
static void	output_file_before(struct sink *s, size_t bytes);
static void	output_rotate(struct sink *s);
static void	output_drop(struct sink *s);
static const char *output_stamp(int kind, size_t *len);
static void	output_quiet_cb(evutil_socket_t fd, short what, void *arg);
static void	output_age_cb(evutil_socket_t fd, short what, void *arg);
static void	output_age_arm(struct sink *s);

/* Remember the loop for the timers. */
void
output_relay_init(struct event_base *base)
{
	relay_base = base;
	outq_init(base);
}

/* Set up what relaying s needs beyond its pipe: prefix and timers. */
void
output_relay_open(struct sink *s, const struct output_config *oc)
{
	s->stamps = oc->timestamps;
	s->max_age = oc->max_age;
	if (oc->prefix) {
		if (asprintf(&s->prefix, "%s %s | ", output_sink_name(s),
		    s->stream) == -1)
			fatal("%s", __func__);
		s->prefix_len = strlen(s->prefix);
	}
	if ((s->quiet_ev = evtimer_new(relay_base, output_quiet_cb, s)) == NULL)
		fatalx("%s: cannot make a timer", __func__);
	if (s->kind == OUTPUT_FILE && s->max_age > 0) {
		if ((s->age_ev = evtimer_new(relay_base, output_age_cb, s)) == NULL)
			fatalx("%s: cannot make a timer", __func__);
		output_age_arm(s);
	}
	/*
	 * A file taken as it is (no rotation, no change): splice.  Spliced
	 * bytes are never seen: output_watch_lines turns it off, and so must
	 * whatever else comes to read a file sink's bytes.
	 */
	s->splice_off = s->kind != OUTPUT_FILE || s->stamps != OUTPUT_STAMP_NONE ||
	    s->prefix != NULL || s->max_bytes > 0 || s->max_age > 0;
}

/* Write what is held, stop the timers, free the line buffer. */
void
output_relay_close(struct sink *s)
{
	if (s->line_len > 0) {
		output_line_done(s, s->line, s->line_len, false, false);
		output_batch_flush(s);
	}
	s->line_len = 0;
	free(s->line);
	s->line = NULL;
	if (s->quiet_ev != NULL)
		event_free(s->quiet_ev);
	if (s->age_ev != NULL)
		event_free(s->age_ev);
	s->quiet_ev = s->age_ev = NULL;
	free(s->prefix);
	s->prefix = NULL;
	if (s->splice_fd != -1)
		close(s->splice_fd);
	s->splice_fd = -1;
}

/*
 * The pipe is readable: move a bounded amount on.  Returns false at the
 * pipe's end (which cannot happen while the daemon holds the write end).
 */
bool
output_relay_read(struct sink *s, int fd)
{
	for (int i = 0; i < RELAY_READS && !s->paused; i++) {
		ssize_t n = output_splice(s, fd);

		if (n > 0)
			continue;
		if (n == 0)
			return true;
		n = read(fd, relay_buf, sizeof relay_buf);
		if (n > 0) {
			eventlistener_output(output_sink_name(s),
			    strcmp(s->stream, "stderr") == 0 ? 2 : 1, relay_buf,
			    (size_t)n);
			output_relay_consume(s, relay_buf, (size_t)n);
			if ((size_t)n < sizeof relay_buf)
				return true;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		return n != 0;
	}
	return true;
}

/*
 * Move the pipe's bytes straight into the file in the kernel: 1 when some
 * moved, 0 when the pipe is empty, -1 when this sink does not splice.  The
 * file is written at its end, as O_APPEND would (splice refuses an
 * O_APPEND file), through a descriptor of its own.
 */
static ssize_t
output_splice(struct sink *s, int fd)
{
	char path[64];
	ssize_t n;

	if (s->splice_off || s->line_len > 0 || s->cutting || s->file_fd == -1)
		return -1;
	if (s->splice_fd == -1) {
		snprintf(path, sizeof path, "/proc/self/fd/%d", s->file_fd);
		if ((s->splice_fd = open(path, O_WRONLY | O_CLOEXEC)) == -1) {
			s->splice_off = true;
			return -1;
		}
	}
	if (lseek(s->splice_fd, 0, SEEK_END) == -1) {
		s->splice_off = true;
		return -1;
	}
	n = splice(fd, NULL, s->splice_fd, NULL, RELAY_SPLICE,
	    SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
	if (n > 0) {
		s->size += n;
		return 1;
	}
	if (n == -1 && errno == EAGAIN)
		return 0;
	if (n == -1 && errno == EINTR)
		return 1;
	/* Not a file splice can write (or a full disk): copy from now on. */
	s->splice_off = true;
	return -1;
}

/* Cut bytes into lines and pass each complete one on; hold the rest. */
void
output_relay_consume(struct sink *s, const char *buf, size_t len)
{
	memset(stamp.valid, 0, sizeof stamp.valid);
	while (len > 0) {
		const char *nl = memchr(buf, '\n', len);
		size_t l;

		if (nl == NULL) {
			output_batch_flush(s);
			output_hold(s, buf, len);
			break;
		}
		l = (size_t)(nl - buf);
		if (s->cutting)
			s->cutting = false;	/* said already, with its mark */
		else if (s->line_len > 0) {
			size_t take = l;

			if (take > OUTPUT_LINE_CAP - s->line_len)
				take = OUTPUT_LINE_CAP - s->line_len;
			memcpy(s->line + s->line_len, buf, take);
			s->line_len += take;
			/* In the batch until its end: reused only after it. */
			output_line_done(s, s->line, s->line_len, take < l, false);
			s->line_len = 0;
		} else if (l > OUTPUT_LINE_CAP)
			output_line_done(s, buf, OUTPUT_LINE_CAP, true, false);
		else
			output_line_done(s, buf, l, false, true);
		buf += l + 1;
		len -= l + 1;
	}
	output_batch_flush(s);
	if (s->line_len > 0)
		event_add(s->quiet_ev, &(struct timeval){ 0, OUTPUT_QUIET_MS * 1000 });
	else if (evtimer_pending(s->quiet_ev, NULL))
		event_del(s->quiet_ev);
}

/* Keep a partial line; past the cap, write it cut and drop the rest of it. */
static void
output_hold(struct sink *s, const char *buf, size_t len)
{
	size_t room;

	if (s->cutting)
		return;
	if (s->line == NULL && (s->line = malloc(OUTPUT_LINE_CAP)) == NULL)
		fatal("%s", __func__);
	room = OUTPUT_LINE_CAP - s->line_len;
	memcpy(s->line + s->line_len, buf, len < room ? len : room);
	if (len < room) {
		s->line_len += len;
		return;
	}
	output_line_done(s, s->line, OUTPUT_LINE_CAP, true, false);
	output_batch_flush(s);
	s->line_len = 0;
	s->cutting = true;
}

/*
 * Every complete line of a program's output passes here once, without its
 * newline, whatever its destination: what watches lines belongs here.  (A
 * sink that splices sees no lines: set splice_off to watch its lines.)
 * cut: the line was longer than OUTPUT_LINE_CAP and ends here; nl_follows:
 * the newline is the byte after the line in memory.
 */
static void
output_line_done(struct sink *s, const char *line, size_t len, bool cut,
    bool nl_follows)
{
	size_t stamp_len = 0, bytes;
	const char *st = NULL;

	output_sink_line(s, line, len);
	if (s->kind == OUTPUT_LOG || s->kind == OUTPUT_SYSLOG) {
		output_line_log(s, line, len, cut);
		return;
	}
	if (s->stamps != OUTPUT_STAMP_NONE && s->kind != OUTPUT_JOURNAL)
		st = output_stamp(s->stamps, &stamp_len);
	bytes = stamp_len + s->prefix_len + len + 1 +
	    (cut ? sizeof OUTPUT_CUT_MARK - 1 : 0);
	if (s->kind == OUTPUT_FILE)
		output_file_before(s, bytes);
	if (batch.n + 5 > BATCH_IOV)
		output_batch_flush(s);
	if (st != NULL)
		output_batch_add(s, st, stamp_len, false);
	if (s->prefix != NULL && s->kind != OUTPUT_JOURNAL)
		output_batch_add(s, s->prefix, s->prefix_len, false);
	if (nl_follows && !cut) {
		output_batch_add(s, line, len + 1, st == NULL && s->prefix == NULL);
		return;
	}
	output_batch_add(s, line, len, false);
	if (cut)
		output_batch_add(s, OUTPUT_CUT_MARK, sizeof OUTPUT_CUT_MARK - 1, false);
	output_batch_add(s, "\n", 1, false);
}

/* A line to syslog or the daemon's log, in pieces its messages can hold. */
static void
output_line_log(struct sink *s, const char *line, size_t len, bool cut)
{
	size_t stamp_len = 0;
	const char *st = "";

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (s->stamps != OUTPUT_STAMP_NONE && s->kind == OUTPUT_LOG)
		st = output_stamp(s->stamps, &stamp_len);
	do {
		size_t piece = len < LOG_PIECE ? len : LOG_PIECE;
		const char *mark = cut && piece == len ? OUTPUT_CUT_MARK : "";

		if (s->kind == OUTPUT_SYSLOG)
			syslog(LOG_DAEMON | LOG_INFO, "%s %s: %.*s%s",
			    output_sink_name(s), s->stream, (int)piece, line,
			    mark);
		else
			log_program("%s %s: %.*s%.*s%s", output_sink_name(s),
			    s->stream, (int)stamp_len, st, (int)piece, line,
			    mark);
		line += piece;
		len -= piece;
	} while (len > 0);
}

/*
 * Add bytes to the batch.  merge: they follow the last ones in memory, so
 * that iovec grows.  Small pieces are copied into the stage, one iovec for
 * many of them: a stamped line costs two copies, not two iovecs.
 */
static void
output_batch_add(struct sink *s, const char *p, size_t len, bool merge)
{
	struct iovec *last = batch.n > 0 ? &batch.iov[batch.n - 1] : NULL;

	if (len <= 256 && !merge) {
		if (batch.staged + len > sizeof batch.stage ||
		    batch.n + 1 >= BATCH_IOV) {
			output_batch_flush(s);
			last = NULL;
		}
		memcpy(batch.stage + batch.staged, p, len);
		p = batch.stage + batch.staged;
		batch.staged += len;
		merge = true;
	}
	if (merge && last != NULL &&
	    (const char *)last->iov_base + last->iov_len == p)
		last->iov_len += len;
	else
		batch.iov[batch.n++] = (struct iovec){ (void *)p, len };
	batch.bytes += len;
}

/* Write the batch to s's destination. */
static void
output_batch_flush(struct sink *s)
{
	if (batch.n == 0)
		return;
	if (s->kind == OUTPUT_FILE)
		output_file_writev(s, batch.iov, batch.n);
	else if (s->q != NULL && !outq_write(s->q, s, batch.iov, batch.n))
		output_sink_pause(s, true);
	batch.n = 0;
	batch.bytes = 0;
	batch.staged = 0;
}

/*
 * Append whole lines to the file.  What cannot be written is dropped
 * rather than block the program on a full disk.
 */
static void
output_file_writev(struct sink *s, struct iovec *iov, int n)
{
	char err[512];

	/* No file since a rotation or reopen failed: try again. */
	if (s->file_fd == -1 && output_file_open(s, err, sizeof err) == -1) {
		output_drop(s);
		return;
	}
	while (n > 0) {
		ssize_t w = writev(s->file_fd, iov, n > IOV_MAX ? IOV_MAX : n);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			output_drop(s);
			return;
		}
		if (s->write_failed) {
			log_notice("%s: writing %s to %s again",
			    output_sink_name(s), s->stream, s->path);
			s->write_failed = false;
		}
		s->size += w;
		for (; n > 0 && (size_t)w >= iov->iov_len; iov++, n--)
			w -= (ssize_t)iov->iov_len;
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
}

/*
 * Before a line of bytes goes to the file: rotate first when it would take
 * a file that holds something past max_bytes.  A line longer than the
 * limit thus lands whole in a fresh file, alone.
 */
static void
output_file_before(struct sink *s, size_t bytes)
{
	long long at = s->size + (long long)batch.bytes;

	if (s->max_bytes <= 0 || !s->regular || at == 0 ||
	    at + (long long)bytes <= s->rotate_at)
		return;
	output_batch_flush(s);
	output_rotate(s);
}

/* Say once that output is dropped, until a write works again. */
static void
output_drop(struct sink *s)
{
	if (!s->write_failed)
		log_warn("%s: cannot write %s to %s; dropping output",
		    output_sink_name(s), s->stream, s->path);
	s->write_failed = true;
}

/*
 * FILE -> FILE.1 -> ... -> FILE.backups, then a fresh FILE.  A FILE that
 * cannot be moved aside is kept and grows: the output matters more than the
 * limit.  The next try is max_bytes further on, so a rotation that keeps
 * failing is said once per max_bytes of output, not once per line.
 */
static void
output_rotate(struct sink *s)
{
	char from[4096], to[4096], err[512];
	int r;

	for (int i = s->backups - 1; i >= 1; i--) {
		snprintf(from, sizeof from, "%s.%d", s->path, i);
		snprintf(to, sizeof to, "%s.%d", s->path, i + 1);
		if (rename(from, to) == -1 && errno != ENOENT)
			log_warn("%s: cannot rotate %s", output_sink_name(s), from);
	}
	if (s->backups > 0) {
		snprintf(to, sizeof to, "%s.1", s->path);
		r = rename(s->path, to);
	} else
		r = unlink(s->path);
	/* ENOENT: someone removed FILE; a fresh one is what rotation wants. */
	if (r == -1 && errno != ENOENT) {
		log_warn("%s: cannot rotate %s", output_sink_name(s), s->path);
		s->rotate_at = s->size + s->max_bytes;
		return;
	}
	close(s->file_fd);
	s->file_fd = -1;
	if (output_file_open(s, err, sizeof err) == -1) {
		log_warnx("%s: cannot open %s after rotation",
		    output_sink_name(s), err);
		return;
	}
	/* Made again by someone else meanwhile, and already full. */
	if (s->size >= s->rotate_at && s->max_bytes > 0)
		s->rotate_at = s->size + s->max_bytes;
	if (s->age_ev != NULL)
		output_age_arm(s);
}

/*
 * Open the log file for appending, the way docs/SECURITY.md says for a
 * folder others may write: never through a link (O_NOFOLLOW), never blocking
 * (a FIFO without a reader fails at once; a FIFO or a device stays
 * non-blocking, so a slow reader costs dropped output, never a stalled
 * loop), and a file that was regular must be regular again when reopened
 * after a rotation or SIGUSR2: what was put in its place is refused.
 */
int
output_file_open(struct sink *s, char *err, size_t errlen)
{
	unsigned kinds = SAFEOPEN_REG;
	struct stat st;
	int fd;

	if (s->file_fd == -1 && !s->regular)
		kinds |= SAFEOPEN_FIFO | SAFEOPEN_CHR;
	else if (!s->regular)
		kinds = SAFEOPEN_FIFO | SAFEOPEN_CHR;
	fd = safeopen(s->path, O_WRONLY | O_APPEND | O_CREAT, 0644, kinds, &st,
	    err, errlen);
	if (fd == -1)
		return -1;
	if (s->file_fd != -1)
		close(s->file_fd);
	if (s->splice_fd != -1)
		close(s->splice_fd);
	s->splice_fd = -1;
	s->file_fd = fd;
	s->regular = S_ISREG(st.st_mode);
	s->size = st.st_size;
	s->rotate_at = s->max_bytes;
	if (!s->regular)
		s->splice_off = true;
	return 0;
}

/*
 * The time stamp of kind (with a space after), read from the clock once
 * per read of the pipe: lines read together arrive at the same time.
 */
static const char *
output_stamp(int kind, size_t *len)
{
	struct timespec ts;
	struct tm tm;
	char date[40], zone[8];
	char *t = stamp.text[kind];

	if (stamp.valid[kind]) {
		*len = stamp.len[kind];
		return t;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	if (kind == OUTPUT_STAMP_RFC3339) {
		gmtime_r(&ts.tv_sec, &tm);
		strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(t, sizeof stamp.text[0], "%s.%06ldZ ", date,
		    ts.tv_nsec / 1000);
	} else {
		localtime_r(&ts.tv_sec, &tm);
		strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
		strftime(zone, sizeof zone, "%z", &tm);
		/* ISO 8601 extended: +02:00, not +0200. */
		snprintf(t, sizeof stamp.text[0], "%s.%03ld%.3s:%.2s ", date,
		    ts.tv_nsec / 1000000, zone, zone + 3);
	}
	stamp.len[kind] = strlen(t);
	stamp.valid[kind] = true;
	*len = stamp.len[kind];
	return t;
}

/* A partial line stayed alone a while (a prompt): write it as a line. */
static void
output_quiet_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sink *s = arg;

	if (s->line_len == 0)
		return;
	memset(stamp.valid, 0, sizeof stamp.valid);
	output_line_done(s, s->line, s->line_len, false, false);
	output_batch_flush(s);
	s->line_len = 0;
}

/* Start counting the age of the file afresh. */
static void
output_age_arm(struct sink *s)
{
	struct timeval tv;

	tv.tv_sec = (time_t)s->max_age;
	tv.tv_usec = (suseconds_t)((s->max_age - (double)tv.tv_sec) * 1e6);
	event_add(s->age_ev, &tv);
}

/*
 * The file is max_age old.  It ends with a whole line (a partial one is
 * held, never written), so it is rotated now; an empty one is kept.
 */
static void
output_age_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sink *s = arg;

	if (s->size > 0 && s->regular && s->file_fd != -1)
		output_rotate(s);
	else
		output_age_arm(s);
}
