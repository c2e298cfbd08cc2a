/*
 * Seconds as a struct timeval (see timeval.h).
 */
#include <sys/types.h>

#include "timeval.h"

/* See timeval.h. */
struct timeval
timeval_from_secs(double secs)
{
	struct timeval	tv;

	if (!(secs > 0))
		secs = 0;
	tv.tv_sec = (time_t)secs;
	tv.tv_usec = (long)((secs - (double)tv.tv_sec) * 1e6);
	return tv;
}
