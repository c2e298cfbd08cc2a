/*
 * Stopping the processes of programs no longer configured (see orphan.h).
 * They are not our children (a crash gave them to a subreaper or to init),
 * so no exit reaches us: each is looked at every ORPHAN_POLL seconds, its
 * main process by its pid and kernel start time, the rest of it by its
 * process group and, where it ran in one, its cgroup.
 */
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "log.h"
#include "orphan.h"
#include "parse.h"
#include "platform.h"
#include "procinfo.h"
#include "program.h"
#include "protocol.h"
#include "statefile.h"
#include "xmalloc.h"

#define ORPHAN_POLL		0.1
/* After kill_signal, how often to send it again to what is left. */
#define ORPHAN_KILL_RECHECK	1.0
/* Without recorded settings: the defaults of a program (safeexitd.conf(5)). */
#define ORPHAN_STOP_SIGNAL	SIGTERM
#define ORPHAN_STOP_TIMEOUT	10.0
#define ORPHAN_KILL_SIGNAL	SIGKILL

struct orphan {
	char *name;
	char hash[17];
	pid_t pid;			/* main process, 0 once gone */
	pid_t pgid;			/* its group (== pid), 0: none to signal */
	unsigned long long start_time;
	char *exe;
	bool cgroup;			/* it ran in the program's cgroup */
	int stop_signal;
	double stop_timeout;
	int kill_signal;
	double deadline;		/* monotonic: kill_signal due */
	bool kill_sent;
	struct event *ev;
	struct orphan *next;
};

static struct event_base *orphan_base;
static struct orphan *orphans;

static void orphan_tick(evutil_socket_t fd, short what, void *arg);

void
orphan_init(struct event_base *base)
{
	orphan_base = base;
}

/* Whether the orphan's cgroup may be used: no program of that name runs in it now. */
static bool
orphan_uses_cgroup(const struct orphan *o)
{
	return o->cgroup && cgroup_enabled() && program_find(o->name) == NULL;
}

/* Send sig to the orphan's group and cgroup, never to a pid or group <= 1. */
static void
orphan_signal(const struct orphan *o, int sig)
{
	bool wake = sig != SIGKILL && sig != SIGCONT;

	if (o->pgid > 1 && kill(-o->pgid, sig) == 0) {
		if (wake)
			kill(-o->pgid, SIGCONT);
	} else if (o->pgid > 1 && errno != ESRCH)
		log_warn("%s: cannot signal process group %ld", o->name,
		    (long)o->pgid);
	if (orphan_uses_cgroup(o))
		cgroup_signal(o->name, sig, wake, o->pgid);
}

/* Whether anything of the orphan still runs; forgets its main process once gone. */
static bool
orphan_alive(struct orphan *o)
{
	struct procinfo pi;

	if (o->pid != 0 && (procinfo_read(o->pid, &pi) == -1 ||
	    pi.start_time != o->start_time || pi.state == 'Z' || pi.state == 'X'))
		o->pid = 0;
	if (o->pid != 0)
		return true;
	/* A group outlives its leader only while it has members: never reused. */
	if (o->pgid > 1 && (kill(-o->pgid, 0) == 0 || errno == EPERM) &&
	    procinfo_group_live(o->pgid))
		return true;
	o->pgid = 0;
	return orphan_uses_cgroup(o) && cgroup_populated(o->name) == 1;
}

/* Forget o: unlink it and free it. */
static void
orphan_free(struct orphan *o)
{
	for (struct orphan **pp = &orphans; *pp != NULL; pp = &(*pp)->next)
		if (*pp == o) {
			*pp = o->next;
			break;
		}
	if (o->ev != NULL)
		event_free(o->ev);
	free(o->name);
	free(o->exe);
	free(o);
}

/* Look again after ORPHAN_POLL seconds. */
static void
orphan_schedule(struct orphan *o)
{
	struct timeval tv = { 0, (suseconds_t)(ORPHAN_POLL * 1e6) };

	if (o->ev != NULL)
		event_add(o->ev, &tv);
}

/* The kill signal's name for messages. */
static const char *
orphan_signal_name(int sig)
{
	const char *name = signal_name(sig);

	return name != NULL ? name : "the kill signal";
}

/* Event: time to look at o again. */
static void
orphan_tick(evutil_socket_t fd, short what, void *arg)
{
	struct orphan *o = arg;
	double now = platform_now();

	(void)fd;
	(void)what;
	if (!orphan_alive(o)) {
		log_notice("%s: the process of this program, no longer configured, "
		    "is gone", o->name);
		if (o->cgroup && program_find(o->name) == NULL)
			cgroup_remove(o->name);
		orphan_free(o);
		statefile_touch();
		return;
	}
	if (now >= o->deadline) {
		if (!o->kill_sent)
			log_notice("%s: still running at the end of its grace "
			    "period; sending %s (no longer configured)", o->name,
			    orphan_signal_name(o->kill_signal));
		orphan_signal(o, o->kill_signal);
		if (!o->kill_sent) {
			o->kill_sent = true;
			statefile_touch();
		}
		o->deadline = now + ORPHAN_KILL_RECHECK;
	}
	orphan_schedule(o);
}

void
orphan_stop(const struct state_entry *e, bool alive)
{
	double now = platform_now();
	struct orphan *o;

	for (o = orphans; o != NULL; o = o->next)
		if (strcmp(o->name, e->name) == 0)
			return;		/* named twice in a damaged file */
	if (!alive && !(e->cgroup && cgroup_enabled() &&
	    cgroup_populated(e->name) == 1)) {
		if (e->pid == 0 && e->pgid > 1)
			log_warnx("state file: %s is no longer configured; what its "
			    "process group %ld may hold cannot be confirmed: left "
			    "alone", e->name, (long)e->pgid);
		return;
	}
	o = xcalloc(1, sizeof *o);
	o->name = xstrdup(e->name);
	if (e->exe != NULL)
		o->exe = xstrdup(e->exe);
	memcpy(o->hash, e->hash, sizeof o->hash);
	o->pid = alive ? e->pid : 0;
	o->pgid = alive ? e->pgid : 0;
	o->start_time = alive ? e->start_time : 0;
	o->cgroup = e->cgroup;
	o->stop_signal = e->stop_signal > 0 ? e->stop_signal : ORPHAN_STOP_SIGNAL;
	o->stop_timeout = e->stop_signal > 0 ? e->stop_timeout :
	    ORPHAN_STOP_TIMEOUT;
	o->kill_signal = e->kill_signal > 0 ? e->kill_signal : ORPHAN_KILL_SIGNAL;
	if ((o->ev = event_new(orphan_base, -1, 0, orphan_tick, o)) == NULL)
		fatalx("%s: event_new", __func__);
	o->next = orphans;
	orphans = o;
	if (alive)
		log_warnx("state file: %s (pid %ld) is no longer configured; "
		    "stopping it", e->name, (long)e->pid);
	else
		log_warnx("state file: %s is no longer configured; stopping "
		    "what its cgroup holds", e->name);
	if (e->has_state && e->state == STATE_STOPPING) {
		/*
		 * Its stop was under way (a reload removed it, most often): it
		 * goes on where it was, as a configured program's would, with
		 * kill_signal when the grace period ends, or at once when it
		 * had gone out already.  No restart follows, whatever it asked.
		 */
		o->deadline = e->kill_sent ? now : e->deadline > 0 ?
		    e->deadline : now + o->stop_timeout;
	} else {
		orphan_signal(o, o->stop_signal);
		o->deadline = now + o->stop_timeout;
	}
	statefile_touch();
	orphan_schedule(o);
}

void
orphan_snapshot(struct protocol_text *t, bool first)
{
	for (struct orphan *o = orphans; o != NULL; o = o->next) {
		if (!first)
			protocol_text_raw(t, ",", 1);
		first = false;
		protocol_text_raw(t, "{\"name\":", 8);
		protocol_text_string(t, o->name);
		protocol_text_printf(t, ",\"settings\":\"%s\",\"state\":\"STOPPING\","
		    "\"pid\":%ld,\"pgid\":%ld,\"start_time\":%llu", o->hash,
		    (long)o->pid, (long)(o->pid != 0 ? o->pgid : 0),
		    o->pid != 0 ? o->start_time : 0);
		if (o->pid != 0 && o->exe != NULL) {
			protocol_text_raw(t, ",\"exe\":", 7);
			protocol_text_string(t, o->exe);
		}
		protocol_text_printf(t, ",\"cgroup\":%s,\"deadline\":%.6f,"
		    "\"stop_reason\":%d,\"kill_sent\":%s,\"stop_signal\":%d,"
		    "\"stop_timeout\":%.3f,\"kill_signal\":%d}",
		    o->cgroup ? "true" : "false", o->deadline, (int)STOP_RELOAD,
		    o->kill_sent ? "true" : "false", o->stop_signal,
		    o->stop_timeout, o->kill_signal);
	}
}

void
orphan_fini(void)
{
	while (orphans != NULL) {
		struct orphan *o = orphans;

		if (orphan_alive(o)) {
			log_warnx("%s: the daemon exits: sending %s to what is left "
			    "(no longer configured)", o->name,
			    orphan_signal_name(o->kill_signal));
			orphan_signal(o, o->kill_signal);
		}
		orphan_free(o);
	}
	orphan_base = NULL;
}
