/*
 * The keys of each section: their names, the supervisord spellings taken as
 * aliases, and the setting each one stands for.
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "config-load.h"

static const struct key_def key_defs[] = {
	{ "socket", KEY_SOCKET, SECTION_MAIN, false },
	{ "socket_mode", KEY_SOCKET_MODE, SECTION_MAIN, false },
	{ "socket_group", KEY_SOCKET_GROUP, SECTION_MAIN, false },
	{ "pidfile", KEY_PIDFILE, SECTION_MAIN, false },
	{ "log_level", KEY_LOG_LEVEL, SECTION_MAIN, false },
	{ "log", KEY_LOG, SECTION_MAIN, false },
	{ "shutdown_timeout", KEY_SHUTDOWN_TIMEOUT, SECTION_MAIN, false },
	{ "on_sighup", KEY_ON_SIGHUP, SECTION_MAIN, false },
	{ "on_sigquit", KEY_ON_SIGQUIT, SECTION_MAIN, false },
	{ "on_host_shutdown", KEY_ON_HOST_SHUTDOWN, SECTION_MAIN, false },
	{ "on_logoff", KEY_ON_LOGOFF, SECTION_MAIN, false },
	{ "on_close", KEY_ON_CLOSE, SECTION_MAIN, false },
	{ "include", KEY_INCLUDE, SECTION_MAIN, false },
	{ "exit_on_fatal", KEY_EXIT_ON_FATAL, SECTION_MAIN, false },
	{ "cgroups", KEY_CGROUPS, SECTION_MAIN, false },

	{ "command", KEY_COMMAND, SECTION_PROGRAM, false },
	{ "directory", KEY_DIRECTORY, SECTION_PROGRAM, false },
	{ "user", KEY_USER, SECTION_PROGRAM, false },
	{ "group", KEY_GROUP, SECTION_PROGRAM, false },
	{ "environment", KEY_ENVIRONMENT, SECTION_PROGRAM, false },
	{ "umask", KEY_UMASK, SECTION_PROGRAM, false },
	{ "autostart", KEY_AUTOSTART, SECTION_PROGRAM, false },
	{ "autorestart", KEY_AUTORESTART, SECTION_PROGRAM, false },
	{ "exitcodes", KEY_EXITCODES, SECTION_PROGRAM, false },
	{ "start_secs", KEY_START_SECS, SECTION_PROGRAM, false },
	{ "start_retries", KEY_START_RETRIES, SECTION_PROGRAM, false },
	{ "priority", KEY_PRIORITY, SECTION_PROGRAM, false },
	{ "depends_on", KEY_DEPENDS_ON, SECTION_PROGRAM, false },
	{ "stop_signal", KEY_STOP_SIGNAL, SECTION_PROGRAM, false },
	{ "stop_timeout", KEY_STOP_TIMEOUT, SECTION_PROGRAM, false },
	{ "kill_signal", KEY_KILL_SIGNAL, SECTION_PROGRAM, false },
	{ "stop_group", KEY_STOP_GROUP, SECTION_PROGRAM, false },
	{ "stop_command", KEY_STOP_COMMAND, SECTION_PROGRAM, false },
	{ "stdout", KEY_STDOUT, SECTION_PROGRAM, false },
	{ "stderr", KEY_STDERR, SECTION_PROGRAM, false },
	{ "stdout_max_bytes", KEY_STDOUT_MAX_BYTES, SECTION_PROGRAM, false },
	{ "stderr_max_bytes", KEY_STDERR_MAX_BYTES, SECTION_PROGRAM, false },
	{ "stdout_backups", KEY_STDOUT_BACKUPS, SECTION_PROGRAM, false },
	{ "stderr_backups", KEY_STDERR_BACKUPS, SECTION_PROGRAM, false },
	{ "stop_method", KEY_STOP_METHOD, SECTION_PROGRAM, false },

	/* supervisord spellings, so a pasted [program:x] section works */
	{ "startsecs", KEY_START_SECS, SECTION_PROGRAM, false },
	{ "startretries", KEY_START_RETRIES, SECTION_PROGRAM, false },
	{ "stopsignal", KEY_STOP_SIGNAL, SECTION_PROGRAM, false },
	{ "stopwaitsecs", KEY_STOP_TIMEOUT, SECTION_PROGRAM, false },
	{ "stopasgroup", KEY_STOP_GROUP, SECTION_PROGRAM, false },
	{ "killasgroup", KEY_STOP_GROUP, SECTION_PROGRAM, false },
	{ "stdout_logfile", KEY_STDOUT, SECTION_PROGRAM, true },
	{ "stderr_logfile", KEY_STDERR, SECTION_PROGRAM, true },
	{ "stdout_logfile_maxbytes", KEY_STDOUT_MAX_BYTES, SECTION_PROGRAM, false },
	{ "stderr_logfile_maxbytes", KEY_STDERR_MAX_BYTES, SECTION_PROGRAM, false },
	{ "stdout_logfile_backups", KEY_STDOUT_BACKUPS, SECTION_PROGRAM, false },
	{ "stderr_logfile_backups", KEY_STDERR_BACKUPS, SECTION_PROGRAM, false },
	{ "redirect_stderr", KEY_REDIRECT_STDERR, SECTION_PROGRAM, false },
	{ "process_name", KEY_PROCESS_NAME, SECTION_PROGRAM, false },
	{ "numprocs", KEY_NUMPROCS, SECTION_PROGRAM, false },
};

/* supervisord [program:x] keys that have no meaning here. */
static const char *const supervisord_unsupported[] = {
	"numprocs_start",
	"stdout_capture_maxbytes",
	"stdout_events_enabled",
	"stdout_syslog",
	"stderr_capture_maxbytes",
	"stderr_events_enabled",
	"stderr_syslog",
	"serverurl",
};

/* The canonical name of each setting, for the fingerprint. */
const char *const key_canonical[] = {
	[KEY_SOCKET] = "socket",
	[KEY_SOCKET_MODE] = "socket_mode",
	[KEY_SOCKET_GROUP] = "socket_group",
	[KEY_PIDFILE] = "pidfile",
	[KEY_LOG_LEVEL] = "log_level",
	[KEY_LOG] = "log",
	[KEY_SHUTDOWN_TIMEOUT] = "shutdown_timeout",
	[KEY_ON_SIGHUP] = "on_sighup",
	[KEY_ON_SIGQUIT] = "on_sigquit",
	[KEY_ON_HOST_SHUTDOWN] = "on_host_shutdown",
	[KEY_ON_LOGOFF] = "on_logoff",
	[KEY_ON_CLOSE] = "on_close",
	[KEY_INCLUDE] = "include",
	[KEY_EXIT_ON_FATAL] = "exit_on_fatal",
	[KEY_CGROUPS] = "cgroups",
	[KEY_COMMAND] = "command",
	[KEY_DIRECTORY] = "directory",
	[KEY_USER] = "user",
	[KEY_GROUP] = "group",
	[KEY_ENVIRONMENT] = "environment",
	[KEY_UMASK] = "umask",
	[KEY_AUTOSTART] = "autostart",
	[KEY_AUTORESTART] = "autorestart",
	[KEY_EXITCODES] = "exitcodes",
	[KEY_START_SECS] = "start_secs",
	[KEY_START_RETRIES] = "start_retries",
	[KEY_PRIORITY] = "priority",
	[KEY_DEPENDS_ON] = "depends_on",
	[KEY_STOP_SIGNAL] = "stop_signal",
	[KEY_STOP_TIMEOUT] = "stop_timeout",
	[KEY_KILL_SIGNAL] = "kill_signal",
	[KEY_STOP_GROUP] = "stop_group",
	[KEY_STOP_COMMAND] = "stop_command",
	[KEY_STDOUT] = "stdout",
	[KEY_STDERR] = "stderr",
	[KEY_STDOUT_MAX_BYTES] = "stdout_max_bytes",
	[KEY_STDERR_MAX_BYTES] = "stderr_max_bytes",
	[KEY_STDOUT_BACKUPS] = "stdout_backups",
	[KEY_STDERR_BACKUPS] = "stderr_backups",
	[KEY_STOP_METHOD] = "stop_method",
	[KEY_REDIRECT_STDERR] = "redirect_stderr",
	[KEY_PROCESS_NAME] = "process_name",
	[KEY_NUMPROCS] = "numprocs",
};

/* The definition of a key in a kind of section; keys ignore case, as in
 * supervisord (Python's configparser lower-cases them). */
const struct key_def *
key_lookup(const char *name, enum section_kind kind)
{
	size_t	i;

	for (i = 0; i < sizeof key_defs / sizeof key_defs[0]; i++) {
		if (key_defs[i].section == kind &&
		    strcasecmp(key_defs[i].name, name) == 0)
			return &key_defs[i];
	}
	return NULL;
}

/* Whether name is a supervisord program key that safeexitd cannot honour. */
bool
key_supervisord_unsupported(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof supervisord_unsupported /
	    sizeof supervisord_unsupported[0]; i++) {
		if (strcasecmp(supervisord_unsupported[i], name) == 0)
			return true;
	}
	return false;
}

/*
 * Whether two spellings of one setting may both appear: supervisord has
 * stopasgroup and killasgroup where safeexitd has only stop_group, so a
 * pasted section often sets both (they must then agree).
 */
bool
key_pair_allowed(const struct key_def *a, const struct key_def *b)
{
	if (a == b)
		return false;
	return (strcmp(a->name, "stopasgroup") == 0 &&
	    strcmp(b->name, "killasgroup") == 0) ||
	    (strcmp(a->name, "killasgroup") == 0 &&
	    strcmp(b->name, "stopasgroup") == 0);
}
