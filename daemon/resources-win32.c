/*
 * Resource limits on Windows: what maps goes into the program's job object
 * (memory_max: the job's memory, limit_as: each process's memory, pids_max:
 * active processes, limit_cpu: each process's user time); the other keys
 * have no Windows meaning, and are accepted with a notice.
 */
#include <windows.h>

#include "log.h"
#include "resources.h"
#include "win32.h"

/* Whether a key's value reaches the job object (the others are noticed). */
static bool
resources_maps_rlimit(int r)
{
	return r == PRL_AS || r == PRL_CPU;
}

static bool
resources_maps_cglimit(int c)
{
	return c == PCG_MEMORY_MAX || c == PCG_PIDS_MAX;
}

size_t
resources_check(const struct config *cfg, struct config_errors *errs)
{
	(void)errs;
	for (size_t i = 0; i < cfg->n_programs; i++) {
		const struct program_config *pc = cfg->programs[i];

		if (pc == NULL)
			continue;
		for (int r = 0; r < PRL_COUNT; r++)
			if (pc->rlimits[r].set && !resources_maps_rlimit(r))
				log_notice("%s: %s has no effect on Windows",
				    pc->name, program_rlimit_key(r));
		for (int c = 0; c < PCG_COUNT; c++)
			if (pc->cglimits[c].set && !resources_maps_cglimit(c))
				log_notice("%s: %s has no effect on Windows",
				    pc->name, program_cglimit_key(c));
	}
	return 0;
}

void
resources_job_limits(const struct program_config *pc,
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION *li)
{
	const struct cglimit_config *mem = &pc->cglimits[PCG_MEMORY_MAX];
	const struct cglimit_config *pids = &pc->cglimits[PCG_PIDS_MAX];
	const struct rlimit_config *as = &pc->rlimits[PRL_AS];
	const struct rlimit_config *cpu = &pc->rlimits[PRL_CPU];

	if (mem->set && mem->value != LIMIT_INFINITY) {
		li->BasicLimitInformation.LimitFlags |= JOB_OBJECT_LIMIT_JOB_MEMORY;
		li->JobMemoryLimit = (SIZE_T)mem->value;
	}
	if (pids->set && pids->value != LIMIT_INFINITY) {
		li->BasicLimitInformation.LimitFlags |= JOB_OBJECT_LIMIT_ACTIVE_PROCESS;
		li->BasicLimitInformation.ActiveProcessLimit = (DWORD)pids->value;
	}
	if (as->set && as->soft != LIMIT_INFINITY) {
		li->BasicLimitInformation.LimitFlags |= JOB_OBJECT_LIMIT_PROCESS_MEMORY;
		li->ProcessMemoryLimit = (SIZE_T)as->soft;
	}
	if (cpu->set && cpu->soft != LIMIT_INFINITY) {
		/* In units of 100 ns. */
		li->BasicLimitInformation.LimitFlags |= JOB_OBJECT_LIMIT_PROCESS_TIME;
		li->BasicLimitInformation.PerProcessUserTimeLimit.QuadPart =
		    (LONGLONG)cpu->soft * 10000000;
	}
}
