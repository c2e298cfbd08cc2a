/*
 * The value types of the [eventlistener:NAME] and [fcgi-program:NAME]
 * keys that need checking of their own: the event type names of `events`
 * and the form of a FastCGI `socket`.  Their rows are in config-keys.c.
 */
#include <string.h>

#include "config-load.h"
#include "events.h"

/* sun_path of struct sockaddr_un on Linux, without <sys/un.h> (Windows). */
#define UNIX_PATH_MAX	108

/* A list of event type names (events.h), each one known. */
static int
type_events_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	const char	*bad;
	strv_t		 v;

#ifdef _WIN32
	(void)v;
	(void)bad;
	config_key_error(b, e, "event listeners are not supported on Windows");
	return -1;
#endif
	if (config_type_list.set(b, k, e) == -1)
		return -1;
	v = *CONFIG_FIELD(k, b->obj, strv_t);
	if (v == NULL || v[0] == NULL)
		return config_value_error(b, e, "no event type in");
	if (events_parse(v, &bad) == 0) {
		config_key_error(b, e, "unknown event type %s", bad);
		return -1;
	}
	return 0;
}

/* unix:///ABSOLUTE/PATH or tcp://HOST:PORT. */
static int
type_fcgi_socket_set(struct config_build *b, const struct config_key *k,
    const struct entry *e)
{
	const char	*v = e->value, *colon;

#ifdef _WIN32
	(void)v;
	(void)colon;
	config_key_error(b, e, "FastCGI programs are not supported on Windows");
	return -1;
#endif
	if (strncmp(v, "unix://", 7) == 0) {
		if (v[7] != '/')
			return config_value_error(b, e,
			    "the unix socket path is not absolute:");
		if (strlen(v + 7) >= UNIX_PATH_MAX)
			return config_value_error(b, e,
			    "the unix socket path is too long:");
	} else if (strncmp(v, "tcp://", 6) != 0 ||
	    (colon = strrchr(v + 6, ':')) == NULL || colon == v + 6 ||
	    colon[1] == '\0' || strspn(colon + 1, "0123456789") !=
	    strlen(colon + 1))
		return config_value_error(b, e,
		    "not unix:///PATH or tcp://HOST:PORT:");
	return config_type_string.set(b, k, e);
}

/* Copy and free as the list and string types do. */
static void
type_events_dup(const struct config_key *k, void *obj)
{
	config_type_list.dup(k, obj);
}

static void
type_events_release(const struct config_key *k, void *obj)
{
	config_type_list.release(k, obj);
}

static void
type_fcgi_socket_dup(const struct config_key *k, void *obj)
{
	config_type_string.dup(k, obj);
}

static void
type_fcgi_socket_release(const struct config_key *k, void *obj)
{
	config_type_string.release(k, obj);
}

const struct config_type config_type_events = {
	type_events_set, type_events_dup, type_events_release,
};

const struct config_type config_type_fcgi_socket = {
	type_fcgi_socket_set, type_fcgi_socket_dup, type_fcgi_socket_release,
};
