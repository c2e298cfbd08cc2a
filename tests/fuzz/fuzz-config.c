/*
 * libFuzzer target: whole config files.  Each input is written to a file in
 * a private temporary folder and loaded; includes stay inside that folder
 * (an input naming an absolute or parent path in an include is skipped).
 */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/safeexitd-fuzz-config.XXXXXX";
static char path[64];

/* Whether the input may name an include outside the temporary folder. */
static int
escapes(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1);
	int r;

	if (copy == NULL)
		return 1;
	/* NUL bytes must not hide what follows them from the check. */
	for (size_t i = 0; i < size; i++)
		copy[i] = data[i] == '\0' ? ' ' : (char)data[i];
	copy[size] = '\0';
	r = strcasestr(copy, "include") != NULL &&
	    (strchr(copy, '/') != NULL || strstr(copy, "..") != NULL);
	free(copy);
	return r;
}

/* Leave nothing behind in /tmp. */
static void
cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errs = { 0 };
	struct config *cfg;
	FILE *f;

	if (path[0] == '\0') {
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(path, sizeof path, "%s/main.ini", dir);
		atexit(cleanup);
		log_set_level(LOG_LEVEL_ERROR);
	}
	if (escapes(data, size))
		return 0;
	if ((f = fopen(path, "we")) == NULL)
		abort();
	fwrite(data, 1, size, f);
	fclose(f);
	cfg = config_load(path, &errs);
	/* Either a config or at least one error, never both, never neither. */
	if ((cfg == NULL) == (errs.n == 0))
		abort();
	for (size_t i = 0; i < errs.n; i++)
		if (strncmp(errs.msgs[i], dir, strlen(dir)) != 0)
			abort();
	config_free(cfg);
	config_errors_free(&errs);
	return 0;
}
