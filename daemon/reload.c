/*
 * Applying a validated config to the running program table.
 */
#include <event2/event.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "depgraph.h"
#include "lifecycle.h"
#include "log.h"
#include "platform.h"
#include "program.h"
#include "reload.h"
#include "shutdown.h"
#include "startplan.h"

static struct event_base *reload_base;

static void reload_changed(struct program *p, enum program_state old, void *arg);
static void reload_swap(struct program *p);
static void reload_revive(struct program *p, struct program_config *pc);
static void reload_remove_cb(evutil_socket_t fd, short what, void *arg);

void
reload_init(struct event_base *base)
{
	reload_base = base;
	program_observe(reload_changed, NULL);
}

/* Take the new settings; start again if the program ran before. */
static void
reload_swap(struct program *p)
{
	bool start = p->start_after_swap;

	log_info("%s: taking its new settings", p->cfg->name);
	platform_program_reconfigure(p);
	program_config_free(p->cfg);
	p->cfg = p->next_cfg;
	p->next_cfg = NULL;
	p->start_after_swap = false;
	p->failed_starts = 0;
	p->error[0] = '\0';
	if (start)
		startplan_start(&p, 1);
}

/*
 * A program still on its way out of the table is back in the config: keep it
 * under its name (one process per name) and give it the new settings once
 * it has stopped, as for a changed program.
 */
static void
reload_revive(struct program *p, struct program_config *pc)
{
	log_info("%s: back in the config", p->cfg->name);
	p->removed = false;
	program_config_free(p->next_cfg);
	p->next_cfg = pc;
	p->start_after_swap = pc->autostart;
	if (!program_is_active(p))
		reload_swap(p);
}

/* Removal waits for the loop: observers of this change still hold p. */
static void
reload_remove_cb(evutil_socket_t fd, short what, void *arg)
{
	struct program *p = arg;

	if (!p->removed || program_is_active(p)) {
		p->remove_scheduled = false;
		return;		/* back in the config, or started again meanwhile */
	}
	log_info("%s: removed", p->cfg->name);
	shutdown_forget(p);
	program_remove(p);
}

/* A program stopped: finish its pending swap or removal. */
static void
reload_changed(struct program *p, enum program_state old, void *arg)
{
	static const struct timeval now = { 0, 0 };

	if (program_is_active(p))
		return;
	if (p->removed && !p->remove_scheduled) {
		p->remove_scheduled = true;
		if (event_base_once(reload_base, -1, EV_TIMEOUT, reload_remove_cb, p,
		    &now) == -1)
			fatalx("%s: event_base_once", __func__);
	} else if (p->next_cfg != NULL)
		reload_swap(p);
}

/*
 * What reload_apply would do with newcfg, changing nothing: the same
 * matching by name and fingerprint, so reread and reload agree.
 */
void
reload_diff(const struct config *newcfg, struct json_object *result)
{
	struct json_object *added = json_object_new_array();
	struct json_object *removed = json_object_new_array();
	struct json_object *changed = json_object_new_array();
	struct json_object *unchanged = json_object_new_array();

	for (size_t i = 0; i < programs.n; i++) {
		const struct program *p = programs.v[i];
		const struct program_config *pc = NULL;

		if (p->removed)
			continue;
		for (size_t j = 0; j < newcfg->n_programs && pc == NULL; j++)
			if (newcfg->programs[j] != NULL &&
			    strcmp(newcfg->programs[j]->name, p->cfg->name) == 0)
				pc = newcfg->programs[j];
		if (pc == NULL)
			json_object_array_add(removed, json_object_new_string(p->cfg->name));
		else if (strcmp(pc->fingerprint, p->cfg->fingerprint) == 0 &&
		    p->next_cfg == NULL)
			json_object_array_add(unchanged, json_object_new_string(pc->name));
		else
			json_object_array_add(changed, json_object_new_string(pc->name));
	}
	for (size_t j = 0; j < newcfg->n_programs; j++) {
		const struct program_config *pc = newcfg->programs[j];
		const struct program *p;

		if (pc == NULL)
			continue;
		if ((p = program_find(pc->name)) == NULL || p->removed)
			json_object_array_add(added, json_object_new_string(pc->name));
	}
	json_object_object_add(result, "added", added);
	json_object_object_add(result, "removed", removed);
	json_object_object_add(result, "changed", changed);
	json_object_object_add(result, "unchanged", unchanged);
}

void
reload_apply(struct config *newcfg, double stop_timeout, struct json_object *result)
{
	struct json_object *added = json_object_new_array();
	struct json_object *removed = json_object_new_array();
	struct json_object *changed = json_object_new_array();
	struct json_object *unchanged = json_object_new_array();
	struct proglist to_stop = { 0 }, to_start = { 0 };
	size_t n_old = programs.n;

	for (size_t i = 0; i < n_old; i++) {
		struct program *p = programs.v[i];
		struct program_config *pc = NULL;
		size_t j;

		for (j = 0; j < newcfg->n_programs; j++)
			if (newcfg->programs[j] != NULL &&
			    strcmp(newcfg->programs[j]->name, p->cfg->name) == 0) {
				pc = newcfg->programs[j];
				break;
			}
		if (p->removed)
			continue;
		if (pc == NULL) {
			json_object_array_add(removed, json_object_new_string(p->cfg->name));
			p->removed = true;
			if (program_is_active(p))
				proglist_add(&to_stop, p);
			else
				reload_changed(p, p->state, NULL);
			continue;
		}
		if (strcmp(pc->fingerprint, p->cfg->fingerprint) == 0 &&
		    p->next_cfg == NULL) {
			json_object_array_add(unchanged, json_object_new_string(pc->name));
			continue;
		}
		json_object_array_add(changed, json_object_new_string(pc->name));
		newcfg->programs[j] = NULL;
		program_config_free(p->next_cfg);
		p->next_cfg = pc;
		p->start_after_swap = program_is_active(p) || p->start_after_swap ||
		    (pc->autostart && !p->cfg->autostart);
		if (program_is_active(p))
			proglist_add(&to_stop, p);
		else
			reload_swap(p);
	}
	for (size_t j = 0; j < newcfg->n_programs; j++) {
		struct program_config *pc = newcfg->programs[j];
		struct program *p;

		if (pc == NULL)
			continue;
		if ((p = program_find(pc->name)) != NULL && !p->removed)
			continue;	/* unchanged: the running settings stay */
		newcfg->programs[j] = NULL;
		json_object_array_add(added, json_object_new_string(pc->name));
		if (p != NULL) {
			reload_revive(p, pc);
			continue;
		}
		p = program_add(pc);
		if (pc->autostart)
			proglist_add(&to_start, p);
	}
	if (to_stop.n > 0)
		shutdown_start(&to_stop, STOP_RELOAD, stop_timeout, NULL, NULL, NULL);
	startplan_start(to_start.v, to_start.n);
	proglist_free(&to_start);
	proglist_free(&to_stop);
	json_object_object_add(result, "added", added);
	json_object_object_add(result, "removed", removed);
	json_object_object_add(result, "changed", changed);
	json_object_object_add(result, "unchanged", unchanged);
}
