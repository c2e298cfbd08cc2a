/*
 * Every config key, one row each: its name, the supervisord spellings taken
 * as aliases, its type, the field it fills, its default and its flags.  A
 * key of a plain type (config-types.c) needs nothing but its row; the few
 * that need code of their own name a type from config-build.c.  The man page
 * (safeexitd.ini(5)) documents each key; docs/HACKING.md says how to add one.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "config-load.h"

#define MAIN(field)	offsetof(struct config, field)
#define PROG(field)	offsetof(struct program_config, field)

static const struct config_words policy_reload = { "invalid value",
    (const struct config_word[]){
	{ "reload", POLICY_RELOAD, false },
	{ "shutdown", POLICY_SHUTDOWN, false },
	{ "ignore", POLICY_IGNORE, false },
	{ NULL, 0, false },
} };

static const struct config_words policy = { "invalid value",
    (const struct config_word[]){
	{ "shutdown", POLICY_SHUTDOWN, false },
	{ "ignore", POLICY_IGNORE, false },
	{ NULL, 0, false },
} };

static const struct config_words log_levels = { "unknown level",
    (const struct config_word[]){
	{ "debug", LOG_LEVEL_DEBUG, false },
	{ "info", LOG_LEVEL_INFO, false },
	{ "notice", LOG_LEVEL_NOTICE, false },
	{ "warning", LOG_LEVEL_WARNING, false },
	{ "error", LOG_LEVEL_ERROR, false },
	{ "warn", LOG_LEVEL_WARNING, true },
	{ NULL, 0, false },
} };

/* supervisord's loglevel words, onto safeexitd's levels. */
static const struct config_words sv_log_levels = { "unknown level",
    (const struct config_word[]){
	{ "critical", LOG_LEVEL_ERROR, false },
	{ "error", LOG_LEVEL_ERROR, false },
	{ "warn", LOG_LEVEL_WARNING, false },
	{ "info", LOG_LEVEL_INFO, false },
	{ "debug", LOG_LEVEL_DEBUG, false },
	{ "trace", LOG_LEVEL_DEBUG, false },
	{ "blather", LOG_LEVEL_DEBUG, false },
	{ "warning", LOG_LEVEL_WARNING, true },
	{ "notice", LOG_LEVEL_NOTICE, true },
	{ NULL, 0, false },
} };

static const struct config_words restart_policies = { "invalid value",
    (const struct config_word[]){
	{ "never", RESTART_NEVER, false },
	{ "on-failure", RESTART_ON_FAILURE, false },
	{ "always", RESTART_ALWAYS, false },
	/* supervisord's words */
	{ "false", RESTART_NEVER, true },
	{ "unexpected", RESTART_ON_FAILURE, true },
	{ "true", RESTART_ALWAYS, true },
	{ NULL, 0, false },
} };

static const struct config_words output_stamps = { "invalid value",
    (const struct config_word[]){
	{ "false", OUTPUT_STAMP_NONE, false },
	{ "true", OUTPUT_STAMP_ISO, false },
	{ "iso", OUTPUT_STAMP_ISO, false },
	{ "rfc3339", OUTPUT_STAMP_RFC3339, false },
	{ "no", OUTPUT_STAMP_NONE, true },
	{ "off", OUTPUT_STAMP_NONE, true },
	{ "0", OUTPUT_STAMP_NONE, true },
	{ "yes", OUTPUT_STAMP_ISO, true },
	{ "on", OUTPUT_STAMP_ISO, true },
	{ "1", OUTPUT_STAMP_ISO, true },
	{ NULL, 0, false },
} };

static const struct config_words stop_methods = { "invalid value",
    (const struct config_word[]){
	{ "auto", STOP_METHOD_AUTO, false },
	{ "ctrl_c", STOP_METHOD_CTRL_C, false },
	{ "ctrl_break", STOP_METHOD_CTRL_BREAK, false },
	{ "wm_close", STOP_METHOD_WM_CLOSE, false },
	{ "terminate", STOP_METHOD_TERMINATE, false },
	{ NULL, 0, false },
} };

#define M	CK_MAIN
#define P	(CK_PROGRAM | CK_RESTART | CK_KINDS)
#define SD	CK_SUPERVISORD
#define EL	(CK_PROGRAM | CK_RESTART | CK_KIND_LISTENER)
#define FC	(CK_PROGRAM | CK_RESTART | CK_KIND_FCGI)
#define SD_S	(CK_SUPERVISORD | CK_SHARED)

const struct config_key config_keys[] = {
	/* [safeexitd] */
	{ "socket", { NULL }, &config_type_string, MAIN(socket), 0,
	    MAIN(socket_line), NULL, NULL, M },
	{ "socket_mode", { NULL }, &config_type_mode, MAIN(socket_mode), 0, 0,
	    "0600", NULL, M },
	{ "socket_group", { NULL }, &config_type_string, MAIN(socket_group), 0,
	    0, NULL, NULL, M },
	{ "pidfile", { NULL }, &config_type_path, MAIN(pidfile), 0, 0, NULL,
	    NULL, M },
	{ "log_level", { NULL }, &config_type_words, MAIN(log_level), 0, 0,
	    "info", &log_levels, M },
	{ "log", { NULL }, &config_type_log, MAIN(log), 0, 0, NULL, NULL, M },
	{ "shutdown_timeout", { NULL }, &config_type_duration,
	    MAIN(shutdown_timeout), 0, 0, "90", NULL, M },
	{ "on_sighup", { NULL }, &config_type_words, MAIN(on_sighup), 0, 0,
	    "reload", &policy_reload, M },
	{ "on_sigquit", { NULL }, &config_type_words, MAIN(on_sigquit), 0, 0,
	    "shutdown", &policy, M },
	{ "on_host_shutdown", { NULL }, &config_type_words,
	    MAIN(on_host_shutdown), 0, 0, "shutdown", &policy, M },
	{ "on_logoff", { NULL }, &config_type_words, MAIN(on_logoff), 0, 0,
	    "shutdown", &policy, M },
	{ "on_close", { NULL }, &config_type_words, MAIN(on_close), 0, 0,
	    "shutdown", &policy, M },
	{ "include", { NULL }, &config_type_include, 0, 0, 0, NULL, NULL, M },
	{ "exit_on_fatal", { NULL }, &config_type_bool, MAIN(exit_on_fatal), 0,
	    0, "false", NULL, M },
	{ "cgroups", { NULL }, &config_type_cgroups, MAIN(cgroups), 0, 0,
	    "auto", NULL, M },

	/* [program:NAME] */
	{ "command", { NULL }, &config_type_command, PROG(command), PROG(argv),
	    0, NULL, NULL, P | CK_REQUIRED },
	{ "directory", { NULL }, &config_type_path, PROG(directory), 0,
	    PROG(directory_line), "/", NULL, P },
	{ "user", { NULL }, &config_type_string, PROG(user), 0, 0, NULL, NULL,
	    P },
	{ "group", { NULL }, &config_type_string, PROG(group), 0, 0, NULL,
	    NULL, P },
	{ "environment", { NULL }, &config_type_env, PROG(environment), 0, 0,
	    "", NULL, P },
	{ "umask", { NULL }, &config_type_mode, PROG(umask), 0,
	    PROG(umask_line), "022", NULL, P },
	{ "autostart", { NULL }, &config_type_bool, PROG(autostart), 0, 0,
	    "true", NULL, P },
	{ "autorestart", { NULL }, &config_type_words, PROG(autorestart), 0, 0,
	    "on-failure", &restart_policies, P },
	{ "exitcodes", { NULL }, &config_type_exitcodes, PROG(exitcodes), 0, 0,
	    "0", NULL, P },
	{ "start_secs", { "startsecs" }, &config_type_duration,
	    PROG(start_secs), 0, 0, "1", NULL, P },
	{ "start_retries", { "startretries" }, &config_type_count,
	    PROG(start_retries), 0, 0, "3", NULL, P },
	{ "priority", { NULL }, &config_type_int, PROG(priority), 0, 0, "999",
	    NULL, P },
	{ "depends_on", { NULL }, &config_type_depends, PROG(depends_on),
	    PROG(depends_exited), PROG(depends_line), "", NULL, P },
	{ "ready", { NULL }, &config_type_ready, PROG(ready), 0, 0, "running",
	    NULL, P },
	{ "ready_timeout", { NULL }, &config_type_duration, PROG(ready_timeout),
	    0, 0, "60", NULL, P },
	{ "ready_interval", { NULL }, &config_type_duration,
	    PROG(ready_interval), 0, 0, "0.5", NULL, P },
	{ "health", { NULL }, &config_type_health, PROG(health), 0, 0, NULL,
	    NULL, P },
	{ "health_interval", { NULL }, &config_type_duration,
	    PROG(health_interval), 0, 0, "10", NULL, P },
	{ "health_timeout", { NULL }, &config_type_duration,
	    PROG(health_timeout), 0, 0, "5", NULL, P },
	{ "health_retries", { NULL }, &config_type_count, PROG(health_retries),
	    0, 0, "3", NULL, P },
	{ "stop_signal", { "stopsignal" }, &config_type_signal,
	    PROG(stop_signal), 0, 0, "TERM", NULL, P },
	{ "stop_timeout", { "stopwaitsecs" }, &config_type_duration,
	    PROG(stop_timeout), 0, 0, "10", NULL, P },
	{ "kill_signal", { NULL }, &config_type_signal, PROG(kill_signal), 0, 0,
	    "KILL", NULL, P },
	{ "stop_group", { NULL }, &config_type_stop_group, PROG(stop_group), 0,
	    0, "true", NULL, P },
	{ "stop_command", { NULL }, &config_type_command, PROG(stop_command),
	    PROG(stop_argv), 0, NULL, NULL, P },
	{ "stdout", { "stdout_logfile" }, &config_type_output, PROG(out), 0, 0,
	    NULL, NULL, P | CK_RESOLVED },
	{ "stderr", { "stderr_logfile" }, &config_type_output, PROG(err), 0, 0,
	    "stdout", NULL, P | CK_RESOLVED },
	{ "stdout_max_bytes", { "stdout_logfile_maxbytes" }, &config_type_size,
	    PROG(out.max_bytes), 0, 0, "0", NULL, P },
	{ "stderr_max_bytes", { "stderr_logfile_maxbytes" }, &config_type_size,
	    PROG(err.max_bytes), 0, 0, "0", NULL, P },
	{ "stdout_backups", { "stdout_logfile_backups" }, &config_type_count,
	    PROG(out.backups), 0, 0, "5", NULL, P },
	{ "stderr_backups", { "stderr_logfile_backups" }, &config_type_count,
	    PROG(err.backups), 0, 0, "5", NULL, P },
	{ "stop_method", { NULL }, &config_type_words, PROG(stop_method), 0, 0,
	    "auto", &stop_methods, P | CK_WIN32 },

	/* program output: how each line is written (safeexitd.ini(5)) */
	{ "stdout_timestamps", { NULL }, &config_type_words,
	    PROG(out.timestamps), 0, 0, "false", &output_stamps, P },
	{ "stderr_timestamps", { NULL }, &config_type_words,
	    PROG(err.timestamps), 0, 0, "false", &output_stamps, P },
	{ "stdout_prefix", { NULL }, &config_type_bool, PROG(out.prefix), 0, 0,
	    "false", NULL, P },
	{ "stderr_prefix", { NULL }, &config_type_bool, PROG(err.prefix), 0, 0,
	    "false", NULL, P },
	{ "stdout_max_age", { NULL }, &config_type_age, PROG(out.max_age), 0,
	    0, NULL, NULL, P },
	{ "stderr_max_age", { NULL }, &config_type_age, PROG(err.max_age), 0,
	    0, NULL, NULL, P },
	/* Resource limits (config-limits.c): rlimits, then cgroup limits. */
	{ "limit_nofile", { NULL }, &config_type_rlimit, PROG(rlimits[PRL_NOFILE]),
	    LIMIT_COUNT, 0, NULL, NULL, P },
	{ "limit_nproc", { NULL }, &config_type_rlimit, PROG(rlimits[PRL_NPROC]),
	    LIMIT_COUNT, 0, NULL, NULL, P },
	{ "limit_core", { NULL }, &config_type_rlimit, PROG(rlimits[PRL_CORE]),
	    LIMIT_BYTES, 0, NULL, NULL, P },
	{ "limit_memlock", { NULL }, &config_type_rlimit,
	    PROG(rlimits[PRL_MEMLOCK]), LIMIT_BYTES, 0, NULL, NULL, P },
	{ "limit_as", { NULL }, &config_type_rlimit, PROG(rlimits[PRL_AS]),
	    LIMIT_BYTES, 0, NULL, NULL, P },
	{ "limit_cpu", { NULL }, &config_type_rlimit, PROG(rlimits[PRL_CPU]),
	    LIMIT_SECONDS, 0, NULL, NULL, P },
	{ "memory_max", { NULL }, &config_type_cglimit,
	    PROG(cglimits[PCG_MEMORY_MAX]), PCG_MEMORY_MAX, 0, NULL, NULL, P },
	{ "memory_high", { NULL }, &config_type_cglimit,
	    PROG(cglimits[PCG_MEMORY_HIGH]), PCG_MEMORY_HIGH, 0, NULL, NULL, P },
	{ "cpu_max", { NULL }, &config_type_cglimit, PROG(cglimits[PCG_CPU_MAX]),
	    PCG_CPU_MAX, 0, NULL, NULL, P },
	{ "pids_max", { NULL }, &config_type_cglimit,
	    PROG(cglimits[PCG_PIDS_MAX]), PCG_PIDS_MAX, 0, NULL, NULL, P },
	{ "io_weight", { NULL }, &config_type_cglimit,
	    PROG(cglimits[PCG_IO_WEIGHT]), PCG_IO_WEIGHT, 0, NULL, NULL, P },

	/* supervisord keys with no safeexitd spelling */
	{ "redirect_stderr", { NULL }, &config_type_redirect, 0, 0, 0, NULL,
	    NULL, P | CK_RESOLVED },
	{ "process_name", { NULL }, &config_type_process_name, 0, 0, 0, NULL,
	    NULL, P },
	{ "numprocs", { NULL }, &config_type_process_name, 0, 0, 0, NULL, NULL,
	    P },
	{ "numprocs_start", { NULL }, &config_type_process_name, 0, 0, 0, NULL,
	    NULL, P },
	{ "stopasgroup", { NULL }, &config_type_sv_group, 0, 0, 0, NULL, NULL,
	    P },
	{ "killasgroup", { NULL }, &config_type_sv_group, 0, 0, 0, NULL, NULL,
	    P },
	{ "stdout_syslog", { NULL }, &config_type_sv_syslog, 0, 0, 0, NULL,
	    NULL, P | CK_RESOLVED },
	{ "stderr_syslog", { NULL }, &config_type_sv_syslog, 0, 0, 0, NULL,
	    NULL, P | CK_RESOLVED },
	{ "stdout_events_enabled", { NULL }, &config_type_bool,
	    PROG(stdout_events), 0, 0, "false", NULL, P },
	{ "stderr_events_enabled", { NULL }, &config_type_bool,
	    PROG(stderr_events), 0, 0, "false", NULL, P },
	{ "stdout_capture_maxbytes", { NULL }, &config_type_size,
	    PROG(stdout_capture_maxbytes), 0, 0, "0", NULL, P },
	{ "stderr_capture_maxbytes", { NULL }, &config_type_size,
	    PROG(stderr_capture_maxbytes), 0, 0, "0", NULL, P },
	{ "serverurl", { NULL }, &config_type_string, PROG(serverurl), 0, 0,
	    NULL, NULL, P | CK_RESTART },

	/* supervisord's own sections */
	{ "logfile", { NULL }, &config_type_log, MAIN(log), 0, 0, NULL, NULL,
	    SD_S },
	{ "logfile_maxbytes", { NULL }, &config_type_notice, 0, 0, 0, "0", NULL,
	    SD },
	{ "logfile_backups", { NULL }, &config_type_accepted, 0, 0, 0, NULL,
	    NULL, SD },
	{ "loglevel", { NULL }, &config_type_words, MAIN(log_level), 0, 0,
	    NULL, &sv_log_levels, SD_S },
	{ "pidfile", { NULL }, &config_type_path, MAIN(pidfile), 0, 0, NULL,
	    NULL, SD_S },
	{ "nodaemon", { NULL }, &config_type_notice, 0, 0, 0, "true", NULL, SD },
	{ "silent", { NULL }, &config_type_notice, 0, 0, 0, "false", NULL, SD },
	{ "minfds", { NULL }, &config_type_count, MAIN(minfds), 0, 0, NULL,
	    NULL, SD },
	{ "minprocs", { NULL }, &config_type_count, MAIN(minprocs), 0, 0, NULL,
	    NULL, SD },
	{ "umask", { NULL }, &config_type_mode, MAIN(daemon_umask), 0,
	    MAIN(daemon_umask_line), NULL, NULL, SD },
	{ "directory", { NULL }, &config_type_path, MAIN(daemon_directory), 0,
	    0, NULL, NULL, SD },
	{ "user", { NULL }, &config_type_string, MAIN(daemon_user), 0,
	    MAIN(daemon_user_line), NULL, NULL, SD },
	{ "identifier", { NULL }, &config_type_string, MAIN(identifier), 0, 0,
	    "supervisor", NULL, SD },
	{ "childlogdir", { NULL }, &config_type_path, MAIN(childlogdir), 0, 0,
	    NULL, NULL, SD },
	{ "nocleanup", { NULL }, &config_type_accepted, 0, 0, 0, NULL, NULL,
	    SD },
	{ "strip_ansi", { NULL }, &config_type_notice, 0, 0, 0, "false", NULL,
	    SD },
	{ "environment", { NULL }, &config_type_env, MAIN(environment), 0, 0,
	    "", NULL, SD },
	{ "file", { NULL }, &config_type_path, MAIN(socket), 0,
	    MAIN(socket_line), NULL, NULL, CK_UNIX_HTTP | CK_SHARED },
	{ "chmod", { NULL }, &config_type_mode, MAIN(socket_mode), 0, 0, NULL,
	    NULL, CK_UNIX_HTTP | CK_SHARED },
	{ "chown", { NULL }, &config_type_string, MAIN(socket_owner), 0, 0,
	    NULL, NULL, CK_UNIX_HTTP },
	{ "port", { NULL }, &config_type_string, MAIN(http_port), 0,
	    MAIN(http_port_line), NULL, NULL, CK_INET_HTTP },
	{ "username", { NULL }, &config_type_string, MAIN(http_username), 0, 0,
	    NULL, NULL, CK_INET_HTTP },
	{ "password", { NULL }, &config_type_string, MAIN(http_password), 0,
	    MAIN(http_password_line), NULL, NULL, CK_INET_HTTP },
	{ "username", { NULL }, &config_type_notice, 0, 0, 0, NULL, NULL,
	    CK_UNIX_HTTP },
	{ "password", { NULL }, &config_type_accepted, 0, 0, 0, NULL, NULL,
	    CK_UNIX_HTTP },
	{ "serverurl", { NULL }, &config_type_accepted, 0, 0, 0, NULL, NULL,
	    CK_SUPERVISORCTL },
	{ "username", { NULL }, &config_type_accepted, 0, 0, 0, NULL, NULL,
	    CK_SUPERVISORCTL },
	{ "password", { NULL }, &config_type_accepted, 0, 0, 0, NULL, NULL,
	    CK_SUPERVISORCTL },
	{ "prompt", { NULL }, &config_type_accepted, 0, 0, 0, NULL, NULL,
	    CK_SUPERVISORCTL },
	{ "history_file", { NULL }, &config_type_accepted, 0, 0, 0, NULL, NULL,
	    CK_SUPERVISORCTL },
	{ "files", { NULL }, &config_type_include, 0, 0, 0, NULL, NULL,
	    CK_INCLUDE },
	{ "programs", { NULL }, &config_type_accepted, 0, 0, 0, NULL, NULL,
	    CK_GROUP },
	{ "priority", { NULL }, &config_type_accepted, 0, 0, 0, NULL, NULL,
	    CK_GROUP },

	/* [eventlistener:NAME] and [fcgi-program:NAME] only */
	{ "events", { NULL }, &config_type_events, PROG(events), 0, 0, NULL,
	    NULL, EL | CK_REQUIRED },
	{ "buffer_size", { NULL }, &config_type_count, PROG(buffer_size), 0, 0,
	    "10", NULL, EL },
	{ "result_handler", { NULL }, &config_type_string,
	    PROG(result_handler), 0, 0, NULL, NULL, EL },
	{ "socket", { NULL }, &config_type_fcgi_socket, PROG(fcgi_socket), 0, 0,
	    NULL, NULL, FC | CK_REQUIRED },
	{ "socket_owner", { NULL }, &config_type_string,
	    PROG(fcgi_socket_owner), 0, 0, NULL, NULL, FC },
	{ "socket_mode", { NULL }, &config_type_mode, PROG(fcgi_socket_mode), 0,
	    0, "0700", NULL, FC },
	{ "socket_backlog", { NULL }, &config_type_int,
	    PROG(fcgi_socket_backlog), 0, 0, "0", NULL, FC },
};

const size_t config_n_keys = sizeof config_keys / sizeof config_keys[0];

/* Each kind of section: how its header starts, its title, its key flag. */
static const struct {
	const char		*header;	/* "program:" takes a name */
	enum section_kind	 kind;
	unsigned		 flag;
} section_kinds[] = {
	{ "safeexitd", SECTION_MAIN, CK_MAIN },
	{ "program:", SECTION_PROGRAM, CK_PROGRAM | CK_KIND_PROGRAM },
	{ "eventlistener:", SECTION_EVENTLISTENER,
	    CK_PROGRAM | CK_KIND_LISTENER },
	{ "fcgi-program:", SECTION_FCGI_PROGRAM, CK_PROGRAM | CK_KIND_FCGI },
	{ "group:", SECTION_GROUP, CK_GROUP },
	{ "supervisord", SECTION_SUPERVISORD, CK_SUPERVISORD },
	{ "unix_http_server", SECTION_UNIX_HTTP, CK_UNIX_HTTP },
	{ "inet_http_server", SECTION_INET_HTTP, CK_INET_HTTP },
	{ "supervisorctl", SECTION_SUPERVISORCTL, CK_SUPERVISORCTL },
	{ "rpcinterface:", SECTION_RPCINTERFACE, 0 },
	{ "include", SECTION_INCLUDE, CK_INCLUDE },
};
#define N_SECTION_KINDS	(sizeof section_kinds / sizeof section_kinds[0])

/*
 * The kind of section a header (without its brackets) names, with its name
 * (after the colon) in *name, NULL for a section without one; -1 when the
 * header is not one of ours.
 */
enum section_kind
config_section_kind(const char *header, const char **name)
{
	size_t	i, len;

	for (i = 0; i < N_SECTION_KINDS; i++) {
		len = strlen(section_kinds[i].header);
		if (section_kinds[i].header[len - 1] == ':') {
			if (strncmp(header, section_kinds[i].header, len) != 0)
				continue;
			*name = header + len;
		} else {
			if (strcmp(header, section_kinds[i].header) != 0)
				continue;
			*name = NULL;
		}
		return section_kinds[i].kind;
	}
	*name = NULL;
	return (enum section_kind)-1;
}

/* How a kind of section is written in messages: "program", "supervisord". */
const char *
config_section_title(enum section_kind kind)
{
	static char	titles[N_SECTION_KINDS][24];
	size_t		i, len;

	for (i = 0; i < N_SECTION_KINDS; i++) {
		if (section_kinds[i].kind != kind)
			continue;
		if (titles[i][0] == '\0') {
			len = strcspn(section_kinds[i].header, ":");
			memcpy(titles[i], section_kinds[i].header, len);
		}
		return titles[i];
	}
	return "?";
}

/* The CK_ flags a key must have to be one of a kind of section's. */
unsigned
config_section_flag(enum section_kind kind)
{
	size_t	i;

	for (i = 0; i < N_SECTION_KINDS; i++) {
		if (section_kinds[i].kind == kind)
			return section_kinds[i].flag;
	}
	return 0;
}

/*
 * Every spelling of every key by hash (open addressing, built on first
 * use): a file of 10,000 programs looks up some 100,000 keys.  A slot holds
 * the row's index + 1 and which spelling (0: the name, 1 and 2: aliases).
 */
#define KEY_INDEX_SIZE	1024
static struct {
	unsigned short	row;
	unsigned char	spelling;
} key_index[KEY_INDEX_SIZE];
static bool	key_index_built;
_Static_assert(sizeof config_keys / sizeof config_keys[0] * 3 <=
    KEY_INDEX_SIZE / 2, "key_index too small: make it bigger");

/* The spelling s of row k: its name or one of its aliases. */
static const char *
config_key_spelling(const struct config_key *k, unsigned s)
{
	return s == 0 ? k->name : k->alias[s - 1];
}

/* FNV-1a of a name, ignoring case. */
static size_t
config_key_hash(const char *name)
{
	uint32_t	h = 2166136261U;

	for (; *name != '\0'; name++) {
		h ^= (unsigned char)tolower((unsigned char)*name);
		h *= 16777619U;
	}
	return h & (KEY_INDEX_SIZE - 1);
}

/* Fill key_index with every spelling of every row. */
static void
config_key_index(void)
{
	size_t		i, h;
	unsigned	s;

	for (i = 0; i < config_n_keys; i++) {
		for (s = 0; s < 3; s++) {
			if (config_key_spelling(&config_keys[i], s) == NULL)
				break;
			h = config_key_hash(config_key_spelling(&config_keys[i],
			    s));
			while (key_index[h].row != 0)
				h = (h + 1) & (KEY_INDEX_SIZE - 1);
			key_index[h].row = (unsigned short)(i + 1);
			key_index[h].spelling = (unsigned char)s;
		}
	}
	key_index_built = true;
}

/*
 * The key called name in a kind of section, with the spelling it was found
 * by in *spelling; NULL when there is none.  Keys ignore case, as in
 * supervisord (Python's configparser lower-cases them).
 */
const struct config_key *
config_key_find(const char *name, enum section_kind kind,
    const char **spelling)
{
	const struct config_key	*k;
	const char		*sp;
	unsigned		 flag = config_section_flag(kind);
	size_t			 h;

	if (!key_index_built)
		config_key_index();
	for (h = config_key_hash(name); key_index[h].row != 0;
	    h = (h + 1) & (KEY_INDEX_SIZE - 1)) {
		k = &config_keys[key_index[h].row - 1];
		sp = config_key_spelling(k, key_index[h].spelling);
		if (flag != 0 && (k->flags & flag) == flag &&
		    strcasecmp(sp, name) == 0) {
			*spelling = sp;
			return k;
		}
	}
	return NULL;
}

/*
 * Whether two spellings of one key may both appear: supervisord has
 * stopasgroup and killasgroup where safeexitd has only stop_group, so a
 * pasted section often sets both (they must then agree).
 */
bool
config_key_pair_allowed(const struct config_key *k, const char *a,
    const char *b)
{
	return (k->flags & CK_ALIASES_BOTH) && a != b && a != k->name &&
	    b != k->name;
}

/* Set every default of the keys with flag (CK_MAIN or CK_PROGRAM) in obj. */
void
config_keys_defaults(void *obj, unsigned flag)
{
	struct config_build	 b = { .obj = obj };
	struct entry		 e = { 0 };
	size_t			 i;

	for (i = 0; i < config_n_keys; i++) {
		if (!(config_keys[i].flags & flag) ||
		    (config_keys[i].flags & CK_SHARED) ||
		    config_keys[i].def == NULL)
			continue;
		e.key = &config_keys[i];
		e.spelling = e.key->name;
		e.value = (char *)e.key->def;
		e.key->type->set(&b, e.key, &e);
	}
}

/* Give obj its own copy of every field of the keys with flag that holds
 * memory (after a struct copy of a template). */
void
config_keys_dup(void *obj, unsigned flag)
{
	size_t	i;

	for (i = 0; i < config_n_keys; i++) {
		if ((config_keys[i].flags & flag) &&
		    !(config_keys[i].flags & CK_SHARED) &&
		    config_keys[i].type->dup != NULL)
			config_keys[i].type->dup(&config_keys[i], obj);
	}
}

/* Free every field of the keys with flag that holds memory. */
void
config_keys_release(void *obj, unsigned flag)
{
	size_t	i;

	for (i = 0; i < config_n_keys; i++) {
		if ((config_keys[i].flags & flag) &&
		    !(config_keys[i].flags & CK_SHARED) &&
		    config_keys[i].type->release != NULL)
			config_keys[i].type->release(&config_keys[i], obj);
	}
}
