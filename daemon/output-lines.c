/*
 * Program output bound for a log, cut into lines (see output-lines.h).
 */
#include <string.h>

#include "output-lines.h"

/* See output-lines.h. */
bool
output_lines_take(char *line, size_t max, size_t *line_len, const char **buf,
    size_t *len)
{
	const char	*nl = memchr(*buf, '\n', *len);
	size_t		 take = nl != NULL ? (size_t)(nl - *buf) : *len;
	size_t		 room = max - *line_len;

	if (take > room)
		take = room;
	memcpy(line + *line_len, *buf, take);
	*line_len += take;
	*buf += take;
	*len -= take;
	if (nl != NULL && *buf == nl) {
		(*buf)++;
		(*len)--;
		return true;
	}
	return *line_len == max;
}
