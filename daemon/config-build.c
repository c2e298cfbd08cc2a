/*
 * Building the config: the entries config-read.c collected are set key by
 * key into a struct config and its program configs, each by its row's type
 * (config-keys.c).  What cannot be a row lives here: the keys whose values
 * need code of their own (the daemon's log, include, cgroups, exitcodes,
 * outputs, supervisord's stopasgroup/killasgroup, redirect_stderr,
 * process_name and numprocs), the checks across keys, and the check of
 * depends_on.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config-load.h"
#include "depgraph.h"

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

/* The words of stdout and stderr; a file path is anything else. */
static const struct config_word output_words[] = {
	{ "null", OUTPUT_NULL, false },
	{ "syslog", OUTPUT_SYSLOG, false },
	{ "inherit", OUTPUT_INHERIT, false },
	{ "stdout", OUTPUT_STDOUT, false },
	{ NULL, 0, false },
};

/* AUTO: a file in childlogdir, named once the program's name is known. */
#define OUTPUT_AUTO	100

/* supervisord's words for stdout_logfile and stderr_logfile. */
static const struct config_word logfile_words[] = {
	{ "NONE", OUTPUT_NULL, false },
	{ "OFF", OUTPUT_NULL, false },
	{ "AUTO", OUTPUT_AUTO, false },
	{ "syslog", OUTPUT_SYSLOG, false },
	{ NULL, 0, false },
};

/* What the daemon says about a supervisord key it takes but does not act
 * on, unless the value is the row's default (which means the same here). */
static const struct {
	const char	*key;
	const char	*msg;
} notices[] = {
	{ "serverurl", "has no effect: safeexitd has no XML-RPC interface, "
	    "programs get no SUPERVISOR_SERVER_URL" },
	{ "logfile_maxbytes", "has no effect: the daemon does not rotate its "
	    "own log (use logrotate)" },
	{ "nodaemon", "safeexitd stays in the foreground unless started "
	    "with -d" },
	{ "silent", "has no effect: the daemon's log goes where logfile says" },
	{ "strip_ansi", "has no effect: program output is written as it is" },
	{ "port", "the HTTP server is not in this version: "
	    "[inet_http_server] has no effect" },
	{ "username", "has no effect: no password is asked; the socket's "
	    "mode and owner say who may connect" },
};

static ssize_t		 config_index(const struct config *, const char *);

/* Free a string field (the daemon's log). */
static void
build_string_release(const struct config_key *k, void *obj)
{
	free(*CONFIG_FIELD(k, obj, char *));
}

/* log: stderr, syslog, journal, or a file taken from the file's folder. */
static int
build_log_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	static const char *const words[] = { "stderr", "syslog", "journal" };
	char	**f = CONFIG_FIELD(k, b->obj, char *);
	size_t	  i;

	free(*f);
	for (i = 0; i < sizeof words / sizeof words[0]; i++) {
		if (strcasecmp(e->value, words[i]) == 0) {
			*f = xstrdup(words[i]);
			return 0;
		}
	}
	*f = path_resolve(b->dir, e->value);
	return 0;
}

/* include: globs of more files, read once the main file is built. */
static int
build_include_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	struct load	*ld = b->ld;
	strv_t		 globs;
	const char	*err;
	size_t		 j;

	(void)k;
	if (parse_list(e->value, &globs, &err) != 0) {
		config_key_error(b, e, "%s", err);
		return -1;
	}
	for (j = 0; globs[j] != NULL; j++) {
		ld->includes = xreallocarray(ld->includes, ld->n_includes + 1,
		    sizeof *ld->includes);
		ld->includes[ld->n_includes].pattern = xstrdup(globs[j]);
		ld->includes[ld->n_includes].line = e->line;
		ld->n_includes++;
	}
	strv_free(globs);
	return 0;
}

/* cgroups: "auto" (where a cgroup v2 subtree is delegated, cgroup.c) or off. */
static int
build_cgroups_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	bool	*f = CONFIG_FIELD(k, b->obj, bool);

	if (strcasecmp(e->value, "auto") == 0) {
		*f = true;
		return 0;
	}
	if (parse_bool(e->value, f, NULL) != 0 || *f) {
		config_key_error(b, e, "'auto' or 'off' expected, not '%s'",
		    e->value);
		return -1;
	}
	return 0;
}

/* exitcodes: a list of numbers 0-255 into exitcodes and n_exitcodes. */
static int
build_exitcodes_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	struct program_config	*pc = b->obj;
	strv_t			 list;
	const char		*err;
	size_t			 j;
	int			 n, rc = 0;

	(void)k;
	if (parse_list(e->value, &list, &err) != 0)
		return config_value_error(b, e, err);
	pc->n_exitcodes = 0;
	for (j = 0; list[j] != NULL; j++) {
		if (parse_uint(list[j], &n, NULL) != 0 || n > 255) {
			config_key_error(b, e, "'%s' is not an exit code (0-255)",
			    list[j]);
			rc = -1;
			continue;
		}
		pc->exitcodes = xreallocarray(pc->exitcodes, pc->n_exitcodes + 1,
		    sizeof *pc->exitcodes);
		pc->exitcodes[pc->n_exitcodes++] = n;
	}
	if (list[0] == NULL)
		rc = config_value_error(b, e, "no exit code given");
	strv_free(list);
	return rc;
}

/* Copy the exit codes (after a struct copy of the template). */
static void
build_exitcodes_dup(const struct config_key *k, void *obj)
{
	struct program_config	*pc = obj;
	int			*codes;

	(void)k;
	codes = xcalloc(pc->n_exitcodes, sizeof *codes);
	if (pc->n_exitcodes > 0)
		memcpy(codes, pc->exitcodes, pc->n_exitcodes * sizeof *codes);
	pc->exitcodes = codes;
}

/* Free the exit codes. */
static void
build_exitcodes_release(const struct config_key *k, void *obj)
{
	(void)k;
	free(((struct program_config *)obj)->exitcodes);
}

/* stop_group: the stop signal and the kill go to the whole group. */
static int
build_stop_group_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	const char	*err;

	if (parse_bool(e->value, CONFIG_FIELD(k, b->obj, bool), &err) != 0)
		return config_value_error(b, e, err);
	b->stop_group = e;
	return 0;
}

/*
 * supervisord's stopasgroup and killasgroup, with their own meaning: the
 * stop signal goes to the group with stopasgroup, the kill with either.
 * Noted here, applied by build_sv_group() once every key is set.
 */
static int
build_sv_group_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	const char	*err;
	bool		 v;

	if (parse_bool(e->value, &v, &err) != 0)
		return config_value_error(b, e, err);
	if (strcmp(k->name, "stopasgroup") == 0) {
		b->stopasgroup = e;
		b->stopasgroup_on = v;
	} else {
		b->killasgroup = e;
		b->killasgroup_on = v;
	}
	return 0;
}

/* stdout_syslog, stderr_syslog: noted, applied by build_sv_syslog(). */
static int
build_sv_syslog_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	const char	*err;
	bool		 v;

	if (parse_bool(e->value, &v, &err) != 0)
		return config_value_error(b, e, err);
	if (strcmp(k->name, "stdout_syslog") == 0)
		b->stdout_syslog = v ? e : NULL;
	else
		b->stderr_syslog = v ? e : NULL;
	return 0;
}

/* Whether a and b mean the same: as booleans, as sizes, or as words. */
static bool
build_same_value(const char *a, const char *b)
{
	bool		ba, bb;
	long long	sa, sb;

	if (parse_bool(a, &ba, NULL) == 0 && parse_bool(b, &bb, NULL) == 0)
		return ba == bb;
	if (parse_size(a, &sa, NULL) == 0 && parse_size(b, &sb, NULL) == 0)
		return sa == sb;
	return strcasecmp(a, b) == 0;
}

/* A supervisord key accepted with no effect here: a warning says so,
 * unless its value is its default (the row's def), which means the same. */
static int
build_notice_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	size_t	i;

	if (b->ld == NULL || (k->def != NULL && build_same_value(e->value,
	    k->def)))
		return 0;
	for (i = 0; i < sizeof notices / sizeof notices[0]; i++) {
		if (strcmp(notices[i].key, k->name) == 0)
			break;
	}
	load_warning(b->ld, b->file, e->line, "%s: %s", e->spelling,
	    i < sizeof notices / sizeof notices[0] ? notices[i].msg :
	    "has no effect here");
	return 0;
}

/*
 * stdout or stderr: a word, or a file taken from the folder of the file the
 * section is in (as include globs are).  supervisord's spellings
 * (stdout_logfile, stderr_logfile) take supervisord's words.
 */
static int
build_output_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	struct output_config		*out;
	const struct config_word	*w;
	bool				 is_stderr;

	out = CONFIG_FIELD(k, b->obj, struct output_config);
	is_stderr = k->offset == offsetof(struct program_config, err);
	if (is_stderr)
		b->stderr_key = e;
	else
		b->have_out = true;
	free(out->path);
	out->path = NULL;
	w = e->spelling == k->name ? output_words : logfile_words;
	for (; w->word != NULL; w++) {
		if (strcasecmp(w->word, e->value) != 0)
			continue;
		if (w->value == OUTPUT_STDOUT && !is_stderr) {
			config_key_error(b, e, "'stdout' is a destination for "
			    "stderr only");
			return -1;
		}
		if (w->value == OUTPUT_AUTO) {
			/* Named by build_auto_logs(); a file with no path yet. */
			out->kind = OUTPUT_FILE;
			return 0;
		}
		out->kind = (enum output_kind)w->value;
		return 0;
	}
	out->kind = OUTPUT_FILE;
	out->path = path_resolve(b->dir, e->value);
	return 0;
}

/* Copy an output's path. */
static void
build_output_dup(const struct config_key *k, void *obj)
{
	struct output_config	*out = CONFIG_FIELD(k, obj, struct output_config);

	if (out->path != NULL)
		out->path = xstrdup(out->path);
}

/* Free an output's path. */
static void
build_output_release(const struct config_key *k, void *obj)
{
	free(CONFIG_FIELD(k, obj, struct output_config)->path);
}

/* redirect_stderr: noted here, applied once every key is set. */
static int
build_redirect_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	const char	*err;

	(void)k;
	if (parse_bool(e->value, &b->redirect_on, &err) != 0)
		return config_value_error(b, e, err);
	b->redirect = e;
	return 0;
}

/* process_name, numprocs, numprocs_start: read by build_instances()
 * before the program is built; nothing to set here. */
static int
build_process_name_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	(void)b;
	(void)k;
	(void)e;
	return 0;
}

const struct config_type config_type_log = {
	build_log_set, NULL, build_string_release
};
const struct config_type config_type_include = { build_include_set, NULL, NULL };
const struct config_type config_type_cgroups = { build_cgroups_set, NULL, NULL };
const struct config_type config_type_exitcodes = {
	build_exitcodes_set, build_exitcodes_dup, build_exitcodes_release
};
const struct config_type config_type_stop_group = {
	build_stop_group_set, NULL, NULL
};
const struct config_type config_type_output = {
	build_output_set, build_output_dup, build_output_release
};
const struct config_type config_type_redirect = {
	build_redirect_set, NULL, NULL
};
const struct config_type config_type_process_name = {
	build_process_name_set, NULL, NULL
};
const struct config_type config_type_sv_group = {
	build_sv_group_set, NULL, NULL
};
const struct config_type config_type_sv_syslog = {
	build_sv_syslog_set, NULL, NULL
};
const struct config_type config_type_notice = { build_notice_set, NULL, NULL };

/*
 * Set every entry of sec into b->obj, each by its key's type, after
 * supervisord's expansions (b->ctx).  The expanded entries live in
 * b->expanded until build_done(), since setters keep pointers to them.
 */
static void
build_entries(struct config_build *b, const struct section *sec)
{
	struct entry	*e;
	char		*err;
	size_t		 i;

	b->expanded = xcalloc(sec->n_entries + 1, sizeof *b->expanded);
	b->n_expanded = sec->n_entries;
	for (i = 0; i < sec->n_entries; i++) {
		e = &b->expanded[i];
		*e = sec->entries[i];
		e->value = NULL;
		if (config_expand(sec->entries[i].value, b->ctx, &e->value,
		    &err) == -1) {
			config_key_error(b, e, "%s", err);
			free(err);
			continue;
		}
		if (*e->value == '\0' && e->key->type != &config_type_env) {
			config_key_error(b, e, "empty value");
			continue;
		}
		if (e->key->type->set(b, e->key, e) == 0 && e->key->line != 0)
			*(int *)(void *)((char *)b->obj + e->key->line) = e->line;
	}
}

/* Free what building one section kept. */
static void
build_done(struct config_build *b)
{
	size_t	i;

	for (i = 0; i < b->n_expanded; i++)
		free(b->expanded[i].value);
	free(b->expanded);
	b->expanded = NULL;
	b->n_expanded = 0;
}

/* Whether sec sets the key called name. */
static bool
build_has(const struct section *sec, const char *name)
{
	size_t	i;

	for (i = 0; i < sec->n_entries; i++) {
		if (strcmp(sec->entries[i].key->name, name) == 0)
			return true;
	}
	return false;
}

/* Whether the key k of a daemon section fills the field at offset off. */
static bool
build_daemon_field(const struct config_key *k)
{
	return !(k->flags & CK_PROGRAM) && k->type != &config_type_accepted &&
	    k->type != &config_type_notice && k->type != &config_type_include;
}

/*
 * Build the daemon's sections of one part of the load, in the order they
 * were read: [safeexitd] and supervisord's [supervisord],
 * [unix_http_server], [inet_http_server], [supervisorctl], [include].  A
 * daemon setting given in two of them (or twice across files) counts as
 * last read, with a warning naming both places.
 */
static void
build_daemon(struct load *ld, struct config *cfg, size_t from, size_t to,
    const struct entry **seen, int *seen_file)
{
	struct config_build	 b;
	struct expand_ctx	 ctx;
	struct section		*sec;
	const struct entry	*e;
	size_t			 i, j, row;

	for (i = from; i < to; i++) {
		sec = ld->sections[i];
		if (SECTION_IS_PROGRAM(sec->kind) ||
		    sec->kind == SECTION_GROUP ||
		    sec->kind == SECTION_RPCINTERFACE)
			continue;
		if (sec->kind == SECTION_SUPERVISORD)
			cfg->supervisord = true;
		if (sec->kind == SECTION_INCLUDE && sec->file != 0) {
			/* supervisord does not read includes of includes. */
			load_warning(ld, sec->file, sec->line, "[include] is "
			    "read in the main file only (as supervisord does)");
			continue;
		}
		memset(&ctx, 0, sizeof ctx);
		ctx.here = ld->heres[sec->file];
		ctx.process_num = ctx.numprocs = -1;
		memset(&b, 0, sizeof b);
		b.ld = ld;
		b.file = sec->file;
		b.dir = ld->dirs[sec->file];
		b.obj = cfg;
		b.ctx = &ctx;
		for (j = 0; j < sec->n_entries; j++) {
			e = &sec->entries[j];
			if (!build_daemon_field(e->key))
				continue;
			/* Rows sharing a field are one setting. */
			for (row = 0; row < config_n_keys; row++) {
				if (build_daemon_field(&config_keys[row]) &&
				    config_keys[row].offset == e->key->offset)
					break;
			}
			if (seen[row] != NULL && seen[row]->line != 0)
				load_warning(ld, sec->file, e->line, "%s: the "
				    "daemon's setting was also given at %s:%d "
				    "(%s): the last one read counts",
				    e->spelling, ld->files[seen_file[row]],
				    seen[row]->line, seen[row]->spelling);
			seen[row] = e;
			seen_file[row] = sec->file;
			if (e->key->offset == offsetof(struct config, socket_mode))
				cfg->socket_mode_set = true;
		}
		build_entries(&b, sec);
		build_done(&b);
	}
}

/* The daemon's settings after every file was read: the socket's owner,
 * its mode with a group, and the user the daemon drops to. */
static void
build_daemon_finish(struct load *ld, struct config *cfg)
{
	char	*colon;

	if (cfg->socket_owner != NULL &&
	    (colon = strchr(cfg->socket_owner, ':')) != NULL) {
		/* chown = USER:GROUP */
		*colon = '\0';
		if (cfg->socket_group == NULL && colon[1] != '\0')
			cfg->socket_group = xstrdup(colon + 1);
	}
	if (cfg->socket_owner != NULL && *cfg->socket_owner == '\0') {
		free(cfg->socket_owner);
		cfg->socket_owner = NULL;
	}
	if (cfg->socket_group != NULL && !cfg->socket_mode_set)
		cfg->socket_mode = 0660;
	if (cfg->daemon_user != NULL &&
	    !config_files_user_exists(cfg->daemon_user))
		load_error(ld, 0, cfg->daemon_user_line, "user: no such user "
		    "'%s'", cfg->daemon_user);
}

/*
 * With redirect_stderr, stderr goes where stdout goes: supervisord ignores
 * stderr_logfile then, and a pasted section expects the same; safeexitd's
 * own stderr key says otherwise and conflicts.
 */
static void
build_redirect(struct config_build *b, struct program_config *pc)
{
	if (b->redirect == NULL || !b->redirect_on)
		return;
	if (b->stderr_key != NULL &&
	    b->stderr_key->spelling == b->stderr_key->key->name) {
		config_key_error(b, b->redirect, "conflicts with '%s' at line %d",
		    b->stderr_key->spelling, b->stderr_key->line);
		return;
	}
	free(pc->err.path);
	pc->err.path = NULL;
	pc->err.kind = OUTPUT_STDOUT;
}

/*
 * supervisord's stopasgroup and killasgroup: killasgroup defaults to
 * stopasgroup, and stopasgroup without killasgroup is refused (as
 * supervisord does).  Set with neither, safeexitd's stop_group holds.
 */
static void
build_sv_group(struct config_build *b, struct program_config *pc)
{
	bool	kill_group;

	if (b->stopasgroup == NULL && b->killasgroup == NULL)
		return;
	if (b->stop_group != NULL) {
		config_key_error(b, b->stopasgroup != NULL ? b->stopasgroup :
		    b->killasgroup, "conflicts with 'stop_group' at line %d",
		    b->stop_group->line);
		return;
	}
	kill_group = b->killasgroup != NULL ? b->killasgroup_on :
	    b->stopasgroup_on;
	if (b->stopasgroup_on && !kill_group) {
		config_key_error(b, b->killasgroup, "cannot be false with "
		    "stopasgroup = true (as in supervisord)");
		return;
	}
	pc->stop_group = kill_group;
	pc->stop_main_only = kill_group && !b->stopasgroup_on;
}

/*
 * stdout_syslog, stderr_syslog: an output with no file of its own goes to
 * syslog; copying to syslog beside a file is not done, and said so.
 */
static void
build_sv_syslog(struct config_build *b, struct program_config *pc)
{
	const struct entry	*e[2] = { b->stdout_syslog, b->stderr_syslog };
	struct output_config	*out[2] = { &pc->out, &pc->err };
	bool			 given[2] = { b->have_out, b->stderr_key != NULL };
	int			 i;

	for (i = 0; i < 2; i++) {
		if (e[i] == NULL)
			continue;
		if (out[i]->kind == OUTPUT_NULL || !given[i] ||
		    (i == 1 && out[i]->kind == OUTPUT_STDOUT &&
		    b->redirect_on)) {
			if (i == 1 && b->redirect_on)
				continue;	/* stderr is in stdout's */
			free(out[i]->path);
			out[i]->path = NULL;
			out[i]->kind = OUTPUT_SYSLOG;
		} else if (out[i]->kind != OUTPUT_SYSLOG)
			load_warning(b->ld, b->file, e[i]->line, "%s: the "
			    "output goes to its file only; safeexitd does not "
			    "also copy it to syslog", e[i]->spelling);
	}
}

/* The name of an AUTO log: supervisord's NAME-CHANNEL---IDENTIFIER-XXXXXX.log,
 * its last part a hash (so a reload keeps the same file) not random. */
static char *
build_auto_name(const char *dir, const char *name, const char *channel,
    const char *ident)
{
	static const char	digits[] = "abcdefghijklmnopqrstuvwxyz0123456789_";
	unsigned long long	h = 0xcbf29ce484222325ULL;
	const char		*parts[3] = { name, channel, ident }, *p;
	char			 tag[7];
	int			 i;

	for (i = 0; i < 3; i++) {
		for (p = parts[i]; *p != '\0'; p++) {
			h ^= (unsigned char)*p;
			h *= 0x100000001b3ULL;
		}
	}
	for (i = 0; i < 6; i++) {
		tag[i] = digits[h % (sizeof digits - 1)];
		h /= sizeof digits - 1;
	}
	tag[6] = '\0';
	return xasprintf("%s/%s-%s---%s-%s.log", dir, name, channel, ident, tag);
}

/* Name the AUTO logs of a program in childlogdir (or the temporary folder,
 * as supervisord's default). */
static void
build_auto_logs(const struct config *cfg, struct program_config *pc)
{
	const char	*dir = cfg->childlogdir;

	if (dir == NULL && ((dir = getenv("TMPDIR")) == NULL || *dir != '/'))
		dir = "/tmp";
	if (pc->out.kind == OUTPUT_FILE && pc->out.path == NULL)
		pc->out.path = build_auto_name(dir, pc->process_name, "stdout",
		    cfg->identifier);
	if (pc->err.kind == OUTPUT_FILE && pc->err.path == NULL)
		pc->err.path = build_auto_name(dir, pc->process_name, "stderr",
		    cfg->identifier);
}

/*
 * The environment a supervisord config gives its programs beyond the
 * daemon's: SUPERVISOR_ENABLED, SUPERVISOR_PROCESS_NAME and
 * SUPERVISOR_GROUP_NAME, then [supervisord] environment, then the
 * program's own, which wins.
 */
static void
build_environment(const struct config *cfg, struct program_config *pc)
{
	strv_t	env;
	size_t	i, n = 0, len;

	if (!cfg->supervisord)
		return;
	env = xcalloc(strv_length(cfg->environment) +
	    strv_length(pc->environment) + 4, sizeof *env);
	env[n++] = xstrdup("SUPERVISOR_ENABLED=1");
	env[n++] = xasprintf("SUPERVISOR_PROCESS_NAME=%s", pc->process_name);
	env[n++] = xasprintf("SUPERVISOR_GROUP_NAME=%s", pc->group_name);
	for (i = 0; cfg->environment != NULL && cfg->environment[i] != NULL;
	    i++)
		env[n++] = xstrdup(cfg->environment[i]);
	for (i = 0; pc->environment != NULL && pc->environment[i] != NULL;
	    i++)
		env[n++] = xstrdup(pc->environment[i]);
	/* Later entries win: drop an earlier one a later one sets again. */
	for (i = 0; i < n; i++) {
		len = strcspn(env[i], "=");
		for (size_t j = i + 1; j < n; j++) {
			if (strncmp(env[i], env[j], len + 1) == 0) {
				free(env[i]);
				env[i] = NULL;
				break;
			}
		}
	}
	for (i = 0, len = 0; i < n; i++)
		if (env[i] != NULL)
			env[len++] = env[i];
	env[len] = NULL;
	strv_free(pc->environment);
	pc->environment = env;
}

/* Report the required keys sec lacks (a wrong value was reported already). */
static void
build_required(struct config_build *b, const struct section *sec)
{
	unsigned	flag = config_section_flag(sec->kind) | CK_REQUIRED;
	size_t		i;

	for (i = 0; i < config_n_keys; i++) {
		if ((config_keys[i].flags & flag) == flag &&
		    !build_has(sec, config_keys[i].name))
			load_error(b->ld, sec->file, sec->line,
			    "%s %s: %s is required",
			    config_section_title(sec->kind), sec->name,
			    config_keys[i].name);
	}
}

/* One process of a program section, as numprocs makes them. */
struct build_instance {
	const char	*group;		/* [group:G], or the section's name */
	char		*process;	/* process_name, expanded */
	int		 num;		/* process_num */
	int		 numprocs;
};

/* Validate one process of a program-like section, from the defaults in
 * tmpl. */
static struct program_config *
build_program(struct load *ld, struct config *cfg, const struct section *sec,
    const struct program_config *tmpl, const struct build_instance *in,
    strv_t own_env)
{
	struct config_build	 b = { .ld = ld };
	struct expand_ctx	 ctx;
	struct program_config	*pc;
	static char		*start_dir;

	pc = xcalloc(1, sizeof *pc);
	*pc = *tmpl;
	config_keys_dup(pc, CK_PROGRAM);
	pc->process_name = xstrdup(in->process);
	pc->group_name = xstrdup(in->group);
	pc->name = strcmp(in->group, in->process) == 0 ? xstrdup(in->process) :
	    xasprintf("%s:%s", in->group, in->process);
	pc->kind = sec->kind == SECTION_EVENTLISTENER ?
	    PROGRAM_KIND_EVENTLISTENER : sec->kind == SECTION_FCGI_PROGRAM ?
	    PROGRAM_KIND_FCGI : PROGRAM_KIND_PROGRAM;
	pc->file = xstrdup(ld->files[sec->file]);
	pc->line = sec->line;
	/* supervisord runs a program without directory in its own folder. */
	if (cfg->supervisord && !build_has(sec, "directory")) {
		if (start_dir == NULL)
			start_dir = config_files_cwd();
		if (start_dir != NULL) {
			free(pc->directory);
			pc->directory = xstrdup(start_dir);
		}
	}

	memset(&ctx, 0, sizeof ctx);
	ctx.here = ld->heres[sec->file];
	ctx.program_name = sec->name;
	ctx.group_name = in->group;
	ctx.process_num = in->num;
	ctx.numprocs = in->numprocs;
	ctx.env = own_env;
	b.file = sec->file;
	b.dir = ld->dirs[sec->file];
	b.obj = pc;
	b.ctx = &ctx;
	build_entries(&b, sec);
	build_redirect(&b, pc);
	build_sv_group(&b, pc);
	build_sv_syslog(&b, pc);
	build_required(&b, sec);
	build_auto_logs(cfg, pc);
	build_environment(cfg, pc);
	if (pc->user != NULL && !config_files_user_exists(pc->user)) {
		for (size_t i = 0; i < b.n_expanded; i++)
			if (strcmp(b.expanded[i].key->name, "user") == 0)
				config_key_error(&b, &b.expanded[i],
				    "no such user '%s'", pc->user);
	}
	pc->fingerprint = config_fingerprint(sec, pc, b.have_out,
	    b.stderr_key != NULL || (b.redirect != NULL && b.redirect_on));
	build_done(&b);
	return pc;
}

/* The raw entry of sec for the key called name, or NULL. */
static const struct entry *
build_entry(const struct section *sec, const char *name)
{
	size_t	i;

	for (i = 0; i < sec->n_entries; i++) {
		if (strcmp(sec->entries[i].key->name, name) == 0)
			return &sec->entries[i];
	}
	return NULL;
}

/*
 * A number of a program section read before it is built (numprocs,
 * numprocs_start): expanded without process_num, as supervisord does.
 */
static int
build_early_number(struct load *ld, const struct section *sec,
    const struct expand_ctx *ctx, const char *name, int def)
{
	const struct entry	*e = build_entry(sec, name);
	char			*v, *err;
	int			 n;

	if (e == NULL)
		return def;
	if (config_expand(e->value, ctx, &v, &err) == -1) {
		load_error(ld, sec->file, e->line, "%s: %s", e->spelling, err);
		free(err);
		return -1;
	}
	if (parse_uint(v, &n, NULL) != 0) {
		load_error(ld, sec->file, e->line, "%s: not a number '%s'",
		    e->spelling, v);
		n = -1;
	}
	free(v);
	return n;
}

/* The program's own environment, raw, so its keys are ENV_ names for its
 * other values (supervisord's behaviour); NULL when it has none. */
static strv_t
build_own_env(const struct section *sec, const struct expand_ctx *ctx)
{
	const struct entry	*e = build_entry(sec, "environment");
	strv_t			 env = NULL;
	char			*v, *err;

	if (e == NULL)
		return NULL;
	if (config_expand(e->value, ctx, &v, &err) == -1) {
		free(err);	/* reported when the key itself is set */
		return NULL;
	}
	if (parse_env(v, &env, NULL) != 0)
		env = NULL;
	free(v);
	return env;
}

/* What one [group:G] section says: its name, members and priority. */
struct build_group {
	const struct section	 *sec;
	strv_t			  members;
	int			  priority;
	bool			  has_priority;
};

/* Read the [group:G] sections: each member must be a program section, in
 * one group only; member_of[section index] is the group's index + 1. */
static struct build_group *
build_groups(struct load *ld, size_t *n_groups, size_t *member_of)
{
	struct build_group	*groups = NULL, *g;
	struct expand_ctx	 ctx;
	struct section		*sec, *m;
	const struct entry	*e;
	char			*v, *err, *tok, *save;
	size_t			 i, n = 0;

	for (i = 0; i < ld->n_sections; i++) {
		sec = ld->sections[i];
		if (sec->kind != SECTION_GROUP)
			continue;
		groups = xreallocarray(groups, n + 1, sizeof *groups);
		g = &groups[n++];
		memset(g, 0, sizeof *g);
		g->sec = sec;
		memset(&ctx, 0, sizeof ctx);
		ctx.here = ld->heres[sec->file];
		ctx.process_num = ctx.numprocs = -1;
		g->members = xcalloc(1, sizeof *g->members);
		if ((e = build_entry(sec, "priority")) != NULL) {
			if (config_expand(e->value, &ctx, &v, &err) == -1) {
				load_error(ld, sec->file, e->line, "priority: "
				    "%s", err);
				free(err);
			} else {
				errno = 0;
				g->priority = (int)strtol(v, &tok, 10);
				if (*v == '\0' || *tok != '\0' || errno != 0)
					load_error(ld, sec->file, e->line,
					    "priority: invalid number '%s'", v);
				g->has_priority = true;
				free(v);
			}
		}
		if ((e = build_entry(sec, "programs")) == NULL) {
			load_error(ld, sec->file, sec->line, "group %s: "
			    "programs is required", sec->name);
			continue;
		}
		if (config_expand(e->value, &ctx, &v, &err) == -1) {
			load_error(ld, sec->file, e->line, "programs: %s", err);
			free(err);
			continue;
		}
		for (tok = strtok_r(v, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			while (is_blank(*tok) || *tok == '\n')
				tok++;
			for (char *end = tok + strlen(tok); end > tok &&
			    (is_blank(end[-1]) || end[-1] == '\n');)
				*--end = '\0';
			if (*tok == '\0')
				continue;
			if ((m = section_find_program(ld, tok)) == NULL) {
				load_error(ld, sec->file, e->line, "programs: "
				    "no [program:%s] (or eventlistener, "
				    "fcgi-program)", tok);
				continue;
			}
			for (size_t s = 0; s < ld->n_sections; s++) {
				if (ld->sections[s] != m)
					continue;
				if (member_of[s] != 0) {
					load_error(ld, sec->file, e->line,
					    "programs: %s is already in group "
					    "%s", tok,
					    groups[member_of[s] - 1].sec->name);
					break;
				}
				member_of[s] = n;
				break;
			}
		}
		free(v);
	}
	*n_groups = n;
	return groups;
}

/* Where a program section's processes are in cfg->programs. */
struct build_range {
	size_t	first, n;
};

/*
 * Build the processes of one program section: numprocs of them from
 * numprocs_start, each named by process_name, in its group.
 */
static void
build_instances(struct load *ld, struct config *cfg, struct section *sec,
    const struct program_config *tmpl, const struct build_group *group,
    struct build_range *range, struct section ***prog_secs)
{
	struct build_instance	 in;
	struct expand_ctx	 ctx;
	const struct entry	*pn;
	struct program_config	*pc;
	strv_t			 own_env;
	char			*err;
	int			 numprocs, start, k;

	memset(&ctx, 0, sizeof ctx);
	ctx.here = ld->heres[sec->file];
	ctx.program_name = sec->name;
	ctx.group_name = group != NULL ? group->sec->name : sec->name;
	ctx.process_num = ctx.numprocs = -1;
	numprocs = build_early_number(ld, sec, &ctx, "numprocs", 1);
	start = build_early_number(ld, sec, &ctx, "numprocs_start", 0);
	range->first = cfg->n_programs;
	range->n = 0;
	if (numprocs < 0 || start < 0)
		return;
	pn = build_entry(sec, "process_name");
	if (numprocs > 1 && (pn == NULL ||
	    strstr(pn->value, "%(process_num)") == NULL)) {
		load_error(ld, sec->file, pn != NULL ? pn->line :
		    build_entry(sec, "numprocs")->line,
		    "process_name: numprocs = %d needs %%(process_num) in "
		    "process_name, so each process has a name of its own "
		    "(as supervisord requires)", numprocs);
		return;
	}
	ctx.numprocs = numprocs;
	for (k = start; k < start + numprocs; k++) {
		memset(&in, 0, sizeof in);
		in.group = ctx.group_name;
		in.num = k;
		in.numprocs = numprocs;
		ctx.process_num = k;
		own_env = build_own_env(sec, &ctx);
		{
			struct expand_ctx pctx = ctx;

			pctx.env = own_env;
			if (pn == NULL)
				in.process = xstrdup(sec->name);
			else if (config_expand(pn->value, &pctx, &in.process,
			    &err) == -1) {
				load_error(ld, sec->file, pn->line,
				    "process_name: %s", err);
				free(err);
				strv_free(own_env);
				return;
			}
		}
		if (!program_name_valid(in.process)) {
			load_error(ld, sec->file, pn != NULL ? pn->line :
			    sec->line, "process_name: invalid name '%s' "
			    "(letters, digits, '_', '.' and '-'; at most %d "
			    "characters)", in.process, CONFIG_NAME_MAX);
			free(in.process);
			strv_free(own_env);
			return;
		}
		pc = build_program(ld, cfg, sec, tmpl, &in, own_env);
		if (group != NULL && group->has_priority)
			pc->priority = group->priority;
		free(in.process);
		strv_free(own_env);
		cfg->programs = xreallocarray(cfg->programs,
		    cfg->n_programs + 1, sizeof *cfg->programs);
		*prog_secs = xreallocarray(*prog_secs, cfg->n_programs + 1,
		    sizeof **prog_secs);
		(*prog_secs)[cfg->n_programs] = sec;
		cfg->programs[cfg->n_programs++] = pc;
		range->n++;
	}
}

/* What a cycle report needs to name the programs and the line. */
struct build_cycles {
	struct load		 *ld;
	struct config		 *cfg;
	struct section		**secs;
};

/* Report a dependency cycle as "a -> b -> a" at the depends_on line of the
 * program it starts from. */
static void
build_cycle_found(void *arg, const size_t *path, size_t len)
{
	struct build_cycles	*bc = arg;
	struct program_config	*first = bc->cfg->programs[path[0]];
	char			*msg, *w;
	size_t			 s, size = strlen(first->name) + 1;

	for (s = 0; s < len; s++)
		size += strlen(bc->cfg->programs[path[s]]->name) + 4;
	msg = w = xcalloc(1, size);
	for (s = 0; s < len; s++)
		w += sprintf(w, "%s -> ", bc->cfg->programs[path[s]]->name);
	sprintf(w, "%s", first->name);
	load_error(bc->ld, bc->secs[path[0]]->file, first->depends_line,
	    "depends_on: dependency cycle %s", msg);
	free(msg);
}

/*
 * Check that every depends_on name exists and that no cycle exists.  A
 * name is a program section (every one of its processes), a process's full
 * name (GROUP:PROCESS), or a [group:] (every process in it).  Each
 * program's depends_on is rewritten to the full names it stands for, which
 * is what the daemon looks programs up by.
 */
static void
build_check_depends(struct load *ld, struct config *cfg,
    struct section **secs, const struct build_range *ranges)
{
	struct build_cycles	 bc = { ld, cfg, secs };
	struct program_config	*pc;
	struct section		*dep;
	strv_t			 names;
	size_t			 i, j, k, n_to = 0, cap = 16, n_names, *first, *to;

	first = xcalloc(cfg->n_programs + 1, sizeof *first);
	to = xcalloc(cap, sizeof *to);
	for (i = 0; i < cfg->n_programs; i++) {
		pc = cfg->programs[i];
		first[i] = n_to;
		names = xcalloc(1, sizeof *names);
		n_names = 0;
		for (j = 0; pc->depends_on[j] != NULL; j++) {
			const char	*d = pc->depends_on[j];
			size_t		 before = n_to;

			if ((dep = section_find_program(ld, d)) != NULL) {
				for (k = ranges[dep->program].first;
				    k < ranges[dep->program].first +
				    ranges[dep->program].n; k++) {
					if (n_to == cap)
						to = xreallocarray(to, cap *= 2,
						    sizeof *to);
					to[n_to++] = k;
				}
			} else {
				for (k = 0; k < cfg->n_programs; k++) {
					if (strcmp(cfg->programs[k]->name, d) !=
					    0 && (section_find_group(ld, d) ==
					    NULL || strcmp(cfg->programs[k]->
					    group_name, d) != 0))
						continue;
					if (n_to == cap)
						to = xreallocarray(to, cap *= 2,
						    sizeof *to);
					to[n_to++] = k;
				}
			}
			if (dep == NULL && n_to == before &&
			    section_find_group(ld, d) == NULL)
				load_error(ld, secs[i]->file, pc->depends_line,
				    "depends_on: unknown program '%s'", d);
			for (k = before; k < n_to; k++) {
				names = xreallocarray(names, n_names + 2,
				    sizeof *names);
				names[n_names++] = xstrdup(
				    cfg->programs[to[k]]->name);
				names[n_names] = NULL;
			}
		}
		strv_free(pc->depends_on);
		pc->depends_on = names;
	}
	first[cfg->n_programs] = n_to;
	depgraph_find_cycles(cfg->n_programs, first, to, build_cycle_found, &bc);
	free(to);
	free(first);
}

/* Build every program section, in file order, and check depends_on. */
static void
build_programs(struct load *ld, struct config *cfg)
{
	struct program_config	  tmpl;
	struct build_group	 *groups;
	struct build_range	 *ranges;
	struct section		**secs = NULL;
	size_t			  i, n = 0, n_groups, *member_of;

	member_of = xcalloc(ld->n_sections + 1, sizeof *member_of);
	groups = build_groups(ld, &n_groups, member_of);
	ranges = xcalloc(ld->n_sections + 1, sizeof *ranges);
	/* The defaults are parsed once, then copied into each program. */
	memset(&tmpl, 0, sizeof tmpl);
	config_keys_defaults(&tmpl, CK_PROGRAM);
	for (i = 0; i < ld->n_sections; i++) {
		if (!SECTION_IS_PROGRAM(ld->sections[i]->kind))
			continue;
		ld->sections[i]->program = n;
		build_instances(ld, cfg, ld->sections[i], &tmpl,
		    member_of[i] != 0 ? &groups[member_of[i] - 1] : NULL,
		    &ranges[n], &secs);
		n++;
	}
	config_keys_release(&tmpl, CK_PROGRAM);
	for (i = 0; i < n_groups; i++)
		strv_free(groups[i].members);
	free(groups);
	free(member_of);
	build_check_depends(ld, cfg, secs, ranges);
	free(ranges);
	free(secs);
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
	const struct entry	**seen;
	int			 *seen_file;
	size_t			  n_main;

	memset(&ld, 0, sizeof ld);
	cfg = xcalloc(1, sizeof *cfg);
	cfg->file = xstrdup(path);
	config_keys_defaults(cfg, CK_DAEMON);
	seen = xcalloc(config_n_keys, sizeof *seen);
	seen_file = xcalloc(config_n_keys, sizeof *seen_file);

	/* The main file first: its [include] and include say what else. */
	load_main(&ld, path);
	n_main = ld.n_sections;
	build_daemon(&ld, cfg, 0, n_main, seen, seen_file);
	load_includes(&ld, 0);
	build_daemon(&ld, cfg, n_main, ld.n_sections, seen, seen_file);
	build_daemon_finish(&ld, cfg);
	build_programs(&ld, cfg);
	free(seen);
	free(seen_file);

	if (ld.n_problems != 0) {
		config_free(cfg);
		cfg = NULL;
	} else
		load_take_warnings(&ld, cfg);
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
	config_keys_release(cfg, CK_DAEMON);
	for (i = 0; i < cfg->n_warnings; i++)
		free(cfg->warnings[i]);
	free(cfg->warnings);
	free(cfg);
}

/* Free one program's config; NULL is fine. */
void
program_config_free(struct program_config *pc)
{
	if (pc == NULL)
		return;
	free(pc->name);
	free(pc->process_name);
	free(pc->group_name);
	free(pc->file);
	config_keys_release(pc, CK_PROGRAM);
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
