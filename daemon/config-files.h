/*
 * What the config loader needs from the file system, one implementation per
 * platform (config-files-posix.c, config-files-win32.c): opening a file
 * safely, telling whether two names are one file, expanding include globs,
 * and the shape of paths.  Paths given to and returned by these functions
 * use '/' between components on every platform.
 */
#ifndef SAFEEXITD_CONFIG_FILES_H
#define SAFEEXITD_CONFIG_FILES_H

#include <stdbool.h>
#include <stdio.h>

#include "parse.h"

/* One file, whatever name it was reached by. */
struct config_file_id {
	unsigned long long	volume;
	unsigned long long	index;
};

/* Open the main file for reading, whatever kind of file it is. */
FILE	*config_files_open_main(const char *path);
/*
 * Open an included file for reading.  It is opened without blocking and checked before
 * anything is read: opening a FIFO would otherwise wait for a writer.  NULL
 * with errno set on failure, and *not_regular set when path exists but is
 * not a regular file.
 */
FILE	*config_files_open(const char *path, bool *not_regular);
/* The identity of an open file; -1 when it cannot be had. */
int	 config_files_id(FILE *fp, struct config_file_id *id);
/* Whether path names a folder. */
bool	 config_files_is_dir(const char *path);

/*
 * Expand a glob: 0 with *out the sorted matches (NULL-terminated, empty when
 * nothing matches), or -1 when the pattern cannot be expanded.
 */
int	 config_files_glob(const char *pattern, strv_t *out);
/* s with every character that is special in a glob escaped (heap string,
 * never NULL). */
char	*config_files_glob_escape(const char *s);

/* Whether a user (a name, or a number) exists: supervisord refuses an
 * unknown user when it loads its config.  Always true on Windows. */
bool	 config_files_user_exists(const char *user);
/* The folder the daemon was started in (heap string; NULL if unknown). */
char	*config_files_cwd(void);

/* Whether path is absolute. */
bool	 config_files_absolute(const char *path);
/* Turn the platform's separators in path into '/', in place. */
void	 config_files_normalize(char *path);

#endif
