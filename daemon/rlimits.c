/*
 * A program's limit_* keys as the rlimits its child sets before exec
 * (spawn.c): resolved here, in the parent, so the child only makes the
 * system calls.
 */
#include <sys/resource.h>

#include "conf.h"
#include "rlimits.h"

static const int rlimit_resources[PRL_COUNT] = {
	[PRL_NOFILE] = RLIMIT_NOFILE,
	[PRL_NPROC] = RLIMIT_NPROC,
	[PRL_CORE] = RLIMIT_CORE,
	[PRL_MEMLOCK] = RLIMIT_MEMLOCK,
	[PRL_AS] = RLIMIT_AS,
	[PRL_CPU] = RLIMIT_CPU,
};

/* A configured value as an rlim_t: infinity, or what fits. */
static rlim_t
rlimits_value(uint64_t v)
{
	if (v == LIMIT_INFINITY || v >= (uint64_t)RLIM_INFINITY)
		return RLIM_INFINITY;
	return (rlim_t)v;
}

int
rlimits_resolve(const struct program_config *pc, struct spawn_rlimit *out,
    bool *sets_nofile)
{
	int n = 0;

	*sets_nofile = pc->rlimits[PRL_NOFILE].set;
	for (int r = 0; r < PRL_COUNT; r++) {
		if (!pc->rlimits[r].set)
			continue;
		out[n].resource = rlimit_resources[r];
		out[n].rl.rlim_cur = rlimits_value(pc->rlimits[r].soft);
		out[n].rl.rlim_max = rlimits_value(pc->rlimits[r].hard);
		n++;
	}
	return n;
}
