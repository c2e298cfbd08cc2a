/*
 * No HTTP server (Windows): no connection speaks HTTP and
 * [inet_http_server] is said to have no effect.
 */
#include <stdbool.h>
#include <stddef.h>

#include "http-conn.h"
#include "http-listen.h"
#include "log.h"

void
http_init(struct event_base *base, const struct http_options *o)
{
	(void)base;
	(void)o;
}

bool
http_sniff(unsigned char first)
{
	(void)first;
	return (false);
}

struct http_conn *
http_conn_new(struct control_conn *c)
{
	(void)c;
	return (NULL);
}

void
http_conn_free(struct http_conn *h)
{
	(void)h;
}

bool
http_conn_input(struct control_conn *c, struct evbuffer *in)
{
	(void)c;
	(void)in;
	return (false);
}

void
http_conn_serve(struct control_conn *c)
{
	(void)c;
}

void
http_conn_reply(struct control_conn *c, struct json_object *reply)
{
	(void)c;
	(void)reply;
}

void
http_conn_cancel(struct control_conn *c)
{
	(void)c;
}

/* The port is not listened on: said once, at start. */
int
http_listen(struct event_base *base, const char *spec)
{
	(void)base;
	log_warnx("[inet_http_server] port %s: this build has no HTTP server",
	    spec);
	return (0);
}

void
http_listen_close(void)
{
}
