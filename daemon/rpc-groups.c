/*
 * supervisord's XML-RPC methods about the config's groups: reloadConfig
 * (what reread finds, as group names), addProcessGroup and
 * removeProcessGroup.  The daemon applies a config file whole (reload.c),
 * never one group of it, so these run its reload and keep track of what
 * supervisorctl's update expects next (docs/MIGRATION.md).
 */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "program.h"
#include "rpc.h"
#include "xmalloc.h"

/*
 * Groups that removeProcessGroup set aside while the config still has
 * them, and groups a reload run from here added: addProcessGroup takes
 * either without ALREADY_ADDED, as supervisorctl's update expects.
 */
struct rpc_mark {
	char *group;
	bool removed;		/* set aside: start its autostart processes */
};
static struct rpc_mark *marks;
static size_t n_marks;

static void rpc_groups_of(struct json_object *names, struct json_object *set);
static int rpc_cmp_json_str(const void *a, const void *b);
static void rpc_reread_done(struct rpc_call *rc, struct json_object *reply);
static struct rpc_mark *rpc_mark_find(const char *group);
static void rpc_mark_set(const char *group, bool removed);
static void rpc_mark_clear(const char *group);
static void rpc_mark_added(struct json_object *reply, const char *except);
static void rpc_remove_done(struct rpc_call *rc, struct json_object *reply);
static void rpc_add_done(struct rpc_call *rc, struct json_object *reply);
static void rpc_add_reread_done(struct rpc_call *rc,
    struct json_object *reply);

/* Add the group of each program name in names to the object set. */
static void
rpc_groups_of(struct json_object *names, struct json_object *set)
{
	for (size_t i = 0; names != NULL && i < json_object_array_length(names);
	    i++) {
		const char *n = json_object_get_string(
		    json_object_array_get_idx(names, i));
		const char *colon = strchr(n, ':');
		char g[256];

		snprintf(g, sizeof g, "%.*s", colon != NULL ? (int)(colon - n) :
		    (int)strlen(n), n);
		json_object_object_add(set, g, NULL);
	}
}

/* Sort strings in a json array. */
static int
rpc_cmp_json_str(const void *a, const void *b)
{
	return strcmp(json_object_get_string(*(struct json_object *const *)a),
	    json_object_get_string(*(struct json_object *const *)b));
}

/*
 * supervisor.reloadConfig: [[added, changed, removed]] group names, what
 * the config file now says against what runs; nothing changes yet.
 */
void
rpc_reload_config(struct rpc_call *rc, struct json_object *params)
{
	(void)params;
	if (!rpc_shutting_down(rc))
		rpc_command(rc, rpc_request("reread", NULL, true), rpc_reread_done);
}

/* The reread reply: program names to group names. */
static void
rpc_reread_done(struct rpc_call *rc, struct json_object *reply)
{
	struct json_object *added, *removed, *changed, *unchanged, *errs;
	struct json_object *newg = json_object_new_object();
	struct json_object *touched = json_object_new_object();
	struct json_object *out[3], *all, *inner;
	struct program **v;
	size_t n;

	if (!rpc_reply_ok(reply)) {
		struct { char b[2048]; } m = { "" };

		if (json_object_object_get_ex(reply, "errors", &errs))
			for (size_t i = 0; i < json_object_array_length(errs); i++)
				snprintf(m.b + strlen(m.b), sizeof m.b - strlen(m.b),
				    "%s%s", i ? "; " : "", json_object_get_string(
				    json_object_array_get_idx(errs, i)));
		json_object_put(newg);
		json_object_put(touched);
		rpc_fault(rc, FAULT_CANT_REREAD, m.b);
		return;
	}
	json_object_object_get_ex(reply, "added", &added);
	json_object_object_get_ex(reply, "removed", &removed);
	json_object_object_get_ex(reply, "changed", &changed);
	json_object_object_get_ex(reply, "unchanged", &unchanged);
	rpc_groups_of(added, newg);
	rpc_groups_of(changed, newg);
	rpc_groups_of(unchanged, newg);
	rpc_groups_of(added, touched);
	rpc_groups_of(removed, touched);
	rpc_groups_of(changed, touched);
	for (int i = 0; i < 3; i++)
		out[i] = json_object_new_array();
	json_object_object_foreach(newg, g, unused) {
		(void)unused;
		if (!rpc_group_exists(g))
			json_object_array_add(out[0], json_object_new_string(g));
		else if (json_object_object_get_ex(touched, g, NULL))
			json_object_array_add(out[1], json_object_new_string(g));
	}
	n = rpc_programs(NULL, true, &v);
	for (size_t i = 0; i < n; i++) {
		const char *grp = rpc_group(v[i]);

		if (!json_object_object_get_ex(newg, grp, NULL) &&
		    (json_object_array_length(out[2]) == 0 ||
		    strcmp(json_object_get_string(json_object_array_get_idx(out[2],
		    json_object_array_length(out[2]) - 1)), grp) != 0))
			json_object_array_add(out[2], json_object_new_string(grp));
	}
	free(v);
	inner = json_object_new_array();
	for (int i = 0; i < 3; i++) {
		json_object_array_sort(out[i], rpc_cmp_json_str);
		json_object_array_add(inner, out[i]);
	}
	all = json_object_new_array();
	json_object_array_add(all, inner);
	json_object_put(newg);
	json_object_put(touched);
	rpc_return(rc, all);
}

/* The mark of group, or NULL. */
static struct rpc_mark *
rpc_mark_find(const char *group)
{
	for (size_t i = 0; i < n_marks; i++)
		if (strcmp(marks[i].group, group) == 0)
			return &marks[i];
	return NULL;
}

/* Mark group (set aside, or added by a reload run from here). */
static void
rpc_mark_set(const char *group, bool removed)
{
	struct rpc_mark *m = rpc_mark_find(group);

	if (m == NULL) {
		marks = xreallocarray(marks, n_marks + 1, sizeof *marks);
		m = &marks[n_marks++];
		m->group = xstrdup(group);
	}
	m->removed = removed;
}

/* Forget group's mark. */
static void
rpc_mark_clear(const char *group)
{
	struct rpc_mark *m = rpc_mark_find(group);

	if (m == NULL)
		return;
	free(m->group);
	*m = marks[--n_marks];
}

/* Mark every group a reload added: addProcessGroup of it is fine. */
static void
rpc_mark_added(struct json_object *reply, const char *except)
{
	struct json_object *added, *set = json_object_new_object();

	if (json_object_object_get_ex(reply, "added", &added))
		rpc_groups_of(added, set);
	json_object_object_foreach(set, g, unused) {
		(void)unused;
		if (strcmp(g, except) != 0)
			rpc_mark_set(g, false);
	}
	json_object_put(set);
}

/*
 * supervisor.removeProcessGroup(name): the group must be stopped.  The
 * daemon applies its config file whole (reload), so a group the file no
 * longer has leaves; one it still has stays, stopped, set aside until
 * addProcessGroup.
 */
void
rpc_remove_group(struct rpc_call *rc, struct json_object *params)
{
	const char *name = rpc_param_string(rc, params, 0);
	struct program **v;
	size_t n;

	if (name == NULL || rpc_shutting_down(rc))
		return;
	if (!rpc_group_exists(name)) {
		rpc_fault(rc, FAULT_BAD_NAME, name);
		return;
	}
	n = rpc_programs(name, false, &v);
	for (size_t i = 0; i < n; i++)
		if (!rpc_is_stopped(v[i])) {
			free(v);
			rpc_fault(rc, FAULT_STILL_RUNNING, name);
			return;
		}
	free(v);
	*rpc_state(rc) = json_object_new_string(name);
	rpc_command(rc, rpc_request("reload", NULL, true), rpc_remove_done);
}

/* The reload of removeProcessGroup ran. */
static void
rpc_remove_done(struct rpc_call *rc, struct json_object *reply)
{
	const char *name = json_object_get_string(*rpc_state(rc));
	struct json_object *e;

	if (!rpc_reply_ok(reply)) {
		json_object_object_get_ex(reply, "error", &e);
		rpc_fault(rc, FAULT_FAILED, json_object_get_string(e));
		return;
	}
	rpc_mark_added(reply, name);
	if (rpc_group_exists(name))
		rpc_mark_set(name, true);
	else
		rpc_mark_clear(name);
	rpc_return(rc, json_object_new_boolean(1));
}

/*
 * supervisor.addProcessGroup(name): apply the config file (reload), which
 * starts a new group's autostart processes; a group set aside by
 * removeProcessGroup gets its autostart processes started.
 */
void
rpc_add_group(struct rpc_call *rc, struct json_object *params)
{
	const char *name = rpc_param_string(rc, params, 0);
	struct rpc_mark *m;
	struct json_object *st;

	if (name == NULL || rpc_shutting_down(rc))
		return;
	m = rpc_mark_find(name);
	if (rpc_group_exists(name) && m == NULL) {
		rpc_fault(rc, FAULT_ALREADY_ADDED, name);
		return;
	}
	if (m != NULL && !m->removed && rpc_group_exists(name)) {
		rpc_mark_clear(name);	/* added by an earlier reload */
		rpc_return(rc, json_object_new_boolean(1));
		return;
	}
	st = json_object_new_object();
	json_object_object_add(st, "name", json_object_new_string(name));
	json_object_object_add(st, "removed",
	    json_object_new_boolean(m != NULL && m->removed));
	*rpc_state(rc) = st;
	/* A name the file does not have changes nothing: ask before. */
	rpc_command(rc, rpc_request("reread", NULL, true), rpc_add_reread_done);
}

/* What the file holds came: a group of it is applied, any other refused. */
static void
rpc_add_reread_done(struct rpc_call *rc, struct json_object *reply)
{
	struct json_object *set, *v, *name;
	static const char *const kinds[] = { "added", "changed", "unchanged" };
	bool known;

	if (!rpc_reply_ok(reply)) {
		rpc_reread_done(rc, reply);	/* CANT_REREAD with the errors */
		return;
	}
	set = json_object_new_object();
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (json_object_object_get_ex(reply, kinds[i], &v))
			rpc_groups_of(v, set);
	json_object_object_get_ex(*rpc_state(rc), "name", &name);
	known = json_object_object_get_ex(set, json_object_get_string(name),
	    NULL);
	json_object_put(set);
	if (!known) {
		rpc_fault(rc, FAULT_BAD_NAME, json_object_get_string(name));
		return;
	}
	rpc_command(rc, rpc_request("reload", NULL, true), rpc_add_done);
}

/* The reload of addProcessGroup ran. */
static void
rpc_add_done(struct rpc_call *rc, struct json_object *reply)
{
	struct json_object *st = *rpc_state(rc), *v, *args;
	const char *name;
	struct program **p;
	size_t n;
	bool removed;

	json_object_object_get_ex(st, "name", &v);
	name = json_object_get_string(v);
	json_object_object_get_ex(st, "removed", &v);
	removed = json_object_get_boolean(v);
	if (!rpc_reply_ok(reply)) {
		json_object_object_get_ex(reply, "error", &v);
		rpc_fault(rc, FAULT_FAILED, json_object_get_string(v));
		return;
	}
	rpc_mark_added(reply, name);
	rpc_mark_clear(name);
	if (!rpc_group_exists(name)) {
		rpc_fault(rc, FAULT_BAD_NAME, name);
		return;
	}
	args = json_object_new_array();
	n = rpc_programs(name, false, &p);
	for (size_t i = 0; removed && i < n; i++)
		if (p[i]->cfg->autostart && !rpc_is_running(p[i]))
			json_object_array_add(args,
			    json_object_new_string(p[i]->cfg->name));
	free(p);
	if (json_object_array_length(args) == 0) {
		json_object_put(args);
		rpc_return(rc, json_object_new_boolean(1));
		return;
	}
	rpc_command(rc, rpc_request("start", args, false), rpc_simple_done);
}
