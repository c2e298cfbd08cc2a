/*
 * What a control connection is, whatever carries its bytes: requests are
 * framed, decoded and checked here and handed one at a time to requests.c;
 * replies and progress go out with back-pressure; an idle client is closed;
 * the caps on connections are counted here.  The transports
 * (control-posix.c, control-win32.c) move the bytes; see control-conn.h.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <json-c/json.h>

#include "control.h"
#include "control-conn.h"
#include "http-conn.h"
#include "log.h"
#include "protocol.h"
#include "requests.h"

static struct event_base	*conn_base;
static struct control_conn	*conn_head, *conn_tail;
static unsigned			 conn_nknown;	/* admitted, not dropped */
static unsigned			 conn_nothers;	/* of them not privileged */

static unsigned	conn_count_uid(uid_t);
static bool	conn_sniff(struct control_conn *, struct evbuffer *);
static void	conn_request(struct control_conn *, const char *, size_t);
static int	conn_send(struct control_conn *, struct json_object *);
static void	conn_replied(struct control_conn *);
static struct json_object *conn_parse_frame(const char *, size_t);
static void	conn_set_closing(struct control_conn *);
static void	conn_arm_idle(struct control_conn *);
static void	conn_idle(evutil_socket_t, short, void *);
static void	conn_resume(evutil_socket_t, short, void *);

/* Remember the event base; see control-conn.h. */
void
control_conn_setup(struct event_base *base)
{
	conn_base = base;
}

/* A new, unknown connection; see control-conn.h. */
struct control_conn *
control_conn_new(struct control_link *link)
{
	struct control_conn	*c;

	if ((c = calloc(1, sizeof *c)) == NULL) {
		log_warn("%s: calloc", __func__);
		return (NULL);
	}
	c->link = link;
	c->uid = (uid_t)-1;
	c->idle = evtimer_new(conn_base, conn_idle, c);
	c->resume = event_new(conn_base, -1, 0, conn_resume, c);
	if (c->idle == NULL || c->resume == NULL) {
		log_warnx("%s: cannot allocate events", __func__);
		if (c->idle != NULL)
			event_free(c->idle);
		if (c->resume != NULL)
			event_free(c->resume);
		free(c);
		return (NULL);
	}
	protocol_framer_init(&c->framer, PROTOCOL_MAX_FRAME);
	c->prev = conn_tail;
	if (conn_tail != NULL)
		conn_tail->next = c;
	else
		conn_head = c;
	conn_tail = c;
	conn_arm_idle(c);
	return (c);
}

/*
 * Why a peer of uid gets no connection now, or NULL.  The unprivileged
 * stop CONTROL_PRIV_RESERVE short of the total, together.
 */
const char *
control_conn_full(uid_t uid, bool privileged)
{
	if (conn_nknown >= CONTROL_MAX_CONNS)
		return ("all connections taken");
	if (conn_count_uid(uid) >= CONTROL_MAX_PER_UID)
		return ("the user's share taken");
	if (!privileged &&
	    conn_nothers >= CONTROL_MAX_CONNS - CONTROL_PRIV_RESERVE)
		return ("the share of socket_group taken");
	return (NULL);
}

/* Take a checked peer in. */
void
control_conn_admit(struct control_conn *c, uid_t uid, pid_t pid,
    bool privileged)
{
	c->uid = uid;
	c->pid = pid;
	c->privileged = privileged;
	c->known = true;
	conn_nknown++;
	if (!privileged)
		conn_nothers++;
	log_debug("client uid %ld pid %ld connected", (long)uid, (long)pid);
}

/* Connections admitted and not dropped. */
unsigned
control_conn_count(void)
{
	return (conn_nknown);
}

/* The oldest connection. */
struct control_conn *
control_conn_first(void)
{
	return (conn_head);
}

/* Admitted connections of one user. */
static unsigned
conn_count_uid(uid_t uid)
{
	struct control_conn	*c;
	unsigned		 n = 0;

	for (c = conn_head; c != NULL; c = c->next)
		if (c->known && !c->dropped && c->uid == uid)
			n++;
	return (n);
}

/*
 * Feed buffered input to the framer until a request starts, the input runs
 * out, or the connection is closing.  A client that sends requests without
 * reading the replies is served only as fast as it reads.
 */
void
control_conn_input(struct control_conn *c)
{
	struct evbuffer		*in;
	struct evbuffer_iovec	 v;
	const char		*data, *line;
	size_t			 len, linelen;

	if (c->processing || c->dropped || !c->known)
		return;
	c->processing = true;
	in = control_link_input(c->link);
	while (!c->busy && !c->closing && !c->dropped &&
	    evbuffer_get_length(in) > 0 &&
	    control_link_pending(c->link) < CONTROL_OUTPUT_MAX) {
		if (!c->sniffed && !conn_sniff(c, in))
			break;
		if (c->http != NULL) {
			if (!http_conn_input(c, in))
				break;
			c->busy = true;
			evtimer_del(c->idle);
			http_conn_serve(c);
			continue;
		}
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		data = v.iov_base;
		len = v.iov_len;
		switch (protocol_framer_feed(&c->framer, &data, &len, &line,
		    &linelen)) {
		case PROTOCOL_FRAME_MORE:
			evbuffer_drain(in, v.iov_len - len);
			break;
		case PROTOCOL_FRAME_LINE:
			/* The line lives in the framer, not in the input. */
			evbuffer_drain(in, v.iov_len - len);
			conn_request(c, line, linelen);
			break;
		case PROTOCOL_FRAME_TOO_LONG:
			evbuffer_drain(in, v.iov_len - len);
			control_conn_fail(c, PROTOCOL_E_TOO_LONG,
			    "request longer than 65536 bytes");
			break;
		case PROTOCOL_FRAME_NOMEM:
			control_conn_fail(c, PROTOCOL_E_FAILED,
			    "out of memory");
			break;
		}
	}
	/*
	 * The peer said all it will say: finish once nothing is left to do.
	 * Part of an HTTP request left in the input will stay a part.
	 */
	if (c->read_eof && !c->busy && !c->closing && !c->dropped &&
	    (evbuffer_get_length(in) == 0 || (c->http != NULL &&
	    control_link_pending(c->link) < CONTROL_OUTPUT_MAX)))
		conn_set_closing(c);
	c->processing = false;
	if (!c->dropped)
		control_link_taken(c->link);
}

/*
 * Tell by the first byte whether the client speaks HTTP or the JSON
 * protocol.  False when the connection cannot go on.
 */
static bool
conn_sniff(struct control_conn *c, struct evbuffer *in)
{
	unsigned char	first;

	if (evbuffer_copyout(in, &first, 1) != 1)
		return (false);
	c->sniffed = true;
	/*
	 * Closing, not dropping: a drop frees the connection at once on
	 * POSIX, and control_conn_input still holds it.
	 */
	if (http_sniff(first)) {
		if ((c->http = http_conn_new(c)) == NULL) {
			log_warnx("%s: out of memory", __func__);
			conn_set_closing(c);
			return (false);
		}
		return (true);
	}
	if (c->remote) {
		log_info("TCP client: not an HTTP request; closed");
		conn_set_closing(c);
		return (false);
	}
	return (true);
}

/* Decode and check one line, then hand it to requests.c. */
static void
conn_request(struct control_conn *c, const char *line, size_t len)
{
	struct json_object	*req;
	const char		*code, *msg;

	if ((req = protocol_decode_request(line, len, &code, &msg)) == NULL) {
		control_conn_fail(c, code, msg);
		return;
	}
	c->busy = true;
	evtimer_del(c->idle);
	requests_handle(c, req);
	json_object_put(req);
}

/* A broken or refused request: one error reply, then the connection ends. */
void
control_conn_fail(struct control_conn *c, const char *code, const char *msg)
{
	struct json_object	*reply;

	log_info("client uid %ld pid %ld: %s", (long)c->uid, (long)c->pid,
	    msg);
	if ((reply = protocol_error(code, "%s", msg)) != NULL) {
		conn_send(c, reply);
		json_object_put(reply);
	}
	conn_set_closing(c);
}

/* Queue one message; obj stays the caller's. */
static int
conn_send(struct control_conn *c, struct json_object *obj)
{
	char	*frame;
	size_t	 len;
	int	 ret;

	if (c->dropped)
		return (-1);
	if (obj == NULL || (frame = protocol_encode(obj, &len)) == NULL) {
		log_warnx("%s: cannot encode a message", __func__);
		return (-1);
	}
	ret = control_link_queue(c->link, frame, len);
	free(frame);
	return (ret);
}

/* Answer the current request and let the next one in. */
void
control_reply(struct control_conn *c, struct json_object *reply)
{
	if (!c->busy)
		log_warnx("%s: reply without a request (uid %ld)", __func__,
		    (long)c->uid);
	if (c->http != NULL) {
		/* For a page of the HTTP server, which answers in its way. */
		if (!c->dropped)
			http_conn_reply(c, reply);
		json_object_put(reply);
		return;
	}
	conn_send(c, reply);
	json_object_put(reply);
	conn_replied(c);
}

/* Answer the current request with an encoded frame. */
void
control_reply_frame(struct control_conn *c, const char *frame, size_t len)
{
	if (!c->busy)
		log_warnx("%s: reply without a request (uid %ld)", __func__,
		    (long)c->uid);
	if (c->http != NULL) {
		control_reply(c, conn_parse_frame(frame, len));
		return;
	}
	if (!c->dropped && control_link_queue(c->link, frame, len) == -1)
		log_warnx("%s: cannot queue the reply", __func__);
	conn_replied(c);
}

/* An HTTP response: see control-conn.h. */
void
control_conn_answer(struct control_conn *c, const char *data, size_t len,
    bool close)
{
	if (!c->dropped && data != NULL &&
	    control_link_queue(c->link, data, len) == -1)
		log_warnx("%s: cannot queue the response", __func__);
	if (close)
		c->close_after = true;
	if (c->busy)
		conn_replied(c);
	else if (close)
		conn_set_closing(c);
}

/* A reply encoded as a frame, back as a tree for the HTTP server. */
static struct json_object *
conn_parse_frame(const char *frame, size_t len)
{
	struct json_tokener	*tok;
	struct json_object	*obj = NULL;

	if (len <= PROTOCOL_MAX_REPLY && (tok = json_tokener_new()) != NULL) {
		obj = json_tokener_parse_ex(tok, frame, (int)len);
		json_tokener_free(tok);
	}
	if (obj == NULL)
		obj = protocol_error(PROTOCOL_E_FAILED, "reply too large");
	return (obj);
}

/* A reply is queued: the connection may take its next request. */
static void
conn_replied(struct control_conn *c)
{
	c->busy = false;
	if (c->close_after) {
		conn_set_closing(c);
		return;
	}
	if (!c->dropped)
		conn_arm_idle(c);
	/* Buffered input waits for the loop: requests.c may be mid-iteration. */
	control_conn_schedule(c);
}

/* Tell a waiting client how far its request got. */
void
control_progress(struct control_conn *c, struct json_object *progress)
{
	struct json_object	*msg;

	if (progress == NULL)
		return;
	if (!c->busy || c->closing || c->dropped || c->http != NULL ||
	    control_link_pending(c->link) > CONTROL_OUTPUT_MAX) {
		json_object_put(progress);
		return;
	}
	if (json_object_object_get_ex(progress, "progress", NULL))
		msg = progress;
	else {
		if ((msg = json_object_new_object()) == NULL) {
			json_object_put(progress);
			return;
		}
		json_object_object_add(msg, "progress", progress);
	}
	conn_send(c, msg);
	json_object_put(msg);
}

/* Close once the reply is out. */
void
control_close_after_reply(struct control_conn *c)
{
	c->close_after = true;
	if (!c->busy)
		conn_set_closing(c);
}

/* The peer's user. */
uid_t
control_conn_uid(const struct control_conn *c)
{
	return (c->uid);
}

/* Read nothing more; the connection ends once its output is written. */
static void
conn_set_closing(struct control_conn *c)
{
	c->closing = true;
	if (!c->dropped)
		control_link_stop_reading(c->link);
	control_conn_schedule(c);
}

/* Give the client CONTROL_IDLE_SECS for its next whole request. */
static void
conn_arm_idle(struct control_conn *c)
{
	struct timeval	tv = { CONTROL_IDLE_SECS, 0 };

	evtimer_add(c->idle, &tv);
}

/* Run conn_resume from the loop, outside whatever called us. */
void
control_conn_schedule(struct control_conn *c)
{
	if (!c->dropped)
		event_active(c->resume, EV_TIMEOUT, 1);
}

/* The client stopped reading its replies. */
void
control_conn_stalled(struct control_conn *c)
{
	log_info("client uid %ld pid %ld stopped reading; dropped",
	    (long)c->uid, (long)c->pid);
	control_conn_drop(c);
}

/* Settle the request, stop the timers, have the transport close the link. */
void
control_conn_drop(struct control_conn *c)
{
	if (c->dropped)
		return;
	c->dropped = true;
	if (c->known) {
		conn_nknown--;
		if (!c->privileged)
			conn_nothers--;
	}
	if (c->busy) {
		c->busy = false;
		requests_cancel(c);
		if (c->http != NULL)
			http_conn_cancel(c);
	}
	evtimer_del(c->idle);
	event_del(c->resume);
	control_link_close(c->link);
}

/* Drop every connection, as at shutdown. */
void
control_conn_drop_all(void)
{
	struct control_conn	*c, *next;

	for (c = conn_head; c != NULL; c = next) {
		next = c->next;
		control_conn_drop(c);
	}
}

/* Forget a dropped connection whose link is gone. */
void
control_conn_free(struct control_conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		conn_head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		conn_tail = c->prev;
	log_debug("client uid %ld pid %ld gone", (long)c->uid, (long)c->pid);
	event_free(c->idle);
	event_free(c->resume);
	protocol_framer_free(&c->framer);
	http_conn_free(c->http);
	free(c);
}

/* No whole request in time: close without a word. */
static void
conn_idle(evutil_socket_t fd, short what, void *arg)
{
	struct control_conn	*c = arg;

	(void)fd;
	(void)what;
	if (c->busy || c->dropped)
		return;
	/* Replies it never read hold its requests back: the same thing. */
	if (control_link_pending(c->link) > 0)
		control_conn_stalled(c);
	else {
		log_debug("client uid %ld pid %ld idle; closed", (long)c->uid,
		    (long)c->pid);
		control_conn_drop(c);
	}
}

/* Deferred work: the next buffered request, or the end once flushed. */
static void
conn_resume(evutil_socket_t fd, short what, void *arg)
{
	struct control_conn	*c = arg;

	(void)fd;
	(void)what;
	if (c->dropped)
		return;
	if (c->closing) {
		if (control_link_pending(c->link) == 0)
			control_conn_drop(c);
		return;
	}
	control_conn_input(c);
}
