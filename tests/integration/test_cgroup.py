"""A cgroup v2 per program, where the daemon's cgroup is delegated to it.

Each test runs the daemon in a cgroup of its own, made by the test below the
test's cgroup and marked delegated the way systemd's Delegate=yes marks one
(the trusted.delegate attribute), so what is checked does not depend on
where the suite runs.  The tests are skipped where no cgroup v2 hierarchy
can be written to (no cgroup2 mount, or one mounted read-only).

What a user sees: every process of a program, including one that double
forked into a session of its own, is in the program's cgroup, and `stop`
ends all of them; leftovers of an exited or crashed run are stopped with
the program; the daemon leaves no cgroup behind; without delegation, or
with `cgroups = off`, process groups and the exit sweep hold programs.
"""

import errno
import json
import os
import signal
import time
import uuid
from pathlib import Path

import pytest

from conftest import CGROUPS_OFF, pid_running, pid_state, wait_for, wait_gone

WAIT = 30


def cgroup2_root():
    """The cgroup2 mount point whose root is the hierarchy's, or None."""
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        for line in f:
            head, _, tail = line.partition(" - ")
            fields = head.split()
            if tail.startswith("cgroup2 ") and fields[3] == "/":
                return Path(fields[4].replace("\\040", " "))
    return None


def cgroup_of(pid):
    """The cgroup v2 path of pid (from /proc/PID/cgroup), or None."""
    try:
        with open(f"/proc/{pid}/cgroup", encoding="utf-8") as f:
            for line in f:
                if line.startswith("0::"):
                    return line[3:].rstrip("\n")
    except FileNotFoundError:
        pass
    return None


def procs(path):
    """The pids in a cgroup's cgroup.procs."""
    return [int(x) for x in (path / "cgroup.procs").read_text().split()]


def subgroups(path):
    """The cgroups directly below path."""
    return sorted(p.name for p in path.iterdir() if p.is_dir())


class ScratchCgroup:
    """A cgroup made for one test, removed (with what is below it) after."""

    def __init__(self, root):
        own = cgroup_of("self")
        self.root = root
        self.path = root / own.lstrip("/") / f"sxtest-{uuid.uuid4().hex[:12]}"
        self.path.mkdir()

    def delegate(self):
        os.setxattr(self.path, "trusted.delegate", b"1")

    def prefix(self):
        """Words that start the daemon inside this cgroup."""
        return ("/bin/sh", "-c", f'echo 0 > "{self.path}/cgroup.procs" && '
                'exec "$@"', "sh")

    def rel(self, path):
        """A cgroup path as /proc/PID/cgroup writes it."""
        return "/" + str(path.relative_to(self.root))

    def daemon_dir(self):
        """The daemon's folder (safeexitd-KEY) below this cgroup."""
        names = [n for n in subgroups(self.path) if n.startswith("safeexitd-")]
        assert len(names) == 1, names
        return self.path / names[0]

    def remove(self):
        """Remove the tree bottom-up; what still runs there was left behind."""
        left = []
        for dirpath, _, _ in sorted(os.walk(self.path), key=lambda w: -len(w[0])):
            for _ in range(50):
                try:
                    os.rmdir(dirpath)
                    break
                except OSError as e:
                    if e.errno != errno.EBUSY:
                        raise
                    for pid in procs(Path(dirpath)):
                        left.append(pid)
                        os.kill(pid, signal.SIGKILL)
                    time.sleep(0.05)
        return left


@pytest.fixture
def cg():
    if CGROUPS_OFF:
        pytest.skip("SAFEEXITD_TEST_CGROUPS=off: the suite runs without cgroups")
    root = cgroup2_root()
    if root is None:
        pytest.skip("no cgroup v2 hierarchy mounted here")
    if cgroup_of("self") is None:
        pytest.skip("this process is not in the cgroup v2 hierarchy")
    try:
        group = ScratchCgroup(root)
    except OSError as e:
        pytest.skip(f"cannot make a cgroup here: {e}")
    yield group
    assert group.remove() == [], "processes were left in the test's cgroup"


def start(daemon_factory, cg, text):
    d = daemon_factory(text, prefix=cg.prefix())
    d.wait_ready()
    return d


def program_cgroup(cg, name):
    return cg.daemon_dir() / f"program-{name}"


def test_every_process_of_a_program_is_in_its_cgroup(cg, daemon_factory, conf,
                                                     events):
    cg.delegate()
    d = start(daemon_factory, cg,
              conf.program("a", "--fork-grandchild", start_secs=0) +
              conf.program("b", "--escape", start_secs=0))
    d.wait_log(rf"programs run in a cgroup each under {cg.path}/safeexitd-")
    a, gc = events.wait("a", "ready"), events.wait("a.gc", "ready")
    b, esc = events.wait("b", "ready"), events.wait("b.esc", "ready")
    a_cg, b_cg = program_cgroup(cg, "a"), program_cgroup(cg, "b")
    assert cgroup_of(a["pid"]) == cgroup_of(gc["pid"]) == cg.rel(a_cg)
    # Its own session and process group, and still in b's cgroup.
    assert esc["sid"] == esc["pid"] != b["sid"]
    assert cgroup_of(b["pid"]) == cgroup_of(esc["pid"]) == cg.rel(b_cg)
    assert sorted(procs(a_cg)) == sorted([a["pid"], gc["pid"]])
    # The daemon itself stays where it was started.
    assert cgroup_of(d.pid) == cg.rel(cg.path)


def test_stop_ends_what_left_the_process_group(cg, daemon_factory, conf,
                                               events):
    cg.delegate()
    d = start(daemon_factory, cg,
              conf.program("a", "--escape", stop_timeout=1, start_secs=0))
    main = events.wait("a", "ready")
    esc = events.wait("a.esc", "ready")

    began = time.monotonic()
    r = d.ctl("stop", "a")
    took = time.monotonic() - began
    assert r.returncode == 0, r.stderr
    term = events.wait("a.esc", "signal", sig="TERM")
    # Signalled with its program, not after it.
    assert term["t"] <= events.wait("a", "exit")["t"] + 0.5
    # It ignores TERM, so the stop lasted its grace and then killed it.
    assert took >= 0.9
    d.wait_log(r"a: still running after 1s; sending KILL")
    assert pid_state(esc["pid"]) is None
    assert pid_state(main["pid"]) is None
    assert procs(program_cgroup(cg, "a")) == []
    assert d.status()["a"]["state"] == "STOPPED"
    assert events.all("a.esc", "exit") == []


def test_a_program_once_killed_starts_again_in_its_cgroup(cg, daemon_factory,
                                                         conf, events):
    """Killed through its cgroup, a program's next start lives (some
    kernels SIGKILL every child started into a cgroup cgroup.kill emptied:
    the daemon then kills process by process)."""
    cg.delegate()
    d = start(daemon_factory, cg,
              conf.program("a", "--ignore", "TERM", stop_timeout=0.5,
                           start_secs=0.5))
    first = events.wait("a", "ready")
    r = d.ctl("stop", "a")
    assert r.returncode == 0, r.stderr
    d.wait_log(r"a: still running after 0\.5s; sending KILL")
    for _ in range(2):
        r = d.ctl("start", "a")
        assert r.returncode == 0, r.stdout + r.stderr
        again = events.wait("a", "ready")
        assert again["pid"] != first["pid"]
        assert cgroup_of(again["pid"]) == cg.rel(program_cgroup(cg, "a"))
        assert d.status()["a"]["state"] == "RUNNING"
        r = d.ctl("stop", "a")
        assert r.returncode == 0, r.stderr


def test_leftovers_of_an_exited_run_are_stopped_with_the_program(
        cg, daemon_factory, conf, events):
    cg.delegate()
    d = start(daemon_factory, cg,
              conf.program("a", "--escape", "--exit", "0", "--after", "0.2",
                           autorestart="never", start_secs=0, stop_timeout=1))
    esc = events.wait("a.esc", "ready")
    d.wait_state("a", "EXITED")
    assert pid_running(esc["pid"])

    r = d.ctl("stop", "a")
    assert r.returncode == 0, r.stderr
    events.wait("a.esc", "signal", sig="TERM")
    assert not wait_gone([esc["pid"]], WAIT)
    assert d.status()["a"]["state"] == "STOPPED"


def test_grandchildren_of_crashed_runs_are_stopped_with_the_program(
        cg, daemon_factory, conf, events):
    cg.delegate()
    d = start(daemon_factory, cg,
              conf.program("a", "--exit", "1", "--after", "0.3",
                           "--fork-grandchild", start_secs=0.1,
                           autorestart="always"))
    for _ in range(3):
        events.wait("a", "ready")
    gcs = [ev["pid"] for ev in events.all("a.gc", "ready")]
    # Each crashed run left its grandchild running in the program's cgroup.
    assert sum(pid_running(gc) for gc in gcs) >= 2

    r = d.ctl("stop", "a")
    assert r.returncode == 0, r.stderr
    assert not wait_gone(gcs, WAIT)
    assert procs(program_cgroup(cg, "a")) == []


def test_the_daemon_removes_its_cgroups_when_it_exits(cg, daemon_factory,
                                                      conf, events):
    cg.delegate()
    d = start(daemon_factory, cg,
              conf.program("a", "--escape", start_secs=0, stop_timeout=1) +
              conf.program("b", start_secs=0))
    esc = events.wait("a.esc", "ready")
    events.wait("b", "ready")
    assert subgroups(cg.daemon_dir()) == ["program-a", "program-b"]

    d.signal("TERM")
    assert d.wait_exit(WAIT) == 0
    assert pid_state(esc["pid"]) is None
    assert subgroups(cg.path) == []


def test_a_program_removed_by_reload_loses_its_cgroup(cg, daemon_factory,
                                                      conf, events):
    cg.delegate()
    d = start(daemon_factory, cg,
              conf.program("a", start_secs=0) + conf.program("b", start_secs=0))
    events.wait("b", "ready")
    assert subgroups(cg.daemon_dir()) == ["program-a", "program-b"]
    d.write_config(conf.program("a", start_secs=0))
    r = d.ctl("reload")
    assert r.returncode == 0, r.stderr
    wait_for(lambda: subgroups(cg.daemon_dir()) == ["program-a"], WAIT,
             "b's cgroup removed")


def test_a_restarted_daemon_finds_its_programs_cgroups(cg, daemon_factory,
                                                       conf, events):
    # The folder is named after the socket: after a crash, the daemon that
    # takes over the socket stops adopted programs through their cgroups.
    cg.delegate()
    text = conf.program("a", "--escape", start_secs=0, stop_timeout=1)
    d = start(daemon_factory, cg, text)
    main = events.wait("a", "ready")
    esc = events.wait("a.esc", "ready")
    d.wait_state("a", "RUNNING")
    # The state file (written shortly after a change) names the program.
    state = Path(d.socket + ".state")
    wait_for(lambda: state.exists() and
             str(main["pid"]) in state.read_text(), WAIT, "the state file")
    d.signal(signal.SIGKILL)
    assert d.wait_exit() == -signal.SIGKILL

    d2 = daemon_factory(text, extra_args=("-s", d.socket), prefix=cg.prefix())
    d2.socket = d.socket
    d2.wait_ready()
    d2.wait_log(rf"a: adopted running pid {main['pid']}")
    r = d2.ctl("stop", "a")
    assert r.returncode == 0, r.stderr
    events.wait("a.esc", "signal", sig="TERM")
    assert not wait_gone([main["pid"], esc["pid"]], WAIT)


def test_an_undelegated_cgroup_is_left_alone(cg, daemon_factory, conf, events):
    # No Delegate=yes mark: the cgroup is another manager's.
    d = start(daemon_factory, cg,
              conf.program("a", "--escape", start_secs=0))
    d.wait_log(r"no cgroup per program \(the daemon's cgroup is not "
               r"delegated to it\): programs are held by their process groups")
    main = events.wait("a", "ready")
    esc = events.wait("a.esc", "ready")
    assert subgroups(cg.path) == []
    assert cgroup_of(main["pid"]) == cg.rel(cg.path)
    r = d.ctl("stop", "a")
    assert r.returncode == 0, r.stderr
    # Out of its group, and with no cgroup to find it by: the stop misses it.
    assert pid_running(esc["pid"])
    assert events.all("a.esc", "signal") == []
    os.kill(esc["pid"], signal.SIGKILL)
    assert not wait_gone([esc["pid"]], WAIT)


def test_cgroups_off_is_obeyed(cg, daemon_factory, conf, events):
    cg.delegate()
    d = start(daemon_factory, cg,
              conf.daemon(cgroups="off") + conf.program("a", start_secs=0))
    d.wait_log(r"cgroups = off: programs are held by their process groups")
    main = events.wait("a", "ready")
    assert subgroups(cg.path) == []
    assert cgroup_of(main["pid"]) == cg.rel(cg.path)


def test_cgroups_takes_auto_or_off_and_changes_on_restart(cg, daemon_factory,
                                                          conf, events):
    cg.delegate()
    d = start(daemon_factory, cg, conf.daemon(cgroups="auto") +
              conf.program("a", start_secs=0))
    events.wait("a", "ready")
    d.write_config(conf.daemon(cgroups="yes") + conf.program("a", start_secs=0))
    r = d.ctl("reload")
    assert r.returncode != 0
    assert "cgroups: 'auto' or 'off' expected, not 'yes'" in r.stderr
    d.write_config(conf.daemon(cgroups="off") + conf.program("a", start_secs=0))
    r = d.ctl("--json", "reload")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["restart_needed"] == ["cgroups"]
    # Until the restart, programs stay in their cgroups.
    assert subgroups(cg.daemon_dir()) == ["program-a"]
