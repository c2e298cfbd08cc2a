/*
 * Platforms without re-adoption: a restarted daemon starts every program
 * afresh, and reexec is refused.
 */
#include <errno.h>
#include <stddef.h>

#include "adopt.h"

void adopt_init(struct event_base *base) { (void)base; }
void adopt_fini(void) { }
bool adopt_resume(void) { return false; }
int adopt_control_fd(void) { return -1; }
bool adopt_programs(const char *path) { (void)path; return false; }
void adopt_handover(const char *name, int stream, int read_fd, int write_fd)
{
	(void)name; (void)stream; (void)read_fd; (void)write_fd;
}

int
adopt_reexec(char **argv, struct event_base *base,
    const struct control_options *copts)
{
	(void)argv;
	(void)base;
	(void)copts;
	errno = ENOSYS;
	return -1;
}
