/*
 * safeexitd: options, start-up, the event loop, and the daemon's own exit.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <sys/socket.h>
#include <sys/un.h>
#endif
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "adopt.h"
#include "conf.h"
#include "control.h"
#include "http-conn.h"
#include "http-listen.h"
#include "keeper.h"
#include "depgraph.h"
#include "eventlistener.h"
#include "fcgi.h"
#include "lifecycle.h"
#include "log.h"
#include "logind.h"
#include "notify.h"
#include "output.h"
#include "platform.h"
#include "program.h"
#include "protocol.h"
#include "ready.h"
#include "reload.h"
#include "resources.h"
#include "safeopen.h"
#include "safeexitd.h"
#ifdef _WIN32
#include "service.h"
#endif
#include "shutdown.h"
#include "signals.h"
#include "startplan.h"
#include "supervisord.h"
#include "statefile.h"
#include "timeline.h"
#include "xmalloc.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.0.0"
#endif

static struct {
	struct event_base *base;
	struct config *cfg;
	char *config_path;
	char *socket_path;
	double started_at;
	bool shutting_down;
	double shutdown_at;		/* when the daemon's own shutdown began */
	int cli_level;			/* -l, which a reload does not override */
	bool foreground;
	bool host_stop;			/* programs stopped for a host shutdown */
	struct shutdown_run *run;	/* the daemon's own shutdown */
	struct shutdown_run *host_run;
	int exit_code;
	char **argv;			/* for a re-exec */
	char *state_path;
	char *keeper_path;
	struct control_options copts;
	struct stopped_waiter {
		void (*fn)(void *);
		void *arg;
	} *waiters;
	size_t n_waiters;
	/*
	 * What start-up set up from the config.  A reload cannot change it, so
	 * a reload compares against this, not against the config before it.
	 */
	struct {
		char *socket;
		unsigned socket_mode;
		char *socket_group;
		char *pidfile;
		bool pidfile_written;	/* removed at exit, then */
		dev_t pidfile_dev;	/* what was written: only that is removed */
		ino_t pidfile_ino;
		bool cgroups;
	} setup;
} d;

/* What the command line asked for. */
struct daemon_args {
	const char *socket;		/* -s */
	bool detach;			/* -d */
	bool check;			/* -n */
	int log_level;			/* -l, or -1 */
};

static void usage(FILE *f);
static void daemon_apply_log(const struct config *cfg, int cli_level, bool foreground);
static void daemon_write_pidfile(void);
static void daemon_check_syslog(void);
static void daemon_remove_pidfile(void);
static void daemon_remember_setup(void);
static void daemon_trim_memory(void);
static int daemon_parse_args(int argc, char **argv, struct daemon_args *a);
static void daemon_settle(const struct daemon_args *a);
static int daemon_setup_loop(void);
static bool daemon_start_programs(void);
static void daemon_cleanup(bool detached);
static void daemon_timeline(bool save);
static char *daemon_absolute(const char *path);
static void daemon_stopped_cb(struct shutdown_run *run, void *arg);
static void daemon_progress_cb(struct shutdown_run *run, void *arg);
static void daemon_swept_cb(void *arg);
static void daemon_fatal_cb(struct program *p, enum program_state old, void *arg);
static void daemon_host_shutdown(void);
static void daemon_host_resumed(void);
static void daemon_logoff(void);
static void daemon_host_stopped_cb(struct shutdown_run *run, void *arg);
static double daemon_max_stop_timeout(void);

static const struct option long_options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "socket", required_argument, NULL, 's' },
	{ "daemon", no_argument, NULL, 'd' },
	{ "check", no_argument, NULL, 'n' },
	{ "log-level", required_argument, NULL, 'l' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
#ifdef _WIN32
	{ "service", no_argument, NULL, 'S' },	/* service-win32.c */
#endif
	{ NULL, 0, NULL, 0 },
};

/* The command line summary, as safeexitd(8) gives it. */
static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: safeexitd [-c FILE] [-s PATH] [-d] [-n] [-l LEVEL] [-V] [-h]\n"
	    "  -c, --config FILE     config file (default: %s/safeexitd.ini)\n"
	    "  -s, --socket PATH     control endpoint; overrides the config\n"
	    "  -d, --daemon          detach into the background (default: stay in the foreground)\n"
	    "  -n, --check           validate the config, print problems, exit 0 (valid) or 1\n"
	    "  -l, --log-level LVL   debug | info | notice | warning | error\n"
	    "  -V, --version         print \"safeexitd VERSION\" and exit 0\n"
	    "  -h, --help            show this help\n", SYSCONFDIR);
#ifdef _WIN32
	fprintf(f,
	    "       safeexitd install-service [-c FILE] [--name NAME] [--user ACCOUNT]\n"
	    "       safeexitd remove-service [--name NAME]\n"
	    "  (a Windows service; the service control manager runs it with --service)\n");
#endif
}

/* The config in force. */
const struct config *
daemon_config(void)
{
	return d.cfg;
}

/* Seconds since the daemon started. */
double
daemon_uptime(void)
{
	return platform_now() - d.started_at;
}

/* Whether the daemon's own staged shutdown has begun. */
bool
daemon_shutting_down(void)
{
	return d.shutting_down;
}

/* Set the log level and target from the command line and the config. */
static void
daemon_apply_log(const struct config *cfg, int cli_level, bool foreground)
{
	const char *target = cfg->log;

	log_set_level(cli_level >= 0 ? (enum log_level)cli_level :
	    (enum log_level)cfg->log_level);
	if (target == NULL)
		target = foreground ? "stderr" : "syslog";
	if (strcmp(target, "stderr") == 0)
		log_set_target(LOG_TARGET_STDERR, NULL);
	else if (strcmp(target, "syslog") == 0)
		log_set_target(LOG_TARGET_SYSLOG, NULL);
	else if (strcmp(target, "journal") == 0) {
		const char *why = NULL;
		log_sink_fn sink = notify_journal_sink(&why);

		if (sink == NULL) {
			log_set_target(LOG_TARGET_STDERR, NULL);
			log_warnx("%s: log = journal writes to stderr", why);
		} else {
			log_set_sink(sink);
			log_set_target(LOG_TARGET_SINK, NULL);
		}
	}
	else if (log_set_target(LOG_TARGET_FILE, target) == -1)
		log_warnx("cannot open log file %s; logging to stderr",
		    log_target_error());
}

/*
 * In the background with log = syslog, nobody sees messages that syslog
 * cannot take: say so on the terminal while there is one.  syslog(3) keeps
 * trying to connect, so messages flow once a syslog daemon listens.
 */
static void
daemon_check_syslog(void)
{
#ifndef _WIN32	/* the event log is always there */
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int s, ok = 0, err = ENOENT, types[] = { SOCK_DGRAM, SOCK_STREAM };

	if (log_get_target() != LOG_TARGET_SYSLOG)
		return;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", _PATH_LOG);
	for (size_t i = 0; i < 2 && !ok; i++) {
		if ((s = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0)) == -1)
			continue;
		if (!(ok = connect(s, (struct sockaddr *)&sun, sizeof sun) == 0))
			err = errno;
		close(s);
	}
	if (!ok)
		fprintf(stderr, "safeexitd: warning: syslog is not reachable "
		    "(%s: %s): the daemon's messages are lost until a syslog "
		    "daemon listens there; set log = PATH in the config to keep "
		    "them in a file\n", _PATH_LOG, strerror(err));
#endif
}

/*
 * Write the pidfile.  /run may be shared: never through a link, a hard link
 * or another user's file, never blocking on a FIFO; anything but our own
 * regular file there is left alone, with the daemon running without one.
 */
static void
daemon_write_pidfile(void)
{
	char buf[32], err[512];
	struct stat st;
	int fd, len;

	if (d.cfg->pidfile == NULL)
		return;
	fd = safeopen(d.cfg->pidfile, O_WRONLY | O_CREAT | O_TRUNC, 0644,
	    SAFEOPEN_REG | SAFEOPEN_OWNED, &st, err, sizeof err);
	if (fd == -1) {
		log_warnx("cannot write pidfile %s", err);
		return;
	}
	len = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)len) != len)
		log_warn("cannot write pidfile %s", d.cfg->pidfile);
	close(fd);
	d.setup.pidfile_written = true;
	d.setup.pidfile_dev = st.st_dev;
	d.setup.pidfile_ino = st.st_ino;
}

/* Remove the pidfile at exit, unless something else took its place. */
static void
daemon_remove_pidfile(void)
{
	struct stat st;

	if (!d.setup.pidfile_written || lstat(d.setup.pidfile, &st) == -1)
		return;
	if (st.st_dev != d.setup.pidfile_dev || st.st_ino != d.setup.pidfile_ino) {
		log_warnx("pidfile %s was replaced; left alone", d.setup.pidfile);
		return;
	}
	unlink(d.setup.pidfile);
}

/*
 * Give back the memory a config load used and freed.  The allocator keeps
 * freed pages that are not at the top of the heap; a long-lived daemon
 * would carry them for as long as it runs.
 */
static void
daemon_trim_memory(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

/* Keep what start-up takes from the config, for reloads to compare with. */
static void
daemon_remember_setup(void)
{
	if (d.cfg->socket != NULL)
		d.setup.socket = xstrdup(d.cfg->socket);
	if (d.cfg->socket_group != NULL)
		d.setup.socket_group = xstrdup(d.cfg->socket_group);
	if (d.cfg->pidfile != NULL)
		d.setup.pidfile = xstrdup(d.cfg->pidfile);
	d.setup.socket_mode = d.cfg->socket_mode;
	d.setup.cgroups = d.cfg->cgroups;
}

/*
 * path made absolute against the current directory, which -d leaves for /:
 * a reload must still find a config given as a relative path.
 */
static char *
daemon_absolute(const char *path)
{
	char *cwd, *abs;

	if (path[0] == '/')
		return xstrdup(path);
	if ((cwd = getcwd(NULL, 0)) == NULL)
		return NULL;
	abs = xasprintf("%s/%s", cwd, path);
	free(cwd);
	return abs;
}

/* The longest grace period any program asks for. */
static double
daemon_max_stop_timeout(void)
{
	double max = 0;

	for (size_t i = 0; i < programs.n; i++)
		if (programs.v[i]->cfg->stop_timeout > max)
			max = programs.v[i]->cfg->stop_timeout;
	return max;
}

/* Stop everything in stages, then exit; every trigger comes here. */
void
daemon_shutdown(const char *why)
{
	struct proglist l = { 0 };

	if (d.shutting_down)
		return;
	d.shutting_down = true;
	d.shutdown_at = platform_now();
	log_notice("shutting down (%s)", why);
	notify_stopping();
	notify_extend_timeout(d.cfg->shutdown_timeout + 5);
	eventlistener_supervisor_state(false);
	lifecycle_set_exiting(true);
	statefile_set_shutdown(true);	/* a crash from now on resumes it */
	for (size_t i = 0; i < programs.n; i++)
		proglist_add(&l, programs.v[i]);
	d.run = shutdown_start(&l, STOP_SHUTDOWN, d.cfg->shutdown_timeout,
	    daemon_stopped_cb, daemon_progress_cb, NULL);
}

/* A second TERM or INT: kill_signal to all that is left, sweep included. */
void
daemon_escalate(void)
{
	if (d.run != NULL)
		shutdown_escalate(d.run);
	platform_sweep_kill_now();
}

/* Call fn(arg) once everything is stopped, just before the daemon exits. */
void
daemon_on_stopped(void (*fn)(void *), void *arg)
{
	d.waiters = xreallocarray(d.waiters, d.n_waiters + 1,
	    sizeof *d.waiters);
	d.waiters[d.n_waiters].fn = fn;
	d.waiters[d.n_waiters].arg = arg;
	d.n_waiters++;
}

/* Drop the waiters with arg: their client went away. */
void
daemon_forget_on_stopped(void *arg)
{
	for (size_t i = 0; i < d.n_waiters; i++)
		if (d.waiters[i].arg == arg)
			d.waiters[i].fn = NULL;
}

/* Progress of the daemon's own shutdown, for the service manager. */
static void
daemon_progress_cb(struct shutdown_run *run, void *arg)
{
	struct shutdown_progress pr;

	shutdown_get_progress(run, &pr);
	notify_status("Stopping: stage %d of %d, %d program%s left", pr.stage,
	    pr.stages, pr.left, pr.left == 1 ? "" : "s");
}

/* Every program is stopped: sweep what escaped their groups, then exit. */
static void
daemon_stopped_cb(struct shutdown_run *run, void *arg)
{
	double left = d.cfg->shutdown_timeout - (platform_now() - d.shutdown_at);
	double grace = daemon_max_stop_timeout();

	d.run = NULL;
	/*
	 * Escaped descendants get a program's grace, within what the budget has
	 * left; shutdown_timeout = 0 sets no budget, as for the staged stop.
	 */
	if (d.cfg->shutdown_timeout > 0 && grace > left)
		grace = left;
	/* Every program is stopped: their pipes need no keeper any more. */
	keeper_stop();
	platform_sweep(grace, daemon_swept_cb, NULL);
}

/* Nothing is left below the daemon: answer the waiting clients and leave. */
static void
daemon_swept_cb(void *arg)
{
	log_notice("every program stopped");
	for (size_t i = 0; i < d.n_waiters; i++)
		if (d.waiters[i].fn != NULL)
			d.waiters[i].fn(d.waiters[i].arg);
	d.n_waiters = 0;
	control_flush();
	event_base_loopexit(d.base, NULL);
}

/* Whether two values of a key differ; NULL is a key left unset. */
static bool
daemon_key_differs(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

/*
 * Load the config file again for a reload or reread (what names it in the
 * log): the new config, or NULL with errs filled in and logged.
 */
static struct config *
daemon_load_again(const char *what, struct config_errors *errs)
{
	struct config *newcfg = NULL;
	struct stat st;

	if (d.shutting_down) {
		errs->msgs = xcalloc(1, sizeof *errs->msgs);
		errs->msgs[0] = xstrdup("the daemon is shutting down");
		errs->n = 1;
		return NULL;
	}
	/*
	 * Opening a FIFO put in the config's place would wait for a writer,
	 * and the daemon with it.  (At start, a pipe is fine: -c <(...).)
	 */
	if (stat(d.config_path, &st) == 0 && !S_ISREG(st.st_mode) &&
	    !S_ISDIR(st.st_mode)) {
		errs->msgs = xcalloc(1, sizeof *errs->msgs);
		errs->msgs[0] = xasprintf("%s: not a regular file",
		    d.config_path);
		errs->n = 1;
	} else
		newcfg = config_load(d.config_path, errs);
	if (newcfg != NULL && resources_check(newcfg, errs) > 0) {
		config_free(newcfg);
		newcfg = NULL;
	}
	if (newcfg == NULL) {
		for (size_t i = 0; i < errs->n; i++)
			log_warnx("%s: %s", what, errs->msgs[i]);
		log_warnx("%s: the config has errors; nothing changed", what);
		return NULL;
	}
	for (size_t i = 0; i < newcfg->n_warnings; i++)
		log_warnx("%s: %s", what, newcfg->warnings[i]);
	return newcfg;
}

/* Re-read the config: all or nothing, then apply the differences. */
int
daemon_reload(struct json_object **result, struct config_errors *errs)
{
	struct json_object *res, *restart;
	struct config *newcfg;

	if ((newcfg = daemon_load_again("reload", errs)) == NULL)
		return -1;
	supervisord_detached(newcfg, !d.foreground, true);
	notify_reloading();
	res = json_object_new_object();
	restart = json_object_new_array();
	/*
	 * The socket and pidfile were set up at start; they change on a restart,
	 * and are reported by every reload until then.
	 */
	if (daemon_key_differs(d.setup.socket, newcfg->socket))
		json_object_array_add(restart, json_object_new_string("socket"));
	if (d.setup.socket_mode != newcfg->socket_mode)
		json_object_array_add(restart, json_object_new_string("socket_mode"));
	if (daemon_key_differs(d.setup.socket_group, newcfg->socket_group))
		json_object_array_add(restart, json_object_new_string("socket_group"));
	if (daemon_key_differs(d.setup.pidfile, newcfg->pidfile))
		json_object_array_add(restart, json_object_new_string("pidfile"));
	if (d.setup.cgroups != newcfg->cgroups)
		json_object_array_add(restart, json_object_new_string("cgroups"));
	for (size_t i = 0; i < json_object_array_length(restart); i++)
		log_notice("reload: %s changed; it takes effect when the daemon restarts",
		    json_object_get_string(json_object_array_get_idx(restart, i)));
	if (daemon_key_differs(d.cfg->log, newcfg->log) ||
	    d.cfg->log_level != newcfg->log_level)
		daemon_apply_log(newcfg, d.cli_level, d.foreground);
	reload_apply(newcfg, newcfg->shutdown_timeout, res);
	fcgi_sync();
	eventlistener_sync();
	json_object_object_add(res, "restart_needed", restart);
	config_free(d.cfg);
	d.cfg = newcfg;
	log_notice("reloaded %s", d.config_path);
	daemon_trim_memory();
	notify_ready();
	if (result != NULL)
		*result = res;
	else
		json_object_put(res);
	return 0;
}

/* Load the config file and say what a reload would change; change nothing. */
int
daemon_reread(struct json_object **result, struct config_errors *errs)
{
	struct config *newcfg;

	if ((newcfg = daemon_load_again("reread", errs)) == NULL)
		return -1;
	*result = json_object_new_object();
	reload_diff(newcfg, *result);
	config_free(newcfg);
	daemon_trim_memory();
	return 0;
}

int
daemon_reexec(void)
{
	if (d.shutting_down) {
		errno = EBUSY;
		return -1;
	}
	return adopt_reexec(d.argv, d.base, &d.copts);
}

/* exit_on_fatal: a program that gave up takes the daemon down with it. */
static void
daemon_fatal_cb(struct program *p, enum program_state old, void *arg)
{
	if (p->state != STATE_FATAL || !d.cfg->exit_on_fatal || d.shutting_down)
		return;
	log_error("%s is FATAL and exit_on_fatal is set", p->cfg->name);
	d.exit_code = 1;
	daemon_shutdown("exit_on_fatal");
}

/* logind: the host is going down: stop every program, then release the lock. */
static void
daemon_host_shutdown(void)
{
	struct proglist l = { 0 };

	if (d.cfg->on_host_shutdown == POLICY_IGNORE || d.shutting_down) {
		logind_release();
		return;
	}
	log_notice("host shutdown: stopping every program");
	d.host_stop = true;
	notify_extend_timeout(d.cfg->shutdown_timeout + 5);
	for (size_t i = 0; i < programs.n; i++)
		proglist_add(&l, programs.v[i]);
	d.host_run = shutdown_start(&l, STOP_SHUTDOWN, d.cfg->shutdown_timeout,
	    daemon_host_stopped_cb, NULL, NULL);
}

/* The programs are stopped for the host shutdown. */
static void
daemon_host_stopped_cb(struct shutdown_run *run, void *arg)
{
	d.host_run = NULL;
	log_notice("every program stopped for the host shutdown");
	logind_release();
}

/* logind: the shutdown was cancelled; start what autostarts again. */
static void
daemon_host_resumed(void)
{
	struct proglist l = { 0 };

	if (!d.host_stop || d.shutting_down)
		return;
	d.host_stop = false;
	log_notice("host shutdown cancelled: starting programs again");
	for (size_t i = 0; i < programs.n; i++)
		if (programs.v[i]->cfg->autostart)
			proglist_add(&l, programs.v[i]);
	startplan_start(l.v, l.n);
	proglist_free(&l);
}

/* logind: the daemon's session ends. */
static void
daemon_logoff(void)
{
	if (d.cfg->on_logoff == POLICY_IGNORE) {
		log_info("logoff ignored (policy)");
		return;
	}
	daemon_shutdown("logoff");
}

/*
 * A pipe collected from the pipe keeper: read on by the program's output,
 * which adoption opens for it (no write end comes with it: the program's
 * next process gets a new pipe).
 */
static void
daemon_reclaimed(const char *name, int stream, int read_fd)
{
	output_reclaim(name, stream, read_fd);
	adopt_handover(name, stream, -1, -1);
}

/*
 * Read the command line into a.  Returns -1 to go on, else the exit status
 * (2 for a usage error, 0 after --version or --help).
 */
static int
daemon_parse_args(int argc, char **argv, struct daemon_args *a)
{
	int ch;

	a->log_level = -1;
	while ((ch = getopt_long(argc, argv, "c:s:dnl:Vh", long_options, NULL)) != -1) {
		switch (ch) {
		case 'c':
			d.config_path = optarg;
			break;
		case 's':
			a->socket = optarg;
			break;
		case 'd':
			a->detach = true;
			break;
		case 'n':
			a->check = true;
			break;
		case 'l':
			if ((a->log_level = log_level_parse(optarg)) == -1) {
				fprintf(stderr, "safeexitd: unknown log level '%s'\n", optarg);
				usage(stderr);
				return 2;
			}
			break;
		case 'V':
			printf("safeexitd %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
#ifdef _WIN32
		case 'S':	/* the SCM runs us: service_command saw it */
			break;
#endif
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "safeexitd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	return -1;
}

/*
 * Take the log, the background and the control socket's path from the
 * config and the command line, before anything runs.
 */
static void
daemon_settle(const struct daemon_args *a)
{
	d.cli_level = a->log_level;
	d.foreground = !a->detach;
#ifdef _WIN32
	/* Under the SCM: in the background, with nothing to detach from. */
	if (service_active()) {
		d.foreground = false;
		log_init(service_name());
	}
#endif
	daemon_apply_log(d.cfg, a->log_level, d.foreground);
	for (size_t i = 0; i < d.cfg->n_warnings; i++)
		log_warnx("%s", d.cfg->warnings[i]);
	daemon_remember_setup();
	if (a->detach && (d.config_path = daemon_absolute(d.config_path)) == NULL)
		fatal("cannot find the config file's full path");
	if (a->detach)
		daemon_check_syslog();
	if (a->detach && platform_detach() == -1)
		fatalx("cannot run in the background");
	supervisord_detached(d.cfg, a->detach, false);
	d.started_at = platform_now();
	if (a->socket != NULL)
		d.socket_path = xstrdup(a->socket);
	else if (d.cfg->socket != NULL)
		d.socket_path = xstrdup(d.cfg->socket);
	else
		d.socket_path = protocol_default_socket();
	if (d.socket_path == NULL)
		fatalx("no control socket path");
}

/*
 * The event loop and everything on it, up to the control socket, the
 * pidfile and the service manager's links.  -1 when the socket cannot be
 * had (said already).
 */
static int
daemon_setup_loop(void)
{
	static const struct logind_callbacks logind_cb = {
		.host_shutdown = daemon_host_shutdown,
		.host_resumed = daemon_host_resumed,
		.logoff = daemon_logoff,
	};
	struct control_options *copts = &d.copts;

	if ((d.base = event_base_new()) == NULL ||
	    event_base_priority_init(d.base, LOOP_PRIORITIES) == -1)
		fatalx("cannot create the event loop");
	if (platform_init(d.base) == -1)
		fatalx("cannot set up process handling");
	if (signals_init(d.base) == -1)
		fatalx("cannot set up signal handling");
	lifecycle_init(&platform_lifecycle_ops);
	ready_init(d.base, d.socket_path);
	startplan_init();
	shutdown_init(d.base);
	reload_init(d.base);
	program_observe(daemon_fatal_cb, NULL);
	eventlistener_init(d.base, "supervisor");

	memset(copts, 0, sizeof *copts);
	copts->path = d.socket_path;
	copts->mode = d.cfg->socket_mode;
	copts->group = d.cfg->socket_group;
	copts->owner = d.cfg->socket_owner;
	if ((adopt_control_fd() >= 0 ?
	    control_init_fd(d.base, adopt_control_fd(), copts) :
	    control_init(d.base, copts)) == -1)
		return -1;
	http_init(d.base, &(struct http_options){ d.cfg->http_username,
	    d.cfg->http_password });
	if (d.cfg->http_port != NULL &&
	    http_listen(d.base, d.cfg->http_port) == -1)
		return -1;
	daemon_write_pidfile();
	if (supervisord_drop_user(d.cfg) == -1)
		return -1;
	notify_init(d.base);
	logind_init(d.base, &logind_cb);
	return 0;
}

/*
 * The last staged stop's timeline, next to the state file: saved at exit,
 * read back at start, so that the page shows the daemon's own last shutdown.
 */
static void
daemon_timeline(bool save)
{
	char *path = xasprintf("%s.timeline", d.socket_path);

	if (save)
		(void)timeline_save(path);
	else
		(void)timeline_load(path);
	free(path);
}

/*
 * The state file and the pipe keeper; then the program table, taking back
 * what still runs from before a crash or re-exec and starting the rest.
 * True when a staged shutdown was under way at a crash: it goes on.
 */
static bool
daemon_start_programs(void)
{
	struct proglist autostart = { 0 };
	bool resume_shutdown;

	d.state_path = xasprintf("%s.state", d.socket_path);
	d.keeper_path = xasprintf("%s.keeper", d.socket_path);
	statefile_init(d.base, d.state_path);
	daemon_timeline(false);
	adopt_init(d.base);
	/* After a crash, the pipes of programs still running wait in the keeper. */
	if (adopt_control_fd() < 0)
		keeper_reclaim(d.keeper_path, daemon_reclaimed);
	keeper_start(d.keeper_path);

	/* Only now that it is sure to run: it creates the daemon's cgroup. */
	platform_contain(d.cfg->cgroups, d.socket_path);
	/* The table takes the program configs over from the loaded config. */
	for (size_t i = 0; i < d.cfg->n_programs; i++) {
		program_add(d.cfg->programs[i]);
		d.cfg->programs[i] = NULL;
	}
	fcgi_sync();
	eventlistener_sync();
	/* After a crash or re-exec, programs carry on where they were. */
	resume_shutdown = adopt_programs(d.state_path);
	output_reclaim_done();
	if (adopt_control_fd() < 0)
		eventlistener_supervisor_state(true);
	for (size_t i = 0; i < programs.n; i++)
		if (programs.v[i]->cfg->autostart && !programs.v[i]->recovered)
			proglist_add(&autostart, programs.v[i]);
	startplan_start(autostart.v, autostart.n);
	proglist_free(&autostart);
	return resume_shutdown;
}

/* After the loop: let go of everything, in the reverse order of start-up. */
static void
daemon_cleanup(bool detached)
{
	adopt_fini();
	daemon_timeline(true);
	statefile_remove();
	statefile_fini();
	keeper_stop();
	free(d.state_path);
	free(d.keeper_path);
	logind_fini();
	notify_fini();
	http_listen_close();
	control_shutdown();
	daemon_remove_pidfile();
	while (programs.n > 0)
		program_remove(programs.v[programs.n - 1]);
	ready_fini();
	signals_fini();
	platform_fini();
	event_base_free(d.base);
	config_free(d.cfg);
	free(d.socket_path);
	free(d.waiters);
	free(d.setup.socket);
	free(d.setup.socket_group);
	free(d.setup.pidfile);
	if (detached)
		free(d.config_path);
}

/* Start up, run the loop until the shutdown is over, clean up. */
static int
daemon_main(int argc, char **argv)
{
	struct config_errors errs = { 0 };
	struct daemon_args a = { 0 };
	bool resume_shutdown;
	int r;

	log_init("safeexitd");
	d.argv = argv;
	d.config_path = SYSCONFDIR "/safeexitd.ini";
	if ((r = daemon_parse_args(argc, argv, &a)) != -1)
		return r;

	if ((d.cfg = config_load(d.config_path, &errs)) == NULL ||
	    resources_check(d.cfg, &errs) > 0) {
		config_free(d.cfg);
		d.cfg = NULL;
		for (size_t i = 0; i < errs.n; i++) {
#ifdef _WIN32
			/* A service has no stderr: the event log it is. */
			if (service_active())
				log_error("%s", errs.msgs[i]);
#endif
			fprintf(stderr, "%s\n", errs.msgs[i]);
		}
		config_errors_free(&errs);
		return 1;
	}
	config_errors_free(&errs);
	if (a.check) {
		for (size_t i = 0; i < d.cfg->n_warnings; i++)
			fprintf(stderr, "%s\n", d.cfg->warnings[i]);
		config_free(d.cfg);
		return 0;
	}

	/* A re-executed daemon is already where it should be: never detach again. */
	if (adopt_resume())
		a.detach = false;
#ifdef _WIN32
	if (service_active())
		a.detach = false;	/* the SCM runs it where it stays */
#endif
	if (supervisord_rlimits(d.cfg) == -1)
		return 1;
	daemon_settle(&a);
	if (daemon_setup_loop() == -1) {
		platform_detach_done(1);
		return 1;
	}
	resume_shutdown = daemon_start_programs();

	log_notice("ready: %zu program%s, control socket %s, pid %ld", programs.n,
	    programs.n == 1 ? "" : "s", d.socket_path, (long)getpid());
	daemon_trim_memory();
	/* The service manager hears READY=1 once the autostart programs are. */
	ready_when_settled(notify_ready);
	platform_detach_done(0);
	if (resume_shutdown)
		daemon_shutdown("resuming the shutdown a crash interrupted");

	event_base_dispatch(d.base);

	log_notice("exiting with status %d", d.exit_code);
	daemon_cleanup(a.detach);
	return d.exit_code;
}

/* The process's entry; on Windows the service commands come first. */
int
main(int argc, char **argv)
{
#ifdef _WIN32
	int status;

	if (service_command(argc, argv, daemon_main, &status))
		return status;
#endif
	return daemon_main(argc, argv);
}
