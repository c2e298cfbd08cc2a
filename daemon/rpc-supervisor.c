/*
 * supervisord's XML-RPC interface at /RPC2.
 */
#include "control-conn.h"
#include "http.h"

/* Not served yet. */
void
rpc_serve(struct control_conn *c, const struct http_request *r)
{
	(void)r;
	http_respond_error(c, 404, "not found");
}
