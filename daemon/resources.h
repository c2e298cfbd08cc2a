/*
 * Whether this host can honour the resource limits a config asks for.  A
 * cgroup limit (memory_max, cpu_max, ...) where the daemon gets no cgroup
 * for its programs, or whose controller the host lacks, is an error at -n,
 * at start and at reload, naming the key: never a silent no-op.  -n looks
 * at the running system the way the daemon would at start.
 */
#ifndef SAFEEXITD_RESOURCES_H
#define SAFEEXITD_RESOURCES_H

#include "conf.h"

/* Append "FILE:LINE: KEY: why" to errs for each limit that cannot be
 * applied; returns how many. */
size_t resources_check(const struct config *cfg, struct config_errors *errs);

#ifdef _WIN32
#include <windows.h>
/* Windows: put what maps of pc's limits into a job object's limits. */
void resources_job_limits(const struct program_config *pc,
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION *li);
#endif

#endif
