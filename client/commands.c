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
#include "safeexitctl.h"
#include "tail.h"
#include "top.h"

#define STATE_WIDTH	8	/* STARTING, STOPPING */

static int	cmd_status(const struct cmd_entry *, struct cmd_args *);
static int	cmd_start(const struct cmd_entry *, struct cmd_args *);
static int	cmd_stop(const struct cmd_entry *, struct cmd_args *);
static int	cmd_restart(const struct cmd_entry *, struct cmd_args *);
static int	cmd_signal(const struct cmd_entry *, struct cmd_args *);
static int	cmd_reload(const struct cmd_entry *, struct cmd_args *);
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
static int	cmd_programs(const char *, struct cmd_args *,
		    enum client_mode, const char *const *);
static void	cmd_print_rest(struct json_object *);

static struct json_object *reply_programs(struct json_object *);
static int	reply_unknown(struct json_object *);
static const char *prog_string(struct json_object *, const char *);
static bool	prog_int(struct json_object *, const char *, int64_t *);
static bool	prog_in(struct json_object *, const char *const *);
static void	prog_detail(struct json_object *, char *, size_t);
static void	programs_print(struct json_object *);
static struct json_object *programs_spec(struct json_object *);
static bool	program_trim_to_spec(struct json_object *);
static void	format_uptime(double, char *, size_t);

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

	if ((r = client_call("status", args->argc, args->argv, CLIENT_QUICK,
	    &reply)) != CTL_EXIT_DONE)
		return (r);
	if ((r = client_reply_error(reply)) != CTL_EXIT_DONE)
		goto out;
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
out:
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
	if ((r = client_call("signal", args->argc, args->argv, CLIENT_QUICK,
	    &reply)) != CTL_EXIT_DONE)
		return (r);
	if ((r = client_reply_error(reply)) != CTL_EXIT_DONE)
		goto out;
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
out:
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

	if ((r = client_call("reload", 0, NULL, CLIENT_QUICK,
	    &reply)) != CTL_EXIT_DONE)
		return (r);
	if ((r = client_reply_error(reply)) != CTL_EXIT_DONE)
		goto out;
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

	if ((r = client_call("pid", args->argc, args->argv, CLIENT_QUICK,
	    &reply)) != CTL_EXIT_DONE)
		return (r);
	if ((r = client_reply_error(reply)) != CTL_EXIT_DONE)
		goto out;
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

	if ((r = client_call("reexec", 0, NULL, CLIENT_QUICK, &reply)) !=
	    CTL_EXIT_DONE)
		return (r);
	if ((r = client_reply_error(reply)) == CTL_EXIT_DONE &&
	    ctl_opts.json)
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

	if ((r = client_call("version", 0, NULL, CLIENT_QUICK, &reply)) !=
	    CTL_EXIT_DONE)
		return (r);
	if ((r = client_reply_error(reply)) == CTL_EXIT_DONE) {
		if (ctl_opts.json)
			cmd_print_rest(reply);
		else
			printf("%s\n", prog_string(reply, "version"));
	}
	json_object_put(reply);
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

	if ((r = client_call(cmd, args->argc, args->argv, mode, &reply)) !=
	    CTL_EXIT_DONE)
		return (r);
	if ((r = client_reply_error(reply)) != CTL_EXIT_DONE)
		goto out;
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
out:
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

/* The reply's "programs" array, or NULL. */
static struct json_object *
reply_programs(struct json_object *reply)
{
	struct json_object	*programs;

	if (!json_object_object_get_ex(reply, "programs", &programs) ||
	    !json_object_is_type(programs, json_type_array))
		return (NULL);
	return (programs);
}

/* Report the names the daemon does not know; returns how many. */
static int
reply_unknown(struct json_object *reply)
{
	struct json_object	*list;
	size_t			 i, n;

	if (!json_object_object_get_ex(reply, "unknown", &list) ||
	    !json_object_is_type(list, json_type_array))
		return (0);
	n = json_object_array_length(list);
	for (i = 0; i < n; i++)
		ctl_warnx("no such program: %s", json_object_get_string(
		    json_object_array_get_idx(list, i)));
	return ((int)n);
}

/* A string field, or "" when absent or null. */
static const char *
prog_string(struct json_object *p, const char *key)
{
	struct json_object	*val;

	if (!json_object_object_get_ex(p, key, &val) ||
	    !json_object_is_type(val, json_type_string))
		return ("");
	return (json_object_get_string(val));
}

/* An integer field that is present and not null. */
static bool
prog_int(struct json_object *p, const char *key, int64_t *out)
{
	struct json_object	*val;

	if (!json_object_object_get_ex(p, key, &val) ||
	    !json_object_is_type(val, json_type_int))
		return (false);
	*out = json_object_get_int64(val);
	return (true);
}

/* Whether a program's state is one of want. */
static bool
prog_in(struct json_object *p, const char *const *want)
{
	const char	*state = prog_string(p, "state");

	for (; *want != NULL; want++)
		if (strcmp(state, *want) == 0)
			return (true);
	return (false);
}

/* The last column of a status line; see the top of this file. */
static void
prog_detail(struct json_object *p, char *buf, size_t size)
{
	struct json_object	*val;
	const char		*s;
	char			 up[64];
	int64_t			 pid, code;

	buf[0] = '\0';
	if (prog_int(p, "pid", &pid) && pid > 0) {
		if (json_object_object_get_ex(p, "uptime", &val) &&
		    (json_object_is_type(val, json_type_double) ||
		    json_object_is_type(val, json_type_int))) {
			format_uptime(json_object_get_double(val), up,
			    sizeof up);
			snprintf(buf, size, "pid %lld, uptime %s",
			    (long long)pid, up);
		} else
			snprintf(buf, size, "pid %lld", (long long)pid);
		return;
	}
	s = prog_string(p, "state");
	if ((strcmp(s, "FATAL") == 0 || strcmp(s, "BACKOFF") == 0) &&
	    *(s = prog_string(p, "error")) != '\0')
		snprintf(buf, size, "%s", s);
	else if (*(s = prog_string(p, "signal")) != '\0')
		snprintf(buf, size, "signal %s", s);
	else if (prog_int(p, "exit_code", &code))
		snprintf(buf, size, "exit %lld", (long long)code);
	else if (*(s = prog_string(p, "error")) != '\0')
		/* An adopted process whose exit only its parent saw. */
		snprintf(buf, size, "%s", s);
}

/* The detail column, then the daemon's note on readiness and health. */
static void
prog_detail_note(struct json_object *p, char *buf, size_t size)
{
	const char	*note;
	size_t		 n;

	prog_detail(p, buf, size);
	if (*(note = prog_string(p, "note")) == '\0')
		return;
	n = strlen(buf);
	snprintf(buf + n, size - n, "%s%s", n > 0 ? "; " : "", note);
}

/* Aligned status lines, no header. */
static void
programs_print(struct json_object *programs)
{
	struct json_object	*p;
	char			 detail[1024];
	size_t			 i, n, len, width = 4;

	if (programs == NULL)
		return;
	n = json_object_array_length(programs);
	for (i = 0; i < n; i++) {
		len = strlen(prog_string(json_object_array_get_idx(programs,
		    i), "name"));
		if (len > width)
			width = len;
	}
	for (i = 0; i < n; i++) {
		p = json_object_array_get_idx(programs, i);
		prog_detail_note(p, detail, sizeof detail);
		if (detail[0] == '\0')
			printf("%-*s  %s\n", (int)width, prog_string(p, "name"),
			    prog_string(p, "state"));
		else
			printf("%-*s  %-*s  %s\n", (int)width,
			    prog_string(p, "name"), STATE_WIDTH,
			    prog_string(p, "state"), detail);
	}
}

/* The keys of a program in safeexitctl(1)'s JSON OUTPUT, in its order. */
static const char *const spec_keys[] = {
	"name", "state", "pid", "uptime", "exit_code", "signal", "restarts",
	"ready", "health", "status_text",
	"cpu_seconds", "memory_bytes", "oom_kills", NULL
};

/*
 * Whether p starts with exactly those keys in that order (the daemon
 * sends them so); then dropping what follows gives it the documented
 * shape as it is, without building a copy of every program.
 */
static bool
program_trim_to_spec(struct json_object *p)
{
	struct json_object_iterator	 it, end;
	char				*extra[16];
	size_t				 k = 0, n_extra = 0;
	bool				 ok = true;

	if (!json_object_is_type(p, json_type_object))
		return (false);
	it = json_object_iter_begin(p);
	end = json_object_iter_end(p);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char	*key = json_object_iter_peek_name(&it);

		if (spec_keys[k] != NULL) {
			if (strcmp(key, spec_keys[k]) != 0) {
				ok = false;
				break;
			}
			k++;
		} else if (n_extra == sizeof extra / sizeof extra[0] ||
		    (extra[n_extra++] = strdup(key)) == NULL) {
			ok = false;
			break;
		}
	}
	ok = ok && spec_keys[k] == NULL;
	/* Copies of the keys: deleting an entry frees its own. */
	for (size_t i = 0; i < n_extra; i++) {
		if (ok && extra[i] != NULL)
			json_object_object_del(p, extra[i]);
		free(extra[i]);
	}
	return (ok);
}

/*
 * Programs as safeexitctl(1) shows them: these keys, in this order.  The
 * objects of programs are trimmed to that shape and shared where they can
 * be, so programs is changed too.
 */
static struct json_object *
programs_spec(struct json_object *programs)
{
	struct json_object	*out, *p, *q, *val;
	size_t			 i, n, k;

	if ((out = json_object_new_array()) == NULL)
		return (NULL);
	n = programs != NULL ? json_object_array_length(programs) : 0;
	for (i = 0; i < n; i++) {
		p = json_object_array_get_idx(programs, i);
		if (program_trim_to_spec(p)) {
			json_object_array_add(out, json_object_get(p));
			continue;
		}
		if ((q = json_object_new_object()) == NULL)
			break;
		for (k = 0; spec_keys[k] != NULL; k++)
			json_object_object_add(q, spec_keys[k],
			    json_object_object_get_ex(p, spec_keys[k], &val) ?
			    json_object_get(val) : NULL);
		json_object_array_add(out, q);
	}
	return (out);
}

/* "0:12:05", or "2 days, 3:04:05", as supervisorctl shows it. */
static void
format_uptime(double secs, char *buf, size_t size)
{
	long long	t, d, h, m, s;

	t = secs > 0 ? (long long)secs : 0;
	d = t / 86400;
	h = t / 3600 % 24;
	m = t / 60 % 60;
	s = t % 60;
	if (d > 0)
		snprintf(buf, size, "%lld day%s, %lld:%02lld:%02lld", d,
		    d == 1 ? "" : "s", h, m, s);
	else
		snprintf(buf, size, "%lld:%02lld:%02lld", h, m, s);
}
