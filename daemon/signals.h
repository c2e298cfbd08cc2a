/*
 * The daemon's own signals, delivered through the event loop (evsignal):
 * TERM and INT shut down (a second one skips the grace periods), HUP and QUIT
 * follow on_sighup and on_sigquit, USR2 reopens log files.  SIGPIPE is
 * ignored: a client that goes away must cost an error return, not the daemon.
 */
#ifndef SAFEEXITD_SIGNALS_H
#define SAFEEXITD_SIGNALS_H

struct event_base;

int signals_init(struct event_base *base);
void signals_fini(void);

#endif
