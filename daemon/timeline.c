/*
 * The timeline of the last staged stop run.  shutdown.c says when a run
 * begins, when each stage begins and when the run ends; a program's own
 * moments come from its state changes (into STOPPING: its stop went out;
 * out of STOPPING: its last process is gone) and from the lifecycle's one
 * hook for the kill_signal.  Nothing here signals, arms or polls anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "depgraph.h"
#include "log.h"
#include "parse.h"
#include "ptrmap.h"
#include "safeopen.h"
#include "timeline.h"
#include "xmalloc.h"

/* The largest timeline file read back. */
#define TIMELINE_MAX_FILE	(4 * 1024 * 1024)

static double (*timeline_now)(void);
static double (*timeline_wall)(void);
static struct timeline tl;
static const void *tl_run;		/* the run being recorded, NULL when none */
static double tl_begin;			/* its beginning, monotonic */
static struct ptrmap tl_index;		/* program -> its place in tl.v */

static void timeline_changed(struct program *p, enum program_state old,
    void *arg);
static double timeline_elapsed(void);
static void timeline_describe_end(struct timeline_program *tp,
    const struct program *p);
static void timeline_settle(void);
static const char *timeline_reason_name(enum stop_reason why);
static struct json_object *timeline_time(double t);
static double timeline_read_time(struct json_object *o, const char *key);
static int timeline_from_json(struct json_object *o);

/* Unix time, as a double. */
static double
timeline_wall_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Remember the clocks (wall NULL: the system's) and watch program changes;
 * called again, only the clocks change (the unit tests' fake clock).
 */
void
timeline_init(double (*now)(void), double (*wall)(void))
{
	static bool observing;

	timeline_now = now;
	timeline_wall = wall != NULL ? wall : timeline_wall_clock;
	if (!observing)
		program_observe(timeline_changed, NULL);
	observing = true;
}

/* Seconds since the recorded run began. */
static double
timeline_elapsed(void)
{
	double t = timeline_now() - tl_begin;

	return t < 0 ? 0 : t;
}

/* Forget the record and the run it follows. */
void
timeline_clear(void)
{
	for (size_t i = 0; i < tl.n; i++)
		free(tl.v[i].name);
	free(tl.v);
	free(tl.stages);
	memset(&tl, 0, sizeof tl);
	ptrmap_free(&tl_index);
	tl_run = NULL;
}

/* A new run: it replaces the record, with every program waiting its stage. */
void
timeline_begin(const void *run, enum stop_reason why, const struct proglist *l,
    const int *stage, size_t stages)
{
	size_t n = l->n < TIMELINE_MAX_PROGRAMS ? l->n : TIMELINE_MAX_PROGRAMS;

	if (l->n == 0)
		return;		/* nothing was stopped: keep what was */
	timeline_clear();
	tl_run = run;
	tl_begin = timeline_now();
	tl.valid = true;
	snprintf(tl.reason, sizeof tl.reason, "%s", timeline_reason_name(why));
	tl.wall_begin = timeline_wall();
	tl.duration = -1;
	tl.n_stages = stages;
	tl.stages = xcalloc(stages ? stages : 1, sizeof *tl.stages);
	for (size_t s = 0; s < stages; s++)
		tl.stages[s].begin = tl.stages[s].end = -1;
	tl.n = n;
	tl.omitted = l->n - n;
	tl.v = xcalloc(n ? n : 1, sizeof *tl.v);
	for (size_t i = 0; i < n; i++) {
		struct timeline_program *tp = &tl.v[i];

		tp->name = xstrdup(l->v[i]->cfg->name);
		tp->stage = stage[i];
		tp->stop = tp->kill = tp->gone = -1;
		tp->end = TIMELINE_PENDING;
		ptrmap_put(&tl_index, l->v[i], i);
	}
}

/* A stage begins: the one before it (if any) ended just now. */
void
timeline_stage(const void *run, size_t stage)
{
	double t;

	if (run != tl_run || tl_run == NULL || stage >= tl.n_stages)
		return;
	t = timeline_elapsed();
	for (size_t s = 0; s < stage; s++)
		if (tl.stages[s].end < 0)
			tl.stages[s].end = t;
	if (tl.stages[stage].begin < 0)
		tl.stages[stage].begin = t;
}

/* The run is over: close its stages and say what became of each program. */
void
timeline_end(const void *run)
{
	double t;

	if (run != tl_run || tl_run == NULL)
		return;
	t = timeline_elapsed();
	for (size_t s = 0; s < tl.n_stages; s++)
		if (tl.stages[s].begin >= 0 && tl.stages[s].end < 0)
			tl.stages[s].end = t;
	tl.duration = t;
	tl.finished = true;
	timeline_settle();
	ptrmap_free(&tl_index);
	tl_run = NULL;
}

/*
 * Programs without an end yet get one: never stopped means there was
 * nothing to stop; stopped but not gone means the run went on without it.
 */
static void
timeline_settle(void)
{
	for (size_t i = 0; i < tl.n; i++) {
		struct timeline_program *tp = &tl.v[i];

		if (tp->end != TIMELINE_PENDING)
			continue;
		tp->end = tp->stop < 0 ? TIMELINE_NOT_RUNNING : TIMELINE_LEFT;
	}
}

/* The lifecycle sent p its kill_signal. */
void
timeline_killed(const struct program *p)
{
	size_t i;

	if (tl_run == NULL || !ptrmap_get(&tl_index, p, &i))
		return;
	if (tl.v[i].kill < 0)
		tl.v[i].kill = timeline_elapsed();
}

/* p goes away: what was recorded of it stays, as left if it had no end. */
void
timeline_forget(const struct program *p)
{
	size_t i;

	if (tl_run == NULL || !ptrmap_get(&tl_index, p, &i))
		return;
	ptrmap_del(&tl_index, p);
	if (tl.v[i].end == TIMELINE_PENDING)
		tl.v[i].end = tl.v[i].stop < 0 ? TIMELINE_NOT_RUNNING : TIMELINE_LEFT;
}

/*
 * A program of the run changed state.  Entering STOPPING is its stop going
 * out; leaving it is its last process gone.  Only the first stop of each
 * counts: a restart and stop by someone else during the run is theirs.
 */
static void
timeline_changed(struct program *p, enum program_state old, void *arg)
{
	struct timeline_program *tp;
	size_t i;

	if (tl_run == NULL || !ptrmap_get(&tl_index, p, &i))
		return;
	tp = &tl.v[i];
	if (tp->end != TIMELINE_PENDING)
		return;
	if (p->state == STATE_STOPPING && old != STATE_STOPPING) {
		if (tp->stop < 0)
			tp->stop = timeline_elapsed();
		return;
	}
	if (old == STATE_STOPPING && tp->stop >= 0) {
		tp->gone = timeline_elapsed();
		tp->end = TIMELINE_EXITED;
		timeline_describe_end(tp, p);
	}
}

/* "exit 0", "signal TERM", or "" when how the main process ended is unknown. */
static void
timeline_describe_end(struct timeline_program *tp, const struct program *p)
{
	const char *name;

	tp->how[0] = '\0';
	if (!p->has_exit)
		return;
	if (p->exit_signal == 0)
		snprintf(tp->how, sizeof tp->how, "exit %d", p->exit_code);
	else if ((name = signal_name(p->exit_signal)) != NULL)
		snprintf(tp->how, sizeof tp->how, "signal %s", name);
	else
		snprintf(tp->how, sizeof tp->how, "signal %d", p->exit_signal);
}

/* The record, read-only. */
const struct timeline *
timeline_get(void)
{
	return &tl;
}

/* A stop reason as the record names it. */
static const char *
timeline_reason_name(enum stop_reason why)
{
	switch (why) {
	case STOP_REQUEST:
		return "request";
	case STOP_SHUTDOWN:
		return "shutdown";
	case STOP_RELOAD:
		return "reload";
	case STOP_HEALTH:
		return "health";
	case STOP_NOT_READY:
		return "not-ready";
	case STOP_NONE:
		break;
	}
	return "other";
}

/* A time of the record: seconds, or null for a moment that did not come. */
static struct json_object *
timeline_time(double t)
{
	return t < 0 ? NULL : json_object_new_double(t);
}

static const char *const timeline_end_names[] = {
	[TIMELINE_PENDING] = "stopping",
	[TIMELINE_EXITED] = "exited",
	[TIMELINE_NOT_RUNNING] = "not-running",
	[TIMELINE_LEFT] = "left",
};

/* The record as JSON: null, or the object docs/HTTP.md describes. */
struct json_object *
timeline_json(void)
{
	struct json_object *o, *stages, *progs;

	if (!tl.valid)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "reason", json_object_new_string(tl.reason));
	json_object_object_add(o, "began", json_object_new_double(tl.wall_begin));
	json_object_object_add(o, "duration", timeline_time(tl.duration));
	json_object_object_add(o, "elapsed", json_object_new_double(tl.finished ||
	    tl_run == NULL ? (tl.duration < 0 ? 0 : tl.duration) : timeline_elapsed()));
	json_object_object_add(o, "finished", json_object_new_boolean(tl.finished));
	json_object_object_add(o, "restored", json_object_new_boolean(tl.restored));
	json_object_object_add(o, "omitted", json_object_new_int64((int64_t)tl.omitted));
	stages = json_object_new_array();
	for (size_t s = 0; s < tl.n_stages; s++) {
		struct json_object *so = json_object_new_object();

		json_object_object_add(so, "begin", timeline_time(tl.stages[s].begin));
		json_object_object_add(so, "end", timeline_time(tl.stages[s].end));
		json_object_array_add(stages, so);
	}
	json_object_object_add(o, "stages", stages);
	progs = json_object_new_array();
	for (size_t i = 0; i < tl.n; i++) {
		const struct timeline_program *tp = &tl.v[i];
		struct json_object *po = json_object_new_object();

		json_object_object_add(po, "name", json_object_new_string(tp->name));
		json_object_object_add(po, "stage", json_object_new_int(tp->stage + 1));
		json_object_object_add(po, "stop", timeline_time(tp->stop));
		json_object_object_add(po, "kill", timeline_time(tp->kill));
		json_object_object_add(po, "gone", timeline_time(tp->gone));
		json_object_object_add(po, "end",
		    json_object_new_string(timeline_end_names[tp->end]));
		json_object_object_add(po, "how", tp->how[0] != '\0' ?
		    json_object_new_string(tp->how) : NULL);
		json_object_array_add(progs, po);
	}
	json_object_object_add(o, "programs", progs);
	return o;
}

/*
 * Write the record to path, through a new file renamed over the old one so
 * that a reader never sees half of it.  Nothing recorded: nothing written.
 */
int
timeline_save(const char *path)
{
	struct json_object *o;
	const char *text;
	char *tmp, err[256];
	size_t len, off = 0;
	int fd;

	if ((o = timeline_json()) == NULL)
		return 0;
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	len = strlen(text);
	tmp = xasprintf("%s.tmp", path);
	fd = safeopen(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600,
	    SAFEOPEN_REG | SAFEOPEN_OWNED, NULL, err, sizeof err);
	if (fd == -1) {
		log_warnx("cannot save the stop timeline: %s", err);
		goto fail;
	}
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			log_warn("cannot save the stop timeline to %s", tmp);
			close(fd);
			unlink(tmp);
			goto fail;
		}
		off += (size_t)w;
	}
	close(fd);
#ifdef _WIN32
	remove(path);		/* rename does not replace a file there */
#endif
	if (rename(tmp, path) == -1) {
		log_warn("cannot save the stop timeline to %s", path);
		unlink(tmp);
		goto fail;
	}
	free(tmp);
	json_object_put(o);
	return 0;
fail:
	free(tmp);
	json_object_put(o);
	return -1;
}

/* One time of a saved record: a number >= 0, else -1 (none). */
static double
timeline_read_time(struct json_object *o, const char *key)
{
	struct json_object *v;
	double t;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL ||
	    (!json_object_is_type(v, json_type_double) &&
	    !json_object_is_type(v, json_type_int)))
		return -1;
	t = json_object_get_double(v);
	return isfinite(t) && t >= 0 ? t : -1;
}

/* Take a saved record over, checking every field; -1 when it is not one. */
static int
timeline_from_json(struct json_object *o)
{
	struct json_object *stages, *progs, *v;
	size_t ns, np;

	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "stages", &stages) ||
	    !json_object_is_type(stages, json_type_array) ||
	    !json_object_object_get_ex(o, "programs", &progs) ||
	    !json_object_is_type(progs, json_type_array))
		return -1;
	ns = json_object_array_length(stages);
	np = json_object_array_length(progs);
	if (ns > TIMELINE_MAX_PROGRAMS || np > TIMELINE_MAX_PROGRAMS)
		return -1;
	timeline_clear();
	tl.valid = tl.finished = tl.restored = true;
	if (json_object_object_get_ex(o, "reason", &v) &&
	    json_object_is_type(v, json_type_string))
		snprintf(tl.reason, sizeof tl.reason, "%s", json_object_get_string(v));
	tl.wall_begin = timeline_read_time(o, "began");
	tl.duration = timeline_read_time(o, "duration");
	if (json_object_object_get_ex(o, "omitted", &v) &&
	    json_object_is_type(v, json_type_int) && json_object_get_int64(v) > 0)
		tl.omitted = (size_t)json_object_get_int64(v);
	tl.n_stages = ns;
	tl.stages = xcalloc(ns ? ns : 1, sizeof *tl.stages);
	for (size_t s = 0; s < ns; s++) {
		struct json_object *so = json_object_array_get_idx(stages, s);

		tl.stages[s].begin = timeline_read_time(so, "begin");
		tl.stages[s].end = timeline_read_time(so, "end");
	}
	tl.v = xcalloc(np ? np : 1, sizeof *tl.v);
	for (size_t i = 0; i < np; i++) {
		struct json_object *po = json_object_array_get_idx(progs, i);
		struct timeline_program *tp = &tl.v[tl.n];
		const char *name = NULL, *end = "";
		int stage = 0;

		if (json_object_object_get_ex(po, "name", &v) &&
		    json_object_is_type(v, json_type_string))
			name = json_object_get_string(v);
		if (json_object_object_get_ex(po, "stage", &v) &&
		    json_object_is_type(v, json_type_int))
			stage = json_object_get_int(v);
		if (name == NULL || stage < 1 || (size_t)stage > ns)
			continue;	/* not one of ours: skip it */
		tp->name = xstrdup(name);
		tp->stage = stage - 1;
		tp->stop = timeline_read_time(po, "stop");
		tp->kill = timeline_read_time(po, "kill");
		tp->gone = timeline_read_time(po, "gone");
		if (json_object_object_get_ex(po, "end", &v) &&
		    json_object_is_type(v, json_type_string))
			end = json_object_get_string(v);
		tp->end = TIMELINE_LEFT;
		for (size_t k = 0; k < sizeof timeline_end_names /
		    sizeof timeline_end_names[0]; k++)
			if (strcmp(end, timeline_end_names[k]) == 0)
				tp->end = (enum timeline_end)k;
		if (tp->end == TIMELINE_PENDING)
			tp->end = TIMELINE_LEFT;	/* the daemon went first */
		if (json_object_object_get_ex(po, "how", &v) &&
		    json_object_is_type(v, json_type_string))
			snprintf(tp->how, sizeof tp->how, "%s", json_object_get_string(v));
		tl.n++;
	}
	return 0;
}

/*
 * Read back a record an earlier daemon saved: a regular file of our own,
 * bounded in size.  A missing file is no record and no error.
 */
int
timeline_load(const char *path)
{
	struct json_object *o;
	struct stat st;
	char err[256], *buf;
	size_t off = 0;
	int fd, r;

	fd = safeopen(path, O_RDONLY, 0, SAFEOPEN_REG | SAFEOPEN_OWNED, &st,
	    err, sizeof err);
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;
		log_warnx("cannot read the stop timeline: %s", err);
		return -1;
	}
	if (st.st_size < 0 || st.st_size > TIMELINE_MAX_FILE) {
		log_warnx("%s: too large for a stop timeline; ignored", path);
		close(fd);
		return -1;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + off, (size_t)st.st_size - off);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	o = json_tokener_parse(buf);
	free(buf);
	r = o != NULL ? timeline_from_json(o) : -1;
	json_object_put(o);
	if (r == -1)
		log_warnx("%s: not a stop timeline; ignored", path);
	return r;
}
