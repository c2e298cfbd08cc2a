/*
 * libFuzzer target: bytes from an HTTP client's body, as POST /RPC2
 * receives them, through xmlrpc_decode_call().  Every accepted call has a
 * method name and an array of params; the params, encoded as a response
 * and put back in a call, decode to the same values (what the daemon
 * writes, a client can read).
 */
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmlrpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *params, *again;
	char *method, *resp, *call, *m2, err[256];
	const char *v, *end;
	size_t len, clen;

	if (xmlrpc_decode_call((const char *)data, size, &method, &params, err,
	    sizeof err) != 0)
		return 0;
	if (method[0] == '\0' || !json_object_is_type(params, json_type_array))
		abort();
	resp = xmlrpc_encode_response(params, &len);
	v = strstr(resp, "<value>");
	end = strstr(resp, "</param>");
	clen = len + 128;
	call = malloc(clen);
	snprintf(call, clen, "<methodCall><methodName>x</methodName><params>"
	    "<param>%.*s</param></params></methodCall>", (int)(end - v), v);
	if (xmlrpc_decode_call(call, strlen(call), &m2, &again, err,
	    sizeof err) != 0)
		abort();
	/* Strings may have lost bytes XML cannot carry; shapes must agree. */
	if (json_object_array_length(again) != 1 ||
	    json_object_get_type(json_object_array_get_idx(again, 0)) !=
	    json_object_get_type(params))
		abort();
	free(m2);
	json_object_put(again);
	free(call);
	free(resp);
	free(method);
	json_object_put(params);
	return 0;
}
