"""safeexitctl top (safeexitctl(1)): the table once on a pipe, live on a
terminal until q."""

import os
import pty
import re
import select
import signal
import subprocess
import time

from conftest import SAFEEXITCTL, daemon_env

WAIT = 30
ROW = re.compile(r"^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d+)\s+(\d+)$")


def rows(text):
    """{name: (state, pid, cpu, memory, restarts, oom)} of a table."""
    out = {}
    for line in text.splitlines():
        m = ROW.match(line.strip())
        if m and m.group(1) != "NAME":
            out[m.group(1)] = m.groups()[1:]
    return out


def test_top_prints_once_on_a_pipe(daemon_factory, conf):
    d = daemon_factory(
        conf.program("busy", command="/bin/sh -c 'while :; do :; done'",
                     start_secs=0) +
        conf.program("idle", autostart=False))
    d.wait_state("busy", "RUNNING")
    r = subprocess.run([str(SAFEEXITCTL), "-s", str(d.socket), "top"],
                       capture_output=True, text=True, timeout=WAIT,
                       stdin=subprocess.DEVNULL, env=daemon_env())
    assert r.returncode == 0, r.stderr
    assert "\033[" not in r.stdout
    assert r.stdout.splitlines()[0].split() == [
        "NAME", "STATE", "PID", "CPU%", "MEMORY", "RESTARTS", "OOM"]
    t = rows(r.stdout)
    assert t["busy"][0] == "RUNNING"
    assert t["busy"][1] == str(d.status()["busy"]["pid"])
    # A busy loop uses about one CPU (a loaded machine gives it less).
    assert 5 <= float(t["busy"][2]) <= 110
    assert t["idle"][:3] == ("STOPPED", "-", "0.0")


def test_top_is_live_on_a_terminal_and_quits_on_q(daemon_factory, conf):
    d = daemon_factory(conf.program("a", command="/bin/sleep 600",
                                    start_secs=0))
    d.wait_state("a", "RUNNING")
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(str(SAFEEXITCTL), ["safeexitctl", "-s", str(d.socket),
                                     "top"], daemon_env())
    try:
        seen = b""
        deadline = time.monotonic() + WAIT
        # Two whole screens: the table is redrawn in place.
        clear = b"\033[H\033[2J"
        while not (seen.count(clear) >= 2 and
                   b"q: quit" in seen.split(clear)[-1]) and \
                time.monotonic() < deadline:
            if select.select([fd], [], [], 0.5)[0]:
                seen += os.read(fd, 65536)
        assert seen.count(clear) >= 2, seen
        screen = seen.split(clear)[-1].decode()
        assert rows(screen)["a"][0] == "RUNNING"
        os.write(fd, b"q")
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if select.select([fd], [], [], 0.2)[0]:
                try:
                    seen += os.read(fd, 65536)
                except OSError:
                    pass
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
        else:
            raise AssertionError("top did not quit on q")
        assert os.waitstatus_to_exitcode(status) == 0
        while select.select([fd], [], [], 0.2)[0]:
            try:
                more = os.read(fd, 65536)
            except OSError:
                break
            if not more:
                break
            seen += more
        # The cursor is shown again.
        assert seen.rstrip(b"\r\n").endswith(b"\033[?25h"), seen[-64:]
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)
