/*
 * Each program's one deadline (start_secs, back-off, grace) as a libevent
 * timer, for both platforms.  libevent measures a timeout from the time it
 * cached at the top of the loop, on a clock of its own that may be coarse
 * (GetTickCount64 on Windows, 15.6 ms steps), so a timer can fire a little
 * before the deadline the daemon's clock set; such a timer is armed again
 * for the rest, and the program hears of its deadline only once it passed.
 */
#ifndef SAFEEXITD_DEADLINE_H
#define SAFEEXITD_DEADLINE_H

struct event_base;
struct program;

/*
 * Arm timers on base, measure deadlines with now (the platform's monotonic
 * clock, as lifecycle_ops.now), and call due(p) once p's deadline passed.
 */
void	deadline_init(struct event_base *base, double (*now)(void),
	    void (*due)(struct program *));
/* Arm p's one deadline at monotonic time at; 0 disarms (lifecycle_ops.arm). */
void	deadline_arm(struct program *p, double at);

#endif
