"""supervisord's event listener protocol: [eventlistener:x] programs get
PROCESS_STATE_*, TICK_*, SUPERVISOR_STATE_CHANGE_* and PROCESS_GROUP_*
events with supervisord's header and payloads, refused events come back
with the same serial, a full buffer drops its oldest event, and the classic
"stop the container when a program goes FATAL" listener works unchanged.
The listeners are the corpus's own scripts (supervisord-configs/).
"""

import json
import os
import re
import shutil
import signal
import time
from pathlib import Path

import pytest

from conftest import wait_for

CORPUS = Path(__file__).parent / "supervisord-configs"
PY = "/usr/bin/python3"


def records(path):
    """The JSON lines a corpus listener appended to path."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    # A line still being appended is not a record yet.
    whole = text[:text.rfind("\n") + 1]
    return [json.loads(line) for line in whole.splitlines() if line.strip()]


def events_of(path):
    """The events a listener recorded, each with its payload parsed."""
    out = []
    for rec in records(path):
        if rec.get("kind") != "event":
            continue
        head, _, data = rec["payload"].partition("\n")
        rec["fields"] = dict(f.split(":", 1) for f in head.split())
        rec["data"] = data
        out.append(rec)
    return out


def expected_events(name):
    """The events supervisord 4.2.5 gave the listeners of corpus config name."""
    with open(CORPUS / "expected" / f"{name}.json") as f:
        return json.load(f)["events"]


def wait_event(path, timeout=30, **want):
    """Wait for an event whose headers/fields hold every item of want."""
    def find():
        for ev in events_of(path):
            merged = {**ev["headers"], **ev["fields"], "result": ev["result"]}
            if all(merged.get(k) == v for k, v in want.items()):
                return ev
        return None
    wait_for(lambda: find() is not None, timeout,
             f"an event with {want} in {path}: {events_of(path)}")
    return find()


def listener(name, script, events, *args, **keys):
    """An [eventlistener:name] section running a corpus script."""
    command = " ".join([PY, str(CORPUS / script), *args])
    lines = [f"[eventlistener:{name}]", f"command = {command}",
             f"events = {events}"]
    lines += [f"{k} = {v}" for k, v in keys.items()]
    return "\n".join(lines).replace("{", "{{").replace("}", "}}") + "\n\n"


def recorder(name, *args, **keys):
    """A [program:name] running the corpus's record.py."""
    command = " ".join([PY, str(CORPUS / "record.py"), *args, name])
    lines = [f"[program:{name}]", f"command = {command}"]
    lines += [f"{k} = {v}" for k, v in keys.items()]
    return "\n".join(lines).replace("{", "{{").replace("}", "}}") + "\n\n"


@pytest.fixture
def record(workdir):
    """The file the corpus scripts append to, and the daemon's environment."""
    path = workdir / "record.jsonl"
    env = dict(os.environ, RECORD_FILE=str(path))
    return path, env


def test_process_state_events_with_supervisords_payloads(daemon_factory,
                                                          record):
    path, env = record
    d = daemon_factory(listener("monitor", "listener.py", "PROCESS_STATE",
                                "--fail-first", priority=-1)
                       + recorder("app", start_secs=1), env=env)
    d.wait_ready()
    running = wait_event(path, eventname="PROCESS_STATE_RUNNING",
                         processname="app")
    # The first event was refused, then sent again with the same serials.
    evs = events_of(path)
    assert evs[0]["result"] == "FAIL"
    assert evs[1]["headers"] == evs[0]["headers"]
    assert evs[1]["result"] == "OK"
    serials = [int(e["headers"]["serial"]) for e in evs[1:]]
    assert serials == sorted(serials) and len(set(serials)) == len(serials)
    # Header and payload fields are supervisord's, type by type.
    want = {}
    for ev in expected_events("eventlistener-pool"):
        want.setdefault(ev["eventname"], set(ev["fields"]))
    for ev in evs:
        name = ev["headers"]["eventname"]
        assert set(ev["headers"]) == {"ver", "server", "serial", "pool",
                                      "poolserial", "eventname", "len"}
        assert ev["headers"]["ver"] == "3.0"
        assert ev["headers"]["server"] == "supervisor"
        assert ev["headers"]["pool"] == "monitor"
        assert int(ev["headers"]["len"]) == len(ev["payload"].encode())
        if name in want:
            assert set(ev["fields"]) == want[name], ev
    assert running["fields"]["from_state"] == "STARTING"
    assert running["fields"]["groupname"] == "app"
    assert int(running["fields"]["pid"]) == d.status("app")["app"]["pid"]
    starting = wait_event(path, eventname="PROCESS_STATE_STARTING",
                          processname="app")
    assert starting["fields"] == {"processname": "app", "groupname": "app",
                                  "from_state": "STOPPED", "tries": "0"}
    d.ctl("stop", "app")
    stopped = wait_event(path, eventname="PROCESS_STATE_STOPPED",
                         processname="app")
    assert stopped["fields"]["from_state"] == "STOPPING"
    assert stopped["fields"]["pid"] == running["fields"]["pid"]


def test_fatal_listener_stops_the_daemon(daemon_factory, record):
    """kill_supervisor.py, unchanged: SIGTERM to its parent on FATAL."""
    path, env = record
    d = daemon_factory(
        listener("processes", "kill_supervisor.py",
                 "PROCESS_STATE_STOPPED, PROCESS_STATE_EXITED, "
                 "PROCESS_STATE_FATAL", priority=-1)
        + recorder("app", "--serve", autorestart="true")
        + recorder("broken", "--exit", "1", start_secs=1, start_retries=1,
                   autorestart="true"),
        env=env)
    assert d.wait_exit(timeout=60) == 0
    got = [(e["headers"]["eventname"], e["fields"]) for e in events_of(path)]
    want = [(e["eventname"], e["fields"])
            for e in expected_events("fatal-listener")]
    assert got[:1] == want


def test_refused_event_comes_back_first(daemon_factory, record):
    path, env = record
    daemon_factory(listener("monitor", "listener.py",
                            "PROCESS_STATE_RUNNING", "--fail-first")
                   + recorder("app", start_secs=0), env=env)
    wait_event(path, eventname="PROCESS_STATE_RUNNING", result="OK")
    evs = events_of(path)
    assert [e["result"] for e in evs[:2]] == ["FAIL", "OK"]
    assert evs[0]["headers"]["serial"] == evs[1]["headers"]["serial"]
    assert evs[0]["headers"]["poolserial"] == evs[1]["headers"]["poolserial"]


def test_buffer_overflow_drops_the_oldest(daemon_factory, record, workdir):
    path, env = record
    gate = workdir / "gate"
    late = workdir / "late.py"
    # A listener that says READY only once gate exists.
    late.write_text(
        "import os, sys, time\n"
        f"while not os.path.exists({str(gate)!r}):\n"
        "    time.sleep(0.05)\n"
        f"os.execv({PY!r}, [{PY!r}, {str(CORPUS / 'listener.py')!r}])\n")
    progs = "".join(recorder(f"p{i}", start_secs=0) for i in range(4))
    d = daemon_factory(
        f"[eventlistener:slow]\ncommand = {PY} {late}\n"
        "events = PROCESS_STATE_RUNNING\nbuffer_size = 2\nstart_secs = 0\n"
        "priority = -1\n\n" + progs, env=env)
    d.wait_log(r"pool slow event buffer overflowed, discarding event \d+")
    for i in range(4):
        d.wait_state(f"p{i}", "RUNNING")
    gate.write_text("")
    wait_for(lambda: len(events_of(path)) >= 2, 30, "two events")
    time.sleep(0.5)     # nothing more may come
    evs = events_of(path)
    assert len(evs) == 2
    names = [e["fields"]["processname"] for e in evs]
    # The slow listener's own RUNNING and p0's were dropped first.
    assert names == ["p2", "p3"]
    assert [int(e["headers"]["serial"]) for e in evs] == [3, 4]


def test_garbage_puts_the_listener_in_unknown(daemon_factory, record,
                                              workdir):
    path, env = record
    bad = workdir / "bad.py"
    bad.write_text("import sys, time\nsys.stdout.write('HELLO\\n')\n"
                   "sys.stdout.flush()\ntime.sleep(600)\n")
    d = daemon_factory(f"[eventlistener:bad]\ncommand = {PY} {bad}\n"
                       "events = PROCESS_STATE\n\n"
                       + recorder("app"), env=env)
    d.wait_log(r"bad: has entered the UNKNOWN state and will no longer "
               r"receive events")
    d.wait_log(r"bad: expected READY: 'HELLO")
    d.wait_state("app", "RUNNING")
    d.wait_state("bad", "RUNNING")


def test_tick_and_supervisor_state_and_group_events(daemon_factory, record):
    path, env = record
    d = daemon_factory(listener("ev", "listener.py",
                                "TICK_5, SUPERVISOR_STATE_CHANGE, "
                                "PROCESS_GROUP", priority=-1)
                       + recorder("worker"), env=env)
    tick = wait_event(path, eventname="TICK_5", timeout=15)
    assert int(tick["fields"]["when"]) % 5 == 0
    evs = events_of(path)
    added = [e["fields"]["groupname"] for e in evs
             if e["headers"]["eventname"] == "PROCESS_GROUP_ADDED"]
    assert added == ["ev", "worker"]
    assert all(e["payload"].endswith("\n") for e in evs
               if e["headers"]["eventname"] == "PROCESS_GROUP_ADDED")
    sc = [e for e in evs
          if e["headers"]["eventname"] == "SUPERVISOR_STATE_CHANGE_RUNNING"]
    assert len(sc) == 1 and sc[0]["payload"] == ""
    # Removing a group by reload announces it.
    d.write_config(listener("ev", "listener.py",
                            "TICK_5, SUPERVISOR_STATE_CHANGE, PROCESS_GROUP",
                            priority=-1))
    d.ctl("reload")
    removed = wait_event(path, eventname="PROCESS_GROUP_REMOVED")
    assert removed["payload"] == "groupname:worker\n"


def test_listener_keeps_working_across_reexec(daemon_factory, record):
    path, env = record
    d = daemon_factory(listener("mon", "listener.py", "PROCESS_STATE_RUNNING",
                                priority=-1)
                       + recorder("app", start_secs=0), env=env)
    wait_event(path, eventname="PROCESS_STATE_RUNNING", processname="app")
    d.ctl("reexec")
    d.ctl("restart", "app")
    wait_for(lambda: len([e for e in events_of(path)
                          if e["fields"].get("processname") == "app"]) >= 2,
             30, "a second RUNNING of app after reexec")
    # The same listener process got it: it was not restarted.
    assert len([r for r in records(path) if r.get("kind") == "start"
                and "listener.py" in " ".join(r["argv"])]) == 1
