/*
 * XML-RPC, the encoding of supervisord's /RPC2: a methodCall decoded into a
 * method name and a json-c array of parameters, and a json-c value or a
 * fault encoded as a methodResponse.  Pure functions over buffers, no I/O.
 */
#ifndef SAFEEXITD_XMLRPC_H
#define SAFEEXITD_XMLRPC_H

#include <stddef.h>

struct json_object;

/* Element nesting taken in a call (each array or struct level costs 3). */
#define XMLRPC_MAX_DEPTH	64
/* Elements taken in one call. */
#define XMLRPC_MAX_ELEMENTS	65536
/* The longest method name. */
#define XMLRPC_MAX_METHOD	128

/*
 * Decode a methodCall of len bytes.  Returns 0 with *method (a string to
 * free) and *params (an array, the caller's reference); or -1 with err set
 * to why, nothing allocated.  int, i4 and i8 become integers, boolean a
 * boolean, double a double, string, base64, dateTime.iso8601 and untyped
 * values strings, nil null, array and struct arrays and objects.  A DOCTYPE
 * (hence any entity declaration) is refused, as is anything else.
 */
int	xmlrpc_decode_call(const char *buf, size_t len, char **method,
	    struct json_object **params, char *err, size_t errlen);

/*
 * Encode value as a methodResponse: integers as int (i8 beyond 32 bits),
 * booleans, doubles, strings (escaped; bytes that XML cannot carry become
 * U+FFFD), arrays, objects as structs, null as nil.  Returns a string to
 * free; its length in *len.
 */
char	*xmlrpc_encode_response(struct json_object *value, size_t *len);

/* Encode a fault: faultCode and faultString. */
char	*xmlrpc_encode_fault(int code, const char *string, size_t *len);

#endif
