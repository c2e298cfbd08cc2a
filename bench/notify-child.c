/*
 * A program for the readiness benchmark: records when it started and sends
 * READY=1 to $NOTIFY_SOCKET at once, appending "TAG START READY" (monotonic
 * nanoseconds) to $BENCH_TIMES, then waits for a signal.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int
main(int argc, char **argv)
{
	long long start = now_ns(), ready;
	const char *addr = getenv("NOTIFY_SOCKET"), *times = getenv("BENCH_TIMES");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len;
	char line[128];
	int fd, n;

	if (addr == NULL || strlen(addr) >= sizeof sun.sun_path)
		return 1;
	strcpy(sun.sun_path, addr);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(addr));
	if (addr[0] == '@')
		sun.sun_path[0] = '\0';
	else
		len++;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ready = now_ns();
	if (sendto(fd, "READY=1", 7, 0, (struct sockaddr *)&sun, len) == -1)
		return 1;
	if (times != NULL) {
		int t = open(times, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

		n = snprintf(line, sizeof line, "%s %lld %lld\n",
		    argc > 1 ? argv[1] : "-", start, ready);
		if (t != -1 && write(t, line, (size_t)n) != n)
			return 1;
	}
	for (;;)
		pause();
}
