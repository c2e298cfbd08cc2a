/*
 * safeexitctl top.  Each refresh is one status request; CPU % is the
 * difference of two samples of a program's cpu_seconds over the time
 * between them (100% is one CPU busy).  Printed once when stdout is not a
 * terminal, after two samples a second apart.  On a terminal the table is
 * redrawn in place (ANSI home and clear) and the keyboard is read without
 * echo, a key at a time, so q quits at once; the terminal's settings are
 * restored however top ends.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _WIN32
#include <windows.h>
#else
#include <poll.h>
#include <termios.h>
#endif

#include <json-c/json.h>

#include "safeexitctl.h"
#include "top.h"

/* Seconds between refreshes. */
#define TOP_PERIOD	1.0

/* One program's cpu_seconds at a time. */
struct top_sample {
	char	*name;
	double	 cpu;
};

struct top_samples {
	struct top_sample	*v;
	size_t			 n;
	double			 at;	/* client_now() */
};

static volatile sig_atomic_t top_interrupted;
#ifndef _WIN32
static struct termios top_saved;
static bool top_raw;
static bool top_cursor_hidden;
#endif

static int top_fetch(struct json_object **programs, struct json_object **reply);
static void top_remember(struct top_samples *s, struct json_object *programs,
    double at);
static void top_forget(struct top_samples *s);
static double top_cpu_before(const struct top_samples *s, const char *name,
    bool *found);
static void top_print(struct json_object *programs,
    const struct top_samples *before, double now, bool screen);
static const char *top_bytes(unsigned long long b, char *buf, size_t len);

/* One status request: the reply and its programs, or an exit code. */
static int
top_fetch(struct json_object **programs, struct json_object **reply)
{
	int r;

	if ((r = client_call("status", 0, NULL, CLIENT_QUICK, reply)) !=
	    CTL_EXIT_DONE)
		return r;
	if ((r = client_reply_error(*reply)) != CTL_EXIT_DONE) {
		json_object_put(*reply);
		return r;
	}
	if (!json_object_object_get_ex(*reply, "programs", programs) ||
	    !json_object_is_type(*programs, json_type_array))
		*programs = NULL;
	return CTL_EXIT_DONE;
}

/* A string member of p, or "". */
static const char *
top_string(struct json_object *p, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(p, key, &v) || v == NULL)
		return "";
	return json_object_get_string(v);
}

/* A number member of p, or 0 (null). */
static double
top_number(struct json_object *p, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(p, key, &v) || v == NULL)
		return 0;
	return json_object_get_double(v);
}

/* Keep each program's cpu_seconds, taken at at. */
static void
top_remember(struct top_samples *s, struct json_object *programs, double at)
{
	size_t n = programs != NULL ? json_object_array_length(programs) : 0;

	top_forget(s);
	if (n > 0 && (s->v = calloc(n, sizeof *s->v)) == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(programs, i);

		if ((s->v[s->n].name = strdup(top_string(p, "name"))) == NULL)
			break;
		s->v[s->n++].cpu = top_number(p, "cpu_seconds");
	}
	s->at = at;
}

/* Drop the samples. */
static void
top_forget(struct top_samples *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].name);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* name's cpu_seconds in s. */
static double
top_cpu_before(const struct top_samples *s, const char *name, bool *found)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0) {
			*found = true;
			return s->v[i].cpu;
		}
	*found = false;
	return 0;
}

/* A byte count as top shows it: 512K, 12.3M, 1.5G. */
static const char *
top_bytes(unsigned long long b, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	double v = (double)b / 1024;
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof units - 1) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, v < 10 && u > 0 ? "%.1f%c" : "%.0f%c", v, units[u]);
	return buf;
}

/* The table, after the home-and-clear sequence on a terminal. */
static void
top_print(struct json_object *programs, const struct top_samples *before,
    double now, bool screen)
{
	size_t n = programs != NULL ? json_object_array_length(programs) : 0;
	int width = 4;
	char mem[32], cpu[16], pid[16];

	for (size_t i = 0; i < n; i++) {
		int len = (int)strlen(top_string(json_object_array_get_idx(programs,
		    i), "name"));

		if (len > width)
			width = len;
	}
	if (screen)
		fputs("\033[H\033[2J", stdout);
	printf("%-*s  %-8s  %7s  %6s  %8s  %8s  %4s%s", width, "NAME", "STATE",
	    "PID", "CPU%", "MEMORY", "RESTARTS", "OOM", "\n");
	for (size_t i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(programs, i);
		const char *name = top_string(p, "name");
		double seconds = top_number(p, "cpu_seconds"), was;
		bool found;

		was = top_cpu_before(before, name, &found);
		if (found && now > before->at)
			snprintf(cpu, sizeof cpu, "%.1f", seconds > was ?
			    (seconds - was) / (now - before->at) * 100 : 0.0);
		else
			snprintf(cpu, sizeof cpu, "-");
		if (top_number(p, "pid") > 0)
			snprintf(pid, sizeof pid, "%.0f", top_number(p, "pid"));
		else
			snprintf(pid, sizeof pid, "-");
		printf("%-*s  %-8s  %7s  %6s  %8s  %8.0f  %4.0f%s", width, name,
		    top_string(p, "state"), pid, cpu,
		    top_bytes((unsigned long long)top_number(p, "memory_bytes"),
		    mem, sizeof mem), top_number(p, "restarts"),
		    top_number(p, "oom_kills"), "\n");
	}
	if (screen)
		fputs("\nq: quit\n", stdout);
	fflush(stdout);
}

#ifndef _WIN32
/* Ctrl-C, or a signal to stop: end the loop, restore the terminal. */
static void
top_on_signal(int sig)
{
	(void)sig;
	top_interrupted = 1;
}

/* Put the terminal back as it was. */
static void
top_restore(void)
{
	if (top_raw) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &top_saved);
		top_raw = false;
	}
	if (top_cursor_hidden) {
		fputs("\033[?25h", stdout);
		fflush(stdout);
		top_cursor_hidden = false;
	}
}

/* Keys one at a time, without echo; Ctrl-C still a signal. */
static void
top_keyboard(void)
{
	struct termios raw;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &top_saved) == -1)
		return;
	raw = top_saved;
	raw.c_lflag &= (tcflag_t)~(ICANON | ECHO);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0)
		top_raw = true;
}

/* Wait up to secs for q; true when it was pressed (or stdin closed). */
static bool
top_wait_key(double secs)
{
	double until = client_now() + secs;
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	char c;

	while (!top_interrupted) {
		double left = until - client_now();
		int r;

		if (left <= 0)
			return false;
		if (!top_raw) {
			/* No keyboard: just wait. */
			r = poll(NULL, 0, (int)(left * 1000) + 1);
			continue;
		}
		r = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (r > 0) {
			ssize_t got = read(STDIN_FILENO, &c, 1);

			if (got == 0 || (got == 1 && (c == 'q' || c == 'Q')))
				return true;
		} else if (r == -1 && errno != EINTR)
			return false;
	}
	return true;
}

/* Redraw each second until q, Ctrl-C or a lost daemon. */
static int
top_live(void)
{
	struct top_samples before = { 0 };
	struct json_object *reply, *programs;
	struct sigaction sa;
	int r = CTL_EXIT_DONE;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = top_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	top_keyboard();
	atexit(top_restore);
	fputs("\033[?25l", stdout);
	top_cursor_hidden = true;
	while (!top_interrupted) {
		double now;

		if ((r = top_fetch(&programs, &reply)) != CTL_EXIT_DONE)
			break;
		now = client_now();
		top_print(programs, &before, now, true);
		top_remember(&before, programs, now);
		json_object_put(reply);
		if (top_wait_key(TOP_PERIOD))
			break;
	}
	top_restore();
	top_forget(&before);
	return r;
}
#endif

/* Two samples a second apart, for CPU %, then the table once. */
static int
top_once(void)
{
	struct top_samples before = { 0 };
	struct json_object *reply, *programs;
	int r;

	if ((r = top_fetch(&programs, &reply)) != CTL_EXIT_DONE)
		return r;
	top_remember(&before, programs, client_now());
	json_object_put(reply);
#ifdef _WIN32
	Sleep((DWORD)(TOP_PERIOD * 1000));
#else
	usleep((useconds_t)(TOP_PERIOD * 1e6));
#endif
	if ((r = top_fetch(&programs, &reply)) == CTL_EXIT_DONE) {
		top_print(programs, &before, client_now(), false);
		json_object_put(reply);
	}
	top_forget(&before);
	return r;
}

int
top_run(void)
{
#ifndef _WIN32
	if (isatty(STDOUT_FILENO))
		return top_live();
#endif
	return top_once();
}
