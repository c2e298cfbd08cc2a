/*
 * A control connection, whatever carries its bytes: framing, request
 * intake, replies and progress with back-pressure, the idle timer, and the
 * caps on connections in all and per user.  control-posix.c (a Unix socket)
 * and control-win32.c (a named pipe) each own a connection's way in and
 * out, its "link", behind the control_link_* calls below, and report what
 * happens to it through the control_conn_* calls.  requests.c sees only
 * control.h.
 *
 * A connection is created unknown (control_conn_new), becomes known once
 * the transport has checked the peer and control_conn_full() found room
 * (control_conn_admit), and ends in two steps: control_conn_drop() settles
 * its request and has the transport close the link; the transport calls
 * control_conn_free() once the link is gone (at once on POSIX, when the
 * connection's thread has ended on Windows).  After the drop nothing is
 * asked of the link but its close.
 */
#ifndef SAFEEXITD_CONTROL_CONN_H
#define SAFEEXITD_CONTROL_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "protocol.h"

struct event;
struct event_base;
struct evbuffer;
struct control_link;
struct http_conn;

/* The user a TCP client of the HTTP server counts as, for the caps. */
#define CONTROL_REMOTE_UID	((uid_t)-2)

/*
 * Each client holds a descriptor (a pipe instance and a thread on Windows)
 * and at most about 150 KiB of buffers (a partial request, read-ahead,
 * unread replies): 1024 bounds what clients can take from the daemon, and
 * one user (a runaway script) can take at most half of it.  The last
 * CONTROL_PRIV_RESERVE connections are kept for the privileged (root and
 * the daemon's own user; on Windows also LocalSystem and the
 * Administrators): the members of socket_group share the rest, so however
 * many of them crowd in, root can always get in.
 */
#define CONTROL_MAX_CONNS	1024
#define CONTROL_MAX_PER_UID	512
#define CONTROL_PRIV_RESERVE	64

/* A client gets this long to send a whole request, and to read a reply. */
#define CONTROL_IDLE_SECS	30
#define CONTROL_WRITE_SECS	30

/*
 * Input is read at most this far ahead of the framer, so a client that
 * floods while its request runs fills a small buffer and then the kernel's.
 */
#define CONTROL_READ_HIGH	16384

/*
 * Past this much unread output, progress (advisory) is dropped and no
 * further request is taken until the client reads.
 */
#define CONTROL_OUTPUT_MAX	65536

struct control_conn {
	struct control_conn	*prev, *next;	/* every connection */
	struct control_link	*link;		/* the transport's half */
	uid_t			 uid;
	pid_t			 pid;
	bool			 known;		/* checked and admitted */
	bool			 privileged;	/* root or the daemon's user */
	struct protocol_framer	 framer;
	struct http_conn	*http;		/* speaks HTTP: http-conn.h */
	bool			 sniffed;	/* its first byte was seen */
	bool			 remote;	/* TCP: HTTP only, no peer
						   credentials */
	bool			 streaming;	/* an endless response: the
						   end of input ends it */
	struct event		*idle;		/* no complete request in time */
	struct event		*resume;	/* continue outside callers' frames */
	bool			 busy;		/* a request awaits its reply */
	bool			 processing;	/* inside control_conn_input */
	bool			 close_after;	/* close once the reply is out */
	bool			 closing;	/* read nothing more; end when flushed */
	bool			 read_eof;	/* the peer shut its writing side */
	bool			 dropped;	/* given up on; the link is closing */
};

/* What a transport provides for each link. */

/* Bytes read from the client and not yet framed. */
struct evbuffer	*control_link_input(struct control_link *l);
/* Queue bytes for the client: 0, or -1 when they cannot be. */
int		 control_link_queue(struct control_link *l, const char *data,
		    size_t len);
/* Bytes queued for the client and not yet written. */
size_t		 control_link_pending(struct control_link *l);
/* Input was framed: the link may read on if it held back. */
void		 control_link_taken(struct control_link *l);
/* Read nothing more from the client. */
void		 control_link_stop_reading(struct control_link *l);
/* Close the link; control_conn_free() follows once it is gone. */
void		 control_link_close(struct control_link *l);

/* What the transports share. */

/* The event base every connection's timers use. */
void	 control_conn_setup(struct event_base *base);
/* A new, unknown connection over link, with its idle timer running. */
struct control_conn *control_conn_new(struct control_link *link);
/*
 * Why a peer of uid gets no connection now ("all connections taken", ...),
 * or NULL when there is room for it.
 */
const char *control_conn_full(uid_t uid, bool privileged);
/* Take the checked peer in: it counts from now on. */
void	 control_conn_admit(struct control_conn *c, uid_t uid, pid_t pid,
	    bool privileged);
/* Connections admitted and not dropped. */
unsigned control_conn_count(void);
/* The first connection, in the order they came; then c->next. */
struct control_conn *control_conn_first(void);
/* Frame buffered input and start the requests it holds, one at a time. */
void	 control_conn_input(struct control_conn *c);
/* One error reply, then the connection ends. */
void	 control_conn_fail(struct control_conn *c, const char *code,
	    const char *msg);
/*
 * Queue a whole HTTP response and end the current request; the connection
 * closes once it is written when close is set, else takes the next one.
 */
void	 control_conn_answer(struct control_conn *c, const char *data,
	    size_t len, bool close);
/* Run the connection's deferred work from the loop. */
void	 control_conn_schedule(struct control_conn *c);
/* The client stopped reading its replies: drop it, and say so. */
void	 control_conn_stalled(struct control_conn *c);
/* Give up on a connection: settle its request, close its link. */
void	 control_conn_drop(struct control_conn *c);
/* Drop every connection. */
void	 control_conn_drop_all(void);
/* Free a dropped connection whose link is gone. */
void	 control_conn_free(struct control_conn *c);

#endif
