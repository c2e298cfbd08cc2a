"""Small real programs for the readiness and health tests: a TCP listener
that starts listening late, a client that insists on connecting at once,
an sd_notify sender, a classic forking daemon and a server that answers
nothing, plain HTTP or HTTPS as the test says.  Each is a python3 script
written into the test's directory.
"""

import re
import shlex
import socket
import subprocess

PYTHON = "/usr/bin/python3"

SCRIPTS = {
    # listener.py DELAY PORT [SECONDS]: listen after DELAY s; stop listening
    # after SECONDS more (then keep running, deaf).
    "listener.py": r'''
import socket, sys, time
delay, port = float(sys.argv[1]), int(sys.argv[2])
life = float(sys.argv[3]) if len(sys.argv) > 3 else None
time.sleep(delay)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(64)
print("listening on", port, flush=True)
start = time.monotonic()
s.settimeout(0.1)
while life is None or time.monotonic() - start < life:
    try:
        c, _ = s.accept()
        c.close()
    except socket.timeout:
        pass
s.close()
print("deaf now", flush=True)
time.sleep(1000)
''',
    # stuck.py PORT BACKLOG: listen on [::] (IPv4 too) with BACKLOG and
    # never accept; print "listening".
    "stuck.py": r'''
import socket, sys, time
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
s.listen(int(sys.argv[2]))
print("listening", flush=True)
time.sleep(1000)
''',
    # client.py PORT: connect at once or exit 1.
    "client.py": r'''
import socket, sys, time
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2).close()
except OSError as e:
    print("cannot connect:", e, flush=True)
    sys.exit(1)
print("connected", flush=True)
time.sleep(1000)
''',
    # notifier.py [MSG...]: send each MSG ("\n" for newlines) as one
    # datagram to NOTIFY_SOCKET, 0.2 s apart, then print NOTIFY_SOCKET and
    # sleep.  "sleep:S" waits S s instead of sending.
    "notifier.py": r'''
import os, socket, sys, time
addr = os.environ.get("NOTIFY_SOCKET", "")
print("NOTIFY_SOCKET=" + addr, "WATCHDOG_USEC=" +
      os.environ.get("WATCHDOG_USEC", ""), flush=True)
if addr.startswith("@"):
    addr = "\0" + addr[1:]
for m in sys.argv[1:]:
    if m.startswith("sleep:"):
        time.sleep(float(m[6:]))
        continue
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.sendto(m.replace("\\n", "\n").encode(), addr)
    s.close()
    time.sleep(0.2)
time.sleep(1000)
''',
    # forking.py PIDFILE [stay]: fork; the child names itself MAINPID and
    # says READY=1, writes its pid to PIDFILE; the parent exits once it has
    # (with "stay": it stays, never waiting for the child).
    "forking.py": r'''
import os, socket, sys, time
addr = os.environ["NOTIFY_SOCKET"]
if addr.startswith("@"):
    addr = "\0" + addr[1:]
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.sendto(f"MAINPID={os.getpid()}\nREADY=1\nSTATUS=forked".encode(), addr)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    os.write(w, b"x")
    os.close(w)
    while True:
        time.sleep(1000)
os.close(w)
os.read(r, 1)
while len(sys.argv) > 2 and sys.argv[2] == "stay":
    time.sleep(1000)
os._exit(0)
''',
    # tlsserver.py PORT CERT KEY FLAGDIR: listen at once and answer each
    # connection by what FLAGDIR holds now: nothing there, close it
    # unanswered; "plain", a 200 in plain HTTP; "tls", a 200 over TLS;
    # "tls" and "sick", a 503 over TLS.  Print the phase of each answer
    # with a count ("mute 1", "plain 2", ...).
    "tlsserver.py": r'''
import os, socket, ssl, sys
port, cert, key, flags = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(64)
print("listening on", port, flush=True)
counts = {}
def has(name):
    return os.path.exists(os.path.join(flags, name))
def answer(c, status):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = c.recv(4096)
        if not chunk:
            break
        data += chunk
    c.sendall(b"HTTP/1.0 %s\r\nContent-Length: 0\r\n\r\n" % status)
while True:
    c, _ = s.accept()
    c.settimeout(5)
    phase = ("sick" if has("sick") else "tls") if has("tls") else \
        "plain" if has("plain") else "mute"
    try:
        if phase == "plain":
            # What an https client sends first is no HTTP request: answer it.
            c.recv(4096)
            c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
        elif phase != "mute":
            c = ctx.wrap_socket(c, server_side=True)
            answer(c, b"503 Unavailable" if phase == "sick" else b"200 OK")
    except (OSError, ssl.SSLError) as e:
        print(phase, "failed:", e, flush=True)
    finally:
        c.close()
    counts[phase] = counts.get(phase, 0) + 1
    print(phase, counts[phase], flush=True)
''',
}


def write_scripts(workdir):
    """Write the scripts into workdir; return {name: path}."""
    paths = {}
    for name, text in SCRIPTS.items():
        path = workdir / name
        path.write_text(text)
        paths[name] = str(path)
    return paths


def free_port():
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def py(script, *args):
    """A command value running one of the scripts with args ({tmp} form)."""
    return " ".join([PYTHON, "{tmp}/" + script,
                     *(shlex.quote(str(a)) for a in args)])


def https_unsupported(workdir):
    """None when this build makes https checks, else why it does not."""
    from conftest import SAFEEXITD
    path = workdir / "https-check.ini"
    path.write_text("[program:a]\ncommand = /bin/true\n"
                    "ready = https://127.0.0.1/\n")
    r = subprocess.run([str(SAFEEXITD), "-n", "-c", str(path)],
                       capture_output=True, text=True)
    if r.returncode == 0:
        return None
    m = re.search(r"https is not supported in this build", r.stderr)
    assert m, r.stderr
    return m.group(0)


def make_certificate(workdir):
    """A self-signed certificate for 127.0.0.1 made with the openssl
    command; return (certificate path, key path)."""
    cert, key = workdir / "cert.pem", workdir / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return str(cert), str(key)


def tls_server(workdir):
    """Skip unless https checks work here; else write a certificate and
    return (flag folder, the command running tlsserver.py on a free port,
    the port)."""
    why = https_unsupported(workdir)
    if why is not None:
        import pytest
        pytest.skip(why)
    cert, key = make_certificate(workdir)
    flags = workdir / "flags"
    flags.mkdir()
    port = free_port()
    return flags, py("tlsserver.py", port, cert, key, flags), port
