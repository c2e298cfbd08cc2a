/*
 * -d on POSIX: fork, the child starts a session of its own with the null
 * device for stdin, stdout and stderr, and the parent waits on a pipe for
 * the child to say how its start-up went, so `safeexitd -d && safeexitctl
 * status` just works.
 */
#include <fcntl.h>
#include <unistd.h>

#include "log.h"
#include "platform.h"

static int	detach_ready_fd = -1;
/* The terminal's stderr, for start-up warnings and errors until the end. */
static int	detach_stderr = -1;

/* Fork; the parent waits for the child's word and exits with it. */
int
platform_detach(void)
{
	int fds[2], null;
	char status = 1;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0) {
		close(fds[1]);
		if (read(fds[0], &status, 1) != 1)
			status = 1;
		_exit(status);
	}
	close(fds[0]);
	detach_ready_fd = fds[1];
	/*
	 * Until start-up is over, what goes wrong is said where the user ran
	 * safeexitd -d, as in the foreground: the log may not be read for hours.
	 */
	if ((detach_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3)) != -1)
		log_set_echo(detach_stderr);
	if (setsid() == -1)
		fatal("setsid");
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		fatal("open /dev/null");
	dup2(null, STDIN_FILENO);
	dup2(null, STDOUT_FILENO);
	dup2(null, STDERR_FILENO);
	close(null);
	if (chdir("/") == -1)
		fatal("chdir /");
	return 0;
}

/* Send the waiting parent its exit status. */
void
platform_detach_done(int status)
{
	char c = (char)status;

	if (detach_stderr != -1) {
		log_set_echo(-1);
		close(detach_stderr);
		detach_stderr = -1;
	}
	if (detach_ready_fd == -1)
		return;
	if (write(detach_ready_fd, &c, 1) != 1)
		log_warn("cannot tell the parent process");
	close(detach_ready_fd);
	detach_ready_fd = -1;
}
