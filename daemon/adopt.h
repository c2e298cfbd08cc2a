/*
 * Never lose track of a program, never start one twice.  After a crash the
 * daemon starts again and carries on from the state file and its journal
 * (statefile.c): it re-adopts every program whose recorded process the
 * kernel confirms, and resumes stops, starts and back-offs in flight.
 * A re-exec (safeexitctl reexec, after an upgrade) does the same, and also
 * hands over the control socket and the programs' output pipes as open
 * descriptors, named in SAFEEXITD_REEXEC, so nothing is lost across the exec.
 */
#ifndef SAFEEXITD_ADOPT_H
#define SAFEEXITD_ADOPT_H

#include <stdbool.h>

struct control_options;
struct event_base;

/* Use base for what adoption watches (the processes of programs removed). */
void adopt_init(struct event_base *base);
/* The daemon exits: let go of all that, nothing left running. */
void adopt_fini(void);
/* Take the re-exec hand-over from the environment; true when there was one. */
bool adopt_resume(void);
/* The handed-over control socket, -1 when none. */
int adopt_control_fd(void);
/* Add a pipe collected from the keeper: stream 0 (stdout) or 2 (stderr). */
void adopt_handover(const char *name, int stream, int read_fd, int write_fd);
/*
 * Carry on from what the state file at path and its journal say: adopt
 * programs' processes, resume stops, starts and back-offs; stop the
 * processes of programs no longer configured (orphan.h); close unused
 * hand-overs.  Returns true when a staged shutdown of everything was
 * running, which the caller resumes.
 */
bool adopt_programs(const char *path);
/*
 * Re-execute the daemon's binary with argv, handing over the control socket
 * and the output pipes.  Returns only on failure, with everything as before.
 */
int adopt_reexec(char **argv, struct event_base *base,
    const struct control_options *copts);

#endif
