"""[fcgi-program:x]: the daemon opens the listening socket once and gives it
to every process as descriptor 0; the socket (the same inode, the same open
socket) outlives restarts of the processes, reloads and reexec.
"""

import os
import socket
import stat
import time

import pytest

from conftest import wait_for

PY = "/usr/bin/python3"

SERVER = """\
import os, socket, sys
s = socket.socket(fileno=0)
print("listening", s.getsockname(), flush=True)
while True:
    c, _ = s.accept()
    c.sendall(b"%d\\n" % os.getpid())
    c.close()
"""


def ask(path):
    """Connect to the unix socket at path and return the pid that answers."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
        c.settimeout(10)
        c.connect(str(path))
        return int(c.makefile().readline())


def ask_tcp(port):
    """The pid that answers on 127.0.0.1:port."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        return int(c.makefile().readline())


def fcgi(name, script, sock, **keys):
    """An [fcgi-program:name] section serving with script on sock."""
    lines = [f"[fcgi-program:{name}]", f"command = {PY} {script}",
             f"socket = {sock}", "start_secs = 0"]
    lines += [f"{k} = {v}" for k, v in keys.items()]
    return "\n".join(lines).replace("{", "{{").replace("}", "}}") + "\n\n"


@pytest.fixture
def server(workdir):
    path = workdir / "server.py"
    path.write_text(SERVER)
    return path


def answers(path, pids, timeout=30):
    """Ask until every pid of pids has answered at least once (a process
    that has only just started may not be in accept() yet)."""
    seen = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not seen >= set(pids):
        seen.add(ask(path))
    return seen


def test_socket_shared_and_kept_across_restart_reload_reexec(
        daemon_factory, server, workdir):
    sock = workdir / "php.sock"
    # Two programs naming the same socket share it, as the processes of
    # one numprocs=2 section do.
    text = (fcgi("php0", server, f"unix://{sock}", socket_mode="0660")
            + fcgi("php1", server, f"unix://{sock}", socket_mode="0660"))
    d = daemon_factory(text)
    d.wait_state("php0", "RUNNING")
    d.wait_state("php1", "RUNNING")
    st = os.stat(sock)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o660
    pids = {p["pid"] for p in d.status("php0", "php1").values()}
    # Both processes accept on the one socket: both answer in time.
    assert answers(sock, pids) == pids
    fd0 = {os.readlink(f"/proc/{pid}/fd/0") for pid in pids}
    assert len(fd0) == 1 and fd0.pop().startswith("socket:")

    def same_socket():
        now = os.stat(sock)
        return (now.st_ino, now.st_dev) == (st.st_ino, st.st_dev)

    d.ctl("restart", "php0", "php1")
    d.wait_state("php0", "RUNNING")
    assert same_socket()
    new = {p["pid"] for p in d.status("php0", "php1").values()}
    assert not new & pids
    assert answers(sock, new) == new
    d.ctl("reload")
    assert same_socket()
    assert ask(sock) in new
    d.ctl("reexec")
    assert same_socket()
    d.ctl("restart", "php0")
    d.wait_state("php0", "RUNNING")
    assert same_socket()
    assert ask(sock) in {p["pid"] for p in d.status("php0", "php1").values()}


def test_tcp_socket_stays_open_across_restart(daemon_factory, server):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    d = daemon_factory(fcgi("app", server, f"tcp://127.0.0.1:{port}",
                            socket_backlog=16))
    d.wait_state("app", "RUNNING")
    pid = d.status("app")["app"]["pid"]
    assert ask_tcp(port) == pid
    d.ctl("stop", "app")
    # Stopped, the socket still listens: a connection waits in the backlog.
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    d.ctl("start", "app")
    d.wait_state("app", "RUNNING")
    assert int(c.makefile().readline()) == d.status("app")["app"]["pid"]
    c.close()


def test_unix_socket_never_replaces_a_file(daemon_factory, server, workdir):
    sock = workdir / "taken"
    sock.write_text("not a socket\n")
    d = daemon_factory(fcgi("app", server, f"unix://{sock}"))
    d.wait_log(r"app: cannot create the FastCGI socket: .* exists and is "
               r"not a socket")
    assert sock.read_text() == "not a socket\n"


def test_bad_socket_refused_at_load(daemon_factory, server, workdir):
    cfg = workdir / "bad.ini"
    cfg.write_text(f"[fcgi-program:app]\ncommand = {PY} {server}\n"
                   "socket = udp://x\n")
    import subprocess
    from conftest import SAFEEXITD
    r = subprocess.run([SAFEEXITD, "-n", "-c", str(cfg)], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode != 0
    assert f"{cfg}:3: socket: not unix:///PATH or tcp://HOST:PORT" in r.stderr
