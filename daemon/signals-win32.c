/*
 * The daemon's own events on Windows, which stand in for POSIX signals and
 * logind: console control events (SetConsoleCtrlHandler) and messages to a
 * hidden top-level window (a message-only window would not get what
 * `taskkill /pid` and the end of a session send).
 *
 *   Ctrl+C                            as SIGINT: a staged shutdown; a second
 *                                     one skips the remaining grace periods
 *   Ctrl+Break, CTRL_CLOSE_EVENT,     on_close
 *   WM_CLOSE
 *   CTRL_LOGOFF_EVENT,                on_logoff (logind_callbacks.logoff)
 *   WM_ENDSESSION for a logoff
 *   CTRL_SHUTDOWN_EVENT,              on_host_shutdown
 *   WM_ENDSESSION for a shutdown      (logind_callbacks.host_shutdown)
 *
 * A process that uses windows gets the end of the session as window
 * messages, not console events; both are handled.  Windows ends the
 * process once the handler of CTRL_CLOSE, LOGOFF or SHUTDOWN returns, and
 * after WM_ENDSESSION returns, so those wait until the daemon has stopped
 * its programs (logind_release, or the daemon's exit) or Windows runs out
 * of patience.  This file is therefore logind.h's backend as well.
 *
 * Under the service control manager the SCM's controls take their place
 * (service-win32.c hands them over with signals_service): STOP as Ctrl+C,
 * PRESHUTDOWN and SHUTDOWN for on_host_shutdown, SESSIONCHANGE logoff for
 * on_logoff, PARAMCHANGE as a reload.  A service gets the console's logoff
 * and shutdown events for every session: those are left to the SCM.
 *
 * Handlers and the window run on threads of their own: they post to the
 * loop (loop-win32.c) and wait; the daemon's state is touched on the loop.
 */
#include <windows.h>

#include <event2/event.h>
#include <stdbool.h>
#include <stdlib.h>

#include "conf.h"
#include "lifecycle.h"
#include "log.h"
#include "logind.h"
#include "safeexitd.h"
#include "service.h"
#include "signals.h"
#include "win32.h"

/* Ask Windows to tell the daemon before its programs when a session ends. */
#define SIGNALS_SHUTDOWN_LEVEL	0x3ff

#define SIGNALS_QUIT	(WM_APP + 1)

enum signals_event {
	SIGNALS_CTRL_C,
	SIGNALS_CTRL_BREAK,
	SIGNALS_CONSOLE_CLOSE,
	SIGNALS_WM_CLOSE,
	SIGNALS_LOGOFF,
	SIGNALS_HOST_SHUTDOWN,
	SIGNALS_SERVICE_STOP,
	SIGNALS_SERVICE_HOST_SHUTDOWN,
	SIGNALS_SERVICE_LOGOFF,
	SIGNALS_SERVICE_RELOAD,
};

static const char *const signals_names[] = {
	[SIGNALS_CTRL_C] = "CTRL_C_EVENT",
	[SIGNALS_CTRL_BREAK] = "CTRL_BREAK_EVENT",
	[SIGNALS_CONSOLE_CLOSE] = "CTRL_CLOSE_EVENT",
	[SIGNALS_WM_CLOSE] = "WM_CLOSE",
	[SIGNALS_LOGOFF] = "logoff",
	[SIGNALS_HOST_SHUTDOWN] = "host shutdown",
	[SIGNALS_SERVICE_STOP] = "service stop (SCM)",
	[SIGNALS_SERVICE_HOST_SHUTDOWN] = "host shutdown (SCM)",
	[SIGNALS_SERVICE_LOGOFF] = "logoff (SCM)",
	[SIGNALS_SERVICE_RELOAD] = "PARAMCHANGE (SCM)",
};

static const struct logind_callbacks	*signals_cb;
static HANDLE				 signals_released;	/* host stop done */
static HANDLE				 signals_done;		/* daemon exits */
static HANDLE				 signals_thread;
static HANDLE				 signals_ready;
static DWORD				 signals_thread_id;
static HWND				 signals_window;
static bool				 signals_in_callback;
static bool				 signals_release_pending;

static BOOL WINAPI signals_console(DWORD type);
static DWORD WINAPI signals_window_main(LPVOID arg);
static LRESULT CALLBACK signals_wndproc(HWND w, UINT msg, WPARAM wp,
		    LPARAM lp);
static void	signals_post(enum signals_event e);
static void	signals_event(void *arg);
static void	signals_wait(void);

/* Install the console handler and start the hidden window. */
int
signals_init(struct event_base *base)
{
	(void)base;
	signals_released = CreateEventW(NULL, TRUE, FALSE, NULL);
	signals_done = CreateEventW(NULL, TRUE, FALSE, NULL);
	signals_ready = CreateEventW(NULL, TRUE, FALSE, NULL);
	if (signals_released == NULL || signals_done == NULL ||
	    signals_ready == NULL)
		return -1;
	/* Ctrl+C may have been turned off for the group the daemon started in. */
	SetConsoleCtrlHandler(NULL, FALSE);
	if (!SetConsoleCtrlHandler(signals_console, TRUE)) {
		log_warnx("SetConsoleCtrlHandler: %s",
		    win32_strerror(GetLastError()));
		return -1;
	}
	if (!SetProcessShutdownParameters(SIGNALS_SHUTDOWN_LEVEL, 0))
		log_debug("SetProcessShutdownParameters: %s",
		    win32_strerror(GetLastError()));
	signals_thread = CreateThread(NULL, 0, signals_window_main, NULL, 0,
	    &signals_thread_id);
	if (signals_thread == NULL) {
		log_warnx("cannot start the window thread: %s",
		    win32_strerror(GetLastError()));
		return -1;
	}
	/* A cold desktop (the first window of a session) can take a while. */
	WaitForSingleObject(signals_ready, 60000);
	if (signals_window == NULL)
		log_warnx("no hidden window: WM_CLOSE and the end of the "
		    "session will not reach the daemon");
	return 0;
}

/*
 * The daemon is done: release waiting handlers and close the window.  The
 * console handler stays installed: removing it waits for the handlers
 * running now, which wait for this very event.
 */
void
signals_fini(void)
{
	if (signals_done != NULL)
		SetEvent(signals_done);
	if (signals_thread != NULL) {
		if (signals_window != NULL)
			PostMessageW(signals_window, SIGNALS_QUIT, 0, 0);
		else
			PostThreadMessageW(signals_thread_id, WM_QUIT, 0, 0);
		WaitForSingleObject(signals_thread, 2000);
		CloseHandle(signals_thread);
		signals_thread = NULL;
	}
}

/* Host events go to these callbacks from now on. */
int
logind_init(struct event_base *base, const struct logind_callbacks *cb)
{
	(void)base;
	signals_cb = cb;
	return 0;
}

/* The programs are stopped for the end of the session: let it go on. */
void
logind_release(void)
{
	if (signals_in_callback) {
		signals_release_pending = true;
		return;
	}
	if (signals_released != NULL)
		SetEvent(signals_released);
}

/* No more host events for the daemon. */
void
logind_fini(void)
{
	signals_cb = NULL;
}

/* Hand an event to the loop. */
static void
signals_post(enum signals_event e)
{
	enum signals_event	*m;

	if ((m = malloc(sizeof *m)) == NULL)
		return;
	*m = e;
	win32_post(signals_event, m);
}

/* A request of the SCM, from its dispatcher thread. */
void
signals_service(enum win32_service_request r)
{
	static const enum signals_event	events[] = {
		[WIN32_SERVICE_STOP] = SIGNALS_SERVICE_STOP,
		[WIN32_SERVICE_HOST_SHUTDOWN] = SIGNALS_SERVICE_HOST_SHUTDOWN,
		[WIN32_SERVICE_LOGOFF] = SIGNALS_SERVICE_LOGOFF,
		[WIN32_SERVICE_RELOAD] = SIGNALS_SERVICE_RELOAD,
	};

	signals_post(events[r]);
}

/* Wait until the daemon has stopped its programs or is exiting. */
static void
signals_wait(void)
{
	HANDLE	ev[2] = { signals_released, signals_done };

	WaitForMultipleObjects(2, ev, FALSE, INFINITE);
}

/*
 * The console handler, on a thread Windows starts for each event.  The
 * events that end the process wait here for the daemon.
 */
static BOOL WINAPI
signals_console(DWORD type)
{
	/* A service hears of any user's logoff, and of a shutdown from the SCM. */
	if (service_active() &&
	    (type == CTRL_LOGOFF_EVENT || type == CTRL_SHUTDOWN_EVENT))
		return TRUE;
	switch (type) {
	case CTRL_C_EVENT:
		signals_post(SIGNALS_CTRL_C);
		return TRUE;
	case CTRL_BREAK_EVENT:
		signals_post(SIGNALS_CTRL_BREAK);
		return TRUE;
	case CTRL_CLOSE_EVENT:
		signals_post(SIGNALS_CONSOLE_CLOSE);
		WaitForSingleObject(signals_done, INFINITE);
		return TRUE;
	case CTRL_LOGOFF_EVENT:
		ResetEvent(signals_released);
		signals_post(SIGNALS_LOGOFF);
		signals_wait();
		return TRUE;
	case CTRL_SHUTDOWN_EVENT:
		ResetEvent(signals_released);
		signals_post(SIGNALS_HOST_SHUTDOWN);
		signals_wait();
		return TRUE;
	}
	return FALSE;
}

/* The hidden window's thread: create it, then pump its messages. */
static DWORD WINAPI
signals_window_main(LPVOID arg)
{
	WNDCLASSEXW	wc;
	MSG		msg;

	(void)arg;
	memset(&wc, 0, sizeof wc);
	wc.cbSize = sizeof wc;
	wc.lpfnWndProc = signals_wndproc;
	wc.hInstance = GetModuleHandleW(NULL);
	wc.lpszClassName = L"safeexitd";
	if (RegisterClassExW(&wc) != 0)
		signals_window = CreateWindowExW(0, L"safeexitd", L"safeexitd",
		    WS_OVERLAPPEDWINDOW, CW_USEDEFAULT, CW_USEDEFAULT, 0, 0,
		    NULL, NULL, wc.hInstance, NULL);
	SetEvent(signals_ready);
	while (GetMessageW(&msg, NULL, 0, 0) > 0) {
		TranslateMessage(&msg);
		DispatchMessageW(&msg);
	}
	return 0;
}

/* The hidden window: closing it and the end of the session. */
static LRESULT CALLBACK
signals_wndproc(HWND w, UINT msg, WPARAM wp, LPARAM lp)
{
	switch (msg) {
	case WM_CLOSE:
		/* The window stays: the policy decides what happens. */
		signals_post(SIGNALS_WM_CLOSE);
		return 0;
	case WM_QUERYENDSESSION:
		/* Never veto; the programs are stopped at WM_ENDSESSION. */
		return TRUE;
	case WM_ENDSESSION:
		if (!wp || service_active())
			return 0;	/* goes on, or the SCM's to announce */
		ResetEvent(signals_released);
		signals_post((lp & ENDSESSION_LOGOFF) ? SIGNALS_LOGOFF :
		    SIGNALS_HOST_SHUTDOWN);
		ShutdownBlockReasonCreate(w, L"Stopping supervised programs");
		signals_wait();
		ShutdownBlockReasonDestroy(w);
		return 0;
	case SIGNALS_QUIT:
		DestroyWindow(w);
		return 0;
	case WM_DESTROY:
		PostQuitMessage(0);
		return 0;
	}
	return DefWindowProcW(w, msg, wp, lp);
}

/* On the loop: what an event means, by the config's policies. */
static void
signals_event(void *arg)
{
	enum signals_event	 e = *(enum signals_event *)arg;
	const struct config	*cfg = daemon_config();
	const char		*name = signals_names[e];

	free(arg);
	switch (e) {
	case SIGNALS_CTRL_C:
		if (daemon_shutting_down()) {
			log_notice("%s again: skipping the remaining grace "
			    "periods", name);
			daemon_escalate();
		} else
			daemon_shutdown(name);
		return;
	case SIGNALS_CONSOLE_CLOSE:
		/*
		 * Windows ends the daemon when the console goes, whatever it
		 * answers; a staged stop is better than the jobs' kill.
		 */
		if (cfg->on_close == POLICY_IGNORE)
			log_notice("%s: the console is closing and takes the "
			    "daemon with it; stopping programs despite "
			    "on_close=ignore", name);
		daemon_shutdown(name);
		return;
	case SIGNALS_CTRL_BREAK:
	case SIGNALS_WM_CLOSE:
		if (cfg->on_close == POLICY_IGNORE) {
			log_info("%s ignored (policy)", name);
			return;
		}
		daemon_shutdown(name);
		return;
	case SIGNALS_LOGOFF:
	case SIGNALS_HOST_SHUTDOWN:
		log_notice("%s", name);
		signals_in_callback = true;
		signals_release_pending = false;
		if (signals_cb == NULL)
			daemon_shutdown(name);
		else if (e == SIGNALS_LOGOFF)
			signals_cb->logoff();
		else
			signals_cb->host_shutdown();
		signals_in_callback = false;
		/*
		 * Ignored, or already done: let Windows go on, unless the
		 * daemon is on its way out (then its exit releases).
		 */
		if (daemon_shutting_down())
			return;
		if (signals_release_pending || e == SIGNALS_LOGOFF)
			SetEvent(signals_released);
		return;
	case SIGNALS_SERVICE_STOP:
		daemon_shutdown(name);
		return;
	case SIGNALS_SERVICE_HOST_SHUTDOWN:
		/* Whatever the policy, nothing starts again from now on. */
		lifecycle_set_exiting(true);
		if (daemon_shutting_down())
			return;
		if (cfg->on_host_shutdown == POLICY_IGNORE) {
			log_notice("%s ignored (policy): the programs end with "
			    "the host", name);
			return;
		}
		daemon_shutdown(name);
		return;
	case SIGNALS_SERVICE_LOGOFF:
		if (cfg->on_logoff == POLICY_IGNORE) {
			log_info("%s ignored (policy)", name);
			return;
		}
		daemon_shutdown(name);
		return;
	case SIGNALS_SERVICE_RELOAD: {
		struct config_errors	errs = { 0 };

		log_info("%s: reloading", name);
		daemon_reload(NULL, &errs);
		config_errors_free(&errs);
		return;
	}
	}
}
