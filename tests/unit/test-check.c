/*
 * Unit tests for the pure parsers of readiness and health: check_parse
 * (ready = ..., health = ...) and sdnotify_parse (one sd_notify datagram).
 */
#include <string.h>

#include "check.h"
#include "sdnotify.h"
#include "tap.h"

/* Parse v for use; the result code, c filled (what it held is released). */
static int
parse(const char *v, enum check_use use, struct check *c)
{
	char err[256];

	return check_parse(v, use, false, c, err, sizeof err);
}

static void
test_ready_kinds(void)
{
	struct check c;

	memset(&c, 0, sizeof c);
	is_int(parse("running", CHECK_USE_READY, &c), 0, "running");
	is_int(c.kind, CHECK_RUNNING, "running: kind");
	is_int(parse("notify", CHECK_USE_READY, &c), 0, "notify");
	ok(check_wants_notify(&c), "notify wants a socket");
	is_int(parse("fd:3", CHECK_USE_READY, &c), 0, "fd:3");
	is_int(c.fd, 3, "fd:3: N");
	is_int(parse("fd:2", CHECK_USE_READY, &c), -1, "fd:2 is stderr: refused");
	is_int(parse("fd:x", CHECK_USE_READY, &c), -1, "fd:x refused");
	is_int(parse("tcp:5432", CHECK_USE_READY, &c), 0, "tcp:PORT");
	is_str(c.host, "127.0.0.1", "tcp:PORT: default host");
	is_int(c.port, 5432, "tcp:PORT: port");
	is_int(parse("tcp:db.local:80", CHECK_USE_READY, &c), 0, "tcp:HOST:PORT");
	is_str(c.host, "db.local", "tcp:HOST:PORT: host");
	is_int(parse("tcp:[::1]:8080", CHECK_USE_READY, &c), 0, "tcp:[V6]:PORT");
	is_str(c.host, "::1", "tcp:[V6]:PORT: host");
	is_int(parse("tcp:70000", CHECK_USE_READY, &c), -1, "port too big");
	is_int(parse("tcp:", CHECK_USE_READY, &c), -1, "no port");
	is_int(parse("http://localhost:8080/health?x=1", CHECK_USE_READY, &c), 0,
	    "http with port and path");
	is_str(c.host, "localhost", "http: host");
	is_int(c.port, 8080, "http: port");
	is_str(c.path, "/health?x=1", "http: path");
	is_int(parse("http://web", CHECK_USE_READY, &c), 0, "http: bare host");
	is_int(c.port, 80, "http: port 80");
	is_str(c.path, "/", "http: path /");
	is_int(parse("https://web/", CHECK_USE_READY, &c), -1,
	    "https refused when the build has no TLS");
	is_int(parse("http://user@web/", CHECK_USE_READY, &c), -1,
	    "http: credentials refused");
	is_int(parse("exec:pg_isready -q", CHECK_USE_READY, &c), 0, "exec");
	is_str(c.argv[1], "-q", "exec: argv");
	is_int(parse("exec:", CHECK_USE_READY, &c), -1, "exec: empty");
	is_int(parse("log:ready to accept( connections)?$", CHECK_USE_READY, &c),
	    0, "log: regex");
	ok(c.re != NULL, "log: compiled");
	is_int(parse("log:(", CHECK_USE_READY, &c), -1, "log: bad regex");
	is_int(parse("watchdog:5", CHECK_USE_READY, &c), -1,
	    "watchdog is not a readiness check");
	is_int(parse("bogus", CHECK_USE_READY, &c), -1, "unknown kind");
	check_release(&c);
}

static void
test_health_kinds(void)
{
	struct check c, orig;

	memset(&c, 0, sizeof c);
	is_int(parse("watchdog:2.5", CHECK_USE_HEALTH, &c), 0, "watchdog");
	ok(c.watchdog == 2.5, "watchdog: seconds");
	is_int(parse("watchdog:0", CHECK_USE_HEALTH, &c), -1, "watchdog:0");
	is_int(parse("notify", CHECK_USE_HEALTH, &c), -1, "notify is no health");
	is_int(parse("tcp:1", CHECK_USE_HEALTH, &c), 0, "tcp health");
	ok(check_is_probe(&c), "tcp is a probe");
	orig = c;
	check_dup(&c);
	check_release(&orig);
	is_int(c.port, 1, "dup keeps the port");
	check_release(&c);
	is_int(parse("log:x", CHECK_USE_READY, &c), 0, "log for dup");
	orig = c;
	check_dup(&c);
	check_release(&orig);
	ok(c.re != NULL, "dup compiles the regex again");
	check_release(&c);
}

static void
test_sdnotify(void)
{
	struct sdnotify_msg m;
	const char *d = "READY=1\nSTATUS=Processing 3 of 10\nMAINPID=4242\n"
	    "WATCHDOG=1\nWATCHDOG_USEC=2000000\nEXTEND_TIMEOUT_USEC=5000000\n"
	    "X_UNKNOWN=1\nSTOPPING=1";

	sdnotify_parse(d, strlen(d), &m);
	ok(m.ready, "READY=1");
	ok(m.has_status, "STATUS given");
	is_str(m.status, "Processing 3 of 10", "STATUS text");
	is_int(m.mainpid, 4242, "MAINPID");
	ok(m.watchdog, "WATCHDOG=1");
	is_int((long long)m.watchdog_usec, 2000000, "WATCHDOG_USEC");
	is_int((long long)m.extend_usec, 5000000, "EXTEND_TIMEOUT_USEC");
	ok(m.stopping, "STOPPING=1");
	d = "READY=0\nMAINPID=-3\nMAINPID=abc\nWATCHDOG_USEC=-1";
	sdnotify_parse(d, strlen(d), &m);
	ok(!m.ready, "READY=0 is not ready");
	is_int(m.mainpid, 0, "bad MAINPID ignored");
	is_int((long long)m.watchdog_usec, 0, "negative usec ignored");
	sdnotify_parse("STATUS=", 7, &m);
	ok(m.has_status && m.status[0] == '\0', "empty STATUS clears");
}

int
main(void)
{
	test_ready_kinds();
	test_health_kinds();
	test_sdnotify();
	return tap_done();
}
