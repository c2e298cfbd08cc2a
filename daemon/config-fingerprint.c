/*
 * The fingerprint of a program config: its settings as one normalised
 * string, so that a reload restarts exactly the programs whose settings
 * changed.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config-load.h"

static const char	*config_output_desc(const struct output_config *);
static int		 string_cmp(const void *, const void *);

/* Whether an earlier entry of sec set the same key (by another spelling). */
static bool
config_fingerprint_seen(const struct section *sec, size_t i)
{
	size_t	j;

	if (!(sec->entries[i].key->flags & CK_ALIASES_BOTH))
		return false;
	for (j = 0; j < i; j++) {
		if (sec->entries[j].key == sec->entries[i].key)
			return true;
	}
	return false;
}

/* Join n lines with newlines into one string, freeing them. */
static char *
config_fingerprint_join(char **lines, size_t n)
{
	char	*fp, *w;
	size_t	 i, len = 0;

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
	return fp;
}

/*
 * Every key = value of a program section that restarts the program when it
 * changes (CK_RESTART), under the key's own name, sorted.  Output keys
 * (CK_RESOLVED) are written as what they resolved to, since their
 * supervisord spellings use other words and relative paths depend on where
 * the file is; have_out and have_err say whether the section set them.
 */
char *
config_fingerprint(const struct section *sec, const struct program_config *pc,
    bool have_out, bool have_err)
{
	const struct entry	*e;
	char			**lines, *fp;
	size_t			 i, n = 0;

	lines = xcalloc(sec->n_entries + 2, sizeof *lines);
	for (i = 0; i < sec->n_entries; i++) {
		e = &sec->entries[i];
		if ((e->key->flags & (CK_RESTART | CK_RESOLVED)) != CK_RESTART ||
		    config_fingerprint_seen(sec, i))
			continue;
		lines[n++] = xasprintf("%s=%s", e->key->name, e->value);
	}
	if (have_out)
		lines[n++] = xasprintf("stdout=%s", config_output_desc(&pc->out));
	if (have_err)
		lines[n++] = xasprintf("stderr=%s", config_output_desc(&pc->err));
	qsort(lines, n, sizeof *lines, string_cmp);
	fp = config_fingerprint_join(lines, n);
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

/* qsort comparison for an array of strings. */
static int
string_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}
