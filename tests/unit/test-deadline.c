/*
 * A program's deadline timer (daemon/deadline.c) on a real libevent loop
 * against a fake clock: a timer that fires before the daemon's clock reaches
 * the deadline is armed again and the program hears nothing until then.
 * Also the seconds-to-timeval conversion every timer uses (lib/timeval.c).
 */
#include <event2/event.h>
#include <stdlib.h>

#include "deadline.h"
#include "log.h"
#include "program.h"
#include "tap.h"
#include "timeval.h"

static double fake_now = 1000.0;
static int n_due;

static double fake_clock(void) { return fake_now; }
static void on_due(struct program *p) { (void)p; n_due++; }

/* libevent's clock says the time is up; the daemon's does not yet. */
static void
test_early_fire(struct event_base *base)
{
	struct program *p = calloc(1, sizeof *p);

	n_due = 0;
	p->deadline = fake_now + 0.02;
	deadline_arm(p, p->deadline);
	ok(evtimer_pending(p->timer, NULL), "early: armed");
	/* The timer fires after 20 ms of real time; the fake clock stood still. */
	event_base_loop(base, EVLOOP_ONCE);
	is_int(n_due, 0, "early: the program is not told before its deadline");
	ok(evtimer_pending(p->timer, NULL), "early: armed again for the rest");
	fake_now = p->deadline;
	event_base_loop(base, EVLOOP_ONCE);
	is_int(n_due, 1, "early: told once the deadline passed");
	ok(!evtimer_pending(p->timer, NULL), "early: not armed after");
	event_free(p->timer);
	free(p);
}

/* Arming at 0 disarms; a deadline already passed fires at once. */
static void
test_disarm_and_past(struct event_base *base)
{
	struct program *p = calloc(1, sizeof *p);

	n_due = 0;
	p->deadline = fake_now + 60;
	deadline_arm(p, p->deadline);
	p->deadline = 0;
	deadline_arm(p, 0);
	ok(!evtimer_pending(p->timer, NULL), "disarm: not armed");
	p->deadline = fake_now - 1;
	deadline_arm(p, p->deadline);
	event_base_loop(base, EVLOOP_ONCE);
	is_int(n_due, 1, "past: told at once");
	event_free(p->timer);
	free(p);
}

/* Seconds to a timeval: whole microseconds, nothing negative. */
static void
test_timeval(void)
{
	struct timeval tv;

	tv = timeval_from_secs(1.5);
	ok(tv.tv_sec == 1 && tv.tv_usec == 500000, "timeval: 1.5 s");
	tv = timeval_from_secs(0.000001);
	ok(tv.tv_sec == 0 && tv.tv_usec <= 1, "timeval: 1 us");
	tv = timeval_from_secs(-3);
	ok(tv.tv_sec == 0 && tv.tv_usec == 0, "timeval: negative is 0");
	tv = timeval_from_secs(86400.25);
	ok(tv.tv_sec == 86400 && tv.tv_usec == 250000, "timeval: a day");
}

int
main(void)
{
	struct event_base *base;

	log_set_level(LOG_LEVEL_ERROR);
	if ((base = event_base_new()) == NULL) {
		printf("Bail out! event_base_new\n");
		return 1;
	}
	deadline_init(base, fake_clock, on_due);
	test_early_fire(base);
	test_disarm_and_past(base);
	test_timeval();
	event_base_free(base);
	return tap_done();
}
