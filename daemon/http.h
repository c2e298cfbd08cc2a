/*
 * The daemon's HTTP server: supervisord's XML-RPC (/RPC2), OpenMetrics
 * (/metrics) and the status page (/).  HTTP arrives on two ways in: the
 * control socket, where a connection whose first byte is a capital letter
 * speaks HTTP instead of the JSON protocol (its peer credentials were
 * checked as for any client), and the TCP port of [inet_http_server].
 * Either way it is a control connection (control-conn.h): the same caps,
 * idle timers and back-pressure hold, and requests.c answers the commands.
 *
 * http-parse.c frames requests, http.c routes them and writes responses;
 * each page owns its file (rpc-supervisor.c, metrics.c, page.c).  One
 * request at a time per connection: the next is read once the response to
 * this one is queued.
 */
#ifndef SAFEEXITD_HTTP_H
#define SAFEEXITD_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct control_conn;
struct json_object;

/* The largest request body taken; a larger one is refused with 413. */
#define HTTP_MAX_BODY		(1024 * 1024)
/*
 * The bytes kept for bodies on all connections together: past it a request
 * gets 503, so a crowd of clients each sending 1 MiB slowly cannot take the
 * daemon's memory.
 */
#define HTTP_BODY_TOTAL		(32 * 1024 * 1024)
/* The longest request line and header block. */
#define HTTP_MAX_HEAD		16384

/*
 * One request.  Every string is NUL-terminated and lives until the response
 * to it is queued; a header not sent is NULL.
 */
struct http_request {
	char		 method[8];	/* "GET", "POST", "HEAD"... */
	char		*path;		/* the target up to '?', decoded */
	char		*query;		/* after '?', as sent, or NULL */
	char		*host;
	char		*origin;
	char		*content_type;
	char		*csrf_token;	/* X-CSRF-Token */
	char		*body;		/* "" when none */
	size_t		 body_len;
	bool		 remote;	/* came over TCP, not the socket */
};

/*
 * Queue a complete response.  ctype NULL sends no Content-Type.  body is
 * copied; the connection may take its next request afterwards.
 */
void	http_respond(struct control_conn *c, int status, const char *ctype,
	    const char *body, size_t len);
/* The same for an error: a one-line text/plain body. */
void	http_respond_error(struct control_conn *c, int status,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * What a page does with a reply from requests.c: called once per
 * http_command() with the reply (an object with "ok", as the JSON protocol
 * has it; NULL when the connection went away first, and then nothing may be
 * queued).  reply stays the caller's.
 */
typedef void (*http_reply_cb)(struct control_conn *c,
	    struct json_object *reply, void *arg);
/*
 * Run a command of the JSON protocol (docs/PROTOCOL.md) for this request:
 * req is {"cmd": ..., "args": [...]} ("v" is added), taken over.  The reply
 * reaches cb; progress messages are dropped.  Several may run one after the
 * other for one HTTP request (system.multicall), never two at once.
 */
void	http_command(struct control_conn *c, struct json_object *req,
	    http_reply_cb cb, void *arg);

/*
 * Begin a response whose body follows as it comes (chunked for HTTP/1.1,
 * else until the connection closes): the connection serves nothing else
 * until the client goes away, and stop(arg) is called then.
 */
void	http_stream_begin(struct control_conn *c, const char *ctype,
	    void (*stop)(void *), void *arg);
/* Queue the next part of a streamed body. */
void	http_stream_write(struct control_conn *c, const char *data,
	    size_t len);

/* The pages, each given the request once it is whole. */
void	rpc_serve(struct control_conn *c, const struct http_request *r);
void	logtail_serve(struct control_conn *c, const struct http_request *r);
void	metrics_serve(struct control_conn *c, const struct http_request *r);
void	page_serve(struct control_conn *c, const struct http_request *r);

/* The token the status page must send back with each POST. */
const char *http_csrf_token(void);

#endif
