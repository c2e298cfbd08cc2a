/*
 * Unit tests for lib/parse.c: every parser, its edge cases and every error
 * message it can return.
 */

#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "tap.h"

static char	*join(strv_t);
static void	 check_duration(const char *, double);
static void	 check_duration_err(const char *, const char *);
static void	 check_argv(const char *, const char *);
static void	 check_argv_err(const char *, const char *);
static void	 check_env(const char *, const char *);
static void	 check_env_err(const char *, const char *);
static void	 check_list(const char *, const char *);
static void	 test_duration(void);
static void	 test_bool(void);
static void	 test_signal(void);
static void	 test_mode(void);
static void	 test_uint(void);
static void	 test_size(void);
static void	 test_argv(void);
static void	 test_env(void);
static void	 test_list(void);
static void	 test_program_name(void);
static void	 test_strv(void);

/* Join a vector with '|' and brackets around it, so "" and a missing word differ. */
static char *
join(strv_t v)
{
	static char	buf[1024];
	size_t		i;

	buf[0] = '\0';
	for (i = 0; v[i] != NULL; i++) {
		if (i != 0)
			strcat(buf, "|");
		strcat(buf, "[");
		strcat(buf, v[i]);
		strcat(buf, "]");
	}
	return buf;
}

/* The duration s parses to want. */
static void
check_duration(const char *s, double want)
{
	const char	*err = NULL;
	double		 d = -1;

	is_int(parse_duration(s, &d, &err), 0, "duration \"%s\" parses", s);
	ok(d == want, "duration \"%s\" is %g (got %g)", s, want, d);
}

/* The duration s is refused with the message want, leaving out alone. */
static void
check_duration_err(const char *s, const char *want)
{
	const char	*err = NULL;
	double		 d = 42;

	is_int(parse_duration(s, &d, &err), -1, "duration \"%s\" is refused", s);
	is_str(err, want, "duration \"%s\" error", s);
	ok(d == 42, "duration \"%s\" leaves out unchanged", s);
}

/* The command s splits into the joined words want. */
static void
check_argv(const char *s, const char *want)
{
	const char	*err = NULL;
	strv_t		 v = NULL;

	if (!is_int(parse_argv(s, &v, &err), 0, "argv \"%s\" parses", s)) {
		printf("#   error: %s\n", err);
		return;
	}
	is_str(join(v), want, "argv \"%s\" words", s);
	strv_free(v);
}

/* The command s is refused with the message want. */
static void
check_argv_err(const char *s, const char *want)
{
	const char	*err = NULL;
	strv_t		 v = NULL;

	is_int(parse_argv(s, &v, &err), -1, "argv \"%s\" is refused", s);
	is_str(err, want, "argv \"%s\" error", s);
	ok(v == NULL, "argv \"%s\" leaves out unchanged", s);
}

/* The environment s gives the joined entries want. */
static void
check_env(const char *s, const char *want)
{
	const char	*err = NULL;
	strv_t		 v = NULL;

	if (!is_int(parse_env(s, &v, &err), 0, "env \"%s\" parses", s)) {
		printf("#   error: %s\n", err);
		return;
	}
	is_str(join(v), want, "env \"%s\" entries", s);
	strv_free(v);
}

/* The environment s is refused with the message want. */
static void
check_env_err(const char *s, const char *want)
{
	const char	*err = NULL;
	strv_t		 v = NULL;

	is_int(parse_env(s, &v, &err), -1, "env \"%s\" is refused", s);
	is_str(err, want, "env \"%s\" error", s);
	ok(v == NULL, "env \"%s\" leaves out unchanged", s);
}

/* The list s gives the joined items want. */
static void
check_list(const char *s, const char *want)
{
	const char	*err = NULL;
	strv_t		 v = NULL;

	is_int(parse_list(s, &v, &err), 0, "list \"%s\" parses", s);
	ok(v != NULL, "list \"%s\" is a vector", s);
	if (v != NULL)
		is_str(join(v), want, "list \"%s\" items", s);
	strv_free(v);
}

/* Durations: decimal seconds only, in any locale. */
static void
test_duration(void)
{
	const char	*err = NULL;
	double		 d;

	check_duration("0", 0);
	check_duration("10", 10);
	check_duration("0.25", 0.25);
	check_duration("1.5", 1.5);
	check_duration(".5", 0.5);
	check_duration("5.", 5);
	check_duration("007", 7);
	check_duration("1000000000", 1e9);
	check_duration("0.0000000000000000000000000000000000000000000000000000"
	    "0000000000000000000000000000000000000000000000000000000000000000"
	    "0000000000000000000000000000000000000000000000000000000000000000"
	    "0000000000000000000000000000000000000000000000000000000000000000"
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    0);

	check_duration_err("", "empty duration");
	check_duration_err(NULL, "empty duration");
	check_duration_err("-1", "negative duration");
	check_duration_err("-0", "negative duration");
	check_duration_err("inf", "invalid duration");
	check_duration_err("INF", "invalid duration");
	check_duration_err("nan", "invalid duration");
	check_duration_err("infinity", "invalid duration");
	check_duration_err("0x10", "invalid duration");
	check_duration_err("0x1p4", "invalid duration");
	check_duration_err("1e3", "invalid duration");
	check_duration_err("+1", "invalid duration");
	check_duration_err(" 1", "invalid duration");
	check_duration_err("1 ", "invalid duration");
	check_duration_err("1s", "invalid duration");
	check_duration_err(".", "invalid duration");
	check_duration_err("1.2.3", "invalid duration");
	check_duration_err("1,5", "invalid duration");
	check_duration_err("1000000000.5", "duration too large");
	check_duration_err("9999999999999999999999999999999999999999999999999"
	    "9999999999999999999999999999999999999999999999999999999999999999"
	    "9999999999999999999999999999999999999999999999999999999999999999"
	    "9999999999999999999999999999999999999999999999999999999999999999"
	    "9999999999999999999999999999999999999999999999999999999999999999",
	    "duration too large");

	is_int(parse_duration("3", &d, NULL), 0, "duration with NULL err");
	is_int(parse_duration("x", &d, NULL), -1,
	    "duration error with NULL err");

	/* A locale whose decimal point is ',' must not change the result. */
	if (setlocale(LC_NUMERIC, "de_DE.UTF-8") != NULL ||
	    setlocale(LC_NUMERIC, "fr_FR.UTF-8") != NULL) {
		d = -1;
		is_int(parse_duration("2.5", &d, &err), 0,
		    "duration parses under a ',' locale");
		ok(d == 2.5, "duration is 2.5 under a ',' locale");
		check_duration_err("2,5", "invalid duration");
		setlocale(LC_NUMERIC, "C");
	} else
		printf("# no ',' locale installed, skipping the locale check\n");
}

/* Booleans in every accepted spelling. */
static void
test_bool(void)
{
	static const char *const yes[] = { "true", "TRUE", "True", "yes",
	    "YES", "on", "On", "1" };
	static const char *const no[] = { "false", "FALSE", "no", "No", "off",
	    "OFF", "0" };
	static const char *const bad[] = { "2", "y", "n", "t", "f", "yess",
	    "tru", "true ", " no", "enabled", "01" };
	const char	*err;
	bool		 b;
	size_t		 i;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		b = false;
		is_int(parse_bool(yes[i], &b, &err), 0, "bool \"%s\"", yes[i]);
		ok(b, "bool \"%s\" is true", yes[i]);
	}
	for (i = 0; i < sizeof no / sizeof no[0]; i++) {
		b = true;
		is_int(parse_bool(no[i], &b, &err), 0, "bool \"%s\"", no[i]);
		ok(!b, "bool \"%s\" is false", no[i]);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err = NULL;
		is_int(parse_bool(bad[i], &b, &err), -1, "bool \"%s\" refused",
		    bad[i]);
		is_str(err,
		    "invalid boolean (use true/false, yes/no, on/off or 1/0)",
		    "bool \"%s\" error", bad[i]);
	}
	err = NULL;
	is_int(parse_bool("", &b, &err), -1, "empty bool refused");
	is_str(err, "empty boolean", "empty bool error");
}

/* Signals by name, alias, number and real-time offset; names back. */
static void
test_signal(void)
{
	static const struct {
		const char	*s;
		int		 sig;
	} good[] = {
		{ "TERM", SIGTERM }, { "SIGTERM", SIGTERM },
		{ "term", SIGTERM }, { "sigterm", SIGTERM },
		{ "SigTerm", SIGTERM }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
		{ "HUP", SIGHUP }, { "KILL", SIGKILL }, { "USR1", SIGUSR1 },
		{ "USR2", SIGUSR2 }, { "ALRM", SIGALRM }, { "CONT", SIGCONT },
		{ "STOP", SIGSTOP }, { "CHLD", SIGCHLD }, { "PIPE", SIGPIPE },
		{ "ABRT", SIGABRT }, { "FPE", SIGFPE }, { "ILL", SIGILL },
		{ "SEGV", SIGSEGV },
#ifndef _WIN32	/* names only POSIX has (Windows': compat/win32.h) */
		{ "IOT", SIGABRT }, { "TSTP", SIGTSTP }, { "WINCH", SIGWINCH }, { "TTIN", SIGTTIN },
		{ "TTOU", SIGTTOU }, { "URG", SIGURG }, { "IO", SIGIO },
		{ "POLL", SIGPOLL }, { "SYS", SIGSYS }, { "TRAP", SIGTRAP },
		{ "BUS", SIGBUS }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
		{ "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
#endif
#ifdef SIGPWR
		{ "PWR", SIGPWR }, { "SIGPWR", SIGPWR },
#endif
		{ "15", SIGTERM }, { "9", SIGKILL }, { "1", 1 },
		{ "015", 15 },
	};
	static const struct {
		const char	*s;
		const char	*err;
	} bad[] = {
		{ "", "empty signal" },
		{ "0", "signal number out of range" },
		{ "00", "signal number out of range" },
		{ "99999999999999999999", "signal number out of range" },
		{ "FOO", "unknown signal" },
		{ "SIG", "unknown signal" },
		{ "SIGSIGTERM", "unknown signal" },
		{ "-15", "unknown signal" },
		{ "+15", "unknown signal" },
		{ "15x", "unknown signal" },
		{ "99999999999x", "unknown signal" },
		{ " TERM", "unknown signal" },
		{ "TERM ", "unknown signal" },
		{ "TER", "unknown signal" },
		{ "TERMS", "unknown signal" },
		{ "SIG TERM", "unknown signal" },
		{ "RT", "unknown signal" },
		{ "RTMIN-1", "unknown signal" },
		{ "RTMAX+1", "unknown signal" },
		{ "RTMIN+", "unknown signal" },
		{ "RTMIN+x", "unknown signal" },
		{ "RTMIN+1000", "unknown signal" },
	};
	const char	*err;
	char		 buf[32];
	size_t		 i;
	int		 sig;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		sig = -1;
		is_int(parse_signal(good[i].s, &sig, &err), 0, "signal \"%s\"",
		    good[i].s);
		is_int(sig, good[i].sig, "signal \"%s\" number", good[i].s);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err = NULL;
		sig = -1;
		is_int(parse_signal(bad[i].s, &sig, &err), -1,
		    "signal \"%s\" refused", bad[i].s);
		is_str(err, bad[i].err, "signal \"%s\" error", bad[i].s);
		is_int(sig, -1, "signal \"%s\" leaves out unchanged", bad[i].s);
	}

	snprintf(buf, sizeof buf, "%d", NSIG - 1);
	is_int(parse_signal(buf, &sig, &err), 0, "signal NSIG-1 accepted");
	is_int(sig, NSIG - 1, "signal NSIG-1 number");
	snprintf(buf, sizeof buf, "%d", NSIG);
	err = NULL;
	is_int(parse_signal(buf, &sig, &err), -1, "signal NSIG refused");
	is_str(err, "signal number out of range", "signal NSIG error");

#ifdef SIGRTMIN
	is_int(parse_signal("RTMIN", &sig, &err), 0, "signal RTMIN");
	is_int(sig, SIGRTMIN, "signal RTMIN number");
	is_int(parse_signal("SIGRTMIN+2", &sig, &err), 0, "signal SIGRTMIN+2");
	is_int(sig, SIGRTMIN + 2, "signal SIGRTMIN+2 number");
	is_int(parse_signal("rtmax", &sig, &err), 0, "signal rtmax");
	is_int(sig, SIGRTMAX, "signal rtmax number");
	is_int(parse_signal("RTMAX-1", &sig, &err), 0, "signal RTMAX-1");
	is_int(sig, SIGRTMAX - 1, "signal RTMAX-1 number");
	is_str(signal_name(SIGRTMIN + 2), NULL, "real-time signals have no name");
#endif

	is_str(signal_name(SIGTERM), "TERM", "name of SIGTERM");
	is_str(signal_name(SIGKILL), "KILL", "name of SIGKILL");
	is_str(signal_name(SIGINT), "INT", "name of SIGINT");
	is_str(signal_name(SIGHUP), "HUP", "name of SIGHUP");
	is_str(signal_name(SIGUSR1), "USR1", "name of SIGUSR1");
	is_str(signal_name(SIGABRT), "ABRT", "name of SIGABRT, not IOT");
	is_str(signal_name(SIGCHLD), "CHLD", "name of SIGCHLD, not CLD");
#ifdef SIGIO
	is_str(signal_name(SIGIO), "IO", "name of SIGIO, not POLL");
#endif
	is_str(signal_name(0), NULL, "signal 0 has no name");
	is_str(signal_name(-1), NULL, "signal -1 has no name");
	is_str(signal_name(NSIG), NULL, "signal NSIG has no name");
	is_str(signal_name(INT_MAX), NULL, "signal INT_MAX has no name");

	/* Every name parses back to its own number. */
	for (sig = 1; sig < NSIG; sig++) {
		const char	*name = signal_name(sig);
		int		 back = -1;

		if (name == NULL)
			continue;
		parse_signal(name, &back, &err);
		is_int(back, sig, "signal_name(%d) = %s parses back", sig,
		    name);
	}
}

/* Octal modes up to 0777. */
static void
test_mode(void)
{
	static const struct {
		const char	*s;
		unsigned	 mode;
	} good[] = {
		{ "022", 022 }, { "22", 022 }, { "0660", 0660 },
		{ "0600", 0600 }, { "777", 0777 }, { "0777", 0777 },
		{ "0", 0 }, { "000", 0 }, { "0000000644", 0644 },
	};
	static const struct {
		const char	*s;
		const char	*err;
	} bad[] = {
		{ "", "empty mode" },
		{ "8", "invalid octal mode" },
		{ "0689", "invalid octal mode" },
		{ "0x1ff", "invalid octal mode" },
		{ "-022", "invalid octal mode" },
		{ "+022", "invalid octal mode" },
		{ " 022", "invalid octal mode" },
		{ "022 ", "invalid octal mode" },
		{ "rwx", "invalid octal mode" },
		{ "1000", "mode above 0777" },
		{ "01777", "mode above 0777" },
		{ "77777777777777777777777", "mode above 0777" },
		{ "77777777777777777777779", "invalid octal mode" },
	};
	const char	*err;
	unsigned	 mode;
	size_t		 i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		mode = 01000;
		is_int(parse_mode(good[i].s, &mode, &err), 0, "mode \"%s\"",
		    good[i].s);
		is_int(mode, good[i].mode, "mode \"%s\" value", good[i].s);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err = NULL;
		mode = 01000;
		is_int(parse_mode(bad[i].s, &mode, &err), -1,
		    "mode \"%s\" refused", bad[i].s);
		is_str(err, bad[i].err, "mode \"%s\" error", bad[i].s);
		is_int(mode, 01000, "mode \"%s\" leaves out unchanged",
		    bad[i].s);
	}
}

/* Non-negative ints. */
static void
test_uint(void)
{
	static const struct {
		const char	*s;
		int		 v;
	} good[] = {
		{ "0", 0 }, { "3", 3 }, { "999", 999 }, { "007", 7 },
		{ "2147483647", INT_MAX },
	};
	static const struct {
		const char	*s;
		const char	*err;
	} bad[] = {
		{ "", "empty number" },
		{ "-1", "negative number" },
		{ "+1", "invalid number" },
		{ "1.5", "invalid number" },
		{ "12a", "invalid number" },
		{ " 1", "invalid number" },
		{ "1 ", "invalid number" },
		{ "0x10", "invalid number" },
		{ "2147483648", "number too large" },
		{ "99999999999999999999999", "number too large" },
		{ "99999999999999999999999x", "invalid number" },
	};
	const char	*err;
	size_t		 i;
	int		 v;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		v = -1;
		is_int(parse_uint(good[i].s, &v, &err), 0, "uint \"%s\"",
		    good[i].s);
		is_int(v, good[i].v, "uint \"%s\" value", good[i].s);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err = NULL;
		v = -1;
		is_int(parse_uint(bad[i].s, &v, &err), -1,
		    "uint \"%s\" refused", bad[i].s);
		is_str(err, bad[i].err, "uint \"%s\" error", bad[i].s);
		is_int(v, -1, "uint \"%s\" leaves out unchanged", bad[i].s);
	}
}

/* Byte sizes with 1024-based suffixes. */
static void
test_size(void)
{
	static const struct {
		const char	*s;
		long long	 v;
	} good[] = {
		{ "0", 0 }, { "100", 100 }, { "1KB", 1024 }, { "1kb", 1024 },
		{ "1Kb", 1024 }, { "50MB", 50LL * 1024 * 1024 },
		{ "2gb", 2LL * 1024 * 1024 * 1024 },
		{ "10 MB", 10LL * 1024 * 1024 }, { "10\tkb", 10240 },
		{ "0GB", 0 },
		{ "9223372036854775807", LLONG_MAX },
		{ "8589934591GB", 8589934591LL * 1024 * 1024 * 1024 },
	};
	static const struct {
		const char	*s;
		const char	*err;
	} bad[] = {
		{ "", "empty size" },
		{ "-1", "negative size" },
		{ "KB", "invalid size" },
		{ " 1", "invalid size" },
		{ "+1", "invalid size" },
		{ "1.5MB", "invalid size suffix (use KB, MB or GB)" },
		{ "1K", "invalid size suffix (use KB, MB or GB)" },
		{ "1TB", "invalid size suffix (use KB, MB or GB)" },
		{ "1B", "invalid size suffix (use KB, MB or GB)" },
		{ "1KB ", "invalid size suffix (use KB, MB or GB)" },
		{ "1KBB", "invalid size suffix (use KB, MB or GB)" },
		{ "1 ", "invalid size suffix (use KB, MB or GB)" },
		{ "9223372036854775808", "size too large" },
		{ "8589934592GB", "size too large" },
		{ "9007199254740992KB", "size too large" },
	};
	const char	*err;
	long long	 v;
	size_t		 i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		v = -1;
		is_int(parse_size(good[i].s, &v, &err), 0, "size \"%s\"",
		    good[i].s);
		is_int(v, good[i].v, "size \"%s\" value", good[i].s);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err = NULL;
		v = -1;
		is_int(parse_size(bad[i].s, &v, &err), -1,
		    "size \"%s\" refused", bad[i].s);
		is_str(err, bad[i].err, "size \"%s\" error", bad[i].s);
		is_int(v, -1, "size \"%s\" leaves out unchanged", bad[i].s);
	}
}

/* POSIX shell word splitting, without expansion. */
static void
test_argv(void)
{
	strv_t	v = NULL;

	check_argv("sleep 10", "[sleep]|[10]");
	check_argv("  sleep \t 10  ", "[sleep]|[10]");
	check_argv("/bin/true", "[/bin/true]");
	check_argv("a\nb", "[a]|[b]");
	check_argv("echo 'hello world'", "[echo]|[hello world]");
	check_argv("echo \"hello world\"", "[echo]|[hello world]");
	check_argv("echo hello\\ world", "[echo]|[hello world]");
	check_argv("echo a'b c'd", "[echo]|[ab cd]");
	check_argv("echo '' \"\"", "[echo]|[]|[]");
	check_argv("echo ''", "[echo]|[]");
	check_argv("''", "[]");
	check_argv("echo 'a\\b'", "[echo]|[a\\b]");
	check_argv("echo '\"'", "[echo]|[\"]");
	check_argv("echo \"'\"", "[echo]|[']");
	check_argv("echo \"a\\\"b\"", "[echo]|[a\"b]");
	check_argv("echo \"a\\\\b\"", "[echo]|[a\\b]");
	check_argv("echo \"\\$HOME\"", "[echo]|[$HOME]");
	check_argv("echo \"\\`x\\`\"", "[echo]|[`x`]");
	check_argv("echo \"\\n\\t\\a\"", "[echo]|[\\n\\t\\a]");
	check_argv("echo \"a\\\nb\"", "[echo]|[ab]");
	check_argv("echo a\\\nb", "[echo]|[ab]");
	check_argv("echo \\\n b", "[echo]|[b]");
	check_argv("echo \\\n", "[echo]");
	check_argv("echo \\'x\\'", "[echo]|['x']");
	check_argv("echo \\\\", "[echo]|[\\]");
	check_argv("echo \\a", "[echo]|[a]");
	check_argv("echo \\ ", "[echo]|[ ]");
	check_argv("echo $HOME ${X} *.c ~ a;b a|b > f", "[echo]|[$HOME]|[${X}]|"
	    "[*.c]|[~]|[a;b]|[a|b]|[>]|[f]");
	check_argv("sh -c 'exec nginx -g \"daemon off;\"'",
	    "[sh]|[-c]|[exec nginx -g \"daemon off;\"]");
	check_argv("a\"b\"'c'\\d", "[abcd]");
	check_argv("\"  \"", "[  ]");

	check_argv_err("", "command is empty");
	check_argv_err("   ", "command is empty");
	check_argv_err("\t\n", "command is empty");
	check_argv_err("\\\n", "command is empty");
	check_argv_err(NULL, "command is empty");
	check_argv_err("echo 'abc", "unterminated single quote");
	check_argv_err("'", "unterminated single quote");
	check_argv_err("echo \"abc", "unterminated double quote");
	check_argv_err("echo \"abc\\\"", "unterminated double quote");
	check_argv_err("echo \"abc\\", "unterminated double quote");
	check_argv_err("echo abc\\", "trailing backslash");
	check_argv_err("\\", "trailing backslash");
	check_argv_err("a b 'c", "unterminated single quote");

	is_int(parse_argv("x", &v, NULL), 0, "argv with NULL err");
	is_int(strv_length(v), 1, "argv with NULL err has one word");
	strv_free(v);
	is_int(parse_argv("'x", &v, NULL), -1, "argv error with NULL err");
}

/* KEY=value lists, with quoting and duplicate keys. */
static void
test_env(void)
{
	check_env("", "");
	check_env("  ", "");
	check_env(",,", "");
	check_env("A=1", "[A=1]");
	check_env("A=1,B=2", "[A=1]|[B=2]");
	check_env(" A = 1 , B=2 ,", "[A=1]|[B=2]");
	check_env("A=", "[A=]");
	check_env("A=,B=x", "[A=]|[B=x]");
	check_env("A=hello world", "[A=hello world]");
	check_env("A=x=y", "[A=x=y]");
	check_env("A='a,b'", "[A=a,b]");
	check_env("A=\"a,b\",B='c'", "[A=a,b]|[B=c]");
	check_env("A=' padded '", "[A= padded ]");
	check_env("A=\"\"", "[A=]");
	check_env("A=pre'mid'post", "[A=premidpost]");
	check_env("A=\"x\\\"y\"", "[A=x\"y]");
	check_env("A=\"$HOME\"", "[A=$HOME]");
	check_env("A=$HOME", "[A=$HOME]");
	check_env("A=a\\,b", "[A=a,b]");
	check_env("A=a\\ ", "[A=a ]");
	check_env("_x9=1", "[_x9=1]");
	check_env("PATH=/usr/bin:/bin,LANG=C.UTF-8",
	    "[PATH=/usr/bin:/bin]|[LANG=C.UTF-8]");
	check_env("A=1,B=2,A=3", "[A=3]|[B=2]");
	check_env("AB=1,A=2", "[AB=1]|[A=2]");
	check_env("A=1,\n B=2", "[A=1]|[B=2]");

	check_env_err("A", "missing '=' in environment entry");
	check_env_err("A=1,B", "missing '=' in environment entry");
	check_env_err("A=1, B ,C=2", "missing '=' in environment entry");
	check_env_err("=1", "invalid environment variable name");
	check_env_err("1A=x", "invalid environment variable name");
	check_env_err("A-B=x", "invalid environment variable name");
	check_env_err("A B=x", "invalid environment variable name");
	check_env_err("'A'=x", "invalid environment variable name");
	check_env_err("Ä=x", "invalid environment variable name");
	check_env_err("A='x", "unterminated single quote");
	check_env_err("A=\"x,B=2", "unterminated double quote");
	check_env_err("A=x\\", "trailing backslash");
}

/* Lists split on commas and white space. */
static void
test_list(void)
{
	check_list("", "");
	check_list(" , ,\t", "");
	check_list("0", "[0]");
	check_list("0,1,2", "[0]|[1]|[2]");
	check_list("0 1 2", "[0]|[1]|[2]");
	check_list(" a, b ,c  d,,e\n", "[a]|[b]|[c]|[d]|[e]");
	check_list("*.ini conf.d/*.ini", "[*.ini]|[conf.d/*.ini]");
	check_list(NULL, "");
}

/* Program names: [A-Za-z0-9_.-]{1,64}. */
static void
test_program_name(void)
{
	char	name[80];

	ok(program_name_valid("web"), "name web");
	ok(program_name_valid("a"), "name a");
	ok(program_name_valid("web-1.worker_2"), "name web-1.worker_2");
	ok(program_name_valid("..."), "name ...");
	ok(program_name_valid("0"), "name 0");
	ok(!program_name_valid(""), "empty name refused");
	ok(!program_name_valid(NULL), "NULL name refused");
	ok(!program_name_valid("a b"), "name with a blank refused");
	ok(!program_name_valid("a/b"), "name with a slash refused");
	ok(!program_name_valid("a:b"), "name with a colon refused");
	ok(!program_name_valid("é"), "non-ASCII name refused");
	ok(!program_name_valid("a\n"), "name with a newline refused");
	memset(name, 'x', 64);
	name[64] = '\0';
	ok(program_name_valid(name), "64-character name");
	name[64] = 'x';
	name[65] = '\0';
	ok(!program_name_valid(name), "65-character name refused");
}

/* The vector helpers, including the NULL vector. */
static void
test_strv(void)
{
	const char	*err;
	strv_t		 v, c;

	is_int(strv_length(NULL), 0, "length of NULL");
	strv_free(NULL);
	ok(strv_copy(NULL) == NULL, "copy of NULL is NULL");
	ok(!strv_contains(NULL, "a"), "NULL contains nothing");

	parse_list("a b c", &v, &err);
	is_int(strv_length(v), 3, "length 3");
	ok(strv_contains(v, "b"), "contains b");
	ok(!strv_contains(v, "d"), "does not contain d");
	ok(!strv_contains(v, ""), "does not contain the empty string");
	ok(!strv_contains(v, NULL), "does not contain NULL");
	c = strv_copy(v);
	ok(c != v && c[0] != v[0], "copy is deep");
	is_str(join(c), "[a]|[b]|[c]", "copy has the same strings");
	ok(c[3] == NULL, "copy is NULL-terminated");
	strv_free(v);
	is_str(join(c), "[a]|[b]|[c]", "copy outlives the original");
	strv_free(c);

	parse_list("", &v, &err);
	is_int(strv_length(v), 0, "empty vector length");
	c = strv_copy(v);
	ok(c != NULL && c[0] == NULL, "copy of an empty vector is empty");
	strv_free(c);
	strv_free(v);
}

int
main(void)
{
	test_duration();
	test_bool();
	test_signal();
	test_mode();
	test_uint();
	test_size();
	test_argv();
	test_env();
	test_list();
	test_program_name();
	test_strv();
	return tap_done();
}
