"""Where a program's stdout and stderr go: files (with rotation and reopening
on SIGUSR2), the null device, the daemon's own descriptors, the daemon's log
and syslog; and a program that floods its output does not stall the daemon.
"""

import os
import re
import select
import stat
import time

import pytest

from conftest import wait_for


def read(path):
    """Return the text of path, "" when it does not exist."""
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


def size_of(path):
    """path's size, or -1 while it does not exist (a rotation renames it)."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return -1


def wait_text(path, text, timeout=30):
    """Wait until path holds exactly text (the daemon writes it)."""
    wait_for(lambda: read(path) == text, timeout,
             f"{path} holding {text!r} (has {read(path)!r})")


def fd_target(pid, fd):
    """Return what descriptor fd of pid points at."""
    return os.readlink(f"/proc/{pid}/fd/{fd}")


def test_stdout_to_file_stderr_follows(daemon_factory, conf, events,
                                       workdir):
    out = workdir / "a.out"
    d = daemon_factory(conf.program("a", "--stdout", "one", "--stderr", "two",
                                    "--stdout", "three", stdout=str(out)))
    d.wait_ready()
    events.wait("a", "ready")
    # One pipe for both streams keeps their order.
    wait_text(out, "one\ntwo\nthree\n")
    assert not any(re.search(r"\ba (stdout|stderr): ", line)
                   for line in d.lines)


def test_stderr_explicitly_stdout(daemon_factory, conf, events, workdir):
    out = workdir / "a.out"
    d = daemon_factory(conf.program("a", "--stderr", "err", "--stdout", "out",
                                    stdout=str(out), stderr="stdout"))
    d.wait_ready()
    events.wait("a", "ready")
    wait_text(out, "err\nout\n")


def test_stderr_to_its_own_file(daemon_factory, conf, events, workdir):
    out, err = workdir / "a.out", workdir / "a.err"
    d = daemon_factory(conf.program("a", "--stdout", "to out",
                                    "--stderr", "to err",
                                    stdout=str(out), stderr=str(err)))
    d.wait_ready()
    events.wait("a", "ready")
    wait_text(out, "to out\n")
    wait_text(err, "to err\n")


def test_relative_path_is_next_to_the_config(daemon_factory, conf, events,
                                             workdir):
    d = daemon_factory(conf.program("a", "--stdout", "here",
                                    stdout="logs-a.out"))
    d.wait_ready()
    events.wait("a", "ready")
    assert d.config_path.parent == workdir
    wait_text(workdir / "logs-a.out", "here\n")


def test_null(daemon_factory, conf, events):
    d = daemon_factory(conf.program("a", "--stdout", "lost-out",
                                    "--stderr", "lost-err", stdout="null"))
    d.wait_ready()
    ready = events.wait("a", "ready")
    assert fd_target(ready["pid"], 1) == "/dev/null"
    assert fd_target(ready["pid"], 2) == "/dev/null"
    d.ctl("stop", "a")
    assert not any("lost-" in line for line in d.lines)


def test_inherit(daemon_factory, conf, events):
    d = daemon_factory(conf.program("a", "--stdout", "straight-out",
                                    "--stderr", "straight-err",
                                    stdout="inherit", stderr="inherit"))
    d.wait_ready()
    ready = events.wait("a", "ready")
    # The daemon's stdout here is a pipe, not a terminal: the daemon relays
    # whole lines into it, so the program writes into a pipe of its own.
    assert fd_target(ready["pid"], 1) != fd_target(d.pid, 1)
    assert fd_target(ready["pid"], 1).startswith("pipe:")
    d.wait_log(r"^straight-out$")
    d.wait_log(r"^straight-err$")


def test_default_is_the_daemon_log(daemon_factory, conf, events):
    d = daemon_factory(conf.program("a", "--stdout", "hello world",
                                    "--stderr", "an error"))
    d.wait_ready()
    events.wait("a", "ready")
    d.wait_log(r"info: a stdout: hello world$")
    d.wait_log(r"info: a stdout: an error$")


def test_program_output_is_not_filtered_by_log_level(daemon_factory, conf, events):
    # log_level quiets the daemon's own messages, never what programs print.
    d = daemon_factory(conf.daemon(log_level="error")
                       + conf.program("a", "--stdout", "still here"),
                       extra_args=("-l", "error"))
    events.wait("a", "ready")
    d.wait_log(r"info: a stdout: still here$")
    assert not any("STARTING" in line for line in d.lines)


def test_default_log_with_stderr_apart(daemon_factory, conf, events,
                                       workdir):
    err = workdir / "a.err"
    d = daemon_factory(conf.program("a", "--stdout", "to the log",
                                    "--stderr", "to the file",
                                    stderr=str(err)))
    d.wait_ready()
    events.wait("a", "ready")
    d.wait_log(r"info: a stdout: to the log$")
    wait_text(err, "to the file\n")
    assert not any("to the file" in line for line in d.lines)


@pytest.mark.skipif(not os.path.exists("/dev/log"), reason="no /dev/log")
def test_syslog(daemon_factory, conf, events):
    d = daemon_factory(conf.program("a", "--stdout", "to syslog",
                                    stdout="syslog"))
    d.wait_ready()
    ready = events.wait("a", "ready")
    assert fd_target(ready["pid"], 1).startswith("pipe:")
    d.ctl("stop", "a")
    assert not any("to syslog" in line for line in d.lines)


def test_rotation(daemon_factory, conf, events, workdir):
    out = workdir / "a.out"
    d = daemon_factory(conf.program("a", "--flood", 5500, stdout=str(out),
                                    stdout_max_bytes=1000, stdout_backups=2))
    d.wait_ready()
    events.wait("a", "flooded", bytes=5500)
    # 5500 bytes in lines of 64: files of 15 whole lines (960 bytes, the
    # 16th would pass 1000), five of them and the last 700 bytes; only two
    # backups kept.
    wait_for(lambda: size_of(out) == 700, 30,
             f"{out} at 700 bytes")
    names = sorted(p.name for p in workdir.iterdir()
                   if p.name.startswith("a.out"))
    assert names == ["a.out", "a.out.1", "a.out.2"]
    assert [(workdir / n).stat().st_size for n in names] == [700, 960, 960]
    # The newest bytes are the end of the flood, in order.
    tail = read(out.with_name("a.out.2")) + read(out.with_name("a.out.1")) \
        + read(out)
    assert tail.endswith("x\n") and set(tail) == {"x", "\n"}
    assert len(tail) == 2620


def test_rotation_of_stderr_apart(daemon_factory, conf, events, workdir):
    out, err = workdir / "a.out", workdir / "a.err"
    text = "e" * 99
    args = []
    for _ in range(5):
        args += ["--stderr", text]
    d = daemon_factory(conf.program("a", "--stdout", "small", *args,
                                    stdout=str(out), stderr=str(err),
                                    stderr_max_bytes=250, stderr_backups=1))
    d.wait_ready()
    events.wait("a", "ready")
    # Five lines of 100 bytes in files of 250: two whole lines a file, the
    # first file dropped.
    wait_for(lambda: size_of(err) == 100 and
             err.with_name("a.err.1").exists(), 30, "rotated stderr")
    assert err.with_name("a.err.1").stat().st_size == 200
    assert not err.with_name("a.err.2").exists()
    wait_text(out, "small\n")


def test_sigusr2_reopens_files(daemon_factory, conf, events, workdir):
    out = workdir / "a.out"
    d = daemon_factory(conf.program("a", "--stdout", "line", stdout=str(out),
                                    start_secs=0))
    d.wait_ready()
    events.wait("a", "ready")
    wait_text(out, "line\n")
    moved = workdir / "a.out.old"
    out.rename(moved)
    mark = d.mark()
    d.signal("USR2")
    d.wait_log(r"SIGUSR2: reopening log files", since=mark)
    # The line comes just before the files are reopened.
    wait_for(out.exists, 10, f"{out} created again")
    result = d.ctl("restart", "a")
    assert result.returncode == 0, result.stderr
    events.wait("a", "ready")
    wait_text(out, "line\n")
    assert read(moved) == "line\n"


def test_output_survives_restarts(daemon_factory, conf, events, workdir):
    out = workdir / "a.out"
    d = daemon_factory(conf.program("a", "--stdout", "started",
                                    stdout=str(out), start_secs=0))
    d.wait_ready()
    first = events.wait("a", "ready")
    wait_text(out, "started\n")
    os.kill(first["pid"], 9)
    second = events.wait("a", "ready")
    wait_text(out, "started\nstarted\n")
    assert d.ctl("restart", "a").returncode == 0
    events.wait("a", "ready")
    wait_text(out, "started\n" * 3)
    assert second["pid"] != first["pid"]


def test_flood_does_not_block_the_daemon(daemon_factory, conf, events,
                                         workdir):
    out = workdir / "flood.out"
    d = daemon_factory(
        conf.program("flood", "--flood", 10 ** 12, stdout=str(out),
                     stdout_max_bytes=1 << 20, stdout_backups=1,
                     start_secs=0) +
        conf.program("other", autostart=False, start_secs=0))
    d.wait_ready()
    events.wait("flood", "ready")
    wait_for(lambda: out.with_name("flood.out.1").exists(), 30,
             "the flood reaching its first rotation")
    for _ in range(5):
        began = time.monotonic()
        st = d.status()
        assert time.monotonic() - began < 5
        assert st["flood"]["state"] == "RUNNING"
    result = d.ctl("start", "other", timeout=10)
    assert result.returncode == 0, result.stderr
    events.wait("other", "ready")
    assert events.all("flood", "flooded") == []
    # Rotation goes on; no file grows past its limit meanwhile.
    for path in (out, out.with_name("flood.out.1")):
        try:
            assert path.stat().st_size <= 1 << 20
        except FileNotFoundError:
            pass   # between the rename and the new file
    assert not out.with_name("flood.out.2").exists()
    result = d.ctl("stop", "flood", timeout=20)
    assert result.returncode == 0, result.stderr
    events.wait("flood", "exit", code=0)


def read_fifo(fd, count, timeout=30):
    """Read count bytes from the non-blocking descriptor fd of a FIFO."""
    data = b""
    deadline = time.monotonic() + timeout
    while len(data) < count:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, count - len(data))
            if not chunk:
                break
            data += chunk
    return data


def test_fifo_is_written_not_rotated(daemon_factory, conf, events, workdir):
    fifo = workdir / "a.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        d = daemon_factory(conf.program("a", "--flood", 1000, stdout=str(fifo),
                                        stdout_max_bytes=100,
                                        stdout_backups=2))
        d.wait_ready()
        events.wait("a", "flooded", bytes=1000)
        # Size rotation is for files: a FIFO is never renamed or replaced.
        data = read_fifo(reader, 1000)
        assert len(data) == 1000
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
        assert sorted(p.name for p in workdir.iterdir()
                      if p.name.startswith("a.fifo")) == ["a.fifo"]
    finally:
        os.close(reader)


def test_fifo_without_reader_does_not_block(daemon_factory, conf, events,
                                            workdir):
    fifo = workdir / "a.fifo"
    os.mkfifo(fifo)
    d = daemon_factory(conf.program("a", stdout=str(fifo), start_retries=0) +
                       conf.program("b", start_secs=0))
    d.wait_ready(timeout=10)
    events.wait("b", "ready")
    d.wait_state("a", "FATAL")
    result = d.ctl("status", "a")
    assert re.match(rf"a\s+FATAL\s+stdout {re.escape(str(fifo))}: "
                    r"a FIFO without a reader$", result.stdout)


def test_dev_stdout_and_stderr(daemon_factory, conf, events):
    d = daemon_factory(conf.program("a", "--stdout", "raw-out",
                                    "--stderr", "raw-err",
                                    stdout="/dev/stdout",
                                    stderr="/dev/stderr",
                                    stdout_max_bytes=1, stdout_backups=1))
    d.wait_ready()
    ready = events.wait("a", "ready")
    # The daemon's own descriptors, as with inherit (the supervisord idiom
    # for containers): a pipe here, so relayed in whole lines, never seeked.
    assert fd_target(ready["pid"], 1).startswith("pipe:")
    assert fd_target(ready["pid"], 1) != fd_target(d.pid, 1)
    d.wait_log(r"^raw-out$")
    d.wait_log(r"^raw-err$")
    assert os.path.islink("/dev/stdout")


def test_long_line_to_the_log_in_whole_pieces(daemon_factory, conf, events):
    command = ("/bin/sh -c \"printf '%03000d\\n' 7; "
               "exec {testchild} --events {events} --tag a\"")
    d = daemon_factory(conf.program("a", command=command))
    d.wait_ready()
    events.wait("a", "ready")
    d.wait_log(r"\ba stdout: 0*7$")
    pieces = [m.group(1) for m in (re.search(r"\ba stdout: (0+7?)$", line)
                                   for line in d.lines) if m]
    # Split where it must be, but not a byte lost.
    assert len(pieces) >= 2
    assert "".join(pieces) == "0" * 2999 + "7"
