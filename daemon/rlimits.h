/*
 * The rlimits of a program (limit_* keys, safeexitd.ini(5)), resolved for
 * its child to set before exec.
 */
#ifndef SAFEEXITD_RLIMITS_H
#define SAFEEXITD_RLIMITS_H

#include <stdbool.h>

#include "conf.h"
#include "spawn.h"

/*
 * Fill out (room for PRL_COUNT) with pc's rlimits; returns how many, and
 * whether limit_nofile is one of them.
 */
int rlimits_resolve(const struct program_config *pc, struct spawn_rlimit *out,
    bool *sets_nofile);

#endif
