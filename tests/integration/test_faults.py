"""Faults the daemon meets at run time, with real limits and real failures.

Out of descriptors, fork failing, a program's log on a full file system, a
config that cannot be read at reload, programs that close their output or
flood it, and stopped processes at shutdown.  In each case the daemon says
what happened in its log, keeps answering status, keeps its state right,
and loses nothing that was running.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import SAFEEXITCTL, build_shim, pid_state, wait_for

# How long a test waits for anything that should happen promptly.
WAIT = 30
# A status that takes longer than this counts as the daemon being blocked.
STATUS_BOUND = 3.0

PRLIMIT = shutil.which("prlimit")
MOUNT = shutil.which("mount")
UMOUNT = shutil.which("umount")


def timed_status(d, *names):
    """Return (status by name, seconds the answer took)."""
    began = time.monotonic()
    st = d.status(*names)
    return st, time.monotonic() - began


def count(d, pattern, since=0):
    """How many log lines from index since match pattern."""
    rx = re.compile(pattern)
    return sum(1 for line in d.lines[since:] if rx.search(line))


def wait_count(d, pattern, n, since=0, timeout=WAIT):
    """Wait until n log lines from index since match pattern."""
    rx = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while True:
        seen = len(d.lines)
        if sum(1 for line in d.lines[since:seen] if rx.search(line)) >= n:
            return
        d.wait_log(pattern, deadline - time.monotonic(), seen)


def cpu_seconds(pid):
    """User plus system CPU time pid has used, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# Descriptors.

# Low enough to run out with a few dozen clients; the daemon raises its soft
# limit to the hard one, so both are set.
NOFILE = 64
OUT_OF_FDS = r"out of descriptors"
CONNECTED = r"client uid \d+ pid \d+ connected"
GONE = r"client uid \d+ pid \d+ gone"


@pytest.mark.skipif(PRLIMIT is None, reason="needs prlimit (util-linux)")
def test_out_of_descriptors_pauses_accepting(daemon_factory, conf, events):
    d = daemon_factory(
        conf.program("a", start_secs=0) + conf.program("b", start_secs=0) +
        conf.program("c", start_secs=0),
        prefix=(PRLIMIT, f"--nofile={NOFILE}:{NOFILE}", "--"))
    d.wait_ready()
    pids = {name: events.wait(name, "ready")["pid"] for name in "abc"}
    baseline = len(os.listdir(f"/proc/{d.pid}/fd"))
    clients = []
    try:
        # Idle clients, one at a time, until the daemon says it is out.
        for _ in range(NOFILE):
            mark = d.mark()
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(WAIT)
            s.connect(d.socket)
            clients.append(s)
            m = d.wait_log(rf"{CONNECTED}|{OUT_OF_FDS}", WAIT, mark)
            if re.search(OUT_OF_FDS, m.group(0)):
                break
        else:
            pytest.fail(f"{NOFILE} clients in and the daemon never ran out")
        assert re.search(r"warning: .*out of descriptors", m.string)
        assert len(clients) > 10
        # The client that found no room is told so, not left hanging.
        refused = clients.pop()
        reply = json.loads(refused.makefile("rb").readline())
        refused.close()
        assert reply["ok"] is False and reply["code"] == "busy", reply
        # So is a client that comes while it is out.
        result = d.ctl("status", timeout=WAIT)
        assert result.returncode == 3, result
        assert "descriptors" in result.stderr
        # Programs still start: a descriptor reserve is kept for them.
        mark = d.mark()
        os.kill(pids["c"], signal.SIGKILL)
        d.wait_state("c", "RUNNING", WAIT, mark)
        restarted = events.wait("c", "ready")
        assert count(d, r"\bc: cannot start", mark) == 0
        # Said once, however long it lasts.
        assert count(d, OUT_OF_FDS) == 1
        mark = d.mark()
        held = len(clients)
    finally:
        for s in clients:
            s.close()
    # Every idle client is let go of; then status answers again.
    wait_count(d, GONE, held, mark)
    st, took = timed_status(d)
    assert took < STATUS_BOUND
    assert {name: (p["state"], p["pid"]) for name, p in st.items()} == {
        "a": ("RUNNING", pids["a"]), "b": ("RUNNING", pids["b"]),
        "c": ("RUNNING", restarted["pid"])}
    d.wait_log(r"accepting clients again", WAIT, mark)
    # Nothing of the episode is kept.
    wait_for(lambda: len(os.listdir(f"/proc/{d.pid}/fd")) <= baseline, WAIT,
             "the daemon's descriptors back to where they were")


# fork.

# fork() and clone() fail with EAGAIN while the file named by
# SAFEEXITD_TEST_NOFORK exists, as they do when the process table or
# RLIMIT_NPROC is full.  (clone3, which starts a program in its cgroup, is
# made by the daemon itself: the tests that use the shim set cgroups = off.)
NOFORK_SHIM = r"""
#define _GNU_SOURCE
#include <sys/types.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

/* The daemon launches with clone (vfork-style), as posix_spawn does. */
int
clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
	static int	(*real_clone)(int (*)(void *), void *, int, void *, ...);
	const char	*path = getenv("SAFEEXITD_TEST_NOFORK");
	va_list		 ap;
	pid_t		*ptid, *ctid;
	void		*tls;

	if (path != NULL && access(path, F_OK) == 0) {
		errno = EAGAIN;
		return -1;
	}
	if (real_clone == NULL)
		real_clone = (int (*)(int (*)(void *), void *, int, void *, ...))
		    dlsym(RTLD_NEXT, "clone");
	va_start(ap, arg);
	ptid = va_arg(ap, pid_t *);
	tls = va_arg(ap, void *);
	ctid = va_arg(ap, pid_t *);
	va_end(ap);
	return real_clone(fn, stack, flags, arg, ptid, tls, ctid);
}

pid_t
fork(void)
{
	static pid_t	(*real_fork)(void);
	const char	*path = getenv("SAFEEXITD_TEST_NOFORK");

	if (path != NULL && access(path, F_OK) == 0) {
		errno = EAGAIN;
		return -1;
	}
	if (real_fork == NULL)
		real_fork = (pid_t (*)(void))dlsym(RTLD_NEXT, "fork");
	return real_fork();
}
"""


@pytest.fixture
def nofork_shim(workdir):
    """Build the fork-failing LD_PRELOAD library; return its path."""
    return build_shim(workdir, "nofork", NOFORK_SHIM)


def test_fork_failure_backs_off_and_recovers(daemon_factory, conf, events,
                                             workdir, nofork_shim):
    nofork = workdir / "nofork"
    d = daemon_factory(
        conf.daemon(cgroups="off") +
        conf.program("up", start_secs=0) +
        conf.program("a", autostart=False, start_secs=0, start_retries=100),
        env={"LD_PRELOAD": str(nofork_shim),
             "SAFEEXITD_TEST_NOFORK": str(nofork),
             # A sanitizer build wants its runtime first; the shim is fine.
             "ASAN_OPTIONS": "verify_asan_link_order=0:" +
                             os.environ.get("ASAN_OPTIONS", "")})
    d.wait_ready()
    up = events.wait("up", "ready")
    nofork.touch()
    mark = d.mark()
    argv = [str(SAFEEXITCTL), "-s", d.socket, "start", "a"]
    client = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        cause = "fork: Resource temporarily unavailable"
        d.wait_log(rf"\ba: cannot start: {re.escape(cause)}$", WAIT, mark)
        d.wait_state("a", "BACKOFF", WAIT, mark)
        result = d.ctl("status", "a")
        assert result.returncode == 1
        assert re.match(rf"a\s+BACKOFF\s+{re.escape(cause)}$", result.stdout)
        st, took = timed_status(d)
        assert took < STATUS_BOUND
        assert st["up"]["state"] == "RUNNING"
        assert st["up"]["pid"] == up["pid"]
        assert client.poll() is None, "start returned while fork failed"
        # fork works again: the next try starts it, and start says so.
        nofork.unlink()
        out, err = client.communicate(timeout=WAIT)
        assert client.returncode == 0, err
    finally:
        if client.poll() is None:
            client.kill()
            client.communicate()
    ready = events.wait("a", "ready")
    st = d.status()
    assert st["a"]["state"] == "RUNNING"
    assert st["a"]["pid"] == ready["pid"]
    assert st["up"]["pid"] == up["pid"]
    assert events.all("up", "exit") == []


# A full file system.

@pytest.fixture
def small_fs(workdir):
    """A 64 KiB tmpfs, unmounted at teardown (after the daemon is stopped:
    request it before daemon_factory)."""
    if MOUNT is None or UMOUNT is None:
        pytest.skip("needs mount and umount")
    mnt = workdir / "small"
    mnt.mkdir()
    result = subprocess.run([MOUNT, "-t", "tmpfs", "-o", "size=64k,mode=0755",
                             "safeexitd-test", str(mnt)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {result.stderr.strip()}")
    yield mnt
    if subprocess.run([UMOUNT, str(mnt)]).returncode != 0:
        subprocess.run([UMOUNT, "-l", str(mnt)])


def test_log_on_a_full_file_system(small_fs, daemon_factory, conf, events):
    filler = small_fs / "filler"
    filler.write_bytes(b"f" * 32768)
    log = small_fs / "flood.log"
    flood = 1 << 20
    d = daemon_factory(
        conf.program("flood", "--flood", flood, "--ignore", "USR1",
                     stdout=str(log), start_secs=0) +
        conf.program("other", start_secs=0))
    d.wait_ready()
    first = events.wait("flood", "ready")
    d.wait_log(r"warning: flood: cannot write stdout to .*flood\.log; "
               r"dropping output: No space left on device", WAIT)
    # The daemon keeps draining the pipe: the program writes it all.
    flooded = events.wait("flood", "flooded", timeout=WAIT)
    assert flooded["bytes"] == flood
    assert "error" not in flooded
    assert count(d, r"dropping output") == 1
    full = log.stat().st_size
    assert 0 < full < flood
    # It still answers signals, and the daemon still answers status.
    assert d.ctl("signal", "USR1", "flood").returncode == 0
    events.wait("flood", "signal", sig="USR1")
    st, took = timed_status(d)
    assert took < STATUS_BOUND
    assert st["flood"]["state"] == "RUNNING"
    assert st["flood"]["pid"] == first["pid"]
    assert st["other"]["state"] == "RUNNING"
    # Room again: the next output is written.
    filler.unlink()
    mark = d.mark()
    assert d.ctl("restart", "flood").returncode == 0
    d.wait_log(r"notice: flood: writing stdout to .*flood\.log again", WAIT,
               mark)
    events.wait("flood", "flooded", timeout=WAIT, bytes=flood)
    assert log.stat().st_size > full


def test_rotation_that_fails_keeps_the_output(daemon_factory, conf, events,
                                              workdir):
    log = workdir / "a.log"
    old = "o" * 299 + "\n"
    log.write_text(old)
    # FILE.1 cannot be replaced by FILE: rotation fails every time.
    (workdir / "a.log.1").mkdir()
    (workdir / "a.log.1" / "keep").write_text("")
    d = daemon_factory(conf.program("a", "--stdout", "one", "--stdout", "two",
                                    stdout=str(log), stdout_max_bytes=100,
                                    stdout_backups=1, start_secs=0))
    d.wait_ready()
    events.wait("a", "ready")
    d.wait_log(r"warning: a: cannot rotate .*a\.log: Is a directory", WAIT)
    # Nothing lost, nothing else written, and said once.
    wait_for(lambda: log.read_text() == old + "one\ntwo\n", WAIT,
             f"{log} holding the old text and the new lines")
    assert count(d, r"rotate") == 1
    assert d.status("a")["a"]["state"] == "RUNNING"


# Reload.

@pytest.mark.parametrize("how,reason", [
    ("directory", "Is a directory"),
    ("removed", "No such file or directory"),
])
def test_unreadable_config_at_reload(daemon_factory, conf, events, how,
                                     reason):
    d = daemon_factory(conf.program("a", start_secs=0) +
                       conf.program("b", start_secs=0))
    d.wait_ready()
    pids = {name: events.wait(name, "ready")["pid"] for name in "ab"}
    text = d.config_path.read_text()
    d.config_path.unlink()
    if how == "directory":
        d.config_path.mkdir()
    try:
        mark = d.mark()
        result = d.ctl("reload")
        assert result.returncode == 1
        assert f"cannot open: {reason}" in result.stderr
        d.wait_log(rf"reload: .*cannot open: {reason}", WAIT, mark)
        d.wait_log(r"reload: the config has errors; nothing changed", WAIT,
                   mark)
        st = d.status()
        assert {name: (p["state"], p["pid"]) for name, p in st.items()} == \
            {name: ("RUNNING", pid) for name, pid in pids.items()}
    finally:
        if how == "directory":
            d.config_path.rmdir()
        d.config_path.write_text(text)
    # Readable again: a reload goes through and leaves them alone.
    result = d.ctl("reload", "--json")
    assert result.returncode == 0, result.stderr
    assert sorted(json.loads(result.stdout)["unchanged"]) == ["a", "b"]
    assert {name: p["pid"] for name, p in d.status().items()} == pids
    assert events.all(event="exit") == []


# Output that misbehaves.

def test_closed_and_flooded_output_do_not_block(daemon_factory, conf, events,
                                                testchild, workdir):
    closer = (f"/bin/sh -c 'exec >&- 2>&-; exec {{testchild}} "
              f"--events {{events}} --tag closer'")
    out = workdir / "flood.out"
    d = daemon_factory(
        conf.program("closer", command=closer, start_secs=0) +
        conf.program("flood", "--flood", 10 ** 12, stdout=str(out),
                     stdout_max_bytes=1 << 20, stdout_backups=1,
                     start_secs=0) +
        conf.program("burst", "--flood", 1 << 18, start_secs=0) +
        conf.program("late", autostart=False, start_secs=0))
    d.wait_ready()
    closer_ev = events.wait("closer", "ready")
    events.wait("flood", "ready")
    # The burst goes to the daemon's own log, line by line.
    events.wait("burst", "flooded", timeout=WAIT, bytes=1 << 18)
    d.wait_log(r"burst stdout: x{63}$", WAIT)
    wait_for(lambda: out.with_name("flood.out.1").exists(), WAIT,
             "the flood reaching its first rotation")
    for _ in range(5):
        st, took = timed_status(d)
        assert took < STATUS_BOUND
        assert all(p["state"] == "RUNNING"
                   for name, p in st.items() if name != "late")
    result = d.ctl("start", "late", timeout=WAIT)
    assert result.returncode == 0, result.stderr
    events.wait("late", "ready")
    # A closed pipe is no event: the daemon does not spin on it.
    result = d.ctl("stop", "flood", timeout=WAIT)
    assert result.returncode == 0, result.stderr
    used = cpu_seconds(d.pid)
    events.wait_none("closer", "exit", timeout=1)
    assert cpu_seconds(d.pid) - used < 0.5
    assert d.status("closer")["closer"]["pid"] == closer_ev["pid"]
    result = d.ctl("stop", "all", timeout=WAIT)
    assert result.returncode == 0, result.stderr
    for name in ("closer", "burst", "late"):
        events.wait(name, "exit", code=0)
    events.wait("flood", "exit", code=0)
    assert d.returncode is None


# Stopped processes at shutdown.

def test_stopped_programs_exit_on_their_stop_signal(daemon_factory, conf,
                                                    events):
    d = daemon_factory(
        conf.daemon(shutdown_timeout=120) +
        conf.program("a", start_secs=0, stop_timeout=60) +
        conf.program("b", "--fork-grandchild", start_secs=0,
                     stop_timeout=60))
    d.wait_ready()
    a = events.wait("a", "ready")
    b = events.wait("b", "ready")
    pids = [a["pid"], b["pid"], b["gc"]]
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    wait_for(lambda: all(pid_state(pid) == "T" for pid in pids), WAIT,
             "the programs stopped")
    mark = d.mark()
    began = time.monotonic()
    d.signal("TERM")
    assert d.wait_exit(WAIT) == 0
    # Within the grace periods, not after them.
    assert time.monotonic() - began < 20
    for tag in ("a", "b", "b.gc"):
        events.wait(tag, "signal", sig="TERM")
        events.wait(tag, "exit", code=0)
    assert count(d, r"still running after|sending KILL", mark) == 0
