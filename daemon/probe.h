/*
 * One-shot probes of a program's readiness or health: a TCP connect, an
 * HTTP GET (libevent's evhttp), or a command (a child of the daemon,
 * started like the program).  Nothing blocks: each probe runs on the event
 * loop, bounded by its timeout, and reports once through its callback, from
 * the loop (never from inside probe_start).
 */
#ifndef SAFEEXITD_PROBE_H
#define SAFEEXITD_PROBE_H

#include <stdbool.h>
#include <sys/types.h>

#include "check.h"

struct event_base;
struct program;
struct probe;

/* ok, or not with why ("tcp:5432 refused"); the probe is freed after. */
typedef void (*probe_done_fn)(void *arg, bool ok, const char *why);

void probe_init(struct event_base *base);
void probe_fini(void);

/*
 * Answer c at once when that costs no waiting (a TCP check of a loopback
 * address: whether something listens there): true with ok and why set.
 * False: start a probe instead.
 */
bool probe_now(const struct check *c, bool *ok, char *why, size_t len);
/* Start probing c for p; done is called once, within timeout seconds. */
struct probe *probe_start(const struct check *c, struct program *p,
    double timeout, probe_done_fn done, void *arg);
/* Drop a probe in flight: done is not called; its command is killed. */
void probe_cancel(struct probe *pr);

/* The reaper's hook: whether pid was a probe's command (then it is handled). */
bool probe_reaped(pid_t pid, int status);

/* https (probe-tls.c): a TLS bufferevent for host, or NULL without TLS. */
struct bufferevent *probe_tls_bufferevent(struct event_base *base,
    const char *host);

#endif
