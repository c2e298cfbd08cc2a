"""The daemon's own signals: a second SIGTERM or SIGINT during a shutdown
skips the remaining grace periods; on_sighup and on_sigquit choose between
reload, shutdown and nothing.
"""

import time

import pytest

from conftest import pid_running, wait_gone

WAIT = 30
# How long the programs below would hold up a shutdown if left alone.
LONG_GRACE = 30


def ready(events, *names):
    """Wait for the ready event of each program; return {name: event}."""
    return {name: events.wait(name, "ready", timeout=WAIT) for name in names}


def stubborn_pair(conf, **daemon_keys):
    """b depends on a; both ignore TERM and ask for a long grace period."""
    keys = dict(stop_timeout=LONG_GRACE, start_secs=0)
    return (conf.daemon(shutdown_timeout=120, **daemon_keys) +
            conf.program("a", "--ignore", "TERM", **keys) +
            conf.program("b", "--ignore", "TERM", depends_on="a", **keys))


@pytest.mark.parametrize("sig", ["TERM", "INT"])
@pytest.mark.test_timeout(60)
def test_second_signal_skips_the_grace_periods(daemon_factory, conf, events,
                                               sig):
    d = daemon_factory(stubborn_pair(conf))
    pids = {n: ev["pid"] for n, ev in ready(events, "a", "b").items()}

    d.signal(sig)
    events.wait("b", "signal", sig="TERM")
    # b holds its stage for its grace period: a has not been asked yet.
    assert events.all("a", "signal") == []
    since = d.mark()
    d.signal(sig)
    again = time.monotonic()
    d.wait_log(rf"SIG{sig} again: skipping the remaining grace periods",
               since=since)
    assert d.wait_exit(WAIT) == 0
    gone = time.monotonic()
    # Killed right away, the later stage too, not after 2 x 30 s.
    assert gone - again < LONG_GRACE / 2
    for name in "ab":
        d.wait_log(rf"\b{name}: pid {pids[name]} exited \(signal KILL\)",
                   since=since)
    assert not wait_gone(pids.values(), 5)
    assert events.all("a", "exit") == [] and events.all("b", "exit") == []


@pytest.mark.test_timeout(60)
def test_second_signal_during_the_exit_sweep_kills_at_once(daemon_factory,
                                                           conf, events):
    # The program stops at once, but what escaped its group ignores TERM
    # and would get a 30 s grace period from the sweep.
    # No cgroup per program: the sweep, not the program's stop, meets it.
    d = daemon_factory(conf.daemon(shutdown_timeout=120, cgroups="off") +
                       conf.program("a", "--escape", stop_timeout=LONG_GRACE,
                                    start_secs=0))
    events.wait("a", "ready")
    esc = events.wait("a.esc", "ready")

    d.signal("TERM")
    events.wait("a.esc", "signal", sig="TERM")
    d.signal("TERM")
    again = time.monotonic()
    assert d.wait_exit(WAIT) == 0
    assert time.monotonic() - again < LONG_GRACE / 2
    d.wait_log(rf"sweeping leftover process {esc['pid']} with signal 9")
    assert not wait_gone([esc["pid"]], 5)


def test_sighup_reloads_by_default(daemon_factory, conf, events):
    first = conf.program("a", start_secs=0)
    d = daemon_factory(first)
    a = events.wait("a", "ready")

    d.write_config(first + conf.program("b", start_secs=0))
    d.signal("HUP")
    d.wait_log(r"SIGHUP: reloading the config")
    events.wait("b", "ready")
    # a's section did not change: it was left alone.
    assert d.status()["a"]["pid"] == a["pid"]
    assert events.all("a", "signal") == []
    assert d.returncode is None


def test_sighup_reload_keeps_running_on_a_bad_config(daemon_factory, conf,
                                                     events):
    d = daemon_factory(conf.daemon(on_sighup="reload") +
                       conf.program("a", start_secs=0))
    a = events.wait("a", "ready")
    d.write_config(conf.daemon(on_sighup="reload") +
                   conf.program("a", start_secs=0, no_such_key=1))
    d.signal("HUP")
    d.wait_log(r"reload failed; still running the old config")
    assert d.returncode is None
    assert d.status()["a"]["pid"] == a["pid"]


@pytest.mark.parametrize("sig, key", [("HUP", "on_sighup"),
                                      ("QUIT", "on_sigquit")])
def test_policy_shutdown_is_a_staged_shutdown(daemon_factory, conf, events,
                                              sig, key):
    keys = dict(start_secs=0)
    d = daemon_factory(conf.daemon(**{key: "shutdown"}) +
                       conf.program("a", "--exit-delay", 0.3, **keys) +
                       conf.program("b", "--exit-delay", 0.3, depends_on="a",
                                    **keys))
    ready(events, "a", "b")
    d.signal(sig)
    d.wait_log(rf"shutting down \(SIG{sig}\)")
    b_exit = events.wait("b", "exit")
    a_term = events.wait("a", "signal", sig="TERM")
    assert a_term["t"] >= b_exit["t"]
    events.wait("a", "exit")
    assert d.wait_exit(WAIT) == 0


def test_sigquit_shuts_down_by_default(daemon_factory, conf, events):
    d = daemon_factory(conf.program("a", start_secs=0))
    a = events.wait("a", "ready")
    d.signal("QUIT")
    events.wait("a", "signal", sig="TERM")
    assert d.wait_exit(WAIT) == 0
    assert not wait_gone([a["pid"]], 5)


@pytest.mark.parametrize("sig, key", [("HUP", "on_sighup"),
                                      ("QUIT", "on_sigquit")])
def test_policy_ignore_changes_nothing(daemon_factory, conf, events, sig,
                                       key):
    first = conf.daemon(**{key: "ignore"}) + conf.program("a", start_secs=0)
    d = daemon_factory(first)
    a = events.wait("a", "ready")
    # Were SIGHUP a reload, b would start.
    d.write_config(first + conf.program("b", start_secs=0))
    for _ in range(2):
        since = d.mark()
        d.signal(sig)
        d.wait_log(rf"SIG{sig} ignored \(policy\)", since=since)
    st = d.status()
    assert list(st) == ["a"]
    assert st["a"]["state"] == "RUNNING" and st["a"]["pid"] == a["pid"]
    assert events.all("a", "signal") == []
    assert pid_running(a["pid"])
    assert d.returncode is None


def test_inherited_ignored_sigchld_still_reports_exits(daemon_factory, conf,
                                                      events):
    # Started with SIGCHLD ignored, the kernel would reap the programs
    # itself and their exit codes would be lost.
    ignore = ["/usr/bin/python3", "-c",
              "import os, signal, sys; "
              "signal.signal(signal.SIGCHLD, signal.SIG_IGN); "
              "os.execv(sys.argv[1], sys.argv[1:])"]
    d = daemon_factory(conf.program("a", "--exit", "3", "--after", "0",
                                    start_secs=0, autorestart="false"),
                       prefix=ignore)
    events.wait("a", "exit", code=3)
    d.wait_state("a", "EXITED", WAIT)
    st = d.status("a")["a"]
    assert st["exit_code"] == 3, st
    d.signal("TERM")
    assert d.wait_exit(WAIT) == 0
