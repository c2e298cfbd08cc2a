/*
 * Readiness and health of each program (safeexitd.ini(5): ready, health).
 * While a program is STARTING, its readiness check runs (probes on
 * ready_interval, a NOTIFY_SOCKET, a descriptor, its output lines); the
 * first success is lifecycle_ready.  While it is RUNNING, its health check
 * runs every health_interval; health_retries failures in a row are
 * lifecycle_unhealthy.  The module watches state changes and touches the
 * lifecycle only through those events; nothing runs while nothing is due.
 */
#ifndef SAFEEXITD_READY_H
#define SAFEEXITD_READY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct event_base;
struct program;
struct spawn_request;

/* instance: the control socket's path, the key of the notify names. */
void ready_init(struct event_base *base, const char *instance);
void ready_fini(void);

/*
 * Before p's main process is started: add what its check needs to req (a
 * NOTIFY_SOCKET, descriptor N).  -1 with p->error when that cannot be made.
 */
int ready_prepare_spawn(struct program *p, struct spawn_request *req);
/* p leaves the table: close what readiness holds for it. */
void ready_forget(struct program *p);
/* Before an exit of p's main process is handled: read its notifications. */
void ready_drain(struct program *p);

/* For status: whether p is ready, its health ("ok", "failing", NULL), its
 * STATUS= text (NULL), and what a STARTING p waits for ("tcp:8080"). */
bool ready_is_ready(const struct program *p);
const char *ready_health(const struct program *p);
const char *ready_status_text(const struct program *p);
/* A line for status: what it waits for, its STATUS text, a failing check. */
void ready_describe(const struct program *p, char *buf, size_t len);

/*
 * Re-exec: hand the notify sockets and fd:N pipes to the next image
 * (through the environment; undo when the exec failed).  The next image
 * takes them as it adopts the programs, then closes what nobody took
 * (ready_handover_done).
 */
void ready_export(void);
void ready_export_undo(void);
void ready_handover_done(void);
/* An adopted p: its STATUS= text and health failures in a row, saved. */
void ready_resume(struct program *p, const char *status_text, int failures,
    const char *why);
/* For the state file: p's health failures in a row, and the last cause. */
int ready_failures(const struct program *p, const char **why);

/* Call fn once every autostart program is RUNNING or has settled. */
void ready_when_settled(void (*fn)(void));

#endif
