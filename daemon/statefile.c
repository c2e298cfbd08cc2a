/*
 * The state file, as JSON (json-c):
 *   {"version": 1, "daemon": PID, "programs": [
 *     {"name": "web", "pid": 4250, "pgid": 4250, "start_time": 123456,
 *      "settings": "9f2c..."}]}
 * Only programs with a live main process are listed.  The file is written
 * as text, and each process's start time read from /proc once, since a
 * write with thousands of programs happens while they start or stop.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "log.h"
#include "procinfo.h"
#include "program.h"
#include "protocol.h"
#include "statefile.h"

#define STATEFILE_VERSION	1
#define STATEFILE_MAX		(16 * 1024 * 1024)

static char *state_path;
static struct event *state_ev;

static void statefile_changed(struct program *p, enum program_state old, void *arg);
static void statefile_write_cb(evutil_socket_t fd, short what, void *arg);
static unsigned long long statefile_program_start(struct program *p);
static int statefile_put(const char *text, size_t len);

void
statefile_hash(const char *fingerprint, char out[17])
{
	/* FNV-1a: a change detector, not a defence; the file is ours alone. */
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const unsigned char *s = (const unsigned char *)fingerprint; *s; s++) {
		h ^= *s;
		h *= 0x100000001b3ULL;
	}
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

unsigned long long
statefile_start_time(pid_t pid, pid_t *ppid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The command name may hold anything: fields start after the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	p += 2;
	/* state(3) ppid(4) ... starttime(22): skip to field 22. */
	for (int field = 3; field < 22 && p != NULL; field++) {
		if (field == 3 && *p == 'Z')
			return 0;	/* a zombie is gone for our purposes */
		if (field == 4 && ppid != NULL)
			*ppid = (pid_t)strtol(p, NULL, 10);
		p = strchr(p, ' ');
		if (p != NULL)
			p++;
	}
	if (p != NULL)
		start = strtoull(p, NULL, 10);
	return start;
}

void
statefile_init(struct event_base *base, const char *path)
{
	if (path == NULL)
		return;
	if ((state_path = strdup(path)) == NULL)
		fatal("%s", __func__);
	state_ev = event_new(base, -1, 0, statefile_write_cb, NULL);
	if (state_ev == NULL)
		fatalx("%s: event_new", __func__);
	program_observe(statefile_changed, NULL);
}

void
statefile_fini(void)
{
	program_unobserve(statefile_changed, NULL);
	if (state_ev != NULL)
		event_free(state_ev);
	state_ev = NULL;
	free(state_path);
	state_path = NULL;
}

/* A program changed state: rewrite the file once this loop turn is over. */
static void
statefile_changed(struct program *p, enum program_state old, void *arg)
{
	static const struct timeval coalesce = { 0, 100000 };

	/* One write for every change of the next 100 ms, after the restarts they cause. */
	if (state_ev != NULL && !event_pending(state_ev, EV_TIMEOUT, NULL))
		event_add(state_ev, &coalesce);
}

/* The deferred write. */
static void
statefile_write_cb(evutil_socket_t fd, short what, void *arg)
{
	statefile_write();
}

/* The start time of p's main process, read from /proc once per process. */
static unsigned long long
statefile_program_start(struct program *p)
{
	if (p->start_time_pid != p->pid || p->start_time == 0) {
		p->start_time = statefile_start_time(p->pid, NULL);
		p->start_time_pid = p->pid;
	}
	return p->start_time;
}

int
statefile_write(void)
{
	struct protocol_text t = { 0 };
	bool first = true;
	int r;

	if (state_path == NULL)
		return 0;
	protocol_text_printf(&t, "{\"version\":%d,\"daemon\":%lld,\"programs\":[",
	    STATEFILE_VERSION, (long long)getpid());
	for (size_t i = 0; i < programs.n; i++) {
		struct program *p = programs.v[i];
		unsigned long long start;
		char hash[17], exe[PATH_MAX];

		if (!p->main_alive || p->pid <= 0 ||
		    (start = statefile_program_start(p)) == 0)
			continue;
		statefile_hash(p->cfg->fingerprint, hash);
		protocol_text_raw(&t, first ? "{\"name\":" : ",{\"name\":",
		    first ? 8 : 9);
		protocol_text_string(&t, p->cfg->name);
		protocol_text_printf(&t, ",\"pid\":%lld,\"pgid\":%lld,"
		    "\"start_time\":%llu,\"settings\":\"%s\"", (long long)p->pid,
		    (long long)p->pgid, start, hash);
		/* Read at each write: a wrapper may have executed its program since. */
		if (procinfo_exe(p->pid, exe, sizeof exe) == 0) {
			protocol_text_raw(&t, ",\"exe\":", 7);
			protocol_text_string(&t, exe);
		}
		if (cgroup_enabled())
			protocol_text_raw(&t, ",\"cgroup\":true", 14);
		protocol_text_raw(&t, "}", 1);
		first = false;
	}
	protocol_text_raw(&t, "]}\n", 3);
	if (t.failed) {
		log_warnx("state file %s: out of memory", state_path);
		r = -1;
	} else
		r = statefile_put(t.s, t.n);
	protocol_text_free(&t);
	return r;
}

/* Replace the file with text, through a fresh temporary file and rename. */
static int
statefile_put(const char *text, size_t len)
{
	char *tmp;
	int fd, r = -1;

	if (asprintf(&tmp, "%s.tmp", state_path) == -1)
		fatal("%s", __func__);
	/* O_EXCL after unlink: never write through a link planted in the folder. */
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1)
		log_warn("state file %s", tmp);
	else if (write(fd, text, len) != (ssize_t)len) {
		log_warn("state file %s", tmp);
		close(fd);
		unlink(tmp);
	} else {
		close(fd);
		if (rename(tmp, state_path) == -1) {
			log_warn("state file %s", state_path);
			unlink(tmp);
		} else
			r = 0;
	}
	free(tmp);
	return r;
}

void
statefile_remove(void)
{
	if (state_path != NULL && unlink(state_path) == -1 && errno != ENOENT)
		log_warn("remove %s", state_path);
}

/* Open path for reading without blocking or following a link: a regular
 * file of ours with mode 0600, or -1 after logging what is there instead. */
static int
statefile_open_trusted(const char *path, struct stat *st)
{
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd == -1) {
		if (errno == ELOOP)
			log_warnx("state file %s is a symbolic link; ignored", path);
		else if (errno != ENOENT)
			log_warn("state file %s: not used", path);
		return -1;
	}
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode)) {
		log_warnx("state file %s is not a regular file; ignored", path);
		close(fd);
		return -1;
	}
	if (st->st_uid != geteuid() || (st->st_mode & 077) != 0 ||
	    st->st_size > STATEFILE_MAX) {
		log_warnx("state file %s: not owned by us with mode 0600; ignored", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* A pid from the file as the pid_t it will be used as, or 0 when unusable. */
static pid_t
statefile_get_pid(struct json_object *o, const char *key)
{
	struct json_object *v;
	long long n;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return 0;
	errno = 0;
	n = (long long)json_object_get_int64(v);
	if (errno != 0 || !procinfo_valid_pid(n))
		return 0;
	return (pid_t)n;
}

/* Fill e from entry o: NULL, or why it cannot be used. */
static const char *
statefile_entry(struct json_object *o, struct state_entry *e)
{
	struct json_object *name, *start, *hash, *exe, *cg;
	int64_t st;

	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "name", &name) ||
	    !json_object_is_type(name, json_type_string))
		return "no name";
	if ((e->name = strdup(json_object_get_string(name))) == NULL)
		fatal("%s", __func__);
	if (strlen(e->name) != (size_t)json_object_get_string_len(name))
		return "a name with a NUL byte";
	if ((e->pid = statefile_get_pid(o, "pid")) == 0)
		return "a pid out of range";
	if ((e->pgid = statefile_get_pid(o, "pgid")) == 0)
		return "a process group out of range";
	if (!json_object_object_get_ex(o, "start_time", &start) ||
	    !json_object_is_type(start, json_type_int) ||
	    (st = json_object_get_int64(start)) <= 0)
		return "no start time";
	e->start_time = (unsigned long long)st;
	if (!json_object_object_get_ex(o, "settings", &hash) ||
	    !json_object_is_type(hash, json_type_string) ||
	    json_object_get_string_len(hash) != 16)
		return "no settings hash";
	memcpy(e->hash, json_object_get_string(hash), 17);
	if (json_object_object_get_ex(o, "exe", &exe)) {
		if (!json_object_is_type(exe, json_type_string))
			return "an executable that is not a string";
		if ((e->exe = strdup(json_object_get_string(exe))) == NULL)
			fatal("%s", __func__);
	}
	e->cgroup = json_object_object_get_ex(o, "cgroup", &cg) &&
	    json_object_get_boolean(cg);
	return NULL;
}

int
statefile_read(const char *path, struct state_file *out)
{
	struct json_object *root = NULL, *list, *v;
	struct stat st;
	char *buf = NULL;
	size_t k = 0;
	ssize_t n;
	int fd;

	memset(out, 0, sizeof *out);
	if ((fd = statefile_open_trusted(path, &st)) == -1)
		return -1;
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		fatal("%s", __func__);
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size)
		goto damaged;
	buf[n] = '\0';
	if ((root = json_tokener_parse(buf)) == NULL ||
	    !json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "version", &v) ||
	    json_object_get_int(v) != STATEFILE_VERSION ||
	    !json_object_object_get_ex(root, "programs", &list) ||
	    !json_object_is_type(list, json_type_array))
		goto damaged;
	n = (ssize_t)json_object_array_length(list);
	if ((out->v = calloc((size_t)n + 1, sizeof *out->v)) == NULL)
		fatal("%s", __func__);
	for (ssize_t i = 0; i < n; i++) {
		struct state_entry *e = &out->v[k];
		const char *why;

		/* One bad entry costs that entry, not the others: they may run. */
		if ((why = statefile_entry(json_object_array_get_idx(list, (size_t)i),
		    e)) != NULL) {
			log_warnx("state file %s: entry %zd (%s) has %s; ignored", path,
			    i + 1, e->name != NULL ? e->name : "?", why);
			free(e->name);
			free(e->exe);
			memset(e, 0, sizeof *e);
			continue;
		}
		k++;
	}
	out->n = k;
	json_object_put(root);
	free(buf);
	return 0;
damaged:
	log_warnx("state file %s is damaged; ignored", path);
	json_object_put(root);
	free(buf);
	statefile_free(out);
	return -1;
}

void
statefile_free(struct state_file *sf)
{
	for (size_t i = 0; i < sf->n; i++) {
		free(sf->v[i].name);
		free(sf->v[i].exe);
	}
	free(sf->v);
	memset(sf, 0, sizeof *sf);
}
