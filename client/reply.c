/*
 * Reading the daemon's replies: the programs it lists, the names it does
 * not know, and the status lines and JSON that safeexitctl(1) documents.
 */
#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "protocol.h"
#include "reply.h"
#include "safeexitctl.h"

#define STATE_WIDTH	8	/* STARTING, STOPPING */

static void	prog_detail(struct json_object *, char *, size_t);
static bool	program_trim_to_spec(struct json_object *);
static void	format_uptime(double, char *, size_t);

/* The reply's "programs" array, or NULL. */
struct json_object *
reply_programs(struct json_object *reply)
{
	struct json_object	*programs;

	if (!json_object_object_get_ex(reply, "programs", &programs) ||
	    !json_object_is_type(programs, json_type_array))
		return (NULL);
	return (programs);
}

/* Report the names the daemon does not know; returns how many. */
int
reply_unknown(struct json_object *reply)
{
	struct json_object	*list;
	size_t			 i, n;

	if (!json_object_object_get_ex(reply, "unknown", &list) ||
	    !json_object_is_type(list, json_type_array))
		return (0);
	n = json_object_array_length(list);
	for (i = 0; i < n; i++)
		ctl_warnx("no such program: %s", json_object_get_string(
		    json_object_array_get_idx(list, i)));
	return ((int)n);
}

/* A string field, or "" when absent or null. */
const char *
prog_string(struct json_object *p, const char *key)
{
	struct json_object	*val;

	if (!json_object_object_get_ex(p, key, &val) ||
	    !json_object_is_type(val, json_type_string))
		return ("");
	return (json_object_get_string(val));
}

/* An integer field that is present and not null. */
bool
prog_int(struct json_object *p, const char *key, int64_t *out)
{
	struct json_object	*val;

	if (!json_object_object_get_ex(p, key, &val) ||
	    !json_object_is_type(val, json_type_int))
		return (false);
	*out = json_object_get_int64(val);
	return (true);
}

/* Whether a program's state is one of want. */
bool
prog_in(struct json_object *p, const char *const *want)
{
	const char	*state = prog_string(p, "state");

	for (; *want != NULL; want++)
		if (strcmp(state, *want) == 0)
			return (true);
	return (false);
}

/* The last column of a status line; see the top of this file. */
static void
prog_detail(struct json_object *p, char *buf, size_t size)
{
	struct json_object	*val;
	const char		*s;
	char			 up[64];
	int64_t			 pid, code;

	buf[0] = '\0';
	if (prog_int(p, "pid", &pid) && pid > 0) {
		if (json_object_object_get_ex(p, "uptime", &val) &&
		    (json_object_is_type(val, json_type_double) ||
		    json_object_is_type(val, json_type_int))) {
			format_uptime(json_object_get_double(val), up,
			    sizeof up);
			snprintf(buf, size, "pid %lld, uptime %s",
			    (long long)pid, up);
		} else
			snprintf(buf, size, "pid %lld", (long long)pid);
		return;
	}
	s = prog_string(p, "state");
	if ((strcmp(s, "FATAL") == 0 || strcmp(s, "BACKOFF") == 0) &&
	    *(s = prog_string(p, "error")) != '\0')
		snprintf(buf, size, "%s", s);
	else if (*(s = prog_string(p, "signal")) != '\0')
		snprintf(buf, size, "signal %s", s);
	else if (prog_int(p, "exit_code", &code))
		snprintf(buf, size, "exit %lld", (long long)code);
	else if (*(s = prog_string(p, "error")) != '\0')
		/* An adopted process whose exit only its parent saw. */
		snprintf(buf, size, "%s", s);
}

/* The detail column, then the daemon's note on readiness and health. */
static void
prog_detail_note(struct json_object *p, char *buf, size_t size)
{
	const char	*note;
	size_t		 n;

	prog_detail(p, buf, size);
	if (*(note = prog_string(p, "note")) == '\0')
		return;
	n = strlen(buf);
	snprintf(buf + n, size - n, "%s%s", n > 0 ? "; " : "", note);
}

/* Aligned status lines, no header. */
void
programs_print(struct json_object *programs)
{
	struct json_object	*p;
	char			 detail[1024];
	size_t			 i, n, len, width = 4;

	if (programs == NULL)
		return;
	n = json_object_array_length(programs);
	for (i = 0; i < n; i++) {
		len = strlen(prog_string(json_object_array_get_idx(programs,
		    i), "name"));
		if (len > width)
			width = len;
	}
	for (i = 0; i < n; i++) {
		p = json_object_array_get_idx(programs, i);
		prog_detail_note(p, detail, sizeof detail);
		if (detail[0] == '\0')
			printf("%-*s  %s\n", (int)width, prog_string(p, "name"),
			    prog_string(p, "state"));
		else
			printf("%-*s  %-*s  %s\n", (int)width,
			    prog_string(p, "name"), STATE_WIDTH,
			    prog_string(p, "state"), detail);
	}
}

/* The keys of a program in safeexitctl(1)'s JSON OUTPUT, in its order. */
static const char *const spec_keys[] = {
	"name", "state", "pid", "uptime", "exit_code", "signal", "restarts",
	"ready", "health", "status_text",
	"cpu_seconds", "memory_bytes", "oom_kills", NULL
};

/*
 * Whether p starts with exactly those keys in that order (the daemon
 * sends them so); then dropping what follows gives it the documented
 * shape as it is, without building a copy of every program.
 */
static bool
program_trim_to_spec(struct json_object *p)
{
	struct json_object_iterator	 it, end;
	char				*extra[16];
	size_t				 k = 0, n_extra = 0;
	bool				 ok = true;

	if (!json_object_is_type(p, json_type_object))
		return (false);
	it = json_object_iter_begin(p);
	end = json_object_iter_end(p);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char	*key = json_object_iter_peek_name(&it);

		if (spec_keys[k] != NULL) {
			if (strcmp(key, spec_keys[k]) != 0) {
				ok = false;
				break;
			}
			k++;
		} else if (n_extra == sizeof extra / sizeof extra[0] ||
		    (extra[n_extra++] = strdup(key)) == NULL) {
			ok = false;
			break;
		}
	}
	ok = ok && spec_keys[k] == NULL;
	/* Copies of the keys: deleting an entry frees its own. */
	for (size_t i = 0; i < n_extra; i++) {
		if (ok && extra[i] != NULL)
			json_object_object_del(p, extra[i]);
		free(extra[i]);
	}
	return (ok);
}

/*
 * Programs as safeexitctl(1) shows them: these keys, in this order.  The
 * objects of programs are trimmed to that shape and shared where they can
 * be, so programs is changed too.
 */
struct json_object *
programs_spec(struct json_object *programs)
{
	struct json_object	*out, *p, *q, *val;
	size_t			 i, n, k;

	if ((out = json_object_new_array()) == NULL)
		return (NULL);
	n = programs != NULL ? json_object_array_length(programs) : 0;
	for (i = 0; i < n; i++) {
		p = json_object_array_get_idx(programs, i);
		if (program_trim_to_spec(p)) {
			json_object_array_add(out, json_object_get(p));
			continue;
		}
		if ((q = json_object_new_object()) == NULL)
			break;
		for (k = 0; spec_keys[k] != NULL; k++)
			json_object_object_add(q, spec_keys[k],
			    json_object_object_get_ex(p, spec_keys[k], &val) ?
			    json_object_get(val) : NULL);
		json_object_array_add(out, q);
	}
	return (out);
}

/* "0:12:05", or "2 days, 3:04:05", as supervisorctl shows it. */
static void
format_uptime(double secs, char *buf, size_t size)
{
	long long	t, d, h, m, s;

	t = secs > 0 ? (long long)secs : 0;
	d = t / 86400;
	h = t / 3600 % 24;
	m = t / 60 % 60;
	s = t % 60;
	if (d > 0)
		snprintf(buf, size, "%lld day%s, %lld:%02lld:%02lld", d,
		    d == 1 ? "" : "s", h, m, s);
	else
		snprintf(buf, size, "%lld:%02lld:%02lld", h, m, s);
}
