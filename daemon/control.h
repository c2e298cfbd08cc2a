/*
 * The control endpoint: accepts clients on the Unix socket, checks their
 * credentials, frames their requests and hands each decoded request to
 * requests.c.  It owns connections and bytes; it knows nothing of programs.
 */
#ifndef SAFEEXITD_CONTROL_H
#define SAFEEXITD_CONTROL_H

#include <stdbool.h>
#include <sys/types.h>

struct event_base;
struct json_object;
struct control_conn;

struct control_options {
	const char *path;	/* socket path */
	unsigned mode;		/* permission bits of the socket */
	const char *group;	/* NULL, or the group that may also connect */
};

/*
 * Create and listen on the socket.  A stale socket of a dead daemon is
 * replaced; a live daemon's is never taken: returns -1 and logs
 * "already running, pid N".
 */
int control_init(struct event_base *base, const struct control_options *opts);
/* Close the socket, unlink its path and drop every client. */
void control_shutdown(void);
/* The listening descriptor (kept open across reexec), -1 when none. */
int control_fd(void);

/*
 * Send the reply to the connection's current request; takes ownership of
 * reply (adds "v").  Exactly one reply per request.
 */
void control_reply(struct control_conn *c, struct json_object *reply);
/* Send a progress message for the current request (adds "v"). */
void control_progress(struct control_conn *c, struct json_object *progress);
/* Close the connection once its output is flushed. */
void control_close_after_reply(struct control_conn *c);
uid_t control_conn_uid(const struct control_conn *c);

#endif
