/*
 * supervisord's event listener protocol for [eventlistener:NAME] programs.
 * A listener is a program whose stdin and stdout are pipes to the daemon:
 * it writes READY, gets one event (a header line and a payload), answers
 * RESULT with OK or FAIL, and so on.  Listeners of one [eventlistener:NAME]
 * form a pool with one buffer of events; an event goes to any READY
 * listener of the pool.  Events come from the program table's observer
 * (PROCESS_STATE_*), from program output (PROCESS_LOG_*), from a timer
 * (TICK_*) and from the daemon (SUPERVISOR_STATE_CHANGE_*, PROCESS_GROUP_*):
 * this module only watches, it never drives a program's lifecycle.
 */
#ifndef SAFEEXITD_EVENTLISTENER_H
#define SAFEEXITD_EVENTLISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct event_base;
struct program;
struct program_config;

/* Start watching the program table; identifier is the header's server:. */
void eventlistener_init(struct event_base *base, const char *identifier);

/*
 * The program table changed (start-up, reload): update the pools from the
 * listeners' settings and raise PROCESS_GROUP_ADDED / REMOVED for groups
 * that came or went.
 */
void eventlistener_sync(void);

/* The daemon is running (true) or has begun to stop (false). */
void eventlistener_supervisor_state(bool running);

/* Whether pc is an event listener. */
bool eventlistener_is(const struct program_config *pc);

/*
 * Before p is spawned: for a listener, the descriptors its process gets as
 * 0 and 1 (pipes to the daemon); -1 with err when they cannot be made.  For
 * any other program, 0 and nothing changed.
 */
int eventlistener_spawn_fds(struct program *p, int *stdin_fd, int *stdout_fd,
    char *err, size_t errlen);
/* After the spawn of p, whether it worked: the child's ends are closed. */
void eventlistener_spawned(struct program *p, bool ok);

/* n bytes that program name wrote on stream (1 or 2): PROCESS_LOG_*. */
void eventlistener_output(const char *name, int stream, const char *buf,
    size_t n);

/*
 * Re-exec: put the listeners' pipes in the environment, kept open across
 * exec (undo when the exec failed); and take them back in the new daemon.
 */
void eventlistener_export(void);
void eventlistener_export_undo(void);

#endif
