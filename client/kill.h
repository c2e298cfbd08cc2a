/*
 * safeexitctl kill: stop arbitrary processes safely without a daemon.
 * Signal, wait for a grace period, then SIGKILL whatever is left.
 */
#ifndef SAFEEXITCTL_KILL_H
#define SAFEEXITCTL_KILL_H

/*
 * Run "kill [-S SIG] [-t SECS] PID..." with argv[0] == "kill".  Returns the
 * exit status: 0 every process is gone, 1 a PID did not exist or a process
 * could not be signalled or survived, 2 usage error, 4 permission denied
 * (which wins over 1).
 */
int kill_main(int argc, char **argv);

#endif
