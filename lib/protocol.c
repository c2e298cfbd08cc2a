/*
 * Framing, decoding, checking and encoding of control messages.  The daemon
 * and the client share this file; neither trusts the other's bytes.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <unistd.h>
#endif

#include <json-c/json.h>

#include "protocol.h"

/* Buffers above this size are given back once their line is done. */
#define FRAMER_KEEP	4096

/* json-c nests objects recursively: keep hostile input shallow. */
#define DECODE_DEPTH	16

static int	framer_reserve(struct protocol_framer *, size_t);
static bool	field_get(struct json_object *, const char *, json_type,
		    struct json_object **);
static const char *check_version(struct json_object *, const char *,
		    const char **);
static const char *check_string(struct json_object *, const char *);
static bool	has_nul_escape(const char *, size_t);
static char	*path_join(const char *, const char *);
static char	*copy_string(const char *);

static char	check_msg[160];
static bool	encode_ready;

/* Start an empty framer whose lines may be up to max bytes, newline included. */
void
protocol_framer_init(struct protocol_framer *f, size_t max)
{
	memset(f, 0, sizeof *f);
	f->max = max < 2 ? 2 : max;
}

/* Release a framer's buffer; it may be initialised again. */
void
protocol_framer_free(struct protocol_framer *f)
{
	free(f->buf);
	protocol_framer_init(f, f->max);
}

/* Whether bytes of an unfinished line are held. */
bool
protocol_framer_pending(const struct protocol_framer *f)
{
	return (!f->done && (f->len > 0 || f->skipping));
}

/* Grow the buffer to hold need bytes, doubling so appends stay cheap. */
static int
framer_reserve(struct protocol_framer *f, size_t need)
{
	size_t	 size;
	char	*buf;

	if (need <= f->size && f->buf != NULL)
		return (0);
	size = f->size < 256 ? 256 : f->size;
	while (size < need)
		size *= 2;
	if (size > f->max)
		size = f->max;
	if ((buf = realloc(f->buf, size)) == NULL)
		return (-1);
	f->buf = buf;
	f->size = size;
	return (0);
}

/* Take bytes up to the end of the next line; see protocol.h. */
enum protocol_frame
protocol_framer_feed(struct protocol_framer *f, const char **data,
    size_t *len, const char **line, size_t *linelen)
{
	const char	*nl;
	size_t		 n, take;

	if (f->done) {
		f->done = false;
		f->len = 0;
		if (f->size > FRAMER_KEEP) {
			free(f->buf);
			f->buf = NULL;
			f->size = 0;
		}
	}

	while (*len > 0) {
		nl = memchr(*data, '\n', *len);
		n = nl != NULL ? (size_t)(nl - *data) : *len;
		take = n + (nl != NULL ? 1 : 0);

		if (f->skipping) {
			*data += take;
			*len -= take;
			if (nl != NULL)
				f->skipping = false;
			continue;
		}

		/* The newline counts towards the maximum. */
		if (f->len + n > f->max - 1) {
			*data += take;
			*len -= take;
			f->len = 0;
			f->skipping = (nl == NULL);
			return (PROTOCOL_FRAME_TOO_LONG);
		}

		/* One byte more for the NUL the caller may rely on. */
		if (framer_reserve(f, f->len + n + 1) == -1)
			return (PROTOCOL_FRAME_NOMEM);
		memcpy(f->buf + f->len, *data, n);
		f->len += n;
		*data += take;
		*len -= take;

		if (nl != NULL) {
			f->buf[f->len] = '\0';
			f->done = true;
			*line = f->buf;
			*linelen = f->len;
			return (PROTOCOL_FRAME_LINE);
		}
	}
	return (PROTOCOL_FRAME_MORE);
}

/* Parse a whole line as one JSON object and nothing after it but blanks. */
struct json_object *
protocol_decode(const char *line, size_t len, const char **code,
    const char **msg)
{
	struct json_tokener	*tok;
	struct json_object	*obj;
	enum json_tokener_error	 jerr;
	size_t			 end;

	*code = PROTOCOL_E_MALFORMED;
	if (len == 0) {
		*msg = "empty message";
		return (NULL);
	}
	/* json-c stops at a NUL and would take the bytes before it. */
	if (memchr(line, '\0', len) != NULL) {
		*msg = "message contains a NUL byte";
		return (NULL);
	}
	if ((tok = json_tokener_new_ex(DECODE_DEPTH)) == NULL) {
		*msg = "out of memory";
		return (NULL);
	}
	json_tokener_set_flags(tok,
	    JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, line, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);

	if (obj == NULL) {
		if (jerr == json_tokener_continue)
			*msg = "incomplete JSON";
		else
			*msg = json_tokener_error_desc(jerr);
		return (NULL);
	}
	while (end < len && (line[end] == ' ' || line[end] == '\t' ||
	    line[end] == '\r'))
		end++;
	if (end != len) {
		json_object_put(obj);
		*msg = "trailing characters after the JSON object";
		return (NULL);
	}
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		*msg = "message is not a JSON object";
		return (NULL);
	}
	return (obj);
}

/* Look up key; true when it is present, *val set, and of type want. */
static bool
field_get(struct json_object *obj, const char *key, json_type want,
    struct json_object **val)
{
	if (!json_object_object_get_ex(obj, key, val))
		return (false);
	return (json_object_is_type(*val, want));
}

/*
 * The "v" check shared by both directions; NULL when fine, else the code.
 * Version comes first so a newer peer's other fields never read as malformed.
 */
static const char *
check_version(struct json_object *obj, const char *self, const char **msg)
{
	struct json_object	*v;
	int64_t			 version;

	if (!json_object_is_type(obj, json_type_object)) {
		*msg = "message is not a JSON object";
		return (PROTOCOL_E_MALFORMED);
	}
	if (!json_object_object_get_ex(obj, "v", &v)) {
		*msg = "missing \"v\"";
		return (PROTOCOL_E_MALFORMED);
	}
	if (!json_object_is_type(v, json_type_int)) {
		*msg = "\"v\" is not an integer";
		return (PROTOCOL_E_MALFORMED);
	}
	version = json_object_get_int64(v);
	if (version != PROTOCOL_VERSION) {
		snprintf(check_msg, sizeof check_msg,
		    "protocol version %" PRId64 " is not supported "
		    "(%s speaks %d)", version, self, PROTOCOL_VERSION);
		*msg = check_msg;
		return (PROTOCOL_E_VERSION);
	}
	return (NULL);
}

/* Check the shape of a request; see protocol.h. */
int
protocol_check_request(struct json_object *obj, const char **code,
    const char **msg)
{
	struct json_object	*val;
	size_t			 i, n;

	if ((*code = check_version(obj, "daemon", msg)) != NULL)
		return (-1);

	*code = PROTOCOL_E_MALFORMED;
	if (!json_object_object_get_ex(obj, "cmd", &val)) {
		*msg = "missing \"cmd\"";
		return (-1);
	}
	if ((*msg = check_string(val, "\"cmd\"")) != NULL)
		return (-1);
	if (json_object_object_get_ex(obj, "args", &val)) {
		if (!json_object_is_type(val, json_type_array)) {
			*msg = "\"args\" is not an array";
			return (-1);
		}
		n = json_object_array_length(val);
		if (n > PROTOCOL_MAX_ARGS) {
			snprintf(check_msg, sizeof check_msg,
			    "\"args\" has more than %d entries",
			    PROTOCOL_MAX_ARGS);
			*msg = check_msg;
			return (-1);
		}
		for (i = 0; i < n; i++) {
			if ((*msg = check_string(json_object_array_get_idx(val,
			    i), "an entry of \"args\"")) != NULL)
				return (-1);
		}
	}
	if (json_object_object_get_ex(obj, "wait", &val) &&
	    !json_object_is_type(val, json_type_boolean)) {
		*msg = "\"wait\" is not a boolean";
		return (-1);
	}
	if (json_object_object_get_ex(obj, "usage", &val) &&
	    !json_object_is_type(val, json_type_boolean)) {
		*msg = "\"usage\" is not a boolean";
		return (-1);
	}
	*code = NULL;
	*msg = NULL;
	return (0);
}

/*
 * Why val is not a string a request may carry, or NULL when it is one.  C
 * reads a string only up to its first NUL, so "a\u0000evil" would name
 * "a": such a string is refused outright.
 */
static const char *
check_string(struct json_object *val, const char *what)
{
	if (!json_object_is_type(val, json_type_string)) {
		snprintf(check_msg, sizeof check_msg, "%s is not a string",
		    what);
		return (check_msg);
	}
	if (strlen(json_object_get_string(val)) !=
	    (size_t)json_object_get_string_len(val)) {
		snprintf(check_msg, sizeof check_msg, "%s holds a NUL character",
		    what);
		return (check_msg);
	}
	return (NULL);
}

/*
 * Whether the JSON text holds a \u0000 escape in any string.  json-c cuts
 * an object's keys at a NUL without a word, so a key cannot be checked once
 * parsed: the text is, escape by escape ("\\u0000" is a backslash and
 * the letters u0000, not a NUL).
 */
static bool
has_nul_escape(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i + 1 < len; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] == 'u' && i + 5 < len &&
		    memcmp(s + i + 2, "0000", 4) == 0)
			return (true);
		i++;	/* an escaped character starts no escape */
	}
	return (false);
}

/* Decode and check one request line; see protocol.h. */
struct json_object *
protocol_decode_request(const char *line, size_t len, const char **code,
    const char **msg)
{
	struct json_object	*req;

	if (has_nul_escape(line, len)) {
		*code = PROTOCOL_E_MALFORMED;
		*msg = "request holds a NUL character (\\u0000)";
		return (NULL);
	}
	if ((req = protocol_decode(line, len, code, msg)) == NULL)
		return (NULL);
	if (protocol_check_request(req, code, msg) == -1) {
		json_object_put(req);
		return (NULL);
	}
	return (req);
}

/* Check the shape of a message from the daemon; see protocol.h. */
enum protocol_message
protocol_check_reply(struct json_object *obj, const char **code,
    const char **msg)
{
	struct json_object	*val;

	if ((*code = check_version(obj, "client", msg)) != NULL)
		return (PROTOCOL_MSG_INVALID);

	*code = PROTOCOL_E_MALFORMED;
	if (json_object_object_get_ex(obj, "progress", &val)) {
		if (!json_object_is_type(val, json_type_object)) {
			*msg = "\"progress\" is not an object";
			return (PROTOCOL_MSG_INVALID);
		}
		*code = NULL;
		*msg = NULL;
		return (PROTOCOL_MSG_PROGRESS);
	}
	if (!field_get(obj, "ok", json_type_boolean, &val)) {
		*msg = "\"ok\" is missing or not a boolean";
		return (PROTOCOL_MSG_INVALID);
	}
	if (!json_object_get_boolean(val)) {
		if (!field_get(obj, "code", json_type_string, &val)) {
			*msg = "error reply without a \"code\" string";
			return (PROTOCOL_MSG_INVALID);
		}
		if (!field_get(obj, "error", json_type_string, &val)) {
			*msg = "error reply without an \"error\" string";
			return (PROTOCOL_MSG_INVALID);
		}
	}
	*code = NULL;
	*msg = NULL;
	return (PROTOCOL_MSG_REPLY);
}

/* Encode obj behind a leading "v" as one newline-ended frame. */
char *
protocol_encode(struct json_object *obj, size_t *len)
{
	struct json_object	*out;
	const char		*s;
	size_t			 n;
	char			*frame = NULL;

	if (!json_object_is_type(obj, json_type_object))
		return (NULL);
	/*
	 * json-c writes doubles with 17 digits, so 725.4 would travel as
	 * 725.39999999999998; 15 digits are exact for any decimal we send.
	 */
	if (!encode_ready) {
		json_c_set_serialization_double_format("%.15g",
		    JSON_C_OPTION_GLOBAL);
		encode_ready = true;
	}
	if ((out = json_object_new_object()) == NULL)
		return (NULL);
	/* A fresh object puts "v" first, where a reader of a trace looks. */
	if (json_object_object_add(out, "v",
	    json_object_new_int(PROTOCOL_VERSION)) != 0)
		goto out;
	json_object_object_foreach(obj, key, val) {
		if (strcmp(key, "v") == 0)
			continue;
		if (json_object_object_add(out, key, json_object_get(val)) != 0)
			goto out;
	}
	s = json_object_to_json_string_length(out,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (s == NULL || (frame = malloc(n + 2)) == NULL)
		goto out;
	memcpy(frame, s, n);
	frame[n] = '\n';
	frame[n + 1] = '\0';
	*len = n + 1;
out:
	json_object_put(out);
	return (frame);
}

/* Room for len more bytes (and a NUL); false when out of memory. */
static bool
text_reserve(struct protocol_text *t, size_t len)
{
	size_t	 cap;
	char	*s;

	if (t->failed)
		return (false);
	if (t->n + len + 1 <= t->cap)
		return (true);
	for (cap = t->cap ? t->cap : 256; cap < t->n + len + 1; cap *= 2)
		;
	if ((s = realloc(t->s, cap)) == NULL) {
		t->failed = true;
		return (false);
	}
	t->s = s;
	t->cap = cap;
	return (true);
}

void
protocol_text_raw(struct protocol_text *t, const char *s, size_t len)
{
	if (!text_reserve(t, len))
		return;
	memcpy(t->s + t->n, s, len);
	t->n += len;
	t->s[t->n] = '\0';
}

void
protocol_text_printf(struct protocol_text *t, const char *fmt, ...)
{
	va_list	 ap;
	char	 buf[128];
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof buf) {
		protocol_text_raw(t, buf, (size_t)n);
		return;
	}
	if (!text_reserve(t, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(t->s + t->n, (size_t)n + 1, fmt, ap);
	va_end(ap);
	t->n += (size_t)n;
}

/*
 * json-c's escaping with JSON_C_TO_STRING_NOSLASHESCAPE: the two-character
 * escapes it knows, \u00xx for the other control characters, every other
 * byte as it is.
 */
void
protocol_text_string(struct protocol_text *t, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char	*run = s;

	protocol_text_raw(t, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char	 c = (unsigned char)*s;
		char		 esc[7] = { '\\', 0 };
		size_t		 len = 2;

		switch (c) {
		case '\b': esc[1] = 'b'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\f': esc[1] = 'f'; break;
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		default:
			if (c >= ' ')
				continue;
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			len = 6;
		}
		protocol_text_raw(t, run, (size_t)(s - run));
		protocol_text_raw(t, esc, len);
		run = s + 1;
	}
	protocol_text_raw(t, run, (size_t)(s - run));
	protocol_text_raw(t, "\"", 1);
}

/* "%.15g", with ".0" when that looks like an integer, as json-c does. */
void
protocol_text_double(struct protocol_text *t, double d)
{
	char	 buf[64], *comma;
	int	 n;

	n = snprintf(buf, sizeof buf, "%.15g", d);
	if (n < 0 || (size_t)n >= sizeof buf - 2)
		return;
	if ((comma = strchr(buf, ',')) != NULL)
		*comma = '.';
	if ((buf[0] >= '0' && buf[0] <= '9') || (buf[0] == '-' &&
	    buf[1] >= '0' && buf[1] <= '9'))
		if (strchr(buf, '.') == NULL && strchr(buf, 'e') == NULL)
			strcat(buf, ".0");
	protocol_text_raw(t, buf, strlen(buf));
}

void
protocol_text_free(struct protocol_text *t)
{
	free(t->s);
	memset(t, 0, sizeof *t);
}

/* A success reply for the caller to fill. */
struct json_object *
protocol_ok(void)
{
	struct json_object	*r;

	if ((r = json_object_new_object()) == NULL)
		return (NULL);
	json_object_object_add(r, "ok", json_object_new_boolean(1));
	return (r);
}

/* An error reply with a formatted message. */
struct json_object *
protocol_error(const char *code, const char *fmt, ...)
{
	struct json_object	*r;
	va_list			 ap;
	char			 msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);

	if ((r = json_object_new_object()) == NULL)
		return (NULL);
	json_object_object_add(r, "ok", json_object_new_boolean(0));
	json_object_object_add(r, "code", json_object_new_string(code));
	json_object_object_add(r, "error", json_object_new_string(msg));
	return (r);
}

/* A heap copy of s; strdup is not C11, and this file builds for Windows too. */
static char *
copy_string(const char *s)
{
	size_t	 n = strlen(s) + 1;
	char	*copy;

	if ((copy = malloc(n)) != NULL)
		memcpy(copy, s, n);
	return (copy);
}

/* dir + "/" + name as a heap string (POSIX paths only). */
static __attribute__((unused)) char *
path_join(const char *dir, const char *name)
{
	size_t	 n;
	char	*s;

	n = strlen(dir) + 1 + strlen(name) + 1;
	if ((s = malloc(n)) != NULL)
		snprintf(s, n, "%s/%s", dir, name);
	return (s);
}

/* This user's private folder under /tmp, for want of a runtime dir. */
char *
protocol_private_dir(void)
{
#ifdef _WIN32
	return (NULL);
#else
	char	dir[64];

	snprintf(dir, sizeof dir, "/tmp/safeexitd-%lu",
	    (unsigned long)geteuid());
	return (copy_string(dir));
#endif
}

/* Where daemon and client meet when neither -s nor the config says. */
char *
protocol_default_socket(void)
{
#ifdef _WIN32
	return (copy_string("\\\\.\\pipe\\safeexitd"));
#else
	const char	*xdg;
	char		*dir, *path;

	if (geteuid() == 0)
		return (copy_string("/run/safeexitd.sock"));
	/* Only an absolute runtime dir: a relative one would follow the cwd. */
	xdg = getenv("XDG_RUNTIME_DIR");
	if (xdg != NULL && xdg[0] == '/')
		return (path_join(xdg, "safeexitd.sock"));
	if ((dir = protocol_private_dir()) == NULL)
		return (NULL);
	path = path_join(dir, "safeexitd.sock");
	free(dir);
	return (path);
#endif
}
