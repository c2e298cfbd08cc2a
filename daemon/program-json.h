/*
 * A program as the control protocol describes it (program-json.c).
 */
#ifndef SAFEEXITD_PROGRAM_JSON_H
#define SAFEEXITD_PROGRAM_JSON_H

#include <stdbool.h>

#include "parse.h"

struct json_object;
struct program;
struct protocol_text;

/* One program as an object. */
struct json_object *program_json(const struct program *p);
/* The same, written as text to t, byte for byte what encoding the object gives. */
void	program_json_text(struct protocol_text *t, const struct program *p,
	    bool usage);
/* The named programs that still exist, in the order given (NULL: none). */
struct json_object *program_json_list(strv_t names);

#endif
