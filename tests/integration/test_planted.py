"""What someone who can write a folder the daemon writes in can plant there.

A FIFO, a link or a hard link where the daemon expects its own file (the
pidfile, its log file, a program's log and the files it is rotated to, the
pipe keeper's socket) must never hang the daemon, redirect its writes or be
trusted: each is refused with its path named, or handled without blocking,
as docs/SECURITY.md says.  The rules themselves are in docs/SECURITY.md
("What holds in a folder others may write").
"""

import os
import re
import stat
import threading

import pytest

from conftest import wait_for

WAIT = 30
PRECIOUS = "precious\n"


def status_answers(d):
    """The daemon answers status: it is not stuck in an open()."""
    result = d.ctl("status", "--json", timeout=WAIT)
    assert result.returncode in (0, 1), result
    assert result.stdout.startswith("{")


# The pidfile.

def test_fifo_at_the_pidfile_is_refused(daemon_factory, conf, events,
                                        workdir):
    fifo = workdir / "safeexitd.pid"
    os.mkfifo(fifo)
    d = daemon_factory(conf.daemon(pidfile=str(fifo)) +
                       conf.program("a", start_secs=0))
    d.wait_ready(timeout=WAIT)
    d.wait_log(rf"cannot write pidfile {re.escape(str(fifo))}: a FIFO, "
               r"not a regular file$")
    events.wait("a", "ready")
    status_answers(d)
    d.signal("TERM")
    assert d.wait_exit(WAIT) == 0
    # Not ours: left where it was.
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_hard_link_at_the_pidfile_is_not_written_through(daemon_factory,
                                                         conf, events,
                                                         workdir):
    pidfile, victim = workdir / "safeexitd.pid", workdir / "victim"
    victim.write_text(PRECIOUS)
    os.link(victim, pidfile)
    d = daemon_factory(conf.daemon(pidfile=str(pidfile)) +
                       conf.program("a", start_secs=0))
    d.wait_ready(timeout=WAIT)
    d.wait_log(rf"cannot write pidfile {re.escape(str(pidfile))}: has more "
               r"than one link; not written through$")
    events.wait("a", "ready")
    d.signal("TERM")
    assert d.wait_exit(WAIT) == 0
    assert victim.read_text() == PRECIOUS
    assert pidfile.exists()


def test_pidfile_left_by_an_earlier_daemon_is_replaced(daemon_factory, conf,
                                                       workdir):
    pidfile = workdir / "safeexitd.pid"
    pidfile.write_text("123456789 and more than a pid\n")
    d = daemon_factory(conf.daemon(pidfile=str(pidfile)))
    d.wait_ready(timeout=WAIT)
    assert pidfile.read_text() == f"{d.pid}\n"
    d.signal("TERM")
    assert d.wait_exit(WAIT) == 0
    assert not pidfile.exists()


# The daemon's own log file.

def test_fifo_at_the_daemon_log_file_is_refused(daemon_factory, conf,
                                                workdir):
    fifo = workdir / "safeexitd.log"
    os.mkfifo(fifo)
    d = daemon_factory(conf.daemon(log=str(fifo)))
    d.wait_log(rf"cannot open log file {re.escape(str(fifo))}: a FIFO, not "
               r"a regular file or a character device; logging to stderr$",
               WAIT)
    d.wait_ready(timeout=WAIT)
    status_answers(d)


def test_daemon_log_to_dev_stderr(daemon_factory, conf):
    d = daemon_factory(conf.daemon(log="/dev/stderr"))
    # The daemon's own stderr (the test reads it), not a file opened by name.
    d.wait_ready(timeout=WAIT)
    status_answers(d)


# A program's log file and its rotation.

def test_fifo_with_a_reader_at_a_program_log_is_written_without_blocking(
        daemon_factory, conf, events, workdir):
    fifo = workdir / "a.out"
    os.mkfifo(fifo)
    # A reader that never reads: writes must not block the daemon.
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        d = daemon_factory(conf.program("a", "--flood", 1 << 20,
                                        stdout=str(fifo), start_secs=0))
        d.wait_ready(timeout=WAIT)
        events.wait("a", "flooded", timeout=WAIT)
        status_answers(d)
        d.wait_log(rf"a: cannot write stdout to {re.escape(str(fifo))}; "
                   r"dropping output", WAIT)
    finally:
        os.close(reader)


def test_fifo_and_link_at_the_rotation_targets(daemon_factory, conf, events,
                                               workdir):
    out, victim = workdir / "a.out", workdir / "victim"
    victim.write_text(PRECIOUS)
    os.mkfifo(workdir / "a.out.1")
    os.symlink(victim, workdir / "a.out.2")
    d = daemon_factory(conf.program("a", "--flood", 5500, stdout=str(out),
                                    stdout_max_bytes=1000, stdout_backups=2))
    d.wait_ready(timeout=WAIT)
    events.wait("a", "flooded", bytes=5500)
    wait_for(lambda: out.exists() and out.stat().st_size == 500, WAIT,
             f"{out} at 500 bytes")
    # Renamed over, never opened or followed.
    for name in ("a.out.1", "a.out.2"):
        st = os.lstat(workdir / name)
        assert stat.S_ISREG(st.st_mode) and st.st_size == 1000, name
    assert victim.read_text() == PRECIOUS
    status_answers(d)


def test_fifo_swapped_in_before_a_reopen_is_refused(daemon_factory, conf,
                                                    events, workdir):
    out = workdir / "a.out"
    d = daemon_factory(conf.program("a", "--stdout", "first",
                                    "--ignore", "USR1", stdout=str(out),
                                    start_secs=0))
    d.wait_ready(timeout=WAIT)
    events.wait("a", "ready")
    wait_for(lambda: out.exists() and out.read_text() == "first\n", WAIT,
             "first line written")
    # Someone swaps a FIFO in, with a reader waiting for the output.
    fifo = workdir / "a.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        os.rename(fifo, out)
        mark = d.mark()
        d.signal("USR2")
        d.wait_log(rf"a: cannot reopen {re.escape(str(out))}: a FIFO, not a "
                   r"regular file$", WAIT, mark)
        status_answers(d)
        # Nothing reached the FIFO's reader (no writer ever opened it).
        assert os.read(reader, 100) == b""
    finally:
        os.close(reader)
