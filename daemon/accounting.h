/*
 * What a program uses, read only when asked (status, top): CPU time, memory
 * and OOM kills, from its cgroup where it has one, else from /proc for its
 * process group.  OOM kills are also noticed as they happen, through an
 * inotify watch of the cgroup's memory.events on the event loop, and
 * logged: no timer polls anything.
 */
#ifndef SAFEEXITD_ACCOUNTING_H
#define SAFEEXITD_ACCOUNTING_H

#include <stdbool.h>

struct event_base;
struct program;

struct accounting {
	double cpu_seconds;		/* user + system */
	unsigned long long memory_bytes;
	unsigned long long oom_kills;
};

/* Set up the OOM watch on base (no-op where there is none). */
void accounting_init(struct event_base *base);
void accounting_fini(void);

/* After p's launch: watch its cgroup for OOM kills, where it can be. */
void accounting_watch(struct program *p);

/* Read what p uses now. */
void accounting_read(const struct program *p, struct accounting *a);

#endif
