/*
 * The control protocol shared by safeexitd and safeexitctl: newline-framed
 * JSON objects with a version (docs/PROTOCOL.md describes the messages).
 * Nothing here touches a descriptor, so the same code frames a Unix socket
 * on POSIX and a named pipe on Windows.
 */
#ifndef SAFEEXIT_PROTOCOL_H
#define SAFEEXIT_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

#define PROTOCOL_VERSION	1

/* The longest request frame, newline included. */
#define PROTOCOL_MAX_FRAME	65536

/*
 * The longest reply frame the client accepts: a status of many programs may
 * outgrow a request, and the daemon's replies are bounded by its config.
 */
#define PROTOCOL_MAX_REPLY	(16 * 1024 * 1024)

/* Most entries of a request's "args". */
#define PROTOCOL_MAX_ARGS	1024

/* The "code" of an error reply. */
#define PROTOCOL_E_VERSION		"version"
#define PROTOCOL_E_MALFORMED		"malformed"
#define PROTOCOL_E_TOO_LONG		"too_long"
#define PROTOCOL_E_UNKNOWN_COMMAND	"unknown_command"
#define PROTOCOL_E_BAD_ARGS		"bad_args"
#define PROTOCOL_E_PERMISSION		"permission"
#define PROTOCOL_E_BUSY			"busy"
#define PROTOCOL_E_FAILED		"failed"

/*
 * An incremental line splitter.  Bytes go in as they arrive; complete lines
 * come out one at a time.  Its buffer grows only as far as the longest line
 * seen, and never past the maximum.
 */
struct protocol_framer {
	char	*buf;
	size_t	 len;		/* bytes of the current line so far */
	size_t	 size;		/* allocated */
	size_t	 max;		/* longest frame, newline included */
	bool	 skipping;	/* dropping the rest of a line that was too long */
	bool	 done;		/* buf holds a line already returned */
};

enum protocol_frame {
	PROTOCOL_FRAME_MORE,	/* every byte consumed, no complete line */
	PROTOCOL_FRAME_LINE,	/* a line is ready */
	PROTOCOL_FRAME_TOO_LONG, /* a line outgrew max; its rest is skipped */
	PROTOCOL_FRAME_NOMEM,
};

void	protocol_framer_init(struct protocol_framer *f, size_t max);
void	protocol_framer_free(struct protocol_framer *f);
/* Whether part of a line is buffered (EOF now would cut a frame). */
bool	protocol_framer_pending(const struct protocol_framer *f);

/*
 * Consume bytes from *data (advancing it and decreasing *len) up to the end
 * of the next line.  On PROTOCOL_FRAME_LINE, *line is that line without its
 * newline, NUL-terminated, valid until the next call; bytes after it are left
 * in *data.  PROTOCOL_FRAME_TOO_LONG is returned once per oversized line.
 */
enum protocol_frame protocol_framer_feed(struct protocol_framer *f,
	    const char **data, size_t *len, const char **line, size_t *linelen);

/*
 * Parse one line into a JSON object.  NULL on failure, with *code set to
 * PROTOCOL_E_MALFORMED and *msg to a static description.
 */
struct json_object *protocol_decode(const char *line, size_t len,
	    const char **code, const char **msg);

/*
 * Check that obj is a request this version understands: an object with "v"
 * an integer equal to PROTOCOL_VERSION, "cmd" a string, "args" absent or an
 * array of at most PROTOCOL_MAX_ARGS strings, "wait" absent or a boolean.
 * No string may hold a NUL character.
 * Returns 0, or -1 with *code and *msg set; *msg may point to a static buffer
 * that the next call overwrites.
 */
int	protocol_check_request(struct json_object *obj, const char **code,
	    const char **msg);

/*
 * What the daemon does with one request line: refuse a \u0000 anywhere (in
 * a key too, which json-c would cut short unseen), then protocol_decode()
 * and protocol_check_request().  The request, or NULL with *code and *msg
 * set as those two set them.
 */
struct json_object *protocol_decode_request(const char *line, size_t len,
	    const char **code, const char **msg);

enum protocol_message {
	PROTOCOL_MSG_INVALID = -1,
	PROTOCOL_MSG_REPLY,	/* "ok" true, or false with "code" and "error" */
	PROTOCOL_MSG_PROGRESS,	/* "progress" an object */
};

/*
 * Check a message from the daemon.  Returns what it is, or
 * PROTOCOL_MSG_INVALID with *code and *msg set (as for requests).
 */
enum protocol_message protocol_check_reply(struct json_object *obj,
	    const char **code, const char **msg);

/*
 * Encode obj as one frame: "v" first, the rest of obj, compact, with the
 * trailing newline.  Returns a heap string and its length in *len, or NULL
 * when out of memory.  obj is not changed and still belongs to the caller.
 */
char	*protocol_encode(struct json_object *obj, size_t *len);

/*
 * A frame written as text, for replies too large to build as a json-c tree
 * first (status of thousands of programs).  The protocol_text_* calls write
 * values exactly as protocol_encode would; they never fail, but set failed
 * when out of memory, and the caller then drops the text.
 */
struct protocol_text {
	char	*s;
	size_t	 n, cap;
	bool	 failed;
};

void	protocol_text_raw(struct protocol_text *t, const char *s, size_t len);
void	protocol_text_printf(struct protocol_text *t, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* s as a JSON string, escaped the way json-c escapes it. */
void	protocol_text_string(struct protocol_text *t, const char *s);
/* d as protocol_encode writes a double (15 significant digits). */
void	protocol_text_double(struct protocol_text *t, double d);
void	protocol_text_free(struct protocol_text *t);

/* A new {"ok":true} reply to add fields to. */
struct json_object *protocol_ok(void);
/* A new {"ok":false,"code":code,"error":message} reply. */
struct json_object *protocol_error(const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * The default control endpoint, as a heap string: "/run/safeexitd.sock" for
 * root, else "$XDG_RUNTIME_DIR/safeexitd.sock", else
 * "/tmp/safeexitd-UID/safeexitd.sock" (on Windows "\\.\pipe\safeexitd").
 * The daemon creates that /tmp folder mode 0700 and refuses one that another
 * user owns or others may enter.
 */
char	*protocol_default_socket(void);

/*
 * The /tmp folder of the last fallback above for this user, as a heap
 * string, or NULL where there is none (Windows).
 */
char	*protocol_private_dir(void);

#endif
