/*
 * Telling systemd what the daemon does, over sd_notify: readiness, reloads,
 * status text, the daemon's own stop with a longer stop timeout, and the
 * watchdog keep-alive when the unit asks for one.  Nothing is sent when
 * NOTIFY_SOCKET is unset.  NOTIFY_SOCKET and WATCHDOG_* stay in the
 * environment so a re-executed daemon still finds them; spawn.c drops
 * NOTIFY_SOCKET from the programs, and WATCHDOG_PID names only us.
 */
#include <event2/event.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <syslog.h>

#include "libsd.h"
#include "log.h"
#include "notify.h"
#include "program.h"

static struct {
	bool enabled;			/* NOTIFY_SOCKET is set */
	bool failed;			/* a send failed; said once */
	struct event *watchdog;		/* WATCHDOG=1 at half the interval */
} notify = { 0 };

static void notify_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void notify_watchdog_cb(evutil_socket_t fd, short what, void *arg);
static void notify_clean_status(char *s);

/* Send one message (newline-separated assignments) to the service manager. */
static void
notify_send(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int r;

	if (!notify.enabled)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	/* Keep NOTIFY_SOCKET (unset_environment 0): a re-exec needs it. */
	if ((r = libsd.notify(0, buf)) < 0 && !notify.failed) {
		notify.failed = true;
		log_warnx("cannot notify the service manager: %s", strerror(-r));
	} else if (r >= 0)
		notify.failed = false;
}

/* A status line must stay one line: the protocol separates fields by newlines. */
static void
notify_clean_status(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
}

/* The watchdog timer: the loop still runs, so tell the manager we live. */
static void
notify_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	notify_send("WATCHDOG=1");
}

/* Find the notify socket and, when the unit has WatchdogSec=, start pinging. */
void
notify_init(struct event_base *base)
{
	const char *sock = getenv("NOTIFY_SOCKET");
	struct timeval tv;
	uint64_t usec = 0;
	int r;

	if (sock == NULL || *sock == '\0')
		return;
	if (!libsd_load()) {
		log_warnx("NOTIFY_SOCKET is set, but the service manager cannot "
		    "be told anything: %s", libsd_error());
		return;
	}
	notify.enabled = true;
	log_debug("service manager notifications go to %s", sock);

	/* WATCHDOG_PID, when set, must be ours: programs may inherit it. */
	if ((r = libsd.watchdog_enabled(0, &usec)) < 0) {
		log_warnx("ignoring a bad WATCHDOG_USEC or WATCHDOG_PID: %s",
		    strerror(-r));
		return;
	}
	if (r == 0 || usec == 0)
		return;
	/* Half the interval, as libsd.watchdog_enabled(3) advises. */
	usec /= 2;
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	if ((notify.watchdog = event_new(base, -1, EV_PERSIST,
	    notify_watchdog_cb, NULL)) == NULL ||
	    event_add(notify.watchdog, &tv) == -1) {
		log_warnx("cannot start the watchdog timer");
		return;
	}
	log_debug("watchdog: keep-alive every %.3f s", (double)usec / 1e6);
}

/* Stop the watchdog timer; the manager expects no more pings once we exit. */
void
notify_fini(void)
{
	if (notify.watchdog != NULL)
		event_free(notify.watchdog);
	notify.watchdog = NULL;
	notify.enabled = false;
}

/* Start-up or a reload is complete. */
void
notify_ready(void)
{
	notify_send("READY=1\nSTATUS=Supervising %zu program%s", programs.n,
	    programs.n == 1 ? "" : "s");
}

/* A reload begins; MONOTONIC_USEC lets Type=notify-reload match it up. */
void
notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	notify_send("RELOADING=1\nSTATUS=Reloading the configuration\n"
	    "MONOTONIC_USEC=%llu", (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL);
}

/* Free-form status text, as `systemctl status` shows it. */
void
notify_status(const char *fmt, ...)
{
	char text[512];
	va_list ap;

	if (!notify.enabled)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	notify_clean_status(text);
	notify_send("STATUS=%s", text);
}

/* The daemon's own staged stop begins; it exits when that is done. */
void
notify_stopping(void)
{
	notify_send("STOPPING=1\nSTATUS=Stopping every program");
}

/*
 * Ask for secs more before the manager's stop timeout kills us.  The manager
 * counts from when the message arrives, so one message with the whole
 * budget of the staged stop covers it.
 */
void
notify_extend_timeout(double secs)
{
	if (!(secs > 0))
		return;
	notify_send("EXTEND_TIMEOUT_USEC=%llu",
	    (unsigned long long)(secs * 1e6 + 0.5));
}

/* One message to the journal, at the syslog priority of its level. */
static void
notify_journal_write(enum log_level level, const char *msg)
{
	static const int prio[] = {
		[LOG_LEVEL_DEBUG] = LOG_DEBUG,
		[LOG_LEVEL_INFO] = LOG_INFO,
		[LOG_LEVEL_NOTICE] = LOG_NOTICE,
		[LOG_LEVEL_WARNING] = LOG_WARNING,
		[LOG_LEVEL_ERROR] = LOG_ERR,
	};

	libsd.journal_send("MESSAGE=%s", msg, "PRIORITY=%d", prio[level],
	    "SYSLOG_IDENTIFIER=safeexitd", NULL);
}

log_sink_fn
notify_journal_sink(const char **why)
{
	if (!libsd_load()) {
		*why = libsd_error();
		return NULL;
	}
	return notify_journal_write;
}
