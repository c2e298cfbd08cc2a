"""The test harness itself: the test child and the Events reader.

These run the test child directly, without the daemon, so a broken harness is
told apart from a broken daemon.
"""

import os
import signal
import subprocess

import pytest

from conftest import Conf, add_daemon_key, add_socket, parse_event, wait_gone


def bit(sig):
    """Return the mask bit of a signal as the test child reports it."""
    return 1 << (int(sig) - 1)


def test_ignore_records_and_keeps_running(spawn, events):
    proc = spawn("--ignore", "TERM", "--ignore", "HUP")
    ready = events.wait("child", "ready")
    assert ready["pid"] == proc.pid

    proc.send_signal(signal.SIGTERM)
    events.wait("child", "signal", sig="TERM")
    # Events come in order: seeing the HUP proves TERM did not end it.
    proc.send_signal(signal.SIGHUP)
    events.wait("child", "signal", sig="HUP")
    assert proc.poll() is None

    proc.kill()
    assert proc.wait(10) == -signal.SIGKILL
    assert events.all("child", "exit") == []


def test_term_exits_zero_by_default(spawn, events):
    proc = spawn()
    events.wait("child", "ready")
    proc.send_signal(signal.SIGTERM)
    events.wait("child", "signal", sig="TERM")
    events.wait("child", "exit", code=0)
    assert proc.wait(10) == 0


def test_exit_after(spawn, events):
    proc = spawn("--exit", "3", "--after", "0.1")
    ready = events.wait("child", "ready")
    done = events.wait("child", "exit")
    assert done["code"] == 3
    assert done["t"] - ready["t"] >= 0.1
    assert proc.wait(10) == 3


def test_exit_on_with_delay_records_later_signals(spawn, events):
    proc = spawn("--exit-on", "TERM:7", "--exit-delay", "0.5",
                 "--ignore", "INT")
    events.wait("child", "ready")
    proc.send_signal(signal.SIGTERM)
    term = events.wait("child", "signal", sig="TERM")
    proc.send_signal(signal.SIGINT)
    events.wait("child", "signal", sig="INT")
    done = events.wait("child", "exit")
    assert done["code"] == 7
    assert done["t"] - term["t"] >= 0.5
    assert proc.wait(10) == 7


def test_fork_grandchild_stays_in_group(spawn, events):
    proc = spawn("--fork-grandchild", start_new_session=True)
    ready = events.wait("child", "ready")
    gc = events.wait("child.gc", "ready")
    assert ready["gc"] == gc["pid"]
    assert gc["ppid"] == proc.pid
    assert gc["pgid"] == ready["pgid"] == proc.pid
    assert gc["sid"] == ready["sid"]

    os.killpg(proc.pid, signal.SIGTERM)
    events.wait("child.gc", "signal", sig="TERM")
    events.wait("child.gc", "exit", code=0)
    events.wait("child", "exit", code=0)
    assert proc.wait(10) == 0
    assert not wait_gone([gc["pid"]], 10)


def test_escape_leaves_group_and_session(spawn, events):
    proc = spawn("--escape", start_new_session=True)
    ready = events.wait("child", "ready")
    esc = events.wait("child.esc", "ready")
    pid = esc["pid"]
    assert ready["escaped"] == pid
    assert esc["sid"] == esc["pgid"] == pid
    assert esc["sid"] != ready["sid"]
    assert esc["ppid"] != proc.pid

    # It ignores every stop signal, its group's included: only KILL ends it.
    os.killpg(proc.pid, signal.SIGTERM)
    events.wait("child", "exit", code=0)
    assert proc.wait(10) == 0
    os.kill(pid, signal.SIGTERM)
    events.wait("child.esc", "signal", sig="TERM")
    os.kill(pid, signal.SIGHUP)
    events.wait("child.esc", "signal", sig="HUP")
    assert events.alive() == {pid: "child.esc"}

    os.kill(pid, signal.SIGKILL)
    assert not wait_gone([pid], 10)
    assert events.all("child.esc", "exit") == []


def own_ignored_signals():
    """Return the SigIgn mask of this process from /proc."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("SigIgn:"):
                return int(line.split()[1], 16)
    return 0


def test_check_fds_reports_a_clean_launch(spawn, events):
    proc = spawn("--check-fds", stdin=subprocess.DEVNULL, close_fds=True,
                 start_new_session=True)
    ready = events.wait("child", "ready")
    assert ready["fds"] == []
    assert ready["stdin"] == "null"
    assert ready["ctty"] == 0
    assert ready["sigmask"] == 0
    # subprocess restores SIGPIPE and SIGXFSZ; the rest is inherited.  Signals
    # 32 and 33 belong to the C library, which hides them from sigaction.
    expected = own_ignored_signals() & ~(bit(signal.SIGPIPE) |
                                         bit(signal.SIGXFSZ) | bit(32) | bit(33))
    assert ready["sigign"] == expected
    proc.terminate()
    assert proc.wait(10) == 0


def test_check_fds_reports_what_leaks(spawn, events, workdir):
    r, w = os.pipe()
    try:
        proc = spawn("--check-fds", pass_fds=(w,), stdin=r)
    finally:
        os.close(r)
        os.close(w)
    ready = events.wait("child", "ready")
    assert ready["fds"] == [w]
    assert ready["stdin"] == "other"
    proc.terminate()
    assert proc.wait(10) == 0


def test_check_fds_reports_inherited_signal_state(testchild, events):
    script = 'trap "" USR2; exec "$@"'
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    try:
        proc = subprocess.Popen(
            ["/bin/sh", "-c", script, "sh", testchild, "--events",
             events.path, "--check-fds"], stdin=subprocess.DEVNULL)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    try:
        ready = events.wait("child", "ready")
        assert ready["sigign"] & bit(signal.SIGUSR2)
        assert ready["sigmask"] & bit(signal.SIGUSR1)
        # The inherited mask was reported, not kept: USR1 still ends it.
        proc.send_signal(signal.SIGUSR1)
        events.wait("child", "signal", sig="USR1")
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_ready_reports_identity(spawn, events, workdir):
    sub = workdir / "a dir"
    sub.mkdir()
    proc = spawn(cwd=sub)
    ready = events.wait("child", "ready")
    assert ready["cwd"] == str(sub)
    assert ready["uid"] == os.getuid()
    assert ready["gid"] == os.getgid()
    mask = os.umask(0)
    os.umask(mask)
    assert ready["umask"] == mask
    proc.terminate()
    assert proc.wait(10) == 0


def test_print_env_stdout_stderr_pidfile(spawn, events, workdir):
    env = dict(os.environ, SX_VALUE="two words 100%", SX_EMPTY="")
    env.pop("SX_UNSET", None)
    pidfile = workdir / "child.pid"
    proc = spawn("--print-env", "SX_VALUE", "--print-env", "SX_EMPTY",
                 "--print-env", "SX_UNSET", "--stdout", "out one",
                 "--stderr", "err", "--stdout", "out two",
                 "--pidfile", pidfile, "--exit", "0",
                 env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert out == b"out one\nout two\n"
    assert err == b"err\n"
    assert pidfile.read_text() == f"{proc.pid}\n"
    assert events.wait("child", "env", name="SX_VALUE")["value"] == \
        "two words 100%"
    empty = events.wait("child", "env", name="SX_EMPTY")
    assert empty["set"] == 1 and empty["value"] == ""
    unset = events.wait("child", "env", name="SX_UNSET")
    assert unset["set"] == 0 and "value" not in unset
    events.wait("child", "ready")
    events.wait("child", "exit", code=0)


def test_flood(spawn, events):
    size = 200003
    proc = spawn("--flood", size, stdout=subprocess.PIPE)
    events.wait("child", "ready")
    data = b""
    while len(data) < size:
        chunk = proc.stdout.read1(65536)
        assert chunk, "stdout closed early"
        data += chunk
    events.wait("child", "flooded", bytes=size)
    assert len(data) == size
    lines = data.split(b"\n")
    assert lines[-1] == b""
    assert all(set(line) <= {ord("x")} for line in lines)
    assert max(len(line) for line in lines) == 63
    proc.terminate()
    proc.stdout.close()
    assert proc.wait(10) == 0


def test_events_arrive_whole_and_in_order(spawn, events):
    # Long lines from many writers at once: each must arrive in one piece.
    value = "v" * 3000
    env = dict(os.environ, SX_LONG=value)
    args = ["--print-env", "SX_LONG"] * 20 + ["--exit", "0"]
    procs = [spawn(*args, tag=f"c{i}", env=env) for i in range(8)]
    for i, proc in enumerate(procs):
        events.wait(f"c{i}", "exit", code=0)
        assert proc.wait(10) == 0
    for i in range(8):
        mine = events.all(f"c{i}")
        assert [ev["event"] for ev in mine] == ["env"] * 20 + ["ready",
                                                               "exit"]
        assert all(ev["value"] == value for ev in mine[:20])
        times = [ev["t"] for ev in mine]
        assert times == sorted(times)


def test_wait_consumes_and_times_out(spawn, events):
    proc = spawn("--ignore", "USR1")
    events.wait("child", "ready")
    for _ in range(2):
        proc.send_signal(signal.SIGUSR1)
        events.wait("child", "signal", sig="USR1")
    assert len(events.all("child", "signal")) == 2
    with pytest.raises(AssertionError, match="events seen"):
        events.wait("child", "signal", timeout=0.2)
    events.wait_none("child", "exit", timeout=0.1)
    proc.terminate()
    events.wait("child", "exit")
    assert proc.wait(10) == 0


def test_usage_errors(testchild):
    for args in (["--bogus"], ["--ignore", "KILL"], ["--exit-on", "TERM"],
                 ["--exit", "256"], ["--after", "-1"], ["extra"],
                 ["--tag", "two words"]):
        result = subprocess.run([testchild, *args], capture_output=True,
                                timeout=10)
        assert result.returncode == 2, args
        assert b"usage:" in result.stderr


def test_parse_event():
    ev = parse_event("web.gc ready pid=12 ppid=1 pgid=12 sid=12 "
                     "t=5.000000001 fds=3,5 sigmask=200 umask=027 "
                     "cwd=/a%20b stdin=null")
    assert ev["tag"] == "web.gc" and ev["event"] == "ready"
    assert ev["pid"] == 12 and ev["t"] == pytest.approx(5.000000001)
    assert ev["fds"] == [3, 5]
    assert ev["sigmask"] == 0x200
    assert ev["umask"] == 0o27
    assert ev["cwd"] == "/a b"
    assert ev["stdin"] == "null"
    assert parse_event("x y fds=")["fds"] == []


def test_add_daemon_key():
    assert add_daemon_key("[safeexitd]\nsocket = /s\n", "cgroups", "off") == \
        "[safeexitd]\ncgroups = off\nsocket = /s\n"
    text = "[safeexitd]\ncgroups = auto\n"
    assert add_daemon_key(text, "cgroups", "off") == text


def test_add_socket():
    assert add_socket("[program:a]\ncommand = x\n", "/s") == \
        "[safeexitd]\nsocket = /s\n\n[program:a]\ncommand = x\n"
    assert add_socket("[safeexitd]\nlog_level = debug\n[program:a]\n",
                      "/s") == \
        "[safeexitd]\nsocket = /s\nlog_level = debug\n[program:a]\n"
    text = "[safeexitd]\nsocket_mode = 0600\nsocket = /mine\n"
    assert add_socket(text, "/s") == text


def test_conf_program():
    text = Conf().program("web", "--exit-on", "TERM:3", "--stdout", "a {b}",
                          stop_timeout=2.5, autostart=False,
                          depends_on=["db", "cache"])
    assert text == (
        "[program:web]\n"
        "command = {testchild}\n"
        "\t--events {events}\n"
        "\t--tag web\n"
        "\t--exit-on TERM:3\n"
        "\t--stdout 'a {{b}}'\n"
        "stop_timeout = 2.5\n"
        "autostart = false\n"
        "depends_on = db, cache\n\n")
    filled = text.format(testchild="/t", events="/e")
    assert "--stdout 'a {b}'" in filled
