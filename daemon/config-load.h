/*
 * What the files of the config loader share (config-read.c, config-keys.c,
 * config-build.c, config-fingerprint.c): the entries collected per section,
 * the problems found, and the helpers each of them uses.  Nothing outside
 * the loader includes this; the rest of the daemon sees config.h.
 */
#ifndef SAFEEXITD_CONFIG_LOAD_H
#define SAFEEXITD_CONFIG_LOAD_H

#include <sys/types.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "config-files.h"
#include "log.h"
#include "parse.h"

#define CONFIG_MAIN_SECTION	"safeexitd"
#define CONFIG_PROGRAM_PREFIX	"program:"

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


/* Allocation: a config that cannot be held cannot be loaded. */
void		*xcalloc(size_t, size_t);
void		*xreallocarray(void *, size_t, size_t);
char		*xstrdup(const char *);
char		*xstrndup(const char *, size_t);
char		*xvasprintf(const char *, va_list) LOG_PRINTF(1, 0);
char		*xasprintf(const char *, ...) LOG_PRINTF(1, 2);
bool		 is_blank(char);

/* config-read.c: files, includes, problems. */
void		 load_verror(struct load *, int, int, const char *, va_list)
		    LOG_PRINTF(4, 0);
void		 load_error(struct load *, int, int, const char *, ...)
		    LOG_PRINTF(4, 5);
int		 load_add_file(struct load *, const char *);
bool		 load_seen(struct load *, FILE *);
void		 load_parse_file(struct load *, int, FILE *, bool);
void		 load_includes(struct load *, int);
void		 load_finish_errors(struct load *, struct config_errors *);
void		 load_free(struct load *);
char		*path_dir_of(const char *);
char		*path_resolve(const char *, const char *);

/* config-keys.c: the keys of each section. */
extern const char *const key_canonical[];
const struct key_def *key_lookup(const char *, enum section_kind);
bool		 key_supervisord_unsupported(const char *);
bool		 key_pair_allowed(const struct key_def *, const struct key_def *);

/* config-fingerprint.c */
char		*config_fingerprint(struct section *,
		    const struct program_config *, bool);

#endif
