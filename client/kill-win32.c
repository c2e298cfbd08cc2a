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
 * it is terminated after the grace period.  kill.c reads the command line;
 * this file stops the processes.
 */
#include <windows.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kill-backend.h"
#include "winutil.h"

const char kill_platform_usage[] =
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
    "                       allowed (default: 4)\n";

/* How long the console helper may take. */
#define KILL_HELPER_WAIT_MS	5000

struct kill_target {
	DWORD			 pid;
	HANDLE			 process;
	enum kill_state		 state;
	enum kill_outcome	 outcome;
};

/* The signals that mean something here; see the usage text. */
bool
kill_platform_signal_ok(int sig)
{
	return sig == SIGTERM || sig == SIGINT || sig == SIGBREAK ||
	    sig == SIGHUP || sig == SIGKILL;
}

/* Ourselves; PID 1 means nothing special here. */
const char *
kill_platform_refuse(long pid)
{
	static char	buf[64];

	if ((DWORD)pid != GetCurrentProcessId())
		return NULL;
	snprintf(buf, sizeof buf, "refusing to signal itself (PID %ld)", pid);
	return buf;
}

/* Settle a target. */
static void
kill_done(struct kill_target *t, enum kill_outcome outcome)
{
	t->state = KILL_DONE;
	t->outcome = outcome;
}

/* Monotonic seconds. */
static double
kill_now(void)
{
	return (double)GetTickCount64() / 1000.0;
}

/*
 * The helper's whole job ("kill --console-event c|break PID"): leave our
 * console (we were started without one), join the target's, and raise the
 * event there; we ignore it ourselves.  Exit 0 when it went out.
 */
int
kill_platform_helper(int argc, char **argv)
{
	DWORD	pid, ev;

	if (argc < 2 || strcmp(argv[1], "--console-event") != 0)
		return -1;
	if (argc != 4)
		return 2;
	pid = (DWORD)strtoul(argv[3], NULL, 10);
	ev = strcmp(argv[2], "break") == 0 ? CTRL_BREAK_EVENT : CTRL_C_EVENT;

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

/* EnumWindows: count (and close) the target's top-level windows. */
static BOOL CALLBACK
kill_enum_cb(HWND w, LPARAM arg)
{
	struct kill_enum	*e = (struct kill_enum *)arg;
	DWORD			 pid = 0;

	GetWindowThreadProcessId(w, &pid);
	if (pid != e->pid || winutil_system_window(w))
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
				kill_done(&t[i], KILL_GONE);
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

/* Hold, ask, wait, terminate; see kill-backend.h. */
void
kill_platform_run(int sig, double grace, const long *pids,
    enum kill_outcome *out, size_t n)
{
	struct kill_target	*t;
	size_t			 i;
	DWORD			 e;

	if ((t = calloc(n, sizeof *t)) == NULL) {
		kill_warnx("out of memory");
		for (i = 0; i < n; i++)
			out[i] = KILL_FAILED;
		return;
	}

	/* Hold every process before the first request. */
	for (i = 0; i < n; i++) {
		t[i].pid = (DWORD)pids[i];
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
			kill_done(&t[i], KILL_MISSING);
		} else {
			kill_warnx("cannot open %lu: %s",
			    (unsigned long)t[i].pid, winutil_strerror(e));
			kill_done(&t[i], e == ERROR_ACCESS_DENIED ?
			    KILL_DENIED : KILL_FAILED);
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
				    winutil_strerror(GetLastError()));
		kill_wait(t, n, KILL_FINAL_WAIT);
	}
	for (i = 0; i < n; i++) {
		if (t[i].state == KILL_WAITING) {
			kill_warnx("%lu still running after termination",
			    (unsigned long)t[i].pid);
			kill_done(&t[i], KILL_FAILED);
		}
		out[i] = t[i].outcome;
		if (t[i].process != NULL)
			CloseHandle(t[i].process);
	}
	free(t);
}
