"""Health: a RUNNING program that fails its health check health_retries
times in a row is restarted (stop, start), with the cause in the log and
the restart counted; a check that hangs is bounded by health_timeout and
its command is killed with its group.
"""

import re
import time

import pytest

from conftest import wait_for
from ready_helpers import free_port, py, tls_server, write_scripts


@pytest.fixture
def scripts(workdir):
    return write_scripts(workdir)


def test_tcp_loopback_check_opens_no_connection(daemon_factory, conf,
                                                scripts):
    """A tcp check of a loopback address asks the kernel whether something
    listens there, with room in its accept queue: it opens no connection
    the program would have to accept.  The program here never accepts: its
    queue (1) holds two connections of its own clients, no more."""
    import socket
    port = free_port()
    d = daemon_factory(conf.program(
        "db", command=py("stuck.py", port, 1), ready=f"tcp:{port}",
        ready_interval=0.1, health=f"tcp:{port}", health_interval=0.5,
        health_timeout=1, health_retries=1))
    d.wait_state("db", "RUNNING", timeout=20)
    # A window of several health checks: connecting ones would have filled
    # the queue (and timed out) by now.
    time.sleep(2)
    assert "health check failed" not in d.tail(10000)
    assert d.status("db")["db"]["health"] == "ok"
    clients = [socket.create_connection(("127.0.0.1", port), 2)
               for _ in range(2)]
    try:
        d.wait_log(r"db: unhealthy, restarting: tcp:%d: accept queue full"
                   % port)
    finally:
        for c in clients:
            c.close()


def test_tcp_health_failure_restarts(daemon_factory, conf, scripts):
    port = free_port()
    # Listens for 1.5 s, then stays up but deaf.
    d = daemon_factory(conf.program(
        "db", command=py("listener.py", 0, port, 1.5), ready=f"tcp:{port}",
        ready_interval=0.1, health=f"tcp:{port}", health_interval=0.3,
        health_timeout=1, health_retries=2))
    d.wait_state("db", "RUNNING", timeout=20)
    assert d.status("db")["db"]["health"] == "ok"
    d.wait_log(r"db: health check failed \(1 of 2\): tcp:%d: refused" % port)
    wait_for(lambda: d.status("db")["db"]["health"] == "failing"
             or d.status("db")["db"]["restarts"] == 1, 10, "failing")
    d.wait_log(r"db: unhealthy, restarting: tcp:%d: refused" % port)
    d.wait_log(r"db: RUNNING -> STOPPING")
    mark = d.mark()
    d.wait_state("db", "RUNNING", timeout=20, since=mark)
    st = d.status("db")["db"]
    assert st["restarts"] == 1 and st["health"] == "ok"


def test_watchdog(daemon_factory, conf, scripts):
    # Pings for a while, then stops pinging.
    d = daemon_factory(conf.program(
        "w", command=py("notifier.py", "READY=1", "WATCHDOG=1", "WATCHDOG=1",
                        "WATCHDOG=1", "WATCHDOG=1"),
        ready="notify", health="watchdog:0.5", health_retries=1))
    m = d.wait_log(r"w stdout: NOTIFY_SOCKET=\S+ WATCHDOG_USEC=(\d+)")
    assert m.group(1) == "500000"
    d.wait_state("w", "RUNNING", timeout=20)
    started = time.monotonic()
    d.wait_log(r"w: unhealthy, restarting: watchdog: no WATCHDOG=1 for 0.5 s")
    # The pings (0.8 s of them) kept it healthy until they stopped.
    assert time.monotonic() - started >= 0.8
    wait_for(lambda: d.status("w")["w"]["restarts"] >= 1, 10, "restart")


def test_exec_health_hang_is_bounded_and_killed(daemon_factory, conf,
                                                workdir):
    pidfile = workdir / "probe.pid"
    d = daemon_factory(conf.program(
        "a", command="/bin/sleep 1000", start_secs=0,
        health=f"exec:/bin/sh -c 'echo $$ > {pidfile}; exec sleep 1000'",
        health_interval=0.2, health_timeout=0.5, health_retries=5))
    d.wait_log(r"a: health check failed \(1 of 5\): exec:.*no answer "
               r"within 0\.5 s")
    pid = int(pidfile.read_text())
    from conftest import wait_gone
    wait_gone([pid], 10)
    assert "health failing (1 of 5)" in d.ctl("status", "a").stdout


def test_https_health_failure_restarts(daemon_factory, conf, scripts,
                                       workdir):
    """An https health check that gets a 503 over TLS restarts the program;
    healthy again, it is RUNNING with the restart counted."""
    flags, command, port = tls_server(workdir)
    (flags / "tls").touch()
    url = f"https://127.0.0.1:{port}/"
    d = daemon_factory(conf.program(
        "www", command=command, ready=url, ready_interval=0.1,
        health=url, health_interval=0.3, health_timeout=2,
        health_retries=2))
    d.wait_state("www", "RUNNING", timeout=20)
    d.wait_log(r"www stdout: tls 2$")
    assert d.status("www")["www"]["health"] == "ok"
    (flags / "sick").touch()
    d.wait_log(r"www: health check failed \(1 of 2\): %s: HTTP 503"
               % re.escape(url))
    d.wait_log(r"www: unhealthy, restarting: %s: HTTP 503" % re.escape(url))
    mark = d.mark()
    (flags / "sick").unlink()
    d.wait_state("www", "RUNNING", timeout=20, since=mark)
    st = d.status("www")["www"]
    assert st["restarts"] == 1 and st["health"] == "ok"
