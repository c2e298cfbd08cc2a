/*
 * safeexitctl kill, the front end every platform shares: usage, options,
 * the checks made before anything is signalled, and the exit status.  How
 * a process is asked to stop and then forced is the platform's
 * (kill-backend.h).
 */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kill.h"
#include "kill-backend.h"
#include "parse.h"

#define KILL_DEFAULT_GRACE	4.0

static const char kill_synopsis[] =
    "usage: safeexitctl kill [-S SIG] [-t SECS] PID...\n";

static const char kill_usage_end[] =
    "  -h, --help           print this help\n"
    "\n"
    "Exit status: 0 when every process is gone, 1 when a PID does not exist\n"
    "or a process could not be signalled or survived, 2 on a usage error,\n"
    "4 when a process may not be signalled by this user (this wins over 1).\n";

static const struct option kill_options[] = {
	{ "signal",	required_argument,	NULL,	'S' },
	{ "timeout",	required_argument,	NULL,	't' },
	{ "help",	no_argument,		NULL,	'h' },
	{ NULL,		0,			NULL,	0 }
};

static int	kill_usage_error(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
static int	kill_options_parse(int, char **, int *, double *);
static int	kill_pids_parse(int, char **, long *, size_t *);
static int	kill_status(const enum kill_outcome *, size_t);

/* Print a message to stderr under the command's prefix. */
void
kill_warnx(const char *fmt, ...)
{
	va_list	ap;

	fputs(KILL_PREFIX, stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Report a usage error with the synopsis and return the usage exit code. */
static int
kill_usage_error(const char *fmt, ...)
{
	va_list	ap;

	fputs(KILL_PREFIX, stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fputs(kill_synopsis, stderr);
	return 2;
}

/*
 * Parse the options into *sig and *grace; returns -1 to go on with the
 * PIDs at optind, else the exit status (0 after --help).
 */
static int
kill_options_parse(int argc, char **argv, int *sig, double *grace)
{
	const char	*err;
	int		 ch;

	/* Another command may have run getopt already: start afresh. */
#if defined(__linux__) || defined(_WIN32)
	optind = 0;
#else
	optind = 1;
#endif
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":S:t:h", kill_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'S':
			if (parse_signal(optarg, sig, &err) != 0)
				return kill_usage_error("invalid signal '%s': %s",
				    optarg, err);
			if (!kill_platform_signal_ok(*sig))
				return kill_usage_error("signal '%s' has no "
				    "meaning here", optarg);
			break;
		case 't':
			if (parse_duration(optarg, grace, &err) != 0)
				return kill_usage_error(
				    "invalid timeout '%s': %s", optarg, err);
			break;
		case 'h':
			fputs(kill_synopsis, stdout);
			fputs(kill_platform_usage, stdout);
			fputs(kill_usage_end, stdout);
			return 0;
		case ':':
			return kill_usage_error("option %s needs an argument",
			    argv[optind - 1]);
		default:
			if (optopt != 0)
				return kill_usage_error("unknown option -%c",
				    optopt);
			return kill_usage_error("unknown option %s",
			    argv[optind - 1]);
		}
	}
	return -1;
}

/*
 * Check every PID before anything is signalled, keeping each once; returns
 * -1 when all are fine, else the exit status.
 */
static int
kill_pids_parse(int argc, char **argv, long *pids, size_t *n)
{
	const char	*why;
	size_t		 j;
	int		 v;

	*n = 0;
	if (optind == argc)
		return kill_usage_error("no PID given");
	for (; optind < argc; optind++) {
		if (parse_uint(argv[optind], &v, NULL) != 0 || v <= 0)
			return kill_usage_error("invalid PID: %s",
			    argv[optind]);
		if ((why = kill_platform_refuse(v)) != NULL)
			return kill_usage_error("%s", why);
		for (j = 0; j < *n; j++)
			if (pids[j] == v)
				break;
		if (j == *n)
			pids[(*n)++] = v;
	}
	return -1;
}

/* The exit status: a refusal says more than any other failure, so it wins. */
static int
kill_status(const enum kill_outcome *out, size_t n)
{
	size_t	i;
	int	status = 0;

	for (i = 0; i < n; i++) {
		if (out[i] == KILL_DENIED)
			status = 4;
		else if (out[i] != KILL_GONE && status == 0)
			status = 1;
	}
	return status;
}

/* Parse the command line, have the platform stop the processes, report. */
int
kill_main(int argc, char **argv)
{
	enum kill_outcome	*out = NULL;
	long			*pids = NULL;
	double			 grace = KILL_DEFAULT_GRACE;
	size_t			 n;
	int			 sig = SIGTERM, status;

	if ((status = kill_platform_helper(argc, argv)) != -1)
		return status;
	if ((status = kill_options_parse(argc, argv, &sig, &grace)) != -1)
		return status;
	if (optind < argc &&
	    ((pids = calloc((size_t)(argc - optind), sizeof *pids)) == NULL ||
	    (out = calloc((size_t)(argc - optind), sizeof *out)) == NULL)) {
		kill_warnx("out of memory");
		free(pids);
		return 1;
	}
	if ((status = kill_pids_parse(argc, argv, pids, &n)) == -1) {
		kill_platform_run(sig, grace, pids, out, n);
		status = kill_status(out, n);
	}
	free(out);
	free(pids);
	return status;
}
