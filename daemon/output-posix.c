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
#include "output.h"
#include "output-sink.h"
#include "safeopen.h"

#define OUTPUT_READS	8	/* reads per wake-up, so one flood cannot starve the loop */

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
static int output_sink_target(struct output *o, struct sink *s,
    const struct output_config *oc, char *err, size_t errlen);
static void output_read_cb(evutil_socket_t fd, short what, void *arg);
static bool output_sink_relays(const struct sink *s);
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
	output_relay_init(base);
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
			if (output_sink_relays(s))
				output_relay_consume(s, buf, (size_t)n);
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
	o->out.splice_fd = o->err.splice_fd = -1;
	o->inherit_out = STDOUT_FILENO;
	o->inherit_err = STDERR_FILENO;
	if (output_sink_open(o, &o->out, &pc->out, "stdout", err, errlen) == -1)
		goto fail;
	o->child_out = o->out.kind == OUTPUT_NULL ? output_devnull :
	    o->out.write_fd == -1 ? o->inherit_out : o->out.write_fd;
	if (pc->err.kind == OUTPUT_STDOUT) {
		o->err.kind = OUTPUT_STDOUT;
		o->child_err = o->child_out;
	} else {
		if (output_sink_open(o, &o->err, &pc->err, "stderr", err, errlen) == -1)
			goto fail;
		o->child_err = o->err.kind == OUTPUT_NULL ? output_devnull :
		    o->err.write_fd == -1 ? o->inherit_err : o->err.write_fd;
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
	int fds[2];

	s->owner = o;
	s->stream = stream;
	s->kind = oc->kind;
	s->max_bytes = oc->max_bytes;
	s->backups = oc->backups;
	switch (output_sink_target(o, s, oc, why, sizeof why)) {
	case -1:
		snprintf(err, errlen, "%s %s", stream, why);
		return -1;
	case 0:
		return 0;	/* no pipe: the program writes there itself */
	}
	output_relay_open(s, oc);
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
 * Where s goes: 1 when the daemon relays it through a pipe, 0 when the
 * program gets a descriptor of its own (/dev/null, or the daemon's own
 * terminal, which keeps it a terminal for the program), -1 with err.
 */
static int
output_sink_target(struct output *o, struct sink *s,
    const struct output_config *oc, char *err, size_t errlen)
{
	int own = s == &o->out ? o->inherit_out : o->inherit_err;
	int fd;

	switch (oc->kind) {
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
		if ((own = safeopen_own_fd(oc->path)) == -1) {
			if ((s->path = strdup(oc->path)) == NULL)
				fatal("%s", __func__);
			return output_file_open(s, err, errlen) == -1 ? -1 : 1;
		}
		s->kind = OUTPUT_INHERIT;
		*(s == &o->out ? &o->inherit_out : &o->inherit_err) = own;
		/* FALLTHROUGH */
	case OUTPUT_INHERIT:
		/*
		 * A terminal as it is, unless lines are changed; anything else
		 * (a pipe to a log collector) gets whole lines, one program's
		 * at a time, never interleaved within a line.
		 */
		if (isatty(own) && oc->timestamps == OUTPUT_STAMP_NONE &&
		    !oc->prefix)
			return 0;
		return (s->q = outq_inherit(own, err, errlen)) == NULL ? -1 : 1;
	case OUTPUT_JOURNAL:
		if ((fd = output_journal_open(o->name, s == &o->out ? 6 : 3, err,
		    errlen)) == -1) {
			/* Lines are kept: the daemon's log has them instead. */
			log_warnx("%s: %s to the journal: %s; it goes to the "
			    "daemon's log", o->name, s->stream, err);
			s->kind = OUTPUT_LOG;
			return 1;
		}
		s->q = outq_new(fd, "the journal");
		return 1;
	case OUTPUT_LOG:
	case OUTPUT_SYSLOG:
		return 1;
	}
	return 1;
}

/* Lines of o to fn as well (fn NULL: no more). */
void
output_watch_lines(struct output *o, output_line_fn fn, void *arg)
{
	if (o == NULL)
		return;
	o->line_fn = fn;
	o->line_arg = arg;
	/* Spliced bytes are never seen: a watched file is read, line by line. */
	if (fn != NULL)
		o->out.splice_off = o->err.splice_off = true;
}

/* See output-sink.h. */
void
output_sink_line(const struct sink *s, const char *line, size_t len)
{
	if (s->owner->line_fn == NULL)
		return;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	s->owner->line_fn(s->owner->line_arg, line, len);
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
	output_relay_close(s);
	if (s->q != NULL)
		outq_free(s->q);
	s->q = NULL;
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

/* The pipe is readable: relay what it holds. */
static void
output_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sink *s = arg;

	/*
	 * EOF cannot happen while the daemon holds the write end; should it
	 * all the same, stop watching rather than wake up forever.
	 */
	if (!output_relay_read(s, fd) && s->ev != NULL)
		event_del(s->ev);
}

/* Whether s's bytes are read and passed on by the daemon. */
static bool
output_sink_relays(const struct sink *s)
{
	return s->kind == OUTPUT_FILE || s->kind == OUTPUT_LOG ||
	    s->kind == OUTPUT_SYSLOG || s->q != NULL;
}

/* See output-sink.h. */
const char *
output_sink_name(const struct sink *s)
{
	return s->owner->name;
}

/* See output-sink.h. */
void
output_sink_pause(struct sink *s, bool pause)
{
	if (s->ev == NULL || s->paused == pause)
		return;
	s->paused = pause;
	if (pause)
		event_del(s->ev);
	else
		event_add(s->ev, NULL);
}

/* See output-sink.h. */
void
output_sink_each(void (*fn)(struct sink *, void *), void *arg)
{
	for (struct output *o = outputs; o != NULL; o = o->next) {
		fn(&o->out, arg);
		fn(&o->err, arg);
	}
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
