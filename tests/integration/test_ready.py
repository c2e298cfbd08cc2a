"""Readiness: a program is STARTING until its ready check passes, RUNNING
from then on, and what depends on it starts at that moment.  Real
programs: a TCP listener that listens late, python3 -m http.server, a
command, output lines, a descriptor, sd_notify datagrams (and a forking
daemon naming its MAINPID), one-shots with depends_on = NAME:exited.
"""

import json
import os
import re
import signal
import socket
import time

import pytest

from conftest import pid_running, wait_for, wait_gone
from ready_helpers import PYTHON, free_port, py, tls_server, write_scripts


@pytest.fixture
def scripts(workdir):
    return write_scripts(workdir)


def state_of(d, name):
    return d.status(name)[name]


def status_line(d, name):
    out = d.ctl("status", name).stdout
    return next(line for line in out.splitlines() if line.split()[0] == name)


def test_tcp_dependent_starts_once_listening(daemon_factory, conf, scripts):
    port = free_port()
    d = daemon_factory(
        conf.program("db", command=py("listener.py", 1.5, port),
                     ready=f"tcp:{port}", ready_interval=0.1) +
        # client.py exits 1 unless it can connect at once.
        conf.program("web", command=py("client.py", port), depends_on="db",
                     start_secs=0, start_retries=0))
    d.wait_state("db", "STARTING")
    assert "waiting for tcp:" in status_line(d, "db")
    assert state_of(d, "db")["ready"] is False
    d.wait_state("db", "RUNNING", timeout=20)
    d.wait_log(r"web stdout: connected")
    d.wait_state("web", "RUNNING")
    # The dependent started in the loop turn its dependency became ready.
    lines = d.lines
    i = next(i for i, l in enumerate(lines) if "db: STARTING -> RUNNING" in l)
    assert "web: STOPPED -> " in lines[i + 1]
    db = state_of(d, "db")
    assert db["ready"] is True and db["health"] is None
    assert db["status_text"] is None


def test_http_server(daemon_factory, conf, workdir):
    port = free_port()
    d = daemon_factory(conf.program(
        "www", command=f"{PYTHON} -m http.server {port} --bind 127.0.0.1",
        directory=str(workdir), ready=f"http://127.0.0.1:{port}/",
        ready_interval=0.1))
    d.wait_state("www", "RUNNING", timeout=20)
    assert state_of(d, "www")["ready"] is True


def test_exec_probe(daemon_factory, conf, workdir):
    flag = workdir / "flag"
    d = daemon_factory(conf.program(
        "a", command=f"/bin/sh -c 'sleep 0.7; touch {flag}; exec sleep 1000'",
        ready=f"exec:/bin/test -e {flag}", ready_interval=0.1))
    d.wait_state("a", "RUNNING", timeout=20)
    assert flag.exists()


def test_log_regex(daemon_factory, conf):
    d = daemon_factory(conf.program(
        "a", command="/bin/sh -c 'echo booting; sleep 0.5; "
        "echo server started on port 8080; exec sleep 1000'",
        ready="log:started on port [0-9]+$"))
    d.wait_state("a", "STARTING")
    m = d.wait_log(r"a: STARTING -> RUNNING")
    assert d.wait_log(r"a stdout: server started")


def test_log_regex_bad_is_a_load_error(daemon_factory, conf, workdir):
    path = workdir / "bad.ini"
    path.write_text("[program:a]\ncommand = /bin/true\nready = log:(a\n")
    from conftest import SAFEEXITD
    import subprocess
    r = subprocess.run([str(SAFEEXITD), "-n", "-c", str(path)],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert re.search(r"bad\.ini:3: ready: bad regular expression", r.stderr)


def test_fd_newline(daemon_factory, conf):
    d = daemon_factory(conf.program(
        "a", command="/bin/sh -c 'sleep 0.5; echo >&5; exec sleep 1000'",
        ready="fd:5"))
    d.wait_state("a", "STARTING")
    d.wait_state("a", "RUNNING", timeout=20)


def test_notify_ready_and_status(daemon_factory, conf, scripts):
    d = daemon_factory(
        conf.program("a", command=py("notifier.py", "STATUS=warming up",
                                     "sleep:0.8",
                                     r"READY=1\nSTATUS=serving"),
                     ready="notify") +
        conf.program("b", command=py("notifier.py"), depends_on="a"),
        env={"NOTIFY_SOCKET": "/nonexistent/daemon.sock"})
    m = d.wait_log(r"a stdout: NOTIFY_SOCKET=(\S*)")
    assert m.group(1).startswith("@safeexitd/")
    wait_for(lambda: "warming up" in status_line(d, "a"), 10, "STATUS")
    assert "waiting for notify" in status_line(d, "a")
    assert state_of(d, "a")["status_text"] == "warming up"
    d.wait_state("a", "RUNNING", timeout=20)
    wait_for(lambda: state_of(d, "a")["status_text"] == "serving", 10)
    # The daemon's own NOTIFY_SOCKET never reaches a program.
    m = d.wait_log(r"b stdout: NOTIFY_SOCKET=(\S*)")
    assert m.group(1) == ""


def test_notify_from_a_stranger_is_ignored(daemon_factory, conf, scripts):
    d = daemon_factory(conf.program("a", command=py("notifier.py"),
                                    ready="notify", ready_timeout=0))
    addr = d.wait_log(r"a stdout: NOTIFY_SOCKET=@(\S+)").group(1)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.sendto(b"READY=1", "\0" + addr)
    s.close()
    d.wait_log(r"a: ignoring a notification from pid %d" % os.getpid())
    assert state_of(d, "a")["state"] == "STARTING"


def test_mainpid_forking_daemon(daemon_factory, conf, scripts, workdir):
    pidfile = workdir / "child.pid"
    d = daemon_factory(conf.program(
        "fork", command=py("forking.py", pidfile), ready="notify"))
    d.wait_state("fork", "RUNNING", timeout=20)
    wait_for(pidfile.exists, 10, "the child's pid file")
    child = int(pidfile.read_text())
    d.wait_log(r"fork: main process is now pid %d" % child)
    # The parent's exit is not the program's.
    wait_for(lambda: state_of(d, "fork")["pid"] == child, 10, "MAINPID")
    time.sleep(0.3)
    st = state_of(d, "fork")
    assert st["state"] == "RUNNING" and st["pid"] == child
    assert st["status_text"] == "forked"
    assert d.ctl("stop", "fork").returncode == 0
    wait_gone([child], 10)
    assert state_of(d, "fork")["signal"] == "TERM"


def test_mainpid_whose_parent_stays_is_watched(daemon_factory, conf, scripts,
                                               workdir):
    """The new main process is not the daemon's child while its parent
    lives (and its parent, not the daemon, reaps it): its end is seen all
    the same."""
    pidfile = workdir / "child.pid"
    d = daemon_factory(conf.program(
        "fork", command=py("forking.py", pidfile, "stay"), ready="notify",
        autorestart="never", stop_timeout=2))
    d.wait_state("fork", "RUNNING", timeout=20)
    wait_for(pidfile.exists, 10, "the child's pid file")
    child = int(pidfile.read_text())
    d.wait_log(r"fork: main process is now pid %d" % child)
    os.kill(child, signal.SIGKILL)
    d.wait_log(r"fork: pid %d exited" % child, timeout=20)
    d.wait_log(r"fork: RUNNING -> ", timeout=20)


def test_start_does_not_rerun_an_exited_dependency(daemon_factory, conf,
                                                   workdir):
    """A one-shot that exited successfully satisfies NAME:exited: starting
    its dependent again does not run it again (an explicit start does)."""
    runs = workdir / "runs"
    d = daemon_factory(
        conf.program("migrate", command=f"/bin/sh -c 'echo run >> {runs}'",
                     start_secs=0, autorestart="never") +
        conf.program("web", command="/bin/sleep 1000",
                     depends_on="migrate:exited", stop_timeout=2))
    d.wait_state("web", "RUNNING", timeout=20)
    assert d.ctl("stop", "web").returncode == 0
    r = d.ctl("start", "web")
    assert r.returncode == 0, r.stderr
    assert state_of(d, "web")["state"] == "RUNNING"
    assert state_of(d, "migrate")["state"] == "EXITED"
    assert runs.read_text() == "run\n"
    r = d.ctl("start", "migrate")
    d.wait_log(r"migrate: EXITED -> ")
    wait_for(lambda: runs.read_text() == "run\nrun\n", 10, "a second run")


def test_never_ready_goes_fatal_with_cause(daemon_factory, conf):
    port = free_port()
    d = daemon_factory(conf.program(
        "a", command="/bin/sleep 1000", ready=f"tcp:{port}",
        ready_timeout=1, ready_interval=0.1, start_retries=0))
    pid = d.wait_log(r"a: STOPPED -> STARTING \(pid (\d+)\)").group(1)
    d.wait_state("a", "FATAL", timeout=20)
    st = state_of(d, "a")
    assert st["state"] == "FATAL" and st["pid"] is None
    assert re.search(rf"FATAL +not ready after 1 s: tcp:{port}: refused",
                     status_line(d, "a"))
    assert not pid_running(int(pid))


def test_exited_dependency(daemon_factory, conf):
    d = daemon_factory(
        conf.program("migrate", command="/bin/sh -c 'sleep 0.3; exit 0'",
                     start_secs=0, autorestart="never") +
        conf.program("web", command="/bin/sleep 1000",
                     depends_on="migrate:exited") +
        conf.program("bad", command="/bin/sh -c 'exit 3'", start_secs=0,
                     autorestart="never") +
        conf.program("api", command="/bin/sleep 1000",
                     depends_on="bad:exited"))
    d.wait_state("migrate", "EXITED")
    d.wait_state("web", "STARTING")
    d.wait_state("api", "FATAL")
    i = next(i for i, l in enumerate(d.lines) if "migrate: RUNNING -> EXITED" in l)
    j = next(i for i, l in enumerate(d.lines) if "web: STOPPED -> STARTING" in l)
    assert i < j
    assert state_of(d, "api")["state"] == "FATAL"
    assert "dependency bad failed: exit 3" in status_line(d, "api")


def test_https_ready_only_once_answered_over_tls(daemon_factory, conf,
                                                 scripts, workdir):
    """ready = https://... passes on a 2xx answer over TLS (to a
    self-signed certificate), not while the program closes connections
    unanswered or answers in plain HTTP."""
    flags, command, port = tls_server(workdir)
    d = daemon_factory(conf.program(
        "www", command=command, ready=f"https://127.0.0.1:{port}/",
        ready_interval=0.1))
    d.wait_log(r"www stdout: mute 2$")
    assert "waiting for https://" in status_line(d, "www")
    assert state_of(d, "www")["ready"] is False
    (flags / "plain").touch()
    d.wait_log(r"www stdout: plain 2$")
    assert d.status("www")["www"]["state"] == "STARTING"
    (flags / "tls").touch()
    d.wait_state("www", "RUNNING", timeout=20)
    assert state_of(d, "www")["ready"] is True
    assert re.search(r"www stdout: tls 1$", "\n".join(d.lines), re.M)
