/*
 * The configuration loader: reads the main INI file and its includes with
 * inih, then turns the collected key = value entries into a validated
 * struct config.
 *
 * inih is driven through ini_parse_stream() with a reader of our own.  The
 * system's libinih holds at most INI_MAX_LINE bytes a line, tells its
 * handler no line numbers, and reports only its first syntax error.  The
 * reader therefore does the line-level work itself: it counts physical
 * lines, strips comments and line endings, refuses lines inih could not
 * hold, reports malformed lines and section headers, and hands inih only
 * lines it is sure inih will accept, exactly one for each physical line.
 * inih calls the handler right after the reader returned the line being
 * processed, so the handler takes the file, the line number and the current
 * section from the reader.
 *
 * Loading is done in two passes: the first collects raw entries per
 * section (joining continuation lines and catching duplicate keys), the
 * second validates complete values.  Every problem found is kept, sorted by
 * file and line, and handed back as "FILE:LINE: message".
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "config.h"
#include "config-files.h"
#include "log.h"
#include "parse.h"

#if defined(INI_ALLOW_MULTILINE) && !INI_ALLOW_MULTILINE
#error "inih must be built with INI_ALLOW_MULTILINE for continuation lines"
#endif

#define CONFIG_MAIN_SECTION	"safeexitd"
#define CONFIG_PROGRAM_PREFIX	"program:"

enum key_id {
	/* [safeexitd] */
	KEY_SOCKET,
	KEY_SOCKET_MODE,
	KEY_SOCKET_GROUP,
	KEY_PIDFILE,
	KEY_LOG_LEVEL,
	KEY_LOG,
	KEY_SHUTDOWN_TIMEOUT,
	KEY_ON_SIGHUP,
	KEY_ON_SIGQUIT,
	KEY_ON_HOST_SHUTDOWN,
	KEY_ON_LOGOFF,
	KEY_ON_CLOSE,
	KEY_INCLUDE,
	KEY_EXIT_ON_FATAL,
	KEY_CGROUPS,
	/* [program:NAME] */
	KEY_COMMAND,
	KEY_DIRECTORY,
	KEY_USER,
	KEY_GROUP,
	KEY_ENVIRONMENT,
	KEY_UMASK,
	KEY_AUTOSTART,
	KEY_AUTORESTART,
	KEY_EXITCODES,
	KEY_START_SECS,
	KEY_START_RETRIES,
	KEY_PRIORITY,
	KEY_DEPENDS_ON,
	KEY_STOP_SIGNAL,
	KEY_STOP_TIMEOUT,
	KEY_KILL_SIGNAL,
	KEY_STOP_GROUP,
	KEY_STOP_COMMAND,
	KEY_STDOUT,
	KEY_STDERR,
	KEY_STDOUT_MAX_BYTES,
	KEY_STDERR_MAX_BYTES,
	KEY_STDOUT_BACKUPS,
	KEY_STDERR_BACKUPS,
	KEY_STOP_METHOD,
	/* supervisord keys with no safeexitd spelling */
	KEY_REDIRECT_STDERR,
	KEY_PROCESS_NAME,
	KEY_NUMPROCS,
};

enum section_kind {
	SECTION_MAIN,
	SECTION_PROGRAM,
};

/* Where the reader is: which kind of section the next key belongs to. */
enum reader_state {
	READER_OUTSIDE,		/* before the first section header */
	READER_SECTION,		/* in a section we keep */
	READER_IGNORED,		/* in a section already reported as wrong */
};

/* What an indented line after the current one would continue. */
enum reader_prev {
	PREV_NONE,		/* nothing: an indented line is a line of its own */
	PREV_KEY,		/* a key inih has seen: join the line to it */
	PREV_DROPPED,		/* a line we refused: drop its continuations too */
};

struct key_def {
	const char		*name;		/* as written in the file */
	enum key_id		 id;		/* the canonical setting */
	enum section_kind	 section;
	bool			 logfile;	/* supervisord's *_logfile values */
};

struct entry {
	const struct key_def	*def;
	char			*value;
	int			 line;
};

struct section {
	enum section_kind	 kind;
	char			*name;		/* program name; NULL for main */
	int			 file;		/* index into load.files */
	int			 line;
	struct entry		*entries;
	size_t			 n_entries;
};

struct problem {
	int		 file;
	int		 line;
	size_t		 seq;
	char		*msg;
};

struct include_glob {
	char	*pattern;
	int	 line;
};

/* Everything one config_load() collects before it builds the config. */
struct load {
	char			**files;	/* as given, main first */
	char			**dirs;		/* absolute folder of each file */
	size_t			  n_files;
	struct config_file_id	 *ids;
	size_t			  n_ids;

	struct section		**sections;	/* in file order */
	size_t			  n_sections;
	struct section		 *main;
	/* Program sections by name (open addressing), so duplicates are found
	 * without comparing each new section with all the earlier ones. */
	struct section		**by_name;
	size_t			  by_name_cap, n_by_name;

	struct include_glob	 *includes;
	size_t			  n_includes;

	struct problem		 *problems;
	size_t			  n_problems;
};

/* The state of one file being read; inih's stream and user pointer. */
struct reader {
	struct load		*ld;
	FILE			*fp;
	int			 file;		/* index into ld->files */
	bool			 is_main;
	int			 lineno;
	char			*buf;
	size_t			 cap;
	bool			 has_nul;
	int			 read_errno;	/* nonzero after a read error */

	enum reader_prev	 prev;
	bool			 cont;		/* the line just read continues a value */
	enum reader_state	 state;
	struct section		*sec;
	ssize_t			 entry;		/* index of the entry a continuation extends */
};

static void		*xcalloc(size_t, size_t);
static void		*xreallocarray(void *, size_t, size_t);
static char		*xstrdup(const char *);
static char		*xstrndup(const char *, size_t);
static char		*xvasprintf(const char *, va_list) LOG_PRINTF(1, 0);
static char		*xasprintf(const char *, ...) LOG_PRINTF(1, 2);
static bool		 is_blank(char);

static void		 load_verror(struct load *, int, int, const char *, va_list)
			    LOG_PRINTF(4, 0);
static void		 load_error(struct load *, int, int, const char *, ...)
			    LOG_PRINTF(4, 5);
static bool		 load_has_error_at(struct load *, int, int);
static int		 load_add_file(struct load *, const char *);
static bool		 load_seen(struct load *, FILE *);
static void		 load_parse_file(struct load *, int, FILE *, bool);
static FILE		*load_open_include(struct load *, int, int, const char *);
static void		 load_includes(struct load *, int);
static void		 load_finish_errors(struct load *, struct config_errors *);
static void		 load_free(struct load *);
static int		 problem_cmp(const void *, const void *);

static char		*reader_getline(struct reader *, size_t *);
static char		*reader_read(char *, int, void *);
static char		*reader_emit(char *, int, const char *, const char *);
static void		 reader_error(struct reader *, const char *, ...)
			    LOG_PRINTF(2, 3);
static void		 reader_section(struct reader *, char *);
#if INI_HANDLER_LINENO
static int		 reader_handler(void *, const char *, const char *,
			    const char *, int);
#else
static int		 reader_handler(void *, const char *, const char *,
			    const char *);
#endif
static void		 reader_add_entry(struct reader *, const struct key_def *,
			    const char *);

static struct section	*section_new(struct load *, enum section_kind,
			    const char *, int, int);
static struct section	*section_find_program(struct load *, const char *);
static size_t		 section_name_hash(const char *);
static void		 section_index(struct load *, struct section *);
static void		 section_free(struct section *);

static const struct key_def *key_lookup(const char *, enum section_kind);
static bool		 key_supervisord_unsupported(const char *);
static bool		 key_pair_allowed(const struct key_def *,
			    const struct key_def *);

static char		*path_dir_of(const char *);
static char		*path_resolve(const char *, const char *);
static void		 path_clean(char *);

static bool		 value_check(struct load *, int, const struct entry *);
static int		 value_policy(struct load *, int, const struct entry *,
			    bool, enum policy_action *);
static int		 value_output(struct load *, int, const struct entry *,
			    const char *, bool, struct output_config *);
static int		 value_int(const char *, int *);

static void		 config_build_main(struct load *, struct config *);
static struct program_config *config_build_program(struct load *,
			    struct section *);
static char		*config_fingerprint(struct section *,
			    const struct program_config *, bool);
static const char	*config_output_desc(const struct output_config *);
static void		 config_check_depends(struct load *, struct config *,
			    struct section **);
static void		 config_walk_depends(struct load *, struct config *,
			    struct section **, size_t, int *, size_t *, size_t *);
static ssize_t		 config_index(const struct config *, const char *);
static int		 string_cmp(const void *, const void *);

static const struct key_def key_defs[] = {
	{ "socket", KEY_SOCKET, SECTION_MAIN, false },
	{ "socket_mode", KEY_SOCKET_MODE, SECTION_MAIN, false },
	{ "socket_group", KEY_SOCKET_GROUP, SECTION_MAIN, false },
	{ "pidfile", KEY_PIDFILE, SECTION_MAIN, false },
	{ "log_level", KEY_LOG_LEVEL, SECTION_MAIN, false },
	{ "log", KEY_LOG, SECTION_MAIN, false },
	{ "shutdown_timeout", KEY_SHUTDOWN_TIMEOUT, SECTION_MAIN, false },
	{ "on_sighup", KEY_ON_SIGHUP, SECTION_MAIN, false },
	{ "on_sigquit", KEY_ON_SIGQUIT, SECTION_MAIN, false },
	{ "on_host_shutdown", KEY_ON_HOST_SHUTDOWN, SECTION_MAIN, false },
	{ "on_logoff", KEY_ON_LOGOFF, SECTION_MAIN, false },
	{ "on_close", KEY_ON_CLOSE, SECTION_MAIN, false },
	{ "include", KEY_INCLUDE, SECTION_MAIN, false },
	{ "exit_on_fatal", KEY_EXIT_ON_FATAL, SECTION_MAIN, false },
	{ "cgroups", KEY_CGROUPS, SECTION_MAIN, false },

	{ "command", KEY_COMMAND, SECTION_PROGRAM, false },
	{ "directory", KEY_DIRECTORY, SECTION_PROGRAM, false },
	{ "user", KEY_USER, SECTION_PROGRAM, false },
	{ "group", KEY_GROUP, SECTION_PROGRAM, false },
	{ "environment", KEY_ENVIRONMENT, SECTION_PROGRAM, false },
	{ "umask", KEY_UMASK, SECTION_PROGRAM, false },
	{ "autostart", KEY_AUTOSTART, SECTION_PROGRAM, false },
	{ "autorestart", KEY_AUTORESTART, SECTION_PROGRAM, false },
	{ "exitcodes", KEY_EXITCODES, SECTION_PROGRAM, false },
	{ "start_secs", KEY_START_SECS, SECTION_PROGRAM, false },
	{ "start_retries", KEY_START_RETRIES, SECTION_PROGRAM, false },
	{ "priority", KEY_PRIORITY, SECTION_PROGRAM, false },
	{ "depends_on", KEY_DEPENDS_ON, SECTION_PROGRAM, false },
	{ "stop_signal", KEY_STOP_SIGNAL, SECTION_PROGRAM, false },
	{ "stop_timeout", KEY_STOP_TIMEOUT, SECTION_PROGRAM, false },
	{ "kill_signal", KEY_KILL_SIGNAL, SECTION_PROGRAM, false },
	{ "stop_group", KEY_STOP_GROUP, SECTION_PROGRAM, false },
	{ "stop_command", KEY_STOP_COMMAND, SECTION_PROGRAM, false },
	{ "stdout", KEY_STDOUT, SECTION_PROGRAM, false },
	{ "stderr", KEY_STDERR, SECTION_PROGRAM, false },
	{ "stdout_max_bytes", KEY_STDOUT_MAX_BYTES, SECTION_PROGRAM, false },
	{ "stderr_max_bytes", KEY_STDERR_MAX_BYTES, SECTION_PROGRAM, false },
	{ "stdout_backups", KEY_STDOUT_BACKUPS, SECTION_PROGRAM, false },
	{ "stderr_backups", KEY_STDERR_BACKUPS, SECTION_PROGRAM, false },
	{ "stop_method", KEY_STOP_METHOD, SECTION_PROGRAM, false },

	/* supervisord spellings, so a pasted [program:x] section works */
	{ "startsecs", KEY_START_SECS, SECTION_PROGRAM, false },
	{ "startretries", KEY_START_RETRIES, SECTION_PROGRAM, false },
	{ "stopsignal", KEY_STOP_SIGNAL, SECTION_PROGRAM, false },
	{ "stopwaitsecs", KEY_STOP_TIMEOUT, SECTION_PROGRAM, false },
	{ "stopasgroup", KEY_STOP_GROUP, SECTION_PROGRAM, false },
	{ "killasgroup", KEY_STOP_GROUP, SECTION_PROGRAM, false },
	{ "stdout_logfile", KEY_STDOUT, SECTION_PROGRAM, true },
	{ "stderr_logfile", KEY_STDERR, SECTION_PROGRAM, true },
	{ "stdout_logfile_maxbytes", KEY_STDOUT_MAX_BYTES, SECTION_PROGRAM, false },
	{ "stderr_logfile_maxbytes", KEY_STDERR_MAX_BYTES, SECTION_PROGRAM, false },
	{ "stdout_logfile_backups", KEY_STDOUT_BACKUPS, SECTION_PROGRAM, false },
	{ "stderr_logfile_backups", KEY_STDERR_BACKUPS, SECTION_PROGRAM, false },
	{ "redirect_stderr", KEY_REDIRECT_STDERR, SECTION_PROGRAM, false },
	{ "process_name", KEY_PROCESS_NAME, SECTION_PROGRAM, false },
	{ "numprocs", KEY_NUMPROCS, SECTION_PROGRAM, false },
};

/* supervisord [program:x] keys that have no meaning here. */
static const char *const supervisord_unsupported[] = {
	"numprocs_start",
	"stdout_capture_maxbytes",
	"stdout_events_enabled",
	"stdout_syslog",
	"stderr_capture_maxbytes",
	"stderr_events_enabled",
	"stderr_syslog",
	"serverurl",
};

/* The canonical name of each setting, for the fingerprint. */
static const char *const key_canonical[] = {
	[KEY_SOCKET] = "socket",
	[KEY_SOCKET_MODE] = "socket_mode",
	[KEY_SOCKET_GROUP] = "socket_group",
	[KEY_PIDFILE] = "pidfile",
	[KEY_LOG_LEVEL] = "log_level",
	[KEY_LOG] = "log",
	[KEY_SHUTDOWN_TIMEOUT] = "shutdown_timeout",
	[KEY_ON_SIGHUP] = "on_sighup",
	[KEY_ON_SIGQUIT] = "on_sigquit",
	[KEY_ON_HOST_SHUTDOWN] = "on_host_shutdown",
	[KEY_ON_LOGOFF] = "on_logoff",
	[KEY_ON_CLOSE] = "on_close",
	[KEY_INCLUDE] = "include",
	[KEY_EXIT_ON_FATAL] = "exit_on_fatal",
	[KEY_CGROUPS] = "cgroups",
	[KEY_COMMAND] = "command",
	[KEY_DIRECTORY] = "directory",
	[KEY_USER] = "user",
	[KEY_GROUP] = "group",
	[KEY_ENVIRONMENT] = "environment",
	[KEY_UMASK] = "umask",
	[KEY_AUTOSTART] = "autostart",
	[KEY_AUTORESTART] = "autorestart",
	[KEY_EXITCODES] = "exitcodes",
	[KEY_START_SECS] = "start_secs",
	[KEY_START_RETRIES] = "start_retries",
	[KEY_PRIORITY] = "priority",
	[KEY_DEPENDS_ON] = "depends_on",
	[KEY_STOP_SIGNAL] = "stop_signal",
	[KEY_STOP_TIMEOUT] = "stop_timeout",
	[KEY_KILL_SIGNAL] = "kill_signal",
	[KEY_STOP_GROUP] = "stop_group",
	[KEY_STOP_COMMAND] = "stop_command",
	[KEY_STDOUT] = "stdout",
	[KEY_STDERR] = "stderr",
	[KEY_STDOUT_MAX_BYTES] = "stdout_max_bytes",
	[KEY_STDERR_MAX_BYTES] = "stderr_max_bytes",
	[KEY_STDOUT_BACKUPS] = "stdout_backups",
	[KEY_STDERR_BACKUPS] = "stderr_backups",
	[KEY_STOP_METHOD] = "stop_method",
	[KEY_REDIRECT_STDERR] = "redirect_stderr",
	[KEY_PROCESS_NAME] = "process_name",
	[KEY_NUMPROCS] = "numprocs",
};

static const char *const restart_policy_names[] = {
	[RESTART_NEVER] = "never",
	[RESTART_ON_FAILURE] = "on-failure",
	[RESTART_ALWAYS] = "always",
};

static const char *const output_kind_names[] = {
	[OUTPUT_LOG] = "log",
	[OUTPUT_FILE] = "file",
	[OUTPUT_NULL] = "null",
	[OUTPUT_SYSLOG] = "syslog",
	[OUTPUT_INHERIT] = "inherit",
	[OUTPUT_STDOUT] = "stdout",
};

static const struct {
	const char		*name;
	enum stop_method	 method;
} stop_methods[] = {
	{ "auto", STOP_METHOD_AUTO },
	{ "ctrl_c", STOP_METHOD_CTRL_C },
	{ "ctrl_break", STOP_METHOD_CTRL_BREAK },
	{ "wm_close", STOP_METHOD_WM_CLOSE },
	{ "terminate", STOP_METHOD_TERMINATE },
};

/* Allocate zeroed memory; a config that cannot be held cannot be loaded. */
static void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL)
		fatalx("%s: out of memory", __func__);
	return p;
}

/* Grow an array, checking the multiplication for overflow. */
static void *
xreallocarray(void *ptr, size_t n, size_t size)
{
	void	*p;

	if (size != 0 && n > SIZE_MAX / size)
		fatalx("%s: size overflow", __func__);
	if ((p = realloc(ptr, n * size == 0 ? 1 : n * size)) == NULL)
		fatalx("%s: out of memory", __func__);
	return p;
}

/* Copy a string or abort. */
static char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

/* Copy len bytes of s into a new NUL-terminated string. */
static char *
xstrndup(const char *s, size_t len)
{
	char	*p;

	p = xcalloc(1, len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* Format into a new string (vsnprintf twice, which every platform has). */
static char *
xvasprintf(const char *fmt, va_list ap)
{
	va_list	 ap2;
	char	*s;
	int	 len;

	va_copy(ap2, ap);
	len = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (len < 0)
		fatalx("%s: bad format", __func__);
	s = xcalloc(1, (size_t)len + 1);
	vsnprintf(s, (size_t)len + 1, fmt, ap);
	return s;
}

/* Format into a new string. */
static char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

/* White space as inih sees it (isspace, without the locale's sign trap). */
static bool
is_blank(char c)
{
	return isspace((unsigned char)c) != 0;
}

/* Record a problem at file:line; line 0 means the file as a whole. */
static void
load_verror(struct load *ld, int file, int line, const char *fmt, va_list ap)
{
	struct problem	*p;
	char		*msg;

	msg = xvasprintf(fmt, ap);
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

/* Record a problem at file:line. */
static void
load_error(struct load *ld, int file, int line, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	load_verror(ld, file, line, fmt, ap);
	va_end(ap);
}

/* Whether a problem was already recorded at file:line. */
static bool
load_has_error_at(struct load *ld, int file, int line)
{
	size_t	i;

	for (i = 0; i < ld->n_problems; i++) {
		if (ld->problems[i].file == file && ld->problems[i].line == line)
			return true;
	}
	return false;
}

/* Remember a file (main or included) with its absolute folder. */
static int
load_add_file(struct load *ld, const char *path)
{
	ld->files = xreallocarray(ld->files, ld->n_files + 1, sizeof *ld->files);
	ld->dirs = xreallocarray(ld->dirs, ld->n_files + 1, sizeof *ld->dirs);
	ld->files[ld->n_files] = xstrdup(path);
	ld->dirs[ld->n_files] = path_dir_of(path);
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

/* Run inih over one open file, collecting its sections and problems. */
static void
load_parse_file(struct load *ld, int file, FILE *fp, bool is_main)
{
	struct reader	rd;
	int		ret;

	memset(&rd, 0, sizeof rd);
	rd.ld = ld;
	rd.fp = fp;
	rd.file = file;
	rd.is_main = is_main;
	rd.prev = PREV_NONE;
	rd.state = READER_OUTSIDE;
	rd.entry = -1;

	ret = ini_parse_stream(reader_read, &rd, reader_handler, &rd);
	if (rd.read_errno != 0)
		load_error(ld, file, rd.lineno + 1, "read error: %s",
		    strerror(rd.read_errno));
	else if (ret > 0 && !load_has_error_at(ld, file, ret)) {
		/* The reader hands inih only lines it accepts; this is a
		 * safety net should inih ever disagree. */
		load_error(ld, file, ret, "syntax error");
	} else if (ret < 0 && ret != -1)
		load_error(ld, file, 0, "out of memory while parsing");
	free(rd.buf);
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
static void
load_includes(struct load *ld, int main_file)
{
	struct include_glob	*ig;
	strv_t			 matches;
	FILE			*fp;
	char			*escaped, *pattern;
	size_t			 i, j;
	int			 file, rc;

	if ((escaped = config_files_glob_escape(ld->dirs[main_file])) == NULL)
		fatal("%s", __func__);
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
static void
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

/* Free what the load collected (not the config it built). */
static void
load_free(struct load *ld)
{
	size_t	i;

	for (i = 0; i < ld->n_files; i++) {
		free(ld->files[i]);
		free(ld->dirs[i]);
	}
	free(ld->files);
	free(ld->dirs);
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
	errno = 0;
	for (;;) {
		if ((c = getc(rd->fp)) == EOF)
			break;
		got = true;
		if (c == '\n')
			break;
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
	if (len > 0 && rd->buf[len - 1] == '\r')
		len--;
	rd->buf[len] = '\0';
	*lenp = len;
	return rd->buf;
}

/*
 * inih's reader: turn the next physical line into a line inih is sure to
 * accept, one for one, so inih's line count stays ours.  Comments, blank
 * lines and refused lines become empty lines; section headers are handled
 * here and become "[]" (inih keeps only 49 bytes of a section name).
 */
static char *
reader_read(char *str, int num, void *stream)
{
	struct reader	*rd = stream;
	char		*line, *p, *q, *sep;
	size_t		 len, max;
	bool		 indented;

	rd->cont = false;
	if ((line = reader_getline(rd, &len)) == NULL)
		return NULL;
	rd->lineno++;
	/* inih needs room for the newline and the NUL. */
	max = num > 2 ? (size_t)num - 2 : 0;

	p = line;
	if (rd->lineno == 1 && len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	if (rd->has_nul) {
		reader_error(rd, "line contains a NUL byte");
		rd->prev = PREV_DROPPED;
		return reader_emit(str, num, "", NULL);
	}

	indented = is_blank(*p);
	while (is_blank(*p))
		p++;
	if (*p == '\0' || *p == ';' || *p == '#')
		return reader_emit(str, num, "", NULL);

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

	if (indented && rd->prev != PREV_NONE) {
		if (rd->prev == PREV_DROPPED)
			return reader_emit(str, num, "", NULL);
		if (strlen(p) + 1 > max) {
			reader_error(rd, "line too long (%zu bytes; at most %zu)",
			    strlen(p) + 1, max);
			rd->prev = PREV_DROPPED;
			return reader_emit(str, num, "", NULL);
		}
		/* One leading blank is all inih needs to see a continuation. */
		rd->cont = true;
		return reader_emit(str, num, " ", p);
	}

	if (*p == '[') {
		reader_section(rd, p);
		rd->prev = PREV_NONE;
		return reader_emit(str, num, "[]", NULL);
	}

	if ((sep = strpbrk(p, "=:")) == NULL) {
		reader_error(rd, "expected 'key = value' or '[section]'");
		rd->prev = PREV_DROPPED;
		return reader_emit(str, num, "", NULL);
	}
	q = sep;
	while (q > p && is_blank(q[-1]))
		q--;
	if (q == p) {
		reader_error(rd, "missing key name before '%c'", *sep);
		rd->prev = PREV_DROPPED;
		return reader_emit(str, num, "", NULL);
	}
	if (strlen(p) > max) {
		reader_error(rd, "line too long (%zu bytes; at most %zu)",
		    strlen(p), max);
		rd->prev = PREV_DROPPED;
		return reader_emit(str, num, "", NULL);
	}
	if (rd->state == READER_OUTSIDE) {
		/*
		 * Refused here rather than in the handler so that inih never
		 * parses a key on line 1, where it would strip a second
		 * byte-order mark we kept.
		 */
		reader_error(rd, "key '%.*s' is outside any section",
		    (int)(q - p), p);
		rd->prev = PREV_DROPPED;
		return reader_emit(str, num, "", NULL);
	}
	rd->prev = PREV_KEY;
	return reader_emit(str, num, p, NULL);
}

/* Copy a + b and a newline into inih's buffer, which the caller sized. */
static char *
reader_emit(char *str, int num, const char *a, const char *b)
{
	size_t	la = strlen(a), lb = b == NULL ? 0 : strlen(b);

	if (num < 4 || la + lb + 2 > (size_t)num) {
		/* Only "[]" can get here, with an absurdly small buffer. */
		str[0] = '\0';
		if (num >= 2) {
			str[0] = '\n';
			str[1] = '\0';
		}
		return str;
	}
	memcpy(str, a, la);
	if (lb != 0)
		memcpy(str + la, b, lb);
	str[la + lb] = '\n';
	str[la + lb + 1] = '\0';
	return str;
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
	struct load	*ld = rd->ld;
	struct section	*other;
	size_t		 len = strlen(p);
	char		*name;

	rd->sec = NULL;
	rd->entry = -1;
	rd->state = READER_IGNORED;

	if (len < 2 || p[len - 1] != ']' || strchr(p + 1, ']') != p + len - 1 ||
	    strchr(p + 1, '[') != NULL) {
		reader_error(rd, "malformed section header '%s'", p);
		return;
	}
	p[len - 1] = '\0';
	name = p + 1;

	if (strcmp(name, CONFIG_MAIN_SECTION) == 0) {
		if (!rd->is_main) {
			reader_error(rd, "section [%s] is allowed only in the "
			    "main file (included files hold [program:NAME] "
			    "sections)", name);
			return;
		}
		if (ld->main != NULL) {
			reader_error(rd, "duplicate section [%s] (first at "
			    "%s:%d)", name, ld->files[ld->main->file],
			    ld->main->line);
			return;
		}
		ld->main = section_new(ld, SECTION_MAIN, NULL, rd->file,
		    rd->lineno);
		rd->sec = ld->main;
	} else if (strncmp(name, CONFIG_PROGRAM_PREFIX,
	    strlen(CONFIG_PROGRAM_PREFIX)) == 0) {
		name += strlen(CONFIG_PROGRAM_PREFIX);
		if (!program_name_valid(name)) {
			reader_error(rd, "invalid program name '%s' (letters, "
			    "digits, '_', '.' and '-'; at most %d characters)",
			    name, CONFIG_NAME_MAX);
			return;
		}
		if ((other = section_find_program(ld, name)) != NULL) {
			reader_error(rd, "duplicate program %s (first defined "
			    "at %s:%d)", name, ld->files[other->file],
			    other->line);
			return;
		}
		rd->sec = section_new(ld, SECTION_PROGRAM, name, rd->file,
		    rd->lineno);
	} else {
		reader_error(rd, "unknown section [%s]", name);
		return;
	}
	rd->state = READER_SECTION;
}

/*
 * inih's handler: file one key = value into the current section.  It never
 * returns 0, so inih never stops early; problems go to the load instead.
 */
#if INI_HANDLER_LINENO
static int
reader_handler(void *user, const char *section, const char *name,
    const char *value, int lineno)
#else
static int
reader_handler(void *user, const char *section, const char *name,
    const char *value)
#endif
{
	struct reader		*rd = user;
	struct entry		*e;
	const struct key_def	*def;
	char			*joined;
	size_t			 i;

	/* inih built to announce sections does so with a NULL name. */
	if (name == NULL || value == NULL)
		return 1;

	if (rd->cont) {
		if (rd->sec == NULL || rd->entry < 0)
			return 1;
		e = &rd->sec->entries[rd->entry];
		if (*e->value == '\0') {
			/* "key =" followed by indented lines. */
			free(e->value);
			e->value = xstrdup(value);
		} else {
			joined = xasprintf("%s %s", e->value, value);
			free(e->value);
			e->value = joined;
		}
		return 1;
	}

	rd->entry = -1;
	if (rd->state != READER_SECTION)
		return 1;

	if ((def = key_lookup(name, rd->sec->kind)) == NULL) {
		if (rd->sec->kind == SECTION_PROGRAM &&
		    key_supervisord_unsupported(name))
			reader_error(rd, "supervisord key '%s' is not supported",
			    name);
		else
			reader_error(rd, "unknown key '%s'", name);
		return 1;
	}

	for (i = 0; i < rd->sec->n_entries; i++) {
		e = &rd->sec->entries[i];
		if (e->def->id != def->id || key_pair_allowed(e->def, def))
			continue;
		if (e->def == def)
			reader_error(rd, "duplicate key '%s' (first set at line "
			    "%d)", def->name, e->line);
		else
			reader_error(rd, "duplicate key '%s' (same setting as "
			    "'%s' at line %d)", def->name, e->def->name, e->line);
		return 1;
	}
	reader_add_entry(rd, def, value);
	return 1;
}

/* Append an entry to the current section and let continuations extend it. */
static void
reader_add_entry(struct reader *rd, const struct key_def *def,
    const char *value)
{
	struct section	*sec = rd->sec;
	struct entry	*e;

	sec->entries = xreallocarray(sec->entries, sec->n_entries + 1,
	    sizeof *sec->entries);
	e = &sec->entries[sec->n_entries];
	e->def = def;
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
	if (kind == SECTION_PROGRAM)
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

/* The program section called name, or NULL. */
static struct section *
section_find_program(struct load *ld, const char *name)
{
	size_t	i, mask;

	if (ld->by_name_cap == 0)
		return NULL;
	mask = ld->by_name_cap - 1;
	for (i = section_name_hash(name) & mask; ld->by_name[i] != NULL;
	    i = (i + 1) & mask)
		if (strcmp(ld->by_name[i]->name, name) == 0)
			return ld->by_name[i];
	return NULL;
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

/* The definition of a key in a kind of section; keys ignore case, as in
 * supervisord (Python's configparser lower-cases them). */
static const struct key_def *
key_lookup(const char *name, enum section_kind kind)
{
	size_t	i;

	for (i = 0; i < sizeof key_defs / sizeof key_defs[0]; i++) {
		if (key_defs[i].section == kind &&
		    strcasecmp(key_defs[i].name, name) == 0)
			return &key_defs[i];
	}
	return NULL;
}

/* Whether name is a supervisord program key that safeexitd cannot honour. */
static bool
key_supervisord_unsupported(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof supervisord_unsupported /
	    sizeof supervisord_unsupported[0]; i++) {
		if (strcasecmp(supervisord_unsupported[i], name) == 0)
			return true;
	}
	return false;
}

/*
 * Whether two spellings of one setting may both appear: supervisord has
 * stopasgroup and killasgroup where safeexitd has only stop_group, so a
 * pasted section often sets both (they must then agree).
 */
static bool
key_pair_allowed(const struct key_def *a, const struct key_def *b)
{
	if (a == b)
		return false;
	return (strcmp(a->name, "stopasgroup") == 0 &&
	    strcmp(b->name, "killasgroup") == 0) ||
	    (strcmp(a->name, "killasgroup") == 0 &&
	    strcmp(b->name, "stopasgroup") == 0);
}

/*
 * The absolute folder of a file, without resolving symbolic links: a
 * relative name is taken from the current directory at load time, so the
 * result stays right after the daemon changes directory.
 */
static char *
path_dir_of(const char *path)
{
	char		*slash, *dir, *abs, cwd[PATH_MAX];

	dir = xstrdup(path);
	config_files_normalize(dir);
	if ((slash = strrchr(dir, '/')) == NULL) {
		free(dir);
		dir = xstrdup(".");
	} else if (slash == dir || (slash == dir + 2 && dir[1] == ':'))
		slash[1] = '\0';	/* the root, or a drive's */
	else
		*slash = '\0';
	if (!config_files_absolute(dir)) {
		if (getcwd(cwd, sizeof cwd) == NULL)
			snprintf(cwd, sizeof cwd, ".");
		config_files_normalize(cwd);
		abs = xasprintf("%s/%s", cwd, dir);
		free(dir);
		dir = abs;
	}
	path_clean(dir);
	return dir;
}

/* An absolute, cleaned path: p itself, or p relative to dir. */
static char *
path_resolve(const char *dir, const char *p)
{
	char	*abs;

	if (config_files_absolute(p))
		abs = xstrdup(p);
	else
		abs = xasprintf("%s/%s", dir, p);
	config_files_normalize(abs);
	path_clean(abs);
	return abs;
}

/*
 * Drop empty and "." components in place.  ".." is kept: removing it by
 * hand would be wrong when the component before it is a symbolic link.
 */
static void
path_clean(char *path)
{
	char	*r = path, *w = path;
	bool	 abs = path[0] == '/';

	while (*r != '\0') {
		while (*r == '/')
			r++;
		if (*r == '\0')
			break;
		if (r[0] == '.' && (r[1] == '/' || r[1] == '\0')) {
			r++;
			continue;
		}
		if (w != path || abs)
			*w++ = '/';
		while (*r != '\0' && *r != '/')
			*w++ = *r++;
	}
	if (w == path) {
		if (abs)
			*w++ = '/';
		else
			*w++ = '.';
	}
	*w = '\0';
}

/* Checks every value gets: not empty, no supervisord expansion. */
static bool
value_check(struct load *ld, int file, const struct entry *e)
{
	if (*e->value == '\0') {
		load_error(ld, file, e->line, "%s: empty value", e->def->name);
		return false;
	}
	if (strstr(e->value, "%(") != NULL && !(e->def->id == KEY_PROCESS_NAME &&
	    strcmp(e->value, "%(program_name)s") == 0)) {
		load_error(ld, file, e->line,
		    "%s: supervisord %%(name)s expansion is not supported",
		    e->def->name);
		return false;
	}
	return true;
}

/* Parse shutdown | ignore, and reload where allowed (on_sighup). */
static int
value_policy(struct load *ld, int file, const struct entry *e,
    bool allow_reload, enum policy_action *out)
{
	if (strcasecmp(e->value, "shutdown") == 0)
		*out = POLICY_SHUTDOWN;
	else if (strcasecmp(e->value, "ignore") == 0)
		*out = POLICY_IGNORE;
	else if (allow_reload && strcasecmp(e->value, "reload") == 0)
		*out = POLICY_RELOAD;
	else {
		load_error(ld, file, e->line, "%s: invalid value '%s' (%s)",
		    e->def->name, e->value, allow_reload ?
		    "reload, shutdown or ignore" : "shutdown or ignore");
		return -1;
	}
	return 0;
}

/*
 * Parse an output destination.  A relative file is taken from dir, the
 * folder of the config file the section is in, as include globs are: the
 * config and its logs then move together, and the daemon's working
 * directory does not matter.
 */
static int
value_output(struct load *ld, int file, const struct entry *e,
    const char *dir, bool is_stderr, struct output_config *out)
{
	const char	*v = e->value;

	free(out->path);
	out->path = NULL;
	if (e->def->logfile) {
		/* supervisord's stdout_logfile / stderr_logfile words. */
		if (strcasecmp(v, "NONE") == 0 || strcasecmp(v, "OFF") == 0) {
			out->kind = OUTPUT_NULL;
			return 0;
		}
		if (strcasecmp(v, "AUTO") == 0) {
			out->kind = OUTPUT_LOG;
			return 0;
		}
		if (strcasecmp(v, "syslog") == 0) {
			out->kind = OUTPUT_SYSLOG;
			return 0;
		}
	} else {
		if (strcasecmp(v, "null") == 0) {
			out->kind = OUTPUT_NULL;
			return 0;
		}
		if (strcasecmp(v, "syslog") == 0) {
			out->kind = OUTPUT_SYSLOG;
			return 0;
		}
		if (strcasecmp(v, "inherit") == 0) {
			out->kind = OUTPUT_INHERIT;
			return 0;
		}
		if (strcasecmp(v, "stdout") == 0) {
			if (!is_stderr) {
				load_error(ld, file, e->line, "%s: 'stdout' is a "
				    "destination for stderr only", e->def->name);
				return -1;
			}
			out->kind = OUTPUT_STDOUT;
			return 0;
		}
	}
	out->kind = OUTPUT_FILE;
	out->path = path_resolve(dir, v);
	return 0;
}

/* Parse a decimal int that may be negative (priority). */
static int
value_int(const char *s, int *out)
{
	char	*end;
	long	 v;

	if (*s == '\0' || is_blank(*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || errno == ERANGE || v < INT_MIN || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

/* Validate the [safeexitd] section into cfg and collect the include globs. */
static void
config_build_main(struct load *ld, struct config *cfg)
{
	struct section	*sec = ld->main;
	struct entry	*e;
	const char	*err;
	strv_t		 globs;
	size_t		 i, j;
	int		 level, file;

	cfg->socket_mode = 0600;
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->shutdown_timeout = 90;
	cfg->on_sighup = POLICY_RELOAD;
	cfg->on_sigquit = POLICY_SHUTDOWN;
	cfg->on_host_shutdown = POLICY_SHUTDOWN;
	cfg->on_logoff = POLICY_SHUTDOWN;
	cfg->on_close = POLICY_SHUTDOWN;
	cfg->exit_on_fatal = false;
	cfg->cgroups = true;
	if (sec == NULL)
		return;
	file = sec->file;

	for (i = 0; i < sec->n_entries; i++) {
		e = &sec->entries[i];
		if (!value_check(ld, file, e))
			continue;
		switch (e->def->id) {
		case KEY_SOCKET:
			/* As written: the client reads it the same way. */
			cfg->socket = xstrdup(e->value);
			cfg->socket_line = e->line;
			break;
		case KEY_SOCKET_MODE:
			if (parse_mode(e->value, &cfg->socket_mode, &err) != 0) {
				load_error(ld, file, e->line, "%s: %s '%s'",
				    e->def->name, err, e->value);
				break;
			}
			cfg->socket_mode_set = true;
			break;
		case KEY_SOCKET_GROUP:
			cfg->socket_group = xstrdup(e->value);
			break;
		case KEY_PIDFILE:
			cfg->pidfile = path_resolve(ld->dirs[file], e->value);
			break;
		case KEY_LOG_LEVEL:
			if ((level = log_level_parse(e->value)) < 0) {
				load_error(ld, file, e->line, "%s: unknown level "
				    "'%s' (debug, info, notice, warning or "
				    "error)", e->def->name, e->value);
				break;
			}
			cfg->log_level = level;
			break;
		case KEY_LOG:
			if (strcasecmp(e->value, "stderr") == 0)
				cfg->log = xstrdup("stderr");
			else if (strcasecmp(e->value, "syslog") == 0)
				cfg->log = xstrdup("syslog");
			else if (strcasecmp(e->value, "journal") == 0)
				cfg->log = xstrdup("journal");
			else
				cfg->log = path_resolve(ld->dirs[file], e->value);
			break;
		case KEY_SHUTDOWN_TIMEOUT:
			if (parse_duration(e->value, &cfg->shutdown_timeout,
			    &err) != 0)
				load_error(ld, file, e->line, "%s: %s '%s'",
				    e->def->name, err, e->value);
			break;
		case KEY_ON_SIGHUP:
			value_policy(ld, file, e, true, &cfg->on_sighup);
			break;
		case KEY_ON_SIGQUIT:
			value_policy(ld, file, e, false, &cfg->on_sigquit);
			break;
		case KEY_ON_HOST_SHUTDOWN:
			value_policy(ld, file, e, false, &cfg->on_host_shutdown);
			break;
		case KEY_ON_LOGOFF:
			value_policy(ld, file, e, false, &cfg->on_logoff);
			break;
		case KEY_ON_CLOSE:
			value_policy(ld, file, e, false, &cfg->on_close);
			break;
		case KEY_INCLUDE:
			if (parse_list(e->value, &globs, &err) != 0) {
				load_error(ld, file, e->line, "%s: %s",
				    e->def->name, err);
				break;
			}
			for (j = 0; globs[j] != NULL; j++) {
				ld->includes = xreallocarray(ld->includes,
				    ld->n_includes + 1, sizeof *ld->includes);
				ld->includes[ld->n_includes].pattern =
				    xstrdup(globs[j]);
				ld->includes[ld->n_includes].line = e->line;
				ld->n_includes++;
			}
			strv_free(globs);
			break;
		case KEY_EXIT_ON_FATAL:
			if (parse_bool(e->value, &cfg->exit_on_fatal, &err) != 0)
				load_error(ld, file, e->line, "%s: %s '%s'",
				    e->def->name, err, e->value);
			break;
		case KEY_CGROUPS:
			/* "auto": where a cgroup v2 subtree is delegated (cgroup.c). */
			if (strcasecmp(e->value, "auto") == 0)
				cfg->cgroups = true;
			else if (parse_bool(e->value, &cfg->cgroups, &err) != 0 ||
			    cfg->cgroups)
				load_error(ld, file, e->line, "%s: 'auto' or 'off' "
				    "expected, not '%s'", e->def->name, e->value);
			break;
		default:
			fatalx("%s: key %s in the wrong section", __func__,
			    e->def->name);
		}
	}
	if (cfg->socket_group != NULL && !cfg->socket_mode_set)
		cfg->socket_mode = 0660;
}

/* Validate one [program:NAME] section into a program config. */
static struct program_config *
config_build_program(struct load *ld, struct section *sec)
{
	struct program_config	*pc;
	struct entry		*e, *stop_group = NULL, *stderr_key = NULL;
	struct entry		*redirect = NULL;
	struct output_config	*out;
	const char		*err, *dir = ld->dirs[sec->file];
	strv_t			 list;
	size_t			 i, j;
	int			 file = sec->file, n;
	bool			 b, redirect_on = false;

	pc = xcalloc(1, sizeof *pc);
	pc->name = xstrdup(sec->name);
	pc->file = xstrdup(ld->files[file]);
	pc->line = sec->line;
	pc->directory = xstrdup("/");
	pc->environment = xcalloc(1, sizeof *pc->environment);
	pc->umask = 022;
	pc->autostart = true;
	pc->autorestart = RESTART_ON_FAILURE;
	pc->exitcodes = xcalloc(1, sizeof *pc->exitcodes);
	pc->exitcodes[0] = 0;
	pc->n_exitcodes = 1;
	pc->start_secs = 1;
	pc->start_retries = 3;
	pc->priority = 999;
	pc->depends_on = xcalloc(1, sizeof *pc->depends_on);
	pc->stop_signal = SIGTERM;
	pc->stop_timeout = 10;
	pc->kill_signal = SIGKILL;
	pc->stop_group = true;
	pc->stop_method = STOP_METHOD_AUTO;
	pc->out.kind = OUTPUT_LOG;
	pc->out.backups = 5;
	pc->err.kind = OUTPUT_STDOUT;
	pc->err.backups = 5;

	for (i = 0; i < sec->n_entries; i++) {
		e = &sec->entries[i];
		if (!value_check(ld, file, e))
			continue;
		err = NULL;
		switch (e->def->id) {
		case KEY_COMMAND:
			pc->command = xstrdup(e->value);
			if (parse_argv(e->value, &pc->argv, &err) != 0)
				pc->argv = NULL;
			else if (pc->argv[0] == NULL || pc->argv[0][0] == '\0')
				err = "empty program name in";
			break;
		case KEY_DIRECTORY:
			free(pc->directory);
			pc->directory = path_resolve(dir, e->value);
			break;
		case KEY_USER:
			pc->user = xstrdup(e->value);
			break;
		case KEY_GROUP:
			pc->group = xstrdup(e->value);
			break;
		case KEY_ENVIRONMENT:
			strv_free(pc->environment);
			if (parse_env(e->value, &pc->environment, &err) != 0)
				pc->environment = xcalloc(1,
				    sizeof *pc->environment);
			break;
		case KEY_UMASK:
			parse_mode(e->value, &pc->umask, &err);
			break;
		case KEY_AUTOSTART:
			parse_bool(e->value, &pc->autostart, &err);
			break;
		case KEY_AUTORESTART:
			if (strcasecmp(e->value, "never") == 0 ||
			    strcasecmp(e->value, "false") == 0)
				pc->autorestart = RESTART_NEVER;
			else if (strcasecmp(e->value, "on-failure") == 0 ||
			    strcasecmp(e->value, "unexpected") == 0)
				pc->autorestart = RESTART_ON_FAILURE;
			else if (strcasecmp(e->value, "always") == 0 ||
			    strcasecmp(e->value, "true") == 0)
				pc->autorestart = RESTART_ALWAYS;
			else
				load_error(ld, file, e->line, "%s: invalid value "
				    "'%s' (never, on-failure or always)",
				    e->def->name, e->value);
			break;
		case KEY_EXITCODES:
			if (parse_list(e->value, &list, &err) != 0)
				break;
			if (list[0] == NULL)
				err = "no exit code given";
			pc->n_exitcodes = 0;
			for (j = 0; list[j] != NULL; j++) {
				if (parse_uint(list[j], &n, &err) != 0 ||
				    n > 255) {
					load_error(ld, file, e->line, "%s: '%s' "
					    "is not an exit code (0-255)",
					    e->def->name, list[j]);
					err = NULL;
					continue;
				}
				pc->exitcodes = xreallocarray(pc->exitcodes,
				    pc->n_exitcodes + 1, sizeof *pc->exitcodes);
				pc->exitcodes[pc->n_exitcodes++] = n;
			}
			strv_free(list);
			break;
		case KEY_START_SECS:
			parse_duration(e->value, &pc->start_secs, &err);
			break;
		case KEY_START_RETRIES:
			parse_uint(e->value, &pc->start_retries, &err);
			break;
		case KEY_PRIORITY:
			if (value_int(e->value, &pc->priority) != 0)
				err = "invalid number";
			break;
		case KEY_DEPENDS_ON:
			if (parse_list(e->value, &list, &err) != 0)
				break;
			/* Keep each name once; the order stays as written. */
			for (j = 0; list[j] != NULL; j++) {
				if (strv_contains(pc->depends_on, list[j]))
					continue;
				n = (int)strv_length(pc->depends_on);
				pc->depends_on = xreallocarray(pc->depends_on,
				    (size_t)n + 2, sizeof *pc->depends_on);
				pc->depends_on[n] = xstrdup(list[j]);
				pc->depends_on[n + 1] = NULL;
			}
			pc->depends_line = e->line;
			strv_free(list);
			break;
		case KEY_STOP_SIGNAL:
			parse_signal(e->value, &pc->stop_signal, &err);
			break;
		case KEY_STOP_TIMEOUT:
			parse_duration(e->value, &pc->stop_timeout, &err);
			break;
		case KEY_KILL_SIGNAL:
			parse_signal(e->value, &pc->kill_signal, &err);
			break;
		case KEY_STOP_GROUP:
			if (parse_bool(e->value, &b, &err) != 0)
				break;
			if (stop_group != NULL && b != pc->stop_group) {
				load_error(ld, file, e->line, "%s and %s "
				    "differ: safeexitd has one setting for "
				    "both (stop_group)", stop_group->def->name,
				    e->def->name);
				break;
			}
			pc->stop_group = b;
			stop_group = e;
			break;
		case KEY_STOP_COMMAND:
			pc->stop_command = xstrdup(e->value);
			if (parse_argv(e->value, &pc->stop_argv, &err) != 0)
				pc->stop_argv = NULL;
			else if (pc->stop_argv[0] == NULL ||
			    pc->stop_argv[0][0] == '\0')
				err = "empty program name in";
			break;
		case KEY_STDOUT:
		case KEY_STDERR:
			if (e->def->id == KEY_STDERR)
				stderr_key = e;
			out = e->def->id == KEY_STDOUT ? &pc->out : &pc->err;
			value_output(ld, file, e, dir, e->def->id == KEY_STDERR,
			    out);
			break;
		case KEY_STDOUT_MAX_BYTES:
			parse_size(e->value, &pc->out.max_bytes, &err);
			break;
		case KEY_STDERR_MAX_BYTES:
			parse_size(e->value, &pc->err.max_bytes, &err);
			break;
		case KEY_STDOUT_BACKUPS:
			parse_uint(e->value, &pc->out.backups, &err);
			break;
		case KEY_STDERR_BACKUPS:
			parse_uint(e->value, &pc->err.backups, &err);
			break;
		case KEY_STOP_METHOD:
			/* Windows only, but checked everywhere so a config
			 * moves between systems without surprises. */
			for (j = 0; j < sizeof stop_methods /
			    sizeof stop_methods[0]; j++) {
				if (strcasecmp(e->value,
				    stop_methods[j].name) == 0)
					break;
			}
			if (j < sizeof stop_methods / sizeof stop_methods[0])
				pc->stop_method = stop_methods[j].method;
			else
				load_error(ld, file, e->line, "%s: invalid value "
				    "'%s' (auto, ctrl_c, ctrl_break, wm_close or "
				    "terminate)", e->def->name, e->value);
			break;
		case KEY_REDIRECT_STDERR:
			if (parse_bool(e->value, &redirect_on, &err) == 0)
				redirect = e;
			break;
		case KEY_PROCESS_NAME:
			if (strcmp(e->value, "%(program_name)s") != 0)
				load_error(ld, file, e->line, "supervisord key "
				    "'%s' is not supported", e->def->name);
			break;
		case KEY_NUMPROCS:
			if (parse_uint(e->value, &n, NULL) != 0 || n != 1)
				load_error(ld, file, e->line, "supervisord key "
				    "'%s' is not supported", e->def->name);
			break;
		default:
			fatalx("%s: key %s in the wrong section", __func__,
			    e->def->name);
		}
		if (err != NULL)
			load_error(ld, file, e->line, "%s: %s '%s'",
			    e->def->name, err, e->value);
	}

	if (redirect != NULL && redirect_on) {
		if (stderr_key != NULL && !stderr_key->def->logfile) {
			load_error(ld, file, redirect->line, "%s: conflicts with "
			    "'%s' at line %d", redirect->def->name,
			    stderr_key->def->name, stderr_key->line);
		} else {
			/* supervisord ignores stderr_logfile when stderr is
			 * redirected; a pasted section expects the same. */
			free(pc->err.path);
			pc->err.path = NULL;
			pc->err.kind = OUTPUT_STDOUT;
		}
	}
	/* A command that is there but wrong has been reported already. */
	for (i = 0; i < sec->n_entries; i++) {
		if (sec->entries[i].def->id == KEY_COMMAND)
			break;
	}
	if (i == sec->n_entries)
		load_error(ld, file, sec->line, "program %s: command is required",
		    sec->name);
	pc->fingerprint = config_fingerprint(sec, pc, redirect_on);
	return pc;
}

/*
 * Every key = value of a program section under its canonical name, sorted
 * by key.  Output keys are written as what they resolved to, since their
 * supervisord spellings use other words and relative paths depend on where
 * the file is.
 */
static char *
config_fingerprint(struct section *sec, const struct program_config *pc,
    bool redirect_on)
{
	struct entry	*e;
	char		**lines, *fp, *w;
	size_t		 i, n = 0, len = 0;
	bool		 have_out = false, have_err = false, have_group = false;

	lines = xcalloc(sec->n_entries + 2, sizeof *lines);
	for (i = 0; i < sec->n_entries; i++) {
		e = &sec->entries[i];
		switch (e->def->id) {
		case KEY_PROCESS_NAME:
		case KEY_NUMPROCS:
			break;
		case KEY_STDOUT:
			have_out = true;
			break;
		case KEY_STDERR:
			have_err = true;
			break;
		case KEY_REDIRECT_STDERR:
			if (redirect_on)
				have_err = true;
			break;
		case KEY_STOP_GROUP:
			if (have_group)
				break;
			have_group = true;
			/* FALLTHROUGH */
		default:
			lines[n++] = xasprintf("%s=%s",
			    key_canonical[e->def->id], e->value);
		}
	}
	if (have_out)
		lines[n++] = xasprintf("stdout=%s", config_output_desc(&pc->out));
	if (have_err)
		lines[n++] = xasprintf("stderr=%s", config_output_desc(&pc->err));
	qsort(lines, n, sizeof *lines, string_cmp);

	for (i = 0; i < n; i++)
		len += strlen(lines[i]) + 1;
	fp = w = xcalloc(1, len + 1);
	for (i = 0; i < n; i++) {
		if (i > 0)
			*w++ = '\n';
		memcpy(w, lines[i], strlen(lines[i]));
		w += strlen(lines[i]);
		free(lines[i]);
	}
	*w = '\0';
	free(lines);
	return fp;
}

/* A word for an output destination: its kind, or its path for a file
 * (paths are absolute, so they never look like a kind). */
static const char *
config_output_desc(const struct output_config *out)
{
	if (out->kind == OUTPUT_FILE && out->path != NULL)
		return out->path;
	return output_kind_name(out->kind);
}

/* Check that every depends_on name exists and that no cycle exists. */
static void
config_check_depends(struct load *ld, struct config *cfg,
    struct section **secs)
{
	struct program_config	*pc;
	size_t			 i, j, *stack, depth = 0;
	int			*color;

	for (i = 0; i < cfg->n_programs; i++) {
		pc = cfg->programs[i];
		for (j = 0; pc->depends_on[j] != NULL; j++) {
			if (config_index(cfg, pc->depends_on[j]) < 0) {
				load_error(ld, secs[i]->file, pc->depends_line,
				    "depends_on: unknown program '%s'",
				    pc->depends_on[j]);
			}
		}
	}

	/* 0: not visited, 1: on the current path, 2: done. */
	color = xcalloc(cfg->n_programs, sizeof *color);
	stack = xcalloc(cfg->n_programs, sizeof *stack);
	for (i = 0; i < cfg->n_programs; i++) {
		if (color[i] == 0)
			config_walk_depends(ld, cfg, secs, i, color, stack,
			    &depth);
	}
	free(stack);
	free(color);
}

/*
 * Depth-first walk from program i.  Meeting a program that is on the path
 * closes a cycle, reported at the depends_on line of the program it starts
 * from, as "a -> b -> a".
 */
static void
config_walk_depends(struct load *ld, struct config *cfg,
    struct section **secs, size_t i, int *color, size_t *stack,
    size_t *depth)
{
	struct program_config	*pc = cfg->programs[i], *first;
	ssize_t			 k;
	size_t			 j, s, start, len;
	char			*msg, *w;

	color[i] = 1;
	stack[(*depth)++] = i;
	for (j = 0; pc->depends_on[j] != NULL; j++) {
		if ((k = config_index(cfg, pc->depends_on[j])) < 0)
			continue;
		if (color[k] == 0) {
			config_walk_depends(ld, cfg, secs, (size_t)k, color,
			    stack, depth);
			continue;
		}
		if (color[k] != 1)
			continue;

		for (start = 0; stack[start] != (size_t)k; start++)
			;
		len = strlen(cfg->programs[k]->name) + 1;
		for (s = start; s < *depth; s++)
			len += strlen(cfg->programs[stack[s]]->name) + 4;
		msg = w = xcalloc(1, len);
		for (s = start; s < *depth; s++) {
			w += sprintf(w, "%s -> ", cfg->programs[stack[s]]->name);
		}
		sprintf(w, "%s", cfg->programs[k]->name);
		first = cfg->programs[k];
		load_error(ld, secs[k]->file, first->depends_line,
		    "depends_on: dependency cycle %s", msg);
		free(msg);
	}
	(*depth)--;
	color[i] = 2;
}

/* The index of the program called name in cfg, or -1. */
static ssize_t
config_index(const struct config *cfg, const char *name)
{
	size_t	i;

	for (i = 0; i < cfg->n_programs; i++) {
		if (cfg->programs[i] != NULL &&
		    strcmp(cfg->programs[i]->name, name) == 0)
			return (ssize_t)i;
	}
	return -1;
}

/* qsort comparison for an array of strings. */
static int
string_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Load path and the files it includes.  Nothing is returned unless all of
 * it is valid, so a reload with a broken file keeps the running config.
 */
struct config *
config_load(const char *path, struct config_errors *errs)
{
	struct load		  ld;
	struct config		 *cfg;
	struct section		**secs;
	struct stat		  st;
	FILE			 *fp;
	size_t			  i, n;
	int			  main_file;

	memset(&ld, 0, sizeof ld);
	cfg = xcalloc(1, sizeof *cfg);
	cfg->file = xstrdup(path);

	main_file = load_add_file(&ld, path);
	if ((fp = config_files_open_main(path)) == NULL)
		load_error(&ld, main_file, 0, "cannot open: %s", strerror(errno));
	else if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		load_error(&ld, main_file, 0, "cannot open: %s", strerror(EISDIR));
		fclose(fp);
	} else {
		load_seen(&ld, fp);
		load_parse_file(&ld, main_file, fp, true);
		fclose(fp);
	}

	config_build_main(&ld, cfg);
	load_includes(&ld, main_file);

	secs = xcalloc(ld.n_sections, sizeof *secs);
	n = 0;
	for (i = 0; i < ld.n_sections; i++) {
		if (ld.sections[i]->kind == SECTION_PROGRAM)
			secs[n++] = ld.sections[i];
	}
	cfg->programs = xcalloc(n, sizeof *cfg->programs);
	for (i = 0; i < n; i++)
		cfg->programs[cfg->n_programs++] = config_build_program(&ld,
		    secs[i]);
	config_check_depends(&ld, cfg, secs);
	free(secs);

	if (ld.n_problems != 0) {
		config_free(cfg);
		cfg = NULL;
	}
	load_finish_errors(&ld, errs);
	load_free(&ld);
	return cfg;
}

/* Free a config and every program config still in it. */
void
config_free(struct config *cfg)
{
	size_t	i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->n_programs; i++)
		program_config_free(cfg->programs[i]);
	free(cfg->programs);
	free(cfg->file);
	free(cfg->socket);
	free(cfg->socket_group);
	free(cfg->pidfile);
	free(cfg->log);
	free(cfg);
}

/* Free one program's config; NULL is fine. */
void
program_config_free(struct program_config *pc)
{
	if (pc == NULL)
		return;
	free(pc->name);
	free(pc->file);
	free(pc->command);
	strv_free(pc->argv);
	free(pc->directory);
	free(pc->user);
	free(pc->group);
	strv_free(pc->environment);
	free(pc->exitcodes);
	strv_free(pc->depends_on);
	free(pc->stop_command);
	strv_free(pc->stop_argv);
	free(pc->out.path);
	free(pc->err.path);
	free(pc->fingerprint);
	free(pc);
}

/* Free the messages of a load; the struct itself is the caller's. */
void
config_errors_free(struct config_errors *errs)
{
	size_t	i;

	if (errs == NULL)
		return;
	for (i = 0; i < errs->n; i++)
		free(errs->msgs[i]);
	free(errs->msgs);
	errs->msgs = NULL;
	errs->n = 0;
}

/* The program called name, or NULL. */
const struct program_config *
config_find(const struct config *cfg, const char *name)
{
	ssize_t	i;

	if (cfg == NULL || name == NULL || (i = config_index(cfg, name)) < 0)
		return NULL;
	return cfg->programs[i];
}

/* Whether an exit code is one of the program's exitcodes. */
bool
program_config_exit_ok(const struct program_config *pc, int code)
{
	size_t	i;

	for (i = 0; i < pc->n_exitcodes; i++) {
		if (pc->exitcodes[i] == code)
			return true;
	}
	return false;
}

/* The config-file spelling of a restart policy. */
const char *
restart_policy_name(enum restart_policy p)
{
	if ((unsigned)p >= sizeof restart_policy_names /
	    sizeof restart_policy_names[0])
		return "unknown";
	return restart_policy_names[p];
}

/* The name of an output kind, for status and messages. */
const char *
output_kind_name(enum output_kind k)
{
	if ((unsigned)k >= sizeof output_kind_names / sizeof output_kind_names[0])
		return "unknown";
	return output_kind_names[k];
}
