/*
 * Platforms without the pipe keeper: program output does not outlive a
 * crash of the daemon.
 */
#include "keeper.h"

void
keeper_reclaim(const char *path,
    void (*got)(const char *name, int stream, int read_fd))
{
	(void)path;
	(void)got;
}
pid_t keeper_pid(void) { return 0; }
void keeper_start(const char *path) { (void)path; }
int keeper_fd(void) { return -1; }
void keeper_add(const char *name, const char *stream, int read_fd)
{
	(void)name; (void)stream; (void)read_fd;
}
void keeper_del(const char *name, const char *stream) { (void)name; (void)stream; }
void keeper_stop(void) { }
