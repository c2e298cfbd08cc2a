/*
 * The journal destination of program output: one journal stream per
 * program and stream, as systemd gives a service (SYSLOG_IDENTIFIER = the
 * program's name), so `journalctl -t NAME` shows its lines.  libsystemd is
 * loaded only now (libsd.h); a daemon built without it refuses the word
 * when the config is read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "output-sink.h"

#ifdef HAVE_LIBSYSTEMD
#include "libsd.h"

/* See output-sink.h. */
int
output_journal_open(const char *name, int priority, char *err, size_t errlen)
{
	int fd, fl;

	if (!libsd_load()) {
		snprintf(err, errlen, "%s", libsd_error());
		return -1;
	}
	if ((fd = libsd.journal_stream_fd(name, priority, 0)) < 0) {
		snprintf(err, errlen, "cannot connect to the journal: %s",
		    strerror(-fd));
		return -1;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	/* Never block the loop on a busy journald: output_queue holds it. */
	if ((fl = fcntl(fd, F_GETFL)) != -1)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	return fd;
}
#else
/* See output-sink.h. */
int
output_journal_open(const char *name, int priority, char *err, size_t errlen)
{
	(void)name;
	(void)priority;
	snprintf(err, errlen, "built without libsystemd");
	return -1;
}
#endif
