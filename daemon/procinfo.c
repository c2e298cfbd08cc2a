/*
 * /proc/PID/stat, smaps_rollup and exe, read with one bounded read each and
 * parsed without allocating: the command name in stat may hold spaces and
 * parentheses, so fields are counted from the last ')'.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procinfo.h"

static ssize_t procinfo_file(pid_t pid, const char *name, char *buf,
    size_t len);
static int procinfo_stat(pid_t pid, struct procinfo *pi);

/* /proc/PID/NAME's first len - 1 bytes into buf, NUL-terminated: -1 if none. */
static ssize_t
procinfo_file(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof path, "/proc/%ld/%s", (long)pid, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* Fill pi from /proc/PID/stat, whatever its start time: 0, or -1. */
static int
procinfo_stat(pid_t pid, struct procinfo *pi)
{
	char buf[1024], *p, *end;

	memset(pi, 0, sizeof *pi);
	if (procinfo_file(pid, "stat", buf, sizeof buf) == -1)
		return -1;
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return -1;
	p += 2;
	/* state(3) ppid(4) pgrp(5) session(6) ... utime(14) stime(15) ...
	 * starttime(22). */
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
		case 14:
			pi->utime = strtoull(p, &end, 10);
			break;
		case 15:
			pi->stime = strtoull(p, &end, 10);
			break;
		case 22:
			pi->start_time = strtoull(p, &end, 10);
			return 0;
		}
		if ((p = strchr(p, ' ')) == NULL)
			return -1;
		p++;
	}
	return -1;
}

int
procinfo_read(pid_t pid, struct procinfo *pi)
{
	if (procinfo_stat(pid, pi) == -1)
		return -1;
	return pi->start_time != 0 ? 0 : -1;
}

unsigned long long
procinfo_pss(pid_t pid)
{
	char buf[2048], *at;

	if (procinfo_file(pid, "smaps_rollup", buf, sizeof buf) == -1 ||
	    (at = strstr(buf, "\nPss:")) == NULL)
		return 0;
	return strtoull(at + 5, NULL, 10) * 1024;
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
		struct procinfo pi;
		pid_t pid;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		pid = (pid_t)strtol(de->d_name, NULL, 10);
		if (procinfo_stat(pid, &pi) == -1 || pi.pgid != pgid)
			continue;
		/* A zombie of ours is reaped in a moment: the group waits for it. */
		live = (pi.state != 'Z' && pi.state != 'X') ||
		    (pi.state == 'Z' && pi.ppid == self);
	}
	closedir(dir);
	return live;
}
