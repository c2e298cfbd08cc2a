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
	[OUTPUT_JOURNAL] = "journal",
};

/* The words of stdout and stderr; a file path is anything else. */
static const struct config_word output_words[] = {
	{ "null", OUTPUT_NULL, false },
	{ "syslog", OUTPUT_SYSLOG, false },
	{ "inherit", OUTPUT_INHERIT, false },
	{ "stdout", OUTPUT_STDOUT, false },
	{ "journal", OUTPUT_JOURNAL, false },
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
#ifndef HAVE_LIBSYSTEMD
		if (w->value == OUTPUT_JOURNAL) {
			config_key_error(b, e, "'journal' needs a safeexitd "
			    "built with libsystemd");
			return -1;
		}
#endif
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

/* Whether https can be probed in this build (probe-tls.c). */
#ifdef HAVE_TLS_PROBES
#define BUILD_TLS_OK	true
#else
#define BUILD_TLS_OK	false
#endif

/* ready, health: a check (check.h), parsed and compiled now. */
static int
build_check_set(struct config_build *b, const struct config_key *k,
    const struct entry *e, enum check_use use)
{
	struct check	*c = CONFIG_FIELD(k, b->obj, struct check);
	char		 err[256];

	if (check_parse(e->value, use, BUILD_TLS_OK, c, err, sizeof err) != 0) {
		config_key_error(b, e, "%s", err);
		return -1;
	}
	return 0;
}

/* ready = running | notify | fd:N | tcp:... | http(s)://... | exec:... | log:... */
static int
build_ready_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	return build_check_set(b, k, e, CHECK_USE_READY);
}

/* health = tcp:... | http(s)://... | exec:... | watchdog:DURATION */
static int
build_health_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	return build_check_set(b, k, e, CHECK_USE_HEALTH);
}

/* Give a copied program its own check. */
static void
build_check_dup(const struct config_key *k, void *obj)
{
	check_dup(CONFIG_FIELD(k, obj, struct check));
}

/* Free a check. */
static void
build_check_release(const struct config_key *k, void *obj)
{
	check_release(CONFIG_FIELD(k, obj, struct check));
}

/*
 * depends_on: names, each maybe NAME:exited (wait for a one-shot to have
 * exited well).  The names land in depends_on without the suffix, so the
 * graph walks see plain names; the exited ones are listed in aux as well.
 */
static int
build_depends_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	strv_t	*names = CONFIG_FIELD(k, b->obj, strv_t);
	strv_t	*exited = (strv_t *)(void *)((char *)b->obj + k->aux);
	size_t	 i, n = 0, len;
	char	*colon;

	if (config_type_list.set(b, k, e) != 0)
		return -1;
	strv_free(*exited);
	*exited = xcalloc(strv_length(*names) + 1, sizeof **exited);
	for (i = 0; (*names)[i] != NULL; i++) {
		/* GROUP:PROCESS is a name; only ":exited" at the end is not. */
		if ((colon = strrchr((*names)[i], ':')) == NULL ||
		    strcmp(colon, ":exited") != 0)
			continue;
		len = (size_t)(colon - (*names)[i]);
		if (len == 0) {
			config_key_error(b, e, "NAME or NAME:exited expected, "
			    "not '%s'", (*names)[i]);
			return -1;
		}
		*colon = '\0';
		(*exited)[n++] = xstrndup((*names)[i], len);
	}
	return 0;
}

/* Copy depends_on and its exited names. */
static void
build_depends_dup(const struct config_key *k, void *obj)
{
	strv_t	*names = CONFIG_FIELD(k, obj, strv_t);
	strv_t	*exited = (strv_t *)(void *)((char *)obj + k->aux);

	if (*names != NULL)
		*names = strv_copy(*names);
	if (*exited != NULL)
		*exited = strv_copy(*exited);
}

/* Free depends_on and its exited names. */
static void
build_depends_release(const struct config_key *k, void *obj)
{
	strv_free(*CONFIG_FIELD(k, obj, strv_t));
	strv_free(*(strv_t *)(void *)((char *)obj + k->aux));
}

const struct config_type config_type_ready = {
	build_ready_set, build_check_dup, build_check_release
};
const struct config_type config_type_health = {
	build_health_set, build_check_dup, build_check_release
};
const struct config_type config_type_depends = {
	build_depends_set, build_depends_dup, build_depends_release
};
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
/*
 * Set every entry of sec into b->obj, each by its key's type, after
 * supervisord's expansions (b->ctx).  The expanded entries live in
 * b->expanded until config_build_done(), since setters keep pointers to them.
 */
void
config_build_entries(struct config_build *b, const struct section *sec)
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
void
config_build_done(struct config_build *b)
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

/* The entry of sec for the key called name, or NULL. */
const struct entry *
config_section_entry(const struct section *sec, const char *name)
{
	size_t	i;

	for (i = sec->n_entries; i-- > 0;) {
		if (strcmp(sec->entries[i].key->name, name) == 0)
			return &sec->entries[i];
	}
	return NULL;
}

/* Whether the daemon reads an output (a pipe): not null, not inherited. */
static bool
build_output_read(const struct output_config *oc)
{
	return oc->kind != OUTPUT_NULL && oc->kind != OUTPUT_INHERIT;
}

/* Checks across the readiness and health keys. */
static void
build_check_ready(struct config_build *b, const struct section *sec,
    struct program_config *pc)
{
	const struct { const char *key; double v; } positive[] = {
		{ "ready_interval", pc->ready_interval },
		{ "health_interval", pc->health_interval },
		{ "health_timeout", pc->health_timeout },
	};
	const struct entry	*e;
	bool			 err_read;
	size_t			 i;

	err_read = pc->err.kind == OUTPUT_STDOUT ? build_output_read(&pc->out) :
	    build_output_read(&pc->err);
	if (pc->ready.kind == CHECK_LOG && !build_output_read(&pc->out) &&
	    !err_read && (e = config_section_entry(sec, "ready")) != NULL)
		config_key_error(b, e, "log: needs stdout or stderr read by the "
		    "daemon (not null or inherit)");
	for (i = 0; i < sizeof positive / sizeof positive[0]; i++) {
		if (positive[i].v <= 0 &&
		    (e = config_section_entry(sec, positive[i].key)) != NULL)
			config_key_error(b, e, "must be more than 0 seconds");
	}
	if ((e = config_section_entry(sec, "health_retries")) != NULL &&
	    pc->health_retries < 1)
		config_key_error(b, e, "must be at least 1");
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

/* Validate one process of a program-like section, from the defaults in
 * tmpl. */
struct program_config *
config_build_program(struct load *ld, struct config *cfg, const struct section *sec,
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
	config_build_entries(&b, sec);
	build_redirect(&b, pc);
	config_sv_program(&b, cfg, pc);
	build_check_ready(&b, sec, pc);
	build_required(&b, sec);
	if (pc->user != NULL && !config_files_user_exists(pc->user)) {
		for (size_t i = 0; i < b.n_expanded; i++)
			if (strcmp(b.expanded[i].key->name, "user") == 0)
				config_key_error(&b, &b.expanded[i],
				    "no such user '%s'", pc->user);
	}
	pc->fingerprint = config_fingerprint(sec, pc, b.have_out,
	    b.stderr_key != NULL || (b.redirect != NULL && b.redirect_on));
	/* What [supervisord] environment gives it is part of its settings. */
	for (size_t i = 0; cfg->environment != NULL &&
	    cfg->environment[i] != NULL; i++) {
		char *fp = xasprintf("%s\n[supervisord] %s", pc->fingerprint,
		    cfg->environment[i]);

		free(pc->fingerprint);
		pc->fingerprint = fp;
	}
	config_build_done(&b);
	return pc;
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
	strv_t			 names, exited;
	size_t			 i, j, k, n_to = 0, cap = 16, n_names, n_exited;
	size_t			*first, *to;
	bool			 is_exited;

	first = xcalloc(cfg->n_programs + 1, sizeof *first);
	to = xcalloc(cap, sizeof *to);
	for (i = 0; i < cfg->n_programs; i++) {
		pc = cfg->programs[i];
		first[i] = n_to;
		names = xcalloc(1, sizeof *names);
		exited = xcalloc(1, sizeof *exited);
		n_names = n_exited = 0;
		for (j = 0; pc->depends_on[j] != NULL; j++) {
			const char	*d = pc->depends_on[j];
			size_t		 before = n_to;

			is_exited = strv_contains(pc->depends_exited, d);
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
				if (!is_exited)
					continue;
				exited = xreallocarray(exited, n_exited + 2,
				    sizeof *exited);
				exited[n_exited++] = xstrdup(
				    cfg->programs[to[k]]->name);
				exited[n_exited] = NULL;
			}
		}
		strv_free(pc->depends_on);
		pc->depends_on = names;
		strv_free(pc->depends_exited);
		pc->depends_exited = exited;
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
	groups = config_sv_groups(ld, &n_groups, member_of);
	ranges = xcalloc(ld->n_sections + 1, sizeof *ranges);
	/* The defaults are parsed once, then copied into each program. */
	memset(&tmpl, 0, sizeof tmpl);
	config_keys_defaults(&tmpl, CK_PROGRAM);
	for (i = 0; i < ld->n_sections; i++) {
		if (!SECTION_IS_PROGRAM(ld->sections[i]->kind))
			continue;
		ld->sections[i]->program = n;
		config_sv_instances(ld, cfg, ld->sections[i], &tmpl,
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
	config_sv_daemon(&ld, cfg, 0, n_main, seen, seen_file);
	load_includes(&ld, 0);
	config_sv_daemon(&ld, cfg, n_main, ld.n_sections, seen, seen_file);
	config_sv_daemon_finish(&ld, cfg);
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

/* Whether pc waits for dependency name to have exited (NAME:exited). */
bool
program_config_waits_exit(const struct program_config *pc, const char *name)
{
	return strv_contains(pc->depends_exited, name);
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
