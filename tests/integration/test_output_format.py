"""Program output as lines: time stamps, prefixes, rotation only between
lines (by size and by age), whole lines from several programs into the
daemon's stdout when it is a pipe, partial lines written after a quiet
time, a bounded line length, journal streams, and maintail.

The daemon's stdout and stderr are a real pipe here (the fixture reads it),
as in a container whose log collector reads the supervisor's output.
"""

import os
import re
import select
import socket
import subprocess
import threading

import pytest

from conftest import SAFEEXITCTL, wait_for


def script(workdir, name, body):
    """Write a Python program to workdir/name; return its command value."""
    path = workdir / name
    path.write_text("import os, sys, time\n" + body)
    return f"/usr/bin/python3 {path}"


def read(path):
    """The bytes of path, b"" when it does not exist."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def rotated(out):
    """out and its rotated files, oldest first."""
    files = sorted((p for p in out.parent.iterdir()
                    if p.name.startswith(out.name + ".")),
                   key=lambda p: -int(p.name.rsplit(".", 1)[1]))
    return files + [out]


ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d"
RFC3339 = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"


def test_timestamps_iso_and_rfc3339(daemon_factory, conf, workdir):
    cmd = script(workdir, "p.py", "print('hello'); sys.stdout.flush()\n"
                 "print('oops', file=sys.stderr); time.sleep(60)\n")
    a, b = workdir / "a.out", workdir / "b.out"
    d = daemon_factory(
        conf.program("a", command=cmd, stdout=str(a), stdout_timestamps="true",
                     stderr=str(workdir / "a.err"), start_secs=0)
        + conf.program("b", command=cmd, stdout=str(b),
                       stdout_timestamps="rfc3339", stderr="null",
                       start_secs=0))
    d.wait_ready()
    wait_for(lambda: read(a).endswith(b"\n") and read(b).endswith(b"\n"),
             30, "both stamped lines")
    assert re.fullmatch(ISO + r" hello\n", read(a).decode()), read(a)
    assert re.fullmatch(RFC3339 + r" hello\n", read(b).decode()), read(b)
    # stderr_timestamps is apart and off by default.
    wait_for(lambda: read(workdir / "a.err") == b"oops\n", 30, "plain stderr")


def test_prefix(daemon_factory, conf, workdir):
    cmd = script(workdir, "p.py", "print('{\"k\": 1}'); sys.stdout.flush()\n"
                 "print('bad', file=sys.stderr); time.sleep(60)\n")
    out, err = workdir / "web.out", workdir / "web.err"
    d = daemon_factory(conf.program("web", command=cmd, stdout=str(out),
                                    stdout_prefix="true", stderr=str(err),
                                    stderr_prefix="yes",
                                    stderr_timestamps="iso", start_secs=0))
    d.wait_ready()
    wait_for(lambda: read(out) == b'web stdout | {"k": 1}\n', 30,
             f"prefixed stdout (has {read(out)!r})")
    wait_for(lambda: read(err).endswith(b"\n"), 30, "stderr")
    assert re.fullmatch(ISO + r" web stderr \| bad\n", read(err).decode())


def test_rotation_only_between_lines(daemon_factory, conf, workdir):
    # 60 lines of 100 bytes, written in 333-byte pieces so that lines
    # straddle writes and reads; files of at most 1050 bytes.
    cmd = script(workdir, "p.py",
                 "data = b''.join(b'%03d' % i + b'.' * 96 + b'\\n'"
                 " for i in range(60))\n"
                 "for i in range(0, len(data), 333):\n"
                 "    os.write(1, data[i:i + 333]); time.sleep(0.002)\n"
                 "time.sleep(60)\n")
    out = workdir / "a.out"
    d = daemon_factory(conf.program("a", command=cmd, stdout=str(out),
                                    stdout_max_bytes=1050, stdout_backups=10,
                                    start_secs=0))
    d.wait_ready()
    wait_for(lambda: sum(len(read(p)) for p in rotated(out)) == 6000, 30,
             "6000 bytes written")
    files = rotated(out)
    text = b"".join(read(p) for p in files)
    assert text == b"".join(b"%03d" % i + b"." * 96 + b"\n"
                            for i in range(60))
    for p in files:
        data = read(p)
        # Whole lines only: ten of them, the eleventh would pass 1050.
        assert len(data) == 1000 and data.endswith(b"\n"), (p, len(data))
        assert all(len(line) == 99 for line in data.split(b"\n")[:-1])


def test_long_line_alone_in_a_fresh_file(daemon_factory, conf, workdir):
    cmd = script(workdir, "p.py",
                 "for i in range(3): os.write(1, b's' * 99 + b'\\n')\n"
                 "os.write(1, b'L' * 2999 + b'\\n')\n"
                 "os.write(1, b't' * 99 + b'\\n'); time.sleep(60)\n")
    out = workdir / "a.out"
    d = daemon_factory(conf.program("a", command=cmd, stdout=str(out),
                                    stdout_max_bytes=1050, stdout_backups=5,
                                    start_secs=0))
    d.wait_ready()
    wait_for(lambda: read(out) == b"t" * 99 + b"\n", 30, "the last line")
    assert read(workdir / "a.out.2") == (b"s" * 99 + b"\n") * 3
    assert read(workdir / "a.out.1") == b"L" * 2999 + b"\n"
    assert not (workdir / "a.out.3").exists()


def test_max_age_rotates(daemon_factory, conf, workdir, events):
    cmd = script(workdir, "p.py", "print('first', flush=True)\n"
                 "time.sleep(60)\n")
    out = workdir / "a.out"
    d = daemon_factory(conf.program("a", command=cmd, stdout=str(out),
                                    stdout_max_age="1s", stdout_backups=3,
                                    start_secs=0))
    d.wait_ready()
    wait_for(lambda: read(workdir / "a.out.1") == b"first\n", 30,
             "a.out rotated by age")
    assert read(out) == b""
    # An empty file is not rotated again.
    d.ctl("status")
    assert not (workdir / "a.out.2").exists()


def chatty(workdir, name, letter):
    """A program writing 200 lines of 2999 letters in 7001-byte writes, so
    that its lines straddle writes; then "NAME-done"."""
    return script(workdir, name,
                  f"data = (b'{letter}' * 2999 + b'\\n') * 200\n"
                  "for i in range(0, len(data), 7001):\n"
                  "    os.write(1, data[i:i + 7001])\n"
                  f"os.write(1, b'{letter}-done\\n'); time.sleep(60)\n")


def test_inherit_into_a_pipe_keeps_lines_whole(daemon_factory, conf,
                                               workdir):
    d = daemon_factory(
        conf.program("a", command=chatty(workdir, "a.py", "A"),
                     stdout="inherit", start_secs=0)
        + conf.program("b", command=chatty(workdir, "b.py", "B"),
                       stdout="inherit", start_secs=0))
    d.wait_ready()
    d.wait_log(r"^A-done$")
    d.wait_log(r"^B-done$")
    lines = [line for line in d.lines if line[:1] in ("A", "B")
             and not line.endswith("-done")]
    mixed = [line[:40] for line in lines
             if line not in ("A" * 2999, "B" * 2999)]
    assert not mixed, f"{len(mixed)} mixed lines, e.g. {mixed[:3]}"
    assert len(lines) == 400


def test_partial_line_written_after_quiet(daemon_factory, conf, workdir):
    cmd = script(workdir, "p.py", "os.write(1, b'password: ')\n"
                 "time.sleep(60)\n")
    d = daemon_factory(conf.program("a", command=cmd, stdout="inherit",
                                    start_secs=0))
    d.wait_ready()
    d.wait_log(r"^password: $", timeout=10)


def test_partial_line_to_the_daemon_log(daemon_factory, conf, workdir):
    cmd = script(workdir, "p.py", "os.write(1, b'50%...')\n"
                 "time.sleep(60)\n")
    d = daemon_factory(conf.program("a", command=cmd, start_secs=0))
    d.wait_ready()
    d.wait_log(r"a stdout: 50%\.\.\.$", timeout=10)


def test_megabyte_line_is_cut(daemon_factory, conf, workdir):
    cmd = script(workdir, "p.py", "os.write(1, b'z' * (1 << 20) + b'\\n')\n"
                 "os.write(1, b'after\\n'); time.sleep(60)\n")
    d = daemon_factory(conf.program("a", command=cmd, stdout="inherit",
                                    start_secs=0))
    d.wait_ready()
    d.wait_log(r"^after$")
    cut = [line for line in d.lines if line.startswith("zzz")]
    assert cut == ["z" * 65536 + " [truncated]"]


def test_megabyte_line_cut_in_a_stamped_file(daemon_factory, conf, workdir):
    cmd = script(workdir, "p.py", "os.write(1, b'z' * (1 << 20) + b'\\n')\n"
                 "os.write(1, b'after\\n'); time.sleep(60)\n")
    out = workdir / "a.out"
    d = daemon_factory(conf.program("a", command=cmd, stdout=str(out),
                                    stdout_timestamps="rfc3339",
                                    start_secs=0))
    d.wait_ready()
    wait_for(lambda: read(out).endswith(b" after\n"), 30, "the line after")
    first, after = read(out).decode().split("\n")[:2]
    assert re.fullmatch(RFC3339 + " " + "z" * 65536 + r" \[truncated\]",
                        first)
    assert re.fullmatch(RFC3339 + " after", after)


class JournalStub:
    """An AF_UNIX stream socket speaking journald's stdout protocol: each
    connection sends a header of seven lines (identifier, unit, priority,
    level prefix, syslog, kmsg, console), then the lines logged."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(8)
        self.streams = []
        self.cond = threading.Condition()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._read, args=(conn,),
                             daemon=True).start()

    def _read(self, conn):
        stream = {"data": b""}
        with self.cond:
            self.streams.append(stream)
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            with self.cond:
                stream["data"] += chunk
                self.cond.notify_all()
        conn.close()

    def parsed(self):
        """[(identifier, priority, [lines])] of the streams so far."""
        out = []
        with self.cond:
            for s in self.streams:
                lines = s["data"].decode().split("\n")
                if len(lines) >= 8:
                    out.append((lines[0], lines[2], lines[7:-1]))
        return out

    def close(self):
        self.sock.close()


def test_journal_stream_protocol(daemon_factory, conf, workdir):
    """No journald on a test machine: sd_journal_stream_fd connects to
    /run/systemd/journal/stdout, a fixed path, so the daemon runs in a
    mount namespace of its own where a stub socket is bound there."""
    if os.geteuid() != 0 or subprocess.run(
            ["unshare", "-m", "true"], capture_output=True).returncode != 0:
        pytest.skip("needs root and unshare -m")
    try:
        subprocess.run(["/usr/bin/python3", "-c",
                        "import ctypes; ctypes.CDLL('libsystemd.so.0')"],
                       check=True, capture_output=True)
    except subprocess.CalledProcessError:
        pytest.skip("no libsystemd")
    stub = JournalStub(workdir / "journal.sock")
    mount = ("mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/journal && "
             "touch /run/systemd/journal/stdout && mount --bind "
             f"{workdir}/journal.sock /run/systemd/journal/stdout && "
             'exec "$@"')
    cmd = script(workdir, "p.py", "print('to journal', flush=True)\n"
                 "print('an error', file=sys.stderr, flush=True)\n"
                 "time.sleep(60)\n")
    try:
        d = daemon_factory(conf.program("web", command=cmd, stdout="journal",
                                        stderr="journal",
                                        stdout_timestamps="true",
                                        stdout_prefix="true", start_secs=0),
                           prefix=("unshare", "-m", "sh", "-c", mount, "sh"))
        d.wait_ready()
        want = {("web", "6", ("to journal",)), ("web", "3", ("an error",))}
        wait_for(lambda: {(i, p, tuple(l)) for i, p, l in stub.parsed()}
                 == want, 30, f"two journal streams (have {stub.parsed()})")
    finally:
        stub.close()


def test_maintail(daemon_factory, conf, workdir):
    log = workdir / "daemon.log"
    d = daemon_factory(conf.daemon(log=str(log))
                       + conf.program("a", "--stdout", "hello from a"))
    wait_for(lambda: b"a stdout: hello from a" in read(log), 30,
             "the program's line in the daemon's log file")
    r = d.ctl("maintail", "-n", "200")
    assert r.returncode == 0, r.stderr
    assert "a stdout: hello from a" in r.stdout
    assert len(d.ctl("maintail", "-n", "1").stdout.splitlines()) == 1
    # -f prints what comes next.
    follow = subprocess.Popen([str(SAFEEXITCTL), "-s", d.socket, "maintail",
                               "-f", "-n", "0"], stdout=subprocess.PIPE)
    try:
        d.ctl("signal", "USR1", "a")
        ready, _, _ = select.select([follow.stdout], [], [], 30)
        assert ready, "maintail -f printed nothing"
        assert os.read(follow.stdout.fileno(), 65536)
    finally:
        follow.kill()
        follow.wait()


def test_maintail_says_where_the_log_is(daemon_factory, conf):
    d = daemon_factory(conf.program("a", "--stdout", "x"))
    d.wait_ready()
    r = d.ctl("maintail")
    assert r.returncode == 1
    assert "standard error" in r.stderr
