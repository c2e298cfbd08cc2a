/*
 * libFuzzer target: bytes from a client, as the control socket receives
 * them, through the framer, the decoder and the request check; every
 * accepted request is encoded again.
 */
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
		if ((obj = protocol_decode(line, linelen, &code, &msg)) == NULL)
			continue;
		if (protocol_check_request(obj, &code, &msg) == 0) {
			size_t out;
			char *frame = protocol_encode(obj, &out);

			if (frame == NULL || out == 0 || frame[out - 1] != '\n')
				abort();
			free(frame);
		}
		(void)protocol_check_reply(obj, &code, &msg);
		json_object_put(obj);
	}
	protocol_framer_free(&f);
	return 0;
}
