/*
 * The control commands.  Each request becomes the same lifecycle, start-plan
 * and shutdown events that signals and host events use; waiting commands
 * keep a waiter that watches program state and replies once the programs
 * reached where they were sent.  Waiters name their programs rather than
 * point at them, so a reload may remove a program under a waiting client.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accounting.h"
#include "conf.h"
#include "control.h"
#include "depgraph.h"
#include "lifecycle.h"
#include "log.h"
#include "output.h"
#include "parse.h"
#include "platform.h"
#include "program.h"
#include "program-json.h"
#include "protocol.h"
#include "ready.h"
#include "requests.h"
#include "safeexitd.h"
#include "shutdown.h"
#include "startplan.h"
#include "xmalloc.h"

/* Append a string literal to a protocol_text. */
#define REQUESTS_TEXT(t, lit)	protocol_text_raw((t), (lit), sizeof(lit) - 1)

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.0.0"
#endif

enum wait_kind {
	WAIT_START,		/* until RUNNING or given up */
	WAIT_STOP,		/* until the stop run is done */
	WAIT_RESTART,		/* a stop run, then WAIT_START */
	WAIT_SHUTDOWN,		/* until the daemon has stopped everything */
};

struct waiter {
	struct control_conn *c;	/* NULL once the client is gone */
	enum wait_kind kind;
	strv_t names;		/* the programs to report */
	struct json_object *unknown;	/* names the request gave that do not exist */
	struct shutdown_run *run;
	bool held;		/* being set up: observers leave it alone */
	bool stop_over;		/* its stop run ended while it was held */
	struct waiter *next;
};

/* What a request asks besides its command and arguments. */
struct request_opts {
	bool wait;	/* "wait": answer when done, not at once (true) */
	bool usage;	/* "usage": status reads what programs use (true) */
};

struct request_cmd {
	const char *name;
	int min_args, max_args;	/* -1: no maximum */
	void (*fn)(struct control_conn *c, strv_t args,
	    const struct request_opts *opt);
};

static struct waiter *waiters;

static void cmd_status(struct control_conn *, strv_t,
    const struct request_opts *);
static void cmd_start(struct control_conn *, strv_t,
    const struct request_opts *);
static void cmd_stop(struct control_conn *, strv_t,
    const struct request_opts *);
static void cmd_restart(struct control_conn *, strv_t,
    const struct request_opts *);
static void cmd_signal(struct control_conn *, strv_t,
    const struct request_opts *);
static void cmd_reload(struct control_conn *, strv_t,
    const struct request_opts *);
static void cmd_shutdown(struct control_conn *, strv_t,
    const struct request_opts *);
static void cmd_pid(struct control_conn *, strv_t,
    const struct request_opts *);
static void cmd_version(struct control_conn *, strv_t,
    const struct request_opts *);
static void cmd_logfile(struct control_conn *, strv_t,
    const struct request_opts *);
static void cmd_reexec(struct control_conn *, strv_t,
    const struct request_opts *);
static void cmd_mainlog(struct control_conn *, strv_t,
    const struct request_opts *);
static void cmd_reread(struct control_conn *, strv_t,
    const struct request_opts *);
static void cmd_avail(struct control_conn *, strv_t,
    const struct request_opts *);
static void cmd_clear(struct control_conn *, strv_t,
    const struct request_opts *);

static const struct request_cmd commands[] = {
	{ "status", 0, -1, cmd_status },
	{ "start", 1, -1, cmd_start },
	{ "stop", 1, -1, cmd_stop },
	{ "restart", 1, -1, cmd_restart },
	{ "signal", 2, -1, cmd_signal },
	{ "reload", 0, 0, cmd_reload },
	{ "shutdown", 0, 0, cmd_shutdown },
	{ "pid", 0, 1, cmd_pid },
	{ "version", 0, 0, cmd_version },
	{ "logfile", 2, 2, cmd_logfile },
	{ "reexec", 0, 0, cmd_reexec },
	{ "mainlog", 0, 0, cmd_mainlog },
	{ "reread", 0, 0, cmd_reread },
	{ "avail", 0, 0, cmd_avail },
	{ "clear", 1, -1, cmd_clear },
};

static struct json_object *requests_error(const char *code, const char *msg);
static int requests_targets(strv_t args, struct proglist *l,
    struct json_object *reply);
static strv_t requests_names(const struct proglist *l);
static struct waiter *requests_wait(struct control_conn *c, enum wait_kind kind,
    const struct proglist *l, struct json_object *reply);
static void requests_run_stop(struct waiter *w, struct proglist *l);
static void requests_stop_next(struct waiter *w);
static void requests_start(struct waiter *w, struct program **v, size_t n);
static void requests_finish(struct waiter *w, struct json_object *reply);
static bool requests_started(const struct waiter *w);
static void requests_changed(struct program *p, enum program_state old, void *arg);
static void requests_stop_done(struct shutdown_run *run, void *arg);
static void requests_stop_progress(struct shutdown_run *run, void *arg);
static void requests_shutdown_done(void *arg);
static void requests_observe(void);
static struct json_object *requests_config_errors(struct config_errors *errs);

static bool observing;

/* An error reply. */
static struct json_object *
requests_error(const char *code, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "code", json_object_new_string(code));
	json_object_object_add(o, "error", json_object_new_string(msg));
	return o;
}

/* A success reply to fill in. */
static struct json_object *
requests_ok(void)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	return o;
}

/*
 * Add to l every process of the group a name stands for, as supervisorctl
 * takes it: "G:*" or "G:", or a bare "G" that is no process of its own.
 * Processes of a group are named "G:PROCESS".  Returns how many matched.
 */
static size_t
requests_group(const char *arg, struct proglist *l)
{
	size_t len = strlen(arg), n = 0;

	if (len >= 2 && strcmp(arg + len - 2, ":*") == 0)
		len -= 2;
	else if (len >= 1 && arg[len - 1] == ':')
		len--;
	if (len == 0)
		return 0;
	for (size_t j = 0; j < programs.n; j++) {
		const char *name = programs.v[j]->cfg->name;

		if (!programs.v[j]->removed && strncmp(name, arg, len) == 0 &&
		    name[len] == ':') {
			proglist_add(l, programs.v[j]);
			n++;
		}
	}
	return n;
}

/*
 * Resolve names, "all", or a group ("G:*", "G:", "G") into l; unknown
 * names go to reply's "unknown".  Returns the number of unknown names.
 */
static int
requests_targets(strv_t args, struct proglist *l, struct json_object *reply)
{
	struct json_object *unknown = json_object_new_array();
	int n = 0;

	for (size_t i = 0; args != NULL && args[i] != NULL; i++) {
		struct program *p;

		if (strcmp(args[i], "all") == 0) {
			for (size_t j = 0; j < programs.n; j++)
				if (!programs.v[j]->removed)
					proglist_add(l, programs.v[j]);
			continue;
		}
		if (((p = program_find(args[i])) == NULL || p->removed) &&
		    requests_group(args[i], l) > 0)
			continue;
		if (p == NULL || p->removed) {
			json_object_array_add(unknown, json_object_new_string(args[i]));
			n++;
			continue;
		}
		proglist_add(l, p);
	}
	json_object_object_add(reply, "unknown", unknown);
	return n;
}

/* The names of the programs of l. */
static strv_t
requests_names(const struct proglist *l)
{
	strv_t v;

	v = xcalloc(l->n + 1, sizeof *v);
	for (size_t i = 0; i < l->n; i++)
		v[i] = xstrdup(l->v[i]->cfg->name);
	return v;
}

/*
 * Register a waiter for the programs of l, keeping the "unknown" names of
 * reply (when given) for the final reply.  The waiter starts out held: the
 * caller sets off what it waits for, then lets go (requests_start and
 * requests_run_stop do both).
 */
static struct waiter *
requests_wait(struct control_conn *c, enum wait_kind kind, const struct proglist *l,
    struct json_object *reply)
{
	struct json_object *unknown;
	struct waiter *w;

	w = xcalloc(1, sizeof *w);
	w->c = c;
	w->kind = kind;
	w->names = requests_names(l);
	w->held = true;
	if (reply != NULL && json_object_object_get_ex(reply, "unknown", &unknown))
		w->unknown = json_object_get(unknown);
	w->next = waiters;
	waiters = w;
	requests_observe();
	return w;
}

/* Reply (when the client is still there) and drop the waiter. */
static void
requests_finish(struct waiter *w, struct json_object *reply)
{
	struct waiter **pp;

	for (pp = &waiters; *pp != NULL; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	if (w->c != NULL) {
		if (reply == NULL) {
			reply = requests_ok();
			json_object_object_add(reply, "programs",
			    program_json_list(w->names));
			if (w->unknown != NULL)
				json_object_object_add(reply, "unknown",
				    json_object_get(w->unknown));
		}
		control_reply(w->c, reply);
	} else if (reply != NULL)
		json_object_put(reply);
	json_object_put(w->unknown);
	strv_free(w->names);
	free(w);
}

/* Whether every program of a start waiter has got where it was going. */
static bool
requests_started(const struct waiter *w)
{
	for (size_t i = 0; w->names[i] != NULL; i++) {
		struct program *p = program_find(w->names[i]);

		if (p == NULL)
			continue;
		switch (p->state) {
		case STATE_RUNNING:
		case STATE_FATAL:
			continue;
		case STATE_STOPPED:
		case STATE_EXITED:
			if (!p->start_pending)
				continue;
			return false;
		case STATE_STARTING:
		case STATE_BACKOFF:
		case STATE_STOPPING:
			return false;
		}
	}
	return true;
}

/*
 * Start waiters look at every change; stop waiters hear from their run.
 * Changes nest (a start may set off others), so after each finished waiter
 * the walk begins again rather than trust a saved next pointer.
 */
static void
requests_changed(struct program *p, enum program_state old, void *arg)
{
	struct waiter *w;

again:
	for (w = waiters; w != NULL; w = w->next) {
		if (!w->held && w->kind == WAIT_START && requests_started(w)) {
			requests_finish(w, NULL);
			goto again;
		}
	}
}

/* Watch program changes once the first waiter exists. */
static void
requests_observe(void)
{
	if (!observing) {
		program_observe(requests_changed, NULL);
		observing = true;
	}
}

/*
 * Start the programs v and let go of the held start waiter w: it is
 * finished here if they got where they were going at once (start_secs = 0,
 * a failed exec, already running), else by requests_changed later.
 */
static void
requests_start(struct waiter *w, struct program **v, size_t n)
{
	w->held = true;
	startplan_start(v, n);
	w->held = false;
	if (requests_started(w))
		requests_finish(w, NULL);
}

/*
 * Set off the stop run of the held waiter w.  Should shutdown_start report
 * the end of the run before it returns, the run is gone by then: its pointer
 * is kept only while the run goes on.
 */
static void
requests_run_stop(struct waiter *w, struct proglist *l)
{
	struct shutdown_run *run;

	w->held = true;
	run = shutdown_start(l, STOP_REQUEST, daemon_config()->shutdown_timeout,
	    requests_stop_done, requests_stop_progress, w);
	w->held = false;
	if (w->stop_over)
		requests_stop_next(w);
	else
		w->run = run;
}

/* The stop half is over: reply, or go on to the start of a restart. */
static void
requests_stop_next(struct waiter *w)
{
	struct proglist l = { 0 };

	if (w->kind != WAIT_RESTART) {
		requests_finish(w, NULL);
		return;
	}
	for (size_t i = 0; w->names[i] != NULL; i++) {
		struct program *p = program_find(w->names[i]);

		if (p != NULL)
			proglist_add(&l, p);
	}
	w->kind = WAIT_START;
	requests_start(w, l.v, l.n);
	proglist_free(&l);
}

/* A stop run of a waiter is done; see requests_run_stop for a quick one. */
static void
requests_stop_done(struct shutdown_run *run, void *arg)
{
	struct waiter *w = arg;

	w->run = NULL;
	if (w->held) {
		w->stop_over = true;
		return;
	}
	requests_stop_next(w);
}

/* Tell a waiting client how far the stop has got. */
static void
requests_stop_progress(struct shutdown_run *run, void *arg)
{
	struct waiter *w = arg;
	struct shutdown_progress pr;
	struct json_object *o;

	if (w->c == NULL)
		return;
	shutdown_get_progress(run, &pr);
	o = json_object_new_object();
	json_object_object_add(o, "stage", json_object_new_int(pr.stage));
	json_object_object_add(o, "stages", json_object_new_int(pr.stages));
	json_object_object_add(o, "left", json_object_new_int(pr.left));
	json_object_object_add(o, "grace", json_object_new_double(pr.grace));
	control_progress(w->c, o);
}

/* The daemon stopped everything: answer `shutdown`. */
static void
requests_shutdown_done(void *arg)
{
	struct waiter *w = arg;
	struct proglist l = { 0 };

	for (size_t i = 0; i < programs.n; i++)
		proglist_add(&l, programs.v[i]);
	strv_free(w->names);
	w->names = requests_names(&l);
	proglist_free(&l);
	requests_finish(w, NULL);
}

/*
 * status [NAME...]: the reply is written as text (see
 * program_json_text), in the order and shape protocol_encode gives:
 * {"v":1,"ok":true,"unknown":[...],"daemon":{...},"programs":[...]}.
 */
static void
cmd_status(struct control_conn *c, strv_t args,
    const struct request_opts *opt)
{
	struct json_object *holder = json_object_new_object(), *unknown = NULL;
	struct protocol_text t = { 0 };
	struct proglist l = { 0 };

	if (args == NULL || args[0] == NULL) {
		for (size_t i = 0; i < programs.n; i++)
			if (!programs.v[i]->removed)
				proglist_add(&l, programs.v[i]);
	} else {
		requests_targets(args, &l, holder);
		json_object_object_get_ex(holder, "unknown", &unknown);
	}
	protocol_text_printf(&t, "{\"v\":%d,\"ok\":true,\"unknown\":[",
	    PROTOCOL_VERSION);
	for (size_t i = 0; unknown != NULL && i < json_object_array_length(unknown); i++) {
		if (i > 0)
			REQUESTS_TEXT(&t, ",");
		protocol_text_string(&t, json_object_get_string(
		    json_object_array_get_idx(unknown, i)));
	}
	protocol_text_printf(&t, "],\"daemon\":{\"pid\":%lld,\"version\":",
	    (long long)getpid());
	protocol_text_string(&t, PACKAGE_VERSION);
	REQUESTS_TEXT(&t, ",\"uptime\":");
	protocol_text_double(&t, daemon_uptime());
	REQUESTS_TEXT(&t, "},\"programs\":[");
	for (size_t i = 0; i < l.n; i++) {
		if (i > 0)
			REQUESTS_TEXT(&t, ",");
		program_json_text(&t, l.v[i], opt->usage);
	}
	REQUESTS_TEXT(&t, "]}\n");
	proglist_free(&l);
	json_object_put(holder);
	if (t.failed)
		control_reply(c, requests_error("failed", "out of memory"));
	else
		control_reply_frame(c, t.s, t.n);
	protocol_text_free(&t);
}

/* start NAME...|all: dependencies first; waits until RUNNING or FATAL. */
static void
cmd_start(struct control_conn *c, strv_t args,
    const struct request_opts *opt)
{
	struct json_object *reply = requests_ok();
	struct proglist l = { 0 };
	struct waiter *w;
	strv_t names;

	if (daemon_shutting_down()) {
		json_object_put(reply);
		control_reply(c, requests_error("failed", "the daemon is shutting down"));
		return;
	}
	requests_targets(args, &l, reply);
	if (!opt->wait) {
		names = requests_names(&l);
		startplan_start(l.v, l.n);
		json_object_object_add(reply, "programs", program_json_list(names));
		control_reply(c, reply);
		strv_free(names);
		proglist_free(&l);
		return;
	}
	w = requests_wait(c, WAIT_START, &l, reply);
	json_object_put(reply);
	requests_start(w, l.v, l.n);
	proglist_free(&l);
}

/* The targets of a stop: the named programs and what depends on them. */
static void
requests_with_dependents(struct proglist *named, struct proglist *all)
{
	depgraph_with_dependents_all(all, named);
}

/* stop NAME...|all: staged, dependents first. */
static void
cmd_stop(struct control_conn *c, strv_t args,
    const struct request_opts *opt)
{
	struct json_object *reply = requests_ok();
	struct proglist named = { 0 }, all = { 0 };
	struct waiter *w;
	strv_t names;

	requests_targets(args, &named, reply);
	requests_with_dependents(&named, &all);
	if (!opt->wait) {
		/* The run takes the list; the reply shows where it got at once. */
		names = requests_names(&all);
		shutdown_start(&all, STOP_REQUEST, daemon_config()->shutdown_timeout,
		    NULL, NULL, NULL);
		json_object_object_add(reply, "programs", program_json_list(names));
		control_reply(c, reply);
		strv_free(names);
		proglist_free(&named);
		proglist_free(&all);
		return;
	}
	w = requests_wait(c, WAIT_STOP, &all, reply);
	json_object_put(reply);
	requests_run_stop(w, &all);
	proglist_free(&named);
	proglist_free(&all);
}

/* restart NAME...|all: a staged stop, then a start with dependencies first. */
static void
cmd_restart(struct control_conn *c, strv_t args,
    const struct request_opts *opt)
{
	struct json_object *reply = requests_ok();
	struct proglist named = { 0 }, all = { 0 };
	struct waiter *w;
	strv_t names;

	if (daemon_shutting_down()) {
		json_object_put(reply);
		control_reply(c, requests_error("failed", "the daemon is shutting down"));
		return;
	}
	requests_targets(args, &named, reply);
	requests_with_dependents(&named, &all);
	if (!opt->wait) {
		/* Nobody waits, but the start half must still follow the stop. */
		names = requests_names(&all);
		w = requests_wait(NULL, WAIT_RESTART, &all, NULL);
		requests_run_stop(w, &all);
		json_object_object_add(reply, "programs", program_json_list(names));
		control_reply(c, reply);
		strv_free(names);
	} else {
		w = requests_wait(c, WAIT_RESTART, &all, reply);
		json_object_put(reply);
		requests_run_stop(w, &all);
	}
	proglist_free(&named);
	proglist_free(&all);
}

/* signal SIG NAME...|all */
static void
cmd_signal(struct control_conn *c, strv_t args,
    const struct request_opts *opt)
{
	struct json_object *reply, *failed, *list;
	struct proglist l = { 0 };
	const char *err;
	int sig;

	if (parse_signal(args[0], &sig, &err) == -1) {
		char msg[160];

		snprintf(msg, sizeof msg, "%s: %s", args[0], err);
		control_reply(c, requests_error("bad_args", msg));
		return;
	}
	reply = requests_ok();
	requests_targets(args + 1, &l, reply);
	failed = json_object_new_array();
	list = json_object_new_array();
	for (size_t i = 0; i < l.n; i++) {
		if (lifecycle_signal(l.v[i], sig) == -1)
			json_object_array_add(failed,
			    json_object_new_string(l.v[i]->cfg->name));
		else
			log_info("%s: sent signal %s", l.v[i]->cfg->name, args[0]);
		json_object_array_add(list, program_json(l.v[i]));
	}
	json_object_object_add(reply, "failed", failed);
	json_object_object_add(reply, "programs", list);
	proglist_free(&l);
	control_reply(c, reply);
}

/* reload: all or nothing. */
static void
cmd_reload(struct control_conn *c, strv_t args,
    const struct request_opts *opt)
{
	struct config_errors errs = { 0 };
	struct json_object *result = NULL;

	if (daemon_reload(&result, &errs) == -1) {
		control_reply(c, requests_config_errors(&errs));
		return;
	}
	json_object_object_add(result, "ok", json_object_new_boolean(1));
	control_reply(c, result);
}

/* The error reply of a config that does not load, every message in "errors". */
static struct json_object *
requests_config_errors(struct config_errors *errs)
{
	struct json_object *reply, *list;

	reply = requests_error("failed", "the config has errors; nothing changed");
	list = json_object_new_array();
	for (size_t i = 0; i < errs->n; i++)
		json_object_array_add(list, json_object_new_string(errs->msgs[i]));
	json_object_object_add(reply, "errors", list);
	config_errors_free(errs);
	return reply;
}

/* reread: what reload would change, changing nothing. */
static void
cmd_reread(struct control_conn *c, strv_t args,
    const struct request_opts *opt)
{
	struct config_errors errs = { 0 };
	struct json_object *result = NULL;

	if (daemon_reread(&result, &errs) == -1) {
		control_reply(c, requests_config_errors(&errs));
		return;
	}
	json_object_object_add(result, "ok", json_object_new_boolean(1));
	control_reply(c, result);
}

/* Order of avail, supervisorctl's: by process name, then by full name. */
static int
requests_avail_cmp(const void *a, const void *b)
{
	const struct program_config *x = (*(struct program *const *)a)->cfg;
	const struct program_config *y = (*(struct program *const *)b)->cfg;
	int r = strcmp(x->process_name != NULL ? x->process_name : x->name,
	    y->process_name != NULL ? y->process_name : y->name);

	return r != 0 ? r : strcmp(x->name, y->name);
}

/*
 * avail: every program of the running config with what supervisorctl's
 * avail shows.  Every program the daemon has is in use: there is no
 * configured program it holds back.
 */
static void
cmd_avail(struct control_conn *c, strv_t args,
    const struct request_opts *opt)
{
	struct json_object *reply = requests_ok(), *list = json_object_new_array();
	struct proglist l = { 0 };

	for (size_t i = 0; i < programs.n; i++)
		if (!programs.v[i]->removed)
			proglist_add(&l, programs.v[i]);
	if (l.n > 0)
		qsort(l.v, l.n, sizeof *l.v, requests_avail_cmp);
	for (size_t i = 0; i < l.n; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(l.v[i]->cfg->name));
		json_object_object_add(o, "in_use", json_object_new_boolean(1));
		json_object_object_add(o, "autostart",
		    json_object_new_boolean(l.v[i]->cfg->autostart));
		json_object_object_add(o, "priority",
		    json_object_new_int(l.v[i]->cfg->priority));
		json_object_array_add(list, o);
	}
	proglist_free(&l);
	json_object_object_add(reply, "programs", list);
	control_reply(c, reply);
}

/* Empty p's log files; -1 with err when it has none or they cannot be. */
static int
requests_clear_one(struct program *p, char *err, size_t errlen)
{
	const struct program_config *pc = p->cfg;

	if (pc->out.kind != OUTPUT_FILE && pc->err.kind != OUTPUT_FILE) {
		snprintf(err, errlen, "no log file: stdout goes to %s, stderr to %s",
		    output_kind_name(pc->out.kind), output_kind_name(pc->err.kind));
		return -1;
	}
	/* Its files are opened at its first start. */
	if (p->output == NULL) {
		snprintf(err, errlen, "its log files are not open: it has not "
		    "run since the daemon started");
		return -1;
	}
	return output_clear(p->output, err, errlen) == -1 ? -1 : 0;
}

/* clear NAME...|all|G:*: empty the programs' log files in place. */
static void
cmd_clear(struct control_conn *c, strv_t args,
    const struct request_opts *opt)
{
	struct json_object *reply = requests_ok(), *cleared, *failed;
	struct proglist l = { 0 };
	char err[512];

	requests_targets(args, &l, reply);
	cleared = json_object_new_array();
	failed = json_object_new_array();
	for (size_t i = 0; i < l.n; i++) {
		struct json_object *f;

		if (requests_clear_one(l.v[i], err, sizeof err) == 0) {
			log_info("%s: log files cleared", l.v[i]->cfg->name);
			json_object_array_add(cleared,
			    json_object_new_string(l.v[i]->cfg->name));
			continue;
		}
		f = json_object_new_object();
		json_object_object_add(f, "name", json_object_new_string(l.v[i]->cfg->name));
		json_object_object_add(f, "error", json_object_new_string(err));
		json_object_array_add(failed, f);
	}
	proglist_free(&l);
	json_object_object_add(reply, "cleared", cleared);
	json_object_object_add(reply, "failed", failed);
	control_reply(c, reply);
}

/* shutdown: staged stop of everything; reply just before the daemon exits. */
static void
cmd_shutdown(struct control_conn *c, strv_t args,
    const struct request_opts *opt)
{
	struct proglist none = { 0 };
	struct waiter *w;

	if (!opt->wait) {
		struct json_object *reply = requests_ok();

		json_object_object_add(reply, "programs", program_json_list(NULL));
		control_reply(c, reply);
		daemon_shutdown("shutdown request");
		return;
	}
	w = requests_wait(c, WAIT_SHUTDOWN, &none, NULL);
	w->held = false;
	daemon_on_stopped(requests_shutdown_done, w);
	daemon_shutdown("shutdown request");
}

/* pid [NAME] */
static void
cmd_pid(struct control_conn *c, strv_t args,
    const struct request_opts *opt)
{
	struct json_object *reply = requests_ok();
	struct program *p;

	if (args == NULL || args[0] == NULL) {
		json_object_object_add(reply, "pid", json_object_new_int64(getpid()));
	} else if ((p = program_find(args[0])) == NULL || p->removed) {
		struct json_object *unknown = json_object_new_array();

		json_object_array_add(unknown, json_object_new_string(args[0]));
		json_object_object_add(reply, "unknown", unknown);
		json_object_object_add(reply, "pid", NULL);
	} else
		json_object_object_add(reply, "pid", p->main_alive ?
		    json_object_new_int64(p->pid) : NULL);
	control_reply(c, reply);
}

/* version */
static void
cmd_version(struct control_conn *c, strv_t args,
    const struct request_opts *opt)
{
	struct json_object *reply = requests_ok();

	json_object_object_add(reply, "version", json_object_new_string(PACKAGE_VERSION));
	control_reply(c, reply);
}

/* logfile NAME stdout|stderr: where tail finds the program's output. */
static void
cmd_logfile(struct control_conn *c, strv_t args,
    const struct request_opts *opt)
{
	const struct output_config *oc;
	struct json_object *reply;
	struct program *p;

	if ((p = program_find(args[0])) == NULL || p->removed) {
		struct json_object *unknown = json_object_new_array();

		reply = requests_error("bad_args", "no such program");
		json_object_array_add(unknown, json_object_new_string(args[0]));
		json_object_object_add(reply, "unknown", unknown);
		control_reply(c, reply);
		return;
	}
	if (strcmp(args[1], "stdout") == 0)
		oc = &p->cfg->out;
	else if (strcmp(args[1], "stderr") == 0)
		oc = p->cfg->err.kind == OUTPUT_STDOUT ? &p->cfg->out : &p->cfg->err;
	else {
		control_reply(c, requests_error("bad_args", "stream must be stdout or stderr"));
		return;
	}
	if (oc->kind != OUTPUT_FILE) {
		char msg[128];

		snprintf(msg, sizeof msg, "%s of %s goes to %s, not to a file", args[1],
		    p->cfg->name, output_kind_name(oc->kind));
		control_reply(c, requests_error("bad_args", msg));
		return;
	}
	reply = requests_ok();
	json_object_object_add(reply, "path", json_object_new_string(oc->path));
	control_reply(c, reply);
}

/*
 * mainlog: the file the daemon's own log is written to, for maintail; or
 * where to look instead when it is not a file.
 */
static void
cmd_mainlog(struct control_conn *c, strv_t args,
    const struct request_opts *opt)
{
	const char *path = daemon_config()->log;
	struct json_object *reply;

	switch (log_get_target()) {
	case LOG_TARGET_FILE:
		if (path != NULL && path[0] == '/')
			break;
		/* FALLTHROUGH */
	case LOG_TARGET_STDERR:
		control_reply(c, requests_error("bad_args", "the daemon logs "
		    "to its standard error (the terminal or the service "
		    "manager that started it), not to a file"));
		return;
	case LOG_TARGET_SYSLOG:
		control_reply(c, requests_error("bad_args", "the daemon logs "
		    "to syslog as safeexitd, not to a file of its own: see "
		    "the system log"));
		return;
	case LOG_TARGET_SINK:
		control_reply(c, requests_error("bad_args", "the daemon logs "
		    "to the journal: journalctl -t safeexitd"));
		return;
	}
	reply = requests_ok();
	json_object_object_add(reply, "path", json_object_new_string(path));
	control_reply(c, reply);
}

void
requests_handle(struct control_conn *c, struct json_object *req)
{
	struct json_object *jargs = NULL, *jcmd = NULL, *jwait = NULL;
	const struct request_cmd *cmd = NULL;
	const char *name;
	strv_t args;
	size_t n = 0;
	struct request_opts opts = { .wait = true, .usage = true };

	json_object_object_get_ex(req, "cmd", &jcmd);
	json_object_object_get_ex(req, "args", &jargs);
	if (json_object_object_get_ex(req, "wait", &jwait))
		opts.wait = json_object_get_boolean(jwait);
	if (json_object_object_get_ex(req, "usage", &jwait))
		opts.usage = json_object_get_boolean(jwait);
	name = json_object_get_string(jcmd);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (name != NULL && strcmp(commands[i].name, name) == 0)
			cmd = &commands[i];
	if (cmd == NULL) {
		control_reply(c, requests_error("unknown_command", "unknown command"));
		return;
	}
	if (jargs != NULL)
		n = json_object_array_length(jargs);
	if ((int)n < cmd->min_args || (cmd->max_args >= 0 && (int)n > cmd->max_args)) {
		control_reply(c, requests_error("bad_args", "wrong number of arguments"));
		return;
	}
	args = xcalloc(n + 1, sizeof *args);
	for (size_t i = 0; i < n; i++)
		args[i] = xstrdup(json_object_get_string(
		    json_object_array_get_idx(jargs, i)));
	log_debug("request from uid %ld: %s", (long)control_conn_uid(c), cmd->name);
	cmd->fn(c, args, &opts);
	strv_free(args);
}

void
requests_cancel(struct control_conn *c)
{
	struct waiter *w, *next;

	for (w = waiters; w != NULL; w = next) {
		next = w->next;
		if (w->c != c)
			continue;
		w->c = NULL;
		switch (w->kind) {
		case WAIT_STOP:
			/* The stop goes on; nobody waits for its end. */
			if (w->run != NULL)
				shutdown_detach(w->run);
			requests_finish(w, NULL);
			break;
		case WAIT_SHUTDOWN:
			daemon_forget_on_stopped(w);
			requests_finish(w, NULL);
			break;
		case WAIT_START:
			requests_finish(w, NULL);
			break;
		case WAIT_RESTART:
			/* Kept: the start half of the restart must still happen. */
			break;
		}
	}
}

/* reexec: answer first (the exec closes the connection), then re-execute. */
static void
cmd_reexec(struct control_conn *c, strv_t args,
    const struct request_opts *opt)
{
	if (daemon_shutting_down()) {
		control_reply(c, requests_error("failed", "the daemon is shutting down"));
		return;
	}
	if (access("/proc/self/exe", X_OK) == -1) {
		control_reply(c, requests_error("failed", "cannot find the daemon's binary"));
		return;
	}
	control_reply(c, requests_ok());
	control_flush();
	if (daemon_reexec() == -1)
		log_warn("reexec");
}
