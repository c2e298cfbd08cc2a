/*
 * The planners against a small program table: the stop stages of
 * depgraph_stop_stages (chains, diamonds, independent priorities, mixed
 * graphs), the dependents and dependencies closures, and the start planner
 * driving the lifecycle with a fake clock and fake processes.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "depgraph.h"
#include "lifecycle.h"
#include "log.h"
#include "parse.h"
#include "startplan.h"
#include "tap.h"

#define MAX_SPAWNS 32

static double fake_now;
static pid_t next_pid;
static const char *spawned[MAX_SPAWNS];
static int n_spawned;

static double fake_clock(void) { return fake_now; }

/* Record the launch order by name. */
static int
fake_spawn(struct program *p)
{
	if (n_spawned < MAX_SPAWNS)
		spawned[n_spawned++] = p->cfg->name;
	p->pid = next_pid++;
	return 0;
}

static int fake_kill(struct program *p, int sig) { return 0; }
static bool fake_group_alive(struct program *p) { return false; }
static int fake_stop_command(struct program *p) { return -1; }
static void fake_arm(struct program *p, double at) { }

static const struct lifecycle_ops fake_ops = {
	.now = fake_clock,
	.spawn = fake_spawn,
	.kill = fake_kill,
	.kill_and_wake = fake_kill,
	.group_alive = fake_group_alive,
	.run_stop_command = fake_stop_command,
	.arm = fake_arm,
};

/* Empty the table and the record of launches. */
static void
reset(void)
{
	while (programs.n > 0)
		program_remove(programs.v[programs.n - 1]);
	fake_now = 1000;
	next_pid = 100;
	n_spawned = 0;
	lifecycle_init(&fake_ops);
}

/* Add a program with a priority and a depends_on list ("" for none). */
static struct program *
add(const char *name, int priority, const char *depends_on)
{
	struct program_config *pc;
	const char *err;
	static const int zero = 0;

	if ((pc = calloc(1, sizeof *pc)) == NULL ||
	    (pc->name = strdup(name)) == NULL ||
	    (pc->exitcodes = malloc(sizeof zero)) == NULL)
		abort();
	memcpy(pc->exitcodes, &zero, sizeof zero);
	pc->n_exitcodes = 1;
	pc->priority = priority;
	if (*depends_on != '\0' && parse_list(depends_on, &pc->depends_on, &err) == -1)
		abort();
	pc->autostart = true;
	pc->autorestart = RESTART_ON_FAILURE;
	pc->start_secs = 1;
	pc->start_retries = 0;
	pc->stop_signal = SIGTERM;
	pc->stop_timeout = 10;
	pc->kill_signal = SIGKILL;
	pc->stop_group = true;
	return program_add(pc);
}

/* The named programs (space separated), or all of the table for NULL. */
static void
list_of(struct proglist *l, const char *names)
{
	char *copy, *name, *save;

	memset(l, 0, sizeof *l);
	if (names == NULL) {
		for (size_t i = 0; i < programs.n; i++)
			proglist_add(l, programs.v[i]);
		return;
	}
	if ((copy = strdup(names)) == NULL)
		abort();
	for (name = strtok_r(copy, " ", &save); name != NULL;
	    name = strtok_r(NULL, " ", &save))
		proglist_add(l, program_find(name));
	free(copy);
}

/* The stop stages of names as "a b | c": stages in order, names sorted. */
static const char *
stages(const char *names)
{
	static char buf[512];
	struct proglist l;
	size_t n;
	int *stage;

	list_of(&l, names);
	n = depgraph_stop_stages(&l, &stage);
	buf[0] = '\0';
	for (size_t i = 0; i < l.n; i++) {
		if (i > 0)
			strcat(buf, stage[i] != stage[i - 1] ? " | " : " ");
		strcat(buf, l.v[i]->cfg->name);
	}
	/* The count must agree with what the list shows. */
	if (l.n > 0 && (size_t)stage[l.n - 1] + 1 != n)
		strcat(buf, " (wrong stage count)");
	free(stage);
	proglist_free(&l);
	return buf;
}

/* The names of a list in its order, space separated. */
static const char *
names_of(const struct proglist *l)
{
	static char buf[512];

	buf[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		if (i > 0)
			strcat(buf, " ");
		strcat(buf, l->v[i]->cfg->name);
	}
	return buf;
}

/* The launches so far, space separated. */
static const char *
launches(void)
{
	static char buf[512];

	buf[0] = '\0';
	for (int i = 0; i < n_spawned; i++) {
		if (i > 0)
			strcat(buf, " ");
		strcat(buf, spawned[i]);
	}
	return buf;
}

/* Start the program called name through the start planner. */
static void
start(const char *name)
{
	struct program *p = program_find(name);

	startplan_start(&p, 1);
}

/* The state name of the program called name. */
static const char *
state(const char *name)
{
	return program_state_name(program_find(name)->state);
}

/* A chain stops from its far end. */
static void
test_chain(void)
{
	reset();
	add("a", 999, "");
	add("b", 999, "a");
	add("c", 999, "b");
	is_str(stages(NULL), "c | b | a", "chain: the last dependent first");
	is_str(stages("a b"), "b | a", "chain, part of it");
	is_str(stages("a c"), "c | a", "chain: through a program left out");
	is_str(stages("a"), "a", "chain: one program");
	is_str(stages(""), "", "nothing to stop");
}

/* Both sides of a diamond stop together, between its top and its base. */
static void
test_diamond(void)
{
	reset();
	add("base", 999, "");
	add("left", 999, "base");
	add("right", 999, "base");
	add("top", 999, "left, right");
	is_str(stages(NULL), "top | left right | base",
	    "diamond: both sides in one stage");
	add("side", 999, "base");
	is_str(stages(NULL), "side top | left right | base",
	    "diamond: a shallow dependent goes with the first stage");
	reset();
	add("base", 999, "");
	add("left", 999, "base");
	add("right", 999, "left");
	add("top", 999, "left right");
	is_str(stages(NULL), "top | right | left | base",
	    "diamond with a long side: the longest path decides");
}

/* Without dependencies, priority alone makes the stages. */
static void
test_priorities(void)
{
	reset();
	add("x", 10, "");
	add("w", 999, "");
	add("y", 20, "");
	add("z", 20, "");
	is_str(stages(NULL), "w | y z | x",
	    "independent: higher priority number first, equal ones together");
	is_str(stages("x y"), "y | x", "independent, part of them");
}

/* Dependencies first, then priority wherever they leave a choice. */
static void
test_mixed(void)
{
	reset();
	add("logger", 1, "");
	add("db", 100, "");
	add("cache", 100, "");
	add("web", 500, "db cache");
	add("worker", 900, "db");
	is_str(stages(NULL), "worker | web | cache db | logger",
	    "mixed: dependencies hold, priority decides the rest");
	reset();
	add("b", 999, "");
	add("a", 1, "b");
	add("c", 500, "");
	is_str(stages(NULL), "c | a | b",
	    "a dependency outranks priority; c goes before a by priority");
	reset();
	add("db", 100, "");
	add("web", 50, "db");
	add("cron", 75, "");
	is_str(stages(NULL), "cron | web | db",
	    "what nothing waits for goes by priority");
}

/* What a stop or a start takes along. */
static void
test_closures(void)
{
	struct proglist l = { 0 };

	reset();
	add("db", 999, "");
	add("cache", 999, "");
	add("web", 999, "db, cache");
	add("api", 999, "web");
	add("worker", 999, "db");
	add("other", 999, "");
	depgraph_with_dependents(&l, program_find("db"));
	is_str(names_of(&l), "db web worker api", "dependents of db, nearest first");
	proglist_free(&l);
	depgraph_with_dependents(&l, program_find("cache"));
	depgraph_with_dependents(&l, program_find("web"));
	is_str(names_of(&l), "cache web api", "dependents: no duplicates");
	is_str(stages("cache web api"), "api | web | cache",
	    "stop cache: its dependents first");
	proglist_free(&l);
	depgraph_with_dependents(&l, program_find("other"));
	is_str(names_of(&l), "other", "no dependents: itself");
	proglist_free(&l);
	{
		struct proglist named = { 0 }, one = { 0 };
		char want[512];

		/* All at once gives what one at a time gives, in that order. */
		proglist_add(&named, program_find("cache"));
		proglist_add(&named, program_find("db"));
		proglist_add(&named, program_find("other"));
		for (size_t i = 0; i < named.n; i++)
			depgraph_with_dependents(&one, named.v[i]);
		snprintf(want, sizeof want, "%s", names_of(&one));
		depgraph_with_dependents_all(&l, &named);
		is_str(names_of(&l), "cache web api db worker other",
		    "dependents of several, each nearest first");
		is_str(names_of(&l), want, "dependents of several: as one at a time");
		proglist_free(&named);
		proglist_free(&one);
		proglist_free(&l);
	}
	/* Past 16 entries a list keeps a member set: still no duplicates. */
	for (int i = 0; i < 40; i++) {
		char name[16];

		snprintf(name, sizeof name, "extra%d", i);
		add(name, 999, "");
	}
	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < programs.n; i++)
			for (int k = 0; k < 10; k++)
				proglist_add(&l, programs.v[i]);
	is_int(l.n, programs.n, "a list adds each program once");
	proglist_free(&l);
	depgraph_with_dependencies(&l, program_find("api"));
	is_str(names_of(&l), "api web db cache", "dependencies of api, nearest first");
	proglist_free(&l);
	depgraph_with_dependencies(&l, program_find("worker"));
	depgraph_with_dependencies(&l, program_find("web"));
	is_str(names_of(&l), "worker db web cache", "dependencies: no duplicates");
	proglist_free(&l);
}

/* Dependencies are launched first, and their dependents once they run. */
static void
test_start_order(void)
{
	reset();
	add("db", 999, "");
	add("web", 999, "db");
	add("api", 999, "web");
	add("other", 999, "");
	start("api");
	is_str(launches(), "db", "start api: db alone first");
	is_str(state("web"), "STOPPED", "web waits for db");
	lifecycle_timer(program_find("db"));
	is_str(launches(), "db web", "db RUNNING: web launched");
	lifecycle_timer(program_find("web"));
	is_str(launches(), "db web api", "web RUNNING: api launched");
	is_str(state("other"), "STOPPED", "other left alone");

	reset();
	add("late", 300, "");
	add("early", 100, "");
	add("middle", 200, "");
	startplan_start(programs.v, programs.n);
	is_str(launches(), "early middle late", "one go: lowest priority number first");

	reset();
	add("base", 999, "");
	add("left", 999, "base");
	add("right", 999, "base");
	add("top", 999, "left right");
	start("top");
	lifecycle_timer(program_find("base"));
	is_str(launches(), "base left right", "diamond: both sides together");
	lifecycle_timer(program_find("left"));
	is_str(launches(), "base left right", "top waits for the other side");
	lifecycle_timer(program_find("right"));
	is_str(launches(), "base left right top", "top once both run");
}

/* A dependency that gives up fails its dependents, transitively. */
static void
test_start_fatal(void)
{
	reset();
	add("db", 999, "");
	add("web", 999, "db");
	add("api", 999, "web");
	add("other", 999, "");
	start("api");
	lifecycle_exited(program_find("db"), W_EXITCODE(1, 0));
	is_str(state("db"), "FATAL", "db gave up");
	is_str(state("web"), "FATAL", "its dependent fails");
	is_str(program_find("web")->error, "dependency db is FATAL", "web says why");
	is_str(state("api"), "FATAL", "and the dependent of that");
	is_str(program_find("api")->error, "dependency web is FATAL", "api says why");
	is_str(launches(), "db", "neither was launched");
	is_str(state("other"), "STOPPED", "other left alone");
	ok(!program_find("web")->start_pending && !program_find("api")->start_pending,
	    "nothing left pending");
}

/* A dependency on its way down is waited for, not taken as failed. */
static void
test_start_behind_a_stop(void)
{
	struct program *db;

	reset();
	db = add("db", 999, "");
	add("web", 999, "db");
	start("db");
	lifecycle_timer(db);
	lifecycle_stop(db, STOP_REQUEST);
	is_str(state("db"), "STOPPING", "db is on its way down");
	start("web");
	is_str(state("web"), "STOPPED", "web waits");
	is_str(launches(), "db", "db not started while it stops");
	lifecycle_exited(db, W_EXITCODE(0, 0));
	is_str(state("db"), "STARTING", "db stopped, then started again");
	is_str(state("web"), "STOPPED", "web still waits, not FATAL");
	lifecycle_timer(db);
	is_str(launches(), "db db web", "web once db runs again");
}

/* Every planner test, against one program table. */
int
main(void)
{
	log_set_level(LOG_LEVEL_ERROR);
	lifecycle_init(&fake_ops);
	startplan_init();
	test_chain();
	test_diamond();
	test_priorities();
	test_mixed();
	test_closures();
	test_start_order();
	test_start_fatal();
	test_start_behind_a_stop();
	reset();
	return tap_done();
}
