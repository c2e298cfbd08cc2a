/*
 * What /proc says about one process (Linux): the facts the daemon checks
 * before it treats a process as one of its programs' (adopt.c) or lets a
 * recorded pid near a signal, and what it uses (accounting-posix.c).  A pid
 * recorded in a file is a claim; these are what the kernel says.  Every
 * read of a process's files under /proc goes through here.
 */
#ifndef SAFEEXITD_PROCINFO_H
#define SAFEEXITD_PROCINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct procinfo {
	char state;			/* R, S, D, Z, ... */
	pid_t ppid;
	pid_t pgid;
	pid_t sid;
	unsigned long long utime;	/* field 14, clock ticks in user mode */
	unsigned long long stime;	/* field 15, clock ticks in the kernel */
	unsigned long long start_time;	/* field 22, clock ticks since boot */
};

/* Fill pi from /proc/PID/stat: 0, or -1 when the process is gone. */
int procinfo_read(pid_t pid, struct procinfo *pi);
/* pid's proportional set size in bytes (smaps_rollup's Pss), 0 if unknown. */
unsigned long long procinfo_pss(pid_t pid);
/* The path of pid's executable (/proc/PID/exe): 0, or -1 when unreadable. */
int procinfo_exe(pid_t pid, char *buf, size_t len);
/* Whether v, read from a file, is a pid a signal may be sent to (2..INT_MAX). */
bool procinfo_valid_pid(long long v);
/*
 * Whether any process of group pgid is not a zombie, or is a zombie of the
 * caller's (not yet reaped, it still counts: its reap ends the wait).
 * kill(-pgid, 0) counts every zombie, and one whose parent is not ours
 * stays until that parent reaps it.  true when /proc cannot be read.
 */
bool procinfo_group_live(pid_t pgid);

#endif
