/*
 * The config reader: reads the main INI file and its includes into
 * sections of raw key = value entries, which config-build.c turns into a
 * validated struct config.
 *
 * The reader parses the INI syntax itself, as supervisord's (Python's
 * configparser) reads it: the system's libinih holds at most INI_MAX_LINE
 * bytes a line (199 on Debian) and tells its handler no line numbers, and a
 * supervisord config has longer lines.  Lines of up to CONFIG_LINE_MAX bytes
 * are read whole; full-line comments start with ';' or '#', inline ones at
 * ';' or '#' after white space; a line indented more than its key's line
 * continues the value, joined with a newline; a key given twice in one
 * section counts as last given, with a warning.
 *
 * Loading is done in two passes: the first (here) collects raw entries per
 * section, the second (config-build.c) validates complete values.  Every
 * problem found is kept, sorted by file and line, and handed back as
 * "FILE:LINE: message".
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config-load.h"

/* The longest line read; a longer one is refused. */
#define CONFIG_LINE_MAX	(64 * 1024)

/* Where the reader is: which kind of section the next key belongs to. */
enum reader_state {
	READER_OUTSIDE,		/* before the first section header */
	READER_SECTION,		/* in a section we keep */
	READER_IGNORED,		/* in a section already reported as wrong */
};

/* What an indented line after the current one would continue. */
enum reader_prev {
	PREV_NONE,		/* nothing: an indented line is a line of its own */
	PREV_KEY,		/* a key: join the line to its value */
	PREV_DROPPED,		/* a line we refused: drop its continuations too */
};

/* The state of one file being read. */
struct reader {
	struct load		*ld;
	FILE			*fp;
	int			 file;		/* index into ld->files */
	bool			 is_main;
	int			 lineno;
	char			*buf;
	size_t			 cap;
	bool			 has_nul;
	size_t			 too_long;	/* length of a refused long line */
	int			 read_errno;	/* nonzero after a read error */

	enum reader_prev	 prev;
	size_t			 key_indent;	/* of the line of the last key */
	size_t			 blanks;	/* blank lines since, kept if the
						   value goes on after them */
	enum reader_state	 state;
	struct section		*sec;
	ssize_t			 entry;		/* index of the entry a continuation extends */
};

static int		 load_add_file(struct load *, const char *);
static bool		 load_seen_before(const struct problem *, size_t, int,
			    int, const char *);
static bool		 load_seen(struct load *, FILE *);
static void		 load_parse_file(struct load *, int, FILE *, bool);
static FILE		*load_open_include(struct load *, int, int, const char *);
static int		 problem_cmp(const void *, const void *);
static char		*reader_getline(struct reader *, size_t *);
static void		 reader_line(struct reader *, char *);
static void		 reader_continue(struct reader *, const char *);
static void		 reader_key(struct reader *, const char *,
			    const char *);
static void		 reader_section(struct reader *, char *);
static void		 reader_add_entry(struct reader *, const struct config_key *,
			    const char *, const char *);
static struct section	*section_new(struct load *, enum section_kind,
			    const char *, int, int);
static size_t		 section_name_hash(const char *);
static void		 section_index(struct load *, struct section *);
static void		 section_free(struct section *);
static void		 reader_error(struct reader *, const char *, ...)
			    LOG_PRINTF(2, 3);

/* Whether msg was already said at file:line (the full message ends with
 * it). */
static bool
load_seen_before(const struct problem *v, size_t n, int file, int line,
    const char *msg)
{
	size_t	i, lm = strlen(msg), lv;

	for (i = 0; i < n; i++) {
		if (v[i].file != file || v[i].line != line)
			continue;
		lv = strlen(v[i].msg);
		if (lv >= lm && strcmp(v[i].msg + lv - lm, msg) == 0)
			return true;
	}
	return false;
}

/* Record a problem at file:line; line 0 means the file as a whole. */
void
load_verror(struct load *ld, int file, int line, const char *fmt, va_list ap)
{
	struct problem	*p;
	char		*msg;

	msg = xvasprintf(fmt, ap);
	if (load_seen_before(ld->problems, ld->n_problems, file, line, msg)) {
		/* The same mistake in each process of a numprocs section. */
		free(msg);
		return;
	}
	ld->problems = xreallocarray(ld->problems, ld->n_problems + 1,
	    sizeof *ld->problems);
	p = &ld->problems[ld->n_problems];
	p->file = file;
	p->line = line;
	p->seq = ld->n_problems++;
	if (line > 0)
		p->msg = xasprintf("%s:%d: %s", ld->files[file], line, msg);
	else
		p->msg = xasprintf("%s: %s", ld->files[file], msg);
	free(msg);
}

/* Record a warning at file:line: the config loads, the daemon says it. */
void
load_warning(struct load *ld, int file, int line, const char *fmt, ...)
{
	struct problem	*w;
	va_list		 ap;
	char		*msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (load_seen_before(ld->warnings, ld->n_warnings, file, line, msg)) {
		free(msg);
		return;
	}
	ld->warnings = xreallocarray(ld->warnings, ld->n_warnings + 1,
	    sizeof *ld->warnings);
	w = &ld->warnings[ld->n_warnings];
	w->file = file;
	w->line = line;
	w->seq = ld->n_warnings++;
	if (line > 0)
		w->msg = xasprintf("%s:%d: warning: %s", ld->files[file], line,
		    msg);
	else
		w->msg = xasprintf("%s: warning: %s", ld->files[file], msg);
	free(msg);
}

/* Record a problem at file:line. */
void
load_error(struct load *ld, int file, int line, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	load_verror(ld, file, line, fmt, ap);
	va_end(ap);
}

/* Remember a file (main or included) with its absolute folder. */
static int
load_add_file(struct load *ld, const char *path)
{
	ld->files = xreallocarray(ld->files, ld->n_files + 1, sizeof *ld->files);
	ld->dirs = xreallocarray(ld->dirs, ld->n_files + 1, sizeof *ld->dirs);
	ld->heres = xreallocarray(ld->heres, ld->n_files + 1,
	    sizeof *ld->heres);
	ld->files[ld->n_files] = xstrdup(path);
	ld->dirs[ld->n_files] = path_dir_of(path);
	ld->heres[ld->n_files] = path_abspath(ld->dirs[ld->n_files]);
	return (int)ld->n_files++;
}

/* Whether the open file was read already (an include matching twice). */
static bool
load_seen(struct load *ld, FILE *fp)
{
	struct config_file_id	id;
	size_t			i;

	if (config_files_id(fp, &id) == -1)
		return false;
	for (i = 0; i < ld->n_ids; i++) {
		if (ld->ids[i].volume == id.volume && ld->ids[i].index == id.index)
			return true;
	}
	ld->ids = xreallocarray(ld->ids, ld->n_ids + 1, sizeof *ld->ids);
	ld->ids[ld->n_ids++] = id;
	return false;
}

/* Read one open file, collecting its sections and problems. */
static void
load_parse_file(struct load *ld, int file, FILE *fp, bool is_main)
{
	struct reader	rd;
	char		*line;
	size_t		 len;

	memset(&rd, 0, sizeof rd);
	rd.ld = ld;
	rd.fp = fp;
	rd.file = file;
	rd.is_main = is_main;
	rd.prev = PREV_NONE;
	rd.state = READER_OUTSIDE;
	rd.entry = -1;

	while ((line = reader_getline(&rd, &len)) != NULL) {
		rd.lineno++;
		reader_line(&rd, line);
	}
	if (rd.read_errno != 0)
		load_error(ld, file, rd.lineno + 1, "read error: %s",
		    strerror(rd.read_errno));
	free(rd.buf);
}

/* Read the main file; returns its index in ld->files. */
int
load_main(struct load *ld, const char *path)
{
	struct stat	 st;
	FILE		*fp;
	int		 main_file;

	main_file = load_add_file(ld, path);
	if ((fp = config_files_open_main(path)) == NULL)
		load_error(ld, main_file, 0, "cannot open: %s", strerror(errno));
	else if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		load_error(ld, main_file, 0, "cannot open: %s", strerror(EISDIR));
		fclose(fp);
	} else {
		load_seen(ld, fp);
		load_parse_file(ld, main_file, fp, true);
		fclose(fp);
	}
	return main_file;
}

/*
 * Open an included file for reading.  It is opened without blocking and
 * checked before anything is read: opening a FIFO would otherwise wait for
 * a writer and hang a reload.
 */
static FILE *
load_open_include(struct load *ld, int main_file, int line, const char *path)
{
	FILE	*fp;
	bool	 not_regular;

	if ((fp = config_files_open(path, &not_regular)) != NULL)
		return fp;
	if (not_regular)
		load_error(ld, main_file, line,
		    "include: %s is not a regular file", path);
	else
		load_error(ld, main_file, line, "include: cannot open %s: %s",
		    path, strerror(errno));
	return NULL;
}

/*
 * Read the files the include globs of the main file match.  Globs are
 * relative to the main file's folder; one that matches nothing is fine.
 */
void
load_includes(struct load *ld, int main_file)
{
	struct include_glob	*ig;
	strv_t			 matches;
	FILE			*fp;
	char			*escaped, *pattern;
	size_t			 i, j;
	int			 file, rc;

	escaped = config_files_glob_escape(ld->dirs[main_file]);
	for (i = 0; i < ld->n_includes; i++) {
		ig = &ld->includes[i];
		if (config_files_absolute(ig->pattern))
			pattern = xstrdup(ig->pattern);
		else
			pattern = xasprintf("%s/%s", escaped, ig->pattern);
		rc = config_files_glob(pattern, &matches);
		free(pattern);
		if (rc != 0) {
			load_error(ld, main_file, ig->line,
			    "include: cannot expand '%s'", ig->pattern);
			continue;
		}
		for (j = 0; matches[j] != NULL; j++) {
			/* A pattern ending in a star may well match a folder. */
			if (config_files_is_dir(matches[j]))
				continue;
			if ((fp = load_open_include(ld, main_file, ig->line,
			    matches[j])) == NULL)
				continue;
			if (load_seen(ld, fp)) {
				fclose(fp);
				continue;
			}
			file = load_add_file(ld, matches[j]);
			load_parse_file(ld, file, fp, false);
			fclose(fp);
		}
		strv_free(matches);
	}
	free(escaped);
}

/* Order problems by file, then line, then the order they were found in. */
static int
problem_cmp(const void *a, const void *b)
{
	const struct problem	*pa = a, *pb = b;

	if (pa->file != pb->file)
		return pa->file < pb->file ? -1 : 1;
	if (pa->line != pb->line)
		return pa->line < pb->line ? -1 : 1;
	if (pa->seq != pb->seq)
		return pa->seq < pb->seq ? -1 : 1;
	return 0;
}

/* Hand the sorted problems over to the caller's list. */
void
load_finish_errors(struct load *ld, struct config_errors *errs)
{
	size_t	i;

	if (ld->n_problems == 0)
		return;
	qsort(ld->problems, ld->n_problems, sizeof *ld->problems, problem_cmp);
	if (errs == NULL) {
		for (i = 0; i < ld->n_problems; i++)
			free(ld->problems[i].msg);
	} else {
		errs->msgs = xreallocarray(errs->msgs, errs->n + ld->n_problems,
		    sizeof *errs->msgs);
		for (i = 0; i < ld->n_problems; i++)
			errs->msgs[errs->n++] = ld->problems[i].msg;
	}
	free(ld->problems);
	ld->problems = NULL;
	ld->n_problems = 0;
}

/* Hand the warnings over to the config, sorted as problems are. */
void
load_take_warnings(struct load *ld, struct config *cfg)
{
	size_t	i;

	if (ld->n_warnings > 1)
		qsort(ld->warnings, ld->n_warnings, sizeof *ld->warnings,
		    problem_cmp);
	cfg->warnings = xcalloc(ld->n_warnings + 1, sizeof *cfg->warnings);
	for (i = 0; i < ld->n_warnings; i++)
		cfg->warnings[i] = ld->warnings[i].msg;
	cfg->n_warnings = ld->n_warnings;
	free(ld->warnings);
	ld->warnings = NULL;
	ld->n_warnings = 0;
}

/* Free what the load collected (not the config it built). */
void
load_free(struct load *ld)
{
	size_t	i;

	for (i = 0; i < ld->n_files; i++) {
		free(ld->files[i]);
		free(ld->dirs[i]);
		free(ld->heres[i]);
	}
	free(ld->files);
	free(ld->dirs);
	free(ld->heres);
	free(ld->ids);
	for (i = 0; i < ld->n_sections; i++)
		section_free(ld->sections[i]);
	free(ld->sections);
	free(ld->by_name);
	for (i = 0; i < ld->n_includes; i++)
		free(ld->includes[i].pattern);
	free(ld->includes);
	for (i = 0; i < ld->n_problems; i++)
		free(ld->problems[i].msg);
	free(ld->problems);
	for (i = 0; i < ld->n_warnings; i++)
		free(ld->warnings[i].msg);
	free(ld->warnings);
}

/*
 * Read one physical line of any length into rd->buf, without its line
 * ending; NULL at the end of the file.  getc() rather than fgets() so a
 * NUL byte cannot silently cut a line short.
 */
static char *
reader_getline(struct reader *rd, size_t *lenp)
{
	size_t	len = 0;
	int	c;
	bool	got = false;

	rd->has_nul = false;
	rd->too_long = 0;
	errno = 0;
	for (;;) {
		if ((c = getc(rd->fp)) == EOF)
			break;
		got = true;
		if (c == '\n')
			break;
		if (len >= CONFIG_LINE_MAX) {
			/* Counted, not kept: the line is refused. */
			rd->too_long = ++len;
			continue;
		}
		if (len + 2 > rd->cap) {
			rd->cap = rd->cap == 0 ? 256 : rd->cap * 2;
			rd->buf = xreallocarray(rd->buf, rd->cap, 1);
		}
		if (c == '\0')
			rd->has_nul = true;
		rd->buf[len++] = (char)c;
	}
	if (!got) {
		if (ferror(rd->fp))
			rd->read_errno = errno != 0 ? errno : EIO;
		return NULL;
	}
	if (rd->buf == NULL) {
		rd->cap = 256;
		rd->buf = xreallocarray(NULL, rd->cap, 1);
	}
	if (rd->too_long != 0)
		len = CONFIG_LINE_MAX + 1;
	else if (len > 0 && rd->buf[len - 1] == '\r')
		len--;
	rd->buf[len] = '\0';
	*lenp = len;
	return rd->buf;
}

/*
 * Take one physical line: a comment, a blank, a section header, a key, or
 * the continuation of the last key's value.
 */
static void
reader_line(struct reader *rd, char *line)
{
	char	*p, *q, *sep, *key;
	size_t	 indent;

	p = line;
	if (rd->lineno == 1 && strncmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	if (rd->has_nul || rd->too_long != 0) {
		if (rd->has_nul)
			reader_error(rd, "line contains a NUL byte");
		else
			reader_error(rd, "line too long (%zu bytes; at most "
			    "%d)", rd->too_long, CONFIG_LINE_MAX);
		rd->prev = PREV_DROPPED;
		return;
	}

	for (indent = 0; is_blank(p[indent]); indent++)
		;
	p += indent;
	if (*p == '\0') {
		rd->blanks++;
		return;
	}
	if (*p == ';' || *p == '#')
		return;

	/* An inline comment starts at ';' or '#' after white space. */
	for (q = p + 1; *q != '\0'; q++) {
		if ((*q == ';' || *q == '#') && is_blank(q[-1])) {
			*q = '\0';
			break;
		}
	}
	q = p + strlen(p);
	while (q > p && is_blank(q[-1]))
		*--q = '\0';

	if (indent > rd->key_indent && rd->prev != PREV_NONE) {
		if (rd->prev == PREV_KEY)
			reader_continue(rd, p);
		rd->blanks = 0;
		return;
	}
	rd->blanks = 0;

	if (*p == '[') {
		reader_section(rd, p);
		rd->prev = PREV_NONE;
		return;
	}

	rd->prev = PREV_DROPPED;
	if ((sep = strpbrk(p, "=:")) == NULL) {
		reader_error(rd, "expected 'key = value' or '[section]'");
		return;
	}
	q = sep;
	while (q > p && is_blank(q[-1]))
		q--;
	if (q == p) {
		reader_error(rd, "missing key name before '%c'", *sep);
		return;
	}
	if (rd->state == READER_OUTSIDE) {
		reader_error(rd, "key '%.*s' is outside any section",
		    (int)(q - p), p);
		return;
	}
	rd->prev = PREV_KEY;
	rd->key_indent = indent;
	key = xstrndup(p, (size_t)(q - p));
	for (sep++; is_blank(*sep); sep++)
		;
	reader_key(rd, key, sep);
	free(key);
}

/* Join a continuation line to the value of the last key, with a newline
 * (and the blank lines between them), as supervisord does. */
static void
reader_continue(struct reader *rd, const char *p)
{
	struct entry	*e;
	char		*joined;
	size_t		 n = strlen(p), len, i;

	if (rd->sec == NULL || rd->entry < 0)
		return;
	e = &rd->sec->entries[rd->entry];
	if (*e->value == '\0') {
		/* "key =" followed by indented lines. */
		free(e->value);
		e->value = xstrdup(p);
		return;
	}
	len = strlen(e->value);
	joined = xcalloc(1, len + rd->blanks + n + 2);
	memcpy(joined, e->value, len);
	for (i = 0; i <= rd->blanks; i++)
		joined[len++] = '\n';
	memcpy(joined + len, p, n + 1);
	free(e->value);
	e->value = joined;
}

/* Record a problem at the line the reader is on. */
static void
reader_error(struct reader *rd, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	load_verror(rd->ld, rd->file, rd->lineno, fmt, ap);
	va_end(ap);
}

/* Open the section a header line names, or report why its keys are ignored. */
static void
reader_section(struct reader *rd, char *p)
{
	struct load		*ld = rd->ld;
	struct section		*other;
	enum section_kind	 kind;
	size_t			 len = strlen(p);
	const char		*name;

	rd->sec = NULL;
	rd->entry = -1;
	rd->state = READER_IGNORED;

	if (len < 2 || p[len - 1] != ']' || strchr(p + 1, ']') != p + len - 1 ||
	    strchr(p + 1, '[') != NULL) {
		reader_error(rd, "malformed section header '%s'", p);
		return;
	}
	p[len - 1] = '\0';

	kind = config_section_kind(p + 1, &name);
	if ((int)kind == -1) {
		reader_error(rd, "unknown section [%s]", p + 1);
		return;
	}
	if (kind == SECTION_MAIN) {
		if (!rd->is_main) {
			reader_error(rd, "section [%s] is allowed only in the "
			    "main file (included files hold [program:NAME] "
			    "sections)", p + 1);
			return;
		}
		if (ld->main != NULL) {
			reader_error(rd, "duplicate section [%s] (first at "
			    "%s:%d)", p + 1, ld->files[ld->main->file],
			    ld->main->line);
			return;
		}
		ld->main = section_new(ld, SECTION_MAIN, NULL, rd->file,
		    rd->lineno);
		rd->sec = ld->main;
	} else if (SECTION_IS_PROGRAM(kind) || kind == SECTION_GROUP) {
		/* supervisord strips the name ("[program: a ]" is "a"). */
		char	*n = xstrdup(name), *e = n + strlen(n);

		while (e > n && is_blank(e[-1]))
			*--e = '\0';
		for (e = n; is_blank(*e); e++)
			;
		if (!program_name_valid(e)) {
			reader_error(rd, "invalid %s name '%s' (letters, "
			    "digits, '_', '.' and '-'; at most %d characters)",
			    config_section_title(kind), e, CONFIG_NAME_MAX);
		} else if ((other = kind == SECTION_GROUP ?
		    section_find_group(ld, e) : section_find_program(ld, e)) !=
		    NULL) {
			reader_error(rd, "duplicate %s %s (first defined "
			    "at %s:%d)", config_section_title(kind), e,
			    ld->files[other->file], other->line);
		} else
			rd->sec = section_new(ld, kind, e, rd->file,
			    rd->lineno);
		free(n);
		if (rd->sec == NULL)
			return;
	} else {
		/*
		 * supervisord's own sections may come more than once and from
		 * included files: their keys merge, the last one read wins.
		 */
		rd->sec = section_new(ld, kind, kind == SECTION_RPCINTERFACE ?
		    name : NULL, rd->file, rd->lineno);
	}
	rd->state = READER_SECTION;
}

/*
 * File one key = value into the current section.  A key given twice counts
 * as last given (supervisord's behaviour), with a warning naming both lines.
 */
static void
reader_key(struct reader *rd, const char *name, const char *value)
{
	struct entry		*e;
	const struct config_key	*key;
	const char		*spelling;
	size_t			 i;

	rd->entry = -1;
	if (rd->state != READER_SECTION)
		return;
	/* [rpcinterface:x] keys go to supervisord's XML-RPC factory. */
	if (rd->sec->kind == SECTION_RPCINTERFACE)
		return;

	if ((key = config_key_find(name, rd->sec->kind, &spelling)) == NULL) {
		reader_error(rd, "unknown key '%s'", name);
		return;
	}

	for (i = 0; i < rd->sec->n_entries; i++) {
		e = &rd->sec->entries[i];
		if (e->key != key ||
		    config_key_pair_allowed(key, e->spelling, spelling))
			continue;
		if (e->spelling == spelling)
			load_warning(rd->ld, rd->file, rd->lineno, "'%s' is "
			    "given twice (lines %d and %d): the last one "
			    "counts", spelling, e->line, rd->lineno);
		else
			load_warning(rd->ld, rd->file, rd->lineno, "'%s' and "
			    "'%s' (line %d) are the same setting: the last one "
			    "counts", spelling, e->spelling, e->line);
		free(e->value);
		memmove(e, e + 1, (rd->sec->n_entries - i - 1) * sizeof *e);
		rd->sec->n_entries--;
		break;
	}
	reader_add_entry(rd, key, spelling, value);
}

/* Append an entry to the current section and let continuations extend it. */
static void
reader_add_entry(struct reader *rd, const struct config_key *key,
    const char *spelling, const char *value)
{
	struct section	*sec = rd->sec;
	struct entry	*e;

	sec->entries = xreallocarray(sec->entries, sec->n_entries + 1,
	    sizeof *sec->entries);
	e = &sec->entries[sec->n_entries];
	e->key = key;
	e->spelling = spelling;
	e->value = xstrdup(value);
	e->line = rd->lineno;
	rd->entry = (ssize_t)sec->n_entries++;
}

/* Create a section and append it to the load's list. */
static struct section *
section_new(struct load *ld, enum section_kind kind, const char *name,
    int file, int line)
{
	struct section	*sec;

	sec = xcalloc(1, sizeof *sec);
	sec->kind = kind;
	sec->name = name == NULL ? NULL : xstrdup(name);
	sec->file = file;
	sec->line = line;
	ld->sections = xreallocarray(ld->sections, ld->n_sections + 1,
	    sizeof *ld->sections);
	ld->sections[ld->n_sections++] = sec;
	if (SECTION_IS_PROGRAM(kind) || kind == SECTION_GROUP)
		section_index(ld, sec);
	return sec;
}

/* FNV-1a of a program name. */
static size_t
section_name_hash(const char *name)
{
	uint64_t	h = 0xcbf29ce484222325ULL;

	for (; *name != '\0'; name++) {
		h ^= (unsigned char)*name;
		h *= 0x100000001b3ULL;
	}
	return (size_t)(h ^ (h >> 32));
}

/* Add a program section to the by-name index, growing it at half full. */
static void
section_index(struct load *ld, struct section *sec)
{
	size_t	i, mask;

	if ((ld->n_by_name + 1) * 2 > ld->by_name_cap) {
		struct section	**old = ld->by_name;
		size_t		  old_cap = ld->by_name_cap;

		ld->by_name_cap = old_cap ? old_cap * 2 : 64;
		ld->by_name = xcalloc(ld->by_name_cap, sizeof *ld->by_name);
		ld->n_by_name = 0;
		for (i = 0; i < old_cap; i++)
			if (old[i] != NULL)
				section_index(ld, old[i]);
		free(old);
	}
	mask = ld->by_name_cap - 1;
	for (i = section_name_hash(sec->name) & mask; ld->by_name[i] != NULL;
	    i = (i + 1) & mask)
		;
	ld->by_name[i] = sec;
	ld->n_by_name++;
}

/* The program-like (or group) section called name, or NULL. */
static struct section *
section_find(struct load *ld, const char *name, bool group)
{
	size_t	i, mask;

	if (ld->by_name_cap == 0)
		return NULL;
	mask = ld->by_name_cap - 1;
	for (i = section_name_hash(name) & mask; ld->by_name[i] != NULL;
	    i = (i + 1) & mask)
		if ((ld->by_name[i]->kind == SECTION_GROUP) == group &&
		    strcmp(ld->by_name[i]->name, name) == 0)
			return ld->by_name[i];
	return NULL;
}

/* The program-like section called name, or NULL. */
struct section *
section_find_program(struct load *ld, const char *name)
{
	return section_find(ld, name, false);
}

/* The [group:name] section, or NULL. */
struct section *
section_find_group(struct load *ld, const char *name)
{
	return section_find(ld, name, true);
}

/* Free a section and its entries. */
static void
section_free(struct section *sec)
{
	size_t	i;

	for (i = 0; i < sec->n_entries; i++)
		free(sec->entries[i].value);
	free(sec->entries);
	free(sec->name);
	free(sec);
}
