/*
 * supervisord's expansions in config values: Python's "%(name)s" string
 * formatting with a dictionary.  "%(ENV_X)s" is the daemon's environment
 * (plus [supervisord] environment and the program's own, which win),
 * "%(here)s" the folder of the file the value is in, "%(program_name)s",
 * "%(group_name)s", "%(process_num)d", "%(numprocs)d" and
 * "%(host_node_name)s"; any printf flags and width ("%(process_num)02d");
 * "%%" is "%".  A '%' followed by anything else is kept as it is (Python
 * would refuse it; safeexitd's own values such as "cpu_max = 200%" need it).
 */
#ifndef _WIN32
#include <sys/utsname.h>
#endif

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-load.h"

/* The longest conversion kept: flags, width and precision. */
#define EXPAND_SPEC_MAX	32

static bool	expand_append(char **, size_t *, size_t *, const char *, size_t);
static const char *expand_env(const struct expand_ctx *, const char *);
static char	*expand_format(const char *, char, bool, long, const char *);

/* Append n bytes of s to the growing string *out. */
static bool
expand_append(char **out, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		while (*len + n + 1 > *cap)
			*cap = *cap == 0 ? 64 : *cap * 2;
		*out = xreallocarray(*out, *cap, 1);
	}
	memcpy(*out + *len, s, n);
	*len += n;
	(*out)[*len] = '\0';
	return true;
}

/* The value of ENV_name: the program's and [supervisord]'s environment
 * first (in ctx->env, first match wins), then the daemon's own. */
static const char *
expand_env(const struct expand_ctx *ctx, const char *name)
{
	size_t	i, n = strlen(name);

	for (i = 0; ctx->env != NULL && ctx->env[i] != NULL; i++) {
		if (strncmp(ctx->env[i], name, n) == 0 && ctx->env[i][n] == '=')
			return ctx->env[i] + n + 1;
	}
	return getenv(name);
}

/*
 * One conversion as Python's % does it: spec holds its flags ('-', '0',
 * '+', ' ', '#'), width and precision; conv is s, r, d, i, u, o, x or X.
 */
static char *
expand_format(const char *spec, char conv, bool is_int, long ival,
    const char *sval)
{
	char		 digits[72], body[80], *res;
	const char	*p = spec, *text;
	bool		 left = false, zero = false, plus = false, space = false;
	bool		 alt = false;
	unsigned long	 u;
	size_t		 width = 0, prec = (size_t)-1, n, len, pad, i;
	int		 base = 10;

	for (; *p != '\0' && strchr("-0+ #", *p) != NULL; p++) {
		left |= *p == '-';
		zero |= *p == '0';
		plus |= *p == '+';
		space |= *p == ' ';
		alt |= *p == '#';
	}
	for (; *p >= '0' && *p <= '9'; p++)
		width = width * 10 + (size_t)(*p - '0');
	if (*p == '.')
		for (prec = 0, p++; *p >= '0' && *p <= '9'; p++)
			prec = prec * 10 + (size_t)(*p - '0');

	if (is_int && conv != 's' && conv != 'r') {
		base = conv == 'o' ? 8 : (conv == 'x' || conv == 'X') ? 16 : 10;
		u = ival < 0 ? 0UL - (unsigned long)ival : (unsigned long)ival;
		n = 0;
		do {
			digits[n++] = (conv == 'X' ? "0123456789ABCDEF" :
			    "0123456789abcdef")[u % (unsigned long)base];
			u /= (unsigned long)base;
		} while (u != 0 && n < sizeof digits - 1);
		len = 0;
		if (ival < 0)
			body[len++] = '-';
		else if (plus || space)
			body[len++] = plus ? '+' : ' ';
		if (alt && base != 10) {
			body[len++] = '0';
			body[len++] = base == 8 ? 'o' : conv;
		}
		/* Zeros go between the sign and the digits. */
		if (zero && !left && width > len + n)
			for (pad = width - len - n; pad > 0; pad--)
				body[len++] = '0';
		while (n > 0 && len < sizeof body - 1)
			body[len++] = digits[--n];
		body[len] = '\0';
		text = body;
		n = len;
	} else {
		if (is_int) {
			snprintf(body, sizeof body, "%ld", ival);
			text = body;
		} else
			text = sval;
		n = strlen(text);
		if (prec < n)
			n = prec;
	}
	pad = width > n ? width - n : 0;
	res = xcalloc(1, n + pad + 1);
	len = 0;
	if (!left)
		for (i = 0; i < pad; i++)
			res[len++] = ' ';
	memcpy(res + len, text, n);
	len += n;
	if (left)
		for (i = 0; i < pad; i++)
			res[len++] = ' ';
	res[len] = '\0';
	return res;
}

/* The host's node name, as Python's platform.node(). */
const char *
config_host_node_name(void)
{
#ifndef _WIN32
	static struct utsname	u;
	static bool		done;

	if (!done) {
		if (uname(&u) == -1)
			u.nodename[0] = '\0';
		done = true;
	}
	return u.nodename;
#else
	const char	*name = getenv("COMPUTERNAME");

	return name != NULL ? name : "";
#endif
}

/*
 * Expand in into *out.  Returns 0, or -1 with *err (allocated) saying
 * which expansion is wrong and why.
 */
int
config_expand(const char *in, const struct expand_ctx *ctx, char **out,
    char **err)
{
	const char	*p, *close, *sval;
	char		 name[128], spec[EXPAND_SPEC_MAX + 4], *buf;
	size_t		 len = 0, cap = 0, speclen, n;
	long		 ival = 0;
	bool		 is_int;
	char		 conv;

	*out = NULL;
	*err = NULL;
	expand_append(out, &len, &cap, "", 0);
	for (p = in; *p != '\0'; p++) {
		if (*p != '%' || (p[1] != '%' && p[1] != '(')) {
			expand_append(out, &len, &cap, p, 1);
			continue;
		}
		if (p[1] == '%') {
			expand_append(out, &len, &cap, "%", 1);
			p++;
			continue;
		}
		if ((close = strchr(p + 2, ')')) == NULL) {
			*err = xasprintf("expansion '%s' has no ')'", p);
			goto fail;
		}
		n = (size_t)(close - (p + 2));
		if (n == 0 || n >= sizeof name) {
			*err = xasprintf("bad expansion '%.*s'", (int)(n + 3), p);
			goto fail;
		}
		memcpy(name, p + 2, n);
		name[n] = '\0';
		/* Flags, width and precision, then the conversion. */
		speclen = strspn(close + 1, "-+ #0123456789.");
		conv = close[1 + speclen];
		if (speclen > EXPAND_SPEC_MAX || conv == '\0' ||
		    strchr("sdiouxXr", conv) == NULL) {
			*err = xasprintf("expansion '%%(%s)' needs a conversion "
			    "such as 's' or 'd' after it", name);
			goto fail;
		}

		sval = NULL;
		is_int = false;
		if (strncmp(name, "ENV_", 4) == 0) {
			if ((sval = expand_env(ctx, name + 4)) == NULL) {
				*err = xasprintf("%%(%s)%c: environment variable "
				    "%s is not set", name, conv, name + 4);
				goto fail;
			}
		} else if (strcmp(name, "here") == 0 && ctx->here != NULL)
			sval = ctx->here;
		else if (strcmp(name, "host_node_name") == 0)
			sval = config_host_node_name();
		else if (strcmp(name, "program_name") == 0 &&
		    ctx->program_name != NULL)
			sval = ctx->program_name;
		else if (strcmp(name, "group_name") == 0 &&
		    ctx->group_name != NULL)
			sval = ctx->group_name;
		else if (strcmp(name, "process_num") == 0 &&
		    ctx->process_num >= 0) {
			is_int = true;
			ival = ctx->process_num;
		} else if (strcmp(name, "numprocs") == 0 &&
		    ctx->numprocs >= 0) {
			is_int = true;
			ival = ctx->numprocs;
		} else {
			*err = xasprintf("unknown expansion '%%(%s)%c' (%s)",
			    name, conv, ctx->program_name != NULL ?
			    "here: ENV_NAME, here, host_node_name, "
			    "program_name, group_name, process_num, numprocs" :
			    "here: ENV_NAME, here, host_node_name");
			goto fail;
		}

		if (!is_int && conv != 's' && conv != 'r') {
			*err = xasprintf("expansion '%%(%s)%c' needs a number; "
			    "'%s' is text (use %%(%s)s)", name, conv, sval,
			    name);
			goto fail;
		}
		memcpy(spec, close + 1, speclen);
		spec[speclen] = '\0';
		buf = expand_format(spec, conv, is_int, ival, sval);
		expand_append(out, &len, &cap, buf, strlen(buf));
		free(buf);
		p = close + 1 + speclen;
	}
	return 0;
fail:
	free(*out);
	*out = NULL;
	return -1;
}
