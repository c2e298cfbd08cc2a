/*
 * Re-adoption (POSIX).  The hand-over variable reads
 *   SAFEEXITD_REEXEC=control=FD;NAME=OUT_R,OUT_W,ERR_R,ERR_W;...
 * Program names hold no '=', ',' or ';' (config.c allows [A-Za-z0-9_.-]).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adopt.h"
#include "control.h"
#include "eventlistener.h"
#include "fcgi.h"
#include "keeper.h"
#include "lifecycle.h"
#include "log.h"
#include "output.h"
#include "platform.h"
#include "program.h"
#include "reap.h"
#include "statefile.h"

#define ADOPT_ENV	"SAFEEXITD_REEXEC"

struct handover {
	char *name;
	int fds[4];
	bool used;
};

static int control_fd_in = -1;
static struct handover *handovers;
static size_t n_handovers;

static struct handover *adopt_find(const char *name);
static void adopt_set_cloexec(int fd, bool on);
static double adopt_age(unsigned long long start_ticks);

/* The hand-over of a program, or NULL. */
static struct handover *
adopt_find(const char *name)
{
	for (size_t i = 0; i < n_handovers; i++)
		if (strcmp(handovers[i].name, name) == 0)
			return &handovers[i];
	return NULL;
}

/* Keep fd open across exec, or not. */
static void
adopt_set_cloexec(int fd, bool on)
{
	int flags;

	if (fd < 0 || (flags = fcntl(fd, F_GETFD)) == -1)
		return;
	fcntl(fd, F_SETFD, on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC);
}

bool
adopt_resume(void)
{
	char *env = getenv(ADOPT_ENV), *copy, *item, *save = NULL;

	if (env == NULL)
		return false;
	if ((copy = strdup(env)) == NULL)
		fatal("%s", __func__);
	/* Programs must not inherit it. */
	unsetenv(ADOPT_ENV);
	for (item = strtok_r(copy, ";", &save); item != NULL;
	    item = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(item, '=');
		struct handover *h;

		if (eq == NULL)
			continue;
		*eq++ = '\0';
		if (strcmp(item, "control") == 0) {
			control_fd_in = (int)strtol(eq, NULL, 10);
			adopt_set_cloexec(control_fd_in, true);
			continue;
		}
		if ((handovers = realloc(handovers, (n_handovers + 1) *
		    sizeof *handovers)) == NULL)
			fatal("%s", __func__);
		h = &handovers[n_handovers++];
		memset(h, 0, sizeof *h);
		if ((h->name = strdup(item)) == NULL)
			fatal("%s", __func__);
		if (sscanf(eq, "%d,%d,%d,%d", &h->fds[0], &h->fds[1], &h->fds[2],
		    &h->fds[3]) != 4)
			h->fds[0] = h->fds[1] = h->fds[2] = h->fds[3] = -1;
		for (int i = 0; i < 4; i++)
			adopt_set_cloexec(h->fds[i], true);
	}
	free(copy);
	log_notice("re-executed: %zu program pipe%s handed over", n_handovers,
	    n_handovers == 1 ? "" : "s");
	return true;
}

void
adopt_handover(const char *name, int stream, int read_fd, int write_fd)
{
	struct handover *h = adopt_find(name);

	if (h == NULL) {
		if ((handovers = realloc(handovers, (n_handovers + 1) *
		    sizeof *handovers)) == NULL)
			fatal("%s", __func__);
		h = &handovers[n_handovers++];
		memset(h, 0, sizeof *h);
		h->fds[0] = h->fds[1] = h->fds[2] = h->fds[3] = -1;
		if ((h->name = strdup(name)) == NULL)
			fatal("%s", __func__);
	}
	h->fds[stream] = read_fd;
	h->fds[stream + 1] = write_fd;
}

int
adopt_control_fd(void)
{
	return control_fd_in;
}

/* Seconds a process has run, from its start time in clock ticks since boot. */
static double
adopt_age(unsigned long long start_ticks)
{
	long hz = sysconf(_SC_CLK_TCK);
	double uptime = 0;
	FILE *f;

	if ((f = fopen("/proc/uptime", "re")) != NULL) {
		if (fscanf(f, "%lf", &uptime) != 1)
			uptime = 0;
		fclose(f);
	}
	if (hz <= 0 || uptime <= 0)
		return 0;
	uptime -= (double)start_ticks / (double)hz;
	return uptime > 0 ? uptime : 0;
}

void
adopt_programs(const char *path)
{
	struct state_file sf;

	if (statefile_read(path, &sf) == 0) {
		for (size_t i = 0; i < sf.n; i++) {
			struct state_entry *e = &sf.v[i];
			struct program *p = program_find(e->name);
			struct handover *h;
			unsigned long long start;
			char hash[17];

			if (p == NULL) {
				log_warnx("state file: %s (pid %ld) is no longer configured; "
				    "left alone", e->name, (long)e->pid);
				continue;
			}
			start = statefile_start_time(e->pid, NULL);
			statefile_hash(p->cfg->fingerprint, hash);
			if (start == 0) {
				log_info("%s: recorded pid %ld is gone", e->name, (long)e->pid);
				continue;
			}
			if (start != e->start_time) {
				log_warnx("%s: pid %ld now belongs to another process; "
				    "not adopted", e->name, (long)e->pid);
				continue;
			}
			if (strcmp(hash, e->hash) != 0) {
				log_warnx("%s: settings changed since pid %ld started; "
				    "not adopted", e->name, (long)e->pid);
				continue;
			}
			if (p->main_alive)
				continue;	/* named twice in a damaged file */
			lifecycle_adopt(p, e->pid, e->pgid, adopt_age(start));
			if ((h = adopt_find(e->name)) != NULL) {
				char err[256];

				p->output = output_import(p->cfg, h->fds, err, sizeof err);
				if (p->output == NULL)
					log_warnx("%s: output: %s", e->name, err);
				else
					h->used = true;
			}
		}
		statefile_free(&sf);
	}
	/* Pipes of programs that were not adopted: their old process loses them. */
	for (size_t i = 0; i < n_handovers; i++) {
		if (!handovers[i].used)
			for (int k = 0; k < 4; k++)
				if (handovers[i].fds[k] >= 0)
					close(handovers[i].fds[k]);
		free(handovers[i].name);
	}
	free(handovers);
	handovers = NULL;
	n_handovers = 0;
}

int
adopt_reexec(char **argv, struct event_base *base,
    const struct control_options *copts)
{
	char *env = NULL;
	size_t len = 0;
	FILE *f;
	int cfd, saved;

	if (statefile_write() == -1)
		log_warnx("re-exec: the state file could not be written");
	if ((f = open_memstream(&env, &len)) == NULL)
		fatal("%s", __func__);
	cfd = control_release_fd();
	fprintf(f, "control=%d", cfd);
	if (keeper_fd() >= 0) {
		char buf[16];

		snprintf(buf, sizeof buf, "%d", keeper_fd());
		setenv("SAFEEXITD_KEEPER_FD", buf, 1);
		snprintf(buf, sizeof buf, "%ld", (long)keeper_pid());
		setenv("SAFEEXITD_KEEPER_FD_PID", buf, 1);
		adopt_set_cloexec(keeper_fd(), false);
	}
	for (size_t i = 0; i < programs.n; i++) {
		struct program *p = programs.v[i];
		int fds[4];

		if (p->output == NULL)
			continue;
		output_export(p->output, fds);
		fprintf(f, ";%s=%d,%d,%d,%d", p->cfg->name, fds[0], fds[1], fds[2],
		    fds[3]);
		for (int k = 0; k < 4; k++)
			adopt_set_cloexec(fds[k], false);
	}
	fclose(f);
	fcgi_export();
	eventlistener_export();
	setenv(ADOPT_ENV, env, 1);
	log_notice("re-executing %s", argv[0]);
	control_flush();
	reap_block_sigchld(false);
	execv("/proc/self/exe", argv);
	saved = errno;
	reap_block_sigchld(true);

	/* Still here: put everything back as it was. */
	log_warnx("re-exec failed: %s", strerror(saved));
	unsetenv(ADOPT_ENV);
	unsetenv("SAFEEXITD_KEEPER_FD");
	fcgi_export_undo();
	eventlistener_export_undo();
	adopt_set_cloexec(keeper_fd(), true);
	for (size_t i = 0; i < programs.n; i++) {
		int fds[4];

		if (programs.v[i]->output == NULL)
			continue;
		output_export(programs.v[i]->output, fds);
		for (int k = 0; k < 4; k++)
			adopt_set_cloexec(fds[k], true);
	}
	free(env);
	if (control_init_fd(base, cfd, copts) == -1)
		log_warnx("re-exec failed and the control socket is lost");
	errno = saved;
	return -1;
}
