/*
 * The config loader's file system on POSIX: open(2) with O_NONBLOCK and
 * fstat, device and inode numbers, glob(3), and '/' as the root.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config-files.h"
#include "xmalloc.h"

/* The main file as fopen(3) gives it, whatever kind of file it is. */
FILE *
config_files_open_main(const char *path)
{
	return fopen(path, "re");
}

/* Open without blocking, check it is a regular file, then block again. */
FILE *
config_files_open(const char *path, bool *not_regular)
{
	struct stat	 st;
	FILE		*fp;
	int		 fd, flags, saved;

	*not_regular = false;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		saved = errno;
		*not_regular = true;
		close(fd);
		errno = saved;
		return NULL;
	}
	if ((flags = fcntl(fd, F_GETFL)) != -1)
		fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	if ((fp = fdopen(fd, "r")) == NULL) {
		saved = errno;
		close(fd);
		errno = saved;
		return NULL;
	}
	return fp;
}

/* The device and inode numbers. */
int
config_files_id(FILE *fp, struct config_file_id *id)
{
	struct stat	st;

	if (fstat(fileno(fp), &st) == -1)
		return -1;
	id->volume = (unsigned long long)st.st_dev;
	id->index = (unsigned long long)st.st_ino;
	return 0;
}

/* Whether path names a folder, following links. */
bool
config_files_is_dir(const char *path)
{
	struct stat	st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* getpwnam(3), or a number with or without a name. */
bool
config_files_user_exists(const char *user)
{
	char		*end;
	unsigned long	 id;

	if (getpwnam(user) != NULL)
		return true;
	errno = 0;
	id = strtoul(user, &end, 10);
	return *user != '\0' && *end == '\0' && errno == 0 &&
	    getpwuid((uid_t)id) != NULL;
}

/* getcwd(3) into a heap string. */
char *
config_files_cwd(void)
{
	return getcwd(NULL, 0);
}

/* glob(3), its matches copied out. */
int
config_files_glob(const char *pattern, strv_t *out)
{
	glob_t	g;
	size_t	i;
	int	rc;

	memset(&g, 0, sizeof g);
	rc = glob(pattern, 0, NULL, &g);
	if (rc != 0 && rc != GLOB_NOMATCH) {
		globfree(&g);
		return -1;
	}
	if ((*out = calloc(g.gl_pathc + 1, sizeof **out)) == NULL) {
		globfree(&g);
		return -1;
	}
	for (i = 0; i < g.gl_pathc; i++) {
		if (((*out)[i] = strdup(g.gl_pathv[i])) == NULL) {
			strv_free(*out);
			*out = NULL;
			globfree(&g);
			return -1;
		}
	}
	globfree(&g);
	return 0;
}

/* A backslash before each of glob's special characters. */
char *
config_files_glob_escape(const char *s)
{
	char	*out, *w;

	out = w = xcalloc(1, strlen(s) * 2 + 1);
	for (; *s != '\0'; s++) {
		if (strchr("*?[\\", *s) != NULL)
			*w++ = '\\';
		*w++ = *s;
	}
	*w = '\0';
	return out;
}

/* An absolute path starts at the root. */
bool
config_files_absolute(const char *path)
{
	return path[0] == '/';
}

/* POSIX paths use '/' already. */
void
config_files_normalize(char *path)
{
	(void)path;
}
