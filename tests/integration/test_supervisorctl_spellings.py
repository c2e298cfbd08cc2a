"""supervisorctl's spellings in safeexitctl: update, reread, avail, clear (safeexitctl(1)).

update is reload; reread says what reload would change and changes
nothing; avail lists the configured programs in supervisorctl's columns;
clear empties a program's log files in place while it keeps writing.
"""

import json
import os
import re

from conftest import wait_for

QUICK = 0.2


def running(d, name, since=0):
    """Wait until name is RUNNING; return its pid from the log."""
    m = d.wait_log(rf"info: {re.escape(name)}: [A-Z]+ -> RUNNING "
                   r"\(pid (\d+)\)", 30, since)
    return int(m.group(1))


def snapshot(d):
    """{name: (state, pid)} of every program, by `status --json`."""
    r = d.ctl("status", "--json")
    assert r.returncode in (0, 1), r.stderr
    return {p["name"]: (p["state"], p["pid"])
            for p in json.loads(r.stdout)["programs"]}


def base_config(conf):
    return (conf.program("keep", start_secs=QUICK)
            + conf.program("change", start_secs=QUICK, stop_timeout=5)
            + conf.program("remove", start_secs=QUICK))


def new_config(conf):
    return (conf.program("keep", start_secs=QUICK)
            + conf.program("change", start_secs=QUICK, stop_timeout=6)
            + conf.program("add", start_secs=QUICK))


def start_base(daemon_factory, conf):
    d = daemon_factory(base_config(conf))
    d.wait_ready()
    pids = {name: running(d, name) for name in ("keep", "change", "remove")}
    return d, pids


def test_update_applies_a_change(daemon_factory, conf, events):
    d, pids = start_base(daemon_factory, conf)
    mark = d.mark()
    d.write_config(new_config(conf))
    r = d.ctl("update")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["added: add", "removed: remove",
                                     "changed: change"]
    new = running(d, "add", mark)
    changed = running(d, "change", mark)
    d.wait_log(r"info: remove: removed", since=mark)
    assert changed != pids["change"]
    assert snapshot(d) == {"keep": ("RUNNING", pids["keep"]),
                           "change": ("RUNNING", changed),
                           "add": ("RUNNING", new)}
    r = d.ctl("update")
    assert (r.returncode, r.stdout) == (0, "no changes\n")


def test_reread_lists_changes_and_changes_nothing(daemon_factory, conf,
                                                  events):
    d, pids = start_base(daemon_factory, conf)
    r = d.ctl("reread")
    assert (r.returncode, r.stdout) == (0, "No config updates to processes\n")
    before = snapshot(d)
    d.write_config(new_config(conf))
    mark = d.mark()
    r = d.ctl("reread")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["add: available", "change: changed",
                                     "remove: disappeared"]
    # Asked twice, the same answer: nothing was applied.
    r = d.ctl("reread")
    assert r.stdout.splitlines() == ["add: available", "change: changed",
                                     "remove: disappeared"]
    assert snapshot(d) == before
    assert not any(re.search(r"(->|removed|taking its new settings)", line)
                   for line in d.lines[mark:])
    assert events.all(event="signal") == []
    assert events.all("add") == []
    r = d.ctl("--json", "reread")
    doc = json.loads(r.stdout)
    assert (doc["added"], doc["removed"], doc["changed"]) == \
        (["add"], ["remove"], ["change"])
    assert doc["unchanged"] == ["keep"]


def test_reread_groups_by_supervisord_group(daemon_factory, conf, events,
                                            workdir):
    """A [group:] or numprocs program is one line, named by its group."""
    def sup(n):
        return (f"[supervisord]\n[unix_http_server]\nfile = {{socket}}\n"
                f"[program:w]\ncommand = /bin/sleep 60\nnumprocs = {n}\n"
                f"process_name = %(program_name)s_%(process_num)d\n"
                f"startsecs = 0\n"
                f"[program:solo]\ncommand = /bin/sleep 60\nstartsecs = 0\n")
    d = daemon_factory(sup(2))
    d.wait_ready()
    running(d, "w:w_1")
    d.write_config(sup(3))
    r = d.ctl("reread")
    assert (r.returncode, r.stdout) == (0, "w: changed\n"), r.stderr
    d.write_config(sup(2).replace("[program:solo]", "[program:other]"))
    r = d.ctl("reread")
    assert r.stdout.splitlines() == ["other: available",
                                     "solo: disappeared"]


def test_reread_of_a_broken_config_exits_1_with_file_line(daemon_factory,
                                                         conf, events):
    d, pids = start_base(daemon_factory, conf)
    before = snapshot(d)
    d.write_config(new_config(conf) + "[program:oops]\ncommand = /bin/true\n"
                   "start_secs = soon\n")
    lines = d.config_path.read_text().splitlines()
    n = next(i + 1 for i, line in enumerate(lines)
             if line.startswith("start_secs = soon"))
    mark = d.mark()
    r = d.ctl("reread")
    assert r.returncode == 1
    assert r.stdout == ""
    assert re.search(rf"^{re.escape(str(d.config_path))}:{n}: ", r.stderr,
                     re.M), r.stderr
    d.wait_log(r"reread: the config has errors; nothing changed", since=mark)
    assert snapshot(d) == before


def test_avail_lines(daemon_factory, conf, events):
    d = daemon_factory(conf.program("web", start_secs=QUICK, priority=10)
                       + conf.program("idle", autostart=False))
    d.wait_ready()
    r = d.ctl("avail")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "idle                             in use    manual    999:999",
        "web                              in use    auto      10:10",
    ]


def test_clear_empties_the_log_and_the_program_keeps_writing(
        daemon_factory, conf, events, workdir):
    log = workdir / "ticker.log"
    d = daemon_factory(conf.program(
        "ticker", command="/bin/sh -c 'i=0; while :; do i=$((i+1)); "
        "echo tick $i; sleep 0.05; done'", stdout=str(log))
        + conf.program("quiet", start_secs=QUICK, stdout="null"))
    d.wait_ready()
    running(d, "ticker")

    def ticks():
        return [int(w) for w in re.findall(r"tick (\d+)", log.read_text())]

    def wait_ticks(pred, what):
        wait_for(lambda: pred(ticks()), 30, what)

    wait_ticks(lambda t: len(t) >= 5, "five ticks")
    inode = os.stat(log).st_ino
    last = ticks()[-1]
    r = d.ctl("clear", "ticker")
    assert (r.returncode, r.stdout) == (0, "ticker: cleared\n"), r.stderr
    # Emptied in place: the same file, starting again at later ticks only.
    wait_ticks(lambda t: len(t) >= 3, "ticks after the clear")
    t = ticks()
    assert os.stat(log).st_ino == inode
    assert t[0] > last - 2 and t == list(range(t[0], t[0] + len(t)))
    assert not log.read_bytes().startswith(b"\0")

    # A program logging elsewhere: said, exit 1; the others still cleared.
    r = d.ctl("clear", "quiet")
    assert r.returncode == 1
    assert "quiet: no log file" in r.stderr
    r = d.ctl("clear", "all")
    assert r.returncode == 1
    assert r.stdout == "ticker: cleared\n"
    r = d.ctl("clear", "nosuch")
    assert r.returncode == 1 and "nosuch" in r.stderr


def test_clear_and_signal_take_a_group(daemon_factory, conf, events, workdir):
    log = workdir / "g.log"
    text = (f"[supervisord]\n[unix_http_server]\nfile = {{socket}}\n"
            f"[program:w]\ncommand = {conf.command('--ignore', 'USR1', '--stdout', 'hello', tag='w')}\n"
            f"startsecs = 0\nstdout_logfile = {log}\n"
            f"[group:g]\nprograms = w\n")
    d = daemon_factory(text)
    d.wait_ready()
    pid = running(d, "g:w")
    for name in ("g:*", "g:"):
        r = d.ctl("clear", name)
        assert (r.returncode, r.stdout) == (0, "g:w: cleared\n"), r.stderr
    r = d.ctl("signal", "USR1", "g:*")
    assert r.returncode == 0, r.stderr
    events.wait("w", "signal", sig="USR1")
