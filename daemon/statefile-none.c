/*
 * Platforms without the state file (Windows): every program runs in a job
 * object that is killed when the daemon's handle to it closes, so after a
 * crash of the daemon nothing is left running to re-adopt.
 */
#include "statefile.h"

/* Nothing to keep up to date. */
void
statefile_init(struct event_base *base, const char *path)
{
	(void)base;
	(void)path;
}

/* Nothing to stop. */
void
statefile_fini(void)
{
}

/* Nothing to write. */
int
statefile_write(void)
{
	return 0;
}

/* Nothing to write. */
void
statefile_touch(void)
{
}

/* Nothing to remove. */
void
statefile_remove(void)
{
}

/* There is never a state file to read. */
int
statefile_read(const char *path, struct state_file *out)
{
	(void)path;
	(void)out;
	return -1;
}

/* Nothing was read. */
void
statefile_free(struct state_file *sf)
{
	(void)sf;
}

/* No process is known by its start time here. */
unsigned long long
statefile_start_time(pid_t pid, pid_t *ppid)
{
	(void)pid;
	if (ppid != NULL)
		*ppid = 0;
	return 0;
}

/* Settings are never compared with a file. */
void
statefile_hash(const char *fingerprint, char out[17])
{
	(void)fingerprint;
	out[0] = '\0';
}

/* No state file: nothing to say about a shutdown. */
void
statefile_set_shutdown(bool running)
{
	(void)running;
}

/* No journal. */
int
statefile_journal_fd(void)
{
	return -1;
}

/* No journal to record a stop in. */
void
statefile_journal_stop(const struct program *p)
{
	(void)p;
}
