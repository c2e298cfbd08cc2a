/*
 * The daemon's and the client's own log: stderr, syslog, a file, or a sink
 * installed by an optional backend (the journal).  Messages below the level
 * are dropped before they are formatted.
 */
#ifndef SAFEEXIT_LOG_H
#define SAFEEXIT_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_ERROR,
};

enum log_target {
	LOG_TARGET_STDERR,
	LOG_TARGET_SYSLOG,
	LOG_TARGET_FILE,
	LOG_TARGET_SINK,
};

/* A backend that takes whole messages (for example the systemd journal). */
typedef void (*log_sink_fn)(enum log_level level, const char *msg);

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

void log_init(const char *ident);
/* Parse "debug", "info", "notice", "warning" or "error"; -1 when unknown. */
int log_level_parse(const char *s);
const char *log_level_name(enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Switch target; for LOG_TARGET_FILE, path is opened for appending.
 * Returns 0, or -1 with errno set (the old target stays). */
int log_set_target(enum log_target target, const char *path);
/* Why the last LOG_TARGET_FILE could not be opened, as "PATH: cause". */
const char *log_target_error(void);
void log_set_sink(log_sink_fn sink);
enum log_target log_get_target(void);
/*
 * Also write warnings and errors to fd (-1: stop): the terminal of a daemon
 * detaching, whose stderr is /dev/null already, until its start-up is over.
 */
void log_set_echo(int fd);
/* Reopen a file target (after rotation by logrotate, on SIGUSR2). */
int log_reopen(void);

void log_msg(enum log_level level, const char *fmt, ...) LOG_PRINTF(2, 3);
void log_vmsg(enum log_level level, const char *fmt, va_list ap) LOG_PRINTF(2, 0);
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_notice(const char *fmt, ...) LOG_PRINTF(1, 2);
/* log_warn appends ": strerror(errno)"; log_warnx does not. */
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
/*
 * A line of a program's output bound for the daemon's log: written at info
 * whatever log_level says, since the level filters the daemon's own chatter,
 * not what the programs print.
 */
void log_program(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_error(const char *fmt, ...) LOG_PRINTF(1, 2);
/* For start-up failures and broken invariants only: log and exit(1). */
void fatal(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));
void fatalx(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));

#endif
