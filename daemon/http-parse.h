/*
 * The head of an HTTP request, parsed (http-parse.c).
 */
#ifndef SAFEEXITD_HTTP_PARSE_H
#define SAFEEXITD_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "http.h"

struct http_head {
	struct http_request	 req;		/* all but body and remote */
	char			*authorization;
	size_t			 content_length;
	bool			 has_length;
	bool			 keep_alive;	/* HTTP/1.1, or asked for */
	bool			 head_only;	/* HEAD: no body goes out */
	bool			 expect_continue;
};

/*
 * Parse head, n bytes (NUL-terminated) of a request line and headers
 * ending with an empty line, into hd, whose strings point into head
 * (changed in place).  0, or -1 with the status to answer and a line
 * saying why.
 */
int	http_parse_head(char *head, size_t n, struct http_head *hd,
	    int *status, const char **why);

#endif
