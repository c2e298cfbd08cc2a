/*
 * What the daemon does at start for a supervisord config's [supervisord]
 * section, as supervisord does it: raise RLIMIT_NOFILE and RLIMIT_NPROC to
 * minfds and minprocs (an error when impossible), apply umask and directory
 * only when it runs detached, and drop to user when started as root.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "supervisord.h"

static int	supervisord_rlimit(int, const char *, int);

/* Raise one limit's soft value (and the hard one as root) to at least min. */
static int
supervisord_rlimit(int resource, const char *key, int min)
{
	struct rlimit	rl;

	if (min <= 0 || getrlimit(resource, &rl) == -1)
		return 0;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= (rlim_t)min)
		return 0;
	if (rl.rlim_cur == RLIM_INFINITY)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)min) {
		if (geteuid() != 0) {
			log_warnx("%s = %d: the environment allows only %llu; "
			    "raise the hard limit or lower %s", key, min,
			    (unsigned long long)rl.rlim_max, key);
			return -1;
		}
		rl.rlim_max = (rlim_t)min;
	}
	rl.rlim_cur = (rlim_t)min;
	if (setrlimit(resource, &rl) == -1) {
		log_warn("%s = %d: cannot raise the limit", key, min);
		return -1;
	}
	log_info("%s: limit raised to %d", key, min);
	return 0;
}

/* Raise the soft limits to minfds and minprocs; -1 (logged) if impossible. */
int
supervisord_rlimits(const struct config *cfg)
{
	if (supervisord_rlimit(RLIMIT_NOFILE, "minfds", cfg->minfds) == -1)
		return -1;
#ifdef RLIMIT_NPROC
	if (supervisord_rlimit(RLIMIT_NPROC, "minprocs", cfg->minprocs) == -1)
		return -1;
#endif
	return 0;
}

/*
 * Apply [supervisord] umask and directory when detached, to the daemon and
 * to the programs that set neither of their own (they inherit them from
 * supervisord); in the foreground supervisord ignores both, and so does
 * this, saying so unless quiet.
 */
void
supervisord_detached(struct config *cfg, bool detached, bool quiet)
{
	size_t	i;

	if (!detached) {
		if (!quiet && cfg->daemon_umask_line != 0)
			log_notice("[supervisord] umask applies only when the "
			    "daemon runs detached (-d), as in supervisord");
		if (!quiet && cfg->daemon_directory != NULL)
			log_notice("[supervisord] directory applies only when "
			    "the daemon runs detached (-d), as in supervisord");
		return;
	}
	for (i = 0; i < cfg->n_programs; i++) {
		struct program_config *pc = cfg->programs[i];

		if (pc == NULL)
			continue;
		if (cfg->daemon_umask_line != 0 && pc->umask_line == 0)
			pc->umask = cfg->daemon_umask;
		if (cfg->daemon_directory != NULL && pc->directory_line == 0) {
			char *d = strdup(cfg->daemon_directory);

			if (d != NULL) {
				free(pc->directory);
				pc->directory = d;
			}
		}
	}
	if (quiet)
		return;
	if (cfg->daemon_umask_line != 0)
		umask((mode_t)cfg->daemon_umask);
	if (cfg->daemon_directory != NULL && chdir(cfg->daemon_directory) == -1)
		log_warn("[supervisord] directory %s", cfg->daemon_directory);
}

/* Drop to [supervisord] user; -1 (logged) if that fails. */
int
supervisord_drop_user(const struct config *cfg)
{
	struct passwd	*pw;
	char		*end;
	unsigned long	 id;

	if (cfg->daemon_user == NULL)
		return 0;
	if ((pw = getpwnam(cfg->daemon_user)) == NULL) {
		id = strtoul(cfg->daemon_user, &end, 10);
		if (*end != '\0' || (pw = getpwuid((uid_t)id)) == NULL) {
			log_warnx("user: no such user '%s'", cfg->daemon_user);
			return -1;
		}
	}
	if (geteuid() == pw->pw_uid)
		return 0;
	if (geteuid() != 0) {
		log_warnx("user = %s: cannot drop privileges when not started "
		    "as root", cfg->daemon_user);
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1) {
		log_warn("user = %s: cannot drop privileges", cfg->daemon_user);
		return -1;
	}
	log_notice("running as user %s (uid %lu)", pw->pw_name,
	    (unsigned long)pw->pw_uid);
	return 0;
}
