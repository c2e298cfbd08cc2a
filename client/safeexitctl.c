/*
 * safeexitctl: global options, finding and reaching the daemon, one request
 * and its reply, progress on a terminal, and the exit codes of
 * safeexitctl(1).  Every wait has an end: -t, or a default for requests that
 * should be answered at once.
 */

#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "parse.h"
#include "protocol.h"
#include "safeexitctl.h"
#include "transport.h"
#include "xmalloc.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* A daemon whose backlog stays full this long is as good as absent. */
#define CLIENT_CONNECT_SECS	10

/* Requests that are answered at once: a silent daemon is a hung one. */
#define CLIENT_REPLY_SECS	30

struct ctl_options ctl_opts;

static const char	*client_socket_opt;	/* -s */
static const char	*client_config_opt;	/* -c */
static char		*client_path;		/* the endpoint in use */
static bool		 client_progress_shown;

static void	usage(FILE *);
static int	client_resolve(void);
static int	client_connect(struct transport **);
static int	client_receive(struct transport *, double,
		    struct json_object **);
static int	client_code_exit(const char *);
static void	client_progress(struct json_object *);
static void	client_progress_clear(void);

/* Parse the global options and run one command. */
int
main(int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "socket",	required_argument,	NULL, 's' },
		{ "config",	required_argument,	NULL, 'c' },
		{ "json",	no_argument,		NULL, 'J' },
		{ "timeout",	required_argument,	NULL, 't' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	const struct cmd_entry		*entry;
	const char			*err;
	double				 t;
	int				 ch;

	/* '+': options after the command are the command's. */
	while ((ch = getopt_long(argc, argv, "+s:c:t:hV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 's':
			client_socket_opt = optarg;
			break;
		case 'c':
			client_config_opt = optarg;
			break;
		case 'J':
			ctl_opts.json = true;
			break;
		case 't':
			if (parse_duration(optarg, &t, &err) != 0) {
				ctl_warnx("-t %s: %s", optarg, err);
				usage(stderr);
				return (CTL_EXIT_USAGE);
			}
			ctl_opts.timeout_set = true;
			ctl_opts.timeout = t;
			break;
		case 'h':
			usage(stdout);
			return (CTL_EXIT_DONE);
		case 'V':
			printf("safeexitctl %s\n", PACKAGE_VERSION);
			return (CTL_EXIT_DONE);
		default:
			usage(stderr);
			return (CTL_EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (ctl_opts.timeout_set)
		ctl_opts.deadline = client_now() + ctl_opts.timeout;

	if (argc == 0) {
		usage(stderr);
		return (CTL_EXIT_USAGE);
	}
	if ((entry = cmd_find(argv[0])) == NULL) {
		ctl_warnx("unknown command: %s", argv[0]);
		usage(stderr);
		return (CTL_EXIT_USAGE);
	}
	return (cmd_run(entry, argc, argv));
}

/* The whole command line and the list of commands. */
static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: safeexitctl [-s PATH] [-c FILE] [--json] [-t SECS] "
	    "COMMAND [ARG...]\n"
	    "  -s, --socket PATH    control socket of safeexitd\n"
	    "  -c, --config FILE    take the socket from FILE's [safeexitd] "
	    "section\n"
	    "      --json           print results as JSON\n"
	    "  -t, --timeout SECS   give up waiting after SECS (exit 1)\n"
	    "  -h, --help           this help; COMMAND --help for one "
	    "command\n"
	    "  -V, --version        print the client's version\n"
	    "commands:\n");
	cmd_list(fp);
	fprintf(fp,
	    "exit: 0 done; 1 a program is unknown or not in the wanted "
	    "state, or -t ran out;\n"
	    "      2 usage error; 3 cannot reach the daemon; "
	    "4 permission denied\n");
}

/* Seconds on a clock that never jumps. */
double
client_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* Settle the endpoint: -s, else the -c file's socket key, else the default. */
static int
client_resolve(void)
{
	int	r;

	if (client_path != NULL)
		return (CTL_EXIT_DONE);
	if (client_socket_opt != NULL)
		client_path = xstrdup(client_socket_opt);
	else if (client_config_opt != NULL) {
		r = config_socket_read(client_config_opt, &client_path);
		if (r == -1) {
			ctl_warn("cannot read %s", client_config_opt);
			return (CTL_EXIT_USAGE);
		}
		if (r == -2) {
			ctl_warnx("%s: out of memory", client_config_opt);
			return (CTL_EXIT_UNREACHABLE);
		}
		if (r == -3) {
			ctl_warnx("%s: the socket's path names an unset variable",
			    client_config_opt);
			return (CTL_EXIT_USAGE);
		}
	}
	if (client_path == NULL)
		client_path = protocol_default_socket();
	if (client_path == NULL) {
		ctl_warnx("out of memory");
		return (CTL_EXIT_UNREACHABLE);
	}
	ctl_opts.socket = client_path;
	return (CTL_EXIT_DONE);
}

/* Connect to the daemon over the platform's transport (transport.h). */
static int
client_connect(struct transport **tp)
{
	int	r;

	if ((r = client_resolve()) != CTL_EXIT_DONE)
		return (r);
	return (transport_connect(client_path, CLIENT_CONNECT_SECS, tp));
}

/* Send one request and wait for its reply; see safeexitctl.h. */
int
client_call(const char *cmd, int argc, char **argv, enum client_mode mode,
    struct json_object **reply)
{
	struct json_object	*req, *args;
	char			*frame;
	size_t			 len;
	struct transport	*t = NULL;
	double			 limit;
	int			 i, r;

	*reply = NULL;
	if ((req = json_object_new_object()) == NULL ||
	    (args = json_object_new_array()) == NULL) {
		ctl_warnx("out of memory");
		return (CTL_EXIT_UNREACHABLE);
	}
	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	for (i = 0; i < argc; i++)
		json_object_array_add(args, json_object_new_string(argv[i]));
	if (argc > 0)
		json_object_object_add(req, "args", args);
	else
		json_object_put(args);
	if (mode == CLIENT_WAIT || mode == CLIENT_NOWAIT)
		json_object_object_add(req, "wait",
		    json_object_new_boolean(mode == CLIENT_WAIT));
	if (mode == CLIENT_BRIEF)
		json_object_object_add(req, "usage",
		    json_object_new_boolean(false));
	frame = protocol_encode(req, &len);
	json_object_put(req);
	if (frame == NULL) {
		ctl_warnx("out of memory");
		return (CTL_EXIT_UNREACHABLE);
	}
	if (len > PROTOCOL_MAX_FRAME || argc > PROTOCOL_MAX_ARGS) {
		ctl_warnx("request too long (at most %d bytes, %d arguments)",
		    PROTOCOL_MAX_FRAME, PROTOCOL_MAX_ARGS);
		free(frame);
		return (CTL_EXIT_USAGE);
	}

	/* 0: no end but -t. */
	limit = 0;
	if (ctl_opts.timeout_set)
		limit = ctl_opts.deadline;
	else if (mode != CLIENT_WAIT)
		limit = client_now() + CLIENT_REPLY_SECS;

	if ((r = client_connect(&t)) != CTL_EXIT_DONE) {
		free(frame);
		return (r);
	}
	r = transport_send(t, frame, len, limit);
	free(frame);
	/* A refusal arrives as a reply even when sending failed: read it. */
	if (r == CTL_EXIT_DONE || r == -1)
		r = client_receive(t, limit, reply);
	client_progress_clear();
	transport_close(t);
	return (r);
}

/* Read messages until the reply, showing progress on the way. */
static int
client_receive(struct transport *t, double limit, struct json_object **reply)
{
	static char		 buf[65536];
	struct protocol_framer	 framer;
	struct json_object	*obj;
	const char		*data, *line, *code, *msg;
	size_t			 len, linelen, n;
	int			 r = CTL_EXIT_UNREACHABLE;

	protocol_framer_init(&framer, PROTOCOL_MAX_REPLY);
	for (;;) {
		if ((r = transport_recv(t, buf, sizeof buf, &n, limit)) !=
		    CTL_EXIT_DONE)
			goto out;
		if (n == 0) {
			client_progress_clear();
			ctl_warnx("safeexitd at %s closed the connection "
			    "without a reply", client_path);
			r = CTL_EXIT_UNREACHABLE;
			goto out;
		}
		data = buf;
		len = n;
		while (len > 0) {
			switch (protocol_framer_feed(&framer, &data, &len,
			    &line, &linelen)) {
			case PROTOCOL_FRAME_MORE:
				break;
			case PROTOCOL_FRAME_TOO_LONG:
			case PROTOCOL_FRAME_NOMEM:
				client_progress_clear();
				ctl_warnx("reply from safeexitd too long");
				r = CTL_EXIT_UNREACHABLE;
				goto out;
			case PROTOCOL_FRAME_LINE:
				obj = protocol_decode(line, linelen, &code,
				    &msg);
				if (obj == NULL)
					goto bad;
				switch (protocol_check_reply(obj, &code,
				    &msg)) {
				case PROTOCOL_MSG_PROGRESS:
					client_progress(obj);
					json_object_put(obj);
					break;
				case PROTOCOL_MSG_REPLY:
					*reply = obj;
					r = CTL_EXIT_DONE;
					goto out;
				case PROTOCOL_MSG_INVALID:
					json_object_put(obj);
					goto bad;
				}
				break;
			}
		}
	}
bad:
	client_progress_clear();
	if (strcmp(code, PROTOCOL_E_VERSION) == 0)
		ctl_warnx("safeexitd at %s: %s", client_path, msg);
	else
		ctl_warnx("bad reply from safeexitd at %s: %s", client_path,
		    msg);
	r = CTL_EXIT_UNREACHABLE;
out:
	protocol_framer_free(&framer);
	return (r);
}

/* A wait ran out: -t's is exit 1, a silent daemon's exit 3. */
int
client_timed_out(double limit)
{
	client_progress_clear();
	if (ctl_opts.timeout_set && (limit == 0 ||
	    limit >= ctl_opts.deadline)) {
		ctl_warnx("timed out after %g s", ctl_opts.timeout);
		return (CTL_EXIT_NOT_REACHED);
	}
	ctl_warnx("safeexitd at %s did not answer within %d s", client_path,
	    CLIENT_REPLY_SECS);
	return (CTL_EXIT_UNREACHABLE);
}

/* Report an error reply; see safeexitctl.h. */
int
client_reply_error(struct json_object *reply)
{
	struct json_object	*val, *list;
	const char		*code, *msg;
	size_t			 i, n;
	int			 r;

	if (json_object_object_get_ex(reply, "ok", &val) &&
	    json_object_get_boolean(val))
		return (CTL_EXIT_DONE);
	json_object_object_get_ex(reply, "code", &val);
	code = json_object_get_string(val);
	json_object_object_get_ex(reply, "error", &val);
	msg = json_object_get_string(val);
	r = client_code_exit(code);

	if (r == CTL_EXIT_PERMISSION || r == CTL_EXIT_UNREACHABLE)
		ctl_warnx("cannot use safeexitd at %s: %s", client_path, msg);
	else
		ctl_warnx("%s", msg);
	if (json_object_object_get_ex(reply, "errors", &list) &&
	    json_object_is_type(list, json_type_array)) {
		n = json_object_array_length(list);
		for (i = 0; i < n; i++)
			fprintf(stderr, "%s\n", json_object_get_string(
			    json_object_array_get_idx(list, i)));
	}
	/* An unknown name is exit 1 whatever the code. */
	if (r == CTL_EXIT_USAGE &&
	    json_object_object_get_ex(reply, "unknown", &list) &&
	    json_object_is_type(list, json_type_array) &&
	    json_object_array_length(list) > 0)
		r = CTL_EXIT_NOT_REACHED;
	return (r);
}

/* The exit code for an error reply's code (docs/PROTOCOL.md). */
static int
client_code_exit(const char *code)
{
	static const struct {
		const char	*code;
		int		 exit;
	} map[] = {
		{ PROTOCOL_E_VERSION,		CTL_EXIT_UNREACHABLE },
		{ PROTOCOL_E_MALFORMED,		CTL_EXIT_USAGE },
		{ PROTOCOL_E_TOO_LONG,		CTL_EXIT_USAGE },
		{ PROTOCOL_E_UNKNOWN_COMMAND,	CTL_EXIT_USAGE },
		{ PROTOCOL_E_BAD_ARGS,		CTL_EXIT_USAGE },
		{ PROTOCOL_E_PERMISSION,	CTL_EXIT_PERMISSION },
		{ PROTOCOL_E_BUSY,		CTL_EXIT_UNREACHABLE },
		{ PROTOCOL_E_FAILED,		CTL_EXIT_NOT_REACHED },
	};
	size_t	i;

	for (i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(code, map[i].code) == 0)
			return (map[i].exit);
	return (CTL_EXIT_NOT_REACHED);
}

/* Overwrite one stderr line with how far a waiting request got. */
static void
client_progress(struct json_object *obj)
{
	struct json_object	*p, *val;
	char			 line[160];
	size_t			 n = 0;
	int			 stage = 0, stages = 0, left = -1;
	double			 grace = 0;

	if (!isatty(STDERR_FILENO) ||
	    !json_object_object_get_ex(obj, "progress", &p))
		return;
	if (json_object_object_get_ex(p, "stage", &val))
		stage = json_object_get_int(val);
	if (json_object_object_get_ex(p, "stages", &val))
		stages = json_object_get_int(val);
	if (json_object_object_get_ex(p, "left", &val))
		left = json_object_get_int(val);
	if (json_object_object_get_ex(p, "grace", &val))
		grace = json_object_get_double(val);

	line[0] = '\0';
	if (stages > 0)
		n += snprintf(line + n, sizeof line - n, "stage %d of %d",
		    stage, stages);
	if (left >= 0 && n < sizeof line)
		n += snprintf(line + n, sizeof line - n, "%s%d program%s left",
		    n > 0 ? ", " : "", left, left == 1 ? "" : "s");
	if (grace > 0 && n < sizeof line)
		snprintf(line + n, sizeof line - n,
		    "%slongest grace %.1f s", n > 0 ? ", " : "", grace);
	fprintf(stderr, "\r\033[K%s", line);
	fflush(stderr);
	client_progress_shown = true;
}

/* Erase the progress line before anything else is printed. */
static void
client_progress_clear(void)
{
	if (!client_progress_shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	client_progress_shown = false;
}

/* A message on stderr. */
void
ctl_warnx(const char *fmt, ...)
{
	va_list	ap;

	fputs("safeexitctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A message on stderr with the error of the last call. */
void
ctl_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	fputs("safeexitctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(saved));
}

/* One line of JSON on stdout. */
void
ctl_print_json(struct json_object *obj)
{
	puts(json_object_to_json_string_ext(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}
