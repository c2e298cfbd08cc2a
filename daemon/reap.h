/*
 * Reaping (POSIX): SIGCHLD through the event loop, waitpid until nothing is
 * left, each exit dispatched by pid; a stopping main process by its pidfd.  The daemon is a child subreaper, so
 * orphans of its programs come back to it and are reaped too; as PID 1 it
 * reaps everything.  At exit, the sweep gets rid of descendants that left
 * their program's process group.
 */
#ifndef SAFEEXITD_REAP_H
#define SAFEEXITD_REAP_H

#include <stdbool.h>

struct event_base;
struct program;

int reap_init(struct event_base *base);
void reap_fini(void);
/* Reap every child that has exited and dispatch it. */
void reap_all(void);
/* p leaves the table: drop what reaping keeps of it. */
void reap_forget(struct program *p);
/* SIGCHLD blocked (read from a signalfd), or back to normal for a re-exec. */
void reap_block_sigchld(bool block);

/* See platform_sweep. */
void reap_sweep(double grace, void (*done)(void *), void *arg);
void reap_sweep_kill_now(void);

#endif
