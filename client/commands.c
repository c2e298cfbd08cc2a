/*
 * The commands of safeexitctl: one table entry each (name, usage, operand
 * counts, options, handler), the option parser they share, and how their
 * results are printed and turned into exit codes.  tail.c reads the log
 * file that `tail` asks the daemon for.
 *
 * Text status, one line per program, columns aligned, no header:
 *	NAME  STATE     DETAIL
 * where DETAIL is "pid 4250, uptime 0:12:05" (uptime D days, H:MM:SS) while
 * a process runs, else the last exit ("exit 1", "signal KILL"), or for a
 * failed start the reason ("exec /usr/bin/nope: No such file or
 * directory"), or nothing for a program that never ran.
 */
#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "kill.h"
#include "parse.h"
#include "protocol.h"
#include "reply.h"
#include "safeexitctl.h"
#include "tail.h"
#include "top.h"

static int	cmd_status(const struct cmd_entry *, struct cmd_args *);
static int	cmd_start(const struct cmd_entry *, struct cmd_args *);
static int	cmd_stop(const struct cmd_entry *, struct cmd_args *);
static int	cmd_restart(const struct cmd_entry *, struct cmd_args *);
static int	cmd_signal(const struct cmd_entry *, struct cmd_args *);
static int	cmd_reload(const struct cmd_entry *, struct cmd_args *);
static int	cmd_reread(const struct cmd_entry *, struct cmd_args *);
static int	cmd_avail(const struct cmd_entry *, struct cmd_args *);
static int	cmd_clear(const struct cmd_entry *, struct cmd_args *);
static int	cmd_shutdown(const struct cmd_entry *, struct cmd_args *);
static int	cmd_pid(const struct cmd_entry *, struct cmd_args *);
static int	cmd_tail(const struct cmd_entry *, struct cmd_args *);
static int	cmd_maintail(const struct cmd_entry *, struct cmd_args *);
static int	cmd_top(const struct cmd_entry *, struct cmd_args *);
static int	cmd_reexec(const struct cmd_entry *, struct cmd_args *);
static int	cmd_kill(const struct cmd_entry *, struct cmd_args *);
static int	cmd_version(const struct cmd_entry *, struct cmd_args *);

static int	cmd_bad(const struct cmd_entry *, const char *, const char *);
static int	cmd_long(const char *, size_t);
static int	cmd_short(char);
static bool	cmd_has_value(const struct cmd_entry *, int);
static int	cmd_option(const struct cmd_entry *, struct cmd_args *, int,
		    const char *);
static int	cmd_call(const char *, int, char **, enum client_mode,
		    struct json_object **);
static int	cmd_programs(const char *, struct cmd_args *,
		    enum client_mode, const char *const *);
static void	cmd_print_rest(struct json_object *);


/* States that count as reached, per command. */
static const char *const want_running[] = { "RUNNING", NULL };
static const char *const want_stopped[] = {
	"STOPPED", "EXITED", "FATAL", NULL
};

static const struct cmd_entry cmd_table[] = {
	{ "status", "[NAME...]",
	  "one line per program: NAME STATE PID/EXIT UPTIME",
	  "  Columns: name, state, then \"pid N, uptime H:MM:SS\" while it "
	  "runs,\n"
	  "  else its last exit (\"exit 1\", \"signal KILL\") or why it "
	  "failed to start.\n"
	  "  Exit 0 when every program listed is RUNNING, else 1.\n"
	  "  --json prints {\"daemon\": {...}, \"programs\": [...]}.\n",
	  "", 0, -1, 0, cmd_status },
	{ "start", "NAME...|all",
	  "start programs (and their dependencies); wait until RUNNING or "
	  "FATAL",
	  "  Exit 0 when every program is RUNNING, else 1.\n",
	  "", 1, -1, 0, cmd_start },
	{ "stop", "[--no-wait] NAME...|all",
	  "staged stop (dependents first); wait until stopped",
	  "  --no-wait  return once the stop has begun\n"
	  "  Exit 0 when every program is STOPPED, EXITED or FATAL, else 1.\n",
	  "W", 1, -1, 0, cmd_stop },
	{ "restart", "NAME...|all",
	  "stop, then start again; wait until RUNNING or FATAL",
	  "  Exit 0 when every program is RUNNING, else 1.\n",
	  "", 1, -1, 0, cmd_restart },
	{ "signal", "SIG NAME...|all",
	  "send SIG (TERM, HUP, USR1, 15, ...) to running programs",
	  "  Exit 1 when a program is not running.\n",
	  "", 2, -1, 0, cmd_signal },
	{ "reload", "",
	  "re-read the config: start added, stop removed, restart changed",
	  "  Exit 1, printing every problem, when the config is bad; then "
	  "nothing\n  changes.\n",
	  "", 0, 0, 0, cmd_reload },
	{ "update", "",
	  "the same as reload (supervisorctl's spelling)",
	  "  Exit 1, printing every problem, when the config is bad; then "
	  "nothing\n  changes.\n",
	  "", 0, 0, 0, cmd_reload },
	{ "reread", "",
	  "say what reload would change (by group), change nothing",
	  "  Lines \"NAME: available\", \"NAME: changed\", \"NAME: "
	  "disappeared\", or\n  \"No config updates to processes\".  "
	  "Exit 1, printing every problem,\n  when the config is bad.\n",
	  "", 0, 0, 0, cmd_reread },
	{ "avail", "",
	  "every configured program: in use, auto/manual start, priority",
	  NULL, "", 0, 0, 0, cmd_avail },
	{ "clear", "NAME...|all",
	  "empty programs' stdout and stderr log files in place",
	  "  Exit 1 when a program has no log file or it cannot be "
	  "emptied.\n",
	  "", 1, -1, 0, cmd_clear },
	{ "shutdown", "",
	  "staged stop of everything, then the daemon exits",
	  NULL, "", 0, 0, 0, cmd_shutdown },
	{ "pid", "[NAME]",
	  "the daemon's pid, or the program's",
	  "  Exit 1 when the program is not running.\n",
	  "", 0, 1, 0, cmd_pid },
	{ "tail", "[-f] [-n N] NAME [stdout|stderr]",
	  "last N (10) lines of a program's file log; -f follows it",
	  "  -f, --follow     keep printing what is appended, across "
	  "rotations,\n"
	  "                   until interrupted (-t does not end it)\n"
	  "  -n, --lines N    print the last N lines (default 10)\n",
	  "fn:", 1, 2, 0, cmd_tail },
	{ "maintail", "[-f] [-n N]",
	  "last N (10) lines of the daemon's own log file; -f follows it",
	  "  -f, --follow     keep printing what is appended, across "
	  "rotations,\n"
	  "                   until interrupted (-t does not end it)\n"
	  "  -n, --lines N    print the last N lines (default 10)\n"
	  "  Exit 1, saying where the log goes, when it is not a file.\n",
	  "fn:", 0, 0, 0, cmd_maintail },
	{ "top", "",
	  "live table of programs: state, CPU %, memory, restarts, OOM kills",
	  "  Refreshed each second on a terminal until q or Ctrl-C; printed "
	  "once\n  (after two samples a second apart) otherwise.\n",
	  "", 0, 0, 0, cmd_top },
	{ "reexec", "",
	  "the daemon re-executes its binary, keeping programs and socket",
	  NULL, "", 0, 0, 0, cmd_reexec },
	{ "kill", "[-S SIG] [-t SECS] PID...",
	  "safe kill of any process, no daemon needed: SIG, wait, SIGKILL",
	  NULL, "", 0, -1, CMD_RAW, cmd_kill },
	{ "version", "",
	  "the daemon's version",
	  NULL, "", 0, 0, 0, cmd_version },
};

/* top: the live table (top.c). */
static int
cmd_top(const struct cmd_entry *entry, struct cmd_args *args)
{
	(void)entry;
	(void)args;
	return (top_run());
}

/* Long options of commands, mapped to their letters. */
static const struct {
	const char	*name;
	int		 ch;
	bool		 long_only;
} cmd_longopts[] = {
	{ "help",	'h',	false },
	{ "json",	'J',	true },
	{ "no-wait",	'W',	true },
	{ "follow",	'f',	false },
	{ "lines",	'n',	false },
};

/* The entry for a command name. */
const struct cmd_entry *
cmd_find(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof cmd_table / sizeof cmd_table[0]; i++)
		if (strcmp(cmd_table[i].name, name) == 0)
			return (&cmd_table[i]);
	return (NULL);
}

/* Every command with its usage, for safeexitctl --help. */
void
cmd_list(FILE *fp)
{
	size_t	i;
	int	n;

	for (i = 0; i < sizeof cmd_table / sizeof cmd_table[0]; i++) {
		n = fprintf(fp, "  %s%s%s", cmd_table[i].name,
		    *cmd_table[i].usage != '\0' ? " " : "",
		    cmd_table[i].usage);
		/* A long usage gets its help on the next line. */
		if (n > 34)
			fprintf(fp, "\n%36s%s\n", "", cmd_table[i].help);
		else
			fprintf(fp, "%*s%s\n", 36 - n, "", cmd_table[i].help);
	}
}

/* One command's usage, for COMMAND --help and usage errors. */
void
cmd_usage(const struct cmd_entry *entry, FILE *fp)
{
	fprintf(fp, "usage: safeexitctl [-s PATH] [-c FILE] [--json] "
	    "[-t SECS] %s%s%s\n  %s\n", entry->name,
	    *entry->usage != '\0' ? " " : "", entry->usage, entry->help);
	if (entry->details != NULL)
		fputs(entry->details, fp);
}

/*
 * Parse a command's options, which may come before, between or after its
 * operands ("--" ends them), check the operand count, and run it.
 */
int
cmd_run(const struct cmd_entry *entry, int argc, char **argv)
{
	struct cmd_args	 args;
	const char	*a, *eq, *value;
	char		 name[32];
	size_t		 len;
	bool		 help = false, only_operands = false;
	int		 k, ch, r;

	memset(&args, 0, sizeof args);
	if (entry->flags & CMD_RAW) {
		args.argc = argc;
		args.argv = argv;
		return (entry->exec(entry, &args));
	}
	if ((args.argv = calloc(argc + 1, sizeof *args.argv)) == NULL) {
		ctl_warn("calloc");
		return (CTL_EXIT_NOT_REACHED);
	}

	for (k = 1; k < argc; k++) {
		a = argv[k];
		if (only_operands || a[0] != '-' || a[1] == '\0') {
			args.argv[args.argc++] = argv[k];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_operands = true;
			continue;
		}
		if (a[1] == '-') {
			a += 2;
			eq = strchr(a, '=');
			len = eq != NULL ? (size_t)(eq - a) : strlen(a);
			snprintf(name, sizeof name, "--%.*s", (int)len, a);
			ch = cmd_long(a, len);
			value = NULL;
			if (cmd_has_value(entry, ch))
				value = eq != NULL ? eq + 1 :
				    k + 1 < argc ? argv[++k] : NULL;
			else if (eq != NULL)
				ch = 0;
			if (cmd_option(entry, &args, ch, value) == -1) {
				free(args.argv);
				return (cmd_bad(entry, "bad option", name));
			}
			help |= ch == 'h';
			continue;
		}
		for (a++; *a != '\0'; a++) {
			snprintf(name, sizeof name, "-%c", *a);
			ch = cmd_short(*a);
			value = NULL;
			if (cmd_has_value(entry, ch))
				value = a[1] != '\0' ? a + 1 :
				    k + 1 < argc ? argv[++k] : NULL;
			if (cmd_option(entry, &args, ch, value) == -1) {
				free(args.argv);
				return (cmd_bad(entry, "bad option", name));
			}
			help |= ch == 'h';
			/* The rest of this word was the value. */
			if (value != NULL)
				break;
		}
	}

	if (help) {
		cmd_usage(entry, stdout);
		free(args.argv);
		return (CTL_EXIT_DONE);
	}
	if (args.argc < entry->min_args) {
		free(args.argv);
		return (cmd_bad(entry, "missing arguments", NULL));
	}
	if (entry->max_args >= 0 && args.argc > entry->max_args) {
		free(args.argv);
		return (cmd_bad(entry, "too many arguments", NULL));
	}
	r = entry->exec(entry, &args);
	free(args.argv);
	return (r);
}

/* The letter of a long option, 0 when there is none. */
static int
cmd_long(const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < sizeof cmd_longopts / sizeof cmd_longopts[0]; i++)
		if (strlen(cmd_longopts[i].name) == len &&
		    strncmp(cmd_longopts[i].name, name, len) == 0)
			return (cmd_longopts[i].ch);
	return (0);
}

/* The letter of a short option, 0 for letters only a long name reaches. */
static int
cmd_short(char c)
{
	size_t	i;

	for (i = 0; i < sizeof cmd_longopts / sizeof cmd_longopts[0]; i++)
		if (cmd_longopts[i].ch == c && cmd_longopts[i].long_only)
			return (0);
	return ((unsigned char)c);
}

/* Whether the command's option ch takes a value. */
static bool
cmd_has_value(const struct cmd_entry *entry, int ch)
{
	const char	*spec;

	if (ch == 0 || ch == 'h' || ch == 'J')
		return (false);
	spec = strchr(entry->options, ch);
	return (spec != NULL && spec[1] == ':');
}

/* Apply one option; -1 when the command has no such option or lacks its value. */
static int
cmd_option(const struct cmd_entry *entry, struct cmd_args *args, int ch,
    const char *value)
{
	if (ch == 'h')
		return (0);
	if (ch == 'J') {
		ctl_opts.json = true;
		return (0);
	}
	if (ch == 0 || strchr(entry->options, ch) == NULL)
		return (-1);
	if (cmd_has_value(entry, ch) && value == NULL)
		return (-1);
	switch (ch) {
	case 'W':
		args->no_wait = true;
		break;
	case 'f':
		args->follow = true;
		break;
	case 'n':
		args->lines = value;
		break;
	}
	return (0);
}

/* A usage error: what is wrong, then the command's usage, exit 2. */
static int
cmd_bad(const struct cmd_entry *entry, const char *what, const char *arg)
{
	if (arg != NULL)
		ctl_warnx("%s: %s: %s", entry->name, what, arg);
	else
		ctl_warnx("%s: %s", entry->name, what);
	cmd_usage(entry, stderr);
	return (CTL_EXIT_USAGE);
}

/* status [NAME...] */
static int
cmd_status(const struct cmd_entry *entry, struct cmd_args *args)
{
	struct json_object	*reply, *out, *daemon, *d, *val, *programs;
	size_t			 i, n;
	int			 r;

	/* Reading what each program uses costs; only --json shows it. */
	if ((r = cmd_call("status", args->argc, args->argv,
	    ctl_opts.json ? CLIENT_QUICK : CLIENT_BRIEF, &reply)) !=
	    CTL_EXIT_DONE)
		return (r);
	programs = reply_programs(reply);

	if (ctl_opts.json) {
		/* Exactly safeexitctl(1)'s shape, whatever else the daemon sends. */
		out = json_object_new_object();
		d = json_object_new_object();
		json_object_object_get_ex(reply, "daemon", &daemon);
		json_object_object_add(d, "pid",
		    json_object_object_get_ex(daemon, "pid", &val) ?
		    json_object_get(val) : NULL);
		json_object_object_add(d, "version",
		    json_object_object_get_ex(daemon, "version", &val) ?
		    json_object_get(val) : NULL);
		json_object_object_add(d, "uptime",
		    json_object_object_get_ex(daemon, "uptime", &val) ?
		    json_object_get(val) : NULL);
		json_object_object_add(out, "daemon", d);
		json_object_object_add(out, "programs",
		    programs_spec(programs));
		ctl_print_json(out);
		json_object_put(out);
	} else
		programs_print(programs);

	if (reply_unknown(reply) > 0)
		r = CTL_EXIT_NOT_REACHED;
	n = programs != NULL ? json_object_array_length(programs) : 0;
	for (i = 0; i < n; i++)
		if (!prog_in(json_object_array_get_idx(programs, i),
		    want_running))
			r = CTL_EXIT_NOT_REACHED;
	json_object_put(reply);
	return (r);
}

/* start NAME...|all */
static int
cmd_start(const struct cmd_entry *entry, struct cmd_args *args)
{
	return (cmd_programs("start", args, CLIENT_WAIT, want_running));
}

/* stop [--no-wait] NAME...|all */
static int
cmd_stop(const struct cmd_entry *entry, struct cmd_args *args)
{
	if (args->no_wait)
		return (cmd_programs("stop", args, CLIENT_NOWAIT, NULL));
	return (cmd_programs("stop", args, CLIENT_WAIT, want_stopped));
}

/* restart NAME...|all */
static int
cmd_restart(const struct cmd_entry *entry, struct cmd_args *args)
{
	return (cmd_programs("restart", args, CLIENT_WAIT, want_running));
}

/* signal SIG NAME...|all */
static int
cmd_signal(const struct cmd_entry *entry, struct cmd_args *args)
{
	struct json_object	*reply, *programs, *p;
	const char		*err;
	int64_t			 pid;
	size_t			 i, n;
	int			 sig, r;

	if (parse_signal(args->argv[0], &sig, &err) != 0)
		return (cmd_bad(entry, err, args->argv[0]));
	if ((r = cmd_call("signal", args->argc, args->argv, CLIENT_QUICK,
	    &reply)) != CTL_EXIT_DONE)
		return (r);
	programs = reply_programs(reply);
	if (ctl_opts.json)
		cmd_print_rest(reply);
	else
		programs_print(programs);
	if (reply_unknown(reply) > 0)
		r = CTL_EXIT_NOT_REACHED;
	/* A program without a process got nothing. */
	n = programs != NULL ? json_object_array_length(programs) : 0;
	for (i = 0; i < n; i++) {
		p = json_object_array_get_idx(programs, i);
		if (!prog_int(p, "pid", &pid) || pid <= 0) {
			ctl_warnx("%s: not running", prog_string(p, "name"));
			r = CTL_EXIT_NOT_REACHED;
		}
	}
	json_object_put(reply);
	return (r);
}

/* reload */
static int
cmd_reload(const struct cmd_entry *entry, struct cmd_args *args)
{
	static const struct {
		const char	*key;
		const char	*label;
	} lists[] = {
		{ "added",		"added" },
		{ "removed",		"removed" },
		{ "changed",		"changed" },
		{ "restart_needed",	"needs a daemon restart" },
	};
	struct json_object	*reply, *list;
	size_t			 i, j, n;
	bool			 any = false;
	int			 r;

	if ((r = cmd_call("reload", 0, NULL, CLIENT_QUICK,
	    &reply)) != CTL_EXIT_DONE)
		return (r);
	if (ctl_opts.json) {
		cmd_print_rest(reply);
		goto out;
	}
	for (i = 0; i < sizeof lists / sizeof lists[0]; i++) {
		if (!json_object_object_get_ex(reply, lists[i].key, &list) ||
		    !json_object_is_type(list, json_type_array) ||
		    (n = json_object_array_length(list)) == 0)
			continue;
		printf("%s:", lists[i].label);
		for (j = 0; j < n; j++)
			printf(" %s", json_object_get_string(
			    json_object_array_get_idx(list, j)));
		printf("\n");
		any = true;
	}
	if (!any)
		printf("no changes\n");
out:
	json_object_put(reply);
	return (r);
}

/* The group a program belongs to, as supervisorctl names it: "G" of "G:P". */
static size_t
group_len(const char *name)
{
	const char	*colon = strchr(name, ':');

	return colon != NULL ? (size_t)(colon - name) : strlen(name);
}

/* Order groups by name for reread. */
static int
group_cmp(const void *a, const void *b)
{
	const char	*x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t		 lx = group_len(x), ly = group_len(y);
	int		 r = strncmp(x, y, lx < ly ? lx : ly);

	return r != 0 ? r : (lx > ly) - (lx < ly);
}

/*
 * reread: supervisorctl's lines, one per group (the programs of a group
 * are "G:P"): available when each of its programs is new, disappeared when
 * each is gone, changed when any other of them differs.
 */
static int
cmd_reread(const struct cmd_entry *entry, struct cmd_args *args)
{
	static const char *const keys[] = {
		"added", "removed", "changed", "unchanged"
	};
	struct json_object	*reply, *list;
	const char		**names = NULL;
	unsigned		*kinds = NULL;
	size_t			 i, j, k, n = 0, total = 0, len;
	bool			 any = false;
	int			 r;

	if ((r = cmd_call("reread", 0, NULL, CLIENT_QUICK,
	    &reply)) != CTL_EXIT_DONE)
		return (r);
	if (ctl_opts.json) {
		cmd_print_rest(reply);
		goto out;
	}
	for (k = 0; k < 4; k++)
		if (json_object_object_get_ex(reply, keys[k], &list) &&
		    json_object_is_type(list, json_type_array))
			total += json_object_array_length(list);
	if (total > 0 && ((names = calloc(total, sizeof *names)) == NULL ||
	    (kinds = calloc(total, sizeof *kinds)) == NULL)) {
		ctl_warn("calloc");
		r = CTL_EXIT_NOT_REACHED;
		goto out;
	}
	/* One entry per group, with a bit for each kind its programs have. */
	for (k = 0; k < 4; k++) {
		if (!json_object_object_get_ex(reply, keys[k], &list) ||
		    !json_object_is_type(list, json_type_array))
			continue;
		for (i = 0; i < json_object_array_length(list); i++) {
			const char *name = json_object_get_string(
			    json_object_array_get_idx(list, i));

			len = group_len(name);
			for (j = 0; j < n; j++)
				if (group_len(names[j]) == len &&
				    strncmp(names[j], name, len) == 0)
					break;
			if (j == n)
				names[n++] = name;
			kinds[j] |= 1u << k;
		}
	}
	/* Insertion sort by group name; names and kinds move together. */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && group_cmp(&names[j - 1], &names[j]) > 0;
		    j--) {
			const char	*tn = names[j];
			unsigned	 tk = kinds[j];

			names[j] = names[j - 1];
			kinds[j] = kinds[j - 1];
			names[j - 1] = tn;
			kinds[j - 1] = tk;
		}
	for (i = 0; i < n; i++) {
		const char	*what;

		if (kinds[i] == 1u)
			what = "available";
		else if (kinds[i] == 2u)
			what = "disappeared";
		else if (kinds[i] != 8u)
			what = "changed";
		else
			continue;
		printf("%.*s: %s\n", (int)group_len(names[i]), names[i], what);
		any = true;
	}
	if (!any)
		printf("No config updates to processes\n");
out:
	free(names);
	free(kinds);
	json_object_put(reply);
	return (r);
}

/* avail: supervisorctl's columns. */
static int
cmd_avail(const struct cmd_entry *entry, struct cmd_args *args)
{
	struct json_object	*reply, *programs, *p, *val;
	char			 prio[32];
	size_t			 i, n;
	int64_t			 priority;
	int			 r;

	if ((r = cmd_call("avail", 0, NULL, CLIENT_QUICK,
	    &reply)) != CTL_EXIT_DONE)
		return (r);
	if (ctl_opts.json) {
		ctl_print_json(reply_programs(reply));
		goto out;
	}
	programs = reply_programs(reply);
	n = programs != NULL ? json_object_array_length(programs) : 0;
	for (i = 0; i < n; i++) {
		p = json_object_array_get_idx(programs, i);
		if (!prog_int(p, "priority", &priority))
			priority = 999;
		/* The group's priority, then the program's: one value here. */
		snprintf(prio, sizeof prio, "%lld:%lld", (long long)priority,
		    (long long)priority);
		printf("%-32s %-9s %-9s %s\n", prog_string(p, "name"),
		    json_object_object_get_ex(p, "in_use", &val) &&
		    !json_object_get_boolean(val) ? "avail" : "in use",
		    json_object_object_get_ex(p, "autostart", &val) &&
		    json_object_get_boolean(val) ? "auto" : "manual", prio);
	}
out:
	json_object_put(reply);
	return (r);
}

/* clear NAME...|all: "NAME: cleared", or why not on stderr (exit 1). */
static int
cmd_clear(const struct cmd_entry *entry, struct cmd_args *args)
{
	struct json_object	*reply, *list, *f;
	size_t			 i, n;
	int			 r;

	if ((r = cmd_call("clear", args->argc, args->argv, CLIENT_QUICK,
	    &reply)) != CTL_EXIT_DONE)
		return (r);
	if (ctl_opts.json)
		cmd_print_rest(reply);
	else if (json_object_object_get_ex(reply, "cleared", &list) &&
	    json_object_is_type(list, json_type_array)) {
		n = json_object_array_length(list);
		for (i = 0; i < n; i++)
			printf("%s: cleared\n", json_object_get_string(
			    json_object_array_get_idx(list, i)));
	}
	if (json_object_object_get_ex(reply, "failed", &list) &&
	    json_object_is_type(list, json_type_array) &&
	    (n = json_object_array_length(list)) > 0) {
		for (i = 0; i < n; i++) {
			f = json_object_array_get_idx(list, i);
			ctl_warnx("%s: %s", prog_string(f, "name"),
			    prog_string(f, "error"));
		}
		r = CTL_EXIT_NOT_REACHED;
	}
	if (reply_unknown(reply) > 0)
		r = CTL_EXIT_NOT_REACHED;
	json_object_put(reply);
	return (r);
}

/* shutdown */
static int
cmd_shutdown(const struct cmd_entry *entry, struct cmd_args *args)
{
	return (cmd_programs("shutdown", args, CLIENT_WAIT, want_stopped));
}

/* pid [NAME] */
static int
cmd_pid(const struct cmd_entry *entry, struct cmd_args *args)
{
	struct json_object	*reply;
	int64_t			 pid;
	int			 r;

	if ((r = cmd_call("pid", args->argc, args->argv, CLIENT_QUICK,
	    &reply)) != CTL_EXIT_DONE)
		return (r);
	if (reply_unknown(reply) > 0) {
		r = CTL_EXIT_NOT_REACHED;
		goto out;
	}
	if (ctl_opts.json)
		cmd_print_rest(reply);
	if (!prog_int(reply, "pid", &pid) || pid <= 0) {
		if (args->argc > 0)
			ctl_warnx("%s is not running", args->argv[0]);
		r = CTL_EXIT_NOT_REACHED;
	} else if (!ctl_opts.json)
		printf("%lld\n", (long long)pid);
out:
	json_object_put(reply);
	return (r);
}

/* tail [-f] [-n N] NAME [stdout|stderr] */
static int
cmd_tail(const struct cmd_entry *entry, struct cmd_args *args)
{
	struct json_object	*reply, *val;
	const char		*err, *stream = "stdout";
	char			*q[2], *path;
	int			 n = 10, r;

	if (args->lines != NULL && parse_uint(args->lines, &n, &err) != 0)
		return (cmd_bad(entry, err, args->lines));
	if (args->argc > 1)
		stream = args->argv[1];
	if (strcmp(stream, "stdout") != 0 && strcmp(stream, "stderr") != 0)
		return (cmd_bad(entry, "not stdout or stderr", stream));

	q[0] = args->argv[0];
	q[1] = (char *)stream;
	if ((r = client_call("logfile", 2, q, CLIENT_QUICK, &reply)) !=
	    CTL_EXIT_DONE)
		return (r);
	if ((r = client_reply_error(reply)) != CTL_EXIT_DONE) {
		json_object_put(reply);
		/* No file to read is not a usage error. */
		return (r == CTL_EXIT_USAGE ? CTL_EXIT_NOT_REACHED : r);
	}
	if (reply_unknown(reply) > 0 ||
	    !json_object_object_get_ex(reply, "path", &val) ||
	    !json_object_is_type(val, json_type_string)) {
		json_object_put(reply);
		return (CTL_EXIT_NOT_REACHED);
	}
	path = strdup(json_object_get_string(val));
	json_object_put(reply);
	if (path == NULL) {
		ctl_warn("strdup");
		return (CTL_EXIT_NOT_REACHED);
	}

	r = tail_file(path, n, args->follow);
	free(path);
	return (r);
}

/* maintail [-f] [-n N]: tail's reading of the file the daemon names. */
static int
cmd_maintail(const struct cmd_entry *entry, struct cmd_args *args)
{
	struct json_object	*reply, *val;
	const char		*err;
	char			*path;
	int			 n = 10, r;

	if (args->lines != NULL && parse_uint(args->lines, &n, &err) != 0)
		return (cmd_bad(entry, err, args->lines));
	if ((r = client_call("mainlog", 0, NULL, CLIENT_QUICK, &reply)) !=
	    CTL_EXIT_DONE)
		return (r);
	if ((r = client_reply_error(reply)) != CTL_EXIT_DONE) {
		json_object_put(reply);
		/* A log that is not a file is not a usage error. */
		return (r == CTL_EXIT_USAGE ? CTL_EXIT_NOT_REACHED : r);
	}
	if (!json_object_object_get_ex(reply, "path", &val) ||
	    !json_object_is_type(val, json_type_string) ||
	    (path = strdup(json_object_get_string(val))) == NULL) {
		json_object_put(reply);
		return (CTL_EXIT_NOT_REACHED);
	}
	json_object_put(reply);
	r = tail_file(path, n, args->follow);
	free(path);
	return (r);
}

/* reexec */
static int
cmd_reexec(const struct cmd_entry *entry, struct cmd_args *args)
{
	struct json_object	*reply;
	int			 r;

	if ((r = cmd_call("reexec", 0, NULL, CLIENT_QUICK, &reply)) !=
	    CTL_EXIT_DONE)
		return (r);
	if (ctl_opts.json)
		cmd_print_rest(reply);
	json_object_put(reply);
	return (r);
}

/* kill [-S SIG] [-t SECS] PID...: works without a daemon. */
static int
cmd_kill(const struct cmd_entry *entry, struct cmd_args *args)
{
	return (kill_main(args->argc, args->argv));
}

/* version */
static int
cmd_version(const struct cmd_entry *entry, struct cmd_args *args)
{
	struct json_object	*reply;
	int			 r;

	if ((r = cmd_call("version", 0, NULL, CLIENT_QUICK, &reply)) !=
	    CTL_EXIT_DONE)
		return (r);
	if (ctl_opts.json)
		cmd_print_rest(reply);
	else
		printf("%s\n", prog_string(reply, "version"));
	json_object_put(reply);
	return (r);
}

/*
 * Send cmd and check the daemon's reply: CTL_EXIT_DONE with *reply, a
 * success for the caller to put, or the exit code of a failed call or of
 * an error reply (reported, and already put).
 */
static int
cmd_call(const char *cmd, int argc, char **argv, enum client_mode mode,
    struct json_object **reply)
{
	int	r;

	if ((r = client_call(cmd, argc, argv, mode, reply)) != CTL_EXIT_DONE)
		return (r);
	if ((r = client_reply_error(*reply)) != CTL_EXIT_DONE) {
		json_object_put(*reply);
		*reply = NULL;
	}
	return (r);
}

/*
 * The commands that act on programs and answer with them: print them, and
 * exit 1 when one is unknown or not in a wanted state (want NULL: any).
 */
static int
cmd_programs(const char *cmd, struct cmd_args *args, enum client_mode mode,
    const char *const *want)
{
	struct json_object	*reply, *programs;
	size_t			 i, n;
	int			 r;

	if ((r = cmd_call(cmd, args->argc, args->argv, mode, &reply)) !=
	    CTL_EXIT_DONE)
		return (r);
	programs = reply_programs(reply);
	if (ctl_opts.json)
		cmd_print_rest(reply);
	else
		programs_print(programs);
	if (reply_unknown(reply) > 0)
		r = CTL_EXIT_NOT_REACHED;
	n = programs != NULL ? json_object_array_length(programs) : 0;
	for (i = 0; want != NULL && i < n; i++)
		if (!prog_in(json_object_array_get_idx(programs, i), want))
			r = CTL_EXIT_NOT_REACHED;
	json_object_put(reply);
	return (r);
}

/*
 * --json for commands other than status: the reply without the protocol's
 * own fields, its programs in the shape status --json uses.
 */
static void
cmd_print_rest(struct json_object *reply)
{
	struct json_object	*out, *programs;

	if (!ctl_opts.json)
		return;
	if ((out = json_object_new_object()) == NULL)
		return;
	json_object_object_foreach(reply, key, val) {
		if (strcmp(key, "v") == 0 || strcmp(key, "ok") == 0)
			continue;
		if (strcmp(key, "programs") == 0)
			continue;
		json_object_object_add(out, key, json_object_get(val));
	}
	if ((programs = reply_programs(reply)) != NULL)
		json_object_object_add(out, "programs",
		    programs_spec(programs));
	ctl_print_json(out);
	json_object_put(out);
}
