/*
 * safeexitctl tail: the end of a log file, and following it.
 */
#ifndef SAFEEXITCTL_TAIL_H
#define SAFEEXITCTL_TAIL_H

#include <stdbool.h>

/*
 * Print the last n lines of the log at path and, when follow is set, what
 * is written to it after them until interrupted (a missing file is then
 * waited for).  Returns the exit code: CTL_EXIT_DONE, CTL_EXIT_PERMISSION
 * when the file may not be read, else CTL_EXIT_NOT_REACHED.
 */
int	tail_file(const char *path, int n, bool follow);

#endif
