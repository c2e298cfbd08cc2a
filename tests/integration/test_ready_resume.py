"""Readiness survives a re-exec and a crash of the daemon.

A program that waits for its readiness check stays STARTING and is probed
again (tcp re-armed, the notify socket bound again under the same name,
since the name comes from the control socket's path and not from the
daemon's pid); a RUNNING one stays RUNNING; its STATUS= text and its
health failures in a row are carried over in the state file.
"""

import os
import signal

import pytest

from conftest import wait_for
from ready_helpers import PYTHON, free_port, py, write_scripts


@pytest.fixture
def scripts(workdir):
    return write_scripts(workdir)


def snapshot_has(d, text):
    """Wait until the state file (written within 100 ms of a change) says text."""
    def has():
        try:
            with open(d.socket + ".state") as f:
                return text in f.read()
        except OSError:
            return False
    wait_for(has, 10, f"{text!r} in the state file")


def crash_and_restart(daemon_factory, d, text):
    """SIGKILL the daemon; a new one on the same config and socket."""
    d.signal(signal.SIGKILL)
    assert d.wait_exit() == -signal.SIGKILL
    d2 = daemon_factory(text, extra_args=("-s", d.socket))
    d2.socket = d.socket
    d2.wait_ready()
    return d2


def reexec(d):
    r = d.ctl("reexec")
    assert r.returncode == 0, r.stderr
    return d


# Sends "STATUS=waiting" at once, then READY=1 once FLAG exists.
NOTIFY_ON_FLAG = r'''
import os, socket, sys, time
addr = os.environ["NOTIFY_SOCKET"]
if addr.startswith("@"):
    addr = "\0" + addr[1:]
flag = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"STATUS=waiting for the flag", addr)
while not os.path.exists(flag):
    time.sleep(0.02)
s.sendto(b"READY=1\nSTATUS=serving", addr)
print("sent READY=1", flush=True)
time.sleep(1000)
'''


@pytest.mark.parametrize("how", ["reexec", "crash"])
def test_tcp_starting_stays_starting_and_is_probed(daemon_factory, conf,
                                                   scripts, how):
    port = free_port()
    flag_listen = 4.0
    text = conf.daemon() + conf.program(
        "db", command=py("listener.py", flag_listen, port), ready=f"tcp:{port}",
        ready_interval=0.1, ready_timeout=60, stop_timeout=2)
    d = daemon_factory(text)
    d.wait_ready()
    d.wait_state("db", "STARTING")
    pid = d.status("db")["db"]["pid"]
    d = reexec(d) if how == "reexec" else crash_and_restart(daemon_factory, d,
                                                              text)
    st = d.status("db")["db"]
    assert st["state"] == "STARTING" and st["pid"] == pid, st
    assert "waiting for tcp:" in d.ctl("status", "db").stdout
    d.wait_state("db", "RUNNING", timeout=30)
    st = d.status("db")["db"]
    assert st["pid"] == pid and st["restarts"] == 0, st


@pytest.mark.parametrize("how", ["reexec", "crash"])
def test_notify_after_restart_makes_it_running(daemon_factory, conf, workdir,
                                               how):
    script = workdir / "notify_on_flag.py"
    script.write_text(NOTIFY_ON_FLAG)
    flag = workdir / "flag"
    text = conf.daemon() + conf.program(
        "svc", command=f"{PYTHON} {script} {flag}", ready="notify",
        ready_timeout=60, stop_timeout=2)
    d = daemon_factory(text)
    d.wait_ready()
    wait_for(lambda: d.status("svc")["svc"]["status_text"] ==
             "waiting for the flag", 20, "STATUS=")
    pid = d.status("svc")["svc"]["pid"]
    snapshot_has(d, '"status_text":"waiting for the flag"')
    d = reexec(d) if how == "reexec" else crash_and_restart(daemon_factory, d,
                                                              text)
    st = d.status("svc")["svc"]
    assert st["state"] == "STARTING" and st["pid"] == pid, st
    assert st["status_text"] == "waiting for the flag", st
    flag.write_text("")
    d.wait_state("svc", "RUNNING", timeout=30)
    st = d.status("svc")["svc"]
    assert st["pid"] == pid and st["status_text"] == "serving", st


@pytest.mark.parametrize("how", ["reexec", "crash"])
def test_health_failures_carry_over(daemon_factory, conf, workdir, scripts,
                                    how):
    port = free_port()
    text = conf.daemon() + conf.program(
        "web", start_secs=0, health=f"tcp:{port}", health_interval=3,
        health_retries=5, stop_timeout=2)
    d = daemon_factory(text)
    d.wait_ready()
    d.wait_log(r"web: health check failed \(1 of 5\)")
    snapshot_has(d, '"health_failures":1')
    d = reexec(d) if how == "reexec" else crash_and_restart(daemon_factory, d,
                                                              text)
    st = d.status("web")["web"]
    assert st["state"] == "RUNNING" and st["health"] == "failing", st
    assert "health failing (1 of 5)" in d.ctl("status", "web").stdout
    d.wait_log(r"web: health check failed \(2 of 5\)")
