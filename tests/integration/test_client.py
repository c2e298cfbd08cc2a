"""safeexitctl against a real daemon: every command of safeexitctl(1).

Each test starts its own daemon with test children (tests/helpers/testchild)
as programs.  What a command did is checked on the children's events and on
the daemon's log, never on the clock; timings only bound how long a wait may
take.  `kill` has its own file (test_kill.py).
"""

import json
import os
import pty
import re
import select
import socket
import subprocess
import threading
import time

import pytest

from conftest import SAFEEXITCTL, SAFEEXITD, pid_running, wait_for, wait_gone

# Quick to count as RUNNING, so starts do not dominate the run time.
QUICK = 0.2

# The keys of `status --json`, exactly as safeexitctl(1) shows them.
DAEMON_KEYS = {"pid", "version", "uptime"}
PROGRAM_KEYS = {"name", "state", "pid", "uptime", "exit_code", "signal",
                "restarts", "ready", "health", "status_text",
                "cpu_seconds", "memory_bytes", "oom_kills"}

RUNNING_LINE = r"pid (\d+), uptime \d+:\d\d:\d\d"


def ctl_raw(*args, timeout=60, **kwargs):
    """Run safeexitctl with exactly these arguments (no -s)."""
    return subprocess.run([str(SAFEEXITCTL), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, **kwargs)


def status_json(d, *names):
    """Return (exit code, parsed `status --json NAME...`)."""
    r = d.ctl("status", "--json", *names)
    assert r.stdout.count("\n") == 1, r.stdout
    return r.returncode, json.loads(r.stdout)


def programs(doc):
    """The programs of a status document by name."""
    return {p["name"]: p for p in doc["programs"]}


def state_of(d, name):
    """The state of one program as `status --json` reports it."""
    _, doc = status_json(d, name)
    return programs(doc)[name]["state"]


def transition(d, name, to, since=0, timeout=30):
    """Wait until the daemon logs name entering state to; return the line."""
    return d.wait_log(rf"info: {re.escape(name)}: [A-Z]+ -> {to}\b",
                      timeout, since).string


def running(d, name, since=0, timeout=30):
    """Wait until name is RUNNING; return its pid from the log."""
    line = transition(d, name, "RUNNING", since, timeout)
    return int(re.search(r"\(pid (\d+)\)", line).group(1))


def status_lines(out):
    """Split text status into {name: (state, detail)}."""
    rows = {}
    for line in out.splitlines():
        m = re.fullmatch(r"(\S+)\s+([A-Z]+)(?:\s+(.*))?", line)
        assert m, f"not a status line: {line!r}"
        rows[m.group(1)] = (m.group(2), m.group(3) or "")
    return rows


# status

def test_status_text_one_line_per_program_and_exit_codes(daemon_factory,
                                                         conf, events):
    d = daemon_factory(conf.program("web", start_secs=QUICK)
                       + conf.program("idle", autostart=False))
    d.wait_ready()
    pid = running(d, "web")
    assert events.wait("web", "ready")["pid"] == pid

    r = d.ctl("status")
    assert r.returncode == 1, "idle is not RUNNING"
    lines = r.stdout.splitlines()
    assert len(lines) == 2, "one line per program, no header"
    assert re.fullmatch(rf"web\s+RUNNING\s+{RUNNING_LINE}", lines[0])
    assert int(re.search(r"pid (\d+)", lines[0]).group(1)) == pid
    assert re.fullmatch(r"idle\s+STOPPED\s*", lines[1])
    assert r.stderr == ""

    r = d.ctl("status", "web")
    assert r.returncode == 0
    assert list(status_lines(r.stdout)) == ["web"]

    r = d.ctl("status", "idle")
    assert r.returncode == 1
    assert list(status_lines(r.stdout)) == ["idle"]

    r = d.ctl("status", "idle", "web")
    assert r.returncode == 1
    assert list(status_lines(r.stdout)) == ["idle", "web"]

    r = d.ctl("status", "web", "nope")
    assert r.returncode == 1, "an unknown name is exit 1"
    assert list(status_lines(r.stdout)) == ["web"]
    assert "nope" in r.stderr


def test_status_detail_describes_the_last_exit(daemon_factory, conf, events,
                                               workdir):
    d = daemon_factory(
        conf.program("code", "--exit", "3", "--after", "0.3",
                     start_secs=0.1, autorestart="never")
        + conf.program("killed", start_secs=QUICK, autorestart="never")
        + conf.program("broken", command=str(workdir / "no-such-program"),
                       start_secs=QUICK, start_retries=0)
        + conf.program("done", "--exit", "0", "--after", "0.3",
                       start_secs=0.1, autorestart="never"))
    d.wait_ready()
    transition(d, "code", "EXITED")
    transition(d, "done", "EXITED")
    transition(d, "broken", "FATAL")
    running(d, "killed")
    assert d.ctl("signal", "KILL", "killed").returncode == 0
    transition(d, "killed", "EXITED")

    r = d.ctl("status")
    assert r.returncode == 1
    rows = status_lines(r.stdout)
    assert rows["code"] == ("EXITED", "exit 3")
    assert rows["done"] == ("EXITED", "exit 0")
    assert rows["killed"] == ("EXITED", "signal KILL")
    state, detail = rows["broken"]
    assert state == "FATAL"
    assert "no-such-program" in detail and "No such file" in detail


def test_status_json_has_exactly_the_spec_keys(daemon_factory, conf, events,
                                               workdir):
    d = daemon_factory(
        conf.program("web", start_secs=QUICK)
        + conf.program("idle", autostart=False)
        + conf.program("code", "--exit", "3", "--after", "0.3",
                       start_secs=0.1, autorestart="never")
        + conf.program("killed", start_secs=QUICK, autorestart="never")
        + conf.program("again", "--exit", "0", "--after", "0.3",
                       start_secs=0.1, autorestart="always"))
    d.wait_ready()
    web = running(d, "web")
    transition(d, "code", "EXITED")
    running(d, "killed")
    d.ctl("signal", "KILL", "killed")
    transition(d, "killed", "EXITED")
    # The second start of "again" is its first restart.
    events.wait("again", "ready")
    events.wait("again", "ready")
    assert d.ctl("stop", "again").returncode == 0

    rc, doc = status_json(d)
    assert rc == 1
    assert set(doc) == {"daemon", "programs"}
    assert set(doc["daemon"]) == DAEMON_KEYS
    assert doc["daemon"]["pid"] == d.pid
    assert doc["daemon"]["version"] == d.ctl("version").stdout.strip()
    assert isinstance(doc["daemon"]["uptime"], (int, float))
    assert doc["daemon"]["uptime"] > 0
    assert [p["name"] for p in doc["programs"]] == \
        ["web", "idle", "code", "killed", "again"]
    for p in doc["programs"]:
        assert set(p) == PROGRAM_KEYS, p
    ps = programs(doc)

    assert ps["web"]["state"] == "RUNNING"
    assert ps["web"]["pid"] == web
    assert ps["web"]["uptime"] > 0
    assert ps["web"]["exit_code"] is None and ps["web"]["signal"] is None
    assert ps["web"]["restarts"] == 0
    assert ps["web"]["ready"] is True

    assert ps["idle"] == {"name": "idle", "state": "STOPPED", "pid": None,
                          "uptime": None, "exit_code": None, "signal": None,
                          "restarts": 0, "ready": False, "health": None,
                          "status_text": None, "cpu_seconds": 0,
                          "memory_bytes": 0, "oom_kills": 0}

    assert ps["code"]["state"] == "EXITED"
    assert ps["code"]["pid"] is None
    assert ps["code"]["exit_code"] == 3 and ps["code"]["signal"] is None

    assert ps["killed"]["pid"] is None
    assert ps["killed"]["signal"] == "KILL"
    assert ps["killed"]["exit_code"] is None

    assert ps["again"]["state"] == "STOPPED"
    assert ps["again"]["restarts"] >= 1

    rc, doc = status_json(d, "web")
    assert rc == 0
    assert [p["name"] for p in doc["programs"]] == ["web"]
    rc, doc = status_json(d, "idle", "code")
    assert rc == 1
    assert [p["name"] for p in doc["programs"]] == ["idle", "code"]


# start

def test_start_waits_until_running(daemon_factory, conf, events):
    d = daemon_factory(conf.program("web", start_secs=0.5, autostart=False))
    d.wait_ready()
    assert state_of(d, "web") == "STOPPED"

    r = d.ctl("start", "web")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    # The reply came after the transition, not before it.
    assert transition(d, "web", "RUNNING")
    assert state_of(d, "web") == "RUNNING"
    rows = status_lines(r.stdout)
    assert rows["web"][0] == "RUNNING"
    pid = events.wait("web", "ready")["pid"]
    assert rows["web"][1].startswith(f"pid {pid},")


def test_start_of_a_program_that_goes_fatal_is_exit_1(daemon_factory, conf,
                                                      events, workdir):
    d = daemon_factory(
        conf.program("broken", command=str(workdir / "no-such-program"),
                     autostart=False, start_secs=QUICK, start_retries=1)
        + conf.program("quits", "--exit", "1", "--after", "0",
                       autostart=False, start_secs=1, start_retries=0))
    d.wait_ready()
    r = d.ctl("start", "broken")
    assert r.returncode == 1
    assert status_lines(r.stdout)["broken"][0] == "FATAL"
    assert state_of(d, "broken") == "FATAL"

    r = d.ctl("start", "quits")
    assert r.returncode == 1
    assert status_lines(r.stdout)["quits"][0] == "FATAL"
    events.wait("quits", "exit", code=1)


def test_start_several_names_and_all(daemon_factory, conf, events):
    d = daemon_factory(
        conf.program("a", autostart=False, start_secs=QUICK)
        + conf.program("b", autostart=False, start_secs=QUICK)
        + conf.program("c", autostart=False, start_secs=QUICK))
    d.wait_ready()

    r = d.ctl("start", "a", "b")
    assert r.returncode == 0, r.stderr
    assert set(status_lines(r.stdout)) == {"a", "b"}
    rc, doc = status_json(d)
    assert {n: p["state"] for n, p in programs(doc).items()} == \
        {"a": "RUNNING", "b": "RUNNING", "c": "STOPPED"}
    a = programs(doc)["a"]["pid"]

    r = d.ctl("start", "all")
    assert r.returncode == 0, r.stderr
    rc, doc = status_json(d)
    assert rc == 0
    assert all(p["state"] == "RUNNING" for p in doc["programs"])
    assert programs(doc)["a"]["pid"] == a, "a running program is left alone"
    assert len(events.all(event="ready")) == 3

    r = d.ctl("start", "a", "nope")
    assert r.returncode == 1
    assert "nope" in r.stderr


def test_start_starts_dependencies_first(daemon_factory, conf, events):
    d = daemon_factory(
        conf.program("web", autostart=False, start_secs=QUICK,
                     depends_on="db")
        + conf.program("db", autostart=False, start_secs=0.5))
    d.wait_ready()
    mark = d.mark()
    r = d.ctl("start", "web")
    assert r.returncode == 0, r.stderr
    db = events.wait("db", "ready")
    web = events.wait("web", "ready")
    assert db["t"] < web["t"]
    # web is spawned only once db counts as RUNNING.
    db_running = d.wait_log(r"info: db: STARTING -> RUNNING", 1, mark)
    web_spawn = d.wait_log(r"info: web: STOPPED -> STARTING", 1, mark)
    lines = d.lines[mark:]
    assert lines.index(db_running.string) < lines.index(web_spawn.string)
    rc, doc = status_json(d)
    assert rc == 0


def test_commands_that_are_done_at_once(daemon_factory, conf, events):
    """A start with start_secs = 0, or a stop of a stopped program, is over
    before the request handler returns: one reply each, nothing else."""
    d = daemon_factory(conf.program("now", start_secs=0, autostart=False)
                       + conf.program("idle", autostart=False))
    d.wait_ready()
    mark = d.mark()
    pids = []
    for args, state in [(["start", "now"], "RUNNING"),
                        (["start", "now"], "RUNNING"),
                        (["restart", "now"], "RUNNING"),
                        (["stop", "idle"], "STOPPED"),
                        (["stop", "now"], "STOPPED"),
                        (["stop", "now"], "STOPPED")]:
        r = d.ctl(*args)
        assert r.returncode == 0, (args, r.stderr)
        row = status_lines(r.stdout)["now" if "now" in args else "idle"]
        assert row[0] == state
        if state == "RUNNING":
            pids.append(int(re.match(r"pid (\d+)", row[1]).group(1)))
    assert pids[0] == pids[1] != pids[2]
    r = d.ctl("start", "now", "nope")
    assert r.returncode == 1
    assert "nope" in r.stderr
    assert d.ctl("status", "now").returncode == 0
    assert [line for line in d.lines[mark:]
            if "warning" in line or "error" in line] == []


# stop

def test_stop_waits_until_stopped(daemon_factory, conf, events):
    d = daemon_factory(conf.program("web", "--exit-delay", "0.5",
                                    start_secs=QUICK))
    d.wait_ready()
    pid = running(d, "web")

    start = time.monotonic()
    r = d.ctl("stop", "web")
    elapsed = time.monotonic() - start
    assert r.returncode == 0, r.stderr
    # Not a terminal: no progress, not even erased.
    assert r.stderr == ""
    assert status_lines(r.stdout)["web"][0] == "STOPPED"
    assert elapsed >= 0.5
    assert not pid_running(pid)
    events.wait("web", "exit", code=0, timeout=0)
    assert state_of(d, "web") == "STOPPED"

    r = d.ctl("stop", "web", "nope")
    assert r.returncode == 1
    assert "nope" in r.stderr


def test_stop_no_wait_returns_while_stopping(daemon_factory, conf, events):
    d = daemon_factory(conf.program("web", "--ignore", "TERM",
                                    start_secs=QUICK, stop_timeout=30))
    d.wait_ready()
    pid = running(d, "web")

    start = time.monotonic()
    r = d.ctl("stop", "--no-wait", "web")
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - start < 5
    events.wait("web", "signal", sig="TERM")
    assert state_of(d, "web") == "STOPPING"
    assert pid_running(pid)

    # Let it go now rather than after 30 s.
    mark = d.mark()
    assert d.ctl("signal", "INT", "web").returncode == 0
    transition(d, "web", "STOPPED", mark)


def test_stop_stops_dependents_first(daemon_factory, conf, events):
    d = daemon_factory(
        conf.program("web", start_secs=QUICK, depends_on="db")
        + conf.program("db", start_secs=QUICK)
        + conf.program("other", start_secs=QUICK))
    d.wait_ready()
    running(d, "web")
    other = running(d, "other")

    r = d.ctl("stop", "db")
    assert r.returncode == 0, r.stderr
    web_exit = events.wait("web", "exit")
    db_term = events.wait("db", "signal", sig="TERM")
    assert web_exit["t"] <= db_term["t"]
    assert set(status_lines(r.stdout)) == {"web", "db"}
    rc, doc = status_json(d)
    assert {n: p["state"] for n, p in programs(doc).items()} == \
        {"web": "STOPPED", "db": "STOPPED", "other": "RUNNING"}
    assert programs(doc)["other"]["pid"] == other


def test_stop_all(daemon_factory, conf, events):
    d = daemon_factory(conf.program("a", start_secs=QUICK)
                       + conf.program("b", start_secs=QUICK))
    d.wait_ready()
    running(d, "a")
    running(d, "b")
    r = d.ctl("stop", "all")
    assert r.returncode == 0, r.stderr
    rc, doc = status_json(d)
    assert rc == 1
    assert {p["state"] for p in doc["programs"]} == {"STOPPED"}
    assert d.returncode is None, "stop all is not a shutdown"


# restart, signal

def test_restart_gives_a_new_pid(daemon_factory, conf, events):
    d = daemon_factory(conf.program("web", start_secs=QUICK)
                       + conf.program("other", start_secs=QUICK))
    d.wait_ready()
    old = running(d, "web")
    other = running(d, "other")

    r = d.ctl("restart", "web")
    assert r.returncode == 0, r.stderr
    rows = status_lines(r.stdout)
    assert list(rows) == ["web"]
    assert rows["web"][0] == "RUNNING"
    new = int(re.match(r"pid (\d+)", rows["web"][1]).group(1))
    assert new != old
    assert not pid_running(old)
    assert events.wait("web", "ready")["pid"] == old
    assert events.wait("web", "ready")["pid"] == new
    rc, doc = status_json(d)
    assert rc == 0
    assert programs(doc)["web"]["pid"] == new
    assert programs(doc)["other"]["pid"] == other

    r = d.ctl("restart", "all")
    assert r.returncode == 0, r.stderr
    rc, doc = status_json(d)
    assert rc == 0
    assert programs(doc)["web"]["pid"] not in (old, new)
    assert programs(doc)["other"]["pid"] != other


def test_signal_reaches_the_child(daemon_factory, conf, events):
    d = daemon_factory(
        conf.program("a", "--ignore", "USR1", "--ignore", "HUP",
                     start_secs=QUICK)
        + conf.program("b", "--ignore", "USR1", start_secs=QUICK)
        + conf.program("idle", autostart=False))
    d.wait_ready()
    running(d, "a")
    running(d, "b")

    r = d.ctl("signal", "HUP", "a")
    assert r.returncode == 0, r.stderr
    events.wait("a", "signal", sig="HUP")

    r = d.ctl("signal", "USR1", "a", "b")
    assert r.returncode == 0, r.stderr
    events.wait("a", "signal", sig="USR1")
    events.wait("b", "signal", sig="USR1")

    # all: idle has no process, so not every program got it.
    r = d.ctl("signal", "10", "all")
    assert r.returncode == 1
    assert "idle" in r.stderr
    events.wait("a", "signal", sig="USR1")
    events.wait("b", "signal", sig="USR1")

    r = d.ctl("signal", "USR1", "nope")
    assert r.returncode == 1
    assert "nope" in r.stderr

    r = d.ctl("signal", "NOSUCHSIG", "a")
    assert r.returncode == 2
    assert "usage" in r.stderr
    events.wait_none("a", "signal", timeout=0.2)


# shutdown, pid, version

def test_shutdown_stops_everything_and_the_daemon_exits(daemon_factory, conf,
                                                        events):
    d = daemon_factory(conf.program("a", "--exit-delay", "0.3",
                                    start_secs=QUICK)
                       + conf.program("b", start_secs=QUICK))
    d.wait_ready()
    pids = [running(d, "a"), running(d, "b")]
    r = d.ctl("shutdown")
    assert r.returncode == 0, r.stderr
    rows = status_lines(r.stdout)
    assert rows["a"][0] == rows["b"][0] == "STOPPED"
    assert d.wait_exit() == 0
    assert not wait_gone(pids, 5)
    events.wait("a", "exit")
    events.wait("b", "exit")
    assert not os.path.exists(d.socket)
    assert d.ctl("status").returncode == 3


def test_pid(daemon_factory, conf, events):
    d = daemon_factory(conf.program("web", start_secs=QUICK)
                       + conf.program("idle", autostart=False))
    d.wait_ready()
    web = running(d, "web")

    r = d.ctl("pid")
    assert (r.returncode, r.stdout) == (0, f"{d.pid}\n")
    r = d.ctl("pid", "web")
    assert (r.returncode, r.stdout) == (0, f"{web}\n")
    r = d.ctl("pid", "idle")
    assert r.returncode == 1
    assert r.stdout == ""
    assert "idle" in r.stderr
    r = d.ctl("pid", "nope")
    assert r.returncode == 1
    assert "nope" in r.stderr


def test_version(daemon_factory, conf, events):
    d = daemon_factory("")
    d.wait_ready()
    r = d.ctl("version")
    assert r.returncode == 0
    own = subprocess.run([str(SAFEEXITD), "-V"], capture_output=True,
                         text=True, timeout=30).stdout.split()
    assert own[0] == "safeexitd"
    assert r.stdout == own[1] + "\n"


# tail

def test_tail_last_lines(daemon_factory, conf, events, workdir):
    out = [f"out {i}" for i in range(1, 16)]
    err = [f"err {i}" for i in range(1, 4)]
    args = [a for t in out for a in ("--stdout", t)] + \
        [a for t in err for a in ("--stderr", t)]
    d = daemon_factory(
        conf.program("web", *args, start_secs=QUICK,
                     stdout=workdir / "web.out", stderr=workdir / "web.err")
        + conf.program("quiet", start_secs=QUICK, stdout="null"))
    d.wait_ready()
    events.wait("web", "ready")
    # Output is copied by the daemon as it comes: wait for all of it.
    running(d, "web")
    wait_for(lambda: (workdir / "web.out").read_text().count("\n") == 15
             and (workdir / "web.err").read_text().count("\n") == 3,
             what="the output in its files")

    r = d.ctl("tail", "web")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == out[-10:]
    r = d.ctl("tail", "-n", "3", "web")
    assert r.stdout.splitlines() == out[-3:]
    r = d.ctl("tail", "--lines=20", "web", "stdout")
    assert r.stdout.splitlines() == out
    r = d.ctl("tail", "web", "stderr")
    assert (r.returncode, r.stdout.splitlines()) == (0, err)
    r = d.ctl("tail", "-n1", "web", "stderr")
    assert r.stdout.splitlines() == err[-1:]

    r = d.ctl("tail", "quiet")
    assert r.returncode == 1, "no file to read"
    r = d.ctl("tail", "nope")
    assert r.returncode == 1
    r = d.ctl("tail", "web", "bogus")
    assert r.returncode == 2
    r = d.ctl("tail", "-n", "many", "web")
    assert r.returncode == 2


def read_until(fd, want, timeout=30):
    """Read fd until every string of want has been seen; return the text."""
    text = ""
    deadline = time.monotonic() + timeout
    while not all(w in text for w in want):
        left = deadline - time.monotonic()
        assert left > 0, f"never saw {want!r}; got {text!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            data = os.read(fd, 65536)
            assert data, f"end of output before {want!r}; got {text!r}"
            text += data.decode()
    return text


@pytest.mark.test_timeout(60)
def test_tail_follow_across_rotation(daemon_factory, conf, events, workdir):
    feed = workdir / "feed"
    os.mkfifo(feed)
    log = workdir / "web.out"
    # cat copies what the test writes into the FIFO to its stdout.
    d = daemon_factory(conf.program(
        "web", command=f"/bin/cat {feed}", start_secs=0,
        stdout=log, stdout_max_bytes=400, stdout_backups=2))
    d.wait_ready()
    writer = os.open(feed, os.O_WRONLY)
    tail = subprocess.Popen([str(SAFEEXITCTL), "-s", d.socket, "tail", "-f",
                             "web"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        os.write(writer, b"first line\n")
        read_until(tail.stdout.fileno(), ["first line\n"])

        # 11 + 12 * 40 bytes pass 400: the daemon rotates on the way.
        before = [f"before {i:02d} ".ljust(39, ".") for i in range(12)]
        os.write(writer, "".join(b + "\n" for b in before).encode())
        read_until(tail.stdout.fileno(), [before[-1] + "\n"])
        assert (workdir / "web.out.1").exists(), "no rotation happened"
        assert log.stat().st_size < 400

        after = [f"after rotation {i}" for i in range(3)]
        os.write(writer, "".join(a + "\n" for a in after).encode())
        text = read_until(tail.stdout.fileno(), [after[-1] + "\n"])
        assert text.splitlines() == after
        assert tail.poll() is None, "tail -f keeps following"
    finally:
        tail.terminate()
        tail.wait(10)
        os.close(writer)
    assert "first line" in (workdir / "web.out.1").read_text()


# global options

def test_timeout_bounds_a_wait(daemon_factory, conf, events):
    d = daemon_factory(conf.program("web", "--ignore", "TERM",
                                    start_secs=QUICK, stop_timeout=30))
    d.wait_ready()
    running(d, "web")

    start = time.monotonic()
    r = d.ctl("-t", "0.5", "stop", "web")
    elapsed = time.monotonic() - start
    assert r.returncode == 1
    assert 0.5 <= elapsed < 5
    assert "timed out" in r.stderr
    # The stop goes on without the client.
    events.wait("web", "signal", sig="TERM")
    assert state_of(d, "web") == "STOPPING"
    mark = d.mark()
    d.ctl("signal", "INT", "web")
    transition(d, "web", "STOPPED", mark)


def test_config_file_gives_the_socket(daemon_factory, conf, events, workdir):
    d = daemon_factory(conf.program("web", start_secs=QUICK))
    d.wait_ready()
    web = running(d, "web")
    r = ctl_raw("-c", d.config_path, "pid", "web", cwd=workdir)
    assert (r.returncode, r.stdout) == (0, f"{web}\n")
    r = ctl_raw("--config", d.config_path, "status", cwd=workdir)
    assert r.returncode == 0
    assert list(status_lines(r.stdout)) == ["web"]


def test_no_daemon_is_exit_3(workdir):
    r = ctl_raw("-s", workdir / "absent.sock", "status")
    assert r.returncode == 3
    assert "absent.sock" in r.stderr

    # A socket nobody listens on any more.
    path = str(workdir / "stale.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()
    r = ctl_raw("-s", path, "stop", "all")
    assert r.returncode == 3

    config = workdir / "c.ini"
    config.write_text(f"[safeexitd]\nsocket = {workdir / 'absent.sock'}\n")
    r = ctl_raw("-c", config, "version")
    assert r.returncode == 3


def test_daemon_of_another_version_is_exit_3(workdir):
    """A stand-in daemon that speaks protocol version 2."""
    path = str(workdir / "v2.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    server.settimeout(30)
    got = []

    def serve():
        conn, _ = server.accept()
        with conn:
            got.append(conn.makefile("rb").readline())
            conn.sendall(b'{"v":2,"ok":false,"code":"version","error":'
                         b'"protocol version 1 is not supported '
                         b'(daemon speaks 2)"}\n')

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        r = ctl_raw("-s", path, "status")
    finally:
        thread.join(30)
        server.close()
    assert r.returncode == 3
    assert "version" in r.stderr
    assert json.loads(got[0]) == {"v": 1, "cmd": "status", "usage": False}


@pytest.mark.parametrize("args", [
    [],
    ["bogus"],
    ["start"],
    ["stop"],
    ["restart"],
    ["signal", "TERM"],
    ["signal", "NOSUCHSIG", "web"],
    ["pid", "a", "b"],
    ["version", "extra"],
    ["reload", "extra"],
    ["shutdown", "now"],
    ["tail"],
    ["tail", "web", "stdout", "extra"],
    ["tail", "web", "bogus"],
    ["tail", "-n", "x", "web"],
    ["stop", "--bogus", "web"],
    ["status", "-x"],
    ["start", "--no-wait", "web"],
    ["-t", "soon", "status"],
    ["--bogus", "status"],
], ids=lambda a: " ".join(a) or "nothing")
def test_usage_errors_are_exit_2(workdir, args):
    # No daemon is needed to find a usage error, and none is tried.
    r = ctl_raw("-s", workdir / "absent.sock", *args)
    assert r.returncode == 2, r.stderr
    assert "usage:" in r.stderr
    assert r.stdout == ""


@pytest.mark.parametrize("command", [
    "status", "start", "stop", "restart", "signal", "reload", "shutdown",
    "pid", "tail", "reexec", "kill", "version"])
def test_command_help_is_exit_0(workdir, command):
    r = ctl_raw("-s", workdir / "absent.sock", command, "--help")
    assert r.returncode == 0, r.stderr
    assert "usage" in r.stdout.lower()
    assert command in r.stdout
    assert r.stderr == ""


def test_global_help_lists_every_command(workdir):
    r = ctl_raw("--help")
    assert r.returncode == 0
    for command in ("status", "start", "stop", "restart", "signal", "reload",
                    "shutdown", "pid", "tail", "reexec", "kill", "version"):
        assert re.search(rf"^  {command}\b", r.stdout, re.M), command


# progress

def test_progress_shows_on_a_terminal(daemon_factory, conf, events):
    d = daemon_factory(conf.program("web", "--exit-delay", "0.5",
                                    start_secs=QUICK, stop_timeout=7))
    d.wait_ready()
    running(d, "web")

    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([str(SAFEEXITCTL), "-s", d.socket, "stop",
                                 "web"], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        slave = None
        seen = b""
        while True:
            ready, _, _ = select.select([master], [], [], 30)
            assert ready, f"no end of output; got {seen!r}"
            try:
                data = os.read(master, 4096)
            except OSError:		# EIO: the client closed the terminal
                break
            if not data:
                break
            seen += data
        assert proc.wait(10) == 0
        out = proc.stdout.read().decode()
        proc.stdout.close()
    finally:
        os.close(master)
        if slave is not None:
            os.close(slave)
    text = seen.decode()
    assert "stage 1 of 1" in text
    assert "1 program left" in text
    assert "longest grace 7.0 s" in text
    # The progress line is erased before the client finishes.
    assert text.endswith("\r\x1b[K")
    assert status_lines(out)["web"][0] == "STOPPED"
