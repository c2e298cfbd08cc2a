/*
 * Resource limits a config asks for, checked against the host (POSIX):
 * rlimits exist everywhere; a cgroup limit needs the daemon's delegated
 * cgroup v2 subtree and the limit's controller in it (cgroup.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "log.h"
#include "resources.h"

/* Add one message to errs. */
static void
resources_error(struct config_errors *errs, const struct program_config *pc,
    int which, const char *why)
{
	char *msg;

	if (asprintf(&msg, "%s:%d: %s: %s", pc->file,
	    pc->cglimits[which].line, program_cglimit_key(which), why) == -1)
		fatal("asprintf");
	if ((errs->msgs = realloc(errs->msgs, (errs->n + 1) *
	    sizeof *errs->msgs)) == NULL)
		fatal("%s", __func__);
	errs->msgs[errs->n++] = msg;
}

size_t
resources_check(const struct config *cfg, struct config_errors *errs)
{
	struct cgroup_host host;
	bool probed = false;
	char why[768];
	size_t found = 0;

	for (size_t i = 0; i < cfg->n_programs; i++) {
		const struct program_config *pc = cfg->programs[i];
		int which;

		if (pc == NULL)
			continue;
		for (which = 0; which < PCG_COUNT && !pc->cglimits[which].set;
		    which++)
			;
		if (which == PCG_COUNT)
			continue;
		if (!probed) {
			cgroup_host_probe(cfg->cgroups, &host);
			probed = true;
		}
		if ((which = cgroup_limit_refused(&host, pc, why, sizeof why)) != -1) {
			resources_error(errs, pc, which, why);
			found++;
		}
	}
	return found;
}
