"""Stress: many programs, many clients, long crash loops, all bounded.

These run with `make stress` (pytest -m stress), not in `make check`: each
takes tens of seconds.  After every run the daemon must have no zombie child,
no more open descriptors than before, a bounded resident size, and it must
have answered `status` throughout.
"""

import concurrent.futures
import json
import os
import random
import signal
import subprocess
import time

import pytest

from conftest import SAFEEXITCTL

pytestmark = [pytest.mark.stress, pytest.mark.test_timeout(600)]


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def sanitized(pid):
    """Whether the daemon runs under ASan, whose quarantine holds freed memory."""
    with open(f"/proc/{pid}/maps") as f:
        return "libasan" in f.read()


def rss_bounded(pid, before, after):
    """Resident size did not grow by more than a tenth plus 1 MiB."""
    return sanitized(pid) or after <= before * 1.10 + 1024


def zombie_children(pid):
    """Pids of the daemon's children that are zombies."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == pid:
            found.append(int(entry))
    return found


def status_json(d):
    r = d.ctl("status", "--json", timeout=60)
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)


def test_thousand_programs_start_and_stop(daemon_factory, conf):
    n = 1000
    text = conf.daemon(shutdown_timeout=60)
    for i in range(n):
        text += conf.section(f"program:p{i}", command="/bin/sleep 100000",
                             autostart=False, start_secs=0, stdout="null")
    d = daemon_factory(text, extra_args=("-l", "notice"))
    d.wait_ready()
    samples = []
    for cycle in range(3):
        r = d.ctl("start", "all", timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        running = [p for p in status_json(d)["programs"] if p["state"] == "RUNNING"]
        assert len(running) == n
        r = d.ctl("stop", "all", timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        assert zombie_children(d.pid) == []
        samples.append((open_fds(d.pid), rss_kib(d.pid)))
    # The first cycle sets up each program's plumbing; later ones add nothing.
    assert samples[2][0] == samples[1][0], samples
    assert rss_bounded(d.pid, samples[1][1], samples[2][1]), samples


def test_clients_while_programs_crash_loop(daemon_factory, conf):
    text = conf.daemon(shutdown_timeout=30)
    for i in range(20):
        # Exits at once after reaching RUNNING: restarted at once, forever.
        text += conf.section(f"program:crash{i}", command="/bin/false",
                             autorestart="always", start_secs=0,
                             stdout="null")
    for i in range(5):
        text += conf.section(f"program:steady{i}", command="/bin/sleep 100000",
                             start_secs=0)
    d = daemon_factory(text, extra_args=("-l", "notice"))
    d.wait_ready()
    r = d.ctl("start", "steady0", "steady1", "steady2", "steady3", "steady4")
    assert r.returncode == 0, r.stderr
    base_fds = open_fds(d.pid)
    pids_before = {p["name"]: p["pid"] for p in status_json(d)["programs"]
                   if p["name"].startswith("steady")}

    commands = [("status",), ("status", "--json"), ("pid",), ("pid", "steady0"),
                ("version",), ("status", "crash3", "steady1"),
                ("signal", "CONT", "steady2"), ("stop", "crash7"),
                ("start", "crash7"), ("restart", "crash9")]

    def one(k):
        args = random.Random(k).choice(commands)
        r = d.ctl("-t", "60", *args, timeout=120)
        return args, r.returncode, r.stderr

    with concurrent.futures.ThreadPoolExecutor(max_workers=200) as pool:
        results = list(pool.map(one, range(600)))
    unreachable = [r for r in results if r[1] >= 2]
    assert unreachable == [], unreachable[:5]

    status = status_json(d)
    restarts = sum(p["restarts"] for p in status["programs"]
                   if p["name"].startswith("crash"))
    assert restarts > 100, restarts
    pids_after = {p["name"]: p["pid"] for p in status["programs"]
                  if p["name"].startswith("steady")}
    # Mixed commands touched steady2 only with SIGCONT: nothing restarted.
    assert pids_after == pids_before

    r = d.ctl("stop", "all", timeout=120)
    assert r.returncode == 0, r.stderr
    assert zombie_children(d.pid) == []
    # Idle clients may still be closing; every one is gone well within this.
    deadline = time.monotonic() + 30
    while open_fds(d.pid) > base_fds and time.monotonic() < deadline:
        d.ctl("status")
    assert open_fds(d.pid) <= base_fds


def test_long_crash_loop_compressed(daemon_factory, conf):
    text = conf.daemon() + conf.section(
        "program:loop", command="/bin/false", autorestart="always",
        start_secs=0, stdout="null", autostart=False)
    d = daemon_factory(text, extra_args=("-l", "notice"))
    d.wait_ready()
    # Measure in a quiet moment: after a first short loop has set up its plumbing.
    assert d.ctl("start", "loop").returncode in (0, 1)
    assert d.ctl("stop", "loop").returncode == 0
    fds0, rss0 = open_fds(d.pid), rss_kib(d.pid)
    first = status_json(d)["programs"][0]["restarts"]
    assert d.ctl("start", "loop").returncode in (0, 1)
    end = time.monotonic() + 15
    while time.monotonic() < end:
        assert d.ctl("status", "loop").returncode in (0, 1)
    r = d.ctl("stop", "loop")
    assert r.returncode == 0, r.stderr
    loops = status_json(d)["programs"][0]["restarts"] - first
    assert loops > 500, loops
    assert zombie_children(d.pid) == []
    assert open_fds(d.pid) == fds0
    assert rss_bounded(d.pid, rss0, rss_kib(d.pid)), (rss0, rss_kib(d.pid))


# SIGKILL of the daemon at random instants.

CRASH_PROGRAMS = ("p0", "p1", "p2", "stubborn", "brief")
SETTLED = {"RUNNING", "STOPPED", "FATAL", "EXITED"}


def crash_config(conf, generation=0):
    """Five programs: plain, one that ignores TERM, one that exits now and then.

    Every other generation leaves p2 out: a reload removes it, the next one
    adds it again.
    """
    text = conf.daemon(shutdown_timeout=20)
    for name in ("p0", "p1", "p2"):
        if name == "p2" and generation % 2 == 1:
            continue
        text += conf.program(name, start_secs=0.1, stop_timeout=2,
                             environment=f"GENERATION={generation if name == 'p0' else 0}")
    text += conf.program("stubborn", "--ignore", "TERM", start_secs=0.1,
                         stop_timeout=0.5)
    text += conf.program("brief", "--exit", "3", "--after", "1.5",
                         start_secs=0.1, stop_timeout=1, autorestart="always")
    return text


def live_children(events_path):
    """{pid: tag} of every live test child of this test, from /proc."""
    found = {}
    marker = str(events_path).encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state in ("Z", "X") or marker not in argv or b"--tag" not in argv:
            continue
        found[int(entry)] = argv[argv.index(b"--tag") + 1].decode()
    return found


def settle(d, timeout=15):
    """Wait until no program is on its way anywhere; return the status."""
    deadline = time.monotonic() + timeout
    while True:
        st = d.status()
        if all(p["state"] in SETTLED for p in st.values()) or \
                time.monotonic() > deadline:
            return st
        time.sleep(0.05)


def check_invariants(d, events, stopped, where):
    """No duplicate, no orphan, no lost stop."""
    st = settle(d)
    # A process may be on its way out (a stop just finished): look twice.
    for attempt in range(40):
        kids = live_children(events.path)
        per_tag = {}
        for pid, tag in kids.items():
            per_tag.setdefault(tag, []).append(pid)
        reported = {n: p["pid"] for n, p in st.items() if p["pid"]}
        dup = {t: v for t, v in per_tag.items() if len(v) > 1}
        orphans = {pid: tag for pid, tag in kids.items()
                   if reported.get(tag) != pid}
        if not dup and not orphans:
            break
        time.sleep(0.05)
        st = d.status()
    assert not dup, f"{where}: two instances: {dup}; status {st}"
    assert not orphans, f"{where}: unsupervised: {orphans}; status {st}"
    for name in stopped:
        if name not in st:
            continue                    # removed by a reload
        assert st[name]["state"] not in ("RUNNING", "STARTING"), \
            f"{where}: {name} was stopped and came back: {st[name]}"


def crash(d):
    """SIGKILL the daemon; its exit status (0: it had finished a shutdown)."""
    if d.returncode is None:
        d.signal(signal.SIGKILL)
    return d.wait_exit()


@pytest.mark.test_timeout(400)
@pytest.mark.parametrize("cgroups", ["auto", "off"])
def test_sigkill_at_random_instants(daemon_factory, conf, events, cgroups):
    rounds = int(os.environ.get("SAFEEXITD_CRASH_ROUNDS", "100"))
    rng = random.Random(os.environ.get("SAFEEXITD_CRASH_SEED", cgroups))
    generation = 0

    def text():
        return crash_config(conf, generation).replace(
            "[safeexitd]\n", f"[safeexitd]\ncgroups = {cgroups}\n", 1)

    d = daemon_factory(text(), extra_args=("-l", "notice"))
    socket = d.socket
    d.wait_ready()
    stopped = set()
    counts = {}

    def restart():
        nd = daemon_factory(text(), extra_args=("-s", socket, "-l", "notice"))
        nd.socket = socket
        return nd

    for rnd in range(rounds):
        action = rng.choice(["boot", "start", "stop", "restart", "autorestart",
                             "reload", "shutdown", "stop", "restart"])
        counts[action] = counts.get(action, 0) + 1
        name = rng.choice(CRASH_PROGRAMS)
        delay = rng.random() * 0.06
        ctl = None
        if action == "boot":
            crash(d)
            d = restart()               # crash it again while it starts
        elif action in ("start", "stop", "restart"):
            args = [action] + (["--no-wait"] if action != "restart" else []) + [name]
            ctl = subprocess.Popen([str(SAFEEXITCTL), "-s", str(socket),
                                    "-t", "5", *args],
                                   stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        elif action == "autorestart":
            pid = d.status().get(name, {}).get("pid") if d.returncode is None else None
            if pid:
                os.kill(pid, signal.SIGKILL)
        elif action == "reload":
            generation += 1
            if generation % 2 == 0:
                stopped.discard("p2")   # added again: it starts
            d.write_config(text())
            d.signal(signal.SIGHUP)
        elif action == "shutdown":
            d.signal(signal.SIGTERM)
        time.sleep(delay)
        if crash(d) == 0:
            stopped.clear()             # it finished a shutdown first
        if ctl is not None:
            rc = ctl.wait()
            if action == "stop" and rc == 0:
                stopped.add(name)       # the daemon said the stop had begun
            else:
                stopped.discard(name)   # a start or restart may have begun
        if action == "restart":
            stopped.discard(name)
        d = restart()
        d.wait_ready()
        time.sleep(0.05)
        if any("resuming the shutdown" in line for line in d.lines):
            # The shutdown was on record: it goes on to its end.
            assert d.wait_exit(timeout=30) == 0
            assert not live_children(events.path), "left after a shutdown"
            d = restart()
            d.wait_ready()
            stopped.clear()
            continue
        check_invariants(d, events, stopped, f"round {rnd} ({action} {name})")
    print(f"crash rounds ({cgroups}): {counts}")
    d.ctl("stop", "all")
    for pid in live_children(events.path):
        os.kill(pid, signal.SIGKILL)
