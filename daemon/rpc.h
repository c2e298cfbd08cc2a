/*
 * supervisord's XML-RPC methods, shared between rpc-supervisor.c (the
 * request, dispatch, faults, system.*), rpc-info.c (what is read: process
 * and config info, logs), rpc-control.c (what changes state, through
 * the JSON protocol's commands) and rpc-groups.c (the config's groups).  A method gets its call and its params
 * (checked for count) and ends the call exactly once, now or later, with
 * rpc_return or rpc_fault.
 */
#ifndef SAFEEXITD_RPC_H
#define SAFEEXITD_RPC_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;
struct program;
struct rpc_call;

/* supervisord's fault codes (supervisor/xmlrpc.py). */
enum rpc_fault {
	FAULT_UNKNOWN_METHOD = 1,
	FAULT_INCORRECT_PARAMETERS = 2,
	FAULT_BAD_ARGUMENTS = 3,
	FAULT_SIGNATURE_UNSUPPORTED = 4,
	FAULT_SHUTDOWN_STATE = 6,
	FAULT_BAD_NAME = 10,
	FAULT_BAD_SIGNAL = 11,
	FAULT_NO_FILE = 20,
	FAULT_NOT_EXECUTABLE = 21,
	FAULT_FAILED = 30,
	FAULT_ABNORMAL_TERMINATION = 40,
	FAULT_SPAWN_ERROR = 50,
	FAULT_ALREADY_STARTED = 60,
	FAULT_NOT_RUNNING = 70,
	FAULT_SUCCESS = 80,
	FAULT_ALREADY_ADDED = 90,
	FAULT_STILL_RUNNING = 91,
	FAULT_CANT_REREAD = 92,
};

typedef void (*rpc_method_fn)(struct rpc_call *rc, struct json_object *params);
/* What a command's reply is handed to. */
typedef void (*rpc_reply_fn)(struct rpc_call *rc, struct json_object *reply);

/* End the call with value (taken over). */
void	rpc_return(struct rpc_call *rc, struct json_object *value);
/* End the call with a fault: "NAME" or "NAME: extra". */
void	rpc_fault(struct rpc_call *rc, int code, const char *extra);
/* "NAME" or "NAME: extra" for a fault code, in buf. */
const char *rpc_fault_text(int code, const char *extra, char *buf, size_t len);
/*
 * Run a JSON protocol command (http.h) for this call; cb gets the reply.
 * If the client went away, the call ends without cb.
 */
void	rpc_command(struct rpc_call *rc, struct json_object *req, rpc_reply_fn cb);
/* {"cmd": cmd, "args": [...]} with the given args, and "wait" when !wait. */
struct json_object *rpc_request(const char *cmd, struct json_object *args,
	    bool wait);
/* Whether a command's reply says ok. */
bool	rpc_reply_ok(struct json_object *reply);
/* A reply callback for commands answered with just ok: true, or FAILED. */
void	rpc_simple_done(struct rpc_call *rc, struct json_object *reply);
/* Scratch kept with the call until it ends (freed with it). */
struct json_object **rpc_state(struct rpc_call *rc);

/* Param i as a string / boolean / integer, or NULL / -1 after a fault. */
const char *rpc_param_string(struct rpc_call *rc, struct json_object *params,
	    size_t i);
int	rpc_param_bool(struct rpc_call *rc, struct json_object *params,
	    size_t i, bool dflt, bool *out);
int	rpc_param_int(struct rpc_call *rc, struct json_object *params,
	    size_t i, long long *out);
/* Whether the daemon is shutting down: SHUTDOWN_STATE faulted if so. */
bool	rpc_shutting_down(struct rpc_call *rc);

/* rpc-info.c: names as supervisord has them. */
const char *rpc_group(const struct program *p);
const char *rpc_pname(const struct program *p);
/* supervisord's split_namespec: "G:P", "G:*", "G:", or "NAME" (= NAME:NAME). */
void	rpc_split(const char *spec, char *group, size_t glen, char *proc,
	    size_t plen, bool *whole_group);
struct program *rpc_find(const char *group, const char *proc);
bool	rpc_group_exists(const char *group);
/* The programs of group (NULL: all), in priority (or lexical) order. */
size_t	rpc_programs(const char *group, bool lexical, struct program ***out);
bool	rpc_is_running(const struct program *p);	/* supervisord's RUNNING_STATES */
bool	rpc_is_stopped(const struct program *p);	/* supervisord's STOPPED_STATES */
int	rpc_state_code(const struct program *p);
struct json_object *rpc_process_info(const struct program *p);
/* {name, group, status, description} as supervisord's group results. */
struct json_object *rpc_result(const struct program *p, int code,
	    const char *desc);

/* The methods. */
void	rpc_get_process_info(struct rpc_call *, struct json_object *);
void	rpc_get_all_process_info(struct rpc_call *, struct json_object *);
void	rpc_get_all_config_info(struct rpc_call *, struct json_object *);
void	rpc_read_stdout(struct rpc_call *, struct json_object *);
void	rpc_read_stderr(struct rpc_call *, struct json_object *);
void	rpc_tail_stdout(struct rpc_call *, struct json_object *);
void	rpc_tail_stderr(struct rpc_call *, struct json_object *);
void	rpc_read_log(struct rpc_call *, struct json_object *);
void	rpc_clear_log(struct rpc_call *, struct json_object *);
void	rpc_start_process(struct rpc_call *, struct json_object *);
void	rpc_start_group(struct rpc_call *, struct json_object *);
void	rpc_start_all(struct rpc_call *, struct json_object *);
void	rpc_stop_process(struct rpc_call *, struct json_object *);
void	rpc_stop_group(struct rpc_call *, struct json_object *);
void	rpc_stop_all(struct rpc_call *, struct json_object *);
void	rpc_signal_process(struct rpc_call *, struct json_object *);
void	rpc_signal_group(struct rpc_call *, struct json_object *);
void	rpc_signal_all(struct rpc_call *, struct json_object *);
void	rpc_clear_process_logs(struct rpc_call *, struct json_object *);
void	rpc_clear_all_process_logs(struct rpc_call *, struct json_object *);
void	rpc_shutdown(struct rpc_call *, struct json_object *);
void	rpc_restart(struct rpc_call *, struct json_object *);
void	rpc_reload_config(struct rpc_call *, struct json_object *);
void	rpc_add_group(struct rpc_call *, struct json_object *);
void	rpc_remove_group(struct rpc_call *, struct json_object *);

/* Bounds of a log read: at most this many bytes per call. */
#define RPC_MAX_READ	(256 * 1024)

#endif
