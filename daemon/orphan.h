/*
 * Processes of programs that are no longer configured.  A daemon that
 * starts again after a crash (or re-executes) may find, in the state file,
 * the process of a program that a reload removed (its stop cut short by the
 * crash) or that the config no longer names.  Such a process is never
 * adopted as a program, and never left behind either: once the kernel
 * confirms it is the process recorded (adopt.c), it is stopped as its
 * program would have been (stop_signal to its process group and cgroup,
 * kill_signal after stop_timeout, with the settings the state file
 * recorded, else SIGTERM, 10 s, SIGKILL), and it stays in the state file
 * until it is gone, so that another crash does not forget it.
 */
#ifndef SAFEEXITD_ORPHAN_H
#define SAFEEXITD_ORPHAN_H

#include <stdbool.h>

struct event_base;
struct protocol_text;
struct state_entry;

/* Use base for the orphans' timers. */
void orphan_init(struct event_base *base);
/*
 * Stop what e recorded: its main process when alive (it passed every
 * identity check), else what its cgroup still holds.  A stop that was in
 * flight goes on where it was: kill_signal at its recorded deadline, or at
 * once when it had been sent.
 */
void orphan_stop(const struct state_entry *e, bool alive);
/* Append a state-file entry for every orphan still stopping (",{...}"). */
void orphan_snapshot(struct protocol_text *t, bool first);
/* The daemon exits: kill_signal to whatever is left, then forget it all. */
void orphan_fini(void);

#endif
