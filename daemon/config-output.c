/*
 * The value types of the program output keys that no other key shares:
 * an age for rotation by time (stdout_max_age), see safeexitd.ini(5).
 */
#include <stdlib.h>
#include <string.h>

#include "config-load.h"

/* An age: plain seconds, or a number followed by s, m, h or d. */
static int
output_age_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	static const struct { char unit; double secs; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
	};
	size_t len = strlen(e->value);
	double scale = 1, *f = CONFIG_FIELD(k, b->obj, double);
	const char *err;
	char *num;
	int r;

	num = xstrdup(e->value);
	for (size_t i = 0; len > 1 && i < sizeof units / sizeof units[0]; i++)
		if (num[len - 1] == units[i].unit) {
			num[len - 1] = '\0';
			scale = units[i].secs;
		}
	r = parse_duration(num, f, &err);
	free(num);
	if (r != 0)
		return config_value_error(b, e, "invalid age (seconds, or "
		    "a number with s, m, h or d)");
	*f *= scale;
	return 0;
}

const struct config_type config_type_age = { output_age_set, NULL, NULL };
