/*
 * Readiness and health probes on the event loop.  A TCP probe of a loopback
 * address asks the kernel whether a socket listens there (sock_diag(7), one
 * request and its answer, no connection: a connect over loopback costs both
 * ends of a handshake and a close, several times more); any other TCP probe
 * is a non-blocking connect (names resolved with evdns); an HTTP probe is one
 * GET through evhttp (over TLS with probe-tls.c), 2xx and 3xx counting as
 * up; an exec probe is a child started with the program's user, folder and
 * environment, in a process group of its own.  Every probe has one timer,
 * its timeout; a result is recorded where it arrives and handed on from
 * that timer's callback, so that no connection is freed inside its own
 * callback.  A command that outlives its probe is killed with its whole
 * group and stays on the list until the reaper has it: none is left behind.
 */
#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/util.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "output.h"
#include "parse.h"
#include "probe.h"
#include "program.h"
#include "spawn.h"
#include "xmalloc.h"

struct probe {
	const struct check *check;	/* the program's config; outlives us */
	char spec[96];			/* for messages */
	struct program *program;
	probe_done_fn done;
	void *arg;
	struct event *timer;		/* timeout, then the hand-over */
	double timeout;
	bool finished, ok;
	char why[384];

	/* tcp */
	struct evdns_getaddrinfo_request *dns_req;
	struct evutil_addrinfo *addrs;
	int fd;
	struct event *io;
	/* http */
	struct evhttp_connection *conn;
	/* exec */
	pid_t pid;
	int status_fd;
	bool cancelled;			/* nobody waits: free once reaped */
	struct probe *next;		/* exec probes with a live child */
};

static struct event_base *probe_base;
static struct evdns_base *probe_dns;
static struct probe *probe_children;
static int probe_diag_fd = -1;		/* NETLINK_SOCK_DIAG, made on first use */
static bool probe_diag_off;		/* the kernel cannot answer: connect */
static unsigned probe_diag_seq;

#define PROBE_TCP_LISTEN	10	/* TCP_LISTEN in the kernel's numbering */

static void probe_finish(struct probe *pr, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void probe_timer_cb(evutil_socket_t fd, short what, void *arg);
static void probe_release(struct probe *pr);
static void probe_tcp_start(struct probe *pr);
static void probe_tcp_resolved(int err, struct evutil_addrinfo *res, void *arg);
static void probe_tcp_connect(struct probe *pr, struct evutil_addrinfo *ai);
static void probe_tcp_cb(evutil_socket_t fd, short what, void *arg);
static void probe_http_start(struct probe *pr);
static void probe_http_cb(struct evhttp_request *req, void *arg);
static void probe_exec_start(struct probe *pr);
static void probe_unlink_child(struct probe *pr);
static struct evdns_base *probe_dns_base(void);

/* Remember the loop; the resolver is made on first use. */
void
probe_init(struct event_base *base)
{
	probe_base = base;
}

/* Free the resolver and the sock_diag socket. */
void
probe_fini(void)
{
	if (probe_diag_fd != -1)
		close(probe_diag_fd);
	probe_diag_fd = -1;
	if (probe_dns != NULL)
		evdns_base_free(probe_dns, 0);
	probe_dns = NULL;
}

/* The resolver, reading resolv.conf and hosts once. */
static struct evdns_base *
probe_dns_base(void)
{
	if (probe_dns == NULL &&
	    (probe_dns = evdns_base_new(probe_base,
	    EVDNS_BASE_INITIALIZE_NAMESERVERS)) == NULL)
		log_warnx("probes: cannot set up the resolver");
	return probe_dns;
}

/* A loopback address of c (127/8, ::1) into req; false for any other host. */
static bool
probe_loopback(const struct check *c, struct inet_diag_req_v2 *req)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, c->host, &a4) == 1) {
		if ((ntohl(a4.s_addr) >> 24) != 127)
			return false;
		req->sdiag_family = AF_INET;
		memcpy(req->id.idiag_src, &a4, sizeof a4);
		return true;
	}
	if (inet_pton(AF_INET6, c->host, &a6) == 1 &&
	    memcmp(&a6, &in6addr_loopback, sizeof a6) == 0) {
		req->sdiag_family = AF_INET6;
		memcpy(req->id.idiag_src, &a6, sizeof a6);
		return true;
	}
	return false;
}

/*
 * Ask the kernel for the listening socket a connection to req's address
 * would reach (an exact lookup, not a dump of the table): 1 one listens with
 * room in its accept queue, 0 not (why says), -1 the kernel cannot answer
 * such requests (errno says why), -2 no answer this time.
 * The kernel answers within the send, so the receive never waits.
 */
static int
probe_diag(const struct check *c, struct inet_diag_req_v2 *dreq, char *why,
    size_t len)
{
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
	} req = { 0 };
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	union {
		struct nlmsghdr h;
		char buf[1024];
	} ans;
	const struct inet_diag_msg *m;
	struct nlmsghdr *h;
	ssize_t n;

	if (probe_diag_fd == -1 && (probe_diag_fd = socket(AF_NETLINK,
	    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_SOCK_DIAG)) == -1)
		return -1;
	req.h.nlmsg_len = sizeof req;
	req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.h.nlmsg_flags = NLM_F_REQUEST;
	req.h.nlmsg_seq = ++probe_diag_seq;
	req.r = *dreq;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = 1u << PROBE_TCP_LISTEN;
	req.r.id.idiag_sport = htons((uint16_t)c->port);
	req.r.id.idiag_cookie[0] = req.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (sendto(probe_diag_fd, &req, sizeof req, 0,
	    (struct sockaddr *)&kernel, sizeof kernel) != (ssize_t)sizeof req)
		return -1;
	/* Answers to an earlier request (none should be left) are skipped. */
	while ((n = recv(probe_diag_fd, &ans, sizeof ans, MSG_DONTWAIT)) > 0) {
		h = &ans.h;
		if (!NLMSG_OK(h, (size_t)n) || h->nlmsg_seq != probe_diag_seq)
			continue;
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			if (e->error != -ENOENT) {
				errno = -e->error;
				return -1;
			}
			snprintf(why, len, "%s: refused (nothing listens)",
			    c->spec);
			return 0;
		}
		if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
		    h->nlmsg_len < NLMSG_LENGTH(sizeof *m)) {
			errno = EPROTO;
			return -1;
		}
		m = NLMSG_DATA(h);
		if (m->idiag_state != PROBE_TCP_LISTEN) {
			snprintf(why, len, "%s: refused (nothing listens)",
			    c->spec);
			return 0;
		}
		if (m->idiag_rqueue > m->idiag_wqueue) {
			snprintf(why, len, "%s: accept queue full (%u waiting)",
			    c->spec, m->idiag_rqueue);
			return 0;
		}
		snprintf(why, len, "%s: listening", c->spec);
		return 1;
	}
	return n == -1 && errno != EAGAIN ? -1 : -2;
}

bool
probe_now(const struct check *c, bool *ok, char *why, size_t len)
{
	struct inet_diag_req_v2 req = { 0 };
	int r;

	if (c->kind != CHECK_TCP || probe_diag_off || !probe_loopback(c, &req))
		return false;
	if ((r = probe_diag(c, &req, why, len)) == -2)
		return false;
	if (r == -1) {
		log_info("probes: the kernel does not answer sock_diag "
		    "requests (%s): TCP checks connect", strerror(errno));
		probe_diag_off = true;
		return false;
	}
	*ok = r == 1;
	return true;
}

struct probe *
probe_start(const struct check *c, struct program *p, double timeout,
    probe_done_fn done, void *arg)
{
	struct probe *pr;
	struct timeval tv;

	pr = xcalloc(1, sizeof *pr);
	pr->check = c;
	snprintf(pr->spec, sizeof pr->spec, "%s", c->spec);
	pr->program = p;
	pr->done = done;
	pr->arg = arg;
	pr->fd = pr->status_fd = -1;
	pr->timeout = timeout;
	if ((pr->timer = evtimer_new(probe_base, probe_timer_cb, pr)) == NULL)
		fatal("%s", __func__);
	tv.tv_sec = (time_t)timeout;
	tv.tv_usec = (suseconds_t)((timeout - (double)tv.tv_sec) * 1e6);
	evtimer_add(pr->timer, &tv);
	switch (c->kind) {
	case CHECK_TCP:
		probe_tcp_start(pr);
		break;
	case CHECK_HTTP:
		probe_http_start(pr);
		break;
	case CHECK_EXEC:
		probe_exec_start(pr);
		break;
	default:
		probe_finish(pr, false, "%s: not a probe", pr->spec);
		break;
	}
	return pr;
}

/* Record the result (the first one counts) and hand it on from the loop. */
static void
probe_finish(struct probe *pr, bool ok, const char *fmt, ...)
{
	va_list ap;

	if (pr->finished)
		return;
	pr->finished = true;
	pr->ok = ok;
	va_start(ap, fmt);
	vsnprintf(pr->why, sizeof pr->why, fmt, ap);
	va_end(ap);
	event_active(pr->timer, EV_TIMEOUT, 0);
}

/* The timeout, or the hand-over of a result recorded elsewhere. */
static void
probe_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe *pr = arg;
	probe_done_fn done = pr->done;
	void *darg = pr->arg;
	char why[sizeof pr->why];
	bool ok;

	if (!pr->finished)
		probe_finish(pr, false, "%s: no answer within %.3g s", pr->spec,
		    pr->timeout);
	ok = pr->ok;
	snprintf(why, sizeof why, "%s", pr->why);
	probe_release(pr);
	done(darg, ok, why);
}

/* Drop a probe nobody waits for any more. */
void
probe_cancel(struct probe *pr)
{
	if (pr != NULL)
		probe_release(pr);
}

/*
 * Free what the probe holds.  A command still running is killed with its
 * group; the probe stays listed (cancelled) until the reaper has its pid.
 */
static void
probe_release(struct probe *pr)
{
	if (pr->timer != NULL)
		event_free(pr->timer);
	pr->timer = NULL;
	if (pr->dns_req != NULL)
		evdns_getaddrinfo_cancel(pr->dns_req);
	pr->dns_req = NULL;
	if (pr->addrs != NULL)
		evutil_freeaddrinfo(pr->addrs);
	pr->addrs = NULL;
	if (pr->io != NULL)
		event_free(pr->io);
	pr->io = NULL;
	if (pr->fd != -1)
		close(pr->fd);
	pr->fd = -1;
	if (pr->conn != NULL)
		evhttp_connection_free(pr->conn);
	pr->conn = NULL;
	if (pr->pid > 0) {
		kill(-pr->pid, SIGKILL);
		kill(pr->pid, SIGKILL);
		pr->cancelled = true;
		pr->done = NULL;
		return;
	}
	if (pr->status_fd != -1)
		close(pr->status_fd);
	free(pr);
}

/* Resolve the host (numeric addresses at once), then connect. */
static void
probe_tcp_start(struct probe *pr)
{
	struct evutil_addrinfo hints = { 0 }, *res = NULL;
	struct evdns_base *dns;
	char port[8];

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(port, sizeof port, "%d", pr->check->port);
	if (evutil_getaddrinfo(pr->check->host, port, &hints, &res) == 0) {
		pr->addrs = res;
		probe_tcp_connect(pr, res);
		return;
	}
	if ((dns = probe_dns_base()) == NULL) {
		probe_finish(pr, false, "%s: cannot resolve %s", pr->spec,
		    pr->check->host);
		return;
	}
	hints.ai_flags = AI_NUMERICSERV;
	/* The callback may run before this returns: it clears dns_req. */
	pr->dns_req = evdns_getaddrinfo(dns, pr->check->host, port, &hints,
	    probe_tcp_resolved, pr);
}

/* The resolver answered. */
static void
probe_tcp_resolved(int err, struct evutil_addrinfo *res, void *arg)
{
	struct probe *pr = arg;

	if (err == EVUTIL_EAI_CANCEL)
		return;		/* probe_release cancelled it; pr is gone */
	pr->dns_req = NULL;
	if (err != 0 || res == NULL) {
		probe_finish(pr, false, "%s: cannot resolve %s: %s", pr->spec,
		    pr->check->host, evutil_gai_strerror(err));
		return;
	}
	pr->addrs = res;
	probe_tcp_connect(pr, res);
}

/* A non-blocking connect to the first address; the loop says how it went. */
static void
probe_tcp_connect(struct probe *pr, struct evutil_addrinfo *ai)
{
	int fd;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1) {
		probe_finish(pr, false, "%s: socket: %s", pr->spec,
		    strerror(errno));
		return;
	}
	pr->fd = fd;
	if (connect(fd, ai->ai_addr, (socklen_t)ai->ai_addrlen) == 0) {
		probe_finish(pr, true, "%s: connected", pr->spec);
		return;
	}
	if (errno != EINPROGRESS) {
		probe_finish(pr, false, "%s: %s", pr->spec,
		    errno == ECONNREFUSED ? "refused" : strerror(errno));
		return;
	}
	if ((pr->io = event_new(probe_base, fd, EV_WRITE, probe_tcp_cb,
	    pr)) == NULL || event_add(pr->io, NULL) == -1)
		fatal("%s", __func__);
}

/* The connect finished: SO_ERROR says how. */
static void
probe_tcp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe *pr = arg;
	int err = 0;
	socklen_t len = sizeof err;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == 0)
		probe_finish(pr, true, "%s: connected", pr->spec);
	else
		probe_finish(pr, false, "%s: %s", pr->spec,
		    err == ECONNREFUSED ? "refused" : strerror(err));
}

/* One GET over a connection of its own. */
static void
probe_http_start(struct probe *pr)
{
	const struct check *c = pr->check;
	struct evhttp_request *req;
	struct bufferevent *bev = NULL;
	char host[300];

	if (c->tls) {
		if ((bev = probe_tls_bufferevent(probe_base, c->host)) == NULL) {
			probe_finish(pr, false, "%s: TLS is not available",
			    pr->spec);
			return;
		}
		pr->conn = evhttp_connection_base_bufferevent_new(probe_base,
		    probe_dns_base(), bev, c->host, (unsigned short)c->port);
	} else
		pr->conn = evhttp_connection_base_new(probe_base,
		    probe_dns_base(), c->host, (unsigned short)c->port);
	if (pr->conn == NULL) {
		probe_finish(pr, false, "%s: cannot set up a connection",
		    pr->spec);
		return;
	}
	evhttp_connection_set_retries(pr->conn, 0);
	if ((req = evhttp_request_new(probe_http_cb, pr)) == NULL)
		fatal("%s", __func__);
	snprintf(host, sizeof host, strchr(c->host, ':') != NULL ? "[%s]:%d" :
	    "%s:%d", c->host, c->port);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host", host);
	evhttp_add_header(evhttp_request_get_output_headers(req), "User-Agent",
	    "safeexitd-probe");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Connection",
	    "close");
	if (evhttp_make_request(pr->conn, req, EVHTTP_REQ_GET, c->path) == -1)
		probe_finish(pr, false, "%s: cannot send the request", pr->spec);
}

/* The answer (or NULL when the connection failed). */
static void
probe_http_cb(struct evhttp_request *req, void *arg)
{
	struct probe *pr = arg;
	int code = req != NULL ? evhttp_request_get_response_code(req) : 0;

	if (code >= 200 && code < 400)
		probe_finish(pr, true, "%s: HTTP %d", pr->spec, code);
	else if (code > 0)
		probe_finish(pr, false, "%s: HTTP %d", pr->spec, code);
	else
		probe_finish(pr, false, "%s: no answer (connection failed)",
		    pr->spec);
}

/* Start the command like the program itself, output into its output. */
static void
probe_exec_start(struct probe *pr)
{
	const struct program_config *pc = pr->program->cfg;
	struct spawn_request req = { 0 };
	struct spawn_status st;
	char err[256];
	pid_t pid;

	if (pr->program->output == NULL) {
		probe_finish(pr, false, "%s: the program has no output", pr->spec);
		return;
	}
	req.argv = pr->check->argv;
	req.environment = pc->environment;
	req.directory = pc->directory;
	req.user = pc->user;
	req.group = pc->group;
	req.umask = pc->umask;
	req.stdout_fd = output_stdout_fd(pr->program->output);
	req.stderr_fd = output_stderr_fd(pr->program->output);
	req.cgroup_fd = -1;
	req.extra_fd = -1;
	req.journal_fd = -1;	/* a probe is no launch of the program */
	if ((pid = spawn_process(&req, &st, err, sizeof err)) == -1) {
		probe_finish(pr, false, "%s: %s", pr->spec, err);
		return;
	}
	pr->pid = pid;
	pr->status_fd = st.fd;
	if (st.failed)
		snprintf(pr->why, sizeof pr->why, "%s: %s", pr->spec, st.error);
	pr->next = probe_children;
	probe_children = pr;
}

/* Take pr off the list of probes with a live command. */
static void
probe_unlink_child(struct probe *pr)
{
	struct probe **pp;

	for (pp = &probe_children; *pp != NULL; pp = &(*pp)->next)
		if (*pp == pr) {
			*pp = pr->next;
			return;
		}
}

bool
probe_reaped(pid_t pid, int status)
{
	struct probe *pr;
	struct spawn_request req = { 0 };
	char err[256];

	for (pr = probe_children; pr != NULL && pr->pid != pid; pr = pr->next)
		;
	if (pr == NULL)
		return false;
	probe_unlink_child(pr);
	pr->pid = 0;
	/* Whatever it left in its group goes with it. */
	kill(-pid, SIGKILL);
	if (pr->cancelled) {
		if (pr->status_fd != -1)
			close(pr->status_fd);
		free(pr);
		return true;
	}
	req.argv = pr->check->argv;
	if (pr->status_fd != -1 && spawn_read_status(pr->status_fd, &req, err,
	    sizeof err) == 1)
		probe_finish(pr, false, "%s: %s", pr->spec, err);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		probe_finish(pr, true, "%s: exit 0", pr->spec);
	else if (WIFEXITED(status))
		probe_finish(pr, false, "%s: exit %d", pr->spec,
		    WEXITSTATUS(status));
	else
		probe_finish(pr, false, "%s: signal %s", pr->spec,
		    signal_name(WTERMSIG(status)) ? signal_name(WTERMSIG(status)) :
		    "?");
	return true;
}
