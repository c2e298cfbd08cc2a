"""The daemon's core against real processes: detached launch, the program
lifecycle (start, back-off, restart, stop), reaping, and the daemon's own
exit on SIGTERM and SIGINT.
"""

import grp
import os
import pwd
import re
import shutil
import signal
import stat
import sys
import tempfile
import time

import pytest

from conftest import (SAFEEXITD, Daemon, Events, pid_ppid, pid_running,
                      pid_state, proc_children, signal_number, wait_gone)


def sig_bit(sig):
    """Return the mask bit of a signal as the test child reports it."""
    return 1 << (signal_number(sig) - 1)


def proc_sigign(pid):
    """Return the SigIgn mask of pid from /proc."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("SigIgn:"):
                return int(line.split()[1], 16)
    return 0


def zombies_of(pid):
    """Return the pids of pid's children that are zombies."""
    return sorted(c for c, state in proc_children(pid).items()
                  if state == "Z")


def log_index(d, pattern, since=0):
    """Return the index of the first log line of d from since matching."""
    for i in range(since, len(d.lines)):
        if re.search(pattern, d.lines[i]):
            return i
    raise AssertionError(f"no log line /{pattern}/")


def others_can_reach(path):
    """Return whether a user without privileges can reach and run path."""
    path = os.path.realpath(path)
    parts = path.split(os.sep)
    for i in range(2, len(parts) + 1):
        mode = os.stat(os.sep.join(parts[:i]) or os.sep).st_mode
        if not mode & stat.S_IXOTH:
            return False
    return True


# Detached launch.

# Runs the daemon the way a careless parent might: in a session with a
# controlling terminal on stdin, a stray descriptor open, a signal blocked
# and others ignored.  None of it may reach a program.
MESSY_PARENT = """
import fcntl, os, signal, sys, termios
master, slave = os.openpty()
os.setsid()
fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
os.dup2(slave, 0)
os.set_inheritable(master, True)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGWINCH})
for sig in (signal.SIGTSTP, signal.SIGTTOU, signal.SIGALRM):
    signal.signal(sig, signal.SIG_IGN)
os.execv(sys.argv[1], sys.argv[1:])
"""


def test_launch_is_detached(daemon_factory, conf, events):
    d = daemon_factory(conf.program("a", "--check-fds", start_secs=0),
                       prefix=[sys.executable, "-c", MESSY_PARENT])
    d.wait_ready()
    # The daemon did get all of that.
    assert os.readlink(f"/proc/{d.pid}/fd/0").startswith("/dev/pts/")
    assert any(os.readlink(f"/proc/{d.pid}/fd/{fd}") == "/dev/ptmx"
               for fd in os.listdir(f"/proc/{d.pid}/fd"))
    assert proc_sigign(d.pid) & sig_bit("TSTP")
    ev = events.wait("a", "ready")
    pid = ev["pid"]
    # Own session and process group, started by the daemon itself.
    assert ev["sid"] == ev["pgid"] == pid
    assert ev["ppid"] == d.pid
    assert ev["ctty"] == 0
    assert ev["stdin"] == "null"
    # Nothing of the daemon's leaks: the child looked before it opened
    # its own events file.
    assert ev["fds"] == []
    assert ev["sigmask"] == 0
    # The daemon ignores SIGPIPE; its programs must not.
    assert proc_sigign(d.pid) & sig_bit("PIPE")
    assert ev["sigign"] == 0
    assert d.status()["a"]["pid"] == pid


def test_directory_umask_environment(daemon_factory, conf, events, workdir):
    wd = workdir / "some dir"
    wd.mkdir()
    d = daemon_factory(
        conf.program("a", "--print-env", "PLAIN", "--print-env", "QUOTED",
                     "--print-env", "SINGLE", "--print-env", "FROM_DAEMON",
                     "--print-env", "OVERRIDDEN",
                     directory=str(wd), umask="027",
                     environment='PLAIN=1,QUOTED="a, b=c",'
                                 "SINGLE='x,y z', OVERRIDDEN=program"),
        env={"FROM_DAEMON": "daemon", "OVERRIDDEN": "daemon"})
    d.wait_ready()
    ready = events.wait("a", "ready")
    assert ready["cwd"] == str(wd)
    assert ready["umask"] == 0o027
    env = {ev["name"]: ev.get("value") for ev in events.all("a", "env")}
    assert env == {"PLAIN": "1", "QUOTED": "a, b=c", "SINGLE": "x,y z",
                   "FROM_DAEMON": "daemon", "OVERRIDDEN": "program"}


def test_defaults_directory_root_umask_022(daemon_factory, conf, events):
    d = daemon_factory(conf.program("a"))
    d.wait_ready()
    ready = events.wait("a", "ready")
    assert ready["cwd"] == "/"
    assert ready["umask"] == 0o022


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
@pytest.mark.parametrize("user,group", [("nobody", None), ("nobody", "daemon"),
                                        (None, "daemon")])
def test_user_and_group(daemon_factory, conf, testchild, user, group):
    try:
        pw = pwd.getpwnam(user or "root")
        gid = grp.getgrnam(group).gr_gid if group else pw.pw_gid
    except KeyError:
        pytest.skip(f"no user {user} or group {group}")
    if not others_can_reach(testchild):
        pytest.skip(f"{testchild} is not reachable by other users")
    # initgroups for a user; only the group itself without one.
    groups = sorted(os.getgrouplist(user, gid)) if user else [gid]
    # Another user cannot reach the test's private directory: report
    # elsewhere.
    shared = tempfile.mkdtemp(prefix="sx-user-")
    os.chmod(shared, 0o755)
    ev = Events(os.path.join(shared, "events"))
    os.chmod(ev.path, 0o666)
    keys = {"start_secs": 0}
    if user:
        keys["user"] = user
    if group:
        keys["group"] = group
    try:
        command = (f"{testchild} --events {ev.path} --tag a "
                   "--print-env USER --print-env HOME")
        d = daemon_factory(conf.program("a", command=command, **keys),
                           env={"USER": "root", "HOME": "/root"})
        d.wait_ready()
        ready = ev.wait("a", "ready")
        assert ready["uid"] == pw.pw_uid
        assert ready["gid"] == gid
        assert sorted(ready["groups"]) == groups
        env = {e["name"]: e.get("value") for e in ev.all("a", "env")}
        assert env == {"USER": pw.pw_name, "HOME": pw.pw_dir}
        d.ctl("stop", "a")
        assert not wait_gone([ready["pid"]], 10)
    finally:
        problems = ev.close()
        os.unlink(ev.path)
        os.rmdir(shared)
    assert problems == []


SETPRIV = "/usr/bin/setpriv"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_unprivileged_daemon_and_user(conf, testchild):
    """A daemon without root runs `user = ITSELF` as is; another user fails
    with its cause."""
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody")
    if not os.access(SETPRIV, os.X_OK):
        pytest.skip(f"{SETPRIV} is not installed")
    if not others_can_reach(testchild) or not others_can_reach(SAFEEXITD):
        pytest.skip("the build is not reachable by other users")
    shared = tempfile.mkdtemp(prefix="sx-unpriv-")
    os.chmod(shared, 0o777)
    ev = Events(os.path.join(shared, "events"))
    os.chmod(ev.path, 0o666)
    d = Daemon(shared, "daemon", os.path.join(shared, "safeexitd.ini"),
               os.path.join(shared, "ctl.sock"), [],
               {"testchild": testchild, "events": ev.path, "tmp": shared})
    d.prefix = [SETPRIV, f"--reuid={nobody.pw_uid}",
                f"--regid={nobody.pw_gid}", "--clear-groups"]
    problems = []
    try:
        d.write_config(conf.program("a", "--print-env", "USER", user="nobody",
                                    start_secs=0) +
                       conf.program("b", user="root", start_retries=0,
                                    start_secs=0))
        os.chmod(d.config_path, 0o644)
        d.start()
        d.wait_ready()
        ready = ev.wait("a", "ready")
        assert ready["uid"] == nobody.pw_uid
        assert ready["gid"] == nobody.pw_gid
        assert ev.wait("a", "env", name="USER")["value"] == "nobody"
        d.wait_state("b", "FATAL")
        result = d.ctl("status", "b")
        assert re.match(r"b\s+FATAL\s+setgroups for root: "
                        r"Operation not permitted$", result.stdout)
        assert ev.all("b") == []
    finally:
        problems += d.stop()
        problems += ev.close()
        shutil.rmtree(shared)
    assert problems == []


EXEC_FAILURES = {
    "missing binary": ({"command": "/nonexistent/sx-prog --flag"},
                       "exec /nonexistent/sx-prog: No such file or directory"),
    "bad directory": ({"directory": "/nonexistent/dir"},
                      "chdir /nonexistent/dir: No such file or directory"),
}


@pytest.mark.parametrize("case", EXEC_FAILURES)
def test_failed_launch_shows_cause(daemon_factory, conf, events, case):
    keys, cause = EXEC_FAILURES[case]
    d = daemon_factory(conf.program("a", start_retries=1, start_secs=0.5,
                                    **keys))
    d.wait_ready()
    d.wait_state("a", "FATAL", timeout=20)
    # 1 + start_retries attempts, each with its cause in the log.
    attempts = [line for line in d.lines
                if re.search(r"\ba: cannot start: ", line)]
    assert len(attempts) == 2
    assert all(line.endswith(cause) for line in attempts)
    assert re.search(r"\ba: gave up after 2 failed starts", d.tail(200))
    result = d.ctl("status", "a")
    assert result.returncode == 1
    assert re.match(rf"a\s+FATAL\s+{re.escape(cause)}$", result.stdout)
    assert "127" not in result.stdout
    assert events.all("a") == []


# Lifecycle.

def test_start_secs_starting_then_running(daemon_factory, conf, events):
    d = daemon_factory(conf.program("a", start_secs=2))
    assert d.wait_state("a", "STARTING").group("old") == "STOPPED"
    ready = events.wait("a", "ready")
    st = d.status()["a"]
    result = d.ctl("status", "a")
    # Asked in time (a loaded machine may be late), it is still starting.
    if time.monotonic() - ready["t"] < 1.5:
        assert st["state"] == "STARTING"
        assert result.returncode == 1
    assert d.wait_state("a", "RUNNING").group("old") == "STARTING"
    st = d.status()["a"]
    assert st["state"] == "RUNNING"
    assert st["pid"] == ready["pid"]
    assert st["uptime"] >= 2
    assert d.ctl("status", "a").returncode == 0


def test_early_exits_back_off_longer_then_fatal(daemon_factory, conf,
                                                events):
    d = daemon_factory(conf.program("a", "--exit", "1", start_secs=5,
                                    start_retries=2))
    d.wait_state("a", "FATAL", timeout=30)
    starts = [events.wait("a", "ready")["t"] for _ in range(3)]
    exits = [events.wait("a", "exit", code=1)["t"] for _ in range(3)]
    events.wait_none("a", "ready", timeout=0.5)
    # The pause before each retry grows; nothing tighter is promised.
    pauses = [start - exit for exit, start in zip(exits, starts[1:])]
    assert pauses[0] >= 0.9
    assert pauses[1] >= 1.9 and pauses[1] > pauses[0]
    text = "\n".join(d.lines)
    assert len(re.findall(r"\ba: STARTING -> BACKOFF", text)) == 2
    assert re.search(r"\ba: STARTING -> FATAL: exited too quickly \(exit 1\)",
                     text)
    st = d.status()["a"]
    assert st["state"] == "FATAL"
    assert st["exit_code"] == 1 and st["pid"] is None
    result = d.ctl("status", "a")
    assert re.match(r"a\s+FATAL\s+exited too quickly \(exit 1\)$",
                    result.stdout)


AUTORESTART = [
    # autorestart, exitcodes, exit code, restarted
    ("never", None, 1, False),
    ("false", None, 0, False),
    ("on-failure", None, 0, False),
    ("on-failure", None, 1, True),
    ("on-failure", "0, 3", 3, False),
    ("unexpected", "0 3", 4, True),
    ("always", None, 0, True),
    ("true", None, 2, True),
]


@pytest.mark.parametrize("policy,exitcodes,code,restarted", AUTORESTART)
def test_autorestart(daemon_factory, conf, events, policy, exitcodes, code,
                     restarted):
    keys = {"autorestart": policy, "start_secs": 0.2}
    if exitcodes is not None:
        keys["exitcodes"] = exitcodes
    d = daemon_factory(conf.program("a", "--exit", code, "--after", "1",
                                    **keys))
    d.wait_state("a", "RUNNING")
    first = events.wait("a", "ready")
    d.wait_state("a", "EXITED")
    # A restart follows the exit in the same turn of the loop: by the time
    # status answers, the program is either starting again or not at all.
    st = d.status()["a"]
    if restarted:
        second = events.wait("a", "ready")
        assert second["pid"] != first["pid"]
        assert st["state"] != "EXITED"
        assert st["restarts"] >= 1
    else:
        assert st["state"] == "EXITED"
        assert st["pid"] is None
        assert st["exit_code"] == code
        assert st["restarts"] == 0
        result = d.ctl("status", "a")
        assert result.returncode == 1
        assert re.match(rf"a\s+EXITED\s+exit {code}$", result.stdout)


def test_crash_after_running_restarts_at_once(daemon_factory, conf, events):
    d = daemon_factory(conf.program("a", start_secs=0.2))
    d.wait_state("a", "RUNNING")
    ready = events.wait("a", "ready")
    for n in range(1, 3):
        mark = d.mark()
        crashed = time.monotonic()
        os.kill(ready["pid"], signal.SIGKILL)
        d.wait_log(rf"\ba: pid {ready['pid']} exited \(signal KILL\)",
                   since=mark)
        again = events.wait("a", "ready")
        # The shortest back-off is a second; a restart takes far less.
        assert again["t"] - crashed < 1.0
        d.wait_state("a", "RUNNING", since=mark)
        assert [m.group("new") for m in
                (re.search(r"\ba: [A-Z]+ -> (?P<new>[A-Z]+)", line)
                 for line in d.lines[mark:]) if m] == \
            ["EXITED", "STARTING", "RUNNING"]
        st = d.status()["a"]
        assert st["restarts"] == n
        assert st["pid"] == again["pid"]
        assert st["signal"] == "KILL"
        ready = again


def test_stop_signal_recorded(daemon_factory, conf, events):
    d = daemon_factory(conf.program("a", stop_signal="INT", start_secs=0))
    d.wait_ready()
    ready = events.wait("a", "ready")
    result = d.ctl("stop", "a")
    assert result.returncode == 0, result.stderr
    events.wait("a", "signal", sig="INT")
    events.wait("a", "exit", code=0)
    assert events.all("a", "signal", sig="TERM") == []
    st = d.status()["a"]
    assert st["state"] == "STOPPED" and st["pid"] is None
    assert not wait_gone([ready["pid"]], 10)


@pytest.mark.parametrize("kill_signal", [None, "USR2"])
def test_stop_timeout_then_kill_signal(daemon_factory, conf, events,
                                       kill_signal):
    keys = {"stop_timeout": 1, "start_secs": 0}
    if kill_signal:
        keys["kill_signal"] = kill_signal
    d = daemon_factory(conf.program("a", "--ignore", "TERM", **keys))
    d.wait_ready()
    ready = events.wait("a", "ready")
    result = d.ctl("stop", "a")
    assert result.returncode == 0, result.stderr
    term = events.wait("a", "signal", sig="TERM")
    assert not wait_gone([ready["pid"]], 10)
    if kill_signal:
        killed = events.wait("a", "signal", sig=kill_signal)
        assert killed["t"] - term["t"] >= 0.9
        st = d.status()["a"]
        assert st["exit_code"] == 0
    else:
        assert events.all("a", "exit") == []
        st = d.status()["a"]
        assert st["signal"] == "KILL"
    assert st["state"] == "STOPPED"
    d.wait_log(r"\ba: still running after 1s; sending "
               + (kill_signal or "KILL"))


def test_stop_group_waits_for_the_whole_group(daemon_factory, conf, events):
    # The main process leaves on WINCH; its grandchild only records it, so
    # the group outlives the main process until the grace period ends.
    d = daemon_factory(conf.program("a", "--exit-on", "WINCH:0",
                                    "--fork-grandchild", stop_signal="WINCH",
                                    stop_timeout=1, start_secs=0))
    d.wait_ready()
    ready = events.wait("a", "ready")
    gc = events.wait("a.gc", "ready")
    assert gc["pgid"] == ready["pid"]
    mark = d.mark()
    result = d.ctl("stop", "a")
    assert result.returncode == 0, result.stderr
    events.wait("a.gc", "signal", sig="WINCH")
    events.wait("a", "exit", code=0)
    assert not pid_running(gc["pid"])
    assert events.all("a.gc", "exit") == []
    # The main process left first; the program counted as stopped only once
    # the grace period had ended in KILL for the rest of its group.
    exited = log_index(d, rf"\ba: pid {ready['pid']} exited \(exit 0\)", mark)
    killed = log_index(d, r"\ba: still running after 1s; sending KILL", mark)
    stopped = log_index(d, r"\ba: STOPPING -> STOPPED", mark)
    assert exited < killed < stopped
    st = d.status()["a"]
    assert st["state"] == "STOPPED" and st["exit_code"] == 0


def test_stop_group_false_signals_only_the_main_process(daemon_factory, conf,
                                                        events):
    d = daemon_factory(conf.program("a", "--fork-grandchild",
                                    stop_group=False, start_secs=0))
    d.wait_ready()
    ready = events.wait("a", "ready")
    gc = events.wait("a.gc", "ready")
    result = d.ctl("stop", "a")
    assert result.returncode == 0, result.stderr
    events.wait("a", "signal", sig="TERM")
    events.wait("a", "exit", code=0)
    assert d.status()["a"]["state"] == "STOPPED"
    # Counted as stopped with the main process gone; the grandchild was not
    # signalled and now belongs to the daemon.
    assert pid_running(gc["pid"])
    assert events.all("a.gc", "signal") == []
    assert pid_ppid(gc["pid"]) == d.pid
    mark = d.mark()
    os.kill(gc["pid"], signal.SIGTERM)
    events.wait("a.gc", "exit", code=0)
    d.wait_log(rf"reaped pid {gc['pid']} \(exit 0\)", since=mark)
    assert not wait_gone([ready["pid"], gc["pid"]], 10)


STOP_SCRIPT = """#!/bin/sh
# stop_command of the test: USR1 to the program, as "nginx -s quit" would.
exec kill -USR1 "$(cat "$1")"
"""


def test_stop_command_replaces_the_signal(daemon_factory, conf, events,
                                          workdir):
    script = workdir / "stop.sh"
    script.write_text(STOP_SCRIPT)
    script.chmod(0o755)
    pidfile = workdir / "a.pid"
    d = daemon_factory(conf.program(
        "a", "--pidfile", pidfile, "--ignore", "USR1", "--ignore", "TERM",
        stop_command=f"{script} {pidfile}", stop_timeout=2, start_secs=0))
    d.wait_ready()
    ready = events.wait("a", "ready")
    mark = d.mark()
    result = d.ctl("stop", "a")
    assert result.returncode == 0, result.stderr
    usr1 = events.wait("a", "signal", sig="USR1")
    d.wait_log(r"\ba: running stop_command \(pid \d+\)", since=mark)
    # It ignored what the stop_command asked: the grace period still ends
    # in kill_signal.
    assert not wait_gone([ready["pid"]], 10)
    d.wait_log(r"\ba: still running after 2s; sending KILL", since=mark)
    st = d.status()["a"]
    assert st["state"] == "STOPPED" and st["signal"] == "KILL"
    assert events.all("a", "signal", sig="TERM") == []
    assert usr1["pid"] == ready["pid"]


def test_stop_command_that_works_needs_no_kill(daemon_factory, conf, events,
                                               workdir):
    script = workdir / "stop.sh"
    script.write_text(STOP_SCRIPT)
    script.chmod(0o755)
    pidfile = workdir / "a.pid"
    d = daemon_factory(conf.program(
        "a", "--pidfile", pidfile, stop_command=f"{script} {pidfile}",
        stop_timeout=30, start_secs=0))
    d.wait_ready()
    events.wait("a", "ready")
    mark = d.mark()
    result = d.ctl("stop", "a", timeout=20)
    assert result.returncode == 0, result.stderr
    events.wait("a", "signal", sig="USR1")
    events.wait("a", "exit", code=0)
    assert d.status()["a"]["state"] == "STOPPED"
    assert not any("still running" in line for line in d.lines[mark:])
    assert events.all("a", "signal", sig="TERM") == []


@pytest.mark.parametrize("command", ["/nonexistent/sx-stopper", "/bin/false"])
def test_failed_stop_command_falls_back_to_the_signal(daemon_factory, conf,
                                                      events, command):
    d = daemon_factory(conf.program("a", stop_command=command,
                                    stop_timeout=60, start_secs=0))
    d.wait_ready()
    ready = events.wait("a", "ready")
    mark = d.mark()
    result = d.ctl("stop", "a", timeout=30)
    assert result.returncode == 0, result.stderr
    # Not a minute of grace and then KILL: the stop signal, right away.
    events.wait("a", "signal", sig="TERM", timeout=10)
    events.wait("a", "exit", code=0)
    d.wait_log(r"\ba: stop_command failed \(exit (127|1)\)", since=mark)
    d.wait_log(r"\ba: sending TERM instead", since=mark)
    if command.startswith("/nonexistent"):
        d.wait_log(r"\ba: stop_command: exec /nonexistent/sx-stopper: "
                   r"No such file or directory", since=mark)
    assert d.status()["a"]["state"] == "STOPPED"
    assert not wait_gone([ready["pid"]], 10)


# Reaping.

def test_escaped_grandchild_is_reaped_by_the_daemon(daemon_factory, conf,
                                                    events):
    # Process groups only: a cgroup per program would stop it with a.
    d = daemon_factory(conf.daemon(cgroups="off") +
                       conf.program("a", "--escape", start_secs=0))
    d.wait_ready()
    ready = events.wait("a", "ready")
    esc = events.wait("a.esc", "ready")
    assert esc["sid"] == esc["pid"] != ready["sid"]
    result = d.ctl("stop", "a")
    assert result.returncode == 0, result.stderr
    events.wait("a", "exit", code=0)
    assert not wait_gone([ready["pid"]], 10)
    # Out of the program's group, but not out of the daemon's reach.
    assert pid_running(esc["pid"])
    assert pid_ppid(esc["pid"]) == d.pid
    mark = d.mark()
    os.kill(esc["pid"], signal.SIGKILL)
    d.wait_log(rf"reaped pid {esc['pid']} \(signal 9\)", since=mark)
    assert pid_state(esc["pid"]) is None
    assert zombies_of(d.pid) == []


def test_no_zombies_after_crash_restarts(daemon_factory, conf, events):
    # Process groups only: with a cgroup per program, `stop a` would take
    # the grandchildren of the crashed instances too (test_cgroup.py).
    d = daemon_factory(conf.daemon(cgroups="off") +
                       conf.program("a", "--exit", "1", "--after", "0.4",
                                    "--fork-grandchild", start_secs=0.1,
                                    autorestart="always"))
    pids = [events.wait("a", "ready")["pid"] for _ in range(5)]
    # Each earlier instance was reaped before the next one started.
    assert [pid_state(pid) for pid in pids[:-1]] == [None] * 4
    assert zombies_of(d.pid) in ([], [pids[-1]])
    result = d.ctl("stop", "a")
    assert result.returncode == 0, result.stderr
    assert d.status()["a"]["restarts"] >= 4
    assert zombies_of(d.pid) == []
    # The grandchildren of the crashed instances were left behind in their
    # old groups and now belong to the daemon; each is reaped when it dies.
    gcs = [ev["pid"] for ev in events.all("a.gc", "ready")]
    assert len(gcs) >= 5
    left = [gc for gc in gcs if pid_running(gc)]
    assert len(left) >= 4
    mark = d.mark()
    for gc in left:
        assert pid_ppid(gc) == d.pid
        os.kill(gc, signal.SIGKILL)
        d.wait_log(rf"reaped pid {gc} \(signal 9\)", since=mark)
    assert zombies_of(d.pid) == []
    assert not wait_gone(gcs, 10)


# The daemon's own exit.

@pytest.mark.parametrize("sig", ["TERM", "INT"])
def test_signal_stops_everything_and_exits_zero(daemon_factory, conf, events,
                                                sig):
    d = daemon_factory(conf.program("a", start_secs=0) +
                       conf.program("b", "--fork-grandchild", start_secs=0))
    d.wait_ready()
    pids = [events.wait("a", "ready")["pid"], events.wait("b", "ready")["pid"],
            events.wait("b.gc", "ready")["pid"]]
    d.signal(sig)
    for tag in ("a", "b", "b.gc"):
        events.wait(tag, "signal", sig="TERM")
        events.wait(tag, "exit", code=0)
    assert d.wait_exit() == 0
    d.wait_log(r"notice: exiting with status 0")
    assert not wait_gone(pids, 10)
    assert not os.path.exists(d.socket)
