/*
 * The control endpoint on POSIX, a Unix socket: creates it with its final
 * mode and group before anyone can connect, checks every peer's
 * credentials, keeps descriptors for the daemon and for root, and moves
 * each client's bytes through a bufferevent.  What a connection does with
 * them (framing, requests, replies, limits) is control-conn.c's.  A bad
 * client costs its own connection and nothing else.
 */
#include <sys/types.h>
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
#include "control-conn.h"
#include "log.h"
#include "protocol.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS	59
#endif

/* How long to stop accepting when out of descriptors. */
#define CONTROL_PAUSE_SECS	1

/*
 * Descriptors clients may never take: a start needs three (the exec report
 * pipe, /dev/null), a stop_command as many, the state file one, a reload
 * the config and its includes.  Without them a program that dies while
 * clients fill the table could not be started again.  Past these, the
 * unprivileged also leave CONTROL_PRIV_RESERVE descriptors for root.
 */
#define CONTROL_FD_RESERVE	16

/* Refused clients kept open briefly, and for how long at most. */
#define CONTROL_MAX_LINGER	64
#define CONTROL_LINGER_SECS	1

/* Accepts per wake-up, so a connection storm cannot starve programs. */
#define CONTROL_ACCEPT_BATCH	64

/* A connection's socket and its buffers. */
struct control_link {
	struct control_conn	*c;
	struct bufferevent	*bev;
	int			 fd;
};

static struct event_base	*control_base;
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
static int	control_bind(int, const struct sockaddr_un *, mode_t);
static int	control_fix_group(const char *);
static void	control_accept(evutil_socket_t, short, void *);
static void	control_pause(void);
static void	control_unpause(evutil_socket_t, short, void *);
static bool	control_fds_low(int, int);
static bool	control_privileged(uid_t);
static const char *control_full(int, uid_t);
static bool	control_allowed(int, uid_t, gid_t);
static bool	control_in_group(int, uid_t, gid_t);
static void	control_refuse(int, const char *, const char *);
static void	control_refuse_now(int, const char *, const char *);
static void	control_refuse_send(int, const char *, const char *);
static void	control_linger_done(evutil_socket_t, short, void *);

static struct control_conn *link_new(int, uid_t, pid_t);
static bool	link_peer_gone(struct control_link *);
static void	link_read(struct bufferevent *, void *);
static void	link_write(struct bufferevent *, void *);
static void	link_event(struct bufferevent *, short, void *);

/* Create the socket at opts->path, safe from the moment it has a name. */
int
control_init(struct event_base *base, const struct control_options *opts)
{
	struct sockaddr_un	 sun;
	mode_t			 mode;
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

	mode = opts->mode != 0 ? opts->mode : control_has_group ? 0660 : 0600;
	if (control_bind(fd, &sun, mode) == -1) {
		if (errno == EADDRINUSE)
			log_warnx("%s: in use by another daemon starting now",
			    opts->path);
		else
			log_warn("bind %s", opts->path);
		goto fail;
	}
	bound = 1;
	if (control_has_group && control_fix_group(opts->path) == -1)
		goto fail;
	/* supervisord's chown = USER: the socket is that user's too. */
	if (control_has_owner && fchownat(AT_FDCWD, opts->path, control_uid,
	    (gid_t)-1, AT_SYMLINK_NOFOLLOW) == -1) {
		log_warn("chown %s", opts->path);
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
	control_flush();
	control_conn_drop_all();

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

	for (c = control_conn_first(); c != NULL; c = c->next) {
		if (c->dropped)
			continue;
		out = bufferevent_get_output(c->link->bev);
		/* A socket bufferevent freezes the front of its output buffer. */
		evbuffer_unfreeze(out, 1);
		while (evbuffer_get_length(out) > 0) {
			if (evbuffer_write(out, c->link->fd) <= 0)
				break;
		}
		evbuffer_freeze(out, 1);
	}
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
	control_conn_setup(base);
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

/*
 * Bind the socket born with its final mode (from the umask) and, where the
 * daemon may take that group as its own for a moment, its final group: no
 * chmod() or chown() by path has to follow, which in a folder others may
 * write could be sent elsewhere by a link swapped in between.  Nothing is
 * running but this thread at start-up, so the umask and the effective group
 * change for nobody else.
 */
static int
control_bind(int fd, const struct sockaddr_un *sun, mode_t mode)
{
	mode_t	mask;
	gid_t	egid = getegid();
	bool	switched = false;
	int	ret, saved;

	if (control_has_group && control_gid != egid)
		switched = setegid(control_gid) == 0;
	/*
	 * Linux builds the file's mode from the socket's own inode, less the
	 * umask; other systems may refuse fchmod() on a socket, and the umask
	 * alone then does it.
	 */
	(void)fchmod(fd, mode);
	mask = umask(~mode & 0777);
	ret = bind(fd, (const struct sockaddr *)sun, sizeof *sun);
	saved = errno;
	umask(mask);
	if (switched && setegid(egid) == -1)
		fatal("%s: setegid back to %lu", __func__, (unsigned long)egid);
	errno = saved;
	return (ret);
}

/*
 * Give the socket socket_group where bind() could not: a folder whose
 * set-group-ID bit chose the group, or a daemon not running as root whose
 * socket_group is one of its supplementary groups.  The call never follows
 * a symbolic link; docs/SECURITY.md says what is left in a folder others
 * may write.
 */
static int
control_fix_group(const char *path)
{
	struct stat	st;

	if (lstat(path, &st) == -1) {
		log_warn("%s", path);
		return (-1);
	}
	if (st.st_gid == control_gid)
		return (0);
	if (fchownat(AT_FDCWD, path, (uid_t)-1, control_gid,
	    AT_SYMLINK_NOFOLLOW) == -1) {
		log_warn("chown %s", path);
		return (-1);
	}
	return (0);
}

/* Accept what is waiting, checking each peer before it costs anything. */
static void
control_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct ucred	cred;
	socklen_t	len;
	const char	*full;
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
		if (control_fds_low(fd, CONTROL_FD_RESERVE)) {
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
		if ((full = control_full(fd, cred.uid)) != NULL) {
			log_info("refused client uid %lu pid %ld: too many "
			    "connections (%s)", (unsigned long)cred.uid,
			    (long)cred.pid, full);
			control_refuse(fd, PROTOCOL_E_BUSY,
			    "too many connections");
			continue;
		}
		link_new(fd, cred.uid, cred.pid);
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
		    "some are free (%u connected)", control_conn_count());
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
 * Whether the descriptor just accepted ate into a reserve of that many.
 * accept() returns the lowest free descriptor, so every one below fd is
 * taken: fd this close to the limit leaves fewer than the reserve free.
 */
static bool
control_fds_low(int fd, int reserve)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY)
		return (false);
	return ((rlim_t)fd + (rlim_t)reserve >= rl.rlim_cur);
}

/* Root and the daemon's own user, for whom connections are kept. */
static bool
control_privileged(uid_t uid)
{
	return (uid == 0 || uid == geteuid());
}

/*
 * Why a client of uid, on descriptor fd, gets no connection now, or NULL
 * when it may have one.  The unprivileged stop CONTROL_PRIV_RESERVE short
 * of each limit, connections and descriptors alike.
 */
static const char *
control_full(int fd, uid_t uid)
{
	const char	*why;
	bool		 privileged = control_privileged(uid);

	if ((why = control_conn_full(uid, privileged)) != NULL)
		return (why);
	if (!privileged && control_fds_low(fd,
	    CONTROL_FD_RESERVE + CONTROL_PRIV_RESERVE))
		return ("descriptors kept for root");
	return (NULL);
}

/* Root, the daemon's own user, the socket's owner, or a member of
 * socket_group. */
static bool
control_allowed(int fd, uid_t uid, gid_t gid)
{
	if (control_privileged(uid) ||
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

/*
 * A client of the HTTP server's TCP port: HTTP only.  The password, when
 * there is one, stands in for peer credentials (http.c checks it); the
 * caps count every TCP client as one user, never a privileged one.
 */
void
control_accept_remote(int fd)
{
	struct control_conn	*c;
	const char		*full;

	full = control_conn_full(CONTROL_REMOTE_UID, false);
	if (full == NULL && control_fds_low(fd,
	    CONTROL_FD_RESERVE + CONTROL_PRIV_RESERVE))
		full = "descriptors kept for root";
	if (full != NULL) {
		log_info("refused a TCP client: %s", full);
		close(fd);
		return;
	}
	if ((c = link_new(fd, CONTROL_REMOTE_UID, 0)) != NULL)
		c->remote = true;
}

/* Start serving an accepted, allowed client. */
static struct control_conn *
link_new(int fd, uid_t uid, pid_t pid)
{
	struct control_link	*l;
	struct timeval		 wtv = { CONTROL_WRITE_SECS, 0 };

	if ((l = calloc(1, sizeof *l)) == NULL) {
		log_warn("%s: calloc", __func__);
		close(fd);
		return (NULL);
	}
	l->fd = fd;
	l->bev = bufferevent_socket_new(control_base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (l->bev == NULL || (l->c = control_conn_new(l)) == NULL) {
		log_warnx("%s: cannot allocate events", __func__);
		if (l->bev != NULL)
			bufferevent_free(l->bev);
		else
			close(fd);
		free(l);
		return (NULL);
	}
	bufferevent_setcb(l->bev, link_read, link_write, link_event, l);
	bufferevent_setwatermark(l->bev, EV_READ, 0, CONTROL_READ_HIGH);
	bufferevent_set_timeouts(l->bev, NULL, &wtv);
	bufferevent_enable(l->bev, EV_READ | EV_WRITE);
	control_conn_admit(l->c, uid, pid, control_privileged(uid));
	return (l->c);
}

/* Input read ahead of the framer. */
struct evbuffer *
control_link_input(struct control_link *l)
{
	return (bufferevent_get_input(l->bev));
}

/* Queue bytes for the client. */
int
control_link_queue(struct control_link *l, const char *data, size_t len)
{
	return (bufferevent_write(l->bev, data, len));
}

/* Bytes not yet taken by the kernel. */
size_t
control_link_pending(struct control_link *l)
{
	return (evbuffer_get_length(bufferevent_get_output(l->bev)));
}

/* The read watermark already lets the bufferevent read on by itself. */
void
control_link_taken(struct control_link *l)
{
	(void)l;
}

/* Read nothing more. */
void
control_link_stop_reading(struct control_link *l)
{
	bufferevent_disable(l->bev, EV_READ);
}

/* Close the socket and forget the connection. */
void
control_link_close(struct control_link *l)
{
	struct control_conn	*c = l->c;

	/* libevent closes the fd once it lets go of it, never before. */
	bufferevent_free(l->bev);
	free(l);
	control_conn_free(c);
}

/*
 * Whether the peer closed both directions (not just its writing side, as a
 * client does that sends its request and then waits for the reply).
 */
static bool
link_peer_gone(struct control_link *l)
{
	struct pollfd	pfd = { .fd = l->fd, .events = POLLOUT };

	if (poll(&pfd, 1, 0) == -1)
		return (false);
	return ((pfd.revents & (POLLHUP | POLLERR)) != 0);
}

/* Input arrived. */
static void
link_read(struct bufferevent *bev, void *arg)
{
	struct control_link	*l = arg;

	control_conn_input(l->c);
}

/* Output drained: a closing connection may go now, or input held back. */
static void
link_write(struct bufferevent *bev, void *arg)
{
	struct control_link	*l = arg;

	if (l->c->closing)
		control_conn_drop(l->c);
	else
		control_conn_input(l->c);
}

/* End of input, an error, or a client that stopped reading. */
static void
link_event(struct bufferevent *bev, short what, void *arg)
{
	struct control_link	*l = arg;
	struct control_conn	*c = l->c;

	if (what & BEV_EVENT_TIMEOUT) {
		control_conn_stalled(c);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		log_debug("client uid %ld pid %ld: %s", (long)c->uid,
		    (long)c->pid, strerror(EVUTIL_SOCKET_ERROR()));
		control_conn_drop(c);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		c->read_eof = true;
		if (protocol_framer_pending(&c->framer))
			log_debug("client uid %ld pid %ld: partial request "
			    "at end of input", (long)c->uid, (long)c->pid);
		if (c->busy && (c->streaming || link_peer_gone(l))) {
			control_conn_drop(c);
			return;
		}
		control_conn_input(c);
	}
}
