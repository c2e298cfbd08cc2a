/*
 * supervisord's event types: their names, which names a listener's
 * `events =` list may use (a base type such as PROCESS_STATE stands for all
 * its subtypes), and the payload of each event as supervisord writes it.
 * Pure functions: the listener protocol lives in eventlistener.c.
 */
#ifndef SAFEEXITD_EVENTS_H
#define SAFEEXITD_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "parse.h"

/* The event types that are sent; each is one bit of an events_mask. */
enum event_type {
	EVT_PROCESS_STATE_STOPPED,
	EVT_PROCESS_STATE_STARTING,
	EVT_PROCESS_STATE_RUNNING,
	EVT_PROCESS_STATE_BACKOFF,
	EVT_PROCESS_STATE_STOPPING,
	EVT_PROCESS_STATE_EXITED,
	EVT_PROCESS_STATE_FATAL,
	EVT_PROCESS_STATE_UNKNOWN,
	EVT_PROCESS_LOG_STDOUT,
	EVT_PROCESS_LOG_STDERR,
	EVT_PROCESS_COMMUNICATION_STDOUT,
	EVT_PROCESS_COMMUNICATION_STDERR,
	EVT_REMOTE_COMMUNICATION,
	EVT_SUPERVISOR_STATE_CHANGE_RUNNING,
	EVT_SUPERVISOR_STATE_CHANGE_STOPPING,
	EVT_TICK_5,
	EVT_TICK_60,
	EVT_TICK_3600,
	EVT_PROCESS_GROUP_ADDED,
	EVT_PROCESS_GROUP_REMOVED,
};
#define EVT_COUNT	(EVT_PROCESS_GROUP_REMOVED + 1)

typedef uint32_t events_mask;
#define EVENTS_BIT(t)	((events_mask)1 << (t))

const char *events_name(enum event_type t);

/*
 * The types a list of names subscribes to, or 0 with *bad set to the first
 * unknown name.  Names are upper-cased first, as supervisord does.
 */
events_mask events_parse(const strv_t names, const char **bad);

/* The PROCESS_STATE_* type of a safeexitd state name ("RUNNING"), or -1. */
int events_state_type(const char *state);

/*
 * Payloads, as supervisord formats them, into a malloc'd string with its
 * length in *len.  process and group are supervisord's processname and
 * groupname; from is the state name the process left.
 */
char *events_process_state(enum event_type t, const char *process,
    const char *group, const char *from, int tries, bool expected, pid_t pid,
    size_t *len);
char *events_process_log(enum event_type t, const char *process,
    const char *group, pid_t pid, const char *data, size_t datalen,
    size_t *len);
char *events_tick(long long when, size_t *len);
char *events_group(const char *group, size_t *len);

/* Split a process name "GROUP:PROCESS" (or "NAME": both the same). */
void events_split_name(const char *name, char *group, size_t glen,
    const char **process);

#endif
