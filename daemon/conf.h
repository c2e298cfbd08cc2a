/*
 * The configuration: an INI file (plus included files) parsed with inih into
 * a validated, immutable struct config.  Loading either succeeds completely or
 * returns every problem found as "FILE:LINE: message"; a failed load never
 * touches what is running.  A reload parses a new config and diffs it against
 * the running one (see program_table_apply).
 */
#ifndef SAFEEXITD_CONF_H
#define SAFEEXITD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "check.h"
#include "parse.h"

#define CONFIG_NAME_MAX 64

enum restart_policy {
	RESTART_NEVER,
	RESTART_ON_FAILURE,
	RESTART_ALWAYS,
};

enum policy_action {
	POLICY_SHUTDOWN,
	POLICY_IGNORE,
	POLICY_RELOAD,		/* on_sighup only */
};

enum output_kind {
	OUTPUT_LOG,		/* the daemon's own log (default) */
	OUTPUT_FILE,
	OUTPUT_NULL,
	OUTPUT_SYSLOG,
	OUTPUT_INHERIT,		/* the daemon's own stdout / stderr */
	OUTPUT_STDOUT,		/* stderr only: same destination as stdout */
	OUTPUT_JOURNAL,		/* a journal stream of the program's own */
};

enum output_stamp {
	OUTPUT_STAMP_NONE,
	OUTPUT_STAMP_ISO,	/* local time, milliseconds, UTC offset */
	OUTPUT_STAMP_RFC3339,	/* UTC, microseconds, Z */
};

enum stop_method {		/* Windows only; accepted and ignored on POSIX */
	STOP_METHOD_AUTO,
	STOP_METHOD_CTRL_C,
	STOP_METHOD_CTRL_BREAK,
	STOP_METHOD_WM_CLOSE,
	STOP_METHOD_TERMINATE,
};

/* What kind of section a program comes from. */
enum program_kind {
	PROGRAM_KIND_PROGRAM,		/* [program:NAME] */
	PROGRAM_KIND_EVENTLISTENER,	/* [eventlistener:NAME] */
	PROGRAM_KIND_FCGI,		/* [fcgi-program:NAME] */
};

struct output_config {
	enum output_kind kind;
	char *path;		/* OUTPUT_FILE: absolute, resolved against directory */
	long long max_bytes;	/* 0: no rotation */
	int backups;
	int timestamps;		/* enum output_stamp */
	bool prefix;		/* "NAME stdout | " before each line */
	double max_age;		/* seconds; 0: no rotation by age */
};

/* The rlimits a program is started with (limit_* keys), in this order. */
enum program_rlimit {
	PRL_NOFILE,
	PRL_NPROC,
	PRL_CORE,
	PRL_MEMLOCK,
	PRL_AS,
	PRL_CPU,
	PRL_COUNT
};

/* The cgroup v2 limits of a program's cgroup, in this order. */
enum program_cglimit {
	PCG_MEMORY_MAX,		/* bytes */
	PCG_MEMORY_HIGH,	/* bytes */
	PCG_CPU_MAX,		/* percent of one CPU */
	PCG_PIDS_MAX,		/* processes */
	PCG_IO_WEIGHT,		/* 1 to 10000 */
	PCG_COUNT
};

/* "infinity" (rlimits) or "max" (cgroup limits). */
#define LIMIT_INFINITY	UINT64_MAX

struct rlimit_config {
	bool set;
	uint64_t soft, hard;	/* LIMIT_INFINITY: none */
};

struct cglimit_config {
	bool set;
	uint64_t value;		/* LIMIT_INFINITY: max */
	int line;		/* of its key, for messages */
};

/* A limit key's name ("limit_nofile", "memory_max"). */
const char *program_rlimit_key(enum program_rlimit r);
const char *program_cglimit_key(enum program_cglimit c);

struct program_config {
	char *name;		/* GROUP:PROCESS, or PROCESS when both agree */
	enum program_kind kind;
	char *process_name;	/* supervisord's process name */
	char *group_name;	/* supervisord's group: [group:G], or the section */
	char *serverurl;	/* SUPERVISOR_SERVER_URL; NULL or AUTO: the
				   daemon's own */
	char *file;		/* where the section starts, for messages */
	int line;

	char *command;		/* as written */
	strv_t argv;
	char *directory;	/* default "/" */
	char *user;		/* NULL: the daemon's */
	char *group;		/* NULL: the user's primary group */
	strv_t environment;	/* "KEY=value" added to the daemon's environment */
	unsigned umask;
	int umask_line;		/* 0: the default */
	int directory_line;	/* 0: the default */

	bool autostart;
	enum restart_policy autorestart;
	int *exitcodes;
	size_t n_exitcodes;
	double start_secs;
	int start_retries;
	int priority;
	strv_t depends_on;	/* names only, ":exited" taken off */
	strv_t depends_exited;	/* those of them written NAME:exited */
	int depends_line;	/* line of the depends_on key, for messages */

	/* Readiness and health (check.h). */
	struct check ready;	/* default running */
	double ready_timeout;
	double ready_interval;
	struct check health;	/* kind CHECK_NONE when unset */
	double health_interval;
	double health_timeout;
	int health_retries;

	int stop_signal;
	double stop_timeout;
	int kill_signal;
	bool stop_group;	/* the group is the program: waited for, killed */
	bool stop_main_only;	/* ...but the stop signal goes to the main
				   process only (supervisord's killasgroup
				   without stopasgroup) */
	char *stop_command;	/* as written; NULL when unset */
	strv_t stop_argv;
	enum stop_method stop_method;

	struct output_config out;	/* stdout */
	struct output_config err;	/* stderr */

	/* supervisord's event settings, kept for event listeners. */
	bool stdout_events;		/* stdout_events_enabled */
	bool stderr_events;		/* stderr_events_enabled */
	long long stdout_capture_maxbytes;
	long long stderr_capture_maxbytes;

	/* [eventlistener:NAME] (eventlistener.c): events is NULL elsewhere. */
	strv_t events;
	int buffer_size;
	char *result_handler;
	/* [fcgi-program:NAME] (fcgi.c): fcgi_socket is NULL elsewhere. */
	char *fcgi_socket;
	char *fcgi_socket_owner;
	unsigned fcgi_socket_mode;
	int fcgi_socket_backlog;
	struct rlimit_config rlimits[PRL_COUNT];
	struct cglimit_config cglimits[PCG_COUNT];

	/*
	 * Every key=value of the section, normalised and sorted: two programs
	 * with the same fingerprint have the same settings.  reload restarts a
	 * program exactly when its fingerprint changed.
	 */
	char *fingerprint;
};

struct config {
	char *file;		/* the main file as given */

	char *socket;		/* NULL: the default for this user */
	int socket_line;
	unsigned socket_mode;
	bool socket_mode_set;
	char *socket_group;
	char *pidfile;
	int log_level;		/* enum log_level */
	char *log;		/* "stderr", "syslog", "journal", a path; NULL: default */
	double shutdown_timeout;
	enum policy_action on_sighup;
	enum policy_action on_sigquit;
	enum policy_action on_host_shutdown;
	enum policy_action on_logoff;
	enum policy_action on_close;
	bool exit_on_fatal;
	bool cgroups;		/* auto (true): a cgroup per program where delegated */

	/* supervisord's [supervisord] and [unix_http_server] settings. */
	char *socket_owner;	/* chown: USER[:GROUP] of the socket */
	int minfds;		/* raise RLIMIT_NOFILE to this at start; 0: no */
	int minprocs;		/* raise RLIMIT_NPROC to this at start; 0: no */
	unsigned daemon_umask;	/* applied with -d, when set */
	int daemon_umask_line;	/* 0: unset */
	char *daemon_directory;	/* chdir with -d; NULL: unset */
	char *daemon_user;	/* drop to this user at start when root */
	int daemon_user_line;
	char *identifier;	/* in AUTO log names */
	char *childlogdir;	/* where AUTO logs go */
	/* [inet_http_server]: HOST:PORT, and who may use it over TCP. */
	char *http_port;	/* NULL: no TCP listener */
	int http_port_line;
	char *http_username;
	char *http_password;
	int http_password_line;
	strv_t environment;	/* for every program; a program's own wins */
	bool supervisord;	/* the config has a [supervisord] section */

	struct program_config **programs;	/* in file order */
	size_t n_programs;

	/* What the load accepted but the daemon says once it has loaded it:
	 * supervisord settings with no effect here, keys given twice
	 * ("FILE:LINE: message"). */
	char **warnings;
	size_t n_warnings;
};

/* The problems found by a load, each "FILE:LINE: message". */
struct config_errors {
	char **msgs;
	size_t n;
};

/*
 * Load and validate path and its includes.  Returns the config, or NULL when
 * anything is wrong; every problem found is appended to errs.
 */
struct config *config_load(const char *path, struct config_errors *errs);

/* Frees the config and every program config still in cfg->programs; a caller
 * that takes a program config sets its slot to NULL first. */
void config_free(struct config *cfg);
void program_config_free(struct program_config *pc);
void config_errors_free(struct config_errors *errs);

const struct program_config *config_find(const struct config *cfg, const char *name);

/* Whether pc waits for dependency name to have exited (NAME:exited). */
bool program_config_waits_exit(const struct program_config *pc,
    const char *name);

/* Whether code counts as success for this program. */
bool program_config_exit_ok(const struct program_config *pc, int code);

const char *restart_policy_name(enum restart_policy p);
const char *output_kind_name(enum output_kind k);

#endif
