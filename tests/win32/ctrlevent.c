/*
 * Raise a console control event inside another process, for tests: a
 * thread started in it at kernelbase's CtrlRoutine runs its handlers as
 * Windows does when the event really happens.  wine does not generate
 * CTRL_CLOSE, CTRL_LOGOFF or CTRL_SHUTDOWN itself.
 *
 *   ctrlevent c|break|close|logoff|shutdown PID
 *
 * Exit 0 when the thread ran in the target, 1 when it could not be made.
 */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Start a thread at CtrlRoutine in the target, with the event as its argument. */
int
main(int argc, char **argv)
{
	static const struct {
		const char	*name;
		DWORD		 event;
	} events[] = {
		{ "c", CTRL_C_EVENT },
		{ "break", CTRL_BREAK_EVENT },
		{ "close", CTRL_CLOSE_EVENT },
		{ "logoff", CTRL_LOGOFF_EVENT },
		{ "shutdown", CTRL_SHUTDOWN_EVENT },
	};
	LPTHREAD_START_ROUTINE	 routine;
	HMODULE			 kb;
	HANDLE			 process, thread;
	DWORD			 pid;
	size_t			 i;

	if (argc != 3) {
		fprintf(stderr, "usage: ctrlevent c|break|close|logoff|shutdown "
		    "PID\n");
		return 2;
	}
	for (i = 0; i < sizeof events / sizeof events[0]; i++)
		if (strcmp(argv[1], events[i].name) == 0)
			break;
	if (i == sizeof events / sizeof events[0]) {
		fprintf(stderr, "ctrlevent: unknown event %s\n", argv[1]);
		return 2;
	}
	pid = (DWORD)strtoul(argv[2], NULL, 10);
	if ((kb = GetModuleHandleW(L"kernelbase.dll")) == NULL ||
	    (routine = (LPTHREAD_START_ROUTINE)(void (*)(void))GetProcAddress(kb,
	    "CtrlRoutine")) == NULL) {
		fprintf(stderr, "ctrlevent: no CtrlRoutine in kernelbase\n");
		return 1;
	}
	if ((process = OpenProcess(PROCESS_CREATE_THREAD |
	    PROCESS_QUERY_INFORMATION | PROCESS_VM_OPERATION |
	    PROCESS_VM_WRITE | PROCESS_VM_READ, FALSE, pid)) == NULL) {
		fprintf(stderr, "ctrlevent: cannot open %lu: %lu\n",
		    (unsigned long)pid, (unsigned long)GetLastError());
		return 1;
	}
	thread = CreateRemoteThread(process, NULL, 0, routine,
	    (LPVOID)(ULONG_PTR)events[i].event, 0, NULL);
	if (thread == NULL) {
		fprintf(stderr, "ctrlevent: CreateRemoteThread: %lu\n",
		    (unsigned long)GetLastError());
		CloseHandle(process);
		return 1;
	}
	CloseHandle(thread);
	CloseHandle(process);
	return 0;
}
