/*
 * inotify(7) as far as `safeexitctl tail -f` uses it, for Windows
 * (compat/win32-client.c): the descriptor becomes readable a few times a
 * second instead of on each change, and the follower then looks at the
 * file as it does after a real event.  Names carry no identity here, so a
 * log rotated away under the follower is not noticed.
 */
#ifndef SAFEEXIT_COMPAT_SYS_INOTIFY_H
#define SAFEEXIT_COMPAT_SYS_INOTIFY_H

#include <stdint.h>

struct inotify_event {
	int		wd;
	uint32_t	mask;
	uint32_t	cookie;
	uint32_t	len;
	char		name[];
};

#define IN_MODIFY	0x00000002
#define IN_ATTRIB	0x00000004
#define IN_MOVED_TO	0x00000080
#define IN_CREATE	0x00000100
#define IN_DELETE_SELF	0x00000400
#define IN_MOVE_SELF	0x00000800
#define IN_CLOEXEC	0x00080000

int	inotify_init1(int flags);
int	inotify_add_watch(int fd, const char *path, uint32_t mask);
int	inotify_rm_watch(int fd, int wd);

#endif
