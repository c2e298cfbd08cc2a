/*
 * safeexitctl top: a live table of programs (state, CPU %, memory,
 * restarts, OOM kills), as top(1) shows processes.
 */
#ifndef SAFEEXITCTL_TOP_H
#define SAFEEXITCTL_TOP_H

/*
 * On a terminal: redraw the table each second until q or Ctrl-C, then
 * put the terminal back as it was.  Otherwise: print it once.  Returns
 * the exit code.
 */
int	top_run(void);

#endif
