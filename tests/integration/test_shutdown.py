"""Staged stops against real processes: the stop planner, grace periods and
kills, shutdown_timeout, every trigger taking the same path, the start
planner, and nothing left behind.

Order is read from the event stamps of the test children (CLOCK_MONOTONIC,
the clock the tests read with time.monotonic()), and only as relations
between them: a stage's signals come after the previous stage's last exit,
and every program of a stage is signalled before any of them exits.
"""

import re
import time

import pytest

from conftest import pid_running, pid_state, wait_gone

# Long enough that a stage signalled one program at a time would show (each
# exit would come before the next signal), short enough to keep tests fast.
DELAY = 0.5
# How long a test waits for anything that should happen promptly.
WAIT = 30


def ready(events, *names):
    """Wait for the ready event of each program; return {name: event}."""
    return {name: events.wait(name, "ready", timeout=WAIT) for name in names}


def check_stages(events, stages, sig="TERM"):
    """Check that stages (lists of names) stopped one after another.

    Every program of a stage gets sig before any of them exits (one loop
    turn, DELAY apart from the exits), and the first signal of a stage comes
    after the last exit of the one before.  Returns the stages as lists of
    (signal event, exit event).
    """
    seen = []
    last_exit = None
    for names in stages:
        sigs = [events.wait(n, "signal", sig=sig, timeout=WAIT) for n in names]
        exits = [events.wait(n, "exit", timeout=WAIT) for n in names]
        first_sig = min(ev["t"] for ev in sigs)
        if last_exit is not None:
            assert first_sig >= last_exit, \
                f"stage {names} was signalled before the last stage was gone"
        assert max(ev["t"] for ev in sigs) < min(ev["t"] for ev in exits), \
            f"stage {names} was not signalled in one go"
        last_exit = max(ev["t"] for ev in exits)
        seen.append(list(zip(sigs, exits)))
    return seen


def assert_none_left(events):
    """Check that no process the events mention still runs."""
    left = wait_gone(events.pids(), 5)
    assert not left, f"still running: {sorted(left)}"


def states(d):
    """Return {name: state} from status --json."""
    return {name: p["state"] for name, p in d.status().items()}


def daemon_lines(d, pattern):
    """Return the daemon's log lines matching pattern so far."""
    rx = re.compile(pattern)
    return [line for line in d.tail(100000).splitlines() if rx.search(line)]


def log_index(d, pattern, since=0):
    """Return the index of the first log line from since matching pattern."""
    rx = re.compile(pattern)
    lines = d.tail(100000).splitlines()
    return next(i for i, line in enumerate(lines)
                if i >= since and rx.search(line))


# The planner.

def test_stop_all_stages_dependents_first_then_priority(daemon_factory, conf,
                                                        events):
    # worker and web depend on db (and web on cache); logger has the lowest
    # priority number, so it goes last although nothing depends on it.
    config = (conf.daemon(shutdown_timeout=60) +
              conf.program("logger", "--exit-delay", DELAY, priority=1,
                           start_secs=0) +
              conf.program("db", "--exit-delay", DELAY, priority=100,
                           start_secs=0) +
              conf.program("cache", "--exit-delay", DELAY, priority=100,
                           start_secs=0) +
              conf.program("web", "--exit-delay", DELAY, priority=500,
                           depends_on="db, cache", start_secs=0) +
              conf.program("worker", "--exit-delay", DELAY, priority=900,
                           depends_on="db", start_secs=0))
    d = daemon_factory(config)
    ready(events, "logger", "db", "cache", "web", "worker")

    result = d.ctl("stop", "all")
    assert result.returncode == 0, result.stderr
    check_stages(events, [["worker"], ["web"], ["db", "cache"], ["logger"]])
    d.wait_log(r"stopping 5 programs in 4 stages")
    assert set(states(d).values()) == {"STOPPED"}
    assert d.returncode is None


def test_one_stage_takes_the_slowest_not_the_sum(daemon_factory, conf,
                                                 events):
    names = [f"p{i}" for i in range(5)]
    d = daemon_factory(conf.daemon(shutdown_timeout=60) + "".join(
        conf.program(n, "--exit-delay", DELAY, start_secs=0) for n in names))
    ready(events, *names)

    assert d.ctl("stop", "all").returncode == 0
    (stage,) = check_stages(events, [names])
    first = min(sig["t"] for sig, _ in stage)
    last = max(ex["t"] for _, ex in stage)
    # One after the other would take 5 x DELAY = 2.5 s.
    assert last - first < 2.0
    assert all(ex["t"] - sig["t"] >= DELAY * 0.9 for sig, ex in stage)


def test_grace_and_kill_are_per_program(daemon_factory, conf, events):
    # stubborn and quick share a stage; base stops after both are gone.
    config = (conf.daemon(shutdown_timeout=60) +
              conf.program("base", start_secs=0) +
              conf.program("stubborn", "--ignore", "TERM", stop_timeout=1,
                           depends_on="base", start_secs=0) +
              conf.program("quick", stop_timeout=30, depends_on="base",
                           start_secs=0))
    d = daemon_factory(config)
    pids = {n: ev["pid"] for n, ev in
            ready(events, "base", "stubborn", "quick").items()}

    assert d.ctl("stop", "all").returncode == 0
    stubborn_term = events.wait("stubborn", "signal", sig="TERM")
    quick_term = events.wait("quick", "signal", sig="TERM")
    quick_exit = events.wait("quick", "exit")
    base_term = events.wait("base", "signal", sig="TERM")
    # quick went at once; stubborn held the stage for its own grace period.
    assert quick_exit["t"] < stubborn_term["t"] + 1.0
    assert base_term["t"] >= quick_exit["t"]
    assert base_term["t"] >= stubborn_term["t"] + 0.9
    assert abs(quick_term["t"] - stubborn_term["t"]) < 1.0
    d.wait_log(r"stubborn: still running after 1s; sending KILL")
    assert not daemon_lines(d, r"quick: still running")
    st = d.status()
    assert st["stubborn"]["signal"] == "KILL"
    assert st["quick"]["exit_code"] == 0
    assert events.all("stubborn", "exit") == []
    assert not any(pid_running(pid) for pid in pids.values())


@pytest.mark.test_timeout(60)
def test_shutdown_timeout_caps_the_whole_run(daemon_factory, conf, events):
    # Three stages of programs that ignore TERM and ask for 30 s each.
    keys = dict(stop_timeout=30, start_secs=0)
    config = (conf.daemon(shutdown_timeout=1) +
              conf.program("a", "--ignore", "TERM", **keys) +
              conf.program("b", "--ignore", "TERM", depends_on="a", **keys) +
              conf.program("c", "--ignore", "TERM", depends_on="b", **keys))
    d = daemon_factory(config)
    pids = {n: ev["pid"] for n, ev in ready(events, "a", "b", "c").items()}

    d.signal("TERM")
    c_term = events.wait("c", "signal", sig="TERM")
    assert d.wait_exit(WAIT) == 0
    gone = time.monotonic()
    d.wait_log(r"shutdown timeout reached")
    # Killed soon after the 1 s cap, not after 3 x 30 s.
    assert gone - c_term["t"] >= 0.9
    assert gone - c_term["t"] < 15
    for name in "abc":
        assert daemon_lines(
            d, rf"\b{name}: pid {pids[name]} exited \(signal KILL\)"), \
            f"{name} was not killed"
    assert_none_left(events)


# One path for every trigger.

def chain_config(conf):
    """c (priority 30) and b (20, depends on a) stop before a (10)."""
    keys = dict(start_secs=0)
    return (conf.daemon(shutdown_timeout=60) +
            conf.program("a", "--exit-delay", DELAY, priority=10, **keys) +
            conf.program("b", "--exit-delay", DELAY, priority=20,
                         depends_on="a", **keys) +
            conf.program("c", "--exit-delay", DELAY, priority=30, **keys))


@pytest.mark.parametrize("trigger", ["stop all", "shutdown", "SIGTERM",
                                     "SIGINT"])
def test_every_trigger_takes_the_staged_path(daemon_factory, conf, events,
                                             trigger):
    d = daemon_factory(chain_config(conf))
    ready(events, "a", "b", "c")

    if trigger.startswith("SIG"):
        d.signal(trigger)
    else:
        result = d.ctl(*trigger.split())
        assert result.returncode == 0, result.stderr
    check_stages(events, [["c"], ["b"], ["a"]])
    d.wait_log(r"stopping 3 programs in 3 stages")
    if trigger == "stop all":
        assert set(states(d).values()) == {"STOPPED"}
        assert d.returncode is None
    else:
        assert d.wait_exit(WAIT) == 0
    assert_none_left(events)


def test_stop_name_stops_dependents_first_and_nothing_else(daemon_factory,
                                                           conf, events):
    keys = dict(start_secs=0)
    config = (conf.daemon(shutdown_timeout=60) +
              conf.program("db", "--exit-delay", DELAY, **keys) +
              conf.program("web", "--exit-delay", DELAY, depends_on="db",
                           **keys) +
              conf.program("api", "--exit-delay", DELAY, depends_on="web",
                           **keys) +
              conf.program("other", **keys))
    d = daemon_factory(config)
    other = ready(events, "db", "web", "api", "other")["other"]

    result = d.ctl("stop", "db")
    assert result.returncode == 0, result.stderr
    check_stages(events, [["api"], ["web"], ["db"]])
    st = d.status()
    assert [st[n]["state"] for n in ("db", "web", "api")] == ["STOPPED"] * 3
    assert st["other"]["state"] == "RUNNING"
    assert st["other"]["pid"] == other["pid"]
    assert events.all("other", "signal") == []


def test_stop_what_is_already_stopped(daemon_factory, conf, events):
    # Nothing to wait for: the run ends at once, and must not take the
    # daemon or the client with it.
    d = daemon_factory(conf.program("idle", autostart=False) +
                       conf.program("dep", autostart=False, depends_on="idle"))
    d.wait_ready()
    for args in (("stop", "idle"), ("stop", "idle"), ("stop", "all"),
                 ("stop", "--no-wait", "dep"), ("restart", "idle")):
        result = d.ctl(*args)
        assert result.returncode == 0, (args, result.stderr)
    ready(events, "idle", "dep")
    assert d.ctl("stop", "all").returncode == 0
    assert set(states(d).values()) == {"STOPPED"}


def test_stop_during_backoff_is_quick(daemon_factory, conf, events):
    # A program waiting to retry has no process: stopping it ends at once.
    d = daemon_factory(conf.program("flaky", "--exit", "1", start_secs=5,
                                    start_retries=5))
    d.wait_state("flaky", "BACKOFF", WAIT)
    result = d.ctl("stop", "flaky")
    assert result.returncode == 0, result.stderr
    assert states(d)["flaky"] == "STOPPED"


# The start planner.

def test_start_starts_dependencies_first(daemon_factory, conf, events):
    config = (conf.program("db", autostart=False, start_secs=1) +
              conf.program("web", autostart=False, start_secs=0.2,
                           depends_on="db") +
              conf.program("api", autostart=False, start_secs=0.2,
                           depends_on="web") +
              conf.program("other", autostart=False))
    d = daemon_factory(config)
    d.wait_ready()

    result = d.ctl("start", "api")
    assert result.returncode == 0, result.stderr
    st = d.status()
    assert [st[n]["state"] for n in ("db", "web", "api")] == ["RUNNING"] * 3
    assert st["other"]["state"] == "STOPPED"
    up = ready(events, "db", "web", "api")
    assert up["db"]["t"] < up["web"]["t"] < up["api"]["t"]
    # Each one was launched only once the one before it was RUNNING.
    assert log_index(d, r"\bdb: STARTING -> RUNNING") < \
        log_index(d, r"\bweb: STOPPED -> STARTING")
    assert log_index(d, r"\bweb: STARTING -> RUNNING") < \
        log_index(d, r"\bapi: STOPPED -> STARTING")
    # start_secs of db (1 s) lies between the two launches.
    assert up["web"]["t"] - up["db"]["t"] > 0.5
    assert events.all("other") == []


def test_start_order_follows_priority(daemon_factory, conf, events):
    # Launched in one go, lowest priority number first, whatever the order
    # of the sections.
    config = (conf.program("late", priority=300, start_secs=0) +
              conf.program("early", priority=100, start_secs=0) +
              conf.program("middle", priority=200, start_secs=0))
    d = daemon_factory(config)
    ready(events, "late", "early", "middle")
    # A child may report before the daemon's log line is read: wait for it.
    for name in ("late", "early", "middle"):
        d.wait_state(name, "RUNNING")
    launched = [m.group(1) for line in
                daemon_lines(d, r"\b(\w+): STOPPED -> RUNNING")
                for m in [re.search(r"\b(\w+): STOPPED -> RUNNING", line)]]
    assert launched == ["early", "middle", "late"]


def test_fatal_dependency_fails_its_dependents(daemon_factory, conf, events):
    config = (conf.program("db", "--exit", "1", autostart=False,
                           start_secs=1, start_retries=0) +
              conf.program("web", autostart=False, depends_on="db") +
              conf.program("api", autostart=False, depends_on="web"))
    d = daemon_factory(config)
    d.wait_ready()

    result = d.ctl("start", "api")
    assert result.returncode == 1
    assert states(d) == {"db": "FATAL", "web": "FATAL", "api": "FATAL"}
    text = d.ctl("status").stdout
    assert re.search(r"(?m)^web +FATAL +dependency db is FATAL$", text), text
    assert re.search(r"(?m)^api +FATAL +dependency web is FATAL$", text), text
    assert events.all("web") == [] and events.all("api") == []


def test_start_waits_for_a_dependency_that_is_stopping(daemon_factory, conf,
                                                       events):
    # db is on its way down when web is started: web waits for db to stop
    # and start again instead of failing.
    config = (conf.daemon(shutdown_timeout=60) +
              conf.program("db", "--exit-delay", DELAY, start_secs=0) +
              conf.program("web", autostart=False, start_secs=0,
                           depends_on="db"))
    d = daemon_factory(config)
    first = ready(events, "db")["db"]

    assert d.ctl("stop", "--no-wait", "db").returncode == 0
    events.wait("db", "signal", sig="TERM")
    since = d.mark()
    result = d.ctl("start", "web")
    assert result.returncode == 0, result.stdout + result.stderr
    gone = events.wait("db", "exit")
    again = events.wait("db", "ready", timeout=WAIT)
    assert again["pid"] != first["pid"] and again["t"] > gone["t"]
    events.wait("web", "ready", timeout=WAIT)
    assert log_index(d, r"\bdb: STOPPING -> STOPPED", since) < \
        log_index(d, r"\bdb: STOPPED -> RUNNING", since) < \
        log_index(d, r"\bweb: STOPPED -> RUNNING", since)
    assert states(d) == {"db": "RUNNING", "web": "RUNNING"}


# Nothing left behind.

def test_stop_takes_the_whole_process_group(daemon_factory, conf, events):
    d = daemon_factory(conf.program("a", "--fork-grandchild", start_secs=0))
    main = events.wait("a", "ready")
    gc = events.wait("a.gc", "ready")
    assert gc["pgid"] == main["pid"]

    assert d.ctl("stop", "a").returncode == 0
    events.wait("a.gc", "signal", sig="TERM")
    # Stopped means the group is empty: both are gone and reaped already.
    assert pid_state(main["pid"]) is None
    assert pid_state(gc["pid"]) is None
    assert states(d) == {"a": "STOPPED"}


def test_nothing_of_a_program_outlives_the_daemon(daemon_factory, conf,
                                                  events):
    # With stop_group = false the grandchild stays when the program stops;
    # the daemon's exit sweep must still take it.
    d = daemon_factory(conf.daemon(shutdown_timeout=10) +
                       conf.program("a", "--fork-grandchild", stop_group=False,
                                    stop_timeout=1, start_secs=0))
    events.wait("a", "ready")
    gc = events.wait("a.gc", "ready")

    assert d.ctl("stop", "a").returncode == 0
    events.wait("a", "exit")
    assert pid_running(gc["pid"])
    assert events.all("a.gc", "signal") == []

    d.signal("TERM")
    sweep = events.wait("a.gc", "signal", sig="TERM")
    assert sweep["t"] > events.all("a", "exit")[0]["t"]
    assert d.wait_exit(WAIT) == 0
    assert_none_left(events)
    d.wait_log(rf"sweeping leftover process {gc['pid']} with signal 15")


@pytest.mark.test_timeout(60)
def test_escaped_descendant_is_swept_term_then_kill(daemon_factory, conf,
                                                    events):
    # Without a cgroup per program (test_cgroup.py), the exit sweep is what
    # gets rid of a process that left its group.
    d = daemon_factory(conf.daemon(shutdown_timeout=20, cgroups="off") +
                       conf.program("a", "--escape", stop_timeout=1,
                                    start_secs=0))
    main = events.wait("a", "ready")
    esc = events.wait("a.esc", "ready")
    assert esc["sid"] == esc["pid"] != main["sid"]

    d.signal("TERM")
    a_exit = events.wait("a", "exit")
    term = events.wait("a.esc", "signal", sig="TERM")
    assert term["t"] >= a_exit["t"]
    assert d.wait_exit(WAIT) == 0
    gone = time.monotonic()
    # It ignores TERM: KILL after the grace period (stop_timeout, 1 s), well
    # within shutdown_timeout.
    d.wait_log(rf"sweeping leftover process {esc['pid']} with signal 9")
    assert gone - term["t"] >= 0.9
    assert gone - term["t"] < 15
    assert events.all("a.esc", "exit") == []
    assert_none_left(events)
    assert events.alive() == {}


def test_exit_on_fatal_stops_everything_and_fails(daemon_factory, conf,
                                                  events):
    # broken starts once steady is RUNNING (1 s after its launch), so steady
    # has its handlers in place when the shutdown reaches it.
    config = (conf.daemon(exit_on_fatal=True, shutdown_timeout=30) +
              conf.program("steady", "--exit-delay", DELAY, start_secs=1) +
              conf.program("broken", "--exit", "3", start_secs=1,
                           start_retries=0, depends_on="steady"))
    d = daemon_factory(config)
    steady = events.wait("steady", "ready")
    events.wait("broken", "exit", code=3)
    term = events.wait("steady", "signal", sig="TERM")
    assert term["t"] > steady["t"]
    events.wait("steady", "exit")
    assert d.wait_exit(WAIT) == 1
    d.wait_log(r"broken is FATAL and exit_on_fatal is set")
    assert not wait_gone([steady["pid"]], 5)
