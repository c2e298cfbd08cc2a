/*
 * Allocation that cannot fail: each call returns memory or ends the process
 * with fatal().  Running out of memory is a broken invariant here, never a
 * condition to limp on; code that really can do without the memory (a reply
 * that degrades, a per-client buffer) calls malloc and handles NULL itself.
 * A size of zero allocates one byte, so the result is never NULL.
 */
#ifndef SAFEEXIT_XMALLOC_H
#define SAFEEXIT_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

#include "log.h"

void	*xmalloc(size_t size);
void	*xcalloc(size_t nmemb, size_t size);
void	*xrealloc(void *ptr, size_t size);
/* realloc for nmemb elements of size, the multiplication overflow-checked. */
void	*xreallocarray(void *ptr, size_t nmemb, size_t size);
char	*xstrdup(const char *s);
/* The first len bytes of s (fewer at its NUL), NUL-terminated. */
char	*xstrndup(const char *s, size_t len);
char	*xasprintf(const char *fmt, ...) LOG_PRINTF(1, 2);
char	*xvasprintf(const char *fmt, va_list ap) LOG_PRINTF(1, 0);

#endif
