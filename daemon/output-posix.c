/*
 * Program output: pipes read by the event loop and written to a file (with
 * size rotation), syslog, or the daemon's log line by line.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "conf.h"
#include "keeper.h"
#include "log.h"
#include "eventlistener.h"
#include "output.h"
#include "output-lines.h"
#include "safeopen.h"

/*
 * A longer line is logged in pieces.  A piece with "NAME stderr: " before it
 * (a name has at most 64 characters) must fit the log's 2048-byte message,
 * which would cut the rest off.
 */
#define OUTPUT_LINE_MAX	1920
#define OUTPUT_READS	8	/* reads per wake-up, so one flood cannot starve the loop */

struct sink {
	struct output *owner;
	const char *stream;		/* "stdout" or "stderr" */
	enum output_kind kind;
	char *path;
	long long max_bytes;
	int backups;
	int file_fd;			/* OUTPUT_FILE */
	bool regular;			/* a regular file: rotated by size */
	long long size;
	long long rotate_at;		/* rotate once size reaches this */
	bool write_failed;		/* log a failing file once, not per write */
	int read_fd, write_fd;		/* the pipe, -1 when none */
	struct event *ev;
	char *line;			/* OUTPUT_LINE_MAX bytes, allocated on first use */
	size_t line_len;
	struct drain *drains;		/* older pipes still read, to their end */
};

/*
 * The read end of a pipe from before a crash or re-exec, collected from the
 * pipe keeper: the program's processes of then may still write to it, but
 * the daemon has no write end of it (none can be made from a read end
 * without reopening it by path), so new processes get a new pipe and this
 * one is read until its last writer is gone, then closed.
 */
struct drain {
	struct sink *sink;
	char *name;			/* the program */
	int stream;			/* 0 stdout, 2 stderr */
	int fd;
	struct event *ev;
	char key[32];			/* the keeper's: "stdout old-FD" */
	struct drain *next;
};

struct output {
	char *name;
	struct sink out, err;
	int child_out, child_err;	/* what the program gets as 1 and 2 */
	int inherit_out, inherit_err;	/* the daemon's own 1 or 2, for inherit */
	output_line_fn line_fn;		/* output_watch_lines, or NULL */
	void *line_arg;
	struct output *next;
	struct output **prevp;		/* what points at this one: unlinks in O(1) */
};

static struct event_base *output_base;
/* output_import: pipes inherited across a re-exec, used instead of new ones. */
static const int *import_fds;
static struct output *outputs;
/* One /dev/null for every program that discards output: one descriptor, not N. */
static int output_devnull = -1;
/* Old pipes not yet given to a program's output (output_reclaim). */
static struct drain *pending;

#define OUTPUT_DRAINS_ENV	"SAFEEXITD_OUTPUT_DRAINS"

static int output_sink_open(struct output *o, struct sink *s,
    const struct output_config *oc, const char *stream, char *err, size_t errlen);
static void output_sink_close(struct sink *s);
static int output_file_open(struct sink *s, char *err, size_t errlen);
static void output_read_cb(evutil_socket_t fd, short what, void *arg);
static void output_consume(struct sink *s, const char *buf, size_t len);
static void output_file_write(struct sink *s, const char *buf, size_t len);
static void output_rotate(struct sink *s);
static void output_drop(struct sink *s);
static void output_line(struct sink *s, const char *line, size_t len);
static void output_attach_drains(struct output *o);
static void output_drain_cb(evutil_socket_t fd, short what, void *arg);
static void output_drain_free(struct drain *dr);
static bool output_drain_read(struct drain *dr);
static void output_export_drains(void);

/* Remember the loop that reads the pipes. */
void
output_init(struct event_base *base)
{
	const char *env = getenv(OUTPUT_DRAINS_ENV);
	char name[128];
	int stream, fd, used;

	output_base = base;
	/* A re-exec: old pipes handed over as "NAME STREAM FD;" each. */
	while (env != NULL && sscanf(env, "%127s %d %d;%n", name, &stream, &fd,
	    &used) == 3) {
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		output_reclaim(name, stream, fd);
		env += used;
	}
	unsetenv(OUTPUT_DRAINS_ENV);
}

void
output_reclaim(const char *name, int stream, int fd)
{
	struct drain *dr;

	if ((dr = calloc(1, sizeof *dr)) == NULL ||
	    (dr->name = strdup(name)) == NULL)
		fatal("%s", __func__);
	dr->stream = stream;
	dr->fd = fd;
	dr->next = pending;
	pending = dr;
}

void
output_reclaim_done(void)
{
	while (pending != NULL) {
		struct drain *dr = pending;

		pending = dr->next;
		log_info("%s: %s pipe from before is not needed; closed", dr->name,
		    dr->stream == 2 ? "stderr" : "stdout");
		output_drain_free(dr);
	}
}

/* Give o the old pipes of its program, each read on until its end. */
static void
output_attach_drains(struct output *o)
{
	struct drain **pp = &pending;

	while (*pp != NULL) {
		struct drain *dr = *pp;
		struct sink *s;
		int fl;

		if (strcmp(dr->name, o->name) != 0) {
			pp = &dr->next;
			continue;
		}
		*pp = dr->next;
		s = dr->stream == 2 && o->err.kind != OUTPUT_STDOUT ? &o->err : &o->out;
		dr->sink = s;
		if ((fl = fcntl(dr->fd, F_GETFL)) != -1)
			fcntl(dr->fd, F_SETFL, fl | O_NONBLOCK);
		snprintf(dr->key, sizeof dr->key, "%s old-%d",
		    dr->stream == 2 ? "stderr" : "stdout", dr->fd);
		dr->ev = event_new(output_base, dr->fd, EV_READ | EV_PERSIST,
		    output_drain_cb, dr);
		if (dr->ev == NULL || event_add(dr->ev, NULL) == -1)
			fatalx("%s: cannot watch output pipe", __func__);
		/* Should the daemon die again, its writers still have a reader. */
		keeper_add(o->name, dr->key, dr->fd);
		dr->next = s->drains;
		s->drains = dr;
	}
}

/* Close an old pipe and forget it. */
static void
output_drain_free(struct drain *dr)
{
	if (dr->ev != NULL)
		event_free(dr->ev);
	if (dr->sink != NULL)
		keeper_del(dr->name, dr->key);
	close(dr->fd);
	free(dr->name);
	free(dr);
}

/* Pass on what an old pipe holds now; true at its end (or an error). */
static bool
output_drain_read(struct drain *dr)
{
	struct sink *s = dr->sink;
	char buf[65536];

	for (int i = 0; i < OUTPUT_READS; i++) {
		ssize_t n = read(dr->fd, buf, sizeof buf);

		if (n > 0) {
			/* Output configured away from a pipe now: dropped. */
			if (s->kind == OUTPUT_FILE || s->kind == OUTPUT_LOG ||
			    s->kind == OUTPUT_SYSLOG)
				output_consume(s, buf, (size_t)n);
			if ((size_t)n < sizeof buf)
				return false;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		return n == 0 || errno != EAGAIN;
	}
	return false;
}

/* An old pipe is readable: pass it on; at its end every old writer is gone. */
static void
output_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct drain *dr = arg;
	struct drain **pp;

	if (!output_drain_read(dr))
		return;
	for (pp = &dr->sink->drains; *pp != NULL; pp = &(*pp)->next)
		if (*pp == dr) {
			*pp = dr->next;
			break;
		}
	log_debug("%s: %s pipe from before closed by its last writer",
	    dr->name, dr->stream == 2 ? "stderr" : "stdout");
	/* Freed here, the event with it: nothing is left to wake the loop. */
	output_drain_free(dr);
}

struct output *
output_open(const struct program_config *pc, char *err, size_t errlen)
{
	struct output *o;

	if ((o = calloc(1, sizeof *o)) == NULL || (o->name = strdup(pc->name)) == NULL)
		fatal("%s", __func__);
	o->out.read_fd = o->out.write_fd = o->out.file_fd = -1;
	o->err.read_fd = o->err.write_fd = o->err.file_fd = -1;
	o->inherit_out = STDOUT_FILENO;
	o->inherit_err = STDERR_FILENO;
	if (output_sink_open(o, &o->out, &pc->out, "stdout", err, errlen) == -1)
		goto fail;
	o->child_out = o->out.kind == OUTPUT_NULL ? output_devnull :
	    o->out.kind == OUTPUT_INHERIT ? o->inherit_out : o->out.write_fd;
	if (pc->err.kind == OUTPUT_STDOUT) {
		o->err.kind = OUTPUT_STDOUT;
		o->child_err = o->child_out;
	} else {
		if (output_sink_open(o, &o->err, &pc->err, "stderr", err, errlen) == -1)
			goto fail;
		o->child_err = o->err.kind == OUTPUT_NULL ? output_devnull :
		    o->err.kind == OUTPUT_INHERIT ? o->inherit_err : o->err.write_fd;
	}
	if ((o->next = outputs) != NULL)
		outputs->prevp = &o->next;
	outputs = o;
	o->prevp = &outputs;
	output_attach_drains(o);
	return o;
fail:
	output_sink_close(&o->out);
	output_sink_close(&o->err);
	free(o->name);
	free(o);
	return NULL;
}

/* Set up one stream: a pipe for the daemon to read, or /dev/null, or nothing. */
static int
output_sink_open(struct output *o, struct sink *s, const struct output_config *oc,
    const char *stream, char *err, size_t errlen)
{
	char why[512];
	int fds[2], own;

	s->owner = o;
	s->stream = stream;
	s->kind = oc->kind;
	s->max_bytes = oc->max_bytes;
	s->backups = oc->backups;
	switch (oc->kind) {
	case OUTPUT_INHERIT:
	case OUTPUT_STDOUT:
		return 0;
	case OUTPUT_NULL:
		if (output_devnull == -1 &&
		    (output_devnull = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1) {
			snprintf(err, errlen, "open /dev/null: %s", strerror(errno));
			return -1;
		}
		return 0;
	case OUTPUT_FILE:
		/* /dev/stdout and /dev/stderr: the daemon's own, as with inherit. */
		if ((own = safeopen_own_fd(oc->path)) != -1) {
			s->kind = OUTPUT_INHERIT;
			if (s == &o->out)
				o->inherit_out = own;
			else
				o->inherit_err = own;
			return 0;
		}
		if ((s->path = strdup(oc->path)) == NULL)
			fatal("%s", __func__);
		if (output_file_open(s, why, sizeof why) == -1) {
			snprintf(err, errlen, "%s %s", stream, why);
			return -1;
		}
		break;
	case OUTPUT_LOG:
	case OUTPUT_SYSLOG:
		break;
	}
	if (import_fds != NULL && import_fds[s == &o->out ? 0 : 2] >= 0) {
		fds[0] = import_fds[s == &o->out ? 0 : 2];
		fds[1] = import_fds[s == &o->out ? 1 : 3];
		fcntl(fds[0], F_SETFD, FD_CLOEXEC);
		fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	} else if (pipe2(fds, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	s->read_fd = fds[0];
	s->write_fd = fds[1];
	keeper_add(o->name, stream, s->read_fd);
	fcntl(s->read_fd, F_SETFL, O_NONBLOCK);
	s->ev = event_new(output_base, s->read_fd, EV_READ | EV_PERSIST,
	    output_read_cb, s);
	if (s->ev == NULL || event_add(s->ev, NULL) == -1)
		fatalx("%s: cannot watch output pipe", __func__);
	return 0;
}

/*
 * Open the log file for appending, the way docs/SECURITY.md says for a
 * folder others may write: never through a link (O_NOFOLLOW), never blocking
 * (a FIFO without a reader fails at once; a FIFO or a device stays
 * non-blocking, so a slow reader costs dropped output, never a stalled
 * loop), and a file that was regular must be regular again when reopened
 * after a rotation or SIGUSR2: what was put in its place is refused.
 */
static int
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
	s->file_fd = fd;
	s->regular = S_ISREG(st.st_mode);
	s->size = st.st_size;
	s->rotate_at = s->max_bytes;
	return 0;
}

/* Lines of o to fn as well (fn NULL: no more). */
void
output_watch_lines(struct output *o, output_line_fn fn, void *arg)
{
	if (o == NULL)
		return;
	o->line_fn = fn;
	o->line_arg = arg;
	/* A file sink frames lines only for the hook: start each one afresh. */
	if (o->out.kind == OUTPUT_FILE)
		o->out.line_len = 0;
	if (o->err.kind == OUTPUT_FILE)
		o->err.line_len = 0;
}

/* Drain what the pipe holds now, then release the stream. */
static void
output_sink_close(struct sink *s)
{
	if (s->ev != NULL) {
		output_read_cb(s->read_fd, EV_READ, s);
		event_free(s->ev);
		s->ev = NULL;
	}
	while (s->drains != NULL) {
		struct drain *dr = s->drains;

		s->drains = dr->next;
		output_drain_read(dr);
		output_drain_free(dr);
	}
	if (s->line_len > 0)
		output_line(s, s->line, s->line_len);
	free(s->line);
	s->line = NULL;
	s->line_len = 0;
	if (s->read_fd != -1) {
		keeper_del(s->owner->name, s->stream);
		close(s->read_fd);
	}
	if (s->write_fd != -1)
		close(s->write_fd);
	if (s->file_fd != -1)
		close(s->file_fd);
	s->read_fd = s->write_fd = s->file_fd = -1;
	free(s->path);
	s->path = NULL;
}

void
output_close(struct output *o)
{
	if (o == NULL)
		return;
	/* Every program's output is closed at exit: no walk of the list for each. */
	if ((*o->prevp = o->next) != NULL)
		o->next->prevp = o->prevp;
	output_sink_close(&o->out);
	output_sink_close(&o->err);
	free(o->name);
	free(o);
}

int
output_stdout_fd(const struct output *o)
{
	return o->child_out;
}

int
output_stderr_fd(const struct output *o)
{
	return o->child_err;
}

const char *
output_file(const struct output *o, int stream)
{
	const struct sink *s = stream == 2 ? &o->err : &o->out;

	if (stream == 2 && o->err.kind == OUTPUT_STDOUT)
		s = &o->out;
	return s->kind == OUTPUT_FILE ? s->path : NULL;
}

void
output_reopen_all(void)
{
	for (struct output *o = outputs; o != NULL; o = o->next) {
		struct sink *v[2] = { &o->out, &o->err };

		for (int i = 0; i < 2; i++) {
			char err[512];

			if (v[i]->kind == OUTPUT_FILE &&
			    output_file_open(v[i], err, sizeof err) == -1)
				log_warnx("%s: cannot reopen %s", o->name, err);
		}
	}
}

/* The pipe is readable: move a bounded amount to the sink. */
static void
output_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sink *s = arg;
	char buf[65536];

	for (int i = 0; i < OUTPUT_READS; i++) {
		ssize_t n = read(fd, buf, sizeof buf);

		if (n > 0) {
			eventlistener_output(s->owner->name,
			    strcmp(s->stream, "stderr") == 0 ? 2 : 1, buf, (size_t)n);
			output_consume(s, buf, (size_t)n);
			if ((size_t)n < sizeof buf)
				return;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		/*
		 * EOF cannot happen while the daemon holds the write end; should
		 * it all the same, stop watching rather than wake up forever.
		 */
		if (n == 0 && s->ev != NULL)
			event_del(s->ev);
		return;
	}
}

/* Pass bytes to a file as they are, or split them into lines for a log. */
static void
output_consume(struct sink *s, const char *buf, size_t len)
{
	if (s->kind == OUTPUT_FILE) {
		output_file_write(s, buf, len);
		if (s->owner->line_fn == NULL)
			return;
	}
	if (s->line == NULL && (s->line = malloc(OUTPUT_LINE_MAX)) == NULL)
		fatal("%s", __func__);
	while (len > 0)
		if (output_lines_take(s->line, OUTPUT_LINE_MAX, &s->line_len,
		    &buf, &len)) {
			output_line(s, s->line, s->line_len);
			s->line_len = 0;
		}
}

/* One line of a program's output to syslog or the daemon's log. */
static void
output_line(struct sink *s, const char *line, size_t len)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (s->owner->line_fn != NULL)
		s->owner->line_fn(s->owner->line_arg, line, len);
	if (s->kind == OUTPUT_FILE)
		return;		/* framed for the hook only; written as it came */
	if (s->kind == OUTPUT_SYSLOG)
		syslog(LOG_DAEMON | LOG_INFO, "%s %s: %.*s", s->owner->name,
		    s->stream, (int)len, line);
	else
		log_program("%s %s: %.*s", s->owner->name, s->stream, (int)len, line);
}

/*
 * Append to the file, rotating it whenever it would pass max_bytes.  What
 * cannot be written is dropped rather than block the program on a full disk.
 */
static void
output_file_write(struct sink *s, const char *buf, size_t len)
{
	while (len > 0) {
		size_t chunk = len;
		char err[512];
		ssize_t n;

		/* No file since a rotation or reopen failed: try again. */
		if (s->file_fd == -1 && output_file_open(s, err, sizeof err) == -1) {
			output_drop(s);
			return;
		}
		/* Only a regular file is renamed: never a device or a FIFO. */
		if (s->max_bytes > 0 && s->regular) {
			if (s->size >= s->rotate_at) {
				output_rotate(s);
				continue;
			}
			if ((long long)chunk > s->rotate_at - s->size)
				chunk = (size_t)(s->rotate_at - s->size);
		}
		n = write(s->file_fd, buf, chunk);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			output_drop(s);
			return;
		}
		if (s->write_failed) {
			log_notice("%s: writing %s to %s again", s->owner->name,
			    s->stream, s->path);
			s->write_failed = false;
		}
		s->size += n;
		buf += n;
		len -= (size_t)n;
	}
}

/* Say once that output is dropped, until a write works again. */
static void
output_drop(struct sink *s)
{
	if (!s->write_failed)
		log_warn("%s: cannot write %s to %s; dropping output",
		    s->owner->name, s->stream, s->path);
	s->write_failed = true;
}

/*
 * FILE -> FILE.1 -> ... -> FILE.backups, then a fresh FILE.  A FILE that
 * cannot be moved aside is kept and grows: the output matters more than the
 * limit.  The next try is max_bytes further on, so a rotation that keeps
 * failing is said once per max_bytes of output, not once per write.
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
			log_warn("%s: cannot rotate %s", s->owner->name, from);
	}
	if (s->backups > 0) {
		snprintf(to, sizeof to, "%s.1", s->path);
		r = rename(s->path, to);
	} else
		r = unlink(s->path);
	/* ENOENT: someone removed FILE; a fresh one is what rotation wants. */
	if (r == -1 && errno != ENOENT) {
		log_warn("%s: cannot rotate %s", s->owner->name, s->path);
		s->rotate_at = s->size + s->max_bytes;
		return;
	}
	close(s->file_fd);
	s->file_fd = -1;
	if (output_file_open(s, err, sizeof err) == -1) {
		log_warnx("%s: cannot open %s after rotation", s->owner->name, err);
		return;
	}
	/* Made again by someone else meanwhile, and already full. */
	if (s->size >= s->rotate_at)
		s->rotate_at = s->size + s->max_bytes;
}

struct output *
output_import(const struct program_config *pc, const int fds[4], char *err,
    size_t errlen)
{
	struct output *o;

	import_fds = fds;
	o = output_open(pc, err, errlen);
	import_fds = NULL;
	return o;
}

void
output_export(const struct output *o, int fds[4])
{
	fds[0] = o->out.read_fd;
	fds[1] = o->out.write_fd;
	fds[2] = o->err.kind == OUTPUT_STDOUT ? -1 : o->err.read_fd;
	fds[3] = o->err.kind == OUTPUT_STDOUT ? -1 : o->err.write_fd;
	output_export_drains();
}

/*
 * The old pipes still read, for the program after a re-exec: every one of
 * them, kept open across the exec and named in the environment.  Done
 * again for each program exported, so the list is whole whichever is last.
 */
static void
output_export_drains(void)
{
	char *env = NULL;
	size_t len = 0;
	FILE *f;

	if ((f = open_memstream(&env, &len)) == NULL)
		fatal("%s", __func__);
	for (struct output *o = outputs; o != NULL; o = o->next) {
		struct sink *v[2] = { &o->out, &o->err };

		for (int i = 0; i < 2; i++)
			for (struct drain *dr = v[i]->drains; dr != NULL; dr = dr->next) {
				fprintf(f, "%s %d %d;", dr->name, dr->stream, dr->fd);
				fcntl(dr->fd, F_SETFD, 0);
			}
	}
	fclose(f);
	if (len > 0)
		setenv(OUTPUT_DRAINS_ENV, env, 1);
	free(env);
}
