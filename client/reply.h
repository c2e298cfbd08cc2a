/*
 * Reading the daemon's replies (reply.c): the programs a reply lists, the
 * names it did not know, fields of a program, and status output.
 */
#ifndef SAFEEXITCTL_REPLY_H
#define SAFEEXITCTL_REPLY_H

#include <stdbool.h>
#include <stdint.h>

struct json_object;

/* The reply's "programs" array, or NULL. */
struct json_object *reply_programs(struct json_object *reply);
/* Report the names the daemon does not know; returns how many. */
int	reply_unknown(struct json_object *reply);
/* A program's string field, or "" when absent or null. */
const char *prog_string(struct json_object *p, const char *key);
/* A program's integer field: true with *v set when present. */
bool	prog_int(struct json_object *p, const char *key, int64_t *v);
/* Whether a program's state is one of states (NULL-terminated). */
bool	prog_in(struct json_object *p, const char *const *states);
/* Print the programs as status lines: NAME STATE PID/EXIT UPTIME. */
void	programs_print(struct json_object *programs);
/* The programs as status --json shows them (the documented keys). */
struct json_object *programs_spec(struct json_object *programs);

#endif
