/*
 * Unit tests for daemon/xmlrpc.c: calls as Python's xmlrpc.client writes
 * them decode to the values sent; responses and faults encode what a client
 * reads back (escaping, bytes XML cannot carry); hostile or broken input
 * (DOCTYPE and entities, deep nesting, too many elements, truncation, wrong
 * types) is refused with a message, never crashes.
 */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "xmlrpc.h"

static int decode(const char *xml, char **method, struct json_object **params,
    char *err, size_t errlen);
static void test_decode(void);
static void test_encode(void);
static void test_round_trip(void);
static void test_hostile(void);

/* Decode a NUL-terminated call. */
static int
decode(const char *xml, char **method, struct json_object **params, char *err,
    size_t errlen)
{
	return xmlrpc_decode_call(xml, strlen(xml), method, params, err, errlen);
}

/* Calls as Python's xmlrpc.client sends them. */
static void
test_decode(void)
{
	char *m, err[256];
	struct json_object *p;
	const char *xml =
	    "<?xml version='1.0'?>\n<methodCall>\n"
	    "<methodName>supervisor.startProcess</methodName>\n<params>\n"
	    "<param>\n<value><string>web:app</string></value>\n</param>\n"
	    "<param>\n<value><boolean>0</boolean></value>\n</param>\n"
	    "<param>\n<value><int>-1600</int></value>\n</param>\n"
	    "<param>\n<value><i4>7</i4></value>\n</param>\n"
	    "<param>\n<value><double>1.5</double></value>\n</param>\n"
	    "<param>\n<value>untyped &amp; text</value>\n</param>\n"
	    "<param>\n<value><array><data>\n<value><int>1</int></value>\n"
	    "<value><string>b</string></value>\n</data></array></value>\n</param>\n"
	    "<param>\n<value><struct>\n<member>\n<name>methodName</name>\n"
	    "<value><string>x</string></value>\n</member>\n</struct></value>\n</param>\n"
	    "<param>\n<value><nil/></value>\n</param>\n"
	    "<param>\n<value><base64>\naGk=\n</base64></value>\n</param>\n"
	    "<param>\n<value><string></string></value>\n</param>\n"
	    "</params>\n</methodCall>\n";

	if (!ok(decode(xml, &m, &p, err, sizeof err) == 0, "a full call decodes")) {
		printf("#   %s\n", err);
		return;
	}
	is_str(m, "supervisor.startProcess", "method name");
	is_int(json_object_array_length(p), 11, "eleven params");
	is_str(json_object_get_string(json_object_array_get_idx(p, 0)), "web:app",
	    "string");
	ok(json_object_is_type(json_object_array_get_idx(p, 1), json_type_boolean) &&
	    !json_object_get_boolean(json_object_array_get_idx(p, 1)), "boolean 0");
	is_int(json_object_get_int64(json_object_array_get_idx(p, 2)), -1600, "int");
	is_int(json_object_get_int64(json_object_array_get_idx(p, 3)), 7, "i4");
	ok(json_object_get_double(json_object_array_get_idx(p, 4)) == 1.5, "double");
	is_str(json_object_get_string(json_object_array_get_idx(p, 5)),
	    "untyped & text", "an untyped value is a string, entities decoded");
	is_str(json_object_to_json_string_ext(json_object_array_get_idx(p, 6),
	    JSON_C_TO_STRING_PLAIN), "[1,\"b\"]", "array");
	is_str(json_object_to_json_string_ext(json_object_array_get_idx(p, 7),
	    JSON_C_TO_STRING_PLAIN), "{\"methodName\":\"x\"}", "struct");
	ok(json_object_array_get_idx(p, 8) == NULL, "nil is null");
	is_str(json_object_get_string(json_object_array_get_idx(p, 9)), "aGk=",
	    "base64 kept as its text");
	is_str(json_object_get_string(json_object_array_get_idx(p, 10)), "",
	    "empty string");
	free(m);
	json_object_put(p);

	ok(decode("<methodCall><methodName>system.listMethods</methodName>"
	    "</methodCall>", &m, &p, err, sizeof err) == 0 &&
	    json_object_array_length(p) == 0, "a call without <params>");
	free(m);
	json_object_put(p);
}

/* Responses and faults. */
static void
test_encode(void)
{
	struct json_object *o = json_object_new_object();
	size_t len;
	char *s;

	json_object_object_add(o, "name", json_object_new_string("a<b>&c\r\n"));
	json_object_object_add(o, "pid", json_object_new_int(42));
	json_object_object_add(o, "big", json_object_new_int64(1LL << 40));
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	s = xmlrpc_encode_response(o, &len);
	is_int(len, strlen(s), "length matches");
	ok(strstr(s, "<string>a&lt;b&gt;&amp;c&#13;\n</string>") != NULL,
	    "& < > escaped, CR as a reference");
	ok(strstr(s, "<name>pid</name><value><int>42</int></value>") != NULL,
	    "int member");
	ok(strstr(s, "<i8>1099511627776</i8>") != NULL, "a 64-bit integer as i8");
	ok(strstr(s, "<boolean>1</boolean>") != NULL, "boolean");
	ok(strncmp(s, "<?xml version=\"1.0\"?>\n<methodResponse><params><param>",
	    strlen("<?xml version=\"1.0\"?>\n<methodResponse><params><param>")) == 0,
	    "a methodResponse");
	free(s);
	json_object_put(o);

	s = xmlrpc_encode_fault(10, "BAD_NAME: a<b", &len);
	ok(strstr(s, "<fault>") != NULL &&
	    strstr(s, "<name>faultCode</name><value><int>10</int>") != NULL &&
	    strstr(s, "<string>BAD_NAME: a&lt;b</string>") != NULL,
	    "fault with code and escaped string");
	free(s);

	o = json_object_new_string_len("ok\x01\xff\xc3\xa9\xed\xa0\x80\xef\xbf\xbe!",
	    13);
	s = xmlrpc_encode_response(o, &len);
	ok(strstr(s, "<string>ok\xef\xbf\xbd\xef\xbf\xbd\xc3\xa9"
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd!"
	    "</string>") != NULL,
	    "control, invalid UTF-8, surrogate and U+FFFE become U+FFFD; \xc3\xa9 kept");
	free(s);
	json_object_put(o);
}

/* What is encoded as a response decodes back, as a param, to the same. */
static void
test_round_trip(void)
{
	const char *in = "[\"x & <y>\",\"\\ttab\\nnl\\rcr\",0,-2147483648,"
	    "2147483647,9007199254740993,true,false,0.25,[],{},"
	    "{\"a\":[1,{\"b\":\"\\u00e9\\u20ac\\ud83d\\ude00\"}]},null]";
	struct json_object *v = json_tokener_parse(in), *p;
	char *resp, *call, *m, err[256];
	const char *body;
	size_t len;

	resp = xmlrpc_encode_response(v, &len);
	body = strstr(resp, "<value>");
	call = malloc(len + 200);
	snprintf(call, len + 200, "<methodCall><methodName>t</methodName><params>"
	    "<param>%.*s</param></params></methodCall>",
	    (int)(strstr(resp, "</param>") - body), body);
	if (ok(decode(call, &m, &p, err, sizeof err) == 0,
	    "an encoded response decodes as a param")) {
		is_str(json_object_to_json_string_ext(json_object_array_get_idx(p, 0),
		    JSON_C_TO_STRING_PLAIN),
		    json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
		    "round trip keeps every value");
		free(m);
		json_object_put(p);
	} else
		printf("#   %s\n", err);
	free(call);
	free(resp);
	json_object_put(v);
}

/* Each of these is refused with a message. */
static void
test_hostile(void)
{
	static const struct {
		const char *xml, *why;
	} bad[] = {
		{ "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
		  "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>"
		  "<methodCall><methodName>&lol2;</methodName></methodCall>",
		  "DOCTYPE" },
		{ "<!DOCTYPE x SYSTEM \"file:///etc/passwd\"><methodCall>"
		  "<methodName>a</methodName></methodCall>", "DOCTYPE" },
		{ "<methodCall><methodName>a</methodName><params><param><value>"
		  "&xxe;</value></param></params></methodCall>", "not well-formed" },
		{ "<methodCall><methodName>a</methodName><params>", "not well-formed" },
		{ "", "not well-formed" },
		{ "garbage", "not well-formed" },
		{ "<methodResponse/>", "not a <methodCall>" },
		{ "<methodCall></methodCall>", "no <methodName>" },
		{ "<methodCall><methodName>a b</methodName></methodCall>",
		  "bad method name" },
		{ "<methodCall><methodName>a</methodName><params><param><value>"
		  "<int>12x</int></value></param></params></methodCall>", "<int>" },
		{ "<methodCall><methodName>a</methodName><params><param><value>"
		  "<int>2147483648</int></value></param></params></methodCall>",
		  "<int>" },
		{ "<methodCall><methodName>a</methodName><params><param><value>"
		  "<boolean>true</boolean></value></param></params></methodCall>",
		  "<boolean>" },
		{ "<methodCall><methodName>a</methodName><params><param><value>"
		  "<double>nan</double></value></param></params></methodCall>",
		  "<double>" },
		{ "<methodCall><methodName>a</methodName><params><param><value>"
		  "<script/></value></param></params></methodCall>", "unsupported" },
		{ "<methodCall><methodName>a</methodName><params><param><value>"
		  "<string>a</string><string>b</string></value></param></params>"
		  "</methodCall>", "must hold one" },
		{ "<methodCall><methodName>a</methodName><params><param><value>"
		  "<struct><member><value>1</value></member></struct></value>"
		  "</param></params></methodCall>", "<member>" },
		{ "<methodCall><methodName>a</methodName><params><x/></params>"
		  "</methodCall>", "unexpected" },
	};
	char *m, err[256], *deep, *wide, *huge;
	struct json_object *p;
	size_t n, off;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = decode(bad[i].xml, &m, &p, err, sizeof err);

		ok(rc == -1 && m == NULL && p == NULL &&
		    strstr(err, bad[i].why) != NULL,
		    "refused (%s): %.40s", bad[i].why, bad[i].xml);
		if (rc != -1 || strstr(err, bad[i].why) == NULL)
			printf("#   rc %d, err \"%s\"\n", rc, err);
	}

	/* 1,000 nested arrays: stopped at the depth bound. */
	n = 1000;
	deep = malloc(n * 50 + 200);
	off = (size_t)sprintf(deep, "<methodCall><methodName>a</methodName>"
	    "<params><param>");
	for (size_t i = 0; i < n; i++)
		off += (size_t)sprintf(deep + off, "<value><array><data>");
	for (size_t i = 0; i < n; i++)
		off += (size_t)sprintf(deep + off, "</data></array></value>");
	sprintf(deep + off, "</param></params></methodCall>");
	ok(decode(deep, &m, &p, err, sizeof err) == -1 &&
	    strstr(err, "nest more than") != NULL, "deep nesting refused");
	free(deep);

	/* 100,000 empty values: stopped at the element bound. */
	n = 100000;
	wide = malloc(n * 16 + 200);
	off = (size_t)sprintf(wide, "<methodCall><methodName>a</methodName>"
	    "<params><param><value><array><data>");
	for (size_t i = 0; i < n; i++)
		off += (size_t)sprintf(wide + off, "<value/>");
	sprintf(wide + off, "</data></array></value></param></params></methodCall>");
	ok(decode(wide, &m, &p, err, sizeof err) == -1 &&
	    strstr(err, "more than") != NULL, "too many elements refused");
	free(wide);

	/* A 1 MiB string is taken whole (the HTTP layer bounds the body). */
	n = 1024 * 1024;
	huge = malloc(n + 200);
	off = (size_t)sprintf(huge, "<methodCall><methodName>a</methodName>"
	    "<params><param><value><string>");
	memset(huge + off, 'x', n);
	off += n;
	sprintf(huge + off, "</string></value></param></params></methodCall>");
	ok(decode(huge, &m, &p, err, sizeof err) == 0 &&
	    json_object_get_string_len(json_object_array_get_idx(p, 0)) == (int)n,
	    "a 1 MiB string decodes whole");
	free(m);
	json_object_put(p);
	/* ...and cut anywhere, it is refused. */
	for (size_t cut = 10; cut < off; cut += off / 7) {
		ok(xmlrpc_decode_call(huge, cut, &m, &p, err, sizeof err) == -1,
		    "truncated at %zu refused", cut);
	}
	free(huge);
}

int
main(void)
{
	test_decode();
	test_encode();
	test_round_trip();
	test_hostile();
	return tap_done();
}
