"""Reload: `safeexitctl reload` and SIGHUP re-read the config (safeexitd.ini(5) RELOAD, safeexitctl(1)).

Added programs start, removed ones stop and leave the table, changed ones
(any key of their section) restart, unchanged ones keep their process.  A bad
config changes nothing.  Who restarted is told by the children's pids and
events, not by timing.
"""

import json
import os
import re

import pytest

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


def base_config(conf, **daemon_keys):
    """keep, change and remove, all running."""
    head = conf.daemon(**daemon_keys) if daemon_keys else ""
    return (head
            + conf.program("keep", start_secs=QUICK)
            + conf.program("change", start_secs=QUICK, stop_timeout=5)
            + conf.program("remove", start_secs=QUICK))


def new_config(conf, **daemon_keys):
    """keep as it was, change with one key changed, remove gone, add new."""
    head = conf.daemon(**daemon_keys) if daemon_keys else ""
    return (head
            + conf.program("keep", start_secs=QUICK)
            + conf.program("change", start_secs=QUICK, stop_timeout=6)
            + conf.program("add", start_secs=QUICK))


def start_base(daemon_factory, conf, **daemon_keys):
    """A daemon running base_config; returns it and the pids by name."""
    d = daemon_factory(base_config(conf, **daemon_keys))
    d.wait_ready()
    pids = {name: running(d, name) for name in ("keep", "change", "remove")}
    return d, pids


def check_applied(d, events, pids, since):
    """The new config is in force: see new_config."""
    new = running(d, "add", since)
    changed = running(d, "change", since)
    d.wait_log(r"info: remove: removed", since=since)
    assert events.wait("add", "ready")["pid"] == new
    events.wait("remove", "exit", code=0)
    events.wait("change", "exit", code=0)
    assert changed != pids["change"]
    after = snapshot(d)
    assert after == {"keep": ("RUNNING", pids["keep"]),
                     "change": ("RUNNING", changed),
                     "add": ("RUNNING", new)}
    assert events.all("keep", "signal") == []
    r = d.ctl("status", "remove")
    assert r.returncode == 1
    assert "remove" in r.stderr


def test_reload_applies_added_removed_changed_and_unchanged(daemon_factory,
                                                            conf, events):
    d, pids = start_base(daemon_factory, conf)
    mark = d.mark()
    d.write_config(new_config(conf))
    r = d.ctl("reload")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["added: add", "removed: remove",
                                     "changed: change"]
    assert r.stderr == ""
    check_applied(d, events, pids, mark)

    # Nothing differs now.
    r = d.ctl("reload")
    assert (r.returncode, r.stdout) == (0, "no changes\n")
    r = d.ctl("--json", "reload")
    assert r.returncode == 0
    doc = json.loads(r.stdout)
    assert doc["added"] == doc["removed"] == doc["changed"] == []
    assert sorted(doc["unchanged"]) == ["add", "change", "keep"]
    assert doc["restart_needed"] == []


@pytest.mark.parametrize("key,old,new", [
    ("environment", "A=1", "A=2"),
    ("priority", 10, 20),
    ("stop_signal", "TERM", "INT"),
    ("autorestart", "always", "on-failure"),
    ("stdout", "null", "inherit"),
])
def test_any_changed_key_restarts_the_program(daemon_factory, conf, events,
                                              key, old, new):
    d = daemon_factory(conf.program("p", start_secs=QUICK, **{key: old})
                       + conf.program("q", start_secs=QUICK))
    d.wait_ready()
    p = running(d, "p")
    q = running(d, "q")
    mark = d.mark()
    d.write_config(conf.program("p", start_secs=QUICK, **{key: new})
                   + conf.program("q", start_secs=QUICK))
    r = d.ctl("reload")
    assert (r.returncode, r.stdout) == (0, "changed: p\n"), r.stderr
    again = running(d, "p", mark)
    assert again != p
    assert snapshot(d) == {"p": ("RUNNING", again), "q": ("RUNNING", q)}


def test_changed_program_that_was_stopped_stays_stopped(daemon_factory, conf,
                                                         events):
    d = daemon_factory(conf.program("idle", start_secs=QUICK,
                                    autostart=False)
                       + conf.program("web", start_secs=QUICK))
    d.wait_ready()
    web = running(d, "web")
    d.write_config(conf.program("idle", start_secs=QUICK, autostart=False,
                                priority=5)
                   + conf.program("web", start_secs=QUICK)
                   + conf.program("later", start_secs=QUICK,
                                  autostart=False))
    r = d.ctl("reload")
    assert r.returncode == 0, r.stderr
    assert "changed: idle" in r.stdout and "added: later" in r.stdout
    assert snapshot(d) == {"idle": ("STOPPED", None), "web": ("RUNNING", web),
                           "later": ("STOPPED", None)}
    assert events.all("idle") == [] and events.all("later") == []


def test_bad_config_changes_nothing(daemon_factory, conf, events):
    d, pids = start_base(daemon_factory, conf)
    before = snapshot(d)
    good = new_config(conf)
    bad = good + "[program:oops]\ncommand = /bin/true\nbogus_key = 1\n" \
        + "start_secs = soon\n"
    d.write_config(bad)
    lines = d.config_path.read_text().splitlines()
    want = [i + 1 for i, line in enumerate(lines)
            if line.startswith(("bogus_key", "start_secs = soon"))]
    mark = d.mark()
    r = d.ctl("reload")
    assert r.returncode == 1
    assert r.stdout == ""
    for n in want:
        assert re.search(rf"^{re.escape(str(d.config_path))}:{n}: ",
                         r.stderr, re.M), r.stderr
    d.wait_log(r"reload: the config has errors; nothing changed", since=mark)
    assert snapshot(d) == before
    assert events.all(event="signal") == []
    assert events.all("add") == []

    # Still the old config: a good one now is measured against it.
    mark = d.mark()
    d.write_config(good)
    r = d.ctl("reload")
    assert r.returncode == 0, r.stderr
    check_applied(d, events, pids, mark)


def test_a_fifo_in_place_of_the_config_changes_nothing(daemon_factory, conf,
                                                      events):
    # Opening it would wait for a writer: the daemon must not.
    d, pids = start_base(daemon_factory, conf)
    before = snapshot(d)
    d.config_path.unlink()
    os.mkfifo(d.config_path)
    r = d.ctl("reload", timeout=30)
    assert r.returncode == 1
    assert f"{d.config_path}: not a regular file" in r.stderr
    d.wait_log(r"reload: the config has errors; nothing changed")
    assert snapshot(d) == before
    assert events.all(event="signal") == []


def test_sighup_reloads(daemon_factory, conf, events):
    d, pids = start_base(daemon_factory, conf)
    mark = d.mark()
    d.write_config(new_config(conf))
    d.signal("HUP")
    d.wait_log(r"notice: reloaded ", since=mark)
    check_applied(d, events, pids, mark)


def test_sighup_with_a_bad_config_changes_nothing(daemon_factory, conf,
                                                  events):
    d, pids = start_base(daemon_factory, conf)
    before = snapshot(d)
    d.write_config(new_config(conf) + "[program:oops]\n")
    n = len(d.config_path.read_text().splitlines())
    mark = d.mark()
    d.signal("HUP")
    d.wait_log(rf"{re.escape(str(d.config_path))}:{n}: ", since=mark)
    d.wait_log(r"still running the old config", since=mark)
    assert snapshot(d) == before
    assert d.returncode is None
    assert events.all(event="signal") == []


def test_sighup_ignore(daemon_factory, conf, events):
    d, pids = start_base(daemon_factory, conf, on_sighup="ignore")
    before = snapshot(d)
    mark = d.mark()
    d.write_config(new_config(conf, on_sighup="ignore"))
    d.signal("HUP")
    d.wait_log(r"SIGHUP ignored", since=mark)
    assert snapshot(d) == before
    assert events.all(event="signal") == []
    # An explicit reload still works.
    r = d.ctl("reload")
    assert r.returncode == 0, r.stderr
    check_applied(d, events, pids, mark)


def test_sighup_shutdown(daemon_factory, conf, events):
    d, pids = start_base(daemon_factory, conf, on_sighup="shutdown")
    d.signal("HUP")
    assert d.wait_exit() == 0
    for name in pids:
        events.wait(name, "signal", sig="TERM")
        events.wait(name, "exit", code=0)


def test_sighup_policy_follows_a_reload(daemon_factory, conf, events):
    d, pids = start_base(daemon_factory, conf)
    d.write_config(base_config(conf, on_sighup="ignore"))
    r = d.ctl("reload")
    assert (r.returncode, r.stdout) == (0, "no changes\n"), r.stderr
    before = snapshot(d)
    mark = d.mark()
    d.signal("HUP")
    d.wait_log(r"SIGHUP ignored", since=mark)
    assert snapshot(d) == before


def test_daemon_keys_that_need_a_restart_are_reported(daemon_factory, conf,
                                                      events, workdir):
    d, pids = start_base(daemon_factory, conf)
    before = snapshot(d)
    moved = workdir / "elsewhere.sock"
    d.write_config(base_config(conf, socket=moved, socket_mode="0660"))
    mark = d.mark()
    r = d.ctl("reload")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "needs a daemon restart: socket socket_mode\n"
    d.wait_log(r"reload: socket changed; it takes effect when the daemon "
               r"restarts", since=mark)
    # Still served where it was; nothing else moved.
    assert not moved.exists()
    assert snapshot(d) == before


def test_keys_that_need_a_restart_are_reported_until_then(daemon_factory,
                                                          conf, events,
                                                          workdir):
    d, pids = start_base(daemon_factory, conf)
    d.write_config(base_config(conf, socket=workdir / "elsewhere.sock"))
    r = d.ctl("reload")
    assert r.stdout == "needs a daemon restart: socket\n"
    r = d.ctl("reload")
    assert r.stdout == "needs a daemon restart: socket\n"


def test_pidfile_written_at_start_is_removed_after_a_reload(daemon_factory,
                                                            conf, events,
                                                            workdir):
    first = workdir / "first.pid"
    d, pids = start_base(daemon_factory, conf, pidfile=first)
    assert first.read_text().strip() == str(d.pid)
    d.write_config(base_config(conf, pidfile=workdir / "second.pid"))
    r = d.ctl("reload")
    assert r.stdout == "needs a daemon restart: pidfile\n"
    d.signal("TERM")
    assert d.wait_exit() == 0
    assert not first.exists()


def test_program_back_before_its_removal_ended(daemon_factory, conf, events):
    """Removed, then added again while it still stops: one program, one
    process, under that name; the new one starts once the old one is gone."""
    web = conf.program("web", "--ignore", "TERM", start_secs=QUICK,
                       stop_timeout=5)
    other = conf.program("other", start_secs=QUICK)
    d = daemon_factory(web + other)
    d.wait_ready()
    old = running(d, "web")
    running(d, "other")

    d.write_config(other)
    r = d.ctl("reload")
    assert (r.returncode, r.stdout) == (0, "removed: web\n"), r.stderr
    events.wait("web", "signal", sig="TERM")

    mark = d.mark()
    d.write_config(web + other)
    r = d.ctl("reload")
    assert (r.returncode, r.stdout) == (0, "added: web\n"), r.stderr
    r = d.ctl("status", "--json", "web")
    doc = json.loads(r.stdout)
    assert [(p["name"], p["state"], p["pid"]) for p in doc["programs"]] == \
        [("web", "STOPPING", old)]
    assert len(events.all("web", "ready")) == 1, "not two at once"

    # The old process is reachable by name, and its end lets the new start.
    r = d.ctl("signal", "INT", "web")
    assert r.returncode == 0, r.stderr
    events.wait("web", "exit", code=0)
    new = running(d, "web", mark)
    assert new != old
    assert events.wait("web", "ready")["pid"] == old
    assert events.wait("web", "ready")["pid"] == new
    assert d.ctl("pid", "web").stdout == f"{new}\n"
    assert sorted(snapshot(d).items()) == [
        ("other", ("RUNNING", snapshot(d)["other"][1])),
        ("web", ("RUNNING", new))]
    # It ignores TERM: let it go now rather than at teardown's kill.
    d.ctl("signal", "INT", "web")
    events.wait("web", "exit", pid=new)
