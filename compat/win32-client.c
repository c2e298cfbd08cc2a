/*
 * POSIX calls safeexitctl's commands use that Windows lacks: pread, and the
 * inotify of `tail -f`, which here is a clock (see compat/sys/inotify.h);
 * and POSIX's binary files.
 */
#include <windows.h>

#include <fcntl.h>
#include <io.h>
#include <stdint.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

/* How often a follower looks at its file. */
#define INOTIFY_TICK_MSECS	200

static void	client_binary(void) __attribute__((constructor));

/*
 * Files and standard output in binary mode, as on POSIX: tail counts and
 * copies bytes, which text mode would change under it (CR LF, Ctrl+Z).
 */
static void
client_binary(void)
{
	_fmode = _O_BINARY;
	_setmode(STDOUT_FILENO, _O_BINARY);
}

/* Read at an offset; the client has one thread, so seeking is safe. */
ssize_t
pread(int fd, void *buf, size_t len, off_t off)
{
	off_t	here;
	int	n;

	if ((here = lseek(fd, 0, SEEK_CUR)) == -1 ||
	    lseek(fd, off, SEEK_SET) == -1)
		return -1;
	n = read(fd, buf, (unsigned)len);
	lseek(fd, here, SEEK_SET);
	return n;
}

/* The clock: one empty event into the pipe at every tick. */
static DWORD WINAPI
inotify_ticker(LPVOID arg)
{
	struct inotify_event	ev;
	int			fd = (int)(intptr_t)arg;

	memset(&ev, 0, sizeof ev);
	ev.mask = IN_MODIFY;
	for (;;) {
		Sleep(INOTIFY_TICK_MSECS);
		if (write(fd, &ev, sizeof ev) != (int)sizeof ev)
			return 0;
	}
}

/* A pipe whose reading end a ticking thread wakes. */
int
inotify_init1(int flags)
{
	int	fds[2];

	(void)flags;
	if (_pipe(fds, 4096, _O_BINARY | _O_NOINHERIT) == -1)
		return -1;
	if (CreateThread(NULL, 0, inotify_ticker, (LPVOID)(intptr_t)fds[1], 0,
	    NULL) == NULL) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	return fds[0];
}

/* Every watch is the clock; the number only has to differ from -1. */
int
inotify_add_watch(int fd, const char *path, uint32_t mask)
{
	(void)fd;
	(void)mask;
	return access(path, F_OK) == 0 ? 1 : -1;
}

/* Nothing to remove. */
int
inotify_rm_watch(int fd, int wd)
{
	(void)fd;
	(void)wd;
	return 0;
}
