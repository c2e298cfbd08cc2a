/*
 * What control-conn.c asks of the HTTP server (http.c) for a connection
 * that speaks HTTP; the pages see http.h.  On Windows (http-none.c) no
 * connection speaks HTTP.
 */
#ifndef SAFEEXITD_HTTP_CONN_H
#define SAFEEXITD_HTTP_CONN_H

#include <stdbool.h>
#include <stddef.h>

struct control_conn;
struct evbuffer;
struct event_base;
struct json_object;

struct http_options {
	const char	*username;	/* TCP clients must give these; */
	const char	*password;	/* NULL: loopback only, no password */
};

/* Remember the event base and the credentials TCP clients must give. */
void	 http_init(struct event_base *base, const struct http_options *o);
/* Whether a connection's first byte opens an HTTP request. */
bool	 http_sniff(unsigned char first);
/* The HTTP state of connection c; NULL when out of memory. */
struct http_conn *http_conn_new(struct control_conn *c);
void	 http_conn_free(struct http_conn *h);
/*
 * Take what in holds of the current request.  True once it is whole: the
 * caller marks the connection busy and calls http_conn_serve().  A request
 * refused before it is whole (too large, malformed) is answered here and
 * the connection set to close; false then as when more is needed.
 */
bool	 http_conn_input(struct control_conn *c, struct evbuffer *in);
/* Route and serve the whole request. */
void	 http_conn_serve(struct control_conn *c);
/* The reply of requests.c to the command that http_command() ran. */
void	 http_conn_reply(struct control_conn *c, struct json_object *reply);
/* The connection goes away: tell a page waiting on a command. */
void	 http_conn_cancel(struct control_conn *c);

#endif
