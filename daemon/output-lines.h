/*
 * Program output bound for a log, cut into lines: the framing both
 * platforms' output files share.
 */
#ifndef SAFEEXITD_OUTPUT_LINES_H
#define SAFEEXITD_OUTPUT_LINES_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Move bytes from *buf (*len of them) into line, which holds *line_len of
 * max bytes, up to and including the first newline, and advance *buf and
 * *len past what was taken.  Returns true when line is complete: a newline
 * ended it (the newline is not kept) or it is full, so a longer line is
 * logged in pieces of max bytes.  The caller then logs it and sets
 * *line_len to 0.  Call again while *len is not 0.
 */
bool	output_lines_take(char *line, size_t max, size_t *line_len,
	    const char **buf, size_t *len);

#endif
