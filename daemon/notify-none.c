/*
 * Built without libsystemd: there is no service manager to tell.
 */
#include <stddef.h>

#include "notify.h"

void notify_init(struct event_base *base) { (void)base; }
void notify_fini(void) { }
void notify_ready(void) { }
void notify_reloading(void) { }
void notify_status(const char *fmt, ...) { (void)fmt; }
void notify_stopping(void) { }
void notify_extend_timeout(double secs) { (void)secs; }

log_sink_fn
notify_journal_sink(const char **why)
{
	*why = "built without libsystemd";
	return NULL;
}
