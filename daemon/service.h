/*
 * safeexitd as a Windows service (service-win32.c): the install-service and
 * remove-service commands, and --service, under which the service control
 * manager (SCM) runs the daemon.  The SCM hears about the daemon's progress
 * through notify.h, which service-win32.c implements on Windows: START_PENDING
 * until notify_ready, RUNNING, then STOP_PENDING with checkpoints and wait
 * hints from notify_stopping on, and STOPPED with the daemon's exit code.
 */
#ifndef SAFEEXITD_SERVICE_H
#define SAFEEXITD_SERVICE_H

#include <stdbool.h>

/*
 * Run the service commands: install-service, remove-service, or --service
 * (the daemon under the SCM: run(argc, argv) on the service's thread).
 * Returns false when argv asks for none of them; else true, with the
 * process's exit status in *status.
 */
bool service_command(int argc, char **argv, int (*run)(int, char **),
    int *status);
/* Whether the daemon runs under the SCM. */
bool service_active(void);
/* The service's name, when it runs as one (else NULL). */
const char *service_name(void);

#endif
