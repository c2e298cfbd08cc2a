/*
 * Readiness and health on Windows: not offered yet.  Programs count as
 * ready once start_secs have passed (ready = running); the daemon never
 * waits on a check here.
 */
#include <stdbool.h>
#include <stddef.h>

#include "program.h"
#include "ready.h"

void ready_init(struct event_base *base, const char *instance) { }
void ready_fini(void) { }
int ready_prepare_spawn(struct program *p, struct spawn_request *req) { return 0; }
void ready_forget(struct program *p) { }
void ready_drain(struct program *p) { }
bool ready_is_ready(const struct program *p) { return p->state == STATE_RUNNING; }
const char *ready_health(const struct program *p) { return NULL; }
const char *ready_status_text(const struct program *p) { return NULL; }

void
ready_describe(const struct program *p, char *buf, size_t len)
{
	if (len > 0)
		buf[0] = '\0';
}

/* Nothing to wait for. */
void
ready_when_settled(void (*fn)(void))
{
	fn();
}
