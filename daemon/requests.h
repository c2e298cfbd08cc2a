/*
 * The control commands: turns a decoded request into lifecycle and shutdown
 * events and answers from program state.  control-conn.c calls in here; requests
 * call back control_reply / control_progress.
 */
#ifndef SAFEEXITD_REQUESTS_H
#define SAFEEXITD_REQUESTS_H

struct control_conn;
struct json_object;

/*
 * Handle one validated request (a JSON object with "cmd" a string and
 * "args", when present, an array of strings).  Replies now or later through
 * control_reply.  Does not take ownership of req.
 */
void requests_handle(struct control_conn *c, struct json_object *req);

/* The connection went away: forget any request of it still waiting. */
void requests_cancel(struct control_conn *c);

#endif
