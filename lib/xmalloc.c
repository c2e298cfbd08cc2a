/*
 * Allocation that cannot fail (see xmalloc.h): the one place the daemon and
 * the client turn running out of memory into fatal().
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xmalloc.h"

/* malloc, or exit. */
void *
xmalloc(size_t size)
{
	void	*p;

	if (size == 0)
		size = 1;
	if ((p = malloc(size)) == NULL)
		fatal("xmalloc: allocating %zu bytes", size);
	return p;
}

/* calloc, or exit. */
void *
xcalloc(size_t nmemb, size_t size)
{
	void	*p;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	if ((p = calloc(nmemb, size)) == NULL)
		fatal("xcalloc: allocating %zu * %zu bytes", nmemb, size);
	return p;
}

/* realloc, or exit. */
void *
xrealloc(void *ptr, size_t size)
{
	return xreallocarray(ptr, 1, size);
}

/* realloc for an array, the multiplication checked for overflow, or exit. */
void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	size_t	 total;
	void	*p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		fatalx("xreallocarray: %zu * %zu bytes overflows", nmemb, size);
	if ((total = nmemb * size) == 0)
		total = 1;
	if ((p = realloc(ptr, total)) == NULL)
		fatal("xreallocarray: allocating %zu * %zu bytes", nmemb, size);
	return p;
}

/* strdup, or exit. */
char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

/* strndup, which Windows lacks, or exit. */
char *
xstrndup(const char *s, size_t len)
{
	const char	*end;
	char		*p;

	if ((end = memchr(s, '\0', len)) != NULL)
		len = (size_t)(end - s);
	p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* asprintf, or exit. */
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

/* vasprintf, which Windows lacks, or exit: vsnprintf twice. */
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
		fatal("xvasprintf: formatting \"%s\"", fmt);
	s = xmalloc((size_t)len + 1);
	if (vsnprintf(s, (size_t)len + 1, fmt, ap) != len)
		fatalx("xvasprintf: \"%s\" changed length", fmt);
	return s;
}
