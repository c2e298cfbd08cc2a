/*
 * The TCP listener of the HTTP server ([inet_http_server] port).
 */
#ifndef SAFEEXITD_HTTP_LISTEN_H
#define SAFEEXITD_HTTP_LISTEN_H

struct event_base;

/*
 * Listen on spec, "HOST:PORT" as [inet_http_server] port has it.  -1
 * (logged, nothing left listening) when an address cannot be had.
 */
int	http_listen(struct event_base *base, const char *spec);
/* Stop listening. */
void	http_listen_close(void);

#endif
