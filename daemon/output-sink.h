/*
 * One stream of a program's output as the POSIX daemon relays it: shared
 * by output-posix.c (pipes, opening and closing), output-relay.c (lines,
 * files and rotation) and output-queue.c (writing to a pipe or a socket
 * that may be full).
 */
#ifndef SAFEEXITD_OUTPUT_SINK_H
#define SAFEEXITD_OUTPUT_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

#include "conf.h"

/*
 * The longest line relayed whole: what is longer is cut there and ends in
 * OUTPUT_CUT_MARK, so a program that never writes a newline costs a bounded
 * buffer (see safeexitd.ini(5)).
 */
#define OUTPUT_LINE_CAP		(64 * 1024)
#define OUTPUT_CUT_MARK		" [truncated]"
/* A partial line (a prompt, a progress bar) is written after this quiet. */
#define OUTPUT_QUIET_MS		500

struct event;
struct event_base;
struct drain;
struct output;
struct outq;

struct sink {
	struct output *owner;
	const char *stream;		/* "stdout" or "stderr" */
	enum output_kind kind;
	char *path;
	long long max_bytes;
	int backups;
	int stamps;			/* enum output_stamp */
	char *prefix;			/* "NAME stdout | ", or NULL */
	size_t prefix_len;
	double max_age;
	int file_fd;			/* OUTPUT_FILE */
	int splice_fd;			/* the same file without O_APPEND, for splice */
	bool splice_off;		/* splice refused once: never tried again */
	bool regular;			/* a regular file: rotated by size */
	long long size;
	long long rotate_at;		/* rotate once size reaches this */
	bool write_failed;		/* log a failing file once, not per write */
	int read_fd, write_fd;		/* the pipe, -1 when none */
	struct event *ev;
	bool paused;			/* not read while its queue is full */
	struct outq *q;			/* relayed inherit and journal */
	char *line;			/* a partial line, OUTPUT_LINE_CAP bytes */
	size_t line_len;
	bool cutting;			/* past the cap: dropped up to the newline */
	struct event *quiet_ev;		/* writes a partial line after a quiet */
	struct event *age_ev;		/* max_age */
	struct drain *drains;		/* older pipes still read, to their end */
};

/* output-relay.c */
void	output_relay_init(struct event_base *base);
void	output_relay_open(struct sink *s, const struct output_config *oc);
void	output_relay_close(struct sink *s);
bool	output_relay_read(struct sink *s, int fd);
void	output_relay_consume(struct sink *s, const char *buf, size_t len);
int	output_file_open(struct sink *s, char *err, size_t errlen);

/* output-queue.c: a descriptor written without blocking, in whole lines. */
void		outq_init(struct event_base *base);
struct outq	*outq_inherit(int fd, char *err, size_t errlen);
struct outq	*outq_new(int fd, const char *what);
void		 outq_free(struct outq *q);
/* Write iov; false when the queue is full and s must stop reading. */
bool		 outq_write(struct outq *q, struct sink *s,
		    const struct iovec *iov, int n);

/* output-journal.c: a journal stream for name at priority, or -1. */
int	output_journal_open(const char *name, int priority, char *err,
	    size_t errlen);

/* output-posix.c: the program's name; start or stop reading its pipe. */
const char *output_sink_name(const struct sink *s);
/* Every complete line, to what watches the program's lines (readiness). */
void	output_sink_line(const struct sink *s, const char *line, size_t len);
void	output_sink_pause(struct sink *s, bool pause);
/* Every sink, for a queue that has room again. */
void	output_sink_each(void (*fn)(struct sink *, void *), void *arg);

#endif
