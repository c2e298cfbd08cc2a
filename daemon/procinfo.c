/*
 * /proc/PID/stat and /proc/PID/exe, parsed without allocating: the command
 * name in stat may hold spaces and parentheses, so fields are counted from
 * the last ')'.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procinfo.h"

int
procinfo_read(pid_t pid, struct procinfo *pi)
{
	char path[64], buf[1024], *p, *end;
	ssize_t n;
	int fd;

	memset(pi, 0, sizeof *pi);
	if (pid <= 0)
		return -1;
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return -1;
	p += 2;
	/* state(3) ppid(4) pgrp(5) session(6) ... starttime(22). */
	for (int field = 3; field <= 22; field++) {
		switch (field) {
		case 3:
			pi->state = *p;
			break;
		case 4:
			pi->ppid = (pid_t)strtol(p, &end, 10);
			break;
		case 5:
			pi->pgid = (pid_t)strtol(p, &end, 10);
			break;
		case 6:
			pi->sid = (pid_t)strtol(p, &end, 10);
			break;
		case 22:
			pi->start_time = strtoull(p, &end, 10);
			return pi->start_time != 0 ? 0 : -1;
		}
		if ((p = strchr(p, ' ')) == NULL)
			return -1;
		p++;
	}
	return -1;
}

int
procinfo_exe(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof path, "/proc/%ld/exe", (long)pid);
	if (len == 0 || (n = readlink(path, buf, len - 1)) <= 0 ||
	    (size_t)n >= len - 1)
		return -1;
	buf[n] = '\0';
	return 0;
}

bool
procinfo_valid_pid(long long v)
{
	return v > 1 && v <= INT_MAX;
}

bool
procinfo_group_live(pid_t pgid)
{
	pid_t self = getpid();
	struct dirent *de;
	bool live = false;
	DIR *dir;

	if ((dir = opendir("/proc")) == NULL)
		return true;
	while (!live && (de = readdir(dir)) != NULL) {
		char path[300], buf[512], *close_paren, state;
		long ppid, pgrp;
		ssize_t n;
		int fd;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		if ((close_paren = strrchr(buf, ')')) == NULL ||
		    sscanf(close_paren + 1, " %c %ld %ld", &state, &ppid, &pgrp) != 3)
			continue;
		/* A zombie of ours is reaped in a moment: the group waits for it. */
		live = pgrp == pgid && ((state != 'Z' && state != 'X') ||
		    (state == 'Z' && ppid == (long)self));
	}
	closedir(dir);
	return live;
}
