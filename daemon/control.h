/*
 * The control endpoint: accepts clients on the Unix socket, checks their
 * credentials, frames their requests and hands each decoded request to
 * requests.c.  It owns connections and bytes; it knows nothing of programs.
 *
 * One request at a time per connection: after requests_handle() the
 * connection reads no further request until control_reply() answered it.
 * A connection that goes away while its request waits is first handed to
 * requests_cancel(); after that call the connection is freed, and requests.c
 * must never pass it to control_reply() or control_progress() again (nor
 * call them from inside requests_cancel()).  A connection is never freed
 * while requests_handle() runs for it.
 *
 * control_init() ignores SIGPIPE (when it is not already handled) so a peer
 * that hangs up cannot kill the daemon; spawn.c resets it for children.
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
	unsigned mode;		/* permission bits of the socket; 0: 0600,
				 * or 0660 with a group */
	const char *group;	/* NULL, or the group that may also connect */
	const char *owner;	/* NULL, or the user who owns the socket and
				 * may connect too (supervisord's chown) */
};

/*
 * Create and listen on the socket.  A stale socket of a dead daemon is
 * replaced; a live daemon's is never taken: returns -1 and logs
 * "already running, pid N".  Also -1 (logged) for an unknown group, a path
 * too long for a socket, or an unsafe private folder: the /tmp fallback
 * folder of protocol_private_dir() is created mode 0700 and refused when
 * another user owns it or others may enter it.
 */
int control_init(struct event_base *base, const struct control_options *opts);
/*
 * Adopt fd, a socket already bound to opts->path and listening, as after the
 * daemon re-executed itself.  Returns 0, or -1 for an unknown group.
 */
int control_init_fd(struct event_base *base, int fd,
    const struct control_options *opts);
/*
 * Stop accepting and hand the listening socket over to a new image of the
 * daemon: clears its close-on-exec flag and returns it (-1 when none).  The
 * path is no longer unlinked by control_shutdown(); if the exec fails, give
 * the fd back with control_init_fd().
 */
int control_release_fd(void);
/*
 * Flush what is queued, close the socket, unlink its path and drop every
 * client (requests_cancel() for those still waiting).  Call it from the
 * main loop's end or a callback of its own, never from inside
 * requests_handle().
 */
void control_shutdown(void);
/* The listening descriptor (kept open across reexec), -1 when none. */
int control_fd(void);
/*
 * Write out what is queued for every client without waiting (best effort),
 * so a reply sent just before exit or exec reaches its client.
 */
void control_flush(void);

/*
 * Send the reply to the connection's current request; takes ownership of
 * reply (adds "v").  Exactly one reply per request.
 */
void control_reply(struct control_conn *c, struct json_object *reply);
/*
 * The same with a reply already encoded as one frame ("v" first, newline
 * at the end), for replies too large to build as a tree; frame stays the
 * caller's.
 */
void control_reply_frame(struct control_conn *c, const char *frame, size_t len);
/*
 * Send a progress message for the current request; takes ownership of
 * progress, the object {"stage","stages","left","grace"}, and sends it as
 * {"v":1,"progress":{...}} (an object that already holds "progress" goes
 * out as it is).  Dropped when the client is far behind in reading.
 */
void control_progress(struct control_conn *c, struct json_object *progress);
/* Close the connection once its reply is sent and its output flushed. */
void control_close_after_reply(struct control_conn *c);
uid_t control_conn_uid(const struct control_conn *c);
/*
 * Serve fd, a client accepted on the HTTP server's TCP port
 * (http-listen-posix.c), as an HTTP-only connection; closes it when there
 * is no room.
 */
void control_accept_remote(int fd);

#endif
