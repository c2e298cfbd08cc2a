/*
 * safeexitctl's transport on Windows: the daemon's named pipe, opened for
 * overlapped I/O so that every wait is bounded by its limit.  The pipe is
 * opened at the identification level: the daemon may learn who the client
 * is, and whoever holds the name can do no more than that.
 */
#include <windows.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "safeexitctl.h"
#include "transport.h"
#include "winutil.h"

#define TRANSPORT_PIPE_PREFIX	L"\\\\.\\pipe\\"

struct transport {
	HANDLE		 pipe;
	OVERLAPPED	 ov;
	const char	*path;		/* for messages */
};

static int	transport_wait(struct transport *, double, DWORD *);

/* A bare name lives under \\.\pipe\, as the daemon takes it. */
static wchar_t *
transport_name(const char *path)
{
	wchar_t	*w, *full;
	size_t	 n;
	int	 len;

	if ((len = MultiByteToWideChar(CP_UTF8, 0, path, -1, NULL, 0)) <= 0 ||
	    (w = calloc((size_t)len, sizeof *w)) == NULL)
		return NULL;
	MultiByteToWideChar(CP_UTF8, 0, path, -1, w, len);
	if (_wcsnicmp(w, TRANSPORT_PIPE_PREFIX,
	    wcslen(TRANSPORT_PIPE_PREFIX)) == 0)
		return w;
	n = wcslen(TRANSPORT_PIPE_PREFIX) + wcslen(w) + 1;
	if ((full = calloc(n, sizeof *full)) != NULL)
		_snwprintf(full, n, L"%ls%ls", TRANSPORT_PIPE_PREFIX, w);
	free(w);
	return full;
}

/* Open the pipe; while every instance is busy, wait within the limits. */
int
transport_connect(const char *path, double connect_secs, struct transport **out)
{
	struct transport	*t;
	wchar_t			*name;
	double			 limit, left;
	bool			 by_t = false;
	HANDLE			 h;
	DWORD			 err;

	limit = client_now() + connect_secs;
	if (ctl_opts.timeout_set && ctl_opts.deadline <= limit) {
		limit = ctl_opts.deadline;
		by_t = true;
	}
	if ((name = transport_name(path)) == NULL) {
		ctl_warnx("cannot reach safeexitd at %s: bad pipe name", path);
		return (CTL_EXIT_UNREACHABLE);
	}
	for (;;) {
		h = CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, NULL,
		    OPEN_EXISTING, FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT |
		    SECURITY_IDENTIFICATION, NULL);
		if (h != INVALID_HANDLE_VALUE)
			break;
		err = GetLastError();
		if (err != ERROR_PIPE_BUSY) {
			free(name);
			ctl_warnx("cannot reach safeexitd at %s: %s", path,
			    winutil_strerror(err));
			return (err == ERROR_ACCESS_DENIED ?
			    CTL_EXIT_PERMISSION : CTL_EXIT_UNREACHABLE);
		}
		left = limit - client_now();
		if (left <= 0) {
			free(name);
			if (by_t)
				return (client_timed_out(0));
			ctl_warnx("cannot reach safeexitd at %s: it accepts no "
			    "connections", path);
			return (CTL_EXIT_UNREACHABLE);
		}
		WaitNamedPipeW(name, (DWORD)(left * 1000) + 1);
	}
	free(name);
	if ((t = calloc(1, sizeof *t)) == NULL ||
	    (t->ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL)) == NULL) {
		ctl_warnx("out of memory");
		CloseHandle(h);
		free(t);
		return (CTL_EXIT_UNREACHABLE);
	}
	t->pipe = h;
	t->path = path;
	*out = t;
	return (CTL_EXIT_DONE);
}

/*
 * Wait for the I/O in flight until limit (0: none).  CTL_EXIT_DONE with
 * the byte count, or -1 with the error left in GetLastError.
 */
static int
transport_wait(struct transport *t, double limit, DWORD *n)
{
	double	left;
	DWORD	ms = INFINITE;

	if (limit > 0) {
		left = limit - client_now();
		ms = left <= 0 ? 0 : (DWORD)(left * 1000) + 1;
	}
	if (WaitForSingleObject(t->ov.hEvent, ms) == WAIT_TIMEOUT) {
		CancelIoEx(t->pipe, &t->ov);
		GetOverlappedResult(t->pipe, &t->ov, n, TRUE);
		return (client_timed_out(limit));
	}
	if (!GetOverlappedResult(t->pipe, &t->ov, n, FALSE))
		return (-1);
	return (CTL_EXIT_DONE);
}

/* Write the whole frame; -1 when the daemon hung up. */
int
transport_send(struct transport *t, const char *buf, size_t len, double limit)
{
	DWORD	n, err;
	int	r;

	while (len > 0) {
		if (!WriteFile(t->pipe, buf, (DWORD)len, NULL, &t->ov) &&
		    GetLastError() != ERROR_IO_PENDING) {
			err = GetLastError();
			goto fail;
		}
		if ((r = transport_wait(t, limit, &n)) == -1) {
			err = GetLastError();
			goto fail;
		}
		if (r != CTL_EXIT_DONE)
			return (r);
		buf += n;
		len -= n;
	}
	return (CTL_EXIT_DONE);
fail:
	if (err == ERROR_NO_DATA || err == ERROR_BROKEN_PIPE ||
	    err == ERROR_PIPE_NOT_CONNECTED)
		return (-1);
	ctl_warnx("send to %s: %s", t->path, winutil_strerror(err));
	return (CTL_EXIT_UNREACHABLE);
}

/* Read what is there; a pipe the daemon closed reads as EOF. */
int
transport_recv(struct transport *t, char *buf, size_t size, size_t *n,
    double limit)
{
	DWORD	got = 0, err;
	int	r;

	*n = 0;
	if (!ReadFile(t->pipe, buf, (DWORD)size, NULL, &t->ov) &&
	    GetLastError() != ERROR_IO_PENDING) {
		err = GetLastError();
		goto fail;
	}
	if ((r = transport_wait(t, limit, &got)) == -1) {
		err = GetLastError();
		goto fail;
	}
	if (r != CTL_EXIT_DONE)
		return (r);
	*n = got;
	return (CTL_EXIT_DONE);
fail:
	if (err == ERROR_BROKEN_PIPE || err == ERROR_PIPE_NOT_CONNECTED ||
	    err == ERROR_NO_DATA)
		return (CTL_EXIT_DONE);
	ctl_warnx("receive from %s: %s", t->path, winutil_strerror(err));
	return (CTL_EXIT_UNREACHABLE);
}

/* Close the pipe. */
void
transport_close(struct transport *t)
{
	if (t == NULL)
		return;
	CloseHandle(t->ov.hEvent);
	CloseHandle(t->pipe);
	free(t);
}
