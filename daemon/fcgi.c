/*
 * FastCGI listening sockets (see fcgi.h).  A socket is known by its
 * settings (URL, owner, mode, backlog): programs that name the same
 * settings share one socket, and a reload that keeps them keeps the socket.
 * supervisord closes a socket when the last process of its group stops;
 * here it stays open for as long as the program is configured, so a restart
 * never refuses a connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"
#include "fcgi.h"
#include "log.h"
#include "program.h"
#include "xmalloc.h"

#define FCGI_ENV	"SAFEEXITD_FCGI_SOCKETS"

struct fcgi_socket {
	char *key;		/* "URL owner mode backlog" */
	char *url;
	char *path;		/* unix: the path we bound, unlinked on close */
	int fd;
	bool used;		/* scratch for fcgi_sync */
};

static struct fcgi_socket *sockets;
static size_t n_sockets;
static bool imported;

static int fcgi_open(const struct program_config *pc, struct fcgi_socket *s);

/* The settings of pc that make its socket what it is. */
static char *
fcgi_key(const struct program_config *pc)
{
	char *key;

	key = xasprintf("%s %s %o %d", pc->fcgi_socket,
	    pc->fcgi_socket_owner != NULL ? pc->fcgi_socket_owner : "-",
	    pc->fcgi_socket_mode, pc->fcgi_socket_backlog);
	return key;
}

/* The socket with key, or NULL. */
static struct fcgi_socket *
fcgi_find(const char *key)
{
	for (size_t i = 0; i < n_sockets; i++)
		if (strcmp(sockets[i].key, key) == 0)
			return &sockets[i];
	return NULL;
}

/* Resolve "user[:group]" for a socket's owner; -1 with a message. */
static int
fcgi_owner(const char *owner, uid_t *uid, gid_t *gid)
{
	char user[256], *colon;
	struct passwd *pw;
	struct group *gr;

	snprintf(user, sizeof user, "%s", owner);
	if ((colon = strchr(user, ':')) != NULL)
		*colon++ = '\0';
	if ((pw = getpwnam(user)) == NULL) {
		log_warnx("socket_owner: unknown user %s", user);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (colon != NULL) {
		if ((gr = getgrnam(colon)) == NULL) {
			log_warnx("socket_owner: unknown group %s", colon);
			return -1;
		}
		*gid = gr->gr_gid;
	}
	return 0;
}

/*
 * Bind a unix socket at path with its final mode from the start (the umask
 * does it: no chmod by name, which would follow a link put in its place),
 * after removing a stale socket, never anything else.
 */
static int
fcgi_open_unix(const struct program_config *pc, struct fcgi_socket *s)
{
	const char *path = pc->fcgi_socket + 7;
	struct sockaddr_un sun;
	struct stat st;
	mode_t mask;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	int fd, r;

	if (pc->fcgi_socket_owner != NULL &&
	    fcgi_owner(pc->fcgi_socket_owner, &uid, &gid) == -1)
		return -1;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_warnx("%s: cannot create the FastCGI socket: %s exists "
			    "and is not a socket", pc->name, path);
			return -1;
		}
		if (unlink(path) == -1 && errno != ENOENT) {
			log_warn("%s: unlink %s", pc->name, path);
			return -1;
		}
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("%s: socket", pc->name);
		return -1;
	}
	mask = umask(~pc->fcgi_socket_mode & 0777);
	r = bind(fd, (struct sockaddr *)&sun, sizeof sun);
	umask(mask);
	if (r == -1) {
		log_warn("%s: cannot create the FastCGI socket: bind %s",
		    pc->name, path);
		close(fd);
		return -1;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    fchownat(AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW) == -1) {
		log_warn("%s: chown %s", pc->name, path);
		unlink(path);
		close(fd);
		return -1;
	}
	s->path = xstrdup(path);
	return fd;
}

/* Bind a TCP socket to host:port. */
static int
fcgi_open_tcp(const struct program_config *pc)
{
	char host[256];
	const char *hp = pc->fcgi_socket + 6, *colon = strrchr(hp, ':');
	struct addrinfo hints, *ai = NULL;
	int fd, one = 1, r;

	snprintf(host, sizeof host, "%.*s", (int)(colon - hp), hp);
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((r = getaddrinfo(host, colon + 1, &hints, &ai)) != 0) {
		log_warnx("%s: cannot create the FastCGI socket: %s: %s",
		    pc->name, host, gai_strerror(r));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof one) == -1 || bind(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		log_warn("%s: cannot create the FastCGI socket %s", pc->name,
		    pc->fcgi_socket);
		if (fd != -1)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* Open and listen on the socket of pc into s; -1 when it cannot be. */
static int
fcgi_open(const struct program_config *pc, struct fcgi_socket *s)
{
	int fd;

	fd = strncmp(pc->fcgi_socket, "unix://", 7) == 0 ?
	    fcgi_open_unix(pc, s) : fcgi_open_tcp(pc);
	if (fd == -1)
		return -1;
	if (listen(fd, pc->fcgi_socket_backlog > 0 ? pc->fcgi_socket_backlog :
	    SOMAXCONN) == -1) {
		log_warn("%s: listen %s", pc->name, pc->fcgi_socket);
		close(fd);
		if (s->path != NULL)
			unlink(s->path);
		return -1;
	}
	log_info("%s: listening on %s", pc->name, pc->fcgi_socket);
	s->fd = fd;
	return 0;
}

/* Close a socket no program uses, and remove its path. */
static void
fcgi_close(struct fcgi_socket *s)
{
	log_info("closing FastCGI socket %s", s->url);
	if (s->fd != -1)
		close(s->fd);
	if (s->path != NULL && unlink(s->path) == -1 && errno != ENOENT)
		log_warn("unlink %s", s->path);
	free(s->key);
	free(s->url);
	free(s->path);
}

/* The sockets a re-executed daemon was handed: "FD PATH-or-- KEY\n"... */
static void
fcgi_import(void)
{
	char *env = getenv(FCGI_ENV), *copy, *line, *save = NULL;

	imported = true;
	if (env == NULL)
		return;
	copy = xstrdup(env);
	unsetenv(FCGI_ENV);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char path[4096], *key;
		int fd, off = 0;
		struct fcgi_socket *s;

		if (sscanf(line, "%d %4095s %n", &fd, path, &off) != 2 || off == 0)
			continue;
		key = line + off;
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		sockets = xreallocarray(sockets, n_sockets + 1,
		    sizeof *sockets);
		s = &sockets[n_sockets++];
		memset(s, 0, sizeof *s);
		s->fd = fd;
		s->key = xstrdup(key);
		s->url = xstrndup(key, strcspn(key, " "));
		if (strcmp(path, "-") != 0)
			s->path = xstrdup(path);
	}
	free(copy);
}

/* A new entry for the socket of pc, not open yet. */
static struct fcgi_socket *
fcgi_add(const struct program_config *pc)
{
	struct fcgi_socket *s;

	sockets = xreallocarray(sockets, n_sockets + 1, sizeof *sockets);
	s = &sockets[n_sockets++];
	memset(s, 0, sizeof *s);
	s->key = fcgi_key(pc);
	s->fd = -1;
	s->used = true;
	s->url = xstrdup(pc->fcgi_socket);
	return s;
}

void
fcgi_sync(void)
{
	size_t k;

	if (!imported)
		fcgi_import();
	for (size_t i = 0; i < n_sockets; i++)
		sockets[i].used = false;
	for (size_t i = 0; i < programs.n; i++) {
		const struct program_config *pc = programs.v[i]->cfg;
		struct fcgi_socket *s;
		char *key;

		if (pc->fcgi_socket == NULL || programs.v[i]->removed)
			continue;
		key = fcgi_key(pc);
		if ((s = fcgi_find(key)) != NULL) {
			s->used = true;
			free(key);
			continue;
		}
		free(key);
		/* A socket that cannot be opened now is tried at each spawn. */
		fcgi_open(pc, fcgi_add(pc));
	}
	for (size_t i = k = 0; i < n_sockets; i++) {
		if (sockets[i].used)
			sockets[k++] = sockets[i];
		else
			fcgi_close(&sockets[i]);
	}
	n_sockets = k;
}

int
fcgi_fd(const struct program *p)
{
	struct fcgi_socket *s;
	char *key;

	if (p->cfg->fcgi_socket == NULL)
		return -1;
	key = fcgi_key(p->cfg);
	s = fcgi_find(key);
	free(key);
	if (s == NULL)
		s = fcgi_add(p->cfg);
	if (s->fd == -1)
		fcgi_open(p->cfg, s);
	return s->fd;
}

void
fcgi_export(void)
{
	char *env = NULL;
	size_t len = 0;
	FILE *f;

	if (n_sockets == 0)
		return;
	if ((f = open_memstream(&env, &len)) == NULL)
		fatal("%s", __func__);
	for (size_t i = 0; i < n_sockets; i++) {
		if (sockets[i].fd == -1)
			continue;
		fcntl(sockets[i].fd, F_SETFD, 0);
		fprintf(f, "%d %s %s\n", sockets[i].fd, sockets[i].path != NULL ?
		    sockets[i].path : "-", sockets[i].key);
	}
	fclose(f);
	setenv(FCGI_ENV, env, 1);
	free(env);
}

void
fcgi_export_undo(void)
{
	unsetenv(FCGI_ENV);
	for (size_t i = 0; i < n_sockets; i++)
		if (sockets[i].fd != -1)
			fcntl(sockets[i].fd, F_SETFD, FD_CLOEXEC);
}
