/*
 * Windows: supervisord's event listeners and FastCGI sockets are not run
 * there (docs/WINDOWS.md); the daemon's calls into them do nothing.
 */
#include <stdbool.h>

#include "eventlistener.h"
#include "fcgi.h"

void eventlistener_init(struct event_base *base, const char *identifier)
{ (void)base; (void)identifier; }
void eventlistener_sync(void) { }
void eventlistener_supervisor_state(bool running) { (void)running; }
void fcgi_sync(void) { }
