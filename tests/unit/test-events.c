/*
 * Unit tests for daemon/events.c: event type names, subscriptions by base
 * type, and payloads byte for byte as supervisord 4.2.5 writes them.
 */

#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "tap.h"

static void	 check_payload(char *, size_t, const char *);

/* The payload is want, and its length is want's. */
static void
check_payload(char *got, size_t len, const char *want)
{
	is_str(got, want, "payload %s", want);
	is_int(len, strlen(want), "length of %s", want);
	free(got);
}

int
main(void)
{
	char *bad_list[] = { "PROCESS_STATE", "FOO", NULL };
	char *list[] = { "process_state", "TICK_60", "PROCESS_STATE_RUNNING",
	    NULL };
	char *all[] = { "EVENT", NULL };
	const char *bad, *process;
	char group[64];
	events_mask m;
	size_t len;
	char *p;

	m = events_parse(list, &bad);
	ok(bad == NULL, "known names");
	ok(m & EVENTS_BIT(EVT_PROCESS_STATE_FATAL), "PROCESS_STATE has FATAL");
	ok(m & EVENTS_BIT(EVT_TICK_60), "TICK_60");
	ok(!(m & EVENTS_BIT(EVT_TICK_5)), "not TICK_5");
	ok(!(m & EVENTS_BIT(EVT_PROCESS_LOG_STDOUT)), "not PROCESS_LOG");
	is_int(events_parse(bad_list, &bad), 0, "unknown name: no mask");
	is_str(bad, "FOO", "the unknown name");
	m = events_parse(all, &bad);
	for (int t = 0; t < EVT_COUNT; t++)
		ok(m & EVENTS_BIT(t), "EVENT has %s", events_name(t));
	is_int(events_state_type("FATAL"), EVT_PROCESS_STATE_FATAL, "FATAL");
	is_int(events_state_type("NOPE"), -1, "no such state");

	p = events_process_state(EVT_PROCESS_STATE_STARTING, "app", "app",
	    "STOPPED", 0, false, 0, &len);
	check_payload(p, len,
	    "processname:app groupname:app from_state:STOPPED tries:0");
	p = events_process_state(EVT_PROCESS_STATE_EXITED, "w_01", "w",
	    "RUNNING", 0, true, 42, &len);
	check_payload(p, len, "processname:w_01 groupname:w from_state:RUNNING "
	    "expected:1 pid:42");
	p = events_process_state(EVT_PROCESS_STATE_STOPPED, "a", "a",
	    "STOPPING", 0, false, 7, &len);
	check_payload(p, len, "processname:a groupname:a from_state:STOPPING "
	    "pid:7");
	p = events_process_state(EVT_PROCESS_STATE_FATAL, "b", "b", "BACKOFF",
	    2, false, 0, &len);
	check_payload(p, len, "processname:b groupname:b from_state:BACKOFF");
	p = events_process_log(EVT_PROCESS_LOG_STDERR, "c", "c", 9, "hi\n", 3,
	    &len);
	check_payload(p, len,
	    "processname:c groupname:c pid:9 channel:stderr\nhi\n");
	p = events_tick(1700000000, &len);
	check_payload(p, len, "when:1700000000");
	p = events_group("web", &len);
	check_payload(p, len, "groupname:web\n");

	events_split_name("web:app_01", group, sizeof group, &process);
	is_str(group, "web", "group of G:P");
	is_str(process, "app_01", "process of G:P");
	events_split_name("solo", group, sizeof group, &process);
	is_str(group, "solo", "group of a lone name");
	is_str(process, "solo", "process of a lone name");
	return tap_done();
}
