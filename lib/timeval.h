/*
 * Seconds as a struct timeval, for libevent timers and connect waits.
 */
#ifndef SAFEEXIT_TIMEVAL_H
#define SAFEEXIT_TIMEVAL_H

#ifdef _WIN32
#include <winsock2.h>
#else
#include <sys/time.h>
#endif

/* secs as a timeval, to the microsecond below; negative (or NaN) is 0. */
struct timeval	timeval_from_secs(double secs);

#endif
