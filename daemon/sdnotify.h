/*
 * The receiving end of sd_notify(3), one socket per program: a datagram
 * socket in the abstract namespace, "@safeexitd/KEY/NAME" (KEY: a hash of
 * the control socket's path), whose address the program finds in
 * NOTIFY_SOCKET.  Every datagram comes with
 * its sender's credentials (SO_PASSCRED); whoever receives the message
 * decides whether that sender may speak for the program.
 */
#ifndef SAFEEXITD_SDNOTIFY_H
#define SAFEEXITD_SDNOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct event_base;
struct sdnotify;

/* The assignments of one datagram that the daemon acts on. */
struct sdnotify_msg {
	bool ready;			/* READY=1 */
	bool stopping;			/* STOPPING=1 */
	bool watchdog;			/* WATCHDOG=1 */
	bool has_status;
	char status[256];		/* STATUS=, one line */
	pid_t mainpid;			/* MAINPID=, 0 when absent */
	unsigned long long watchdog_usec;	/* WATCHDOG_USEC=, 0: absent */
	unsigned long long extend_usec;	/* EXTEND_TIMEOUT_USEC=, 0: absent */
};

/* Parse a datagram (newline-separated KEY=VALUE); unknown keys are ignored. */
void sdnotify_parse(const char *buf, size_t len, struct sdnotify_msg *m);

typedef void (*sdnotify_fn)(void *arg, const struct sdnotify_msg *m,
    pid_t sender);

/* The daemon's instance (its control socket's path): the names' KEY. */
void sdnotify_init(const char *instance);
/*
 * Bind the socket of program name, or take inherited (a re-exec's, -1:
 * none) when it is that socket; NULL with err when that fails.
 */
struct sdnotify *sdnotify_open(struct event_base *base, const char *name,
    int inherited, sdnotify_fn fn, void *arg, char *err, size_t errlen);
/* The socket, for a re-exec to hand over. */
int sdnotify_fd(const struct sdnotify *sn);
/* "NOTIFY_SOCKET=@safeexitd/KEY/NAME", for the program's environment. */
const char *sdnotify_env(const struct sdnotify *sn);
/* Read every datagram waiting now, before anything else is handled. */
void sdnotify_drain(struct sdnotify *sn);
void sdnotify_close(struct sdnotify *sn);

#endif
