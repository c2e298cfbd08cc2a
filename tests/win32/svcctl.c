/*
 * A test helper that talks to the service control manager as the tests
 * need and sc.exe does not:
 *
 *   svcctl NAME control CODE   send control CODE (a number) through the SCM,
 *                              e.g. 15 (PRESHUTDOWN), which Windows itself
 *                              sends only at a host shutdown
 *   svcctl NAME watch SECS     print the service's status at every change,
 *                              one line "STATE CHECKPOINT WAITHINT EXIT
 *                              SPECIFIC ACCEPTED", until it stops (it is
 *                              STOPPED after another state) or SECS have
 *                              passed (exit 1 then)
 *   svcctl PID handler CONTROL TYPE [SESSION]
 *                              call the control handler of the safeexitd
 *                              with Windows pid PID as the SCM would, with
 *                              a WTSSESSION_NOTIFICATION for SESSION: a
 *                              thread in the daemon at its exported
 *                              safeexitd_service_control; prints what the
 *                              handler returns.  For what wine's SCM never
 *                              sends (PRESHUTDOWN, SESSIONCHANGE).
 */
#include <windows.h>
#include <tlhelp32.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Print one status line. */
static void
show(const SERVICE_STATUS *st)
{
	printf("%lu %lu %lu %lu %lu 0x%lx\n",
	    (unsigned long)st->dwCurrentState,
	    (unsigned long)st->dwCheckPoint, (unsigned long)st->dwWaitHint,
	    (unsigned long)st->dwWin32ExitCode,
	    (unsigned long)st->dwServiceSpecificExitCode,
	    (unsigned long)st->dwControlsAccepted);
	fflush(stdout);
}

/* What safeexitd_service_control takes (daemon/service-win32.c). */
struct service_test_control {
	DWORD			control;
	DWORD			type;
	WTSSESSION_NOTIFICATION	session;
};

/* svcctl PID handler CONTROL TYPE [SESSION]. */
static int
handler(int argc, char **argv)
{
	struct service_test_control	 c;
	MODULEENTRY32W			 me = { .dwSize = sizeof me };
	HANDLE				 snap, process, thread;
	HMODULE				 local;
	FARPROC				 fn;
	void				*remote;
	DWORD				 pid = (DWORD)strtoul(argv[1], NULL, 0);
	DWORD				 ret;

	memset(&c, 0, sizeof c);
	c.control = (DWORD)strtoul(argv[3], NULL, 0);
	c.type = (DWORD)strtoul(argv[4], NULL, 0);
	c.session.cbSize = sizeof c.session;
	c.session.dwSessionId = argc > 5 ? (DWORD)strtoul(argv[5], NULL, 0) :
	    0;
	/* Where the daemon's program is in it, and the entry's offset. */
	snap = CreateToolhelp32Snapshot(TH32CS_SNAPMODULE, pid);
	if (snap == INVALID_HANDLE_VALUE || !Module32FirstW(snap, &me)) {
		fprintf(stderr, "svcctl: modules of %lu: error %lu\n",
		    (unsigned long)pid, (unsigned long)GetLastError());
		return 1;
	}
	CloseHandle(snap);
	if ((local = LoadLibraryExW(me.szExePath, NULL,
	    DONT_RESOLVE_DLL_REFERENCES)) == NULL ||
	    (fn = GetProcAddress(local, "safeexitd_service_control")) == NULL) {
		fprintf(stderr, "svcctl: %ls: no safeexitd_service_control: "
		    "error %lu\n", me.szExePath, (unsigned long)GetLastError());
		return 1;
	}
	if ((process = OpenProcess(PROCESS_ALL_ACCESS, FALSE, pid)) == NULL ||
	    (remote = VirtualAllocEx(process, NULL, sizeof c,
	    MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE)) == NULL ||
	    !WriteProcessMemory(process, remote, &c, sizeof c, NULL)) {
		fprintf(stderr, "svcctl: process %lu: error %lu\n",
		    (unsigned long)pid, (unsigned long)GetLastError());
		return 1;
	}
	thread = CreateRemoteThread(process, NULL, 0,
	    (LPTHREAD_START_ROUTINE)(void *)(me.modBaseAddr +
	    ((BYTE *)(void *)fn - (BYTE *)local)), remote, 0, NULL);
	if (thread == NULL) {
		fprintf(stderr, "svcctl: CreateRemoteThread: error %lu\n",
		    (unsigned long)GetLastError());
		return 1;
	}
	WaitForSingleObject(thread, 10000);
	GetExitCodeThread(thread, &ret);
	printf("%lu\n", (unsigned long)ret);
	return 0;
}

int
main(int argc, char **argv)
{
	SC_HANDLE	scm, h;
	SERVICE_STATUS	st, last;
	DWORD		end;
	BOOL		ran = FALSE;

	if ((argc == 5 || argc == 6) && strcmp(argv[2], "handler") == 0)
		return handler(argc, argv);
	if (argc != 4) {
		fprintf(stderr, "usage: svcctl NAME control CODE | "
		    "svcctl NAME watch SECS\n");
		return 2;
	}
	if ((scm = OpenSCManagerA(NULL, NULL, SC_MANAGER_CONNECT)) == NULL ||
	    (h = OpenServiceA(scm, argv[1], SERVICE_ALL_ACCESS)) == NULL) {
		fprintf(stderr, "svcctl: %s: error %lu\n", argv[1],
		    (unsigned long)GetLastError());
		return 1;
	}
	if (strcmp(argv[2], "control") == 0) {
		if (!ControlService(h, (DWORD)strtoul(argv[3], NULL, 0), &st)) {
			fprintf(stderr, "svcctl: control %s: error %lu\n",
			    argv[3], (unsigned long)GetLastError());
			return 1;
		}
		show(&st);
		return 0;
	}
	end = GetTickCount() + (DWORD)atoi(argv[3]) * 1000;
	memset(&last, 0xff, sizeof last);
	while (QueryServiceStatus(h, &st)) {
		if (memcmp(&st, &last, sizeof st) != 0)
			show(&st);
		last = st;
		if (st.dwCurrentState == SERVICE_STOPPED && ran)
			return 0;
		ran = st.dwCurrentState != SERVICE_STOPPED;
		if ((LONG)(GetTickCount() - end) > 0)
			return 1;
		Sleep(20);
	}
	return 1;
}
