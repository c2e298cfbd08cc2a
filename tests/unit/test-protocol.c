/*
 * Unit tests for the text writer of lib/protocol.c: what it writes must be
 * byte for byte what protocol_encode (json-c) writes for the same values,
 * since a streamed status reply and a json-c one must not differ.
 */

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"
#include "tap.h"

static const char	*jsonc_text(struct json_object *);
static void		 test_strings(void);
static void		 test_doubles(void);
static void		 test_growth(void);

/* How protocol_encode writes one value (its flags, its double format). */
static const char *
jsonc_text(struct json_object *o)
{
	return json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

static void
test_strings(void)
{
	static const char *const strs[] = {
		"", "web", "a\"b\\c/d", "\n\t\r\b\f", "\x01\x1f\x7f",
		"caf\xc3\xa9 \xe2\x82\xac", "exec /no/such: No such file or directory",
	};

	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
		struct protocol_text t = { 0 };
		struct json_object *o = json_object_new_string(strs[i]);

		protocol_text_string(&t, strs[i]);
		is_str(t.s, jsonc_text(o), "string %zu as json-c writes it", i);
		json_object_put(o);
		protocol_text_free(&t);
	}
}

static void
test_doubles(void)
{
	static const double ds[] = {
		0, 1, -3, 2.5, 725.4, 0.1 + 0.2, 3600.123456789, 1e20, 1e-7,
		123456789012345678.0, 86400 * 365.25 * 30,
	};

	json_c_set_serialization_double_format("%.15g", JSON_C_OPTION_GLOBAL);
	for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) {
		struct protocol_text t = { 0 };
		struct json_object *o = json_object_new_double(ds[i]);

		protocol_text_double(&t, ds[i]);
		is_str(t.s, jsonc_text(o), "double %.17g as json-c writes it", ds[i]);
		json_object_put(o);
		protocol_text_free(&t);
	}
}

static void
test_growth(void)
{
	struct protocol_text t = { 0 };
	char big[300];

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	for (int i = 0; i < 100; i++)
		protocol_text_printf(&t, "%s", big);
	ok(!t.failed && t.n == 100 * (sizeof big - 1), "long printf output kept whole");
	ok(t.s[t.n] == '\0' && t.s[0] == 'x', "NUL-terminated");
	protocol_text_free(&t);
	ok(t.s == NULL && t.n == 0, "freed and empty");
}

int
main(void)
{
	test_strings();
	test_doubles();
	test_growth();
	return tap_done();
}
