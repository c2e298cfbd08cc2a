/*
 * The Windows test child: a program for safeexitd to run under wine that
 * does what a test asks and writes down what happens to it.
 *
 *   winchild [options]
 *   winchild --alive PID   exit 0 when process PID runs, else 1
 *
 *     --events FILE      append one line per event: "start PID",
 *                        "ctrl-c", "ctrl-break", "wm-close", "child PID",
 *                        "exit CODE"
 *     --print TEXT       write TEXT and a newline to stdout at start
 *     --stderr TEXT      the same on stderr
 *     --window           make a top-level window; WM_CLOSE ends the child
 *     --ignore-close     a window that WM_CLOSE does not end
 *     --ignore-ctrl-c    Ctrl+C does nothing (Ctrl+Break still ends it)
 *     --default-ctrl-c   Windows's own Ctrl+C handling (exit 0xC000013A)
 *     --grandchild       start another winchild (same --events), which
 *                        ignores Ctrl+C, and keep running
 *     --exit-after SECS  exit by itself after SECS
 *     --exit-code N      the code it exits with (default 0)
 *     --tag NAME         put NAME and a space before every event
 *     --own-console      leave the console it was given for one of its own
 *
 * Without --default-ctrl-c, Ctrl+C and Ctrl+Break end the child with its
 * exit code, as a program that handles them would.
 */
#include <windows.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char	*events_path;
static const char	*tag = "";
static int		 exit_code;
static bool		 ignore_ctrl_c, ignore_close;
static HANDLE		 events_lock;

/* Append one line to the events file. */
static void
event(const char *fmt, ...)
{
	va_list	 ap;
	FILE	*f;

	if (events_path == NULL)
		return;
	WaitForSingleObject(events_lock, INFINITE);
	if ((f = fopen(events_path, "ab")) != NULL) {
		fputs(tag, f);
		va_start(ap, fmt);
		vfprintf(f, fmt, ap);
		va_end(ap);
		fputc('\n', f);
		fclose(f);
	}
	ReleaseMutex(events_lock);
}

/* Leave, saying so. */
static void
finish(void)
{
	event("exit %d", exit_code);
	ExitProcess((UINT)exit_code);
}

/* Console events, on a thread Windows starts. */
static BOOL WINAPI
on_console(DWORD type)
{
	switch (type) {
	case CTRL_C_EVENT:
		event("ctrl-c");
		if (ignore_ctrl_c)
			return TRUE;
		finish();
		return TRUE;
	case CTRL_BREAK_EVENT:
		event("ctrl-break");
		finish();
		return TRUE;
	case CTRL_CLOSE_EVENT:
		event("ctrl-close");
		finish();
		return TRUE;
	}
	return FALSE;
}

/* The window's messages. */
static LRESULT CALLBACK
on_window(HWND w, UINT msg, WPARAM wp, LPARAM lp)
{
	if (msg == WM_CLOSE) {
		event("wm-close");
		if (!ignore_close)
			finish();
		return 0;
	}
	return DefWindowProcW(w, msg, wp, lp);
}

/* A window of its own, and its messages until the end. */
static void
run_window(void)
{
	WNDCLASSW	wc;
	MSG		msg;

	memset(&wc, 0, sizeof wc);
	wc.lpfnWndProc = on_window;
	wc.hInstance = GetModuleHandleW(NULL);
	wc.lpszClassName = L"winchild";
	RegisterClassW(&wc);
	if (CreateWindowW(L"winchild", L"winchild", WS_OVERLAPPEDWINDOW,
	    CW_USEDEFAULT, CW_USEDEFAULT, 100, 100, NULL, NULL, wc.hInstance,
	    NULL) == NULL) {
		event("no-window %lu", (unsigned long)GetLastError());
		return;
	}
	event("window");
	while (GetMessageW(&msg, NULL, 0, 0) > 0) {
		if (msg.message == WM_TIMER && msg.hwnd == NULL)
			return;		/* --exit-after */
		DispatchMessageW(&msg);
	}
}

/* Start a grandchild that ignores Ctrl+C, in the same job. */
static void
start_grandchild(void)
{
	PROCESS_INFORMATION	pi;
	STARTUPINFOA		si;
	char			self[MAX_PATH], cmd[2 * MAX_PATH + 64];

	GetModuleFileNameA(NULL, self, sizeof self);
	snprintf(cmd, sizeof cmd, "\"%s\" --ignore-ctrl-c%s%s%s", self,
	    events_path ? " --events \"" : "", events_path ? events_path : "",
	    events_path ? "\"" : "");
	memset(&si, 0, sizeof si);
	si.cb = sizeof si;
	if (!CreateProcessA(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si,
	    &pi)) {
		event("no-grandchild %lu", (unsigned long)GetLastError());
		return;
	}
	event("child %lu", (unsigned long)pi.dwProcessId);
	CloseHandle(pi.hThread);
	CloseHandle(pi.hProcess);
}

/* Whether process pid runs. */
static int
alive(const char *arg)
{
	HANDLE	h;
	DWORD	code = 0;

	h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE,
	    (DWORD)strtoul(arg, NULL, 10));
	if (h == NULL)
		return 1;
	GetExitCodeProcess(h, &code);
	CloseHandle(h);
	return code == STILL_ACTIVE ? 0 : 1;
}

/* Do what the options say, and write down what happens. */
int
main(int argc, char **argv)
{
	static char	tagbuf[80];

	bool	window = false, default_ctrl_c = false, grandchild = false;
	bool	own_console = false;
	double	exit_after = -1;
	int	i;

	if (argc == 3 && strcmp(argv[1], "--alive") == 0)
		return alive(argv[2]);
	events_lock = CreateMutexW(NULL, FALSE, L"winchild-events");
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--events") == 0 && i + 1 < argc)
			events_path = argv[++i];
		else if (strcmp(argv[i], "--print") == 0 && i + 1 < argc) {
			printf("%s\n", argv[++i]);
			fflush(stdout);
		} else if (strcmp(argv[i], "--stderr") == 0 && i + 1 < argc) {
			fprintf(stderr, "%s\n", argv[++i]);
			fflush(stderr);
		} else if (strcmp(argv[i], "--window") == 0)
			window = true;
		else if (strcmp(argv[i], "--ignore-close") == 0)
			ignore_close = true;
		else if (strcmp(argv[i], "--ignore-ctrl-c") == 0)
			ignore_ctrl_c = true;
		else if (strcmp(argv[i], "--default-ctrl-c") == 0)
			default_ctrl_c = true;
		else if (strcmp(argv[i], "--grandchild") == 0)
			grandchild = true;
		else if (strcmp(argv[i], "--own-console") == 0)
			own_console = true;
		else if (strcmp(argv[i], "--exit-after") == 0 && i + 1 < argc)
			exit_after = atof(argv[++i]);
		else if (strcmp(argv[i], "--exit-code") == 0 && i + 1 < argc)
			exit_code = atoi(argv[++i]);
		else if (strcmp(argv[i], "--tag") == 0 && i + 1 < argc) {
			snprintf(tagbuf, sizeof tagbuf, "%s ", argv[++i]);
			tag = tagbuf;
		}
		else {
			fprintf(stderr, "winchild: bad argument %s\n", argv[i]);
			return 2;
		}
	}
	if (own_console) {
		FreeConsole();
		AllocConsole();
	}
	/* A new process group starts with Ctrl+C off: turn it back on. */
	SetConsoleCtrlHandler(NULL, FALSE);
	if (!default_ctrl_c)
		SetConsoleCtrlHandler(on_console, TRUE);
	event("start %lu", (unsigned long)GetCurrentProcessId());
	if (grandchild)
		start_grandchild();
	if (exit_after >= 0 && !window) {
		Sleep((DWORD)(exit_after * 1000));
		finish();
	}
	if (window) {
		if (exit_after >= 0)
			SetTimer(NULL, 0, (UINT)(exit_after * 1000), NULL);
		run_window();
		finish();
	}
	for (;;)
		Sleep(1000);
}
