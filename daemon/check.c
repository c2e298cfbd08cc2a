/*
 * Parsing readiness and health checks: "running", "notify", "fd:N",
 * "tcp:[HOST:]PORT", "http://HOST[:PORT]/PATH", "https://...",
 * "exec:COMMAND", "log:REGEX", "watchdog:DURATION".  A regular expression
 * is compiled here, at load, so that a bad one is a config error.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifndef _WIN32
#include <regex.h>
#endif

#include "check.h"

/* What log:REGEX compiles to; Windows has no POSIX regular expressions. */
struct check_regex {
#ifndef _WIN32
	regex_t r;
#endif
	int unused;
};

#define CHECK_DEFAULT_HOST	"127.0.0.1"

static int check_port(const char *s, size_t len, int *port);
static int check_tcp(const char *v, struct check *c, char *err, size_t errlen);
static int check_http(const char *v, bool tls, struct check *c, char *err,
    size_t errlen);
static int check_log(const char *v, struct check *c, char *err, size_t errlen);
static char *check_strndup(const char *s, size_t n);

/* A copy of the first n bytes of s; aborts when memory is out (load time). */
static char *
check_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *d = malloc(len + 1);

	if (d == NULL)
		abort();
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

/* A port 1..65535 written as len decimal digits. */
static int
check_port(const char *s, size_t len, int *port)
{
	long v = 0;

	if (len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

/* tcp:PORT, tcp:HOST:PORT, tcp:[V6ADDR]:PORT. */
static int
check_tcp(const char *v, struct check *c, char *err, size_t errlen)
{
	const char *colon = strrchr(v, ':');
	const char *host = v;
	size_t hlen;

	if (colon == NULL) {
		if (check_port(v, strlen(v), &c->port) == -1)
			goto bad;
		c->host = check_strndup(CHECK_DEFAULT_HOST,
		    strlen(CHECK_DEFAULT_HOST));
		return 0;
	}
	if (check_port(colon + 1, strlen(colon + 1), &c->port) == -1)
		goto bad;
	hlen = (size_t)(colon - v);
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		host++;
		hlen -= 2;
	}
	if (hlen == 0)
		goto bad;
	c->host = check_strndup(host, hlen);
	return 0;
bad:
	snprintf(err, errlen, "tcp:[HOST:]PORT expected (a port 1 to 65535)");
	return -1;
}

/* http://HOST[:PORT][/PATH] (https: the same over TLS). */
static int
check_http(const char *v, bool tls, struct check *c, char *err, size_t errlen)
{
	const char *auth = v + (tls ? 8 : 7);
	const char *slash = strchr(auth, '/');
	size_t alen = slash != NULL ? (size_t)(slash - auth) : strlen(auth);
	const char *colon = NULL;

	c->tls = tls;
	c->port = tls ? 443 : 80;
	if (auth[0] == '[') {
		const char *close = memchr(auth, ']', alen);

		if (close == NULL)
			goto bad;
		c->host = check_strndup(auth + 1, (size_t)(close - auth - 1));
		if (close + 1 < auth + alen) {
			if (close[1] != ':')
				goto bad;
			colon = close + 1;
		}
	} else {
		colon = memchr(auth, ':', alen);
		c->host = check_strndup(auth, colon != NULL ?
		    (size_t)(colon - auth) : alen);
	}
	if (c->host[0] == '\0' || memchr(auth, '@', alen) != NULL)
		goto bad;
	if (colon != NULL && check_port(colon + 1,
	    (size_t)(auth + alen - colon - 1), &c->port) == -1)
		goto bad;
	c->path = check_strndup(slash != NULL ? slash : "/",
	    slash != NULL ? strlen(slash) : 1);
	for (const char *s = c->path; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || *s == '#')
			goto bad;
	return 0;
bad:
	snprintf(err, errlen, "%s://HOST[:PORT][/PATH] expected",
	    tls ? "https" : "http");
	return -1;
}

/* log:REGEX, POSIX extended, compiled now. */
static int
check_log(const char *v, struct check *c, char *err, size_t errlen)
{
	char msg[160];
	int r;

	if (*v == '\0') {
		snprintf(err, errlen, "log: needs a regular expression");
		return -1;
	}
#ifdef _WIN32
	(void)msg;
	(void)r;
	snprintf(err, errlen, "log: is not supported on Windows");
	return -1;
#else
	if ((c->re = calloc(1, sizeof *c->re)) == NULL)
		abort();
	if ((r = regcomp(&c->re->r, v, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(r, &c->re->r, msg, sizeof msg);
		free(c->re);
		c->re = NULL;
		snprintf(err, errlen, "bad regular expression: %s", msg);
		return -1;
	}
	return 0;
#endif
}

int
check_parse(const char *value, enum check_use use, bool tls_ok,
    struct check *c, char *err, size_t errlen)
{
	const char *err_s;
	int r = 0;

	check_release(c);
	memset(c, 0, sizeof *c);
	if (use == CHECK_USE_READY && strcmp(value, "running") == 0)
		c->kind = CHECK_RUNNING;
	else if (use == CHECK_USE_READY && strcmp(value, "notify") == 0)
		c->kind = CHECK_NOTIFY;
	else if (use == CHECK_USE_READY && strncmp(value, "fd:", 3) == 0) {
		c->kind = CHECK_FD;
		if (parse_uint(value + 3, &c->fd, &err_s) != 0 || c->fd < 3 ||
		    c->fd > 1023) {
			snprintf(err, errlen, "fd:N expected, N from 3 to 1023");
			r = -1;
		}
	} else if (use == CHECK_USE_READY && strncmp(value, "log:", 4) == 0) {
		c->kind = CHECK_LOG;
		r = check_log(value + 4, c, err, errlen);
	} else if (strncmp(value, "tcp:", 4) == 0) {
		c->kind = CHECK_TCP;
		r = check_tcp(value + 4, c, err, errlen);
	} else if (strncasecmp(value, "http://", 7) == 0 ||
	    strncasecmp(value, "https://", 8) == 0) {
		c->kind = CHECK_HTTP;
		r = check_http(value, value[4] == 's' || value[4] == 'S', c,
		    err, errlen);
		if (r == 0 && c->tls && !tls_ok) {
			snprintf(err, errlen, "https is not supported in this "
			    "build (libevent_openssl was not found)");
			r = -1;
		}
	} else if (strncmp(value, "exec:", 5) == 0) {
		c->kind = CHECK_EXEC;
		if (parse_argv(value + 5, &c->argv, &err_s) != 0) {
			c->argv = NULL;
			snprintf(err, errlen, "exec: %s", err_s);
			r = -1;
		} else if (c->argv[0] == NULL || c->argv[0][0] == '\0') {
			snprintf(err, errlen, "exec: needs a command");
			r = -1;
		}
	} else if (use == CHECK_USE_HEALTH &&
	    strncmp(value, "watchdog:", 9) == 0) {
		c->kind = CHECK_WATCHDOG;
		if (parse_duration(value + 9, &c->watchdog, &err_s) != 0 ||
		    c->watchdog <= 0) {
			snprintf(err, errlen, "watchdog:DURATION expected, "
			    "more than 0 seconds");
			r = -1;
		}
	} else {
		snprintf(err, errlen, use == CHECK_USE_READY ?
		    "running, notify, fd:N, tcp:[HOST:]PORT, http://..., "
		    "https://..., exec:COMMAND or log:REGEX expected" :
		    "tcp:[HOST:]PORT, http://..., https://..., exec:COMMAND "
		    "or watchdog:DURATION expected");
		r = -1;
	}
#ifdef _WIN32
	/* ready-win32.c waits on nothing: say so rather than ignore the check. */
	if (r == 0 && c->kind != CHECK_RUNNING) {
		snprintf(err, errlen, "readiness and health checks other than "
		    "running are not supported on Windows");
		r = -1;
	}
#endif
	if (r == -1) {
		check_release(c);
		return -1;
	}
	if ((c->spec = strdup(value)) == NULL)
		abort();
	return 0;
}

void
check_dup(struct check *c)
{
	char err[200];
	struct check copy;

	if (c->spec == NULL) {
		memset(c, 0, sizeof *c);
		return;
	}
	/* A regex_t cannot be copied: parse the text again (it parsed once). */
	memset(&copy, 0, sizeof copy);
	if (check_parse(c->spec, c->kind == CHECK_WATCHDOG ||
	    c->kind == CHECK_NONE ? CHECK_USE_HEALTH : CHECK_USE_READY, true,
	    &copy, err, sizeof err) != 0) {
		/* tcp/http/exec parse as either use; watchdog only as health. */
		memset(&copy, 0, sizeof copy);
		if (check_parse(c->spec, CHECK_USE_HEALTH, true, &copy, err,
		    sizeof err) != 0)
			abort();
	}
	*c = copy;
}

void
check_release(struct check *c)
{
	free(c->spec);
	free(c->host);
	free(c->path);
	strv_free(c->argv);
	if (c->re != NULL) {
#ifndef _WIN32
		regfree(&c->re->r);
#endif
		free(c->re);
	}
	memset(c, 0, sizeof *c);
}

bool
check_log_matches(const struct check *c, const char *line)
{
#ifdef _WIN32
	return false;
#else
	return c->re != NULL && regexec(&c->re->r, line, 0, NULL, 0) == 0;
#endif
}

bool
check_is_probe(const struct check *c)
{
	return c->kind == CHECK_TCP || c->kind == CHECK_HTTP ||
	    c->kind == CHECK_EXEC;
}

bool
check_wants_notify(const struct check *c)
{
	return c->kind == CHECK_NOTIFY || c->kind == CHECK_WATCHDOG;
}
