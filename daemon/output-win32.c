/*
 * Program output on Windows.  Output bound for a file, the event log or the
 * daemon's log travels through an anonymous pipe whose reading end a thread
 * of its own reads; what it reads goes to the loop through the mailbox and
 * is written or logged there.  As on POSIX the pipe belongs to the program:
 * the daemon keeps the writing end while the program is configured, so the
 * pipe outlives restarts.  Once the program lets go of it, the thread reads
 * until the last process holding the pipe is gone, and what it reads still
 * reaches the destination.
 */
#include <windows.h>

#include <event2/event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "conf.h"
#include "log.h"
#include "output.h"
#include "output-lines.h"
#include "win32.h"
#include "xmalloc.h"

#define OUTPUT_LINE_MAX	4096	/* a longer line is logged in pieces */
#define OUTPUT_CHUNK	16384	/* one read of a pipe */

/*
 * One stream's destination.  Shared by the output, its reader thread and
 * the chunks on their way to the loop; freed when the last of them lets go.
 */
struct sink {
	LONG			 refs;
	char			*name;		/* the program's */
	const char		*stream;	/* "stdout" or "stderr" */
	enum output_kind	 kind;
	char			*path;
	long long		 max_bytes;
	int			 backups;
	HANDLE			 file;		/* OUTPUT_FILE */
	long long		 size;
	bool			 write_failed;
	HANDLE			 read, write;	/* the pipe */
	HANDLE			 thread;
	char			 line[OUTPUT_LINE_MAX];
	size_t			 line_len;
	struct sink		*next;		/* every sink with a file */
};

struct chunk {
	struct sink	*s;
	DWORD		 len;		/* 0: end of the pipe */
	char		 data[];
};

struct output {
	struct sink	*out, *err;
	HANDLE		 child_out, child_err;	/* what the program gets */
	HANDLE		 null;
};

static struct sink	*sinks;

static struct sink *output_sink_open(const struct program_config *pc,
		    const struct output_config *oc, const char *stream,
		    char *err, size_t errlen);
static void	output_sink_unref(struct sink *s);
static int	output_file_open(struct sink *s);
static DWORD WINAPI output_reader(LPVOID arg);
static void	output_chunk(void *arg);
static void	output_consume(struct sink *s, const char *buf, size_t len);
static void	output_line(struct sink *s, const char *line, size_t len);
static void	output_file_write(struct sink *s, const char *buf, size_t len);
static void	output_rotate(struct sink *s);

/* Nothing to remember: chunks find their way through the mailbox. */
void
output_init(struct event_base *base)
{
	(void)base;
}

/* No pipe keeper and no re-exec here: no pipe comes back from before. */
void
output_reclaim(const char *name, int stream, int fd)
{
	(void)name;
	(void)stream;
	(void)fd;
}

/* See output.h: nothing was kept, so nothing is left to close. */
void
output_reclaim_done(void)
{
}

/* Set up pc's plumbing; NULL with err when a file cannot be opened. */
struct output *
output_open(const struct program_config *pc, char *err, size_t errlen)
{
	struct output	*o;
	HANDLE		 h;

	o = xcalloc(1, sizeof *o);
	if ((o->null = win32_null(false)) == INVALID_HANDLE_VALUE) {
		snprintf(err, errlen, "NUL: %s", win32_strerror(GetLastError()));
		free(o);
		return NULL;
	}
	if ((o->out = output_sink_open(pc, &pc->out, "stdout", err, errlen)) ==
	    NULL)
		goto fail;
	switch (pc->out.kind) {
	case OUTPUT_NULL:
		o->child_out = o->null;
		break;
	case OUTPUT_INHERIT:
		h = GetStdHandle(STD_OUTPUT_HANDLE);
		o->child_out = h != NULL && h != INVALID_HANDLE_VALUE ? h :
		    o->null;
		break;
	default:
		o->child_out = o->out->write;
		break;
	}
	if (pc->err.kind == OUTPUT_STDOUT) {
		o->child_err = o->child_out;
		return o;
	}
	if ((o->err = output_sink_open(pc, &pc->err, "stderr", err, errlen)) ==
	    NULL)
		goto fail;
	switch (pc->err.kind) {
	case OUTPUT_NULL:
		o->child_err = o->null;
		break;
	case OUTPUT_INHERIT:
		h = GetStdHandle(STD_ERROR_HANDLE);
		o->child_err = h != NULL && h != INVALID_HANDLE_VALUE ? h :
		    o->null;
		break;
	default:
		o->child_err = o->err->write;
		break;
	}
	return o;
fail:
	output_close(o);
	return NULL;
}

/* One stream: a file to open and a pipe with its reader, where needed. */
static struct sink *
output_sink_open(const struct program_config *pc, const struct output_config *oc,
    const char *stream, char *err, size_t errlen)
{
	struct sink	*s;

	s = xcalloc(1, sizeof *s);
	s->name = xstrdup(pc->name);
	s->refs = 1;
	s->stream = stream;
	s->kind = oc->kind;
	s->max_bytes = oc->max_bytes;
	s->backups = oc->backups;
	s->file = s->read = s->write = NULL;
	switch (oc->kind) {
	case OUTPUT_NULL:
	case OUTPUT_INHERIT:
	case OUTPUT_STDOUT:
		return s;
	case OUTPUT_FILE:
		s->path = xstrdup(oc->path);
		if (output_file_open(s) == -1) {
			snprintf(err, errlen, "%s %s: %s", stream, s->path,
			    win32_strerror(GetLastError()));
			output_sink_unref(s);
			return NULL;
		}
		s->next = sinks;
		sinks = s;
		break;
	case OUTPUT_LOG:
	case OUTPUT_SYSLOG:
	case OUTPUT_JOURNAL:	/* refused when read: no libsystemd here */
		break;
	}
	if (!CreatePipe(&s->read, &s->write, NULL, 65536)) {
		snprintf(err, errlen, "pipe: %s", win32_strerror(GetLastError()));
		s->read = s->write = NULL;
		output_sink_unref(s);
		return NULL;
	}
	InterlockedIncrement(&s->refs);		/* the reader's */
	if ((s->thread = CreateThread(NULL, 0, output_reader, s, 0, NULL)) ==
	    NULL) {
		snprintf(err, errlen, "reader thread: %s",
		    win32_strerror(GetLastError()));
		InterlockedDecrement(&s->refs);
		output_sink_unref(s);
		return NULL;
	}
	return s;
}

/*
 * Open the log file for appending, shared so that it can be read, renamed
 * and deleted while the daemon writes it (rotation, tail).
 */
static int
output_file_open(struct sink *s)
{
	LARGE_INTEGER	 size;
	wchar_t		*w;
	HANDLE		 h;

	if ((w = win32_wide(s->path)) == NULL) {
		SetLastError(ERROR_INVALID_NAME);
		return -1;
	}
	h = CreateFileW(w, FILE_APPEND_DATA, FILE_SHARE_READ |
	    FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_ALWAYS,
	    FILE_ATTRIBUTE_NORMAL, NULL);
	free(w);
	if (h == INVALID_HANDLE_VALUE)
		return -1;
	if (!GetFileSizeEx(h, &size))
		size.QuadPart = 0;
	if (s->file != NULL)
		CloseHandle(s->file);
	s->file = h;
	s->size = size.QuadPart;
	s->write_failed = false;
	return 0;
}

/* Drop one reference; the last one closes and frees the sink. */
static void
output_sink_unref(struct sink *s)
{
	struct sink	**sp;

	if (s == NULL || InterlockedDecrement(&s->refs) > 0)
		return;
	for (sp = &sinks; *sp != NULL; sp = &(*sp)->next)
		if (*sp == s) {
			*sp = s->next;
			break;
		}
	if (s->line_len > 0)
		output_line(s, s->line, s->line_len);
	if (s->file != NULL)
		CloseHandle(s->file);
	if (s->write != NULL)
		CloseHandle(s->write);
	if (s->thread != NULL)
		CloseHandle(s->thread);
	free(s->path);
	free(s->name);
	free(s);
}

/*
 * Let go of the output.  The daemon closes its end of each pipe; the
 * reader goes on until the processes that hold the other end are gone.
 */
void
output_close(struct output *o)
{
	struct sink	*v[2];
	int		 i;

	if (o == NULL)
		return;
	v[0] = o->out;
	v[1] = o->err;
	for (i = 0; i < 2; i++) {
		if (v[i] == NULL)
			continue;
		if (v[i]->write != NULL)
			CloseHandle(v[i]->write);
		v[i]->write = NULL;
		output_sink_unref(v[i]);
	}
	if (o->null != NULL && o->null != INVALID_HANDLE_VALUE)
		CloseHandle(o->null);
	free(o);
}

/* POSIX descriptors do not exist here; see output_win32_stdout. */
int
output_stdout_fd(const struct output *o)
{
	(void)o;
	return -1;
}

/* POSIX descriptors do not exist here; see output_win32_stderr. */
int
output_stderr_fd(const struct output *o)
{
	(void)o;
	return -1;
}

/* The handle the program gets as its standard output. */
HANDLE
output_win32_stdout(const struct output *o)
{
	return o->child_out;
}

/* The handle the program gets as its standard error. */
HANDLE
output_win32_stderr(const struct output *o)
{
	return o->child_err;
}

/* The file a stream (1 or 2) is written to, or NULL when not a file. */
const char *
output_file(const struct output *o, int stream)
{
	const struct sink	*s = stream == 2 && o->err != NULL ? o->err : o->out;

	return s != NULL && s->kind == OUTPUT_FILE ? s->path : NULL;
}

/* Reopen every log file, after a rotation from outside. */
void
output_reopen_all(void)
{
	struct sink	*s;

	for (s = sinks; s != NULL; s = s->next)
		if (s->kind == OUTPUT_FILE && output_file_open(s) == -1)
			log_warnx("%s: cannot reopen %s: %s", s->name, s->path,
			    win32_strerror(GetLastError()));
}

/* The reader thread: everything read goes to the loop, then the end. */
static DWORD WINAPI
output_reader(LPVOID arg)
{
	struct sink	*s = arg;
	struct chunk	*c;
	DWORD		 n;

	for (;;) {
		if ((c = malloc(sizeof *c + OUTPUT_CHUNK)) == NULL) {
			Sleep(100);
			continue;
		}
		c->s = s;
		if (!ReadFile(s->read, c->data, OUTPUT_CHUNK, &n, NULL) ||
		    n == 0) {
			/* The end: after this post the sink may be gone. */
			CloseHandle(s->read);
			c->len = 0;
			win32_post(output_chunk, c);
			return 0;
		}
		c->len = n;
		win32_post(output_chunk, c);
	}
}

/* On the loop: bytes from a pipe, or its end (the reader's reference). */
static void
output_chunk(void *arg)
{
	struct chunk	*c = arg;

	if (c->len == 0)
		output_sink_unref(c->s);
	else
		output_consume(c->s, c->data, c->len);
	free(c);
}

/* Pass bytes to a file as they are, or split them into lines for a log. */
static void
output_consume(struct sink *s, const char *buf, size_t len)
{
	if (s->kind == OUTPUT_FILE) {
		output_file_write(s, buf, len);
		return;
	}
	while (len > 0)
		if (output_lines_take(s->line, sizeof s->line, &s->line_len,
		    &buf, &len)) {
			output_line(s, s->line, s->line_len);
			s->line_len = 0;
		}
}

/* One line of a program's output to the event log or the daemon's log. */
static void
output_line(struct sink *s, const char *line, size_t len)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (s->kind == OUTPUT_SYSLOG)
		syslog(LOG_DAEMON | LOG_INFO, "%s %s: %.*s", s->name, s->stream,
		    (int)len, line);
	else
		log_info("%s %s: %.*s", s->name, s->stream, (int)len, line);
}

/* Append to the file, rotating it whenever it would pass max_bytes. */
static void
output_file_write(struct sink *s, const char *buf, size_t len)
{
	DWORD	n;
	size_t	chunk;

	while (len > 0) {
		chunk = len;
		if (s->max_bytes > 0) {
			if (s->size >= s->max_bytes)
				output_rotate(s);
			if ((long long)chunk > s->max_bytes - s->size)
				chunk = (size_t)(s->max_bytes - s->size);
		}
		if (s->file == NULL)
			return;
		if (!WriteFile(s->file, buf, (DWORD)chunk, &n, NULL) || n == 0) {
			/* Drop the output rather than stall on a full disk. */
			if (!s->write_failed)
				log_warnx("%s: cannot write %s to %s: %s; "
				    "dropping output", s->name, s->stream,
				    s->path, win32_strerror(GetLastError()));
			s->write_failed = true;
			return;
		}
		if (s->write_failed) {
			log_notice("%s: writing %s to %s again", s->name,
			    s->stream, s->path);
			s->write_failed = false;
		}
		s->size += n;
		buf += n;
		len -= n;
	}
}

/* Rename one file over another, as rename(2) does. */
static BOOL
output_move(const char *from, const char *to)
{
	wchar_t	*wf = win32_wide(from), *wt = win32_wide(to);
	BOOL	 ok;

	ok = MoveFileExW(wf, wt, MOVEFILE_REPLACE_EXISTING);
	free(wf);
	free(wt);
	return ok;
}

/* FILE -> FILE.1 -> ... -> FILE.backups, then a fresh FILE. */
static void
output_rotate(struct sink *s)
{
	char	from[4096], to[4096];
	wchar_t	*w;
	int	i;

	/* Windows renames an open file only when every opener allows it. */
	CloseHandle(s->file);
	s->file = NULL;
	for (i = s->backups - 1; i >= 1; i--) {
		snprintf(from, sizeof from, "%s.%d", s->path, i);
		snprintf(to, sizeof to, "%s.%d", s->path, i + 1);
		if (!output_move(from, to) &&
		    GetLastError() != ERROR_FILE_NOT_FOUND)
			log_warnx("%s: rotate %s: %s", s->name, from,
			    win32_strerror(GetLastError()));
	}
	if (s->backups > 0) {
		snprintf(to, sizeof to, "%s.1", s->path);
		if (!output_move(s->path, to))
			log_warnx("%s: rotate %s: %s", s->name, s->path,
			    win32_strerror(GetLastError()));
	} else {
		w = win32_wide(s->path);
		if (!DeleteFileW(w) && GetLastError() != ERROR_FILE_NOT_FOUND)
			log_warnx("%s: rotate %s: %s", s->name, s->path,
			    win32_strerror(GetLastError()));
		free(w);
	}
	if (output_file_open(s) == -1)
		log_warnx("%s: cannot open %s after rotation: %s", s->name,
		    s->path, win32_strerror(GetLastError()));
}

/* Emptying a log that a relay thread writes is not done on Windows. */
int
output_clear(struct output *o, char *err, size_t errlen)
{
	(void)o;
	snprintf(err, errlen, "clearing log files is not supported on Windows");
	return -1;
}
