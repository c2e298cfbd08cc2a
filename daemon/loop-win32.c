/*
 * The mailbox of the Windows daemon.  Its threads (process waits, pipe
 * readers, the control pipe, the console handler, the hidden window) never
 * touch daemon state: each posts a callback, which the event loop runs on
 * its own thread.  A queue under a lock holds the callbacks and a loopback
 * socket pair wakes the loop, which on Windows waits on sockets only.
 */
#include <winsock2.h>
#include <windows.h>

#include <event2/event.h>
#include <event2/util.h>
#include <stdlib.h>

#include "log.h"
#include "win32.h"
#include "xmalloc.h"

struct mail {
	void		(*fn)(void *);
	void		 *arg;
	struct mail	 *next;
};

static CRITICAL_SECTION	 loop_lock;
static struct mail	*loop_head, *loop_tail;
static evutil_socket_t	 loop_sock[2] = { -1, -1 };
static struct event	*loop_ev;
static bool		 loop_wake_sent;	/* a byte is on its way */
static bool		 loop_ready;

static void	loop_cb(evutil_socket_t fd, short what, void *arg);
static void	loop_winsock(void) __attribute__((constructor));

/*
 * Winsock before main: libevent makes sockets as soon as the daemon makes
 * its event base, which is before the platform is set up.
 */
static void
loop_winsock(void)
{
	WSADATA	wsa;

	WSAStartup(MAKEWORD(2, 2), &wsa);
}

/* Make the socket pair and watch its reading end. */
int
win32_loop_init(struct event_base *base)
{
	InitializeCriticalSection(&loop_lock);
	if (evutil_socketpair(AF_INET, SOCK_STREAM, 0, loop_sock) == -1) {
		log_warnx("%s: cannot make a socket pair: %s", __func__,
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		return -1;
	}
	evutil_make_socket_nonblocking(loop_sock[0]);
	evutil_make_socket_nonblocking(loop_sock[1]);
	loop_ev = event_new(base, loop_sock[0], EV_READ | EV_PERSIST, loop_cb,
	    NULL);
	if (loop_ev == NULL || event_add(loop_ev, NULL) == -1) {
		log_warnx("%s: cannot watch the socket pair", __func__);
		return -1;
	}
	loop_ready = true;
	return 0;
}

/* Drop what is still queued and close the sockets. */
void
win32_loop_fini(void)
{
	struct mail	*m;

	if (!loop_ready)
		return;
	EnterCriticalSection(&loop_lock);
	loop_ready = false;
	while ((m = loop_head) != NULL) {
		loop_head = m->next;
		free(m->arg);
		free(m);
	}
	loop_tail = NULL;
	LeaveCriticalSection(&loop_lock);
	event_free(loop_ev);
	loop_ev = NULL;
	evutil_closesocket(loop_sock[0]);
	evutil_closesocket(loop_sock[1]);
	loop_sock[0] = loop_sock[1] = -1;
}

/* Queue fn(arg) and wake the loop unless a wake-up is already on its way. */
void
win32_post(void (*fn)(void *), void *arg)
{
	struct mail	*m;
	bool		 wake;
	char		 c = 0;

	m = xcalloc(1, sizeof *m);
	m->fn = fn;
	m->arg = arg;
	EnterCriticalSection(&loop_lock);
	if (!loop_ready) {
		LeaveCriticalSection(&loop_lock);
		free(m);
		free(arg);
		return;
	}
	if (loop_tail != NULL)
		loop_tail->next = m;
	else
		loop_head = m;
	loop_tail = m;
	wake = !loop_wake_sent;
	loop_wake_sent = true;
	LeaveCriticalSection(&loop_lock);
	if (wake)
		send(loop_sock[1], &c, 1, 0);
}

/* The loop woke: run everything queued, in order. */
static void
loop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mail	*m, *list;
	char		 buf[64];

	(void)what;
	(void)arg;
	while (recv(fd, buf, sizeof buf, 0) > 0)
		;
	EnterCriticalSection(&loop_lock);
	list = loop_head;
	loop_head = loop_tail = NULL;
	loop_wake_sent = false;
	LeaveCriticalSection(&loop_lock);
	while ((m = list) != NULL) {
		list = m->next;
		m->fn(m->arg);
		free(m);
	}
}
