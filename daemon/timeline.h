/*
 * The timeline of the last staged stop run (shutdown.h): when it began and
 * ended, when each stage began and ended, and per program its stage, when
 * its stop went out, when its kill_signal went out (if it did), when it was
 * gone and how.  The status page draws it and /metrics reports its stage
 * durations, so a user sees which program held a shutdown up.
 *
 * Only the run begun last is kept, and of it at most TIMELINE_MAX_PROGRAMS
 * programs: memory stays bounded whatever happens.  Times are seconds from
 * the run's beginning, on the monotonic clock; the beginning itself is also
 * kept as wall-clock time, for people.  The record can be written to a file
 * at the daemon's exit and read back at its next start, so the page shows
 * where the last shutdown of the host spent its time.
 */
#ifndef SAFEEXITD_TIMELINE_H
#define SAFEEXITD_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>

#include "program.h"

struct json_object;
struct proglist;

/* The most programs, and stages, one record keeps. */
#define TIMELINE_MAX_PROGRAMS	4096

/* How a program of the run ended. */
enum timeline_end {
	TIMELINE_PENDING,	/* still stopping */
	TIMELINE_EXITED,	/* its processes are gone */
	TIMELINE_NOT_RUNNING,	/* nothing to stop when its stage began */
	TIMELINE_LEFT,		/* the run ended (or it was removed) first */
};

struct timeline_program {
	char	*name;
	int	 stage;		/* 0-based */
	double	 stop;		/* its stop went out; < 0 when it did not */
	double	 kill;		/* its kill_signal went out; < 0 when not */
	double	 gone;		/* its last process was gone; < 0 when not */
	enum timeline_end end;
	char	 how[32];	/* "exit 0", "signal TERM"; "" when not known */
};

struct timeline_stage {
	double	 begin;		/* < 0 when it never began */
	double	 end;		/* < 0 while it runs */
};

struct timeline {
	bool	 valid;		/* a run was recorded */
	bool	 finished;
	bool	 restored;	/* read from the file of an earlier daemon */
	char	 reason[16];	/* "request", "shutdown", "reload"... */
	double	 wall_begin;	/* Unix time of its beginning */
	double	 duration;	/* < 0 while it runs */
	size_t	 n_stages;
	struct timeline_stage *stages;
	size_t	 n;
	struct timeline_program *v;
	size_t	 omitted;	/* programs beyond TIMELINE_MAX_PROGRAMS */
};

/*
 * Measure with now (monotonic seconds, as lifecycle_ops.now) and wall
 * (Unix time; NULL for the system's clock), and watch program changes from
 * now on.  Called before any other observer that reacts to a stop; called
 * again, it only changes the clocks.
 */
void	timeline_init(double (*now)(void), double (*wall)(void));

/*
 * Hooks of the staged stop (shutdown.c).  run only tells runs apart: a
 * newer run replaces the record, and the hooks of an older one that is
 * still going are ignored.  stage[i] is the 0-based stage of l->v[i].
 */
void	timeline_begin(const void *run, enum stop_reason why,
	    const struct proglist *l, const int *stage, size_t stages);
void	timeline_stage(const void *run, size_t stage);
void	timeline_end(const void *run);
/* The lifecycle's hook: p's kill_signal went out. */
void	timeline_killed(const struct program *p);
/* p is about to be freed: keep what was recorded, forget the pointer. */
void	timeline_forget(const struct program *p);

/* The record, for reading (valid false when nothing was recorded). */
const struct timeline *timeline_get(void);
/* The record as JSON (docs/HTTP.md); JSON null when there is none. */
struct json_object *timeline_json(void);

/*
 * Write the record to path (a regular file of the daemon's own, replaced
 * whole) or read one back; -1 with a logged warning on failure.  A record
 * read back is shown until the next run replaces it.
 */
int	timeline_save(const char *path);
int	timeline_load(const char *path);

/* Drop the record (tests, and the daemon's exit). */
void	timeline_clear(void);

#endif
