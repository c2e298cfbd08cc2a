/*
 * The types a config key can have.  A key of one of these types needs no
 * code: its row in config_keys[] names the type and the field, and the
 * setter here parses the value into that field.  Every problem with a value
 * is reported the same way, "FILE:LINE: KEY: message".
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config-load.h"

/* Enum fields are set through an int. */
_Static_assert(sizeof(enum restart_policy) == sizeof(int), "enum size");
_Static_assert(sizeof(enum policy_action) == sizeof(int), "enum size");
_Static_assert(sizeof(enum stop_method) == sizeof(int), "enum size");

/*
 * Report a problem with an entry as "KEY: message" at its line.  Defaults
 * are set without a load: a default that does not parse is a bug.
 */
void
config_key_error(struct config_build *b, const struct entry *e,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (b->ld == NULL)
		fatalx("default of %s: %s", e->spelling, msg);
	load_error(b->ld, b->file, e->line, "%s: %s", e->spelling, msg);
	free(msg);
}

/* Report a value a parser refused: "KEY: why 'value'"; returns -1. */
int
config_value_error(struct config_build *b, const struct entry *e,
    const char *err)
{
	config_key_error(b, e, "%s '%s'", err, e->value);
	return -1;
}

/* true/false, yes/no, on/off, 1/0 into a bool. */
static int
type_bool_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	const char	*err;

	if (parse_bool(e->value, CONFIG_FIELD(k, b->obj, bool), &err) != 0)
		return config_value_error(b, e, err);
	return 0;
}

/* Seconds, decimals allowed, into a double. */
static int
type_duration_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	const char	*err;

	if (parse_duration(e->value, CONFIG_FIELD(k, b->obj, double), &err) != 0)
		return config_value_error(b, e, err);
	return 0;
}

/* A count (a non-negative int). */
static int
type_count_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	const char	*err;

	if (parse_uint(e->value, CONFIG_FIELD(k, b->obj, int), &err) != 0)
		return config_value_error(b, e, err);
	return 0;
}

/* A decimal int that may be negative (priority). */
static int
type_int_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	const char	*s = e->value;
	char		*end;
	long		 v;

	if (*s == '\0' || is_blank(*s))
		return config_value_error(b, e, "invalid number");
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || errno == ERANGE || v < INT_MIN || v > INT_MAX)
		return config_value_error(b, e, "invalid number");
	*CONFIG_FIELD(k, b->obj, int) = (int)v;
	return 0;
}

/* A signal by name or number. */
static int
type_signal_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	const char	*err;

	if (parse_signal(e->value, CONFIG_FIELD(k, b->obj, int), &err) != 0)
		return config_value_error(b, e, err);
	return 0;
}

/* A byte size with an optional KB/MB/GB suffix, into a long long. */
static int
type_size_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	const char	*err;

	if (parse_size(e->value, CONFIG_FIELD(k, b->obj, long long), &err) != 0)
		return config_value_error(b, e, err);
	return 0;
}

/* An octal mode or umask, into an unsigned. */
static int
type_mode_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	const char	*err;

	if (parse_mode(e->value, CONFIG_FIELD(k, b->obj, unsigned), &err) != 0)
		return config_value_error(b, e, err);
	return 0;
}

/* Copy a string field so the copy owns it. */
static void
type_string_dup(const struct config_key *k, void *obj)
{
	char	**f = CONFIG_FIELD(k, obj, char *);

	if (*f != NULL)
		*f = xstrdup(*f);
}

/* Free a string field. */
static void
type_string_release(const struct config_key *k, void *obj)
{
	free(*CONFIG_FIELD(k, obj, char *));
}

/* A string as written. */
static int
type_string_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	char	**f = CONFIG_FIELD(k, b->obj, char *);

	free(*f);
	*f = xstrdup(e->value);
	return 0;
}

/*
 * A path, taken from the folder of the file it is written in when it is
 * relative: the config and the files it names then move together, and the
 * daemon's working directory does not matter.
 */
static int
type_path_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	char	**f = CONFIG_FIELD(k, b->obj, char *);

	free(*f);
	*f = path_resolve(b->dir, e->value);
	return 0;
}

/* Copy a string-vector field so the copy owns it. */
static void
type_strv_dup(const struct config_key *k, void *obj)
{
	strv_t	*f = CONFIG_FIELD(k, obj, strv_t);

	if (*f != NULL)
		*f = strv_copy(*f);
}

/* Free a string-vector field. */
static void
type_strv_release(const struct config_key *k, void *obj)
{
	strv_free(*CONFIG_FIELD(k, obj, strv_t));
}

/* Names separated by commas or white space, each kept once, in order. */
static int
type_list_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	strv_t		*f = CONFIG_FIELD(k, b->obj, strv_t);
	strv_t		 list;
	const char	*err;
	size_t		 i, j, n = 0;

	if (parse_list(e->value, &list, &err) != 0)
		return config_value_error(b, e, err);
	for (i = 0; list[i] != NULL; i++) {
		for (j = 0; j < n && strcmp(list[j], list[i]) != 0; j++)
			;
		if (j < n)
			free(list[i]);
		else
			list[n++] = list[i];
	}
	list[n] = NULL;
	strv_free(*f);
	*f = list;
	return 0;
}

/* KEY=value pairs separated by commas, into "KEY=value" strings; an empty
 * list when they do not parse, so the field is never NULL. */
static int
type_env_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	strv_t		*f = CONFIG_FIELD(k, b->obj, strv_t);
	const char	*err;

	strv_free(*f);
	if (parse_env(e->value, f, &err) != 0) {
		*f = xcalloc(1, sizeof **f);
		return config_value_error(b, e, err);
	}
	return 0;
}

/* The words of a key as a message lists them: "a, b or c". */
static char *
type_words_list(const struct config_words *w)
{
	char	*s = xstrdup(""), *t;
	size_t	 i, n = 0, shown = 0;

	for (i = 0; w->v[i].word != NULL; i++)
		n += !w->v[i].hidden;
	for (i = 0; w->v[i].word != NULL; i++) {
		if (w->v[i].hidden)
			continue;
		t = xasprintf("%s%s%s", s, shown == 0 ? "" :
		    shown + 1 == n ? " or " : ", ", w->v[i].word);
		free(s);
		s = t;
		shown++;
	}
	return s;
}

/* One of the key's words (any case), into an int or enum field. */
static int
type_words_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	const struct config_word	*w;
	char				*list;

	for (w = k->words->v; w->word != NULL; w++) {
		if (strcasecmp(w->word, e->value) == 0) {
			*CONFIG_FIELD(k, b->obj, int) = w->value;
			return 0;
		}
	}
	list = type_words_list(k->words);
	config_key_error(b, e, "%s '%s' (%s)", k->words->what, e->value, list);
	free(list);
	return -1;
}

/* The argv field (aux) of a command key. */
static strv_t *
type_command_argv(const struct config_key *k, void *obj)
{
	return (strv_t *)(void *)((char *)obj + k->aux);
}

/* A command line: as written at offset, split with shell quoting at aux. */
static int
type_command_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	char		**f = CONFIG_FIELD(k, b->obj, char *);
	strv_t		 *argv = type_command_argv(k, b->obj);
	const char	 *err;

	free(*f);
	*f = xstrdup(e->value);
	strv_free(*argv);
	if (parse_argv(e->value, argv, &err) != 0) {
		*argv = NULL;
		return config_value_error(b, e, err);
	}
	if ((*argv)[0] == NULL || (*argv)[0][0] == '\0')
		return config_value_error(b, e, "empty program name in");
	return 0;
}

/* Copy a command and its argv. */
static void
type_command_dup(const struct config_key *k, void *obj)
{
	strv_t	*argv = type_command_argv(k, obj);

	type_string_dup(k, obj);
	if (*argv != NULL)
		*argv = strv_copy(*argv);
}

/* Free a command and its argv. */
static void
type_command_release(const struct config_key *k, void *obj)
{
	type_string_release(k, obj);
	strv_free(*type_command_argv(k, obj));
}

/* A supervisord key accepted where it has no effect: nothing to set. */
static int
type_accepted_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	(void)b;
	(void)k;
	(void)e;
	return 0;
}

const struct config_type config_type_accepted = { type_accepted_set, NULL,
    NULL };
const struct config_type config_type_bool = { type_bool_set, NULL, NULL };
const struct config_type config_type_duration = { type_duration_set, NULL, NULL };
const struct config_type config_type_count = { type_count_set, NULL, NULL };
const struct config_type config_type_int = { type_int_set, NULL, NULL };
const struct config_type config_type_signal = { type_signal_set, NULL, NULL };
const struct config_type config_type_size = { type_size_set, NULL, NULL };
const struct config_type config_type_mode = { type_mode_set, NULL, NULL };
const struct config_type config_type_string = {
	type_string_set, type_string_dup, type_string_release
};
const struct config_type config_type_path = {
	type_path_set, type_string_dup, type_string_release
};
const struct config_type config_type_list = {
	type_list_set, type_strv_dup, type_strv_release
};
const struct config_type config_type_env = {
	type_env_set, type_strv_dup, type_strv_release
};
const struct config_type config_type_words = { type_words_set, NULL, NULL };
const struct config_type config_type_command = {
	type_command_set, type_command_dup, type_command_release
};
