/*
 * safeexitctl -c FILE: where the daemon of FILE listens.  A safeexitd
 * config names it in [safeexitd] socket; a supervisord config in
 * [supervisorctl] serverurl = unix://PATH or [unix_http_server] file, in
 * that order of preference (supervisorctl's own).  supervisord's
 * %(here)s (the folder of FILE), %(ENV_X)s and %% are expanded in the
 * path, as the daemon does (safeexitd.ini(5)).
 */
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "safeexitctl.h"

struct config_socket {
	char	*safeexitd;	/* [safeexitd] socket */
	char	*serverurl;	/* [supervisorctl] serverurl, unix:// only */
	char	*unix_file;	/* [unix_http_server] file */
};

static int	config_socket_ini(void *, const char *, const char *,
		    const char *);
static char	*config_socket_value(const char *);
static char	*config_socket_expand(const char *, const char *);
static char	*config_socket_here(const char *);
static int	config_socket_append(char **, size_t *, const char *, size_t);

/* A value less an inline '#' comment (inih strips ';' ones) and white space. */
static char *
config_socket_value(const char *value)
{
	char	*s, *p;

	if ((s = strdup(value)) == NULL)
		return (NULL);
	for (p = s; *p != '\0'; p++) {
		if (*p == '#' && p > s && isspace((unsigned char)p[-1])) {
			*p = '\0';
			break;
		}
	}
	while (p > s && isspace((unsigned char)p[-1]))
		*--p = '\0';
	return (s);
}

/* inih handler: keep the three keys that may name the socket. */
static int
config_socket_ini(void *arg, const char *section, const char *name,
    const char *value)
{
	struct config_socket	*cs = arg;
	char			**slot = NULL;

	if (strcmp(section, "safeexitd") == 0 && strcmp(name, "socket") == 0)
		slot = &cs->safeexitd;
	else if (strcmp(section, "supervisorctl") == 0 &&
	    strcmp(name, "serverurl") == 0 && strncmp(value, "unix://", 7) == 0) {
		slot = &cs->serverurl;
		value += 7;
	} else if (strcmp(section, "unix_http_server") == 0 &&
	    strcmp(name, "file") == 0)
		slot = &cs->unix_file;
	if (slot == NULL)
		return (1);
	free(*slot);
	return ((*slot = config_socket_value(value)) != NULL);
}

/* The absolute folder of path (supervisord's %(here)s). */
static char *
config_socket_here(const char *path)
{
	char	 buf[PATH_MAX], *slash;

#ifdef _WIN32
	if (_fullpath(buf, path, sizeof buf) == NULL)
		return (NULL);
	for (slash = buf; *slash != '\0'; slash++)
		if (*slash == '\\')
			*slash = '/';
#else
	if (realpath(path, buf) == NULL)
		return (NULL);
#endif
	if ((slash = strrchr(buf, '/')) != NULL)
		*(slash == buf ? slash + 1 : slash) = '\0';
	return (strdup(buf));
}

/* Append n bytes of s to the string *out of length *len; false when out of memory. */
static int
config_socket_append(char **out, size_t *len, const char *s, size_t n)
{
	char	*p;

	if ((p = realloc(*out, *len + n + 1)) == NULL)
		return (0);
	memcpy(p + *len, s, n);
	*len += n;
	p[*len] = '\0';
	*out = p;
	return (1);
}

/* in with %(here)s, %(ENV_X)s and %% expanded; NULL when a name is unset. */
static char *
config_socket_expand(const char *in, const char *file)
{
	char	*out = NULL, *here = NULL;
	size_t	 len = 0;
	int	 ok = config_socket_append(&out, &len, "", 0);

	while (ok && *in != '\0') {
		const char	*end, *val = NULL;
		char		 name[256];

		if (in[0] == '%' && in[1] == '%') {
			ok = config_socket_append(&out, &len, "%", 1);
			in += 2;
			continue;
		}
		if (in[0] != '%' || in[1] != '(' ||
		    (end = strstr(in, ")s")) == NULL ||
		    (size_t)(end - in - 2) >= sizeof name) {
			ok = config_socket_append(&out, &len, in++, 1);
			continue;
		}
		memcpy(name, in + 2, end - in - 2);
		name[end - in - 2] = '\0';
		if (strcmp(name, "here") == 0)
			val = here != NULL ? here : (here = config_socket_here(file));
		else if (strncmp(name, "ENV_", 4) == 0)
			val = getenv(name + 4);
		ok = val != NULL && config_socket_append(&out, &len, val,
		    strlen(val));
		in = end + 2;
	}
	free(here);
	if (!ok) {
		free(out);
		return (NULL);
	}
	return (out);
}

int
config_socket_read(const char *file, char **path)
{
	struct config_socket	 cs = { 0 };
	const char		*raw;
	int			 r;

	*path = NULL;
	errno = 0;
	r = ini_parse(file, config_socket_ini, &cs);
	if (r == -1 || r == -2) {
		free(cs.safeexitd);
		free(cs.serverurl);
		free(cs.unix_file);
		return (r);
	}
	/* Other problems are the daemon's to report; we need one key. */
	raw = cs.safeexitd != NULL ? cs.safeexitd :
	    cs.serverurl != NULL ? cs.serverurl : cs.unix_file;
	if (raw != NULL && (*path = config_socket_expand(raw, file)) == NULL)
		r = -3;
	else
		r = 0;
	free(cs.safeexitd);
	free(cs.serverurl);
	free(cs.unix_file);
	return (r);
}
