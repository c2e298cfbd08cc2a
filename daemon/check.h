/*
 * A readiness or health check as the config writes it (ready = ..., health =
 * ...), parsed into what the probes need: a TCP address, an HTTP URL, a
 * command, a descriptor number, a compiled regular expression or a
 * watchdog interval.  Pure parsing: nothing here touches the event loop.
 */
#ifndef SAFEEXITD_CHECK_H
#define SAFEEXITD_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "parse.h"

enum check_kind {
	CHECK_NONE,		/* health unset */
	CHECK_RUNNING,		/* ready = running: start_secs */
	CHECK_NOTIFY,		/* READY=1 on NOTIFY_SOCKET */
	CHECK_FD,		/* a newline on descriptor N */
	CHECK_TCP,		/* a connection succeeds */
	CHECK_HTTP,		/* a GET answers 2xx or 3xx */
	CHECK_EXEC,		/* a command exits 0 */
	CHECK_LOG,		/* an output line matches */
	CHECK_WATCHDOG,		/* health: WATCHDOG=1 at least this often */
};

/* Where a check may be used. */
enum check_use {
	CHECK_USE_READY,
	CHECK_USE_HEALTH,
};

struct check {
	enum check_kind kind;
	char *spec;		/* as written, for messages; NULL for none */
	char *host;		/* tcp, http: the host (default 127.0.0.1) */
	int port;		/* tcp, http */
	char *path;		/* http: path and query, at least "/" */
	bool tls;		/* https */
	int fd;			/* fd:N */
	strv_t argv;		/* exec */
	struct check_regex *re;	/* log: compiled at load (check.c) */
	double watchdog;	/* watchdog:DURATION, seconds */
};

/*
 * Parse value into c for use; 0, or -1 with err saying what is wrong.
 * tls_ok says whether https can be probed in this build.
 */
int check_parse(const char *value, enum check_use use, bool tls_ok,
    struct check *c, char *err, size_t errlen);
/* Give c its own copy of everything it points to (after a struct copy). */
void check_dup(struct check *c);
void check_release(struct check *c);
/* Whether line (NUL-terminated) matches c's log:REGEX. */
bool check_log_matches(const struct check *c, const char *line);

/* Whether a readiness check waits for more than start_secs (unset: no). */
static inline bool
check_waits(const struct check *c)
{
	return c->kind != CHECK_NONE && c->kind != CHECK_RUNNING;
}

/* Whether the check is made by probing (tcp, http, exec) on an interval. */
bool check_is_probe(const struct check *c);
/* Whether the check needs a NOTIFY_SOCKET in the program's environment. */
bool check_wants_notify(const struct check *c);

#endif
