/*
 * Opening a file in a folder the daemon may not own.  Someone who can write
 * that folder may put a link, a FIFO, a device or a hard link to another
 * file where the daemon expects its own file.  safeopen never blocks in
 * open() (O_NONBLOCK: a FIFO without a reader fails at once, one with a
 * reader opens at once), never follows a link in the last component
 * (O_NOFOLLOW), checks what it got (fstat) against the kinds the caller
 * accepts, and says what was wrong with the path named.
 */
#ifndef SAFEEXIT_SAFEOPEN_H
#define SAFEEXIT_SAFEOPEN_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Kinds of file a caller accepts. */
#define SAFEOPEN_REG	0x01	/* a regular file with a single link */
#define SAFEOPEN_FIFO	0x02	/* a FIFO: stays non-blocking */
#define SAFEOPEN_CHR	0x04	/* a character device: stays non-blocking */
#define SAFEOPEN_OWNED	0x10	/* a regular file must be the caller's (euid) */

/*
 * Open path with flags (O_NONBLOCK, O_NOFOLLOW, O_NOCTTY and O_CLOEXEC are
 * added; O_TRUNC is done by ftruncate once the file passed the checks).  A
 * regular file gets O_NONBLOCK cleared; a FIFO or a device keeps it, so
 * writing to one never blocks.  Returns the descriptor, and fills *st when
 * not NULL; -1 with errno set and "PATH: why" in err when not.
 */
int safeopen(const char *path, int flags, mode_t mode, unsigned kinds,
    struct stat *st, char *err, size_t errlen);

/* The descriptor /dev/stdout, /dev/stderr, /dev/fd/N or /proc/self/fd/N
 * name for N = 1 or 2, else -1: the daemon's own output, not a file. */
int safeopen_own_fd(const char *path);

#endif
