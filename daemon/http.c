/*
 * The HTTP server over control connections: takes a request in (the head,
 * then a body of Content-Length bytes), checks who may ask (a password and
 * the Host over TCP, a token for the page's POSTs), routes it to its page
 * and writes the response.  HTTP/1.1 with keep-alive; no chunked bodies.
 * See http.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <json-c/json.h>

#include "control.h"
#include "control-conn.h"
#include "http.h"
#include "http-conn.h"
#include "http-parse.h"
#include "log.h"
#include "parse.h"
#include "protocol.h"
#include "requests.h"
#include "xmalloc.h"

struct http_conn {
	struct control_conn	*c;
	struct http_head	 hd;
	char			*head;		/* hd's strings live here */
	size_t			 want;		/* body bytes still to come */
	bool			 in_body;	/* the head was taken */
	size_t			 body_held;	/* bytes kept for the body */

	/* A streamed response: what ends it when the client goes. */
	void			(*stream_stop)(void *);
	void			*stream_arg;
	bool			 chunked;

	/* A command for requests.c: queued, then waiting for its reply. */
	struct json_object	*cmd;
	http_reply_cb		 cb;
	void			*cbarg;
	struct event		*run;
};

static struct event_base	*http_base;
static char			*http_username, *http_password;
static char			 http_token[33];
/* Bytes kept for request bodies on every connection together. */
static size_t			 http_body_held;

static size_t	http_base64(char *, const char *, size_t);
static void	http_reset(struct http_conn *);
static void	http_send(struct control_conn *, int, const char *,
		    const char *, const char *, size_t);
static bool	http_allowed(struct control_conn *, const struct http_request *);
static bool	http_authorized(const struct http_conn *);
static bool	http_host_allowed(const struct http_request *);
static bool	http_same_origin(const struct http_request *);
static void	http_api(struct control_conn *, const struct http_request *);
static void	http_api_reply(struct control_conn *, struct json_object *,
		    void *);
static void	http_run(evutil_socket_t, short, void *);
static void	http_stream_end(struct http_conn *);
static const char *http_reason(int);

/* See http-conn.h. */
void
http_init(struct event_base *base, const struct http_options *o)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 r[16];
	size_t			 i;

	http_base = base;
	free(http_username);
	free(http_password);
	http_username = o != NULL && o->username != NULL ?
	    xstrdup(o->username) : NULL;
	http_password = o != NULL && o->password != NULL ?
	    xstrdup(o->password) : NULL;
	if (http_token[0] != '\0')
		return;
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
		fatal("%s: getrandom", __func__);
	for (i = 0; i < sizeof r; i++) {
		http_token[2 * i] = hex[r[i] >> 4];
		http_token[2 * i + 1] = hex[r[i] & 15];
	}
}

/* See http.h. */
const char *
http_csrf_token(void)
{
	return (http_token);
}

/* Requests start with a method in capitals; JSON requests with '{'. */
bool
http_sniff(unsigned char first)
{
	return (first >= 'A' && first <= 'Z');
}

/* See http-conn.h. */
struct http_conn *
http_conn_new(struct control_conn *c)
{
	struct http_conn	*h;

	if ((h = calloc(1, sizeof *h)) == NULL)
		return (NULL);
	if ((h->run = event_new(http_base, -1, 0, http_run, c)) == NULL) {
		free(h);
		return (NULL);
	}
	h->c = c;
	return (h);
}

/* See http-conn.h. */
void
http_conn_free(struct http_conn *h)
{
	if (h == NULL)
		return;
	http_stream_end(h);
	http_reset(h);
	event_free(h->run);
	json_object_put(h->cmd);
	free(h);
}

/* Forget the request served last. */
static void
http_reset(struct http_conn *h)
{
	free(h->head);
	free(h->hd.req.body);
	http_body_held -= h->body_held;
	h->body_held = 0;
	memset(&h->hd, 0, sizeof h->hd);
	h->head = NULL;
	h->in_body = false;
	h->want = 0;
}

/* See http-conn.h. */
bool
http_conn_input(struct control_conn *c, struct evbuffer *in)
{
	struct http_conn	*h = c->http;
	struct evbuffer_ptr	 end;
	size_t			 len, n;
	char			*head;
	const char		*why;
	int			 status, got;
	bool			 keep;

	if (!h->in_body) {
		len = evbuffer_get_length(in);
		end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
		if (end.pos < 0) {
			if (len < HTTP_MAX_HEAD)
				return (false);
			http_send(c, 431, "text/plain", NULL,
			    "request head too large\n", 23);
			return (false);
		}
		n = (size_t)end.pos + 4;
		if (n > HTTP_MAX_HEAD) {
			http_send(c, 431, "text/plain", NULL,
			    "request head too large\n", 23);
			return (false);
		}
		head = xmalloc(n + 1);
		evbuffer_remove(in, head, n);
		head[n] = '\0';
		h->head = head;
		if (http_parse_head(head, n, &h->hd, &status, &why) == -1) {
			h->hd.keep_alive = false;
			http_send(c, status, "text/plain", NULL, why,
			    strlen(why));
			return (false);
		}
		h->hd.req.remote = c->remote;
		/*
		 * Who may ask is known from the head: a refused client gets
		 * its answer before any body is read or room made for it.
		 */
		keep = h->hd.keep_alive;
		h->hd.keep_alive = false;
		if (!http_allowed(c, &h->hd.req))
			return (false);
		h->hd.keep_alive = keep;
		h->in_body = true;
		if (http_body_held + h->hd.content_length > HTTP_BODY_TOTAL ||
		    (h->hd.req.body = malloc(h->hd.content_length + 1)) ==
		    NULL) {
			h->hd.keep_alive = false;
			http_send(c, 503, "text/plain", NULL,
			    "too many requests at once\n", 26);
			return (false);
		}
		h->body_held = h->hd.content_length + 1;
		http_body_held += h->body_held;
		h->want = h->hd.content_length;
		if (h->hd.expect_continue && h->want > 0 &&
		    evbuffer_get_length(in) == 0)
			control_link_queue(c->link,
			    "HTTP/1.1 100 Continue\r\n\r\n", 25);
	}
	if (h->want > 0) {
		got = evbuffer_remove(in, h->hd.req.body +
		    (h->hd.content_length - h->want), h->want);
		if (got > 0)
			h->want -= (size_t)got;
	}
	if (h->want > 0)
		return (false);
	h->hd.req.body[h->hd.content_length] = '\0';
	h->hd.req.body_len = h->hd.content_length;
	return (true);
}

/* See http-conn.h. */
void
http_conn_serve(struct control_conn *c)
{
	const struct http_request	*r = &c->http->hd.req;

	/* http_allowed() let the head in (http_conn_input). */
	if (strcmp(r->path, "/RPC2") == 0) {
		if (strcmp(r->method, "POST") != 0)
			http_respond_error(c, 405, "POST to /RPC2");
		else
			rpc_serve(c, r);
	} else if (strcmp(r->path, "/metrics") == 0)
		metrics_serve(c, r);
	else if (strcmp(r->path, "/api") == 0)
		http_api(c, r);
	else if (strncmp(r->path, "/logtail/", 9) == 0 ||
	    strcmp(r->path, "/mainlogtail") == 0)
		logtail_serve(c, r);
	else
		page_serve(c, r);
}

/*
 * Over TCP: the password when there is one, else a Host that names the
 * loopback (a DNS name rebound to 127.0.0.1 gets no answer).  Everywhere:
 * a POST from a page of another site is refused.  Answered when false.
 */
static bool
http_allowed(struct control_conn *c, const struct http_request *r)
{
	if (r->remote && !http_authorized(c->http)) {
		http_send(c, 401, "text/plain",
		    "WWW-Authenticate: Basic realm=\"safeexitd\"\r\n",
		    "authorization required\n", 23);
		return (false);
	}
	if (r->remote && http_password == NULL && !http_host_allowed(r)) {
		http_respond_error(c, 403, "Host must name the loopback");
		return (false);
	}
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0 &&
	    !http_same_origin(r)) {
		http_respond_error(c, 403, "cross-origin request refused");
		return (false);
	}
	return (true);
}

/* Basic credentials equal to the configured ones, or none configured. */
static bool
http_authorized(const struct http_conn *h)
{
	char		*want, *enc;
	size_t		 n, elen;
	bool		 ok;
	unsigned	 diff = 0;
	size_t		 i;

	if (http_password == NULL)
		return (true);
	if (h->hd.authorization == NULL ||
	    strncasecmp(h->hd.authorization, "Basic ", 6) != 0)
		return (false);
	want = xasprintf("%s:%s", http_username, http_password);
	n = strlen(want);
	enc = xmalloc(4 * ((n + 2) / 3) + 1);
	elen = http_base64(enc, want, n);
	ok = strlen(h->hd.authorization + 6) == elen;
	/* Compare every byte: the time taken says nothing of where. */
	for (i = 0; ok && i < elen; i++)
		diff |= (unsigned)(enc[i] ^ h->hd.authorization[6 + i]);
	free(want);
	free(enc);
	return (ok && diff == 0);
}

/* Base64 of n bytes of s into out (4 * ceil(n / 3) + 1 bytes); its length. */
static size_t
http_base64(char *out, const char *s, size_t n)
{
	static const char	 b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i, o = 0;
	unsigned		 v;

	for (i = 0; i < n; i += 3) {
		v = (unsigned)u[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)u[i + 1] << 8;
		if (i + 2 < n)
			v |= u[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	out[o] = '\0';
	return (o);
}

/* The Host header names the loopback (with any port), or is absent. */
static bool
http_host_allowed(const struct http_request *r)
{
	char		 host[256];
	const char	*end;
	size_t		 n;

	if (r->host == NULL)
		return (false);
	if (r->host[0] == '[') {
		if ((end = strchr(r->host, ']')) == NULL)
			return (false);
		n = (size_t)(end - r->host - 1);
		if (n >= sizeof host)
			return (false);
		memcpy(host, r->host + 1, n);
	} else {
		end = strchr(r->host, ':');
		n = end != NULL ? (size_t)(end - r->host) : strlen(r->host);
		if (n >= sizeof host)
			return (false);
		memcpy(host, r->host, n);
	}
	host[n] = '\0';
	return (inet_host_loopback(host));
}

/* No Origin (not a browser), or one whose host and port are the Host. */
static bool
http_same_origin(const struct http_request *r)
{
	const char	*o;

	if (r->origin == NULL)
		return (true);
	if (r->host == NULL)
		return (false);
	if ((o = strstr(r->origin, "://")) == NULL)
		return (false);
	return (strcmp(o + 3, r->host) == 0);
}

/*
 * POST /api: one request of the JSON protocol as the body, the page's
 * token in X-CSRF-Token; the reply is the body of the response.
 */
static void
http_api(struct control_conn *c, const struct http_request *r)
{
	struct json_object	*req;
	const char		*code, *msg;

	if (strcmp(r->method, "POST") != 0) {
		http_respond_error(c, 405, "POST to /api");
		return;
	}
	if (r->csrf_token == NULL || strcmp(r->csrf_token, http_token) != 0) {
		http_respond_error(c, 403, "X-CSRF-Token missing or wrong");
		return;
	}
	if ((req = protocol_decode_request(r->body, r->body_len, &code,
	    &msg)) == NULL) {
		http_respond_error(c, 400, "%s", msg);
		return;
	}
	http_command(c, req, http_api_reply, NULL);
}

/* The JSON reply, as it is. */
static void
http_api_reply(struct control_conn *c, struct json_object *reply, void *arg)
{
	const char	*s;
	size_t		 n;

	(void)arg;
	if (reply == NULL)
		return;
	s = json_object_to_json_string_length(reply, JSON_C_TO_STRING_PLAIN,
	    &n);
	http_respond(c, 200, "application/json", s, n);
}

/* See http.h. */
void
http_command(struct control_conn *c, struct json_object *req,
    http_reply_cb cb, void *arg)
{
	struct http_conn	*h = c->http;

	json_object_object_add(req, "v", json_object_new_int(PROTOCOL_VERSION));
	json_object_put(h->cmd);
	h->cmd = req;
	h->cb = cb;
	h->cbarg = arg;
	/* From the loop: a page may ask from inside a reply of requests.c. */
	event_active(h->run, EV_TIMEOUT, 1);
}

/* Hand the queued command to requests.c. */
static void
http_run(evutil_socket_t fd, short what, void *arg)
{
	struct control_conn	*c = arg;
	struct json_object	*req = c->http->cmd;

	(void)fd;
	(void)what;
	c->http->cmd = NULL;
	if (req == NULL || c->dropped) {
		json_object_put(req);
		return;
	}
	requests_handle(c, req);
	json_object_put(req);
}

/* See http-conn.h. */
void
http_conn_reply(struct control_conn *c, struct json_object *reply)
{
	struct http_conn	*h = c->http;
	http_reply_cb		 cb = h->cb;

	h->cb = NULL;
	if (cb == NULL) {
		log_warnx("%s: a reply nobody waits for", __func__);
		return;
	}
	cb(c, reply, h->cbarg);
}

/* See http-conn.h. */
void
http_conn_cancel(struct control_conn *c)
{
	struct http_conn	*h = c->http;
	http_reply_cb		 cb = h->cb;

	h->cb = NULL;
	event_del(h->run);
	if (cb != NULL)
		cb(c, NULL, h->cbarg);
	http_stream_end(h);
}

/* A streamed response's client is gone: its page lets go. */
static void
http_stream_end(struct http_conn *h)
{
	void	(*stop)(void *) = h->stream_stop;

	h->stream_stop = NULL;
	if (stop != NULL)
		stop(h->stream_arg);
}

/* See http.h. */
void
http_stream_begin(struct control_conn *c, const char *ctype,
    void (*stop)(void *), void *arg)
{
	struct http_conn	*h = c->http;
	char			*head;

	h->chunked = h->hd.keep_alive;	/* HTTP/1.1 */
	head = xasprintf("HTTP/1.1 200 OK\r\nContent-Type: %s\r\n"
	    "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
	    "X-Accel-Buffering: no\r\n%s\r\n", ctype, h->chunked ?
	    "Transfer-Encoding: chunked\r\n" : "Connection: close\r\n");
	control_link_queue(c->link, head, strlen(head));
	free(head);
	h->stream_stop = stop;
	h->stream_arg = arg;
	/* No whole request is awaited: the client only reads from now on,
	 * and the end of its input is its going away. */
	evtimer_del(c->idle);
	c->streaming = true;
}

/* See http.h. */
void
http_stream_write(struct control_conn *c, const char *data, size_t len)
{
	char	size[24];

	if (len == 0 || c->dropped)
		return;
	if (c->http->chunked) {
		snprintf(size, sizeof size, "%zx\r\n", len);
		control_link_queue(c->link, size, strlen(size));
	}
	control_link_queue(c->link, data, len);
	if (c->http->chunked)
		control_link_queue(c->link, "\r\n", 2);
}

/* See http.h. */
void
http_respond(struct control_conn *c, int status, const char *ctype,
    const char *body, size_t len)
{
	http_send(c, status, ctype, NULL, body, len);
}

/* See http.h. */
void
http_respond_error(struct control_conn *c, int status, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0) {
		msg = NULL;
		n = 0;
	}
	if (msg != NULL) {
		char *line = xasprintf("%s\n", msg);

		free(msg);
		msg = line;
		n++;
	}
	http_send(c, status, "text/plain; charset=utf-8", NULL,
	    msg != NULL ? msg : "", (size_t)n);
	free(msg);
}

/*
 * Write the status line, the headers and the body as one answer; then the
 * next request, or the end of the connection.
 */
static void
http_send(struct control_conn *c, int status, const char *ctype,
    const char *extra, const char *body, size_t len)
{
	struct http_conn	*h = c->http;
	struct evbuffer		*out;
	size_t			 n;
	char			*data;
	bool			 close = !h->hd.keep_alive || c->close_after;

	if ((out = evbuffer_new()) == NULL) {
		control_conn_answer(c, NULL, 0, true);
		http_reset(h);
		return;
	}
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", status,
	    http_reason(status));
	if (ctype != NULL)
		evbuffer_add_printf(out, "Content-Type: %s\r\n", ctype);
	evbuffer_add_printf(out, "Content-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "X-Frame-Options: DENY\r\n"
	    "%s%s\r\n", len, extra != NULL ? extra : "",
	    close ? "Connection: close\r\n" : "");
	if (!h->hd.head_only && len > 0)
		evbuffer_add(out, body, len);
	n = evbuffer_get_length(out);
	data = (char *)evbuffer_pullup(out, -1);
	http_reset(h);
	control_conn_answer(c, data, n, close);
	evbuffer_free(out);
}

/* The reason phrase of the statuses this server sends. */
static const char *
http_reason(int status)
{
	switch (status) {
	case 200: return ("OK");
	case 400: return ("Bad Request");
	case 401: return ("Unauthorized");
	case 403: return ("Forbidden");
	case 404: return ("Not Found");
	case 405: return ("Method Not Allowed");
	case 413: return ("Content Too Large");
	case 415: return ("Unsupported Media Type");
	case 417: return ("Expectation Failed");
	case 431: return ("Request Header Fields Too Large");
	case 500: return ("Internal Server Error");
	case 501: return ("Not Implemented");
	case 503: return ("Service Unavailable");
	case 505: return ("HTTP Version Not Supported");
	default: return ("Unknown");
	}
}
