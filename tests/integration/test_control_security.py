"""The control socket holds against hostile local users (docs/SECURITY.md).

Members of socket_group cannot lock root out however many connections they
open; no string in a request is read shorter than it was sent; the socket
is created with its mode and group, never fixed up later by a path that a
link swapped in could redirect.  Hostile clients are real processes of
another user (setpriv) or plain Python sockets; the checks after each are
real safeexitctl calls and the programs' own pids.
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

import pytest

from conftest import SAFEEXITCTL

QUICK = 0.2
REPLY_TIMEOUT = 10
SETPRIV = shutil.which("setpriv")
STRACE = shutil.which("strace")
PYTHON = "/usr/bin/python3"

# Holds N connections to the socket PATH, says "held", and keeps them until
# its stdin closes.
HOLDER = r"""
import socket, sys
path, n = sys.argv[1], int(sys.argv[2])
held = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    held.append(s)
sys.stdout.write("held\n")
sys.stdout.flush()
sys.stdin.read()
"""


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


def request(path, data):
    """Send raw bytes as one client; return the reply and whether it closed."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(REPLY_TIMEOUT)
    s.connect(path)
    try:
        s.sendall(data)
        buf = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return buf, True
            buf += chunk
            if buf.endswith(b"\n"):
                try:
                    s.settimeout(2)
                    return buf, s.recv(1) == b""
                except socket.timeout:
                    return buf, False
    finally:
        s.close()


@pytest.fixture
def open_socket_dir():
    """A folder that anyone may pass through, for the socket."""
    path = tempfile.mkdtemp(prefix="sxsec")
    os.chmod(path, 0o711)
    yield path
    for name in os.listdir(path):
        os.unlink(os.path.join(path, name))
    os.rmdir(path)


def need_users(*names):
    """Skip unless root with setpriv and these users exist."""
    if os.geteuid() != 0 or SETPRIV is None:
        pytest.skip("needs root and setpriv")
    for name in names:
        try:
            pwd.getpwnam(name)
        except KeyError:
            pytest.skip(f"no user {name}")
    try:
        grp.getgrnam("nogroup")
    except KeyError:
        pytest.skip("no group nogroup")


# NUL characters

@pytest.mark.parametrize("data", [
    rb'{"v":1,"cmd":"stop","args":["web\u0000evil"]}',
    rb'{"v":1,"cmd":"stop","args":["db","web\u0000"]}',
    rb'{"v":1,"cmd":"stop\u0000x","args":["web"]}',
    rb'{"v":1,"cmd":"stop","args\u0000x":["web"]}',
    rb'{"v":1,"cmd":"signal","args":["KILL\u0000","web"]}',
], ids=["arg", "second-arg", "cmd", "key", "signal"])
def test_nul_in_a_request_is_refused(daemon_factory, conf, events, data):
    d = daemon_factory(conf.program("web", start_secs=QUICK)
                       + conf.program("db", start_secs=QUICK))
    d.wait_ready()
    running(d, "web")
    running(d, "db")
    before = snapshot(d)
    reply, closed = request(d.socket, data + b"\n")
    reply = json.loads(reply)
    assert (reply["ok"], reply["code"]) == (False, "malformed"), reply
    assert "NUL" in reply["error"]
    assert closed
    # Nothing was touched: no program stopped or signalled.
    assert snapshot(d) == before
    assert events.all(event="signal") == []
    assert events.all(event="exit") == []


def test_escaped_backslash_before_u0000_is_no_nul(daemon_factory, conf,
                                                   events):
    d = daemon_factory(conf.program("web", start_secs=QUICK))
    d.wait_ready()
    running(d, "web")
    # The name is the six characters \u0000 after "web": no such program.
    reply, closed = request(d.socket,
                            rb'{"v":1,"cmd":"pid","args":["web\\u0000"]}'
                            b"\n")
    reply = json.loads(reply)
    assert reply["unknown"] == ["web\\u0000"], reply
    assert reply["pid"] is None
    assert not closed
    assert events.all(event="signal") == []


# Root always gets in

def hold(user, group, groups, path, n):
    """Start a process of user that holds n connections to path."""
    argv = [SETPRIV, "--reuid", user, "--regid", group]
    argv += ["--groups", ",".join(groups)] if groups else ["--clear-groups"]
    proc = subprocess.Popen(argv + [PYTHON, "-c", HOLDER, path, str(n)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd="/", text=True)
    return proc


@pytest.mark.test_timeout(180)
def test_socket_group_members_cannot_lock_root_out(daemon_factory, conf,
                                                   events, open_socket_dir):
    need_users("nobody", "daemon")
    path = os.path.join(open_socket_dir, "ctl.sock")
    d = daemon_factory(conf.daemon(socket=path, socket_group="nogroup",
                                   socket_mode="0660")
                       + conf.program("web", start_secs=QUICK))
    d.socket = path
    d.wait_ready()
    web = running(d, "web")
    mark = d.mark()
    uids = [pwd.getpwnam(u).pw_uid for u in ("nobody", "daemon")]
    holders = [hold("nobody", "nogroup", None, path, 600),
               hold("daemon", "daemon", ["nogroup"], path, 600)]
    try:
        for h in holders:
            line = h.stdout.readline()
            assert line == "held\n", h.stderr.read()
        # Both have been turned away at their limit before root asks.
        for uid in uids:
            d.wait_log(rf"refused client uid {uid} pid \d+: too many "
                       r"connections", 60, mark)
        r = d.ctl("status")
        assert r.returncode == 0, r.stderr
        assert r.stdout.split()[:2] == ["web", "RUNNING"]
        assert d.ctl("pid", "web").stdout == f"{web}\n"
    finally:
        for h in holders:
            h.stdin.close()
        for h in holders:
            h.wait(timeout=60)
            h.stdout.close()
            h.stderr.close()


# The socket's mode and group are set at birth

@pytest.mark.skipif(STRACE is None, reason="needs strace")
@pytest.mark.parametrize("keys,final,group", [
    ({}, 0o600, None),
    ({"socket_mode": "0666"}, 0o666, None),
    pytest.param({"socket_group": "adm", "socket_mode": "0660"}, 0o660,
                 "adm", marks=pytest.mark.skipif(
                     os.geteuid() != 0, reason="needs root for the group")),
], ids=["default", "mode", "group"])
def test_socket_mode_and_group_are_never_set_by_path(daemon_factory, conf,
                                                     workdir, keys, final,
                                                     group):
    if group is not None:
        try:
            grp.getgrnam(group)
        except KeyError:
            pytest.skip(f"no group {group}")
    trace = workdir / "trace"
    # LeakSanitizer stops the world with ptrace, which strace holds already.
    d = daemon_factory(
        conf.daemon(**keys),
        prefix=(STRACE, "-f", "-qq", "-o", trace, "-e",
                "trace=chmod,fchmodat,chown,fchownat,lchown", "--"),
        env={"ASAN_OPTIONS": "detect_leaks=0:" + os.environ.get("ASAN_OPTIONS", "")})
    d.wait_ready()
    st = os.lstat(d.socket)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == final
    want = grp.getgrnam(group).gr_gid if group else os.getegid()
    assert st.st_gid == want
    # Stop the daemon itself (strace then exits with its status).
    pid = int(d.ctl("pid").stdout)
    os.kill(pid, 15)
    assert d.wait_exit(60) == 0
    calls = [line for line in trace.read_text().splitlines()
             if d.socket in line and re.search(r"\b(f?ch(mod|own)(at)?|"
                                                r"lchown)\(", line)]
    assert calls == []


# Well-formed requests with hostile contents

def replies(path, data):
    """Send one request; return every message up to the reply, decoded."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(REPLY_TIMEOUT)
    s.connect(path)
    try:
        s.sendall(data + b"\n")
        buf, out = b"", []
        while True:
            chunk = s.recv(65536)
            assert chunk, f"closed before a reply: {buf[:200]!r}"
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                out.append(json.loads(line))
                if "progress" not in out[-1]:
                    return out
    finally:
        s.close()


LONG = "x" * 60000


@pytest.mark.parametrize("req,code", [
    ({"cmd": "stop", "args": [LONG]}, "bad_args"),
    ({"cmd": "start", "args": [LONG]}, "bad_args"),
    ({"cmd": "restart", "args": [LONG]}, "bad_args"),
    ({"cmd": "signal", "args": [LONG, "web"]}, "bad_args"),
    ({"cmd": "signal", "args": ["TERM", LONG]}, "bad_args"),
    ({"cmd": "signal", "args": ["0", "web"]}, "bad_args"),
    ({"cmd": "signal", "args": ["4294967311", "web"]}, "bad_args"),
    ({"cmd": "signal", "args": ["-15", "web"]}, "bad_args"),
    ({"cmd": "logfile", "args": [LONG, "stdout"]}, "bad_args"),
    ({"cmd": "logfile", "args": ["web", LONG]}, "bad_args"),
    ({"cmd": "stop", "args": [""]}, "bad_args"),
    ({"cmd": "stop", "args": ["nosuch"] * 1024}, "bad_args"),
    ({"cmd": LONG}, "unknown_command"),
    ({"cmd": ""}, "unknown_command"),
    ({"cmd": "status", "x": [[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]},
     "malformed"),
    ({"cmd": "status", "x": {"a": {"a": {"a": {"a": {"a": {"a": {"a": {
        "a": {"a": {"a": {"a": {"a": {"a": {"a": {"a": {"a": {}}}}}}}}}}}}}}}}}},
     "malformed"),
    ({"cmd": "stop", "args": ["web"], "v": 1.0}, "malformed"),
    ({"cmd": "stop", "args": ["web"], "v": 4294967297}, "version"),
    ({"cmd": "stop", "args": ["web"], "wait": 0}, "malformed"),
], ids=["stop", "start", "restart", "signal-name", "signal-target",
        "signal-0", "signal-wraps", "signal-negative", "logfile-name",
        "logfile-stream", "empty-name", "1024-names", "long-cmd", "empty-cmd",
        "deep-array", "deep-object", "v-double", "v-wraps", "wait-int"])
def test_hostile_contents_are_refused_and_change_nothing(daemon_factory,
                                                         conf, events, req,
                                                         code):
    d = daemon_factory(conf.program("web", start_secs=QUICK))
    d.wait_ready()
    running(d, "web")
    before = snapshot(d)
    msg = {"v": 1, **req}
    out = replies(d.socket, json.dumps(msg).encode())
    reply = out[-1]
    if code == "bad_args" and reply.get("ok") is True:
        # A stop of names that do not exist: done, naming the unknown.
        assert reply.get("unknown") or reply.get("programs") == [], reply
    else:
        assert (reply["ok"], reply["code"]) == (False, code), reply
    assert snapshot(d) == before
    assert events.all(event="signal") == []
    assert d.returncode is None
