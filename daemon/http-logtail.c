/*
 * supervisord's /logtail/NAME[/stdout|stderr] and /mainlogtail: the last
 * KiB of a log file, then whatever is appended to it, as one response that
 * ends only when the client goes away (supervisorctl's tail -f and
 * maintail -f).  The file is looked at four times a second while someone
 * follows it, and never otherwise; a file that shrank or was replaced (a
 * rotation, a clear) is followed again from its start.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "control-conn.h"
#include "http.h"
#include "log.h"
#include "program.h"
#include "rpc.h"
#include "safeexitd.h"
#include "safeopen.h"
#include "xmalloc.h"

/* The first answer: this much of the end of the file, as supervisord. */
#define LOGTAIL_FIRST	1024
/* At most this much is read a look, and never while the client is this far
 * behind in reading. */
#define LOGTAIL_STEP	65536

struct logtail {
	struct control_conn	*c;
	char			*path;
	int			 fd;
	dev_t			 dev;
	ino_t			 ino;
	off_t			 at;		/* sent up to here */
	struct event		*tick;
};

static const char *logtail_path(const char *target);
static int	logtail_open(struct logtail *, off_t);
static void	logtail_send(struct logtail *);
static void	logtail_tick(evutil_socket_t, short, void *);
static void	logtail_stop(void *);

/* See http.h. */
void
logtail_serve(struct control_conn *c, const struct http_request *r)
{
	static const struct timeval	 quarter = { 0, 250000 };
	struct logtail			*t;
	const char			*path;

	if (strcmp(r->method, "GET") != 0) {
		http_respond_error(c, 405, "GET only");
		return;
	}
	if ((path = logtail_path(r->path)) == NULL) {
		http_respond_error(c, 404, "no such log file");
		return;
	}
	t = xcalloc(1, sizeof *t);
	t->c = c;
	t->path = xstrdup(path);
	if (logtail_open(t, -LOGTAIL_FIRST) == -1 ||
	    (t->tick = event_new(event_get_base(c->idle), -1, EV_PERSIST,
	    logtail_tick, t)) == NULL) {
		if (t->fd != -1)
			close(t->fd);
		free(t->path);
		free(t);
		http_respond_error(c, 404, "no such log file");
		return;
	}
	http_stream_begin(c, "text/plain;charset=utf-8", logtail_stop, t);
	logtail_send(t);
	evtimer_add(t->tick, &quarter);
}

/*
 * The file a target names: "/logtail/NAME[/CHANNEL]" (supervisord's
 * names, G:P) or "/mainlogtail"; NULL when it names none.
 */
static const char *
logtail_path(const char *target)
{
	char			 spec[256], group[256], proc[256];
	const char		*rest, *slash;
	const struct program	*p;
	const struct output_config *o;
	bool			 whole, err = false;

	if (strcmp(target, "/mainlogtail") == 0) {
		rest = daemon_config()->log;
		return (log_get_target() == LOG_TARGET_FILE && rest != NULL &&
		    rest[0] == '/' ? rest : NULL);
	}
	if (strncmp(target, "/logtail/", 9) != 0)
		return (NULL);
	rest = target + 9;
	if ((slash = strchr(rest, '/')) != NULL) {
		if (strcmp(slash + 1, "stderr") == 0)
			err = true;
		else if (strcmp(slash + 1, "stdout") != 0)
			return (NULL);
	} else
		slash = rest + strlen(rest);
	if ((size_t)(slash - rest) >= sizeof spec)
		return (NULL);
	memcpy(spec, rest, (size_t)(slash - rest));
	spec[slash - rest] = '\0';
	rpc_split(spec, group, sizeof group, proc, sizeof proc, &whole);
	if (whole || (p = rpc_find(group, proc)) == NULL)
		return (NULL);
	o = err ? &p->cfg->err : &p->cfg->out;
	return (o->kind == OUTPUT_FILE ? o->path : NULL);
}

/*
 * Open the file, to be followed from from (from its end when negative);
 * -1 when it cannot be had (no file yet, not a regular file).
 */
static int
logtail_open(struct logtail *t, off_t from)
{
	struct stat	st;
	char		why[256];

	t->fd = safeopen(t->path, O_RDONLY, 0, SAFEOPEN_REG, &st, why,
	    sizeof why);
	if (t->fd == -1)
		return (-1);
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	t->at = from >= 0 ? from : st.st_size + from;
	if (t->at < 0)
		t->at = 0;
	return (0);
}

/* Send what was appended since the last look, as much as is due. */
static void
logtail_send(struct logtail *t)
{
	char	buf[LOGTAIL_STEP];
	ssize_t	n;

	if (t->fd == -1 || control_link_pending(t->c->link) >= LOGTAIL_STEP)
		return;
	n = pread(t->fd, buf, sizeof buf, t->at);
	if (n > 0) {
		t->at += n;
		http_stream_write(t->c, buf, (size_t)n);
	}
}

/* A look at the file: replaced or cut short, it is followed anew. */
static void
logtail_tick(evutil_socket_t fd, short what, void *arg)
{
	struct logtail	*t = arg;
	struct stat	 st;

	(void)fd;
	(void)what;
	if (stat(t->path, &st) == -1) {
		if (t->fd != -1) {
			close(t->fd);
			t->fd = -1;
		}
		return;
	}
	if (t->fd == -1 || st.st_dev != t->dev || st.st_ino != t->ino ||
	    st.st_size < t->at) {
		if (t->fd != -1)
			close(t->fd);
		if (logtail_open(t, 0) == -1)
			return;
	}
	logtail_send(t);
}

/* The client went away. */
static void
logtail_stop(void *arg)
{
	struct logtail	*t = arg;

	event_free(t->tick);
	if (t->fd != -1)
		close(t->fd);
	free(t->path);
	free(t);
}
