/*
 * The config loader's file system on Windows: CreateFile and the file
 * index for identity, FindFirstFile for include globs (matched one path
 * component at a time, without regard to case, as the file system does),
 * and drive letters for absolute paths.  Paths come in with '/' between
 * components; '\' is turned into '/' first.
 */
#include <windows.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "config-files.h"
#include "xmalloc.h"

static bool	files_match(const char *pattern, const char *name);
static bool	files_has_magic(const char *s);
static int	files_add(strv_t *v, size_t *n, char *s);
static int	files_expand(const char *dir, const char *component,
		    strv_t *out, size_t *n);
static int	files_cmp(const void *a, const void *b);

/* errno for a Windows error, as far as the loader's messages need it. */
static int
files_errno(DWORD err)
{
	switch (err) {
	case ERROR_FILE_NOT_FOUND:
	case ERROR_PATH_NOT_FOUND:
	case ERROR_INVALID_NAME:
	case ERROR_BAD_NETPATH:
		return ENOENT;
	case ERROR_ACCESS_DENIED:
	case ERROR_SHARING_VIOLATION:
		return EACCES;
	case ERROR_NOT_ENOUGH_MEMORY:
	case ERROR_OUTOFMEMORY:
		return ENOMEM;
	default:
		return EIO;
	}
}

/* Open the main file in text mode, not inherited by programs. */
FILE *
config_files_open_main(const char *path)
{
	return fopen(path, "rN");
}

/* Open a regular file for reading in text mode; see config-files.h. */
FILE *
config_files_open(const char *path, bool *not_regular)
{
	BY_HANDLE_FILE_INFORMATION	 info;
	HANDLE				 h;
	FILE				*fp;
	int				 fd;

	*not_regular = false;
	/* Backup semantics, so a folder opens too and is refused by name. */
	h = CreateFileA(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE |
	    FILE_SHARE_DELETE, NULL, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS,
	    NULL);
	if (h == INVALID_HANDLE_VALUE) {
		errno = files_errno(GetLastError());
		return NULL;
	}
	if (GetFileType(h) != FILE_TYPE_DISK ||
	    !GetFileInformationByHandle(h, &info) ||
	    (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0) {
		CloseHandle(h);
		*not_regular = true;
		errno = EISDIR;
		return NULL;
	}
	if ((fd = _open_osfhandle((intptr_t)h, _O_RDONLY)) == -1) {
		CloseHandle(h);
		return NULL;
	}
	if ((fp = _fdopen(fd, "r")) == NULL) {
		_close(fd);
		return NULL;
	}
	return fp;
}

/* The volume serial number and file index of an open file. */
int
config_files_id(FILE *fp, struct config_file_id *id)
{
	BY_HANDLE_FILE_INFORMATION	info;
	HANDLE				h;

	h = (HANDLE)_get_osfhandle(_fileno(fp));
	if (h == INVALID_HANDLE_VALUE || !GetFileInformationByHandle(h, &info))
		return -1;
	id->volume = info.dwVolumeSerialNumber;
	id->index = ((unsigned long long)info.nFileIndexHigh << 32) |
	    info.nFileIndexLow;
	return 0;
}

/* Users are the service's business on Windows: nothing to check here. */
bool
config_files_user_exists(const char *user)
{
	(void)user;
	return true;
}

/* The current folder, with '/' between components. */
char *
config_files_cwd(void)
{
	char	buf[MAX_PATH + 1], *s;
	DWORD	n = GetCurrentDirectoryA(sizeof buf, buf);

	if (n == 0 || n > MAX_PATH || (s = strdup(buf)) == NULL)
		return NULL;
	config_files_normalize(s);
	return s;
}

/* Whether path names a folder. */
bool
config_files_is_dir(const char *path)
{
	DWORD	attr = GetFileAttributesA(path);

	return attr != INVALID_FILE_ATTRIBUTES &&
	    (attr & FILE_ATTRIBUTE_DIRECTORY) != 0;
}

/* Whether s holds a glob character. */
static bool
files_has_magic(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* Match one name against one component of a pattern, ignoring case. */
static bool
files_match(const char *p, const char *s)
{
	const char	*start;
	bool		 negate, found;
	unsigned char	 c, lo, hi;

	for (; *p != '\0'; p++, s++) {
		switch (*p) {
		case '*':
			while (p[1] == '*')
				p++;
			if (p[1] == '\0')
				return true;
			for (; *s != '\0'; s++)
				if (files_match(p + 1, s))
					return true;
			return files_match(p + 1, s);
		case '?':
			if (*s == '\0')
				return false;
			break;
		case '[':
			if (*s == '\0')
				return false;
			start = p;
			p++;
			negate = *p == '!' || *p == '^';
			if (negate)
				p++;
			found = false;
			c = (unsigned char)tolower((unsigned char)*s);
			do {
				lo = (unsigned char)tolower((unsigned char)*p);
				hi = lo;
				if (p[1] == '-' && p[2] != ']' && p[2] != '\0') {
					hi = (unsigned char)tolower((unsigned char)p[2]);
					p += 2;
				}
				if (c >= lo && c <= hi)
					found = true;
				p++;
			} while (*p != ']' && *p != '\0');
			if (*p == '\0') {
				/* No closing bracket: '[' stands for itself. */
				p = start;
				if (*s != '[')
					return false;
				break;
			}
			if (found == negate)
				return false;
			break;
		default:
			if (tolower((unsigned char)*p) !=
			    tolower((unsigned char)*s))
				return false;
			break;
		}
	}
	return *s == '\0';
}

/* Append s (taken over) to the growing list v of n entries. */
static int
files_add(strv_t *v, size_t *n, char *s)
{
	strv_t	nv;

	if (s == NULL || (nv = realloc(*v, (*n + 2) * sizeof *nv)) == NULL) {
		free(s);
		return -1;
	}
	nv[(*n)++] = s;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

/* Join a folder and a name with one '/'. */
static char *
files_join(const char *dir, const char *name)
{
	size_t	 n = strlen(dir) + strlen(name) + 2;
	char	*s;

	if ((s = malloc(n)) == NULL)
		return NULL;
	if (*dir == '\0')
		snprintf(s, n, "%s", name);
	else if (dir[strlen(dir) - 1] == '/')
		snprintf(s, n, "%s%s", dir, name);
	else
		snprintf(s, n, "%s/%s", dir, name);
	return s;
}

/* Every entry of dir matching component, appended to out. */
static int
files_expand(const char *dir, const char *component, strv_t *out, size_t *n)
{
	WIN32_FIND_DATAA	 fd;
	HANDLE			 h;
	char			*all;

	if ((all = files_join(*dir == '\0' ? "." : dir, "*")) == NULL)
		return -1;
	h = FindFirstFileA(all, &fd);
	free(all);
	if (h == INVALID_HANDLE_VALUE)
		return 0;
	do {
		/* As glob(3): a leading dot is matched only by a dot. */
		if (strcmp(fd.cFileName, ".") == 0 ||
		    strcmp(fd.cFileName, "..") == 0 ||
		    (fd.cFileName[0] == '.' && component[0] != '.'))
			continue;
		if (!files_match(component, fd.cFileName))
			continue;
		if (files_add(out, n, files_join(dir, fd.cFileName)) == -1) {
			FindClose(h);
			return -1;
		}
	} while (FindNextFileA(h, &fd));
	FindClose(h);
	return 0;
}

/* Sort matches as glob(3) does. */
static int
files_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Expand a pattern one component at a time; see config-files.h. */
int
config_files_glob(const char *pattern, strv_t *out)
{
	strv_t	 cur = NULL, next;
	size_t	 ncur = 0, nnext, i;
	char	*copy, *comp, *rest, *root, *p;
	int	 ret = -1;

	*out = NULL;
	if ((copy = strdup(pattern)) == NULL)
		return -1;
	config_files_normalize(copy);

	/* The part before the first component: "X:/", "/" or nothing. */
	rest = copy;
	if (((copy[0] >= 'A' && copy[0] <= 'Z') || (copy[0] >= 'a' &&
	    copy[0] <= 'z')) && copy[1] == ':')
		rest = copy + 2;
	while (*rest == '/')
		rest++;
	if ((root = calloc(1, (size_t)(rest - copy) + 1)) == NULL)
		goto out;
	memcpy(root, copy, (size_t)(rest - copy));
	if (files_add(&cur, &ncur, root) == -1)
		goto out;

	while (*rest != '\0') {
		comp = rest;
		if ((p = strchr(rest, '/')) != NULL) {
			*p = '\0';
			rest = p + 1;
			while (*rest == '/')
				rest++;
		} else
			rest += strlen(rest);
		if (*comp == '\0')
			continue;
		next = NULL;
		nnext = 0;
		for (i = 0; i < ncur; i++) {
			if (!files_has_magic(comp)) {
				if (files_add(&next, &nnext,
				    files_join(cur[i], comp)) == -1) {
					strv_free(next);
					goto out;
				}
			} else if (files_expand(cur[i], comp, &next, &nnext) == -1) {
				strv_free(next);
				goto out;
			}
		}
		strv_free(cur);
		cur = next;
		ncur = nnext;
		if (ncur == 0)
			break;
	}

	/* Names without magic were taken on trust: keep those that exist. */
	next = NULL;
	nnext = 0;
	for (i = 0; i < ncur; i++) {
		if (GetFileAttributesA(cur[i]) == INVALID_FILE_ATTRIBUTES)
			continue;
		if (files_add(&next, &nnext, strdup(cur[i])) == -1) {
			strv_free(next);
			goto out;
		}
	}
	if (next == NULL && (next = calloc(1, sizeof *next)) == NULL)
		goto out;
	qsort(next, nnext, sizeof *next, files_cmp);
	*out = next;
	ret = 0;
out:
	strv_free(cur);
	free(copy);
	return ret;
}

/* Brackets make a character stand for itself: '\' separates folders here. */
char *
config_files_glob_escape(const char *s)
{
	char	*out, *w;

	out = w = xcalloc(1, strlen(s) * 3 + 1);
	for (; *s != '\0'; s++) {
		if (strchr("*?[", *s) != NULL) {
			*w++ = '[';
			*w++ = *s;
			*w++ = ']';
		} else
			*w++ = *s;
	}
	*w = '\0';
	return out;
}

/* "X:/...", "/..." (the current drive's root) and "//server/..." paths. */
bool
config_files_absolute(const char *path)
{
	if (path[0] == '/' || path[0] == '\\')
		return true;
	return ((path[0] >= 'A' && path[0] <= 'Z') ||
	    (path[0] >= 'a' && path[0] <= 'z')) && path[1] == ':' &&
	    (path[2] == '/' || path[2] == '\\');
}

/* Windows takes '/' as well as '\': use '/' throughout. */
void
config_files_normalize(char *path)
{
	for (; *path != '\0'; path++)
		if (*path == '\\')
			*path = '/';
}
