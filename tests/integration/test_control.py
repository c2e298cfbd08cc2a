"""The control socket is safe: docs/SECURITY.md, "The control socket".

Its mode and group are right before anyone connects; peers are let in by
their credentials; no request, however broken, crashes the daemon, blocks
it or touches a program; clients that stall or crowd in cost it nothing
lasting.  Hostile clients are plain Python sockets; the checks after each
one are real safeexitctl calls and the children's own pids.
"""

import grp
import json
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import time

import pytest

from conftest import SAFEEXITCTL
from otheruser import shared_copy

QUICK = 0.2
REPLY_TIMEOUT = 10
CONNECTED = re.compile(r"client uid \d+ pid \d+ connected")
GONE = re.compile(r"client uid \d+ pid \d+ gone")
SETPRIV = shutil.which("setpriv")


def running(d, name, since=0):
    """Wait until name is RUNNING; return its pid from the log."""
    m = d.wait_log(rf"info: {name}: [A-Z]+ -> RUNNING \(pid (\d+)\)",
                   30, since)
    return int(m.group(1))


def snapshot(d):
    """{name: (state, pid)} of every program, by `status --json`."""
    r = d.ctl("status", "--json")
    assert r.returncode in (0, 1), r.stderr
    return {p["name"]: (p["state"], p["pid"])
            for p in json.loads(r.stdout)["programs"]}


def fd_count(d):
    """How many descriptors the daemon holds once it has settled.

    A connection's descriptor is closed in the loop turn after its "gone"
    line, so the count is taken while a request of ours is being answered
    (which takes another turn), and our own connection is not counted.
    """
    with connect(d.socket) as s:
        s.sendall(b'{"v":1,"cmd":"version"}\n')
        assert json.loads(read_line(s))["ok"] is True
        return len(os.listdir(f"/proc/{d.pid}/fd")) - 1


def wait_count(d, rx, n, since, timeout=30):
    """Wait until n log lines from index since match the compiled rx."""
    deadline = time.monotonic() + timeout
    while True:
        lines = d.lines[since:]
        if sum(1 for line in lines if rx.search(line)) >= n:
            return
        d.wait_log(rx.pattern, deadline - time.monotonic(),
                   since + len(lines))


def wait_clients_left(d, since, held=0, timeout=30):
    """Wait until all but held of the clients that connected since are gone.

    Counts the daemon's own "connected" and "gone" lines, so it ends when the
    daemon has let go of them, not merely when the clients exited.
    """
    deadline = time.monotonic() + timeout
    while True:
        lines = d.lines[since:]
        connected = sum(1 for line in lines if CONNECTED.search(line))
        gone = sum(1 for line in lines if GONE.search(line))
        if connected - gone <= held:
            return
        d.wait_log(GONE.pattern, deadline - time.monotonic(),
                   since + len(lines))


def connect(path):
    """A raw client socket connected to the daemon."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(REPLY_TIMEOUT)
    s.connect(path)
    return s


def send_quietly(s, data):
    """Send data; the daemon may close while the tail of it is on its way."""
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


def read_line(s):
    """Read one reply line (without its newline), or None at end of input."""
    buf = b""
    while not buf.endswith(b"\n"):
        try:
            data = s.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            return None if not buf else buf.decode()
        buf += data
    line, _, rest = buf.partition(b"\n")
    assert rest == b"", f"more than one line: {buf!r}"
    return line.decode()


def read_line_or_more(s):
    """Read until at least one whole line; return the lines, None at EOF."""
    buf = b""
    while not buf.endswith(b"\n"):
        try:
            data = s.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            assert buf == b"", f"cut off: {buf!r}"
            return None
        buf += data
    return buf.decode().splitlines()


def read_eof(s):
    """Whether the daemon closed the connection (after any pending bytes)."""
    try:
        while True:
            data = s.recv(65536)
            if not data:
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


@pytest.fixture
def supervised(daemon_factory, conf, events):
    """A daemon with two running programs; returns (daemon, snapshot)."""
    d = daemon_factory(conf.program("web", start_secs=QUICK)
                       + conf.program("db", start_secs=QUICK))
    d.wait_ready()
    running(d, "web")
    running(d, "db")
    before = snapshot(d)
    assert {s for s, _ in before.values()} == {"RUNNING"}
    return d, before


def unchanged(d, before, events):
    """status still answers, and no program changed state or pid."""
    assert snapshot(d) == before
    assert d.returncode is None
    assert events.all(event="signal") == []
    assert events.all(event="exit") == []


# The socket's mode and group

def socket_stat(d):
    """lstat of the socket, taken before any client has connected."""
    st = os.lstat(d.socket)
    assert stat.S_ISSOCK(st.st_mode)
    return st


def test_socket_is_0600_by_default(daemon_factory, conf, events):
    d = daemon_factory(conf.program("web"))
    d.wait_ready()
    st = socket_stat(d)
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert st.st_uid == os.geteuid()


@pytest.mark.parametrize("keys,mode,group", [
    ({"socket_group": "nogroup"}, 0o660, "nogroup"),
    ({"socket_group": "nogroup", "socket_mode": "0640"}, 0o640, "nogroup"),
    ({"socket_mode": "0666"}, 0o666, None),
    ({"socket_mode": "0604"}, 0o604, None),
], ids=["group", "group-0640", "0666", "0604"])
def test_socket_mode_and_group_as_configured(daemon_factory, conf, events,
                                             keys, mode, group):
    d = daemon_factory(conf.daemon(**keys) + conf.program("web"))
    d.wait_ready()
    st = socket_stat(d)
    assert stat.S_IMODE(st.st_mode) == mode
    want = grp.getgrnam(group).gr_gid if group else os.getegid()
    assert st.st_gid == want
    assert d.ctl("version").returncode == 0


# Peer credentials

@pytest.fixture
def open_socket_dir():
    """A folder that anyone may pass through, for the socket."""
    path = tempfile.mkdtemp(prefix="sxctl")
    os.chmod(path, 0o711)
    yield path
    for name in os.listdir(path):
        os.unlink(os.path.join(path, name))
    os.rmdir(path)


def as_user(user, group, *args, groups=None):
    """Run safeexitctl ARGS as another user; skip where that is not possible.

    It runs from a copy that user can reach: the checkout may be private.
    """
    if os.geteuid() != 0 or SETPRIV is None:
        pytest.skip("needs root and setpriv")
    try:
        pwd.getpwnam(user)
        grp.getgrnam(group)
    except KeyError:
        pytest.skip(f"no user {user} or group {group}")
    client = shared_copy(SAFEEXITCTL)
    if client is None:
        pytest.skip("no temporary folder other users may enter")
    argv = [SETPRIV, "--reuid", user, "--regid", group]
    argv += ["--groups", ",".join(groups)] if groups else ["--clear-groups"]
    probe = subprocess.run(argv + [client, "--help"], capture_output=True,
                           timeout=30, cwd="/")
    if probe.returncode != 0:
        pytest.skip(f"{user} cannot run {client}: {probe.stderr!r}")
    return subprocess.run(argv + [client, *map(str, args)],
                          capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL, cwd="/")


def daemon_in(daemon_factory, conf, folder, **keys):
    """A daemon whose socket is in folder, with one running program."""
    path = os.path.join(folder, "ctl.sock")
    d = daemon_factory(conf.daemon(socket=path, **keys)
                       + conf.program("web", start_secs=QUICK))
    d.socket = path
    d.wait_ready()
    running(d, "web")
    return d


def test_other_user_is_refused(daemon_factory, conf, events,
                               open_socket_dir):
    d = daemon_in(daemon_factory, conf, open_socket_dir, socket_mode="0666")
    before = snapshot(d)
    for args in (["status"], ["stop", "all"], ["shutdown"]):
        mark = d.mark()
        r = as_user("nobody", "nogroup", "-s", d.socket, *args)
        assert r.returncode == 4, r.stderr
        assert "permission denied" in r.stderr
        assert r.stdout == ""
        d.wait_log(r"refused client uid 65534 .*not allowed", since=mark)
    assert snapshot(d) == before
    assert events.all(event="signal") == []


def test_mode_alone_keeps_other_users_out(daemon_factory, conf, events,
                                          open_socket_dir):
    d = daemon_in(daemon_factory, conf, open_socket_dir)
    r = as_user("nobody", "nogroup", "-s", d.socket, "status")
    assert r.returncode == 4, r.stderr
    assert "ermission denied" in r.stderr


@pytest.mark.parametrize("primary,groups", [
    ("nogroup", None),
    ("daemon", ["nogroup"]),
], ids=["primary", "supplementary"])
def test_member_of_socket_group_is_let_in(daemon_factory, conf, events,
                                          open_socket_dir, primary, groups):
    d = daemon_in(daemon_factory, conf, open_socket_dir,
                  socket_group="nogroup", socket_mode="0660")
    r = as_user("nobody", primary, "-s", d.socket, "status", groups=groups)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[:2] == ["web", "RUNNING"]
    r = as_user("nobody", "daemon", "-s", d.socket, "status")
    assert r.returncode == 4, r.stderr


def test_group_is_checked_by_the_daemon_too(daemon_factory, conf, events,
                                            open_socket_dir):
    # The mode lets everyone connect: only the credential check is left.
    d = daemon_in(daemon_factory, conf, open_socket_dir,
                  socket_group="nogroup", socket_mode="0666")
    mark = d.mark()
    r = as_user("nobody", "daemon", "-s", d.socket, "status")
    assert r.returncode == 4, r.stderr
    assert "permission denied" in r.stderr
    d.wait_log(r"refused client uid 65534 .*not allowed", since=mark)
    r = as_user("nobody", "nogroup", "-s", d.socket, "status")
    assert r.returncode == 0, r.stderr


# Broken requests

def test_garbage_gets_an_error_and_changes_nothing(supervised, events):
    d, before = supervised
    cases = [
        (b"\x00\xff\xfe garbage \x01\n", "malformed"),
        (b"not json at all\n", "malformed"),
        (b'{"v":1,"cmd":"stop","args":["all"]\n', "malformed"),
        (b'{"v":1,"cmd":"stop","args":["all"]} trailing\n', "malformed"),
        (b'["stop","all"]\n', "malformed"),
        (b'{"v":1,"cmd":"stop","args":"all"}\n', "malformed"),
        (b'{"v":1,"cmd":"stop","args":[1]}\n', "malformed"),
        (b'{"v":1,"cmd":"stop","args":["all"],"wait":"no"}\n', "malformed"),
        (b'{"v":1,"args":["all"]}\n', "malformed"),
        (b'{"cmd":"stop","args":["all"]}\n', "malformed"),
        (b'{"v":"1","cmd":"stop","args":["all"]}\n', "malformed"),
        (b'{"v":1,"cmd":"stop","args":["\xff"]}\n', "malformed"),
        (b"[" * 10000 + b"\n", "malformed"),
        (b'{"v":2,"cmd":"stop","args":["all"]}\n', "version"),
        (b'{"v":2,"cmd":17}\n', "version"),
    ]
    for data, code in cases:
        s = connect(d.socket)
        send_quietly(s, data)
        line = read_line(s)
        assert line is not None, f"no reply to {data[:40]!r}"
        reply = json.loads(line)
        assert reply["v"] == 1 and reply["ok"] is False, line
        assert reply["code"] == code, (data[:40], line)
        assert reply["error"]
        if code == "version":
            assert reply["error"] == ("protocol version 2 is not supported "
                                      "(daemon speaks 1)")
        # A broken frame ends the connection.
        assert read_eof(s), data[:40]
        s.close()
        unchanged(d, before, events)


def test_unknown_command_and_bad_args_keep_the_connection(supervised,
                                                          events):
    d, before = supervised
    s = connect(d.socket)
    for request, code in [
            ({"v": 1, "cmd": "explode", "args": ["all"]}, "unknown_command"),
            ({"v": 1, "cmd": "stop"}, "bad_args"),
            ({"v": 1, "cmd": "signal", "args": ["NOSUCHSIG", "all"]},
             "bad_args"),
            ({"v": 1, "cmd": "pid", "args": ["web", "db"]}, "bad_args"),
            ({"v": 1, "cmd": "reload", "args": ["now"]}, "bad_args")]:
        s.sendall(json.dumps(request).encode() + b"\n")
        reply = json.loads(read_line(s))
        assert (reply["ok"], reply["code"]) == (False, code), reply
        unchanged(d, before, events)
    # Still usable.
    s.sendall(b'{"v":1,"cmd":"pid","args":["web"]}\r\n')
    reply = json.loads(read_line(s))
    assert reply["ok"] is True
    assert reply["pid"] == before["web"][1]
    s.close()


def test_overlong_request_is_refused_and_changes_nothing(supervised, events):
    d, before = supervised
    # A valid "stop all", but longer than 64 KiB.
    big = json.dumps({"v": 1, "cmd": "stop",
                      "args": ["all"] + ["x" * 1000] * 100}).encode()
    for data in (big + b"\n", b"x" * (100 * 1024) + b"\n"):
        assert len(data) > 65536
        s = connect(d.socket)
        send_quietly(s, data)
        reply = json.loads(read_line(s))
        assert (reply["ok"], reply["code"]) == (False, "too_long"), reply
        s.close()
        unchanged(d, before, events)

    # Just under the limit is a request like any other.
    pad = " " * (65536 - 1 - len(b'{"v":1,"cmd":"version"}'))
    s = connect(d.socket)
    s.sendall(b'{"v":1,"cmd":"version"}' + pad.encode() + b"\n")
    reply = json.loads(read_line(s))
    assert reply["ok"] is True, reply
    s.close()


def test_stalled_clients_do_not_block_others(supervised, events):
    d, before = supervised
    wait_clients_left(d, 0)
    mark = d.mark()
    base = fd_count(d)
    silent = connect(d.socket)			# says nothing
    partial = connect(d.socket)			# half a request
    partial.sendall(b'{"v":1,"cmd":"stop","args":["al')
    deaf = connect(d.socket)			# asks, never reads
    deaf.setblocking(False)
    request = b'{"v":1,"cmd":"status"}\n' * 5000
    sent = 0
    try:
        while sent < len(request):
            sent += deaf.send(request[sent:])
    except BlockingIOError:
        pass
    assert sent > 0

    for _ in range(3):
        unchanged(d, before, events)
    assert d.ctl("pid").stdout == f"{d.pid}\n"
    wait_clients_left(d, mark, held=3)
    # The stalled three hold a descriptor each, and nothing else is left.
    assert fd_count(d) == base + 3
    for s in (silent, partial, deaf):
        s.close()


@pytest.mark.test_timeout(120)
def test_stalled_clients_are_dropped_after_a_timeout(supervised, events):
    """The one slow test here: the daemon's timeouts are 30 s."""
    d, before = supervised
    wait_clients_left(d, 0)
    mark = d.mark()
    base = fd_count(d)
    silent = connect(d.socket)
    deaf = connect(d.socket)
    deaf.setblocking(False)
    request = b'{"v":1,"cmd":"status"}\n' * 20000
    sent = 0
    try:
        while sent < len(request):
            sent += deaf.send(request[sent:])
    except BlockingIOError:
        pass
    d.wait_log(r"idle; closed", timeout=45, since=mark)
    d.wait_log(r"stopped reading; dropped", timeout=45, since=mark)
    silent.settimeout(REPLY_TIMEOUT)
    assert silent.recv(10) == b"", "closed without a word"
    assert fd_count(d) == base
    unchanged(d, before, events)
    silent.close()
    deaf.close()


def test_client_gone_mid_request_costs_nothing(daemon_factory, conf, events):
    d = daemon_factory(conf.program("web", "--exit-delay", "0.5",
                                    start_secs=QUICK)
                       + conf.program("db", start_secs=QUICK))
    d.wait_ready()
    running(d, "web")
    db = running(d, "db")
    wait_clients_left(d, 0)
    mark = d.mark()
    base = fd_count(d)
    s = connect(d.socket)
    s.sendall(b'{"v":1,"cmd":"stop","args":["web"]}\n')
    events.wait("web", "signal", sig="TERM")
    s.close()
    # The stop goes on without the client.
    d.wait_log(r"info: web: STOPPING -> STOPPED", since=mark)
    assert snapshot(d) == {"web": ("STOPPED", None), "db": ("RUNNING", db)}
    wait_clients_left(d, mark)
    assert fd_count(d) == base


def test_restart_goes_on_when_its_client_leaves(daemon_factory, conf,
                                               events):
    d = daemon_factory(conf.program("web", "--exit-delay", "0.3",
                                    start_secs=QUICK))
    d.wait_ready()
    old = running(d, "web")
    mark = d.mark()
    s = connect(d.socket)
    s.sendall(b'{"v":1,"cmd":"restart","args":["web"]}\n')
    events.wait("web", "signal", sig="TERM")
    s.close()
    # The start half still follows the stop.
    new = running(d, "web", mark)
    assert new != old
    assert snapshot(d) == {"web": ("RUNNING", new)}


def test_half_closed_client_gets_its_reply(daemon_factory, conf, events):
    d = daemon_factory(conf.program("web", "--exit-delay", "0.3",
                                    start_secs=QUICK))
    d.wait_ready()
    running(d, "web")
    s = connect(d.socket)
    s.sendall(b'{"v":1,"cmd":"stop","args":["web"]}\n')
    s.shutdown(socket.SHUT_WR)
    lines = []
    while True:
        line = read_line_or_more(s)
        if line is None:
            break
        lines.extend(line)
    s.close()
    replies = [json.loads(line) for line in lines]
    assert all("progress" in r for r in replies[:-1])
    assert replies[-1]["ok"] is True
    assert [(p["name"], p["state"]) for p in replies[-1]["programs"]] == \
        [("web", "STOPPED")]


def test_requests_sent_ahead_are_answered_in_order(supervised, events):
    d, before = supervised
    s = connect(d.socket)
    s.sendall(b'{"v":1,"cmd":"pid","args":["web"]}\n'
              b'{"v":1,"cmd":"version"}\n'
              b'{"v":1,"cmd":"pid","args":["db"]}\n')
    s.shutdown(socket.SHUT_WR)
    lines = []
    while len(lines) < 3:
        more = read_line_or_more(s)
        assert more is not None, lines
        lines.extend(more)
    assert read_eof(s)
    s.close()
    replies = [json.loads(line) for line in lines]
    assert replies[0]["pid"] == before["web"][1]
    assert "version" in replies[1]
    assert replies[2]["pid"] == before["db"][1]


def test_one_user_cannot_take_every_connection(supervised, events):
    d, before = supervised
    mark = d.mark()
    held = [connect(d.socket) for _ in range(512)]
    try:
        # The daemon has taken them all before the next one comes.
        wait_count(d, CONNECTED, 512, mark)
        r = d.ctl("status")
        assert r.returncode == 3, r.stderr
        assert "too many connections" in r.stderr
    finally:
        for s in held:
            s.close()
    wait_clients_left(d, mark)
    unchanged(d, before, events)


@pytest.mark.test_timeout(120)
def test_200_concurrent_clients(supervised, events):
    d, before = supervised
    wait_clients_left(d, 0)
    mark = d.mark()
    base = fd_count(d)
    procs = [subprocess.Popen([str(SAFEEXITCTL), "-s", d.socket, "status"],
                              stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
             for _ in range(200)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        results.append((p.returncode, out.decode(), err.decode()))
    assert [r for r in results if r[0] != 0] == []
    assert all(r[1].split()[:2] == ["web", "RUNNING"] for r in results)
    # Every connection was let go of, not just answered.
    wait_clients_left(d, mark)
    assert fd_count(d) == base
    unchanged(d, before, events)


# Nothing blocks the daemon

def test_status_answers_while_a_stop_waits(daemon_factory, conf, events):
    d = daemon_factory(conf.program("web", "--ignore", "TERM",
                                    start_secs=QUICK, stop_timeout=10)
                       + conf.program("db", start_secs=QUICK))
    d.wait_ready()
    web = running(d, "web")
    db = running(d, "db")
    stopper = subprocess.Popen([str(SAFEEXITCTL), "-s", d.socket, "stop",
                                "web"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        events.wait("web", "signal", sig="TERM")
        start = time.monotonic()
        r = d.ctl("status", "--json", timeout=5)
        assert time.monotonic() - start < 2
        doc = {p["name"]: p for p in json.loads(r.stdout)["programs"]}
        assert doc["web"]["state"] == "STOPPING"
        assert doc["web"]["pid"] == web
        assert (doc["db"]["state"], doc["db"]["pid"]) == ("RUNNING", db)
        assert d.ctl("pid", "db", timeout=5).stdout == f"{db}\n"
        assert stopper.poll() is None, "the stop still waits"
        # Let the stop end now rather than after its grace.
        d.ctl("signal", "INT", "web")
        out, err = stopper.communicate(timeout=30)
        assert stopper.returncode == 0, err
        assert err == ""
        assert out.split()[:2] == ["web", "STOPPED"]
    finally:
        if stopper.poll() is None:
            stopper.kill()
            stopper.wait()


# What status reads

def test_status_reads_usage_only_when_asked(supervised, events):
    d, before = supervised
    s = connect(d.socket)
    try:
        s.sendall(b'{"v":1,"cmd":"status","args":["web"]}\n')
        full = json.loads(read_line_or_more(s)[0])["programs"][0]
        s.sendall(b'{"v":1,"cmd":"status","args":["web"],"usage":false}\n')
        brief = json.loads(read_line_or_more(s)[0])["programs"][0]
    finally:
        s.close()
    # A running program has used some memory; with "usage": false nothing
    # was read.
    assert full["memory_bytes"] > 0 and full["cpu_seconds"] is not None
    assert (brief["cpu_seconds"], brief["memory_bytes"],
            brief["oom_kills"]) == (None, None, None)
    assert brief["state"] == "RUNNING" and brief["pid"] == full["pid"]
    s = connect(d.socket)
    try:
        s.sendall(b'{"v":1,"cmd":"status","usage":"no"}\n')
        reply = json.loads(read_line(s))
    finally:
        s.close()
    assert reply["ok"] is False and "usage" in reply["error"]
    unchanged(d, before, events)
