/*
 * A program as the control protocol describes it (docs/PROTOCOL.md, the
 * JSON of safeexitctl(1)): as a json-c object, or written straight as text
 * for status, where thousands of programs make a tree too slow to build.
 */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "accounting.h"
#include "conf.h"
#include "parse.h"
#include "platform.h"
#include "program.h"
#include "program-json.h"
#include "protocol.h"
#include "ready.h"

#define PROGRAM_JSON_TEXT(t, lit)	protocol_text_raw((t), (lit), sizeof(lit) - 1)

/* One program as the protocol describes it. */
struct json_object *
program_json(const struct program *p)
{
	struct json_object *o = json_object_new_object();
	const char *sig;
	char note[512];

	json_object_object_add(o, "name", json_object_new_string(p->cfg->name));
	json_object_object_add(o, "state",
	    json_object_new_string(program_state_name(p->state)));
	json_object_object_add(o, "pid", p->main_alive ?
	    json_object_new_int64(p->pid) : NULL);
	json_object_object_add(o, "uptime", p->main_alive ?
	    json_object_new_double(platform_now() - p->started_at) : NULL);
	json_object_object_add(o, "exit_code", p->has_exit && p->exit_signal == 0 ?
	    json_object_new_int(p->exit_code) : NULL);
	if (p->has_exit && p->exit_signal != 0) {
		sig = signal_name(p->exit_signal);
		json_object_object_add(o, "signal", sig != NULL ?
		    json_object_new_string(sig) : json_object_new_int(p->exit_signal));
	} else
		json_object_object_add(o, "signal", NULL);
	json_object_object_add(o, "restarts", json_object_new_int(p->restarts));
	json_object_object_add(o, "ready",
	    json_object_new_boolean(ready_is_ready(p)));
	json_object_object_add(o, "health", ready_health(p) != NULL ?
	    json_object_new_string(ready_health(p)) : NULL);
	json_object_object_add(o, "status_text", ready_status_text(p) != NULL ?
	    json_object_new_string(ready_status_text(p)) : NULL);
	json_object_object_add(o, "error", p->error[0] != '\0' ?
	    json_object_new_string(p->error) : NULL);
	ready_describe(p, note, sizeof note);
	json_object_object_add(o, "note", note[0] != '\0' ?
	    json_object_new_string(note) : NULL);
	return o;
}

/*
 * One program as program_json describes it, written as text with the
 * same keys, order and number formats, since status of thousands of
 * programs would otherwise build (and free) a json-c object for each.
 * Status alone adds what the program uses (accounting.h), when usage is
 * set: reading it costs a few file reads a program, or a walk of each
 * process's page tables for its PSS, which a plain status does not need.
 */
void
program_json_text(struct protocol_text *t, const struct program *p,
    bool usage)
{
	struct accounting use;
	const char *sig, *s;
	char note[512];

	PROGRAM_JSON_TEXT(t, "{\"name\":");
	protocol_text_string(t, p->cfg->name);
	PROGRAM_JSON_TEXT(t, ",\"state\":");
	protocol_text_string(t, program_state_name(p->state));
	if (p->main_alive) {
		protocol_text_printf(t, ",\"pid\":%lld,\"uptime\":", (long long)p->pid);
		protocol_text_double(t, platform_now() - p->started_at);
	} else
		PROGRAM_JSON_TEXT(t, ",\"pid\":null,\"uptime\":null");
	if (p->has_exit && p->exit_signal == 0)
		protocol_text_printf(t, ",\"exit_code\":%d", p->exit_code);
	else
		PROGRAM_JSON_TEXT(t, ",\"exit_code\":null");
	PROGRAM_JSON_TEXT(t, ",\"signal\":");
	if (p->has_exit && p->exit_signal != 0) {
		if ((sig = signal_name(p->exit_signal)) != NULL)
			protocol_text_string(t, sig);
		else
			protocol_text_printf(t, "%d", p->exit_signal);
	} else
		PROGRAM_JSON_TEXT(t, "null");
	protocol_text_printf(t, ",\"restarts\":%d,\"ready\":%s,\"health\":",
	    p->restarts, ready_is_ready(p) ? "true" : "false");
	if ((s = ready_health(p)) != NULL)
		protocol_text_string(t, s);
	else
		PROGRAM_JSON_TEXT(t, "null");
	PROGRAM_JSON_TEXT(t, ",\"status_text\":");
	if ((s = ready_status_text(p)) != NULL)
		protocol_text_string(t, s);
	else
		PROGRAM_JSON_TEXT(t, "null");
	/* Read now, for status alone: nothing counts while nobody asks. */
	if (usage) {
		accounting_read(p, &use);
		PROGRAM_JSON_TEXT(t, ",\"cpu_seconds\":");
		protocol_text_double(t, use.cpu_seconds);
		protocol_text_printf(t, ",\"memory_bytes\":%llu,"
		    "\"oom_kills\":%llu", use.memory_bytes, use.oom_kills);
	} else
		PROGRAM_JSON_TEXT(t, ",\"cpu_seconds\":null,"
		    "\"memory_bytes\":null,\"oom_kills\":null");
	PROGRAM_JSON_TEXT(t, ",\"error\":");
	if (p->error[0] != '\0')
		protocol_text_string(t, p->error);
	else
		PROGRAM_JSON_TEXT(t, "null");
	PROGRAM_JSON_TEXT(t, ",\"note\":");
	ready_describe(p, note, sizeof note);
	if (note[0] != '\0')
		protocol_text_string(t, note);
	else
		PROGRAM_JSON_TEXT(t, "null");
	PROGRAM_JSON_TEXT(t, "}");
}

/* The named programs that still exist, in the order given. */
struct json_object *
program_json_list(strv_t names)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
		struct program *p = program_find(names[i]);

		if (p != NULL)
			json_object_array_add(a, program_json(p));
	}
	return a;
}
