/*
 * The Windows side of the platform interface.  Every run of a program gets
 * a job object of its own (kill on close: nothing it starts outlives the
 * daemon), and its main process is created suspended, in a new process
 * group, on the daemon's console but without a window, then put in the job
 * and resumed.  The lifecycle's signals map to Windows stop actions: the
 * program's stop_signal to its stop_method (WM_CLOSE to its top-level
 * windows, Ctrl+C or Ctrl+Break to its process group, or termination), its
 * kill_signal to terminating the job.  Exits arrive from thread-pool waits
 * on process handles, and the emptying of a job from the jobs' completion
 * port, both through the mailbox (loop-win32.c); a slow poll backs the
 * completion port up.
 */
#include <windows.h>

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deadline.h"
#include "lifecycle.h"
#include "log.h"
#include "output.h"
#include "platform.h"
#include "program.h"
#include "resources.h"
#include "timeval.h"
#include "win32.h"
#include "winutil.h"
#include "xmalloc.h"

/* How often job membership is checked while the completion port is quiet. */
#define PLATFORM_POLL_MSECS	250

/* One run's job: its processes, while any is left. */
struct winjob {
	struct winjob		*next;
	uintptr_t		 serial;	/* completion key */
	HANDLE			 job;
	struct program		*p;		/* NULL once the run is over */
};

/* What the platform holds for one program. */
struct winproc {
	struct winproc		*next;
	struct program		*p;
	struct winjob		*job;		/* the current run's */
	HANDLE			 process;	/* main process, NULL when reaped */
	HANDLE			 wait;
	uintptr_t		 serial;	/* of the main process's wait */
	int			 killed_by;	/* the signal it was terminated for */
	HANDLE			 stop_process;	/* stop_command */
	HANDLE			 stop_wait;
	uintptr_t		 stop_serial;
};

/* An exit or a job message, on its way to the loop. */
struct platform_msg {
	uintptr_t		 serial;
	DWORD			 job_msg;
};

static struct event_base	*platform_base;
static struct winproc		*procs;
static struct winjob		*jobs;
static uintptr_t		 next_serial = 1;
static HANDLE			 job_port;
static HANDLE			 job_thread;
static struct event		*poll_ev;
static LARGE_INTEGER		 qpc_freq;

static struct {
	void			(*done)(void *);
	void			 *arg;
	struct event		 *timer;
	bool			  killing;
} sweep;

static double	win_now(void);
static int	win_spawn(struct program *p);
static int	win_kill(struct program *p, int sig);
static int	win_kill_and_wake(struct program *p, int sig);
static bool	win_group_alive(struct program *p);
static int	win_run_stop_command(struct program *p);
static struct winproc *win_proc(struct program *p, bool create);
static struct winjob *win_job_new(struct program *p);
static void	win_job_release(struct winjob *j);
static bool	win_job_alive(const struct winjob *j);
static int	win_launch(struct program *p, char *const *argv, HANDLE job,
		    PROCESS_INFORMATION *pi);
static void	win_watch(HANDLE process, HANDLE *wait, uintptr_t *serial);
static void CALLBACK win_exit_cb(PVOID ctx, BOOLEAN timed_out);
static void	win_exited(void *arg);
static DWORD WINAPI win_job_thread(LPVOID arg);
static void	win_job_msg(void *arg);
static void	win_poll_cb(evutil_socket_t fd, short what, void *arg);
static void	win_poll_arm(void);
static int	win_stop_method(struct winproc *wp, enum stop_method m);
static int	win_terminate(struct winproc *wp, int sig);
static size_t	win_windows(struct winproc *wp, struct winjob *j, HWND **out);
static int	win_close_windows(struct winproc *wp, struct winjob *j);
static int	win_console_event(struct program *p, DWORD event);
static void	win_sweep_check(void);
static void	win_sweep_timer_cb(evutil_socket_t fd, short what, void *arg);
static void	win_console_init(void);

const struct lifecycle_ops platform_lifecycle_ops = {
	.now = win_now,
	.spawn = win_spawn,
	.kill = win_kill,
	.kill_and_wake = win_kill_and_wake,
	.group_alive = win_group_alive,
	.run_stop_command = win_run_stop_command,
	.arm = deadline_arm,
};

/* The mailbox, the completion port of every job, and a console to share. */
int
platform_init(struct event_base *base)
{
	platform_base = base;
	deadline_init(base, win_now, lifecycle_timer);
	if (win32_loop_init(base) == -1)
		return -1;
	output_init(base);
	win_console_init();
	if ((poll_ev = evtimer_new(base, win_poll_cb, NULL)) == NULL ||
	    (sweep.timer = evtimer_new(base, win_sweep_timer_cb, NULL)) == NULL)
		return -1;
	job_port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
	if (job_port == NULL) {
		log_warnx("%s: CreateIoCompletionPort: %s", __func__,
		    win32_strerror(GetLastError()));
		return -1;
	}
	job_thread = CreateThread(NULL, 0, win_job_thread, NULL, 0, NULL);
	if (job_thread == NULL) {
		log_warnx("%s: CreateThread: %s", __func__,
		    win32_strerror(GetLastError()));
		return -1;
	}
	return 0;
}

/*
 * The daemon's programs share its console, so Ctrl+C can reach their
 * process groups; a daemon started without one (detached, from a service
 * or a GUI) makes a console of its own and hides its window.  The standard
 * handles stay where they were: AllocConsole points them at the new one.
 */
static void
win_console_init(void)
{
	HANDLE	std[3];
	HWND	w;
	int	i;

	if (GetConsoleWindow() != NULL)
		return;
	for (i = 0; i < 3; i++)
		std[i] = GetStdHandle(STD_INPUT_HANDLE - (DWORD)i);
	FreeConsole();
	if (!AllocConsole()) {
		log_warnx("cannot make a console: %s; Ctrl+C cannot reach "
		    "programs", win32_strerror(GetLastError()));
		return;
	}
	if ((w = GetConsoleWindow()) != NULL)
		ShowWindow(w, SW_HIDE);
	for (i = 0; i < 3; i++)
		SetStdHandle(STD_INPUT_HANDLE - (DWORD)i, std[i]);
	log_debug("made a hidden console for the programs");
}

/* Close every job: kill on close takes whatever is left with it. */
void
platform_fini(void)
{
	struct winjob	*j;

	while ((j = jobs) != NULL) {
		jobs = j->next;
		CloseHandle(j->job);
		free(j);
	}
	if (job_port != NULL)
		PostQueuedCompletionStatus(job_port, 0, 0, NULL);
	if (job_thread != NULL) {
		WaitForSingleObject(job_thread, 1000);
		CloseHandle(job_thread);
		job_thread = NULL;
	}
	if (job_port != NULL)
		CloseHandle(job_port);
	job_port = NULL;
	if (poll_ev != NULL)
		event_free(poll_ev);
	if (sweep.timer != NULL)
		event_free(sweep.timer);
	poll_ev = sweep.timer = NULL;
	win32_loop_fini();
}

/* See platform.h. */
double
platform_now(void)
{
	return win_now();
}

/* Every program has a job object of its own already: nothing to decide. */
void
platform_contain(bool wanted, const char *instance)
{
	(void)wanted;
	(void)instance;
}

/* The performance counter: monotonic, and fine-grained enough. */
static double
win_now(void)
{
	LARGE_INTEGER	now;

	if (qpc_freq.QuadPart == 0)
		QueryPerformanceFrequency(&qpc_freq);
	QueryPerformanceCounter(&now);
	return (double)now.QuadPart / (double)qpc_freq.QuadPart;
}

/* The platform's record of p, made when create is set. */
static struct winproc *
win_proc(struct program *p, bool create)
{
	struct winproc	*wp;

	for (wp = procs; wp != NULL; wp = wp->next)
		if (wp->p == p)
			return wp;
	if (!create)
		return NULL;
	wp = xcalloc(1, sizeof *wp);
	wp->p = p;
	wp->next = procs;
	procs = wp;
	return wp;
}

/* A job for one run of p: kill on close, reporting to the completion port. */
static struct winjob *
win_job_new(struct program *p)
{
	JOBOBJECT_EXTENDED_LIMIT_INFORMATION	 li;
	JOBOBJECT_ASSOCIATE_COMPLETION_PORT	 cp;
	struct winjob				*j;
	HANDLE					 h;

	if ((h = CreateJobObjectW(NULL, NULL)) == NULL) {
		snprintf(p->error, sizeof p->error, "CreateJobObject: %s",
		    win32_strerror(GetLastError()));
		return NULL;
	}
	memset(&li, 0, sizeof li);
	li.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
	resources_job_limits(p->cfg, &li);
	if (!SetInformationJobObject(h, JobObjectExtendedLimitInformation, &li,
	    sizeof li)) {
		snprintf(p->error, sizeof p->error, "job limits: %s",
		    win32_strerror(GetLastError()));
		CloseHandle(h);
		return NULL;
	}
	j = xcalloc(1, sizeof *j);
	j->job = h;
	j->p = p;
	j->serial = next_serial++;
	cp.CompletionKey = (PVOID)j->serial;
	cp.CompletionPort = job_port;
	if (!SetInformationJobObject(h, JobObjectAssociateCompletionPortInformation,
	    &cp, sizeof cp))
		log_debug("%s: no job notifications (%s); polling",
		    p->cfg->name, win32_strerror(GetLastError()));
	j->next = jobs;
	jobs = j;
	return j;
}

/* The run is over for the program; the job goes once it is empty. */
static void
win_job_release(struct winjob *j)
{
	struct winjob	**jp;

	if (j == NULL)
		return;
	j->p = NULL;
	if (win_job_alive(j))
		return;		/* the sweep or the last exit frees it */
	for (jp = &jobs; *jp != NULL; jp = &(*jp)->next)
		if (*jp == j) {
			*jp = j->next;
			break;
		}
	CloseHandle(j->job);
	free(j);
}

/* Whether a process of the job still runs. */
static bool
win_job_alive(const struct winjob *j)
{
	JOBOBJECT_BASIC_ACCOUNTING_INFORMATION	info;

	if (j == NULL || !QueryInformationJobObject(j->job,
	    JobObjectBasicAccountingInformation, &info, sizeof info, NULL))
		return false;
	return info.ActiveProcesses > 0;
}

/*
 * Create a process for argv the way p's settings say: its environment and
 * folder, stdin from NUL, stdout and stderr from its output, in a new
 * process group without a window, in job (when not NULL) before it runs a
 * single instruction.  Only the three standard handles are inherited.
 */
static int
win_launch(struct program *p, char *const *argv, HANDLE job,
    PROCESS_INFORMATION *pi)
{
	STARTUPINFOEXW	 si;
	HANDLE		 inherit[3] = { NULL, NULL, NULL };
	wchar_t		*cmd = NULL, *env = NULL, *dir = NULL;
	SIZE_T		 size = 0;
	DWORD		 flags, err;
	int		 i, ret = -1;
	BOOL		 ok;

	memset(&si, 0, sizeof si);
	si.StartupInfo.cb = sizeof si;
	if ((cmd = win32_command_line(argv)) == NULL ||
	    (env = win32_environment(p->cfg->environment)) == NULL) {
		snprintf(p->error, sizeof p->error, "cannot build the command "
		    "line or environment");
		goto out;
	}
	dir = win32_wide(p->cfg->directory);
	inherit[0] = win32_null(true);
	if (!DuplicateHandle(GetCurrentProcess(), output_win32_stdout(p->output),
	    GetCurrentProcess(), &inherit[1], 0, TRUE, DUPLICATE_SAME_ACCESS) ||
	    !DuplicateHandle(GetCurrentProcess(), output_win32_stderr(p->output),
	    GetCurrentProcess(), &inherit[2], 0, TRUE, DUPLICATE_SAME_ACCESS) ||
	    inherit[0] == INVALID_HANDLE_VALUE) {
		snprintf(p->error, sizeof p->error, "standard handles: %s",
		    win32_strerror(GetLastError()));
		goto out;
	}
	si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
	si.StartupInfo.hStdInput = inherit[0];
	si.StartupInfo.hStdOutput = inherit[1];
	si.StartupInfo.hStdError = inherit[2];

	InitializeProcThreadAttributeList(NULL, 1, 0, &size);
	si.lpAttributeList = xmalloc(size);
	if (!InitializeProcThreadAttributeList(si.lpAttributeList, 1, 0,
	    &size) || !UpdateProcThreadAttribute(si.lpAttributeList, 0,
	    PROC_THREAD_ATTRIBUTE_HANDLE_LIST, inherit, sizeof inherit, NULL,
	    NULL)) {
		snprintf(p->error, sizeof p->error, "attribute list: %s",
		    win32_strerror(GetLastError()));
		free(si.lpAttributeList);
		si.lpAttributeList = NULL;
		goto out;
	}

	/*
	 * Out of the daemon's own job where that job allows it, so the
	 * program's job is the one that decides its fate.
	 */
	flags = CREATE_SUSPENDED | CREATE_NEW_PROCESS_GROUP |
	    CREATE_UNICODE_ENVIRONMENT | EXTENDED_STARTUPINFO_PRESENT |
	    CREATE_BREAKAWAY_FROM_JOB;
	ok = CreateProcessW(NULL, cmd, NULL, NULL, TRUE, flags, env, dir,
	    &si.StartupInfo, pi);
	if (!ok && GetLastError() == ERROR_ACCESS_DENIED) {
		flags &= ~(DWORD)CREATE_BREAKAWAY_FROM_JOB;
		ok = CreateProcessW(NULL, cmd, NULL, NULL, TRUE, flags, env,
		    dir, &si.StartupInfo, pi);
	}
	if (!ok) {
		err = GetLastError();
		snprintf(p->error, sizeof p->error, "%s: %s", argv[0],
		    win32_strerror(err));
		goto out;
	}
	if (job != NULL && !AssignProcessToJobObject(job, pi->hProcess)) {
		err = GetLastError();
		TerminateProcess(pi->hProcess, win32_kill_code(SIGKILL));
		CloseHandle(pi->hThread);
		CloseHandle(pi->hProcess);
		snprintf(p->error, sizeof p->error, "cannot put %s in its job: "
		    "%s", argv[0], win32_strerror(err));
		goto out;
	}
	ResumeThread(pi->hThread);
	CloseHandle(pi->hThread);
	pi->hThread = NULL;
	ret = 0;
out:
	if (si.lpAttributeList != NULL) {
		DeleteProcThreadAttributeList(si.lpAttributeList);
		free(si.lpAttributeList);
	}
	for (i = 0; i < 3; i++)
		if (inherit[i] != NULL && inherit[i] != INVALID_HANDLE_VALUE)
			CloseHandle(inherit[i]);
	free(cmd);
	free(env);
	free(dir);
	return ret;
}

/* Have the thread pool tell the loop when process exits. */
static void
win_watch(HANDLE process, HANDLE *wait, uintptr_t *serial)
{
	*serial = next_serial++;
	if (!RegisterWaitForSingleObject(wait, process, win_exit_cb,
	    (PVOID)*serial, INFINITE, WT_EXECUTEONLYONCE))
		fatalx("%s: RegisterWaitForSingleObject: %s", __func__,
		    win32_strerror(GetLastError()));
}

/* A watched process exited (thread pool): tell the loop. */
static void CALLBACK
win_exit_cb(PVOID ctx, BOOLEAN timed_out)
{
	struct platform_msg	*m;

	(void)timed_out;
	if ((m = calloc(1, sizeof *m)) == NULL)
		return;
	m->serial = (uintptr_t)ctx;
	win32_post(win_exited, m);
}

/* Launch p's command in a new job. */
static int
win_spawn(struct program *p)
{
	PROCESS_INFORMATION	 pi;
	struct winproc		*wp = win_proc(p, true);
	struct winjob		*j;

	if (p->cfg->user != NULL || p->cfg->group != NULL) {
		snprintf(p->error, sizeof p->error,
		    "user and group are not supported on Windows");
		return -1;
	}
	if (p->output == NULL &&
	    (p->output = output_open(p->cfg, p->error, sizeof p->error)) == NULL)
		return -1;
	/* What the last run left behind stays in its own job. */
	win_job_release(wp->job);
	wp->job = NULL;
	if ((j = win_job_new(p)) == NULL)
		return -1;
	if (win_launch(p, p->cfg->argv, j->job, &pi) == -1) {
		win_job_release(j);
		return -1;
	}
	wp->job = j;
	wp->process = pi.hProcess;
	wp->killed_by = 0;
	win_watch(wp->process, &wp->wait, &wp->serial);
	p->pid = (pid_t)pi.dwProcessId;
	program_index_pids(p);
	return 0;
}

/* A main process or stop_command exited: hand its status to the lifecycle. */
static void
win_exited(void *arg)
{
	struct platform_msg	*m = arg;
	struct winproc		*wp;
	struct program		*p;
	DWORD			 code = 0;
	int			 status;

	for (wp = procs; wp != NULL; wp = wp->next)
		if (wp->serial == m->serial || wp->stop_serial == m->serial)
			break;
	if (wp == NULL) {
		free(m);
		return;
	}
	p = wp->p;
	if (wp->stop_serial == m->serial) {
		GetExitCodeProcess(wp->stop_process, &code);
		UnregisterWaitEx(wp->stop_wait, NULL);
		CloseHandle(wp->stop_process);
		wp->stop_process = wp->stop_wait = NULL;
		wp->stop_serial = 0;
		free(m);
		lifecycle_stop_command_exited(p, win32_wait_status(code, 0));
		return;
	}
	GetExitCodeProcess(wp->process, &code);
	UnregisterWaitEx(wp->wait, NULL);
	CloseHandle(wp->process);
	wp->process = wp->wait = NULL;
	wp->serial = 0;
	free(m);
	status = win32_wait_status(code, wp->killed_by);
	if (code > 255 && code != win32_kill_code(wp->killed_by))
		log_info("%s: pid %ld exit code 0x%08lx", p->cfg->name,
		    (long)p->pid, (unsigned long)code);
	lifecycle_exited(p, status);
	/* Its job may hold more: wait for the completion port, or poll. */
	if (p->state == STATE_STOPPING)
		win_poll_arm();
}

/* The completion port of every job: messages go to the loop. */
static DWORD WINAPI
win_job_thread(LPVOID arg)
{
	struct platform_msg	*m;
	LPOVERLAPPED		 ov;
	ULONG_PTR		 key;
	DWORD			 msg;

	(void)arg;
	for (;;) {
		if (!GetQueuedCompletionStatus(job_port, &msg, &key, &ov,
		    INFINITE))
			return 0;
		if (key == 0)
			return 0;	/* platform_fini */
		if (msg != JOB_OBJECT_MSG_EXIT_PROCESS &&
		    msg != JOB_OBJECT_MSG_ABNORMAL_EXIT_PROCESS &&
		    msg != JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO)
			continue;
		if ((m = calloc(1, sizeof *m)) == NULL)
			continue;
		m->serial = key;
		m->job_msg = msg;
		win32_post(win_job_msg, m);
	}
}

/* A process of a job exited: its program may be stopped now. */
static void
win_job_msg(void *arg)
{
	struct platform_msg	*m = arg;
	struct winjob		*j;

	for (j = jobs; j != NULL; j = j->next)
		if (j->serial == m->serial)
			break;
	free(m);
	if (j == NULL)
		return;
	if (j->p != NULL && !j->p->main_alive)
		lifecycle_reaped(j->p);
	else if (j->p == NULL && !win_job_alive(j))
		win_job_release(j);
	win_sweep_check();
}

/* Poll the jobs of stopping programs, should a job message not come. */
static void
win_poll_arm(void)
{
	struct timeval	tv = { 0, PLATFORM_POLL_MSECS * 1000 };

	if (!evtimer_pending(poll_ev, NULL))
		evtimer_add(poll_ev, &tv);
}

/* Check every program whose main process is gone but whose job is not. */
static void
win_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct winproc	*wp, *next;
	bool		 again = false;

	(void)fd;
	(void)what;
	(void)arg;
	for (wp = procs; wp != NULL; wp = next) {
		next = wp->next;
		if (wp->p->state != STATE_STOPPING || wp->p->main_alive)
			continue;
		if (win_job_alive(wp->job))
			again = true;
		else
			lifecycle_reaped(wp->p);
	}
	win_sweep_check();
	if (again || sweep.done != NULL)
		win_poll_arm();
}

struct win_enum {
	DWORD	*pids;
	size_t	 npids;
	HWND	*v;
	size_t	 n, cap;
};

/* EnumWindows: keep the top-level windows of the processes we look for. */
static BOOL CALLBACK
win_enum_cb(HWND w, LPARAM arg)
{
	struct win_enum	*e = (struct win_enum *)arg;
	DWORD		 pid = 0;
	size_t		 i;

	GetWindowThreadProcessId(w, &pid);
	for (i = 0; i < e->npids; i++)
		if (e->pids[i] == pid)
			break;
	if (i == e->npids || winutil_system_window(w))
		return TRUE;
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 8;
		e->v = xreallocarray(e->v, e->cap, sizeof *e->v);
	}
	e->v[e->n++] = w;
	return TRUE;
}

/*
 * The top-level windows of the job's processes (the main process alone
 * when the program does not stop as a group).
 */
static size_t
win_windows(struct winproc *wp, struct winjob *j, HWND **out)
{
	JOBOBJECT_BASIC_PROCESS_ID_LIST	*list;
	struct win_enum			 e;
	size_t				 size, i;

	memset(&e, 0, sizeof e);
	*out = NULL;
	size = sizeof *list + 1024 * sizeof list->ProcessIdList[0];
	list = xcalloc(1, size);
	if (j != NULL && (wp == NULL || wp->p->cfg->stop_group) &&
	    QueryInformationJobObject(j->job, JobObjectBasicProcessIdList,
	    list, (DWORD)size, NULL)) {
		e.npids = list->NumberOfProcessIdsInList;
		e.pids = xcalloc(e.npids + 1, sizeof *e.pids);
		for (i = 0; i < e.npids; i++)
			e.pids[i] = (DWORD)list->ProcessIdList[i];
	} else if (wp != NULL && wp->p->pid > 0) {
		e.pids = xcalloc(1, sizeof *e.pids);
		e.pids[0] = (DWORD)wp->p->pid;
		e.npids = 1;
	}
	free(list);
	if (e.npids > 0)
		EnumWindows(win_enum_cb, (LPARAM)&e);
	free(e.pids);
	*out = e.v;
	return e.n;
}

/* WM_CLOSE to each window; -1 with ESRCH when there is none. */
static int
win_close_windows(struct winproc *wp, struct winjob *j)
{
	HWND	*v;
	size_t	 n, i;

	if ((n = win_windows(wp, j, &v)) == 0) {
		errno = ESRCH;
		return -1;
	}
	for (i = 0; i < n; i++)
		PostMessageW(v[i], WM_CLOSE, 0, 0);
	free(v);
	if (wp != NULL)
		log_debug("%s: WM_CLOSE to %zu window%s", wp->p->cfg->name, n,
		    n == 1 ? "" : "s");
	return 0;
}

/* Ctrl+C or Ctrl+Break to p's process group on the shared console. */
static int
win_console_event(struct program *p, DWORD event)
{
	if (p->pgid <= 0) {
		errno = ESRCH;
		return -1;
	}
	if (!GenerateConsoleCtrlEvent(event, (DWORD)p->pgid)) {
		log_warnx("%s: cannot send %s: %s", p->cfg->name,
		    event == CTRL_C_EVENT ? "Ctrl+C" : "Ctrl+Break",
		    win32_strerror(GetLastError()));
		errno = EPERM;
		return -1;
	}
	log_debug("%s: %s to process group %ld", p->cfg->name,
	    event == CTRL_C_EVENT ? "Ctrl+C" : "Ctrl+Break", (long)p->pgid);
	return 0;
}

/* Terminate the job (or the main process), reporting sig as the cause. */
static int
win_terminate(struct winproc *wp, int sig)
{
	wp->killed_by = sig;
	if (wp->p->cfg->stop_group && wp->job != NULL) {
		if (TerminateJobObject(wp->job->job, win32_kill_code(sig)))
			return 0;
	} else if (wp->process != NULL &&
	    TerminateProcess(wp->process, win32_kill_code(sig)))
		return 0;
	errno = ESRCH;
	return -1;
}

/* Ask the program to stop as its stop_method says. */
static int
win_stop_method(struct winproc *wp, enum stop_method m)
{
	struct program	*p = wp->p;

	switch (m) {
	case STOP_METHOD_AUTO:
		if (win_close_windows(wp, wp->job) == 0)
			return 0;
		return win_console_event(p, CTRL_C_EVENT);
	case STOP_METHOD_CTRL_C:
		return win_console_event(p, CTRL_C_EVENT);
	case STOP_METHOD_CTRL_BREAK:
		return win_console_event(p, CTRL_BREAK_EVENT);
	case STOP_METHOD_WM_CLOSE:
		if (win_close_windows(wp, wp->job) == 0)
			return 0;
		log_notice("%s: no window to close; waiting for the grace "
		    "period", p->cfg->name);
		return 0;
	case STOP_METHOD_TERMINATE:
		return win_terminate(wp, p->cfg->stop_signal);
	}
	errno = EINVAL;
	return -1;
}


/*
 * The lifecycle's signals on Windows: the stop signal is the stop_method,
 * KILL and the kill signal terminate, INT and BREAK are console events,
 * TERM is the stop_method too, CONT means nothing here.
 */
static int
win_kill(struct program *p, int sig)
{
	struct winproc	*wp = win_proc(p, false);

	if (wp == NULL || (wp->process == NULL && !win_job_alive(wp->job))) {
		errno = ESRCH;
		return -1;
	}
	if (sig == 0 || sig == SIGCONT)
		return 0;
	if (sig == SIGKILL || (sig == p->cfg->kill_signal &&
	    sig != p->cfg->stop_signal))
		return win_terminate(wp, sig);
	if (sig == p->cfg->stop_signal || sig == SIGTERM)
		return win_stop_method(wp, p->cfg->stop_method);
	switch (sig) {
	case SIGINT:
		return win_console_event(p, CTRL_C_EVENT);
	case SIGBREAK:
		return win_console_event(p, CTRL_BREAK_EVENT);
	case SIGHUP:
		return win_close_windows(wp, wp->job);
	}
	errno = EINVAL;
	return -1;
}

/* Nothing on Windows is stopped the way SIGSTOP stops: a plain kill. */
static int
win_kill_and_wake(struct program *p, int sig)
{
	return win_kill(p, sig);
}

/* Whether a process of p's current run is left. */
static bool
win_group_alive(struct program *p)
{
	struct winproc	*wp = win_proc(p, false);

	return wp != NULL && win_job_alive(wp->job);
}

/* Run stop_command with the program's settings, outside its job. */
static int
win_run_stop_command(struct program *p)
{
	PROCESS_INFORMATION	 pi;
	struct winproc		*wp = win_proc(p, true);

	if (p->output == NULL)
		return -1;
	if (win_launch(p, p->cfg->stop_argv, NULL, &pi) == -1)
		return -1;
	wp->stop_process = pi.hProcess;
	win_watch(wp->stop_process, &wp->stop_wait, &wp->stop_serial);
	p->stop_command_pid = (pid_t)pi.dwProcessId;
	program_index_pids(p);
	return 0;
}

/*
 * What is left in jobs after every program stopped (processes of earlier
 * runs, those of programs that do not stop as a group): WM_CLOSE and
 * Ctrl+Break now, termination after grace.
 */
void
platform_sweep(double grace, void (*done)(void *), void *arg)
{
	struct timeval	 tv;
	struct winjob	*j;
	HWND		*v;
	size_t		 n, i;

	sweep.done = done;
	sweep.arg = arg;
	sweep.killing = false;
	for (j = jobs; j != NULL; j = j->next) {
		if (!win_job_alive(j))
			continue;
		if ((n = win_windows(NULL, j, &v)) > 0) {
			for (i = 0; i < n; i++)
				PostMessageW(v[i], WM_CLOSE, 0, 0);
			free(v);
		}
	}
	tv = timeval_from_secs(grace);
	evtimer_add(sweep.timer, &tv);
	win_poll_arm();
	win_sweep_check();
}

/* Terminate every job that still has processes. */
void
platform_sweep_kill_now(void)
{
	struct winjob	*j;

	sweep.killing = true;
	for (j = jobs; j != NULL; j = j->next)
		if (win_job_alive(j))
			TerminateJobObject(j->job, win32_kill_code(SIGKILL));
	win_sweep_check();
}

/* The grace period of the sweep is over. */
static void
win_sweep_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (sweep.done != NULL)
		platform_sweep_kill_now();
}

/* Finish the sweep once no job has a process left. */
static void
win_sweep_check(void)
{
	struct winjob	*j;
	void		(*done)(void *);

	if (sweep.done == NULL)
		return;
	for (j = jobs; j != NULL; j = j->next)
		if (win_job_alive(j))
			return;
	done = sweep.done;
	sweep.done = NULL;
	evtimer_del(sweep.timer);
	done(sweep.arg);
}

/* Let go of p: its waits, handles, job, timer and output. */
void
platform_program_release(struct program *p)
{
	struct winproc	**wpp, *wp;

	for (wpp = &procs; (wp = *wpp) != NULL; wpp = &wp->next)
		if (wp->p == p)
			break;
	if (wp != NULL) {
		*wpp = wp->next;
		if (wp->wait != NULL)
			UnregisterWaitEx(wp->wait, INVALID_HANDLE_VALUE);
		if (wp->process != NULL)
			CloseHandle(wp->process);
		if (wp->stop_wait != NULL)
			UnregisterWaitEx(wp->stop_wait, INVALID_HANDLE_VALUE);
		if (wp->stop_process != NULL)
			CloseHandle(wp->stop_process);
		win_job_release(wp->job);
		free(wp);
	}
	if (p->timer != NULL)
		event_free(p->timer);
	p->timer = NULL;
	output_close(p->output);
	p->output = NULL;
}

/* Close p's output so the next start opens it from p->cfg again. */
void
platform_program_reconfigure(struct program *p)
{
	output_close(p->output);
	p->output = NULL;
}

/* Nothing to collect on Windows: CreateProcess reports failure at once. */
void
platform_spawn_settle(struct program *p)
{
	(void)p;
}

/* Nothing to collect on Windows. */
void
platform_stop_command_settle(struct program *p)
{
	(void)p;
}
