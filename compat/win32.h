/*
 * What MinGW-w64 lacks of the POSIX names the portable modules use.  Built
 * into every file of the Windows build (configure's -include), so those
 * modules compile unchanged; everything that really differs lives behind
 * the platform interface (daemon/platform.h) in the *-win32.c files.
 */
#ifndef SAFEEXIT_COMPAT_WIN32_H
#define SAFEEXIT_COMPAT_WIN32_H

/* C99 printf (%zu, %lld) from MinGW's own stdio, not msvcrt's. */
#ifndef __USE_MINGW_ANSI_STDIO
#define __USE_MINGW_ANSI_STDIO 1
#endif
/* Windows 7: GetNamedPipeClientProcessId, CancelIoEx, job objects. */
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0601
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
/* A 64-bit off_t, so lseek reaches past 2 GiB in log files. */
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif
/* localtime_r and friends from time.h. */
#ifndef _POSIX_THREAD_SAFE_FUNCTIONS
#define _POSIX_THREAD_SAFE_FUNCTIONS 200112L
#endif

#include <sys/types.h>
#include <fcntl.h>
#include <signal.h>

/*
 * With MinGW's C99 stdio (above) printf-like functions take %zu and %lld,
 * but GCC checks format(printf) against msvcrt's rules there: check every
 * such declaration against the stdio really in use.
 */
#define format(archetype, fmt, args) format(gnu_##archetype, fmt, args)

typedef int uid_t;
typedef int gid_t;
typedef long suseconds_t;

/*
 * Signal numbers as Linux has them, so config files and the protocol mean
 * the same everywhere.  On Windows they are names for stop actions: the
 * platform maps each to a console event, WM_CLOSE, or termination.  Only
 * numbers the C runtime leaves free are taken (21 and 22 are SIGBREAK and
 * SIGABRT there).
 */
#ifndef SIGHUP
#define SIGHUP	1
#endif
#ifndef SIGQUIT
#define SIGQUIT	3
#endif
#ifndef SIGKILL
#define SIGKILL	9
#endif
#ifndef SIGUSR1
#define SIGUSR1	10
#endif
#ifndef SIGUSR2
#define SIGUSR2	12
#endif
#ifndef SIGPIPE
#define SIGPIPE	13
#endif
#ifndef SIGALRM
#define SIGALRM	14
#endif
#ifndef SIGCHLD
#define SIGCHLD	17
#endif
#ifndef SIGCONT
#define SIGCONT	18
#endif
#ifndef SIGSTOP
#define SIGSTOP	19
#endif

/* pread(2) for the client (compat/win32-client.c). */
ssize_t	pread(int fd, void *buf, size_t len, off_t off);

/* open(2) flags: handles are not inherited unless asked for. */
#ifndef O_CLOEXEC
#define O_CLOEXEC	_O_NOINHERIT
#endif
#ifndef O_NOFOLLOW
#define O_NOFOLLOW	0
#endif
#ifndef O_NOCTTY
#define O_NOCTTY	0
#endif
#ifndef O_NONBLOCK
#define O_NONBLOCK	0
#endif

/* No symbolic links to tell apart here: lstat is stat. */
#define lstat(path, st)	stat(path, st)

/* dprintf(3), which MinGW lacks; for short messages. */
#include <stdarg.h>
#include <stdio.h>
#include <io.h>
static inline int
dprintf(int fd, const char *fmt, ...)
{
	char	buf[1024];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return n;
	if ((size_t)n >= sizeof buf)
		n = (int)sizeof buf - 1;
	return _write(fd, buf, (unsigned)n);
}

/* strndup(3), which MinGW lacks. */
#include <stdlib.h>
#include <string.h>
static inline char *
strndup(const char *s, size_t n)
{
	size_t	 len = strnlen(s, n);
	char	*d = malloc(len + 1);

	if (d != NULL) {
		memcpy(d, s, len);
		d[len] = '\0';
	}
	return d;
}

#endif
