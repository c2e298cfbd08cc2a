/*
 * /metrics: OpenMetrics text (docs/HTTP.md lists the families).  Per
 * program: its state as a stateset, up, restarts, uptime, CPU time, memory
 * and OOM kills; for the daemon: programs by state and the last staged
 * stop's duration, in all and per stage (timeline.h).  What a program uses
 * is read once per scrape, as status --json does: nothing is counted while
 * nobody asks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounting.h"
#include "control-conn.h"
#include "http.h"
#include "platform.h"
#include "program.h"
#include "protocol.h"
#include "timeline.h"
#include "xmalloc.h"

#define METRICS_CTYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"
#define METRICS_RAW(t, lit)	protocol_text_raw((t), (lit), sizeof(lit) - 1)

static void metrics_family(struct protocol_text *t, const char *name,
    const char *type, const char *unit, const char *help);
static void metrics_label(struct protocol_text *t, const char *value);
static void metrics_sample(struct protocol_text *t, const char *name,
    const struct program *p, const char *value);
static void metrics_programs(struct protocol_text *t,
    const struct accounting *use);
static void metrics_daemon(struct protocol_text *t);
static void metrics_last_stop(struct protocol_text *t);

/* Answer a scrape: GET (or HEAD) only. */
void
metrics_serve(struct control_conn *c, const struct http_request *r)
{
	struct protocol_text t = { 0 };
	struct accounting *use;

	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
		http_respond_error(c, 405, "only GET is served here");
		return;
	}
	use = xcalloc(programs.n ? programs.n : 1, sizeof *use);
	for (size_t i = 0; i < programs.n; i++)
		accounting_read(programs.v[i], &use[i]);
	metrics_programs(&t, use);
	metrics_daemon(&t);
	metrics_last_stop(&t);
	METRICS_RAW(&t, "# EOF\n");
	free(use);
	if (t.failed) {
		protocol_text_free(&t);
		http_respond_error(c, 500, "out of memory");
		return;
	}
	http_respond(c, 200, METRICS_CTYPE, t.s, t.n);
	protocol_text_free(&t);
}

/* A family's TYPE, UNIT (NULL: none) and HELP lines. */
static void
metrics_family(struct protocol_text *t, const char *name, const char *type,
    const char *unit, const char *help)
{
	protocol_text_printf(t, "# TYPE %s %s\n", name, type);
	if (unit != NULL)
		protocol_text_printf(t, "# UNIT %s %s\n", name, unit);
	protocol_text_printf(t, "# HELP %s %s\n", name, help);
}

/* A label value between quotes, with \, " and newline escaped. */
static void
metrics_label(struct protocol_text *t, const char *value)
{
	const char *s, *run = value;

	METRICS_RAW(t, "\"");
	for (s = value; *s != '\0'; s++) {
		const char *esc;

		switch (*s) {
		case '\\':
			esc = "\\\\";
			break;
		case '"':
			esc = "\\\"";
			break;
		case '\n':
			esc = "\\n";
			break;
		default:
			continue;
		}
		protocol_text_raw(t, run, (size_t)(s - run));
		protocol_text_raw(t, esc, 2);
		run = s + 1;
	}
	protocol_text_raw(t, run, (size_t)(s - run));
	METRICS_RAW(t, "\"");
}

/* name{program="..."} value */
static void
metrics_sample(struct protocol_text *t, const char *name,
    const struct program *p, const char *value)
{
	protocol_text_printf(t, "%s{program=", name);
	metrics_label(t, p->cfg->name);
	protocol_text_printf(t, "} %s\n", value);
}

/* Every per-program family, each with a sample per program. */
static void
metrics_programs(struct protocol_text *t, const struct accounting *use)
{
	double now = platform_now();
	char v[64];

	metrics_family(t, "safeexitd_program_state", "stateset", NULL,
	    "The program's state: 1 for the one it is in.");
	for (size_t i = 0; i < programs.n; i++)
		for (int s = 0; s < PROGRAM_STATE_COUNT; s++) {
			const struct program *p = programs.v[i];

			METRICS_RAW(t, "safeexitd_program_state{program=");
			metrics_label(t, p->cfg->name);
			protocol_text_printf(t, ",safeexitd_program_state=\"%s\"} %d\n",
			    program_state_name(s), p->state == (enum program_state)s);
		}
	metrics_family(t, "safeexitd_program_up", "gauge", NULL,
	    "1 while the program is RUNNING, else 0.");
	for (size_t i = 0; i < programs.n; i++)
		metrics_sample(t, "safeexitd_program_up", programs.v[i],
		    programs.v[i]->state == STATE_RUNNING ? "1" : "0");
	metrics_family(t, "safeexitd_program_restarts", "counter", NULL,
	    "Automatic restarts since the daemon started.");
	for (size_t i = 0; i < programs.n; i++) {
		snprintf(v, sizeof v, "%d", programs.v[i]->restarts);
		metrics_sample(t, "safeexitd_program_restarts_total", programs.v[i], v);
	}
	metrics_family(t, "safeexitd_program_uptime_seconds", "gauge", "seconds",
	    "Seconds since the main process started; 0 when there is none.");
	for (size_t i = 0; i < programs.n; i++) {
		const struct program *p = programs.v[i];
		double up = p->main_alive ? now - p->started_at : 0;

		snprintf(v, sizeof v, "%.6f", up > 0 ? up : 0);
		metrics_sample(t, "safeexitd_program_uptime_seconds", p, v);
	}
	metrics_family(t, "safeexitd_program_cpu_seconds", "counter", "seconds",
	    "CPU time (user and system) of the program's processes.");
	for (size_t i = 0; i < programs.n; i++) {
		snprintf(v, sizeof v, "%.6f", use[i].cpu_seconds);
		metrics_sample(t, "safeexitd_program_cpu_seconds_total", programs.v[i], v);
	}
	metrics_family(t, "safeexitd_program_memory_bytes", "gauge", "bytes",
	    "Memory of the program: its cgroup's, or its process group's PSS.");
	for (size_t i = 0; i < programs.n; i++) {
		snprintf(v, sizeof v, "%llu", use[i].memory_bytes);
		metrics_sample(t, "safeexitd_program_memory_bytes", programs.v[i], v);
	}
	metrics_family(t, "safeexitd_program_oom_kills", "counter", NULL,
	    "Processes of the program the kernel killed for lack of memory.");
	for (size_t i = 0; i < programs.n; i++) {
		snprintf(v, sizeof v, "%llu", use[i].oom_kills);
		metrics_sample(t, "safeexitd_program_oom_kills_total", programs.v[i], v);
	}
}

/* How many programs are in each state. */
static void
metrics_daemon(struct protocol_text *t)
{
	size_t count[PROGRAM_STATE_COUNT] = { 0 };

	for (size_t i = 0; i < programs.n; i++)
		count[programs.v[i]->state]++;
	metrics_family(t, "safeexitd_programs", "gauge", NULL,
	    "Programs in each state.");
	for (int s = 0; s < PROGRAM_STATE_COUNT; s++)
		protocol_text_printf(t, "safeexitd_programs{state=\"%s\"} %zu\n",
		    program_state_name(s), count[s]);
}

/*
 * The last staged stop: when it began, how long it took, and how long each
 * stage took.  Nothing before the first one; a stage still running has no
 * duration yet.
 */
static void
metrics_last_stop(struct protocol_text *t)
{
	const struct timeline *tl = timeline_get();
	size_t killed = 0;

	if (!tl->valid)
		return;
	metrics_family(t, "safeexitd_last_stop_timestamp_seconds", "gauge",
	    "seconds", "When the last staged stop began (Unix time).");
	protocol_text_printf(t, "safeexitd_last_stop_timestamp_seconds %.3f\n",
	    tl->wall_begin);
	metrics_family(t, "safeexitd_last_stop_duration_seconds", "gauge",
	    "seconds", "How long the last staged stop took, once it is over.");
	if (tl->duration >= 0)
		protocol_text_printf(t, "safeexitd_last_stop_duration_seconds %.6f\n",
		    tl->duration);
	metrics_family(t, "safeexitd_last_stop_stage_duration_seconds", "gauge",
	    "seconds", "How long each stage of the last staged stop took.");
	for (size_t s = 0; s < tl->n_stages; s++)
		if (tl->stages[s].begin >= 0 && tl->stages[s].end >= 0)
			protocol_text_printf(t, "safeexitd_last_stop_stage_duration_seconds"
			    "{stage=\"%zu\"} %.6f\n", s + 1,
			    tl->stages[s].end - tl->stages[s].begin);
	for (size_t i = 0; i < tl->n; i++)
		killed += tl->v[i].kill >= 0;
	metrics_family(t, "safeexitd_last_stop_killed_programs", "gauge", NULL,
	    "Programs of the last staged stop that needed their kill_signal.");
	protocol_text_printf(t, "safeexitd_last_stop_killed_programs %zu\n", killed);
}
