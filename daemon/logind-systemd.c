/*
 * Host shutdown and logoff from systemd-logind, over sd-bus on the system
 * bus.  The bus connection is driven by the event loop (one event on its fd
 * with its timeout) and every call is asynchronous, so nothing here blocks.
 *
 * At start the daemon takes a "delay" inhibitor lock for shutdown.  When
 * logind announces PrepareForShutdown(true), the daemon stops its programs
 * in stages and then calls logind_release(), which closes the lock and lets
 * the shutdown go on; PrepareForShutdown(false) (a cancelled shutdown) takes
 * the lock again.  When the daemon runs inside a login session, the end of
 * that session is a logoff.
 *
 * Signals are matched on the well-known name org.freedesktop.login1, but
 * sd-bus cannot check a well-known sender itself and any peer may send a
 * signal straight to us, so each one is checked against the name's current
 * owner, learned from the bus driver.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libsd.h"
#include "log.h"
#include "logind.h"
#include "safeexitd.h"

#define LOGIND_NAME		"org.freedesktop.login1"
#define LOGIND_PATH		"/org/freedesktop/login1"
#define LOGIND_MANAGER		"org.freedesktop.login1.Manager"
#define LOGIND_SESSION		"org.freedesktop.login1.Session"
#define DBUS_NAME		"org.freedesktop.DBus"
#define DBUS_PROPERTIES		"org.freedesktop.DBus.Properties"
/* Where sd-bus looks for the system bus when DBUS_SYSTEM_BUS_ADDRESS is unset. */
#define SYSTEM_BUS_SOCKET	"/run/dbus/system_bus_socket"

static struct {
	struct event_base *base;
	const struct logind_callbacks *cb;
	sd_bus *bus;
	struct event *ev;		/* the bus fd and its timeout */
	bool drop;			/* the bus failed: close it after processing */
	char *owner;			/* unique name owning org.freedesktop.login1 */
	int lock_fd;			/* the delay inhibitor lock, -1 when not held */
	sd_bus_slot *inhibit_call;	/* Inhibit in flight */
	bool preparing;			/* PrepareForShutdown(true) not yet undone */
	char *session;			/* object path of our session */
	char *session_id;		/* our session's id, for sd-login */
	sd_login_monitor *monitor;	/* session state files, see logind_monitor_start */
	struct event *monitor_ev;
	bool logged_off;
	bool absent_logged;
	bool delay_checked;		/* InhibitDelayMaxUSec asked for */
	unsigned forged;		/* signals refused for their sender */
} logind = { .lock_fd = -1 };

static void logind_absent(const char *why);
static uint64_t logind_now_usec(void);
static void logind_arm(void);
static void logind_bus_cb(evutil_socket_t fd, short what, void *arg);
static void logind_drop_bus(void);
static bool logind_from_logind(sd_bus_message *m);
static void logind_take_lock(void);
static void logind_close_lock(void);
static void logind_logoff(const char *why);
static bool logind_gone(const sd_bus_error *e);
static int logind_owner_cb(sd_bus_message *m, void *arg, sd_bus_error *err);
static int logind_owner_changed_cb(sd_bus_message *m, void *arg, sd_bus_error *err);
static int logind_inhibit_cb(sd_bus_message *m, void *arg, sd_bus_error *err);
static int logind_delay_max_cb(sd_bus_message *m, void *arg, sd_bus_error *err);
static int logind_prepare_cb(sd_bus_message *m, void *arg, sd_bus_error *err);
static int logind_session_cb(sd_bus_message *m, void *arg, sd_bus_error *err);
static int logind_session_watched_cb(sd_bus_message *m, void *arg, sd_bus_error *err);
static int logind_session_removed_cb(sd_bus_message *m, void *arg, sd_bus_error *err);
static int logind_properties_cb(sd_bus_message *m, void *arg, sd_bus_error *err);
static int logind_state_cb(sd_bus_message *m, void *arg, sd_bus_error *err);
static void logind_check_state(const char *state);
static void logind_monitor_start(void);
static void logind_monitor_cb(evutil_socket_t fd, short what, void *arg);

/* Say once that host events come only as signals, whatever the reason. */
static void
logind_absent(const char *why)
{
	if (logind.absent_logged)
		return;
	logind.absent_logged = true;
	log_debug("logind: %s", why);
	log_info("no logind: host shutdown and logoff arrive only as signals");
}

/* CLOCK_MONOTONIC in microseconds, the clock of sd_bus_get_timeout. */
static uint64_t
logind_now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Wait for what the bus wants next: readable, writable, or its timeout. */
static void
logind_arm(void)
{
	struct timeval tv, *tvp = NULL;
	uint64_t until, now;
	short what = 0;
	int fd, events;

	if (logind.bus == NULL)
		return;
	if ((fd = libsd.bus_get_fd(logind.bus)) < 0 ||
	    (events = libsd.bus_get_events(logind.bus)) < 0) {
		log_warnx("logind: the system bus connection is gone");
		logind_drop_bus();
		return;
	}
	if (events & POLLIN)
		what |= EV_READ;
	if (events & POLLOUT)
		what |= EV_WRITE;
	if (libsd.bus_get_timeout(logind.bus, &until) > 0 && until != UINT64_MAX) {
		now = logind_now_usec();
		until = until > now ? until - now : 0;
		tv.tv_sec = (time_t)(until / 1000000);
		tv.tv_usec = (suseconds_t)(until % 1000000);
		tvp = &tv;
	}
	event_del(logind.ev);
	event_assign(logind.ev, logind.base, fd, what, logind_bus_cb, NULL);
	if (event_add(logind.ev, tvp) == -1) {
		log_warnx("logind: cannot watch the system bus");
		logind_drop_bus();
	}
}

/* The bus is ready or its timeout ran out: process everything, then re-arm. */
static void
logind_bus_cb(evutil_socket_t fd, short what, void *arg)
{
	int r;

	while (logind.bus != NULL && !logind.drop) {
		if ((r = libsd.bus_process(logind.bus, NULL)) == 0)
			break;
		if (r < 0) {
			log_warnx("logind: lost the system bus: %s", strerror(-r));
			logind.drop = true;
		}
	}
	if (logind.drop)
		logind_drop_bus();
	else
		logind_arm();
}

/*
 * Close the bus connection (never from inside sd_bus_process).  A lock
 * already taken stays: it is a pipe to logind, not part of the connection.
 */
static void
logind_drop_bus(void)
{
	logind.drop = false;
	if (logind.inhibit_call != NULL)
		logind.inhibit_call = libsd.bus_slot_unref(logind.inhibit_call);
	if (logind.ev != NULL)
		event_free(logind.ev);
	logind.ev = NULL;
	if (logind.bus != NULL) {
		libsd.bus_close(logind.bus);
		logind.bus = libsd.bus_unref(logind.bus);
	}
	free(logind.owner);
	logind.owner = NULL;
}

/* Whether a signal comes from the process that owns logind's name. */
static bool
logind_from_logind(sd_bus_message *m)
{
	const char *sender = libsd.bus_message_get_sender(m);

	if (logind.owner != NULL && sender != NULL &&
	    strcmp(sender, logind.owner) == 0)
		return true;
	/* Said once at warning level, so a local peer cannot flood the log. */
	log_msg(logind.forged++ == 0 ? LOG_LEVEL_WARNING : LOG_LEVEL_DEBUG,
	    "logind: ignored %s from %s, which is not logind",
	    libsd.bus_message_get_member(m), sender != NULL ? sender : "nobody");
	return false;
}

/* Errors that mean nobody answers for logind on this bus. */
static bool
logind_gone(const sd_bus_error *e)
{
	return libsd.bus_error_has_name(e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
	    libsd.bus_error_has_name(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER);
}

/* Ask logind for a delay lock on shutdown, unless one is held or asked for. */
static void
logind_take_lock(void)
{
	int r;

	if (logind.bus == NULL || logind.lock_fd != -1 ||
	    logind.inhibit_call != NULL)
		return;
	r = libsd.bus_call_method_async(logind.bus, &logind.inhibit_call,
	    LOGIND_NAME, LOGIND_PATH, LOGIND_MANAGER, "Inhibit",
	    logind_inhibit_cb, NULL, "ssss", "shutdown", "safeexitd",
	    "Stopping managed programs in stages", "delay");
	if (r < 0)
		log_warnx("logind: cannot ask for the shutdown lock: %s",
		    strerror(-r));
}

/* Give the lock back (or stop asking for it). */
static void
logind_close_lock(void)
{
	if (logind.inhibit_call != NULL)
		logind.inhibit_call = libsd.bus_slot_unref(logind.inhibit_call);
	if (logind.lock_fd != -1) {
		close(logind.lock_fd);
		logind.lock_fd = -1;
		log_debug("logind: released the shutdown lock");
	}
}

/* Our session ends: tell the daemon, once. */
static void
logind_logoff(const char *why)
{
	if (logind.logged_off)
		return;
	logind.logged_off = true;
	log_info("logind: %s: logoff", why);
	logind.cb->logoff();
}

/* Reply to GetNameOwner: who logind is right now. */
static int
logind_owner_cb(sd_bus_message *m, void *arg, sd_bus_error *err)
{
	const char *owner;

	if (libsd.bus_message_is_method_error(m, NULL))
		return 0;	/* not running: Inhibit's reply says so */
	if (libsd.bus_message_read(m, "s", &owner) < 0)
		return 0;
	free(logind.owner);
	logind.owner = strdup(owner);
	return 0;
}

/* The bus driver says logind's name changed hands (a restart, or a start). */
static int
logind_owner_changed_cb(sd_bus_message *m, void *arg, sd_bus_error *err)
{
	const char *sender = libsd.bus_message_get_sender(m);
	const char *name, *old, *new;

	/* Only the bus driver can send as org.freedesktop.DBus. */
	if (sender == NULL || strcmp(sender, DBUS_NAME) != 0)
		return 0;
	if (libsd.bus_message_read(m, "sss", &name, &old, &new) < 0 ||
	    strcmp(name, LOGIND_NAME) != 0)
		return 0;
	free(logind.owner);
	logind.owner = *new != '\0' ? strdup(new) : NULL;
	log_debug("logind: %s is now owned by %s", LOGIND_NAME,
	    *new != '\0' ? new : "nobody");
	/* A logind that comes (back) without our lock gets asked again. */
	if (logind.owner != NULL && !logind.preparing)
		logind_take_lock();
	return 0;
}

/* Reply to Inhibit: keep our own copy of the lock's fd. */
static int
logind_inhibit_cb(sd_bus_message *m, void *arg, sd_bus_error *err)
{
	const sd_bus_error *e;
	int fd, r;

	logind.inhibit_call = libsd.bus_slot_unref(logind.inhibit_call);
	if ((e = libsd.bus_message_get_error(m)) != NULL) {
		if (logind_gone(e)) {
			logind_absent(e->message != NULL ? e->message : e->name);
			logind.drop = true;
		} else
			log_warnx("logind: cannot take the shutdown lock: %s",
			    e->message != NULL ? e->message : e->name);
		return 0;
	}
	if ((r = libsd.bus_message_read(m, "h", &fd)) < 0) {
		log_warnx("logind: bad reply to Inhibit: %s", strerror(-r));
		return 0;
	}
	/* The message owns fd and closes it when freed. */
	if ((logind.lock_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) == -1) {
		log_warn("logind: cannot keep the shutdown lock");
		return 0;
	}
	log_debug("logind: holding a delay lock for shutdown");
	if (logind.delay_checked)
		return 0;
	logind.delay_checked = true;
	/* How long logind waits for us bounds what a staged stop can do. */
	r = libsd.bus_call_method_async(logind.bus, NULL, LOGIND_NAME,
	    LOGIND_PATH, DBUS_PROPERTIES, "Get", logind_delay_max_cb, NULL,
	    "ss", LOGIND_MANAGER, "InhibitDelayMaxUSec");
	if (r < 0)
		log_debug("logind: cannot ask for InhibitDelayMaxUSec: %s",
		    strerror(-r));
	return 0;
}

/* Warn when logind would give up on the lock before shutdown_timeout. */
static int
logind_delay_max_cb(sd_bus_message *m, void *arg, sd_bus_error *err)
{
	const struct config *cfg = daemon_config();
	uint64_t usec;

	if (libsd.bus_message_is_method_error(m, NULL) ||
	    libsd.bus_message_read(m, "v", "t", &usec) < 0 || cfg == NULL)
		return 0;
	if ((double)usec / 1e6 < cfg->shutdown_timeout)
		log_notice("logind waits at most %g s for the programs to stop "
		    "on host shutdown (InhibitDelayMaxSec in logind.conf), less "
		    "than shutdown_timeout (%g s)", (double)usec / 1e6,
		    cfg->shutdown_timeout);
	return 0;
}

/* PrepareForShutdown(b): the host goes down (true) or changed its mind. */
static int
logind_prepare_cb(sd_bus_message *m, void *arg, sd_bus_error *err)
{
	int start;

	if (!logind_from_logind(m))
		return 0;
	if (libsd.bus_message_read(m, "b", &start) < 0) {
		log_warnx("logind: bad PrepareForShutdown signal");
		return 0;
	}
	if (start) {
		if (logind.preparing)
			return 0;
		logind.preparing = true;
		log_info("logind: the host is shutting down");
		logind.cb->host_shutdown();
	} else {
		if (!logind.preparing)
			return 0;
		logind.preparing = false;
		log_info("logind: the host shutdown was cancelled");
		logind_take_lock();
		logind.cb->host_resumed();
	}
	return 0;
}

/* Reply to GetSessionByPID: watch our session, or quietly do without. */
static int
logind_session_cb(sd_bus_message *m, void *arg, sd_bus_error *err)
{
	const sd_bus_error *e;
	const char *path;
	int r;

	if ((e = libsd.bus_message_get_error(m)) != NULL) {
		/* A system service, or a user manager's, has no session. */
		log_debug("logind: no session to watch for logoff (%s)", e->name);
		return 0;
	}
	if (libsd.bus_message_read(m, "o", &path) < 0 ||
	    (logind.session = strdup(path)) == NULL)
		return 0;
	r = libsd.bus_match_signal_async(logind.bus, NULL, LOGIND_NAME,
	    logind.session, DBUS_PROPERTIES, "PropertiesChanged",
	    logind_properties_cb, logind_session_watched_cb, NULL);
	if (r < 0)
		log_warnx("logind: cannot watch session %s: %s", logind.session,
		    strerror(-r));
	return 0;
}

/* The bus accepted the match on our session: logoff is watched from now on. */
static int
logind_session_watched_cb(sd_bus_message *m, void *arg, sd_bus_error *err)
{
	const sd_bus_error *e;

	if ((e = libsd.bus_message_get_error(m)) != NULL) {
		log_warnx("logind: cannot watch session %s: %s", logind.session,
		    e->message != NULL ? e->message : e->name);
		return 0;
	}
	log_debug("logind: watching session %s for logoff", logind.session);
	return 0;
}

/* SessionRemoved(id, path): logind forgot a session; ours means logoff. */
static int
logind_session_removed_cb(sd_bus_message *m, void *arg, sd_bus_error *err)
{
	const char *id, *path;

	if (logind.session == NULL || !logind_from_logind(m))
		return 0;
	if (libsd.bus_message_read(m, "so", &id, &path) < 0 ||
	    strcmp(path, logind.session) != 0)
		return 0;
	logind_logoff("the session was removed");
	return 0;
}

/* PropertiesChanged on our session: look at State, or ask for it. */
static int
logind_properties_cb(sd_bus_message *m, void *arg, sd_bus_error *err)
{
	const char *iface, *name, *state = NULL;
	char **invalidated = NULL;
	bool ask = false;
	int r;

	if (!logind_from_logind(m))
		return 0;
	if (libsd.bus_message_read(m, "s", &iface) < 0 ||
	    strcmp(iface, LOGIND_SESSION) != 0)
		return 0;
	if (libsd.bus_message_enter_container(m, 'a', "{sv}") <= 0)
		return 0;
	while ((r = libsd.bus_message_enter_container(m, 'e', "sv")) > 0) {
		if (libsd.bus_message_read(m, "s", &name) < 0)
			return 0;
		if (strcmp(name, "State") == 0)
			r = libsd.bus_message_read(m, "v", "s", &state);
		else
			r = libsd.bus_message_skip(m, "v");
		if (r < 0 || libsd.bus_message_exit_container(m) < 0)
			return 0;
	}
	if (r < 0 || libsd.bus_message_exit_container(m) < 0)
		return 0;
	if (libsd.bus_message_read_strv(m, &invalidated) >= 0 && invalidated != NULL) {
		for (char **s = invalidated; *s != NULL; s++) {
			if (strcmp(*s, "State") == 0)
				ask = true;
			free(*s);
		}
		free(invalidated);
	}
	if (state != NULL)
		logind_check_state(state);
	else if (ask)
		libsd.bus_call_method_async(logind.bus, NULL, LOGIND_NAME,
		    logind.session, DBUS_PROPERTIES, "Get", logind_state_cb,
		    NULL, "ss", LOGIND_SESSION, "State");
	return 0;
}

/* Reply to Get(State) after the property was invalidated. */
static int
logind_state_cb(sd_bus_message *m, void *arg, sd_bus_error *err)
{
	const char *state;

	if (libsd.bus_message_is_method_error(m, NULL) ||
	    libsd.bus_message_read(m, "v", "s", &state) < 0)
		return 0;
	logind_check_state(state);
	return 0;
}

/* A session that is "closing" has been logged out of. */
static void
logind_check_state(const char *state)
{
	if (strcmp(state, "closing") == 0)
		logind_logoff("the session is closing");
}

/*
 * logind does not signal a change of a session's State on the bus, and
 * removes a session only once its last process (us, too) is gone.  It does
 * rewrite the session's file under /run/systemd/sessions on every change,
 * which sd-login lets us watch through inotify: that is how a real logoff
 * is seen.
 */
static void
logind_monitor_start(void)
{
	int fd, r;

	if ((r = libsd.pid_get_session(0, &logind.session_id)) < 0) {
		log_debug("logind: not in a login session: %s", strerror(-r));
		return;
	}
	if ((r = libsd.login_monitor_new("session", &logind.monitor)) < 0 ||
	    (fd = libsd.login_monitor_get_fd(logind.monitor)) < 0) {
		log_debug("logind: cannot watch session files: %s",
		    strerror(-(r < 0 ? r : fd)));
		logind.monitor = libsd.login_monitor_unref(logind.monitor);
		return;
	}
	logind.monitor_ev = event_new(logind.base, fd, EV_READ | EV_PERSIST,
	    logind_monitor_cb, NULL);
	if (logind.monitor_ev == NULL ||
	    event_add(logind.monitor_ev, NULL) == -1) {
		log_warnx("logind: cannot watch session files");
		return;
	}
	log_debug("logind: watching the state of session %s", logind.session_id);
}

/* A session file changed: is ours closing, or gone? */
static void
logind_monitor_cb(evutil_socket_t fd, short what, void *arg)
{
	char *state = NULL;
	int r;

	libsd.login_monitor_flush(logind.monitor);
	if ((r = libsd.session_get_state(logind.session_id, &state)) == -ENXIO ||
	    r == -ENOENT)
		logind_logoff("the session is gone");
	else if (r >= 0)
		logind_check_state(state);
	free(state);
}

/* Connect to the system bus, subscribe, and ask for the lock and our session. */
int
logind_init(struct event_base *base, const struct logind_callbacks *cb)
{
	static const char owner_match[] =
	    "type='signal',sender='" DBUS_NAME "',path='/org/freedesktop/DBus',"
	    "interface='" DBUS_NAME "',member='NameOwnerChanged',"
	    "arg0='" LOGIND_NAME "'";
	int r;

	logind.base = base;
	logind.cb = cb;
	/* No system bus, no logind: then libsystemd need not be loaded. */
	if (getenv("DBUS_SYSTEM_BUS_ADDRESS") == NULL &&
	    access(SYSTEM_BUS_SOCKET, F_OK) == -1) {
		logind_absent("no system bus");
		return -1;
	}
	if (!libsd_load()) {
		logind_absent(libsd_error());
		return -1;
	}
	if ((r = libsd.bus_open_system(&logind.bus)) < 0) {
		logind.bus = NULL;
		logind_absent("no system bus");
		return -1;
	}
	if ((logind.ev = event_new(base, -1, 0, logind_bus_cb, NULL)) == NULL) {
		logind_drop_bus();
		logind_absent("cannot watch the system bus");
		return -1;
	}
	/*
	 * The matches go first: the bus handles our messages in order, so
	 * once a reply to a later call arrives, they are in force.
	 */
	if ((r = libsd.bus_add_match_async(logind.bus, NULL, owner_match,
	    logind_owner_changed_cb, NULL, NULL)) < 0 ||
	    (r = libsd.bus_match_signal_async(logind.bus, NULL, LOGIND_NAME,
	    LOGIND_PATH, LOGIND_MANAGER, "PrepareForShutdown",
	    logind_prepare_cb, NULL, NULL)) < 0 ||
	    (r = libsd.bus_match_signal_async(logind.bus, NULL, LOGIND_NAME,
	    LOGIND_PATH, LOGIND_MANAGER, "SessionRemoved",
	    logind_session_removed_cb, NULL, NULL)) < 0 ||
	    (r = libsd.bus_call_method_async(logind.bus, NULL, DBUS_NAME,
	    "/org/freedesktop/DBus", DBUS_NAME, "GetNameOwner",
	    logind_owner_cb, NULL, "s", LOGIND_NAME)) < 0) {
		logind_drop_bus();
		logind_absent(strerror(-r));
		return -1;
	}
	logind_take_lock();
	r = libsd.bus_call_method_async(logind.bus, NULL, LOGIND_NAME, LOGIND_PATH,
	    LOGIND_MANAGER, "GetSessionByPID", logind_session_cb, NULL, "u",
	    (uint32_t)getpid());
	if (r < 0)
		log_debug("logind: cannot look up our session: %s", strerror(-r));
	logind_monitor_start();
	logind_arm();
	return 0;
}

/*
 * The staged stop for a host shutdown is over: close the lock so the
 * shutdown goes on.  While the daemon's own staged stop still runs, or
 * when the shutdown was cancelled meanwhile, the lock stays: in the first
 * case the daemon's exit closes it, in the second the next shutdown needs it.
 */
void
logind_release(void)
{
	if (!logind.preparing) {
		log_debug("logind: no host shutdown pending; keeping the lock");
		return;
	}
	if (daemon_shutting_down()) {
		log_debug("logind: keeping the lock until the daemon exits");
		return;
	}
	logind_close_lock();
}

/* Close the lock, the bus and the session watch. */
void
logind_fini(void)
{
	logind_close_lock();
	logind_drop_bus();
	if (logind.monitor_ev != NULL)
		event_free(logind.monitor_ev);
	logind.monitor_ev = NULL;
	if (logind.monitor != NULL)
		logind.monitor = libsd.login_monitor_unref(logind.monitor);
	free(logind.session);
	free(logind.session_id);
	logind.session = logind.session_id = NULL;
}
