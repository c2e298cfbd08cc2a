/*
 * The control socket: creates it with its final mode before anyone can
 * connect, checks every peer's credentials, bounds every client in count,
 * memory and time, splits requests into frames and hands each one, checked,
 * to requests.c.  A bad client costs its own connection and nothing else.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <json-c/json.h>

#include "control.h"
#include "log.h"
#include "protocol.h"
#include "requests.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS	59
#endif

/*
 * Each client holds a descriptor and at most about 150 KiB of buffers (a
 * partial request, read-ahead, unread replies): 1024 bounds what clients can
 * take from the daemon, and one user (a runaway script) can take at most
 * half of it, so root can always get in.
 */
#define CONTROL_MAX_CONNS	1024
#define CONTROL_MAX_PER_UID	512

/* A client gets this long to send a whole request, and to read a reply. */
#define CONTROL_IDLE_SECS	30
#define CONTROL_WRITE_SECS	30

/* How long to stop accepting when out of descriptors. */
#define CONTROL_PAUSE_SECS	1

/*
 * Descriptors clients may never take: a start needs three (the exec report
 * pipe, /dev/null), a stop_command as many, the state file one, a reload
 * the config and its includes.  Without them a program that dies while
 * clients fill the table could not be started again.
 */
#define CONTROL_FD_RESERVE	16

/*
 * Input is read at most this far ahead of the framer, so a client that
 * floods while its request runs fills a small buffer and then the kernel's.
 */
#define CONTROL_READ_HIGH	16384

/*
 * Past this much unread output, progress (advisory) is dropped and no
 * further request is taken until the client reads.
 */
#define CONTROL_OUTPUT_MAX	65536

/* Refused clients kept open briefly, and for how long at most. */
#define CONTROL_MAX_LINGER	64
#define CONTROL_LINGER_SECS	1

/* Accepts per wake-up, so a connection storm cannot starve programs. */
#define CONTROL_ACCEPT_BATCH	64

struct control_conn {
	TAILQ_ENTRY(control_conn) entry;
	struct bufferevent	*bev;
	int			 fd;
	uid_t			 uid;
	gid_t			 gid;
	pid_t			 pid;
	struct protocol_framer	 framer;
	struct event		*idle;		/* no complete request in time */
	struct event		*resume;	/* continue outside callers' frames */
	bool			 busy;		/* a request awaits its reply */
	bool			 processing;	/* inside conn_process */
	bool			 close_after;	/* close once the reply is out */
	bool			 closing;	/* read nothing more; free when flushed */
	bool			 read_eof;	/* the peer shut its writing side */
};

TAILQ_HEAD(control_conns, control_conn);

static struct event_base	*control_base;
static struct control_conns	 control_conns =
    TAILQ_HEAD_INITIALIZER(control_conns);
static unsigned			 control_nconns;
static int			 control_listen_fd = -1;
static struct event		*control_accept_ev;
static struct event		*control_pause_ev;
static bool			 control_pause_logged;
static unsigned			 control_nlinger;
static char			*control_path;		/* unlinked at shutdown */
static bool			 control_has_group;
static gid_t			 control_gid;
static bool			 control_has_owner;
static uid_t			 control_uid;

static int	control_setup(struct event_base *, const struct control_options *);
static int	control_listen(int);
static int	control_group(const char *);
static int	control_owner(const char *);
static int	control_private_dir(const char *);
static int	control_probe(const char *, const struct sockaddr_un *);
static void	control_accept(evutil_socket_t, short, void *);
static void	control_pause(void);
static void	control_unpause(evutil_socket_t, short, void *);
static bool	control_fds_low(int);
static bool	control_allowed(int, uid_t, gid_t);
static bool	control_in_group(int, uid_t, gid_t);
static void	control_refuse(int, const char *, const char *);
static void	control_refuse_now(int, const char *, const char *);
static void	control_refuse_send(int, const char *, const char *);
static void	control_linger_done(evutil_socket_t, short, void *);
static unsigned	control_count_uid(uid_t);

static struct control_conn *conn_new(int, uid_t, gid_t, pid_t);
static void	conn_free(struct control_conn *);
static void	conn_drop(struct control_conn *);
static void	conn_process(struct control_conn *);
static void	conn_request(struct control_conn *, const char *, size_t);
static void	conn_fail(struct control_conn *, const char *, const char *);
static int	conn_send(struct control_conn *, struct json_object *);
static void	conn_replied(struct control_conn *);
static void	conn_set_closing(struct control_conn *);
static void	conn_arm_idle(struct control_conn *);
static void	conn_schedule(struct control_conn *);
static bool	conn_peer_gone(struct control_conn *);
static void	conn_read(struct bufferevent *, void *);
static void	conn_write(struct bufferevent *, void *);
static void	conn_event(struct bufferevent *, short, void *);
static void	conn_idle(evutil_socket_t, short, void *);
static void	conn_resume(evutil_socket_t, short, void *);

/* Create the socket at opts->path, safe from the moment it has a name. */
int
control_init(struct event_base *base, const struct control_options *opts)
{
	struct sockaddr_un	 sun;
	mode_t			 mask;
	int			 fd = -1, bound = 0;

	if (control_setup(base, opts) == -1)
		return (-1);

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(opts->path) >= sizeof sun.sun_path) {
		log_warnx("socket path too long: %s", opts->path);
		goto fail;
	}
	strncpy(sun.sun_path, opts->path, sizeof sun.sun_path - 1);

	if (control_private_dir(opts->path) == -1)
		goto fail;
	if (control_probe(opts->path, &sun) == -1)
		goto fail;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		log_warn("%s: socket", __func__);
		goto fail;
	}

	/*
	 * Owner-only at bind, then the group, then the real mode; nobody can
	 * connect before listen() anyway, so no moment is ever wider.
	 */
	mask = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == 0)
		bound = 1;
	umask(mask);
	if (!bound) {
		if (errno == EADDRINUSE)
			log_warnx("%s: in use by another daemon starting now",
			    opts->path);
		else
			log_warn("bind %s", opts->path);
		goto fail;
	}
	if ((control_has_group || control_has_owner) && chown(opts->path,
	    control_has_owner ? control_uid : (uid_t)-1,
	    control_has_group ? control_gid : (gid_t)-1) == -1) {
		log_warn("chown %s", opts->path);
		goto fail;
	}
	if (chmod(opts->path, opts->mode != 0 ? opts->mode :
	    control_has_group ? 0660 : 0600) == -1) {
		log_warn("chmod %s", opts->path);
		goto fail;
	}
	if (listen(fd, SOMAXCONN) == -1) {
		log_warn("listen %s", opts->path);
		goto fail;
	}
	if (control_listen(fd) == -1)
		goto fail;
	log_debug("listening on %s", opts->path);
	return (0);

fail:
	if (bound)
		unlink(opts->path);
	if (fd != -1)
		close(fd);
	free(control_path);
	control_path = NULL;
	return (-1);
}

/* Take over a socket that a previous image of the daemon listened on. */
int
control_init_fd(struct event_base *base, int fd,
    const struct control_options *opts)
{
	int	flags;

	if (control_setup(base, opts) == -1)
		return (-1);
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
	    (flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
		log_warn("%s: fcntl", __func__);
		free(control_path);
		control_path = NULL;
		return (-1);
	}
	if (control_listen(fd) == -1) {
		free(control_path);
		control_path = NULL;
		return (-1);
	}
	log_debug("listening on %s (inherited fd %d)", opts->path, fd);
	return (0);
}

/* Hand the listening socket over for exec; see control.h. */
int
control_release_fd(void)
{
	int	fd = control_listen_fd;

	if (fd == -1)
		return (-1);
	event_free(control_accept_ev);
	event_free(control_pause_ev);
	control_accept_ev = control_pause_ev = NULL;
	if (fcntl(fd, F_SETFD, 0) == -1)
		log_warn("%s: fcntl", __func__);
	control_listen_fd = -1;
	free(control_path);
	control_path = NULL;
	return (fd);
}

/* Close everything; programs are not touched. */
void
control_shutdown(void)
{
	struct control_conn	*c;

	control_flush();
	while ((c = TAILQ_FIRST(&control_conns)) != NULL)
		conn_drop(c);

	if (control_listen_fd != -1) {
		event_free(control_accept_ev);
		event_free(control_pause_ev);
		control_accept_ev = control_pause_ev = NULL;
		close(control_listen_fd);
		control_listen_fd = -1;
	}
	if (control_path != NULL) {
		if (unlink(control_path) == -1 && errno != ENOENT)
			log_warn("unlink %s", control_path);
		free(control_path);
		control_path = NULL;
	}
}

/* The listening descriptor. */
int
control_fd(void)
{
	return (control_listen_fd);
}

/* Push queued output into the kernel now, without waiting for it. */
void
control_flush(void)
{
	struct control_conn	*c;
	struct evbuffer		*out;

	TAILQ_FOREACH(c, &control_conns, entry) {
		out = bufferevent_get_output(c->bev);
		/* A socket bufferevent freezes the front of its output buffer. */
		evbuffer_unfreeze(out, 1);
		while (evbuffer_get_length(out) > 0) {
			if (evbuffer_write(out, c->fd) <= 0)
				break;
		}
		evbuffer_freeze(out, 1);
	}
}

/* Answer the current request and let the next one in. */
void
control_reply(struct control_conn *c, struct json_object *reply)
{
	if (!c->busy)
		log_warnx("%s: reply without a request (uid %lu)", __func__,
		    (unsigned long)c->uid);
	conn_send(c, reply);
	json_object_put(reply);
	conn_replied(c);
}

/* Answer the current request with an encoded frame. */
void
control_reply_frame(struct control_conn *c, const char *frame, size_t len)
{
	if (!c->busy)
		log_warnx("%s: reply without a request (uid %lu)", __func__,
		    (unsigned long)c->uid);
	if (bufferevent_write(c->bev, frame, len) == -1)
		log_warnx("%s: cannot queue the reply", __func__);
	conn_replied(c);
}

/* A reply is queued: the connection may take its next request. */
static void
conn_replied(struct control_conn *c)
{
	c->busy = false;

	if (c->close_after) {
		conn_set_closing(c);
		return;
	}
	conn_arm_idle(c);
	/* Buffered input waits for the loop: requests.c may be mid-iteration. */
	conn_schedule(c);
}

/* Tell a waiting client how far its request got. */
void
control_progress(struct control_conn *c, struct json_object *progress)
{
	struct json_object	*msg;

	if (progress == NULL)
		return;
	if (!c->busy || c->closing ||
	    evbuffer_get_length(bufferevent_get_output(c->bev)) >
	    CONTROL_OUTPUT_MAX) {
		json_object_put(progress);
		return;
	}
	if (json_object_object_get_ex(progress, "progress", NULL))
		msg = progress;
	else {
		if ((msg = json_object_new_object()) == NULL) {
			json_object_put(progress);
			return;
		}
		json_object_object_add(msg, "progress", progress);
	}
	conn_send(c, msg);
	json_object_put(msg);
}

/* Close once the reply is out. */
void
control_close_after_reply(struct control_conn *c)
{
	c->close_after = true;
	if (!c->busy)
		conn_set_closing(c);
}

/* The peer's user. */
uid_t
control_conn_uid(const struct control_conn *c)
{
	return (c->uid);
}

/* What control_init and control_init_fd share: the group, the base, SIGPIPE. */
static int
control_setup(struct event_base *base, const struct control_options *opts)
{
	struct sigaction	sa;

	if (control_listen_fd != -1) {
		log_warnx("%s: already listening", __func__);
		return (-1);
	}
	if (control_group(opts->group) == -1 ||
	    control_owner(opts->owner) == -1)
		return (-1);

	/* Writing to a client that left must be an error, not death. */
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = SIG_IGN;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGPIPE, &sa, NULL);
	}

	control_base = base;
	free(control_path);
	if ((control_path = strdup(opts->path)) == NULL) {
		log_warn("%s: strdup", __func__);
		return (-1);
	}
	return (0);
}

/* Start accepting on fd. */
static int
control_listen(int fd)
{
	control_accept_ev = event_new(control_base, fd, EV_READ | EV_PERSIST,
	    control_accept, NULL);
	control_pause_ev = evtimer_new(control_base, control_unpause, NULL);
	if (control_accept_ev == NULL || control_pause_ev == NULL ||
	    event_add(control_accept_ev, NULL) == -1) {
		log_warnx("%s: cannot add events", __func__);
		if (control_accept_ev != NULL)
			event_free(control_accept_ev);
		if (control_pause_ev != NULL)
			event_free(control_pause_ev);
		control_accept_ev = control_pause_ev = NULL;
		return (-1);
	}
	control_listen_fd = fd;
	control_pause_logged = false;
	return (0);
}

/* Resolve socket_group once, so an unknown name fails at start-up. */
static int
control_group(const char *name)
{
	struct group	*gr;
	char		*end;
	unsigned long	 id;

	control_has_group = false;
	if (name == NULL || *name == '\0')
		return (0);
	errno = 0;
	if ((gr = getgrnam(name)) != NULL)
		control_gid = gr->gr_gid;
	else {
		/* A numeric group without a name is still a group. */
		id = strtoul(name, &end, 10);
		if (*end != '\0' || end == name || id > (gid_t)-2) {
			log_warnx("socket_group: unknown group %s", name);
			return (-1);
		}
		control_gid = (gid_t)id;
	}
	control_has_group = true;
	return (0);
}

/* Resolve the socket's owner once, so an unknown user fails at start-up. */
static int
control_owner(const char *name)
{
	struct passwd	*pw;
	char		*end;
	unsigned long	 id;

	control_has_owner = false;
	if (name == NULL || *name == '\0')
		return (0);
	if ((pw = getpwnam(name)) != NULL)
		control_uid = pw->pw_uid;
	else {
		id = strtoul(name, &end, 10);
		if (*end != '\0' || end == name || id > (uid_t)-2) {
			log_warnx("socket owner: unknown user %s", name);
			return (-1);
		}
		control_uid = (uid_t)id;
	}
	control_has_owner = true;
	return (0);
}

/*
 * Create and check the /tmp fallback folder: /tmp is everyone's, so a
 * folder there that another user made could be theirs to swap.
 */
static int
control_private_dir(const char *path)
{
	struct stat	 st;
	char		*dir;
	size_t		 n;
	int		 ret = -1;

	if ((dir = protocol_private_dir()) == NULL)
		return (0);
	n = strlen(dir);
	if (strncmp(path, dir, n) != 0 || path[n] != '/' ||
	    strchr(path + n + 1, '/') != NULL) {
		free(dir);
		return (0);
	}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		log_warn("mkdir %s", dir);
		goto out;
	}
	if (lstat(dir, &st) == -1) {
		log_warn("%s", dir);
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_warnx("refusing %s: not a directory", dir);
		goto out;
	}
	if (st.st_uid != geteuid()) {
		log_warnx("refusing %s: owned by uid %lu, not %lu", dir,
		    (unsigned long)st.st_uid, (unsigned long)geteuid());
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		log_warnx("refusing %s: mode 0%03o, want 0700", dir,
		    (unsigned)(st.st_mode & 0777));
		goto out;
	}
	ret = 0;
out:
	free(dir);
	return (ret);
}

/*
 * Decide whether the path is free: absent, or a socket nobody listens on
 * (then removed).  A socket that answers belongs to a live daemon.
 */
static int
control_probe(const char *path, const struct sockaddr_un *sun)
{
	struct stat	st;
	struct ucred	cred;
	socklen_t	len = sizeof cred;
	int		fd, ret = -1;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return (0);
		log_warn("%s", path);
		return (-1);
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("%s exists and is not a socket", path);
		return (-1);
	}

	/* Non-blocking: a full backlog must not hang start-up. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		log_warn("%s: socket", __func__);
		return (-1);
	}
	if (connect(fd, (const struct sockaddr *)sun, sizeof *sun) == 0) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
			log_warnx("already running, pid %ld (%s)",
			    (long)cred.pid, path);
		else
			log_warnx("already running (%s)", path);
	} else if (errno == EAGAIN || errno == EINPROGRESS)
		log_warnx("already running (%s accepts no connections now)",
		    path);
	else if (errno == ECONNREFUSED) {
		if (unlink(path) == -1 && errno != ENOENT)
			log_warn("unlink stale socket %s", path);
		else {
			log_info("removed stale socket %s", path);
			ret = 0;
		}
	} else
		log_warn("connect %s", path);
	close(fd);
	return (ret);
}

/* Accept what is waiting, checking each peer before it costs anything. */
static void
control_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct ucred	cred;
	socklen_t	len;
	int		fd, i;

	for (i = 0; i < CONTROL_ACCEPT_BATCH; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd == -1) {
			switch (errno) {
			case EAGAIN:
#if EWOULDBLOCK != EAGAIN
			case EWOULDBLOCK:
#endif
				return;
			case EINTR:
			case ECONNABORTED:
				continue;
			case EMFILE:
			case ENFILE:
			case ENOBUFS:
			case ENOMEM:
				control_pause();
				return;
			default:
				log_warn("%s: accept", __func__);
				return;
			}
		}
		if (control_fds_low(fd)) {
			control_refuse_now(fd, PROTOCOL_E_BUSY,
			    "the daemon is out of descriptors");
			control_pause();
			return;
		}
		if (control_pause_logged) {
			log_notice("descriptors free: accepting clients again");
			control_pause_logged = false;
		}

		len = sizeof cred;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred,
		    &len) == -1) {
			log_warn("%s: SO_PEERCRED", __func__);
			close(fd);
			continue;
		}
		if (!control_allowed(fd, cred.uid, cred.gid)) {
			log_info("refused client uid %lu pid %ld: not allowed",
			    (unsigned long)cred.uid, (long)cred.pid);
			control_refuse(fd, PROTOCOL_E_PERMISSION,
			    "permission denied");
			continue;
		}
		if (control_nconns >= CONTROL_MAX_CONNS ||
		    control_count_uid(cred.uid) >= CONTROL_MAX_PER_UID) {
			log_info("refused client uid %lu pid %ld: too many "
			    "connections", (unsigned long)cred.uid,
			    (long)cred.pid);
			control_refuse(fd, PROTOCOL_E_BUSY,
			    "too many connections");
			continue;
		}
		conn_new(fd, cred.uid, cred.gid, cred.pid);
	}
}

/*
 * Out of descriptors: the listener would wake again at once, so rest.  Said
 * once until a client gets in again, however long it lasts.
 */
static void
control_pause(void)
{
	struct timeval	tv = { CONTROL_PAUSE_SECS, 0 };

	if (!control_pause_logged) {
		log_warnx("out of descriptors: not accepting clients until "
		    "some are free (%u connected)", control_nconns);
		control_pause_logged = true;
	}
	event_del(control_accept_ev);
	evtimer_add(control_pause_ev, &tv);
}

/* The pause is over: accept again. */
static void
control_unpause(evutil_socket_t fd, short what, void *arg)
{
	if (control_accept_ev != NULL)
		event_add(control_accept_ev, NULL);
}

/*
 * Whether the descriptor just accepted ate into the reserve.  accept()
 * returns the lowest free descriptor, so every one below fd is taken: fd
 * this close to the limit leaves fewer than the reserve free.
 */
static bool
control_fds_low(int fd)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY)
		return (false);
	return ((rlim_t)fd + CONTROL_FD_RESERVE >= rl.rlim_cur);
}

/* Root, the daemon's own user, the socket's owner, or a member of
 * socket_group. */
static bool
control_allowed(int fd, uid_t uid, gid_t gid)
{
	if (uid == 0 || uid == geteuid() ||
	    (control_has_owner && uid == control_uid))
		return (true);
	if (!control_has_group)
		return (false);
	return (control_in_group(fd, uid, gid));
}

/* Whether the peer has socket_group as its group or a supplementary one. */
static bool
control_in_group(int fd, uid_t uid, gid_t gid)
{
	gid_t		 stack[64], *groups = stack;
	socklen_t	 len = sizeof stack;
	struct passwd	*pw;
	int		 n, i;
	bool		 found = false;

	if (gid == control_gid)
		return (true);

	/* The groups the peer had when it connected, as the kernel saw them. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == -1) {
		groups = NULL;
		if (errno == ERANGE && (groups = malloc(len)) != NULL &&
		    getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups,
		    &len) == -1) {
			free(groups);
			groups = NULL;
		}
	}
	if (groups != NULL) {
		for (i = 0; i < (int)(len / sizeof *groups); i++)
			if (groups[i] == control_gid)
				found = true;
		if (groups != stack)
			free(groups);
		return (found);
	}

	/* Older kernels: the group database's view of the user. */
	if ((pw = getpwuid(uid)) == NULL)
		return (false);
	n = 64;
	groups = stack;
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) == -1) {
		if (n <= 64 || (groups = calloc(n, sizeof *groups)) == NULL)
			return (false);
		if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) == -1)
			n = 0;
	}
	for (i = 0; i < n; i++)
		if (groups[i] == control_gid)
			found = true;
	if (groups != stack)
		free(groups);
	return (found);
}

/*
 * Send one error reply to a client that gets no connection, then close it.
 * The socket is fresh, so the short line fits its buffer without waiting.
 * Closing with the client's request unread would reset the connection, and
 * a client still sending would fail: linger briefly to swallow the request.
 */
static void
control_refuse(int fd, const char *code, const char *msg)
{
	struct timeval	tv = { CONTROL_LINGER_SECS, 0 };

	control_refuse_send(fd, code, msg);
	if (control_nlinger < CONTROL_MAX_LINGER &&
	    event_base_once(control_base, fd, EV_READ, control_linger_done,
	    (void *)(intptr_t)fd, &tv) == 0) {
		control_nlinger++;
		return;
	}
	close(fd);
}

/*
 * Refuse without lingering, when descriptors are short: swallow what the
 * client sent already, so the close does not reset the connection before
 * it has read the reply, and close at once.
 */
static void
control_refuse_now(int fd, const char *code, const char *msg)
{
	char	buf[4096];
	int	i;

	control_refuse_send(fd, code, msg);
	for (i = 0; i < 16; i++)
		if (recv(fd, buf, sizeof buf, MSG_DONTWAIT) <= 0)
			break;
	close(fd);
}

/* The one error reply of a refused client, then the end of our side. */
static void
control_refuse_send(int fd, const char *code, const char *msg)
{
	struct json_object	*reply;
	char			*frame;
	size_t			 len;

	if ((reply = protocol_error(code, "%s", msg)) != NULL) {
		if ((frame = protocol_encode(reply, &len)) != NULL) {
			if (send(fd, frame, len, MSG_NOSIGNAL |
			    MSG_DONTWAIT) == -1)
				log_debug("%s: send: %s", __func__,
				    strerror(errno));
			free(frame);
		}
		json_object_put(reply);
	}
	shutdown(fd, SHUT_WR);
}

/* A refused client's request arrived (or it took too long): close it. */
static void
control_linger_done(evutil_socket_t fd, short what, void *arg)
{
	char	buf[4096];
	int	i;

	for (i = 0; i < 16; i++)
		if (recv(fd, buf, sizeof buf, MSG_DONTWAIT) <= 0)
			break;
	close(fd);
	control_nlinger--;
}

/* Connections of one user. */
static unsigned
control_count_uid(uid_t uid)
{
	struct control_conn	*c;
	unsigned		 n = 0;

	TAILQ_FOREACH(c, &control_conns, entry)
		if (c->uid == uid)
			n++;
	return (n);
}

/* Start serving an accepted, allowed client. */
static struct control_conn *
conn_new(int fd, uid_t uid, gid_t gid, pid_t pid)
{
	struct control_conn	*c;
	struct timeval		 wtv = { CONTROL_WRITE_SECS, 0 };

	if ((c = calloc(1, sizeof *c)) == NULL) {
		log_warn("%s: calloc", __func__);
		close(fd);
		return (NULL);
	}
	c->fd = fd;
	c->uid = uid;
	c->gid = gid;
	c->pid = pid;
	protocol_framer_init(&c->framer, PROTOCOL_MAX_FRAME);

	c->bev = bufferevent_socket_new(control_base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->idle = evtimer_new(control_base, conn_idle, c);
	c->resume = event_new(control_base, -1, 0, conn_resume, c);
	if (c->bev == NULL || c->idle == NULL || c->resume == NULL) {
		log_warnx("%s: cannot allocate events", __func__);
		if (c->bev != NULL)
			bufferevent_free(c->bev);
		else
			close(fd);
		if (c->idle != NULL)
			event_free(c->idle);
		if (c->resume != NULL)
			event_free(c->resume);
		free(c);
		return (NULL);
	}
	bufferevent_setcb(c->bev, conn_read, conn_write, conn_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, CONTROL_READ_HIGH);
	bufferevent_set_timeouts(c->bev, NULL, &wtv);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	conn_arm_idle(c);

	TAILQ_INSERT_TAIL(&control_conns, c, entry);
	control_nconns++;
	log_debug("client uid %lu pid %ld connected", (unsigned long)uid,
	    (long)pid);
	return (c);
}

/* Free a connection and its descriptor; any request must be settled. */
static void
conn_free(struct control_conn *c)
{
	TAILQ_REMOVE(&control_conns, c, entry);
	control_nconns--;
	log_debug("client uid %lu pid %ld gone", (unsigned long)c->uid,
	    (long)c->pid);
	event_free(c->idle);
	event_free(c->resume);
	/* libevent closes the fd once it lets go of it, never before. */
	bufferevent_free(c->bev);
	protocol_framer_free(&c->framer);
	free(c);
}

/* The client is gone or given up on: settle its request, then free it. */
static void
conn_drop(struct control_conn *c)
{
	if (c->busy) {
		c->busy = false;
		requests_cancel(c);
	}
	conn_free(c);
}

/*
 * Feed buffered input to the framer until a request starts, the input runs
 * out, or the connection is closing.  A client that sends requests without
 * reading the replies is served only as fast as it reads.
 */
static void
conn_process(struct control_conn *c)
{
	struct evbuffer		*in, *out;
	struct evbuffer_iovec	 v;
	const char		*data, *line;
	size_t			 len, linelen;

	if (c->processing)
		return;
	c->processing = true;
	in = bufferevent_get_input(c->bev);
	out = bufferevent_get_output(c->bev);
	while (!c->busy && !c->closing && evbuffer_get_length(in) > 0 &&
	    evbuffer_get_length(out) < CONTROL_OUTPUT_MAX) {
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		data = v.iov_base;
		len = v.iov_len;
		switch (protocol_framer_feed(&c->framer, &data, &len, &line,
		    &linelen)) {
		case PROTOCOL_FRAME_MORE:
			evbuffer_drain(in, v.iov_len - len);
			break;
		case PROTOCOL_FRAME_LINE:
			/* The line lives in the framer, not in the input. */
			evbuffer_drain(in, v.iov_len - len);
			conn_request(c, line, linelen);
			break;
		case PROTOCOL_FRAME_TOO_LONG:
			evbuffer_drain(in, v.iov_len - len);
			conn_fail(c, PROTOCOL_E_TOO_LONG,
			    "request longer than 65536 bytes");
			break;
		case PROTOCOL_FRAME_NOMEM:
			conn_fail(c, PROTOCOL_E_FAILED, "out of memory");
			break;
		}
	}
	/* The peer said all it will say: finish once nothing is left to do. */
	if (c->read_eof && !c->busy && !c->closing &&
	    evbuffer_get_length(in) == 0)
		conn_set_closing(c);
	c->processing = false;
}

/* Decode and check one line, then hand it to requests.c. */
static void
conn_request(struct control_conn *c, const char *line, size_t len)
{
	struct json_object	*req;
	const char		*code, *msg;

	if ((req = protocol_decode(line, len, &code, &msg)) == NULL) {
		conn_fail(c, code, msg);
		return;
	}
	if (protocol_check_request(req, &code, &msg) == -1) {
		conn_fail(c, code, msg);
		json_object_put(req);
		return;
	}
	c->busy = true;
	evtimer_del(c->idle);
	requests_handle(c, req);
	json_object_put(req);
}

/* A broken request: one error reply, then the connection ends. */
static void
conn_fail(struct control_conn *c, const char *code, const char *msg)
{
	struct json_object	*reply;

	log_info("client uid %lu pid %ld: %s", (unsigned long)c->uid,
	    (long)c->pid, msg);
	if ((reply = protocol_error(code, "%s", msg)) != NULL) {
		conn_send(c, reply);
		json_object_put(reply);
	}
	conn_set_closing(c);
}

/* Queue one message; obj stays the caller's. */
static int
conn_send(struct control_conn *c, struct json_object *obj)
{
	char	*frame;
	size_t	 len;
	int	 ret;

	if (obj == NULL || (frame = protocol_encode(obj, &len)) == NULL) {
		log_warnx("%s: cannot encode a message", __func__);
		return (-1);
	}
	ret = bufferevent_write(c->bev, frame, len);
	free(frame);
	return (ret);
}

/* Stop reading; the connection is freed once its output is flushed. */
static void
conn_set_closing(struct control_conn *c)
{
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	conn_schedule(c);
}

/* Give the client CONTROL_IDLE_SECS for its next whole request. */
static void
conn_arm_idle(struct control_conn *c)
{
	struct timeval	tv = { CONTROL_IDLE_SECS, 0 };

	evtimer_add(c->idle, &tv);
}

/* Run conn_resume from the loop, outside whatever called us. */
static void
conn_schedule(struct control_conn *c)
{
	event_active(c->resume, EV_TIMEOUT, 1);
}

/*
 * Whether the peer closed both directions (not just its writing side, as a
 * client does that sends its request and then waits for the reply).
 */
static bool
conn_peer_gone(struct control_conn *c)
{
	struct pollfd	pfd = { .fd = c->fd, .events = POLLOUT };

	if (poll(&pfd, 1, 0) == -1)
		return (false);
	return ((pfd.revents & (POLLHUP | POLLERR)) != 0);
}

/* Input arrived. */
static void
conn_read(struct bufferevent *bev, void *arg)
{
	conn_process(arg);
}

/* Output drained: a closing connection may go now, or input held back. */
static void
conn_write(struct bufferevent *bev, void *arg)
{
	struct control_conn	*c = arg;

	if (c->closing)
		conn_free(c);
	else
		conn_process(c);
}

/* End of input, an error, or a client that stopped reading. */
static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct control_conn	*c = arg;

	if (what & BEV_EVENT_TIMEOUT) {
		log_info("client uid %lu pid %ld stopped reading; dropped",
		    (unsigned long)c->uid, (long)c->pid);
		conn_drop(c);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		log_debug("client uid %lu pid %ld: %s", (unsigned long)c->uid,
		    (long)c->pid, strerror(EVUTIL_SOCKET_ERROR()));
		conn_drop(c);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		c->read_eof = true;
		if (protocol_framer_pending(&c->framer))
			log_debug("client uid %lu pid %ld: partial request "
			    "at end of input", (unsigned long)c->uid,
			    (long)c->pid);
		if (c->busy && conn_peer_gone(c)) {
			conn_drop(c);
			return;
		}
		conn_process(c);
	}
}

/* No whole request in time: close without a word. */
static void
conn_idle(evutil_socket_t fd, short what, void *arg)
{
	struct control_conn	*c = arg;

	if (c->busy)
		return;
	/* Replies it never read hold its requests back: the same thing. */
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
		log_info("client uid %lu pid %ld stopped reading; dropped",
		    (unsigned long)c->uid, (long)c->pid);
	else
		log_debug("client uid %lu pid %ld idle; closed",
		    (unsigned long)c->uid, (long)c->pid);
	conn_free(c);
}

/* Deferred work: the next buffered request, or a close once flushed. */
static void
conn_resume(evutil_socket_t fd, short what, void *arg)
{
	struct control_conn	*c = arg;

	if (c->closing) {
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
			conn_free(c);
		return;
	}
	conn_process(c);
}
