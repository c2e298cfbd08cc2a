/*
 * -d on Windows, which has no fork: the daemon starts itself again with the
 * same command line as a detached process (no console, a process group of
 * its own, the null device for its standard handles) and waits on a pipe
 * for the new process to say how its start-up went.  The new process
 * learns that it is the background one, and which pipe to answer on, from
 * an environment variable that it then removes, so its programs do not
 * inherit it.
 */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "platform.h"
#include "win32.h"
#include "xmalloc.h"

#define DETACH_ENV	L"SAFEEXITD_DETACHED_READY"

static HANDLE	detach_ready;

/* The background process returns 0; the foreground one exits here. */
int
platform_detach(void)
{
	PROCESS_INFORMATION	 pi;
	STARTUPINFOEXW		 si;
	HANDLE			 rd, wr, null, inherit[2];
	SECURITY_ATTRIBUTES	 sa = { sizeof sa, NULL, TRUE };
	wchar_t			 value[32];
	SIZE_T			 size = 0;
	DWORD			 n;
	char			 status = 1;

	if (GetEnvironmentVariableW(DETACH_ENV, value, 32) > 0) {
		detach_ready = (HANDLE)(uintptr_t)_wcstoui64(value, NULL, 10);
		SetEnvironmentVariableW(DETACH_ENV, NULL);
		SetHandleInformation(detach_ready, HANDLE_FLAG_INHERIT, 0);
		/* Hold no folder open, as a daemon on POSIX leaves "/". */
		SetCurrentDirectoryW(L"\\");
		return 0;
	}

	if (!CreatePipe(&rd, &wr, &sa, 0)) {
		log_warnx("pipe: %s", win32_strerror(GetLastError()));
		return -1;
	}
	SetHandleInformation(rd, HANDLE_FLAG_INHERIT, 0);
	null = win32_null(true);
	_snwprintf(value, 32, L"%llu", (unsigned long long)(uintptr_t)wr);
	SetEnvironmentVariableW(DETACH_ENV, value);

	memset(&si, 0, sizeof si);
	si.StartupInfo.cb = sizeof si;
	si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
	si.StartupInfo.hStdInput = si.StartupInfo.hStdOutput =
	    si.StartupInfo.hStdError = null;
	inherit[0] = null;
	inherit[1] = wr;
	InitializeProcThreadAttributeList(NULL, 1, 0, &size);
	si.lpAttributeList = xmalloc(size);
	if (!InitializeProcThreadAttributeList(si.lpAttributeList, 1, 0,
	    &size) || !UpdateProcThreadAttribute(si.lpAttributeList, 0,
	    PROC_THREAD_ATTRIBUTE_HANDLE_LIST, inherit, sizeof inherit, NULL,
	    NULL))
		fatalx("attribute list: %s", win32_strerror(GetLastError()));
	if (!CreateProcessW(NULL, GetCommandLineW(), NULL, NULL, TRUE,
	    DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP |
	    CREATE_UNICODE_ENVIRONMENT | EXTENDED_STARTUPINFO_PRESENT, NULL,
	    NULL, &si.StartupInfo, &pi))
		fatalx("cannot start in the background: %s",
		    win32_strerror(GetLastError()));
	DeleteProcThreadAttributeList(si.lpAttributeList);
	free(si.lpAttributeList);
	CloseHandle(pi.hThread);
	CloseHandle(pi.hProcess);
	CloseHandle(wr);
	CloseHandle(null);
	if (!ReadFile(rd, &status, 1, &n, NULL) || n != 1)
		status = 1;
	ExitProcess((UINT)(unsigned char)status);
}

/* Tell the waiting foreground process how start-up went. */
void
platform_detach_done(int status)
{
	char	c = (char)status;
	DWORD	n;

	if (detach_ready == NULL)
		return;
	if (!WriteFile(detach_ready, &c, 1, &n, NULL) || n != 1)
		log_warnx("cannot tell the parent process: %s",
		    win32_strerror(GetLastError()));
	CloseHandle(detach_ready);
	detach_ready = NULL;
}
