/*
 * The program table and its observers.  The table is a plain array: lookups
 * by name or pid are linear, which stays cheap well past the thousands of
 * programs a supervisor runs and keeps the state in one obvious place.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "platform.h"
#include "program.h"

struct program_table programs;

struct observer {
	program_observer_fn fn;
	void *arg;
};

static struct observer *observers;
static size_t n_observers;

static const char *const state_names[PROGRAM_STATE_COUNT] = {
	[STATE_STOPPED] = "STOPPED",
	[STATE_STARTING] = "STARTING",
	[STATE_RUNNING] = "RUNNING",
	[STATE_BACKOFF] = "BACKOFF",
	[STATE_STOPPING] = "STOPPING",
	[STATE_EXITED] = "EXITED",
	[STATE_FATAL] = "FATAL",
};

/* The SPEC name of a state. */
const char *
program_state_name(enum program_state s)
{
	if ((unsigned)s >= PROGRAM_STATE_COUNT)
		return "UNKNOWN";
	return state_names[s];
}

/* The program called name, or NULL. */
struct program *
program_find(const char *name)
{
	for (size_t i = 0; i < programs.n; i++)
		if (strcmp(programs.v[i]->cfg->name, name) == 0)
			return programs.v[i];
	return NULL;
}

/* The program whose main process is pid, or NULL. */
struct program *
program_find_pid(pid_t pid)
{
	for (size_t i = 0; i < programs.n; i++)
		if (programs.v[i]->pid == pid && programs.v[i]->main_alive)
			return programs.v[i];
	return NULL;
}

/* The program whose stop_command runs as pid, or NULL. */
struct program *
program_find_stop_command(pid_t pid)
{
	for (size_t i = 0; i < programs.n; i++)
		if (programs.v[i]->stop_command_pid == pid)
			return programs.v[i];
	return NULL;
}

/* Append a stopped program for cfg, which it owns from now on. */
struct program *
program_add(struct program_config *cfg)
{
	struct program *p, **v;

	if ((p = calloc(1, sizeof *p)) == NULL)
		fatal("%s", __func__);
	if ((v = realloc(programs.v, (programs.n + 1) * sizeof *v)) == NULL)
		fatal("%s", __func__);
	p->cfg = cfg;
	p->state = STATE_STOPPED;
	p->spawn_status_fd = -1;
	p->stop_status_fd = -1;
	p->watch_fd = -1;
	programs.v = v;
	programs.v[programs.n++] = p;
	return p;
}

/* Take p out of the table and free it and its config. */
void
program_remove(struct program *p)
{
	for (size_t i = 0; i < programs.n; i++) {
		if (programs.v[i] != p)
			continue;
		memmove(&programs.v[i], &programs.v[i + 1],
		    (programs.n - i - 1) * sizeof *programs.v);
		programs.n--;
		break;
	}
	platform_program_release(p);
	program_config_free(p->cfg);
	program_config_free(p->next_cfg);
	free(p);
}

/* Call fn(p, old, arg) after every state change from now on. */
void
program_observe(program_observer_fn fn, void *arg)
{
	struct observer *v;

	if ((v = realloc(observers, (n_observers + 1) * sizeof *v)) == NULL)
		fatal("%s", __func__);
	observers = v;
	observers[n_observers].fn = fn;
	observers[n_observers].arg = arg;
	n_observers++;
}

/* Stop calling fn with arg. */
void
program_unobserve(program_observer_fn fn, void *arg)
{
	for (size_t i = 0; i < n_observers; i++) {
		if (observers[i].fn != fn || observers[i].arg != arg)
			continue;
		memmove(&observers[i], &observers[i + 1],
		    (n_observers - i - 1) * sizeof *observers);
		n_observers--;
		return;
	}
}

/*
 * Tell every observer about a change.  Observers may add or remove observers
 * (a finished waiter removes itself), so walk a snapshot.
 */
void
program_notify(struct program *p, enum program_state old)
{
	size_t n = n_observers;
	struct observer *snap;

	if (n == 0)
		return;
	if ((snap = malloc(n * sizeof *snap)) == NULL)
		fatal("%s", __func__);
	memcpy(snap, observers, n * sizeof *snap);
	for (size_t i = 0; i < n; i++) {
		bool still = false;

		for (size_t j = 0; j < n_observers; j++)
			if (observers[j].fn == snap[i].fn && observers[j].arg == snap[i].arg)
				still = true;
		if (still)
			snap[i].fn(p, old, snap[i].arg);
	}
	free(snap);
}

/* Whether the program may still have a process: not yet fully stopped. */
bool
program_is_active(const struct program *p)
{
	return p->main_alive || p->state == STATE_STARTING ||
	    p->state == STATE_RUNNING || p->state == STATE_STOPPING;
}
