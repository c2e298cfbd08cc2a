/*
 * Small parsers shared by the config loader, the daemon and the client.
 *
 * Every parser is strict: no leading or trailing junk, no silent truncation,
 * and the same result in every locale.  Character classes are tested by hand rather than with
 * <ctype.h> so that the result never depends on the locale (a Turkish locale
 * lower-cases 'I' differently) and so that a char with the high bit set is
 * never passed to isalpha() as a negative int.
 */

#include <limits.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse.h"
#include "xmalloc.h"

/* Longest accepted duration: about 31 years, so any timer API can hold it. */
#define PARSE_DURATION_MAX	1e9

#ifdef NSIG
#define PARSE_NSIG		NSIG
#elif defined(_NSIG)
#define PARSE_NSIG		_NSIG
#else
#define PARSE_NSIG		65
#endif

/* A growing NULL-terminated vector of heap strings. */
struct strv_builder {
	char	**v;
	size_t	  n;
	size_t	  cap;
};

struct signal_entry {
	const char	*name;
	int		 number;
};

static int	 parse_fail(const char **, const char *);
static bool	 is_space(char);
static bool	 is_digit(char);
static bool	 is_alpha(char);
static char	 ascii_upper(char);
static bool	 ascii_equal(const char *, const char *, size_t);
static int	 parse_digits(const char *, int, int *);
static int	 parse_rt_signal(const char *, int *);
static void	 builder_add(struct strv_builder *, char *);
static void	 builder_set(struct strv_builder *, char *);
static strv_t	 builder_finish(struct strv_builder *);
static void	 builder_discard(struct strv_builder *);
static int	 lex_quoted(const char **, char *, size_t *, const char **);
static int	 lex_escape(const char **, char *, size_t *, bool *,
		     const char **);
static bool	 env_key_valid(const char *, size_t);

/*
 * Names first, aliases after them: signal_name() returns the first entry
 * that matches a number, so the order decides which name is canonical.
 */
static const struct signal_entry signal_table[] = {
#ifdef SIGHUP
	{ "HUP", SIGHUP },
#endif
#ifdef SIGINT
	{ "INT", SIGINT },
#endif
#ifdef SIGQUIT
	{ "QUIT", SIGQUIT },
#endif
#ifdef SIGILL
	{ "ILL", SIGILL },
#endif
#ifdef SIGTRAP
	{ "TRAP", SIGTRAP },
#endif
#ifdef SIGABRT
	{ "ABRT", SIGABRT },
#endif
#ifdef SIGBUS
	{ "BUS", SIGBUS },
#endif
#ifdef SIGFPE
	{ "FPE", SIGFPE },
#endif
#ifdef SIGKILL
	{ "KILL", SIGKILL },
#endif
#ifdef SIGUSR1
	{ "USR1", SIGUSR1 },
#endif
#ifdef SIGSEGV
	{ "SEGV", SIGSEGV },
#endif
#ifdef SIGUSR2
	{ "USR2", SIGUSR2 },
#endif
#ifdef SIGPIPE
	{ "PIPE", SIGPIPE },
#endif
#ifdef SIGALRM
	{ "ALRM", SIGALRM },
#endif
#ifdef SIGTERM
	{ "TERM", SIGTERM },
#endif
#ifdef SIGSTKFLT
	{ "STKFLT", SIGSTKFLT },
#endif
#ifdef SIGCHLD
	{ "CHLD", SIGCHLD },
#endif
#ifdef SIGCONT
	{ "CONT", SIGCONT },
#endif
#ifdef SIGSTOP
	{ "STOP", SIGSTOP },
#endif
#ifdef SIGTSTP
	{ "TSTP", SIGTSTP },
#endif
#ifdef SIGTTIN
	{ "TTIN", SIGTTIN },
#endif
#ifdef SIGTTOU
	{ "TTOU", SIGTTOU },
#endif
#ifdef SIGURG
	{ "URG", SIGURG },
#endif
#ifdef SIGXCPU
	{ "XCPU", SIGXCPU },
#endif
#ifdef SIGXFSZ
	{ "XFSZ", SIGXFSZ },
#endif
#ifdef SIGVTALRM
	{ "VTALRM", SIGVTALRM },
#endif
#ifdef SIGPROF
	{ "PROF", SIGPROF },
#endif
#ifdef SIGWINCH
	{ "WINCH", SIGWINCH },
#endif
#ifdef SIGIO
	{ "IO", SIGIO },
#endif
#ifdef SIGPOLL
	{ "POLL", SIGPOLL },
#endif
#ifdef SIGPWR
	{ "PWR", SIGPWR },
#endif
#ifdef SIGSYS
	{ "SYS", SIGSYS },
#endif
#ifdef SIGEMT
	{ "EMT", SIGEMT },
#endif
#ifdef SIGINFO
	{ "INFO", SIGINFO },
#endif
#ifdef SIGLOST
	{ "LOST", SIGLOST },
#endif
#ifdef SIGBREAK
	{ "BREAK", SIGBREAK },
#endif
#ifdef SIGIOT
	{ "IOT", SIGIOT },
#endif
#ifdef SIGCLD
	{ "CLD", SIGCLD },
#endif
};

/* Store a static message for the caller, who may pass NULL to ignore it. */
static int
parse_fail(const char **err, const char *msg)
{
	if (err != NULL)
		*err = msg;
	return -1;
}

/* White space as the shell and the config file see it. */
static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == '\v' || c == '\f';
}

/* An ASCII decimal digit. */
static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* An ASCII letter. */
static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Upper-case an ASCII letter and leave every other byte alone. */
static char
ascii_upper(char c)
{
	return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

/* Whether the first len bytes of s spell the upper-case word, in any case. */
static bool
ascii_equal(const char *s, const char *upper, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (upper[i] == '\0' || ascii_upper(s[i]) != upper[i])
			return false;
	}
	return upper[len] == '\0';
}

/*
 * Parse a run of decimal digits (the whole string) no larger than max.
 * Returns 0, -1 when s is not all digits, or -2 when it is larger than max.
 */
static int
parse_digits(const char *s, int max, int *out)
{
	long long	v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (!is_digit(*s))
			return -1;
		v = v * 10 + (*s - '0');
		if (v > max) {
			/* Keep scanning so "99x" is junk, not too large. */
			while (is_digit(*s))
				s++;
			return *s == '\0' ? -2 : -1;
		}
	}
	*out = (int)v;
	return 0;
}

/* Parse RTMIN, RTMIN+N, RTMAX-N or RTMAX (without SIG); -1 when not one. */
static int
parse_rt_signal(const char *s, int *out)
{
#if defined(SIGRTMIN) && defined(SIGRTMAX)
	int	 base, n = 0, sig, sign;

	if (strlen(s) < 5)
		return -1;
	if (ascii_equal(s, "RTMIN", 5)) {
		base = SIGRTMIN;
		sign = 1;
	} else if (ascii_equal(s, "RTMAX", 5)) {
		base = SIGRTMAX;
		sign = -1;
	} else
		return -1;
	s += 5;
	if (*s != '\0') {
		if ((sign > 0 && *s != '+') || (sign < 0 && *s != '-'))
			return -1;
		if (parse_digits(s + 1, PARSE_NSIG, &n) != 0)
			return -1;
	}
	sig = base + sign * n;
	if (sig < SIGRTMIN || sig > SIGRTMAX)
		return -1;
	*out = sig;
	return 0;
#else
	(void)s;
	(void)out;
	return -1;
#endif
}

/* Append s (owned from now on) and keep the vector NULL-terminated. */
static void
builder_add(struct strv_builder *b, char *s)
{
	if (b->n + 2 > b->cap) {
		b->cap = b->cap == 0 ? 8 : b->cap * 2;
		b->v = xreallocarray(b->v, b->cap, sizeof *b->v);
	}
	b->v[b->n++] = s;
	b->v[b->n] = NULL;
}

/* Add a "KEY=value" string, replacing an earlier one with the same KEY. */
static void
builder_set(struct strv_builder *b, char *s)
{
	size_t	 i, keylen;

	keylen = strcspn(s, "=") + 1;
	for (i = 0; i < b->n; i++) {
		if (strncmp(b->v[i], s, keylen) == 0) {
			free(b->v[i]);
			b->v[i] = s;
			return;
		}
	}
	builder_add(b, s);
}

/* Hand the vector over; an empty one is still a valid, non-NULL vector. */
static strv_t
builder_finish(struct strv_builder *b)
{
	strv_t	v;

	if (b->v == NULL) {
		b->v = xmalloc(sizeof *b->v);
		b->v[0] = NULL;
	}
	v = b->v;
	b->v = NULL;
	b->n = b->cap = 0;
	return v;
}

/* Free everything collected so far, after an error. */
static void
builder_discard(struct strv_builder *b)
{
	strv_free(b->v);
	b->v = NULL;
	b->n = b->cap = 0;
}

/*
 * Copy a quoted string starting at the quote **pp into buf, leaving *pp
 * after the closing quote.  Inside double quotes a backslash keeps its
 * special meaning only before \ " $ ` and newline, as in the POSIX shell.
 */
static int
lex_quoted(const char **pp, char *buf, size_t *len, const char **err)
{
	const char	*p = *pp;
	char		 quote = *p++;

	for (;;) {
		if (*p == '\0') {
			return parse_fail(err, quote == '\'' ?
			    "unterminated single quote" :
			    "unterminated double quote");
		}
		if (*p == quote)
			break;
		if (quote == '"' && *p == '\\') {
			if (p[1] == '\n') {
				/* A line continuation disappears. */
				p += 2;
				continue;
			}
			if (p[1] == '\\' || p[1] == '"' || p[1] == '$' ||
			    p[1] == '`')
				p++;
		}
		buf[(*len)++] = *p++;
	}
	*pp = p + 1;
	return 0;
}

/*
 * Copy the character escaped by the backslash at **pp into buf.  A
 * backslash before a newline joins lines and yields nothing, so *added
 * tells the caller whether a character (possibly white space) was produced.
 */
static int
lex_escape(const char **pp, char *buf, size_t *len, bool *added,
    const char **err)
{
	const char	*p = *pp;

	if (p[1] == '\0')
		return parse_fail(err, "trailing backslash");
	if (p[1] == '\n')
		*added = false;
	else {
		buf[(*len)++] = p[1];
		*added = true;
	}
	*pp = p + 2;
	return 0;
}

/* Environment names as POSIX shells accept them: [A-Za-z_][A-Za-z0-9_]*. */
static bool
env_key_valid(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || is_digit(s[0]))
		return false;
	for (i = 0; i < len; i++) {
		if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '_')
			return false;
	}
	return true;
}

/*
 * Parse seconds with optional decimals.  The character set is checked
 * before strtod so that "inf", "nan", "1e3", "0x1p4" and white space,
 * which strtod would all accept, are refused.
 */
int
parse_duration(const char *s, double *out, const char **err)
{
	const char	*p, *point;
	char		*end, *copy;
	double		 v;
	size_t		 len, plen;
	int		 digits = 0, dots = 0;
	bool		 bad;

	if (s == NULL || *s == '\0')
		return parse_fail(err, "empty duration");
	if (*s == '-')
		return parse_fail(err, "negative duration");
	for (p = s; *p != '\0'; p++) {
		if (is_digit(*p))
			digits++;
		else if (*p == '.')
			dots++;
		else
			return parse_fail(err, "invalid duration");
	}
	if (digits == 0 || dots > 1)
		return parse_fail(err, "invalid duration");

	/* strtod honours LC_NUMERIC: spell the point the way it expects. */
	point = localeconv()->decimal_point;
	copy = NULL;
	if (dots != 0 && strcmp(point, ".") != 0) {
		plen = strlen(point);
		copy = xmalloc(strlen(s) + plen);
		len = strcspn(s, ".");
		memcpy(copy, s, len);
		memcpy(copy + len, point, plen);
		strcpy(copy + len + plen, s + len + 1);
	}
	v = strtod(copy != NULL ? copy : s, &end);
	bad = (*end != '\0');
	free(copy);
	if (bad)
		return parse_fail(err, "invalid duration");
	/* Overflow gives HUGE_VAL; underflow gives a harmless tiny value. */
	if (!isfinite(v) || v > PARSE_DURATION_MAX)
		return parse_fail(err, "duration too large");
	*out = v;
	return 0;
}

/* Parse a boolean in any of the spellings supervisord and systemd accept. */
int
parse_bool(const char *s, bool *out, const char **err)
{
	static const char *const yes[] = { "TRUE", "YES", "ON", "1" };
	static const char *const no[] = { "FALSE", "NO", "OFF", "0" };
	size_t	 i, len;

	if (s == NULL || *s == '\0')
		return parse_fail(err, "empty boolean");
	len = strlen(s);
	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (ascii_equal(s, yes[i], len)) {
			*out = true;
			return 0;
		}
		if (ascii_equal(s, no[i], len)) {
			*out = false;
			return 0;
		}
	}
	return parse_fail(err,
	    "invalid boolean (use true/false, yes/no, on/off or 1/0)");
}

/* Parse a signal name, with or without "SIG" and in any case, or a number. */
int
parse_signal(const char *s, int *out, const char **err)
{
	const char	*name;
	size_t		 i, len;
	int		 n;

	if (s == NULL || *s == '\0')
		return parse_fail(err, "empty signal");
	if (is_digit(*s)) {
		switch (parse_digits(s, INT_MAX, &n)) {
		case 0:
			if (n >= 1 && n < PARSE_NSIG) {
				*out = n;
				return 0;
			}
			/* FALLTHROUGH */
		case -2:
			return parse_fail(err, "signal number out of range");
		default:
			return parse_fail(err, "unknown signal");
		}
	}

	name = s;
	if (strlen(s) > 3 && ascii_equal(s, "SIG", 3))
		name = s + 3;
	len = strlen(name);
	for (i = 0; i < sizeof signal_table / sizeof signal_table[0]; i++) {
		if (ascii_equal(name, signal_table[i].name, len)) {
			*out = signal_table[i].number;
			return 0;
		}
	}
	if (parse_rt_signal(name, &n) == 0) {
		*out = n;
		return 0;
	}
	return parse_fail(err, "unknown signal");
}

/* Return the canonical short name of sig, or NULL for unnamed numbers. */
const char *
signal_name(int sig)
{
	size_t	i;

	for (i = 0; i < sizeof signal_table / sizeof signal_table[0]; i++) {
		if (signal_table[i].number == sig)
			return signal_table[i].name;
	}
	return NULL;
}

/* Parse an octal mode; the leading 0 is optional, as in chmod and umask. */
int
parse_mode(const char *s, unsigned *out, const char **err)
{
	unsigned	v = 0;

	if (s == NULL || *s == '\0')
		return parse_fail(err, "empty mode");
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '7')
			return parse_fail(err, "invalid octal mode");
		/* Stop growing at the limit; later digits are still checked. */
		if (v <= 0777)
			v = v * 8 + (unsigned)(*s - '0');
	}
	if (v > 0777)
		return parse_fail(err, "mode above 0777");
	*out = v;
	return 0;
}

/* Parse a non-negative decimal integer that fits an int. */
int
parse_uint(const char *s, int *out, const char **err)
{
	int	v;

	if (s == NULL || *s == '\0')
		return parse_fail(err, "empty number");
	if (*s == '-')
		return parse_fail(err, "negative number");
	switch (parse_digits(s, INT_MAX, &v)) {
	case 0:
		*out = v;
		return 0;
	case -2:
		return parse_fail(err, "number too large");
	default:
		return parse_fail(err, "invalid number");
	}
}

/*
 * Parse a byte size with an optional KB, MB or GB suffix (any case, 1024
 * based, as supervisord's logfile_maxbytes); blanks may separate the suffix.
 */
int
parse_size(const char *s, long long *out, const char **err)
{
	static const struct {
		const char	*suffix;
		long long	 factor;
	} suffixes[] = {
		{ "KB", 1024LL },
		{ "MB", 1024LL * 1024 },
		{ "GB", 1024LL * 1024 * 1024 },
	};
	const char	*p;
	long long	 v = 0, factor = 1;
	size_t		 i, len;
	bool		 found;

	if (s == NULL || *s == '\0')
		return parse_fail(err, "empty size");
	if (*s == '-')
		return parse_fail(err, "negative size");
	if (!is_digit(*s))
		return parse_fail(err, "invalid size");
	for (p = s; is_digit(*p); p++) {
		if (v > (LLONG_MAX - (*p - '0')) / 10)
			return parse_fail(err, "size too large");
		v = v * 10 + (*p - '0');
	}
	if (*p != '\0') {
		while (*p == ' ' || *p == '\t')
			p++;
		len = strlen(p);
		found = false;
		for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
			if (ascii_equal(p, suffixes[i].suffix, len)) {
				factor = suffixes[i].factor;
				found = true;
				break;
			}
		}
		if (!found) {
			return parse_fail(err,
			    "invalid size suffix (use KB, MB or GB)");
		}
	}
	if (v > LLONG_MAX / factor)
		return parse_fail(err, "size too large");
	*out = v * factor;
	return 0;
}

/*
 * Split a command line into words the way a POSIX shell does before any
 * expansion: quotes and backslashes are removed, and nothing else ($, *,
 * ~, ;, |) is special because no shell ever sees the command.
 */
int
parse_argv(const char *s, strv_t *out, const char **err)
{
	struct strv_builder	 b = { NULL, 0, 0 };
	const char		*p;
	char			*word;
	size_t			 len = 0;
	bool			 in_word = false, added;

	if (s == NULL)
		return parse_fail(err, "command is empty");
	word = xmalloc(strlen(s) + 1);
	p = s;
	while (*p != '\0') {
		if (is_space(*p)) {
			if (in_word)
				builder_add(&b, xstrndup(word, len));
			in_word = false;
			len = 0;
			p++;
			continue;
		}
		if (*p == '\'' || *p == '"') {
			/* "" is a word of its own, even though it is empty. */
			if (lex_quoted(&p, word, &len, err) != 0)
				goto fail;
			in_word = true;
		} else if (*p == '\\') {
			if (lex_escape(&p, word, &len, &added, err) != 0)
				goto fail;
			if (added)
				in_word = true;
		} else {
			word[len++] = *p++;
			in_word = true;
		}
	}
	if (in_word)
		builder_add(&b, xstrndup(word, len));
	free(word);
	if (b.n == 0) {
		builder_discard(&b);
		return parse_fail(err, "command is empty");
	}
	*out = builder_finish(&b);
	return 0;

fail:
	free(word);
	builder_discard(&b);
	return -1;
}

/*
 * Parse KEY=value pairs separated by commas.  White space around keys and
 * values is dropped, white space inside a value is kept, and a quoted or
 * escaped part keeps even commas and edge white space.  A later KEY
 * replaces an earlier one so the child never sees two values for a name.
 */
int
parse_env(const char *s, strv_t *out, const char **err)
{
	struct strv_builder	 b = { NULL, 0, 0 };
	const char		*p, *key, *key_end;
	char			*buf;
	size_t			 len, keep;
	bool			 added;

	if (s == NULL)
		s = "";
	buf = xmalloc(strlen(s) + 1);
	p = s;
	for (;;) {
		while (is_space(*p))
			p++;
		if (*p == '\0')
			break;
		if (*p == ',') {
			p++;
			continue;
		}

		key = p;
		while (*p != '\0' && *p != '=' && *p != ',')
			p++;
		if (*p != '=') {
			parse_fail(err, "missing '=' in environment entry");
			goto fail;
		}
		key_end = p;
		while (key_end > key && is_space(key_end[-1]))
			key_end--;
		if (!env_key_valid(key, (size_t)(key_end - key))) {
			parse_fail(err, "invalid environment variable name");
			goto fail;
		}
		len = (size_t)(key_end - key);
		memcpy(buf, key, len);
		buf[len++] = '=';

		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		keep = len;
		while (*p != '\0' && *p != ',') {
			if (*p == '\'' || *p == '"') {
				if (lex_quoted(&p, buf, &len, err) != 0)
					goto fail;
				keep = len;
			} else if (*p == '\\') {
				if (lex_escape(&p, buf, &len, &added, err) != 0)
					goto fail;
				keep = len;
			} else {
				if (!is_space(*p))
					keep = len + 1;
				buf[len++] = *p++;
			}
		}
		/* Drop the unquoted white space that ended the value. */
		builder_set(&b, xstrndup(buf, keep));
	}
	free(buf);
	*out = builder_finish(&b);
	return 0;

fail:
	free(buf);
	builder_discard(&b);
	return -1;
}

/* Split on commas and white space; an empty string gives an empty list. */
int
parse_list(const char *s, strv_t *out, const char **err)
{
	struct strv_builder	 b = { NULL, 0, 0 };
	const char		*start;

	if (s == NULL)
		s = "";
	while (*s != '\0') {
		if (*s == ',' || is_space(*s)) {
			s++;
			continue;
		}
		start = s;
		while (*s != '\0' && *s != ',' && !is_space(*s))
			s++;
		builder_add(&b, xstrndup(start, (size_t)(s - start)));
	}
	*out = builder_finish(&b);
	return 0;
}

/* Names appear in file names and messages, so keep them to a safe set. */
bool
program_name_valid(const char *name)
{
	size_t	i;

	if (name == NULL)
		return false;
	for (i = 0; name[i] != '\0'; i++) {
		if (i == 64)
			return false;
		if (!is_alpha(name[i]) && !is_digit(name[i]) &&
		    name[i] != '_' && name[i] != '.' && name[i] != '-')
			return false;
	}
	return i > 0;
}

/* Count the strings of v; NULL counts as empty. */
size_t
strv_length(const strv_t v)
{
	size_t	n = 0;

	if (v != NULL) {
		while (v[n] != NULL)
			n++;
	}
	return n;
}

/* Free every string of v and v itself; NULL is fine. */
void
strv_free(strv_t v)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* Deep-copy v; a NULL vector copies to NULL. */
strv_t
strv_copy(const strv_t v)
{
	strv_t	c;
	size_t	i, n;

	if (v == NULL)
		return NULL;
	n = strv_length(v);
	c = xreallocarray(NULL, n + 1, sizeof *c);
	for (i = 0; i < n; i++)
		c[i] = xstrndup(v[i], strlen(v[i]));
	c[n] = NULL;
	return c;
}

/* Whether v holds a string equal to s. */
bool
strv_contains(const strv_t v, const char *s)
{
	size_t	i;

	if (v == NULL || s == NULL)
		return false;
	for (i = 0; v[i] != NULL; i++) {
		if (strcmp(v[i], s) == 0)
			return true;
	}
	return false;
}

/* [inet_http_server] port; see parse.h. */
int
parse_inet_address(const char *s, char *host, size_t hostlen, int *port,
    const char **err)
{
	const char	*colon, *h;
	size_t		 n;
	int		 p;

	if ((colon = strrchr(s, ':')) == NULL) {
		colon = s - 1;
		h = s;
		n = 0;
	} else {
		h = s;
		n = (size_t)(colon - s);
		if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
			h++;
			n -= 2;
		} else if (memchr(h, ':', n) != NULL) {
			*err = "an IPv6 address needs brackets: [ADDRESS]:PORT";
			return -1;
		}
		if (n == 1 && *h == '*')
			n = 0;
	}
	if (parse_uint(colon + 1, &p, err) != 0 || p < 1 || p > 65535) {
		*err = "not a port number (1 to 65535)";
		return -1;
	}
	if (n >= hostlen) {
		*err = "host name too long";
		return -1;
	}
	memcpy(host, h, n);
	host[n] = '\0';
	*port = p;
	return 0;
}

/* Loopback names and addresses; see parse.h. */
bool
inet_host_loopback(const char *host)
{
	unsigned	a, b, c, d;
	char		end;

	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "::1") == 0)
		return true;
	return sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c, &d, &end) == 4 &&
	    a == 127 && b < 256 && c < 256 && d < 256;
}
