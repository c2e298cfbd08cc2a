/*
 * Telling the service manager what the daemon is doing (sd_notify): READY=1,
 * STATUS=, STOPPING=1, EXTEND_TIMEOUT_USEC, WATCHDOG=1.  Without libsystemd
 * (notify-none.c) every call does nothing.
 */
#ifndef SAFEEXITD_NOTIFY_H
#define SAFEEXITD_NOTIFY_H

struct event_base;

void notify_init(struct event_base *base);
void notify_fini(void);
void notify_ready(void);
void notify_reloading(void);
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The daemon itself is about to exit. */
void notify_stopping(void);
/* A staged stop runs: ask for secs more before the manager kills us. */
void notify_extend_timeout(double secs);

/*
 * The sink for log = journal: messages go to the systemd journal with their
 * priority.  NULL when built without libsystemd.
 */
#include "log.h"
log_sink_fn notify_journal_sink(const char **why);

#endif
