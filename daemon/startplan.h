/*
 * The start planner: starting a program starts its dependencies first and
 * starts it only once every dependency is RUNNING.  A dependency that goes
 * FATAL (or is stopped while others wait on it) fails its dependents.
 */
#ifndef SAFEEXITD_STARTPLAN_H
#define SAFEEXITD_STARTPLAN_H

#include <stddef.h>

#include "program.h"

void startplan_init(void);
/* Start v[0..n-1] and their dependencies, each when its dependencies run. */
void startplan_start(struct program **v, size_t n);

#endif
