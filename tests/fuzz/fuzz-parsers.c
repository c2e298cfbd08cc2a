/*
 * libFuzzer target: the small parsers.  The first byte picks the parser, the
 * rest is its input; whatever a parser accepts must come back sane.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *err;
	char *s;
	strv_t v = NULL;
	double d;
	long long ll;
	unsigned u;
	bool b;
	int i;

	if (size < 1)
		return 0;
	if ((s = malloc(size)) == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 9) {
	case 0:
		if (parse_duration(s, &d, &err) == 0 && !(d >= 0))
			abort();
		break;
	case 1:
		(void)parse_bool(s, &b, &err);
		break;
	case 2:
		if (parse_signal(s, &i, &err) == 0 && i <= 0)
			abort();
		break;
	case 3:
		if (parse_mode(s, &u, &err) == 0 && u > 0777)
			abort();
		break;
	case 4:
		if (parse_size(s, &ll, &err) == 0 && ll < 0)
			abort();
		break;
	case 5:
		if (parse_argv(s, &v, &err) == 0 && (v == NULL || v[0] == NULL))
			abort();
		break;
	case 6:
		if (parse_env(s, &v, &err) == 0)
			for (size_t k = 0; v[k] != NULL; k++)
				if (strchr(v[k], '=') == NULL)
					abort();
		break;
	case 7:
		(void)parse_list(s, &v, &err);
		break;
	case 8:
		(void)program_name_valid(s);
		(void)parse_uint(s, &i, &err);
		break;
	}
	if (v != NULL) {
		strv_t copy = strv_copy(v);

		if (strv_length(copy) != strv_length(v))
			abort();
		strv_free(copy);
		strv_free(v);
	}
	free(s);
	return 0;
}
