/*
 * The control endpoint on Windows: a named pipe (\\.\pipe\safeexitd unless
 * the config or -s names another) whose DACL admits LocalSystem, the
 * Administrators, the daemon's own user and socket_group when it is set.
 * Every client's identity is checked again on connection: its token (by
 * impersonation, or else through its process) must be one of those.
 *
 * An accepting thread waits for clients; each connection then has a thread
 * of its own doing overlapped reads and writes on the pipe.  The threads
 * never touch daemon state: what they read, and what becomes of the pipe,
 * reaches the loop through the mailbox (loop-win32.c), and the loop hands
 * them bytes to write through a locked buffer and an event.  On the loop,
 * control-conn.c does with the bytes what it does on POSIX: frames
 * requests, bounds every client in count, memory and time, and hands each
 * request, checked, to requests.c.
 */
#include <windows.h>
#include <sddl.h>

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "control-conn.h"
#include "log.h"
#include "protocol.h"
#include "win32.h"
#include "xmalloc.h"

/* What one overlapped read or write of a pipe moves at most. */
#define CONTROL_PIPE_BUF	65536
#define CONTROL_PIPE_PREFIX	L"\\\\.\\pipe\\"

enum conn_event {
	CONN_IDENTITY,		/* who the client is; comes first */
	CONN_DATA,		/* bytes read */
	CONN_WROTE,		/* bytes written */
	CONN_EOF,		/* the client closed the pipe, or it broke */
	CONN_GONE,		/* the thread has ended; free the connection */
};

/* A connection's pipe, its thread, and what they share with the loop. */
struct control_link {
	struct control_conn	*conn;		/* the loop's alone */
	HANDLE			 pipe;
	HANDLE			 thread;
	HANDLE			 wake;		/* auto-reset: news for the thread */

	/* Shared with the thread, under lock. */
	CRITICAL_SECTION	 lock;
	char			*out;
	size_t			 out_len, out_cap;
	size_t			 in_flight;	/* read, not yet taken */
	bool			 stop;

	/* The loop's alone. */
	struct evbuffer		*in;
	struct event		*wtimer;	/* output that does not drain */
};

struct conn_msg {
	struct control_link	*l;
	enum conn_event		 type;
	bool			 allowed;
	bool			 privileged;
	uid_t			 uid;
	pid_t			 pid;
	DWORD			 len;
	char			 data[];
};

static struct event_base	*control_base;
static wchar_t			*control_name;
static HANDLE			 control_first;		/* first pipe instance */
static HANDLE			 control_accept_thread;
static HANDLE			 control_accept_stop;
static SECURITY_ATTRIBUTES	 control_sa;
static PSECURITY_DESCRIPTOR	 control_sd;
static PSID			 control_self_sid;
static PSID			 control_group_sid;
static PSID			 control_admins_sid;
static PSID			 control_system_sid;

static wchar_t	*control_pipe_name(const char *path);
static int	 control_security(const char *group);
static HANDLE	 control_pipe_new(bool first);
static bool	 control_probe(const char *path);
static DWORD WINAPI control_accept_main(LPVOID arg);
static void	 control_accepted(void *arg);
static bool	 control_identify(HANDLE pipe, uid_t *uid, bool *privileged);
static bool	 control_token_allowed(HANDLE token, uid_t *uid,
		     bool *privileged);

static DWORD WINAPI conn_main(LPVOID arg);
static void	 conn_post(struct control_link *l, enum conn_event type,
		     const char *data, DWORD len);
static void	 conn_event(void *arg);
static void	 conn_identified(struct control_conn *c,
		     const struct conn_msg *m);
static void	 link_free(struct control_link *l);
static void	 link_write_timeout(evutil_socket_t fd, short what, void *arg);

/*
 * The pipe's full name: a bare name is put under \\.\pipe\, so "-s test1"
 * and "-s \\.\pipe\test1" mean the same, as they do for safeexitctl.
 */
static wchar_t *
control_pipe_name(const char *path)
{
	wchar_t	*w, *full;
	size_t	 n;

	if ((w = win32_wide(path)) == NULL)
		return NULL;
	if (_wcsnicmp(w, CONTROL_PIPE_PREFIX, wcslen(CONTROL_PIPE_PREFIX)) == 0)
		return w;
	n = wcslen(CONTROL_PIPE_PREFIX) + wcslen(w) + 1;
	full = xcalloc(n, sizeof *full);
	_snwprintf(full, n, L"%ls%ls", CONTROL_PIPE_PREFIX, w);
	free(w);
	return full;
}

/* The daemon's user, the optional group, and the DACL made of them. */
static int
control_security(const char *group)
{
	static char		 sddl[512];
	SID_IDENTIFIER_AUTHORITY nt = SECURITY_NT_AUTHORITY;
	TOKEN_USER		*tu;
	HANDLE			 token;
	DWORD			 len = 0, sidlen, domlen;
	SID_NAME_USE		 use;
	char			*self = NULL, *grp = NULL, dom[256];

	if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) {
		log_warnx("cannot read the daemon's token: %s",
		    win32_strerror(GetLastError()));
		return -1;
	}
	GetTokenInformation(token, TokenUser, NULL, 0, &len);
	tu = xmalloc(len);
	if (!GetTokenInformation(token, TokenUser, tu, len, &len)) {
		log_warnx("cannot read the daemon's user: %s",
		    win32_strerror(GetLastError()));
		CloseHandle(token);
		free(tu);
		return -1;
	}
	CloseHandle(token);
	sidlen = GetLengthSid(tu->User.Sid);
	control_self_sid = xmalloc(sidlen);
	CopySid(sidlen, control_self_sid, tu->User.Sid);
	free(tu);
	AllocateAndInitializeSid(&nt, 2, SECURITY_BUILTIN_DOMAIN_RID,
	    DOMAIN_ALIAS_RID_ADMINS, 0, 0, 0, 0, 0, 0, &control_admins_sid);
	AllocateAndInitializeSid(&nt, 1, SECURITY_LOCAL_SYSTEM_RID, 0, 0, 0,
	    0, 0, 0, 0, &control_system_sid);

	if (group != NULL && *group != '\0') {
		sidlen = 0;
		domlen = sizeof dom;
		LookupAccountNameA(NULL, group, NULL, &sidlen, dom, &domlen, &use);
		if (sidlen == 0 ||
		    (control_group_sid = malloc(sidlen)) == NULL ||
		    (domlen = sizeof dom, !LookupAccountNameA(NULL, group,
		    control_group_sid, &sidlen, dom, &domlen, &use))) {
			log_warnx("socket_group: unknown group %s", group);
			return -1;
		}
		ConvertSidToStringSidA(control_group_sid, &grp);
	}
	ConvertSidToStringSidA(control_self_sid, &self);
	snprintf(sddl, sizeof sddl, "D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GA;;;%s)"
	    "%s%s%s", self != NULL ? self : "OW", grp != NULL ? "(A;;GA;;;" : "",
	    grp != NULL ? grp : "", grp != NULL ? ")" : "");
	LocalFree(self);
	LocalFree(grp);
	if (!ConvertStringSecurityDescriptorToSecurityDescriptorA(sddl,
	    SDDL_REVISION_1, &control_sd, NULL)) {
		log_warnx("cannot build the pipe's security (%s): %s", sddl,
		    win32_strerror(GetLastError()));
		return -1;
	}
	control_sa.nLength = sizeof control_sa;
	control_sa.lpSecurityDescriptor = control_sd;
	control_sa.bInheritHandle = FALSE;
	log_debug("pipe security %s", sddl);
	return 0;
}

/* One instance of the pipe, overlapped, local clients only. */
static HANDLE
control_pipe_new(bool first)
{
	return CreateNamedPipeW(control_name, PIPE_ACCESS_DUPLEX |
	    FILE_FLAG_OVERLAPPED | (first ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0),
	    PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT |
	    PIPE_REJECT_REMOTE_CLIENTS, PIPE_UNLIMITED_INSTANCES,
	    CONTROL_PIPE_BUF, CONTROL_PIPE_BUF, 0, &control_sa);
}

/*
 * Whether a daemon serves the name already; if so, say whose it is.  The
 * first-instance flag says so too, but not every implementation of the
 * API (wine) honours it.
 */
static bool
control_probe(const char *path)
{
	ULONG	pid = 0;
	HANDLE	h;

	h = CreateFileW(control_name, GENERIC_READ | GENERIC_WRITE, 0, NULL,
	    OPEN_EXISTING, SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION,
	    NULL);
	if (h == INVALID_HANDLE_VALUE) {
		switch (GetLastError()) {
		case ERROR_PIPE_BUSY:
			log_warnx("already running (%s accepts no connections "
			    "now)", path);
			return true;
		case ERROR_ACCESS_DENIED:
			log_warnx("already running (%s, another user's)", path);
			return true;
		}
		return false;
	}
	if (GetNamedPipeServerProcessId(h, &pid))
		log_warnx("already running, pid %lu (%s)", (unsigned long)pid,
		    path);
	else
		log_warnx("already running (%s)", path);
	CloseHandle(h);
	return true;
}

/* Create the pipe, with its DACL, and start accepting. */
int
control_init(struct event_base *base, const struct control_options *opts)
{
	if (control_name != NULL) {
		log_warnx("%s: already listening", __func__);
		return -1;
	}
	control_base = base;
	control_conn_setup(base);
	if ((control_name = control_pipe_name(opts->path)) == NULL) {
		log_warnx("bad pipe name %s", opts->path);
		return -1;
	}
	if (control_security(opts->group) == -1)
		goto fail;
	if (opts->mode != 0)
		log_debug("socket_mode does not apply to a pipe; its DACL does");
	if (control_probe(opts->path))
		goto fail;
	control_first = control_pipe_new(true);
	if (control_first == INVALID_HANDLE_VALUE) {
		if ((GetLastError() != ERROR_ACCESS_DENIED &&
		    GetLastError() != ERROR_PIPE_BUSY) || !control_probe(opts->path))
			log_warnx("cannot create pipe %s: %s", opts->path,
			    win32_strerror(GetLastError()));
		control_first = NULL;
		goto fail;
	}
	control_accept_stop = CreateEventW(NULL, TRUE, FALSE, NULL);
	control_accept_thread = CreateThread(NULL, 0, control_accept_main,
	    NULL, 0, NULL);
	if (control_accept_stop == NULL || control_accept_thread == NULL) {
		log_warnx("cannot start accepting: %s",
		    win32_strerror(GetLastError()));
		goto fail;
	}
	log_debug("listening on %ls", control_name);
	return 0;
fail:
	if (control_first != NULL)
		CloseHandle(control_first);
	control_first = NULL;
	free(control_name);
	control_name = NULL;
	return -1;
}

/* A daemon re-executing itself is POSIX only. */
int
control_init_fd(struct event_base *base, int fd,
    const struct control_options *opts)
{
	(void)base;
	(void)fd;
	(void)opts;
	return -1;
}

/* A daemon re-executing itself is POSIX only. */
int
control_release_fd(void)
{
	return -1;
}

/* No descriptor stands for the pipe. */
int
control_fd(void)
{
	return -1;
}

/* Stop accepting and drop every client; their threads end on their own. */
void
control_shutdown(void)
{
	control_flush();
	if (control_accept_thread != NULL) {
		SetEvent(control_accept_stop);
		WaitForSingleObject(control_accept_thread, 2000);
		CloseHandle(control_accept_thread);
		control_accept_thread = NULL;
	}
	if (control_accept_stop != NULL)
		CloseHandle(control_accept_stop);
	control_accept_stop = NULL;
	control_conn_drop_all();
	free(control_name);
	control_name = NULL;
}

/* Wait briefly for queued replies to be written, as a reply before exit. */
void
control_flush(void)
{
	struct control_conn	*c;
	int			 i;

	for (i = 0; i < 100; i++) {
		for (c = control_conn_first(); c != NULL; c = c->next)
			if (!c->dropped && control_link_pending(c->link) > 0)
				break;
		if (c == NULL)
			return;
		Sleep(10);
	}
}

/* The accepting thread: one connected pipe after another, to the loop. */
static DWORD WINAPI
control_accept_main(LPVOID arg)
{
	OVERLAPPED	 ov;
	HANDLE		 pipe = control_first, ev[2], *msg;
	DWORD		 n;
	BOOL		 ok;

	(void)arg;
	memset(&ov, 0, sizeof ov);
	ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
	ev[0] = ov.hEvent;
	ev[1] = control_accept_stop;
	for (;;) {
		if (pipe == NULL &&
		    (pipe = control_pipe_new(false)) == INVALID_HANDLE_VALUE) {
			pipe = NULL;
			/* Out of resources: rest rather than spin. */
			if (WaitForSingleObject(control_accept_stop, 1000) ==
			    WAIT_OBJECT_0)
				break;
			continue;
		}
		ok = ConnectNamedPipe(pipe, &ov);
		if (!ok && GetLastError() == ERROR_IO_PENDING) {
			if (WaitForMultipleObjects(2, ev, FALSE, INFINITE) !=
			    WAIT_OBJECT_0) {
				CancelIoEx(pipe, &ov);
				GetOverlappedResult(pipe, &ov, &n, TRUE);
				break;
			}
			ok = GetOverlappedResult(pipe, &ov, &n, FALSE);
		} else if (!ok && GetLastError() == ERROR_PIPE_CONNECTED)
			ok = TRUE;
		if (!ok) {
			/* A client that came and went: use a fresh instance. */
			CloseHandle(pipe);
			pipe = NULL;
			continue;
		}
		if ((msg = malloc(sizeof *msg)) == NULL) {
			CloseHandle(pipe);
			pipe = NULL;
			continue;
		}
		*msg = pipe;
		win32_post(control_accepted, msg);
		pipe = NULL;
		if (WaitForSingleObject(control_accept_stop, 0) == WAIT_OBJECT_0)
			break;
	}
	if (pipe != NULL)
		CloseHandle(pipe);
	CloseHandle(ov.hEvent);
	return 0;
}

/* On the loop: a client connected; its thread checks who it is. */
static void
control_accepted(void *arg)
{
	struct control_link	*l;
	HANDLE			 pipe = *(HANDLE *)arg;

	free(arg);
	if (control_name == NULL) {
		CloseHandle(pipe);
		return;
	}
	if ((l = calloc(1, sizeof *l)) == NULL) {
		log_warn("%s: calloc", __func__);
		CloseHandle(pipe);
		return;
	}
	l->pipe = pipe;
	InitializeCriticalSection(&l->lock);
	l->in = evbuffer_new();
	l->wake = CreateEventW(NULL, FALSE, FALSE, NULL);
	l->wtimer = evtimer_new(control_base, link_write_timeout, l);
	if (l->in == NULL || l->wake == NULL || l->wtimer == NULL ||
	    (l->conn = control_conn_new(l)) == NULL)
		fatalx("%s: out of memory", __func__);
	if ((l->thread = CreateThread(NULL, 0, conn_main, l, 0, NULL)) ==
	    NULL) {
		log_warnx("%s: CreateThread: %s", __func__,
		    win32_strerror(GetLastError()));
		CloseHandle(l->pipe);
		control_conn_drop(l->conn);
	}
}

/*
 * Whether token is the daemon's user, LocalSystem, an administrator (all
 * three privileged), or in the group.
 */
static bool
control_token_allowed(HANDLE token, uid_t *uid, bool *privileged)
{
	TOKEN_USER	*tu;
	DWORD		 len = 0;
	BOOL		 member;
	bool		 allowed = false;

	GetTokenInformation(token, TokenUser, NULL, 0, &len);
	if (len == 0 || (tu = malloc(len)) == NULL)
		return false;
	if (GetTokenInformation(token, TokenUser, tu, len, &len)) {
		/* The RID stands for the user id in messages. */
		*uid = (uid_t)*GetSidSubAuthority(tu->User.Sid,
		    *GetSidSubAuthorityCount(tu->User.Sid) - 1);
		if (EqualSid(tu->User.Sid, control_self_sid) ||
		    EqualSid(tu->User.Sid, control_system_sid))
			allowed = true;
	}
	free(tu);
	if (!allowed && CheckTokenMembership(token, control_admins_sid,
	    &member) && member)
		allowed = true;
	*privileged = allowed;
	if (!allowed && control_group_sid != NULL &&
	    CheckTokenMembership(token, control_group_sid, &member) && member)
		allowed = true;
	return allowed;
}

/*
 * Who the client is: its token, by impersonating it, or else its process's
 * token (the pipe's client process id).  Runs on the connection's thread.
 */
static bool
control_identify(HANDLE pipe, uid_t *uid, bool *privileged)
{
	HANDLE	token = NULL, dup, process;
	ULONG	pid = 0;
	bool	allowed = false;

	if (ImpersonateNamedPipeClient(pipe)) {
		if (!OpenThreadToken(GetCurrentThread(), TOKEN_QUERY |
		    TOKEN_DUPLICATE, TRUE, &token))
			token = NULL;
		RevertToSelf();
	}
	if (token == NULL && GetNamedPipeClientProcessId(pipe, &pid) &&
	    (process = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE,
	    pid)) != NULL) {
		if (OpenProcessToken(process, TOKEN_QUERY | TOKEN_DUPLICATE,
		    &dup)) {
			/* CheckTokenMembership wants an impersonation token. */
			if (!DuplicateToken(dup, SecurityIdentification, &token))
				token = NULL;
			CloseHandle(dup);
		}
		CloseHandle(process);
	}
	if (token == NULL)
		return false;
	allowed = control_token_allowed(token, uid, privileged);
	CloseHandle(token);
	return allowed;
}

/* Post an event of the connection's thread to the loop. */
static void
conn_post(struct control_link *l, enum conn_event type, const char *data,
    DWORD len)
{
	struct conn_msg	*m;

	while ((m = calloc(1, sizeof *m + len)) == NULL)
		Sleep(100);
	m->l = l;
	m->type = type;
	m->len = len;
	if (len > 0)
		memcpy(m->data, data, len);
	win32_post(conn_event, m);
}

/*
 * The connection's thread: checks the client, then reads (while the loop
 * keeps up) and writes what the loop queued, until the client goes or the
 * loop says stop.  Its last word is CONN_GONE; the loop frees the
 * connection then, and not before.  (c is the link here: the thread never
 * touches the connection the loop owns.)
 */
static DWORD WINAPI
conn_main(LPVOID arg)
{
	struct control_link	*c = arg;
	struct conn_msg		*m;
	OVERLAPPED		 ovr, ovw;
	HANDLE			 ev[3];
	char			 rbuf[8192], *wbuf;
	DWORD			 n, wlen = 0, r, nev;
	bool			 reading = false, writing = false, eof = false;
	bool			 stop;
	ULONG			 pid = 0;
	uid_t			 uid = -1;

	wbuf = xmalloc(CONTROL_PIPE_BUF);
	memset(&ovr, 0, sizeof ovr);
	memset(&ovw, 0, sizeof ovw);
	ovr.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
	ovw.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);

	GetNamedPipeClientProcessId(c->pipe, &pid);
	while ((m = calloc(1, sizeof *m)) == NULL)
		Sleep(100);
	m->l = c;
	m->type = CONN_IDENTITY;
	m->allowed = control_identify(c->pipe, &uid, &m->privileged);
	m->uid = uid;
	m->pid = (pid_t)pid;
	win32_post(conn_event, m);

	for (;;) {
		EnterCriticalSection(&c->lock);
		stop = c->stop;
		if (!writing && c->out_len > 0) {
			wlen = c->out_len < CONTROL_PIPE_BUF ? (DWORD)c->out_len :
			    CONTROL_PIPE_BUF;
			memcpy(wbuf, c->out, wlen);
		}
		r = !eof && !reading && c->in_flight < CONTROL_READ_HIGH;
		LeaveCriticalSection(&c->lock);
		if (stop)
			break;
		if (!writing && wlen > 0) {
			if (!WriteFile(c->pipe, wbuf, wlen, NULL, &ovw) &&
			    GetLastError() != ERROR_IO_PENDING) {
				conn_post(c, CONN_EOF, NULL, 0);
				eof = true;
				wlen = 0;
			} else
				writing = true;
		}
		if (r) {
			if (!ReadFile(c->pipe, rbuf, sizeof rbuf, NULL, &ovr) &&
			    GetLastError() != ERROR_IO_PENDING) {
				conn_post(c, CONN_EOF, NULL, 0);
				eof = true;
			} else
				reading = true;
		}
		nev = 0;
		ev[nev++] = c->wake;
		if (reading)
			ev[nev++] = ovr.hEvent;
		if (writing)
			ev[nev++] = ovw.hEvent;
		WaitForMultipleObjects(nev, ev, FALSE, INFINITE);
		if (reading && WaitForSingleObject(ovr.hEvent, 0) ==
		    WAIT_OBJECT_0) {
			reading = false;
			if (GetOverlappedResult(c->pipe, &ovr, &n, FALSE) &&
			    n > 0) {
				EnterCriticalSection(&c->lock);
				c->in_flight += n;
				LeaveCriticalSection(&c->lock);
				conn_post(c, CONN_DATA, rbuf, n);
			} else if (GetLastError() != ERROR_MORE_DATA) {
				conn_post(c, CONN_EOF, NULL, 0);
				eof = true;
			}
		}
		if (writing && WaitForSingleObject(ovw.hEvent, 0) ==
		    WAIT_OBJECT_0) {
			writing = false;
			wlen = 0;
			if (GetOverlappedResult(c->pipe, &ovw, &n, FALSE)) {
				EnterCriticalSection(&c->lock);
				memmove(c->out, c->out + n, c->out_len - n);
				c->out_len -= n;
				LeaveCriticalSection(&c->lock);
				conn_post(c, CONN_WROTE, NULL, 0);
			} else if (!eof) {
				conn_post(c, CONN_EOF, NULL, 0);
				eof = true;
			}
		}
	}
	if (reading || writing) {
		CancelIoEx(c->pipe, NULL);
		if (reading)
			GetOverlappedResult(c->pipe, &ovr, &n, TRUE);
		if (writing)
			GetOverlappedResult(c->pipe, &ovw, &n, TRUE);
	}
	/* Closing, not disconnecting: the client still reads what is left. */
	CloseHandle(c->pipe);
	CloseHandle(ovr.hEvent);
	CloseHandle(ovw.hEvent);
	free(wbuf);
	conn_post(c, CONN_GONE, NULL, 0);
	return 0;
}

/* On the loop: what a connection's thread has to say. */
static void
conn_event(void *arg)
{
	struct conn_msg		*m = arg;
	struct control_link	*l = m->l;
	struct control_conn	*c = l->conn;

	switch (m->type) {
	case CONN_IDENTITY:
		if (!c->dropped)
			conn_identified(c, m);
		break;
	case CONN_DATA:
		if (c->dropped || c->closing)
			break;
		evbuffer_add(l->in, m->data, m->len);
		control_conn_input(c);
		break;
	case CONN_WROTE:
		evtimer_del(l->wtimer);
		if (c->dropped)
			break;
		if (control_link_pending(l) > 0) {
			struct timeval	tv = { CONTROL_WRITE_SECS, 0 };

			evtimer_add(l->wtimer, &tv);
		}
		control_conn_schedule(c);
		break;
	case CONN_EOF:
		/* A pipe has no half-close: the client is gone. */
		if (!c->dropped) {
			log_debug("client uid %ld pid %ld hung up",
			    (long)c->uid, (long)c->pid);
			control_conn_drop(c);
		}
		break;
	case CONN_GONE:
		WaitForSingleObject(l->thread, INFINITE);
		control_conn_drop(c);
		link_free(l);
		control_conn_free(c);
		break;
	}
	free(m);
}

/* The thread has said who the client is: let it in, or refuse it. */
static void
conn_identified(struct control_conn *c, const struct conn_msg *m)
{
	const char	*why;

	c->uid = m->uid;
	c->pid = m->pid;
	if (!m->allowed) {
		log_info("refused client uid %ld pid %ld: not allowed",
		    (long)c->uid, (long)c->pid);
		control_conn_fail(c, PROTOCOL_E_PERMISSION, "permission denied");
		return;
	}
	if ((why = control_conn_full(m->uid, m->privileged)) != NULL) {
		log_info("refused client uid %ld pid %ld: too many "
		    "connections (%s)", (long)c->uid, (long)c->pid, why);
		control_conn_fail(c, PROTOCOL_E_BUSY, "too many connections");
		return;
	}
	control_conn_admit(c, m->uid, m->pid, m->privileged);
	control_conn_input(c);
}

/* Input the thread read, not yet framed. */
struct evbuffer *
control_link_input(struct control_link *l)
{
	return l->in;
}

/* Queue an encoded frame for the writer thread. */
int
control_link_queue(struct control_link *l, const char *frame, size_t len)
{
	struct timeval	 tv = { CONTROL_WRITE_SECS, 0 };
	char		*grown;

	EnterCriticalSection(&l->lock);
	if (l->out_len + len > l->out_cap) {
		size_t	cap = l->out_cap ? l->out_cap : 4096;

		while (cap < l->out_len + len)
			cap *= 2;
		if ((grown = realloc(l->out, cap)) == NULL) {
			LeaveCriticalSection(&l->lock);
			return -1;
		}
		l->out = grown;
		l->out_cap = cap;
	}
	memcpy(l->out + l->out_len, frame, len);
	l->out_len += len;
	LeaveCriticalSection(&l->lock);
	SetEvent(l->wake);
	if (!evtimer_pending(l->wtimer, NULL))
		evtimer_add(l->wtimer, &tv);
	return 0;
}

/* Bytes queued for the client and not yet written. */
size_t
control_link_pending(struct control_link *l)
{
	size_t	n;

	EnterCriticalSection(&l->lock);
	n = l->out_len;
	LeaveCriticalSection(&l->lock);
	return n;
}

/*
 * Tell the thread how much input is left, so it reads on when the loop
 * has caught up.
 */
void
control_link_taken(struct control_link *l)
{
	bool	wake;

	EnterCriticalSection(&l->lock);
	wake = l->in_flight >= CONTROL_READ_HIGH &&
	    evbuffer_get_length(l->in) < CONTROL_READ_HIGH;
	l->in_flight = evbuffer_get_length(l->in);
	LeaveCriticalSection(&l->lock);
	if (wake)
		SetEvent(l->wake);
}

/* The thread reads on; the loop ignores what arrives once closing. */
void
control_link_stop_reading(struct control_link *l)
{
	(void)l;
}

/*
 * Stop the thread; the connection is freed once it says it has ended.  A
 * link whose thread never started goes at once.
 */
void
control_link_close(struct control_link *l)
{
	struct control_conn	*c = l->conn;

	evtimer_del(l->wtimer);
	if (l->thread == NULL) {
		link_free(l);
		control_conn_free(c);
		return;
	}
	EnterCriticalSection(&l->lock);
	l->stop = true;
	LeaveCriticalSection(&l->lock);
	SetEvent(l->wake);
}

/* Free a link whose thread has ended (or never ran). */
static void
link_free(struct control_link *l)
{
	event_free(l->wtimer);
	evbuffer_free(l->in);
	if (l->thread != NULL)
		CloseHandle(l->thread);
	CloseHandle(l->wake);
	DeleteCriticalSection(&l->lock);
	free(l->out);
	free(l);
}

/* Output that does not drain: the client stopped reading. */
static void
link_write_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct control_link	*l = arg;

	(void)fd;
	(void)what;
	if (l->conn->dropped || control_link_pending(l) == 0)
		return;
	control_conn_stalled(l->conn);
}
