"""Debian's own supervisorctl (/usr/bin/supervisorctl -c supervisord.conf)
against safeexitd, unchanged, over /RPC2 on the control socket: status,
start, stop, restart, tail, pid, reread, update, avail and shutdown print
what supervisorctl prints against supervisord and exit with its statuses.
"""

import os
import re

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
