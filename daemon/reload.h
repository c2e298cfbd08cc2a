/*
 * Reload: the new config is parsed and validated in full before anything
 * changes; then programs are diffed by name and fingerprint.  Added programs
 * start (autostart), removed ones stop and leave the table, changed ones stop,
 * take their new settings and start again, unchanged ones are left alone.
 */
#ifndef SAFEEXITD_RELOAD_H
#define SAFEEXITD_RELOAD_H

struct config;
struct event_base;
struct json_object;

void reload_init(struct event_base *base);

/*
 * Apply newcfg's programs to the table (taking the program configs it uses
 * out of newcfg) and describe what happened in result, which gets the
 * arrays "added", "removed", "changed" and "unchanged".
 */
void reload_apply(struct config *newcfg, double stop_timeout,
    struct json_object *result);

/* What reload_apply would report for newcfg, changing nothing (reread). */
void reload_diff(const struct config *newcfg, struct json_object *result);

#endif
