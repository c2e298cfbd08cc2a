/*
 * How safeexitctl reaches the daemon: a Unix socket (transport-posix.c) or a
 * named pipe (transport-win32.c).  safeexitctl.c frames, sends and reads
 * messages through these calls alone.  Each returns an exit code of
 * safeexitctl.h (CTL_EXIT_DONE when it worked) and has reported any failure
 * on stderr; limits are client_now() times, 0 meaning none.
 */
#ifndef SAFEEXITCTL_TRANSPORT_H
#define SAFEEXITCTL_TRANSPORT_H

#include <stddef.h>

struct transport;

/*
 * Connect to the daemon at path, waiting at most connect_secs (or until
 * -t's deadline, whichever comes first) for a daemon that is busy.
 */
int	transport_connect(const char *path, double connect_secs,
	    struct transport **out);
/*
 * Write all of buf before limit.  -1 when the daemon hung up, which it does
 * after a refusal that is then waiting to be read.
 */
int	transport_send(struct transport *t, const char *buf, size_t len,
	    double limit);
/* Read what has arrived, waiting for something until limit; *n 0 at EOF. */
int	transport_recv(struct transport *t, char *buf, size_t size, size_t *n,
	    double limit);
void	transport_close(struct transport *t);

#endif
