/*
 * safeexitctl kill on Windows: the safe kill of any process, without a
 * daemon.  Each target is held by a handle opened before anything is sent,
 * so a PID reused while we wait is never hit.  Then, as -S says (TERM by
 * default):
 *
 *   TERM   WM_CLOSE to its top-level windows when it has any, else Ctrl+C
 *   INT    Ctrl+C          BREAK  Ctrl+Break
 *   HUP    WM_CLOSE        KILL   TerminateProcess at once
 *
 * and after the grace period TerminateProcess for what is left.  Ctrl+C
 * reaches a process only through its console: a helper (this program,
 * started detached with the hidden option --console-event) attaches to
 * the target's console and raises the event there, so this process never
 * gives up its own console.  The event goes to the target's process group
 * only, never to the whole console: killing one program must not interrupt
 * the others that share its console (safeexitd's programs do, each in a
 * group of its own).  A process that leads no group cannot be reached so;
 * it is terminated after the grace period.
 */
#include <windows.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kill.h"
#include "parse.h"

static const char kill_usage_text[] =
    "usage: safeexitctl kill [-S SIG] [-t SECS] PID...\n"
    "\n"
    "Ask each PID to stop, wait up to SECS seconds for all of them to exit,\n"
    "then terminate those left and wait up to one second more.  How a\n"
    "process is asked depends on SIG:\n"
    "  TERM (default)  WM_CLOSE to its windows, or Ctrl+C when it has none\n"
    "  INT             Ctrl+C to its console\n"
    "  BREAK           Ctrl+Break to its console\n"
    "  HUP             WM_CLOSE to its windows\n"
    "  KILL            terminate at once\n"
    "\n"
    "  -S, --signal SIG     the first request, as above (default: TERM)\n"
    "  -t, --timeout SECS   grace period before termination, decimals\n"
    "                       allowed (default: 4)\n"
    "  -h, --help           print this help\n"
    "\n"
    "Exit status: 0 when every process is gone (a PID that does not exist\n"
    "counts as gone), 1 when one could not be asked or survived, 2 on a\n"
    "usage error.\n";

#define KILL_PREFIX		"safeexitctl: kill: "
#define KILL_DEFAULT_GRACE	4.0
#define KILL_FINAL_WAIT		1.0
#define KILL_HELPER_WAIT_MS	5000

enum kill_state {
	KILL_WAITING,
	KILL_GONE,
	KILL_FAILED,
};

struct kill_target {
	DWORD		 pid;
	HANDLE		 process;
	enum kill_state	 state;
};

static const struct option kill_options[] = {
	{ "signal",		required_argument,	NULL,	'S' },
	{ "timeout",		required_argument,	NULL,	't' },
	{ "help",		no_argument,		NULL,	'h' },
	{ "console-event",	required_argument,	NULL,	'E' },
	{ NULL,			0,			NULL,	0 }
};

static void	kill_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
static int	kill_usage_error(const char *, ...)
		    __attribute__((format(printf, 1, 2)));

/* Print a message to stderr under the command's prefix. */
static void
kill_warnx(const char *fmt, ...)
{
	va_list	ap;

	fputs(KILL_PREFIX, stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Report a usage error with the synopsis and return the usage exit code. */
static int
kill_usage_error(const char *fmt, ...)
{
	va_list	ap;

	fputs(KILL_PREFIX, stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fprintf(stderr, "%.*s\n", (int)strcspn(kill_usage_text, "\n"),
	    kill_usage_text);
	return 2;
}

/* Monotonic seconds. */
static double
kill_now(void)
{
	return (double)GetTickCount64() / 1000.0;
}

/* The system's text for an error. */
static const char *
kill_strerror(DWORD err)
{
	static char	buf[256];
	size_t		n;

	n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM |
	    FORMAT_MESSAGE_IGNORE_INSERTS, NULL, err, 0, buf, sizeof buf, NULL);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
	    buf[n - 1] == '.'))
		n--;
	if (n == 0)
		n = (size_t)snprintf(buf, sizeof buf, "error %lu",
		    (unsigned long)err);
	buf[n] = '\0';
	return buf;
}

/*
 * The helper's whole job: leave our console (we were started without
 * one), join the target's, and raise the event there; we ignore it
 * ourselves.  Exit 0 when it went out.
 */
static int
kill_console_helper(const char *event, const char *pidarg)
{
	DWORD	pid = (DWORD)strtoul(pidarg, NULL, 10);
	DWORD	ev = strcmp(event, "break") == 0 ? CTRL_BREAK_EVENT :
		    CTRL_C_EVENT;

	FreeConsole();
	if (pid == 0 || !AttachConsole(pid))
		return 1;
	SetConsoleCtrlHandler(NULL, TRUE);
	if (!GenerateConsoleCtrlEvent(ev, pid))
		return 1;
	/* Give the console time to deliver before we let go of it. */
	Sleep(100);
	FreeConsole();
	return 0;
}

/* Raise Ctrl+C or Ctrl+Break on pid's console through the helper. */
static bool
kill_console_event(DWORD pid, DWORD event)
{
	PROCESS_INFORMATION	pi;
	STARTUPINFOW		si;
	wchar_t			self[MAX_PATH], cmd[MAX_PATH + 64];
	DWORD			code = 1;

	if (GetModuleFileNameW(NULL, self, MAX_PATH) == 0)
		return false;
	_snwprintf(cmd, sizeof cmd / sizeof cmd[0],
	    L"\"%ls\" kill --console-event %ls %lu", self,
	    event == CTRL_BREAK_EVENT ? L"break" : L"c", (unsigned long)pid);
	memset(&si, 0, sizeof si);
	si.cb = sizeof si;
	if (!CreateProcessW(self, cmd, NULL, NULL, FALSE, DETACHED_PROCESS |
	    CREATE_NEW_PROCESS_GROUP, NULL, NULL, &si, &pi))
		return false;
	CloseHandle(pi.hThread);
	if (WaitForSingleObject(pi.hProcess, KILL_HELPER_WAIT_MS) ==
	    WAIT_OBJECT_0)
		GetExitCodeProcess(pi.hProcess, &code);
	else
		TerminateProcess(pi.hProcess, 1);
	CloseHandle(pi.hProcess);
	return code == 0;
}

/* What EnumWindows looks for, and what it found. */
struct kill_enum {
	DWORD	pid;
	int	found;
	bool	post;
};

/* Whether w is a window Windows made for the process, not one of its own. */
static bool
kill_helper_window(HWND w)
{
	static const char *const helpers[] = {
		"IME", "MSCTFIME UI", "OleMainThreadWndClass",
		"CicMarshalWndClass", "ConsoleWindowClass",
	};
	char	cls[64];
	size_t	i;

	if (GetClassNameA(w, cls, sizeof cls) == 0)
		return false;
	for (i = 0; i < sizeof helpers / sizeof helpers[0]; i++)
		if (strcmp(cls, helpers[i]) == 0)
			return true;
	return false;
}

/* EnumWindows: count (and close) the target's top-level windows. */
static BOOL CALLBACK
kill_enum_cb(HWND w, LPARAM arg)
{
	struct kill_enum	*e = (struct kill_enum *)arg;
	DWORD			 pid = 0;

	GetWindowThreadProcessId(w, &pid);
	if (pid != e->pid || kill_helper_window(w))
		return TRUE;
	e->found++;
	if (e->post)
		PostMessageW(w, WM_CLOSE, 0, 0);
	return TRUE;
}

/* WM_CLOSE to every top-level window of pid; false when it has none. */
static bool
kill_close_windows(DWORD pid)
{
	struct kill_enum	e = { pid, 0, true };

	EnumWindows(kill_enum_cb, (LPARAM)&e);
	return e.found > 0;
}

/* Ask one target to stop as sig says; false when nothing could be sent. */
static bool
kill_ask(struct kill_target *t, int sig)
{
	switch (sig) {
	case SIGKILL:
		return TerminateProcess(t->process, 128 + SIGKILL) != 0;
	case SIGHUP:
		return kill_close_windows(t->pid);
	case SIGINT:
		return kill_console_event(t->pid, CTRL_C_EVENT);
	case SIGBREAK:
		return kill_console_event(t->pid, CTRL_BREAK_EVENT);
	default:
		if (kill_close_windows(t->pid))
			return true;
		return kill_console_event(t->pid, CTRL_C_EVENT);
	}
}

/* Whether the target has exited. */
static bool
kill_exited(struct kill_target *t)
{
	return WaitForSingleObject(t->process, 0) == WAIT_OBJECT_0;
}

/* Wait up to secs for every waiting target; returns how many are left. */
static size_t
kill_wait(struct kill_target *t, size_t n, double secs)
{
	double	deadline = kill_now() + secs;
	size_t	i, left;
	HANDLE	h[MAXIMUM_WAIT_OBJECTS];
	DWORD	nh, ms;

	for (;;) {
		left = 0;
		nh = 0;
		for (i = 0; i < n; i++) {
			if (t[i].state != KILL_WAITING)
				continue;
			if (kill_exited(&t[i])) {
				t[i].state = KILL_GONE;
				continue;
			}
			left++;
			if (nh < MAXIMUM_WAIT_OBJECTS)
				h[nh++] = t[i].process;
		}
		if (left == 0 || kill_now() >= deadline)
			return left;
		ms = (DWORD)((deadline - kill_now()) * 1000) + 1;
		/* More targets than one wait takes: look again soon. */
		if (left > nh && ms > 50)
			ms = 50;
		WaitForMultipleObjects(nh, h, FALSE, ms);
	}
}

/* Parse the command line, then ask, wait, terminate and report. */
int
kill_main(int argc, char **argv)
{
	struct kill_target	*t;
	const char		*err, *event = NULL;
	double			 grace = KILL_DEFAULT_GRACE;
	size_t			 i, j, n = 0;
	DWORD			 self = GetCurrentProcessId(), e;
	int			 ch, sig = SIGTERM, status = 0, v;

	/* Another command may have run getopt already: 0 starts afresh. */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":S:t:h", kill_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'S':
			if (parse_signal(optarg, &sig, &err) != 0)
				return kill_usage_error("invalid signal '%s': %s",
				    optarg, err);
			if (sig != SIGTERM && sig != SIGINT && sig != SIGBREAK &&
			    sig != SIGHUP && sig != SIGKILL)
				return kill_usage_error("signal '%s' has no "
				    "meaning on Windows", optarg);
			break;
		case 't':
			if (parse_duration(optarg, &grace, &err) != 0)
				return kill_usage_error(
				    "invalid timeout '%s': %s", optarg, err);
			break;
		case 'E':
			event = optarg;
			break;
		case 'h':
			fputs(kill_usage_text, stdout);
			return 0;
		case ':':
			return kill_usage_error("option %s needs an argument",
			    argv[optind - 1]);
		default:
			if (optopt != 0)
				return kill_usage_error("unknown option -%c",
				    optopt);
			return kill_usage_error("unknown option %s",
			    argv[optind - 1]);
		}
	}
	if (event != NULL)
		return optind + 1 == argc ? kill_console_helper(event,
		    argv[optind]) : 2;
	if (optind == argc)
		return kill_usage_error("no PID given");
	if ((t = calloc((size_t)(argc - optind), sizeof *t)) == NULL) {
		kill_warnx("out of memory");
		return 1;
	}

	/* Check every argument before anything is sent. */
	for (; optind < argc; optind++) {
		if (parse_uint(argv[optind], &v, NULL) != 0 || v <= 0) {
			status = kill_usage_error("invalid PID: %s",
			    argv[optind]);
			goto out;
		}
		if ((DWORD)v == self) {
			status = kill_usage_error(
			    "refusing to signal itself (PID %d)", v);
			goto out;
		}
		for (j = 0; j < n; j++)
			if (t[j].pid == (DWORD)v)
				break;
		if (j == n)
			t[n++].pid = (DWORD)v;
	}

	/* Hold every process before the first request. */
	for (i = 0; i < n; i++) {
		t[i].process = OpenProcess(SYNCHRONIZE | PROCESS_TERMINATE |
		    PROCESS_QUERY_LIMITED_INFORMATION, FALSE, t[i].pid);
		if (t[i].process != NULL && !kill_exited(&t[i])) {
			t[i].state = KILL_WAITING;
			continue;
		}
		e = GetLastError();
		if (t[i].process != NULL || e == ERROR_INVALID_PARAMETER) {
			kill_warnx("no such process: %lu",
			    (unsigned long)t[i].pid);
			t[i].state = KILL_GONE;
		} else {
			kill_warnx("cannot open %lu: %s",
			    (unsigned long)t[i].pid, kill_strerror(e));
			t[i].state = KILL_FAILED;
		}
	}

	for (i = 0; i < n; i++)
		if (t[i].state == KILL_WAITING && !kill_ask(&t[i], sig))
			kill_warnx("%lu has no window or console to ask; it "
			    "is terminated after the grace period",
			    (unsigned long)t[i].pid);

	if (kill_wait(t, n, sig == SIGKILL ? KILL_FINAL_WAIT : grace) != 0) {
		for (i = 0; i < n; i++)
			if (t[i].state == KILL_WAITING &&
			    !TerminateProcess(t[i].process, 128 + SIGKILL))
				kill_warnx("cannot terminate %lu: %s",
				    (unsigned long)t[i].pid,
				    kill_strerror(GetLastError()));
		kill_wait(t, n, KILL_FINAL_WAIT);
	}
	for (i = 0; i < n; i++) {
		if (t[i].state == KILL_WAITING)
			kill_warnx("%lu still running after termination",
			    (unsigned long)t[i].pid);
		if (t[i].state != KILL_GONE)
			status = 1;
	}
out:
	for (i = 0; i < n; i++)
		if (t[i].process != NULL)
			CloseHandle(t[i].process);
	free(t);
	return status;
}
