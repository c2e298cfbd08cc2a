"""The daemon as PID 1 of a new PID namespace (a container's init), through
`unshare --pid --fork --mount-proc`: it reaps every orphan, shuts down in
stages on SIGTERM and exits 0 when everything stopped cleanly, and with
exit_on_fatal a program that gives up takes everything down with a failure.

Inside the namespace processes have their own pids: the events of the test
children carry those, and the host's /proc maps them back (NSpid).  When
PID 1 of a namespace exits the kernel kills whatever is left in it, and
unshare --kill-child takes the namespace down should unshare itself die, so
nothing can outlive a test here.
"""

import os
import re
import shlex
import signal
import subprocess
import threading
import time

import pytest

from conftest import (DAEMONS_KEY, SAFEEXITD, Daemon, daemon_env, pid_state,
                      proc_children, short_socket_dir, signal_number)

UNSHARE = ("unshare", "--pid", "--fork", "--kill-child")
WAIT = 30


@pytest.fixture(scope="module")
def unshare_works():
    """Skip unless this process may create PID and mount namespaces."""
    try:
        probe = subprocess.run([*UNSHARE, "--mount-proc", "true"],
                               capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        pytest.skip(f"unshare is not usable here: {e}")
    if probe.returncode != 0:
        pytest.skip("cannot create a PID namespace here: "
                    + probe.stderr.decode(errors="replace").strip())


def nspid(pid):
    """Return the NSpid line of a host pid as a list of ints, or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("NSpid:"):
                    return [int(x) for x in line.split()[1:]]
    except OSError:
        return None
    return None


def pid_ns(pid):
    """Return the PID namespace of a host pid (the ns/pid link), or None."""
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


class Pid1Daemon(Daemon):
    """A safeexitd run by unshare as PID 1 of a new PID namespace.

    proc is unshare, which waits for the daemon and exits with its status;
    signals go to the daemon itself (host_pid), as a container runtime
    sends them.  Without mount_proc the daemon sees the host's /proc, whose
    pids are not those of its namespace.
    """

    mount_proc = True

    def start(self):
        """Start unshare ... safeexitd -c CONFIG -l debug."""
        mount = ["--mount-proc"] if self.mount_proc else []
        argv = [*UNSHARE, *mount, str(SAFEEXITD), "-c",
                str(self.config_path), "-l", "debug", *self.args]
        self._log_file = open(self.log_path, "a", encoding="utf-8")
        self._log_file.write(f"# {shlex.join(argv)}\n")
        self._log_file.flush()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT,
                                     cwd=self.workdir,
                                     env=daemon_env(self.env))
        threading.Thread(target=self._read, name=f"{self.name}-log",
                         daemon=True).start()
        self._host_pid = None

    @property
    def host_pid(self):
        """The daemon's pid outside its namespace (unshare's child)."""
        if self._host_pid is None:
            self.wait_ready()
            children = proc_children(self.proc.pid)
            assert len(children) == 1, children
            (self._host_pid,) = children
            assert nspid(self._host_pid)[-1] == 1
        return self._host_pid

    def host_pid_of(self, pid):
        """Return the host pid of pid in the daemon's namespace, or None."""
        ns = pid_ns(self.host_pid)
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            ids = nspid(int(name))
            if ids and len(ids) > 1 and ids[-1] == pid and \
                    pid_ns(int(name)) == ns:
                return int(name)
        return None

    def signal(self, sig):
        """Send sig to the daemon (not to unshare, which ignores TERM)."""
        os.kill(self.host_pid, signal_number(sig))

    def stop(self):
        """SIGTERM the daemon if it still runs; return a list of problems."""
        problems = []
        if self.proc is None:
            return problems
        if self.proc.poll() is None:
            self.note("teardown: SIGTERM")
            try:
                self.signal("TERM")
                rc = self.proc.wait(WAIT)
                if rc != 0:
                    problems.append(f"{self.name}: exited {rc} after SIGTERM")
            except (subprocess.TimeoutExpired, AssertionError, OSError):
                # --kill-child takes the namespace down with unshare.
                self.proc.kill()
                self.proc.wait()
                problems.append(f"{self.name}: did not exit after SIGTERM")
        elif not self._exit_seen and self.proc.returncode != 0:
            problems.append(f"{self.name}: exited unexpectedly "
                            f"({self.proc.returncode})")
        return problems


@pytest.fixture
def pid1_daemon(unshare_works, request, workdir, events, testchild):
    """pid1_daemon(config_text) -> a Pid1Daemon; stopped at teardown."""
    daemons = []
    cleanup = []
    # Failure reports show the logs of the daemons listed here.
    request.node.stash[DAEMONS_KEY] = daemons

    def make(config_text, mount_proc=True):
        sockdir, tmp = short_socket_dir(workdir)
        if tmp:
            cleanup.append(tmp)
        placeholders = {"testchild": testchild, "events": events.path,
                        "tmp": str(workdir)}
        d = Pid1Daemon(workdir, "daemon", workdir / "safeexitd.ini",
                       sockdir / "ctl.sock", (), placeholders)
        d.mount_proc = mount_proc
        d.write_config(config_text)
        daemons.append(d)
        d.start()
        return d

    yield make
    problems = []
    for d in daemons:
        problems += d.stop()
    for tmp in cleanup:
        for name in os.listdir(tmp):
            os.unlink(os.path.join(tmp, name))
        os.rmdir(tmp)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def test_runs_as_pid_1(pid1_daemon, conf, events):
    d = pid1_daemon(conf.program("a", start_secs=0))
    d.wait_log(r"notice: ready: 1 program, control socket .*, pid 1$")
    a = events.wait("a", "ready")
    assert a["ppid"] == 1
    assert d.status()["a"]["state"] == "RUNNING"
    assert d.ctl("pid").stdout.strip() == "1"


def test_orphan_is_reaped(pid1_daemon, conf, events):
    # The program's shell starts a child in a subshell that exits at once:
    # the child is an orphan of PID 1, and when it exits (on the TERM the
    # test sends it), PID 1 must reap it.
    # One line: continuation lines would be joined with newlines, which
    # inside the quotes would end the shell's commands.
    command = " ".join([
        "/bin/sh -c '({testchild}", "--events {events}",
        "--tag orphan &);", "exec {testchild}",
        "--events {events} --tag main'"])
    d = pid1_daemon(conf.program("a", command=command, start_secs=0))
    events.wait("main", "ready")
    ready = events.wait("orphan", "ready")
    host = d.host_pid_of(ready["pid"])
    assert host is not None
    os.kill(host, signal.SIGTERM)
    events.wait("orphan", "exit", code=0)
    # Only its parent can reap it: the daemon adopted it.
    d.wait_log(rf"reaped pid {ready['pid']} \(exit 0\)")
    assert pid_state(host) is None
    assert not [p for p, st in proc_children(d.host_pid).items() if st == "Z"]


def test_escaped_process_is_reaped_when_killed(pid1_daemon, conf, events):
    d = pid1_daemon(conf.program("a", "--escape", start_secs=0))
    events.wait("a", "ready")
    esc = events.wait("a.esc", "ready")
    host = d.host_pid_of(esc["pid"])
    assert host is not None
    os.kill(host, signal.SIGKILL)
    d.wait_log(rf"reaped pid {esc['pid']} \(signal 9\)")
    assert pid_state(host) is None
    assert d.status()["a"]["state"] == "RUNNING"


@pytest.mark.test_timeout(60)
def test_sigterm_stops_in_stages_and_exits_zero(pid1_daemon, conf, events):
    # The exit sweep grants escaped processes the longest stop_timeout (with
    # no cgroup per program: with one, c's stop takes it).
    keys = dict(start_secs=0, stop_timeout=1)
    d = pid1_daemon(conf.daemon(shutdown_timeout=10, cgroups="off") +
                    conf.program("a", "--exit-delay", 0.3, **keys) +
                    conf.program("b", "--exit-delay", 0.3, depends_on="a",
                                 **keys) +
                    conf.program("c", "--escape", **keys))
    events.wait("a", "ready")
    events.wait("b", "ready")
    events.wait("c.esc", "ready")

    d.signal("TERM")
    b_term = events.wait("b", "signal", sig="TERM")
    b_exit = events.wait("b", "exit")
    a_term = events.wait("a", "signal", sig="TERM")
    assert a_term["t"] >= b_exit["t"]
    a_exit = events.wait("a", "exit")
    # The escaped one ignores TERM: the sweep kills it after its grace.
    esc_term = events.wait("c.esc", "signal", sig="TERM")
    assert esc_term["t"] >= a_exit["t"] - 1
    assert d.wait_exit(WAIT) == 0
    assert time.monotonic() - b_term["t"] < 10 + 5
    d.wait_log(r"every program stopped")
    assert re.search(r"exiting with status 0", d.tail())


def test_exit_on_fatal_stops_everything_and_fails(pid1_daemon, conf, events):
    # broken starts once steady is RUNNING (1 s after its launch), so steady
    # has its handlers in place when the shutdown reaches it.
    d = pid1_daemon(conf.daemon(exit_on_fatal=True, shutdown_timeout=10) +
                    conf.program("steady", start_secs=1) +
                    conf.program("broken", "--exit", "2", start_secs=1,
                                 start_retries=0, depends_on="steady"))
    steady = events.wait("steady", "ready")
    events.wait("broken", "exit", code=2)
    term = events.wait("steady", "signal", sig="TERM")
    assert term["t"] > steady["t"]
    assert d.wait_exit(WAIT) == 1
    d.wait_log(r"broken is FATAL and exit_on_fatal is set")


@pytest.mark.test_timeout(60)
def test_exit_sweep_does_not_trust_a_foreign_proc(pid1_daemon, conf, events):
    # With the host's /proc the daemon cannot list its children there; the
    # sweep must still get rid of the escaped process and let the daemon exit.
    d = pid1_daemon(conf.daemon(shutdown_timeout=10, cgroups="off") +
                    conf.program("a", "--escape", stop_timeout=1,
                                 start_secs=0), mount_proc=False)
    events.wait("a", "ready")
    esc = events.wait("a.esc", "ready")
    d.signal("TERM")
    term = events.wait("a.esc", "signal", sig="TERM")
    assert d.wait_exit(WAIT) == 0
    assert time.monotonic() - term["t"] < 10
    d.wait_log(r"sweeping every process left with signal 9")
    assert esc["pid"] != 1
