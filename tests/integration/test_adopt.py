"""Surviving the daemon's own crash or re-exec: programs are re-adopted.

After a SIGKILL of the daemon, a new daemon on the same socket reads the
state file (SOCKET.state) and adopts every program whose recorded process
still runs with the same start time and settings: no duplicate is started,
and stop works on the adopted process.  A state file that cannot be trusted
adopts nothing.  `safeexitctl reexec` keeps every pid, the socket and the
programs' output across the exec.
"""

import json
import os
import re
import signal

import pytest

from conftest import pid_running, wait_for, wait_gone


def config(conf):
    # Records alone: where programs have cgroups, a cgroup also names
    # their processes (see test_cgroup_finds_what_no_record_names).
    return (conf.daemon(shutdown_timeout=20, cgroups="off")
            + conf.program("quiet", "--stdout", "hello", start_secs=0.2,
                           stdout="quiet.log")
            + conf.program("worker", start_secs=0.2, stdout="null"))


def start_pair(daemon_factory, conf, events):
    d = daemon_factory(config(conf))
    d.wait_ready()
    pids = {tag: events.wait(tag, "ready")["pid"] for tag in ("quiet", "worker")}
    d.wait_state("quiet", "RUNNING")
    d.wait_state("worker", "RUNNING")
    return d, pids


def crash(d):
    """SIGKILL the daemon and wait for it, as a crash would leave things."""
    d.signal(signal.SIGKILL)
    assert d.wait_exit() == -signal.SIGKILL


def restart_on(daemon_factory, conf, old):
    """A new daemon with the same config on the same socket (same state file)."""
    d = daemon_factory(config(conf), extra_args=("-s", old.socket))
    d.socket = old.socket
    d.wait_ready()
    return d


def test_state_file_is_private_and_names_running_programs(daemon_factory, conf, events):
    d, pids = start_pair(daemon_factory, conf, events)
    path = d.socket + ".state"
    st = os.stat(path)
    assert st.st_uid == os.geteuid() and (st.st_mode & 0o777) == 0o600
    with open(path) as f:
        state = json.load(f)
    assert {p["name"]: p["pid"] for p in state["programs"]} == pids


def test_sigkill_then_restart_adopts_without_duplicates(daemon_factory, conf, events, workdir):
    d1, pids = start_pair(daemon_factory, conf, events)
    crash(d1)
    d2 = restart_on(daemon_factory, conf, d1)
    for tag, pid in pids.items():
        d2.wait_log(rf"{tag}: adopted running pid {pid}\b")
    status = d2.status()
    assert {n: p["pid"] for n, p in status.items()} == pids
    assert all(p["state"] == "RUNNING" for p in status.values())
    # No second process was started for either program.
    events.wait_none("quiet", "ready", timeout=1.5)
    events.wait_none("worker", "ready", timeout=0.1)
    # Output that goes straight to a file still goes there.
    assert "hello" in (workdir / "quiet.log").read_text()

    r = d2.ctl("stop", "worker")
    assert r.returncode == 0, r.stderr
    assert events.wait("worker", "signal", sig="TERM")["pid"] == pids["worker"]
    events.wait("worker", "exit")
    after = d2.status("worker")["worker"]
    assert after["state"] == "STOPPED" and after["pid"] is None
    # It was not our child: how it ended is unknown, and said so.
    text = d2.ctl("status", "worker").stdout
    assert "unknown" in text, text


def test_changed_start_time_adopts_nothing(daemon_factory, conf, events):
    d1, pids = start_pair(daemon_factory, conf, events)
    crash(d1)
    path = d1.socket + ".state"
    with open(path) as f:
        state = json.load(f)
    for p in state["programs"]:
        p["start_time"] += 1    # as if the pid now named another process
    with open(path, "w") as f:
        json.dump(state, f)
    try:
        d2 = restart_on(daemon_factory, conf, d1)
        d2.wait_log(r"quiet: pid \d+ now belongs to another process; not adopted")
        fresh = events.wait("quiet", "ready")["pid"]
        assert fresh != pids["quiet"]
        assert d2.status("quiet")["quiet"]["pid"] == fresh
    finally:
        for pid in pids.values():
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("damage", ["mode", "garbage"])
def test_untrusted_state_file_is_ignored(daemon_factory, conf, events, damage):
    d1, pids = start_pair(daemon_factory, conf, events)
    crash(d1)
    path = d1.socket + ".state"
    if damage == "mode":
        os.chmod(path, 0o644)
    else:
        with open(path, "w") as f:
            f.write('{"version": 1, "programs": [{"name": 7}]')
    try:
        d2 = restart_on(daemon_factory, conf, d1)
        d2.wait_log(r"state file .*(0600|damaged).*ignored")
        assert events.wait("quiet", "ready")["pid"] != pids["quiet"]
        assert "adopted" not in "\n".join(d2.lines)
    finally:
        for pid in pids.values():
            os.kill(pid, signal.SIGKILL)


def test_changed_settings_restart_the_adopted_process(daemon_factory, conf, events):
    d1, pids = start_pair(daemon_factory, conf, events)
    crash(d1)
    text = config(conf).replace("start_secs = 0.2\nstdout = null",
                                "start_secs = 0.3\nstdout = null")
    d2 = daemon_factory(text, extra_args=("-s", d1.socket))
    d2.socket = d1.socket
    d2.wait_ready()
    d2.wait_log(r"worker: settings changed since pid \d+ started; restarting it")
    d2.wait_log(r"quiet: adopted running pid")
    # The old process is stopped, not left behind, and one new one runs.
    assert events.wait("worker", "signal", sig="TERM")["pid"] == pids["worker"]
    fresh = events.wait("worker", "ready")["pid"]
    assert fresh != pids["worker"]
    d2.wait_state("worker", "RUNNING")
    assert d2.status("worker")["worker"]["pid"] == fresh


def test_reexec_keeps_pids_socket_and_output(daemon_factory, conf, events):
    text = (conf.daemon()
            + conf.section("program:talker", start_secs=0.2, command=(
                "/bin/sh -c 'trap \"exit 0\" TERM; i=0; while :; do "
                "echo line-$i; i=$((i+1)); sleep 0.1; done'")))
    d = daemon_factory(text)
    d.wait_ready()
    d.wait_state("talker", "RUNNING")
    before = d.status()["talker"]
    d.wait_log(r"talker stdout: line-\d+")
    mark = d.mark()
    r = d.ctl("reexec")
    assert r.returncode == 0, r.stderr
    # The socket stayed open: this is answered by the new image.
    after = d.status()["talker"]
    assert after["pid"] == before["pid"] and after["state"] == "RUNNING"
    assert d.ctl("pid").stdout.strip() == str(d.pid)
    d.wait_log(r"re-executed: 1 program pipe handed over", since=mark)
    m = d.wait_log(r"talker: adopted running pid (\d+)", since=mark)
    assert int(m.group(1)) == before["pid"]
    # Output keeps flowing through the handed-over pipe.
    ready = d.wait_log(r"notice: ready\b", since=mark)
    d.wait_log(r"talker stdout: line-\d+", since=mark)
    # And the program is still our child: its exit status is known.
    r = d.ctl("stop", "talker")
    assert r.returncode == 0, r.stderr
    st = d.status()["talker"]
    assert st["state"] == "STOPPED" and st["exit_code"] == 0, st
    assert ready is not None


def test_output_through_the_daemon_survives_a_crash(daemon_factory, conf, workdir):
    # The program writes to the daemon's log through a pipe.  While no
    # daemon runs, the pipe keeper still holds a reader: no SIGPIPE.
    text = (conf.daemon()
            + conf.section("program:talker", start_secs=0.2, command=(
                "/bin/sh -c 'trap \"exit 0\" TERM; i=0; while :; do "
                "echo line-$i; i=$((i+1)); sleep 0.05; done'")))
    d1 = daemon_factory(text)
    d1.wait_ready()
    d1.wait_state("talker", "RUNNING")
    pid = d1.status()["talker"]["pid"]
    m = d1.wait_log(r"talker stdout: line-(\d+)")
    crash(d1)
    last_before = max(int(x) for x in re.findall(r"talker stdout: line-(\d+)",
                                                   "\n".join(d1.lines)))
    d2 = daemon_factory(text, extra_args=("-s", d1.socket))
    d2.socket = d1.socket
    d2.wait_ready()
    d2.wait_log(r"collected 1 program pipe from the pipe keeper")
    d2.wait_log(rf"talker: adopted running pid {pid}\b")
    # Lines written while no daemon ran come through, in order, none lost.
    m = d2.wait_log(r"talker stdout: line-(\d+)")
    assert int(m.group(1)) == last_before + 1, (m.group(0), last_before)
    d2.wait_log(rf"talker stdout: line-{last_before + 20}\b")
    assert d2.status()["talker"]["pid"] == pid
    r = d2.ctl("stop", "talker")
    assert r.returncode == 0, r.stderr
    assert m is not None


def proc_start_time(pid):
    """Field 22 of /proc/PID/stat: the kernel's start time in ticks."""
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[19])


@pytest.fixture
def stranger():
    """A process that is none of the daemon's: a sleep in a session of its own."""
    import subprocess
    proc = subprocess.Popen(["sleep", "300"], start_new_session=True,
                            stdin=subprocess.DEVNULL)
    yield proc
    proc.kill()
    proc.wait()


@pytest.mark.parametrize("forgery", ["huge-pgid", "pid-one", "stranger", "start-time"])
def test_forged_state_file_never_adopts_or_signals_a_stranger(
        daemon_factory, conf, events, stranger, forgery):
    d1, pids = start_pair(daemon_factory, conf, events)
    crash(d1)
    for pid in pids.values():
        os.kill(pid, signal.SIGKILL)
    path = d1.socket + ".state"
    with open(path) as f:
        state = json.load(f)
    entry = next(p for p in state["programs"] if p["name"] == "worker")
    victim = stranger.pid
    entry.update(pid=victim, pgid=victim, start_time=proc_start_time(victim))
    if forgery == "huge-pgid":
        entry["pgid"] = 4294967297      # reads as 1 once cut to 32 bits
    elif forgery == "pid-one":
        entry.update(pid=1, pgid=1, start_time=proc_start_time(1))
    elif forgery == "start-time":
        entry["start_time"] += 1
        entry.pop("exe", None)
    # "stranger": everything matches but the executable.
    state["programs"] = [entry]
    with open(path, "w") as f:
        json.dump(state, f)
    d2 = restart_on(daemon_factory, conf, d1)
    fresh = events.wait("worker", "ready")["pid"]
    assert fresh != victim
    d2.wait_state("worker", "RUNNING")
    assert "adopted running" not in "\n".join(d2.lines)
    r = d2.ctl("stop", "worker")
    assert r.returncode == 0, r.stderr
    events.wait("worker", "exit", pid=fresh)
    assert stranger.poll() is None, "the stranger was signalled"
    assert d2.status("worker")["worker"]["state"] == "STOPPED"
    assert d2.returncode is None
    reasons = {"huge-pgid": r"entry 1 \(worker\) has a process group out of range",
               "pid-one": r"entry 1 \(worker\) has a pid out of range",
               "stranger": r"worker: pid \d+ runs another executable than recorded",
               "start-time": r"worker: pid \d+ now belongs to another process"}
    d2.wait_log(reasons[forgery])


def test_fifo_at_state_file_does_not_hang_the_daemon(daemon_factory, conf, events):
    d1, pids = start_pair(daemon_factory, conf, events)
    crash(d1)
    for pid in pids.values():
        os.kill(pid, signal.SIGKILL)
    path = d1.socket + ".state"
    os.unlink(path)
    os.mkfifo(path, 0o600)
    d2 = restart_on(daemon_factory, conf, d1)
    d2.wait_log(r"state file .*\.state is not a regular file; ignored")
    d2.wait_state("worker", "RUNNING")
    assert d2.status("quiet")["quiet"]["state"] in ("STARTING", "RUNNING")


def test_links_at_state_files_are_not_followed(daemon_factory, conf, events, workdir):
    d1, pids = start_pair(daemon_factory, conf, events)
    crash(d1)
    for pid in pids.values():
        os.kill(pid, signal.SIGKILL)
    path = d1.socket + ".state"
    with open(path) as f:
        text = f.read()
    targets = {}
    for suffix in ("", ".tmp"):
        target = workdir / f"mine{suffix or '.state'}"
        target.write_text(text)
        os.chmod(target, 0o600)
        targets[suffix] = target
        if os.path.lexists(path + suffix):
            os.unlink(path + suffix)
        os.symlink(target, path + suffix)
    d2 = restart_on(daemon_factory, conf, d1)
    d2.wait_log(r"state file .*\.state: not used: .*(symbolic links|ELOOP)")
    assert "adopted running" not in "\n".join(d2.lines)
    d2.wait_state("worker", "RUNNING")
    d2.wait_state("quiet", "RUNNING")
    # The next write replaces the links, never what they point to.
    wait = __import__("conftest").wait_for
    wait(lambda: not os.path.islink(path), what="state file rewritten")
    for target in targets.values():
        assert target.read_text() == text
    assert not os.path.islink(path + ".tmp")


# A process whose program is no longer configured: stopped, never adopted.

def removal_config(conf, cgroups, with_gone, stubborn):
    text = (conf.daemon(shutdown_timeout=20, cgroups=cgroups)
            + conf.program("keep", start_secs=0.2))
    if with_gone:
        if stubborn:
            # Ignores TERM for good: only kill_signal ends it.
            text += conf.program("gone", "--ignore", "TERM", start_secs=0.2,
                                 stop_timeout=2)
        else:
            # Takes its time over TERM, within its grace period.
            text += conf.program("gone", "--exit-delay", "2", start_secs=0.2,
                                 stop_timeout=30)
    return text


@pytest.mark.parametrize("cgroups", ["auto", "off"])
@pytest.mark.parametrize("stubborn", [True, False], ids=["ignores-term", "slow-exit"])
def test_removed_by_reload_then_crash_is_stopped(daemon_factory, conf, events,
                                                 cgroups, stubborn):
    d1 = daemon_factory(removal_config(conf, cgroups, True, stubborn))
    d1.wait_ready()
    keep = events.wait("keep", "ready")["pid"]
    gone = events.wait("gone", "ready")["pid"]
    d1.wait_state("gone", "RUNNING")
    # The reload removes it: its stop begins, then the daemon crashes.
    text = removal_config(conf, cgroups, False, stubborn)
    d1.write_config(text)
    d1.signal(signal.SIGHUP)
    events.wait("gone", "signal", sig="TERM")
    crash(d1)
    assert pid_running(gone)

    d2 = daemon_factory(text, extra_args=("-s", d1.socket))
    d2.socket = d1.socket
    d2.wait_ready()
    d2.wait_log(rf"gone \(pid {gone}\) is no longer configured; stopping it")
    assert not wait_gone([gone], 30), "the removed program was left running"
    d2.wait_log(r"gone: the process of this program, no longer configured, is gone")
    # Its stop went on where it was: one TERM in all, then KILL if need be.
    assert len(events.all("gone", "signal", sig="TERM")) == 1
    if stubborn:
        d2.wait_log(r"gone: still running at the end of its grace period; "
                    r"sending KILL")
    else:
        events.wait("gone", "exit")
    # Never adopted as a program; the configured one was.
    assert "gone" not in d2.status()
    d2.wait_log(rf"keep: adopted running pid {keep}\b")
    assert not any("left alone" in line for line in d2.lines)
    # Nothing of it on record once it is gone: a third daemon finds nothing.
    def forgotten():
        with open(d2.socket + ".state") as f:
            return all(p["name"] != "gone" for p in json.load(f)["programs"])
    wait_for(forgotten, timeout=10, what="gone dropped from the state file")


def test_unconfigured_after_crash_gets_its_recorded_stop_signal(daemon_factory, conf,
                                                                events):
    text = (conf.daemon(cgroups="off")
            + conf.program("keep", start_secs=0.2)
            + conf.program("old", start_secs=0.2, stop_signal="INT",
                           stop_timeout=5))
    d1 = daemon_factory(text)
    d1.wait_ready()
    old = events.wait("old", "ready")["pid"]
    d1.wait_state("old", "RUNNING")
    with open(d1.socket + ".state") as f:
        assert any(p["name"] == "old" for p in json.load(f)["programs"])
    crash(d1)
    # The config lost the program while no daemon ran.
    d2 = daemon_factory(conf.daemon(cgroups="off") + conf.program("keep", start_secs=0.2),
                        extra_args=("-s", d1.socket))
    d2.socket = d1.socket
    d2.wait_ready()
    assert events.wait("old", "signal")["sig"] == "INT"
    assert not wait_gone([old], 15)
    assert "old" not in d2.status()
    events.wait_none("old", "ready", timeout=0.5)
