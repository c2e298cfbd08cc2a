/*
 * libFuzzer target: bytes from a client, as the control socket receives
 * them, through the framer and protocol_decode_request(), the decoder the
 * daemon uses (it refuses a NUL anywhere); every accepted request must hold
 * no NUL in its command or arguments and is encoded again.  The same line
 * also goes through protocol_decode() and the reply check, as the client
 * reads the daemon's answers.
 */
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort unless the string value v is read whole by C (it holds no NUL). */
static void
check_no_nul(struct json_object *v)
{
	if (v != NULL && json_object_is_type(v, json_type_string) &&
	    strlen(json_object_get_string(v)) !=
	    (size_t)json_object_get_string_len(v))
		abort();
}

/* An accepted request: no NUL in what the daemon acts on; encodes again. */
static void
check_request(struct json_object *req)
{
	struct json_object *v;
	size_t out;
	char *frame;

	if (json_object_object_get_ex(req, "cmd", &v))
		check_no_nul(v);
	if (json_object_object_get_ex(req, "args", &v) &&
	    json_object_is_type(v, json_type_array))
		for (size_t i = 0; i < json_object_array_length(v); i++)
			check_no_nul(json_object_array_get_idx(v, i));
	frame = protocol_encode(req, &out);
	if (frame == NULL || out == 0 || frame[out - 1] != '\n')
		abort();
	free(frame);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct protocol_framer f;
	const char *p = (const char *)data, *line, *code, *msg;
	size_t len = size, linelen;

	/* A small frame limit reaches the too-long path with small inputs. */
	protocol_framer_init(&f, size % 2 ? 256 : PROTOCOL_MAX_FRAME);
	while (len > 0) {
		enum protocol_frame r = protocol_framer_feed(&f, &p, &len, &line,
		    &linelen);
		struct json_object *obj;

		if (r != PROTOCOL_FRAME_LINE)
			continue;
		code = msg = NULL;
		if ((obj = protocol_decode_request(line, linelen, &code,
		    &msg)) != NULL) {
			check_request(obj);
			json_object_put(obj);
		} else if (code == NULL || msg == NULL)
			abort();	/* a refusal always says why */
		if ((obj = protocol_decode(line, linelen, &code, &msg)) == NULL)
			continue;
		(void)protocol_check_reply(obj, &code, &msg);
		json_object_put(obj);
	}
	protocol_framer_free(&f);
	return 0;
}
