/*
 * The program table and its observers.  The table is a plain array in config
 * order; two hash indexes beside it answer the lookups made per request and
 * per reaped child (by name, by pid) in constant time, so that nothing done
 * once per program costs time proportional to the number of programs.
 *
 * The pid index is a cache checked on every hit: pids are set and cleared by
 * the lifecycle and the platform, not here, so an entry is added when a
 * program with a process changes state (every launch does) and trusted only
 * while the program still has that pid.  Stale entries are dropped by
 * rebuilding the index from the table when it is half full.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "platform.h"
#include "program.h"
#include "xmalloc.h"

struct program_table programs;

struct observer {
	program_observer_fn fn;
	void *arg;
};

/* Open addressing with linear probing; cap is a power of two, or 0. */
struct name_index {
	struct program **slot;
	size_t cap, n;
};

struct pid_entry {
	pid_t pid;		/* 0: free */
	bool stop_command;	/* pid runs the program's stop_command */
	struct program *p;
};

struct pid_index {
	struct pid_entry *slot;
	size_t cap, n;
	bool stale;		/* may point at a freed program: rebuild first */
};

static struct observer *observers;
static size_t n_observers;
static struct name_index by_name;
static struct pid_index by_pid;

static size_t program_name_hash(const char *name);
static void program_name_insert(struct program *p);
static void program_name_delete(const struct program *p);
static void program_name_grow(void);
static size_t program_pid_hash(pid_t pid, bool stop_command);
static void program_pid_insert(pid_t pid, bool stop_command, struct program *p);
static void program_pid_rebuild(void);
static struct program *program_pid_lookup(pid_t pid, bool stop_command);

static const char *const state_names[PROGRAM_STATE_COUNT] = {
	[STATE_STOPPED] = "STOPPED",
	[STATE_STARTING] = "STARTING",
	[STATE_RUNNING] = "RUNNING",
	[STATE_BACKOFF] = "BACKOFF",
	[STATE_STOPPING] = "STOPPING",
	[STATE_EXITED] = "EXITED",
	[STATE_FATAL] = "FATAL",
};

/* The name of a state, as safeexitctl(1) shows it. */
const char *
program_state_name(enum program_state s)
{
	if ((unsigned)s >= PROGRAM_STATE_COUNT)
		return "UNKNOWN";
	return state_names[s];
}

/* FNV-1a of a name: program names are short and chosen by people. */
static size_t
program_name_hash(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const unsigned char *s = (const unsigned char *)name; *s; s++) {
		h ^= *s;
		h *= 0x100000001b3ULL;
	}
	return (size_t)(h ^ (h >> 32));
}

/* Index p by its name (names are unique in the table). */
static void
program_name_insert(struct program *p)
{
	size_t i;

	if ((by_name.n + 1) * 2 > by_name.cap)
		program_name_grow();
	i = program_name_hash(p->cfg->name) & (by_name.cap - 1);
	while (by_name.slot[i] != NULL)
		i = (i + 1) & (by_name.cap - 1);
	by_name.slot[i] = p;
	by_name.n++;
}

/* Double the name index (at least 64 slots) and put every entry back. */
static void
program_name_grow(void)
{
	struct program **old = by_name.slot;
	size_t old_cap = by_name.cap;

	by_name.cap = old_cap ? old_cap * 2 : 64;
	by_name.slot = xcalloc(by_name.cap, sizeof *by_name.slot);
	by_name.n = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i] != NULL)
			program_name_insert(old[i]);
	free(old);
}

/*
 * Drop p from the name index, moving later entries of its probe run back so
 * that no lookup stops early at the hole (no tombstones needed).
 */
static void
program_name_delete(const struct program *p)
{
	size_t mask = by_name.cap - 1, i, j;

	if (by_name.cap == 0)
		return;
	for (i = program_name_hash(p->cfg->name) & mask; by_name.slot[i] != p;
	    i = (i + 1) & mask)
		if (by_name.slot[i] == NULL)
			return;
	by_name.slot[i] = NULL;
	by_name.n--;
	for (j = (i + 1) & mask; by_name.slot[j] != NULL; j = (j + 1) & mask) {
		size_t home = program_name_hash(by_name.slot[j]->cfg->name) & mask;

		/* Move back unless its home lies cyclically in (i, j]. */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && home <= i && home > j)) {
			by_name.slot[i] = by_name.slot[j];
			by_name.slot[j] = NULL;
			i = j;
		}
	}
}

/* The program called name, or NULL. */
struct program *
program_find(const char *name)
{
	size_t mask = by_name.cap - 1;

	if (by_name.cap == 0)
		return NULL;
	for (size_t i = program_name_hash(name) & mask; by_name.slot[i] != NULL;
	    i = (i + 1) & mask)
		if (strcmp(by_name.slot[i]->cfg->name, name) == 0)
			return by_name.slot[i];
	return NULL;
}

/* Where a pid (of a main process or of a stop_command) starts its probe. */
static size_t
program_pid_hash(pid_t pid, bool stop_command)
{
	return ((size_t)pid * 2654435761U) ^ (size_t)stop_command;
}

/* Map pid to p, replacing what an earlier process of that pid left. */
static void
program_pid_insert(pid_t pid, bool stop_command, struct program *p)
{
	size_t mask, i;

	if (by_pid.stale || (by_pid.n + 1) * 2 > by_pid.cap)
		program_pid_rebuild();
	mask = by_pid.cap - 1;
	for (i = program_pid_hash(pid, stop_command) & mask; by_pid.slot[i].pid != 0;
	    i = (i + 1) & mask)
		if (by_pid.slot[i].pid == pid &&
		    by_pid.slot[i].stop_command == stop_command) {
			by_pid.slot[i].p = p;
			return;
		}
	by_pid.slot[i].pid = pid;
	by_pid.slot[i].stop_command = stop_command;
	by_pid.slot[i].p = p;
	by_pid.n++;
}

/*
 * Build the pid index afresh from the table: the only way entries leave it.
 * It gets at least four slots per live pid and one per program, so the next
 * rebuild comes after at least half as many launches as there are
 * programs: a constant cost per launch.
 */
static void
program_pid_rebuild(void)
{
	size_t live = 0, want = 64;

	for (size_t i = 0; i < programs.n; i++) {
		const struct program *p = programs.v[i];

		live += (p->main_alive && p->pid > 0) + (p->stop_command_pid > 0);
	}
	while (want < live * 4 || want < programs.n)
		want *= 2;
	free(by_pid.slot);
	by_pid.slot = xcalloc(want, sizeof *by_pid.slot);
	by_pid.cap = want;
	by_pid.n = 0;
	by_pid.stale = false;
	for (size_t i = 0; i < programs.n; i++)
		program_index_pids(programs.v[i]);
}

/* Index the processes p has now: whoever sets a pid of p calls this. */
void
program_index_pids(struct program *p)
{
	if (p->pid > 0)
		program_pid_insert(p->pid, false, p);
	if (p->stop_command_pid > 0)
		program_pid_insert(p->stop_command_pid, true, p);
}

/* The indexed program for pid, or NULL; a stale entry does not count. */
static struct program *
program_pid_lookup(pid_t pid, bool stop_command)
{
	size_t mask;

	if (by_pid.stale)
		program_pid_rebuild();
	if (by_pid.cap == 0 || pid <= 0)
		return NULL;
	mask = by_pid.cap - 1;
	for (size_t i = program_pid_hash(pid, stop_command) & mask;
	    by_pid.slot[i].pid != 0; i = (i + 1) & mask)
		if (by_pid.slot[i].pid == pid &&
		    by_pid.slot[i].stop_command == stop_command)
			return by_pid.slot[i].p;
	return NULL;
}

/* The program whose main process is pid, or NULL. */
struct program *
program_find_pid(pid_t pid)
{
	struct program *p = program_pid_lookup(pid, false);

	if (p != NULL && p->pid == pid && p->main_alive)
		return p;
	return NULL;
}

/* The program whose stop_command runs as pid, or NULL. */
struct program *
program_find_stop_command(pid_t pid)
{
	struct program *p = program_pid_lookup(pid, true);

	if (p != NULL && p->stop_command_pid == pid)
		return p;
	return NULL;
}

/* Append a stopped program for cfg, which it owns from now on. */
struct program *
program_add(struct program_config *cfg)
{
	struct program *p, **v;

	p = xcalloc(1, sizeof *p);
	v = xreallocarray(programs.v, programs.n + 1, sizeof *v);
	p->cfg = cfg;
	p->state = STATE_STOPPED;
	p->spawn_status_fd = -1;
	p->stop_status_fd = -1;
	p->watch_fd = -1;
	p->reap_fd = -1;
	programs.v = v;
	programs.v[programs.n++] = p;
	program_name_insert(p);
	return p;
}

/* Take p out of the table and free it and its config. */
void
program_remove(struct program *p)
{
	/* From the end: the daemon removes every program, last first, at exit. */
	for (size_t i = programs.n; i-- > 0;) {
		if (programs.v[i] != p)
			continue;
		memmove(&programs.v[i], &programs.v[i + 1],
		    (programs.n - i - 1) * sizeof *programs.v);
		programs.n--;
		break;
	}
	program_name_delete(p);
	/* Its old pids may still be indexed: rebuild before the next use. */
	by_pid.stale = true;
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

	v = xreallocarray(observers, n_observers + 1, sizeof *v);
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
	snap = xmalloc(n * sizeof *snap);
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
