/*
 * The daemon-wide settings of a supervisord config that act on the daemon
 * itself at start: minfds and minprocs (resource limits), umask and
 * directory (with -d only, as supervisord applies them only when it
 * daemonizes), and user (the daemon drops to it when started as root).
 */
#ifndef SAFEEXITD_SUPERVISORD_H
#define SAFEEXITD_SUPERVISORD_H

#include <stdbool.h>

#include "conf.h"

#ifndef _WIN32
/* Raise the soft limits to minfds and minprocs; -1 (logged) if impossible. */
int	supervisord_rlimits(const struct config *cfg);
/*
 * Apply [supervisord] umask and directory when detached (-d), to the daemon
 * and to the programs that set neither of their own; otherwise say once
 * that they have no effect.  Called after every load.
 */
void	supervisord_detached(struct config *cfg, bool detached, bool quiet);
/* Drop to [supervisord] user; -1 (logged) if that fails. */
int	supervisord_drop_user(const struct config *cfg);
#else
static inline int supervisord_rlimits(const struct config *c) { (void)c; return 0; }
static inline void supervisord_detached(struct config *c, bool d, bool q)
{ (void)c; (void)d; (void)q; }
static inline int supervisord_drop_user(const struct config *c) { (void)c; return 0; }
#endif

#endif
