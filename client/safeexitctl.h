/*
 * safeexitctl: the client of safeexitd.  safeexitctl.c owns the command
 * line, the connection and the exit codes; commands.c holds one table entry
 * per command.
 */
#ifndef SAFEEXITCTL_H
#define SAFEEXITCTL_H

#include <stdbool.h>
#include <stdio.h>

struct json_object;

/* Exit codes, as safeexitctl(1) (EXIT STATUS) promises them to scripts. */
#define CTL_EXIT_DONE		0	/* done */
#define CTL_EXIT_NOT_REACHED	1	/* done, but a program is unknown or
					 * not in the wanted state; -t ran out */
#define CTL_EXIT_USAGE		2	/* bad command line */
#define CTL_EXIT_UNREACHABLE	3	/* no daemon, or one we cannot talk to */
#define CTL_EXIT_PERMISSION	4	/* the daemon would not let us in */

/* The global options. */
struct ctl_options {
	const char	*socket;	/* the endpoint, once resolved */
	bool		 json;		/* --json */
	bool		 timeout_set;	/* -t given */
	double		 deadline;	/* monotonic; valid when timeout_set */
	double		 timeout;	/* -t as given, for messages */
};

extern struct ctl_options ctl_opts;

/* What a command gets once its options are parsed. */
struct cmd_args {
	int		 argc;		/* operands */
	char		**argv;
	bool		 no_wait;	/* stop --no-wait */
	bool		 follow;	/* tail -f */
	const char	*lines;		/* tail -n */
};

struct cmd_entry {
	const char	*name;
	const char	*usage;		/* what follows the name */
	const char	*help;		/* one line for the command list */
	const char	*details;	/* more for COMMAND --help, or NULL */
	const char	*options;	/* letters as for getopt; --json and
					 * --help are always accepted */
	int		 min_args;
	int		 max_args;	/* -1: no limit */
	int		 flags;
#define CMD_RAW		0x1		/* gets its argv untouched; no daemon */
	int		(*exec)(const struct cmd_entry *, struct cmd_args *);
};

/* commands.c */
const struct cmd_entry *cmd_find(const char *name);
void	cmd_list(FILE *fp);
void	cmd_usage(const struct cmd_entry *entry, FILE *fp);
int	cmd_run(const struct cmd_entry *entry, int argc, char **argv);

/* safeexitctl.c */
enum client_mode {
	CLIENT_QUICK,		/* answered at once: no "wait" field */
	CLIENT_WAIT,		/* "wait": true; runs until programs settle */
	CLIENT_NOWAIT,		/* "wait": false */
	CLIENT_BRIEF,		/* as CLIENT_QUICK, with "usage": false: a
				   status that need not read what programs
				   use */
};

/*
 * Connect, send one request and wait for its reply, showing progress on a
 * terminal.  Returns CTL_EXIT_DONE with *reply set (ok or not; the caller
 * puts it), or the exit code of a failure already reported.  Only -t bounds
 * a CLIENT_WAIT request; the others also give up after a default time.
 */
int	client_call(const char *cmd, int argc, char **argv,
	    enum client_mode mode, struct json_object **reply);
/* Monotonic seconds, the clock of every limit. */
double	client_now(void);
/*
 * Report that a wait with the given limit (0: the connect wait) ran out:
 * CTL_EXIT_NOT_REACHED when -t's deadline was the limit, else
 * CTL_EXIT_UNREACHABLE.
 */
int	client_timed_out(double limit);
/*
 * Report an error reply on stderr and return its exit code; CTL_EXIT_DONE
 * for a success.
 */
int	client_reply_error(struct json_object *reply);
/* Print "safeexitctl: " and a message on stderr. */
void	ctl_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* As ctl_warnx, with ": strerror(errno)" appended. */
void	ctl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print obj on stdout as one line of JSON. */
void	ctl_print_json(struct json_object *obj);

/*
 * The control socket a config file names (config-socket.c): 0 with *path
 * (NULL when it names none), -1 when it cannot be read (errno), -2 out of
 * memory, -3 when its expansion names an unset variable.
 */
int	config_socket_read(const char *file, char **path);

#endif
