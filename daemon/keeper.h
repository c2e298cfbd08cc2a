/*
 * The pipe keeper: a small process of the daemon's that holds a duplicate of
 * the read end of every program output pipe.  If the daemon dies, the pipes
 * still have a reader, so no program is killed by SIGPIPE (a program that
 * writes more than a pipe holds waits); a daemon started again collects the
 * pipes from the keeper through SOCKET.keeper, reads on where the old one
 * stopped, and the keeper exits.  When every writer of its pipes is gone and
 * no daemon came back, the keeper exits too.
 */
#ifndef SAFEEXITD_KEEPER_H
#define SAFEEXITD_KEEPER_H

#include <sys/types.h>

/*
 * Collect the pipes an earlier daemon's keeper holds: got(name, stream,
 * read end) for each, stream 0 for stdout and 2 for stderr.  Only a keeper
 * of the daemon's own user is heard, only read ends of pipes are taken, and
 * a keeper that does not answer in a few seconds is given up on.
 */
void keeper_reclaim(const char *path,
    void (*got)(const char *name, int stream, int read_fd));
/* Start this daemon's keeper (or take over the one a re-exec handed over). */
void keeper_start(const char *path);
/* The keeper's descriptor, to hand over across a re-exec; -1 when none. */
int keeper_fd(void);
/* Give the keeper, or take back from it, the read end of a pipe. */
void keeper_add(const char *name, const char *stream, int read_fd);
void keeper_del(const char *name, const char *stream);
/* A clean exit: the keeper is not needed any more. */
void keeper_stop(void);
/* The keeper's pid (0 when none): the exit sweep leaves it to keeper_stop. */
pid_t keeper_pid(void);

#endif
