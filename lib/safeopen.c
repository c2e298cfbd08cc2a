/*
 * Opening a file in a folder the daemon may not own: never blocking, never
 * through a link, and only of a kind the caller expects.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "safeopen.h"

#ifndef _WIN32
static const char *safeopen_kind(mode_t mode);
static const char *safeopen_wanted(unsigned kinds);

/* The kinds a caller accepts, in words. */
static const char *
safeopen_wanted(unsigned kinds)
{
	if ((kinds & SAFEOPEN_FIFO) && (kinds & SAFEOPEN_CHR))
		return (kinds & SAFEOPEN_REG) ?
		    "a regular file, a FIFO or a character device" :
		    "a FIFO or a character device";
	if (kinds & SAFEOPEN_CHR)
		return "a regular file or a character device";
	if (kinds & SAFEOPEN_FIFO)
		return "a regular file or a FIFO";
	return "a regular file";
}

/* A file type in words, for the error text. */
static const char *
safeopen_kind(mode_t mode)
{
	if (S_ISREG(mode))
		return "a regular file";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "an unknown kind of file";
}

int
safeopen(const char *path, int flags, mode_t mode, unsigned kinds,
    struct stat *st, char *err, size_t errlen)
{
	struct stat sb;
	const char *why = NULL;
	int fd, fl, saved;

	fd = open(path, (flags & ~O_TRUNC) | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY |
	    O_CLOEXEC, mode);
	if (fd == -1) {
		saved = errno;
		/* ENXIO: a FIFO nobody reads, or a device without its driver. */
		if (saved == ENXIO && lstat(path, &sb) == 0 &&
		    S_ISFIFO(sb.st_mode))
			snprintf(err, errlen, "%s: a FIFO%s%s", path,
			    (kinds & SAFEOPEN_FIFO) ? " without a reader" : ", not ",
			    (kinds & SAFEOPEN_FIFO) ? "" : safeopen_wanted(kinds));
		else
			snprintf(err, errlen, "%s: %s", path, strerror(saved));
		errno = saved;
		return -1;
	}
	if (fstat(fd, &sb) == -1) {
		saved = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		errno = saved;
		return -1;
	}
	if (S_ISREG(sb.st_mode) && (kinds & SAFEOPEN_REG)) {
		/* A hard link another user made would be written through. */
		if (sb.st_nlink > 1)
			why = "has more than one link; not written through";
		else if ((kinds & SAFEOPEN_OWNED) && sb.st_uid != geteuid())
			why = "belongs to another user";
	} else if (!(S_ISFIFO(sb.st_mode) && (kinds & SAFEOPEN_FIFO)) &&
	    !(S_ISCHR(sb.st_mode) && (kinds & SAFEOPEN_CHR)))
		why = safeopen_kind(sb.st_mode);
	if (why != NULL) {
		if (why == safeopen_kind(sb.st_mode))
			snprintf(err, errlen, "%s: %s, not %s", path, why,
			    safeopen_wanted(kinds));
		else
			snprintf(err, errlen, "%s: %s", path, why);
		close(fd);
		errno = EPERM;
		return -1;
	}
	if (S_ISREG(sb.st_mode)) {
		/* A regular file: writes to it block no longer than a disk does. */
		if ((fl = fcntl(fd, F_GETFL)) != -1)
			fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
		if ((flags & O_TRUNC) && ftruncate(fd, 0) == -1) {
			saved = errno;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			errno = saved;
			return -1;
		}
		if (flags & O_TRUNC)
			sb.st_size = 0;
	}
	if (st != NULL)
		*st = sb;
	return fd;
}

#else
/* Windows has no FIFOs or links to plant in a log folder: a plain open. */
int
safeopen(const char *path, int flags, mode_t mode, unsigned kinds,
    struct stat *st, char *err, size_t errlen)
{
	int fd = open(path, flags | O_CLOEXEC, mode);

	if (fd == -1 || (st != NULL && fstat(fd, st) == -1)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}
#endif

int
safeopen_own_fd(const char *path)
{
	static const char *const prefixes[] = { "/dev/fd/", "/proc/self/fd/" };

	if (strcmp(path, "/dev/stdout") == 0)
		return STDOUT_FILENO;
	if (strcmp(path, "/dev/stderr") == 0)
		return STDERR_FILENO;
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
		size_t n = strlen(prefixes[i]);

		if (strncmp(path, prefixes[i], n) == 0 &&
		    (strcmp(path + n, "1") == 0 || strcmp(path + n, "2") == 0))
			return path[n] - '0';
	}
	return -1;
}
