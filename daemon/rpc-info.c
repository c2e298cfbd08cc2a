/*
 * What supervisord's XML-RPC methods read: programs by supervisord's names
 * (group and process), the process-info and config-info structs, and the
 * log files.  Program state is read straight from the table; logs are read
 * by the daemon itself, opened with safeopen (no FIFO, no link, no device:
 * nothing can block or redirect the read) and never more than RPC_MAX_READ
 * bytes a call.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "parse.h"
#include "platform.h"
#include "program.h"
#include "rpc.h"
#include "safeopen.h"
#include "xmalloc.h"

static double rpc_wall(double mono);
static int rpc_cmp_config(const void *a, const void *b);
static int rpc_cmp_lexical(const void *a, const void *b);
static int rpc_cmp_priority(const void *a, const void *b);
static void rpc_describe(const struct program *p, long long start,
    long long stop, long long now, char *buf, size_t len);
static const char *rpc_logfile(const struct program *p, bool err);
static void rpc_read_channel(struct rpc_call *rc, struct json_object *params,
    bool err);
static void rpc_tail_channel(struct rpc_call *rc, struct json_object *params,
    bool err);
static int rpc_open_log(struct rpc_call *rc, const char *path, struct stat *st);
static int rpc_read_file(struct rpc_call *rc, const char *path,
    long long offset, long long length);
static struct json_object *rpc_read_at(int fd, off_t at, size_t len);
static void rpc_mainlog_read(struct rpc_call *rc, struct json_object *reply);
static void rpc_mainlog_clear(struct rpc_call *rc, struct json_object *reply);

/* supervisord's group of a process. */
const char *
rpc_group(const struct program *p)
{
	return p->cfg->group_name != NULL ? p->cfg->group_name : p->cfg->name;
}

/* supervisord's process name. */
const char *
rpc_pname(const struct program *p)
{
	return p->cfg->process_name != NULL ? p->cfg->process_name : p->cfg->name;
}

/* supervisord's split_namespec (supervisor/options.py). */
void
rpc_split(const char *spec, char *group, size_t glen, char *proc, size_t plen,
    bool *whole_group)
{
	const char *colon = strchr(spec, ':');

	*whole_group = false;
	if (colon == NULL) {
		snprintf(group, glen, "%s", spec);
		snprintf(proc, plen, "%s", spec);
		return;
	}
	snprintf(group, glen, "%.*s", (int)(colon - spec), spec);
	snprintf(proc, plen, "%s", colon + 1);
	if (proc[0] == '\0' || strcmp(proc, "*") == 0)
		*whole_group = true;
}

/* The process proc of group, or NULL. */
struct program *
rpc_find(const char *group, const char *proc)
{
	for (size_t i = 0; i < programs.n; i++) {
		struct program *p = programs.v[i];

		if (!p->removed && strcmp(rpc_group(p), group) == 0 &&
		    strcmp(rpc_pname(p), proc) == 0)
			return p;
	}
	return NULL;
}

/* Whether a group of that name runs. */
bool
rpc_group_exists(const char *group)
{
	for (size_t i = 0; i < programs.n; i++)
		if (!programs.v[i]->removed &&
		    strcmp(rpc_group(programs.v[i]), group) == 0)
			return true;
	return false;
}

/* Group, then process name. */
static int
rpc_cmp_lexical(const void *a, const void *b)
{
	const struct program *p = *(struct program *const *)a;
	const struct program *q = *(struct program *const *)b;
	int d = strcmp(rpc_group(p), rpc_group(q));

	return d != 0 ? d : strcmp(rpc_pname(p), rpc_pname(q));
}

/* Priority, then as rpc_cmp_lexical. */
static int
rpc_cmp_priority(const void *a, const void *b)
{
	const struct program *p = *(struct program *const *)a;
	const struct program *q = *(struct program *const *)b;

	if (p->cfg->priority != q->cfg->priority)
		return p->cfg->priority < q->cfg->priority ? -1 : 1;
	return rpc_cmp_lexical(a, b);
}

/* The programs of group, or all (rpc.h); *out to free. */
size_t
rpc_programs(const char *group, bool lexical, struct program ***out)
{
	struct program **v = xreallocarray(NULL, programs.n + 1, sizeof *v);
	size_t n = 0;

	for (size_t i = 0; i < programs.n; i++)
		if (!programs.v[i]->removed && (group == NULL ||
		    strcmp(rpc_group(programs.v[i]), group) == 0))
			v[n++] = programs.v[i];
	qsort(v, n, sizeof *v, lexical ? rpc_cmp_lexical : rpc_cmp_priority);
	*out = v;
	return n;
}

/* supervisord's RUNNING_STATES: STARTING, RUNNING, BACKOFF. */
bool
rpc_is_running(const struct program *p)
{
	return p->state == STATE_STARTING || p->state == STATE_RUNNING ||
	    p->state == STATE_BACKOFF;
}

/* supervisord's STOPPED_STATES: STOPPED, EXITED, FATAL. */
bool
rpc_is_stopped(const struct program *p)
{
	return p->state == STATE_STOPPED || p->state == STATE_EXITED ||
	    p->state == STATE_FATAL;
}

/* supervisord's state code (supervisor/states.py). */
int
rpc_state_code(const struct program *p)
{
	switch (p->state) {
	case STATE_STOPPED:	return 0;
	case STATE_STARTING:	return 10;
	case STATE_RUNNING:	return 20;
	case STATE_BACKOFF:	return 30;
	case STATE_STOPPING:	return 40;
	case STATE_EXITED:	return 100;
	case STATE_FATAL:	return 200;
	}
	return 1000;
}

/* Wall-clock seconds of a monotonic time. */
static double
rpc_wall(double mono)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + tv.tv_usec / 1e6 - (platform_now() - mono);
}

/* supervisord's description (rpcinterface.py _interpretProcessInfo). */
static void
rpc_describe(const struct program *p, long long start, long long stop,
    long long now, char *buf, size_t len)
{
	buf[0] = '\0';
	if (p->state == STATE_RUNNING) {
		long long up = now - start, days;
		char d[32] = "";

		if (up < 0)
			up = 0;
		days = up / 86400;
		if (days > 0)
			snprintf(d, sizeof d, "%lld day%s, ", days,
			    days == 1 ? "" : "s");
		snprintf(buf, len, "pid %ld, uptime %s%lld:%02lld:%02lld",
		    (long)p->pid, d, (up % 86400) / 3600, (up % 3600) / 60, up % 60);
	} else if (p->state == STATE_FATAL || p->state == STATE_BACKOFF) {
		if (p->error[0] != '\0')
			snprintf(buf, len, "%s", p->error);
		else
			snprintf(buf, len, "unknown error (try \"tail %s\")",
			    rpc_pname(p));
	} else if (p->state == STATE_STOPPED || p->state == STATE_EXITED) {
		if (start != 0) {
			time_t t = (time_t)stop;
			struct tm tm;

			localtime_r(&t, &tm);
			strftime(buf, len, "%b %d %I:%M %p", &tm);
		} else
			snprintf(buf, len, "Not started");
	}
}

/* The path of p's stdout or stderr log file, or NULL when not a file. */
static const char *
rpc_logfile(const struct program *p, bool err)
{
	const struct output_config *o = err ? &p->cfg->err : &p->cfg->out;

	return o->kind == OUTPUT_FILE ? o->path : NULL;
}

/* supervisord's process-info struct (rpc.h). */
struct json_object *
rpc_process_info(const struct program *p)
{
	struct json_object *o = json_object_new_object();
	struct timeval tv;
	long long start = 0, stop = 0, now;
	const char *out = rpc_logfile(p, false), *err = rpc_logfile(p, true);
	char desc[320];
	int status = 0;

	gettimeofday(&tv, NULL);
	now = tv.tv_sec;
	if (p->started_at > 0)
		start = (long long)rpc_wall(p->started_at);
	if (start != 0 && (rpc_is_stopped(p) || p->state == STATE_BACKOFF))
		stop = (long long)rpc_wall(p->state_since);
	if (p->has_exit)
		status = p->exit_signal != 0 ? -1 : p->exit_code;
	rpc_describe(p, start, stop, now, desc, sizeof desc);
	json_object_object_add(o, "name", json_object_new_string(rpc_pname(p)));
	json_object_object_add(o, "group", json_object_new_string(rpc_group(p)));
	json_object_object_add(o, "start", json_object_new_int64(start));
	json_object_object_add(o, "stop", json_object_new_int64(stop));
	json_object_object_add(o, "now", json_object_new_int64(now));
	json_object_object_add(o, "state", json_object_new_int(rpc_state_code(p)));
	json_object_object_add(o, "statename",
	    json_object_new_string(program_state_name(p->state)));
	json_object_object_add(o, "spawnerr", json_object_new_string(
	    p->state == STATE_BACKOFF || p->state == STATE_FATAL ? p->error : ""));
	json_object_object_add(o, "exitstatus", json_object_new_int(status));
	json_object_object_add(o, "logfile", json_object_new_string(out ? out : ""));
	json_object_object_add(o, "stdout_logfile",
	    json_object_new_string(out ? out : ""));
	json_object_object_add(o, "stderr_logfile",
	    json_object_new_string(err ? err : ""));
	json_object_object_add(o, "pid",
	    json_object_new_int(p->main_alive ? (int)p->pid : 0));
	json_object_object_add(o, "description", json_object_new_string(desc));
	return o;
}

/* A result of a group call (rpc.h). */
struct json_object *
rpc_result(const struct program *p, int code, const char *desc)
{
	struct json_object *o = json_object_new_object();
	char text[512];

	json_object_object_add(o, "name", json_object_new_string(rpc_pname(p)));
	json_object_object_add(o, "group", json_object_new_string(rpc_group(p)));
	json_object_object_add(o, "status", json_object_new_int(code));
	json_object_object_add(o, "description", json_object_new_string(
	    code == FAULT_SUCCESS ? (desc != NULL ? desc : "OK") :
	    rpc_fault_text(code, desc, text, sizeof text)));
	return o;
}

/* supervisor.getProcessInfo(name). */
void
rpc_get_process_info(struct rpc_call *rc, struct json_object *params)
{
	const char *name = rpc_param_string(rc, params, 0);
	char group[256], proc[256];
	struct program *p;
	bool whole;

	if (name == NULL)
		return;
	rpc_split(name, group, sizeof group, proc, sizeof proc, &whole);
	if (whole || (p = rpc_find(group, proc)) == NULL)
		rpc_fault(rc, FAULT_BAD_NAME, name);
	else
		rpc_return(rc, rpc_process_info(p));
}

/* supervisor.getAllProcessInfo: by group, then process name. */
void
rpc_get_all_process_info(struct rpc_call *rc, struct json_object *params)
{
	struct json_object *a = json_object_new_array();
	struct program **v;
	size_t n = rpc_programs(NULL, true, &v);

	(void)params;
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, rpc_process_info(v[i]));
	free(v);
	rpc_return(rc, a);
}

/* Two config-info structs by process name, as supervisord sorts them. */
static int
rpc_cmp_config(const void *a, const void *b)
{
	struct json_object *x, *y;

	json_object_object_get_ex(*(struct json_object *const *)a, "name", &x);
	json_object_object_get_ex(*(struct json_object *const *)b, "name", &y);
	return strcmp(json_object_get_string(x), json_object_get_string(y));
}

/* supervisor.getAllConfigInfo: the running programs' settings. */
void
rpc_get_all_config_info(struct rpc_call *rc, struct json_object *params)
{
	struct json_object *a = json_object_new_array(), *codes;
	struct program **v;
	size_t n = rpc_programs(NULL, true, &v);

	(void)params;
	for (size_t i = 0; i < n; i++) {
		const struct program_config *pc = v[i]->cfg;
		struct json_object *o = json_object_new_object();
		const char *out = rpc_logfile(v[i], false);
		const char *err = rpc_logfile(v[i], true);

		codes = json_object_new_array();
		for (size_t j = 0; j < pc->n_exitcodes; j++)
			json_object_array_add(codes, json_object_new_int(pc->exitcodes[j]));
		json_object_object_add(o, "autostart", json_object_new_boolean(pc->autostart));
		json_object_object_add(o, "directory", json_object_new_string(
		    pc->directory != NULL ? pc->directory : "none"));
		json_object_object_add(o, "uid", json_object_new_string(
		    pc->user != NULL ? pc->user : "none"));
		json_object_object_add(o, "command", json_object_new_string(pc->command));
		json_object_object_add(o, "exitcodes", codes);
		json_object_object_add(o, "group", json_object_new_string(rpc_group(v[i])));
		json_object_object_add(o, "group_prio", json_object_new_int(pc->priority));
		json_object_object_add(o, "inuse", json_object_new_boolean(1));
		json_object_object_add(o, "killasgroup", json_object_new_boolean(pc->stop_group));
		json_object_object_add(o, "name", json_object_new_string(rpc_pname(v[i])));
		json_object_object_add(o, "process_prio", json_object_new_int(pc->priority));
		json_object_object_add(o, "redirect_stderr",
		    json_object_new_boolean(pc->err.kind == OUTPUT_STDOUT));
		json_object_object_add(o, "startretries", json_object_new_int(pc->start_retries));
		json_object_object_add(o, "startsecs", json_object_new_int((int)pc->start_secs));
		json_object_object_add(o, "stdout_logfile",
		    json_object_new_string(out != NULL ? out : "none"));
		json_object_object_add(o, "stdout_logfile_maxbytes",
		    json_object_new_int64(pc->out.max_bytes));
		json_object_object_add(o, "stdout_logfile_backups",
		    json_object_new_int(pc->out.backups));
		json_object_object_add(o, "stdout_events_enabled",
		    json_object_new_boolean(pc->stdout_events));
		json_object_object_add(o, "stdout_capture_maxbytes",
		    json_object_new_int64(pc->stdout_capture_maxbytes));
		json_object_object_add(o, "stdout_syslog",
		    json_object_new_boolean(pc->out.kind == OUTPUT_SYSLOG));
		json_object_object_add(o, "stderr_logfile",
		    json_object_new_string(err != NULL ? err : "none"));
		json_object_object_add(o, "stderr_logfile_maxbytes",
		    json_object_new_int64(pc->err.max_bytes));
		json_object_object_add(o, "stderr_logfile_backups",
		    json_object_new_int(pc->err.backups));
		json_object_object_add(o, "stderr_events_enabled",
		    json_object_new_boolean(pc->stderr_events));
		json_object_object_add(o, "stderr_capture_maxbytes",
		    json_object_new_int64(pc->stderr_capture_maxbytes));
		json_object_object_add(o, "stderr_syslog",
		    json_object_new_boolean(pc->err.kind == OUTPUT_SYSLOG));
		json_object_object_add(o, "stopsignal", json_object_new_int(pc->stop_signal));
		json_object_object_add(o, "stopwaitsecs",
		    json_object_new_int((int)pc->stop_timeout));
		json_object_object_add(o, "serverurl", json_object_new_string("auto"));
		json_object_array_add(a, o);
	}
	free(v);
	json_object_array_sort(a, rpc_cmp_config);
	rpc_return(rc, a);
}

/* Open a log file for reading; NO_FILE or FAILED faulted when not. */
static int
rpc_open_log(struct rpc_call *rc, const char *path, struct stat *st)
{
	char err[512];
	int fd;

	fd = safeopen(path, O_RDONLY, 0, SAFEOPEN_REG, st, err, sizeof err);
	if (fd == -1)
		rpc_fault(rc, errno == ENOENT ? FAULT_NO_FILE : FAULT_FAILED, err);
	return fd;
}

/* Up to len bytes at at, as a string value. */
static struct json_object *
rpc_read_at(int fd, off_t at, size_t len)
{
	char *buf = xmalloc(len + 1);
	size_t got = 0;
	struct json_object *s;

	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, at + (off_t)got);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	s = json_object_new_string_len(buf, (int)got);
	free(buf);
	return s;
}

/*
 * supervisord's readFile (supervisor/options.py): a negative offset reads
 * that many bytes from the end (length must be 0); else length bytes from
 * offset, or with length 0 the file from its start.  Bounded here.
 */
static int
rpc_read_file(struct rpc_call *rc, const char *path, long long offset,
    long long length)
{
	struct stat st;
	long long pos, len;
	int fd;

	if ((offset < 0 && length != 0) || (offset >= 0 && length < 0)) {
		rpc_fault(rc, FAULT_BAD_ARGUMENTS, NULL);
		return -1;
	}
	if ((fd = rpc_open_log(rc, path, &st)) == -1)
		return -1;
	if (offset < 0) {
		len = -offset;
		pos = st.st_size - len;
		if (len > RPC_MAX_READ) {
			len = RPC_MAX_READ;
			pos = st.st_size - len;
		}
		if (pos < 0)
			pos = 0;
	} else {
		/* supervisord's readFile: from offset, to the end with 0. */
		pos = offset;
		len = length == 0 ? st.st_size - offset : length;
		if (len < 0)
			len = 0;
	}
	if (len > RPC_MAX_READ)
		len = RPC_MAX_READ;
	rpc_return(rc, rpc_read_at(fd, (off_t)pos, (size_t)len));
	close(fd);
	return 0;
}

/* readProcessStdoutLog / readProcessStderrLog (name, offset, length). */
static void
rpc_read_channel(struct rpc_call *rc, struct json_object *params, bool err)
{
	const char *name = rpc_param_string(rc, params, 0), *path;
	char group[256], proc[256];
	long long offset, length;
	struct program *p;
	bool whole;

	if (name == NULL || rpc_param_int(rc, params, 1, &offset) != 0 ||
	    rpc_param_int(rc, params, 2, &length) != 0)
		return;
	rpc_split(name, group, sizeof group, proc, sizeof proc, &whole);
	if (whole || (p = rpc_find(group, proc)) == NULL) {
		rpc_fault(rc, FAULT_BAD_NAME, name);
		return;
	}
	if ((path = rpc_logfile(p, err)) == NULL) {
		rpc_fault(rc, FAULT_NO_FILE, "None");
		return;
	}
	rpc_read_file(rc, path, offset, length);
}

void
rpc_read_stdout(struct rpc_call *rc, struct json_object *params)
{
	rpc_read_channel(rc, params, false);
}

void
rpc_read_stderr(struct rpc_call *rc, struct json_object *params)
{
	rpc_read_channel(rc, params, true);
}

/*
 * tailProcessStdoutLog / tailProcessStderrLog (name, offset, length):
 * [text, new offset, overflow] as supervisord's tailFile, the length
 * bounded.
 */
static void
rpc_tail_channel(struct rpc_call *rc, struct json_object *params, bool err)
{
	const char *name = rpc_param_string(rc, params, 0), *path;
	char group[256], proc[256], why[512];
	long long offset, length, sz;
	struct json_object *a;
	struct program *p;
	struct stat st;
	bool whole, overflow = false;
	int fd;

	if (name == NULL || rpc_param_int(rc, params, 1, &offset) != 0 ||
	    rpc_param_int(rc, params, 2, &length) != 0)
		return;
	rpc_split(name, group, sizeof group, proc, sizeof proc, &whole);
	if (whole || (p = rpc_find(group, proc)) == NULL) {
		rpc_fault(rc, FAULT_BAD_NAME, name);
		return;
	}
	if ((path = rpc_logfile(p, err)) == NULL) {
		rpc_fault(rc, FAULT_NO_FILE, "None");
		return;
	}
	if (length > RPC_MAX_READ)
		length = RPC_MAX_READ;
	a = json_object_new_array();
	fd = safeopen(path, O_RDONLY, 0, SAFEOPEN_REG, &st, why, sizeof why);
	if (fd == -1) {
		json_object_array_add(a, json_object_new_string(""));
		json_object_array_add(a, json_object_new_int64(offset));
		json_object_array_add(a, json_object_new_boolean(0));
		rpc_return(rc, a);
		return;
	}
	sz = st.st_size;
	if (sz > offset + length) {
		overflow = true;
		offset = sz - 1;
	}
	if (offset + length > sz) {
		if (offset > sz - 1)
			length = 0;
		offset = sz - length;
	}
	if (offset < 0)
		offset = 0;
	if (length < 0)
		length = 0;
	json_object_array_add(a, length == 0 ? json_object_new_string("") :
	    rpc_read_at(fd, (off_t)offset, (size_t)length));
	close(fd);
	json_object_array_add(a, json_object_new_int64(sz));
	json_object_array_add(a, json_object_new_boolean(overflow));
	rpc_return(rc, a);
}

void
rpc_tail_stdout(struct rpc_call *rc, struct json_object *params)
{
	rpc_tail_channel(rc, params, false);
}

void
rpc_tail_stderr(struct rpc_call *rc, struct json_object *params)
{
	rpc_tail_channel(rc, params, true);
}

/* supervisor.readLog(offset, length): the daemon's own log. */
void
rpc_read_log(struct rpc_call *rc, struct json_object *params)
{
	long long offset, length;
	struct json_object *st;

	if (rpc_param_int(rc, params, 0, &offset) != 0 ||
	    rpc_param_int(rc, params, 1, &length) != 0)
		return;
	st = json_object_new_array();
	json_object_array_add(st, json_object_new_int64(offset));
	json_object_array_add(st, json_object_new_int64(length));
	*rpc_state(rc) = st;
	rpc_command(rc, rpc_request("mainlog", NULL, true), rpc_mainlog_read);
}

/* The main log's path came: read it. */
static void
rpc_mainlog_read(struct rpc_call *rc, struct json_object *reply)
{
	struct json_object *ok, *path, *st = *rpc_state(rc);

	if (!json_object_object_get_ex(reply, "ok", &ok) ||
	    !json_object_get_boolean(ok) ||
	    !json_object_object_get_ex(reply, "path", &path)) {
		rpc_fault(rc, FAULT_NO_FILE, NULL);
		return;
	}
	rpc_read_file(rc, json_object_get_string(path),
	    json_object_get_int64(json_object_array_get_idx(st, 0)),
	    json_object_get_int64(json_object_array_get_idx(st, 1)));
}

/* supervisor.clearLog: empty the daemon's own log (written O_APPEND). */
void
rpc_clear_log(struct rpc_call *rc, struct json_object *params)
{
	(void)params;
	if (rpc_shutting_down(rc))
		return;
	rpc_command(rc, rpc_request("mainlog", NULL, true), rpc_mainlog_clear);
}

/* The main log's path came: truncate it. */
static void
rpc_mainlog_clear(struct rpc_call *rc, struct json_object *reply)
{
	struct json_object *ok, *path;
	char err[512];
	int fd;

	if (!json_object_object_get_ex(reply, "ok", &ok) ||
	    !json_object_get_boolean(ok) ||
	    !json_object_object_get_ex(reply, "path", &path)) {
		rpc_fault(rc, FAULT_NO_FILE, NULL);
		return;
	}
	fd = safeopen(json_object_get_string(path), O_WRONLY, 0,
	    SAFEOPEN_REG | SAFEOPEN_OWNED, NULL, err, sizeof err);
	if (fd != -1 && ftruncate(fd, 0) != 0) {
		snprintf(err, sizeof err, "%s", strerror(errno));
		close(fd);
		fd = -1;
	}
	if (fd == -1) {
		rpc_fault(rc, FAULT_FAILED, err);
		return;
	}
	close(fd);
	rpc_return(rc, json_object_new_boolean(1));
}
