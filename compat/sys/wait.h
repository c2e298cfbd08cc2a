/*
 * Wait statuses on Windows, in the encoding Linux uses, so the lifecycle
 * reads exits the same way everywhere.  platform-win32.c builds them from a
 * process's exit code: a stop or kill by the daemon and the exception codes
 * of crashes become "signals", every other code an exit status.
 */
#ifndef SAFEEXIT_COMPAT_SYS_WAIT_H
#define SAFEEXIT_COMPAT_SYS_WAIT_H

#define WIFEXITED(s)	(((s) & 0x7f) == 0)
#define WEXITSTATUS(s)	(((s) >> 8) & 0xff)
#define WIFSIGNALED(s)	(((s) & 0x7f) != 0 && ((s) & 0x7f) != 0x7f)
#define WTERMSIG(s)	((s) & 0x7f)

/* Build a status: exit code c, or terminated by signal n. */
#define W_EXITCODE(c, n)	((((c) & 0xff) << 8) | ((n) & 0x7f))

#endif
