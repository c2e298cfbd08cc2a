"""Debian's own supervisorctl (/usr/bin/supervisorctl -c supervisord.conf)
against safeexitd, unchanged, over /RPC2 on the control socket: status,
start, stop, restart, tail, pid, reread, update, avail and shutdown print
what supervisorctl prints against supervisord and exit with its statuses.
"""

import os
import re
import signal
import subprocess

import pytest

from conftest import pid_running, wait_for
from test_xmlrpc import SUPERVISORCTL, WAIT, Supervisord

PROGRAMS = """\
[program:app]
command = /bin/sleep 1000
startsecs = 0

[program:static]
command = /bin/sleep 1000
startsecs = 0
priority = 10

[group:web]
programs = app, static

[program:idle]
command = /bin/sleep 1000
autostart = false
startsecs = 0

[program:talker]
command = /bin/sh -c 'i=0; while [ $i -lt 400 ]; do \
echo "line $i"; i=$((i+1)); done; exec /bin/sleep 1000'
startsecs = 0
stdout_logfile = @DIR@/talker.out
stderr_logfile = NONE
"""

STATUS = re.compile(r"^(\S+)\s+([A-Z]+)\s*(.*)$")


@pytest.fixture
def sup(workdir):
    if not os.access(SUPERVISORCTL, os.X_OK):
        pytest.skip("needs Debian's supervisor package")
    s = Supervisord(workdir, PROGRAMS)
    yield s
    s.cleanup()


def status_lines(out):
    """{namespec: (state, description)} of status output, checking that
    each line has supervisorctl's columns (33 wide, then 10)."""
    got = {}
    for line in out.splitlines():
        m = STATUS.match(line)
        assert m, line
        assert len(line) >= 43 and line[33:43].rstrip() == m.group(2), line
        got[m.group(1)] = (m.group(2), m.group(3))
    return got


def running(sup):
    for name in ("web:app", "web:static", "talker"):
        sup.wait_state(name, "RUNNING")


def test_status(sup):
    """status lists every process as supervisorctl formats it; exit 3 when
    one shown is stopped, 0 when all are running, 4 for a bad name."""
    sup.start()
    running(sup)
    r = sup.ctl("status")
    got = status_lines(r.stdout)
    assert list(got) == ["idle", "talker", "web:app", "web:static"]
    assert got["idle"] == ("STOPPED", "Not started")
    state, desc = got["web:app"]
    pid = sup.info("web:app")["pid"]
    assert state == "RUNNING"
    assert re.fullmatch(rf"pid {pid}, uptime 0:00:\d\d", desc), desc
    assert r.returncode == 3, r
    r = sup.ctl("status", "web:*")
    assert r.returncode == 0, r
    assert list(status_lines(r.stdout)) == ["web:app", "web:static"]
    r = sup.ctl("status", "nosuch")
    assert r.returncode == 4
    assert r.stdout.splitlines()[0] == "nosuch: ERROR (no such process)"
    r = sup.ctl("status", "nosuch:*")
    assert r.returncode == 4
    assert r.stdout.splitlines()[0] == "nosuch: ERROR (no such group)"


def test_start_stop_restart(sup):
    """start / stop / restart print supervisorctl's lines and statuses."""
    sup.start()
    running(sup)
    old = sup.info("web:app")["pid"]
    r = sup.ctl("stop", "web:app")
    assert (r.stdout, r.returncode) == ("web:app: stopped\n", 0), r
    assert not pid_running(old)
    r = sup.ctl("stop", "web:app")
    assert (r.stdout, r.returncode) == ("web:app: ERROR (not running)\n", 0)
    r = sup.ctl("start", "web:app")
    assert (r.stdout, r.returncode) == ("web:app: started\n", 0), r
    r = sup.ctl("start", "web:app")
    assert (r.stdout, r.returncode) == \
        ("web:app: ERROR (already started)\n", 0)
    r = sup.ctl("start", "web:nosuch")
    assert (r.stdout, r.returncode) == \
        ("web:nosuch: ERROR (no such process)\n", 1)
    r = sup.ctl("start", "nosuch:*")
    assert (r.stdout, r.returncode) == ("nosuch: ERROR (no such group)\n", 2)
    before = sup.info("web:app")["pid"]
    r = sup.ctl("restart", "web:app")
    assert (r.stdout, r.returncode) == \
        ("web:app: stopped\nweb:app: started\n", 0), r
    after = sup.info("web:app")["pid"]
    assert after != before and pid_running(after)
    # A group: only the processes that were running are stopped.
    r = sup.ctl("stop", "web:*")
    assert sorted(r.stdout.splitlines()) == \
        ["web:app: stopped", "web:static: stopped"]
    r = sup.ctl("start", "idle", "web:")
    assert sorted(r.stdout.splitlines()) == \
        ["idle: started", "web:app: started", "web:static: started"]
    assert r.returncode == 0


def test_tail_and_pid(sup):
    """tail prints the last 1600 bytes (or -N); pid the daemon's or a
    process's; a process without a log file is an error."""
    sup.start()
    running(sup)
    out = sup.dir / "talker.out"
    wait_for(lambda: out.exists() and b"line 399\n" in out.read_bytes(),
             timeout=WAIT, what="talker's output")
    r = sup.ctl("tail", "talker")
    assert r.returncode == 0
    data = out.read_bytes()
    assert r.stdout == data[-1600:].decode() + "\n"
    r = sup.ctl("tail", "-20", "talker")
    assert r.stdout == data[-20:].decode() + "\n"
    r = sup.ctl("tail", "talker", "stderr")
    assert r.stdout == "talker: ERROR (no log file)\n"
    r = sup.ctl("pid")
    assert (r.stdout, r.returncode) == (f"{sup.proc.pid}\n", 0)
    r = sup.ctl("pid", "web:app")
    assert r.stdout == f"{sup.info('web:app')['pid']}\n"
    r = sup.ctl("pid", "idle")
    assert (r.stdout, r.returncode) == ("0\n", 7)


def read_until(stream, text, seen):
    """Read stream's lines into seen until one holds text."""
    for line in stream:
        seen.append(line)
        if text in line:
            return
    raise AssertionError(f"{text!r} never came: {seen[-5:]}")


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_tail_f_follows_appends_and_rotation(sup):
    """tail -f (supervisord's /logtail stream) prints the end of the log,
    then what is appended, and again from the start once the file is cut
    short; when supervisorctl goes, so does the daemon's connection."""
    sup.start()
    running(sup)
    out = sup.dir / "talker.out"
    wait_for(lambda: out.exists() and b"line 399\n" in out.read_bytes(),
             timeout=WAIT, what="talker's output")
    before = fd_count(sup.proc.pid)
    ctl = subprocess.Popen(
        [SUPERVISORCTL, "-c", str(sup.conf), "tail", "-f", "talker"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        stdin=subprocess.DEVNULL, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    seen = []
    try:
        read_until(ctl.stdout, "line 399", seen)
        # The last KiB, as supervisord sends first: not the whole file.
        assert "line 399\n" in seen and "line 250\n" not in seen
        with open(out, "a") as f:
            f.write("appended while followed\n")
        read_until(ctl.stdout, "appended while followed", seen)
        # A clear (or a rotation): followed again from the start.
        out.write_text("after the cut\n")
        read_until(ctl.stdout, "after the cut", seen)
    finally:
        ctl.send_signal(signal.SIGINT)
        ctl.wait(timeout=WAIT)
        ctl.stdout.close()
    wait_for(lambda: fd_count(sup.proc.pid) <= before, timeout=WAIT,
             what="the daemon letting go of the tail -f connection")


def test_tail_f_of_no_log_is_refused(sup):
    sup.start()
    running(sup)
    answer = sup.raw(b"GET /logtail/nosuch/stdout HTTP/1.0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 404 ")
    answer = sup.raw(b"GET /logtail/talker/stderr HTTP/1.0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 404 ")
    answer = sup.raw(b"POST /logtail/talker HTTP/1.0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 405 ")


def test_reread_update_avail(sup):
    """reread names group changes; update applies them with supervisorctl's
    lines; avail lists the programs."""
    sup.start()
    running(sup)
    r = sup.ctl("avail")
    lines = r.stdout.splitlines()
    assert lines[0] == f"{'web:app':<32} {'in use':<9} {'auto':<9} 999:999"
    assert f"{'idle':<32} {'in use':<9} {'manual':<9} 999:999" in lines
    r = sup.ctl("reread")
    assert (r.stdout, r.returncode) == ("No config updates to processes\n", 0)
    without_idle = re.sub(r"\[program:idle\]\n(.+\n)+\n", "", PROGRAMS)
    assert "idle" not in without_idle
    sup.write(without_idle + "\n[program:fresh]\ncommand = /bin/sleep 1000\n"
              "startsecs = 0\n")
    r = sup.ctl("reread")
    assert r.stdout == "fresh: available\nidle: disappeared\n", r
    r = sup.ctl("update")
    assert r.stdout == ("idle: stopped\nidle: removed process group\n"
                        "fresh: added process group\n"), r
    assert r.returncode == 0
    sup.wait_state("fresh", "RUNNING")
    r = sup.ctl("status", "idle")
    assert r.stdout.startswith("idle: ERROR (no such ")


def test_shutdown(sup):
    """shutdown prints "Shut down"; the daemon stops its programs and exits
    0."""
    sup.start()
    running(sup)
    pids = [sup.info(n)["pid"] for n in ("web:app", "web:static", "talker")]
    r = sup.ctl("shutdown")
    assert (r.stdout, r.returncode) == ("Shut down\n", 0), r
    assert sup.proc.wait(timeout=WAIT * 2) == 0
    assert not any(pid_running(p) for p in pids)
