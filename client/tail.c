/*
 * safeexitctl tail: print the end of a program's log file and, with -f,
 * follow it like tail -F across rotation and truncation.  The daemon only
 * names the file (commands.c asks it); the client reads the file itself.
 */
#include <sys/types.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "safeexitctl.h"
#include "tail.h"

static int	tail_last(int, int);
static int	tail_copy(int, const char *, off_t);
static int	tail_open(const char *, bool);
static int	tail_follow(const char *, int);
static int	tail_write(const char *, size_t);

/* See tail.h. */
int
tail_file(const char *path, int n, bool follow)
{
	int	fd, r;

	fd = tail_open(path, !follow);
	if (fd == -1 && !follow)
		return (errno == EACCES ? CTL_EXIT_PERMISSION :
		    CTL_EXIT_NOT_REACHED);
	r = CTL_EXIT_DONE;
	if (fd != -1 && tail_last(fd, n) == -1)
		r = CTL_EXIT_NOT_REACHED;
	else if (follow) {
		/* Runs until interrupted, and closes fd. */
		r = tail_follow(path, fd);
		fd = -1;
	}
	if (fd != -1)
		close(fd);
	return (r);
}

/* Open the log; a missing one is reported only when report_missing. */
static int
tail_open(const char *path, bool report_missing)
{
	struct stat	st;
	int		fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		if (errno != ENOENT || report_missing)
			ctl_warn("%s", path);
		return (-1);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		ctl_warnx("%s: not a regular file", path);
		close(fd);
		errno = EINVAL;
		return (-1);
	}
	return (fd);
}

/*
 * Print the last n lines, reading backwards from the end, and leave the
 * offset at the end for following.
 */
static int
tail_last(int fd, int n)
{
	char	buf[8192];
	off_t	size, off, start = 0;
	ssize_t	got, i;
	int	count = 0;

	if ((size = lseek(fd, 0, SEEK_END)) == -1)
		return (-1);
	if (n == 0)
		return (0);
	off = size;
	while (off > 0 && start == 0) {
		got = off < (off_t)sizeof buf ? (ssize_t)off :
		    (ssize_t)sizeof buf;
		off -= got;
		if (pread(fd, buf, got, off) != got) {
			ctl_warn("read");
			return (-1);
		}
		for (i = got - 1; i >= 0; i--) {
			/* The newline ending the last line starts nothing. */
			if (buf[i] != '\n' || off + i == size - 1)
				continue;
			if (++count == n) {
				start = off + i + 1;
				break;
			}
		}
	}
	if (lseek(fd, start, SEEK_SET) == -1)
		return (-1);
	/* What is appended meanwhile is not of the last n: -f shows it. */
	return (tail_copy(fd, NULL, size));
}

/*
 * Copy from the offset to the end of the file, or up to offset upto when
 * it is not -1.  A file that shrank below the offset was truncated in
 * place: start again from its beginning.
 */
static int
tail_copy(int fd, const char *path, off_t upto)
{
	char		buf[65536];
	struct stat	st;
	off_t		off;
	ssize_t		n;

	if (path != NULL && fstat(fd, &st) == 0 &&
	    (off = lseek(fd, 0, SEEK_CUR)) != -1 && st.st_size < off) {
		ctl_warnx("%s: file truncated", path);
		lseek(fd, 0, SEEK_SET);
	}
	for (;;) {
		size_t	want = sizeof buf;

		if (upto != -1) {
			if ((off = lseek(fd, 0, SEEK_CUR)) == -1 || off >= upto)
				return (0);
			if (upto - off < (off_t)want)
				want = (size_t)(upto - off);
		}
		n = read(fd, buf, want);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			ctl_warn("read");
			return (-1);
		}
		if (n == 0)
			return (0);
		if (tail_write(buf, (size_t)n) == -1)
			return (-1);
	}
}

/*
 * Follow the log like tail -F: inotify on the file (writes, truncation,
 * rename, removal) and on its folder (a new file of that name).  After any
 * event, copy what is new and check whether the name now points to another
 * file; if so, finish the old one and start the new one from its beginning.
 */
static int
tail_follow(const char *path, int fd)
{
	char		 events[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	struct stat	 st, cur;
	char		*dir, *slash;
	int		 ifd, fwd = -1, dwd;
	ssize_t		 n;

	if ((dir = strdup(path)) == NULL) {
		ctl_warn("strdup");
		return (CTL_EXIT_NOT_REACHED);
	}
	if ((slash = strrchr(dir, '/')) == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';

	if ((ifd = inotify_init1(IN_CLOEXEC)) == -1) {
		ctl_warn("inotify_init1");
		free(dir);
		return (CTL_EXIT_NOT_REACHED);
	}
	dwd = inotify_add_watch(ifd, dir, IN_CREATE | IN_MOVED_TO);
	free(dir);
	if (dwd == -1) {
		ctl_warn("inotify_add_watch %s", path);
		close(ifd);
		return (CTL_EXIT_NOT_REACHED);
	}
	if (fd == -1)
		ctl_warnx("%s does not exist yet; waiting for it", path);

	for (;;) {
		if (fd != -1 && fwd == -1)
			fwd = inotify_add_watch(ifd, path, IN_MODIFY |
			    IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF);
		if (fd != -1 && tail_copy(fd, path, -1) == -1)
			break;

		/* Rotated or replaced: the name leads to another file now. */
		if (fd != -1 && fstat(fd, &cur) == 0 &&
		    (stat(path, &st) == -1 || st.st_ino != cur.st_ino ||
		    st.st_dev != cur.st_dev)) {
			if (tail_copy(fd, path, -1) == -1)
				break;
			close(fd);
			fd = -1;
			if (fwd != -1)
				inotify_rm_watch(ifd, fwd);
			fwd = -1;
		}
		if (fd == -1 && (fd = tail_open(path, false)) != -1) {
			ctl_warnx("%s: following the new file", path);
			continue;
		}

		n = read(ifd, events, sizeof events);
		if (n == -1 && errno != EINTR) {
			ctl_warn("inotify");
			break;
		}
	}
	if (fd != -1)
		close(fd);
	close(ifd);
	return (CTL_EXIT_NOT_REACHED);
}

/* Write it all to stdout. */
static int
tail_write(const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = write(STDOUT_FILENO, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			ctl_warn("write");
			return (-1);
		}
		buf += n;
		len -= (size_t)n;
	}
	return (0);
}
