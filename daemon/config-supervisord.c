/*
 * supervisord's side of the config: the daemon's sections ([safeexitd],
 * [supervisord], [unix_http_server]...) built in the order they were read,
 * the keys supervisord has and safeexitd takes with supervisord's meaning
 * (stopasgroup and killasgroup, *_syslog, AUTO logs, the environment it
 * gives programs, the keys that only draw a warning), [group:] sections,
 * and the numprocs processes of a program section.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config-load.h"

/* What the daemon says about a supervisord key it takes but does not act
 * on, unless the value is the row's default (which means the same here). */
static const struct {
	const char	*key;
	const char	*msg;
} notices[] = {
	{ "logfile_maxbytes", "has no effect: the daemon does not rotate its "
	    "own log (use logrotate)" },
	{ "nodaemon", "safeexitd stays in the foreground unless started "
	    "with -d" },
	{ "silent", "has no effect: the daemon's log goes where logfile says" },
	{ "strip_ansi", "has no effect: program output is written as it is" },
	{ "username", "has no effect on the Unix socket: no password is "
	    "asked there; the socket's mode and owner say who may connect" },
};

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
void
config_sv_daemon(struct load *ld, struct config *cfg, size_t from, size_t to,
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
		config_build_entries(&b, sec);
		config_build_done(&b);
	}
}

/*
 * [inet_http_server]: a port the listener can take, and a password
 * wherever others than this machine's users could reach it.
 */
static void
config_sv_http_finish(struct load *ld, struct config *cfg)
{
	char		 host[256];
	const char	*err;
	int		 port;

	if (cfg->http_port == NULL) {
		if (cfg->http_username != NULL || cfg->http_password != NULL)
			load_warning(ld, 0, cfg->http_password_line, "[inet_"
			    "http_server] has username or password but no "
			    "port: no TCP listener");
		return;
	}
	if (parse_inet_address(cfg->http_port, host, sizeof host, &port,
	    &err) != 0) {
		load_error(ld, 0, cfg->http_port_line, "port: %s", err);
		return;
	}
	if ((cfg->http_username == NULL) != (cfg->http_password == NULL)) {
		load_error(ld, 0, cfg->http_port_line, "[inet_http_server] "
		    "needs both username and password, or neither");
		return;
	}
	if (cfg->http_password != NULL &&
	    strncasecmp(cfg->http_password, "{SHA}", 5) == 0) {
		load_error(ld, 0, cfg->http_password_line, "password: {SHA} "
		    "hashes are not taken; give the password itself (the "
		    "file should then be readable by root only)");
		return;
	}
	if (cfg->http_password == NULL && !inet_host_loopback(host))
		load_error(ld, 0, cfg->http_port_line, "port: '%s' listens "
		    "on %s: without username and password only a loopback "
		    "address (127.0.0.1, ::1, localhost) is allowed",
		    cfg->http_port, *host == '\0' ? "every interface" : host);
}

/* The daemon's settings after every file was read: the socket's owner,
 * its mode with a group, and the user the daemon drops to. */
void
config_sv_daemon_finish(struct load *ld, struct config *cfg)
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
	config_sv_http_finish(ld, cfg);
	if (cfg->daemon_user != NULL &&
	    !config_files_user_exists(cfg->daemon_user))
		load_error(ld, 0, cfg->daemon_user_line, "user: no such user "
		    "'%s'", cfg->daemon_user);
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
 * Where a program reaches the daemon's XML-RPC, as supervisord says it:
 * the program's serverurl unless AUTO, else the Unix socket the config
 * names, else the TCP port; NULL when neither is in the config.
 */
static char *
build_serverurl(const struct config *cfg, const struct program_config *pc)
{
	char		 host[256];
	const char	*err;
	int		 port;

	if (pc->serverurl != NULL && strcasecmp(pc->serverurl, "AUTO") != 0)
		return (xstrdup(pc->serverurl));
	if (cfg->socket != NULL)
		return (xasprintf("unix://%s", cfg->socket));
	if (cfg->http_port != NULL && parse_inet_address(cfg->http_port,
	    host, sizeof host, &port, &err) == 0)
		return (xasprintf("http://%s:%d", *host != '\0' ? host :
		    "localhost", port));
	return (NULL);
}

/*
 * The environment a supervisord config gives its programs beyond the
 * daemon's: SUPERVISOR_ENABLED, SUPERVISOR_PROCESS_NAME,
 * SUPERVISOR_GROUP_NAME and SUPERVISOR_SERVER_URL, then [supervisord]
 * environment, then the program's own, which wins.
 */
static void
build_environment(const struct config *cfg, struct program_config *pc)
{
	strv_t	env;
	size_t	i, n = 0, len;
	char	*url;

	if (!cfg->supervisord)
		return;
	env = xcalloc(strv_length(cfg->environment) +
	    strv_length(pc->environment) + 5, sizeof *env);
	env[n++] = xstrdup("SUPERVISOR_ENABLED=1");
	env[n++] = xasprintf("SUPERVISOR_PROCESS_NAME=%s", pc->process_name);
	env[n++] = xasprintf("SUPERVISOR_GROUP_NAME=%s", pc->group_name);
	if ((url = build_serverurl(cfg, pc)) != NULL) {
		env[n++] = xasprintf("SUPERVISOR_SERVER_URL=%s", url);
		free(url);
	}
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

/*
 * A number of a program section read before it is built (numprocs,
 * numprocs_start): expanded without process_num, as supervisord does.
 */
static int
build_early_number(struct load *ld, const struct section *sec,
    const struct expand_ctx *ctx, const char *name, int def)
{
	const struct entry	*e = config_section_entry(sec, name);
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
	const struct entry	*e = config_section_entry(sec, "environment");
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


/* Read the [group:G] sections: each member must be a program section, in
 * one group only; member_of[section index] is the group's index + 1. */
struct build_group *
config_sv_groups(struct load *ld, size_t *n_groups, size_t *member_of)
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
		if ((e = config_section_entry(sec, "priority")) != NULL) {
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
		if ((e = config_section_entry(sec, "programs")) == NULL) {
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


/*
 * Build the processes of one program section: numprocs of them from
 * numprocs_start, each named by process_name, in its group.
 */
void
config_sv_instances(struct load *ld, struct config *cfg, struct section *sec,
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
	pn = config_section_entry(sec, "process_name");
	if (numprocs > 1 && (pn == NULL ||
	    strstr(pn->value, "%(process_num)") == NULL)) {
		load_error(ld, sec->file, pn != NULL ? pn->line :
		    config_section_entry(sec, "numprocs")->line,
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
		pc = config_build_program(ld, cfg, sec, tmpl, &in, own_env);
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

/* What supervisord's keys of a program need once every key is set. */
void
config_sv_program(struct config_build *b, const struct config *cfg,
    struct program_config *pc)
{
	build_sv_group(b, pc);
	build_sv_syslog(b, pc);
	build_auto_logs(cfg, pc);
	build_environment(cfg, pc);
}
