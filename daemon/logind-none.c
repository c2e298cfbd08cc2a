/*
 * Built without libsystemd: host shutdown and logoff reach the daemon only
 * as signals (SIGTERM from the init system, SIGHUP when the terminal goes).
 */
#include "log.h"
#include "logind.h"

int
logind_init(struct event_base *base, const struct logind_callbacks *cb)
{
	(void)base;
	(void)cb;
	log_info("built without libsystemd: host shutdown and logoff arrive only as signals");
	return -1;
}

void logind_release(void) { }
void logind_fini(void) { }
