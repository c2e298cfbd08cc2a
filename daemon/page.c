/*
 * /: the status page.
 */
#include "control-conn.h"
#include "http.h"

/* Not served yet. */
void
page_serve(struct control_conn *c, const struct http_request *r)
{
	(void)r;
	http_respond_error(c, 404, "not found");
}
