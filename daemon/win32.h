/*
 * What the daemon's Win32 modules share: the mailbox that carries events
 * from their threads (process waits, pipe readers, the control pipe, the
 * console handler, the hidden window) into the event loop, and small
 * conversions between Windows and the rest of the daemon.
 */
#ifndef SAFEEXITD_WIN32_H
#define SAFEEXITD_WIN32_H

#include <windows.h>

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct output;
struct program;

/* loop-win32.c */

/* Set up the mailbox on base; -1 when it cannot be had. */
int	 win32_loop_init(struct event_base *base);
void	 win32_loop_fini(void);
/*
 * Run fn(arg) on the loop's thread, soon, in the order posted.  Callable
 * from any thread; arg belongs to fn from then on.
 */
void	 win32_post(void (*fn)(void *), void *arg);

/*
 * signals-win32.c: what the service control manager asks of the daemon,
 * from its dispatcher thread (service-win32.c), handed to the loop the way
 * the console's events are.
 */
enum win32_service_request {
	WIN32_SERVICE_STOP,		/* SERVICE_CONTROL_STOP */
	WIN32_SERVICE_HOST_SHUTDOWN,	/* PRESHUTDOWN or SHUTDOWN */
	WIN32_SERVICE_LOGOFF,		/* SESSIONCHANGE: the account logs off */
	WIN32_SERVICE_RELOAD,		/* PARAMCHANGE */
};
void	 signals_service(enum win32_service_request r);

/* util-win32.c */

/* The text of a Windows error code, for messages (loop thread only). */
const char *win32_strerror(DWORD err);
/* UTF-8 to UTF-16 and back, as heap strings; NULL when s is NULL. */
wchar_t	*win32_wide(const char *s);
char	*win32_utf8(const wchar_t *s);
/* A command line that CommandLineToArgvW and the C runtime split to argv. */
wchar_t	*win32_command_line(char *const *argv);
/*
 * The daemon's environment with overrides ("KEY=value") applied, as a
 * sorted environment block for CreateProcessW.
 */
wchar_t	*win32_environment(char *const *overrides);
/*
 * A wait status (compat/sys/wait.h) for a process's exit code: killed_by
 * when the daemon terminated it with win32_kill_code(killed_by), the
 * signal that matches a crash code, else the exit code.
 */
int	 win32_wait_status(DWORD code, int killed_by);
/* The exit code the daemon gives processes it terminates for sig. */
DWORD	 win32_kill_code(int sig);
/* The null device, opened for reading and writing, inheritable or not. */
HANDLE	 win32_null(bool inherit);

/* output-win32.c: what a program gets as its standard output and error. */
HANDLE	 output_win32_stdout(const struct output *o);
HANDLE	 output_win32_stderr(const struct output *o);

#endif
