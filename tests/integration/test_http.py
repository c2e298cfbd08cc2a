"""The HTTP server's ways in (safeexitd.ini(5), [inet_http_server]).

HTTP reaches the daemon over [inet_http_server]'s TCP port and over the
control socket, told from the JSON protocol by its first byte.  These tests
check what every page shares: framing with keep-alive, the bounds (body,
head, slow clients, floods), who may ask (a password over TCP, a Host that
names the loopback without one, no cross-origin POST, the page's token for
/api), and that nothing a client sends touches a program.
"""

import base64
import grp
import http.client
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile

import pytest

from conftest import SAFEEXITD, wait_for

QUICK = 0.2


def free_port():
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_config(conf, port, **keys):
    text = "[inet_http_server]\nport = 127.0.0.1:%d\n" % port
    for k, v in keys.items():
        text += f"{k} = {v}\n"
    return text + "\n" + conf.program("web", start_secs=QUICK)


def start(daemon_factory, conf, **keys):
    port = free_port()
    d = daemon_factory(http_config(conf, port, **keys))
    d.wait_ready()
    d.wait_state("web", "RUNNING")
    return d, port


def web_pid(d):
    r = d.ctl("status", "--json", "web")
    return json.loads(r.stdout)["programs"][0]["pid"]


def exchange(address, data, family=socket.AF_INET, timeout=20):
    """Send data, read until the daemon closes; the bytes read."""
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(address)
        try:
            s.sendall(data)
            # All it will send: a request cut short is closed, not waited on.
            s.shutdown(socket.SHUT_WR)
        except OSError:
            # Answered and closed before the rest was sent: read the answer.
            pass
        got = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            got += chunk
        return got


def status_of(response):
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", response)
    assert m, response[:200]
    return int(m.group(1))


def test_keep_alive_serves_requests_one_after_another(daemon_factory, conf):
    d, port = start(daemon_factory, conf)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    first = None
    for _ in range(3):
        c.request("GET", "/no/such/page")
        r = c.getresponse()
        assert r.status == 404
        r.read()
        assert r.getheader("Connection") is None
        if first is None:
            first = c.sock.getsockname()
        # One connection carried them all.
        assert c.sock.getsockname() == first
    c.close()


def test_pipelined_requests_each_get_an_answer(daemon_factory, conf):
    d, port = start(daemon_factory, conf)
    got = exchange(("127.0.0.1", port),
                   b"GET /a HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                   b"HEAD /b HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                   b"GET /c HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   b"Connection: close\r\n\r\n")
    assert got.count(b"HTTP/1.1 404 Not Found\r\n") == 3
    # HEAD: the length of the body, not the body.
    assert got.count(b"not found\n") == 2


def test_the_control_socket_speaks_http_and_json(daemon_factory, conf):
    d, port = start(daemon_factory, conf)
    got = exchange(str(d.socket), b"GET /nothing HTTP/1.0\r\n\r\n",
                   socket.AF_UNIX)
    assert status_of(got) == 404
    assert b"Connection: close" in got
    # The JSON protocol on the same socket is untouched.
    r = d.ctl("status", "web")
    assert r.returncode == 0 and "RUNNING" in r.stdout


def test_json_over_tcp_is_refused(daemon_factory, conf):
    d, port = start(daemon_factory, conf)
    pid = web_pid(d)
    got = exchange(("127.0.0.1", port),
                   b'{"v":1,"cmd":"stop","args":["web"]}\n')
    assert got == b""
    assert web_pid(d) == pid


@pytest.mark.parametrize("request_bytes,status", [
    (b"POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\n"
     b"Content-Length: 1048577\r\n\r\n", 413),
    (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * 20000, 431),
    (b"POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501),
    (b"GET / HTTP/2.0\r\n\r\n", 505),
    (b"GET nowhere HTTP/1.1\r\n\r\n", 400),
    (b"GET /%zz HTTP/1.1\r\n\r\n", 400),
    (b"GET /a%00b HTTP/1.1\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nNo colon here\r\n\r\n", 400),
    (b"POST /api HTTP/1.1\r\nContent-Length: 5\r\n"
     b"Content-Length: 6\r\n\r\n", 400),
    (b"POST /api HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
    (b"POST /api HTTP/1.1\r\nExpect: magic\r\n\r\n", 417),
    (b"GET /a\nHost: x HTTP/1.1\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nX-A: b\rc\r\n\r\n", 400),
    (b"GeT / HTTP/1.1\r\n\r\n", 400),
], ids=["body-over-1MiB", "head-too-large", "chunked", "http2", "target",
        "escape", "nul", "header", "two-lengths", "negative-length",
        "expect", "bare-lf", "bare-cr", "method"])
def test_bad_requests_get_a_status_and_touch_nothing(daemon_factory, conf,
                                                     request_bytes, status):
    d, port = start(daemon_factory, conf)
    pid = web_pid(d)
    got = exchange(("127.0.0.1", port), request_bytes)
    assert status_of(got) == status
    assert b"Connection: close" in got
    assert web_pid(d) == pid
    r = d.ctl("status", "web")
    assert r.returncode == 0


def test_a_body_of_exactly_1MiB_is_taken(daemon_factory, conf):
    d, port = start(daemon_factory, conf)
    body = b"x" * (1024 * 1024)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", "/api", body=body)
    r = c.getresponse()
    # Read whole, then refused for want of the page's token.
    assert r.status == 403
    assert b"X-CSRF-Token" in r.read()


def test_expect_100_continue_is_answered(daemon_factory, conf):
    d, port = start(daemon_factory, conf)
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(b"POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        assert s.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(b"body")
        assert status_of(s.recv(1000)) == 403


def test_a_slow_client_holds_up_nobody(daemon_factory, conf):
    d, port = start(daemon_factory, conf)
    slow = []
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", port), timeout=20)
        s.sendall(b"POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Length: 100\r\n\r\nhalf")
        slow.append(s)
    try:
        got = exchange(("127.0.0.1", port),
                       b"GET /x HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        assert status_of(got) == 404
        r = d.ctl("status", "web")
        assert r.returncode == 0
    finally:
        for s in slow:
            s.close()


def test_a_flood_of_connections_is_capped_and_survived(daemon_factory, conf):
    d, port = start(daemon_factory, conf)
    pid = web_pid(d)
    held = []
    try:
        for _ in range(600):
            try:
                held.append(socket.create_connection(("127.0.0.1", port),
                                                     timeout=5))
            except OSError:
                break
        # The TCP clients' share is spent; the socket still lets root in.
        wait_for(lambda: re.search(r"refused a TCP client",
                                   d.tail(200)) is not None,
                 timeout=30, what="the cap on TCP clients")
        r = d.ctl("status", "web")
        assert r.returncode == 0
    finally:
        for s in held:
            s.close()
    assert web_pid(d) == pid
    got = exchange(("127.0.0.1", port),
                   b"GET /x HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
    assert status_of(got) == 404


def test_garbage_never_crashes_the_daemon(daemon_factory, conf):
    d, port = start(daemon_factory, conf)
    pid = web_pid(d)
    rnd = os.urandom(4096)
    for chunk in (b"G" + rnd, b"POST " + rnd, b"GET /\r\n" + rnd,
                  b"PUT / HTTP/1.1\r\nContent-Length: 3\r\n\r\n\x00\x01\x02",
                  b"A" * 70000):
        exchange(("127.0.0.1", port), chunk, timeout=40)
        exchange(str(d.socket), chunk, socket.AF_UNIX, timeout=40)
    assert d.returncode is None
    assert web_pid(d) == pid


def test_a_host_that_is_not_the_loopback_is_refused(daemon_factory, conf):
    d, port = start(daemon_factory, conf)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    # A name rebound to 127.0.0.1 by an attacker's DNS.
    c.request("GET", "/", headers={"Host": "evil.example:%d" % port})
    r = c.getresponse()
    assert r.status == 403 and b"loopback" in r.read()
    for host in ("127.0.0.1:%d" % port, "localhost:%d" % port,
                 "[::1]:%d" % port):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        c.request("GET", "/nothing", headers={"Host": host})
        assert c.getresponse().status == 404


def test_a_post_from_another_site_is_refused(daemon_factory, conf):
    d, port = start(daemon_factory, conf)
    pid = web_pid(d)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    c.request("POST", "/RPC2", body=b"<?xml version='1.0'?><methodCall>"
              b"<methodName>supervisor.stopProcess</methodName><params>"
              b"<param><value><string>web</string></value></param></params>"
              b"</methodCall>",
              headers={"Origin": "http://evil.example",
                       "Content-Type": "text/plain"})
    r = c.getresponse()
    assert r.status == 403 and b"cross-origin" in r.read()
    assert web_pid(d) == pid


def test_api_needs_the_page_token(daemon_factory, conf):
    d, port = start(daemon_factory, conf)
    pid = web_pid(d)
    for token in (None, "0" * 32, ""):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        headers = {} if token is None else {"X-CSRF-Token": token}
        c.request("POST", "/api", body=json.dumps(
            {"v": 1, "cmd": "stop", "args": ["web"]}), headers=headers)
        r = c.getresponse()
        assert r.status == 403
        r.read()
    assert web_pid(d) == pid


def basic(user, password):
    raw = f"{user}:{password}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def test_a_password_is_asked_over_tcp(daemon_factory, conf):
    d, port = start(daemon_factory, conf, username="admin",
                    password="s3cret")
    for headers in ({}, basic("admin", "wrong"), basic("root", "s3cret"),
                    {"Authorization": "Bearer s3cret"}):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        c.request("GET", "/nothing", headers=headers)
        r = c.getresponse()
        assert r.status == 401
        assert r.getheader("WWW-Authenticate") == 'Basic realm="safeexitd"'
        r.read()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    c.request("GET", "/nothing", headers=basic("admin", "s3cret"))
    assert c.getresponse().status == 404
    # The Unix socket asks for none: its peer credentials were checked.
    got = exchange(str(d.socket), b"GET /nothing HTTP/1.0\r\n\r\n",
                   socket.AF_UNIX)
    assert status_of(got) == 404


@pytest.mark.parametrize("section,message", [
    ("port = *:9001\n", r"port: '\*:9001' listens on every interface: "
     r"without username and password only a loopback address"),
    ("port = 192.0.2.1:9001\n", r"port: '192\.0\.2\.1:9001' listens on 192\.0\.2\.1"),
    ("port = 127.0.0.1:http\n", r"port: not a port number"),
    ("port = 127.0.0.1:70000\n", r"port: not a port number"),
    ("port = ::1:9001\n", r"port: an IPv6 address needs brackets"),
    ("port = 9001\nusername = admin\n", r"\[inet_http_server\] needs both "
     r"username and password"),
    ("port = 9001\nusername = a\npassword = {SHA}0123\n",
     r"password: \{SHA\} hashes are not taken"),
], ids=["every-interface", "public-address", "service-name", "range",
        "ipv6", "no-password", "sha"])
def test_config_refuses_an_http_server_it_cannot_run_safely(
        workdir, section, message):
    path = workdir / "c.ini"
    path.write_text("[program:web]\ncommand = /bin/true\n\n"
                    "[inet_http_server]\n" + section)
    r = subprocess.run([str(SAFEEXITD), "-n", "-c", str(path)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    # The file and the line of the key at fault.
    line = 7 if "{SHA}" in section else 5
    assert re.search(rf"{re.escape(str(path))}:{line}: {message}",
                     r.stderr), r.stderr


def test_a_port_taken_by_another_is_an_error_at_start(daemon_factory, conf,
                                                      workdir):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        path = workdir / "c.ini"
        path.write_text("[inet_http_server]\nport = 127.0.0.1:%d\n\n"
                        "[program:web]\ncommand = /bin/sleep 1000\n" % port)
        sock = workdir / "s.sock"
        r = subprocess.run([str(SAFEEXITD), "-s", str(sock), "-c",
                            str(path)], capture_output=True, text=True,
                           timeout=60)
    assert r.returncode != 0
    assert re.search(r"cannot listen on 127\.0\.0\.1:%d" % port, r.stderr), \
        r.stderr


SETPRIV = shutil.which("setpriv")


def test_http_on_the_socket_keeps_the_peer_credential_check(
        daemon_factory, conf, workdir):
    if os.geteuid() != 0 or SETPRIV is None:
        pytest.skip("needs root and setpriv")
    try:
        nobody = pwd.getpwnam("nobody").pw_uid
        grp.getgrnam("nogroup")
    except KeyError:
        pytest.skip("no user nobody or group nogroup")
    folder = tempfile.mkdtemp(prefix="sxhttp")
    os.chmod(folder, 0o711)
    path = os.path.join(folder, "ctl.sock")
    try:
        # Anyone may connect; only root and the daemon's user are let in.
        d = daemon_factory(conf.daemon(socket=path, socket_mode="0666")
                           + conf.program("web", start_secs=QUICK))
        d.socket = path
        d.wait_ready()
        d.wait_state("web", "RUNNING")
        pid = web_pid(d)
        mark = d.mark()
        script = ("import socket,sys\n"
                  "s=socket.socket(socket.AF_UNIX)\n"
                  "s.connect(sys.argv[1])\n"
                  "s.sendall(b'GET /metrics HTTP/1.0\\r\\n\\r\\n')\n"
                  "s.shutdown(socket.SHUT_WR)\n"
                  "d=b''\n"
                  "while True:\n"
                  "    c=s.recv(4096)\n"
                  "    if not c: break\n"
                  "    d+=c\n"
                  "sys.stdout.write(d.decode('utf-8','replace'))\n")
        r = subprocess.run([SETPRIV, "--reuid", "nobody", "--regid",
                            "nogroup", "--clear-groups", sys.executable,
                            "-c", script, path], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert not r.stdout.startswith("HTTP/1.1 200")
        assert "permission denied" in r.stdout
        d.wait_log(rf"refused client uid {nobody} pid \d+: not allowed",
                   30, mark)
        assert web_pid(d) == pid
    finally:
        for name in os.listdir(folder):
            os.unlink(os.path.join(folder, name))
        os.rmdir(folder)


def test_a_refused_client_is_answered_before_its_body(daemon_factory, conf):
    d, port = start(daemon_factory, conf, username="admin",
                    password="s3cret")
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        # The head alone: no room is made for a body nobody may send.
        s.sendall(b"POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Length: 1048576\r\n\r\n")
        got = s.recv(4096)
    assert status_of(got) == 401
    assert b"Connection: close" in got


def test_bodies_held_at_once_are_bounded(daemon_factory, conf):
    d, port = start(daemon_factory, conf)
    pid = web_pid(d)
    held = []
    refused = 0
    try:
        for _ in range(40):
            s = socket.create_connection(("127.0.0.1", port), timeout=20)
            s.sendall(b"POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Length: 1048576\r\n\r\nx")
            held.append(s)
            # Each head is taken in turn: ask whether this one was refused.
            got = exchange(("127.0.0.1", port),
                           b"GET /x HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            assert status_of(got) == 404
        for s in held:
            s.setblocking(False)
            try:
                got = s.recv(4096)
            except BlockingIOError:
                continue
            if got:
                assert status_of(got) == 503
                refused += 1
    finally:
        for s in held:
            s.close()
    # 32 MiB for bodies in all: the clients past it were turned away.
    assert 5 <= refused <= 10
    assert web_pid(d) == pid
