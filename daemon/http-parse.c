/*
 * The HTTP server's request head parser: the request line and the headers
 * it reads, nothing else.  It touches no connection, so it is fuzzed alone
 * (tests/fuzz/fuzz-http.c).
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "http-parse.h"
#include "parse.h"

static int	http_parse_header(struct http_head *, char *, int *,
		    const char **);
static int	http_hex(char);
static bool	http_url_decode(char *);

/*
 * No NUL, DEL or control character but tabs, and a CR only before an LF
 * and an LF only after a CR: a bare one would end a line for one reader
 * and not another.
 */
static bool
http_head_clean(const char *head, size_t n)
{
	size_t		 i;
	unsigned char	 ch;

	for (i = 0; i < n; i++) {
		ch = (unsigned char)head[i];
		if (ch == '\r') {
			if (i + 1 >= n || head[i + 1] != '\n')
				return (false);
			i++;
			continue;
		}
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return (false);
	}
	return (true);
}

/*
 * Parse the request line and the headers; see http-parse.h.
 */
int
http_parse_head(char *head, size_t n, struct http_head *hd, int *status,
    const char **why)
{
	char	*line, *next, *target, *version, *q;

	*status = 400;
	memset(hd, 0, sizeof *hd);
	if (!http_head_clean(head, n)) {
		*why = "control character in the request head\n";
		return (-1);
	}
	next = strstr(head, "\r\n");
	*next = '\0';
	next += 2;
	/* METHOD SP TARGET SP HTTP/1.x */
	if ((target = strchr(head, ' ')) == NULL ||
	    (size_t)(target - head) >= sizeof hd->req.method ||
	    (version = strchr(target + 1, ' ')) == NULL) {
		*why = "malformed request line\n";
		return (-1);
	}
	*target++ = '\0';
	*version++ = '\0';
	if (*head == '\0' || strspn(head, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") !=
	    strlen(head)) {
		*why = "malformed method\n";
		return (-1);
	}
	strcpy(hd->req.method, head);
	if (strcmp(version, "HTTP/1.1") == 0)
		hd->keep_alive = true;
	else if (strcmp(version, "HTTP/1.0") != 0) {
		*status = 505;
		*why = "HTTP/1.0 and HTTP/1.1 only\n";
		return (-1);
	}
	hd->head_only = strcmp(hd->req.method, "HEAD") == 0;
	if (*target != '/') {
		*why = "the target must be a path\n";
		return (-1);
	}
	if ((q = strchr(target, '?')) != NULL) {
		*q++ = '\0';
		hd->req.query = q;
	}
	if (!http_url_decode(target)) {
		*why = "bad escape in the path\n";
		return (-1);
	}
	hd->req.path = target;
	for (line = next;; line = next) {
		next = strstr(line, "\r\n");
		*next = '\0';
		next += 2;
		if (*line == '\0')
			break;
		if (http_parse_header(hd, line, status, why) == -1)
			return (-1);
	}
	return (0);
}

/* One "Name: value" line of the head. */
int
http_parse_header(struct http_head *hd, char *line, int *status,
    const char **why)
{
	char		*colon, *v, *end;
	long long	 len;

	if ((colon = strchr(line, ':')) == NULL || colon == line ||
	    *line == ' ' || *line == '\t') {
		*why = "malformed header\n";
		return (-1);
	}
	*colon = '\0';
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	for (end = v + strlen(v); end > v && (end[-1] == ' ' ||
	    end[-1] == '\t'); end--)
		;
	*end = '\0';
	if (strcasecmp(line, "Content-Length") == 0) {
		if (*v < '0' || *v > '9' || parse_size(v, &len, why) != 0 ||
		    strspn(v, "0123456789") != strlen(v)) {
			*why = "bad Content-Length\n";
			return (-1);
		}
		if (len > HTTP_MAX_BODY) {
			*status = 413;
			*why = "request body over 1 MiB\n";
			return (-1);
		}
		if (hd->has_length && hd->content_length != (size_t)len) {
			*why = "two Content-Lengths\n";
			return (-1);
		}
		hd->content_length = (size_t)len;
		hd->has_length = true;
	} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
		*status = 501;
		*why = "Transfer-Encoding is not taken: send Content-Length\n";
		return (-1);
	} else if (strcasecmp(line, "Connection") == 0) {
		if (strcasecmp(v, "close") == 0)
			hd->keep_alive = false;
		else if (strcasecmp(v, "keep-alive") == 0)
			hd->keep_alive = true;
	} else if (strcasecmp(line, "Expect") == 0) {
		if (strcasecmp(v, "100-continue") != 0) {
			*status = 417;
			*why = "only 100-continue is expected\n";
			return (-1);
		}
		hd->expect_continue = true;
	} else if (strcasecmp(line, "Host") == 0)
		hd->req.host = v;
	else if (strcasecmp(line, "Origin") == 0)
		hd->req.origin = v;
	else if (strcasecmp(line, "Content-Type") == 0)
		hd->req.content_type = v;
	else if (strcasecmp(line, "X-CSRF-Token") == 0)
		hd->req.csrf_token = v;
	else if (strcasecmp(line, "Authorization") == 0)
		hd->authorization = v;
	return (0);
}

/* The value of a hex digit, or -1. */
static int
http_hex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return (ch - '0');
	if (ch >= 'a' && ch <= 'f')
		return (ch - 'a' + 10);
	if (ch >= 'A' && ch <= 'F')
		return (ch - 'A' + 10);
	return (-1);
}

/* Decode %XX in place; false for a bad escape or a NUL. */
static bool
http_url_decode(char *s)
{
	char	*out = s;
	int	 hi, lo;

	for (; *s != '\0'; s++) {
		if (*s != '%') {
			*out++ = *s;
			continue;
		}
		hi = http_hex(s[1]);
		lo = hi < 0 ? -1 : http_hex(s[2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return (false);
		*out++ = (char)(hi * 16 + lo);
		s += 2;
	}
	*out = '\0';
	return (true);
}
