/*
 * safeexitd as a Windows service: install-service and remove-service, and
 * --service, under which the service control manager (SCM) runs the daemon.
 *
 * The daemon's main runs on the service's thread (ServiceMain); the control
 * handler runs on the SCM's dispatcher thread and only hands requests to the
 * event loop, through signals-win32.c as the console's events go (one path
 * into the loop for every stop request).  What the SCM hears comes from the
 * loop through notify.h, which this file implements on Windows:
 *
 *   start-up              START_PENDING, a checkpoint per step
 *   notify_ready          RUNNING (the programs are started)
 *   notify_stopping       STOP_PENDING; then a checkpoint at every stage of
 *   notify_status         the staged shutdown and every second, and a wait
 *   notify_extend_timeout hint of what the shutdown's budget has left
 *   the daemon returns    STOPPED with its exit code
 */
#include <windows.h>

#include <event2/event.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "notify.h"
#include "platform.h"
#include "safeexitd.h"
#include "service.h"
#include "win32.h"

#define SERVICE_DEFAULT_NAME	"safeexitd"
#define SERVICE_EVENTLOG_KEY \
	L"SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\"
/* What start-up may take before the SCM gives up on it. */
#define SERVICE_START_HINT_MS	30000
/* The SCM hears from a stopping daemon this often. */
#define SERVICE_TICK_SECS	1
/* A preshutdown timeout beyond shutdown_timeout, for the sweep and exit. */
#define SERVICE_PRESHUTDOWN_SLACK	10

static struct {
	bool			 active;	/* under the SCM */
	char			 name[257];
	int			 argc;
	char			**argv;
	int			 (*run)(int, char **);
	int			 status;	/* run's exit status */
	SERVICE_STATUS_HANDLE	 handle;
	SERVICE_STATUS		 st;
	CRITICAL_SECTION	 lock;
	struct event_base	*base;
	struct event		*tick;
	double			 deadline;	/* of the shutdown; 0: none */
	bool			 preshutdown;	/* on_host_shutdown = shutdown */
} svc;

static void WINAPI service_main(DWORD argc, LPWSTR *argv);
static DWORD WINAPI service_handler(DWORD control, DWORD type, LPVOID data,
		    LPVOID ctx);
static void	service_report(DWORD state);
static DWORD	service_wait_hint(void);
static void	service_tick(evutil_socket_t fd, short what, void *arg);
static bool	service_session_is_ours(DWORD session);
static void	service_set_preshutdown(SC_HANDLE h, double shutdown_timeout);
static int	service_install(int argc, char **argv);
static int	service_remove(int argc, char **argv);

/* See service.h. */
bool
service_command(int argc, char **argv, int (*run)(int, char **), int *status)
{
	SERVICE_TABLE_ENTRYW	table[] = {
		{ (LPWSTR)L"" SERVICE_DEFAULT_NAME, service_main },
		{ NULL, NULL },
	};

	if (argc >= 2 && strcmp(argv[1], "install-service") == 0) {
		*status = service_install(argc - 1, argv + 1);
		return true;
	}
	if (argc >= 2 && strcmp(argv[1], "remove-service") == 0) {
		*status = service_remove(argc - 1, argv + 1);
		return true;
	}
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--service") != 0)
			continue;
		svc.active = true;
		svc.argc = argc;
		svc.argv = argv;
		svc.run = run;
		svc.status = 1;
		snprintf(svc.name, sizeof svc.name, "%s", SERVICE_DEFAULT_NAME);
		InitializeCriticalSection(&svc.lock);
		if (!StartServiceCtrlDispatcherW(table)) {
			fprintf(stderr, "safeexitd: --service is for the service "
			    "control manager (install-service installs it): "
			    "%s\n", win32_strerror(GetLastError()));
			*status = 2;
			return true;
		}
		*status = svc.status;
		return true;
	}
	return false;
}

/* See service.h. */
bool
service_active(void)
{
	return svc.active;
}

/* See service.h. */
const char *
service_name(void)
{
	return svc.active ? svc.name : NULL;
}

/*
 * The service's thread: register the handler at once (the SCM waits for
 * it), then run the daemon and report how it ended.
 */
static void WINAPI
service_main(DWORD argc, LPWSTR *argv)
{
	char	*name;

	if (argc > 0 && (name = win32_utf8(argv[0])) != NULL) {
		snprintf(svc.name, sizeof svc.name, "%s", name);
		free(name);
	}
	svc.handle = RegisterServiceCtrlHandlerExW(argc > 0 ? argv[0] :
	    L"" SERVICE_DEFAULT_NAME, service_handler, NULL);
	if (svc.handle == NULL)
		return;
	svc.st.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
	service_report(SERVICE_START_PENDING);
	/* Until the config says otherwise, messages go to the event log. */
	log_init(svc.name);
	log_set_target(LOG_TARGET_SYSLOG, NULL);
	svc.status = svc.run(svc.argc, svc.argv);
	EnterCriticalSection(&svc.lock);
	svc.st.dwWin32ExitCode = svc.status == 0 ? NO_ERROR :
	    ERROR_SERVICE_SPECIFIC_ERROR;
	svc.st.dwServiceSpecificExitCode = (DWORD)svc.status;
	LeaveCriticalSection(&svc.lock);
	service_report(SERVICE_STOPPED);
}

/*
 * The SCM's requests, on its dispatcher thread: each is handed to the loop
 * (signals-win32.c), which answers through notify.h.
 */
static DWORD WINAPI
service_handler(DWORD control, DWORD type, LPVOID data, LPVOID ctx)
{
	(void)ctx;
	switch (control) {
	case SERVICE_CONTROL_INTERROGATE:
		service_report(0);
		return NO_ERROR;
	case SERVICE_CONTROL_STOP:
		signals_service(WIN32_SERVICE_STOP);
		return NO_ERROR;
	case SERVICE_CONTROL_SHUTDOWN:
	case SERVICE_CONTROL_PRESHUTDOWN:
		signals_service(WIN32_SERVICE_HOST_SHUTDOWN);
		return NO_ERROR;
	case SERVICE_CONTROL_PARAMCHANGE:
		signals_service(WIN32_SERVICE_RELOAD);
		return NO_ERROR;
	case SERVICE_CONTROL_SESSIONCHANGE:
		if (type == WTS_SESSION_LOGOFF && data != NULL &&
		    service_session_is_ours(
		    ((WTSSESSION_NOTIFICATION *)data)->dwSessionId))
			signals_service(WIN32_SERVICE_LOGOFF);
		return NO_ERROR;
	}
	return ERROR_CALL_NOT_IMPLEMENTED;
}

/*
 * The handler, entered as the SCM enters it, for the Windows tests
 * (tests/win32/svcctl.c starts a thread here in the daemon): wine's SCM
 * sends neither PRESHUTDOWN nor SESSIONCHANGE, which Windows sends only
 * when the host shuts down or a user logs off.
 */
struct service_test_control {
	DWORD			control;
	DWORD			type;
	WTSSESSION_NOTIFICATION	session;
};
__declspec(dllexport) DWORD WINAPI safeexitd_service_control(LPVOID arg);

DWORD WINAPI
safeexitd_service_control(LPVOID arg)
{
	struct service_test_control	*c = arg;

	return service_handler(c->control, c->type, &c->session, NULL);
}

/*
 * Tell the SCM the state (0: the state it has, again).  Pending states
 * carry a growing checkpoint and a wait hint; RUNNING takes the controls.
 */
static void
service_report(DWORD state)
{
	if (svc.handle == NULL)
		return;
	EnterCriticalSection(&svc.lock);
	if (state != 0 && state != svc.st.dwCurrentState)
		svc.st.dwCheckPoint = 0;
	if (state != 0)
		svc.st.dwCurrentState = state;
	switch (svc.st.dwCurrentState) {
	case SERVICE_START_PENDING:
		svc.st.dwCheckPoint++;
		svc.st.dwWaitHint = SERVICE_START_HINT_MS;
		svc.st.dwControlsAccepted = 0;
		break;
	case SERVICE_STOP_PENDING:
		if (state != 0)
			svc.st.dwCheckPoint++;
		svc.st.dwWaitHint = service_wait_hint();
		svc.st.dwControlsAccepted = 0;
		break;
	case SERVICE_RUNNING:
		svc.st.dwCheckPoint = 0;
		svc.st.dwWaitHint = 0;
		svc.st.dwControlsAccepted = SERVICE_ACCEPT_STOP |
		    SERVICE_ACCEPT_SHUTDOWN | SERVICE_ACCEPT_PARAMCHANGE |
		    SERVICE_ACCEPT_SESSIONCHANGE;
		/* Holding the host's shutdown up is only worth it to stop. */
		if (svc.preshutdown)
			svc.st.dwControlsAccepted |= SERVICE_ACCEPT_PRESHUTDOWN;
		break;
	default:
		svc.st.dwCheckPoint = 0;
		svc.st.dwWaitHint = 0;
		svc.st.dwControlsAccepted = 0;
		break;
	}
	SetServiceStatus(svc.handle, &svc.st);
	LeaveCriticalSection(&svc.lock);
}

/* What the shutdown's budget has left, in ms; a few seconds without one. */
static DWORD
service_wait_hint(void)
{
	double	left;

	if (svc.deadline <= 0)
		return 10000;
	left = svc.deadline - platform_now();
	if (left < 1)
		left = 1;
	return (DWORD)ceil(left * 1000);
}

/* A stopping daemon is still at work: a new checkpoint. */
static void
service_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	EnterCriticalSection(&svc.lock);
	svc.st.dwCheckPoint++;
	LeaveCriticalSection(&svc.lock);
	service_report(0);
}

/* notify.h: the loop the ticker runs on. */
void
notify_init(struct event_base *base)
{
	svc.base = base;
	if (svc.active)
		service_report(0);
}

/* notify.h: no more reports from the loop. */
void
notify_fini(void)
{
	if (svc.tick != NULL)
		event_free(svc.tick);
	svc.tick = NULL;
	svc.base = NULL;
}

/*
 * notify.h: the programs are started: RUNNING; or reloaded.  The controls
 * follow the config, and so does the preshutdown timeout, when the
 * service's account may change it.
 */
void
notify_ready(void)
{
	SC_HANDLE	 scm, h;
	wchar_t		*wname;

	if (!svc.active)
		return;
	EnterCriticalSection(&svc.lock);
	svc.preshutdown = daemon_config()->on_host_shutdown != POLICY_IGNORE;
	LeaveCriticalSection(&svc.lock);
	if (svc.st.dwCurrentState == SERVICE_START_PENDING) {
		service_report(SERVICE_RUNNING);
		log_info("service %s is running", svc.name);
	} else if (svc.st.dwCurrentState == SERVICE_RUNNING)
		service_report(0);
	else
		return;
	if ((scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT)) == NULL)
		return;
	if ((wname = win32_wide(svc.name)) != NULL &&
	    (h = OpenServiceW(scm, wname, SERVICE_CHANGE_CONFIG)) != NULL) {
		service_set_preshutdown(h, daemon_config()->shutdown_timeout);
		CloseServiceHandle(h);
	}
	free(wname);
	CloseServiceHandle(scm);
}

/* notify.h: nothing to tell the SCM about a reload. */
void
notify_reloading(void)
{
}

/* notify.h: a stage of the shutdown is done: a checkpoint. */
void
notify_status(const char *fmt, ...)
{
	(void)fmt;
	if (svc.active && svc.st.dwCurrentState == SERVICE_STOP_PENDING)
		service_tick(-1, 0, NULL);
}

/* notify.h: the daemon stops: STOP_PENDING, and a checkpoint every second. */
void
notify_stopping(void)
{
	struct timeval	tv = { SERVICE_TICK_SECS, 0 };

	if (!svc.active)
		return;
	service_report(SERVICE_STOP_PENDING);
	if (svc.base != NULL && svc.tick == NULL &&
	    (svc.tick = event_new(svc.base, -1, EV_PERSIST, service_tick,
	    NULL)) != NULL)
		event_add(svc.tick, &tv);
}

/* notify.h: the shutdown has secs to run: the wait hint. */
void
notify_extend_timeout(double secs)
{
	if (!svc.active)
		return;
	svc.deadline = secs > 0 ? platform_now() + secs : 0;
	if (svc.st.dwCurrentState == SERVICE_STOP_PENDING)
		service_report(0);
}

/* notify.h: log = journal is for systemd. */
log_sink_fn
notify_journal_sink(const char **why)
{
	*why = "there is no journal on Windows";
	return NULL;
}

/*
 * Whether the session that ends is one of the service's own account: a
 * service outlives the logoffs of other users (LocalSystem has no session
 * to log off).  wtsapi32 is loaded when needed.
 */
static bool
service_session_is_ours(DWORD session)
{
	typedef BOOL (WINAPI *query_fn)(HANDLE, DWORD, int, LPWSTR *, DWORD *);
	typedef void (WINAPI *free_fn)(PVOID);
	HMODULE		 wts;
	query_fn	 query;
	free_fn		 wfree;
	LPWSTR		 user = NULL;
	DWORD		 n;
	wchar_t		 me[257];
	DWORD		 len = 257;
	bool		 ours = false;

	if ((wts = LoadLibraryW(L"wtsapi32.dll")) == NULL)
		return false;
	query = (query_fn)(void (*)(void))GetProcAddress(wts,
	    "WTSQuerySessionInformationW");
	wfree = (free_fn)(void (*)(void))GetProcAddress(wts, "WTSFreeMemory");
	if (query != NULL && wfree != NULL && GetUserNameW(me, &len) &&
	    query(NULL, session, 5 /* WTSUserName */, &user, &n))
		ours = user[0] != L'\0' && _wcsicmp(user, me) == 0;
	if (user != NULL)
		wfree(user);
	FreeLibrary(wts);
	return ours;
}

/* Ask for a preshutdown timeout that holds a whole staged shutdown. */
static void
service_set_preshutdown(SC_HANDLE h, double shutdown_timeout)
{
	SERVICE_PRESHUTDOWN_INFO	pi;

	if (shutdown_timeout <= 0)
		return;	/* no cap: Windows' default it is */
	pi.dwPreshutdownTimeout = (DWORD)ceil((shutdown_timeout +
	    SERVICE_PRESHUTDOWN_SLACK) * 1000);
	if (!ChangeServiceConfig2W(h, SERVICE_CONFIG_PRESHUTDOWN_INFO, &pi))
		log_debug("preshutdown timeout: %s",
		    win32_strerror(GetLastError()));
}

/* install-service's and remove-service's usage. */
static void
service_usage(FILE *f)
{
	fprintf(f,
	    "usage: safeexitd install-service [-c FILE] [--name NAME] "
	    "[--user ACCOUNT]\n"
	    "       safeexitd remove-service [--name NAME]\n");
}

/*
 * The options of the service commands: -c FILE, --name NAME, --user
 * ACCOUNT; -1 on a usage error.
 */
static int
service_options(int argc, char **argv, bool install, const char **config,
    const char **name, const char **user)
{
	static const struct option	opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'N' },
		{ "user", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int				ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			if (!install)
				goto usage;
			*config = optarg;
			break;
		case 'N':
			*name = optarg;
			break;
		case 'u':
			if (!install)
				goto usage;
			*user = optarg;
			break;
		case 'h':
			service_usage(stdout);
			exit(0);
		default:
			goto usage;
		}
	}
	if (optind == argc && (*name)[0] != '\0' && strlen(*name) <= 256 &&
	    strpbrk(*name, "/\\") == NULL)
		return 0;
usage:
	service_usage(stderr);
	return -1;
}

/* The full path of this program, or of a file beside it. */
static wchar_t *
service_beside(const wchar_t *file)
{
	static wchar_t	 path[MAX_PATH + 64];
	wchar_t		*slash;
	DWORD		 n;

	n = GetModuleFileNameW(NULL, path, MAX_PATH);
	if (n == 0 || n >= MAX_PATH)
		return NULL;
	if (file != NULL) {
		if ((slash = wcsrchr(path, L'\\')) == NULL)
			return NULL;
		_snwprintf(slash + 1, 64, L"%ls", file);
		path[MAX_PATH + 63] = L'\0';
	}
	return path;
}

/* A message for a failed service call, with the reason. */
static int
service_fail(const char *what)
{
	DWORD	err = GetLastError();

	fprintf(stderr, "safeexitd: %s: %s\n", what, win32_strerror(err));
	if (err == ERROR_ACCESS_DENIED)
		fprintf(stderr, "safeexitd: run it as an administrator\n");
	return 1;
}

/*
 * install-service: check the config, register the service (automatic
 * start, the given account), its description, its failure actions (the
 * SCM restarts a daemon that crashed), its preshutdown timeout, and the
 * event log source its messages go out under.
 */
static int
service_install(int argc, char **argv)
{
	const char		*config = NULL, *name = SERVICE_DEFAULT_NAME;
	const char		*user = NULL;
	struct config_errors	 errs = { 0 };
	struct config		*cfg;
	wchar_t			 full[MAX_PATH], cmd[3 * MAX_PATH], key[400];
	wchar_t			*wconfig, *wname, *wuser, *wpass = NULL, *exe;
	const char		*pass;
	SC_ACTION		 actions[3] = {
		{ SC_ACTION_RESTART, 5000 },
		{ SC_ACTION_RESTART, 10000 },
		{ SC_ACTION_RESTART, 30000 },
	};
	SERVICE_FAILURE_ACTIONSW fa = { 86400, NULL, NULL, 3, actions };
	SERVICE_DESCRIPTIONW	 desc = { (LPWSTR)L"Starts and supervises "
	    "programs, and stops them in stages (safeexitd)" };
	SC_HANDLE		 scm, h;
	HKEY			 k;
	DWORD			 types = EVENTLOG_ERROR_TYPE |
				    EVENTLOG_WARNING_TYPE |
				    EVENTLOG_INFORMATION_TYPE;

	if (service_options(argc, argv, true, &config, &name, &user) == -1)
		return 2;
	if (config != NULL)
		wconfig = win32_wide(config);
	else
		wconfig = wcsdup(service_beside(L"safeexitd.ini"));
	if (wconfig == NULL || GetFullPathNameW(wconfig, MAX_PATH, full,
	    NULL) == 0)
		return service_fail("the config file's full path");
	free(wconfig);
	config = win32_utf8(full);
	if ((cfg = config_load(config, &errs)) == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		config_errors_free(&errs);
		return 1;
	}
	config_errors_free(&errs);
	if ((exe = service_beside(NULL)) == NULL)
		return service_fail("this program's path");
	_snwprintf(cmd, 3 * MAX_PATH, L"\"%ls\" --service -c \"%ls\"", exe,
	    full);
	cmd[3 * MAX_PATH - 1] = L'\0';
	wname = win32_wide(name);
	wuser = win32_wide(user);
	/* An ordinary account needs its password; service accounts do not. */
	if (user != NULL && (pass = getenv("SAFEEXITD_SERVICE_PASSWORD")) != NULL)
		wpass = win32_wide(pass);

	if ((scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CREATE_SERVICE)) ==
	    NULL)
		return service_fail("cannot open the service control manager");
	h = CreateServiceW(scm, wname, wname, SERVICE_ALL_ACCESS,
	    SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
	    SERVICE_ERROR_NORMAL, cmd, NULL, NULL, NULL, wuser, wpass);
	if (h == NULL) {
		service_fail("cannot install the service");
		CloseServiceHandle(scm);
		return 1;
	}
	if (!ChangeServiceConfig2W(h, SERVICE_CONFIG_DESCRIPTION, &desc))
		fprintf(stderr, "safeexitd: warning: description: %s\n",
		    win32_strerror(GetLastError()));
	if (!ChangeServiceConfig2W(h, SERVICE_CONFIG_FAILURE_ACTIONS, &fa))
		fprintf(stderr, "safeexitd: warning: failure actions (the "
		    "SCM will not restart a crashed daemon): %s\n",
		    win32_strerror(GetLastError()));
	service_set_preshutdown(h, cfg->shutdown_timeout);
	CloseServiceHandle(h);
	CloseServiceHandle(scm);

	_snwprintf(key, 400, L"%ls%ls", SERVICE_EVENTLOG_KEY, wname);
	key[399] = L'\0';
	if (RegCreateKeyExW(HKEY_LOCAL_MACHINE, key, 0, NULL, 0, KEY_SET_VALUE,
	    NULL, &k, NULL) == ERROR_SUCCESS) {
		RegSetValueExW(k, L"TypesSupported", 0, REG_DWORD,
		    (const BYTE *)&types, sizeof types);
		RegCloseKey(k);
	} else
		fprintf(stderr, "safeexitd: warning: cannot register the event "
		    "log source %s\n", name);
	printf("installed service %s: %ls\n", name, cmd);
	config_free(cfg);
	free(wname);
	free(wuser);
	free(wpass);
	return 0;
}

/*
 * remove-service: stop the service when it runs (its staged shutdown, as
 * long as it makes progress), then delete it and its event log source.
 */
static int
service_remove(int argc, char **argv)
{
	const char	*config = NULL, *name = SERVICE_DEFAULT_NAME;
	const char	*user = NULL;
	SERVICE_STATUS	 st;
	SC_HANDLE	 scm, h;
	wchar_t		*wname, key[400];
	DWORD		 checkpoint = 0, since = GetTickCount();
	int		 status = 0;

	if (service_options(argc, argv, false, &config, &name, &user) == -1)
		return 2;
	wname = win32_wide(name);
	if ((scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT)) == NULL)
		return service_fail("cannot open the service control manager");
	h = OpenServiceW(scm, wname, DELETE | SERVICE_STOP |
	    SERVICE_QUERY_STATUS);
	if (h == NULL) {
		service_fail(name);
		CloseServiceHandle(scm);
		return 1;
	}
	if (QueryServiceStatus(h, &st) && st.dwCurrentState != SERVICE_STOPPED) {
		printf("stopping service %s\n", name);
		fflush(stdout);
		ControlService(h, SERVICE_CONTROL_STOP, &st);
		while (QueryServiceStatus(h, &st) &&
		    st.dwCurrentState != SERVICE_STOPPED) {
			if (st.dwCheckPoint != checkpoint) {
				checkpoint = st.dwCheckPoint;
				since = GetTickCount();
			} else if (GetTickCount() - since > 60000 +
			    st.dwWaitHint) {
				fprintf(stderr, "safeexitd: service %s does "
				    "not stop; removed once it does\n", name);
				break;
			}
			Sleep(200);
		}
	}
	if (!DeleteService(h))
		status = service_fail("cannot remove the service");
	CloseServiceHandle(h);
	CloseServiceHandle(scm);
	if (status == 0) {
		_snwprintf(key, 400, L"%ls%ls", SERVICE_EVENTLOG_KEY, wname);
		key[399] = L'\0';
		RegDeleteKeyW(HKEY_LOCAL_MACHINE, key);
		printf("removed service %s\n", name);
	}
	free(wname);
	return status;
}
