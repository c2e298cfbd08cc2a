/*
 * Host shutdown and logoff from systemd-logind (sd-bus on the system bus,
 * driven by the event loop): a "delay" inhibitor lock for shutdown, taken at
 * start and released only once the staged stop is done; PrepareForShutdown
 * and the end of the daemon's own session call back into the daemon.
 * Without libsystemd (logind-none.c) host events arrive only as signals.
 */
#ifndef SAFEEXITD_LOGIND_H
#define SAFEEXITD_LOGIND_H

struct event_base;

struct logind_callbacks {
	void (*host_shutdown)(void);	/* PrepareForShutdown(true) */
	void (*host_resumed)(void);	/* PrepareForShutdown(false) */
	void (*logoff)(void);		/* our session is closing or gone */
};

/* Connect and take the lock; logs once and returns -1 when there is no logind. */
int logind_init(struct event_base *base, const struct logind_callbacks *cb);
/* The staged stop for a host shutdown is done: let the shutdown go on. */
void logind_release(void);
void logind_fini(void);

#endif
