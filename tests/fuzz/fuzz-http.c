/*
 * libFuzzer target: bytes a client sends as the head of an HTTP request,
 * through http_parse_head(), the daemon's parser.  An accepted head must
 * give a method of capitals, a path that starts with '/', strings the C
 * side reads whole, and a body length within the bound.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "http-parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort unless s, when set, lies inside head. */
static void
check_inside(const char *s, const char *head, size_t n)
{
	if (s != NULL && (s < head || s + strlen(s) > head + n))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_head	 hd;
	const char		*why;
	const uint8_t		*end;
	char			*head;
	size_t			 n;
	int			 status;

	/* The daemon hands the parser what ends with the first empty line. */
	end = memmem(data, size, "\r\n\r\n", 4);
	if (end == NULL || (n = (size_t)(end - data) + 4) > HTTP_MAX_HEAD)
		return 0;
	head = malloc(n + 1);
	memcpy(head, data, n);
	head[n] = '\0';
	if (http_parse_head(head, n, &hd, &status, &why) == 0) {
		if (hd.req.method[0] < 'A' || hd.req.method[0] > 'Z' ||
		    hd.req.path == NULL || hd.req.path[0] != '/' ||
		    hd.content_length > HTTP_MAX_BODY)
			abort();
		check_inside(hd.req.path, head, n);
		check_inside(hd.req.query, head, n);
		check_inside(hd.req.host, head, n);
		check_inside(hd.authorization, head, n);
	} else if (status < 400 || status > 505 || why == NULL ||
	    why[strlen(why) - 1] != '\n')
		abort();
	free(head);
	return 0;
}
