/*
 * supervisord's event types and payloads (see events.h).  The payload
 * formats follow supervisor/events.py field for field: listeners written for
 * supervisord split them with str.split() and dict(), so a space or a
 * missing field breaks them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "events.h"
#include "log.h"
#include "xmalloc.h"

static const char *const names[EVT_COUNT] = {
	[EVT_PROCESS_STATE_STOPPED] = "PROCESS_STATE_STOPPED",
	[EVT_PROCESS_STATE_STARTING] = "PROCESS_STATE_STARTING",
	[EVT_PROCESS_STATE_RUNNING] = "PROCESS_STATE_RUNNING",
	[EVT_PROCESS_STATE_BACKOFF] = "PROCESS_STATE_BACKOFF",
	[EVT_PROCESS_STATE_STOPPING] = "PROCESS_STATE_STOPPING",
	[EVT_PROCESS_STATE_EXITED] = "PROCESS_STATE_EXITED",
	[EVT_PROCESS_STATE_FATAL] = "PROCESS_STATE_FATAL",
	[EVT_PROCESS_STATE_UNKNOWN] = "PROCESS_STATE_UNKNOWN",
	[EVT_PROCESS_LOG_STDOUT] = "PROCESS_LOG_STDOUT",
	[EVT_PROCESS_LOG_STDERR] = "PROCESS_LOG_STDERR",
	[EVT_PROCESS_COMMUNICATION_STDOUT] = "PROCESS_COMMUNICATION_STDOUT",
	[EVT_PROCESS_COMMUNICATION_STDERR] = "PROCESS_COMMUNICATION_STDERR",
	[EVT_REMOTE_COMMUNICATION] = "REMOTE_COMMUNICATION",
	[EVT_SUPERVISOR_STATE_CHANGE_RUNNING] = "SUPERVISOR_STATE_CHANGE_RUNNING",
	[EVT_SUPERVISOR_STATE_CHANGE_STOPPING] = "SUPERVISOR_STATE_CHANGE_STOPPING",
	[EVT_TICK_5] = "TICK_5",
	[EVT_TICK_60] = "TICK_60",
	[EVT_TICK_3600] = "TICK_3600",
	[EVT_PROCESS_GROUP_ADDED] = "PROCESS_GROUP_ADDED",
	[EVT_PROCESS_GROUP_REMOVED] = "PROCESS_GROUP_REMOVED",
};

/* The base types: a subscription to one is one to every type it prefixes. */
static const struct {
	const char *name;
	events_mask mask;
} bases[] = {
	{ "EVENT", (events_mask)-1 >> (32 - EVT_COUNT) },
	{ "PROCESS_STATE", 0xffu << EVT_PROCESS_STATE_STOPPED },
	{ "PROCESS_LOG", EVENTS_BIT(EVT_PROCESS_LOG_STDOUT) |
	    EVENTS_BIT(EVT_PROCESS_LOG_STDERR) },
	{ "PROCESS_COMMUNICATION", EVENTS_BIT(EVT_PROCESS_COMMUNICATION_STDOUT) |
	    EVENTS_BIT(EVT_PROCESS_COMMUNICATION_STDERR) },
	{ "SUPERVISOR_STATE_CHANGE",
	    EVENTS_BIT(EVT_SUPERVISOR_STATE_CHANGE_RUNNING) |
	    EVENTS_BIT(EVT_SUPERVISOR_STATE_CHANGE_STOPPING) },
	{ "TICK", EVENTS_BIT(EVT_TICK_5) | EVENTS_BIT(EVT_TICK_60) |
	    EVENTS_BIT(EVT_TICK_3600) },
	{ "PROCESS_GROUP", EVENTS_BIT(EVT_PROCESS_GROUP_ADDED) |
	    EVENTS_BIT(EVT_PROCESS_GROUP_REMOVED) },
};

static char *events_format(size_t *len, const char *fmt, ...)
    LOG_PRINTF(2, 3);

const char *
events_name(enum event_type t)
{
	return (unsigned)t < EVT_COUNT ? names[t] : "?";
}

/* The mask of one name, 0 when unknown. */
static events_mask
events_parse_one(const char *name)
{
	for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++)
		if (strcasecmp(bases[i].name, name) == 0)
			return bases[i].mask;
	for (int t = 0; t < EVT_COUNT; t++)
		if (strcasecmp(names[t], name) == 0)
			return EVENTS_BIT(t);
	return 0;
}

events_mask
events_parse(const strv_t list, const char **bad)
{
	events_mask mask = 0, m;

	*bad = NULL;
	for (size_t i = 0; list != NULL && list[i] != NULL; i++) {
		if ((m = events_parse_one(list[i])) == 0) {
			*bad = list[i];
			return 0;
		}
		mask |= m;
	}
	return mask;
}

int
events_state_type(const char *state)
{
	char want[64];

	snprintf(want, sizeof want, "PROCESS_STATE_%s", state);
	for (int t = EVT_PROCESS_STATE_STOPPED; t <= EVT_PROCESS_STATE_UNKNOWN; t++)
		if (strcmp(names[t], want) == 0)
			return t;
	return -1;
}

/* A formatted string, its length in *len; out of memory is fatal. */
static char *
events_format(size_t *len, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	*len = strlen(s);
	return s;
}

char *
events_process_state(enum event_type t, const char *process,
    const char *group, const char *from, int tries, bool expected, pid_t pid,
    size_t *len)
{
	switch (t) {
	case EVT_PROCESS_STATE_STARTING:
	case EVT_PROCESS_STATE_BACKOFF:
		return events_format(len, "processname:%s groupname:%s "
		    "from_state:%s tries:%d", process, group, from, tries);
	case EVT_PROCESS_STATE_EXITED:
		return events_format(len, "processname:%s groupname:%s "
		    "from_state:%s expected:%d pid:%ld", process, group, from,
		    expected ? 1 : 0, (long)pid);
	case EVT_PROCESS_STATE_RUNNING:
	case EVT_PROCESS_STATE_STOPPING:
	case EVT_PROCESS_STATE_STOPPED:
		return events_format(len, "processname:%s groupname:%s "
		    "from_state:%s pid:%ld", process, group, from, (long)pid);
	default:
		return events_format(len, "processname:%s groupname:%s "
		    "from_state:%s", process, group, from);
	}
}

char *
events_process_log(enum event_type t, const char *process, const char *group,
    pid_t pid, const char *data, size_t datalen, size_t *len)
{
	size_t head;
	char *s, *all;

	s = events_format(&head, "processname:%s groupname:%s pid:%ld "
	    "channel:%s\n", process, group, (long)pid,
	    t == EVT_PROCESS_LOG_STDERR ? "stderr" : "stdout");
	all = xrealloc(s, head + datalen + 1);
	memcpy(all + head, data, datalen);
	all[head + datalen] = '\0';
	*len = head + datalen;
	return all;
}

char *
events_tick(long long when, size_t *len)
{
	return events_format(len, "when:%lld", when);
}

char *
events_group(const char *group, size_t *len)
{
	/* supervisord ends this one payload with a newline. */
	return events_format(len, "groupname:%s\n", group);
}

void
events_split_name(const char *name, char *group, size_t glen,
    const char **process)
{
	const char *colon = strchr(name, ':');

	if (colon == NULL) {
		snprintf(group, glen, "%s", name);
		*process = name;
		return;
	}
	snprintf(group, glen, "%.*s", (int)(colon - name), name);
	*process = colon + 1;
}
