/*
 * FastCGI sockets where there are none (Windows): [fcgi-program:NAME] is
 * refused when the config is read (config-listener.c).
 */
#include "fcgi.h"

void
fcgi_sync(void)
{
}
