/*
 * supervisord's event listener protocol (see eventlistener.h).  Each pool
 * keeps a FIFO of at most buffer_size events; each listener process has a
 * pipe for its stdin (we write) and one for its stdout (we read), made at
 * each spawn, and a protocol state as supervisord's dispatchers.py has it:
 * ACKNOWLEDGED -> READY ("READY\n") -> BUSY (we sent an event) ->
 * ACKNOWLEDGED ("RESULT N\n" and N bytes); anything else -> UNKNOWN, where
 * it gets no more events until it is started again.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "eventlistener.h"
#include "events.h"
#include "log.h"
#include "program.h"
#include "ptrmap.h"

#define LISTENER_READ_MAX	8192	/* a READY or RESULT line is short */
#define LISTENER_ENV		"SAFEEXITD_LISTENERS"

enum listener_state { L_ACKNOWLEDGED, L_READY, L_BUSY, L_UNKNOWN };
static const char *const listener_state_names[] = {
	"ACKNOWLEDGED", "READY", "BUSY", "UNKNOWN",
};

/* One event, shared by every pool that took it. */
struct raised {
	unsigned refs;
	unsigned long long serial;
	enum event_type type;
	char *payload;
	size_t len;
};

struct queued {
	struct raised *ev;
	unsigned long long poolserial;
};

struct pool {
	char *name;
	events_mask mask;
	size_t buffer_size;
	struct queued *buf;	/* buf[0] is the next to send */
	size_t n;
	unsigned long long next_serial;
	bool seen;		/* scratch for eventlistener_sync */
};

struct listener {
	struct program *p;
	struct pool *pool;
	enum listener_state state;
	int in_fd, out_fd;	/* our ends: its stdin, its stdout */
	int child_in, child_out;	/* its ends, open only around a spawn */
	struct event *rev, *wev;
	char rbuf[LISTENER_READ_MAX];
	size_t rlen;
	long result_len;	/* -1: the RESULT line is not read yet */
	struct queued busy;	/* the event it has, ev NULL when none */
	char *wbuf;		/* header and payload not yet written */
	size_t wlen, woff;
	bool seen;
};

static struct event_base *base;
static char *server_name;
static struct pool **pools;
static size_t n_pools;
static struct listener **listeners;
static size_t n_listeners;
static unsigned long long global_serial;
static events_mask subscribed;	/* the union of every pool's mask */
static struct event *tick_ev;
static long long last_tick[3];
static struct ptrmap last_pid;	/* program -> pid of its last process */
static char **group_names;	/* the groups announced so far */
static size_t n_group_names;
static bool dispatching;

static void listener_changed(struct program *p, enum program_state old,
    void *arg);
static void listener_raise(enum event_type t, char *payload, size_t len);
static void listener_dispatch(void);
static void listener_send(struct listener *l, struct queued q);
static void listener_rebuffer(struct listener *l);
static void listener_set_state(struct listener *l, enum listener_state s);
static void listener_read_cb(evutil_socket_t fd, short what, void *arg);
static void listener_write_cb(evutil_socket_t fd, short what, void *arg);
static void listener_parse(struct listener *l);
static void listener_close(struct listener *l);
static void listener_tick_arm(void);
static void listener_tick_cb(evutil_socket_t fd, short what, void *arg);
static bool listener_import(void);
static struct listener *listener_get(struct program *p);
static struct pool *pool_get(const struct program *p);
static void listener_rebuffer(struct listener *l);
static void raised_unref(struct raised *ev);

void
eventlistener_init(struct event_base *b, const char *identifier)
{
	base = b;
	free(server_name);
	if ((server_name = strdup(identifier != NULL ? identifier :
	    "supervisor")) == NULL)
		fatal("%s", __func__);
	program_observe(listener_changed, NULL);
}

bool
eventlistener_is(const struct program_config *pc)
{
	return pc != NULL && pc->kind == PROGRAM_KIND_EVENTLISTENER;
}

/* The listener of program p, or NULL. */
static struct listener *
listener_find(const struct program *p)
{
	for (size_t i = 0; i < n_listeners; i++)
		if (listeners[i]->p == p)
			return listeners[i];
	return NULL;
}

/* The listener of program p, made when new; its pool from p's settings. */
static struct listener *
listener_get(struct program *p)
{
	struct listener *l;

	if ((l = listener_find(p)) == NULL) {
		if ((l = calloc(1, sizeof *l)) == NULL ||
		    (listeners = realloc(listeners, (n_listeners + 1) *
		    sizeof *listeners)) == NULL)
			fatal("%s", __func__);
		l->p = p;
		l->in_fd = l->out_fd = l->child_in = l->child_out = -1;
		l->result_len = -1;
		l->state = L_ACKNOWLEDGED;
		listeners[n_listeners++] = l;
	}
	l->pool = pool_get(p);
	subscribed |= l->pool->mask;
	return l;
}

/* Forget the listener of a program that is going away. */
static void
listener_drop(struct listener *l)
{
	size_t i;

	listener_rebuffer(l);
	listener_close(l);
	for (i = 0; i < n_listeners && listeners[i] != l; i++)
		;
	if (i < n_listeners) {
		memmove(&listeners[i], &listeners[i + 1],
		    (n_listeners - i - 1) * sizeof *listeners);
		n_listeners--;
	}
	free(l);
}

/* The pool called name, or NULL. */
static struct pool *
pool_find(const char *name)
{
	for (size_t i = 0; i < n_pools; i++)
		if (strcmp(pools[i]->name, name) == 0)
			return pools[i];
	return NULL;
}

/* The pool of listener program p, made or updated from its settings. */
static struct pool *
pool_get(const struct program *p)
{
	char group[CONFIG_NAME_MAX * 2 + 2];
	const char *process, *bad;
	struct pool *pool;

	events_split_name(p->cfg->name, group, sizeof group, &process);
	if ((pool = pool_find(group)) == NULL) {
		if ((pool = calloc(1, sizeof *pool)) == NULL ||
		    (pool->name = strdup(group)) == NULL ||
		    (pools = realloc(pools, (n_pools + 1) * sizeof *pools)) == NULL)
			fatal("%s", __func__);
		pools[n_pools++] = pool;
	}
	pool->mask = events_parse(p->cfg->events, &bad);
	pool->buffer_size = p->cfg->buffer_size > 0 ? (size_t)p->cfg->buffer_size : 10;
	pool->seen = true;
	return pool;
}

/* Drop a pool that no listener uses any more, with what it still holds. */
static void
pool_free(struct pool *pool)
{
	for (size_t i = 0; i < pool->n; i++)
		raised_unref(pool->buf[i].ev);
	free(pool->buf);
	free(pool->name);
	free(pool);
}

/* Whether group was announced with PROCESS_GROUP_ADDED. */
static bool
group_known(const char *group)
{
	for (size_t i = 0; i < n_group_names; i++)
		if (strcmp(group_names[i], group) == 0)
			return true;
	return false;
}

/* Announce the groups that came or went since the last sync. */
static void
listener_sync_groups(bool quiet)
{
	char group[CONFIG_NAME_MAX * 2 + 2], **now = NULL;
	const char *process;
	size_t n_now = 0, len;
	char *payload;

	for (size_t i = 0; i < programs.n; i++) {
		bool dup = false;

		if (programs.v[i]->removed)
			continue;
		events_split_name(programs.v[i]->cfg->name, group, sizeof group,
		    &process);
		for (size_t j = 0; j < n_now && !dup; j++)
			dup = strcmp(now[j], group) == 0;
		if (dup)
			continue;
		if ((now = realloc(now, (n_now + 1) * sizeof *now)) == NULL ||
		    (now[n_now++] = strdup(group)) == NULL)
			fatal("%s", __func__);
	}
	for (size_t i = 0; i < n_group_names; i++) {
		bool kept = false;

		for (size_t j = 0; j < n_now && !kept; j++)
			kept = strcmp(now[j], group_names[i]) == 0;
		if (!kept && !quiet && (subscribed & EVENTS_BIT(EVT_PROCESS_GROUP_REMOVED))) {
			payload = events_group(group_names[i], &len);
			listener_raise(EVT_PROCESS_GROUP_REMOVED, payload, len);
		}
	}
	for (size_t j = 0; j < n_now; j++)
		if (!group_known(now[j]) && !quiet &&
		    (subscribed & EVENTS_BIT(EVT_PROCESS_GROUP_ADDED))) {
			payload = events_group(now[j], &len);
			listener_raise(EVT_PROCESS_GROUP_ADDED, payload, len);
		}
	for (size_t i = 0; i < n_group_names; i++)
		free(group_names[i]);
	free(group_names);
	group_names = now;
	n_group_names = n_now;
}

void
eventlistener_sync(void)
{
	static bool synced;
	bool quiet = false;
	size_t k;

	if (base == NULL)
		return;
	if (!synced) {
		synced = true;
		quiet = listener_import();
	}
	for (size_t i = 0; i < n_pools; i++)
		pools[i]->seen = false;
	for (size_t i = 0; i < n_listeners; i++)
		listeners[i]->seen = false;
	for (size_t i = 0; i < programs.n; i++) {
		struct program *p = programs.v[i];

		if (eventlistener_is(p->cfg) && !p->removed)
			listener_get(p)->seen = true;
	}
	for (size_t i = k = 0; i < n_listeners; i++) {
		if (listeners[i]->seen) {
			listeners[k++] = listeners[i];
			continue;
		}
		listener_close(listeners[i]);
		free(listeners[i]);
	}
	n_listeners = k;
	subscribed = 0;
	for (size_t i = k = 0; i < n_pools; i++) {
		if (!pools[i]->seen) {
			pool_free(pools[i]);
			continue;
		}
		subscribed |= pools[i]->mask;
		pools[k++] = pools[i];
	}
	n_pools = k;
	/* After a re-exec the groups were announced by the daemon before. */
	listener_sync_groups(quiet);
	listener_tick_arm();
	listener_dispatch();
}

void
eventlistener_supervisor_state(bool running)
{
	enum event_type t = running ? EVT_SUPERVISOR_STATE_CHANGE_RUNNING :
	    EVT_SUPERVISOR_STATE_CHANGE_STOPPING;
	char *payload;

	if (!(subscribed & EVENTS_BIT(t)))
		return;
	if ((payload = strdup("")) == NULL)
		fatal("%s", __func__);
	listener_raise(t, payload, 0);
}

/* Free an event once the last pool is done with it. */
static void
raised_unref(struct raised *ev)
{
	if (ev == NULL || --ev->refs > 0)
		return;
	free(ev->payload);
	free(ev);
}

/*
 * Give a new event (payload is taken) to every pool that subscribes to its
 * type.  As in supervisord, it gets a serial only when some pool takes it,
 * and a full buffer drops its oldest event.
 */
static void
listener_raise(enum event_type t, char *payload, size_t len)
{
	struct raised *ev = NULL;

	for (size_t i = 0; i < n_pools; i++) {
		struct pool *pool = pools[i];

		if (!(pool->mask & EVENTS_BIT(t)))
			continue;
		if (ev == NULL) {
			if ((ev = calloc(1, sizeof *ev)) == NULL)
				fatal("%s", __func__);
			ev->serial = global_serial++;
			ev->type = t;
			ev->payload = payload;
			ev->len = len;
		}
		if (pool->n >= pool->buffer_size) {
			log_error("pool %s event buffer overflowed, discarding "
			    "event %llu", pool->name, pool->buf[0].ev->serial);
			raised_unref(pool->buf[0].ev);
			memmove(&pool->buf[0], &pool->buf[1],
			    (pool->n - 1) * sizeof pool->buf[0]);
			pool->n--;
		}
		if ((pool->buf = realloc(pool->buf, (pool->n + 1) *
		    sizeof pool->buf[0])) == NULL)
			fatal("%s", __func__);
		ev->refs++;
		pool->buf[pool->n].ev = ev;
		pool->buf[pool->n].poolserial = pool->next_serial++;
		pool->n++;
	}
	if (ev == NULL)
		free(payload);
	listener_dispatch();
}

/* Put q back at the head of its pool's buffer (refused or undelivered). */
static void
pool_push_front(struct pool *pool, struct queued q)
{
	if ((pool->buf = realloc(pool->buf, (pool->n + 1) *
	    sizeof pool->buf[0])) == NULL)
		fatal("%s", __func__);
	memmove(&pool->buf[1], &pool->buf[0], pool->n * sizeof pool->buf[0]);
	pool->buf[0] = q;
	pool->n++;
}

/* Send buffered events to READY listeners of a RUNNING process. */
static void
listener_dispatch(void)
{
	if (dispatching)
		return;
	dispatching = true;
	for (size_t i = 0; i < n_listeners; i++) {
		struct listener *l = listeners[i];
		struct pool *pool = l->pool;
		struct queued q;

		if (l->state != L_READY || l->p->state != STATE_RUNNING ||
		    pool->n == 0)
			continue;
		q = pool->buf[0];
		memmove(&pool->buf[0], &pool->buf[1],
		    (pool->n - 1) * sizeof pool->buf[0]);
		pool->n--;
		listener_send(l, q);
	}
	dispatching = false;
}

/* Write the header and payload of q to l; the rest when the pipe drains. */
static void
listener_send(struct listener *l, struct queued q)
{
	char *head;
	int n;

	n = asprintf(&head, "ver:3.0 server:%s serial:%llu pool:%s "
	    "poolserial:%llu eventname:%s len:%zu\n", server_name,
	    q.ev->serial, l->pool->name, q.poolserial, events_name(q.ev->type),
	    q.ev->len);
	if (n < 0 || (l->wbuf = realloc(head, (size_t)n + q.ev->len)) == NULL)
		fatal("%s", __func__);
	memcpy(l->wbuf + n, q.ev->payload, q.ev->len);
	l->wlen = (size_t)n + q.ev->len;
	l->woff = 0;
	l->busy = q;
	l->result_len = -1;
	listener_set_state(l, L_BUSY);
	listener_write_cb(l->in_fd, EV_WRITE, l);
}

/* Write what is left of the event to the listener's stdin. */
static void
listener_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;
	ssize_t n;

	(void)fd;
	(void)what;
	while (l->wbuf != NULL && l->woff < l->wlen) {
		n = write(l->in_fd, l->wbuf + l->woff, l->wlen - l->woff);
		if (n > 0) {
			l->woff += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			if (l->wev != NULL)
				event_add(l->wev, NULL);
			return;
		}
		/* The listener is gone: its exit puts the event back. */
		break;
	}
	free(l->wbuf);
	l->wbuf = NULL;
	if (l->wev != NULL)
		event_del(l->wev);
}

/* Log a listener's protocol state change, as supervisord does (debug). */
static void
listener_set_state(struct listener *l, enum listener_state s)
{
	log_debug("%s: %s -> %s", l->p->cfg->name,
	    listener_state_names[l->state], listener_state_names[s]);
	l->state = s;
	if (s == L_UNKNOWN)
		log_warnx("%s: has entered the UNKNOWN state and will no "
		    "longer receive events, this usually indicates the process "
		    "violated the eventlistener protocol", l->p->cfg->name);
}

/* The event l holds goes back to the head of its pool, same serials. */
static void
listener_rebuffer(struct listener *l)
{
	if (l->busy.ev == NULL)
		return;
	pool_push_front(l->pool, l->busy);
	l->busy.ev = NULL;
}

/* What the listener wrote on its stdout. */
static void
listener_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;
	ssize_t n;

	(void)what;
	n = read(fd, l->rbuf + l->rlen, sizeof l->rbuf - l->rlen);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* Its stdout closed: whatever it held is delivered again. */
		listener_rebuffer(l);
		listener_close(l);
		listener_dispatch();
		return;
	}
	l->rlen += (size_t)n;
	listener_parse(l);
	if (l->rlen == sizeof l->rbuf) {
		log_warnx("%s: too much output on the protocol channel",
		    l->p->cfg->name);
		l->rlen = 0;
		listener_rebuffer(l);
		listener_set_state(l, L_UNKNOWN);
	}
	listener_dispatch();
}

/* Consume n bytes of the read buffer. */
static void
listener_consume(struct listener *l, size_t n)
{
	memmove(l->rbuf, l->rbuf + n, l->rlen - n);
	l->rlen -= n;
}

/* Protocol violation: log what came, stop sending to l. */
static void
listener_garbage(struct listener *l, const char *what)
{
	size_t show = l->rlen < 60 ? l->rlen : 60;

	log_warnx("%s: %s: '%.*s'", l->p->cfg->name, what, (int)show, l->rbuf);
	l->rlen = 0;
	listener_rebuffer(l);
	listener_set_state(l, L_UNKNOWN);
}

/* Move through the protocol on what has arrived (dispatchers.py). */
static void
listener_parse(struct listener *l)
{
	for (;;) {
		char *nl, *end;
		long len;

		if (l->rlen == 0)
			return;
		switch (l->state) {
		case L_UNKNOWN:
			l->rlen = 0;
			return;
		case L_ACKNOWLEDGED:
			if (l->rlen < 6)
				return;
			if (memcmp(l->rbuf, "READY\n", 6) != 0) {
				listener_garbage(l, "expected READY");
				return;
			}
			listener_consume(l, 6);
			listener_set_state(l, L_READY);
			continue;
		case L_READY:
			listener_garbage(l, "output while READY");
			return;
		case L_BUSY:
			if (l->result_len < 0) {
				if ((nl = memchr(l->rbuf, '\n', l->rlen)) == NULL)
					return;
				*nl = '\0';
				errno = 0;
				len = nl - l->rbuf > 7 ? strtol(l->rbuf + 7, &end,
				    10) : -1;
				while (len >= 0 && (*end == ' ' || *end == '\t' ||
				    *end == '\r'))
					end++;
				if (len < 0 || errno != 0 || *end != '\0' ||
				    len > (long)sizeof l->rbuf / 2) {
					*nl = '\n';
					listener_garbage(l, "bad result line");
					return;
				}
				l->result_len = len;
				listener_consume(l, (size_t)(nl - l->rbuf) + 1);
				continue;
			}
			if (l->rlen < (size_t)l->result_len)
				return;
			if (l->result_len == 2 && memcmp(l->rbuf, "OK", 2) == 0) {
				log_debug("%s: event was processed", l->p->cfg->name);
				raised_unref(l->busy.ev);
				l->busy.ev = NULL;
			} else {
				log_warnx("%s: event was rejected", l->p->cfg->name);
				listener_rebuffer(l);
			}
			listener_consume(l, (size_t)l->result_len);
			l->result_len = -1;
			listener_set_state(l, L_ACKNOWLEDGED);
			continue;
		}
	}
}

/* Close our ends of l's pipes; the listener gets EOF on its stdin. */
static void
listener_close(struct listener *l)
{
	if (l->rev != NULL)
		event_free(l->rev);
	if (l->wev != NULL)
		event_free(l->wev);
	l->rev = l->wev = NULL;
	for (int *fd = &l->in_fd; fd <= &l->child_out; fd++) {
		if (*fd != -1)
			close(*fd);
		*fd = -1;
	}
	free(l->wbuf);
	l->wbuf = NULL;
	l->rlen = 0;
	l->result_len = -1;
}

/* Watch our ends of l's pipes. */
static void
listener_watch(struct listener *l)
{
	l->rev = event_new(base, l->out_fd, EV_READ | EV_PERSIST,
	    listener_read_cb, l);
	l->wev = event_new(base, l->in_fd, EV_WRITE, listener_write_cb, l);
	if (l->rev == NULL || l->wev == NULL || event_add(l->rev, NULL) == -1)
		fatalx("%s: cannot watch %s", __func__, l->p->cfg->name);
}

int
eventlistener_spawn_fds(struct program *p, int *stdin_fd, int *stdout_fd,
    char *err, size_t errlen)
{
	struct listener *l;
	int in[2], out[2];

	if (!eventlistener_is(p->cfg) || base == NULL)
		return 0;
	l = listener_get(p);
	/* A new process: new pipes, and what the old one held goes back. */
	listener_rebuffer(l);
	listener_close(l);
	if (pipe2(in, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	if (pipe2(out, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		close(in[0]);
		close(in[1]);
		return -1;
	}
	l->child_in = in[0];
	l->in_fd = in[1];
	l->out_fd = out[0];
	l->child_out = out[1];
	fcntl(l->in_fd, F_SETFL, O_NONBLOCK);
	fcntl(l->out_fd, F_SETFL, O_NONBLOCK);
	listener_set_state(l, L_ACKNOWLEDGED);
	*stdin_fd = l->child_in;
	*stdout_fd = l->child_out;
	return 0;
}

void
eventlistener_spawned(struct program *p, bool ok)
{
	struct listener *l;

	if (!eventlistener_is(p->cfg) || (l = listener_find(p)) == NULL)
		return;
	if (!ok) {
		listener_close(l);
		return;
	}
	close(l->child_in);
	close(l->child_out);
	l->child_in = l->child_out = -1;
	listener_watch(l);
}

/* Whether program p's stream (1 or 2) raises PROCESS_LOG_* events. */
static bool
listener_log_enabled(const struct program_config *pc, int stream)
{
	return stream == 2 ? pc->stderr_events : pc->stdout_events;
}

void
eventlistener_output(const char *name, int stream, const char *buf, size_t n)
{
	enum event_type t = stream == 2 ? EVT_PROCESS_LOG_STDERR :
	    EVT_PROCESS_LOG_STDOUT;
	char group[CONFIG_NAME_MAX * 2 + 2], *payload;
	const char *process;
	struct program *p;
	size_t len;

	if (!(subscribed & EVENTS_BIT(t)) || (p = program_find(name)) == NULL ||
	    !listener_log_enabled(p->cfg, stream))
		return;
	events_split_name(name, group, sizeof group, &process);
	payload = events_process_log(t, process, group, p->pid, buf, n, &len);
	listener_raise(t, payload, len);
}

/* Raise PROCESS_STATE_<to> for p, which left from. */
static void
listener_state_event(struct program *p, enum program_state from,
    enum program_state to, pid_t pid)
{
	char group[CONFIG_NAME_MAX * 2 + 2], *payload;
	const char *process;
	bool expected;
	size_t len;
	int t;

	if ((t = events_state_type(program_state_name(to))) == -1 ||
	    !(subscribed & EVENTS_BIT(t)))
		return;
	events_split_name(p->cfg->name, group, sizeof group, &process);
	expected = p->has_exit && p->exit_signal == 0 &&
	    program_config_exit_ok(p->cfg, p->exit_code);
	payload = events_process_state((enum event_type)t, process, group,
	    program_state_name(from), p->failed_starts, expected, pid, &len);
	listener_raise((enum event_type)t, payload, len);
}

/*
 * Observer: a program changed state.  The listener's own protocol state
 * starts over with each process; the change becomes a PROCESS_STATE_*
 * event.  safeexitd gives up on a failed start straight from STARTING;
 * supervisord goes through BACKOFF first, and listeners expect FATAL
 * from_state:BACKOFF, so that is what they get.
 */
static void
listener_changed(struct program *p, enum program_state old, void *arg)
{
	struct listener *l;
	size_t pid = 0;

	(void)arg;
	if (p->pid != 0)
		ptrmap_put(&last_pid, p, (size_t)p->pid);
	else
		ptrmap_get(&last_pid, p, &pid);
	if ((l = listener_find(p)) != NULL && p->state != STATE_RUNNING &&
	    p->state != STATE_STARTING && p->state != STATE_STOPPING &&
	    !p->main_alive) {
		/* A removed program is freed once stopped: forget it now. */
		if (p->removed)
			listener_drop(l);
		else {
			listener_rebuffer(l);
			listener_close(l);
		}
	}
	switch (p->state) {
	case STATE_FATAL:
		if (old == STATE_STARTING) {
			listener_state_event(p, old, STATE_BACKOFF, 0);
			old = STATE_BACKOFF;
		}
		listener_state_event(p, old, p->state, 0);
		break;
	case STATE_BACKOFF:
		listener_state_event(p, old, p->state, 0);
		break;
	case STATE_STOPPED:
		listener_state_event(p, old, p->state,
		    old == STATE_STOPPING ? (pid_t)pid : 0);
		break;
	default:
		listener_state_event(p, old, p->state, p->pid != 0 ? p->pid :
		    (pid_t)pid);
		break;
	}
	listener_dispatch();
}

/* Arm the tick timer for the next 5-second boundary, while it is wanted. */
static void
listener_tick_arm(void)
{
	events_mask ticks = EVENTS_BIT(EVT_TICK_5) | EVENTS_BIT(EVT_TICK_60) |
	    EVENTS_BIT(EVT_TICK_3600);
	struct timeval tv;
	struct timespec ts;
	long long ms;

	if (!(subscribed & ticks)) {
		if (tick_ev != NULL)
			event_free(tick_ev);
		tick_ev = NULL;
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	if (tick_ev == NULL) {
		if ((tick_ev = evtimer_new(base, listener_tick_cb, NULL)) == NULL)
			fatalx("%s: evtimer_new", __func__);
		/* The first tick of a period comes when it rolls over. */
		last_tick[0] = ts.tv_sec / 5 * 5;
		last_tick[1] = ts.tv_sec / 60 * 60;
		last_tick[2] = ts.tv_sec / 3600 * 3600;
	}
	ms = 5000 - (long long)(ts.tv_sec % 5) * 1000 - ts.tv_nsec / 1000000;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000 + 1000;
	evtimer_add(tick_ev, &tv);
}

/* The tick timer: raise TICK_n for each period that rolled over. */
static void
listener_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	static const int periods[3] = { 5, 60, 3600 };
	static const enum event_type types[3] = { EVT_TICK_5, EVT_TICK_60,
	    EVT_TICK_3600 };
	time_t now = time(NULL);
	size_t len;

	(void)fd;
	(void)what;
	(void)arg;
	for (int i = 0; i < 3; i++) {
		long long when = (long long)now / periods[i] * periods[i];

		if (when == last_tick[i])
			continue;
		last_tick[i] = when;
		if (subscribed & EVENTS_BIT(types[i])) {
			char *payload = events_tick(when, &len);

			listener_raise(types[i], payload, len);
		}
	}
	listener_tick_arm();
}

void
eventlistener_export(void)
{
	char *env = NULL;
	size_t len = 0;
	FILE *f;

	if (n_listeners == 0)
		return;
	if ((f = open_memstream(&env, &len)) == NULL)
		fatal("%s", __func__);
	for (size_t i = 0; i < n_listeners; i++) {
		struct listener *l = listeners[i];

		if (l->in_fd == -1 || l->out_fd == -1)
			continue;
		fcntl(l->in_fd, F_SETFD, 0);
		fcntl(l->out_fd, F_SETFD, 0);
		fprintf(f, "%s=%d,%d,%d;", l->p->cfg->name, l->in_fd, l->out_fd,
		    (int)l->state);
	}
	fclose(f);
	setenv(LISTENER_ENV, env, 1);
	free(env);
}

void
eventlistener_export_undo(void)
{
	unsetenv(LISTENER_ENV);
	for (size_t i = 0; i < n_listeners; i++) {
		if (listeners[i]->in_fd != -1)
			fcntl(listeners[i]->in_fd, F_SETFD, FD_CLOEXEC);
		if (listeners[i]->out_fd != -1)
			fcntl(listeners[i]->out_fd, F_SETFD, FD_CLOEXEC);
	}
}

/*
 * After a re-exec: the pipes of the listeners that were running.  Events
 * still buffered then are not handed over; one a listener was busy with is
 * taken as answered when its RESULT comes.
 */
static bool
listener_import(void)
{
	char *env = getenv(LISTENER_ENV), *copy, *item, *save = NULL;

	if (env == NULL)
		return false;
	if ((copy = strdup(env)) == NULL)
		fatal("%s", __func__);
	unsetenv(LISTENER_ENV);
	for (item = strtok_r(copy, ";", &save); item != NULL;
	    item = strtok_r(NULL, ";", &save)) {
		char *eq = strrchr(item, '=');
		struct program *p;
		struct listener *l;
		int in, out, state;

		if (eq == NULL || sscanf(eq + 1, "%d,%d,%d", &in, &out,
		    &state) != 3)
			continue;
		*eq = '\0';
		fcntl(in, F_SETFD, FD_CLOEXEC);
		fcntl(out, F_SETFD, FD_CLOEXEC);
		if ((p = program_find(item)) == NULL || !eventlistener_is(p->cfg)) {
			close(in);
			close(out);
			continue;
		}
		if ((l = calloc(1, sizeof *l)) == NULL ||
		    (listeners = realloc(listeners, (n_listeners + 1) *
		    sizeof *listeners)) == NULL)
			fatal("%s", __func__);
		l->p = p;
		l->in_fd = in;
		l->out_fd = out;
		l->child_in = l->child_out = -1;
		l->result_len = -1;
		l->state = state >= L_ACKNOWLEDGED && state <= L_UNKNOWN ?
		    (enum listener_state)state : L_UNKNOWN;
		l->pool = pool_get(p);
		listeners[n_listeners++] = l;
		listener_watch(l);
	}
	free(copy);
	return true;
}
