/*
 * Unit tests for lib/protocol.c: the text writer must write byte for byte
 * what protocol_encode (json-c) writes for the same values, since a
 * streamed status reply and a json-c one must not differ; the request
 * checks must refuse every string C would read differently from JSON.
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"
#include "tap.h"

static const char	*jsonc_text(struct json_object *);
static void		 test_strings(void);
static void		 test_doubles(void);
static void		 test_growth(void);
static void		 test_requests(void);

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

/* Whether the daemon takes line as a request; code is set when it does not. */
static bool
request_ok(const char *line, const char **code)
{
	struct json_object	*req;
	const char		*msg;

	*code = NULL;
	if ((req = protocol_decode_request(line, strlen(line), code,
	    &msg)) == NULL)
		return false;
	json_object_put(req);
	return true;
}

static void
test_requests(void)
{
	static const char *const good[] = {
		"{\"v\":1,\"cmd\":\"stop\",\"args\":[\"a\"]}",
		/* A backslash before the letters u0000 is no NUL. */
		"{\"v\":1,\"cmd\":\"stop\",\"args\":[\"a\\\\u0000\"]}",
		"{\"v\":1,\"cmd\":\"stop\",\"args\":[\"a\\u0001\"]}",
		"{\"v\":1,\"cmd\":\"version\",\"x\":\"\\\\\"}",
	};
	static const char *const bad[] = {
		"{\"v\":1,\"cmd\":\"stop\",\"args\":[\"a\\u0000evil\"]}",
		"{\"v\":1,\"cmd\":\"stop\",\"args\":[\"b\",\"\\u0000\"]}",
		"{\"v\":1,\"cmd\":\"stop\\u0000x\",\"args\":[\"a\"]}",
		"{\"v\":1,\"cmd\":\"stop\",\"args\\u0000x\":[\"a\"]}",
		"{\"v\":1,\"cmd\":\"stop\",\"args\":[\"a\\\\\\u0000\"]}",
		"{\"v\":1,\"cmd\":\"version\",\"x\":{\"y\":\"\\u0000\"}}",
	};
	struct json_object	*obj;
	const char		*code, *msg;

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		ok(request_ok(good[i], &code), "request %s is taken", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ok(!request_ok(bad[i], &code), "request %s is refused", bad[i]);
		is_str(code, PROTOCOL_E_MALFORMED, "as malformed");
	}

	/* A tree built by hand is checked the same way. */
	obj = json_tokener_parse(
	    "{\"v\":1,\"cmd\":\"stop\",\"args\":[\"a\\u0000evil\"]}");
	ok(obj != NULL, "json-c parses a NUL in a string");
	ok(protocol_check_request(obj, &code, &msg) == -1,
	    "protocol_check_request refuses a NUL in args");
	json_object_put(obj);
	obj = json_tokener_parse("{\"v\":1,\"cmd\":\"stop\\u0000x\"}");
	ok(protocol_check_request(obj, &code, &msg) == -1,
	    "protocol_check_request refuses a NUL in cmd");
	json_object_put(obj);
}

int
main(void)
{
	test_strings();
	test_doubles();
	test_growth();
	test_requests();
	return tap_done();
}
