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

/*
 * Every key = value of a program section under its canonical name, sorted
 * by key.  Output keys are written as what they resolved to, since their
 * supervisord spellings use other words and relative paths depend on where
 * the file is.
 */
char *
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

/* qsort comparison for an array of strings. */
static int
string_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}
