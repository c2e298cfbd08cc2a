/* Built without libevent_openssl: https checks are refused at load. */
#include <stddef.h>

#include "probe.h"

/* No TLS in this build. */
struct bufferevent *
probe_tls_bufferevent(struct event_base *base, const char *host)
{
	return NULL;
}
