/*
 * Each program's one deadline as a libevent timer (see deadline.h).
 */
#include <event2/event.h>

#include "deadline.h"
#include "log.h"
#include "program.h"
#include "timeval.h"

static struct event_base	*deadline_base;
static double			(*deadline_now)(void);
static void			(*deadline_due)(struct program *);

static void	deadline_cb(evutil_socket_t fd, short what, void *arg);

/* See deadline.h. */
void
deadline_init(struct event_base *base, double (*now)(void),
    void (*due)(struct program *))
{
	deadline_base = base;
	deadline_now = now;
	deadline_due = due;
}

/* See deadline.h. */
void
deadline_arm(struct program *p, double at)
{
	struct timeval	tv;

	if (p->timer == NULL &&
	    (p->timer = evtimer_new(deadline_base, deadline_cb, p)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	if (at <= 0) {
		evtimer_del(p->timer);
		return;
	}
	tv = timeval_from_secs(at - deadline_now());
	evtimer_add(p->timer, &tv);
}

/*
 * p's timer fired.  Early, by libevent's clock (see deadline.h): wait out
 * the rest, so that start_secs or a grace period never ends short.
 */
static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct program	*p = arg;

	(void)fd;
	(void)what;
	if (p->deadline > 0 && deadline_now() < p->deadline) {
		deadline_arm(p, p->deadline);
		return;
	}
	deadline_due(p);
}
