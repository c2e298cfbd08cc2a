/*
 * supervisord's XML-RPC interface at /RPC2: the request, the method table,
 * dispatch, faults, system.multicall and the methods about the daemon
 * itself.  What a method reads is in rpc-info.c, what it changes in
 * rpc-control.c (through the JSON protocol's commands, so that each action
 * has one implementation).  docs/MIGRATION.md lists the methods and where
 * they differ from supervisord's.
 */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "control-conn.h"
#include "http.h"
#include "lifecycle.h"
#include "log.h"
#include "rpc.h"
#include "safeexitd.h"
#include "xmalloc.h"
#include "xmlrpc.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.0.0"
#endif

/* The API version supervisorctl checks (supervisor/rpcinterface.py). */
#define RPC_API_VERSION	"3.0"
/*
 * What a multicall's answer may reach: past it, the calls left are not
 * run but answered with a fault, so one request of 1 MiB cannot make the
 * daemon build gigabytes or keep its loop busy for minutes.
 */
#define RPC_MAX_MULTICALL_BYTES	(16 * 1024 * 1024)

/* One HTTP request: a call, or the calls of a system.multicall. */
struct rpc_req {
	struct control_conn *c;
	struct json_object *calls;	/* multicall: its array; else NULL */
	struct json_object *results;	/* multicall: one entry per call */
	size_t next;
	size_t bytes;			/* multicall: its answer so far, encoded */
	bool dispatching;		/* inside the multicall loop */
	bool pending;			/* the current call has not ended */
};

/* One method call. */
struct rpc_call {
	struct rpc_req *req;
	struct json_object *params;
	struct json_object *state;	/* the method's scratch */
	rpc_reply_fn cb;		/* of the command running */
};

struct rpc_method {
	const char *name;
	rpc_method_fn fn;
	int min, max;
	const char *sig;	/* return type, then parameter types */
	const char *help;
};

static void rpc_get_api_version(struct rpc_call *, struct json_object *);
static void rpc_get_supervisor_version(struct rpc_call *, struct json_object *);
static void rpc_get_identification(struct rpc_call *, struct json_object *);
static void rpc_get_state(struct rpc_call *, struct json_object *);
static void rpc_get_pid(struct rpc_call *, struct json_object *);
static void rpc_list_methods(struct rpc_call *, struct json_object *);
static void rpc_method_help(struct rpc_call *, struct json_object *);
static void rpc_method_signature(struct rpc_call *, struct json_object *);
static void rpc_multicall(struct rpc_call *, struct json_object *);
static const struct rpc_method *rpc_lookup(const char *name);
static void rpc_dispatch(struct rpc_req *req, const char *method,
    struct json_object *params);
static void rpc_end(struct rpc_call *rc, struct json_object *result);
static void rpc_next(struct rpc_req *req);
static void rpc_req_free(struct rpc_req *req);
static void rpc_send(struct rpc_req *req, const char *xml, size_t len);
static void rpc_command_done(struct control_conn *c, struct json_object *reply,
    void *arg);

static const struct rpc_method methods[] = {
	{ "supervisor.addProcessGroup", rpc_add_group, 1, 1, "boolean string",
	  "Update the config for a running process from config file." },
	{ "supervisor.clearAllProcessLogs", rpc_clear_all_process_logs, 0, 0,
	  "array", "Clear all process log files." },
	{ "supervisor.clearLog", rpc_clear_log, 0, 0, "boolean",
	  "Clear the main log." },
	{ "supervisor.clearProcessLog", rpc_clear_process_logs, 1, 1,
	  "boolean string", "Clear the stdout and stderr logs for the named "
	  "process and reopen them." },
	{ "supervisor.clearProcessLogs", rpc_clear_process_logs, 1, 1,
	  "boolean string", "Clear the stdout and stderr logs for the named "
	  "process and reopen them." },
	{ "supervisor.getAPIVersion", rpc_get_api_version, 0, 0, "string",
	  "Return the version of the RPC API used by supervisord." },
	{ "supervisor.getAllConfigInfo", rpc_get_all_config_info, 0, 0, "array",
	  "Get info about all available process configurations." },
	{ "supervisor.getAllProcessInfo", rpc_get_all_process_info, 0, 0,
	  "array", "Get info about all processes." },
	{ "supervisor.getIdentification", rpc_get_identification, 0, 0,
	  "string", "Return identifying string of supervisord." },
	{ "supervisor.getPID", rpc_get_pid, 0, 0, "int",
	  "Return the PID of supervisord." },
	{ "supervisor.getProcessInfo", rpc_get_process_info, 1, 1,
	  "struct string", "Get info about a process named name." },
	{ "supervisor.getState", rpc_get_state, 0, 0, "struct",
	  "Return current state of supervisord as a struct." },
	{ "supervisor.getSupervisorVersion", rpc_get_supervisor_version, 0, 0,
	  "string", "Return the version of the supervisor package in use "
	  "(here: safeexitd's)." },
	{ "supervisor.getVersion", rpc_get_api_version, 0, 0, "string",
	  "Return the version of the RPC API used by supervisord." },
	{ "supervisor.readLog", rpc_read_log, 2, 2, "string int int",
	  "Read length bytes from the main log starting at offset." },
	{ "supervisor.readMainLog", rpc_read_log, 2, 2, "string int int",
	  "Read length bytes from the main log starting at offset." },
	{ "supervisor.readProcessLog", rpc_read_stdout, 3, 3,
	  "string string int int", "Read length bytes from name's stdout log "
	  "starting at offset." },
	{ "supervisor.readProcessStderrLog", rpc_read_stderr, 3, 3,
	  "string string int int", "Read length bytes from name's stderr log "
	  "starting at offset." },
	{ "supervisor.readProcessStdoutLog", rpc_read_stdout, 3, 3,
	  "string string int int", "Read length bytes from name's stdout log "
	  "starting at offset." },
	{ "supervisor.reloadConfig", rpc_reload_config, 0, 0, "array",
	  "Reload the configuration: [[added, changed, removed]] group names." },
	{ "supervisor.removeProcessGroup", rpc_remove_group, 1, 1,
	  "boolean string", "Remove a stopped process from the active "
	  "configuration." },
	{ "supervisor.restart", rpc_restart, 0, 0, "boolean",
	  "Restart the supervisor process." },
	{ "supervisor.shutdown", rpc_shutdown, 0, 0, "boolean",
	  "Shut down the supervisor process." },
	{ "supervisor.signalAllProcesses", rpc_signal_all, 1, 1,
	  "array string", "Send a signal to all processes in the process list." },
	{ "supervisor.signalProcess", rpc_signal_process, 2, 2,
	  "boolean string string", "Send an arbitrary UNIX signal to the "
	  "process named by name." },
	{ "supervisor.signalProcessGroup", rpc_signal_group, 2, 2,
	  "array string string", "Send a signal to all processes in the group "
	  "named 'name'." },
	{ "supervisor.startAllProcesses", rpc_start_all, 0, 1, "array boolean",
	  "Start all processes listed in the configuration file." },
	{ "supervisor.startProcess", rpc_start_process, 1, 2,
	  "boolean string boolean", "Start a process." },
	{ "supervisor.startProcessGroup", rpc_start_group, 1, 2,
	  "array string boolean", "Start all processes in the group named "
	  "'name'." },
	{ "supervisor.stopAllProcesses", rpc_stop_all, 0, 1, "array boolean",
	  "Stop all processes in the process list." },
	{ "supervisor.stopProcess", rpc_stop_process, 1, 2,
	  "boolean string boolean", "Stop a process named by name." },
	{ "supervisor.stopProcessGroup", rpc_stop_group, 1, 2,
	  "array string boolean", "Stop all processes in the process group "
	  "named 'name'." },
	{ "supervisor.tailProcessLog", rpc_tail_stdout, 3, 3,
	  "array string int int", "Provides a more efficient way to tail the "
	  "(stdout) log than readProcessStdoutLog()." },
	{ "supervisor.tailProcessStderrLog", rpc_tail_stderr, 3, 3,
	  "array string int int", "Provides a more efficient way to tail the "
	  "(stderr) log than readProcessStderrLog()." },
	{ "supervisor.tailProcessStdoutLog", rpc_tail_stdout, 3, 3,
	  "array string int int", "Provides a more efficient way to tail the "
	  "(stdout) log than readProcessStdoutLog()." },
	{ "system.listMethods", rpc_list_methods, 0, 0, "array",
	  "Return an array listing the available method names." },
	{ "system.methodHelp", rpc_method_help, 1, 1, "string string",
	  "Return a string showing the method's documentation." },
	{ "system.methodSignature", rpc_method_signature, 1, 1, "array string",
	  "Return an array describing the method signature." },
	{ "system.multicall", rpc_multicall, 1, 1, "array array",
	  "Process an array of calls, and return an array of results." },
};
#define RPC_N_METHODS	(sizeof methods / sizeof methods[0])

/* Serve POST /RPC2 (http.h). */
void
rpc_serve(struct control_conn *c, const struct http_request *r)
{
	struct rpc_req *req;
	struct json_object *params;
	char *method, err[256];

	if (strcmp(r->path, "/RPC2") != 0) {
		http_respond_error(c, 404, "not found");
		return;
	}
	if (strcmp(r->method, "POST") != 0) {
		http_respond_error(c, 405, "only POST is served at /RPC2");
		return;
	}
	if (xmlrpc_decode_call(r->body, r->body_len, &method, &params, err,
	    sizeof err) != 0) {
		log_debug("%s: bad XML-RPC request: %s", __func__, err);
		http_respond_error(c, 400, "bad XML-RPC request: %s", err);
		return;
	}
	req = xcalloc(1, sizeof *req);
	req->c = c;
	req->pending = true;
	rpc_dispatch(req, method, params);
	free(method);
	json_object_put(params);
}

/* The table entry of a method, or NULL. */
static const struct rpc_method *
rpc_lookup(const char *name)
{
	for (size_t i = 0; i < RPC_N_METHODS; i++)
		if (strcmp(methods[i].name, name) == 0)
			return &methods[i];
	return NULL;
}

/* Start one call; it ends through rpc_end, now or later. */
static void
rpc_dispatch(struct rpc_req *req, const char *method, struct json_object *params)
{
	const struct rpc_method *m = rpc_lookup(method);
	struct rpc_call *rc = xcalloc(1, sizeof *rc);
	size_t n = json_object_array_length(params);

	rc->req = req;
	rc->params = json_object_get(params);
	if (m == NULL)
		rpc_fault(rc, FAULT_UNKNOWN_METHOD, NULL);
	else if (n < (size_t)m->min || n > (size_t)m->max)
		rpc_fault(rc, FAULT_INCORRECT_PARAMETERS, NULL);
	else
		m->fn(rc, rc->params);
}

/* The text of a fault as supervisord writes it. */
const char *
rpc_fault_text(int code, const char *extra, char *buf, size_t len)
{
	static const struct { int code; const char *name; } names[] = {
		{ 1, "UNKNOWN_METHOD" }, { 2, "INCORRECT_PARAMETERS" },
		{ 3, "BAD_ARGUMENTS" }, { 4, "SIGNATURE_UNSUPPORTED" },
		{ 6, "SHUTDOWN_STATE" }, { 10, "BAD_NAME" }, { 11, "BAD_SIGNAL" },
		{ 20, "NO_FILE" }, { 21, "NOT_EXECUTABLE" }, { 30, "FAILED" },
		{ 40, "ABNORMAL_TERMINATION" }, { 50, "SPAWN_ERROR" },
		{ 60, "ALREADY_STARTED" }, { 70, "NOT_RUNNING" }, { 80, "SUCCESS" },
		{ 90, "ALREADY_ADDED" }, { 91, "STILL_RUNNING" },
		{ 92, "CANT_REREAD" },
	};
	const char *name = "UNKNOWN";

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].code == code)
			name = names[i].name;
	if (extra != NULL)
		snprintf(buf, len, "%s: %s", name, extra);
	else
		snprintf(buf, len, "%s", name);
	return buf;
}

/* End the call with a value (rpc.h). */
void
rpc_return(struct rpc_call *rc, struct json_object *value)
{
	rpc_end(rc, value);
}

/* End the call with a fault (rpc.h). */
void
rpc_fault(struct rpc_call *rc, int code, const char *extra)
{
	struct json_object *f = json_object_new_object();
	char text[1024];

	json_object_object_add(f, "faultCode", json_object_new_int(code));
	json_object_object_add(f, "faultString", json_object_new_string(
	    rpc_fault_text(code, extra, text, sizeof text)));
	/* A fault is told from a value by its key, which no value has. */
	json_object_object_add(f, " fault", json_object_new_boolean(1));
	rpc_end(rc, f);
}

/* Whether r is a fault made by rpc_fault. */
static bool
rpc_is_fault(struct json_object *r)
{
	return json_object_is_type(r, json_type_object) &&
	    json_object_object_get_ex(r, " fault", NULL);
}

/* A call ended: answer the request, or go on with the multicall. */
static void
rpc_end(struct rpc_call *rc, struct json_object *result)
{
	struct rpc_req *req = rc->req;
	struct json_object *code, *text;
	char *xml;
	size_t len;

	json_object_put(rc->params);
	json_object_put(rc->state);
	free(rc);
	req->pending = false;
	if (req->calls != NULL) {
		free(xmlrpc_encode_response(result, &len));
		req->bytes += len;
		if (rpc_is_fault(result))
			json_object_object_del(result, " fault");
		else {
			struct json_object *a = json_object_new_array();

			json_object_array_add(a, result);
			result = a;
		}
		json_object_array_add(req->results, result);
		if (!req->dispatching)
			rpc_next(req);
		return;
	}
	if (rpc_is_fault(result)) {
		json_object_object_get_ex(result, "faultCode", &code);
		json_object_object_get_ex(result, "faultString", &text);
		xml = xmlrpc_encode_fault(json_object_get_int(code),
		    json_object_get_string(text), &len);
	} else
		xml = xmlrpc_encode_response(result, &len);
	json_object_put(result);
	rpc_send(req, xml, len);
	free(xml);
	rpc_req_free(req);
}

/* Queue the response. */
static void
rpc_send(struct rpc_req *req, const char *xml, size_t len)
{
	http_respond(req->c, 200, "text/xml", xml, len);
}

/* Free a request whose calls have all ended. */
static void
rpc_req_free(struct rpc_req *req)
{
	json_object_put(req->calls);
	json_object_put(req->results);
	free(req);
}

/* Run the multicall's calls one after the other, then answer. */
static void
rpc_next(struct rpc_req *req)
{
	size_t n = json_object_array_length(req->calls);
	struct json_object *call, *name, *params = NULL;
	char *xml;
	size_t len;

	while (req->next < n) {
		struct rpc_call *rc;

		params = NULL;
		call = json_object_array_get_idx(req->calls, req->next++);
		req->pending = true;
		req->dispatching = true;
		if (!json_object_is_type(call, json_type_object) ||
		    !json_object_object_get_ex(call, "methodName", &name) ||
		    !json_object_is_type(name, json_type_string) ||
		    (json_object_object_get_ex(call, "params", &params) &&
		    !json_object_is_type(params, json_type_array))) {
			rc = xcalloc(1, sizeof *rc);
			rc->req = req;
			rpc_fault(rc, FAULT_INCORRECT_PARAMETERS,
			    "each call is a struct with methodName and params");
		} else if (req->bytes > RPC_MAX_MULTICALL_BYTES) {
			rc = xcalloc(1, sizeof *rc);
			rc->req = req;
			rpc_fault(rc, FAULT_FAILED, "the multicall's answer is over "
			    "16 MiB: call not run");
		} else if (strcmp(json_object_get_string(name),
		    "system.multicall") == 0) {
			rc = xcalloc(1, sizeof *rc);
			rc->req = req;
			rpc_fault(rc, FAULT_INCORRECT_PARAMETERS,
			    "Recursive system.multicall forbidden");
		} else if (params == NULL) {
			params = json_object_new_array();
			rpc_dispatch(req, json_object_get_string(name), params);
			json_object_put(params);
		} else
			rpc_dispatch(req, json_object_get_string(name), params);
		req->dispatching = false;
		if (req->pending)
			return;		/* its command's reply goes on */
	}
	xml = xmlrpc_encode_response(req->results, &len);
	rpc_send(req, xml, len);
	free(xml);
	rpc_req_free(req);
}

/* system.multicall(calls): each result as [value], each fault as a struct. */
static void
rpc_multicall(struct rpc_call *rc, struct json_object *params)
{
	struct json_object *calls = json_object_array_get_idx(params, 0);
	struct rpc_req *req = rc->req;

	if (!json_object_is_type(calls, json_type_array) || req->calls != NULL) {
		rpc_fault(rc, FAULT_INCORRECT_PARAMETERS, NULL);
		return;
	}
	req->calls = json_object_get(calls);
	req->results = json_object_new_array();
	json_object_put(rc->params);
	free(rc);
	rpc_next(req);
}

/* Run a command for the call (rpc.h). */
void
rpc_command(struct rpc_call *rc, struct json_object *req, rpc_reply_fn cb)
{
	rc->cb = cb;
	http_command(rc->req->c, req, rpc_command_done, rc);
}

/* A command's reply: to the method, unless the client went away. */
static void
rpc_command_done(struct control_conn *c, struct json_object *reply, void *arg)
{
	struct rpc_call *rc = arg;
	struct rpc_req *req = rc->req;

	(void)c;
	if (reply == NULL) {
		json_object_put(rc->params);
		json_object_put(rc->state);
		free(rc);
		rpc_req_free(req);
		return;
	}
	rc->cb(rc, reply);
}

/* A request of the JSON protocol (rpc.h). */
struct json_object *
rpc_request(const char *cmd, struct json_object *args, bool wait)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "cmd", json_object_new_string(cmd));
	json_object_object_add(o, "args", args != NULL ? args :
	    json_object_new_array());
	if (!wait)
		json_object_object_add(o, "wait", json_object_new_boolean(0));
	return o;
}

/* The call's scratch (rpc.h). */
struct json_object **
rpc_state(struct rpc_call *rc)
{
	return &rc->state;
}

/* Param i as a string (rpc.h). */
const char *
rpc_param_string(struct rpc_call *rc, struct json_object *params, size_t i)
{
	struct json_object *v = json_object_array_get_idx(params, i);

	if (!json_object_is_type(v, json_type_string)) {
		rpc_fault(rc, FAULT_INCORRECT_PARAMETERS, NULL);
		return NULL;
	}
	return json_object_get_string(v);
}

/* Param i as a boolean, dflt when not given (rpc.h). */
int
rpc_param_bool(struct rpc_call *rc, struct json_object *params, size_t i,
    bool dflt, bool *out)
{
	struct json_object *v;

	if (i >= json_object_array_length(params)) {
		*out = dflt;
		return 0;
	}
	v = json_object_array_get_idx(params, i);
	if (json_object_is_type(v, json_type_boolean))
		*out = json_object_get_boolean(v);
	else if (json_object_is_type(v, json_type_int))
		*out = json_object_get_int64(v) != 0;
	else {
		rpc_fault(rc, FAULT_INCORRECT_PARAMETERS, NULL);
		return -1;
	}
	return 0;
}

/* Param i as an integer (rpc.h). */
int
rpc_param_int(struct rpc_call *rc, struct json_object *params, size_t i,
    long long *out)
{
	struct json_object *v = json_object_array_get_idx(params, i);

	if (!json_object_is_type(v, json_type_int)) {
		rpc_fault(rc, FAULT_INCORRECT_PARAMETERS, NULL);
		return -1;
	}
	*out = json_object_get_int64(v);
	/* XML-RPC's int is 32 bits: an i8 beyond it would overflow offsets. */
	if (*out < INT32_MIN || *out > INT32_MAX) {
		rpc_fault(rc, FAULT_BAD_ARGUMENTS, NULL);
		return -1;
	}
	return 0;
}

/* SHUTDOWN_STATE while the daemon exits, as supervisord's _update. */
bool
rpc_shutting_down(struct rpc_call *rc)
{
	if (!lifecycle_exiting())
		return false;
	rpc_fault(rc, FAULT_SHUTDOWN_STATE, NULL);
	return true;
}

/* supervisor.getAPIVersion, getVersion. */
static void
rpc_get_api_version(struct rpc_call *rc, struct json_object *params)
{
	(void)params;
	rpc_return(rc, json_object_new_string(RPC_API_VERSION));
}

/* supervisor.getSupervisorVersion: safeexitd's own version. */
static void
rpc_get_supervisor_version(struct rpc_call *rc, struct json_object *params)
{
	(void)params;
	rpc_return(rc, json_object_new_string(PACKAGE_VERSION));
}

/* supervisor.getIdentification: [supervisord] identifier. */
static void
rpc_get_identification(struct rpc_call *rc, struct json_object *params)
{
	const struct config *cfg = daemon_config();

	(void)params;
	rpc_return(rc, json_object_new_string(cfg != NULL &&
	    cfg->identifier != NULL ? cfg->identifier : "supervisor"));
}

/* supervisor.getState: RUNNING (1), or SHUTDOWN (-1) while exiting. */
static void
rpc_get_state(struct rpc_call *rc, struct json_object *params)
{
	struct json_object *o = json_object_new_object();
	bool exiting = lifecycle_exiting();

	(void)params;
	json_object_object_add(o, "statecode", json_object_new_int(exiting ? -1 : 1));
	json_object_object_add(o, "statename",
	    json_object_new_string(exiting ? "SHUTDOWN" : "RUNNING"));
	rpc_return(rc, o);
}

/* supervisor.getPID. */
static void
rpc_get_pid(struct rpc_call *rc, struct json_object *params)
{
	(void)params;
	rpc_return(rc, json_object_new_int((int)getpid()));
}

/* system.listMethods. */
static void
rpc_list_methods(struct rpc_call *rc, struct json_object *params)
{
	struct json_object *a = json_object_new_array();

	(void)params;
	for (size_t i = 0; i < RPC_N_METHODS; i++)
		json_object_array_add(a, json_object_new_string(methods[i].name));
	rpc_return(rc, a);
}

/* system.methodHelp(name). */
static void
rpc_method_help(struct rpc_call *rc, struct json_object *params)
{
	const char *name = rpc_param_string(rc, params, 0);
	const struct rpc_method *m;

	if (name == NULL)
		return;
	if ((m = rpc_lookup(name)) == NULL)
		rpc_fault(rc, FAULT_SIGNATURE_UNSUPPORTED, NULL);
	else
		rpc_return(rc, json_object_new_string(m->help));
}

/* system.methodSignature(name): [[return type, parameter types...]]. */
static void
rpc_method_signature(struct rpc_call *rc, struct json_object *params)
{
	const char *name = rpc_param_string(rc, params, 0);
	const struct rpc_method *m;
	struct json_object *sig, *all;
	char *s, *w, *save = NULL;

	if (name == NULL)
		return;
	if ((m = rpc_lookup(name)) == NULL) {
		rpc_fault(rc, FAULT_SIGNATURE_UNSUPPORTED, NULL);
		return;
	}
	sig = json_object_new_array();
	s = xstrdup(m->sig);
	for (w = strtok_r(s, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save))
		json_object_array_add(sig, json_object_new_string(w));
	free(s);
	all = json_object_new_array();
	json_object_array_add(all, sig);
	rpc_return(rc, all);
}
