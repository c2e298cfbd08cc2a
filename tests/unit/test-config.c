/*
 * Unit tests for the config loader: every key and default, the supervisord
 * spellings, includes, continuation lines, comments, the line length limit,
 * and every error message with its exact FILE:LINE.  Each test writes its
 * files into one private temporary folder, removed at the end.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "config-load.h"
#include "log.h"
#include "tap.h"

static char tmpdir[PATH_MAX];

static const char	*path_of(const char *);
static void		 write_file(const char *, const char *);
static struct config	*load(const char *, struct config_errors *);
static void		 expand(char *, size_t, const char *);
static bool		 msg_matches(const char *, const char *);
static void		 expect_errors(const char *, struct config_errors *,
			    const char *const *);
static void		 expect_valid(const char *, struct config *,
			    struct config_errors *);
static int		 remove_entry(const char *, const struct stat *, int,
			    struct FTW *);
static void		 test_defaults(void);
static void		 test_main_keys(void);
static void		 test_program_keys(void);
static void		 test_outputs(void);
static void		 test_aliases(void);
static void		 test_includes(void);
static void		 test_include_errors(void);
static void		 test_continuation(void);
static void		 test_comments(void);
static void		 add_line(char *, size_t, const char *, size_t);
static void		 test_long_lines(void);
static void		 test_errors_together(void);
static void		 test_value_errors(void);
static void		 test_supervisord_errors(void);
static void		 test_supervisord_sections(void);
static void		 test_expansions(void);
static void		 test_daemon_last_read(void);
static void		 test_depends(void);
static void		 test_fingerprint(void);
static void		 test_missing_file(void);
static void		 test_helpers(void);
static bool		 man_names(const char *, const char *);
static void		 test_key_table(void);
static enum section_kind row_section(const struct config_key *);
static void		 test_key_types(void);
static void		 test_template_copies(void);

/* The first kind of section a row of the key table belongs to. */
static enum section_kind
row_section(const struct config_key *k)
{
	static const enum section_kind kinds[] = {
		SECTION_MAIN, SECTION_PROGRAM, SECTION_EVENTLISTENER,
		SECTION_FCGI_PROGRAM, SECTION_GROUP, SECTION_SUPERVISORD,
		SECTION_UNIX_HTTP, SECTION_INET_HTTP, SECTION_SUPERVISORCTL,
		SECTION_INCLUDE,
	};
	size_t	i;
	unsigned f;

	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		f = config_section_flag(kinds[i]);
		if ((k->flags & f) == f)
			return kinds[i];
	}
	return SECTION_RPCINTERFACE;
}

/* The absolute path of name inside the test folder (a rotating buffer). */
static const char *
path_of(const char *name)
{
	static char	bufs[4][PATH_MAX * 2];
	static int	next;
	char		*b = bufs[next++ % 4];

	snprintf(b, sizeof bufs[0], "%s/%s", tmpdir, name);
	return b;
}

/* Write content to name in the test folder, creating its folders. */
static void
write_file(const char *name, const char *content)
{
	char	 path[PATH_MAX * 2], *slash;
	FILE	*fp;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	for (slash = strchr(path + strlen(tmpdir) + 1, '/'); slash != NULL;
	    slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(path, 0700) == -1 && errno != EEXIST) {
			perror(path);
			exit(99);
		}
		*slash = '/';
	}
	if ((fp = fopen(path, "we")) == NULL) {
		perror(path);
		exit(99);
	}
	fputs(content, fp);
	fclose(fp);
}

/* Load name from the test folder, starting with an empty error list. */
static struct config *
load(const char *name, struct config_errors *errs)
{
	errs->msgs = NULL;
	errs->n = 0;
	return config_load(path_of(name), errs);
}

/* The test folder, a slash, then want with each '@' replaced by the folder. */
static void
expand(char *buf, size_t size, const char *want)
{
	size_t	len;

	snprintf(buf, size, "%s/", tmpdir);
	for (; *want != '\0'; want++) {
		len = strlen(buf);
		if (*want == '@')
			snprintf(buf + len, size - len, "%s", tmpdir);
		else if (len + 1 < size) {
			buf[len] = *want;
			buf[len + 1] = '\0';
		}
	}
}

/* Whether msg is want, where one '*' in want stands for any text. */
static bool
msg_matches(const char *msg, const char *want)
{
	const char	*star = strchr(want, '*');
	size_t		 pre, post, len = strlen(msg);

	if (star == NULL)
		return strcmp(msg, want) == 0;
	pre = (size_t)(star - want);
	post = strlen(star + 1);
	return len >= pre + post && strncmp(msg, want, pre) == 0 &&
	    strcmp(msg + len - post, star + 1) == 0;
}

/* want expanded as by expand(), in a rotating static buffer. */
static const char *
expand_s(const char *want)
{
	static char	bufs[4][PATH_MAX * 3];
	static int	next;
	char		*b = bufs[next++ % 4];

	expand(b, sizeof bufs[0], want);
	return b;
}

/*
 * Check that loading failed with exactly the messages in want (NULL
 * terminated), in order.  Each is relative to the test folder, '@' stands
 * for the folder, and '*' for wording that lib/parse.c owns.
 */
static void
expect_errors(const char *what, struct config_errors *errs,
    const char *const *want)
{
	char	 full[PATH_MAX * 3];
	size_t	 i, n = 0;

	while (want[n] != NULL)
		n++;
	is_int(errs->n, n, "%s: %zu errors", what, n);
	for (i = 0; i < n && i < errs->n; i++) {
		expand(full, sizeof full, want[i]);
		if (!ok(msg_matches(errs->msgs[i], full), "%s: error %zu", what,
		    i + 1))
			printf("#   got  \"%s\"\n#   want \"%s\"\n", errs->msgs[i],
			    full);
	}
	for (; i < errs->n; i++)
		printf("#   extra: %s\n", errs->msgs[i]);
	config_errors_free(errs);
}

/* Check that a load succeeded without a message. */
static void
expect_valid(const char *what, struct config *cfg, struct config_errors *errs)
{
	size_t	i;

	ok(cfg != NULL, "%s: loads", what);
	is_int(errs->n, 0, "%s: no errors", what);
	for (i = 0; i < errs->n; i++)
		printf("#   %s\n", errs->msgs[i]);
	config_errors_free(errs);
}

/* nftw callback that removes whatever it is given. */
static int
remove_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* A program with only a command gets every documented default. */
static void
test_defaults(void)
{
	struct config_errors		 errs;
	struct config			*cfg;
	const struct program_config	*pc;

	write_file("defaults.ini", "[program:web]\ncommand = /bin/true\n");
	cfg = load("defaults.ini", &errs);
	expect_valid("defaults", cfg, &errs);
	if (cfg == NULL)
		return;
	is_str(cfg->file, path_of("defaults.ini"), "file is the path given");
	ok(cfg->socket == NULL, "socket: default");
	is_int(cfg->socket_line, 0, "socket_line: unset");
	is_int(cfg->socket_mode, 0600, "socket_mode: 0600");
	ok(!cfg->socket_mode_set, "socket_mode: not set");
	ok(cfg->socket_group == NULL, "socket_group: unset");
	ok(cfg->pidfile == NULL, "pidfile: unset");
	is_int(cfg->log_level, LOG_LEVEL_INFO, "log_level: info");
	ok(cfg->log == NULL, "log: default");
	ok(cfg->shutdown_timeout == 90, "shutdown_timeout: 90");
	is_int(cfg->on_sighup, POLICY_RELOAD, "on_sighup: reload");
	is_int(cfg->on_sigquit, POLICY_SHUTDOWN, "on_sigquit: shutdown");
	is_int(cfg->on_host_shutdown, POLICY_SHUTDOWN, "on_host_shutdown");
	is_int(cfg->on_logoff, POLICY_SHUTDOWN, "on_logoff: shutdown");
	is_int(cfg->on_close, POLICY_SHUTDOWN, "on_close: shutdown");
	ok(!cfg->exit_on_fatal, "exit_on_fatal: false");
	ok(cfg->cgroups, "cgroups: auto");
	is_int(cfg->n_programs, 1, "one program");

	pc = cfg->programs[0];
	is_str(pc->name, "web", "name");
	is_str(pc->file, path_of("defaults.ini"), "program file");
	is_int(pc->line, 1, "program line");
	is_str(pc->command, "/bin/true", "command as written");
	is_int(strv_length(pc->argv), 1, "argv: one word");
	is_str(pc->argv[0], "/bin/true", "argv[0]");
	is_str(pc->directory, "/", "directory: /");
	ok(pc->user == NULL, "user: the daemon's");
	ok(pc->group == NULL, "group: the user's");
	ok(pc->environment != NULL && pc->environment[0] == NULL,
	    "environment: empty");
	is_int(pc->umask, 022, "umask: 022");
	ok(pc->autostart, "autostart: true");
	is_int(pc->autorestart, RESTART_ON_FAILURE, "autorestart: on-failure");
	is_int(pc->n_exitcodes, 1, "exitcodes: one");
	is_int(pc->exitcodes[0], 0, "exitcodes: 0");
	ok(pc->start_secs == 1, "start_secs: 1");
	is_int(pc->start_retries, 3, "start_retries: 3");
	is_int(pc->priority, 999, "priority: 999");
	ok(pc->depends_on != NULL && pc->depends_on[0] == NULL,
	    "depends_on: empty");
	is_int(pc->stop_signal, SIGTERM, "stop_signal: TERM");
	ok(pc->stop_timeout == 10, "stop_timeout: 10");
	is_int(pc->kill_signal, SIGKILL, "kill_signal: KILL");
	ok(pc->stop_group, "stop_group: true");
	ok(pc->stop_command == NULL, "stop_command: unset");
	ok(pc->stop_argv == NULL, "stop_argv: unset");
	is_int(pc->stop_method, STOP_METHOD_AUTO, "stop_method: auto");
	is_int(pc->out.kind, OUTPUT_LOG, "stdout: the daemon's log");
	ok(pc->out.path == NULL, "stdout: no path");
	is_int(pc->out.max_bytes, 0, "stdout_max_bytes: 0");
	is_int(pc->out.backups, 5, "stdout_backups: 5");
	is_int(pc->err.kind, OUTPUT_STDOUT, "stderr: same as stdout");
	is_int(pc->err.max_bytes, 0, "stderr_max_bytes: 0");
	is_int(pc->err.backups, 5, "stderr_backups: 5");
	is_str(pc->fingerprint, "command=/bin/true", "fingerprint");
	config_free(cfg);
}

/* Every [safeexitd] key, and the socket_mode that follows socket_group. */
static void
test_main_keys(void)
{
	struct config_errors	 errs;
	struct config		*cfg;

	write_file("main.ini",
	    "[safeexitd]\n"
	    "socket = /run/test.sock\n"
	    "socket_mode = 0640\n"
	    "socket_group = wheel\n"
	    "pidfile = run/safeexitd.pid\n"
	    "log_level = debug\n"
	    "log = journal\n"
	    "shutdown_timeout = 2.5\n"
	    "on_sighup = shutdown\n"
	    "on_sigquit = ignore\n"
	    "on_host_shutdown = ignore\n"
	    "on_logoff = ignore\n"
	    "on_close = ignore\n"
	    "exit_on_fatal = yes\n"
	    "cgroups = off\n");
	cfg = load("main.ini", &errs);
	expect_valid("[safeexitd] keys", cfg, &errs);
	if (cfg != NULL) {
		is_str(cfg->socket, "/run/test.sock", "socket");
		is_int(cfg->socket_line, 2, "socket_line");
		is_int(cfg->socket_mode, 0640, "socket_mode");
		ok(cfg->socket_mode_set, "socket_mode_set");
		is_str(cfg->socket_group, "wheel", "socket_group");
		is_str(cfg->pidfile, path_of("run/safeexitd.pid"),
		    "pidfile: relative to the file's folder");
		is_int(cfg->log_level, LOG_LEVEL_DEBUG, "log_level");
		is_str(cfg->log, "journal", "log: journal");
		ok(cfg->shutdown_timeout == 2.5, "shutdown_timeout: 2.5");
		is_int(cfg->on_sighup, POLICY_SHUTDOWN, "on_sighup");
		is_int(cfg->on_sigquit, POLICY_IGNORE, "on_sigquit");
		is_int(cfg->on_host_shutdown, POLICY_IGNORE, "on_host_shutdown");
		is_int(cfg->on_logoff, POLICY_IGNORE, "on_logoff");
		is_int(cfg->on_close, POLICY_IGNORE, "on_close");
		ok(cfg->exit_on_fatal, "exit_on_fatal");
		ok(!cfg->cgroups, "cgroups: off");
		is_int(cfg->n_programs, 0, "no programs is fine");
	}
	config_free(cfg);

	write_file("main.ini",
	    "[safeexitd]\n"
	    "socket_group = wheel\n"
	    "log = stderr\n"
	    "on_sighup = ignore\n"
	    "on_sigquit = shutdown\n");
	cfg = load("main.ini", &errs);
	expect_valid("socket_group alone", cfg, &errs);
	if (cfg != NULL) {
		is_int(cfg->socket_mode, 0660, "socket_mode: 0660 with a group");
		ok(!cfg->socket_mode_set, "socket_mode: still not set");
		is_str(cfg->log, "stderr", "log: stderr");
		is_int(cfg->on_sighup, POLICY_IGNORE, "on_sighup: ignore");
		is_int(cfg->on_sigquit, POLICY_SHUTDOWN, "on_sigquit: shutdown");
	}
	config_free(cfg);

	write_file("main.ini", "[safeexitd]\nlog = syslog\n");
	cfg = load("main.ini", &errs);
	expect_valid("log = syslog", cfg, &errs);
	if (cfg != NULL)
		is_str(cfg->log, "syslog", "log: syslog");
	config_free(cfg);

	write_file("main.ini", "[safeexitd]\nlog = ./logs/../d.log\n"
	    "pidfile = /run/x.pid\n");
	cfg = load("main.ini", &errs);
	expect_valid("log = path", cfg, &errs);
	if (cfg != NULL) {
		is_str(cfg->log, path_of("logs/../d.log"), "log: a file path");
		is_str(cfg->pidfile, "/run/x.pid", "pidfile: absolute kept");
	}
	config_free(cfg);
}

/* Every [program:NAME] key with a value other than its default. */
static void
test_program_keys(void)
{
	struct config_errors		 errs;
	struct config			*cfg;
	const struct program_config	*pc;

	write_file("prog.ini",
	    "[program:b]\ncommand = b\n"
	    "[program:c]\ncommand = c\n"
	    "[program:a.1_x-y]\n"
	    "command = /usr/bin/env 'a b' \"c d\" e\\ f\n"
	    "directory = /srv\n"
	    "user = daemon\n"
	    "group = web\n"
	    "environment = A=1, B=\"x, y\"\n"
	    "umask = 077\n"
	    "autostart = false\n"
	    "autorestart = always\n"
	    "exitcodes = 0,2 3\n"
	    "start_secs = 0.5\n"
	    "start_retries = 7\n"
	    "priority = -5\n"
	    "depends_on = b, c b\n"
	    "stop_signal = INT\n"
	    "stop_timeout = 3\n"
	    "kill_signal = SIGQUIT\n"
	    "stop_group = no\n"
	    "stop_command = nginx -s quit\n"
	    "stdout = logs/out.log\n"
	    "stderr = /var/log/err.log\n"
	    "stdout_max_bytes = 10MB\n"
	    "stdout_backups = 2\n"
	    "stderr_max_bytes = 1024\n"
	    "stderr_backups = 0\n"
	    "stop_method = ctrl_break\n");
	cfg = load("prog.ini", &errs);
	expect_valid("program keys", cfg, &errs);
	if (cfg == NULL)
		return;
	is_int(cfg->n_programs, 3, "three programs");
	is_str(cfg->programs[0]->name, "b", "file order 1");
	is_str(cfg->programs[1]->name, "c", "file order 2");
	pc = config_find(cfg, "a.1_x-y");
	ok(pc == cfg->programs[2], "config_find");
	if (pc == NULL) {
		config_free(cfg);
		return;
	}
	is_int(pc->line, 5, "section line");
	is_int(strv_length(pc->argv), 4, "argv: 4 words");
	is_str(pc->argv[1], "a b", "argv: single quotes");
	is_str(pc->argv[2], "c d", "argv: double quotes");
	is_str(pc->argv[3], "e f", "argv: backslash");
	is_str(pc->directory, "/srv", "directory");
	is_str(pc->user, "daemon", "user");
	is_str(pc->group, "web", "group");
	is_int(strv_length(pc->environment), 2, "environment: two");
	is_str(pc->environment[0], "A=1", "environment A");
	is_str(pc->environment[1], "B=x, y", "environment B quoted");
	is_int(pc->umask, 077, "umask");
	ok(!pc->autostart, "autostart");
	is_int(pc->autorestart, RESTART_ALWAYS, "autorestart");
	is_int(pc->n_exitcodes, 3, "exitcodes: three");
	ok(program_config_exit_ok(pc, 0) && program_config_exit_ok(pc, 2) &&
	    program_config_exit_ok(pc, 3) && !program_config_exit_ok(pc, 1),
	    "exitcodes: 0 2 3");
	ok(pc->start_secs == 0.5, "start_secs");
	is_int(pc->start_retries, 7, "start_retries");
	is_int(pc->priority, -5, "priority: negative");
	is_int(strv_length(pc->depends_on), 2, "depends_on: once each");
	is_str(pc->depends_on[0], "b", "depends_on[0]");
	is_str(pc->depends_on[1], "c", "depends_on[1]");
	is_int(pc->depends_line, 18, "depends_line");
	is_int(pc->stop_signal, SIGINT, "stop_signal");
	ok(pc->stop_timeout == 3, "stop_timeout");
	is_int(pc->kill_signal, SIGQUIT, "kill_signal");
	ok(!pc->stop_group, "stop_group");
	is_str(pc->stop_command, "nginx -s quit", "stop_command");
	is_int(strv_length(pc->stop_argv), 3, "stop_argv");
	is_str(pc->stop_argv[2], "quit", "stop_argv[2]");
	is_int(pc->out.kind, OUTPUT_FILE, "stdout: file");
	is_str(pc->out.path, path_of("logs/out.log"),
	    "stdout: relative to the file's folder");
	is_int(pc->out.max_bytes, 10 * 1024 * 1024, "stdout_max_bytes");
	is_int(pc->out.backups, 2, "stdout_backups");
	is_int(pc->err.kind, OUTPUT_FILE, "stderr: file");
	is_str(pc->err.path, "/var/log/err.log", "stderr path");
	is_int(pc->err.max_bytes, 1024, "stderr_max_bytes");
	is_int(pc->err.backups, 0, "stderr_backups");
	is_int(pc->stop_method, STOP_METHOD_CTRL_BREAK, "stop_method");
	config_free(cfg);

	/* Keys ignore case and ':' separates like '=' (as in supervisord). */
	write_file("case.ini", "[program:x]\nCommand: /bin/true\n"
	    "AutoRestart = Never\nstop_method = TERMINATE\n"
	    "directory = srv/../x/./y\n");
	cfg = load("case.ini", &errs);
	expect_valid("key case and ':'", cfg, &errs);
	if (cfg != NULL) {
		is_str(cfg->programs[0]->command, "/bin/true", "Command:");
		is_int(cfg->programs[0]->autorestart, RESTART_NEVER, "Never");
		is_int(cfg->programs[0]->stop_method, STOP_METHOD_TERMINATE,
		    "stop_method: terminate");
		is_str(cfg->programs[0]->directory, path_of("srv/../x/y"),
		    "directory: relative to the file's folder");
	}
	config_free(cfg);
}

/* Every output destination word. */
static void
test_outputs(void)
{
	struct config_errors	 errs;
	struct config		*cfg;

	write_file("out.ini",
	    "[program:a]\ncommand = a\nstdout = null\nstderr = syslog\n"
	    "[program:b]\ncommand = b\nstdout = syslog\nstderr = null\n"
	    "[program:c]\ncommand = c\nstdout = inherit\nstderr = inherit\n"
	    "[program:d]\ncommand = d\nstdout = o.log\nstderr = stdout\n"
	    "[program:e]\ncommand = e\nstop_method = ctrl_c\n"
	    "[program:f]\ncommand = f\nstop_method = wm_close\n"
	    "[program:g]\ncommand = g\nstop_method = auto\n");
	cfg = load("out.ini", &errs);
	expect_valid("outputs", cfg, &errs);
	if (cfg == NULL)
		return;
	is_int(cfg->programs[0]->out.kind, OUTPUT_NULL, "stdout = null");
	is_int(cfg->programs[0]->err.kind, OUTPUT_SYSLOG, "stderr = syslog");
	is_int(cfg->programs[1]->out.kind, OUTPUT_SYSLOG, "stdout = syslog");
	is_int(cfg->programs[1]->err.kind, OUTPUT_NULL, "stderr = null");
	is_int(cfg->programs[2]->out.kind, OUTPUT_INHERIT, "stdout = inherit");
	is_int(cfg->programs[2]->err.kind, OUTPUT_INHERIT, "stderr = inherit");
	is_int(cfg->programs[3]->out.kind, OUTPUT_FILE, "stdout = file");
	is_int(cfg->programs[3]->err.kind, OUTPUT_STDOUT, "stderr = stdout");
	ok(cfg->programs[3]->err.path == NULL, "stderr = stdout: no path");
	is_int(cfg->programs[4]->stop_method, STOP_METHOD_CTRL_C, "ctrl_c");
	is_int(cfg->programs[5]->stop_method, STOP_METHOD_WM_CLOSE, "wm_close");
	is_int(cfg->programs[6]->stop_method, STOP_METHOD_AUTO, "auto");
	config_free(cfg);
}

/* A supervisord [program:x] section, pasted as is. */
static void
test_aliases(void)
{
	struct config_errors		 errs;
	struct config			*cfg;
	const struct program_config	*pc;

	write_file("sv.ini",
	    "[program:sv]\n"
	    "command=/usr/bin/app --port=8080\n"
	    "process_name=%(program_name)s\n"
	    "numprocs=1\n"
	    "autorestart=unexpected\n"
	    "startsecs=5\n"
	    "startretries=10\n"
	    "stopsignal=QUIT\n"
	    "stopwaitsecs=20\n"
	    "stopasgroup=false\n"
	    "killasgroup=false\n"
	    "stdout_logfile=app.log\n"
	    "stdout_logfile_maxbytes=1MB\n"
	    "stdout_logfile_backups=3\n"
	    "stderr_logfile=AUTO\n"
	    "stderr_logfile_maxbytes=2KB\n"
	    "stderr_logfile_backups=4\n"
	    "[program:t]\n"
	    "command=t\n"
	    "autorestart=true\n"
	    "stdout_logfile=NONE\n"
	    "redirect_stderr=true\n"
	    "stderr_logfile=/ignored.log\n"
	    "[program:u]\n"
	    "command=u\n"
	    "autorestart=false\n"
	    "stdout_logfile=AUTO\n"
	    "stderr_logfile=none\n"
	    "redirect_stderr=false\n"
	    "[program:v]\n"
	    "command=v\n"
	    "stdout_logfile=syslog\n"
	    "stderr_logfile=OFF\n");
	cfg = load("sv.ini", &errs);
	expect_valid("supervisord section", cfg, &errs);
	if (cfg == NULL)
		return;
	pc = cfg->programs[0];
	is_int(strv_length(pc->argv), 2, "command");
	is_int(pc->autorestart, RESTART_ON_FAILURE, "autorestart=unexpected");
	ok(pc->start_secs == 5, "startsecs");
	is_int(pc->start_retries, 10, "startretries");
	is_int(pc->stop_signal, SIGQUIT, "stopsignal");
	ok(pc->stop_timeout == 20, "stopwaitsecs");
	ok(!pc->stop_group, "stopasgroup = killasgroup = false");
	is_int(pc->out.kind, OUTPUT_FILE, "stdout_logfile: file");
	is_str(pc->out.path, path_of("app.log"), "stdout_logfile: path");
	is_int(pc->out.max_bytes, 1024 * 1024, "stdout_logfile_maxbytes");
	is_int(pc->out.backups, 3, "stdout_logfile_backups");
	is_int(pc->err.kind, OUTPUT_FILE, "stderr_logfile=AUTO: a file");
	ok(pc->err.path != NULL && strstr(pc->err.path, "/sv-stderr---"
	    "supervisor-") != NULL && strlen(strstr(pc->err.path,
	    "---supervisor-")) == 14 + 10,
	    "AUTO: named as supervisord's, in the temporary folder: %s",
	    pc->err.path);
	is_int(pc->err.max_bytes, 2048, "stderr_logfile_maxbytes");
	is_int(pc->err.backups, 4, "stderr_logfile_backups");

	pc = cfg->programs[1];
	is_int(pc->autorestart, RESTART_ALWAYS, "autorestart=true");
	is_int(pc->out.kind, OUTPUT_NULL, "stdout_logfile=NONE");
	is_int(pc->err.kind, OUTPUT_STDOUT,
	    "redirect_stderr wins over stderr_logfile, as in supervisord");
	ok(pc->err.path == NULL, "redirected stderr has no path");

	pc = cfg->programs[2];
	is_int(pc->autorestart, RESTART_NEVER, "autorestart=false");
	is_int(pc->out.kind, OUTPUT_FILE, "stdout_logfile=AUTO");
	is_int(pc->err.kind, OUTPUT_NULL, "stderr_logfile=none");

	pc = cfg->programs[3];
	is_int(pc->out.kind, OUTPUT_SYSLOG, "stdout_logfile=syslog");
	is_int(pc->err.kind, OUTPUT_NULL, "stderr_logfile=OFF");
	config_free(cfg);
}

/* Included files: globs, order, no match, relative paths, duplicates. */
static void
test_includes(void)
{
	struct config_errors	 errs;
	struct config		*cfg;

	write_file("inc/main.ini",
	    "[safeexitd]\n"
	    "include = conf.d/*.ini nothing/*.ini, conf.d/b.ini\n"
	    "  extra.ini\n"
	    "[program:main]\ncommand = m\ndepends_on = from_b\n");
	write_file("inc/conf.d/b.ini",
	    "[program:from_b]\ncommand = b\nstdout = b.log\n");
	write_file("inc/conf.d/a.ini",
	    "; a comment first\n[program:from_a]\ncommand = a\n"
	    "depends_on = main\n");
	write_file("inc/conf.d/skip.conf", "[bogus]\n");
	write_file("inc/conf.d/sub.ini/x.ini", "[bogus]\n");
	write_file("inc/extra.ini", "[program:extra]\ncommand = e\n");
	cfg = load("inc/main.ini", &errs);
	expect_valid("includes", cfg, &errs);
	if (cfg == NULL)
		return;
	is_int(cfg->n_programs, 4, "four programs, b.ini read once");
	if (cfg->n_programs == 4) {
		is_str(cfg->programs[0]->name, "main", "main file first");
		is_str(cfg->programs[1]->name, "from_a", "then sorted: a");
		is_str(cfg->programs[2]->name, "from_b", "then b");
		is_str(cfg->programs[3]->name, "extra", "then the next glob");
		is_str(cfg->programs[1]->file, path_of("inc/conf.d/a.ini"),
		    "include file name");
		is_int(cfg->programs[1]->line, 2, "include line");
		is_str(cfg->programs[2]->out.path,
		    path_of("inc/conf.d/b.log"),
		    "relative output: the include's folder");
	}
	config_free(cfg);

	/* The main file matched by its own glob is not read twice. */
	write_file("self/main.ini",
	    "[safeexitd]\ninclude = *.ini\n[program:m]\ncommand = m\n");
	write_file("self/other.ini", "[program:o]\ncommand = o\n");
	cfg = load("self/main.ini", &errs);
	expect_valid("include matching the main file", cfg, &errs);
	if (cfg != NULL)
		is_int(cfg->n_programs, 2, "main file not included again");
	config_free(cfg);
}

/* What included files may not hold, and includes that cannot be read. */
static void
test_include_errors(void)
{
	struct config_errors	 errs;
	struct config		*cfg;
	const char *const	 want[] = {
		"bad/main.ini:2: include: @/bad/fifo is not a regular file",
		"bad/main.ini:6: duplicate program p (first defined at "
		    "@/bad/main.ini:4)",
		"bad/conf.d/0.ini:1: key 'command' is outside any section",
		"bad/conf.d/1.ini:2: section [safeexitd] is allowed only in "
		    "the main file (included files hold [program:NAME] "
		    "sections)",
		"bad/conf.d/1.ini:6: duplicate program p (first defined at "
		    "@/bad/main.ini:4)",
		"bad/conf.d/1.ini:10: startsecs: * 'x'",
		NULL
	};

	write_file("bad/main.ini",
	    "[safeexitd]\n"			/* 1 */
	    "include = conf.d/*.ini fifo\n"	/* 2 */
	    "\n"				/* 3 */
	    "[program:p]\n"			/* 4 */
	    "command = p\n"			/* 5 */
	    "[program:p]\n"			/* 6 */
	    "command = again\n");		/* 7 */
	write_file("bad/conf.d/0.ini",
	    "command = x\n"			/* 1 */
	    "[program:r]\n"			/* 2 */
	    "command = r\n");			/* 3 */
	write_file("bad/conf.d/1.ini",
	    "\n"				/* 1 */
	    "[safeexitd]\n"			/* 2 */
	    "socket = /x\n"			/* 3 */
	    "[include]\n"			/* 4 */
	    "files = *.conf\n"			/* 5 */
	    "[program:p]\n"			/* 6 */
	    "command = p\n"			/* 7 */
	    "[program:q]\n"			/* 8 */
	    "command = q\n"			/* 9 */
	    "startsecs = x\n");		/* 10 */
	/* A FIFO must be refused, not opened: that would wait forever. */
	if (mkfifo(path_of("bad/fifo"), 0600) == -1 && errno != EEXIST)
		perror("mkfifo");
	cfg = load("bad/main.ini", &errs);
	ok(cfg == NULL, "bad includes: load fails");
	expect_errors("bad includes", &errs, want);
}

/* Values continued on indented lines, and line numbers after them. */
static void
test_continuation(void)
{
	struct config_errors		 errs;
	struct config			*cfg;
	const struct program_config	*pc;
	const char *const		 want[] = {
		"cont.ini:12: unknown key 'bogus'",
		"cont.ini:14: start_secs: * 'x'",
		NULL
	};

	write_file("cont.ini",
	    "[program:c]\n"			/* 1 */
	    "command = /bin/sh -c\n"		/* 2 */
	    "   'echo hi;\n"			/* 3 */
	    "\t  exit 0'\n"			/* 4 */
	    "environment =\n"			/* 5 */
	    "    A=1,\n"			/* 6 */
	    "\n"				/* 7 */
	    "    B=2, ; comment\n"		/* 8 */
	    "# a comment between continuation lines\n"	/* 9 */
	    "    C=3\n"				/* 10 */
	    "[program:d]\n"			/* 11 */
	    "bogus = 1\n"			/* 12 */
	    "   more of bogus\n"		/* 13 */
	    "start_secs = x\n"			/* 14 */
	    "command = d\n");			/* 15 */
	cfg = load("cont.ini", &errs);
	ok(cfg == NULL, "continuation: errors found");
	expect_errors("continuation line numbers", &errs, want);

	write_file("cont.ini",
	    "  [program:c]\n"
	    "  command = /bin/sh -c\n"
	    "   'echo hi;\n"
	    "\t  exit 0'\n"
	    "environment =\n"
	    "    A=1,\n"
	    "\n"
	    "    B=2, ; comment\n"
	    "# a comment between continuation lines\n"
	    "    C=3\n");
	cfg = load("cont.ini", &errs);
	expect_valid("continuation", cfg, &errs);
	if (cfg == NULL)
		return;
	pc = cfg->programs[0];
	is_str(pc->command, "/bin/sh -c\n'echo hi;\nexit 0'",
	    "joined with a newline, as supervisord");
	is_int(strv_length(pc->argv), 3, "argv of a joined command");
	is_str(pc->argv[2], "echo hi;\nexit 0", "quoted across lines");
	is_int(strv_length(pc->environment), 3, "environment across lines");
	is_str(pc->environment[2], "C=3", "after a comment line");
	config_free(cfg);

	/* A '\\' ending a line inside sh -c "...": the shell's own line goes
	 * on (supervisord joins with a newline, not a blank). */
	write_file("cont.ini",
	    "[program:s]\n"
	    "command = sh -c \"echo a \\\n"
	    "    && exec echo b\"\n"
	    "  key = still the command\n"
	    "directory = /\n");
	cfg = load("cont.ini", &errs);
	expect_valid("backslash continuation", cfg, &errs);
	if (cfg == NULL)
		return;
	/* Inside double quotes a backslash-newline is a line joint, as the
	 * shell that supervisord's argv reaches takes it. */
	is_str(cfg->programs[0]->argv[2], "echo a && exec echo b",
	    "a backslash-newline joins the shell's line");
	is_int(strv_length(cfg->programs[0]->argv), 8,
	    "an indented line after it is more of the command");
	config_free(cfg);
}

/* Comment rules: ';' and '#' at the start, inline after white space. */
static void
test_comments(void)
{
	struct config_errors	 errs;
	struct config		*cfg;

	write_file("comments.ini",
	    "\xef\xbb\xbf; a comment\r\n"
	    "# another\r\n"
	    "   ; indented comment\r\n"
	    "[program:x] ; inline after a header\r\n"
	    "command = /bin/echo a;b a#b ; the comment\r\n"
	    "user = root # hash comment\r\n"
	    "group = g\t;tab before\r\n"
	    "directory = /d;x\r\n");
	cfg = load("comments.ini", &errs);
	expect_valid("comments, BOM and CRLF", cfg, &errs);
	if (cfg == NULL)
		return;
	is_str(cfg->programs[0]->command, "/bin/echo a;b a#b",
	    "';' and '#' inside a word are kept");
	is_str(cfg->programs[0]->user, "root",
	    "'#' after a space is a comment");
	is_str(cfg->programs[0]->group, "g", "';' after a tab is a comment");
	is_str(cfg->programs[0]->directory, "/d;x", "no comment without space");
	config_free(cfg);
}

/* Append to buf a line of exactly len bytes: prefix, then filler. */
static void
add_line(char *buf, size_t size, const char *prefix, size_t len)
{
	size_t	at = strlen(buf), i;

	if (at + len + 2 > size)
		exit(99);
	memcpy(buf + at, prefix, strlen(prefix));
	for (i = strlen(prefix); i < len; i++)
		buf[at + i] = 'a';
	buf[at + len] = '\n';
	buf[at + len + 1] = '\0';
}

/* Lines are read whole up to 64 KiB, whatever inih's limit; longer ones
 * are errors at their own line, never split. */
static void
test_long_lines(void)
{
	struct config_errors	 errs;
	struct config		*cfg;
	char			*text;
	size_t			 size = 300 * 1024;
	const char *const	 want[] = {
		"long.ini:6: line too long (65537 bytes; at most 65536)",
		"long.ini:9: unknown key 'bogus'",
		NULL
	};

	if ((text = calloc(1, size)) == NULL)
		exit(99);
	add_line(text, size, "[program:x]", 11);		/* 1 */
	add_line(text, size, "command = x", 11);		/* 2 */
	add_line(text, size, "stop_command = ", 199);		/* 3 */
	add_line(text, size, "group = ", 4096);		/* 4 */
	add_line(text, size, "directory = /", 65536);		/* 5 */
	add_line(text, size, "umask = ", 65537);		/* 6 */
	add_line(text, size, "  dropped with its key", 22);	/* 7 */
	add_line(text, size, "; a long comment ", 280);	/* 8 */
	add_line(text, size, "bogus = 1", 9);			/* 9 */
	write_file("long.ini", text);
	cfg = load("long.ini", &errs);
	ok(cfg == NULL, "long lines: load fails");
	expect_errors("long lines", &errs, want);

	text[0] = '\0';
	add_line(text, size, "[program:x]", 11);
	add_line(text, size, "command = x", 11);
	add_line(text, size, "stop_command = ", 199);
	add_line(text, size, "group = ", 198);
	add_line(text, size, "directory = /", 65536);
	add_line(text, size, "environment = A=1,", 18);
	add_line(text, size, "  B=", 4000);
	write_file("long.ini", text);
	cfg = load("long.ini", &errs);
	expect_valid("long lines", cfg, &errs);
	if (cfg != NULL) {
		is_int(strlen(cfg->programs[0]->stop_command), 184,
		    "a 199-byte line is kept whole");
		is_int(strlen(cfg->programs[0]->group), 190, "198 bytes");
		is_int(strlen(cfg->programs[0]->directory), 65536 - 12,
		    "a 64 KiB line is kept whole");
		is_int(strlen(cfg->programs[0]->environment[1]), 3998,
		    "a long continuation line");
	}
	config_free(cfg);
	free(text);
}

/* Several problems in one file come back together, in line order. */
static void
test_errors_together(void)
{
	struct config_errors	 errs;
	struct config		*cfg;
	const char *const	 want[] = {
		"many.ini:1: key 'stray' is outside any section",
		"many.ini:3: unknown key 'bogus'",
		"many.ini:4: unknown key 'bogus2'",
		"many.ini:5: unknown section [supervisor]",
		"many.ini:7: invalid program name 'bad name' (letters, digits, "
		    "'_', '.' and '-'; at most 64 characters)",
		"many.ini:9: malformed section header '[program:x'",
		"many.ini:11: program y: command is required",
		"many.ini:13: expected 'key = value' or '[section]'",
		"many.ini:14: missing key name before '='",
		"many.ini:16: user: empty value",
		"many.ini:17: unknown key 'socket'",
		"many.ini:18: duplicate section [safeexitd] (first at "
		    "@/many.ini:2)",
		"many.ini:20: invalid program name '' (letters, digits, "
		    "'_', '.' and '-'; at most 64 characters)",
		"many.ini:21: invalid program name "
		    "'a12345678901234567890123456789012345678901234567890123456789"
		    "01234' (letters, digits, '_', '.' and '-'; at most 64 "
		    "characters)",
		"many.ini:22: malformed section header '[program:z] x'",
		"many.ini:23: unknown section [Program:z]",
		NULL
	};

	write_file("many.ini",
	    "stray = 1\n"			/* 1 */
	    "[safeexitd]\n"			/* 2 */
	    "bogus = 1\n"			/* 3 */
	    "bogus2 = 1\n"			/* 4 */
	    "[supervisor]\n"			/* 5 */
	    "logfile = /x\n"			/* 6: in an ignored section */
	    "[program:bad name]\n"		/* 7 */
	    "command = x\n"			/* 8: ignored */
	    "[program:x\n"			/* 9 */
	    "command = x\n"			/* 10: ignored */
	    "[program:y]\n"			/* 11 */
	    "start_secs = 1\n"			/* 12 */
	    "just words\n"			/* 13 */
	    "= 5\n"				/* 14 */
	    "startsecs = 2\n"			/* 15 */
	    "user =\n"				/* 16 */
	    "socket = /s\n"			/* 17 */
	    "[safeexitd]\n"			/* 18 */
	    "socket = /t\n"			/* 19: ignored */
	    "[program:]\n"			/* 20 */
	    "[program:a123456789012345678901234567890123456789012345678901"
	    "2345678901234]\n"			/* 21: 65 characters */
	    "[program:z] x\n"			/* 22 */
	    "[Program:z]\n");			/* 23 */
	cfg = load("many.ini", &errs);
	ok(cfg == NULL, "many errors: load fails");
	expect_errors("many errors", &errs, want);

	/* A key given twice: the last counts, with a warning naming both
	 * lines (supervisord keeps the last, silently). */
	write_file("dup.ini",
	    "[program:d]\n"			/* 1 */
	    "command = a\n"			/* 2 */
	    "Command = b\n"			/* 3 */
	    "  c\n"				/* 4 */
	    "start_secs = 1\n"			/* 5 */
	    "startsecs = 7\n"			/* 6 */
	    "[safeexitd]\n"			/* 7 */
	    "socket = /a\n"			/* 8 */
	    "socket = /b\n");			/* 9 */
	cfg = load("dup.ini", &errs);
	expect_valid("duplicate keys", cfg, &errs);
	if (cfg == NULL)
		return;
	is_str(cfg->programs[0]->command, "b\nc", "the last one counts");
	ok(cfg->programs[0]->start_secs == 7, "an alias given last counts");
	is_str(cfg->socket, "/b", "[safeexitd]: the last one counts");
	is_int(cfg->n_warnings, 3, "a warning for each");
	if (cfg->n_warnings == 3) {
		ok(msg_matches(cfg->warnings[0], expand_s("dup.ini:3: "
		    "warning: 'command' is given twice (lines 2 and 3): the "
		    "last one counts")), "warning names both lines: %s",
		    cfg->warnings[0]);
		ok(msg_matches(cfg->warnings[1], expand_s("dup.ini:6: "
		    "warning: 'startsecs' and 'start_secs' (line 5) are the "
		    "same setting: the last one counts")), "alias: %s",
		    cfg->warnings[1]);
		ok(strstr(cfg->warnings[2], "dup.ini:9: warning:") != NULL,
		    "[safeexitd]: %s", cfg->warnings[2]);
	}
	config_free(cfg);
}

/* A bad value of every type, each at its own line. */
static void
test_value_errors(void)
{
	struct config_errors	 errs;
	struct config		*cfg;
	const char *const	 want[] = {
		"vals.ini:2: socket_mode: * '0999'",
		"vals.ini:3: log_level: unknown level 'loud' (debug, info, "
		    "notice, warning or error)",
		"vals.ini:4: shutdown_timeout: * '-1'",
		"vals.ini:5: on_sighup: invalid value 'restart' (reload, "
		    "shutdown or ignore)",
		"vals.ini:6: on_sigquit: invalid value 'reload' (shutdown or "
		    "ignore)",
		"vals.ini:7: on_host_shutdown: invalid value 'x' (shutdown or "
		    "ignore)",
		"vals.ini:8: on_logoff: invalid value 'x' (shutdown or ignore)",
		"vals.ini:9: on_close: invalid value 'x' (shutdown or ignore)",
		"vals.ini:10: exit_on_fatal: * 'maybe'",
		"vals.ini:12: command: * '\"unterminated'",
		"vals.ini:13: environment: * '1A=x'",
		"vals.ini:14: umask: * '8'",
		"vals.ini:15: autostart: * 'perhaps'",
		"vals.ini:16: autorestart: invalid value 'sometimes' (never, "
		    "on-failure or always)",
		"vals.ini:17: exitcodes: '256' is not an exit code (0-255)",
		"vals.ini:17: exitcodes: 'x' is not an exit code (0-255)",
		"vals.ini:18: start_secs: * '1s'",
		"vals.ini:19: start_retries: * '-1'",
		"vals.ini:20: priority: invalid number '1.5'",
		"vals.ini:21: stop_signal: * 'SIGNOPE'",
		"vals.ini:22: stop_timeout: * 'soon'",
		"vals.ini:23: kill_signal: * '0'",
		"vals.ini:24: stop_group: * '2'",
		"vals.ini:25: stop_command: * ''quit'",
		"vals.ini:26: stdout: 'stdout' is a destination for stderr only",
		"vals.ini:27: stdout_max_bytes: * '1TB'",
		"vals.ini:28: stderr_max_bytes: * 'x'",
		"vals.ini:29: stdout_backups: * 'many'",
		"vals.ini:30: stderr_backups: * '-2'",
		"vals.ini:31: stop_method: invalid value 'kill' (auto, ctrl_c, "
		    "ctrl_break, wm_close or terminate)",
		"vals.ini:34: exitcodes: no exit code given ','",
		"vals.ini:36: command: empty program name in ''' -x'",
		"vals.ini:37: stop_command: empty program name in '\"\"'",
		NULL
	};
	const char *const	 want_cg[] = {
		"cg.ini:2: cgroups: 'auto' or 'off' expected, not 'on'",
		NULL
	};

	write_file("vals.ini",
	    "[safeexitd]\n"			/* 1 */
	    "socket_mode = 0999\n"		/* 2 */
	    "log_level = loud\n"		/* 3 */
	    "shutdown_timeout = -1\n"		/* 4 */
	    "on_sighup = restart\n"		/* 5 */
	    "on_sigquit = reload\n"		/* 6 */
	    "on_host_shutdown = x\n"		/* 7 */
	    "on_logoff = x\n"			/* 8 */
	    "on_close = x\n"			/* 9 */
	    "exit_on_fatal = maybe\n"		/* 10 */
	    "[program:v]\n"			/* 11 */
	    "command = \"unterminated\n"	/* 12 */
	    "environment = 1A=x\n"		/* 13 */
	    "umask = 8\n"			/* 14 */
	    "autostart = perhaps\n"		/* 15 */
	    "autorestart = sometimes\n"	/* 16 */
	    "exitcodes = 0, 256 x\n"		/* 17 */
	    "start_secs = 1s\n"		/* 18 */
	    "start_retries = -1\n"		/* 19 */
	    "priority = 1.5\n"			/* 20 */
	    "stop_signal = SIGNOPE\n"		/* 21 */
	    "stop_timeout = soon\n"		/* 22 */
	    "kill_signal = 0\n"		/* 23 */
	    "stop_group = 2\n"			/* 24 */
	    "stop_command = 'quit\n"		/* 25 */
	    "stdout = stdout\n"		/* 26 */
	    "stdout_max_bytes = 1TB\n"		/* 27 */
	    "stderr_max_bytes = x\n"		/* 28 */
	    "stdout_backups = many\n"		/* 29 */
	    "stderr_backups = -2\n"		/* 30 */
	    "stop_method = kill\n"		/* 31 */
	    "[program:w]\n"			/* 32 */
	    "command = w\n"			/* 33 */
	    "exitcodes = ,\n"			/* 34 */
	    "[program:x]\n"			/* 35 */
	    "command = '' -x\n"		/* 36 */
	    "stop_command = \"\"\n");		/* 37 */
	cfg = load("vals.ini", &errs);
	ok(cfg == NULL, "bad values: load fails");
	expect_errors("bad values", &errs, want);

	/* auto or off only: "on" would promise cgroups the host may not give. */
	write_file("cg.ini", "[safeexitd]\ncgroups = on\n");
	cfg = load("cg.ini", &errs);
	ok(cfg == NULL, "cgroups = on: load fails");
	expect_errors("cgroups", &errs, want_cg);
}

/* supervisord mistakes refused, each named at its line; everything else
 * supervisord takes is taken. */
static void
test_supervisord_errors(void)
{
	struct config_errors	 errs;
	struct config		*cfg;
	const char *const	 want[] = {
		"svbad.ini:3: process_name: numprocs = 2 needs %(process_num) "
		    "in process_name, so each process has a name of its own (as "
		    "supervisord requires)",
		"svbad.ini:6: user: no such user 'TODO'",
		"svbad.ini:9: killasgroup: cannot be false with stopasgroup = "
		    "true (as in supervisord)",
		"svbad.ini:13: killasgroup: conflicts with 'stop_group' at line "
		    "12",
		"svbad.ini:15: malformed section header '[program:x'",
		"svbad.ini:18: user: no such user 'nosuchuser'",
		"svbad.ini:20: programs: no [program:ghost] (or eventlistener, "
		    "fcgi-program)",
		"svbad.ini:22: programs: c is already in group g1",
		NULL
	};

	write_file("svbad.ini",
	    "[program:a]\n"				/* 1 */
	    "command = a\n"				/* 2 */
	    "numprocs = 2\n"				/* 3 */
	    "[program:b]\n"				/* 4 */
	    "command = b\n"				/* 5 */
	    "user = TODO\n"				/* 6 */
	    "[program:c]\n"				/* 7 */
	    "stopasgroup = true\n"			/* 8 */
	    "killasgroup = false\n"			/* 9 */
	    "command = c\n"				/* 10 */
	    "[program:d]\n"				/* 11 */
	    "stop_group = true\n"			/* 12 */
	    "killasgroup = true\n"			/* 13 */
	    "command = d\n"				/* 14 */
	    "[program:x\n"				/* 15 */
	    "command = x\n"				/* 16 */
	    "[supervisord]\n"				/* 17 */
	    "user = nosuchuser\n"			/* 18 */
	    "[group:g1]\n"				/* 19 */
	    "programs = c, ghost\n"			/* 20 */
	    "[group:g2]\n"				/* 21 */
	    "programs = c\n");				/* 22 */
	cfg = load("svbad.ini", &errs);
	ok(cfg == NULL, "supervisord errors: load fails");
	expect_errors("supervisord errors", &errs, want);
}

/* The program called name in cfg, or NULL (reported). */
static const struct program_config *
find(const struct config *cfg, const char *name)
{
	const struct program_config *pc = config_find(cfg, name);

	if (pc == NULL)
		printf("# no program %s\n", name);
	return pc;
}

/* Whether v holds s. */
static bool
has_env(strv_t v, const char *s)
{
	return strv_contains(v, s);
}

/* supervisord's sections and keys, with supervisord's meaning. */
static void
test_supervisord_sections(void)
{
	struct config_errors		 errs;
	struct config			*cfg;
	const struct program_config	*pc;
	size_t				 i;
	bool				 warned_port = false, warned_env = false;
	char				*url;

	setenv("SV_TEST_N", "3", 1);
	write_file("svok/conf.d/web.conf",
	    "[program:web]\n"
	    "command = %(here)s/web --name %(program_name)s\n"
	    "stdout_events_enabled = true\n"
	    "stderr_capture_maxbytes = 1KB\n"
	    "serverurl = AUTO\n");
	write_file("svok/main.conf",
	    "[unix_http_server]\n"			/* 1 */
	    "file = %(here)s/s.sock\n"			/* 2 */
	    "chmod = 0770\n"				/* 3 */
	    "chown = root:daemon\n"			/* 4 */
	    "[inet_http_server]\n"			/* 5 */
	    "port = 127.0.0.1:9001\n"			/* 6 */
	    "[supervisord]\n"				/* 7 */
	    "logfile = %(here)s/sd.log\n"		/* 8 */
	    "loglevel = blather\n"			/* 9 */
	    "pidfile = /run/sd.pid\n"			/* 10 */
	    "nodaemon = true\n"				/* 11 */
	    "minfds = 2048\n"				/* 12 */
	    "childlogdir = %(here)s/logs\n"		/* 13 */
	    "identifier = box\n"			/* 14 */
	    "environment = A=\"1\",B=\"sd\"\n"		/* 15 */
	    "umask = 027\n"				/* 16 */
	    "[rpcinterface:supervisor]\n"		/* 17 */
	    "supervisor.rpcinterface_factory = supervisor.rpcinterface:"
	    "make_main_rpcinterface\n"			/* 18 */
	    "[supervisorctl]\n"				/* 19 */
	    "serverurl = unix://%(here)s/s.sock\n"	/* 20 */
	    "[include]\n"				/* 21 */
	    "files = conf.d/*.conf none/*.ini\n"	/* 22 */
	    "[group:pool]\n"				/* 23 */
	    "programs = worker , beat\n"		/* 24 */
	    "priority = 5\n"				/* 25 */
	    "[program:worker]\n"			/* 26 */
	    "command = w -n w%(process_num)d@%%h -c %(numprocs)d %(ENV_HOME)s\n"
	    "process_name = %(program_name)s_%(process_num)02d\n"
	    "numprocs = %(ENV_SV_TEST_N)s\n"
	    "numprocs_start = 1\n"
	    "environment = B=\"mine\",IDX=\"%(process_num)d\"\n"
	    "stopasgroup = false\n"
	    "killasgroup = true\n"
	    "stdout_logfile = AUTO\n"
	    "stdout_syslog = true\n"
	    "stderr_syslog = true\n"
	    "[program:beat]\n"
	    "command = beat %(group_name)s %(host_node_name)s\n"
	    "depends_on = worker\n"
	    "[pidfile_ok]\n");
	/* The last line is a mistake on purpose: a section nobody knows. */
	cfg = load("svok/main.conf", &errs);
	ok(cfg == NULL && errs.n == 1 && strstr(errs.msgs[0],
	    "main.conf:40: unknown section [pidfile_ok]") != NULL,
	    "an unknown section is still an error");
	config_errors_free(&errs);

	write_file("svok/main.conf.tail", "");
	{
		/* The same without the bad section. */
		char	path[PATH_MAX * 2];
		FILE	*fp;
		char	 buf[8192];
		size_t	 n;

		snprintf(path, sizeof path, "%s", path_of("svok/main.conf"));
		if ((fp = fopen(path, "re")) == NULL)
			exit(99);
		n = fread(buf, 1, sizeof buf - 1, fp);
		fclose(fp);
		buf[n] = '\0';
		*strstr(buf, "[pidfile_ok]") = '\0';
		write_file("svok/main.conf", buf);
	}
	cfg = load("svok/main.conf", &errs);
	expect_valid("supervisord sections", cfg, &errs);
	if (cfg == NULL)
		return;
	is_str(cfg->socket, path_of("svok/s.sock"), "[unix_http_server] file");
	is_int(cfg->socket_mode, 0770, "chmod");
	is_str(cfg->socket_owner, "root", "chown: the owner");
	is_str(cfg->socket_group, "daemon", "chown: the group");
	is_str(cfg->log, path_of("svok/sd.log"), "logfile");
	is_int(cfg->log_level, LOG_LEVEL_DEBUG, "loglevel = blather");
	is_str(cfg->pidfile, "/run/sd.pid", "pidfile");
	is_int(cfg->minfds, 2048, "minfds");
	is_int(cfg->daemon_umask, 027, "[supervisord] umask");
	ok(cfg->supervisord, "a supervisord config");
	is_int(cfg->n_programs, 5, "web, three workers, beat");

	pc = find(cfg, "pool:worker_01");
	ok(pc != NULL, "numprocs: GROUP:PROCESS, from numprocs_start, "
	    "%%(process_num)02d");
	if (pc != NULL) {
		is_str(pc->argv[2], "w1@%h", "%%(process_num)d, %%%% is %%");
		is_str(pc->argv[4], "3", "%%(numprocs)d from %%(ENV_)s");
		is_str(pc->argv[5], getenv("HOME"), "%%(ENV_HOME)s");
		is_int(pc->priority, 5, "the group's priority");
		ok(has_env(pc->environment, "B=mine") &&
		    !has_env(pc->environment, "B=sd") &&
		    has_env(pc->environment, "A=1"),
		    "[supervisord] environment, the program's own wins");
		ok(has_env(pc->environment, "IDX=1"), "environment expanded");
		ok(has_env(pc->environment, "SUPERVISOR_PROCESS_NAME=worker_01")
		    && has_env(pc->environment, "SUPERVISOR_GROUP_NAME=pool") &&
		    has_env(pc->environment, "SUPERVISOR_ENABLED=1"),
		    "SUPERVISOR_* as supervisord sets them");
		ok(pc->stop_group && pc->stop_main_only,
		    "killasgroup alone: the kill to the group, not the stop");
		ok(pc->out.kind == OUTPUT_FILE && pc->out.path != NULL &&
		    strncmp(pc->out.path, path_of("svok/logs/worker_01-stdout---"
		    "box-"), strlen(path_of("svok/logs/worker_01-stdout---box-")))
		    == 0, "AUTO in childlogdir, with identifier: %s",
		    pc->out.path);
		is_int(pc->err.kind, OUTPUT_SYSLOG,
		    "stderr_syslog with no stderr_logfile: syslog");
		is_str(pc->process_name, "worker_01", "process_name");
		is_str(pc->group_name, "pool", "group_name");
	}
	ok(find(cfg, "pool:worker_03") != NULL && find(cfg, "pool:worker_00")
	    == NULL, "numprocs_start .. numprocs_start + numprocs - 1");
	pc = find(cfg, "pool:beat");
	if (pc != NULL) {
		ok(strv_length(pc->depends_on) == 3 &&
		    strcmp(pc->depends_on[0], "pool:worker_01") == 0 &&
		    strcmp(pc->depends_on[2], "pool:worker_03") == 0,
		    "depends_on a numprocs program: each of its processes");
		is_str(pc->argv[1], "pool", "%%(group_name)s");
		is_str(pc->argv[2], config_host_node_name(),
		    "%%(host_node_name)s");
	}
	pc = find(cfg, "web");
	if (pc != NULL) {
		is_str(pc->argv[0], path_of("svok/conf.d/web"),
		    "%%(here)s in an included file is its folder");
		ok(pc->stdout_events, "stdout_events_enabled");
		url = xasprintf("SUPERVISOR_SERVER_URL=unix://%s",
		    path_of("svok/s.sock"));
		ok(has_env(pc->environment, url),
		    "serverurl = AUTO: the [unix_http_server] socket");
		free(url);
		is_int(pc->stderr_capture_maxbytes, 1024,
		    "stderr_capture_maxbytes");
		ok(pc->stop_group && !pc->stop_main_only,
		    "neither stopasgroup nor killasgroup: safeexitd's default");
	}
	for (i = 0; i < cfg->n_warnings; i++) {
		warned_port |= strstr(cfg->warnings[i], "main.conf:6:") != NULL;
		warned_env |= strstr(cfg->warnings[i], "serverurl") != NULL;
		printf("# %s\n", cfg->warnings[i]);
	}
	ok(!warned_port, "[inet_http_server] port: taken, no warning");
	is_str(cfg->http_port, "127.0.0.1:9001",
	    "[inet_http_server] port: the HTTP server's");
	ok(!warned_env, "program serverurl: taken, no warning");
	config_free(cfg);
	unsetenv("SV_TEST_N");
}

/* A daemon setting in [safeexitd] and [supervisord], and in an included
 * file: the last read counts, with a warning naming both places. */
static void
test_daemon_last_read(void)
{
	struct config_errors	 errs;
	struct config		*cfg;

	write_file("lr/inc/more.conf",
	    "[supervisord]\n"
	    "pidfile = /run/third.pid\n");
	write_file("lr/main.conf",
	    "[safeexitd]\n"			/* 1 */
	    "pidfile = /run/first.pid\n"	/* 2 */
	    "[supervisord]\n"			/* 3 */
	    "pidfile = /run/second.pid\n"	/* 4 */
	    "[include]\n"			/* 5 */
	    "files = inc/*.conf\n");		/* 6 */
	cfg = load("lr/main.conf", &errs);
	expect_valid("last read", cfg, &errs);
	if (cfg == NULL)
		return;
	is_str(cfg->pidfile, "/run/third.pid", "the last read counts");
	is_int(cfg->n_warnings, 2, "a warning each time");
	if (cfg->n_warnings == 2) {
		ok(msg_matches(cfg->warnings[0], expand_s("lr/main.conf:4: "
		    "warning: pidfile: the daemon's setting was also given at "
		    "@/lr/main.conf:2 (pidfile): the last one read counts")),
		    "%s", cfg->warnings[0]);
		ok(strstr(cfg->warnings[1], "inc/more.conf:2: warning: pidfile: "
		    "the daemon's setting was also given at ") != NULL &&
		    strstr(cfg->warnings[1], "main.conf:4") != NULL,
		    "%s", cfg->warnings[1]);
	}
	config_free(cfg);
}

/* Expansions: every name, printf widths, %%, and the errors, each naming
 * the expansion and its line. */
static void
test_expansions(void)
{
	struct config_errors		 errs;
	struct config			*cfg;
	const struct program_config	*pc;
	const char *const		 want[] = {
		"svexp.ini:2: command: %(ENV_SV_NOPE)s: environment variable "
		    "SV_NOPE is not set",
		"svexp.ini:3: directory: unknown expansion '%(nope)s' (here: "
		    "ENV_NAME, here, host_node_name, program_name, group_name, "
		    "process_num, numprocs)",
		"svexp.ini:4: stop_command: expansion '%(program_name)d' needs "
		    "a number; 'e' is text (use %(program_name)s)",
		"svexp.ini:5: environment: expansion '%(here)' needs a "
		    "conversion such as 's' or 'd' after it",
		"svexp.ini:7: socket: unknown expansion '%(program_name)s' "
		    "(here: ENV_NAME, here, host_node_name)",
		NULL
	};

	write_file("svexp.ini",
	    "[program:e]\n"				/* 1 */
	    "command = x %(ENV_SV_NOPE)s\n"		/* 2 */
	    "directory = /%(nope)s\n"			/* 3 */
	    "stop_command = %(program_name)d\n"		/* 4 */
	    "environment = A=%(here)\n"			/* 5 */
	    "[safeexitd]\n"				/* 6 */
	    "socket = /%(program_name)s\n");		/* 7 */
	cfg = load("svexp.ini", &errs);
	ok(cfg == NULL, "expansion errors: load fails");
	expect_errors("expansion errors", &errs, want);

	write_file("svexp.ini",
	    "[program:e]\n"
	    "command = x '%(process_num)03d|%(process_num)-3d|%(process_num)x|"
	    "%(program_name)5s|%(program_name)-3s|' 100% %%(here)s\n"
	    "process_name = e%(process_num)d\n"
	    "numprocs_start = 10\n"
	    "[safeexitd]\n"
	    "cpu_max = 200%\n");
	cfg = load("svexp.ini", &errs);
	if (cfg == NULL && errs.n > 0 && strstr(errs.msgs[0], "cpu_max")) {
		/* No cgroup key in this build: the rest still counts. */
		config_errors_free(&errs);
		write_file("svexp.ini",
		    "[program:e]\n"
		    "command = x '%(process_num)03d|%(process_num)-3d|"
		    "%(process_num)x|%(program_name)5s|%(program_name)-3s|' "
		    "100% %%(here)s\n"
		    "process_name = e%(process_num)d\n"
		    "numprocs_start = 10\n");
		cfg = load("svexp.ini", &errs);
	}
	expect_valid("expansions", cfg, &errs);
	if (cfg == NULL)
		return;
	pc = find(cfg, "e:e10");
	if (pc != NULL) {
		is_str(pc->argv[1], "010|10 |a|    e|e  |", "printf widths");
		is_str(pc->argv[2], "100%", "a lone %% is kept");
		is_str(pc->argv[3], "%(here)s", "%%%% is %%");
	}
	config_free(cfg);
}

/* depends_on: unknown names, self-dependency and cycles. */
static void
test_depends(void)
{
	struct config_errors	 errs;
	struct config		*cfg;
	const char *const	 want[] = {
		"dep.ini:3: depends_on: unknown program 'ghost'",
		"dep.ini:6: depends_on: dependency cycle self -> self",
		"dep.ini:9: depends_on: dependency cycle a -> b -> c -> a",
		NULL
	};

	write_file("dep.ini",
	    "[program:lone]\n"			/* 1 */
	    "command = x\n"			/* 2 */
	    "depends_on = ghost\n"		/* 3 */
	    "[program:self]\n"			/* 4 */
	    "command = x\n"			/* 5 */
	    "depends_on = self\n"		/* 6 */
	    "[program:a]\n"			/* 7 */
	    "command = x\n"			/* 8 */
	    "depends_on = b\n"			/* 9 */
	    "[program:b]\n"			/* 10 */
	    "command = x\n"			/* 11 */
	    "depends_on = c lone\n"		/* 12 */
	    "[program:c]\n"			/* 13 */
	    "command = x\n"			/* 14 */
	    "depends_on = a\n");		/* 15 */
	cfg = load("dep.ini", &errs);
	ok(cfg == NULL, "depends: load fails");
	expect_errors("depends", &errs, want);

	write_file("dep.ini",
	    "[program:a]\ncommand = x\ndepends_on = b c\n"
	    "[program:b]\ncommand = x\ndepends_on = c\n"
	    "[program:c]\ncommand = x\n");
	cfg = load("dep.ini", &errs);
	expect_valid("diamond without a cycle", cfg, &errs);
	config_free(cfg);
}

/* The fingerprint: canonical names, sorted; changes with any key. */
static void
test_fingerprint(void)
{
	struct config_errors	 errs;
	struct config		*a, *b;

	write_file("fp1.ini",
	    "[program:x]\n"
	    "startsecs = 2\n"
	    "command = /bin/x\n"
	    "stdout_logfile = NONE\n"
	    "stop_group = true\n"
	    "redirect_stderr = true\n");
	write_file("fp2.ini",
	    "[program:x]\n"
	    "command = /bin/x\n"
	    "stop_group = true\n"
	    "stdout = null\n"
	    "stderr = stdout\n"
	    "start_secs = 2\n");
	a = load("fp1.ini", &errs);
	expect_valid("fingerprint 1", a, &errs);
	b = load("fp2.ini", &errs);
	expect_valid("fingerprint 2", b, &errs);
	if (a != NULL && b != NULL) {
		is_str(a->programs[0]->fingerprint,
		    "command=/bin/x\nstart_secs=2\nstderr=stdout\n"
		    "stdout=null\nstop_group=true",
		    "fingerprint: canonical, sorted");
		is_str(a->programs[0]->fingerprint, b->programs[0]->fingerprint,
		    "aliases give the same fingerprint");
	}
	config_free(b);
	write_file("fp2.ini",
	    "[program:x]\ncommand = /bin/x\nstop_group = true\n"
	    "stdout = null\nstderr = stdout\nstart_secs = 3\n");
	b = load("fp2.ini", &errs);
	expect_valid("fingerprint 3", b, &errs);
	if (a != NULL && b != NULL)
		ok(strcmp(a->programs[0]->fingerprint,
		    b->programs[0]->fingerprint) != 0,
		    "a changed value changes the fingerprint");
	config_free(a);
	config_free(b);

	write_file("fp3.ini", "[program:x]\ncommand = /bin/x\nstdout = o.log\n");
	a = load("fp3.ini", &errs);
	expect_valid("fingerprint 4", a, &errs);
	if (a != NULL) {
		char	want[PATH_MAX * 2];

		snprintf(want, sizeof want, "command=/bin/x\nstdout=%s",
		    path_of("o.log"));
		is_str(a->programs[0]->fingerprint, want,
		    "fingerprint: output files as absolute paths");
	}
	config_free(a);
}

/* A main file that cannot be opened is named without a line. */
static void
test_missing_file(void)
{
	struct config_errors	 errs;
	struct config		*cfg;
	const char *const	 want[] = {
		"absent.ini: cannot open: No such file or directory",
		NULL
	};
	const char *const	 want_dir[] = {
		"adir: cannot open: Is a directory",
		NULL
	};

	cfg = load("absent.ini", &errs);
	ok(cfg == NULL, "missing file: NULL");
	expect_errors("missing file", &errs, want);

	mkdir(path_of("adir"), 0700);
	cfg = load("adir", &errs);
	ok(cfg == NULL, "folder: NULL");
	expect_errors("folder", &errs, want_dir);

	/* Errors are appended after what the list already holds. */
	errs.msgs = calloc(1, sizeof *errs.msgs);
	errs.msgs[0] = strdup("earlier");
	errs.n = 1;
	cfg = config_load(path_of("absent.ini"), &errs);
	is_int(errs.n, 2, "appended to the list");
	is_str(errs.msgs[0], "earlier", "earlier message kept");
	config_errors_free(&errs);
	is_int(errs.n, 0, "config_errors_free empties");
	ok(config_load(path_of("absent.ini"), NULL) == NULL,
	    "a NULL list is fine");
	config_free(NULL);
	program_config_free(NULL);
}

/* The small helpers around the config. */
static void
test_helpers(void)
{
	struct config_errors	 errs;
	struct config		*cfg;

	is_str(restart_policy_name(RESTART_NEVER), "never", "never");
	is_str(restart_policy_name(RESTART_ON_FAILURE), "on-failure",
	    "on-failure");
	is_str(restart_policy_name(RESTART_ALWAYS), "always", "always");
	is_str(output_kind_name(OUTPUT_LOG), "log", "log");
	is_str(output_kind_name(OUTPUT_FILE), "file", "file");
	is_str(output_kind_name(OUTPUT_NULL), "null", "null");
	is_str(output_kind_name(OUTPUT_SYSLOG), "syslog", "syslog");
	is_str(output_kind_name(OUTPUT_INHERIT), "inherit", "inherit");
	is_str(output_kind_name(OUTPUT_STDOUT), "stdout", "stdout");

	write_file("find.ini", "[program:a]\ncommand = a\n"
	    "[program:b]\ncommand = b\n");
	cfg = load("find.ini", &errs);
	expect_valid("find", cfg, &errs);
	if (cfg == NULL)
		return;
	ok(config_find(cfg, "b") == cfg->programs[1], "config_find b");
	ok(config_find(cfg, "nope") == NULL, "config_find unknown");
	/* A caller that takes a program config clears its slot. */
	program_config_free(cfg->programs[0]);
	cfg->programs[0] = NULL;
	ok(config_find(cfg, "b") == cfg->programs[1], "a NULL slot is skipped");
	ok(config_find(cfg, "a") == NULL, "a taken program is gone");
	config_free(cfg);
}

/* Whether the man page text names key as ".Cm key" (a whole word). */
static bool
man_names(const char *man, const char *key)
{
	const char	*p;
	size_t		 len = strlen(key);

	for (p = man; (p = strstr(p, "Cm ")) != NULL; p += 3) {
		if (strncmp(p + 3, key, len) == 0 &&
		    (p[3 + len] == '\0' || strchr(" \n,", p[3 + len]) != NULL))
			return true;
	}
	return false;
}

/*
 * The key table itself: every row is in one section, found by each of its
 * spellings in any case, documented in the man page, and no spelling is
 * taken twice in a section.
 */
static void
test_key_table(void)
{
	const struct config_key	*k, *other;
	const char		*sp, *name;
	char			 upper[64], path[4096], man[1 << 17];
	size_t			 i, j, a, n;
	FILE			*fp;
	bool			 ok_all = true, found_all = true, man_all = true;
	bool			 unique = true;

	snprintf(path, sizeof path, "%s/man/safeexitd.ini.5.in", SRCDIR);
	if ((fp = fopen(path, "re")) == NULL) {
		perror(path);
		exit(99);
	}
	n = fread(man, 1, sizeof man - 1, fp);
	man[n] = '\0';
	fclose(fp);

	for (i = 0; i < config_n_keys; i++) {
		k = &config_keys[i];
		if (((k->flags & (CK_DAEMON | CK_GROUP)) != 0) ==
		    ((k->flags & CK_PROGRAM) != 0) ||
		    ((k->flags & CK_PROGRAM) && !(k->flags & CK_KINDS)) ||
		    k->type == NULL || k->type->set == NULL ||
		    ((k->type == &config_type_words) != (k->words != NULL))) {
			printf("# row %s is malformed\n", k->name);
			ok_all = false;
		}
		for (a = 0; a < 3; a++) {
			name = a == 0 ? k->name : k->alias[a - 1];
			if (name == NULL)
				break;
			for (j = 0; name[j] != '\0' && j + 1 < sizeof upper; j++)
				upper[j] = (char)toupper((unsigned char)name[j]);
			upper[j] = '\0';
			if (config_key_find(upper, row_section(k), &sp) != k ||
			    sp != name) {
				printf("# %s is not found as %s\n", name, upper);
				found_all = false;
			}
			if (!man_names(man, name)) {
				printf("# %s is not in safeexitd.ini(5)\n", name);
				man_all = false;
			}
			for (j = 0; j < config_n_keys; j++) {
				other = &config_keys[j];
				if (other != k && config_key_find(name,
				    row_section(k), &sp) == other) {
					printf("# %s is taken twice\n", name);
					unique = false;
				}
			}
		}
	}
	ok(ok_all, "key table: each row in one section, with a type");
	ok(found_all, "key table: each spelling found, in any case");
	ok(man_all, "key table: each spelling in safeexitd.ini(5)");
	ok(unique, "key table: no spelling taken twice in a section");
	ok(config_key_find("nope", SECTION_PROGRAM, &sp) == NULL,
	    "key table: an unknown key is not found");
	ok(config_key_find("command", SECTION_MAIN, &sp) == NULL,
	    "key table: a program key is not a [safeexitd] key");
	ok(config_key_find("socket", SECTION_PROGRAM, &sp) == NULL,
	    "key table: a [safeexitd] key is not a program key");
}

/*
 * Each type's setter, through a key of that type: a good value lands in its
 * field, a bad one is reported as FILE:LINE: KEY: message, naming the key
 * as it was spelt (an alias by its alias, any case by the table's).
 */
static void
test_key_types(void)
{
	struct config_errors		 errs;
	struct config			*cfg;
	const struct program_config	*pc;
	const char *const		 want[] = {
		"types.ini:2: socket_mode: invalid octal mode '0999'",
		"types.ini:3: shutdown_timeout: negative duration '-1'",
		"types.ini:4: exit_on_fatal: invalid boolean (use true/false, "
		    "yes/no, on/off or 1/0) 'maybe'",
		"types.ini:5: log_level: unknown level 'loud' (debug, info, "
		    "notice, warning or error)",
		"types.ini:7: command: unterminated double quote "
		    "'\"unterminated'",
		"types.ini:8: environment: invalid environment variable name "
		    "'1A=x'",
		"types.ini:9: startsecs: invalid duration '1s'",
		"types.ini:10: startretries: negative number '-1'",
		"types.ini:11: priority: invalid number '1.5'",
		"types.ini:12: stopsignal: unknown signal 'SIGNOPE'",
		"types.ini:13: stdout_logfile_maxbytes: invalid size suffix "
		    "(use KB, MB or GB) '1TB'",
		"types.ini:14: autorestart: invalid value 'sometimes' (never, "
		    "on-failure or always)",
		"types.ini:15: umask: invalid octal mode '8'",
		NULL
	};

	write_file("types.ini",
	    "[safeexitd]\n"			/* 1 */
	    "socket_mode = 0999\n"		/* 2 */
	    "shutdown_timeout = -1\n"		/* 3 */
	    "exit_on_fatal = maybe\n"		/* 4 */
	    "log_level = loud\n"		/* 5 */
	    "[program:v]\n"			/* 6 */
	    "command = \"unterminated\n"	/* 7 */
	    "environment = 1A=x\n"		/* 8 */
	    "STARTSECS = 1s\n"			/* 9 */
	    "startretries = -1\n"		/* 10 */
	    "priority = 1.5\n"			/* 11 */
	    "stopsignal = SIGNOPE\n"		/* 12 */
	    "stdout_logfile_maxbytes = 1TB\n"	/* 13 */
	    "autorestart = sometimes\n"	/* 14 */
	    "umask = 8\n");			/* 15 */
	cfg = load("types.ini", &errs);
	ok(cfg == NULL, "bad value of each type: load fails");
	expect_errors("bad value of each type", &errs, want);

	write_file("sub/good.ini",
	    "[safeexitd]\n"
	    "pidfile = run/x.pid\n"
	    "log_level = WARN\n"
	    "on_close = IGNORE\n"
	    "[program:g]\n"
	    "command = /bin/echo 'a b' c\n"
	    "directory = work\n"
	    "priority = -5\n"
	    "depends_on = h, i h\n"
	    "stop_signal = 1\n"
	    "stdout_max_bytes = 2KB\n"
	    "stop_method = CTRL_BREAK\n"
	    "[program:h]\ncommand = h\n[program:i]\ncommand = i\n");
	cfg = load("sub/good.ini", &errs);
	expect_valid("good value of each type", cfg, &errs);
	if (cfg == NULL)
		return;
	pc = cfg->programs[0];
	is_str(cfg->pidfile, path_of("sub/run/x.pid"),
	    "path: relative to the file's folder");
	ok(cfg->log_level == LOG_LEVEL_WARNING, "words: a hidden word, any case");
	ok(cfg->on_close == POLICY_IGNORE, "words: any case");
	ok(strv_length(pc->argv) == 3 && strcmp(pc->argv[1], "a b") == 0,
	    "command: split with quoting");
	is_str(pc->command, "/bin/echo 'a b' c", "command: kept as written");
	is_str(pc->directory, path_of("sub/work"), "path: program directory");
	ok(pc->priority == -5, "int: negative");
	ok(strv_length(pc->depends_on) == 2 &&
	    strcmp(pc->depends_on[0], "h") == 0 &&
	    strcmp(pc->depends_on[1], "i") == 0, "list: each name once, in order");
	ok(pc->depends_line == 9, "list: its line is kept");
	ok(pc->stop_signal == SIGHUP, "signal: by number");
	ok(pc->out.max_bytes == 2048, "size: with a suffix");
	ok(pc->stop_method == STOP_METHOD_CTRL_BREAK, "words: stop_method");
	config_free(cfg);
}

/* Programs start from one template of defaults; none shares its memory. */
static void
test_template_copies(void)
{
	struct config_errors	 errs;
	struct config		*cfg;

	write_file("tmpl.ini", "[program:a]\ncommand = a\n"
	    "[program:b]\ncommand = b\n");
	cfg = load("tmpl.ini", &errs);
	expect_valid("template", cfg, &errs);
	if (cfg == NULL)
		return;
	ok(cfg->programs[0]->directory != cfg->programs[1]->directory &&
	    cfg->programs[0]->environment != cfg->programs[1]->environment &&
	    cfg->programs[0]->exitcodes != cfg->programs[1]->exitcodes &&
	    cfg->programs[0]->depends_on != cfg->programs[1]->depends_on,
	    "template: each program has its own copies");
	ok(cfg->programs[1]->n_exitcodes == 1 &&
	    cfg->programs[1]->exitcodes[0] == 0, "template: exitcodes copied");
	/* Freed one by one, as a reload does: nothing is freed twice. */
	program_config_free(cfg->programs[0]);
	cfg->programs[0] = NULL;
	is_str(cfg->programs[1]->directory, "/", "template: the other intact");
	config_free(cfg);
}

int
main(void)
{
	const char	*base;

	if ((base = getenv("TMPDIR")) == NULL || *base == '\0')
		base = "/tmp";
	snprintf(tmpdir, sizeof tmpdir, "%s/test-config.XXXXXX", base);
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 99;
	}

	test_defaults();
	test_main_keys();
	test_program_keys();
	test_outputs();
	test_aliases();
	test_includes();
	test_include_errors();
	test_continuation();
	test_comments();
	test_long_lines();
	test_errors_together();
	test_value_errors();
	test_supervisord_errors();
	test_supervisord_sections();
	test_daemon_last_read();
	test_expansions();
	test_depends();
	test_fingerprint();
	test_missing_file();
	test_helpers();
	test_key_table();
	test_key_types();
	test_template_copies();

	nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
