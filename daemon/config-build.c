/*
 * Building the config: the entries collected by the reader are validated
 * key by key into a struct config and its program configs, and the
 * dependencies between programs are checked.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config-load.h"

static bool		 value_check(struct load *, int, const struct entry *);
static int		 value_policy(struct load *, int, const struct entry *,
			    bool, enum policy_action *);
static int		 value_output(struct load *, int, const struct entry *,
			    const char *, bool, struct output_config *);
static int		 value_int(const char *, int *);
static void		 config_build_main(struct load *, struct config *);
static struct program_config *config_build_program(struct load *,
			    struct section *);
static void		 config_check_depends(struct load *, struct config *,
			    struct section **);
static void		 config_walk_depends(struct load *, struct config *,
			    struct section **, size_t, int *, size_t *, size_t *);
static ssize_t		 config_index(const struct config *, const char *);

static const char *const restart_policy_names[] = {
	[RESTART_NEVER] = "never",
	[RESTART_ON_FAILURE] = "on-failure",
	[RESTART_ALWAYS] = "always",
};

static const char *const output_kind_names[] = {
	[OUTPUT_LOG] = "log",
	[OUTPUT_FILE] = "file",
	[OUTPUT_NULL] = "null",
	[OUTPUT_SYSLOG] = "syslog",
	[OUTPUT_INHERIT] = "inherit",
	[OUTPUT_STDOUT] = "stdout",
};

static const struct {
	const char		*name;
	enum stop_method	 method;
} stop_methods[] = {
	{ "auto", STOP_METHOD_AUTO },
	{ "ctrl_c", STOP_METHOD_CTRL_C },
	{ "ctrl_break", STOP_METHOD_CTRL_BREAK },
	{ "wm_close", STOP_METHOD_WM_CLOSE },
	{ "terminate", STOP_METHOD_TERMINATE },
};

/* Checks every value gets: not empty, no supervisord expansion. */
static bool
value_check(struct load *ld, int file, const struct entry *e)
{
	if (*e->value == '\0') {
		load_error(ld, file, e->line, "%s: empty value", e->def->name);
		return false;
	}
	if (strstr(e->value, "%(") != NULL && !(e->def->id == KEY_PROCESS_NAME &&
	    strcmp(e->value, "%(program_name)s") == 0)) {
		load_error(ld, file, e->line,
		    "%s: supervisord %%(name)s expansion is not supported",
		    e->def->name);
		return false;
	}
	return true;
}

/* Parse shutdown | ignore, and reload where allowed (on_sighup). */
static int
value_policy(struct load *ld, int file, const struct entry *e,
    bool allow_reload, enum policy_action *out)
{
	if (strcasecmp(e->value, "shutdown") == 0)
		*out = POLICY_SHUTDOWN;
	else if (strcasecmp(e->value, "ignore") == 0)
		*out = POLICY_IGNORE;
	else if (allow_reload && strcasecmp(e->value, "reload") == 0)
		*out = POLICY_RELOAD;
	else {
		load_error(ld, file, e->line, "%s: invalid value '%s' (%s)",
		    e->def->name, e->value, allow_reload ?
		    "reload, shutdown or ignore" : "shutdown or ignore");
		return -1;
	}
	return 0;
}

/*
 * Parse an output destination.  A relative file is taken from dir, the
 * folder of the config file the section is in, as include globs are: the
 * config and its logs then move together, and the daemon's working
 * directory does not matter.
 */
static int
value_output(struct load *ld, int file, const struct entry *e,
    const char *dir, bool is_stderr, struct output_config *out)
{
	const char	*v = e->value;

	free(out->path);
	out->path = NULL;
	if (e->def->logfile) {
		/* supervisord's stdout_logfile / stderr_logfile words. */
		if (strcasecmp(v, "NONE") == 0 || strcasecmp(v, "OFF") == 0) {
			out->kind = OUTPUT_NULL;
			return 0;
		}
		if (strcasecmp(v, "AUTO") == 0) {
			out->kind = OUTPUT_LOG;
			return 0;
		}
		if (strcasecmp(v, "syslog") == 0) {
			out->kind = OUTPUT_SYSLOG;
			return 0;
		}
	} else {
		if (strcasecmp(v, "null") == 0) {
			out->kind = OUTPUT_NULL;
			return 0;
		}
		if (strcasecmp(v, "syslog") == 0) {
			out->kind = OUTPUT_SYSLOG;
			return 0;
		}
		if (strcasecmp(v, "inherit") == 0) {
			out->kind = OUTPUT_INHERIT;
			return 0;
		}
		if (strcasecmp(v, "stdout") == 0) {
			if (!is_stderr) {
				load_error(ld, file, e->line, "%s: 'stdout' is a "
				    "destination for stderr only", e->def->name);
				return -1;
			}
			out->kind = OUTPUT_STDOUT;
			return 0;
		}
	}
	out->kind = OUTPUT_FILE;
	out->path = path_resolve(dir, v);
	return 0;
}

/* Parse a decimal int that may be negative (priority). */
static int
value_int(const char *s, int *out)
{
	char	*end;
	long	 v;

	if (*s == '\0' || is_blank(*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || errno == ERANGE || v < INT_MIN || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

/* Validate the [safeexitd] section into cfg and collect the include globs. */
static void
config_build_main(struct load *ld, struct config *cfg)
{
	struct section	*sec = ld->main;
	struct entry	*e;
	const char	*err;
	strv_t		 globs;
	size_t		 i, j;
	int		 level, file;

	cfg->socket_mode = 0600;
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->shutdown_timeout = 90;
	cfg->on_sighup = POLICY_RELOAD;
	cfg->on_sigquit = POLICY_SHUTDOWN;
	cfg->on_host_shutdown = POLICY_SHUTDOWN;
	cfg->on_logoff = POLICY_SHUTDOWN;
	cfg->on_close = POLICY_SHUTDOWN;
	cfg->exit_on_fatal = false;
	cfg->cgroups = true;
	if (sec == NULL)
		return;
	file = sec->file;

	for (i = 0; i < sec->n_entries; i++) {
		e = &sec->entries[i];
		if (!value_check(ld, file, e))
			continue;
		switch (e->def->id) {
		case KEY_SOCKET:
			/* As written: the client reads it the same way. */
			cfg->socket = xstrdup(e->value);
			cfg->socket_line = e->line;
			break;
		case KEY_SOCKET_MODE:
			if (parse_mode(e->value, &cfg->socket_mode, &err) != 0) {
				load_error(ld, file, e->line, "%s: %s '%s'",
				    e->def->name, err, e->value);
				break;
			}
			cfg->socket_mode_set = true;
			break;
		case KEY_SOCKET_GROUP:
			cfg->socket_group = xstrdup(e->value);
			break;
		case KEY_PIDFILE:
			cfg->pidfile = path_resolve(ld->dirs[file], e->value);
			break;
		case KEY_LOG_LEVEL:
			if ((level = log_level_parse(e->value)) < 0) {
				load_error(ld, file, e->line, "%s: unknown level "
				    "'%s' (debug, info, notice, warning or "
				    "error)", e->def->name, e->value);
				break;
			}
			cfg->log_level = level;
			break;
		case KEY_LOG:
			if (strcasecmp(e->value, "stderr") == 0)
				cfg->log = xstrdup("stderr");
			else if (strcasecmp(e->value, "syslog") == 0)
				cfg->log = xstrdup("syslog");
			else if (strcasecmp(e->value, "journal") == 0)
				cfg->log = xstrdup("journal");
			else
				cfg->log = path_resolve(ld->dirs[file], e->value);
			break;
		case KEY_SHUTDOWN_TIMEOUT:
			if (parse_duration(e->value, &cfg->shutdown_timeout,
			    &err) != 0)
				load_error(ld, file, e->line, "%s: %s '%s'",
				    e->def->name, err, e->value);
			break;
		case KEY_ON_SIGHUP:
			value_policy(ld, file, e, true, &cfg->on_sighup);
			break;
		case KEY_ON_SIGQUIT:
			value_policy(ld, file, e, false, &cfg->on_sigquit);
			break;
		case KEY_ON_HOST_SHUTDOWN:
			value_policy(ld, file, e, false, &cfg->on_host_shutdown);
			break;
		case KEY_ON_LOGOFF:
			value_policy(ld, file, e, false, &cfg->on_logoff);
			break;
		case KEY_ON_CLOSE:
			value_policy(ld, file, e, false, &cfg->on_close);
			break;
		case KEY_INCLUDE:
			if (parse_list(e->value, &globs, &err) != 0) {
				load_error(ld, file, e->line, "%s: %s",
				    e->def->name, err);
				break;
			}
			for (j = 0; globs[j] != NULL; j++) {
				ld->includes = xreallocarray(ld->includes,
				    ld->n_includes + 1, sizeof *ld->includes);
				ld->includes[ld->n_includes].pattern =
				    xstrdup(globs[j]);
				ld->includes[ld->n_includes].line = e->line;
				ld->n_includes++;
			}
			strv_free(globs);
			break;
		case KEY_EXIT_ON_FATAL:
			if (parse_bool(e->value, &cfg->exit_on_fatal, &err) != 0)
				load_error(ld, file, e->line, "%s: %s '%s'",
				    e->def->name, err, e->value);
			break;
		case KEY_CGROUPS:
			/* "auto": where a cgroup v2 subtree is delegated (cgroup.c). */
			if (strcasecmp(e->value, "auto") == 0)
				cfg->cgroups = true;
			else if (parse_bool(e->value, &cfg->cgroups, &err) != 0 ||
			    cfg->cgroups)
				load_error(ld, file, e->line, "%s: 'auto' or 'off' "
				    "expected, not '%s'", e->def->name, e->value);
			break;
		default:
			fatalx("%s: key %s in the wrong section", __func__,
			    e->def->name);
		}
	}
	if (cfg->socket_group != NULL && !cfg->socket_mode_set)
		cfg->socket_mode = 0660;
}

/* Validate one [program:NAME] section into a program config. */
static struct program_config *
config_build_program(struct load *ld, struct section *sec)
{
	struct program_config	*pc;
	struct entry		*e, *stop_group = NULL, *stderr_key = NULL;
	struct entry		*redirect = NULL;
	struct output_config	*out;
	const char		*err, *dir = ld->dirs[sec->file];
	strv_t			 list;
	size_t			 i, j;
	int			 file = sec->file, n;
	bool			 b, redirect_on = false;

	pc = xcalloc(1, sizeof *pc);
	pc->name = xstrdup(sec->name);
	pc->file = xstrdup(ld->files[file]);
	pc->line = sec->line;
	pc->directory = xstrdup("/");
	pc->environment = xcalloc(1, sizeof *pc->environment);
	pc->umask = 022;
	pc->autostart = true;
	pc->autorestart = RESTART_ON_FAILURE;
	pc->exitcodes = xcalloc(1, sizeof *pc->exitcodes);
	pc->exitcodes[0] = 0;
	pc->n_exitcodes = 1;
	pc->start_secs = 1;
	pc->start_retries = 3;
	pc->priority = 999;
	pc->depends_on = xcalloc(1, sizeof *pc->depends_on);
	pc->stop_signal = SIGTERM;
	pc->stop_timeout = 10;
	pc->kill_signal = SIGKILL;
	pc->stop_group = true;
	pc->stop_method = STOP_METHOD_AUTO;
	pc->out.kind = OUTPUT_LOG;
	pc->out.backups = 5;
	pc->err.kind = OUTPUT_STDOUT;
	pc->err.backups = 5;

	for (i = 0; i < sec->n_entries; i++) {
		e = &sec->entries[i];
		if (!value_check(ld, file, e))
			continue;
		err = NULL;
		switch (e->def->id) {
		case KEY_COMMAND:
			pc->command = xstrdup(e->value);
			if (parse_argv(e->value, &pc->argv, &err) != 0)
				pc->argv = NULL;
			else if (pc->argv[0] == NULL || pc->argv[0][0] == '\0')
				err = "empty program name in";
			break;
		case KEY_DIRECTORY:
			free(pc->directory);
			pc->directory = path_resolve(dir, e->value);
			break;
		case KEY_USER:
			pc->user = xstrdup(e->value);
			break;
		case KEY_GROUP:
			pc->group = xstrdup(e->value);
			break;
		case KEY_ENVIRONMENT:
			strv_free(pc->environment);
			if (parse_env(e->value, &pc->environment, &err) != 0)
				pc->environment = xcalloc(1,
				    sizeof *pc->environment);
			break;
		case KEY_UMASK:
			parse_mode(e->value, &pc->umask, &err);
			break;
		case KEY_AUTOSTART:
			parse_bool(e->value, &pc->autostart, &err);
			break;
		case KEY_AUTORESTART:
			if (strcasecmp(e->value, "never") == 0 ||
			    strcasecmp(e->value, "false") == 0)
				pc->autorestart = RESTART_NEVER;
			else if (strcasecmp(e->value, "on-failure") == 0 ||
			    strcasecmp(e->value, "unexpected") == 0)
				pc->autorestart = RESTART_ON_FAILURE;
			else if (strcasecmp(e->value, "always") == 0 ||
			    strcasecmp(e->value, "true") == 0)
				pc->autorestart = RESTART_ALWAYS;
			else
				load_error(ld, file, e->line, "%s: invalid value "
				    "'%s' (never, on-failure or always)",
				    e->def->name, e->value);
			break;
		case KEY_EXITCODES:
			if (parse_list(e->value, &list, &err) != 0)
				break;
			if (list[0] == NULL)
				err = "no exit code given";
			pc->n_exitcodes = 0;
			for (j = 0; list[j] != NULL; j++) {
				if (parse_uint(list[j], &n, &err) != 0 ||
				    n > 255) {
					load_error(ld, file, e->line, "%s: '%s' "
					    "is not an exit code (0-255)",
					    e->def->name, list[j]);
					err = NULL;
					continue;
				}
				pc->exitcodes = xreallocarray(pc->exitcodes,
				    pc->n_exitcodes + 1, sizeof *pc->exitcodes);
				pc->exitcodes[pc->n_exitcodes++] = n;
			}
			strv_free(list);
			break;
		case KEY_START_SECS:
			parse_duration(e->value, &pc->start_secs, &err);
			break;
		case KEY_START_RETRIES:
			parse_uint(e->value, &pc->start_retries, &err);
			break;
		case KEY_PRIORITY:
			if (value_int(e->value, &pc->priority) != 0)
				err = "invalid number";
			break;
		case KEY_DEPENDS_ON:
			if (parse_list(e->value, &list, &err) != 0)
				break;
			/* Keep each name once; the order stays as written. */
			for (j = 0; list[j] != NULL; j++) {
				if (strv_contains(pc->depends_on, list[j]))
					continue;
				n = (int)strv_length(pc->depends_on);
				pc->depends_on = xreallocarray(pc->depends_on,
				    (size_t)n + 2, sizeof *pc->depends_on);
				pc->depends_on[n] = xstrdup(list[j]);
				pc->depends_on[n + 1] = NULL;
			}
			pc->depends_line = e->line;
			strv_free(list);
			break;
		case KEY_STOP_SIGNAL:
			parse_signal(e->value, &pc->stop_signal, &err);
			break;
		case KEY_STOP_TIMEOUT:
			parse_duration(e->value, &pc->stop_timeout, &err);
			break;
		case KEY_KILL_SIGNAL:
			parse_signal(e->value, &pc->kill_signal, &err);
			break;
		case KEY_STOP_GROUP:
			if (parse_bool(e->value, &b, &err) != 0)
				break;
			if (stop_group != NULL && b != pc->stop_group) {
				load_error(ld, file, e->line, "%s and %s "
				    "differ: safeexitd has one setting for "
				    "both (stop_group)", stop_group->def->name,
				    e->def->name);
				break;
			}
			pc->stop_group = b;
			stop_group = e;
			break;
		case KEY_STOP_COMMAND:
			pc->stop_command = xstrdup(e->value);
			if (parse_argv(e->value, &pc->stop_argv, &err) != 0)
				pc->stop_argv = NULL;
			else if (pc->stop_argv[0] == NULL ||
			    pc->stop_argv[0][0] == '\0')
				err = "empty program name in";
			break;
		case KEY_STDOUT:
		case KEY_STDERR:
			if (e->def->id == KEY_STDERR)
				stderr_key = e;
			out = e->def->id == KEY_STDOUT ? &pc->out : &pc->err;
			value_output(ld, file, e, dir, e->def->id == KEY_STDERR,
			    out);
			break;
		case KEY_STDOUT_MAX_BYTES:
			parse_size(e->value, &pc->out.max_bytes, &err);
			break;
		case KEY_STDERR_MAX_BYTES:
			parse_size(e->value, &pc->err.max_bytes, &err);
			break;
		case KEY_STDOUT_BACKUPS:
			parse_uint(e->value, &pc->out.backups, &err);
			break;
		case KEY_STDERR_BACKUPS:
			parse_uint(e->value, &pc->err.backups, &err);
			break;
		case KEY_STOP_METHOD:
			/* Windows only, but checked everywhere so a config
			 * moves between systems without surprises. */
			for (j = 0; j < sizeof stop_methods /
			    sizeof stop_methods[0]; j++) {
				if (strcasecmp(e->value,
				    stop_methods[j].name) == 0)
					break;
			}
			if (j < sizeof stop_methods / sizeof stop_methods[0])
				pc->stop_method = stop_methods[j].method;
			else
				load_error(ld, file, e->line, "%s: invalid value "
				    "'%s' (auto, ctrl_c, ctrl_break, wm_close or "
				    "terminate)", e->def->name, e->value);
			break;
		case KEY_REDIRECT_STDERR:
			if (parse_bool(e->value, &redirect_on, &err) == 0)
				redirect = e;
			break;
		case KEY_PROCESS_NAME:
			if (strcmp(e->value, "%(program_name)s") != 0)
				load_error(ld, file, e->line, "supervisord key "
				    "'%s' is not supported", e->def->name);
			break;
		case KEY_NUMPROCS:
			if (parse_uint(e->value, &n, NULL) != 0 || n != 1)
				load_error(ld, file, e->line, "supervisord key "
				    "'%s' is not supported", e->def->name);
			break;
		default:
			fatalx("%s: key %s in the wrong section", __func__,
			    e->def->name);
		}
		if (err != NULL)
			load_error(ld, file, e->line, "%s: %s '%s'",
			    e->def->name, err, e->value);
	}

	if (redirect != NULL && redirect_on) {
		if (stderr_key != NULL && !stderr_key->def->logfile) {
			load_error(ld, file, redirect->line, "%s: conflicts with "
			    "'%s' at line %d", redirect->def->name,
			    stderr_key->def->name, stderr_key->line);
		} else {
			/* supervisord ignores stderr_logfile when stderr is
			 * redirected; a pasted section expects the same. */
			free(pc->err.path);
			pc->err.path = NULL;
			pc->err.kind = OUTPUT_STDOUT;
		}
	}
	/* A command that is there but wrong has been reported already. */
	for (i = 0; i < sec->n_entries; i++) {
		if (sec->entries[i].def->id == KEY_COMMAND)
			break;
	}
	if (i == sec->n_entries)
		load_error(ld, file, sec->line, "program %s: command is required",
		    sec->name);
	pc->fingerprint = config_fingerprint(sec, pc, redirect_on);
	return pc;
}

/* Check that every depends_on name exists and that no cycle exists. */
static void
config_check_depends(struct load *ld, struct config *cfg,
    struct section **secs)
{
	struct program_config	*pc;
	size_t			 i, j, *stack, depth = 0;
	int			*color;

	for (i = 0; i < cfg->n_programs; i++) {
		pc = cfg->programs[i];
		for (j = 0; pc->depends_on[j] != NULL; j++) {
			if (config_index(cfg, pc->depends_on[j]) < 0) {
				load_error(ld, secs[i]->file, pc->depends_line,
				    "depends_on: unknown program '%s'",
				    pc->depends_on[j]);
			}
		}
	}

	/* 0: not visited, 1: on the current path, 2: done. */
	color = xcalloc(cfg->n_programs, sizeof *color);
	stack = xcalloc(cfg->n_programs, sizeof *stack);
	for (i = 0; i < cfg->n_programs; i++) {
		if (color[i] == 0)
			config_walk_depends(ld, cfg, secs, i, color, stack,
			    &depth);
	}
	free(stack);
	free(color);
}

/*
 * Depth-first walk from program i.  Meeting a program that is on the path
 * closes a cycle, reported at the depends_on line of the program it starts
 * from, as "a -> b -> a".
 */
static void
config_walk_depends(struct load *ld, struct config *cfg,
    struct section **secs, size_t i, int *color, size_t *stack,
    size_t *depth)
{
	struct program_config	*pc = cfg->programs[i], *first;
	ssize_t			 k;
	size_t			 j, s, start, len;
	char			*msg, *w;

	color[i] = 1;
	stack[(*depth)++] = i;
	for (j = 0; pc->depends_on[j] != NULL; j++) {
		if ((k = config_index(cfg, pc->depends_on[j])) < 0)
			continue;
		if (color[k] == 0) {
			config_walk_depends(ld, cfg, secs, (size_t)k, color,
			    stack, depth);
			continue;
		}
		if (color[k] != 1)
			continue;

		for (start = 0; stack[start] != (size_t)k; start++)
			;
		len = strlen(cfg->programs[k]->name) + 1;
		for (s = start; s < *depth; s++)
			len += strlen(cfg->programs[stack[s]]->name) + 4;
		msg = w = xcalloc(1, len);
		for (s = start; s < *depth; s++) {
			w += sprintf(w, "%s -> ", cfg->programs[stack[s]]->name);
		}
		sprintf(w, "%s", cfg->programs[k]->name);
		first = cfg->programs[k];
		load_error(ld, secs[k]->file, first->depends_line,
		    "depends_on: dependency cycle %s", msg);
		free(msg);
	}
	(*depth)--;
	color[i] = 2;
}

/* The index of the program called name in cfg, or -1. */
static ssize_t
config_index(const struct config *cfg, const char *name)
{
	size_t	i;

	for (i = 0; i < cfg->n_programs; i++) {
		if (cfg->programs[i] != NULL &&
		    strcmp(cfg->programs[i]->name, name) == 0)
			return (ssize_t)i;
	}
	return -1;
}

/*
 * Load path and the files it includes.  Nothing is returned unless all of
 * it is valid, so a reload with a broken file keeps the running config.
 */
struct config *
config_load(const char *path, struct config_errors *errs)
{
	struct load		  ld;
	struct config		 *cfg;
	struct section		**secs;
	struct stat		  st;
	FILE			 *fp;
	size_t			  i, n;
	int			  main_file;

	memset(&ld, 0, sizeof ld);
	cfg = xcalloc(1, sizeof *cfg);
	cfg->file = xstrdup(path);

	main_file = load_add_file(&ld, path);
	if ((fp = config_files_open_main(path)) == NULL)
		load_error(&ld, main_file, 0, "cannot open: %s", strerror(errno));
	else if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		load_error(&ld, main_file, 0, "cannot open: %s", strerror(EISDIR));
		fclose(fp);
	} else {
		load_seen(&ld, fp);
		load_parse_file(&ld, main_file, fp, true);
		fclose(fp);
	}

	config_build_main(&ld, cfg);
	load_includes(&ld, main_file);

	secs = xcalloc(ld.n_sections, sizeof *secs);
	n = 0;
	for (i = 0; i < ld.n_sections; i++) {
		if (ld.sections[i]->kind == SECTION_PROGRAM)
			secs[n++] = ld.sections[i];
	}
	cfg->programs = xcalloc(n, sizeof *cfg->programs);
	for (i = 0; i < n; i++)
		cfg->programs[cfg->n_programs++] = config_build_program(&ld,
		    secs[i]);
	config_check_depends(&ld, cfg, secs);
	free(secs);

	if (ld.n_problems != 0) {
		config_free(cfg);
		cfg = NULL;
	}
	load_finish_errors(&ld, errs);
	load_free(&ld);
	return cfg;
}

/* Free a config and every program config still in it. */
void
config_free(struct config *cfg)
{
	size_t	i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->n_programs; i++)
		program_config_free(cfg->programs[i]);
	free(cfg->programs);
	free(cfg->file);
	free(cfg->socket);
	free(cfg->socket_group);
	free(cfg->pidfile);
	free(cfg->log);
	free(cfg);
}

/* Free one program's config; NULL is fine. */
void
program_config_free(struct program_config *pc)
{
	if (pc == NULL)
		return;
	free(pc->name);
	free(pc->file);
	free(pc->command);
	strv_free(pc->argv);
	free(pc->directory);
	free(pc->user);
	free(pc->group);
	strv_free(pc->environment);
	free(pc->exitcodes);
	strv_free(pc->depends_on);
	free(pc->stop_command);
	strv_free(pc->stop_argv);
	free(pc->out.path);
	free(pc->err.path);
	free(pc->fingerprint);
	free(pc);
}

/* Free the messages of a load; the struct itself is the caller's. */
void
config_errors_free(struct config_errors *errs)
{
	size_t	i;

	if (errs == NULL)
		return;
	for (i = 0; i < errs->n; i++)
		free(errs->msgs[i]);
	free(errs->msgs);
	errs->msgs = NULL;
	errs->n = 0;
}

/* The program called name, or NULL. */
const struct program_config *
config_find(const struct config *cfg, const char *name)
{
	ssize_t	i;

	if (cfg == NULL || name == NULL || (i = config_index(cfg, name)) < 0)
		return NULL;
	return cfg->programs[i];
}

/* Whether an exit code is one of the program's exitcodes. */
bool
program_config_exit_ok(const struct program_config *pc, int code)
{
	size_t	i;

	for (i = 0; i < pc->n_exitcodes; i++) {
		if (pc->exitcodes[i] == code)
			return true;
	}
	return false;
}

/* The config-file spelling of a restart policy. */
const char *
restart_policy_name(enum restart_policy p)
{
	if ((unsigned)p >= sizeof restart_policy_names /
	    sizeof restart_policy_names[0])
		return "unknown";
	return restart_policy_names[p];
}

/* The name of an output kind, for status and messages. */
const char *
output_kind_name(enum output_kind k)
{
	if ((unsigned)k >= sizeof output_kind_names / sizeof output_kind_names[0])
		return "unknown";
	return output_kind_names[k];
}
