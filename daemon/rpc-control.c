/*
 * What supervisord's XML-RPC methods change: starting, stopping and
 * signalling processes and groups, clearing logs, shutdown, restart, and
 * (the config's groups are rpc-groups.c's).  Each runs the JSON protocol's command (docs/PROTOCOL.md) through
 * rpc_command, so there is one implementation of every action; what is
 * checked first (names, states) and what is answered after is
 * supervisord's (supervisor/rpcinterface.py).
 */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "parse.h"
#include "program.h"
#include "rpc.h"
#include "xmalloc.h"

/* What an action call keeps while its command runs (its rpc_state). */
enum rpc_kind { RPC_START, RPC_STOP, RPC_SIGNAL, RPC_CLEAR };

static void rpc_act(struct rpc_call *rc, enum rpc_kind kind, bool single,
    struct program **v, size_t n, const char *sig, bool wait);
static void rpc_act_done(struct rpc_call *rc, struct json_object *reply);
static int rpc_start_fault(const struct program *p);
static int rpc_lookup_one(struct rpc_call *rc, const char *name,
    struct program **p, char *group, size_t glen);
static void rpc_group_call(struct rpc_call *rc, enum rpc_kind kind,
    const char *group, const char *sig, bool wait);
static bool rpc_wants(enum rpc_kind kind, const struct program *p);
static const char *rpc_signal_arg(struct rpc_call *rc,
    struct json_object *params, size_t i, char *buf, size_t len);

/* Whether a reply says ok (rpc.h). */
bool
rpc_reply_ok(struct json_object *reply)
{
	struct json_object *ok;

	return json_object_object_get_ex(reply, "ok", &ok) &&
	    json_object_get_boolean(ok);
}

/*
 * Look name up as supervisord's _getGroupAndProcess: 1 with *p for a
 * process, 0 with group for a whole group ("G:*", "G:"), -1 after BAD_NAME.
 */
static int
rpc_lookup_one(struct rpc_call *rc, const char *name, struct program **p,
    char *group, size_t glen)
{
	char proc[256];
	bool whole;

	rpc_split(name, group, glen, proc, sizeof proc, &whole);
	if (!rpc_group_exists(group)) {
		rpc_fault(rc, FAULT_BAD_NAME, name);
		return -1;
	}
	if (whole)
		return 0;
	if ((*p = rpc_find(group, proc)) == NULL) {
		rpc_fault(rc, FAULT_BAD_NAME, name);
		return -1;
	}
	return 1;
}

/* Which processes a group call acts on (supervisord's predicates). */
static bool
rpc_wants(enum rpc_kind kind, const struct program *p)
{
	switch (kind) {
	case RPC_START:
		return !rpc_is_running(p);
	case RPC_STOP:
		return rpc_is_running(p);
	case RPC_SIGNAL:
		return p->state == STATE_RUNNING || p->state == STATE_STARTING ||
		    p->state == STATE_STOPPING;
	case RPC_CLEAR:
		return true;
	}
	return false;
}

/*
 * Run kind on v[0..n): one command for them all.  single: the answer is
 * true or a fault (one process); else one result struct per process.
 */
static void
rpc_act(struct rpc_call *rc, enum rpc_kind kind, bool single,
    struct program **v, size_t n, const char *sig, bool wait)
{
	static const char *const cmds[] = { "start", "stop", "signal", "clear" };
	struct json_object *st = json_object_new_object();
	struct json_object *names = json_object_new_array();
	struct json_object *args = json_object_new_array();

	if (sig != NULL)
		json_object_array_add(args, json_object_new_string(sig));
	for (size_t i = 0; i < n; i++) {
		json_object_array_add(names, json_object_new_string(v[i]->cfg->name));
		json_object_array_add(args, json_object_new_string(v[i]->cfg->name));
	}
	json_object_object_add(st, "kind", json_object_new_int(kind));
	json_object_object_add(st, "single", json_object_new_boolean(single));
	json_object_object_add(st, "wait", json_object_new_boolean(wait));
	json_object_object_add(st, "names", names);
	*rpc_state(rc) = st;
	if (n == 0) {
		rpc_return(rc, json_object_new_array());
		json_object_put(args);
		return;
	}
	rpc_command(rc, rpc_request(cmds[kind], args, wait), rpc_act_done);
}

/* Why a start did not reach RUNNING, as supervisord's fault code. */
static int
rpc_start_fault(const struct program *p)
{
	if (strncmp(p->error, "exec ", 5) == 0) {
		if (strstr(p->error, "No such file") != NULL)
			return FAULT_NO_FILE;
		if (strstr(p->error, "Permission denied") != NULL)
			return FAULT_NOT_EXECUTABLE;
	}
	if (p->error[0] != '\0' &&
	    strncmp(p->error, "exited too quickly", 18) != 0)
		return FAULT_SPAWN_ERROR;
	return FAULT_ABNORMAL_TERMINATION;
}

/* The command ran: answer per process from where each stands now. */
static void
rpc_act_done(struct rpc_call *rc, struct json_object *reply)
{
	struct json_object *st = *rpc_state(rc), *v, *names, *failed = NULL;
	struct json_object *results = json_object_new_array();
	enum rpc_kind kind;
	bool single, wait;

	json_object_object_get_ex(st, "kind", &v);
	kind = json_object_get_int(v);
	json_object_object_get_ex(st, "single", &v);
	single = json_object_get_boolean(v);
	json_object_object_get_ex(st, "wait", &v);
	wait = json_object_get_boolean(v);
	json_object_object_get_ex(st, "names", &names);
	json_object_object_get_ex(reply, "failed", &failed);
	if (!rpc_reply_ok(reply)) {
		json_object_object_get_ex(reply, "error", &v);
		json_object_put(results);
		rpc_fault(rc, FAULT_FAILED, json_object_get_string(v));
		return;
	}
	for (size_t i = 0; i < json_object_array_length(names); i++) {
		const char *name = json_object_get_string(
		    json_object_array_get_idx(names, i));
		struct program *p = program_find(name);
		const char *desc = NULL;
		int code = FAULT_SUCCESS;

		if (p == NULL)
			continue;	/* removed by a reload meanwhile */
		if (kind == RPC_START && wait && p->state != STATE_RUNNING)
			code = rpc_start_fault(p), desc = name;
		for (size_t j = 0; kind == RPC_CLEAR && failed != NULL &&
		    j < json_object_array_length(failed); j++) {
			struct json_object *f = json_object_array_get_idx(failed, j);
			struct json_object *fn, *fe;

			if (json_object_object_get_ex(f, "name", &fn) &&
			    strcmp(json_object_get_string(fn), name) == 0) {
				json_object_object_get_ex(f, "error", &fe);
				code = FAULT_FAILED;
				desc = json_object_get_string(fe);
			}
		}
		if (single) {
			json_object_put(results);
			if (code == FAULT_SUCCESS)
				rpc_return(rc, json_object_new_boolean(1));
			else
				rpc_fault(rc, code, desc);
			return;
		}
		json_object_array_add(results, rpc_result(p, code, desc));
	}
	if (single) {
		json_object_put(results);
		rpc_fault(rc, FAULT_FAILED, "the process went away");
		return;
	}
	rpc_return(rc, results);
}

/* startProcessGroup & co: the wanted processes of group (NULL: all). */
static void
rpc_group_call(struct rpc_call *rc, enum rpc_kind kind, const char *group,
    const char *sig, bool wait)
{
	struct program **v;
	size_t n, k = 0;

	if (group != NULL && !rpc_group_exists(group)) {
		rpc_fault(rc, FAULT_BAD_NAME, group);
		return;
	}
	n = rpc_programs(group, false, &v);
	for (size_t i = 0; i < n; i++)
		if (rpc_wants(kind, v[i]))
			v[k++] = v[i];
	rpc_act(rc, kind, false, v, k, sig, wait);
	free(v);
}

/* supervisor.startProcess(name, wait=True). */
void
rpc_start_process(struct rpc_call *rc, struct json_object *params)
{
	const char *name = rpc_param_string(rc, params, 0);
	struct program *p;
	char group[256];
	bool wait;
	int r;

	if (name == NULL || rpc_param_bool(rc, params, 1, true, &wait) != 0 ||
	    rpc_shutting_down(rc))
		return;
	if ((r = rpc_lookup_one(rc, name, &p, group, sizeof group)) == 0)
		rpc_group_call(rc, RPC_START, group, NULL, wait);
	else if (r == 1 && rpc_is_running(p))
		rpc_fault(rc, FAULT_ALREADY_STARTED, name);
	else if (r == 1)
		rpc_act(rc, RPC_START, true, &p, 1, NULL, wait);
}

/* supervisor.startProcessGroup(name, wait=True). */
void
rpc_start_group(struct rpc_call *rc, struct json_object *params)
{
	const char *name = rpc_param_string(rc, params, 0);
	bool wait;

	if (name == NULL || rpc_param_bool(rc, params, 1, true, &wait) != 0 ||
	    rpc_shutting_down(rc))
		return;
	rpc_group_call(rc, RPC_START, name, NULL, wait);
}

/* supervisor.startAllProcesses(wait=True). */
void
rpc_start_all(struct rpc_call *rc, struct json_object *params)
{
	bool wait;

	if (rpc_param_bool(rc, params, 0, true, &wait) != 0 ||
	    rpc_shutting_down(rc))
		return;
	rpc_group_call(rc, RPC_START, NULL, NULL, wait);
}

/* supervisor.stopProcess(name, wait=True). */
void
rpc_stop_process(struct rpc_call *rc, struct json_object *params)
{
	const char *name = rpc_param_string(rc, params, 0);
	struct program *p;
	char group[256];
	bool wait;
	int r;

	if (name == NULL || rpc_param_bool(rc, params, 1, true, &wait) != 0 ||
	    rpc_shutting_down(rc))
		return;
	if ((r = rpc_lookup_one(rc, name, &p, group, sizeof group)) == 0)
		rpc_group_call(rc, RPC_STOP, group, NULL, wait);
	else if (r == 1 && !rpc_is_running(p))
		rpc_fault(rc, FAULT_NOT_RUNNING, name);
	else if (r == 1)
		rpc_act(rc, RPC_STOP, true, &p, 1, NULL, wait);
}

/* supervisor.stopProcessGroup(name, wait=True). */
void
rpc_stop_group(struct rpc_call *rc, struct json_object *params)
{
	const char *name = rpc_param_string(rc, params, 0);
	bool wait;

	if (name == NULL || rpc_param_bool(rc, params, 1, true, &wait) != 0 ||
	    rpc_shutting_down(rc))
		return;
	rpc_group_call(rc, RPC_STOP, name, NULL, wait);
}

/* supervisor.stopAllProcesses(wait=True). */
void
rpc_stop_all(struct rpc_call *rc, struct json_object *params)
{
	bool wait;

	if (rpc_param_bool(rc, params, 0, true, &wait) != 0 ||
	    rpc_shutting_down(rc))
		return;
	rpc_group_call(rc, RPC_STOP, NULL, NULL, wait);
}

/* A signal param (a name or a number) checked; NULL after BAD_SIGNAL. */
static const char *
rpc_signal_arg(struct rpc_call *rc, struct json_object *params, size_t i,
    char *buf, size_t len)
{
	struct json_object *v = json_object_array_get_idx(params, i);
	const char *err;
	int sig;

	if (json_object_is_type(v, json_type_int))
		snprintf(buf, len, "%lld", (long long)json_object_get_int64(v));
	else if (json_object_is_type(v, json_type_string))
		snprintf(buf, len, "%s", json_object_get_string(v));
	else {
		rpc_fault(rc, FAULT_INCORRECT_PARAMETERS, NULL);
		return NULL;
	}
	if (parse_signal(buf, &sig, &err) != 0) {
		rpc_fault(rc, FAULT_BAD_SIGNAL, buf);
		return NULL;
	}
	snprintf(buf, len, "%d", sig);
	return buf;
}

/* supervisor.signalProcess(name, signal). */
void
rpc_signal_process(struct rpc_call *rc, struct json_object *params)
{
	const char *name = rpc_param_string(rc, params, 0), *sig;
	struct program *p;
	char group[256], sbuf[64];
	int r;

	if (name == NULL || rpc_shutting_down(rc))
		return;
	if ((r = rpc_lookup_one(rc, name, &p, group, sizeof group)) == -1 ||
	    (sig = rpc_signal_arg(rc, params, 1, sbuf, sizeof sbuf)) == NULL)
		return;
	if (r == 0)
		rpc_group_call(rc, RPC_SIGNAL, group, sig, true);
	else if (!rpc_wants(RPC_SIGNAL, p))
		rpc_fault(rc, FAULT_NOT_RUNNING, name);
	else
		rpc_act(rc, RPC_SIGNAL, true, &p, 1, sig, true);
}

/* supervisor.signalProcessGroup(name, signal). */
void
rpc_signal_group(struct rpc_call *rc, struct json_object *params)
{
	const char *name = rpc_param_string(rc, params, 0), *sig;
	char sbuf[64];

	if (name == NULL || rpc_shutting_down(rc))
		return;
	if (!rpc_group_exists(name)) {
		rpc_fault(rc, FAULT_BAD_NAME, name);
		return;
	}
	if ((sig = rpc_signal_arg(rc, params, 1, sbuf, sizeof sbuf)) != NULL)
		rpc_group_call(rc, RPC_SIGNAL, name, sig, true);
}

/* supervisor.signalAllProcesses(signal). */
void
rpc_signal_all(struct rpc_call *rc, struct json_object *params)
{
	const char *sig;
	char sbuf[64];

	if (rpc_shutting_down(rc))
		return;
	if ((sig = rpc_signal_arg(rc, params, 0, sbuf, sizeof sbuf)) != NULL)
		rpc_group_call(rc, RPC_SIGNAL, NULL, sig, true);
}

/* supervisor.clearProcessLogs(name). */
void
rpc_clear_process_logs(struct rpc_call *rc, struct json_object *params)
{
	const char *name = rpc_param_string(rc, params, 0);
	struct program *p;
	char group[256];
	int r;

	if (name == NULL || rpc_shutting_down(rc))
		return;
	if ((r = rpc_lookup_one(rc, name, &p, group, sizeof group)) == 0)
		rpc_fault(rc, FAULT_BAD_NAME, name);
	else if (r == 1)
		rpc_act(rc, RPC_CLEAR, true, &p, 1, NULL, true);
}

/* supervisor.clearAllProcessLogs. */
void
rpc_clear_all_process_logs(struct rpc_call *rc, struct json_object *params)
{
	(void)params;
	if (!rpc_shutting_down(rc))
		rpc_group_call(rc, RPC_CLEAR, NULL, NULL, true);
}

/* A command whose reply is just ok: true, or FAILED (rpc.h). */
void
rpc_simple_done(struct rpc_call *rc, struct json_object *reply)
{
	struct json_object *e;

	if (rpc_reply_ok(reply)) {
		rpc_return(rc, json_object_new_boolean(1));
		return;
	}
	json_object_object_get_ex(reply, "error", &e);
	rpc_fault(rc, FAULT_FAILED, json_object_get_string(e));
}

/* supervisor.shutdown: the staged shutdown starts; true at once. */
void
rpc_shutdown(struct rpc_call *rc, struct json_object *params)
{
	(void)params;
	if (!rpc_shutting_down(rc))
		rpc_command(rc, rpc_request("shutdown", NULL, false), rpc_simple_done);
}

/*
 * supervisor.restart: the daemon executes itself again, reading its config
 * anew; its programs keep running (safeexitctl reexec).
 */
void
rpc_restart(struct rpc_call *rc, struct json_object *params)
{
	(void)params;
	if (!rpc_shutting_down(rc))
		rpc_command(rc, rpc_request("reexec", NULL, true), rpc_simple_done);
}
