/*
 * The writer of the output benchmark (bench/output): N bytes of 100-byte
 * lines to stdout, in 64 KiB writes that end anywhere within a line, as a
 * chatty program's buffered stdout does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	static char buf[65536 + 100];
	unsigned long long total = argc > 1 ? strtoull(argv[1], NULL, 10) : 0;
	unsigned long long done = 0, line = 0;
	size_t fill = 0;

	while (done < total) {
		while (fill < 65536) {
			snprintf(buf + fill, 101, "%010llu %0*d", line++, 88, 0);
			buf[fill + 99] = '\n';
			fill += 100;
		}
		size_t n = total - done < 65536 ? (size_t)(total - done) : 65536;
		ssize_t w = write(1, buf, n);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return 1;
		done += (unsigned long long)w;
		memmove(buf, buf + w, fill - (size_t)w);
		fill -= (size_t)w;
	}
	return 0;
}
