/*
 * Where a program's stdout and stderr go.  Output bound for a file, syslog
 * or the daemon's log travels through a pipe that the daemon reads; the pipe
 * belongs to the program, not to one process, so it outlives restarts and
 * still carries what a program's leftover descendants write.  The daemon
 * keeps the write end too: the pipe never reaches EOF while the program is
 * configured, and no writer is ever killed by SIGPIPE while the daemon runs.
 * Across a re-exec of the daemon the pipes are handed over as descriptors;
 * /dev/null and inherited descriptors need no daemon at all.
 */
#ifndef SAFEEXITD_OUTPUT_H
#define SAFEEXITD_OUTPUT_H

#include <stddef.h>

struct event_base;
struct program_config;
struct output;

void output_init(struct event_base *base);

/*
 * A pipe of program name's stream (0 or 2) from before a crash, collected
 * from the pipe keeper, or from before a re-exec: the program's output
 * opened next reads it on until its last writer is gone.  Once adoption is
 * over, output_reclaim_done closes those no program took.
 */
void output_reclaim(const char *name, int stream, int fd);
void output_reclaim_done(void);

/* Set up pc's plumbing; NULL with err when a file cannot be opened. */
struct output *output_open(const struct program_config *pc, char *err,
    size_t errlen);
/* Read what is left in the pipes, then close everything. */
void output_close(struct output *o);

/* The descriptors the program gets as 1 and 2. */
int output_stdout_fd(const struct output *o);
int output_stderr_fd(const struct output *o);

/* The file a stream (1 or 2) is written to, or NULL when not a file. */
const char *output_file(const struct output *o, int stream);

/*
 * Re-exec: the pipes of o as {stdout read, write, stderr read, write}, -1
 * where there is none; and a new output for pc built on such descriptors,
 * so programs keep writing into the same pipes across the exec.
 */
void output_export(const struct output *o, int fds[4]);
struct output *output_import(const struct program_config *pc, const int fds[4],
    char *err, size_t errlen);

/*
 * Hand every line the program writes (stdout and stderr) to fn as well,
 * until called again with fn NULL (ready = log:REGEX).  Lines are cut as
 * for the log; none is held back for the hook alone.
 */
typedef void (*output_line_fn)(void *arg, const char *line, size_t len);
void output_watch_lines(struct output *o, output_line_fn fn, void *arg);

/* Reopen every log file (after an outside rotation; SIGUSR2). */
void output_reopen_all(void);

/*
 * Empty o's log files (regular files only) in place.  Returns how many it
 * emptied, or -1 with err.
 */
int output_clear(struct output *o, char *err, size_t errlen);

#endif
