/*
 * Event listeners where there are none (Windows): [eventlistener:NAME] is
 * refused when the config is read (config-listener.c), so there is nothing
 * to feed or keep in step.
 */
#include <stdbool.h>

#include "eventlistener.h"

void
eventlistener_init(struct event_base *base, const char *identifier)
{
}

void
eventlistener_sync(void)
{
}

void
eventlistener_supervisor_state(bool running)
{
}
