/*
 * The TCP port of [inet_http_server]: listening sockets for the address it
 * names (every address a name resolves to), each accepted client handed
 * to the control connections as an HTTP-only one.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "control.h"
#include "http-listen.h"
#include "log.h"
#include "parse.h"

#define HTTP_LISTEN_MAX	8	/* addresses one name may give */

static struct event	*http_listen_ev[HTTP_LISTEN_MAX];
static int		 http_listen_n;
static struct event	*http_listen_rest;	/* out of descriptors */

static int	http_listen_one(struct event_base *, const struct addrinfo *,
		    const char *);
static void	http_listen_accept(evutil_socket_t, short, void *);
static void	http_listen_pause(void);
static void	http_listen_resume(evutil_socket_t, short, void *);

/* See http-listen.h. */
int
http_listen(struct event_base *base, const char *spec)
{
	struct addrinfo		 hints, *res, *ai;
	char			 host[256], port[8];
	const char		*err;
	int			 p, rc;

	if (parse_inet_address(spec, host, sizeof host, &p, &err) != 0) {
		log_warnx("[inet_http_server] port %s: %s", spec, err);
		return (-1);
	}
	snprintf(port, sizeof port, "%d", p);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	/* Every interface, as supervisord's "*:PORT" or ":PORT": IPv4's. */
	if (*host == '\0')
		hints.ai_family = AF_INET;
	if ((rc = getaddrinfo(*host != '\0' ? host : NULL, port, &hints,
	    &res)) != 0) {
		log_warnx("[inet_http_server] port %s: %s", spec,
		    gai_strerror(rc));
		return (-1);
	}
	for (ai = res; ai != NULL && http_listen_n < HTTP_LISTEN_MAX;
	    ai = ai->ai_next) {
		if (http_listen_one(base, ai, spec) == -1) {
			freeaddrinfo(res);
			http_listen_close();
			return (-1);
		}
	}
	freeaddrinfo(res);
	if (http_listen_rest == NULL)
		http_listen_rest = evtimer_new(base, http_listen_resume, NULL);
	log_info("HTTP server listening on %s", spec);
	return (0);
}

/* Listen on one address. */
static int
http_listen_one(struct event_base *base, const struct addrinfo *ai,
    const char *spec)
{
	struct event	*ev;
	int		 fd, on = 1;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, ai->ai_protocol);
	if (fd == -1) {
		log_warn("[inet_http_server] port %s: socket", spec);
		return (-1);
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	if (ai->ai_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
		    sizeof on);
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
	    listen(fd, 128) == -1) {
		log_warn("[inet_http_server] cannot listen on %s", spec);
		close(fd);
		return (-1);
	}
	ev = event_new(base, fd, EV_READ | EV_PERSIST, http_listen_accept,
	    NULL);
	if (ev == NULL || event_add(ev, NULL) == -1) {
		log_warnx("[inet_http_server] %s: cannot add an event", spec);
		if (ev != NULL)
			event_free(ev);
		close(fd);
		return (-1);
	}
	http_listen_ev[http_listen_n++] = ev;
	return (0);
}

/* Take the clients waiting, a bounded number at a time. */
static void
http_listen_accept(evutil_socket_t lfd, short what, void *arg)
{
	int	i, fd;

	(void)what;
	(void)arg;
	for (i = 0; i < 32; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE)
				http_listen_pause();
			else if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn("%s: accept", __func__);
			return;
		}
		control_accept_remote(fd);
	}
}

/*
 * Out of descriptors: the waiting client would wake the listener again at
 * once, so rest a second (the control socket does the same).
 */
static void
http_listen_pause(void)
{
	struct timeval	tv = { 1, 0 };
	int		i;

	if (http_listen_rest == NULL || evtimer_pending(http_listen_rest, NULL))
		return;
	log_warnx("out of descriptors: not accepting TCP clients for a "
	    "second");
	for (i = 0; i < http_listen_n; i++)
		event_del(http_listen_ev[i]);
	evtimer_add(http_listen_rest, &tv);
}

/* The rest is over: accept again. */
static void
http_listen_resume(evutil_socket_t fd, short what, void *arg)
{
	int	i;

	(void)fd;
	(void)what;
	(void)arg;
	for (i = 0; i < http_listen_n; i++)
		event_add(http_listen_ev[i], NULL);
}

/* See http-listen.h. */
void
http_listen_close(void)
{
	int	i, fd;


	for (i = 0; i < http_listen_n; i++) {
		fd = event_get_fd(http_listen_ev[i]);
		event_free(http_listen_ev[i]);
		close(fd);
	}
	http_listen_n = 0;
	if (http_listen_rest != NULL) {
		event_free(http_listen_rest);
		http_listen_rest = NULL;
	}
}
