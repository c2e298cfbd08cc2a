"""safeexitctl kill: signal, grace period, SIGKILL, against real processes.

Every child is started here, waited for by event (it writes "ready" once its
signal handlers are installed) and reaped before the test ends.
"""

import os
import select
import signal
import subprocess
import sys
import time

import pytest

from otheruser import shared_copy

PYTHON = "/usr/bin/python3"

# A child that sets up its signal dispositions, says "ready" and waits.
# Mode "ignore": SIGTERM is ignored.  Mode "record": SIGINT and SIGTERM print
# the signal's name and exit 0.  Mode "default": nothing changed.
CHILD = r"""
import os, signal, sys
mode = sys.argv[1]
def record(sig, frame):
    os.write(1, (signal.Signals(sig).name[3:] + "\n").encode())
    os._exit(0)
if mode == "ignore":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
elif mode == "record":
    signal.signal(signal.SIGINT, record)
    signal.signal(signal.SIGTERM, record)
os.write(1, b"ready\n")
while True:
    signal.pause()
"""

EVENT_TIMEOUT = 10


def client_path():
    builddir = os.environ.get("SAFEEXITD_BUILDDIR")
    if not builddir:
        pytest.skip("SAFEEXITD_BUILDDIR is not set (run through make check)")
    path = os.path.join(builddir, "safeexitctl")
    if not os.access(path, os.X_OK):
        pytest.skip(f"{path} has not been built")
    return path


@pytest.fixture
def ctl():
    """Run `safeexitctl kill ARGS...` and return the CompletedProcess.

    With user= it runs as that user, from a copy that user can reach.
    """
    path = client_path()

    def run(*args, **kwargs):
        binary = path
        if "user" in kwargs:
            binary = shared_copy(path)
            if binary is None:
                pytest.skip("no temporary folder other users may enter")
        return subprocess.run([binary, "kill", *map(str, args)],
                              capture_output=True, text=True, timeout=60,
                              cwd="/", **kwargs)
    return run


@pytest.fixture
def children():
    """Start test children; every one is killed and reaped at teardown."""
    started = []

    def spawn(mode="default"):
        proc = subprocess.Popen([PYTHON, "-c", CHILD, mode],
                                stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        started.append(proc)
        assert read_line(proc) == "ready"
        return proc

    yield spawn
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()


def read_line(proc):
    """One line from the child's stdout, or fail after EVENT_TIMEOUT."""
    fd = proc.stdout.fileno()
    buf = b""
    deadline = time.monotonic() + EVENT_TIMEOUT
    while not buf.endswith(b"\n"):
        left = deadline - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(left, 0))
        if not ready:
            pytest.fail(f"child {proc.pid} wrote nothing in {EVENT_TIMEOUT}s")
        chunk = os.read(fd, 1)
        if not chunk:
            break
        buf += chunk
    return buf.decode().strip()


def alive(proc):
    """True when the child has neither exited nor become a zombie."""
    try:
        with open(f"/proc/{proc.pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def unused_pid():
    """A PID that was just freed, so very likely not in use."""
    proc = subprocess.Popen(["/bin/true"])
    proc.wait()
    return proc.pid


def test_term_default_exits_zero(ctl, children):
    child = children()
    start = time.monotonic()
    res = ctl("-t", "30", child.pid)
    elapsed = time.monotonic() - start
    assert res.returncode == 0, res.stderr
    assert res.stdout == "" and res.stderr == ""
    # The child stays a zombie until we reap it; that must count as gone.
    assert elapsed < 10
    assert child.wait(timeout=EVENT_TIMEOUT) == -signal.SIGTERM


def test_ignored_term_gets_sigkill(ctl, children):
    child = children("ignore")
    start = time.monotonic()
    res = ctl("-t", "0.5", child.pid)
    elapsed = time.monotonic() - start
    assert res.returncode == 0, res.stderr
    assert res.stdout == "" and res.stderr == ""
    assert child.wait(timeout=EVENT_TIMEOUT) == -signal.SIGKILL
    assert 0.5 <= elapsed < 5


def test_zero_grace_kills_at_once(ctl, children):
    child = children("ignore")
    res = ctl("-t", "0", child.pid)
    assert res.returncode == 0, res.stderr
    assert child.wait(timeout=EVENT_TIMEOUT) == -signal.SIGKILL


@pytest.mark.parametrize("sig", ["INT", "SIGINT", "int", "2"])
def test_signal_option_is_delivered(ctl, children, sig):
    child = children("record")
    res = ctl("-S", sig, child.pid)
    assert res.returncode == 0, res.stderr
    assert read_line(child) == "INT"
    assert child.wait(timeout=EVENT_TIMEOUT) == 0


def test_long_options(ctl, children):
    child = children("record")
    res = ctl("--signal", "TERM", "--timeout", "5", child.pid)
    assert res.returncode == 0, res.stderr
    assert read_line(child) == "TERM"
    assert child.wait(timeout=EVENT_TIMEOUT) == 0


def test_options_after_pids(ctl, children):
    child = children("record")
    res = ctl(child.pid, "-S", "INT")
    assert res.returncode == 0, res.stderr
    assert read_line(child) == "INT"
    assert child.wait(timeout=EVENT_TIMEOUT) == 0


def test_several_pids_share_one_grace(ctl, children):
    quick = children()
    stubborn = [children("ignore") for _ in range(3)]
    start = time.monotonic()
    res = ctl("-t", "0.5", quick.pid, *(c.pid for c in stubborn))
    elapsed = time.monotonic() - start
    assert res.returncode == 0, res.stderr
    assert quick.wait(timeout=EVENT_TIMEOUT) == -signal.SIGTERM
    for child in stubborn:
        assert child.wait(timeout=EVENT_TIMEOUT) == -signal.SIGKILL
    # One grace period for all of them, not one each.
    assert elapsed < 1.5 + 1


def test_duplicate_pid(ctl, children):
    child = children()
    res = ctl(child.pid, child.pid)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    assert child.wait(timeout=EVENT_TIMEOUT) == -signal.SIGTERM


def test_stopped_process_is_continued(ctl, children):
    child = children("record")
    os.kill(child.pid, signal.SIGSTOP)
    _, status = os.waitpid(child.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status)
    res = ctl("-t", "5", child.pid)
    assert res.returncode == 0, res.stderr
    # Its handler ran (it was continued), so it was not SIGKILLed.
    assert read_line(child) == "TERM"
    assert child.wait(timeout=EVENT_TIMEOUT) == 0


def test_nonexistent_pid_exits_one(ctl):
    pid = unused_pid()
    res = ctl(pid)
    assert res.returncode == 1
    assert res.stderr == f"safeexitctl: kill: no such process: {pid}\n"


def test_nonexistent_pid_with_a_live_one(ctl, children):
    child = children()
    pid = unused_pid()
    res = ctl(pid, child.pid)
    assert res.returncode == 1
    assert f"no such process: {pid}" in res.stderr
    # The live one is still stopped.
    assert child.wait(timeout=EVENT_TIMEOUT) == -signal.SIGTERM


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run as another user")
def test_permission_denied_exits_four(ctl, children):
    child = children()
    res = ctl("-t", "0.2", child.pid, user=65534, group=65534,
              extra_groups=[])
    assert res.returncode == 4, res.stderr
    assert f"cannot signal {child.pid}: " in res.stderr
    assert alive(child)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run as another user")
def test_permission_denied_outranks_a_missing_pid(ctl, children):
    child = children()
    pid = unused_pid()
    res = ctl("-t", "0.2", pid, child.pid, user=65534, group=65534,
              extra_groups=[])
    assert res.returncode == 4, res.stderr
    assert f"no such process: {pid}" in res.stderr
    assert alive(child)


def test_pid_1_is_refused(ctl):
    res = ctl(1)
    assert res.returncode == 2
    assert "refusing to signal PID 1" in res.stderr


def test_pid_1_refused_before_anything_is_signalled(ctl, children):
    child = children()
    res = ctl(child.pid, 1)
    assert res.returncode == 2
    assert alive(child)


def test_own_pid_is_refused():
    # exec keeps the shell's PID, so $$ is the client's own PID.
    res = subprocess.run(["/bin/sh", "-c", 'exec "$0" kill "$$"', client_path()],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    assert "refusing to signal itself" in res.stderr


@pytest.mark.parametrize("args", [
    [],
    ["abc"],
    ["0"],
    ["12x"],
    ["99999999999999999999"],
    ["--", "-5"],
    ["-S"],
    ["-S", "FOO", "{pid}"],
    ["-S", "0", "{pid}"],
    ["-t"],
    ["-t", "-1", "{pid}"],
    ["-t", "inf", "{pid}"],
    ["-t", "1e3", "{pid}"],
    ["-x", "{pid}"],
    ["--bogus", "{pid}"],
    ["{pid}", "abc"],
], ids=lambda a: " ".join(a) or "no-args")
def test_usage_errors_exit_two(ctl, children, args):
    child = children()
    res = ctl(*(a.format(pid=child.pid) for a in args))
    assert res.returncode == 2
    assert res.stdout == ""
    assert res.stderr.startswith("safeexitctl: kill: ")
    assert "usage: safeexitctl kill" in res.stderr
    # Nothing is signalled when any argument is bad.
    assert alive(child)


@pytest.mark.parametrize("opt", ["--help", "-h"])
def test_help(ctl, opt):
    res = ctl(opt)
    assert res.returncode == 0
    assert res.stdout.startswith("usage: safeexitctl kill [-S SIG] [-t SECS] PID...")
    assert res.stderr == ""


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v"]))
