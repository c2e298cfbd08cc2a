"""What is in flight survives a re-exec or a crash, and a cause survives a stop.

`reexec` and a crash of the daemon must continue everything where it was:
a stop in its grace period still ends with kill_signal, a STARTING program
stays STARTING until start_secs, a program backing off keeps its retry
count.  A program that could not start (missing directory) shows why, not
a bare exit 127, even once stopped.
"""

import os
import signal
import time

import pytest


def test_stopped_backoff_program_keeps_its_cause(daemon_factory, conf, events, workdir):
    missing = workdir / "missing"
    d = daemon_factory(conf.daemon()
                       + conf.program("lost", start_secs=0.2, start_retries=50,
                                      directory=str(missing)))
    d.wait_ready()
    d.wait_state("lost", "BACKOFF")
    r = d.ctl("stop", "lost")
    assert r.returncode in (0, 1), r.stderr
    st = d.status("lost")["lost"]
    assert st["state"] == "STOPPED"
    assert st["exit_code"] is None, st      # it never ran: no exit of its own
    text = d.ctl("status", "lost").stdout
    assert f"chdir {missing}: No such file or directory" in text, text
    assert "127" not in text


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


@pytest.mark.parametrize("how", ["reexec", "crash"])
def test_stop_in_grace_period_goes_on_to_kill(daemon_factory, conf, events, how):
    text = conf.daemon() + conf.program("b", "--ignore", "TERM", start_secs=0.2,
                                        stop_timeout=3)
    d = daemon_factory(text)
    d.wait_ready()
    pid = events.wait("b", "ready")["pid"]
    d.wait_state("b", "RUNNING")
    r = d.ctl("stop", "--no-wait", "b")
    assert r.returncode == 0, r.stderr
    t0 = events.wait("b", "signal", sig="TERM")["t"]
    d = reexec(d) if how == "reexec" else crash_and_restart(daemon_factory, d, text)
    st = d.status("b")["b"]
    assert st["state"] == "STOPPING", st
    d.wait_state("b", "STOPPED", timeout=20)
    assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split(")")[1].split()[0] == "Z"
    # Killed once its grace ran out, not at once and not by a second TERM.
    assert len(events.all("b", "signal", sig="TERM")) == 1
    events.wait_none("b", "ready", timeout=0.5)
    assert t0 is not None


@pytest.mark.parametrize("how", ["reexec", "crash"])
def test_starting_stays_starting_until_start_secs(daemon_factory, conf, events, how):
    text = conf.daemon() + conf.program("s", start_secs=4, stop_timeout=2)
    d = daemon_factory(text)
    d.wait_ready()
    ready = events.wait("s", "ready")
    d = reexec(d) if how == "reexec" else crash_and_restart(daemon_factory, d, text)
    st = d.status("s")["s"]
    assert st["state"] == "STARTING" and st["pid"] == ready["pid"], st
    d.wait_state("s", "RUNNING", timeout=20)
    assert time.monotonic() - ready["t"] >= 3.9
    events.wait_none("s", "ready", timeout=0.2)


@pytest.mark.parametrize("how", ["reexec", "crash"])
def test_backoff_keeps_its_retry_count(daemon_factory, conf, events, workdir, how):
    text = conf.daemon() + conf.program("lost", start_secs=0.2, start_retries=3,
                                        directory=str(workdir / "missing"))
    d = daemon_factory(text)
    d.wait_ready()
    d.wait_log(r"lost: STARTING -> BACKOFF")
    d.wait_log(r"lost: BACKOFF -> STARTING")
    d.wait_state("lost", "BACKOFF")
    d2 = reexec(d) if how == "reexec" else crash_and_restart(daemon_factory, d, text)
    d2.wait_state("lost", "FATAL", timeout=30)
    d2.wait_log(r"lost: gave up after")
    # Back-offs logged by both daemons (one log when re-executed in place).
    # A start that failed while no daemon watched (the exec or crash came
    # after the launch) is counted by the daemon that finds it gone.
    def backoffs(lines):
        text = "\n".join(lines)
        return (text.count("STARTING -> BACKOFF")
                + text.count("ended while no daemon watched it"))
    before = backoffs(d.lines)
    after = backoffs(d2.lines)
    if d2 is not d:
        after += before
    # start_retries = 3: four failed starts in all, three back-offs.
    assert after == 3, (before, after)
    d2.wait_log(r"lost: gave up after 4 failed starts")


def test_staged_shutdown_interrupted_by_a_crash_finishes(daemon_factory, conf, events):
    text = (conf.daemon(shutdown_timeout=30)
            + conf.program("slow", "--ignore", "TERM", start_secs=0.2, stop_timeout=3)
            + conf.program("quick", start_secs=0.2))
    d = daemon_factory(text)
    d.wait_ready()
    slow = events.wait("slow", "ready")["pid"]
    events.wait("quick", "ready")
    d.wait_state("slow", "RUNNING")
    d.wait_state("quick", "RUNNING")
    d.signal(signal.SIGTERM)
    events.wait("slow", "signal", sig="TERM")
    d.wait_log(r"slow: RUNNING -> STOPPING")
    d2 = crash_and_restart(daemon_factory, d, text)
    d2.wait_log(r"resuming the shutdown a crash interrupted")
    assert d2.wait_exit(timeout=30) == 0
    assert not os.path.exists(f"/proc/{slow}") or \
        open(f"/proc/{slow}/stat").read().split(")")[1].split()[0] == "Z"
    # Nothing was started again on the way out.
    events.wait_none("slow", "ready", timeout=0.2)
    assert len(events.all("slow", "ready")) == 1
