/*
 * What the files of the config loader share.  config-read.c reads the files
 * into sections of raw entries, config-keys.c holds one row per key,
 * config-types.c turns a value into its field by the row's type,
 * config-build.c builds and checks the config (and holds the keys that need
 * code of their own), config-fingerprint.c sums up a program's settings,
 * config-util.c allocates and shapes paths.  Nothing outside the loader
 * includes this; the daemon sees conf.h.
 */
#ifndef SAFEEXITD_CONFIG_LOAD_H
#define SAFEEXITD_CONFIG_LOAD_H

#include <sys/types.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "conf.h"
#include "config-files.h"
#include "log.h"
#include "parse.h"

#define CONFIG_MAIN_SECTION	"safeexitd"
#define CONFIG_PROGRAM_PREFIX	"program:"

/*
 * The kinds of section.  The program-like ones ([program:], [eventlistener:],
 * [fcgi-program:]) each build a struct program_config of their kind; the
 * supervisord ones fill struct config, or are read by config-build.c.
 */
enum section_kind {
	SECTION_MAIN,		/* [safeexitd]: struct config */
	SECTION_PROGRAM,	/* [program:NAME]: struct program_config */
	SECTION_EVENTLISTENER,	/* [eventlistener:NAME]: a program_config */
	SECTION_FCGI_PROGRAM,	/* [fcgi-program:NAME]: a program_config */
	SECTION_GROUP,		/* [group:NAME] */
	SECTION_SUPERVISORD,	/* [supervisord]: struct config */
	SECTION_UNIX_HTTP,	/* [unix_http_server]: struct config */
	SECTION_INET_HTTP,	/* [inet_http_server] */
	SECTION_SUPERVISORCTL,	/* [supervisorctl] */
	SECTION_RPCINTERFACE,	/* [rpcinterface:NAME]: any key */
	SECTION_INCLUDE,	/* [include] */
};

/* Whether a kind of section builds a struct program_config. */
#define SECTION_IS_PROGRAM(k) ((k) == SECTION_PROGRAM || \
	(k) == SECTION_EVENTLISTENER || (k) == SECTION_FCGI_PROGRAM)

/* Key flags (struct config_key.flags). */
#define CK_MAIN		0x01	/* a [safeexitd] key */
#define CK_PROGRAM	0x02	/* a [program:NAME] key */
#define CK_WIN32	0x04	/* has effect on Windows only; checked everywhere */
#define CK_RESTART	0x08	/* a change restarts the program (fingerprint) */
#define CK_RESOLVED	0x10	/* fingerprinted by what it resolved to */
#define CK_REQUIRED	0x20	/* a section without it is refused */
#define CK_ALIASES_BOTH	0x40	/* both aliases may be given; they must agree */
#define CK_SHARED	0x80	/* fills a field another row owns: no default,
				   copy or release of its own */
/* Which program-like sections take a CK_PROGRAM key. */
#define CK_KIND_PROGRAM	0x100	/* [program:NAME] */
#define CK_KIND_LISTENER 0x200	/* [eventlistener:NAME] */
#define CK_KIND_FCGI	0x400	/* [fcgi-program:NAME] */
#define CK_KINDS	(CK_KIND_PROGRAM | CK_KIND_LISTENER | CK_KIND_FCGI)
/* supervisord's own sections (their keys fill struct config, or none). */
#define CK_SUPERVISORD	0x0800	/* [supervisord] */
#define CK_UNIX_HTTP	0x1000	/* [unix_http_server] */
#define CK_INET_HTTP	0x2000	/* [inet_http_server] */
#define CK_SUPERVISORCTL 0x4000	/* [supervisorctl] */
#define CK_INCLUDE	0x8000	/* [include] */
#define CK_GROUP	0x10000	/* [group:NAME] */
/* Every section whose keys fill struct config. */
#define CK_DAEMON	(CK_MAIN | CK_SUPERVISORD | CK_UNIX_HTTP | \
			 CK_INET_HTTP | CK_SUPERVISORCTL | CK_INCLUDE)

/* One word of a key whose value is one of a few words. */
struct config_word {
	const char	*word;
	int		 value;
	bool		 hidden;	/* accepted, not listed (supervisord's) */
};

/* The words a key takes and what a wrong one is called. */
struct config_words {
	const char			*what;	/* "invalid value" */
	const struct config_word	*v;	/* ends with a NULL word */
};

struct config_key;
struct config_build;
struct entry;

/* How a type of value is set, copied and freed (config-types.c). */
struct config_type {
	/* Parse e->value into the key's field of b->obj; report problems. */
	int	(*set)(struct config_build *, const struct config_key *,
		    const struct entry *);
	/* Give obj its own copy of what the key's field points to; NULL when
	 * the field holds no memory. */
	void	(*dup)(const struct config_key *, void *);
	/* Free what the key's field of obj points to. */
	void	(*release)(const struct config_key *, void *);
};

/* One key: a row of config_keys[] (config-keys.c). */
struct config_key {
	const char			*name;		/* safeexitd's spelling */
	const char			*alias[2];	/* supervisord's spellings */
	const struct config_type	*type;
	size_t				 offset;	/* of its field in the struct */
	size_t				 aux;		/* a second field (see type) */
	size_t				 line;		/* where its line goes; 0: none */
	const char			*def;		/* default as written; NULL: none */
	const struct config_words	*words;		/* config_type_words */
	unsigned			 flags;		/* CK_* */
};

extern const struct config_key	config_keys[];
extern const size_t		config_n_keys;

/* The field of a key in a struct config or struct program_config. */
#define CONFIG_FIELD(k, obj, type) ((type *)(void *)((char *)(obj) + (k)->offset))

struct entry {
	const struct config_key	*key;
	const char		*spelling;	/* the key's name as looked up */
	char			*value;
	int			 line;
};

struct section {
	enum section_kind	 kind;
	char			*name;		/* program or group name; NULL for
						   a section without one */
	int			 file;		/* index into load.files */
	int			 line;
	struct entry		*entries;
	size_t			 n_entries;
	size_t			 program;	/* index into config.programs */
};

/* What an expansion may name (config-expand.c); NULL or -1: not here. */
struct expand_ctx {
	const char	*here;		/* the folder of the value's file */
	const char	*program_name;
	const char	*group_name;
	int		 process_num;
	int		 numprocs;
	strv_t		 env;		/* "K=V" searched before the daemon's */
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
	char			**heres;	/* the same with ".." resolved by
						   name: supervisord's %(here)s */
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
	struct problem		 *warnings;	/* "FILE:LINE: warning: ..." */
	size_t			  n_warnings;
};

/* Building one section: where it is, what it fills, notes across keys. */
struct config_build {
	struct load		*ld;		/* NULL while defaults are set */
	int			 file;
	const char		*dir;		/* the folder of its file */
	void			*obj;		/* struct config or program_config */
	const struct entry	*stop_group;	/* stop_group */
	const struct entry	*stopasgroup;
	const struct entry	*killasgroup;
	bool			 stopasgroup_on, killasgroup_on;
	const struct entry	*stdout_syslog;
	const struct entry	*stderr_syslog;
	const struct expand_ctx	*ctx;		/* NULL: no expansion */
	struct entry		*expanded;	/* the section's entries, expanded */
	size_t			 n_expanded;
	const struct entry	*stderr_key;
	const struct entry	*redirect;
	bool			 redirect_on;
	bool			 have_out;	/* stdout was given */
};

/* config-util.c: allocation (a config that cannot be held cannot be
 * loaded) and paths. */
void		*xcalloc(size_t, size_t);
void		*xreallocarray(void *, size_t, size_t);
char		*xstrdup(const char *);
char		*xstrndup(const char *, size_t);
char		*xvasprintf(const char *, va_list) LOG_PRINTF(1, 0);
char		*xasprintf(const char *, ...) LOG_PRINTF(1, 2);
bool		 is_blank(char);
char		*path_dir_of(const char *);
char		*path_resolve(const char *, const char *);
char		*path_abspath(const char *);

/* config-read.c: files, includes, sections, problems. */
void		 load_verror(struct load *, int, int, const char *, va_list)
		    LOG_PRINTF(4, 0);
void		 load_error(struct load *, int, int, const char *, ...)
		    LOG_PRINTF(4, 5);
void		 load_warning(struct load *, int, int, const char *, ...)
		    LOG_PRINTF(4, 5);
int		 load_main(struct load *, const char *);
void		 load_includes(struct load *, int);
void		 load_finish_errors(struct load *, struct config_errors *);
void		 load_take_warnings(struct load *, struct config *);
void		 load_free(struct load *);
struct section	*section_find_program(struct load *, const char *);
struct section	*section_find_group(struct load *, const char *);

/* config-keys.c: the sections and the keys of each. */
enum section_kind config_section_kind(const char *, const char **);
const char	*config_section_title(enum section_kind);
unsigned	 config_section_flag(enum section_kind);
const struct config_key *config_key_find(const char *, enum section_kind,
		    const char **);
bool		 config_key_pair_allowed(const struct config_key *,
		    const char *, const char *);
void		 config_keys_defaults(void *, unsigned);
void		 config_keys_dup(void *, unsigned);
void		 config_keys_release(void *, unsigned);

/* config-types.c: the types a key can have, and the one error format. */
extern const struct config_type config_type_bool, config_type_duration,
		    config_type_count, config_type_int, config_type_signal,
		    config_type_size, config_type_mode, config_type_string,
		    config_type_path, config_type_list, config_type_env,
		    config_type_words, config_type_command,
		    config_type_accepted;
/* An age: seconds, or a number with s, m, h or d (config-output.c). */
extern const struct config_type config_type_age;
void		 config_key_error(struct config_build *, const struct entry *,
		    const char *, ...) LOG_PRINTF(3, 4);
int		 config_value_error(struct config_build *, const struct entry *,
		    const char *);

/* config-listener.c: [eventlistener:] and [fcgi-program:] value types. */
extern const struct config_type config_type_events, config_type_fcgi_socket;
/* config-limits.c: rlimits (aux: how the number is written) and cgroup
 * limits (aux: which, enum program_cglimit). */
enum limit_unit {
	LIMIT_COUNT,	/* a plain number */
	LIMIT_BYTES,	/* a size: K, M, G or T (or KB, MB...) */
	LIMIT_SECONDS,	/* whole seconds */
};
extern const struct config_type config_type_rlimit, config_type_cglimit;

/* config-build.c: keys that need code of their own. */
extern const struct config_type config_type_log, config_type_include,
		    config_type_cgroups, config_type_exitcodes,
		    config_type_stop_group, config_type_output,
		    config_type_redirect, config_type_process_name,
		    config_type_sv_group, config_type_sv_syslog,
		    config_type_notice, config_type_ready,
		    config_type_health, config_type_depends;

/* One process of a program section, as numprocs makes them. */
struct build_instance {
	const char	*group;		/* [group:G], or the section's name */
	char		*process;	/* process_name, expanded */
	int		 num;		/* process_num */
	int		 numprocs;
};

/* What one [group:G] section says: its name, members and priority. */
struct build_group {
	const struct section	 *sec;
	strv_t			  members;
	int			  priority;
	bool			  has_priority;
};

/* Where a program section's processes are in cfg->programs. */
struct build_range {
	size_t	first, n;
};

/* config-build.c: building the parts. */
void		 config_build_entries(struct config_build *,
		    const struct section *);
void		 config_build_done(struct config_build *);
const struct entry *config_section_entry(const struct section *,
		    const char *);
struct program_config *config_build_program(struct load *, struct config *,
		    const struct section *, const struct program_config *,
		    const struct build_instance *, strv_t);

/* config-supervisord.c: supervisord's sections and keys. */
void		 config_sv_daemon(struct load *, struct config *, size_t,
		    size_t, const struct entry **, int *);
void		 config_sv_daemon_finish(struct load *, struct config *);
void		 config_sv_program(struct config_build *,
		    const struct config *, struct program_config *);
struct build_group *config_sv_groups(struct load *, size_t *, size_t *);
void		 config_sv_instances(struct load *, struct config *,
		    struct section *, const struct program_config *,
		    const struct build_group *, struct build_range *,
		    struct section ***);

/* config-expand.c */
int		 config_expand(const char *, const struct expand_ctx *,
		    char **, char **);
const char	*config_host_node_name(void);

/* config-fingerprint.c */
char		*config_fingerprint(const struct section *,
		    const struct program_config *, bool, bool);

#endif
