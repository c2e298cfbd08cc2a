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
import shutil
import signal
import stat
import subprocess
import tempfile
import time

import pytest

from conftest import (SAFEEXITCTL, SAFEEXITD, daemon_env, pid_running, wait_for,
                      wait_gone)

WAIT = 30
SETPRIV = shutil.which("setpriv")
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
    # Lines of 64 bytes: files of 960 (rotation only between lines), the
    # last 700.
    wait_for(lambda: out.exists() and out.stat().st_size == 700, WAIT,
             f"{out} at 700 bytes")
    # Renamed over, never opened or followed.
    for name in ("a.out.1", "a.out.2"):
        st = os.lstat(workdir / name)
        assert stat.S_ISREG(st.st_mode) and st.st_size == 960, name
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


# The pipe keeper's socket.

IMPOSTOR = r"""
import array, socket, sys
path, fd = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(path)
s.listen(1)
print("listening", flush=True)
c, _ = s.accept()
c.sendmsg([b"a stdout\0"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                              array.array("i", [fd]))])
c.sendmsg([b".\0"])
print("handed", flush=True)
sys.stdin.read()
"""


def cpu_seconds(pid):
    """User and system time pid has used, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.parametrize("who", ["same-user", "other-user"])
def test_impostor_keeper_is_refused(daemon_factory, conf, events, who):
    if who == "other-user" and (os.geteuid() != 0 or SETPRIV is None):
        pytest.skip("needs root and setpriv to run the impostor as nobody")
    sockdir = tempfile.mkdtemp(prefix="sx", dir="/tmp")
    # A folder others may write, as /tmp is.
    os.chmod(sockdir, 0o1777)
    sock = os.path.join(sockdir, "ctl.sock")
    victim = os.path.join(sockdir, "victim")
    with open(victim, "w") as f:
        f.write(PRECIOUS)
    os.chmod(victim, 0o644)
    impostor = None
    try:
        text = conf.program("a", "--stdout", "hello", start_secs=0)
        d1 = daemon_factory(text, extra_args=("-s", sock))
        d1.socket = sock
        d1.wait_ready(timeout=WAIT)
        first = events.wait("a", "ready")
        keeper = int(d1.wait_log(r"pipe keeper is pid (\d+)").group(1))
        # Recorded, so the next daemon adopts it and asks for its pipes.
        wait_for(lambda: os.path.exists(sock + ".state") and
                 str(first["pid"]) in open(sock + ".state").read(), WAIT,
                 "a in the state file")
        # Daemon and keeper both gone: nobody holds SOCKET.keeper.
        os.kill(keeper, signal.SIGKILL)
        wait_gone([keeper], WAIT)
        d1.signal(signal.SIGKILL)
        assert d1.wait_exit(WAIT) == -signal.SIGKILL
        # Someone else answers there, handing over a file of the test's.
        fd = os.open(victim, os.O_RDONLY)
        prefix = [] if who == "same-user" else [
            SETPRIV, "--reuid=65534", "--regid=65534", "--clear-groups"]
        impostor = subprocess.Popen(
            [*prefix, "/usr/bin/python3", "-c", IMPOSTOR, sock + ".keeper",
             str(fd)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            pass_fds=[fd], text=True)
        os.close(fd)
        assert impostor.stdout.readline() == "listening\n"
        d2 = daemon_factory(text, extra_args=("-s", sock))
        d2.socket = sock
        d2.wait_ready(timeout=WAIT)
        if who == "same-user":
            d2.wait_log(r"pipe keeper at .* handed over a regular file for "
                        r"a, not the read end of a pipe; refused")
        else:
            d2.wait_log(rf"pipe keeper: {re.escape(sock)}\.keeper belongs to "
                        r"uid 65534, not to the daemon's user; not used")
        d2.wait_log(rf"a: adopted running pid {first['pid']}\b")
        assert not any("precious" in line for line in d2.lines)
        # The program's next process writes where its config says, not to
        # whatever was handed over.
        mark = d2.mark()
        assert d2.ctl("restart", "a").returncode == 0
        d2.wait_log(r"\ba stdout: hello$", WAIT, mark)
        with open(victim) as f:
            assert f.read() == PRECIOUS
        # And nothing spins: an honest look at the daemon's CPU time.
        before = cpu_seconds(d2.pid)
        time.sleep(2)
        used = cpu_seconds(d2.pid) - before
        assert used < 0.5, f"the daemon used {used:.2f} s of CPU in 2 s"
        assert d2.status("a")["a"]["state"] == "RUNNING"
    finally:
        if impostor is not None:
            impostor.stdin.close()
            impostor.kill()
            impostor.wait()
        for name in os.listdir(sockdir):
            os.unlink(os.path.join(sockdir, name))
        os.rmdir(sockdir)


def test_old_pipe_survives_a_second_crash(daemon_factory, conf, workdir):
    # Collected pipes have no write end in the new daemon: they are read to
    # their end, and kept by the new keeper should the daemon die again.
    text = (conf.daemon()
            + conf.section("program:talker", start_secs=0.2, command=(
                "/bin/sh -c 'trap \"exit 0\" TERM; i=0; while :; do "
                "echo line-$i; i=$((i+1)); sleep 0.05; done'")))
    d = daemon_factory(text)
    d.wait_ready(timeout=WAIT)
    d.wait_state("talker", "RUNNING")
    pid = d.status()["talker"]["pid"]
    for round in range(2):
        d.wait_log(r"talker stdout: line-\d+")
        wait_for(lambda: str(pid) in open(d.socket + ".state").read(), WAIT,
                 "talker in the state file")
        d.signal(signal.SIGKILL)
        assert d.wait_exit(WAIT) == -signal.SIGKILL
        last = max(int(x) for x in re.findall(r"talker stdout: line-(\d+)",
                                              "\n".join(d.lines)))
        old = d
        d = daemon_factory(text, extra_args=("-s", old.socket))
        d.socket = old.socket
        d.wait_ready(timeout=WAIT)
        d.wait_log(r"collected \d+ program pipes? from the pipe keeper")
        d.wait_log(rf"talker: adopted running pid {pid}\b")
        m = d.wait_log(r"talker stdout: line-(\d+)")
        assert int(m.group(1)) == last + 1, (m.group(0), last)
    # Its end: the old writer stopped, the pipe is closed, nothing spins.
    assert d.ctl("stop", "talker").returncode == 0
    d.wait_log(r"talker: stdout pipe from before closed by its last writer")
    before = cpu_seconds(d.pid)
    time.sleep(1)
    assert cpu_seconds(d.pid) - before < 0.3


# safeexitd -d: what goes wrong before detaching is said on the terminal.

def run_detached(argv, sock, **kwargs):
    """Run safeexitd -d; return (CompletedProcess, pid of the daemon or None)."""
    result = subprocess.run(argv, capture_output=True, text=True, timeout=WAIT,
                            stdin=subprocess.DEVNULL, env=daemon_env(),
                            **kwargs)
    pid = None
    if result.returncode == 0:
        r = subprocess.run([str(SAFEEXITCTL), "-s", sock, "pid"],
                           capture_output=True, text=True, timeout=WAIT)
        pid = int(r.stdout.strip())
    return result, pid


def stop_detached(pid):
    """SIGTERM a daemon the test started with -d, and wait for it to go."""
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        wait_gone([pid], WAIT)


def test_detach_on_a_socket_in_use_says_who_has_it(daemon_factory, conf,
                                                   workdir):
    first = daemon_factory(conf.daemon())
    first.wait_ready(timeout=WAIT)
    config = workdir / "second.ini"
    config.write_text(f"[safeexitd]\nsocket = {first.socket}\nlog = syslog\n")
    result, pid = run_detached([str(SAFEEXITD), "-d", "-c", str(config)],
                               first.socket)
    stop_detached(pid)
    assert result.returncode == 1
    assert re.search(rf"already running, pid {first.pid}\b", result.stderr), \
        result.stderr
    assert first.returncode is None


def test_detach_without_syslog_says_so(workdir):
    sockdir = tempfile.mkdtemp(prefix="sx", dir="/tmp")
    sock = os.path.join(sockdir, "ctl.sock")
    config = workdir / "d.ini"
    config.write_text(f"[safeexitd]\nsocket = {sock}\nlog = syslog\n")
    argv = [str(SAFEEXITD), "-d", "-c", str(config)]
    if os.path.exists("/dev/log"):
        unshare = shutil.which("unshare")
        if os.geteuid() != 0 or unshare is None:
            pytest.skip("/dev/log exists and hiding it needs root and unshare")
        # A mount namespace of its own where /dev/log is a plain file.
        empty = workdir / "not-a-socket"
        empty.write_text("")
        argv = [unshare, "-m", "--propagation", "private", "sh", "-c",
                'mount --bind "$0" /dev/log && exec "$@"', str(empty), *argv]
    try:
        result, pid = run_detached(argv, sock)
        stop_detached(pid)
    finally:
        for name in os.listdir(sockdir):
            os.unlink(os.path.join(sockdir, name))
        os.rmdir(sockdir)
    assert result.returncode == 0, result.stderr
    assert re.search(r"warning: syslog is not reachable \(/dev/log: .*\): the "
                     r"daemon's messages are lost until a syslog daemon "
                     r"listens there; set log = PATH", result.stderr), \
        result.stderr


def test_pidfile_replaced_meanwhile_is_not_removed(daemon_factory, conf,
                                                   workdir):
    pidfile = workdir / "safeexitd.pid"
    d = daemon_factory(conf.daemon(pidfile=str(pidfile)))
    d.wait_ready(timeout=WAIT)
    assert pidfile.read_text() == f"{d.pid}\n"
    # Someone else's file in its place by the time the daemon exits.
    other = workdir / "other"
    other.write_text(PRECIOUS)
    os.rename(other, pidfile)
    d.signal("TERM")
    assert d.wait_exit(WAIT) == 0
    d.wait_log(rf"pidfile {re.escape(str(pidfile))} was replaced; left alone")
    assert pidfile.read_text() == PRECIOUS


def test_keeper_ends_when_the_last_program_of_a_dead_daemon_ends(
        daemon_factory, conf):
    # A daemon killed for good: its keeper holds the programs' pipes until
    # their last writer is gone, however many end before the last one, and
    # then exits instead of waiting for a daemon that never comes.
    loop = ("/bin/sh -c 'trap \"exit 0\" TERM; while :; do echo tick; "
            "sleep 0.1; done'")
    text = (conf.daemon()
            + conf.section("program:a", start_secs=0, command=loop)
            + conf.section("program:b", start_secs=0, command=loop))
    d = daemon_factory(text)
    keeper = int(d.wait_log(r"pipe keeper is pid (\d+)").group(1))
    d.wait_state("a", "RUNNING")
    d.wait_state("b", "RUNNING")
    d.wait_log(r"a stdout: tick")
    d.wait_log(r"b stdout: tick")
    pids = {n: d.status()[n]["pid"] for n in ("a", "b")}
    d.signal(signal.SIGKILL)
    assert d.wait_exit(WAIT) == -signal.SIGKILL
    for name in ("a", "b"):
        assert pid_running(keeper), f"the keeper ended before {name}"
        os.kill(pids[name], signal.SIGTERM)
        assert not wait_gone([pids[name]], WAIT), f"{name} still runs"
    assert not wait_gone([keeper], WAIT), "the keeper still runs"
