/*
 * The listening sockets of [fcgi-program:NAME] programs.  The daemon opens
 * each socket once, when the program first appears in the config, and keeps
 * it open while the program is configured with the same socket settings:
 * across restarts of its processes, reloads and re-execs.  Every process of
 * the program gets it as its descriptor 0 (spawn.c).
 */
#ifndef SAFEEXITD_FCGI_H
#define SAFEEXITD_FCGI_H

#include <stdbool.h>
#include <stddef.h>

struct program;
struct program_config;

/*
 * The program table changed: open the sockets of new FastCGI programs
 * (or of changed settings), close those no program uses any more.
 */
void fcgi_sync(void);

/* The socket p's processes get as descriptor 0, or -1 when p has none. */
int fcgi_fd(const struct program *p);

/* Re-exec: keep the sockets open across exec and name them in the
 * environment (undo when the exec failed); the new daemon takes them back
 * at its first fcgi_sync. */
void fcgi_export(void);
void fcgi_export_undo(void);

#endif
