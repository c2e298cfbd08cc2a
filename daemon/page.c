/*
 * /: the status page (docs/HTTP.md), and what its script fetches:
 * /timeline.json (the last staged stop, timeline.h) and /tail?program=NAME
 * (the last KiB of a program's stdout log file).  The page is written on
 * the server, every name HTML-escaped, so that it reads without its script;
 * the script only adds the buttons' POSTs to /api, the output view and a
 * refresh every few seconds.  The HTML, CSS and script are page.html.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "control-conn.h"
#include "http.h"
#include "platform.h"
#include "program.h"
#include "protocol.h"
#include "safeopen.h"
#include "timeline.h"

/* The most of a log file /tail sends. */
#define PAGE_TAIL_BYTES		1024

#define PAGE_RAW(t, lit)	protocol_text_raw((t), (lit), sizeof(lit) - 1)

extern const char page_html[];

static void page_index(struct control_conn *c);
static void page_fill(struct protocol_text *t, const char *name, size_t len);
static void page_html_escape(struct protocol_text *t, const char *s);
static void page_summary(struct protocol_text *t);
static void page_programs(struct protocol_text *t);
static void page_duration(char *buf, size_t len, double secs);
static void page_timeline(struct protocol_text *t);
static void page_timeline_row(struct protocol_text *t,
    const struct timeline_program *tp, double scale, bool holdup);
static void page_timeline_json(struct control_conn *c);
static void page_tail(struct control_conn *c, const char *query);
static int page_hex(char c);
static int page_query_value(const char *query, const char *key, char *buf,
    size_t len);

/* Route the page's requests: GET or HEAD only; the buttons POST to /api. */
void
page_serve(struct control_conn *c, const struct http_request *r)
{
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
		http_respond_error(c, 405, "only GET is served here");
		return;
	}
	if (strcmp(r->path, "/") == 0)
		page_index(c);
	else if (strcmp(r->path, "/timeline.json") == 0)
		page_timeline_json(c);
	else if (strcmp(r->path, "/tail") == 0)
		page_tail(c, r->query);
	else
		http_respond_error(c, 404, "not found");
}

/* The page: page.html with each @NAME@ filled in. */
static void
page_index(struct control_conn *c)
{
	struct protocol_text t = { 0 };
	const char *s = page_html, *at, *end;

	while ((at = strchr(s, '@')) != NULL) {
		end = strchr(at + 1, '@');
		if (end == NULL)
			break;
		protocol_text_raw(&t, s, (size_t)(at - s));
		page_fill(&t, at + 1, (size_t)(end - at - 1));
		s = end + 1;
	}
	protocol_text_raw(&t, s, strlen(s));
	if (t.failed) {
		protocol_text_free(&t);
		http_respond_error(c, 500, "out of memory");
		return;
	}
	http_respond(c, 200, "text/html; charset=utf-8", t.s, t.n);
	protocol_text_free(&t);
}

/* What goes in place of @name@; an unknown name is kept as it was. */
static void
page_fill(struct protocol_text *t, const char *name, size_t len)
{
#define PAGE_IS(lit)	(len == sizeof(lit) - 1 && memcmp(name, lit, len) == 0)
	if (PAGE_IS("CSRF"))
		page_html_escape(t, http_csrf_token());
	else if (PAGE_IS("SUMMARY"))
		page_summary(t);
	else if (PAGE_IS("PROGRAMS"))
		page_programs(t);
	else if (PAGE_IS("TIMELINE"))
		page_timeline(t);
	else {
		PAGE_RAW(t, "@");
		protocol_text_raw(t, name, len);
		PAGE_RAW(t, "@");
	}
#undef PAGE_IS
}

/* s with & < > " ' as entities: safe in text and in quoted attributes. */
static void
page_html_escape(struct protocol_text *t, const char *s)
{
	const char *run = s;

	for (; *s != '\0'; s++) {
		const char *ent;

		switch (*s) {
		case '&':
			ent = "&amp;";
			break;
		case '<':
			ent = "&lt;";
			break;
		case '>':
			ent = "&gt;";
			break;
		case '"':
			ent = "&quot;";
			break;
		case '\'':
			ent = "&#39;";
			break;
		default:
			continue;
		}
		protocol_text_raw(t, run, (size_t)(s - run));
		protocol_text_raw(t, ent, strlen(ent));
		run = s + 1;
	}
	protocol_text_raw(t, run, (size_t)(s - run));
}

/* "12 programs: 10 RUNNING, 2 STOPPED". */
static void
page_summary(struct protocol_text *t)
{
	size_t count[PROGRAM_STATE_COUNT] = { 0 };
	const char *sep = ": ";

	for (size_t i = 0; i < programs.n; i++)
		count[programs.v[i]->state]++;
	protocol_text_printf(t, "%zu program%s", programs.n,
	    programs.n == 1 ? "" : "s");
	for (int s = 0; s < PROGRAM_STATE_COUNT; s++) {
		if (count[s] == 0)
			continue;
		protocol_text_printf(t, "%s%zu %s", sep, count[s],
		    program_state_name(s));
		sep = ", ";
	}
}

/* "3d 4h", "2h 5m", "4m 10s", "7.2s". */
static void
page_duration(char *buf, size_t len, double secs)
{
	long s = (long)secs;

	if (secs < 60)
		snprintf(buf, len, "%.1fs", secs < 0 ? 0 : secs);
	else if (s < 3600)
		snprintf(buf, len, "%ldm %lds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%ldh %ldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%ldd %ldh", s / 86400, s % 86400 / 3600);
}

/* One table row per program, with its buttons. */
static void
page_programs(struct protocol_text *t)
{
	double now = platform_now();
	char up[32];

	for (size_t i = 0; i < programs.n; i++) {
		const struct program *p = programs.v[i];
		const char *state = program_state_name(p->state);

		PAGE_RAW(t, "<tr data-name=\"");
		page_html_escape(t, p->cfg->name);
		PAGE_RAW(t, "\"><td class=\"name\">");
		page_html_escape(t, p->cfg->name);
		protocol_text_printf(t, "</td><td class=\"state s-%s\">%s</td>",
		    state, state);
		if (p->main_alive) {
			page_duration(up, sizeof up, now - p->started_at);
			protocol_text_printf(t, "<td class=\"num\">%s</td>"
			    "<td class=\"num\">%d</td><td class=\"num\">%ld</td>",
			    up, p->restarts, (long)p->pid);
		} else
			protocol_text_printf(t, "<td class=\"num\"></td>"
			    "<td class=\"num\">%d</td><td class=\"num\"></td>",
			    p->restarts);
		PAGE_RAW(t, "<td><button data-cmd=\"start\">Start</button>"
		    "<button data-cmd=\"stop\">Stop</button>"
		    "<button data-cmd=\"restart\">Restart</button>"
		    "<button data-cmd=\"tail\">Output</button></td></tr>\n");
	}
}

/*
 * The last staged stop: a head line, then per stage a heading and a row
 * per program, its bar from its stop to its end on one scale for the whole
 * run, a mark where its kill_signal went out.  The program whose end ended
 * its stage is the one that held the stage up.  The record is in stop
 * order, so each stage is one slice of it.
 */
static void
page_timeline(struct protocol_text *t)
{
	const struct timeline *tl = timeline_get();
	double total, now = 0;
	char when[64], took[32];
	time_t began;
	struct tm tm;

	if (!tl->valid) {
		PAGE_RAW(t, "<p class=\"tl-head\">No staged stop yet.</p>\n");
		return;
	}
	began = (time_t)tl->wall_begin;
	if (gmtime_r(&began, &tm) == NULL ||
	    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(when, sizeof when, "?");
	total = tl->duration;
	for (size_t i = 0; i < tl->n; i++) {
		const struct timeline_program *tp = &tl->v[i];

		now = tp->gone > now ? tp->gone : now;
		now = tp->kill > now ? tp->kill : now;
		now = tp->stop > now ? tp->stop : now;
	}
	if (total < now)
		total = now;
	page_duration(took, sizeof took, total);
	/* The reason may come from a file: escaped like a name. */
	PAGE_RAW(t, "<p class=\"tl-head\">A stop (");
	page_html_escape(t, tl->reason);
	protocol_text_printf(t, ") of %zu program%s in %zu stage%s, begun %s%s: "
	    "%s %s.</p>\n", tl->n + tl->omitted,
	    tl->n + tl->omitted == 1 ? "" : "s", tl->n_stages,
	    tl->n_stages == 1 ? "" : "s", when,
	    tl->restored ? " (before the daemon last started)" : "",
	    tl->finished ? "took" : "still running after", took);
	PAGE_RAW(t, "<p class=\"legend\"><span><i style=\"background:#4f83cc\"></i>"
	    "stop signal to exit</span><span><i style=\"background:#cf222e\"></i>"
	    "needed its kill signal (black mark)</span><span><i style=\""
	    "outline:2px solid #24292f\"></i>held its stage up</span></p>\n");
	for (size_t i = 0, next; i < tl->n; i = next) {
		int stage = tl->v[i].stage;
		size_t slow = i;
		double d = -1;

		for (next = i; next < tl->n && tl->v[next].stage == stage; next++)
			if (tl->v[next].gone > tl->v[slow].gone)
				slow = next;
		if ((size_t)stage < tl->n_stages && tl->stages[stage].begin >= 0)
			d = (tl->stages[stage].end >= 0 ? tl->stages[stage].end :
			    total) - tl->stages[stage].begin;
		if (d >= 0)
			page_duration(took, sizeof took, d);
		protocol_text_printf(t, "<div class=\"tl-stage\" data-stage=\"%d\">"
		    "<span>Stage %d</span><span>%s</span></div>\n", stage + 1,
		    stage + 1, d >= 0 ? took : "not reached");
		for (size_t k = i; k < next; k++)
			page_timeline_row(t, &tl->v[k], total > 0 ? 100 / total : 0,
			    k == slow && tl->v[k].gone >= 0 && next - i > 1);
	}
	if (tl->omitted > 0)
		protocol_text_printf(t, "<p class=\"tl-head\">%zu more programs "
		    "not shown.</p>\n", tl->omitted);
}

/* One program of the timeline: name, bar, kill mark and how it ended. */
static void
page_timeline_row(struct protocol_text *t, const struct timeline_program *tp,
    double scale, bool holdup)
{
	char took[32];
	double end;

	PAGE_RAW(t, "<div class=\"tl-row\" data-program=\"");
	page_html_escape(t, tp->name);
	PAGE_RAW(t, "\"><span class=\"tl-name\">");
	page_html_escape(t, tp->name);
	PAGE_RAW(t, "</span><span class=\"tl-track\">");
	if (tp->stop >= 0) {
		end = tp->gone >= 0 ? tp->gone : tp->stop;
		protocol_text_printf(t, "<span class=\"tl-bar%s%s\" "
		    "style=\"left:%.3f%%;width:%.3f%%\"></span>",
		    tp->kill >= 0 ? " killed" : "", holdup ? " holdup" : "",
		    tp->stop * scale, (end - tp->stop) * scale);
	}
	if (tp->kill >= 0)
		protocol_text_printf(t, "<span class=\"tl-kill\" style=\"left:%.3f%%\""
		    " title=\"kill signal at %.2fs\"></span>", tp->kill * scale,
		    tp->kill);
	PAGE_RAW(t, "</span><span class=\"tl-how\">");
	switch (tp->end) {
	case TIMELINE_EXITED:
		page_duration(took, sizeof took, tp->gone - tp->stop);
		page_html_escape(t, tp->how[0] != '\0' ? tp->how : "gone");
		protocol_text_printf(t, " after %s%s", took,
		    tp->kill >= 0 ? ", killed" : "");
		break;
	case TIMELINE_NOT_RUNNING:
		PAGE_RAW(t, "not running");
		break;
	case TIMELINE_LEFT:
		PAGE_RAW(t, "left running");
		break;
	case TIMELINE_PENDING:
		PAGE_RAW(t, "stopping");
		break;
	}
	PAGE_RAW(t, "</span></div>\n");
}

/* The record as JSON: null before the first staged stop. */
static void
page_timeline_json(struct control_conn *c)
{
	struct json_object *o = timeline_json();
	const char *s;

	s = o != NULL ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) :
	    "null";
	http_respond(c, 200, "application/json", s, strlen(s));
	json_object_put(o);
}

/* The value of a hex digit, or -1. */
static int
page_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The value of key in a query string, %XX and + decoded; -1 when it is
 * missing, too long, badly encoded or decodes to a NUL.
 */
static int
page_query_value(const char *query, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key), n = 0;
	const char *s = query;

	while (s != NULL && *s != '\0') {
		if (strncmp(s, key, klen) == 0 && s[klen] == '=') {
			for (s += klen + 1; *s != '\0' && *s != '&'; s++) {
				int ch = (unsigned char)*s, hi, lo;

				if (ch == '+')
					ch = ' ';
				else if (ch == '%') {
					/* s[2] is only read once s[1] is a digit. */
					if ((hi = page_hex(s[1])) < 0 ||
					    (lo = page_hex(s[2])) < 0)
						return -1;
					ch = hi * 16 + lo;
					s += 2;
				}
				if (ch == 0 || n + 1 >= len)
					return -1;
				buf[n++] = (char)ch;
			}
			buf[n] = '\0';
			return 0;
		}
		s = strchr(s, '&');
		if (s != NULL)
			s++;
	}
	return -1;
}

/*
 * The last KiB of the program's stdout log file, from its first whole line
 * on.  The file is opened as safeopen does (no link, no FIFO or device:
 * nothing that could block), and read with one pread of a bounded size.
 */
static void
page_tail(struct control_conn *c, const char *query)
{
	char name[256], err[512], buf[PAGE_TAIL_BYTES];
	const struct program *p;
	const struct output_config *out;
	struct stat st;
	off_t from;
	ssize_t n;
	char *start;
	int fd;

	if (page_query_value(query, "program", name, sizeof name) == -1) {
		http_respond_error(c, 400, "say which program: /tail?program=NAME");
		return;
	}
	if ((p = program_find(name)) == NULL) {
		http_respond_error(c, 404, "no such program");
		return;
	}
	out = &p->cfg->out;
	if (out->kind != OUTPUT_FILE || out->path == NULL) {
		http_respond_error(c, 404, "its stdout does not go to a file");
		return;
	}
	fd = safeopen(out->path, O_RDONLY, 0, SAFEOPEN_REG, &st, err, sizeof err);
	if (fd == -1) {
		http_respond_error(c, errno == ENOENT ? 404 : 403, "%s", err);
		return;
	}
	from = st.st_size > PAGE_TAIL_BYTES ? st.st_size - PAGE_TAIL_BYTES : 0;
	n = pread(fd, buf, sizeof buf, from);
	close(fd);
	if (n < 0) {
		http_respond_error(c, 500, "cannot read the log file");
		return;
	}
	start = buf;
	if (from > 0) {
		char *nl = memchr(buf, '\n', (size_t)n);

		if (nl != NULL && nl + 1 < buf + n)
			start = nl + 1;
	}
	http_respond(c, 200, "text/plain; charset=utf-8", start,
	    (size_t)(buf + n - start));
}
