"""supervisord's XML-RPC interface (/RPC2) against the real daemon.

Python's xmlrpc.client talks to safeexitd running a supervisord.conf, over
the control socket with supervisor's own transport
(supervisor.xmlrpc.SupervisorTransport, serverurl unix://PATH) and over the
TCP port of [inet_http_server]:
- the methods about the daemon (getAPIVersion "3.0", getPID, getState,
  getIdentification) and system.listMethods / methodSignature / methodHelp;
- getProcessInfo / getAllProcessInfo: supervisord's names (group:process),
  state codes and descriptions ("pid N, uptime H:MM:SS", "Not started",
  the stop time);
- start, stop and signal of processes and groups, with supervisord's faults
  (BAD_NAME, ALREADY_STARTED, NOT_RUNNING, BAD_SIGNAL, ABNORMAL_TERMINATION,
  NO_FILE) and per-process results;
- reading, tailing and clearing log files with readFile's and tailFile's
  offset rules, bytes XML cannot carry replaced, NO_FILE without a file;
- system.multicall (its answer bounded), reloadConfig;
- a bad request (garbage, a DOCTYPE, an unknown method, wrong parameters, a
  GET) gets an error and the daemon goes on answering.
"""

import os
import re
import signal
import socket
import subprocess
import time
import xmlrpc.client

from pathlib import Path

import pytest

from conftest import (SAFEEXITD, daemon_env, pid_running, short_socket_dir,
                      wait_for)

try:
    from supervisor.xmlrpc import SupervisorTransport
except ImportError:  # pragma: no cover - supervisor is a test dependency
    SupervisorTransport = None

WAIT = 30
SUPERVISORCTL = "/usr/bin/supervisorctl"


def free_port():
    """A TCP port on loopback that nothing listens on right now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Supervisord:
    """safeexitd on a supervisord.conf of its own, and clients for it."""

    def __init__(self, workdir, programs, inet=False):
        if SupervisorTransport is None:
            pytest.skip("needs Debian's python3-supervisor")
        self.dir = Path(workdir)
        sockdir, self._tmpdir = short_socket_dir(self.dir)
        self.sock = Path(sockdir) / "sv.sock"
        self.conf = self.dir / "supervisord.conf"
        self.log = self.dir / "supervisord.log"
        self.out = self.dir / "daemon.out"
        self.port = free_port() if inet else None
        self.proc = None
        self.pids = set()
        self.write(programs)

    def write(self, programs):
        """Write the config: the server sections, then programs as given."""
        inet = (f"[inet_http_server]\nport = 127.0.0.1:{self.port}\n\n"
                if self.port else "")
        self.conf.write_text(
            "[supervisord]\n"
            f"logfile = {self.log}\n"
            f"childlogdir = {self.dir}\n"
            "identifier = rpctest\n\n"
            "[unix_http_server]\n"
            f"file = {self.sock}\n\n"
            f"{inet}"
            "[rpcinterface:supervisor]\n"
            "supervisor.rpcinterface_factory = "
            "supervisor.rpcinterface:make_main_rpcinterface\n\n"
            "[supervisorctl]\n"
            f"serverurl = unix://{self.sock}\n\n"
            + programs.replace("@DIR@", str(self.dir)))

    def start(self):
        """Start the daemon in the foreground; wait until /RPC2 answers."""
        self.proc = subprocess.Popen(
            [str(SAFEEXITD), "-c", str(self.conf)], cwd=self.dir,
            env=daemon_env(), stdin=subprocess.DEVNULL,
            stdout=open(self.out, "w"), stderr=subprocess.STDOUT)
        wait_for(self.sock.exists, timeout=WAIT, what=str(self.sock))

        def answers():
            assert self.proc.poll() is None, self.daemon_output()
            try:
                return self.rpc().supervisor.getAPIVersion() == "3.0"
            except (OSError, xmlrpc.client.ProtocolError):
                return False
        wait_for(answers, timeout=WAIT, what="/RPC2 answering")
        return self

    def rpc(self):
        """A ServerProxy over the socket, as supervisorctl makes it."""
        return xmlrpc.client.ServerProxy(
            "http://127.0.0.1",
            transport=SupervisorTransport(None, None, f"unix://{self.sock}"))

    def tcp(self):
        """A ServerProxy over [inet_http_server]."""
        return xmlrpc.client.ServerProxy(f"http://127.0.0.1:{self.port}/RPC2")

    def info(self, name):
        """getProcessInfo(name), remembering its pid for the clean-up."""
        i = self.rpc().supervisor.getProcessInfo(name)
        if i["pid"]:
            self.pids.add(i["pid"])
        return i

    def wait_state(self, name, statename):
        """Wait until name is in statename; return its info."""
        wait_for(lambda: self.info(name)["statename"] == statename,
                 timeout=WAIT, what=f"{name} {statename}")
        return self.info(name)

    def ctl(self, *args):
        """Debian's supervisorctl -c CONF ARGS."""
        return subprocess.run([SUPERVISORCTL, "-c", str(self.conf), *args],
                              capture_output=True, text=True, timeout=WAIT * 2,
                              stdin=subprocess.DEVNULL)

    def raw(self, request):
        """Send raw bytes over the socket; the whole answer, as bytes."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(WAIT)
            s.connect(str(self.sock))
            s.sendall(request)
            s.shutdown(socket.SHUT_WR)
            chunks = []
            while True:
                b = s.recv(65536)
                if not b:
                    break
                chunks.append(b)
            return b"".join(chunks)

    def daemon_output(self):
        return self.out.read_text() if self.out.exists() else ""

    def stop(self):
        """SIGTERM the daemon; its exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=WAIT * 2)

    def cleanup(self):
        """Stop the daemon; kill what it ran that is still alive."""
        try:
            self.stop()
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for pid in self.pids:
            if pid_running(pid):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
        if self._tmpdir:
            for name in os.listdir(self._tmpdir):
                os.unlink(os.path.join(self._tmpdir, name))
            os.rmdir(self._tmpdir)


PROGRAMS = """\
[program:app]
command = /bin/sleep 1000
startsecs = 0
stopwaitsecs = 5

[program:static]
command = /bin/sleep 1000
startsecs = 0
priority = 10

[group:web]
programs = app, static

[program:worker]
command = /bin/sleep 1000
process_name = %(program_name)s_%(process_num)02d
numprocs = 2
startsecs = 0

[program:idle]
command = /bin/sleep 1000
autostart = false
startsecs = 0

[program:talker]
command = /bin/sh -c 'printf "out-line\\n"; printf "err-line\\n" >&2; \
printf "\\001<&>\\377\\n"; exec /bin/sleep 1000'
startsecs = 0
stdout_logfile = @DIR@/talker.out
stderr_logfile = @DIR@/talker.err

[program:quiet]
command = /bin/sleep 1000
startsecs = 0
stdout_logfile = NONE
stderr_logfile = NONE
"""


@pytest.fixture
def sup(workdir):
    s = Supervisord(workdir, PROGRAMS, inet=True)
    yield s
    s.cleanup()


def fault(call, *args):
    """Call; return the Fault it raised (fails if it raised none)."""
    with pytest.raises(xmlrpc.client.Fault) as e:
        call(*args)
    return e.value


def test_daemon_methods(sup):
    """getAPIVersion/getVersion "3.0", getPID, getState, getIdentification,
    and the system methods, over the socket with supervisor's transport."""
    sup.start()
    s = sup.rpc()
    assert s.supervisor.getAPIVersion() == "3.0"
    assert s.supervisor.getVersion() == "3.0"
    assert s.supervisor.getPID() == sup.proc.pid
    assert s.supervisor.getState() == {"statecode": 1, "statename": "RUNNING"}
    assert s.supervisor.getIdentification() == "rpctest"
    methods = s.system.listMethods()
    for m in ("getAllProcessInfo", "startProcess", "stopProcessGroup",
              "signalAllProcesses", "readProcessStdoutLog",
              "tailProcessStderrLog", "clearAllProcessLogs", "reloadConfig",
              "addProcessGroup", "removeProcessGroup", "shutdown", "restart",
              "readLog", "clearLog", "getAllConfigInfo"):
        assert f"supervisor.{m}" in methods
    assert "system.multicall" in methods
    assert s.system.methodSignature("supervisor.startProcess") == \
        [["boolean", "string", "boolean"]]
    assert s.system.methodHelp("supervisor.getPID")


def test_process_info(sup):
    """Names, groups, state codes and descriptions as supervisord's."""
    sup.start()
    s = sup.rpc()
    for name in ("web:app", "web:static", "worker:worker_00",
                 "worker:worker_01", "talker", "quiet"):
        sup.wait_state(name, "RUNNING")
    infos = s.supervisor.getAllProcessInfo()
    names = [(i["group"], i["name"]) for i in infos]
    assert names == sorted(names) == [
        ("idle", "idle"), ("quiet", "quiet"), ("talker", "talker"),
        ("web", "app"), ("web", "static"),
        ("worker", "worker_00"), ("worker", "worker_01")]
    app = s.supervisor.getProcessInfo("web:app")
    sup.pids.add(app["pid"])
    assert set(app) == {"name", "group", "start", "stop", "now", "state",
                        "statename", "spawnerr", "exitstatus", "logfile",
                        "stdout_logfile", "stderr_logfile", "pid",
                        "description"}
    assert app["state"] == 20 and app["statename"] == "RUNNING"
    assert pid_running(app["pid"])
    assert abs(app["now"] - time.time()) < 5
    assert app["now"] - WAIT <= app["start"] <= app["now"]
    assert re.fullmatch(rf"pid {app['pid']}, uptime 0:00:\d\d",
                        app["description"]), app["description"]
    idle = s.supervisor.getProcessInfo("idle")
    assert (idle["state"], idle["statename"], idle["description"],
            idle["start"], idle["pid"]) == (0, "STOPPED", "Not started", 0, 0)
    talker = s.supervisor.getProcessInfo("talker")
    assert talker["stdout_logfile"] == str(sup.dir / "talker.out")
    assert talker["logfile"] == talker["stdout_logfile"]
    assert talker["stderr_logfile"] == str(sup.dir / "talker.err")
    assert s.supervisor.getProcessInfo("quiet")["stdout_logfile"] == ""
    f = fault(s.supervisor.getProcessInfo, "nosuch")
    assert (f.faultCode, f.faultString) == (10, "BAD_NAME: nosuch")
    # A group with processes of other names: "worker" alone names none.
    assert fault(s.supervisor.getProcessInfo, "worker").faultCode == 10


def test_start_stop_signal(sup):
    """Start, stop and signal processes and groups; faults and results."""
    sup.start()
    s = sup.rpc()
    app = sup.wait_state("web:app", "RUNNING")
    assert s.supervisor.stopProcess("web:app") is True
    assert not pid_running(app["pid"])
    info = s.supervisor.getProcessInfo("web:app")
    assert info["statename"] == "STOPPED" and info["pid"] == 0
    assert info["stop"] >= info["start"] > 0
    assert re.fullmatch(r"[A-Z][a-z]{2} \d\d \d\d:\d\d [AP]M",
                        info["description"]), info["description"]
    f = fault(s.supervisor.stopProcess, "web:app")
    assert (f.faultCode, f.faultString) == (70, "NOT_RUNNING: web:app")
    assert s.supervisor.startProcess("web:app") is True
    assert sup.info("web:app")["statename"] == "RUNNING"
    f = fault(s.supervisor.startProcess, "web:app")
    assert (f.faultCode, f.faultString) == (60, "ALREADY_STARTED: web:app")
    assert fault(s.supervisor.startProcess, "web:nosuch").faultCode == 10
    assert fault(s.supervisor.startProcessGroup, "nosuch").faultCode == 10

    sup.wait_state("web:static", "RUNNING")
    results = s.supervisor.stopProcessGroup("web")
    assert sorted((r["group"], r["name"], r["status"], r["description"])
                  for r in results) == [("web", "app", 80, "OK"),
                                        ("web", "static", 80, "OK")]
    # Only those not running are started; "web:*" is the group too.
    assert s.supervisor.startProcess("web:static") is True
    results = s.supervisor.startProcess("web:*")
    assert [(r["name"], r["status"]) for r in results] == [("app", 80)]

    f = fault(s.supervisor.signalProcess, "web:app", "NOSUCH")
    assert (f.faultCode, f.faultString) == (11, "BAD_SIGNAL: NOSUCH")
    assert fault(s.supervisor.signalProcess, "idle", "HUP").faultCode == 70
    app = sup.info("web:app")
    assert s.supervisor.signalProcess("web:app", "KILL") is True
    wait_for(lambda: not pid_running(app["pid"]), timeout=WAIT,
             what="app killed")
    results = s.supervisor.signalProcessGroup("worker", "STOP")
    assert [(r["name"], r["status"]) for r in results] == \
        [("worker_00", 80), ("worker_01", 80)]
    for r in ("worker:worker_00", "worker:worker_01"):
        pid = sup.info(r)["pid"]
        wait_for(lambda: open(f"/proc/{pid}/stat").read().split(")")[1]
                 .split()[0] == "T", timeout=WAIT, what=f"{r} stopped")
    s.supervisor.signalProcessGroup("worker", "CONT")


def test_start_failures(sup):
    """A start that fails: ABNORMAL_TERMINATION, NO_FILE, as supervisorctl
    tells them apart."""
    sup.write(PROGRAMS + """
[program:dies]
command = /bin/sh -c 'exit 3'
autostart = false
startsecs = 1
startretries = 0

[program:missing]
command = /nonexistent/command
autostart = false
startretries = 0
""")
    sup.start()
    s = sup.rpc()
    f = fault(s.supervisor.startProcess, "dies")
    assert (f.faultCode, f.faultString) == (40, "ABNORMAL_TERMINATION: dies")
    assert s.supervisor.getProcessInfo("dies")["statename"] in \
        ("BACKOFF", "FATAL")
    f = fault(s.supervisor.startProcess, "missing")
    assert f.faultCode in (20, 50), f.faultString
    info = s.supervisor.getProcessInfo("missing")
    assert info["statename"] == "FATAL" and info["spawnerr"]
    assert info["description"] == info["spawnerr"]
    # Not waiting: the call returns at once.
    assert s.supervisor.startProcess("idle", False) is True
    sup.wait_state("idle", "RUNNING")


def test_logs(sup):
    """read/tail/clear of a process's logs and the daemon's own log."""
    sup.start()
    s = sup.rpc()
    out, err = sup.dir / "talker.out", sup.dir / "talker.err"
    wait_for(lambda: out.exists() and out.read_bytes().count(b"\n") == 2,
             timeout=WAIT, what="talker's output")
    wait_for(lambda: err.exists() and err.read_bytes() == b"err-line\n",
             timeout=WAIT, what="talker's errors")
    size = out.stat().st_size
    text = s.supervisor.readProcessStdoutLog("talker", 0, 0)
    assert text == "out-line\n\ufffd<&>\ufffd\n"
    assert s.supervisor.readProcessStdoutLog("talker", 0, 3) == "out"
    assert s.supervisor.readProcessStdoutLog("talker", 4, 4) == "line"
    # Length 0: from the offset to the end, as supervisord's readFile.
    assert s.supervisor.readProcessStdoutLog("talker", 4, 0) == \
        "line\n\ufffd<&>\ufffd\n"
    # An i8 beyond XML-RPC's 32-bit int is refused, not used as an offset.
    for offset, length in ((-2 ** 63, 0), (0, 2 ** 40)):
        body = ("<?xml version='1.0'?><methodCall><methodName>supervisor."
                "readProcessStdoutLog</methodName><params><param><value>"
                "<string>talker</string></value></param><param><value><i8>"
                f"{offset}</i8></value></param><param><value><i8>{length}"
                "</i8></value></param></params></methodCall>").encode()
        answer = sup.raw(b"POST /RPC2 HTTP/1.1\r\nHost: localhost\r\n"
                         b"Content-Type: text/xml\r\nConnection: close\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        assert re.search(rb"<name>faultCode</name>\s*<value>\s*<int>3</int>",
                         answer), answer[-400:]
    assert s.supervisor.readProcessStdoutLog("talker", -2, 0) == "\ufffd\n"
    assert s.supervisor.readProcessStderrLog("talker", 0, 0) == "err-line\n"
    f = fault(s.supervisor.readProcessStdoutLog, "talker", -1, 5)
    assert (f.faultCode, f.faultString) == (3, "BAD_ARGUMENTS")
    assert fault(s.supervisor.readProcessStdoutLog, "quiet", 0, 0) \
        .faultCode == 20
    assert fault(s.supervisor.readProcessStdoutLog, "nosuch", 0, 0) \
        .faultCode == 10
    # tailFile: past the offset, the last length bytes and overflow.
    assert s.supervisor.tailProcessStdoutLog("talker", 0, 3) == \
        [">\ufffd\n", size, True]
    assert s.supervisor.tailProcessStdoutLog("talker", size, 100) == \
        ["", size, False]
    assert s.supervisor.tailProcessStderrLog("talker", 0, 100) == \
        ["err-line\n", 9, False]
    # The daemon's own log.
    wait_for(lambda: sup.log.exists() and sup.log.stat().st_size > 0,
             timeout=WAIT, what="the daemon's log")
    assert s.supervisor.readLog(0, 0)
    assert s.supervisor.clearLog() is True
    assert s.supervisor.clearProcessLogs("talker") is True
    assert out.stat().st_size == 0 and err.stat().st_size == 0
    assert s.supervisor.readProcessStdoutLog("talker", 0, 0) == ""


def test_big_log_read_is_bounded(sup):
    """A read asking for more than 256 KiB gets 256 KiB, the daemon going on."""
    sup.start()
    s = sup.rpc()
    out = sup.dir / "talker.out"
    wait_for(lambda: out.exists() and out.read_bytes().count(b"\n") == 2,
             timeout=WAIT, what="talker's output")
    with open(out, "ab") as f:
        f.write(b"x" * (1024 * 1024))
    data = s.supervisor.readProcessStdoutLog("talker", 0, 2 * 1024 * 1024)
    assert len(data) == 256 * 1024
    data = s.supervisor.readProcessStdoutLog("talker", -2 * 1024 * 1024, 0)
    assert data == "x" * (256 * 1024)
    assert s.supervisor.getAPIVersion() == "3.0"


def test_multicall(sup):
    """system.multicall: [value] per call, a fault struct per fault, calls
    that wait run one after the other; no nesting."""
    sup.start()
    s = sup.rpc()
    sup.wait_state("web:app", "RUNNING")
    m = xmlrpc.client.MultiCall(s)
    m.supervisor.getAPIVersion()
    m.supervisor.getProcessInfo("nosuch")
    m.supervisor.stopProcess("web:app")
    m.supervisor.getProcessInfo("web:app")
    results = m()
    assert results[0] == "3.0"
    with pytest.raises(xmlrpc.client.Fault) as e:
        results[1]
    assert e.value.faultCode == 10
    assert results[2] is True
    assert results[3]["statename"] == "STOPPED"
    raw = s.system.multicall([{"methodName": "system.multicall",
                               "params": [[]]},
                              {"methodName": "supervisor.getPID",
                               "params": []}])
    assert raw[0]["faultCode"] == 2
    assert raw[1] == [sup.proc.pid]


def test_multicall_answer_is_bounded(sup):
    """A multicall whose answer would pass 16 MiB: the calls past it are
    not run but answered FAILED; the daemon goes on answering."""
    sup.start()
    s = sup.rpc()
    calls = [{"methodName": "supervisor.getAllProcessInfo", "params": []}] \
        * 3000
    results = s.system.multicall(calls)
    assert len(results) == 3000
    done = [r for r in results if isinstance(r, list)]
    refused = [r for r in results if isinstance(r, dict)]
    assert done and refused and len(done) + len(refused) == 3000
    assert results[:len(done)] == done
    assert all(r["faultCode"] == 30 for r in refused)
    assert 16 * 1024 * 1024 <= len(xmlrpc.client.dumps(
        (done,), methodresponse=True)) < 20 * 1024 * 1024
    assert s.supervisor.getAPIVersion() == "3.0"


def test_tcp(sup):
    """The same interface on [inet_http_server]'s port."""
    sup.start()
    t = sup.tcp()
    assert t.supervisor.getAPIVersion() == "3.0"
    assert t.supervisor.getPID() == sup.proc.pid
    names = [i["name"] for i in t.supervisor.getAllProcessInfo()]
    assert "app" in names


def test_bad_requests(sup):
    """Garbage, a DOCTYPE, an unknown method, wrong parameters, a GET: each
    gets an error; the daemon keeps answering."""
    sup.start()
    s = sup.rpc()

    def post(body):
        return sup.raw(b"POST /RPC2 HTTP/1.1\r\nHost: localhost\r\n"
                       b"Content-Type: text/xml\r\nConnection: close\r\n"
                       b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    for body in (b"garbage", b"<methodCall><methodName>x",
                 b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaa'>"
                 b"<!ENTITY b '&a;&a;&a;&a;&a;&a;'>]><methodCall>"
                 b"<methodName>&b;</methodName></methodCall>",
                 b"<methodCall><methodName>a</methodName><params><param>"
                 + b"<value><array><data>" * 200 + b"</data></array></value>"
                 * 200 + b"</param></params></methodCall>"):
        answer = post(body)
        assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    answer = sup.raw(b"GET /RPC2 HTTP/1.1\r\nHost: localhost\r\n"
                     b"Connection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 405"), answer[:200]
    f = fault(s.supervisor.noSuchMethod)
    assert (f.faultCode, f.faultString) == (1, "UNKNOWN_METHOD")
    f = fault(s.supervisor.getProcessInfo)
    assert f.faultCode == 2
    assert fault(s.supervisor.getProcessInfo, 12).faultCode == 2
    assert fault(s.supervisor.startProcess, "web:app", "yes", 3).faultCode == 2
    assert fault(s.supervisor.readProcessStdoutLog, "talker", "a", 0) \
        .faultCode == 2
    assert s.supervisor.getAPIVersion() == "3.0"
    assert sup.proc.poll() is None


def test_reload_config(sup):
    """reloadConfig names groups added, changed and removed, changing
    nothing; removeProcessGroup refuses a running group; a bad config is
    CANT_REREAD."""
    sup.start()
    s = sup.rpc()
    sup.wait_state("web:app", "RUNNING")
    assert s.supervisor.reloadConfig() == [[[], [], []]]
    text = PROGRAMS.replace("[program:idle]", "[program:fresh]") \
        .replace("priority = 10", "priority = 11")
    sup.write(text)
    assert s.supervisor.reloadConfig() == [[["fresh"], ["web"], ["idle"]]]
    assert s.supervisor.getProcessInfo("idle")["statename"] == "STOPPED"
    web = s.supervisor.getProcessInfo("web:app")["pid"]
    assert fault(s.supervisor.addProcessGroup, "nosuch").faultCode == 10
    # Refused before anything was applied: the changed web runs on as it was.
    assert s.supervisor.getProcessInfo("web:app")["pid"] == web
    assert s.supervisor.reloadConfig() == [[["fresh"], ["web"], ["idle"]]]
    f = fault(s.supervisor.removeProcessGroup, "web")
    assert (f.faultCode, f.faultString) == (91, "STILL_RUNNING: web")
    assert fault(s.supervisor.removeProcessGroup, "nosuch").faultCode == 10
    assert s.supervisor.removeProcessGroup("idle") is True
    assert fault(s.supervisor.getProcessInfo, "idle").faultCode == 10
    assert s.supervisor.addProcessGroup("fresh") is True
    assert fault(s.supervisor.addProcessGroup, "web").faultCode == 90
    sup.conf.write_text(sup.conf.read_text() + "\n[program:bad]\n")
    f = fault(s.supervisor.reloadConfig)
    assert f.faultCode == 92 and f.faultString.startswith("CANT_REREAD: ")
