/*
 * The stop timeline against the real staged stop planner, the lifecycle
 * with a fake clock and fake processes, and a real event loop: two stages,
 * a program that needed its kill_signal, one that was not running, the
 * JSON the page reads, a record saved and read back, a newer run taking
 * over, a removed program, and the bound on its size.
 */
#include <event2/event.h>
#include <json-c/json.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "depgraph.h"
#include "lifecycle.h"
#include "log.h"
#include "parse.h"
#include "shutdown.h"
#include "tap.h"
#include "timeline.h"

static double fake_now;
static pid_t next_pid = 100;
static int runs_done;

static double fake_clock(void) { return fake_now; }
static double fake_wall(void) { return 1700000000.5; }

/* A process that starts at once. */
static int
fake_spawn(struct program *p)
{
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

/* Add a program (RUNNING at once when started) with depends_on ("" none). */
static struct program *
add(const char *name, const char *depends_on)
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
	if (*depends_on != '\0' && parse_list(depends_on, &pc->depends_on, &err) == -1)
		abort();
	pc->autorestart = RESTART_NEVER;
	pc->stop_signal = SIGTERM;
	pc->stop_timeout = 10;
	pc->kill_signal = SIGKILL;
	pc->stop_group = true;
	return program_add(pc);
}

/* Every program of the table, in table order. */
static void
all_programs(struct proglist *l)
{
	memset(l, 0, sizeof *l);
	for (size_t i = 0; i < programs.n; i++)
		proglist_add(l, programs.v[i]);
}

/* The record's entry for a program, by name. */
static const struct timeline_program *
entry(const char *name)
{
	const struct timeline *t = timeline_get();

	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].name, name) == 0)
			return &t->v[i];
	return NULL;
}

/* Whether two times agree to the microsecond. */
static bool
near(double got, double want)
{
	return fabs(got - want) < 1e-6;
}

static void
run_done(struct shutdown_run *run, void *arg)
{
	runs_done++;
}

/*
 * web and worker depend on db, so they stop first; idle never ran.  web
 * goes on its stop signal, worker needs its kill_signal, then db stops.
 */
static void
test_two_stages(struct event_base *base)
{
	struct program *db, *web, *worker;
	const struct timeline *t = timeline_get();
	const struct timeline_program *e;
	struct proglist l;

	db = add("db", "");
	web = add("web", "db");
	worker = add("worker", "db");
	(void)add("idle", "");
	lifecycle_start(db);
	lifecycle_start(web);
	lifecycle_start(worker);
	ok(!t->valid, "nothing recorded before a staged stop");

	fake_now = 1000;
	all_programs(&l);
	(void)shutdown_start(&l, STOP_SHUTDOWN, 0, run_done, NULL, NULL);
	ok(t->valid && !t->finished, "a run is being recorded");
	is_str(t->reason, "shutdown", "the run's reason");
	ok(near(t->wall_begin, 1700000000.5), "its wall-clock beginning");
	is_int(t->n_stages, 2, "two stages");
	is_int(t->n, 4, "four programs");
	ok(near(t->stages[0].begin, 0) && t->stages[0].end < 0,
	    "stage 1 began at 0 and runs");
	ok(t->stages[1].begin < 0, "stage 2 has not begun");
	e = entry("web");
	ok(e != NULL && e->stage == 0 && near(e->stop, 0) && e->gone < 0,
	    "web: stage 1, stopped at 0, not gone yet");
	e = entry("db");
	ok(e != NULL && e->stage == 1 && e->stop < 0, "db: stage 2, not stopped yet");

	fake_now = 1001.5;
	lifecycle_exited(web, W_EXITCODE(0, SIGTERM) | SIGTERM);
	e = entry("web");
	ok(e->end == TIMELINE_EXITED && near(e->gone, 1.5) && e->kill < 0,
	    "web gone at 1.5 without a kill");
	is_str(e->how, "signal TERM", "web: how it ended");

	fake_now = 1010;
	lifecycle_timer(worker);	/* its grace period is over */
	e = entry("worker");
	ok(near(e->kill, 10), "worker: kill_signal at 10");
	fake_now = 1010.25;
	lifecycle_exited(worker, W_EXITCODE(0, SIGKILL) | SIGKILL);
	e = entry("worker");
	ok(near(e->gone, 10.25) && e->end == TIMELINE_EXITED, "worker gone at 10.25");
	is_str(e->how, "signal KILL", "worker: how it ended");
	ok(near(t->stages[0].end, 10.25) && near(t->stages[1].begin, 10.25),
	    "stage 1 ended, and stage 2 began, with worker's end");
	ok(near(entry("db")->stop, 10.25), "db stopped when stage 2 began");

	fake_now = 1011;
	lifecycle_exited(db, W_EXITCODE(0, 0));
	ok(t->finished && near(t->duration, 11), "the run took 11 s");
	ok(near(t->stages[1].end, 11), "stage 2 ended at 11");
	is_str(entry("db")->how, "exit 0", "db: how it ended");
	ok(entry("idle")->end == TIMELINE_NOT_RUNNING && entry("idle")->stop < 0,
	    "idle: not running, never signalled");
	event_base_loop(base, EVLOOP_NONBLOCK);
	is_int(runs_done, 1, "the run reported its end");
}

/* The JSON the page and docs/HTTP.md describe. */
static void
test_json(void)
{
	struct json_object *o, *v, *p;
	int web = -1;

	o = timeline_json();
	ok(o != NULL && json_object_is_type(o, json_type_object), "JSON object");
	ok(json_object_object_get_ex(o, "duration", &v) &&
	    near(json_object_get_double(v), 11), "JSON: duration");
	ok(json_object_object_get_ex(o, "stages", &v) &&
	    json_object_array_length(v) == 2, "JSON: two stages");
	ok(json_object_object_get_ex(o, "programs", &v) &&
	    json_object_array_length(v) == 4, "JSON: four programs");
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct json_object *name;

		p = json_object_array_get_idx(v, i);
		if (json_object_object_get_ex(p, "name", &name) &&
		    strcmp(json_object_get_string(name), "worker") == 0)
			web = (int)i;
	}
	ok(web >= 0, "JSON: worker is listed");
	if (web >= 0) {
		p = json_object_array_get_idx(v, (size_t)web);
		ok(json_object_object_get_ex(p, "kill", &v) &&
		    near(json_object_get_double(v), 10), "JSON: worker's kill");
		ok(json_object_object_get_ex(p, "stage", &v) &&
		    json_object_get_int(v) == 1, "JSON: stages count from 1");
		ok(json_object_object_get_ex(p, "end", &v) &&
		    strcmp(json_object_get_string(v), "exited") == 0, "JSON: end");
	}
	json_object_put(o);
}

/* Saved at exit, read back at the next start; a bad file changes nothing. */
static void
test_save_load(void)
{
	char dir[] = "/tmp/test-timeline.XXXXXX", path[64];
	const struct timeline *t = timeline_get();
	FILE *f;

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof path, "%s/timeline", dir);
	is_int(timeline_load(path), 0, "no file: no record, no error");
	is_int(timeline_save(path), 0, "saved");
	timeline_clear();
	ok(!t->valid, "cleared");
	is_int(timeline_load(path), 0, "read back");
	ok(t->valid && t->restored && t->finished, "a restored record");
	ok(near(t->duration, 11) && t->n_stages == 2 && t->n == 4,
	    "its duration, stages and programs");
	ok(entry("worker") != NULL && near(entry("worker")->kill, 10) &&
	    entry("worker")->stage == 0, "worker's kill and stage");
	is_str(entry("db")->how, "exit 0", "db's end");
	ok(entry("idle")->end == TIMELINE_NOT_RUNNING, "idle's end");
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fputs("{\"stages\": 3", f);
	fclose(f);
	is_int(timeline_load(path), -1, "a broken file is refused");
	ok(t->valid && t->n == 4, "and the record stays as it was");
	unlink(path);
	rmdir(dir);
}

/* A newer run takes the record over; the older one's end is not its end. */
static void
test_newer_run(void)
{
	const struct timeline *t = timeline_get();
	struct program *db = program_find("db");
	struct proglist l = { 0 };
	int a, b, stage = 0;

	proglist_add(&l, db);
	fake_now = 2000;
	timeline_begin(&a, STOP_REQUEST, &l, &stage, 1);
	timeline_begin(&b, STOP_RELOAD, &l, &stage, 1);
	timeline_end(&a);
	ok(t->valid && !t->finished, "an older run's end is ignored");
	is_str(t->reason, "reload", "the newer run's reason");
	ok(!t->restored, "a new record is not a restored one");
	timeline_stage(&b, 0);
	lifecycle_start(db);
	fake_now = 2001;
	lifecycle_stop(db, STOP_RELOAD);
	ok(near(entry("db")->stop, 1), "db's stop in the new run");
	timeline_forget(db);
	ok(entry("db")->end == TIMELINE_LEFT, "removed while stopping: left");
	lifecycle_exited(db, W_EXITCODE(0, 0));
	ok(entry("db")->gone < 0, "a forgotten program's exit is not recorded");
	fake_now = 2002;
	timeline_end(&b);
	ok(t->finished && near(t->duration, 2), "the newer run ended");
	proglist_free(&l);
}

/* However many programs a run has, the record keeps a bounded number. */
static void
test_bound(void)
{
	const struct timeline *t = timeline_get();
	size_t n = TIMELINE_MAX_PROGRAMS + 10;
	struct proglist l = { 0 };
	int *stage, run;

	l.v = calloc(n, sizeof *l.v);
	stage = calloc(n, sizeof *stage);
	if (l.v == NULL || stage == NULL)
		abort();
	for (size_t i = 0; i < n; i++)
		l.v[i] = programs.v[0];
	l.n = n;
	timeline_begin(&run, STOP_REQUEST, &l, stage, 1);
	is_int(t->n, TIMELINE_MAX_PROGRAMS, "at most TIMELINE_MAX_PROGRAMS kept");
	is_int(t->omitted, 10, "the rest counted");
	timeline_end(&run);
	free(l.v);
	free(stage);
	timeline_clear();
}

int
main(void)
{
	struct event_base *base;

	log_set_level(LOG_LEVEL_ERROR);
	if ((base = event_base_new()) == NULL) {
		printf("Bail out! event_base_new\n");
		return 1;
	}
	lifecycle_init(&fake_ops);
	shutdown_init(base);
	timeline_init(fake_clock, fake_wall);
	test_two_stages(base);
	test_json();
	test_save_load();
	test_newer_run();
	test_bound();
	while (programs.n > 0)
		program_remove(programs.v[programs.n - 1]);
	event_base_free(base);
	return tap_done();
}
