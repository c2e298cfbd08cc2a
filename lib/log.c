/*
 * The daemon's and the client's own log.  Foreground daemons and the client
 * write "ident: level: message" lines to stderr; a daemon in the background
 * uses syslog, a file, or a sink installed by an optional backend.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "safeopen.h"

static const char *log_ident = "safeexitd";
static enum log_level log_level = LOG_LEVEL_INFO;
static enum log_target log_target = LOG_TARGET_STDERR;
static log_sink_fn log_sink;
static FILE *log_file;
static char *log_file_path;
static char log_file_error[512];
/* The terminal a detaching daemon came from, until its start-up is over. */
static int log_echo_fd = -1;

static const char *const log_level_names[] = {
	[LOG_LEVEL_DEBUG] = "debug",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_NOTICE] = "notice",
	[LOG_LEVEL_WARNING] = "warning",
	[LOG_LEVEL_ERROR] = "error",
};

static const int log_syslog_prio[] = {
	[LOG_LEVEL_DEBUG] = LOG_DEBUG,
	[LOG_LEVEL_INFO] = LOG_INFO,
	[LOG_LEVEL_NOTICE] = LOG_NOTICE,
	[LOG_LEVEL_WARNING] = LOG_WARNING,
	[LOG_LEVEL_ERROR] = LOG_ERR,
};

static void log_write(enum log_level level, const char *msg);
static void log_vappend_errno(enum log_level level, int err, const char *fmt,
    va_list ap) LOG_PRINTF(3, 0);

/* Set the name put before every message and given to syslog. */
void
log_init(const char *ident)
{
	log_ident = ident;
}

/* Map a level name to its value, -1 when unknown. */
int
log_level_parse(const char *s)
{
	for (size_t i = 0; i < sizeof log_level_names / sizeof log_level_names[0]; i++)
		if (strcasecmp(s, log_level_names[i]) == 0)
			return (int)i;
	if (strcasecmp(s, "warn") == 0)
		return LOG_LEVEL_WARNING;
	return -1;
}

/* The name of a level, for messages and status. */
const char *
log_level_name(enum log_level level)
{
	if ((unsigned)level > LOG_LEVEL_ERROR)
		return "unknown";
	return log_level_names[level];
}

/* Drop messages below level from now on. */
void
log_set_level(enum log_level level)
{
	log_level = level;
}

/* Where messages go now. */
enum log_target
log_get_target(void)
{
	return log_target;
}

/* The level in force. */
enum log_level
log_get_level(void)
{
	return log_level;
}

/*
 * Route messages to target; a file target that cannot be opened keeps the
 * old.  The log's folder may be shared: the file is opened without following
 * a link or blocking on a FIFO, and must be a regular file of one link or a
 * character device (a console); /dev/stderr and its kin name the daemon's
 * own descriptors.
 */
int
log_set_target(enum log_target target, const char *path)
{
	FILE *f = NULL;
	char *copy = NULL;

	if (target == LOG_TARGET_FILE) {
		int own = safeopen_own_fd(path), fd;

		if (own != -1)
#ifdef _WIN32
			fd = dup(own);
#else
			fd = fcntl(own, F_DUPFD_CLOEXEC, 3);
#endif
		else
			fd = safeopen(path, O_WRONLY | O_APPEND | O_CREAT, 0640,
			    SAFEOPEN_REG | SAFEOPEN_CHR, NULL, log_file_error,
			    sizeof log_file_error);
		if (fd == -1) {
			if (own != -1)
				snprintf(log_file_error, sizeof log_file_error,
				    "%s: %s", path, strerror(errno));
			return -1;
		}
#ifndef _WIN32
		/* A console blocks like stderr does; the daemon's lines are short. */
		int fl;

		if ((fl = fcntl(fd, F_GETFL)) != -1)
			fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
#endif
		if ((f = fdopen(fd, "a")) == NULL) {
			snprintf(log_file_error, sizeof log_file_error, "%s: %s",
			    path, strerror(errno));
			close(fd);
			return -1;
		}
		setvbuf(f, NULL, _IOLBF, 0);
		if ((copy = strdup(path)) == NULL) {
			fclose(f);
			return -1;
		}
	}
	if (log_file != NULL)
		fclose(log_file);
	free(log_file_path);
	log_file = f;
	log_file_path = copy;
	if (target == LOG_TARGET_SYSLOG && log_target != LOG_TARGET_SYSLOG)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else if (target != LOG_TARGET_SYSLOG && log_target == LOG_TARGET_SYSLOG)
		closelog();
	log_target = target;
	return 0;
}

/* Why the last log file could not be opened: "PATH: cause". */
const char *
log_target_error(void)
{
	return log_file_error;
}

/* Install the backend used by LOG_TARGET_SINK. */
void
log_set_sink(log_sink_fn sink)
{
	log_sink = sink;
}

/* Reopen the log file, so an outside rotation takes effect. */
int
log_reopen(void)
{
	char *path;
	int r;

	if (log_target != LOG_TARGET_FILE || log_file_path == NULL)
		return 0;
	if ((path = strdup(log_file_path)) == NULL)
		return -1;
	r = log_set_target(LOG_TARGET_FILE, path);
	free(path);
	return r;
}

void
log_set_echo(int fd)
{
	log_echo_fd = fd;
}

/* Deliver one formatted message to the current target. */
static void
log_write(enum log_level level, const char *msg)
{
	/* Start-up trouble of a daemon going to the background: say it there. */
	if (log_echo_fd != -1 && level >= LOG_LEVEL_WARNING)
		dprintf(log_echo_fd, "%s: %s: %s\n", log_ident,
		    log_level_names[level], msg);
	switch (log_target) {
	case LOG_TARGET_SYSLOG:
		syslog(log_syslog_prio[level], "%s", msg);
		break;
	case LOG_TARGET_SINK:
		if (log_sink != NULL) {
			log_sink(level, msg);
			break;
		}
		/* FALLTHROUGH */
	case LOG_TARGET_STDERR:
		fprintf(stderr, "%s: %s: %s\n", log_ident, log_level_names[level], msg);
		fflush(stderr);
		break;
	case LOG_TARGET_FILE: {
		struct timespec ts;
		struct tm tm;
		char stamp[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
		fprintf(log_file, "%s.%03ld %s[%ld]: %s: %s\n", stamp,
		    ts.tv_nsec / 1000000, log_ident, (long)getpid(),
		    log_level_names[level], msg);
		break;
	}
	}
}

/* Format and deliver a message at level, if the level lets it through. */
void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char buf[2048];
	int saved = errno;

	if (level < log_level)
		return;
	vsnprintf(buf, sizeof buf, fmt, ap);
	log_write(level, buf);
	errno = saved;
}

/* Format a message, add ": strerror(err)", and deliver it. */
static void
log_vappend_errno(enum log_level level, int err, const char *fmt, va_list ap)
{
	char buf[2048];
	size_t len;

	if (level < log_level)
		return;
	vsnprintf(buf, sizeof buf, fmt, ap);
	len = strlen(buf);
	snprintf(buf + len, sizeof buf - len, ": %s", strerror(err));
	log_write(level, buf);
	errno = err;
}

/* Log at any level. */
void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

#define LOG_DEFINE(fn, level)				\
void							\
fn(const char *fmt, ...)				\
{							\
	va_list ap;					\
							\
	va_start(ap, fmt);				\
	log_vmsg(level, fmt, ap);			\
	va_end(ap);					\
}

/* log_debug, log_info, log_notice, log_warnx and log_error. */
LOG_DEFINE(log_debug, LOG_LEVEL_DEBUG)
LOG_DEFINE(log_info, LOG_LEVEL_INFO)
LOG_DEFINE(log_notice, LOG_LEVEL_NOTICE)
LOG_DEFINE(log_warnx, LOG_LEVEL_WARNING)
LOG_DEFINE(log_error, LOG_LEVEL_ERROR)

void
log_program(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	log_write(LOG_LEVEL_INFO, buf);
	errno = saved;
}

/* A warning with the text of errno appended. */
void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int err = errno;

	va_start(ap, fmt);
	log_vappend_errno(LOG_LEVEL_WARNING, err, fmt, ap);
	va_end(ap);
}

/* Log an error with errno's text and exit: start-up failures only. */
void
fatal(const char *fmt, ...)
{
	va_list ap;
	int err = errno;

	va_start(ap, fmt);
	log_vappend_errno(LOG_LEVEL_ERROR, err, fmt, ap);
	va_end(ap);
	exit(1);
}

/* Log an error and exit: start-up failures only. */
void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}
