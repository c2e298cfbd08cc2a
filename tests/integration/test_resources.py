"""Resource limits, accounting and OOM kills (safeexitd.ini(5), Resource
limits; safeexitctl(1), JSON OUTPUT).

rlimits are read back from the program's /proc/self/limits.  cgroup limits
are read back from the program's cgroup files, in a delegated cgroup made
for the test (as test_cgroup.py does); those tests are skipped, with the
reason, where the test's cgroup lacks a controller they need.
"""

import json
import subprocess
import time
from pathlib import Path

import pytest

from conftest import SAFEEXITD, daemon_env, wait_for
from test_cgroup import cg, cgroup_of, subgroups  # noqa: F401 (fixture)

WAIT = 30
MB = 1 << 20


def check(path, *args):
    """safeexitd -n on path."""
    return subprocess.run([str(SAFEEXITD), "-n", "-c", str(path), *args],
                          capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL, env=daemon_env())


def limits_of(path):
    """/proc/PID/limits as {name: (soft, hard)}."""
    out = {}
    for line in Path(path).read_text().splitlines()[1:]:
        name, soft, hard = line[:26].strip(), *line[26:].split()[:2]
        out[name] = (soft, hard)
    return out


def needs_controllers(cg, *names):
    """Skip unless the test's cgroup can pass on these controllers."""
    have = (cg.path / "cgroup.controllers").read_text().split()
    missing = [n for n in names if n not in have]
    if missing:
        pytest.skip(f"the {', '.join(missing)} controller{'s' if len(missing) > 1 else ''} "
                    f"not available in this cgroup v2 hierarchy "
                    f"(cgroup.controllers: {' '.join(have) or 'none'})")


def test_rlimits_are_set_before_exec(daemon_factory, conf, workdir):
    out = workdir / "limits"
    script = workdir / "limits.sh"
    script.write_text(f"cat /proc/self/limits > {out}.tmp\n"
                      f"mv {out}.tmp {out}\nexec sleep 60\n")
    d = daemon_factory(conf.program(
        "a", command=f"/bin/sh {script}", start_secs=0, limit_nofile="256:512", limit_nproc="1000:2000",
        limit_core="1M:infinity", limit_memlock="64K:128K",
        limit_as="infinity", limit_cpu="100:200"))
    d.wait_ready()
    wait_for(out.exists, WAIT, "the program's limits")
    lim = limits_of(out)
    assert lim["Max open files"] == ("256", "512")
    assert lim["Max processes"] == ("1000", "2000")
    assert lim["Max core file size"] == (str(MB), "unlimited")
    assert lim["Max locked memory"] == (str(64 << 10), str(128 << 10))
    assert lim["Max address space"] == ("unlimited", "unlimited")
    assert lim["Max cpu time"] == ("100", "200")


def test_bad_limits_are_reported_at_their_lines(workdir):
    path = workdir / "bad.ini"
    path.write_text("[program:a]\n"
                    "command = /bin/true\n"
                    "limit_nofile = 4096:1024\n"
                    "limit_core = 1Q\n"
                    "cpu_max = 150\n"
                    "io_weight = 0\n"
                    "memory_max = lots\n")
    r = check(path)
    assert r.returncode == 1
    assert f"{path}:3: limit_nofile: the soft limit is above the hard one " \
        "in '4096:1024'" in r.stderr
    assert f"{path}:4: limit_core: " in r.stderr
    assert f"{path}:5: cpu_max: a percentage of one CPU" in r.stderr
    assert f"{path}:6: io_weight: a weight from 1 to 10000" in r.stderr
    assert f"{path}:7: memory_max: a size" in r.stderr


def test_a_cgroup_limit_without_cgroups_is_an_error(workdir, daemon_factory,
                                                    conf):
    text = (conf.daemon(cgroups="off") +
            "[program:a]\ncommand = /bin/sleep 60\nmemory_max = 16M\n")
    path = workdir / "nocg.ini"
    path.write_text(text)
    r = check(path)
    assert r.returncode == 1
    assert f"{path}:6: memory_max: no cgroup for the program " \
        "(cgroups = off)" in r.stderr
    # At start too: the daemon refuses to run with it.
    r = subprocess.run([str(SAFEEXITD), "-c", str(path), "-s",
                        str(workdir / "never.sock")], capture_output=True,
                       text=True, timeout=30, stdin=subprocess.DEVNULL,
                       env=daemon_env())
    assert r.returncode == 1
    assert "memory_max: no cgroup for the program" in r.stderr
    assert not (workdir / "never.sock").exists()


def test_a_reload_with_an_unusable_cgroup_limit_changes_nothing(
        daemon_factory, conf, events):
    d = daemon_factory(conf.daemon(cgroups="off") +
                       conf.program("a", start_secs=0))
    d.wait_state("a", "RUNNING")
    d.write_config(conf.daemon(cgroups="off") +
                   conf.program("a", start_secs=0, pids_max=10))
    r = d.ctl("reload")
    assert r.returncode == 1
    assert "pids_max: no cgroup for the program" in r.stderr
    assert d.status()["a"]["state"] == "RUNNING"


def test_status_reports_what_programs_use(daemon_factory, conf):
    d = daemon_factory(conf.program(
        "busy", command="/bin/sh -c 'while :; do :; done'", start_secs=0) +
        conf.program("idle", autostart=False))
    d.wait_state("busy", "RUNNING")
    wait_for(lambda: d.status()["busy"]["cpu_seconds"] >= 0.3, WAIT,
             "CPU time counted")
    # (Exit 1: idle is not RUNNING.)
    r = d.ctl("--json", "status")
    ps = {p["name"]: p for p in json.loads(r.stdout)["programs"]}
    busy = ps["busy"]
    assert isinstance(busy["cpu_seconds"], float)
    assert 0.3 <= busy["cpu_seconds"] < 120
    assert 4096 <= busy["memory_bytes"] < 1 << 30
    assert busy["oom_kills"] == 0
    assert ps["idle"]["cpu_seconds"] == 0 and ps["idle"]["memory_bytes"] == 0


def test_cgroup_limits_are_written_into_the_programs_cgroup(
        cg, daemon_factory, conf, events):
    cg.delegate()
    needs_controllers(cg, "memory", "cpu", "pids")
    io = "io" in (cg.path / "cgroup.controllers").read_text().split()
    keys = dict(memory_max="64M", memory_high="48M", cpu_max="200%",
                pids_max=32)
    if io:
        keys["io_weight"] = 300
    d = daemon_factory(conf.program("a", start_secs=0, **keys),
                       prefix=cg.prefix())
    d.wait_ready()
    main = events.wait("a", "ready")
    group = cg.daemon_dir() / "program-a"
    assert cgroup_of(main["pid"]) == cg.rel(group)
    assert (group / "memory.max").read_text() == f"{64 * MB}\n"
    assert (group / "memory.high").read_text() == f"{48 * MB}\n"
    assert (group / "cpu.max").read_text() == "200000 100000\n"
    assert (group / "pids.max").read_text() == "32\n"
    if io:
        assert "default 300" in (group / "io.weight").read_text()
    # The daemon moved into its own leaf to pass the controllers on.
    assert cgroup_of(d.pid) == cg.rel(cg.daemon_dir() / "daemon")
    st = d.status()["a"]
    assert st["memory_bytes"] > 0
    d.signal("TERM")
    assert d.wait_exit(WAIT) == 0
    assert subgroups(cg.path) == []


def test_an_oom_kill_is_counted_logged_and_restarted(cg, daemon_factory, conf,
                                                     events):
    cg.delegate()
    needs_controllers(cg, "memory")
    (cg.path / "memory.swap.max").exists()
    grow = ("/usr/bin/python3 -c \"import time; time.sleep(0.3); "
            "b = b'x' * (64 << 20); time.sleep(60)\"")
    d = daemon_factory(conf.program("hog", command=grow, memory_max="16M",
                                    start_secs=0, autorestart="always"),
                       prefix=cg.prefix())
    d.wait_ready()
    d.wait_log(r"hog: out of memory: the kernel killed 1 process in its "
               r"cgroup", timeout=WAIT)
    wait_for(lambda: d.status()["hog"]["oom_kills"] >= 1, WAIT, "oom_kills")
    wait_for(lambda: d.status()["hog"]["restarts"] >= 1, WAIT, "a restart")
    r = d.ctl("--json", "status", "hog")
    st = json.loads(r.stdout)["programs"][0]
    assert st["oom_kills"] >= 1
    d.ctl("stop", "hog")
    assert (cg.daemon_dir() / "program-hog" / "memory.max").read_text() == \
        f"{16 * MB}\n"
