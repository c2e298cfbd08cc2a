"""safeexitd's command line (safeexitd(8)): version, help, --check with
every problem as FILE:LINE, a bad config at start, -s, -d, -l, and a second
daemon on a socket that is taken.
"""

import os
import re
import signal
import subprocess
import textwrap

import pytest

from conftest import (SAFEEXITCTL, SAFEEXITD, daemon_env, pid_running,
                      short_socket_dir, wait_gone)


def safeexitd(*args, timeout=30, cwd=None, env=None):
    """Run safeexitd with args to completion; return the CompletedProcess."""
    return subprocess.run([str(SAFEEXITD), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, cwd=cwd,
                          env=daemon_env(env))


def safeexitctl(socket, *args, timeout=30):
    """Run safeexitctl -s socket args; return the CompletedProcess."""
    return subprocess.run([str(SAFEEXITCTL), "-s", str(socket),
                           *map(str, args)],
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


@pytest.fixture
def sockdir(workdir):
    """A directory for sockets whose paths fit in sun_path."""
    path, tmp = short_socket_dir(workdir)
    yield path
    if tmp:
        for name in os.listdir(tmp):
            os.unlink(os.path.join(tmp, name))
        os.rmdir(tmp)


def test_version():
    result = safeexitd("-V")
    assert result.returncode == 0
    assert result.stdout == "safeexitd 0.1.0\n"
    assert safeexitd("--version").stdout == "safeexitd 0.1.0\n"


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_lists_every_option(flag):
    result = safeexitd(flag)
    assert result.returncode == 0
    for short, long in (("-c", "--config"), ("-s", "--socket"),
                        ("-d", "--daemon"), ("-n", "--check"),
                        ("-l", "--log-level"), ("-V", "--version"),
                        ("-h", "--help")):
        assert re.search(rf"^\s*{short}, {long}\b", result.stdout, re.M), \
            f"{short}, {long} missing from:\n{result.stdout}"
    for level in ("debug", "info", "notice", "warning", "error"):
        assert level in result.stdout


def test_unknown_option_is_a_usage_error():
    result = safeexitd("--no-such-option")
    assert result.returncode == 2
    assert "usage:" in result.stderr


def test_check_valid_config(workdir, testchild):
    path = workdir / "good.ini"
    path.write_text(textwrap.dedent(f"""\
        [safeexitd]
        socket = {workdir}/never.sock
        shutdown_timeout = 2.5

        [program:a]
        command = {testchild} --tag a
        start_secs = 0.5
        autorestart = unexpected
        exitcodes = 0, 2 3

        [program:b]
        command = {testchild} --tag b
        depends_on = a
        """))
    for flag in ("-n", "--check"):
        result = safeexitd("-c", path, flag)
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
    assert not (workdir / "never.sock").exists()


def test_check_reports_every_problem(workdir):
    path = workdir / "bad.ini"
    # Lines are read whole up to 64 KiB: one byte more is an error.
    long_line = "environment = A=" + "x" * (65537 - len("environment = A="))
    assert len(long_line) == 65537
    # (line, the problem it must be reported with, or None)
    lines = [
        ("[safeexitd]", None),
        ("bogus = 1", r"unknown key 'bogus'"),
        ("", None),
        ("[program:nocmd]", r"command is required"),
        ("directory = /", None),
        ("", None),
        ("; comments and continued values count as lines too", None),
        ("[program:slow]", None),
        ("command = /bin/true   ; inline comment", None),
        ("\t--continued", None),
        ("\t--more", None),
        ("start_secs = soon", r"start_secs: .*'soon'"),
        ("", None),
        ("[program:orphan]", None),
        ("command = /bin/true", None),
        ("depends_on = ghost", r"depends_on: unknown program 'ghost'"),
        ("", None),
        ("[program:x]", None),
        ("command = /bin/true", None),
        ("depends_on = y", None),
        ("", None),
        ("[program:y]", None),
        ("command = /bin/true", None),
        ("depends_on = x", None),
        (long_line, r"line too long"),
        ("", None),
        ("[program:late]", None),
        ("command = /bin/true", None),
        ("user = sx-no-such-user", r"user: no such user 'sx-no-such-user'"),
        ("stop_timeout = -1", r"stop_timeout: .*'-1'"),
        ("stop_signal = NOSUCHSIG", r"stop_signal: .*NOSUCHSIG"),
    ]
    path.write_text("".join(text + "\n" for text, _ in lines))
    result = safeexitd("-c", path, "--check")
    assert result.returncode == 1
    assert result.stdout == ""
    problems = result.stderr.splitlines()
    name = re.escape(str(path))
    for number, (_, pattern) in enumerate(lines, 1):
        if pattern is None:
            continue
        assert any(re.match(rf"{name}:{number}: .*{pattern}", p)
                   for p in problems), \
            f"no {path}:{number}: {pattern} in:\n{result.stderr}"
    cycle = [n for n, (text, _) in enumerate(lines, 1)
             if text.startswith("depends_on = ") and "ghost" not in text]
    assert any(re.match(rf"{name}:({cycle[0]}|{cycle[1]}): .*cycle", p)
               for p in problems), result.stderr
    # Every line is FILE:LINE: message.
    for p in problems:
        assert re.match(rf"{name}:\d+: \S", p), p


def test_check_missing_file(workdir):
    result = safeexitd("-c", workdir / "nope.ini", "-n")
    assert result.returncode == 1
    assert str(workdir / "nope.ini") in result.stderr


def test_bad_config_at_start_starts_nothing(daemon_factory, conf, events):
    d = daemon_factory(conf.program("a", start_secs=0) +
                       conf.program("b", start_secs="never"))
    assert d.wait_exit() == 1
    d.wait_log(r"safeexitd\.ini:\d+: start_secs: .*'never'")
    assert not os.path.exists(d.socket)
    # The first program was valid, and still nothing ran.
    events.wait_none("a", timeout=1)
    assert not any("ready" in line for line in d.lines)


def test_socket_option_overrides_config(daemon_factory, conf, events,
                                        sockdir):
    other = sockdir / "other.sock"
    d = daemon_factory(conf.program("a", start_secs=0),
                       extra_args=["-s", other])
    d.wait_ready()
    d.wait_log(rf"control socket {re.escape(str(other))}\b")
    events.wait("a", "ready")
    assert not os.path.exists(d.socket)
    result = safeexitctl(other, "status")
    assert result.returncode == 0, result.stderr
    assert re.match(r"a\s+RUNNING\s+pid \d+", result.stdout)
    d.socket = str(other)


@pytest.fixture
def detached(workdir, sockdir, testchild, events, conf):
    """Start safeexitd -d; stopped by SIGTERM at teardown if still there.

    start(cwd=None, config_name=...) -> (CompletedProcess, paths), where
    paths has config, socket, pidfile and log; the config runs program a.
    """
    pids = []

    def start(cwd=None, config_name="detached.ini"):
        paths = {"socket": sockdir / "detached.sock",
                 "pidfile": workdir / "safeexitd.pid",
                 "log": workdir / "detached.log",
                 "config": workdir / config_name}
        paths["config"].write_text(
            (conf.daemon(socket=paths["socket"], pidfile=paths["pidfile"],
                         log=paths["log"]) +
             conf.program("a", start_secs=0)).format(
                testchild=testchild, events=events.path, tmp=workdir))
        config = config_name if cwd is not None else paths["config"]
        result = safeexitd("-c", config, "-d", "-l", "debug", cwd=cwd)
        if paths["pidfile"].exists():
            pids.append(int(paths["pidfile"].read_text()))
        return result, paths

    yield start
    # A failed test still stops the daemon as a user would.
    for pid in pids:
        if pid_running(pid):
            os.kill(pid, signal.SIGTERM)
            if wait_gone([pid], 30):
                os.kill(pid, signal.SIGKILL)
                wait_gone([pid], 10)


def test_detach(detached, events):
    result, paths = detached()
    assert result.returncode == 0, result.stderr
    assert result.stdout == result.stderr == ""
    # Ready when the command returns: the pidfile, the socket, status.
    pid = int(paths["pidfile"].read_text())
    assert pid_running(pid)
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    assert int(fields[2]) == int(fields[3]) == pid   # pgrp, session
    result = safeexitctl(paths["socket"], "status")
    assert result.returncode == 0, result.stderr
    ready = events.wait("a", "ready")
    assert ready["ppid"] == pid
    log = paths["log"]
    assert re.search(r"debug: ", log.read_text())
    os.kill(pid, signal.SIGTERM)
    events.wait("a", "signal", sig="TERM")
    events.wait("a", "exit", code=0)
    assert not wait_gone([pid], 30)
    assert not paths["pidfile"].exists()
    assert not paths["socket"].exists()
    assert "exiting with status 0" in log.read_text()


def test_detach_relative_config_reloads(detached, events, workdir):
    result, paths = detached(cwd=workdir)
    assert result.returncode == 0, result.stderr
    events.wait("a", "ready")
    result = safeexitctl(paths["socket"], "reload")
    assert result.returncode == 0, result.stdout + result.stderr


def test_log_level_debug(daemon_factory, conf):
    d = daemon_factory(conf.daemon(log_level="warning") +
                       conf.program("a", start_secs=0),
                       extra_args=["-l", "debug"])
    d.wait_ready()
    d.wait_log(r"^safeexitd: debug: ")
    d.wait_log(r"^safeexitd: info: a: STOPPED -> RUNNING")


def test_log_level_notice_hides_debug_and_info(daemon_factory, conf, events):
    d = daemon_factory(conf.program("a", start_secs=0),
                       extra_args=["-l", "notice"])
    d.wait_ready()
    events.wait("a", "ready")
    assert d.ctl("status").returncode == 0
    assert not any(re.match(r"safeexitd: (debug|info): ", line)
                   for line in d.lines)


def test_second_daemon_refuses_the_socket(daemon_factory, conf, events):
    first = daemon_factory(conf.program("a", start_secs=0))
    first.wait_ready()
    ready = events.wait("a", "ready")
    second = daemon_factory(f"[safeexitd]\nsocket = {first.socket}\n\n" +
                            conf.program("b", start_secs=0))
    assert second.wait_exit() == 1
    second.wait_log(rf"already running, pid {first.pid}\b")
    events.wait_none("b", timeout=1)
    # The first one goes on as before.
    assert first.returncode is None
    st = first.status()
    assert st["a"]["state"] == "RUNNING" and st["a"]["pid"] == ready["pid"]
    assert os.path.exists(first.socket)
