/*
 * Small helpers of the config loader: allocation (a config that cannot be
 * held cannot be loaded, so running out of memory is fatal), and the shape
 * of the paths a config names.
 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config-load.h"

static void		 path_clean(char *);

/* Allocate zeroed memory; a config that cannot be held cannot be loaded. */
void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL)
		fatalx("%s: out of memory", __func__);
	return p;
}

/* Grow an array, checking the multiplication for overflow. */
void *
xreallocarray(void *ptr, size_t n, size_t size)
{
	void	*p;

	if (size != 0 && n > SIZE_MAX / size)
		fatalx("%s: size overflow", __func__);
	if ((p = realloc(ptr, n * size == 0 ? 1 : n * size)) == NULL)
		fatalx("%s: out of memory", __func__);
	return p;
}

/* Copy a string or abort. */
char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

/* Copy len bytes of s into a new NUL-terminated string. */
char *
xstrndup(const char *s, size_t len)
{
	char	*p;

	p = xcalloc(1, len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* Format into a new string (vsnprintf twice, which every platform has). */
char *
xvasprintf(const char *fmt, va_list ap)
{
	va_list	 ap2;
	char	*s;
	int	 len;

	va_copy(ap2, ap);
	len = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (len < 0)
		fatalx("%s: bad format", __func__);
	s = xcalloc(1, (size_t)len + 1);
	vsnprintf(s, (size_t)len + 1, fmt, ap);
	return s;
}

/* Format into a new string. */
char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

/* White space as inih sees it (isspace, without the locale's sign trap). */
bool
is_blank(char c)
{
	return isspace((unsigned char)c) != 0;
}

/*
 * The absolute folder of a file, without resolving symbolic links: a
 * relative name is taken from the current directory at load time, so the
 * result stays right after the daemon changes directory.
 */
char *
path_dir_of(const char *path)
{
	char		*slash, *dir, *abs, cwd[PATH_MAX];

	dir = xstrdup(path);
	config_files_normalize(dir);
	if ((slash = strrchr(dir, '/')) == NULL) {
		free(dir);
		dir = xstrdup(".");
	} else if (slash == dir || (slash == dir + 2 && dir[1] == ':'))
		slash[1] = '\0';	/* the root, or a drive's */
	else
		*slash = '\0';
	if (!config_files_absolute(dir)) {
		if (getcwd(cwd, sizeof cwd) == NULL)
			snprintf(cwd, sizeof cwd, ".");
		config_files_normalize(cwd);
		abs = xasprintf("%s/%s", cwd, dir);
		free(dir);
		dir = abs;
	}
	path_clean(dir);
	return dir;
}

/* An absolute, cleaned path: p itself, or p relative to dir. */
char *
path_resolve(const char *dir, const char *p)
{
	char	*abs;

	if (config_files_absolute(p))
		abs = xstrdup(p);
	else
		abs = xasprintf("%s/%s", dir, p);
	config_files_normalize(abs);
	path_clean(abs);
	return abs;
}

/*
 * An absolute path with each ".." taking away the component before it, as
 * Python's os.path.abspath (what supervisord's %(here)s is).
 */
char *
path_abspath(const char *path)
{
	char	*out = xstrdup(path), *r = out, *w = out;

	while (*r != '\0') {
		if (r[0] == '/' && r[1] == '.' && r[2] == '.' &&
		    (r[3] == '/' || r[3] == '\0')) {
			while (w > out && *--w != '/')
				;
			r += 3;
			continue;
		}
		*w++ = *r++;
	}
	if (w == out)
		*w++ = '/';
	*w = '\0';
	return out;
}

/*
 * Drop empty and "." components in place.  ".." is kept: removing it by
 * hand would be wrong when the component before it is a symbolic link.
 */
static void
path_clean(char *path)
{
	char	*r = path, *w = path;
	bool	 abs = path[0] == '/';

	while (*r != '\0') {
		while (*r == '/')
			r++;
		if (*r == '\0')
			break;
		if (r[0] == '.' && (r[1] == '/' || r[1] == '\0')) {
			r++;
			continue;
		}
		if (w != path || abs)
			*w++ = '/';
		while (*r != '\0' && *r != '/')
			*w++ = *r++;
	}
	if (w == path) {
		if (abs)
			*w++ = '/';
		else
			*w++ = '.';
	}
	*w = '\0';
}
